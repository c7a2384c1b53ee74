"""Qualification windows: which facts count as of a day, and when reviews happen.

Facts (orders, refunds, qualifying points) are kept in buckets by local date in
the program's timezone. A running total covers the window of the latest day
seen, so recording a fact costs O(log days) and never rescans history; the
total of the window as of another day (a review at a period end) sums only the
buckets inside that window.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from loyalty.dates import Duration
from loyalty.ledger.figures import Metrics, Undo
from loyalty.tiers.config import Window, WindowKind

__all__ = ["Aggregate", "Figures", "Metrics", "Periods"]



ZERO = Metrics()


@dataclass(frozen=True, slots=True)
class Figures(Metrics):
    """The figures of a window and, for the ``balance`` metric, the points held as
    the account stands: a balance is not a sum of days, so it is added when the
    figures are read (the days and the running total stay plain :class:`Metrics`,
    which the hot path adds up)."""

    balance: int = 0

    def value(self, metric: str) -> Decimal:
        if metric == "balance":
            return Decimal(self.balance)
        return Metrics.value(self, metric)


class Periods:
    """The calendar of one window in one timezone: window starts and review boundaries."""

    def __init__(self, window: Window, tz: ZoneInfo, enrolled: date) -> None:
        self.window = window
        self.tz = tz
        self.enrolled = enrolled
        self._starts: dict[date, date] = {}

    def local(self, instant: datetime) -> date:
        return instant.astimezone(self.tz).date()

    def start(self, day: date) -> date:
        """The first day of the window that ``day`` closes (cached: called on every fact)."""
        start = self._starts.get(day)
        if start is None:
            start = self._starts[day] = self._start(day)
        return start

    def _start(self, day: date) -> date:
        kind = self.window.kind
        if kind is WindowKind.LIFETIME:
            return date.min
        if kind is WindowKind.CALENDAR_YEAR:
            return date(day.year, 1, 1)
        if kind is WindowKind.ANNIVERSARY:
            return self._anniversary(self._anniversary_index(day))
        length = self.window.length or Duration()  # a rolling window always has one
        return day - relativedelta(months=length.months, days=length.days) + timedelta(days=1)

    def next_review(self, day: date) -> date:
        """The first review day after ``day``: 1 January, the anniversary, or the 1st of a month."""
        kind = self.window.kind
        if kind is WindowKind.ANNIVERSARY:
            return self._anniversary(self._anniversary_index(day) + 1)
        if kind is WindowKind.ROLLING:
            return date(day.year, day.month, 1) + relativedelta(months=1)
        return date(day.year + 1, 1, 1)

    def previous_review(self, review: date) -> date:
        """The review day before the review day ``review``."""
        kind = self.window.kind
        if kind is WindowKind.ANNIVERSARY:
            return self._anniversary(self._anniversary_index(review) - 1)
        if kind is WindowKind.ROLLING:
            return review - relativedelta(months=1)
        return date(review.year - 1, 1, 1)

    def midnight(self, day: date) -> datetime:
        """The first instant of ``day`` in the program's timezone."""
        return datetime(day.year, day.month, day.day, tzinfo=self.tz)

    def describe(self, day: date) -> str:
        """The window closed by ``day``, in words: 'calendar year 2026', 'the 12 months to ...'."""
        kind = self.window.kind
        if kind is WindowKind.LIFETIME:
            return "lifetime"
        if kind is WindowKind.CALENDAR_YEAR:
            return f"calendar year {day.year}"
        if kind is WindowKind.ANNIVERSARY:
            return f"the membership year from {self.start(day).isoformat()}"
        return f"the {self.window.length} to {day.isoformat()}"

    def _anniversary(self, years: int) -> date:
        """Enrolment day plus ``years`` (29 February falls back to the 28th)."""
        return self.enrolled + relativedelta(years=years)

    def _anniversary_index(self, day: date) -> int:
        """How many full membership years lie between enrolment and ``day`` (0 before it)."""
        years = max(0, day.year - self.enrolled.year)
        while years > 0 and self._anniversary(years) > day:
            years -= 1
        return years


class Aggregate:
    """Metrics by local day, with a running total of the current window."""

    def __init__(self, periods: Periods) -> None:
        self.periods = periods
        self._days: dict[date, Metrics] = {}
        self._dates: list[date] = []
        self._first = 0  # index in _dates of the first day inside the running window
        self._running = ZERO
        self._cursor: date | None = None
        self.touched: set[date] = set()
        """Days changed since a store last saved them (see ``Account.changes``)."""

    @property
    def cursor(self) -> date | None:
        return self._cursor

    def add(self, day: date, delta: Metrics, undo: Undo) -> None:
        """Add ``delta`` to ``day`` (the day a fact counts on, possibly in the past)."""
        self.move_to(day, undo)
        previous = self._days.get(day)
        if previous is None:
            position = bisect.bisect_left(self._dates, day)
            self._dates.insert(position, day)
            moved = position < self._first
            if moved:
                self._first += 1
            undo(lambda: self._forget(day, moved))
            previous = ZERO
        else:
            undo(lambda: self._days.__setitem__(day, previous))
        self._days[day] = previous + delta
        self.touched.add(day)
        cursor = self._cursor or day  # move_to set it
        if self.periods.start(cursor) <= day <= cursor:
            running = self._running
            undo(lambda: setattr(self, "_running", running))
            self._running = running + delta

    def _forget(self, day: date, moved: bool) -> None:
        del self._days[day]
        self._dates.remove(day)
        if moved:
            self._first -= 1

    def move_to(self, day: date, undo: Undo) -> None:
        """Move the running window forward to close on ``day`` (never backward)."""
        if self._cursor is not None and day <= self._cursor:
            return
        state = (self._cursor, self._first, self._running)
        undo(lambda: self._restore(state))
        start = self.periods.start(day)
        running = self._running
        first = self._first
        while first < len(self._dates) and self._dates[first] < start:
            running = running - self._days[self._dates[first]]
            first += 1
        self._cursor, self._first, self._running = day, first, running

    def restore(self, days: tuple[tuple[date, Metrics], ...], cursor: date | None) -> None:
        """Take the buckets and cursor a snapshot recorded (see :meth:`days`)."""
        self._days = dict(days)
        self._dates = [day for day, _ in days]
        self._first, self._running, self._cursor = 0, ZERO, None
        if cursor is not None:
            start = self.periods.start(cursor)
            self._first = bisect.bisect_left(self._dates, start)
            for day in self._dates[self._first :]:
                if day <= cursor:
                    self._running = self._running + self._days[day]
            self._cursor = cursor

    def _restore(self, state: tuple[date | None, int, Metrics]) -> None:
        self._cursor, self._first, self._running = state

    def current(self) -> Metrics:
        """The running window's total (as of the latest day seen)."""
        return self._running

    def as_of(self, day: date) -> Metrics:
        """The total of the window that closes on ``day``."""
        start = self.periods.start(day)
        if self._cursor is not None and start == self.periods.start(self._cursor):
            if day >= self._cursor:
                return self._running
            # Same window start (always so for lifetime): take off what came after ``day``.
            later = ZERO
            for index in range(bisect.bisect_right(self._dates, day), len(self._dates)):
                later = later + self._days[self._dates[index]]
            return self._running - later
        low = bisect.bisect_left(self._dates, start)
        high = bisect.bisect_right(self._dates, day)
        total = ZERO
        for index in range(low, high):
            total = total + self._days[self._dates[index]]
        return total

    def days(self, only: set[date] | None = None) -> tuple[tuple[date, Metrics], ...]:
        """Every bucket (or those of the days ``only``), in date order (for snapshots)."""
        if only is None:
            return tuple((day, self._days[day]) for day in self._dates)
        return tuple((day, self._days[day]) for day in sorted(only) if day in self._days)
