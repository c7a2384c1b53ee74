"""Time: aware datetimes, durations and calendar boundaries in a program's timezone.

Rules the whole library follows:

* Every datetime taken is timezone-aware; a naive one raises
  :class:`~loyalty.errors.NaiveDatetime`. Internally instants are kept in UTC.
* Every instant taken lies from :data:`EARLIEST` (1970-01-01 UTC) up to, not
  including, :data:`LATEST` (2200-01-01 UTC); one outside raises
  :class:`~loyalty.errors.InvalidInput`, and so does an instant computed from one
  (an expiry, the end of a pending period or of a calendar period) that would leave
  the range: the operation is refused, nothing is written.
* No function reads the clock: every time-dependent call takes ``at``.
* Durations are calendar durations (:class:`Duration`). Months and days are added
  to the *local wall time* in the program's timezone with
  ``dateutil.relativedelta``, which clamps to the month's end: Jan 31 + 1 month
  is Feb 28 (Feb 29 in a leap year). So "12 months" from 10:00 on 15 March is
  10:00 on 15 March next year, whatever daylight-saving changes lie between.
  Hours are elapsed time, added after the calendar part.
* A local time that does not exist (inside a spring-forward gap) resolves with
  the offset in force before the change, i.e. it moves forward by the gap.
* :func:`end_of` rounds an instant up to the end of its day, month, quarter or
  year in the program's timezone, returned as the first instant of the next one
  (points "expire at the end of March" are usable until 00:00 on 1 April, local).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.relativedelta import relativedelta

from loyalty.errors import InvalidDuration, InvalidInput, NaiveDatetime

__all__ = [
    "EARLIEST",
    "LATEST",
    "Duration",
    "Period",
    "end_of",
    "instant_fault",
    "require_aware",
    "start_of",
    "zone",
]

FAR_FUTURE: Final = datetime.max.replace(tzinfo=UTC)
EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)
"""The earliest instant taken."""
LATEST: Final = datetime(2200, 1, 1, tzinfo=UTC)
"""The first instant no longer taken: instants lie in [EARLIEST, LATEST)."""
_RANGE: Final = "lies outside the instants taken (from 1970-01-01 to 2200-01-01 UTC)"


def _utc(value: datetime) -> datetime | None:
    """``value`` (aware) in UTC if it lies in the range taken, else ``None``."""
    try:
        instant = value.astimezone(UTC)
    except (OverflowError, ValueError):  # year 1 with a positive offset, year 9999...
        return None
    return instant if EARLIEST <= instant < LATEST else None


def instant_fault(value: datetime) -> str | None:
    """Why the aware ``value`` is not taken as an instant (out of range), or ``None``."""
    return _RANGE if _utc(value) is None else None


def require_aware(value: object, field: str = "at") -> datetime:
    """Return ``value`` in UTC if it is an aware datetime in the range taken; raise a
    typed error otherwise (:class:`NaiveDatetime`, :class:`InvalidInput`)."""
    if not isinstance(value, datetime):
        raise InvalidInput(field, value, "is not a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetime(field, value)
    instant = _utc(value)
    if instant is None:
        raise InvalidInput(field, value, _RANGE)
    return instant


def _computed(instant: datetime, start: datetime, what: str) -> datetime:
    """A computed instant, refused if it leaves the range taken."""
    if not EARLIEST <= instant < LATEST:
        raise InvalidInput(
            "at", start, f"{what} {instant.isoformat()}, which {_RANGE}"
        )
    return instant


@cache
def zone(name: str) -> ZoneInfo:
    """The IANA timezone ``name``; raises :class:`InvalidInput` for an unknown one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInput(
            "timezone", name, "is not an IANA timezone (e.g. 'Europe/Paris')"
        ) from None


_UNITS: Final = {
    "year": (12, 0, 0),
    "month": (1, 0, 0),
    "week": (0, 7, 0),
    "day": (0, 1, 0),
    "hour": (0, 0, 1),
}
_WORD: Final = re.compile(r"\s*(\d+)\s*(year|month|week|day|hour)s?\s*(?:,|and)?", re.IGNORECASE)
_ISO: Final = re.compile(
    r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(\d+)H)?", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Duration:
    """A calendar duration: months, days and hours (years are 12 months, weeks 7 days).

    Examples:
        >>> Duration.parse("1 year 6 months")
        Duration(months=18, days=0, hours=0)
        >>> str(Duration.parse("P2W"))
        '14 days'
    """

    months: int = 0
    days: int = 0
    hours: int = 0

    @classmethod
    def parse(cls, text: object, field: str = "duration") -> Duration:
        """Parse '30 days', '6 months', '1 year 6 months', '48 hours' or ISO 8601 'P1Y6M'."""
        if isinstance(text, Duration):
            return text
        if not isinstance(text, str) or not text.strip():
            raise InvalidDuration(field, text, _DURATION_HINT)
        source = text.strip()
        iso = _ISO.fullmatch(source)
        if iso and source.upper() not in ("P", "PT"):
            years, months, weeks, days, hours = (int(part or 0) for part in iso.groups())
            return cls._bounded(text, field, 12 * years + months, 7 * weeks + days, hours)
        months = days = hours = 0
        position = 0
        for match in _WORD.finditer(source):
            if match.start() != position:
                break
            count = int(match.group(1))
            unit_months, unit_days, unit_hours = _UNITS[match.group(2).lower()]
            months += count * unit_months
            days += count * unit_days
            hours += count * unit_hours
            position = match.end()
        if position == 0 or position != len(source):
            raise InvalidDuration(field, text, _DURATION_HINT)
        return cls._bounded(text, field, months, days, hours)

    @classmethod
    def _bounded(cls, text: object, field: str, months: int, days: int, hours: int) -> Duration:
        if months > 1200 or days > 36600 or hours > 878400:
            raise InvalidDuration(field, text, "is longer than 100 years")
        return cls(months=months, days=days, hours=hours)

    @property
    def is_zero(self) -> bool:
        """No months, days or hours."""
        return not (self.months or self.days or self.hours)

    def after(self, instant: datetime, tz: ZoneInfo) -> datetime:
        """The instant this duration after ``instant``, counted on ``tz``'s local calendar."""
        start = require_aware(instant, "instant")
        if not (self.months or self.days):
            return _computed(start + timedelta(hours=self.hours), instant, f"{self} after it is")
        local = start.astimezone(tz).replace(tzinfo=None)
        step = (
            relativedelta(months=self.months, days=self.days)
            if self.months
            else timedelta(days=self.days)  # the same on a naive local time, and cheaper
        )
        shifted = local + step
        return _computed(
            shifted.replace(tzinfo=tz).astimezone(UTC) + timedelta(hours=self.hours),
            instant,
            f"{self} after it is",
        )

    def before(self, instant: datetime, tz: ZoneInfo) -> datetime:
        """The instant this duration before ``instant``, counted on ``tz``'s local calendar."""
        start = require_aware(instant, "instant")
        local = start.astimezone(tz).replace(tzinfo=None)
        shifted = local - relativedelta(months=self.months, days=self.days)
        moved = shifted.replace(tzinfo=tz).astimezone(UTC) - timedelta(hours=self.hours)
        return _computed(moved, instant, f"{self} before it is")

    def __str__(self) -> str:
        parts = []
        years, months = divmod(self.months, 12)
        for count, unit in (
            (years, "year"),
            (months, "month"),
            (self.days, "day"),
            (self.hours, "hour"),
        ):
            if count:
                parts.append(f"{count} {unit}{'s' if count != 1 else ''}")
        return " ".join(parts) or "0 days"


_DURATION_HINT: Final = "is not a duration (e.g. '30 days', '6 months', '1 year', 'P1Y6M')"


class Period(StrEnum):
    """A calendar period to round an instant up to the end of."""

    DAY = "day"
    """A local day, from midnight."""
    MONTH = "month"
    """A calendar month, from the 1st."""
    QUARTER = "quarter"
    """A calendar quarter, from 1 January, April, July or October."""
    YEAR = "year"
    """A calendar year, from 1 January."""


def start_of(period: Period, instant: datetime, tz: ZoneInfo) -> datetime:
    """The first instant of the ``period`` (in ``tz``) that contains ``instant``, in UTC.

    Examples:
        >>> from zoneinfo import ZoneInfo
        >>> at = datetime(2026, 2, 10, 12, tzinfo=UTC)
        >>> start_of(Period.MONTH, at, ZoneInfo("UTC")).isoformat()
        '2026-02-01T00:00:00+00:00'
    """
    local = require_aware(instant, "instant").astimezone(tz)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    if period is Period.MONTH:
        start = start.replace(day=1)
    elif period is Period.QUARTER:
        start = start.replace(month=3 * ((local.month - 1) // 3) + 1, day=1)
    elif period is Period.YEAR:
        start = start.replace(month=1, day=1)
    return start.replace(tzinfo=tz).astimezone(UTC)


def end_of(period: Period, instant: datetime, tz: ZoneInfo) -> datetime:
    """The first instant after the ``period`` (in ``tz``) that contains ``instant``, in UTC.

    Examples:
        >>> from zoneinfo import ZoneInfo
        >>> at = datetime(2026, 2, 10, 12, tzinfo=UTC)
        >>> end_of(Period.QUARTER, at, ZoneInfo("UTC")).isoformat()
        '2026-04-01T00:00:00+00:00'
    """
    start = start_of(period, instant, tz).astimezone(tz).replace(tzinfo=None)
    steps = {
        Period.DAY: relativedelta(days=1),
        Period.MONTH: relativedelta(months=1),
        Period.QUARTER: relativedelta(months=3),
        Period.YEAR: relativedelta(years=1),
    }
    end = (start + steps[period]).replace(tzinfo=tz).astimezone(UTC)
    return _computed(end, instant, f"the end of its {period.value} is")
