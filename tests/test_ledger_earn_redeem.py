from dataclasses import replace
from datetime import timedelta

import pytest

from loyalty import (
    CurrencyMismatch,
    InsufficientPoints,
    InvalidInput,
    InvalidMoney,
    InvalidPoints,
    LotStatus,
    Money,
    NaiveDatetime,
    earn,
    redeem,
)
from tests.builders import T0, account, days, usd, utc


def test_earning_by_amount_converts_at_the_rate_with_floor_rounding() -> None:
    member = account()
    entry = earn(member, amount=usd("12.99"), at=T0, key="A-1", source="A-1")
    assert entry.points == 12
    assert entry.basis == usd("12.99")
    assert entry.reason == "earned on order A-1"
    assert member.balance().available == 12


def test_the_rate_and_the_rounding_policy_come_from_the_program() -> None:
    member = account(earning={"rate": "1.5"}, rounding="half_up")
    assert earn(member, amount=usd("9.00"), at=T0, key="A-1").points == 14  # 13.5 -> 14


def test_earning_by_points_creates_an_available_lot_without_a_pending_period() -> None:
    member = account()
    entry = earn(member, points=50, at=T0, key="signup", source="signup")
    lot = member.lot(entry.id)
    assert (lot.points, lot.remaining, lot.status) == (50, 50, LotStatus.AVAILABLE)
    assert member.balance().available == 50


def test_earned_points_stay_pending_until_the_return_window_passes() -> None:
    member = account(pending={"period": "30 days"})
    entry = earn(member, amount=usd("40.00"), at=T0, key="A-1")
    assert entry.available_at == T0 + timedelta(days=30)
    assert member.balance().pending == 40
    assert member.balance(at=T0 + days(29)).available == 0
    assert member.balance(at=T0 + days(30)).available == 40
    # The query projected time forward without writing anything.
    assert member.balance().pending == 40
    assert len(member.journal) == 1


def test_pending_points_cannot_be_redeemed() -> None:
    member = account(pending={"period": "30 days"})
    earn(member, points=100, at=T0, key="A-1")
    with pytest.raises(InsufficientPoints) as caught:
        redeem(member, 10, at=T0 + days(1), key="R-1")
    assert (caught.value.requested, caught.value.available) == (10, 0)
    redeem(member, 10, at=T0 + days(30), key="R-1")
    assert member.balance().available == 90


def test_an_order_earning_zero_points_is_still_recorded() -> None:
    member = account()
    entry = earn(member, amount=usd("0.99"), at=T0, key="A-1")
    assert entry.points == 0
    assert member.lots() == ()
    assert len(member.journal) == 1


def test_an_amount_in_another_currency_is_refused_and_nothing_is_written() -> None:
    member = account()
    with pytest.raises(CurrencyMismatch) as caught:
        earn(member, amount=Money("10.00", "EUR"), at=T0, key="A-1")
    assert (caught.value.expected, caught.value.got) == ("USD", "EUR")
    assert member.journal == ()


@pytest.mark.parametrize("points", [0, -5, True, 1.5, "10"])
def test_points_must_be_a_positive_whole_number(points: object) -> None:
    member = account()
    with pytest.raises(InvalidPoints) as caught:
        earn(member, points=points, at=T0, key="A-1")  # type: ignore[arg-type]
    assert caught.value.field == "points"
    assert member.journal == ()


def test_earn_needs_exactly_one_of_points_or_amount() -> None:
    member = account()
    with pytest.raises(InvalidInput):
        earn(member, at=T0, key="A-1")
    with pytest.raises(InvalidInput):
        earn(member, points=1, amount=usd("1.00"), at=T0, key="A-1")


def test_a_negative_or_non_money_amount_is_refused() -> None:
    member = account()
    with pytest.raises(InvalidMoney):
        earn(member, amount=usd("-1.00"), at=T0, key="A-1")
    with pytest.raises(InvalidMoney):
        earn(member, amount=12.5, at=T0, key="A-1")  # type: ignore[arg-type]


def test_a_naive_time_is_refused_and_nothing_is_written() -> None:
    member = account()
    with pytest.raises(NaiveDatetime):
        earn(member, points=1, at=T0.replace(tzinfo=None), key="A-1")
    assert member.journal == ()


@pytest.mark.parametrize(("field", "value"), [("key", ""), ("source", ""), ("reason", "  ")])
def test_empty_texts_are_refused(field: str, value: str) -> None:
    member = account()
    arguments = {"key": "A-1", field: value}
    with pytest.raises(InvalidInput) as caught:
        earn(member, points=1, at=T0, **arguments)
    assert caught.value.field == field


def test_redeem_consumes_the_soonest_expiring_lot_first() -> None:
    member = account(expiry={"policy": "fixed", "after": "12 months"})
    first = earn(member, points=30, at=T0, key="A-1")
    second = earn(member, points=50, at=T0 + days(10), key="A-2")
    entry = redeem(member, 40, at=T0 + days(20), key="R-1", source="A-3")
    assert [(part.lot_id, part.points) for part in entry.allocation] == [
        (first.id, 30),
        (second.id, 10),
    ]
    assert entry.points == -40
    assert entry.reason == "redeemed on order A-3"
    assert member.lot(first.id).status is LotStatus.CLOSED
    assert member.lot(second.id).remaining == 40


def test_lots_with_the_same_expiry_are_spent_oldest_first() -> None:
    member = account(expiry={"policy": "fixed", "after": "12 months", "round_up_to": "quarter"})
    older = earn(member, points=10, at=utc(2026, 1, 5), key="A-1")
    newer = earn(member, points=10, at=utc(2026, 3, 30), key="A-2")
    assert member.lot(older.id).expires_at == member.lot(newer.id).expires_at
    entry = redeem(member, 15, at=utc(2026, 4, 1), key="R-1")
    assert [part.lot_id for part in entry.allocation] == [older.id, newer.id]


def test_lots_without_expiry_are_spent_last() -> None:
    member = account(expiry={"policy": "fixed", "after": "12 months"})
    expiring = earn(member, points=10, at=T0, key="A-1")
    lot = member.lot(expiring.id)

    forever = replace(lot, id="x", seq=0, expires_at=None)
    assert lot.spend_order < forever.spend_order


def test_redeeming_more_than_available_writes_nothing_not_even_due_expiries() -> None:
    member = account(expiry={"policy": "fixed", "after": "30 days"})
    earn(member, points=100, at=T0, key="A-1")
    earn(member, points=20, at=T0 + days(20), key="A-2")
    before = (member.journal, member.balance(), member.snapshot())
    with pytest.raises(InsufficientPoints) as caught:
        redeem(member, 50, at=T0 + days(31), key="R-1")  # the 100 expired at day 30
    assert (caught.value.member_id, caught.value.requested, caught.value.available) == (
        "m-1",
        50,
        20,
    )
    assert (member.journal, member.balance(), member.snapshot()) == before
    # The same redemption within what is left succeeds, and the expiry is written then.
    entry = redeem(member, 20, at=T0 + days(31), key="R-1")
    assert [e.kind for e in member.journal] == ["earn", "earn", "expire", "redeem"]
    assert entry.points == -20
