"""The field types of scenario files: times, durations, amounts, carts, programs, and
the shorthands that let a scalar stand for a mapping."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from loyalty.dates import Duration
from loyalty.errors import InvalidDuration, shown
from loyalty.text import MAX_TEXT, printable

__all__ = [
    "ABSENT",
    "AmountText",
    "CartSpec",
    "Move",
    "ProgramRef",
    "Shortfall",
    "Spec",
    "Text",
    "When",
    "count",
    "flag",
    "shorthand",
]

Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT), AfterValidator(printable)]




def _when(value: object) -> date | datetime:
    """A date, or a date and time (naive: in the program's timezone; or with an offset)."""
    if isinstance(value, datetime | date):
        return value
    hint = (
        "is not a date (2026-03-01) or a date and time (2026-03-01T09:00, with an "
        "optional offset)"
    )
    if not isinstance(value, str) or len(value) > 64:
        raise ValueError(f"{shown(value)} {hint}")
    text = value.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise ValueError(f"{shown(value)} {hint}") from None


When = Annotated[date | datetime, BeforeValidator(_when)]
"""A date (its midnight) or a date and time; without an offset, in the program's timezone."""


def _duration(value: object) -> Duration:
    try:
        return Duration.parse(value, "duration")
    except InvalidDuration as error:
        raise ValueError(f"{shown(value)} {error.reason}") from None


def _wait(value: object) -> Duration | date | datetime:
    """A duration ('31 days', '2 hours') or a date or time to move the clock to."""
    if isinstance(value, str) and value.strip()[:1].isdigit() and "-" in value.strip()[:5]:
        return _when(value)
    if isinstance(value, date | datetime):
        return value
    if not isinstance(value, str):
        raise ValueError(
            f"{shown(value)} is not a duration ('31 days') or a date or time ('2026-04-01')"
        )
    return _duration(value)


Move = Annotated[Duration | date | datetime, BeforeValidator(_wait)]
"""How the clock moves: by a duration, or to a date or time."""


def _amount(value: object) -> tuple[Decimal, str | None]:
    """``"5.00"``, ``5``, or ``"5.00 USD"``: an amount with an optional currency."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError(f"{shown(value)} is not an amount ('5.00' or '5.00 USD')")
    parts = str(value).split()
    if not 1 <= len(parts) <= 2:
        raise ValueError(f"{shown(value)} is not an amount ('5.00' or '5.00 USD')")
    try:
        amount = Decimal(parts[0])
    except InvalidOperation:
        raise ValueError(f"{shown(value)} is not an amount ('5.00' or '5.00 USD')") from None
    if not amount.is_finite():
        raise ValueError(f"{shown(value)} is not an amount ('5.00' or '5.00 USD')")
    currency = parts[1].upper() if len(parts) == 2 else None
    return amount, currency


AmountText = Annotated[tuple[Decimal, str | None], BeforeValidator(_amount)]
"""An expected amount: ``(amount, currency or None)``."""


def _shortfall(value: object) -> int | tuple[Decimal, str | None]:
    """Points (a whole number) or an amount of money (text)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return _amount(value)


Shortfall = Annotated[int | tuple[Decimal, str | None], BeforeValidator(_shortfall)]
"""What a condition misses: points, or an amount ``"2.00 USD"``."""


def count(value: object) -> object:
    """``coupons: 2`` stands for two coupons, whatever they are."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 1000:
        return [{} for _ in range(value)]
    return value


def _cart(value: object) -> object:
    """A cart, its lines as ``[sku, unit price, quantity]`` lists or as mappings."""
    if not isinstance(value, Mapping):
        raise ValueError(f"{shown(value, 60)}: a cart is a mapping (id, lines, ...)")
    cart = dict(value)
    lines = cart.get("lines")
    if isinstance(lines, list):
        cart["lines"] = [_line(line, index) for index, line in enumerate(lines)]
    return cart


def _line(line: object, index: int) -> object:
    if isinstance(line, Mapping):  # the cart's own rules check it; one unit if not given
        return {"quantity": 1, **line}
    if not isinstance(line, list):
        return line
    if not 2 <= len(line) <= 3:
        raise ValueError(
            f"lines[{index}]: {shown(line, 60)}: a short line is [sku, unit price] or "
            "[sku, unit price, quantity]"
        )
    sku, price, *rest = line
    return {"sku": sku, "unit_price": price, "quantity": rest[0] if rest else 1}


CartSpec = Annotated[dict[str, Any], BeforeValidator(_cart)]
"""A cart as :func:`~loyalty.load_cart` takes it; ``member_id`` is the step's member
and ``currency`` the program's unless given; lines may be short lists."""


def _program(value: object) -> object:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, Mapping):
        return dict(value)
    raise ValueError(f"{shown(value, 60)}: give a program file's path or the program inline")


ProgramRef = Annotated[str | dict[str, Any], BeforeValidator(_program)]


def shorthand(field: str) -> Any:
    """A scalar stands for the mapping ``{field: scalar}``."""

    def expand(value: object) -> object:
        if isinstance(value, str | int | Decimal) and not isinstance(value, bool):
            return {field: value}
        return value

    return BeforeValidator(expand)


class Spec(BaseModel):
    """The base of the format's models: no unknown keys, frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


ABSENT = "absent"
"""Stands for ``{offered: false}``: a reward or offer the quote does not list."""


def flag(field: str) -> Any:
    """``true``/``false`` stands for ``{field: ...}``, and ``absent`` for
    ``{offered: false}``."""

    def expand(value: object) -> object:
        if isinstance(value, bool):
            return {field: value}
        return {"offered": False} if value == ABSENT else value

    return BeforeValidator(expand)
