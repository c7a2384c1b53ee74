"""When the calendar triggers fire: birthdays and schedules. Pure.

A birthday's occurrence is named by its year (``birthday:2026``), a schedule's by
its instant (``schedule:2026-12-01T05:00:00+00:00``): the scheduled run may ask
again, or late, and the same occurrence is never granted twice.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from loyalty.incentives.config import OnBirthday, OnSchedule

__all__ = ["birthday_window", "birthday_year", "schedule_occurrences"]


def _local(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz)


def _birthday_in(birthday: date, year: int, trigger: OnBirthday) -> date:
    """The day ``birthday`` is kept in ``year`` (29 February in another year: the
    trigger's ``leap_day``)."""
    if birthday.month == 2 and birthday.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28) if trigger.leap_day == "02-28" else date(year, 3, 1)
    return birthday.replace(year=year)


def birthday_window(
    trigger: OnBirthday, birthday: date, year: int, tz: ZoneInfo
) -> tuple[datetime, datetime]:
    """The stretch of ``year`` in which the birthday grant is given (local time)."""
    day = _birthday_in(birthday, year, trigger)
    if trigger.grant_window == "month":
        first = day.replace(day=1)
        last = calendar.monthrange(day.year, day.month)[1]
        return _local(first, tz), _local(first.replace(day=last), tz) + timedelta(days=1)
    start = day - timedelta(days=trigger.days_before)
    end = day + timedelta(days=trigger.days_after + 1)
    return _local(start, tz), _local(end, tz)


def birthday_year(trigger: OnBirthday, birthday: date, at: datetime, tz: ZoneInfo) -> int | None:
    """The birthday year whose grant window holds ``at`` (a window may cross New Year)."""
    local = at.astimezone(tz)
    for year in (local.year, local.year - 1, local.year + 1):
        start, end = birthday_window(trigger, birthday, year, tz)
        if start <= at < end:
            return year
    return None


def schedule_occurrences(
    trigger: OnSchedule, after: datetime | None, until: datetime, tz: ZoneInfo
) -> Iterator[tuple[int, datetime]]:
    """The occurrences in ``(after, until]`` with their number (from 0, counted from
    ``starts``), oldest first. The rule runs in local time: "the 1st of each month"
    is local midnight, whatever the offset that day."""
    start = datetime.combine(trigger.starts, time())
    rule = rrulestr(trigger.rrule, dtstart=start)
    limit = until.astimezone(tz).replace(tzinfo=None)
    for index, naive in enumerate(rule):
        if naive > limit:
            return
        instant = naive.replace(tzinfo=tz)
        if instant > until:
            return
        if after is None or instant > after:
            yield index, instant
