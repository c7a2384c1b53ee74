import pytest

from loyalty import (
    CurrencyMismatch,
    InvalidInput,
    InvalidMoney,
    LotStatus,
    Money,
    ReversalExceedsEarn,
    UnknownEntry,
    adjust,
    advance,
    earn,
    redeem,
    reverse,
    verify,
)
from tests.builders import T0, account, days, usd


def test_a_full_refund_takes_back_every_point_of_the_earn() -> None:
    member = account()
    entry = earn(member, amount=usd("50.00"), at=T0, key="A-1", source="A-1")
    reversal = reverse(member, entry.id, at=T0 + days(1), key="RF-1", source="RF-1")
    assert reversal.points == -50
    assert reversal.refund == usd("50.00")
    assert reversal.reason == "reversed 50 points: refund of 50.00 USD on order A-1"
    assert member.lot(entry.id).status is LotStatus.CLOSED
    assert member.balance().net == 0
    assert member.balance().reversed == 50


def test_a_partial_refund_reverses_a_proportional_share_with_the_program_rounding() -> None:
    member = account()
    entry = earn(member, amount=usd("10.00"), at=T0, key="A-1")
    # The member keeps floor(10 x 6.67 / 10) = 6 points: what 6.67 USD would earn.
    assert reverse(member, entry.id, amount=usd("3.33"), at=T0, key="RF-1").points == -4
    half_up = account(rounding="half_up")
    entry = earn(half_up, amount=usd("10.00"), at=T0, key="A-1")
    # Half up, the member keeps round(6.5) = 7 points: what 6.50 USD would earn.
    assert reverse(half_up, entry.id, amount=usd("3.50"), at=T0, key="RF-1").points == -3


def test_partial_refunds_never_reverse_more_than_the_earn_gave() -> None:
    member = account(rounding="half_up")
    entry = earn(member, amount=usd("10.00"), at=T0, key="A-1")
    reversed_points = [
        -reverse(member, entry.id, amount=usd(cents), at=T0, key=f"RF-{i}").points
        for i, cents in enumerate(["3.35", "3.35", "3.29", "0.01"])
    ]
    # Kept after each refund: round(6.65)=7, round(3.30)=3, round(0.01)=0, 0.
    assert reversed_points == [3, 4, 3, 0]
    assert sum(reversed_points) == 10
    assert member.balance().net == 0


def test_many_tiny_refunds_add_up_instead_of_rounding_away() -> None:
    member = account()
    entry = earn(member, amount=usd("1.00"), at=T0, key="A-1")
    for i in range(100):
        reverse(member, entry.id, amount=usd("0.01"), at=T0, key=f"RF-{i}")
    assert member.lot(entry.id).reversed == 1
    assert member.balance().net == 0


def test_refunding_more_than_the_order_is_refused_and_writes_nothing() -> None:
    member = account()
    entry = earn(member, amount=usd("10.00"), at=T0, key="A-1")
    reverse(member, entry.id, amount=usd("6.00"), at=T0, key="RF-1")
    with pytest.raises(ReversalExceedsEarn) as caught:
        reverse(member, entry.id, amount=usd("5.00"), at=T0, key="RF-2")
    assert caught.value.remaining == usd("4.00")
    assert len(member.journal) == 2


def test_reversing_more_points_than_are_left_is_refused() -> None:
    member = account()
    entry = earn(member, points=10, at=T0, key="A-1")
    reverse(member, entry.id, points=4, at=T0, key="RF-1")
    with pytest.raises(ReversalExceedsEarn) as caught:
        reverse(member, entry.id, points=7, at=T0, key="RF-2")
    assert (caught.value.requested, caught.value.remaining) == (7, 6)
    reverse(member, entry.id, at=T0, key="RF-3")
    with pytest.raises(ReversalExceedsEarn):
        reverse(member, entry.id, at=T0, key="RF-4")


def test_a_refund_by_amount_needs_an_earn_made_from_an_amount() -> None:
    member = account()
    entry = earn(member, points=10, at=T0, key="A-1")
    with pytest.raises(InvalidInput, match="reverse by points"):
        reverse(member, entry.id, amount=usd("1.00"), at=T0, key="RF-1")


def test_bad_reversal_requests_are_refused() -> None:
    member = account()
    entry = earn(member, amount=usd("10.00"), at=T0, key="A-1")
    credit = adjust(member, 5, at=T0, key="ADJ-1", reason="goodwill", actor="agent-7")
    with pytest.raises(UnknownEntry):
        reverse(member, "m-1:99", at=T0, key="RF-1")
    with pytest.raises(UnknownEntry):
        reverse(member, credit.id, at=T0, key="RF-1")
    with pytest.raises(CurrencyMismatch):
        reverse(member, entry.id, amount=Money("1.00", "EUR"), at=T0, key="RF-1")
    with pytest.raises(InvalidMoney):
        reverse(member, entry.id, amount=usd("0.00"), at=T0, key="RF-1")
    with pytest.raises(InvalidInput):
        reverse(member, entry.id, points=1, amount=usd("1.00"), at=T0, key="RF-1")
    assert len(member.journal) == 2


def test_a_refund_during_the_return_window_takes_the_pending_points() -> None:
    member = account(pending={"period": "30 days"})
    entry = earn(member, amount=usd("40.00"), at=T0, key="A-1")
    reverse(member, entry.id, amount=usd("10.00"), at=T0 + days(5), key="RF-1")
    balance = member.balance()
    assert (balance.pending, balance.available, balance.reversed) == (30, 0, 10)


def test_spent_points_are_taken_from_other_available_points_first() -> None:
    member = account()
    refunded = earn(member, amount=usd("100.00"), at=T0, key="A-1")
    other = earn(member, amount=usd("50.00"), at=T0 + days(1), key="A-2")
    redeem(member, 100, at=T0 + days(2), key="R-1")  # spends all of A-1
    reversal = reverse(member, refunded.id, amount=usd("40.00"), at=T0 + days(3), key="RF-1")
    assert [(part.lot_id, part.points) for part in reversal.allocation] == [(other.id, 40)]
    assert (reversal.debt, reversal.written_off) == (0, 0)
    assert member.balance().available == 10


def test_with_negative_balance_clawback_spent_points_become_a_debt() -> None:
    member = account(clawback="negative_balance")
    entry = earn(member, amount=usd("100.00"), at=T0, key="A-1", source="A-1")
    redeem(member, 80, at=T0 + days(1), key="R-1")
    reversal = reverse(member, entry.id, at=T0 + days(2), key="RF-1")
    assert (reversal.points, reversal.debt) == (-100, 80)
    assert reversal.reason.endswith("80 already spent, now owed")
    balance = member.balance()
    assert (balance.available, balance.debt, balance.net) == (0, 80, -80)


def test_a_debt_is_settled_by_the_next_earn() -> None:
    member = account(clawback="negative_balance")
    entry = earn(member, points=100, at=T0, key="A-1")
    redeem(member, 80, at=T0 + days(1), key="R-1")
    reverse(member, entry.id, at=T0 + days(2), key="RF-1")
    next_earn = earn(member, points=50, at=T0 + days(3), key="A-2")
    assert member.lot(next_earn.id).remaining == 0
    assert (member.balance().debt, member.balance().available) == (30, 0)
    earn(member, points=50, at=T0 + days(4), key="A-3")
    assert (member.balance().debt, member.balance().available) == (0, 20)
    assert verify(member) == []


def test_a_debt_is_settled_only_when_pending_points_become_available() -> None:
    member = account(clawback="negative_balance", pending={"period": "14 days"})
    entry = earn(member, points=100, at=T0, key="A-1")
    redeem(member, 100, at=T0 + days(14), key="R-1")
    reverse(member, entry.id, at=T0 + days(15), key="RF-1")
    earn(member, points=60, at=T0 + days(16), key="A-2")
    balance = member.balance()
    assert (balance.pending, balance.debt, balance.net) == (60, 100, -40)
    balance = member.balance(at=T0 + days(30))
    assert (balance.pending, balance.available, balance.debt, balance.net) == (0, 0, 40, -40)


def test_with_write_off_clawback_the_balance_stops_at_zero() -> None:
    member = account(clawback="write_off")
    entry = earn(member, amount=usd("100.00"), at=T0, key="A-1", source="A-1")
    redeem(member, 80, at=T0 + days(1), key="R-1")
    reversal = reverse(member, entry.id, at=T0 + days(2), key="RF-1")
    assert (reversal.points, reversal.debt, reversal.written_off) == (-20, 0, 80)
    assert reversal.reason.endswith("80 already spent, written off")
    balance = member.balance()
    assert (balance.net, balance.debt, balance.reversed, balance.written_off) == (0, 0, 20, 80)
    assert balance.flows == balance.net


def test_points_of_the_lot_that_already_expired_are_not_taken_again() -> None:
    member = account(expiry={"policy": "fixed", "after": "30 days"})
    entry = earn(member, amount=usd("100.00"), at=T0, key="A-1")
    redeem(member, 40, at=T0 + days(1), key="R-1")
    earn(member, points=100, at=T0 + days(20), key="A-2")
    advance(member, T0 + days(31))  # 60 of A-1 expired
    half = reverse(member, entry.id, amount=usd("50.00"), at=T0 + days(32), key="RF-1")
    assert (half.requested, half.forgiven, half.points) == (50, 50, 0)
    rest = reverse(member, entry.id, at=T0 + days(33), key="RF-2")
    # 10 more expired points are forgiven; the 40 that were spent come from A-2.
    assert (rest.requested, rest.forgiven, rest.points) == (50, 10, -40)
    assert member.balance().available == 60


def test_a_refund_leaves_no_more_points_than_the_amount_kept_would_earn() -> None:
    member = account()
    entry = earn(member, amount=usd("100.00"), at=T0, key="A-1")
    reversal = reverse(member, entry.id, amount=usd("99.99"), at=T0, key="RF-1")
    assert reversal.points == -100  # 0.01 USD earns no point, so none is kept
    assert member.balance().net == 0
