"""JSON text from outside (a webhook's or a request's body), read strictly.

A number with a fraction or an exponent is a ``Decimal`` (amounts refuse floats, so
``12.5`` must arrive exactly); ``NaN`` and ``Infinity``, a key given twice in one
object, nesting deeper than :data:`MAX_DEPTH`, text that is not UTF-8 and an integer
of more digits than Python reads (4,300) are refused, before anything else happens.
:func:`load_json` is the public reader (an :class:`~loyalty.errors.InvalidInput`
naming the field); :func:`~loyalty.load_event_json` reads an event's body by the same
rules.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Final

from loyalty.errors import InvalidInput, Problem, shown

__all__ = ["MAX_DEPTH", "JSONRefused", "load_json", "parse_object"]

MAX_DEPTH: Final = 32
"""How deeply objects and arrays may nest in JSON text from outside."""


class JSONRefused(Exception):
    """Text refused by :func:`parse_object`: the :class:`Problem` (its path is the
    key at fault, or empty for the whole text)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def load_json(text: str | bytes, *, field: str = "body") -> dict[str, Any]:
    """One JSON object from ``text`` (``str``, or UTF-8 ``bytes``), read by the rules of
    the module: what a web handler calls on a request's body before it passes amounts
    on. A refusal is an :class:`~loyalty.errors.InvalidInput` naming ``field``.

    >>> load_json(b'{"unit_price": 12.5}')
    {'unit_price': Decimal('12.5')}
    >>> load_json('{"id": 1, "id": 2}')
    Traceback (most recent call last):
    ...
    loyalty.errors.InvalidInput: body: 'id' is given twice in one object
    """
    try:
        return parse_object(text)
    except JSONRefused as refused:
        problem = refused.problem  # a key at fault is the value shown; else the text
        value = problem.path if problem.path else text
        raise InvalidInput(field, value, problem.message) from None


def parse_object(text: str | bytes) -> dict[str, Any]:
    """One JSON object from ``text``; :class:`JSONRefused` with the problem if refused."""
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as error:
            raise JSONRefused(
                Problem("", f"is not UTF-8 (at byte {error.start + 1})", shown(text))
            ) from None
    if not isinstance(text, str):
        raise JSONRefused(Problem("", "is not text (str or bytes)", text))
    _check_depth(text)
    try:
        data = json.loads(
            text,
            parse_float=Decimal,
            parse_constant=_no_constant,
            object_pairs_hook=_unique_keys,
        )
    except json.JSONDecodeError as error:
        raise JSONRefused(Problem("", f"is not JSON: {str(error)[:200]}")) from None
    except (ValueError, RecursionError):  # Python's limit on an integer's digits
        raise JSONRefused(
            Problem("", "holds a number of more digits than Python reads (4300)")
        ) from None
    if not isinstance(data, dict):
        raise JSONRefused(Problem("", "is not a JSON object", shown(data)))
    return data


def _no_constant(name: str) -> object:
    raise JSONRefused(Problem("", f"holds {name}, which is not a number", name))


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise JSONRefused(Problem(key, "is given twice in one object", shown(key)))
        data[key] = value
    return data


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH before parsing (brackets in strings aside)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise JSONRefused(
                    Problem("", f"nests objects and arrays deeper than {MAX_DEPTH} levels")
                )
        elif char in "]}":
            depth -= 1
