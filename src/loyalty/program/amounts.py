"""Money and points in a program configuration, validated like money and points in a cart.

* An amount (a reward's ``amount``, a ``min_basket``, ``min_subtotal``,
  ``free_shipping_above``, a ``max_amount``...) is written as a string of plain
  decimal digits (``"10.50"``) or an integer (``10``). A float (``10.5`` in
  YAML or JSON), an exponent (``"1e1"``), NaN and Infinity are refused, and so
  is an amount with more decimals than the program currency has (``"5.555"``
  for USD) or above :data:`MAX_AMOUNT`.
* Points and counts (a ``cost``, a ``bonus``, a cap, a ``stock``...) are whole
  integers up to :data:`MAX_POINTS`; a bool, a float or a string is refused.

The program currency reaches the amounts through the validation context
(``{"currency": "USD"}``), which :func:`~loyalty.load_program` passes.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, Field, Strict, ValidationInfo, WithJsonSchema

from loyalty.boundary import brief
from loyalty.currencies import MINOR_UNITS
from loyalty.money import MAX_AMOUNT, MAX_POINTS

__all__ = [
    "MAX_AMOUNT",
    "MAX_POINTS",
    "Amount",
    "AmountOrZero",
    "Count",
    "Points",
    "PointsOrZero",
    "Threshold",
]


_PLAIN: Final = re.compile(r"[+-]?[0-9]{1,40}(?:\.[0-9]{1,40})?")
_MOST_PLACES: Final = max(MINOR_UNITS.values())
_HINT: Final = "write an amount as a string of digits, e.g. '10.50'"


def _amount(value: Any, info: ValidationInfo) -> Decimal:
    return _decimal(value, info, _HINT)


def _threshold(value: Any, info: ValidationInfo) -> Decimal:
    return _decimal(value, info, "write a whole number, or an amount as a string such as '500.00'")


def _decimal(value: Any, info: ValidationInfo, hint: str) -> Decimal:
    if isinstance(value, float):
        raise ValueError(f"{brief(value)} is a float; {hint}")
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError(f"{brief(value)} is not a number; {hint}")
    if isinstance(value, str):
        if not _PLAIN.fullmatch(value.strip()):
            raise ValueError(f"{brief(value)} is not a plain decimal number; {hint}")
        amount = Decimal(value.strip())
    else:
        amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError(f"{brief(value)} is not a finite amount")
    if abs(amount) > MAX_AMOUNT:
        raise ValueError(f"{brief(value)} is above the largest amount, 10^12")
    context = info.context if isinstance(info.context, dict) else {}
    currency = context.get("currency")
    places = MINOR_UNITS.get(currency, _MOST_PLACES) if isinstance(currency, str) else _MOST_PLACES
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        where = f"{currency} allows" if isinstance(currency, str) and currency in MINOR_UNITS else (
            "any currency allows"
        )
        raise ValueError(f"{brief(value)} has more decimals than {where} ({places})")
    return amount


_AMOUNT_SCHEMA: Final = WithJsonSchema(
    {
        "anyOf": [
            {"type": "string", "pattern": r"^[+-]?[0-9]+(\.[0-9]+)?$"},
            {"type": "integer"},
        ],
        "description": "An amount of the program currency: a string of digits such as '10.50' "
        "(no floats), within the currency's decimals, at most 10^12.",
    }
)

Amount = Annotated[Decimal, BeforeValidator(_amount), Field(gt=0), _AMOUNT_SCHEMA]
"""An amount of money above zero, in the program currency."""
AmountOrZero = Annotated[Decimal, BeforeValidator(_amount), Field(ge=0), _AMOUNT_SCHEMA]
"""An amount of money, zero or more, in the program currency."""
Threshold = Annotated[Decimal, BeforeValidator(_threshold), Field(ge=0), _AMOUNT_SCHEMA]
"""A tier threshold: a whole number of points or orders, or an amount of net spend."""
Points = Annotated[int, Strict(), Field(gt=0, le=MAX_POINTS)]
"""A whole number of points above zero."""
PointsOrZero = Annotated[int, Strict(), Field(ge=0, le=MAX_POINTS)]
"""A whole number of points, zero or more."""
Count = Annotated[int, Strict(), Field(gt=0, le=MAX_POINTS)]
"""A whole count above zero (a stock, a number of uses, a step)."""
