from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from loyalty import Duration, InvalidDuration, InvalidInput, NaiveDatetime, Period, end_of
from loyalty.dates import require_aware, zone

NEW_YORK = ZoneInfo("America/New_York")


def test_a_naive_datetime_is_refused_with_its_field() -> None:
    naive = datetime(2026, 1, 1)  # noqa: DTZ001 - the point of the test
    with pytest.raises(NaiveDatetime) as caught:
        require_aware(naive, "at")
    assert caught.value.field == "at"
    assert caught.value.value == naive


def test_a_non_datetime_is_refused() -> None:
    with pytest.raises(InvalidInput):
        require_aware("2026-01-01", "at")


def test_aware_datetimes_are_normalised_to_utc() -> None:
    paris_noon = datetime(2026, 6, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert require_aware(paris_noon) == datetime(2026, 6, 1, 10, tzinfo=UTC)
    assert require_aware(paris_noon).tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30 days", Duration(days=30)),
        ("1 day", Duration(days=1)),
        ("2 weeks", Duration(days=14)),
        ("6 months", Duration(months=6)),
        ("1 year 6 months", Duration(months=18)),
        ("1 year, 2 months and 3 days", Duration(months=14, days=3)),
        ("48 hours", Duration(hours=48)),
        ("0 days", Duration()),
        ("P1Y6M", Duration(months=18)),
        ("P2W3D", Duration(days=17)),
        ("PT12H", Duration(hours=12)),
        ("12 Months", Duration(months=12)),
    ],
)
def test_durations_parse(text: str, expected: Duration) -> None:
    assert Duration.parse(text) == expected


@pytest.mark.parametrize("text", ["13 moths", "", "P", "days", "30", "30 days ago", "-1 day", 30])
def test_bad_durations_are_refused(text: object) -> None:
    with pytest.raises(InvalidDuration, match="is not a duration"):
        Duration.parse(text)


def test_durations_print_as_they_are_written() -> None:
    assert str(Duration.parse("P1Y6M")) == "1 year 6 months"
    assert str(Duration(days=1, hours=2)) == "1 day 2 hours"
    assert str(Duration()) == "0 days"


def test_a_month_after_january_31st_is_the_end_of_february() -> None:
    utc = ZoneInfo("UTC")
    jan31 = datetime(2026, 1, 31, 9, tzinfo=UTC)
    assert Duration(months=1).after(jan31, utc) == datetime(2026, 2, 28, 9, tzinfo=UTC)
    leap = datetime(2028, 1, 31, 9, tzinfo=UTC)
    assert Duration(months=1).after(leap, utc) == datetime(2028, 2, 29, 9, tzinfo=UTC)


def test_months_are_added_on_the_local_calendar_across_a_dst_change() -> None:
    # 10:00 in New York in January (UTC-5) plus 6 months is 10:00 in July (UTC-4).
    winter = datetime(2026, 1, 15, 10, tzinfo=NEW_YORK)
    summer = Duration(months=6).after(winter, NEW_YORK)
    assert summer.astimezone(NEW_YORK).replace(tzinfo=None) == datetime(2026, 7, 15, 10)  # noqa: DTZ001
    assert summer == datetime(2026, 7, 15, 14, tzinfo=UTC)


def test_days_keep_the_wall_time_but_hours_are_elapsed_time() -> None:
    before_dst = datetime(2026, 3, 7, 12, tzinfo=NEW_YORK)  # DST starts 2026-03-08
    one_day = Duration(days=1).after(before_dst, NEW_YORK)
    assert one_day.astimezone(NEW_YORK).hour == 12
    assert one_day - before_dst == timedelta(hours=23)
    assert Duration(hours=24).after(before_dst, NEW_YORK) - before_dst == timedelta(hours=24)


def test_a_local_time_in_the_spring_forward_gap_moves_forward() -> None:
    day_before = datetime(2026, 3, 7, 2, 30, tzinfo=NEW_YORK)
    landed = Duration(days=1).after(day_before, NEW_YORK).astimezone(NEW_YORK)
    assert (landed.hour, landed.minute) == (3, 30)


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        (Period.DAY, datetime(2026, 2, 11, tzinfo=NEW_YORK)),
        (Period.MONTH, datetime(2026, 3, 1, tzinfo=NEW_YORK)),
        (Period.QUARTER, datetime(2026, 4, 1, tzinfo=NEW_YORK)),
        (Period.YEAR, datetime(2027, 1, 1, tzinfo=NEW_YORK)),
    ],
)
def test_end_of_a_period_is_the_next_local_midnight_boundary(
    period: Period, expected: datetime
) -> None:
    instant = datetime(2026, 2, 10, 23, 30, tzinfo=NEW_YORK)  # already Feb 11 in UTC
    assert end_of(period, instant, NEW_YORK) == expected


def test_end_of_quarter_for_each_quarter() -> None:
    utc = ZoneInfo("UTC")
    for month, boundary in [(1, (2026, 4)), (5, (2026, 7)), (9, (2026, 10)), (12, (2027, 1))]:
        instant = datetime(2026, month, 15, tzinfo=UTC)
        assert end_of(Period.QUARTER, instant, utc) == datetime(*boundary, 1, tzinfo=UTC)


def test_an_unknown_timezone_is_refused() -> None:
    with pytest.raises(InvalidInput, match="IANA timezone"):
        zone("Mars/Olympus_Mons")


def test_durations_longer_than_a_century_are_refused() -> None:
    with pytest.raises(InvalidDuration, match="longer than 100 years"):
        Duration.parse("9000 years")
    with pytest.raises(InvalidDuration, match="longer than 100 years"):
        Duration.parse("P99999999999999999999D")


def test_calendar_arithmetic_refuses_naive_datetimes() -> None:
    naive = datetime(2026, 1, 31, 23, 30)  # noqa: DTZ001 - the point of the test
    with pytest.raises(NaiveDatetime):
        Duration(months=1).after(naive, NEW_YORK)
    with pytest.raises(NaiveDatetime):
        end_of(Period.MONTH, naive, NEW_YORK)
