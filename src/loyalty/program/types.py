"""Field types shared by the sections of a program configuration.

Each type validates at the boundary and reports the offending value, so the
loader can say ``expiry.after: '13 moths' is not a duration``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, WithJsonSchema

from loyalty.dates import Duration, zone
from loyalty.errors import InvalidInput
from loyalty.money import currency_code

__all__ = ["CurrencyCode", "DurationText", "PositiveDecimal", "Section", "TimezoneName"]


class Section(BaseModel):
    """Base of every configuration model: immutable, and unknown keys are refused."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)


def _message(error: InvalidInput) -> ValueError:
    # The loader prints the value itself; keep only the reason.
    return ValueError(f"{error.value!r} {error.reason}")


def _duration(value: Any) -> Duration:
    try:
        return Duration.parse(value)
    except InvalidInput as error:
        raise _message(error) from None


def _currency(value: Any) -> str:
    try:
        return currency_code(value)
    except InvalidInput as error:
        raise _message(error) from None


def _timezone(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not an IANA timezone name (e.g. 'Europe/Paris')")
    try:
        zone(value)
    except InvalidInput as error:
        raise _message(error) from None
    return value


DurationText = Annotated[
    Duration,
    BeforeValidator(_duration),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "description": "A calendar duration: '30 days', '2 weeks', '6 months', "
            "'1 year 6 months', '48 hours' or ISO 8601 'P1Y6M'.",
            "examples": ["30 days", "12 months", "P1Y"],
        }
    ),
]
CurrencyCode = Annotated[
    str,
    BeforeValidator(_currency),
    WithJsonSchema(
        {"type": "string", "pattern": "^[A-Z]{3}$", "description": "An ISO 4217 currency code."}
    ),
]
TimezoneName = Annotated[
    str,
    BeforeValidator(_timezone),
    WithJsonSchema(
        {"type": "string", "description": "An IANA timezone name, e.g. 'America/New_York'."}
    ),
]
PositiveDecimal = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]
