"""Comparing what a scenario file says with what the engine returns, and showing both:
amounts with or without their currency, local times against instants, notification
fields as JSON."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from loyalty.money import Money

__all__ = [
    "Amount",
    "local",
    "local_field",
    "local_instant",
    "notification_text",
    "same_amount",
    "same_field",
    "same_shortfalls",
    "shortfall_text",
    "shown_amount",
    "text",
    "time_matches",
]

Amount = tuple[Decimal, str | None]
"""An amount as written: the number and the currency, if given."""


def same_amount(expected: Amount, actual: Money | None) -> bool:
    """Is ``actual`` the amount written (in its currency, if one is written)?"""
    if actual is None:
        return False
    amount, currency = expected
    return (currency or actual.currency) == actual.currency and amount == actual.amount


def shown_amount(expected: Amount) -> str:
    """An amount as written: ``5.00`` or ``5.00 USD``."""
    amount, currency = expected
    return f"{amount} {currency}" if currency else str(amount)


def time_matches(expected: date | datetime | None, actual: datetime | None, tz: ZoneInfo) -> bool:
    """A time as written (a date: that local day) against an instant; ``None`` is never."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, datetime):
        return local_instant(expected, tz) == actual
    return actual.astimezone(tz).date() == expected


def local_instant(value: date | datetime, tz: ZoneInfo) -> datetime:
    """A time of the file as an instant: a date is its midnight, a naive time is in ``tz``."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    return datetime(value.year, value.month, value.day, tzinfo=tz)


def local(value: datetime | None, tz: ZoneInfo) -> str:
    """An instant as local time, to the minute (``never`` for none)."""
    if value is None:
        return "never"
    return value.astimezone(tz).isoformat(timespec="minutes")


def same_shortfalls(wanted: Sequence[int | Amount], actual: Sequence[Money | int]) -> bool:
    """Are the shortfalls the ones written, in order: points as numbers, money as amounts?"""
    if len(wanted) != len(actual):
        return False
    for expected, found in zip(wanted, actual, strict=True):
        if isinstance(expected, int):
            if isinstance(found, Money) or expected != found:
                return False
        elif not isinstance(found, Money) or not same_amount(expected, found):
            return False
    return True


def shortfall_text(item: int | Amount) -> str:
    """A shortfall as written."""
    return str(item) if isinstance(item, int) else shown_amount(item)


def same_field(expected: object, actual: object, tz: ZoneInfo, currency: str) -> bool:
    """A notification field as written against its JSON value: text, numbers, booleans,
    ``"10.00"`` against ``"10.00 USD"``, a local time against an instant."""
    if isinstance(expected, bool) or isinstance(actual, bool) or expected is None:
        return expected == actual
    if isinstance(actual, list):
        return isinstance(expected, list) and [str(v) for v in expected] == actual
    if isinstance(actual, int) or isinstance(expected, int | Decimal):
        return str(expected) == str(actual)
    text = str(expected)
    if isinstance(actual, str) and actual == text:
        return True
    if isinstance(actual, str) and actual.endswith(f" {currency}"):
        return actual.split()[0] == text.split()[0] and len(text.split()) == 1
    if isinstance(actual, str):
        try:
            found = datetime.fromisoformat(actual)
            if len(text) == 10:
                return time_matches(date.fromisoformat(text), found, tz)
            return time_matches(datetime.fromisoformat(text.replace(" ", "T", 1)), found, tz)
        except ValueError:
            return False
    return False


def local_field(value: object, tz: ZoneInfo) -> object:
    """A notification's field as a report shows it: an instant in ``tz``, to the minute
    (as the file writes times), anything else as it is."""
    if not isinstance(value, str) or len(value) < 16 or value[10:11] != "T":
        return value
    try:
        found = datetime.fromisoformat(value)
    except ValueError:
        return value
    return local(found, tz) if found.tzinfo is not None else value


def notification_text(data: dict[str, Any], tz: ZoneInfo) -> str:
    """A notification in one line, for an explanation (its times in ``tz``)."""
    fields = ", ".join(
        f"{key}={local_field(value, tz)}"
        for key, value in data.items()
        if key not in ("kind", "dedupe", "at")
    )
    return f"{data.get('kind')}: {fields}"


def text(value: object) -> str:
    """A value of either side, shown in a report."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(repr(v) if isinstance(v, str) else text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {text(v)}" for k, v in value.items()) + "}"
    return str(value)
