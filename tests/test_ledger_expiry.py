from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from loyalty import Duration, ExpiringPoints, LotStatus, advance, earn, redeem, reverse
from tests.builders import T0, account, days, usd, utc

FIXED_YEAR = {"policy": "fixed", "after": "12 months"}
SECOND = timedelta(seconds=1)


def test_a_lot_expires_a_fixed_period_after_it_was_earned() -> None:
    member = account(expiry=FIXED_YEAR)
    entry = earn(member, points=100, at=utc(2026, 3, 4, 15), key="A-1", source="A-1")
    assert entry.expires_at == utc(2027, 3, 4, 15)
    assert member.balance(at=utc(2027, 3, 4, 15) - SECOND).available == 100
    assert member.balance(at=utc(2027, 3, 4, 15)).available == 0
    expired = advance(member, utc(2027, 3, 5))
    assert len(expired) == 1
    assert expired[0].at == utc(2027, 3, 4, 15)
    assert expired[0].points == -100
    assert expired[0].reason == "expired: lot from 2026-03-04 (A-1)"
    assert member.balance().expired == 100


def test_a_month_after_january_31st_expires_on_february_28th() -> None:
    member = account(expiry={"policy": "fixed", "after": "1 month"})
    entry = earn(member, points=10, at=utc(2026, 1, 31, 9), key="A-1")
    assert entry.expires_at == utc(2026, 2, 28, 9)
    leap = account(expiry={"policy": "fixed", "after": "1 month"})
    assert earn(leap, points=10, at=utc(2028, 1, 31, 9), key="A-1").expires_at == utc(
        2028, 2, 29, 9
    )


def test_expiry_rounded_up_to_the_end_of_the_quarter_in_the_program_timezone() -> None:
    member = account(
        timezone="America/New_York",
        expiry={"policy": "fixed", "after": "12 months", "round_up_to": "quarter"},
    )
    entry = earn(member, points=10, at=utc(2026, 2, 10, 12), key="A-1")
    # 2027-02-10 rounds up to the end of Q1 2027: midnight 1 April in New York (UTC-4).
    assert entry.expires_at == utc(2027, 4, 1, 4)


def test_expiry_rounded_to_the_month_uses_the_local_date_not_the_utc_date() -> None:
    member = account(
        timezone="America/New_York",
        expiry={"policy": "fixed", "after": "1 month", "round_up_to": "month"},
    )
    # 02:00 UTC on 1 February is still 31 January in New York: a month later is
    # 28 February, rounded up to midnight on 1 March in New York (05:00 UTC).
    # Counted on the UTC date it would have been 1 March, rounded up to 1 April.
    entry = earn(member, points=10, at=utc(2026, 2, 1, 2), key="A-1")
    assert entry.expires_at == utc(2026, 3, 1, 5)


def test_expiry_across_a_dst_change_keeps_the_local_wall_time() -> None:
    paris = ZoneInfo("Europe/Paris")
    member = account(timezone="Europe/Paris", expiry={"policy": "fixed", "after": "6 months"})
    entry = earn(member, points=10, at=datetime(2026, 1, 10, 10, tzinfo=paris), key="A-1")
    assert entry.expires_at is not None
    assert entry.expires_at.astimezone(paris).replace(tzinfo=None) == datetime(2026, 7, 10, 10)  # noqa: DTZ001
    assert entry.expires_at == utc(2026, 7, 10, 8)  # CEST is UTC+2


def test_only_what_is_left_of_a_partly_spent_lot_expires() -> None:
    member = account(expiry=FIXED_YEAR)
    entry = earn(member, points=100, at=T0, key="A-1")
    redeem(member, 70, at=T0 + days(10), key="R-1")
    (expired,) = advance(member, T0 + days(400))
    assert expired.points == -30
    assert member.lot(entry.id).expired == 30
    assert member.balance().net == 0


def test_pending_points_expire_too_if_the_lot_expires_before_release() -> None:
    member = account(pending={"period": "60 days"}, expiry={"policy": "fixed", "after": "30 days"})
    earn(member, points=10, at=T0, key="A-1")
    advance(member, T0 + days(61))
    balance = member.balance()
    assert (balance.pending, balance.available, balance.expired) == (0, 0, 10)


def test_advance_to_an_earlier_time_does_nothing() -> None:
    member = account(expiry=FIXED_YEAR)
    earn(member, points=10, at=T0, key="A-1")
    assert advance(member, T0 - days(1)) == ()
    assert len(member.journal) == 1


def test_all_points_expire_after_the_inactivity_period() -> None:
    member = account(expiry={"policy": "inactivity", "after": "2 months"})
    first = earn(member, points=10, at=utc(2026, 1, 10), key="A-1")
    second = earn(member, points=20, at=utc(2026, 1, 20), key="A-2")
    assert member.balance(at=utc(2026, 3, 20) - SECOND).available == 30
    (expired,) = advance(member, utc(2026, 6, 1))
    assert expired.at == utc(2026, 3, 20)
    assert {part.lot_id: part.points for part in expired.allocation} == {
        first.id: 10,
        second.id: 20,
    }
    assert expired.reason == "expired: no activity since 2026-01-20"
    assert member.lots() == ()


def test_a_redemption_is_activity_and_postpones_inactivity_expiry() -> None:
    member = account(expiry={"policy": "inactivity", "after": "2 months"})
    earn(member, points=30, at=utc(2026, 1, 10), key="A-1")
    redeem(member, 5, at=utc(2026, 3, 1), key="R-1")
    assert member.balance(at=utc(2026, 4, 30)).available == 25
    assert member.balance(at=utc(2026, 5, 1)).available == 0


def test_a_reversal_is_not_activity() -> None:
    member = account(expiry={"policy": "inactivity", "after": "2 months"})
    entry = earn(member, amount=usd("30.00"), at=utc(2026, 1, 10), key="A-1")
    reverse(member, entry.id, amount=usd("10.00"), at=utc(2026, 3, 1), key="RF-1")
    assert member.balance(at=utc(2026, 3, 10)).expired == 20


def test_inactivity_expiry_includes_pending_points() -> None:
    member = account(
        pending={"period": "90 days"}, expiry={"policy": "inactivity", "after": "1 month"}
    )
    earn(member, points=10, at=T0, key="A-1")
    balance = member.balance(at=T0 + days(40))
    assert (balance.pending, balance.expired) == (0, 10)


def test_points_expiring_within_a_horizon() -> None:
    member = account(expiry=FIXED_YEAR)
    soon = earn(member, points=10, at=utc(2026, 1, 1), key="A-1")
    later = earn(member, points=20, at=utc(2026, 6, 1), key="A-2")
    redeem(member, 4, at=utc(2026, 6, 2), key="R-1")
    assert member.expiring(utc(2026, 12, 15), Duration(months=1)) == (
        ExpiringPoints(soon.id, 6, utc(2027, 1, 1)),
    )
    assert member.expiring(utc(2026, 12, 15), timedelta(days=365)) == (
        ExpiringPoints(soon.id, 6, utc(2027, 1, 1)),
        ExpiringPoints(later.id, 20, utc(2027, 6, 1)),
    )
    # As of a time after the first lot expired, only the second is left to expire.
    assert member.expiring(utc(2027, 2, 1), Duration(months=6)) == (
        ExpiringPoints(later.id, 20, utc(2027, 6, 1)),
    )


def test_points_expiring_under_inactivity_share_the_deadline() -> None:
    member = account(expiry={"policy": "inactivity", "after": "6 months"})
    entry = earn(member, points=10, at=utc(2026, 1, 1), key="A-1")
    assert member.expiring(utc(2026, 6, 15), Duration(months=1)) == (
        ExpiringPoints(entry.id, 10, utc(2026, 7, 1)),
    )
    assert member.expiring(utc(2026, 2, 1), Duration(months=1)) == ()


def test_lots_as_of_a_time_show_the_status_then() -> None:
    member = account(pending={"period": "10 days"}, expiry={"policy": "fixed", "after": "30 days"})
    entry = earn(member, points=10, at=T0, key="A-1")
    assert [lot.status for lot in member.lots()] == [LotStatus.PENDING]
    assert [lot.status for lot in member.lots(at=T0 + days(10))] == [LotStatus.AVAILABLE]
    assert member.lots(at=T0 + days(30)) == ()
    assert member.lot(entry.id).status is LotStatus.PENDING
