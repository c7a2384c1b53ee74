"""Double-sided referrals through the service, on every store: the code a referrer
shares, attribution at enrolment and its refusals, the state machine (attributed →
qualified → rewarded, or rejected), the clawback of a reward whose order is refunded,
the scheduled run's idempotence and isolation, and erasure of the rows that name a
member."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty import (
    CouponRefused,
    InvalidInput,
    LoyaltyService,
    MemoryStore,
    ReferralRefused,
    Store,
    UnknownMember,
)
from loyalty.errors import Unprocessed
from loyalty.ledger.entries import HoldingKind, HoldingStatus
from loyalty.notifications import ReferralCompleted, notification_from
from loyalty.service import referrals
from loyalty.service.referrals import ReferralState
from tests.builders import T0, days, program, utc

RETURN_WINDOW = days(14)

FRIEND_WELCOME = {
    "id": "friend-welcome",
    "trigger": {"event": "enrolled", "referred": True},
    "grants": [
        {
            "kind": "coupon",
            "offer": {"kind": "amount_off", "amount": "10.00"},
            "valid": {"within": "30 days"},
        }
    ],
}
THANKS = {
    "id": "thanks",
    "trigger": {"event": "referral_completed"},
    "grants": [
        {"kind": "points", "points": 500},
        {
            "kind": "coupon",
            "offer": {"kind": "amount_off", "amount": "5.00"},
            "valid": {"within": "60 days"},
        },
    ],
}


def referral_program(**referrals_section: Any) -> Any:
    return program(
        timezone="America/New_York",
        pending={"period": "14 days"},
        earning={"rate": 1, "actions": {"referral": {"points": 30, "times": 5}}},
        incentives={
            "point_value": "0.01",
            "referrals": {"per_referrer": 2, "per": "month", **referrals_section},
            "catalog": [FRIEND_WELCOME, THANKS],
        },
    )


PROGRAM = referral_program()


@pytest.fixture
def service(store: Store) -> LoyaltyService:
    return LoyaltyService(PROGRAM, store)


def order(member: str, order_id: str, at: datetime, price: str = "40.00") -> dict[str, Any]:
    return {
        "type": "order_completed",
        "member_id": member,
        "key": f"order:{order_id}",
        "at": at.isoformat(),
        "cart": {
            "id": order_id,
            "member_id": member,
            "currency": "USD",
            "lines": [{"sku": "SKU", "unit_price": price, "quantity": 2}],
        },
    }


def refund(member: str, order_id: str, at: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "type": "order_refunded",
        "member_id": member,
        "key": f"refund:{order_id}:{at.isoformat()}",
        "at": at.isoformat(),
        "order_id": order_id,
        **extra,
    }


def coupons(service: LoyaltyService, member: str) -> list[tuple[str, str]]:
    return [
        (h.incentive, h.status.value)
        for h in service.holdings(member)
        if h.kind is HoldingKind.COUPON
    ]


def referred(service: LoyaltyService, referrer: str, referee: str, at: datetime = T0) -> str:
    code = service.referral_code(referrer)
    service.enrol(referee, at=at, referral_code=code, identity=f"hash-{referee}")
    return code


def registry_text(store: Store) -> str:
    """Every registry row the service writes, keys and values, as one text."""
    spaces = (
        "code",
        "claim",
        "budget",
        referrals.MEMBERS,
        referrals.IDENTITIES,
        referrals.BY,
        referrals.DUE,
    )
    with store.transaction(PROGRAM.id, write=False) as transaction:
        rows = transaction.registry()
        found = {space: rows.scan(space, limit=100_000) for space in spaces}
    return json.dumps(found)


# --------------------------------------------------------------------- the code


def test_the_code_is_made_on_the_first_ask_and_the_same_after(service: LoyaltyService) -> None:
    service.enrol("alice", at=T0)
    code = service.referral_code("alice")
    assert service.referral_code("alice") == code
    assert len(code.replace("-", "")) == 12  # the program's coupon code format
    service.enrol("bob", at=T0)
    assert service.referral_code("bob") != code
    with pytest.raises(UnknownMember):
        service.referral_code("nobody")


def test_a_code_is_read_back_as_typed_and_is_not_a_coupon_code(service: LoyaltyService) -> None:
    service.enrol("alice", at=T0)
    code = service.referral_code("alice")
    service.enrol("bob", at=T0, referral_code=f"  {code.lower()} ")
    assert service.referral("bob") is not None
    # Bob's welcome coupon is a code of the program, but no referral code.
    welcome = next(h.code for h in service.holdings("bob") if h.code)
    assert welcome is not None
    with pytest.raises(ReferralRefused, match="unknown referral code"):
        service.enrol("carol", at=T0, referral_code=welcome)
    # ...and the referral code is no coupon: it cannot be redeemed.
    cart = {
        "id": "c-1",
        "member_id": "alice",
        "currency": "USD",
        "lines": [{"sku": "SKU", "unit_price": "50.00", "quantity": 1}],
    }
    with pytest.raises(CouponRefused):
        service.redeem_coupon("alice", code, cart, at=T0, key="use-1")


# -------------------------------------------------------- the two sides, end to end


def test_the_whole_state_machine_gives_each_side_its_own_bundle(service: LoyaltyService) -> None:
    service.enrol("alice", at=T0)
    service.enrol("walk-in", at=T0)  # not referred: no friend's welcome
    referred(service, "alice", "bob")
    status = service.referral("bob")
    assert status is not None
    assert (status.referrer, status.referee, status.state) == (
        "alice",
        "bob",
        ReferralState.ATTRIBUTED,
    )
    assert service.referral("alice") is None
    assert coupons(service, "bob") == [("friend-welcome", "open")]
    assert coupons(service, "walk-in") == []
    assert coupons(service, "alice") == []

    ordered = T0 + days(1)
    service.handle(order("bob", "o-1", ordered))
    status = service.referral("bob")
    assert status is not None
    assert (status.state, status.order, status.due) == (
        ReferralState.QUALIFIED,
        "o-1",
        ordered + RETURN_WINDOW,
    )
    second = service.handle(order("bob", "o-2", ordered + days(2)))
    assert second.order.source == "o-2"
    assert service.referral("bob").due == ordered + RETURN_WINDOW  # type: ignore[union-attr]

    before = service.advance(ordered + RETURN_WINDOW - timedelta(microseconds=1))
    assert before.referrals == 0
    assert service.referral("bob").state is ReferralState.QUALIFIED  # type: ignore[union-attr]
    assert service.balance("alice").available == 0

    done = service.advance(ordered + RETURN_WINDOW)
    assert done.referrals == 1
    assert done.failed == ()
    status = service.referral("bob")
    assert status is not None
    assert status.state is ReferralState.REWARDED
    assert status.incentives == ("thanks",)
    assert service.balance("alice").available == 500
    assert coupons(service, "alice") == [("thanks", "open")]
    assert coupons(service, "bob") == [("friend-welcome", "open")]  # bob's side unchanged
    assert service.verify("alice") == []

    sent = [m.notification for m in service.outbox(1000)]
    completed = [n for n in sent if isinstance(n, ReferralCompleted)]
    assert len(completed) == 1
    assert completed[0].member_id == "alice"
    assert completed[0].referral == status.id
    assert completed[0].incentives == "thanks"
    assert completed[0].at == ordered + RETURN_WINDOW
    assert "bob" not in json.dumps(completed[0].data())
    assert notification_from(completed[0].data()) == completed[0]


def test_the_referrer_journal_never_names_the_referee(service: LoyaltyService) -> None:
    service.enrol("alice", at=T0)
    referred(service, "alice", "bobby-the-referee")
    service.handle(order("bobby-the-referee", "o-1", T0))
    service.advance(T0 + RETURN_WINDOW)
    lines = service.statement("alice")
    assert "bobby-the-referee" not in repr(lines)


def test_the_scheduled_run_rewards_once_however_often_it_runs(service: LoyaltyService) -> None:
    service.enrol("alice", at=T0)
    referred(service, "alice", "bob")
    service.handle(order("bob", "o-1", T0))
    first = service.advance(T0 + RETURN_WINDOW + days(1))
    again = service.advance(T0 + RETURN_WINDOW + days(1))
    later = service.advance(T0 + RETURN_WINDOW + days(5))
    assert (first.referrals, again.referrals, later.referrals) == (1, 0, 0)
    assert service.balance("alice").available == 500
    assert coupons(service, "alice") == [("thanks", "open")]
    sent = [m.notification for m in service.outbox(1000)]
    assert sum(isinstance(n, ReferralCompleted) for n in sent) == 1


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=6))
def test_any_runs_reward_once_exactly_when_one_is_past_the_due_time(runs: list[int]) -> None:
    service = LoyaltyService(PROGRAM, MemoryStore())
    service.enrol("alice", at=T0)
    referred(service, "alice", "bob")
    service.handle(order("bob", "o-1", T0))
    for day in runs:
        service.advance(T0 + days(day))
    rewarded = any(T0 + days(day) >= T0 + RETURN_WINDOW for day in runs)
    assert service.balance("alice").available == (500 if rewarded else 0)
    state = service.referral("bob").state  # type: ignore[union-attr]
    assert state is (ReferralState.REWARDED if rewarded else ReferralState.QUALIFIED)


def test_qualify_after_replaces_the_return_window() -> None:
    service = LoyaltyService(referral_program(qualify_after="30 days"), MemoryStore())
    service.enrol("alice", at=T0)
    referred(service, "alice", "bob")
    service.handle(order("bob", "o-1", T0))
    assert service.referral("bob").due == T0 + days(30)  # type: ignore[union-attr]
    service.advance(T0 + RETURN_WINDOW)
    assert service.balance("alice").available == 0
    service.advance(T0 + days(30))
    assert service.balance("alice").available == 500


def test_a_late_webhook_for_an_earlier_first_order_moves_the_qualification(
    service: LoyaltyService,
) -> None:
    service.enrol("alice", at=T0)
    referred(service, "alice", "bob")
    service.handle(order("bob", "o-2", T0 + days(5)))
    assert service.referral("bob").order == "o-2"  # type: ignore[union-attr]
    service.handle(order("bob", "o-1", T0 + days(1)))  # happened first, arrived late
    status = service.referral("bob")
    assert status is not None
    assert (status.order, status.due) == ("o-1", T0 + days(1) + RETURN_WINDOW)
    done = service.advance(T0 + days(1) + RETURN_WINDOW)
    assert done.referrals == 1
    assert service.balance("alice").available == 500


# ------------------------------------------------------------------- refusals


def assert_not_enrolled(service: LoyaltyService, member: str) -> None:
    with pytest.raises(UnknownMember):
        service.member(member)


def test_an_unknown_code_is_refused_and_nothing_is_written(service: LoyaltyService) -> None:
    service.enrol("alice", at=T0)
    service.referral_code("alice")
    rows = registry_text(service.store)
    with pytest.raises(ReferralRefused, match="unknown referral code") as refused:
        service.enrol("bob", at=T0, referral_code="0000-0000-0000")
    assert refused.value.member_id == "bob"
    with pytest.raises(ReferralRefused, match="unknown referral code"):
        service.enrol("bob", at=T0, referral_code="not a code at all")
    assert_not_enrolled(service, "bob")
    assert registry_text(service.store) == rows
    with pytest.raises(InvalidInput, match="referral_code"):
        service.enrol("bob", at=T0, referral_code=12345)  # type: ignore[arg-type]


def test_self_referral_is_refused_by_member_and_by_identity(service: LoyaltyService) -> None:
    service.enrol("alice", at=T0, identity="hash-alice")
    code = service.referral_code("alice")
    with pytest.raises(ReferralRefused, match="self-referral: the code is the member's own"):
        service.enrol("alice", at=T0, identity="hash-alice", referral_code=code)
    with pytest.raises(
        ReferralRefused, match="self-referral: the referrer has the member's identity"
    ):
        service.enrol("alice-2", at=T0, identity="hash-alice", referral_code=code)
    assert_not_enrolled(service, "alice-2")
    # Without an identity given, the member id is the identity.
    service.enrol("dave", at=T0)
    with pytest.raises(ReferralRefused, match="the referrer has the member's identity"):
        service.enrol("dave-2", at=T0, identity="dave", referral_code=service.referral_code("dave"))
    assert_not_enrolled(service, "dave-2")


def test_the_same_person_is_referred_once_ever(service: LoyaltyService) -> None:
    for member in ("alice", "carol"):
        service.enrol(member, at=T0)
    service.enrol("bob", at=T0, identity="hash-bob", referral_code=service.referral_code("alice"))
    carol = service.referral_code("carol")
    rows = registry_text(service.store)
    with pytest.raises(ReferralRefused, match="this person was referred before"):
        service.enrol("bob-2", at=T0, identity="hash-bob", referral_code=carol)
    assert_not_enrolled(service, "bob-2")
    assert registry_text(service.store) == rows
    # A refused enrolment claims nothing: another person is referred by carol at once.
    service.enrol("erin", at=T0, identity="hash-erin", referral_code=carol)
    assert service.referral("erin").referrer == "carol"  # type: ignore[union-attr]


def test_a_circular_referral_is_refused(service: LoyaltyService) -> None:
    service.enrol("alice", at=T0, identity="hash-alice")
    service.enrol("bob", at=T0, identity="hash-bob", referral_code=service.referral_code("alice"))
    bob_code = service.referral_code("bob")
    # Alice, enrolled, cannot be referred back by bob...
    with pytest.raises(ReferralRefused, match="circular referral"):
        service.enrol("alice", at=T0, identity="hash-alice", referral_code=bob_code)
    # ...nor under a new account with her identity.
    with pytest.raises(ReferralRefused, match="circular referral"):
        service.enrol("alice-new", at=T0, identity="hash-alice", referral_code=bob_code)
    assert_not_enrolled(service, "alice-new")
    # Someone else is.
    service.enrol("carol", at=T0, identity="hash-carol", referral_code=bob_code)
    assert service.referral("carol").referrer == "bob"  # type: ignore[union-attr]


def test_an_enrolment_repeated_with_its_code_is_a_retry_and_another_code_is_refused(
    service: LoyaltyService,
) -> None:
    for member in ("alice", "carol"):
        service.enrol(member, at=T0)
    code = service.referral_code("alice")
    first = service.enrol("bob", at=T0, referral_code=code)
    assert service.enrol("bob", at=T0, referral_code=code) == first
    assert coupons(service, "bob") == [("friend-welcome", "open")]
    with pytest.raises(ReferralRefused, match="already a member"):
        service.enrol("bob", at=T0, referral_code=service.referral_code("carol"))
    assert service.referral("bob").referrer == "alice"  # type: ignore[union-attr]


def test_a_referrer_over_the_cap_in_the_local_month_is_refused(service: LoyaltyService) -> None:
    service.enrol("alice", at=T0)
    code = service.referral_code("alice")
    for number in (1, 2):
        service.enrol(f"friend-{number}", at=utc(2026, 1, 10), referral_code=code)
    late_january = utc(2026, 2, 1, 3)  # 22:00 on 31 January in New York
    with pytest.raises(ReferralRefused, match="made 2 referrals this month, the most allowed"):
        service.enrol("friend-3", at=late_january, referral_code=code)
    assert_not_enrolled(service, "friend-3")
    february = utc(2026, 2, 1, 6)  # 01:00 on 1 February in New York
    service.enrol("friend-3", at=february, referral_code=code)
    assert service.referral("friend-3").state is ReferralState.ATTRIBUTED  # type: ignore[union-attr]


def test_concurrent_enrolments_of_one_person_attribute_one_referral(store: Store) -> None:
    service = LoyaltyService(referral_program(per_referrer=None), store)
    service.enrol("alice", at=T0)
    code = service.referral_code("alice")
    outcomes: list[str] = []

    def enrol(number: int) -> None:
        try:
            service.enrol(f"bob-{number}", at=T0, identity="hash-bob", referral_code=code)
            outcomes.append("referred")
        except ReferralRefused as refused:
            outcomes.append(refused.reason)

    threads = [threading.Thread(target=enrol, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["referred"] + ["this person was referred before"] * 7


def test_concurrent_referrals_stop_at_the_cap(store: Store) -> None:
    service = LoyaltyService(PROGRAM, store)
    service.enrol("alice", at=T0)
    code = service.referral_code("alice")
    outcomes: list[bool] = []

    def enrol(number: int) -> None:
        try:
            service.enrol(f"friend-{number}", at=T0, referral_code=code)
            outcomes.append(True)
        except ReferralRefused:
            outcomes.append(False)

    threads = [threading.Thread(target=enrol, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == [False] * 6 + [True] * 2


# ------------------------------------------------------- refunds and clawback


@pytest.mark.parametrize("kind", ["order_refunded", "order_cancelled"])
def test_a_refund_before_the_due_time_rejects_the_referral(
    service: LoyaltyService, kind: str
) -> None:
    service.enrol("alice", at=T0)
    referred(service, "alice", "bob")
    service.handle(order("bob", "o-1", T0))
    service.handle({**refund("bob", "o-1", T0 + days(3)), "type": kind})
    assert service.referral("bob").state is ReferralState.QUALIFIED  # type: ignore[union-attr]
    done = service.advance(T0 + RETURN_WINDOW)
    assert done.referrals == 1
    status = service.referral("bob")
    assert status is not None
    assert (status.state, status.reason) == (ReferralState.REJECTED, "qualifying order refunded")
    assert status.rejected_at == T0 + RETURN_WINDOW
    assert service.balance("alice").available == 0
    assert coupons(service, "alice") == []
    assert not any(isinstance(m.notification, ReferralCompleted) for m in service.outbox(1000))
    # A later order does not qualify it again.
    service.handle(order("bob", "o-2", T0 + days(20)))
    assert service.advance(T0 + days(60)).referrals == 0
    assert service.balance("alice").available == 0


def test_a_partial_refund_keeps_the_referral(service: LoyaltyService) -> None:
    service.enrol("alice", at=T0)
    referred(service, "alice", "bob")
    service.handle(order("bob", "o-1", T0))
    service.handle(refund("bob", "o-1", T0 + days(1), lines={"SKU": 1}))  # 1 of 2 units
    service.advance(T0 + RETURN_WINDOW)
    assert service.referral("bob").state is ReferralState.REWARDED  # type: ignore[union-attr]


def test_a_full_refund_after_the_reward_claws_it_back(service: LoyaltyService) -> None:
    service.enrol("alice", at=T0)
    referred(service, "alice", "bob")
    service.handle(order("bob", "o-1", T0))
    service.advance(T0 + RETURN_WINDOW)
    assert service.balance("alice").available == 500
    returned = refund("bob", "o-1", T0 + days(20))
    service.handle(returned)
    status = service.referral("bob")
    assert status is not None
    assert (status.state, status.reason) == (
        ReferralState.REJECTED,
        "qualifying order refunded after reward",
    )
    assert status.rewarded_at == T0 + RETURN_WINDOW  # the reward stays on the record
    assert status.incentives == ("thanks",)
    assert service.balance("alice").available == 0
    assert coupons(service, "alice") == [("thanks", "revoked")]
    assert coupons(service, "bob") == [("friend-welcome", "open")]  # the referee's side stays
    assert service.verify("alice") == []
    written = len(service.statement("alice").lines)
    service.handle(returned)  # the webhook again
    service.advance(T0 + days(40))
    assert len(service.statement("alice").lines) == written
    assert service.balance("alice").available == 0


def test_a_clawback_keeps_a_coupon_already_used(service: LoyaltyService) -> None:
    service.enrol("alice", at=T0)
    referred(service, "alice", "bob")
    service.handle(order("bob", "o-1", T0))
    service.advance(T0 + RETURN_WINDOW)
    thanks = next(h for h in service.holdings("alice") if h.code)
    cart = {
        "id": "a-1",
        "member_id": "alice",
        "currency": "USD",
        "lines": [{"sku": "SKU", "unit_price": "50.00", "quantity": 1}],
    }
    service.redeem_coupon("alice", thanks.code or "", cart, at=T0 + days(15), key="use-1")
    service.handle(refund("bob", "o-1", T0 + days(20)))
    used = next(h for h in service.holdings("alice") if h.key == thanks.key)
    assert used.status is HoldingStatus.USED
    assert service.balance("alice").available == 0


def test_the_legacy_referral_event_still_awards_its_action(service: LoyaltyService) -> None:
    service.enrol("alice", at=T0)
    earned = service.handle(
        {
            "type": "referral",
            "member_id": "alice",
            "key": "ref-1",
            "at": T0.isoformat(),
            "referred": "zed",
        }
    )
    assert earned.points == 30
    assert service.referral("alice") is None


# ---------------------------------------------------------- the scheduled run


def test_a_failing_referral_is_reported_and_the_others_are_settled(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = LoyaltyService(PROGRAM, store)
    for member in ("alice", "carol"):
        service.enrol(member, at=T0)
    referred(service, "alice", "bob")
    referred(service, "carol", "dan")
    for member in ("bob", "dan"):
        service.handle(order(member, f"o-{member}", T0))
    real = referrals.fire

    def fire(account: Any, *args: Any, **kwargs: Any) -> Any:
        if account.member_id == "alice":
            raise RuntimeError("the disk is full")
        return real(account, *args, **kwargs)

    monkeypatch.setattr(referrals, "fire", fire)
    report = service.advance(T0 + RETURN_WINDOW)
    assert report.referrals == 1
    assert [member for member, _ in report.failed] == ["bob"]
    assert isinstance(report.failed[0][1], Unprocessed)
    assert service.referral("bob").state is ReferralState.QUALIFIED  # type: ignore[union-attr]
    assert service.referral("dan").state is ReferralState.REWARDED  # type: ignore[union-attr]
    assert service.balance("carol").available == 500
    monkeypatch.setattr(referrals, "fire", real)
    assert service.advance(T0 + RETURN_WINDOW + days(1)).referrals == 1
    assert service.balance("alice").available == 500


def test_an_advance_for_some_members_settles_only_their_referrals(service: LoyaltyService) -> None:
    for member in ("alice", "carol"):
        service.enrol(member, at=T0)
    referred(service, "alice", "bob")
    referred(service, "carol", "dan")
    for member in ("bob", "dan"):
        service.handle(order(member, f"o-{member}", T0))
    assert service.advance(T0 + RETURN_WINDOW, ["alice"]).referrals == 1
    assert service.referral("dan").state is ReferralState.QUALIFIED  # type: ignore[union-attr]
    assert service.advance(T0 + RETURN_WINDOW, ["dan"]).referrals == 1
    assert service.balance("carol").available == 500


# ------------------------------------------------------------------- erasure


def test_erasure_leaves_no_member_id_in_the_registry(service: LoyaltyService) -> None:
    service.enrol("alice.personal@example.org", at=T0, identity="hash-alice")
    code = service.referral_code("alice.personal@example.org")
    referred(service, "alice.personal@example.org", "bob.personal@example.org")
    referred(service, "alice.personal@example.org", "carol.personal@example.org")
    service.handle(order("bob.personal@example.org", "o-1", T0))
    service.handle(order("carol.personal@example.org", "o-2", T0 + days(1)))
    service.advance(T0 + RETURN_WINDOW)  # bob's referral rewarded, carol's still due
    text = registry_text(service.store)
    for member in ("alice", "bob", "carol"):
        assert f"{member}.personal@example.org" in text
    referrer = service.erase("alice.personal@example.org")
    referee = service.erase("carol.personal@example.org")
    text = registry_text(service.store)
    assert "alice.personal" not in text
    assert "carol.personal" not in text
    assert "bob.personal" in text
    # The referrals go on under the pseudonyms.
    status = service.referral(referee)
    assert status is not None
    assert (status.referrer, status.state) == (referrer, ReferralState.QUALIFIED)
    assert service.referral("bob.personal@example.org").referrer == referrer  # type: ignore[union-attr]
    assert service.advance(T0 + days(1) + RETURN_WINDOW).referrals == 1
    assert service.balance(referrer).available == 1000
    # An erased member's code refers nobody; their identity is still referred once.
    with pytest.raises(ReferralRefused, match="unknown referral code"):
        service.enrol("zed", at=T0, referral_code=code)
    with pytest.raises(InvalidInput, match="is erased"):
        service.referral_code(referrer)
    service.enrol("frank", at=T0)
    with pytest.raises(ReferralRefused, match="referred before"):
        service.enrol(
            "carol-again",
            at=T0,
            identity="hash-carol.personal@example.org",
            referral_code=service.referral_code("frank"),
        )


def test_after_erasing_a_referrer_and_a_referee_no_byte_of_their_ids_is_in_the_sqlite_file(
    tmp_path: Path,
) -> None:
    from loyalty.store.sql import SQLStore

    path = tmp_path / "loyalty.db"
    store = SQLStore(f"sqlite:///{path}")
    budgeted = {**THANKS, "limits": {"budget": {"count": 100}}}
    prog = program(
        pending={"period": "14 days"},
        incentives={"catalog": [FRIEND_WELCOME, budgeted]},
    )
    service = LoyaltyService(prog, store)
    referrer, referee = "zelda.referrer@example.org", "yann.referee@example.org"
    service.enrol(referrer, at=T0)
    service.enrol(referee, at=T0, referral_code=service.referral_code(referrer))
    service.handle(order(referee, "o-1", T0))
    service.advance(T0 + RETURN_WINDOW)
    assert service.referral(referee).state is ReferralState.REWARDED  # type: ignore[union-attr]
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    assert referrer.encode() in path.read_bytes()
    service.erase(referrer)
    service.erase(referee)
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-journal")):
        found = name.read_bytes() if name.exists() else b""
        assert referrer.encode() not in found, name
        assert referee.encode() not in found, name
    store.close()
