"""A clock a test moves by hand.

The library never reads the time: every call takes ``at``. A test that walks a
member through weeks of orders, return windows and expiries keeps one
:class:`Clock` and passes ``clock.now()`` (or the clock itself, to the builders
of :mod:`loyalty.testing`) wherever a time is asked for::

    clock = Clock()                      # 2026-01-01 00:00 UTC
    service.enrol("m-1", at=clock.now())
    clock.advance(days=31)               # past a 30-day return window
    service.advance(clock.now())

A clock holds an aware datetime and only moves forward; a naive datetime, a
negative step or a move back in time is refused with a typed error
(:class:`~loyalty.errors.NaiveDatetime`, :class:`~loyalty.errors.InvalidInput`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

from loyalty.dates import require_aware
from loyalty.errors import InvalidInput

__all__ = ["START", "Clock"]

START: Final = datetime(2026, 1, 1, tzinfo=UTC)
"""Where a :class:`Clock` starts, and the time the builders use, when none is given:
2026-01-01 00:00 UTC (a fixed instant, so tests are deterministic)."""


class Clock:
    """A controllable clock: starts at ``start`` (an aware datetime, :data:`START` by
    default) and moves forward only when told to.

    The time keeps the timezone it was given in; steps are elapsed time (one day
    is 24 hours, even across a daylight-saving change).
    """

    __slots__ = ("_now",)

    def __init__(self, start: datetime = START) -> None:
        require_aware(start, "start")
        self._now = start

    def __repr__(self) -> str:
        return f"Clock({self._now.isoformat()})"

    def now(self) -> datetime:
        """The clock's time."""
        return self._now

    def advance(
        self,
        step: timedelta | None = None,
        /,
        *,
        days: float = 0,  # float-ok: a span of time, as timedelta takes it
        hours: float = 0,  # float-ok: a span of time, as timedelta takes it
        minutes: float = 0,  # float-ok: a span of time, as timedelta takes it
        seconds: float = 0,  # float-ok: a span of time, as timedelta takes it
    ) -> datetime:
        """Move forward by ``step`` and/or ``days``, ``hours``, ``minutes`` and
        ``seconds`` (added together); return the new time.

        ``clock.advance(days=31)`` and ``clock.advance(timedelta(days=31))`` are the
        same. A negative step raises :class:`~loyalty.errors.InvalidInput` (field
        ``advance``) and leaves the clock where it was."""
        if step is not None and not isinstance(step, timedelta):
            raise InvalidInput("advance", step, "is not a timedelta")
        for name, value in (("days", days), ("hours", hours), ("minutes", minutes),
                            ("seconds", seconds)):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidInput(name, value, "is not a number")
        total = (step or timedelta()) + timedelta(
            days=days, hours=hours, minutes=minutes, seconds=seconds
        )
        if total < timedelta():
            raise InvalidInput(
                "advance", total, "is negative: a clock only moves forward (set() a later time)"
            )
        zone = self._now.tzinfo
        try:
            moved = (self._now.astimezone(UTC) + total).astimezone(zone)
        except OverflowError:
            raise InvalidInput("advance", total, "moves the clock beyond the year 9999") from None
        require_aware(moved, "advance")  # refuses a time beyond the range the library takes
        self._now = moved
        return moved

    def set(self, at: datetime) -> datetime:
        """Move to ``at`` (aware, not before the clock's time); return it.

        Raises :class:`~loyalty.errors.NaiveDatetime` for a naive datetime and
        :class:`~loyalty.errors.InvalidInput` (field ``at``) for a time before the
        clock's; the clock does not move then."""
        require_aware(at, "at")
        if at < self._now:
            raise InvalidInput(
                "at", at, f"is before the clock's time {self._now.isoformat()}: "
                "a clock only moves forward",
            )
        self._now = at
        return at


def instant(at: datetime | Clock, field: str = "at") -> datetime:
    """The time ``at`` names: a clock's time, or an aware datetime (checked)."""
    if isinstance(at, Clock):
        return at.now()
    require_aware(at, field)
    return at
