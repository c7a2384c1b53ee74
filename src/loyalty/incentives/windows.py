"""Windows written as rules, not only dates, so a program replays any year's history.

* ``{starts: 2026-11-11, ends: 2026-11-12}``: fixed dates (local time, half-open);
* ``{yearly: {start: "11-11", end: "11-12"}}``: every year on 11 November, local
  time; an ``end`` at or before ``start`` closes in the next year
  (``{start: "12-20", end: "01-06"}``); 29 February is 28 February in other years;
* ``{within: 48 hours}`` (a grant's validity only): from the moment it is issued.

An incentive's ``window`` says when it can fire; a grant's ``valid`` says when what
it gave can be used. A yearly validity is the occurrence that holds the issue time,
or else the next one: cashback earned on 11.11 with ``valid: {yearly: {start:
"12-01", end: "12-25"}}`` is spendable from 1 December to 24 December that year.
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from loyalty.program.types import DateRange, DurationText, Section

__all__ = ["ActiveWindow", "MonthDay", "Validity", "Yearly"]


def _month_day(value: Any) -> tuple[int, int]:
    if isinstance(value, tuple):
        return value
    if not isinstance(value, str) or len(value) != 5 or value[2] != "-":
        raise ValueError(f"{value!r} is not a month and day 'MM-DD' (e.g. '11-11')")
    try:
        month, day = int(value[:2]), int(value[3:])
        date(2024, month, day)  # a leap year: 02-29 is a day
    except ValueError:
        raise ValueError(f"{value!r} is not a day of the year ('MM-DD')") from None
    return month, day


MonthDay = Annotated[
    tuple[int, int],
    BeforeValidator(_month_day),
    PlainSerializer(lambda md: f"{md[0]:02d}-{md[1]:02d}", return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\d\d-\d\d$", "examples": ["11-11"]}),
]


def _on(year: int, month_day: tuple[int, int], tz: ZoneInfo) -> datetime:
    """Midnight local time of ``month_day`` in ``year`` (29 February: the 28th in
    other years)."""
    month, day = month_day
    day = min(day, calendar.monthrange(year, month)[1])
    return datetime.combine(date(year, month, day), time(), tzinfo=tz)


class Yearly(Section):
    """``start <= local day < end`` every year."""

    start: MonthDay
    """The first local day of each year's window, as ``MM-DD`` (``11-11``); ``02-29`` is 28 February
    in other years."""
    end: MonthDay
    """The first local day after the window, as ``MM-DD`` (exclusive); at or before ``start``, the
    window closes in the next year (``{start: 12-20, end: 01-06}``)."""

    def occurrence(self, year: int, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The occurrence that starts in ``year``."""
        wraps = self.end <= self.start
        return _on(year, self.start, tz), _on(year + wraps, self.end, tz)

    def around(self, at: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The occurrence that holds ``at``, or else the next one."""
        local = at.astimezone(tz)
        for year in (local.year - 1, local.year, local.year + 1):
            start, end = self.occurrence(year, tz)
            if end > at:
                return start, end
        raise AssertionError("unreachable: some occurrence ends after any instant")

    def latest(self, at: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The occurrence that started last at or before ``at`` (it may be over)."""
        local = at.astimezone(tz)
        for year in (local.year, local.year - 1, local.year - 2):
            start, end = self.occurrence(year, tz)
            if start <= at:
                return start, end
        raise AssertionError("unreachable: some occurrence starts before any instant")


class ActiveWindow(DateRange):
    """When an incentive can fire: fixed ``starts``/``ends``, or ``yearly``, or both
    (every year, between the dates)."""

    yearly: Yearly | None = None
    """A window that comes back every year; with ``starts``/``ends`` too, only the years' windows
    between those dates."""

    def contains(self, at: datetime, tz: ZoneInfo) -> bool:
        """Is ``at`` within ``starts``/``ends`` and, when ``yearly`` is given, within this
        year's occurrence (read in ``tz``)?"""
        if not DateRange.contains(self, at, tz):
            return False
        if self.yearly is None:
            return True
        start, _ = self.yearly.around(at, tz)
        return start <= at

    def latest(self, at: datetime, tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
        """The stretch of the window that began last at or before ``at`` (it may be over;
        ``None``: open): "has not ordered in this year's 11.11" asks about it."""
        start, end = self.start(tz), self.end(tz)
        if self.yearly is not None:
            first, last = self.yearly.latest(at, tz)
            start = first if start is None else max(start, first)
            end = last if end is None else min(end, last)
        return start, end


class Validity(DateRange):
    """When a grant can be used: ``within`` a duration of its issue, a ``yearly``
    window, fixed ``starts``/``ends``, or a combination (the narrowest applies).
    With none of them, it never expires."""

    within: DurationText | None = None
    """Usable for this long after it is issued (``48 hours``, ``30 days``)."""
    yearly: Yearly | None = None
    """Usable in a window that comes back every year: the one holding the issue time, or else the
    next."""

    def bounds(self, issued: datetime, tz: ZoneInfo) -> tuple[datetime, datetime | None]:
        """From when and until when (exclusive; ``None``: no end) a grant issued at
        ``issued`` can be used."""
        fixed = self.start(tz)
        start, end = issued if fixed is None else max(fixed, issued), self.end(tz)
        if self.yearly is not None:
            first, last = self.yearly.around(issued, tz)
            start, end = max(start, first), last if end is None else min(end, last)
        if self.within is not None:
            lapse = self.within.after(issued, tz)
            end = lapse if end is None else min(end, lapse)
        return start.astimezone(UTC), None if end is None else end.astimezone(UTC)
