"""Late and out-of-order webhooks, reads after the scheduled run, and voided
redemptions: through the ledger and through the service on every store."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from loyalty import (
    InvalidInput,
    LoyaltyService,
    MemoryStock,
    OrderResult,
    RedemptionVoided,
    Store,
    UnknownEntry,
    Void,
    advance,
    complete_order,
    earn,
    redeem,
    redeem_reward,
    refund_order,
    reverse,
    verify,
    void_redemption,
)
from tests.builders import SPEND_LADDER, T0, account, days, ladder, program, utc
from tests.test_service import cart, order

PROGRAM = program(
    pending={"period": "14 days"},
    expiry={"policy": "fixed", "after": "1 year"},
    tiers=ladder(*SPEND_LADDER),
    earning={"rate": 1},
    rewards={
        "catalog": [
            {"id": "five-off", "kind": "amount_off", "amount": "5.00", "cost": 100},
            {"id": "gift", "kind": "amount_off", "amount": "1.00", "cost": 0, "stock": 1},
        ]
    },
)


@pytest.fixture
def service(store: Store) -> LoyaltyService:
    return LoyaltyService(PROGRAM, store)


# ------------------------------------------------------------------ late events


def test_an_order_whose_webhook_arrives_after_the_nightly_run_is_applied(
    service: LoyaltyService,
) -> None:
    night = utc(2026, 3, 10, 2)
    service.enrol("m-1", at=T0)
    service.advance(night)
    result = service.handle(order("A", "80.00", night - timedelta(minutes=1)))
    assert isinstance(result, OrderResult)
    assert result.order.at == night
    assert result.order.occurred_at == night - timedelta(minutes=1)
    assert result.earn is not None
    # Its return window runs from 01:59, not from when the webhook came.
    assert result.earn.available_at == night - timedelta(minutes=1) + days(14)
    assert service.balance("m-1").pending == 80
    # Redelivered later still: the same result, nothing more written.
    assert service.handle(order("A", "80.00", night - timedelta(minutes=1))) == result
    assert service.verify("m-1") == []


def test_orders_delivered_in_reverse_count_in_the_tier_window_they_happened_in() -> None:
    member = account(tiers=ladder(*SPEND_LADDER, window={"kind": "calendar_year"}))
    complete_order(member, cart("B", "150.00"), at=utc(2026, 1, 5), key="B")
    late = complete_order(member, cart("A", "100.00"), at=utc(2025, 12, 30), key="A")
    assert late.order.when == utc(2025, 12, 30)
    assert member.order("A") is not None
    assert member.order("A").at == utc(2025, 12, 30)  # type: ignore[union-attr]
    # The late order counts in 2025's window, not in 2026's (tier_metrics(at) answers
    # as the journal stood at ``at``, before the late order was known; the tracker
    # holds the windows as they are now).
    assert member.tiers is not None
    assert member.tiers.metrics(utc(2025, 12, 31)).spend == 100
    assert member.tier_metrics().spend == 150
    assert member.tier_metrics(utc(2025, 12, 31)).spend == 0
    assert verify(member) == []


def test_a_late_order_inside_a_closed_campaign_window_earns_the_campaign_rate() -> None:
    window = {"starts": "2026-11-11", "ends": "2026-11-12"}
    rules = [{"name": "double", "multiplier": 2, "window": window}]
    member = account(earning={"rate": 1, "rules": rules})
    complete_order(member, cart("B", "10.00"), at=utc(2026, 11, 13), key="B")
    late = complete_order(member, cart("A", "10.00"), at=utc(2026, 11, 11, 10), key="A")
    assert late.earn is not None
    assert late.earn.points == 20
    assert late.earn.at == utc(2026, 11, 13)


def test_a_late_order_is_not_counted_as_coming_after_the_orders_it_preceded() -> None:
    member = account()
    complete_order(member, cart("B", "10.00"), at=T0 + days(2), key="B")
    complete_order(member, cart("A", "10.00"), at=T0, key="A")
    assert member.completed_orders(before=T0 + days(1)) == 1
    assert member.completed_orders(excluding="A", before=T0 + days(1)) == 0
    assert member.completed_orders() == 2


@settings(max_examples=40, deadline=None)
@given(
    prices=st.lists(st.integers(1, 500), min_size=1, max_size=6),
    delivery=st.randoms(use_true_random=False),
    night=st.integers(0, 40),
)
def test_orders_earn_the_same_in_whatever_order_their_webhooks_arrive(
    prices: list[int], delivery: Any, night: int
) -> None:
    """The same orders, delivered in time order or shuffled with a nightly run in
    between, earn the same points per order, record the same orders, and verify."""
    times = [T0 + days(3 * index) for index in range(len(prices))]
    events = [
        (f"O-{index}", f"{price}.00", at)
        for index, (price, at) in enumerate(zip(prices, times, strict=True))
    ]

    def deliver(order_of_events: list[tuple[str, str, datetime]], run_at: datetime | None) -> Any:
        member = account(
            pending={"period": "14 days"},
            expiry={"policy": "fixed", "after": "1 year"},
            tiers=ladder(*SPEND_LADDER),
        )
        if run_at is not None:
            advance(member, run_at)
        points = {}
        for order_id, price, at in order_of_events:
            result = complete_order(member, cart(order_id, price), at=at, key=order_id)
            points[order_id] = (
                result.earn.points if result.earn else 0,
                result.earn.expires_at if result.earn else None,
            )
        assert verify(member) == []
        return member, points

    in_order, expected = deliver(events, None)
    shuffled = list(events)
    delivery.shuffle(shuffled)
    late, got = deliver(shuffled, T0 + days(night))
    assert got == expected
    assert {o: late.order(o).at for o, _, _ in events} == {
        o: in_order.order(o).at for o, _, _ in events
    }
    end = times[-1] + days(400)
    assert late.balance(at=end).earned == in_order.balance(at=end).earned
    assert late.tiers is not None
    assert in_order.tiers is not None
    assert late.tiers.metrics(times[-1]) == in_order.tiers.metrics(times[-1])


# --------------------------------------------------------- reads after the run


def test_a_read_without_at_shows_points_the_nightly_run_released(service: LoyaltyService) -> None:
    service.enrol("m-1", at=T0)
    service.handle(order("A", "120.00", T0))
    assert service.balance("m-1").available == 0
    service.advance(T0 + days(15))
    assert service.balance("m-1").available == 120
    assert service.member("m-1").balance.available == 120
    # Another service over the same store (another process) sees it too.
    other = LoyaltyService(PROGRAM, service.store)
    assert other.balance("m-1").available == 120
    assert service.verify("m-1") == []


# ----------------------------------------------------------------------- voids


def _points_member() -> Any:
    member = account(
        expiry={"policy": "fixed", "after": "30 days"},
        rewards={
            "catalog": [{"id": "five-off", "kind": "amount_off", "amount": "5.00", "cost": 100}]
        },
    )
    earn(member, points=60, at=T0, key="e-1")
    earn(member, points=60, at=T0 + days(10), key="e-2")
    return member


def test_a_voided_redemption_gives_its_points_back_to_their_own_lots() -> None:
    member = _points_member()
    redemption = redeem_reward(member, "five-off", cart("C", "20.00"), at=T0 + days(11), key="r")
    before = {lot.id: lot.remaining for lot in member.lots()}
    void = void_redemption(member, redemption.entry.id, at=T0 + days(12), key="v")
    assert isinstance(void, Void)
    assert void.points == 100
    assert void.allocation == redemption.entry.allocation
    after = {lot.id: lot.remaining for lot in member.lots()}
    assert after == {"m-1:1": 60, "m-1:2": 60}
    assert before != after
    # Each lot keeps its own expiry.
    assert [lot.expires_at for lot in member.lots()] == [T0 + days(30), T0 + days(40)]
    assert member.balance().available == 120
    assert member.balance().returned == 100
    assert verify(member) == []


def test_voiding_twice_returns_the_first_void_and_writes_nothing() -> None:
    member = _points_member()
    redemption = redeem_reward(member, "five-off", cart("C", "20.00"), at=T0 + days(11), key="r")
    first = void_redemption(member, redemption.entry.id, at=T0 + days(12), key="v")
    length = len(member.journal)
    assert void_redemption(member, redemption.entry.id, at=T0 + days(12), key="v") == first
    assert void_redemption(member, redemption.entry.id, at=T0 + days(13), key="v-2") == first
    assert len(member.journal) == length
    assert member.balance().available == 120


def test_a_redemption_repeated_after_its_void_is_refused_and_writes_nothing() -> None:
    """The same key after a void would otherwise return the first redemption: its 5.00 off
    handed out again for no points. It is refused; a new key redeems afresh."""
    member = _points_member()
    cart_c = cart("C", "20.00")
    redemption = redeem_reward(member, "five-off", cart_c, at=T0 + days(11), key="r")
    assert redeem_reward(member, "five-off", cart_c, at=T0 + days(11), key="r") == redemption
    void = void_redemption(member, redemption.entry.id, at=T0 + days(12), key="v")
    length = len(member.journal)
    with pytest.raises(RedemptionVoided) as refused:
        redeem_reward(member, "five-off", cart_c, at=T0 + days(13), key="r")
    assert (refused.value.key, refused.value.redemption_id) == ("r", redemption.entry.id)
    assert refused.value.void_id == void.id
    assert refused.value.http_status == 409
    assert len(member.journal) == length
    assert member.balance().available == 120
    again = redeem_reward(member, "five-off", cart_c, at=T0 + days(13), key="r-2")
    assert again.entry.points == -100
    assert member.balance().available == 20


def test_points_voided_back_into_an_expired_lot_expire_at_once() -> None:
    member = _points_member()
    redemption = redeem_reward(member, "five-off", cart("C", "20.00"), at=T0 + days(11), key="r")
    void_redemption(member, redemption.entry.id, at=T0 + days(35), key="v")
    # Lot 1 (60 points, spent entirely) expired at day 30; its points expire on return.
    expire = member.journal[-1]
    assert (expire.kind, expire.points, expire.at) == ("expire", -60, T0 + days(35))
    assert member.balance().available == 60
    assert verify(member) == []


def test_a_redemption_on_a_completed_order_cannot_be_voided() -> None:
    member = _points_member()
    redemption = redeem_reward(member, "five-off", cart("C", "20.00"), at=T0 + days(11), key="r")
    complete_order(member, cart("C", "20.00"), at=T0 + days(11), key="o")
    with pytest.raises(InvalidInput, match="refund the order instead"):
        void_redemption(member, redemption.entry.id, at=T0 + days(12), key="v")


def test_voiding_what_is_not_a_redemption_is_refused() -> None:
    member = _points_member()
    spent = redeem(member, 10, at=T0 + days(11), key="plain")
    with pytest.raises(UnknownEntry):
        void_redemption(member, "m-1:1", at=T0 + days(12), key="v")
    assert spent.points == -10
    with pytest.raises(UnknownEntry):
        void_redemption(member, "m-1:99", at=T0 + days(12), key="v")


def test_a_voided_reward_frees_its_stock_through_the_service(service: LoyaltyService) -> None:
    service.enrol("m-1", at=T0)
    service.enrol("m-2", at=T0)
    taken = service.redeem("m-1", "gift", cart("C-1", "10.00"), at=T0, key="g")
    with pytest.raises(Exception, match="sold out"):
        service.redeem("m-2", "gift", cart("C-2", "10.00", member="m-2"), at=T0, key="g")
    service.void_redemption("m-1", taken.entry.id, at=T0 + days(1), key="void-g")
    again = service.redeem(
        "m-2", "gift", cart("C-2", "10.00", member="m-2"), at=T0 + days(1), key="g"
    )
    assert again.reward == "gift"
    assert service.verify("m-1") == []


def test_an_account_kept_elsewhere_is_not_reused_after_the_run_released_points(
    store: Store,
) -> None:
    """Process a keeps the member; process b's scheduled run releases points without
    writing an entry. a must not serve (or write from) its stale account."""
    a, b = LoyaltyService(PROGRAM, store), LoyaltyService(PROGRAM, store)
    a.enrol("m-1", at=T0)
    a.handle(order("A", "120.00", T0))
    assert a.balance("m-1").available == 0  # a keeps the account
    b.advance(T0 + days(15))
    assert a.balance("m-1").available == 120
    a.handle(order("B", "10.00", T0 + days(5)))  # late: written at b's clock
    assert a.verify("m-1") == []
    assert b.balance("m-1").available == 120


def test_a_voided_free_reward_no_longer_counts_as_used() -> None:
    member = account(
        rewards={
            "catalog": [
                {
                    "id": "free",
                    "kind": "amount_off",
                    "amount": "5.00",
                    "cost": 0,
                    "hurdles": {"usage_limit": 1},
                }
            ]
        }
    )
    redemption = redeem_reward(member, "free", cart("C", "20.00"), at=T0, key="r")
    void_redemption(member, redemption.entry.id, at=T0, key="v")
    assert member.reward_uses("free") == 0
    completed = complete_order(member, cart("C", "20.00"), at=T0, key="o")
    assert completed.earn is not None
    assert completed.earn.points == 20  # the voided discount no longer reduces the order
    assert redeem_reward(member, "free", cart("D", "20.00"), at=T0, key="r-2").points == 0


def test_a_redemption_of_points_whose_earn_was_reversed_is_not_voided() -> None:
    member = account(
        clawback="write_off",
        rewards={
            "catalog": [{"id": "five-off", "kind": "amount_off", "amount": "5.00", "cost": 100}]
        },
    )
    earned = earn(member, points=100, at=T0, key="e")
    redemption = redeem_reward(member, "five-off", cart("C", "20.00"), at=T0, key="r")
    reverse(member, earned.id, at=T0 + days(1), key="rev")
    with pytest.raises(InvalidInput, match="adjust the balance by hand"):
        void_redemption(member, redemption.entry.id, at=T0 + days(2), key="v")
    assert member.balance().available == 0
    assert verify(member) == []


def _lots(member: Any) -> dict[str, tuple[int, datetime | None]]:
    return {lot.id: (lot.remaining, lot.expires_at) for lot in member.lots()}


def test_a_redemption_spending_a_lot_refunded_in_part_before_it_can_be_voided() -> None:
    """A refund made before the redemption left the lot what it kept: the redemption
    spent from that, so its points go back where they came from."""
    member = account(
        expiry={"policy": "fixed", "after": "1 year"},
        rewards={
            "catalog": [{"id": "five-off", "kind": "amount_off", "amount": "5.00", "cost": 100}]
        },
    )
    completed = complete_order(member, cart("A", "200.00"), at=T0, key="A")
    assert completed.earn is not None
    refund_order(member, "A", amount="50.00", at=T0 + days(1), key="refund-A")
    assert member.lot(completed.earn.id).remaining == 150
    before = _lots(member)
    redemption = redeem_reward(member, "five-off", cart("C", "20.00"), at=T0 + days(2), key="r")
    assert redemption.entry.allocation[0].lot_id == completed.earn.id
    void = void_redemption(member, redemption.entry.id, at=T0 + days(3), key="v")
    assert void.points == 100
    assert _lots(member) == before
    assert member.lot(completed.earn.id).expires_at == T0 + days(365)
    assert member.balance().available == 150
    assert verify(member) == []


def test_a_voided_redemption_after_a_partial_refund_on_every_store(
    service: LoyaltyService,
) -> None:
    service.enrol("m-1", at=T0)
    service.handle(order("A", "300.00", T0))
    service.handle(
        {
            "type": "order_refunded",
            "member_id": "m-1",
            "key": "refund-A",
            "at": (T0 + days(1)).isoformat(),
            "order_id": "A",
            "amount": "100.00",
        }
    )
    at = T0 + days(15)  # past the pending period
    assert service.balance("m-1", at=at).available == 200
    taken = service.redeem("m-1", "five-off", cart("C", "20.00"), at=at, key="r")
    assert service.balance("m-1", at=at).available == 100
    service.void_redemption("m-1", taken.entry.id, at=at + days(1), key="v")
    assert service.balance("m-1", at=at + days(1)).available == 200
    assert service.verify("m-1") == []


def test_a_redemption_is_voided_after_a_refund_that_took_only_what_its_lot_had_left() -> None:
    """A refund after the redemption that took its points from what the lot still
    held leaves the lot room for the voided points: the void goes ahead."""
    member = account(
        clawback="write_off",
        rewards={
            "catalog": [{"id": "five-off", "kind": "amount_off", "amount": "5.00", "cost": 100}]
        },
    )
    earned = earn(member, points=150, at=T0, key="e")
    redemption = redeem_reward(member, "five-off", cart("C", "20.00"), at=T0, key="r")
    reverse(member, earned.id, points=30, at=T0 + days(1), key="rev")
    void_redemption(member, redemption.entry.id, at=T0 + days(2), key="v")
    assert member.lot(earned.id).remaining == 120
    assert member.balance().available == 120
    assert verify(member) == []


def test_a_redemption_whose_points_a_later_refund_took_from_another_lot_is_not_voided() -> (
    None
):
    """The refund reached the points the redemption spent and took them from another
    lot: voiding would put them back in the refunded earn's lot, so it is refused."""
    member = account(
        rewards={
            "catalog": [{"id": "five-off", "kind": "amount_off", "amount": "5.00", "cost": 100}]
        },
    )
    earned = earn(member, points=100, at=T0, key="e")
    redemption = redeem_reward(member, "five-off", cart("C", "20.00"), at=T0, key="r")
    earn(member, points=50, at=T0 + days(1), key="e-2")
    reverse(member, earned.id, points=20, at=T0 + days(2), key="rev")
    with pytest.raises(InvalidInput, match="reversed after it") as raised:
        void_redemption(member, redemption.entry.id, at=T0 + days(3), key="v")
    assert (raised.value.field, raised.value.value) == ("redemption_id", redemption.entry.id)
    assert member.balance().available == 30
    assert verify(member) == []


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_void_after_earns_and_partial_refunds_restores_the_balance_and_lots(
    data: st.DataObject,
) -> None:
    """Orders earned, some refunded in part, then a redemption: voiding it gives back
    exactly the balance and the lots (remaining and expiry) from before it."""
    member = account(
        expiry={"policy": "fixed", "after": "30 days"},
        rewards={
            "catalog": [
                {
                    "id": "points-off",
                    "kind": "pay_with_points",
                    "points": 10,
                    "value": "1.00",
                    "step": 10,
                }
            ]
        },
    )
    prices = data.draw(st.lists(st.integers(1, 300), min_size=1, max_size=5), label="prices")
    at = T0
    left: list[int] = []  # cents not yet refunded, per order
    for index, price in enumerate(prices):
        at += days(data.draw(st.integers(0, 3)))
        complete_order(member, cart(f"O-{index}", f"{price}.00"), at=at, key=f"O-{index}")
        left.append(100 * price)
        for turn in range(data.draw(st.integers(0, 2))):
            refunded = data.draw(st.integers(0, index))
            if left[refunded] == 0:
                continue
            cents = data.draw(st.integers(1, left[refunded]))
            left[refunded] -= cents
            amount = Decimal(cents) / 100
            refund_order(member, f"O-{refunded}", amount=amount, at=at, key=f"{index}-{turn}")
    at += days(data.draw(st.integers(0, 10)))
    advance(member, at)
    available = member.balance().available
    if available < 10:
        return
    before, balance = _lots(member), member.balance()
    spent = 10 * data.draw(st.integers(1, available // 10))
    redemption = redeem_reward(
        member, "points-off", cart("C", "100000.00"), at=at, key="r", points=spent
    )
    assert member.balance().available == available - spent
    void_redemption(member, redemption.entry.id, at=at, key="v")
    assert _lots(member) == before
    after = member.balance()
    assert (after.available, after.pending) == (balance.available, balance.pending)
    assert verify(member) == []


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_void_allowed_after_later_refunds_leaves_what_no_redemption_would_have(
    data: st.DataObject,
) -> None:
    """Refunds after a redemption: the void is refused, or it leaves the member the
    balance and lots of a twin who never redeemed and had the same refunds."""
    catalog = [
        {"id": "points-off", "kind": "pay_with_points", "points": 10, "value": "1.00", "step": 10}
    ]
    prices = data.draw(st.lists(st.integers(1, 300), min_size=1, max_size=4), label="prices")
    refunds = data.draw(
        st.lists(st.tuples(st.integers(0, len(prices) - 1), st.integers(1, 100)), max_size=4),
        label="refunds (order, percent of what is left)",
    )
    spent = 10 * data.draw(st.integers(1, sum(prices) // 10 + 1), label="tens spent")
    clawback = data.draw(st.sampled_from(["negative_balance", "write_off"]), label="clawback")
    twins = [account(rewards={"catalog": catalog}, clawback=clawback) for _ in range(2)]
    for member in twins:
        for index, price in enumerate(prices):
            complete_order(member, cart(f"O-{index}", f"{price}.00"), at=T0, key=f"O-{index}")
    real, twin = twins
    if spent > real.balance().available:
        return
    redemption = redeem_reward(
        real, "points-off", cart("C", "100000.00"), at=T0, key="r", points=spent
    )
    left = [100 * price for price in prices]
    for turn, (index, percent) in enumerate(refunds):
        cents = left[index] * percent // 100
        if cents == 0:
            continue
        left[index] -= cents
        for member in twins:
            refund_order(
                member, f"O-{index}", amount=Decimal(cents) / 100, at=T0 + days(1), key=f"{turn}"
            )
    refusal = None
    try:
        void_redemption(real, redemption.entry.id, at=T0 + days(2), key="v")
    except InvalidInput as refused:
        refusal = refused.reason
    event("void refused" if refusal else "void allowed")
    if refusal is not None:
        assert "reversed after it" in refusal
        return
    advance(twin, T0 + days(2))
    assert _lots(real) == _lots(twin)
    assert real.balance().available == twin.balance().available
    assert real.balance().debt == twin.balance().debt
    assert verify(real) == []


def test_voiding_a_reward_with_stock_needs_the_stock() -> None:
    member = account(
        rewards={
            "catalog": [
                {"id": "gift", "kind": "amount_off", "amount": "1.00", "cost": 0, "stock": 1}
            ]
        }
    )
    stock = MemoryStock(member.program.rewards.catalog)
    redemption = redeem_reward(member, "gift", cart("C", "10.00"), at=T0, key="g", stock=stock)
    assert stock.left("gift") == 0
    with pytest.raises(InvalidInput, match="shared stock"):
        void_redemption(member, redemption.entry.id, at=T0, key="v")
    void_redemption(member, redemption.entry.id, at=T0, key="v", stock=stock)
    assert stock.left("gift") == 1
