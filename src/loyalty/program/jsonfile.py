"""Reading JSON safely: bounded depth, keys given twice reported with their lines.

The standard decoder, driven by its pure-Python scanner so that each object and
array is counted: a document nested deeper than
:data:`~loyalty.program.documents.MAX_DEPTH` is refused before Python's
recursion limit is reached. An object remembers the keys given twice (see
:class:`~loyalty.program.documents.Keyed`), so they are reported with their
path. An integer too long for ``int()`` is read as a ``Decimal``, which every
bound then refuses with its path.
"""

from __future__ import annotations

import json
import json.decoder
import json.scanner
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from loyalty.errors import ConfigurationError, Problem
from loyalty.program.documents import MAX_DEPTH, Keyed

__all__ = ["read_json"]

_Scan = Callable[[str, int], tuple[Any, int]]


class _TooDeep(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def _integer(text: str) -> int | Decimal:
    try:
        return int(text)
    except ValueError:
        return Decimal(text)


class _Decoder(json.JSONDecoder):
    def __init__(self) -> None:
        super().__init__(parse_int=_integer)
        self.depth = 0
        self.parse_object = self._object
        self.parse_array = self._array
        self.scan_once = json.scanner.py_make_scanner(self)  # type: ignore[attr-defined]

    def _enter(self, text: str, index: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _TooDeep(text.count("\n", 0, index) + 1)

    def _object(
        self,
        text_and_index: tuple[str, int],
        strict: bool,
        scan_once: _Scan,
        object_hook: Any,
        object_pairs_hook: Any,
        memo: dict[str, str] | None = None,
    ) -> tuple[Keyed, int]:
        text, index = text_and_index
        self._enter(text, index)
        starts: list[int] = []

        def scan(source: str, at: int) -> tuple[Any, int]:
            starts.append(at)
            return scan_once(source, at)

        try:
            pairs, end = json.decoder.JSONObject(  # type: ignore[attr-defined]
                text_and_index, strict, scan, None, list, memo
            )
        finally:
            self.depth -= 1
        mapping = Keyed()
        lines: dict[str, int] = {}
        repeated = []
        for (key, value), start in zip(pairs, starts, strict=True):
            line = text.count("\n", 0, start) + 1
            if key in lines:
                repeated.append((key, line, lines[key]))
            else:
                lines[key] = line
            mapping[key] = value
        mapping.repeated = tuple(repeated)
        return mapping, end

    def _array(self, text_and_index: tuple[str, int], scan_once: _Scan) -> tuple[list[Any], int]:
        text, index = text_and_index
        self._enter(text, index)
        try:
            result: tuple[list[Any], int] = json.decoder.JSONArray(  # type: ignore[attr-defined]
                text_and_index, scan_once
            )
            return result
        finally:
            self.depth -= 1


def read_json(text: str, origin: str) -> Any:
    """The data of a JSON document; raises :class:`ConfigurationError` naming ``origin``."""
    try:
        return _Decoder().decode(text)
    except _TooDeep as deep:
        problem = Problem("", f"is nested more than {MAX_DEPTH} levels deep (line {deep.line})")
    except json.JSONDecodeError as error:
        problem = Problem(
            "", f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        )
    raise ConfigurationError([problem], origin)
