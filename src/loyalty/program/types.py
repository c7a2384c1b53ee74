"""Field types shared by the sections of a program configuration.

Each type validates at the boundary and reports the offending value, so the
loader can say ``expiry.after: '13 moths' is not a duration``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, Final
from zoneinfo import ZoneInfo, available_timezones

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from loyalty.boundary import brief
from loyalty.dates import Duration, zone
from loyalty.errors import InvalidInput
from loyalty.money import currency_code

__all__ = [
    "CurrencyCode",
    "DateRange",
    "DurationText",
    "Percent",
    "PositiveDecimal",
    "Section",
    "Selector",
    "TimezoneName",
]


class Section(BaseModel):
    """Base of every configuration model: immutable, and unknown keys are refused."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", use_enum_values=False, use_attribute_docstrings=True
    )


def _message(error: InvalidInput) -> ValueError:
    # The loader prints the value itself; keep only the reason.
    return ValueError(f"{brief(error.value)} {error.reason}")


def _duration(value: Any) -> Duration:
    if isinstance(value, str) and len(value) > 100:
        raise ValueError(f"{brief(value)} is not a duration (e.g. '30 days', '6 months')")
    try:
        return Duration.parse(value)
    except InvalidInput as error:
        raise _message(error) from None


def _currency(value: Any) -> str:
    try:
        return currency_code(value)
    except InvalidInput as error:
        raise _message(error) from None


_NOT_ZONES: Final = frozenset({"localtime", "posixrules", "Factory"})


@cache
def _timezones() -> frozenset[str]:
    """The IANA zone names: no host-dependent ``localtime``, no ``posix/`` or ``right/`` copies."""
    return frozenset(
        name
        for name in available_timezones()
        if name not in _NOT_ZONES and not name.startswith(("posix/", "right/"))
    )


def _timezone(value: Any) -> str:
    if not isinstance(value, str) or value not in _timezones():
        raise ValueError(f"{brief(value)} is not an IANA timezone (e.g. 'Europe/Paris')")
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
PositiveDecimal = Annotated[
    Decimal, Field(gt=0, le=10**6, decimal_places=10, allow_inf_nan=False)
]
"""A rate or multiplier: above zero, at most 10^6, at most 10 decimals."""

Percent = Annotated[Decimal, Field(gt=0, le=100, decimal_places=4, allow_inf_nan=False)]
"""A percentage: above zero, at most 100, at most 4 decimals."""

EARLIEST_YEAR: Final = 1970
LATEST_YEAR: Final = 2200
"""Dates in a configuration lie within these years (inclusive)."""


def _instant(value: datetime | date, tz: ZoneInfo) -> datetime:
    """A date is midnight in ``tz``; a datetime without a zone is read in ``tz``."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time())
    return value if value.tzinfo else value.replace(tzinfo=tz)


class DateRange(Section):
    """``starts <= at < ends``; either end may be open. Dates (and datetimes without a
    zone) are read in the program's timezone, so ``{starts: 2026-11-11, ends: 2026-11-12}``
    is Singles' Day, local time."""

    starts: datetime | date | None = None
    """The first moment inside the range; a date means its midnight in the program's timezone. Open
    (no start) if omitted."""
    ends: datetime | date | None = None
    """The end, itself outside the range: ``ends: 2026-11-12`` stops at the start of 12 November,
    local time. Open (no end) if omitted."""

    @field_validator("starts", "ends")
    @classmethod
    def _within_years(cls, value: datetime | date | None) -> datetime | date | None:
        if value is not None and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
            raise ValueError(
                f"{value.isoformat()} is outside the years {EARLIEST_YEAR} to {LATEST_YEAR}"
            )
        return value

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.starts is not None and self.ends is not None:
            utc = ZoneInfo("UTC")
            if _instant(self.ends, utc) <= _instant(self.starts, utc):
                raise ValueError(f"ends ({self.ends}) must be after starts ({self.starts})")
        return self

    def start(self, tz: ZoneInfo) -> datetime | None:
        """``starts`` as an instant (a date is midnight in ``tz``), or ``None``: open."""
        return None if self.starts is None else _instant(self.starts, tz)

    def end(self, tz: ZoneInfo) -> datetime | None:
        """``ends`` as an instant (a date is midnight in ``tz``), or ``None``: open."""
        return None if self.ends is None else _instant(self.ends, tz)

    def contains(self, at: datetime, tz: ZoneInfo) -> bool:
        """Is ``starts <= at < ends`` (dates read in ``tz``)?"""
        start, end = self.start(tz), self.end(tz)
        return (start is None or at >= start) and (end is None or at < end)


Labels = tuple[Annotated[str, Field(min_length=1)], ...]


class Selector(Section):
    """Products by sku, category or tag; a line matches if it matches any of them."""

    skus: Labels = ()
    """Product skus; a line whose sku is listed matches."""
    categories: Labels = ()
    """Product categories; a line in any of them matches."""
    tags: Labels = ()
    """Product tags; a line with any of them matches."""

    @model_validator(mode="after")
    def _something(self) -> Selector:
        if not (self.skus or self.categories or self.tags):
            raise ValueError("name at least one of skus, categories or tags")
        return self

    def matches(self, sku: str, categories: Iterable[str], tags: Iterable[str]) -> bool:
        """Does a line with this ``sku``, ``categories`` and ``tags`` match any of them?"""
        return (
            sku in self.skus
            or any(category in self.categories for category in categories)
            or any(tag in self.tags for tag in tags)
        )

    def describe(self) -> str:
        """The skus, categories and tags, comma-separated (for messages)."""
        return ", ".join((*self.skus, *self.categories, *self.tags))
