"""Writing results: Rich consoles, and any result of the library as JSON.

:func:`to_json` turns what the library returns (dataclasses, pydantic models,
``Money``, ``Decimal``, aware datetimes, enums, tuples) into JSON values without
losing a digit: amounts are strings (``"12.50"``), money is
``{"amount": "12.50", "currency": "USD"}``, times are ISO 8601 with their offset.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any

from pydantic import BaseModel
from rich.console import Console

from loyalty.money import Money

__all__ = ["errors", "json_written", "out", "print_json", "print_json_error", "to_json"]


@cache
def out() -> Console:
    """The console of results (stdout)."""
    return Console(highlight=False, soft_wrap=True)


@cache
def errors() -> Console:
    """The console of messages (stderr)."""
    return Console(stderr=True, highlight=False)


def to_json(value: Any) -> Any:
    """``value`` as plain JSON values (see the module's docstring)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()  # float-ok: a duration in seconds, for display
    if isinstance(value, Enum):
        return to_json(value.value)
    if isinstance(value, BaseModel):
        return to_json(value.model_dump(mode="python", exclude_none=True))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: to_json(getattr(value, field.name))
            for field in dataclasses.fields(value)
            if not field.name.startswith("_")
        }
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [to_json(item) for item in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    return str(value)


class _Written:
    """Whether this run has written a JSON document on stdout yet."""

    json = False


def print_json(value: Any) -> None:
    """``value`` as indented JSON on stdout (plain text: no colour, no wrapping). On a
    stdout that is not UTF-8 (``PYTHONIOENCODING=ascii``, a Latin-1 terminal), text
    beyond ASCII is written as JSON escapes (``"zo\\u00e9"``): the same document."""
    encoding = (getattr(sys.stdout, "encoding", None) or "utf-8").lower().replace("-", "")
    print(json.dumps(to_json(value), indent=2, ensure_ascii=encoding != "utf8"))
    _Written.json = True


def json_written(reset: bool = False) -> bool:
    """Whether a JSON document was written on stdout since the last reset (``reset``:
    forget it, at the start of a run)."""
    written = _Written.json
    if reset:
        _Written.json = False
    return written


def print_json_error(kind: str, message: str, exit_code: int) -> None:
    """The document ``--json`` writes on stdout when a command fails before writing its
    own: ``{"error": {"kind", "message", "exit_code"}}`` (``kind``: ``usage``, ``input``
    or ``internal``), so that stdout always holds one JSON document."""
    print_json({"error": {"kind": kind, "message": message, "exit_code": exit_code}})
