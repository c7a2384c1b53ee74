"""Months of a simulation: keys, and the months of a period, in the program's timezone."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo

__all__ = ["TICK", "month_end", "month_key", "months_between", "period_end"]

TICK = timedelta(microseconds=1)
"""The smallest step of time: what ends at an instant was there until one tick before."""


def month_key(at: datetime, tz: tzinfo) -> str:
    """The month ``at`` falls in, in ``tz``: ``"2026-11"``."""
    local = at.astimezone(tz)
    return f"{local.year:04d}-{local.month:02d}"


def month_end(key: str, tz: tzinfo) -> datetime:
    """The instant month ``key`` ends: midnight, in ``tz``, of the first of the next month."""
    year, month = (int(part) for part in key.split("-"))
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return datetime(year, month, 1, tzinfo=tz)


def months_between(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last``, both included."""
    year, month = (int(part) for part in first.split("-"))
    keys = []
    while (key := f"{year:04d}-{month:02d}") <= last:
        keys.append(key)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return keys


def period_end(last: datetime, tz: tzinfo) -> datetime:
    """The instant the month of ``last`` ends (midnight, in ``tz``, of the next 1st): what
    the simulation brings every member to, so that what falls due by then (a lot usable
    to the month's last day, which expires at that midnight) is in its books, and nothing
    of the next month is."""
    return month_end(month_key(last, tz), tz)
