"""Writing results: Rich consoles, and any result of the library as JSON.

:func:`to_json` turns what the library returns (dataclasses, pydantic models,
``Money``, ``Decimal``, aware datetimes, enums, tuples) into JSON values without
losing a digit: amounts are strings (``"12.50"``), money is
``{"amount": "12.50", "currency": "USD"}``, times are ISO 8601 with their offset.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any

from pydantic import BaseModel
from rich.console import Console

from loyalty.money import Money

__all__ = ["errors", "out", "print_json", "to_json"]


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


def print_json(value: Any) -> None:
    """``value`` as indented JSON on stdout (plain text: no colour, no wrapping)."""
    print(json.dumps(to_json(value), indent=2, ensure_ascii=False))
