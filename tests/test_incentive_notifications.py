"""What incentives tell the member: coupons issued, choices pending, cashback credited
and expiring, offers expiring, and budgets exhausted. Each is told once, carries what a
template needs, and reads back from every store as it was written."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from loyalty import LoyaltyService, MemoryStore
from loyalty.incentives.codes import CodeFormat, normalise
from loyalty.notifications import (
    BudgetExhausted,
    CashbackCredited,
    CashbackExpiring,
    ChoicePending,
    CouponIssued,
    Notification,
    OfferExpiring,
    RewardUnlocked,
    exhausted,
    notification_from,
)
from tests.builders import T0, days, program, usd

AMOUNT = {
    "kind": "coupon",
    "offer": {"kind": "amount_off", "amount": "5.00"},
    "valid": {"within": "30 days"},
}
CHOICE = {
    "kind": "one_of",
    "title": "a gift of your choice",
    "deadline": "14 days",
    "grants": [
        {"kind": "gift", "sku": "A", "value": "4.00"},
        {"kind": "gift", "sku": "B", "value": "3.00", "title": "the B sampler"},
    ],
}
CASHBACK = {"kind": "cashback", "amount": "2.50", "valid": {"within": "10 days"}}
WELCOME = {
    "id": "welcome",
    "campaign": "club",
    "trigger": {"event": "enrolled"},
    "grants": [AMOUNT, CHOICE, CASHBACK],
}


def service(*catalog: dict[str, Any], store: Any = None, **settings: Any) -> LoyaltyService:
    prog = program(incentives={"catalog": list(catalog)}, **settings)
    return LoyaltyService(prog, store if store is not None else MemoryStore(), cache_size=0)


def told(svc: LoyaltyService) -> list[Notification]:
    return [message.notification for message in svc.outbox(1000)]


def of(kind: type[Any], notes: list[Notification]) -> list[Any]:
    return [note for note in notes if isinstance(note, kind)]


def basket(cart_id: str, amount: str = "30.00", member: str = "m-1") -> dict[str, Any]:
    return {
        "id": cart_id,
        "member_id": member,
        "currency": "USD",
        "lines": [{"sku": "X", "unit_price": amount, "quantity": 1}],
    }


def order(member: str, cart_id: str, at: datetime, key: str | None = None) -> dict[str, Any]:
    return {
        "type": "order_completed",
        "member_id": member,
        "key": key or f"order-{cart_id}",
        "at": at,
        "cart": basket(cart_id, member=member),
    }


def delayed(order_id: str, at: datetime, key: str) -> dict[str, Any]:
    return {
        "type": "shipment_delayed",
        "member_id": "m-1",
        "key": key,
        "at": at,
        "order_id": order_id,
    }


# ----------------------------------------------------------- what is issued


def test_an_enrolment_tells_its_coupon_its_choice_and_its_credit() -> None:
    svc = service(WELCOME)
    svc.enrol("m-1", at=T0)
    notes = told(svc)
    (coupon,) = of(CouponIssued, notes)
    held = {holding.key: holding for holding in svc.holdings("m-1")}
    assert normalise(coupon.code, CodeFormat()) == held[coupon.holding].code
    assert "-" in coupon.code  # displayed in groups, as the member reads it
    assert (coupon.title, coupon.value) == ("5.00 USD off", usd("5.00"))
    assert (coupon.valid_from, coupon.expires_at) == (T0, T0 + days(30))
    assert (coupon.incentive, coupon.campaign, coupon.first_order) == ("welcome", "club", None)
    (choice,) = of(ChoicePending, notes)
    assert choice.title == "a gift of your choice"
    assert choice.options == ("A", "the B sampler")
    assert choice.deadline == T0 + days(14)
    (credit,) = of(CashbackCredited, notes)
    assert credit.amount == usd("2.50")
    assert (credit.spendable_from, credit.spendable_until) == (T0, T0 + days(10))


def test_enrolling_again_tells_nothing_new() -> None:
    svc = service(WELCOME)
    svc.enrol("m-1", at=T0)
    before = told(svc)
    svc.enrol("m-1", at=T0)
    assert told(svc) == before


def test_the_apology_coupon_says_it_was_the_first_order_and_is_told_once() -> None:
    apology = {
        "id": "apology",
        "trigger": {"event": "shipment_delayed"},
        "grants": [{"kind": "coupon", "offer": {"kind": "amount_off", "amount": "10.00"}}],
    }
    svc = service(apology)
    svc.enrol("m-1", at=T0)
    svc.handle(order("m-1", "o-1", T0))
    svc.handle(order("m-1", "o-2", T0 + days(1)))
    svc.handle(delayed("o-1", T0 + days(2), "d-1"))
    svc.handle(delayed("o-2", T0 + days(2), "d-2"))
    first = told(svc)
    svc.handle(delayed("o-1", T0 + days(2), "d-1"))  # redelivered
    svc.handle(delayed("o-1", T0 + days(3), "d-3"))  # the same delay, told again
    assert told(svc) == first
    assert [note.first_order for note in of(CouponIssued, first)] == [True, False]
    assert of(CouponIssued, first)[0].expires_at is None


def test_a_gift_chosen_later_is_a_coupon_told_with_its_grants_first_order() -> None:
    apology = {"id": "apology", "trigger": {"event": "shipment_delayed"}, "grants": [CHOICE]}
    svc = service(apology)
    svc.enrol("m-1", at=T0)
    svc.handle(order("m-1", "o-1", T0))
    svc.handle(delayed("o-1", T0 + days(1), "d-1"))
    (pending,) = of(ChoicePending, told(svc))
    svc.choose("m-1", pending.holding, "B", at=T0 + days(2), key="pick")
    (gift,) = of(CouponIssued, told(svc))
    assert (gift.title, gift.value, gift.first_order) == ("the B sampler", usd("3.00"), True)
    svc.choose("m-1", pending.holding, "B", at=T0 + days(2), key="pick")
    assert len(of(CouponIssued, told(svc))) == 1


def test_a_choice_made_at_its_deadline_tells_the_coupon_it_became() -> None:
    svc = service(WELCOME)
    svc.enrol("m-1", at=T0)
    svc.advance(T0 + days(15))
    chosen = [note for note in of(CouponIssued, told(svc)) if note.title == "a free A"]
    assert len(chosen) == 1  # A is worth most: made for the member at the run
    assert chosen[0].at == T0 + days(15)


# ------------------------------------------------------------- what lapses


def test_the_scheduled_run_tells_cashback_and_a_choice_about_to_lapse_once() -> None:
    svc = LoyaltyService(
        program(incentives={"catalog": [WELCOME]}), MemoryStore(), expiring_within="10 days"
    )
    svc.enrol("m-1", at=T0)
    svc.advance(T0 + days(5))
    notes = told(svc)
    (cashback,) = of(CashbackExpiring, notes)
    assert (cashback.amount, cashback.balance) == (usd("2.50"), usd("2.50"))
    assert cashback.expires_at == T0 + days(10)
    (choice,) = of(OfferExpiring, notes)
    assert (choice.offer, choice.code, choice.expires_at) == ("choice", None, T0 + days(14))
    svc.advance(T0 + days(6))
    assert told(svc) == notes


def test_a_coupon_about_to_lapse_is_told_with_its_code() -> None:
    svc = LoyaltyService(
        program(incentives={"catalog": [WELCOME]}), MemoryStore(), expiring_within="7 days"
    )
    svc.enrol("m-1", at=T0)
    svc.advance(T0 + days(22))
    assert of(OfferExpiring, told(svc)) == []  # ends on day 30: not within 7 days yet
    svc.advance(T0 + days(23))
    (coupon,) = of(OfferExpiring, told(svc))
    issued = next(n for n in of(CouponIssued, told(svc)) if n.title == "5.00 USD off")
    assert (coupon.offer, coupon.code, coupon.expires_at) == ("coupon", issued.code, T0 + days(30))


def test_spent_cashback_and_a_used_coupon_are_not_told_as_lapsing() -> None:
    svc = LoyaltyService(
        program(incentives={"catalog": [WELCOME]}), MemoryStore(), expiring_within="30 days"
    )
    svc.enrol("m-1", at=T0)
    code = next(h.code for h in svc.holdings("m-1") if h.title == "5.00 USD off")
    svc.redeem_coupon("m-1", code or "", basket("c-1"), at=T0, key="use")
    svc.spend_cashback("m-1", basket("c-1"), at=T0, key="pay")
    svc.advance(T0 + days(1))
    assert [note.offer for note in of(OfferExpiring, told(svc))] == ["choice"]
    assert of(CashbackExpiring, told(svc)) == []


# ---------------------------------------------------------- budgets exhausted

THANKS = {
    "id": "thanks",
    "trigger": {"event": "order_completed"},
    "grants": [{"kind": "coupon", "offer": {"kind": "amount_off", "amount": "3.00"}}],
    "limits": {"budget": {"count": 1}},
}


def test_a_spent_budget_is_told_once_a_day_whoever_meets_it() -> None:
    svc = service(THANKS)
    for member in ("m-1", "m-2", "m-3"):
        svc.enrol(member, at=T0)
    svc.handle(order("m-1", "o-1", T0))
    svc.handle(order("m-2", "o-2", T0))
    (spent,) = of(BudgetExhausted, told(svc))
    assert (spent.member_id, spent.incentive) == ("m-2", "thanks")
    assert spent.reason == "its budget of 1 is spent"
    svc.handle(order("m-2", "o-2", T0))  # redelivered
    svc.handle(order("m-3", "o-3", T0 + timedelta(hours=11)))  # the same day
    assert len(of(BudgetExhausted, told(svc))) == 1
    svc.handle(order("m-3", "o-4", T0 + days(1)))
    assert [note.at for note in of(BudgetExhausted, told(svc))] == [T0, T0 + days(1)]


def test_a_budget_day_is_the_programs_local_day() -> None:
    day = datetime(2026, 3, 1, 23, tzinfo=UTC)  # 18:00 on 1 March in New York
    refused = [("thanks", "its budget of 1 is spent")]
    ny = program(timezone="America/New_York").tz
    late = exhausted("m-1", refused, day, ny)[0]
    after_midnight_utc = exhausted("m-2", refused, day + timedelta(hours=2), ny)[0]
    next_morning = exhausted("m-2", refused, day + timedelta(hours=10), ny)[0]
    assert late.dedupe == after_midnight_utc.dedupe
    assert late.dedupe != next_morning.dedupe


def test_a_bundle_that_came_to_nothing_is_no_budget_exhausted() -> None:
    found = exhausted(
        "m-1", [("cb", "nothing to grant: no cashback: nothing to take a percent of")], T0, UTC
    )
    assert found == []


# ------------------------------------------------------ rewards and audiences


def test_an_unlocked_reward_is_told_only_to_members_in_its_audience() -> None:
    rewards = {
        "catalog": [
            {"id": "gift", "kind": "amount_off", "amount": "1.00", "cost": 10},
            {
                "id": "vip-gift",
                "kind": "amount_off",
                "amount": "2.00",
                "cost": 10,
                "audience": {"segments": ["vip"]},
            },
        ]
    }
    svc = LoyaltyService(program(rewards=rewards), MemoryStore())
    svc.enrol("m-1", at=T0)
    svc.enrol("m-vip", at=T0, segments=["vip"])
    for member in ("m-1", "m-vip"):
        svc.adjust(member, 10, at=T0, key="fund", actor="test", reason="funding")
    unlocked = {(n.member_id, n.reward) for n in of(RewardUnlocked, told(svc))}
    assert unlocked == {("m-1", "gift"), ("m-vip", "gift"), ("m-vip", "vip-gift")}


# ---------------------------------------------------------------- read back


def test_every_notification_reads_back_from_its_json_as_it_was() -> None:
    svc = LoyaltyService(
        program(incentives={"catalog": [WELCOME, THANKS]}), MemoryStore(), expiring_within="20 days"
    )
    svc.enrol("m-1", at=T0)
    svc.enrol("m-2", at=T0)
    svc.handle(order("m-1", "o-1", T0))
    svc.handle(order("m-2", "o-2", T0))
    svc.advance(T0 + days(1))
    notes = told(svc)
    kinds = {type(note) for note in notes}
    assert {
        CouponIssued,
        ChoicePending,
        CashbackCredited,
        CashbackExpiring,
        OfferExpiring,
        BudgetExhausted,
    } <= kinds
    for note in notes:
        assert notification_from(json.loads(json.dumps(note.data()))) == note


def test_notifications_read_back_the_same_from_every_store(store: Any) -> None:
    svc = service(WELCOME, THANKS, store=store)
    svc.enrol("m-1", at=T0)
    svc.enrol("m-2", at=T0)
    svc.handle(order("m-1", "o-1", T0))
    svc.handle(order("m-2", "o-2", T0))
    notes = [note for note in told(svc) if note.member_id == "m-1"]
    (choice,) = of(ChoicePending, notes)
    assert choice.options == ("A", "the B sampler")
    (credit,) = of(CashbackCredited, notes)
    assert credit.amount == usd("2.50")
    assert credit.spendable_until == T0 + days(10)
    issued = [(n.incentive, n.value, n.first_order) for n in of(CouponIssued, notes)]
    assert issued == [("welcome", usd("5.00"), None), ("thanks", usd("3.00"), True)]
    (spent,) = of(BudgetExhausted, told(svc))
    assert (spent.member_id, spent.at) == ("m-2", T0)


def test_no_notification_names_more_than_the_member_id() -> None:
    svc = service(WELCOME)
    svc.enrol("someone@example.com", at=T0, segments=["vip"])
    for note in told(svc):
        text = json.dumps(note.data())
        assert text.count("someone@example.com") == 1 + note.dedupe.count("someone@example.com")
        assert "vip" not in text


amounts = st.decimals(min_value=Decimal("0"), max_value=Decimal("99999.99"), places=2)
instants = st.datetimes(
    min_value=datetime(2000, 1, 1),  # noqa: DTZ001 - hypothesis bounds are naive; UTC is given
    max_value=datetime(2100, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@given(amounts, instants, st.none() | instants, st.none() | st.booleans())
def test_a_coupon_issued_reads_back_whatever_its_values(
    amount: Decimal, start: datetime, end: datetime | None, first: bool | None
) -> None:
    note = CouponIssued(
        member_id="m:1",
        at=start,
        dedupe="coupon:x",
        holding="3.0",
        code="ABCD-EFGH",
        title="a title, with: colons",
        value=usd(str(amount)),
        valid_from=start,
        expires_at=end,
        incentive="welcome",
        campaign="club",
        first_order=first,
    )
    assert notification_from(json.loads(json.dumps(note.data()))) == note
