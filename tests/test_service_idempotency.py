"""Idempotency through the service: a retry returns exactly the original result,
whatever happened to the member since, and the same key with other content is a
conflict; the service's own keys never collide with a shop's."""

from __future__ import annotations

from typing import Any

import pytest

from loyalty import (
    IdempotencyConflict,
    InvalidInput,
    LoyaltyService,
    OrderResult,
    RefundResult,
    Store,
    UnknownOrder,
)
from loyalty.ledger.entries import Earn
from tests.builders import SPEND_LADDER, T0, days, ladder, program
from tests.test_service import cart, order

_SECTIONS: dict[str, Any] = {
    "pending": {"period": "14 days"},
    "expiry": {"policy": "fixed", "after": "1 year"},
    "tiers": ladder(*SPEND_LADDER),
    "earning": {
        "rate": 1,
        "rules": [{"name": "vip", "segments": ["vip"], "multiplier": 2}],
        "actions": {
            "signup": {"points": 50, "times": 1},
            "referral": {"points": 30, "times": 5},
            "shipment_delayed": {"points": 25},
        },
    },
    "rewards": {
        "catalog": [{"id": "five-off", "kind": "amount_off", "amount": "5.00", "cost": 10}]
    },
}
PROGRAM = program(**_SECTIONS)


@pytest.fixture
def service(store: Store) -> LoyaltyService:
    return LoyaltyService(PROGRAM, store)


def _event(kind: str, key: str, at: Any = T0, member: str = "m-1", **fields: Any) -> dict[str, Any]:
    return {"type": kind, "member_id": member, "key": key, "at": at.isoformat(), **fields}


def test_a_redelivered_order_is_a_replay_after_the_members_segments_change(
    service: LoyaltyService,
) -> None:
    service.enrol("m-1", at=T0, segments=["vip"])
    first = service.handle(order("A", "80.00", T0 + days(1)))
    service.update_member("m-1", birthday=None, segments=["other"])
    again = service.handle(order("A", "80.00", T0 + days(1)))
    assert first == again
    assert isinstance(first, OrderResult)
    assert first.earn is not None
    assert first.earn.points == 160  # the stored segments still apply to the earn
    assert service.verify("m-1") == []


def test_a_retried_redemption_is_a_replay_after_the_members_segments_change(
    service: LoyaltyService,
) -> None:
    service.enrol("m-1", at=T0, segments=["vip"])
    basket = cart("B", "30.00")
    first = service.redeem("m-1", "five-off", basket, at=T0 + days(1), key="redeem:B")
    service.update_member("m-1", birthday=None, segments=[])
    assert service.redeem("m-1", "five-off", basket, at=T0 + days(1), key="redeem:B") == first
    assert service.balance("m-1").redeemed == 10


def test_a_referral_key_reused_for_another_referred_member_is_a_conflict(
    service: LoyaltyService,
) -> None:
    service.enrol("alice", at=T0)
    first = service.handle(_event("referral", "ref:1", member="alice", referred="bob"))
    assert service.handle(_event("referral", "ref:1", member="alice", referred="bob")) == first
    with pytest.raises(IdempotencyConflict):
        service.handle(_event("referral", "ref:1", member="alice", referred="carol"))
    assert service.balance("alice").earned == 50 + 30
    texts = [str(line) for line in service.statement("alice").lines]
    assert not any("bob" in text for text in texts)


def test_a_redelivered_order_reports_what_the_first_delivery_did_not_a_later_upgrade(
    store: Store,
) -> None:
    points_ladder = ladder(("Member", {}), ("Silver", {"points": 200}), count_pending_points=False)
    service = LoyaltyService(
        program(**{**_SECTIONS, "tiers": points_ladder}), store
    )
    service.enrol("m-1", at=T0)
    first = service.handle(order("A", "150.00", T0 + days(1)))
    assert isinstance(first, OrderResult)
    assert first.tier_change is None
    service.advance(T0 + days(20))  # the order's points are released: 200 points, Silver
    assert service.member("m-1").tier == "Silver"
    assert service.handle(order("A", "150.00", T0 + days(1))) == first


def test_a_redelivered_order_reports_the_upgrade_it_made(service: LoyaltyService) -> None:
    service.enrol("m-1", at=T0)
    first = service.handle(order("A", "250.00", T0 + days(1)))
    assert isinstance(first, OrderResult)
    assert first.tier_change is not None
    service.advance(T0 + days(20))
    assert service.handle(order("A", "250.00", T0 + days(1))) == first


def test_a_replayed_refund_and_action_return_exactly_the_original(
    service: LoyaltyService,
) -> None:
    service.enrol("m-1", at=T0)
    service.handle(order("A", "150.00", T0 + days(1)))
    refund = _event("order_refunded", "refund:A", T0 + days(2), order_id="A")
    first = service.handle(refund)
    assert isinstance(first, RefundResult)
    service.advance(T0 + days(20))
    assert service.handle(refund) == first
    referral = _event("referral", "ref:9", T0 + days(21), referred="x")
    earned = service.handle(referral)
    service.advance(T0 + days(40))
    assert service.handle(referral) == earned


def test_a_shop_key_named_like_the_signup_award_is_the_shops_own(
    service: LoyaltyService,
) -> None:
    service.enrol("m-1", at=T0)
    result = service.handle({**order("A", "80.00", T0 + days(1)), "key": "signup"})
    assert isinstance(result, OrderResult)
    assert result.earn is not None
    assert result.earn.points == 80
    assert service.balance("m-1").earned == 50 + 80


def test_caller_keys_in_the_services_own_namespace_are_refused(service: LoyaltyService) -> None:
    service.enrol("m-1", at=T0)
    with pytest.raises(InvalidInput) as raised:
        service.handle({**order("A", "80.00", T0 + days(1)), "key": "::signup"})
    assert raised.value.field == "key"
    with pytest.raises(InvalidInput):
        service.adjust("m-1", 5, at=T0, key="::x", actor="ops", reason="test")
    assert service.balance("m-1").earned == 50


def test_a_late_shipment_is_paid_once_per_order_whatever_the_key(
    service: LoyaltyService,
) -> None:
    service.enrol("m-1", at=T0)
    service.handle(order("A", "10.00", T0 + days(1)))
    service.handle(order("B", "10.00", T0 + days(1)))
    first = service.handle(_event("shipment_delayed", "delay:A", T0 + days(2), order_id="A"))
    assert isinstance(first, Earn)
    assert first.points == 25
    # the same delay reported again under another key pays nothing more
    assert service.handle(_event("shipment_delayed", "late:A", T0 + days(3), order_id="A")) == first
    second = service.handle(_event("shipment_delayed", "delay:B", T0 + days(3), order_id="B"))
    assert isinstance(second, Earn)
    assert second.points == 25
    assert second.source == "B"
    with pytest.raises(IdempotencyConflict):  # a key is still bound to its content
        service.handle(_event("shipment_delayed", "delay:A", T0 + days(3), order_id="B"))
    assert service.balance("m-1").earned == 50 + 20 + 50
    assert service.verify("m-1") == []


def test_a_late_shipment_of_an_unknown_order_is_refused(service: LoyaltyService) -> None:
    service.enrol("m-1", at=T0)
    with pytest.raises(UnknownOrder):
        service.handle(_event("shipment_delayed", "delay:X", T0 + days(1), order_id="X"))
    assert service.balance("m-1").earned == 50
