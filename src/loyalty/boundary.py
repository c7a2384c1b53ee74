"""Boundary validation: pydantic's errors as :class:`~loyalty.errors.Problem` s.

Each problem names the path as the user wrote it (``lines[2].unit_price``,
``expiry.after``), says what is wrong and carries the value found; an unknown
key gets a "did you mean" from the model's own field names.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from loyalty.errors import Problem, shown

__all__ = ["problems_from"]

_MISSING = object()


def problems_from(error: ValidationError, data: Any, root: type[BaseModel]) -> list[Problem]:
    """Every error of ``error`` (raised validating ``data`` as ``root``) as a Problem."""
    keys = _known_keys(root)
    return [_problem(detail, data, keys) for detail in error.errors(include_url=False)]


def _problem(detail: ErrorDetails, data: Any, keys: set[str]) -> Problem:
    path = _join(_path(detail["loc"], data))
    value = detail.get("input")
    kind = detail["type"]
    if kind == "missing":
        return Problem(path, "is required")
    if kind == "extra_forbidden":
        key = path.rpartition(".")[2]
        hint = difflib.get_close_matches(key, sorted(keys), n=1)
        suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
        return Problem(path, f"unknown key{suggestion}", value)
    message = detail["msg"]
    if kind == "value_error":
        # Our validators name the value themselves.
        return Problem(path, message.removeprefix("Value error, "), value)
    return Problem(path, f"{shown(value)}: {message[0].lower()}{message[1:]}", value)


def _join(parts: Iterator[str]) -> str:
    path = ""
    for part in parts:
        path += part if part.startswith("[") or not path else f".{part}"
    return path


def _path(loc: tuple[int | str, ...], data: Any) -> Iterator[str]:
    """The loc as the user wrote it: tagged-union tags, which are not keys, are left out.

    A tag is written either as a key's value (``policy: fixed``, ``kind: amount_off``)
    or, in shorthand, as the only key (``min_points: 100`` for ``{kind: min_points,
    points: 100}``; ``all_of: [...]``); the field a shorthand's value fills is left
    out too, so the path reads ``hurdles.all_of[1].min_points``.
    """
    node = data
    fills_field = False
    for part in loc:
        if fills_field and isinstance(part, str):
            fills_field = False
            continue
        fills_field = False
        if isinstance(node, Mapping) and isinstance(part, str) and part not in node:
            if part in (node.get("policy"), node.get("kind")):
                continue
            node = _MISSING
        elif isinstance(node, list | tuple) and isinstance(part, int) and part < len(node):
            node = node[part]
        elif isinstance(node, Mapping):
            node = node.get(part, _MISSING)
            fills_field = node is not _MISSING and not isinstance(node, Mapping)
        else:
            node = _MISSING
        yield f"[{part}]" if isinstance(part, int) else part


def _known_keys(root: type[BaseModel]) -> set[str]:
    keys: set[str] = set()
    seen: set[type[BaseModel]] = set()
    pending: list[type[BaseModel]] = [root]
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, field in model.model_fields.items():
            keys.add(name)
            pending.extend(_models_in(field.annotation))
    return keys


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for argument in getattr(annotation, "__args__", ()):
        yield from _models_in(argument)
