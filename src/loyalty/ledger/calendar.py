"""When points earned at an instant leave pending and when they expire, per the program.

Every earn on one local day under a fixed expiry rounded up to a period (``12
months``, rounded to the end of the month) expires at the same instant, so the
expiry is worked out once per local day and remembered; the plan is built once
per program (:func:`~loyalty.program.compiled.compiled`).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from loyalty.dates import Duration, Period, end_of
from loyalty.program.compiled import compiled
from loyalty.program.model import Program
from loyalty.program.policies import FixedExpiry

__all__ = ["Calendar", "calendar"]

_REMEMBERED = 4096
"""Local days remembered at most (about eleven years of earning days)."""


class Calendar:
    """A program's release and expiry times, with expiries remembered per local day."""

    __slots__ = ("_by_day", "_expiry", "_pending", "_round", "_tz")

    def __init__(self, program: Program) -> None:
        policy = program.expiry
        self._tz: ZoneInfo = program.tz
        self._pending: Duration = program.pending.period
        self._expiry: Duration | None = policy.after if isinstance(policy, FixedExpiry) else None
        self._round: Period | None = policy.round_up_to if isinstance(policy, FixedExpiry) else None
        self._by_day: dict[date, datetime] = {}

    def available(self, earned_at: datetime) -> datetime:
        """When points earned at ``earned_at`` leave pending (the return window)."""
        return self._pending.after(earned_at, self._tz)

    def expires(self, earned_at: datetime) -> datetime | None:
        """When points earned at ``earned_at`` expire under a fixed expiry (else ``None``)."""
        after = self._expiry
        if after is None:
            return None
        if self._round is None:
            return after.after(earned_at, self._tz)
        if after.hours:  # an hour count can move the local day: nothing to share
            return end_of(self._round, after.after(earned_at, self._tz), self._tz)
        # The local date decides: the time of day moves neither the shifted date nor
        # (a DST change never crosses midnight backwards) the end of its period.
        day = earned_at.astimezone(self._tz).date()
        found = self._by_day.get(day)
        if found is None:
            found = end_of(self._round, after.after(earned_at, self._tz), self._tz)
            if len(self._by_day) >= _REMEMBERED:
                self._by_day.clear()
            self._by_day[day] = found
        return found


def calendar(program: Program) -> Calendar:
    """The program's calendar, built once per program."""
    return compiled(program, Calendar)
