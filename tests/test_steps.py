"""Steps: every type applied through a StepRunner on a service over the memory store,
and the refusals of a bad step (every problem, with its path)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from loyalty import LoyaltyService, Money
from loyalty.checkout.orders import OrderResult, RefundResult
from loyalty.checkout.redemption import Redemption
from loyalty.errors import (
    CouponUsed,
    InvalidEvent,
    InvalidInput,
    RedemptionRefused,
    UnknownMember,
)
from loyalty.incentives.issue import Fired
from loyalty.ledger.entries import Earn, Grant, HoldingKind, HoldingStatus, Redeem, Void
from loyalty.service.batches import AdvanceReport
from loyalty.service.service import Member
from loyalty.service.steps import (
    STEP_TYPES,
    Advance,
    RedeemReward,
    StepRunner,
    load_step,
    load_step_json,
)
from loyalty.store.memory import MemoryStore
from tests.builders import days, program, usd, utc

T0 = utc(2026, 3, 2, 10)

COUPON = {"kind": "coupon", "offer": {"kind": "amount_off", "amount": "10.00"}}
CLUB = {
    "earning": {
        "rate": 1,
        "actions": {
            "review": {"points": 10, "times": 5, "per": "month"},
            "referral": {"points": 100, "times": 10},
            "birthday": {"points": 50, "per": "year"},
            "shipment_delayed": {"points": 25, "times": 100},
        },
    },
    "rewards": {
        "catalog": [
            {
                "id": "five-off",
                "title": "5 off",
                "kind": "amount_off",
                "amount": "5.00",
                "cost": 100,
            }
        ]
    },
    "offers": {
        "catalog": [
            {
                "id": "big-basket",
                "title": "10% off from 200",
                "kind": "percent_off",
                "percent": 10,
                "conditions": {"min_basket": "200.00"},
            }
        ]
    },
    "incentives": {
        "catalog": [
            {
                "id": "goodwill",
                "trigger": {"event": "manual"},
                "limits": {"per_order": 1},
                "grants": [COUPON],
            },
            {
                "id": "credit",
                "trigger": {"event": "manual"},
                "grants": [{"kind": "cashback", "amount": "7.50"}],
            },
        ]
    },
}


def basket(order_id: str, price: str, member: str = "m-1", quantity: int = 1) -> dict[str, Any]:
    return {
        "id": order_id,
        "member_id": member,
        "currency": "USD",
        "lines": [{"sku": "SKU", "unit_price": price, "quantity": quantity}],
    }


def at(n: float) -> str:
    return (T0 + days(n)).isoformat()


@pytest.fixture
def runner() -> StepRunner:
    runner = StepRunner(LoyaltyService(program(**CLUB), MemoryStore()))
    runner.run({"type": "enrol", "member_id": "m-1", "at": at(0)})
    return runner


def order(runner: StepRunner, order_id: str, price: str, n: float = 0.1) -> OrderResult:
    result = runner.run(
        {
            "type": "order_completed",
            "member_id": "m-1",
            "key": f"order:{order_id}",
            "at": at(n),
            "cart": basket(order_id, price),
        }
    )
    assert isinstance(result, OrderResult)
    return result


def available(runner: StepRunner, when: datetime | None = None) -> int:
    return runner.service.balance("m-1", when or T0 + days(100)).available


# ------------------------------------------------------------------- each step


def test_enrol_takes_the_profile_and_gives_the_member() -> None:
    runner = StepRunner(LoyaltyService(program(**CLUB), MemoryStore()))
    member = runner.run(
        {
            "type": "enrol",
            "member_id": "m-9",
            "at": "2026-03-02T10:00:00+01:00",
            "birthday": "1990-05-17",
            "segments": ["vip", "newsletter"],
        }
    )
    assert isinstance(member, Member)
    assert (member.member_id, member.enrolled_at) == ("m-9", utc(2026, 3, 2, 9))
    assert str(member.birthday) == "1990-05-17"
    assert member.segments == ("newsletter", "vip")


def test_order_refund_and_cancel_are_the_service_events(runner: StepRunner) -> None:
    assert order(runner, "o-1", "120.00").earn is not None
    order(runner, "o-2", "40.00", 0.2)
    refunded = runner.run(
        {
            "type": "order_refunded",
            "member_id": "m-1",
            "key": "refund:o-1",
            "at": at(1),
            "order_id": "o-1",
            "amount": "20.00",
        }
    )
    assert isinstance(refunded, RefundResult)
    assert refunded.reversal is not None
    assert refunded.reversal.points == -20
    cancelled = runner.run(
        {
            "type": "order_cancelled",
            "member_id": "m-1",
            "key": "c:o-2",
            "at": at(1),
            "order_id": "o-2",
        }
    )
    assert isinstance(cancelled, RefundResult)
    assert available(runner) == 100


def test_bonus_actions_referral_birthday_and_a_delay(runner: StepRunner) -> None:
    order(runner, "o-1", "10.00")
    common = {"member_id": "m-1", "at": at(1)}
    review = runner.run({"type": "action", "key": "r-1", "action": "review", **common})
    referral = runner.run({"type": "referral", "key": "ref-1", "referred": "m-2", **common})
    birthday = runner.run({"type": "birthday", "key": "bd-2026", **common})
    delayed = runner.run(
        {"type": "shipment_delayed", "key": "late:o-1", "order_id": "o-1", **common}
    )
    assert [e.points for e in (review, referral, birthday, delayed) if isinstance(e, Earn)] == [
        10,
        100,
        50,
        25,
    ]
    assert available(runner) == 10 + 10 + 100 + 50 + 25


def test_redeem_then_void_by_the_redeem_steps_key(runner: StepRunner) -> None:
    order(runner, "o-1", "150.00")
    redemption = runner.run(
        {
            "type": "redeem",
            "member_id": "m-1",
            "key": "checkout:o-2",
            "at": at(1),
            "reward": "five-off",
            "cart": basket("o-2", "30.00"),
        }
    )
    assert isinstance(redemption, Redemption)
    assert redemption.points == 100
    assert redemption.total == usd("5.00")
    assert available(runner) == 50
    void = runner.run(
        {
            "type": "void",
            "member_id": "m-1",
            "key": "void:o-2",
            "at": at(1.1),
            "redemption": "checkout:o-2",  # the redeem step's key
        }
    )
    assert isinstance(void, Void)
    assert void.redeem_id == redemption.entry.id
    assert available(runner) == 150


def test_a_void_names_a_redemption_by_its_entry_id_too(runner: StepRunner) -> None:
    order(runner, "o-1", "150.00")
    redemption = runner.run(
        {
            "type": "redeem",
            "member_id": "m-1",
            "key": "checkout:o-2",
            "at": at(1),
            "reward": "five-off",
            "cart": basket("o-2", "30.00"),
        }
    )
    assert isinstance(redemption, Redemption)
    fresh = StepRunner(runner.service)  # another run: it does not know the key
    void = fresh.run(
        {
            "type": "void",
            "member_id": "m-1",
            "key": "void:o-2",
            "at": at(1.1),
            "redemption": redemption.entry.id,
        }
    )
    assert isinstance(void, Void)
    assert available(runner) == 150


def test_grant_redeem_coupon_and_spend_cashback(runner: StepRunner) -> None:
    common = {"member_id": "m-1", "at": at(1), "actor": "ops-7", "reason": "late parcel"}
    coupon = runner.run({"type": "grant", "key": "g-1", "incentive": "goodwill", **common})
    credit = runner.run({"type": "grant", "key": "g-2", "incentive": "credit", **common})
    assert isinstance(coupon, Grant)
    assert isinstance(credit, Grant)
    code = coupon.holdings[0].code
    assert code is not None
    used = runner.run(
        {
            "type": "redeem_coupon",
            "member_id": "m-1",
            "key": "checkout:o-3",
            "at": at(2),
            "code": code,
            "cart": basket("o-3", "50.00"),
        }
    )
    assert isinstance(used, Redemption)
    assert used.total == usd("10.00")
    spent = runner.run(
        {
            "type": "spend_cashback",
            "member_id": "m-1",
            "key": "cash:o-4",
            "at": at(2),
            "cart": basket("o-4", "50.00"),
            "amount": "2.50",
        }
    )
    assert isinstance(spent, tuple)
    assert all(isinstance(entry, Redeem) for entry in spent)
    wallet = runner.service.wallet("m-1", T0 + days(3))
    assert wallet.spent == Money("2.50", "USD")
    assert wallet.available == Money("5.00", "USD")
    (coupon_now,) = [h for h in runner.service.holdings("m-1") if h.kind is HoldingKind.COUPON]
    assert coupon_now.status is HoldingStatus.USED


def test_spend_cashback_without_an_amount_spends_what_it_can(runner: StepRunner) -> None:
    runner.run(
        {
            "type": "grant",
            "member_id": "m-1",
            "key": "g-2",
            "at": at(1),
            "incentive": "credit",
            "actor": "ops",
            "reason": "r",
        }
    )
    runner.run(
        {
            "type": "spend_cashback",
            "member_id": "m-1",
            "key": "cash:o-4",
            "at": at(2),
            "cart": basket("o-4", "50.00"),
        }
    )
    assert runner.service.wallet("m-1", T0 + days(3)).available == Money("0.00", "USD")


def test_apply_offers_writes_the_offers_a_cart_gets(runner: StepRunner) -> None:
    applied = runner.run(
        {
            "type": "apply_offers",
            "member_id": "m-1",
            "key": "checkout:o-5",
            "at": at(1),
            "cart": basket("o-5", "250.00"),
        }
    )
    assert isinstance(applied, tuple)
    ((offer,),) = [[r.total for r in applied]]
    assert offer == usd("25.00")


def test_adjust_advance_and_erase(runner: StepRunner) -> None:
    adjusted = runner.run(
        {
            "type": "adjust",
            "member_id": "m-1",
            "key": "fix-1",
            "at": at(1),
            "points": 40,
            "actor": "ops",
            "reason": "goodwill",
        }
    )
    assert adjusted.points == 40  # type: ignore[union-attr]
    report = runner.run({"type": "advance", "at": at(2)})
    assert isinstance(report, AdvanceReport)
    assert report.members == 1
    named = runner.run({"type": "advance", "at": at(3), "members": ["m-1"]})
    assert isinstance(named, AdvanceReport)
    assert named.members == 1
    pseudonym = runner.run({"type": "erase", "member_id": "m-1"})
    assert isinstance(pseudonym, str)
    assert pseudonym.startswith("erased-")
    with pytest.raises(UnknownMember):
        runner.service.balance("m-1", T0 + days(4))
    assert runner.service.balance(pseudonym, T0 + days(4)).available == 40


def test_a_shipment_delay_without_points_gives_what_the_apology_fired() -> None:
    apology = {"id": "apology", "trigger": {"event": "shipment_delayed"}, "grants": [COUPON]}
    runner = StepRunner(LoyaltyService(program(incentives={"catalog": [apology]}), MemoryStore()))
    runner.run({"type": "enrol", "member_id": "m-1", "at": at(0)})
    order(runner, "o-1", "10.00")
    fired = runner.run(
        {"type": "shipment_delayed", "member_id": "m-1", "key": "d", "at": at(1), "order_id": "o-1"}
    )
    assert isinstance(fired, Fired)
    assert len(fired.grants) == 1


def test_a_step_given_twice_returns_the_first_result(runner: StepRunner) -> None:
    first = order(runner, "o-1", "120.00")
    assert order(runner, "o-1", "120.00") == first
    assert available(runner) == 120


def test_an_engine_refusal_is_the_services_error(runner: StepRunner) -> None:
    order(runner, "o-1", "20.00")
    with pytest.raises(RedemptionRefused, match="earn 80 more points"):
        runner.run(
            {
                "type": "redeem",
                "member_id": "m-1",
                "key": "checkout:o-2",
                "at": at(1),
                "reward": "five-off",
                "cart": basket("o-2", "30.00"),
            }
        )


# ------------------------------------------------------------------ validation


def problems(data: Any) -> list[tuple[str, str]]:
    with pytest.raises(InvalidEvent) as caught:
        load_step(data)
    return [(problem.path, problem.message) for problem in caught.value.problems]


def test_every_problem_of_a_call_is_named_by_its_path() -> None:
    found = problems(
        {
            "type": "redeem",
            "member_id": "",
            "at": "2026-03-02T10:00:00",
            "reward": "five-off",
            "cart": [],
            "points": "many",
            "colour": "red",
        }
    )
    paths = [path for path, _ in found]
    assert paths == sorted(paths, key=paths.index)  # stable
    assert set(paths) == {"member_id", "key", "at", "cart", "points", "colour"}
    assert any("naive" in message for path, message in found if path == "at")


def test_an_event_step_is_validated_as_the_event() -> None:
    found = problems({"type": "order_refunded", "member_id": "m", "key": "k", "at": at(0)})
    assert [path for path, _ in found] == ["order_id"]


def test_an_unknown_type_says_what_it_meant() -> None:
    ((path, message),) = problems({"type": "redem", "member_id": "m"})
    assert path == "type"
    assert "did you mean 'redeem'?" in message
    assert "order_completed" in message
    assert "erase" in message


def test_a_type_nothing_is_close_to_lists_the_types() -> None:
    ((path, message),) = problems({"type": "zzzzzz"})
    assert path == "type"
    assert "did you mean" not in message
    assert all(kind in message for kind in STEP_TYPES)


def test_a_step_without_a_type_says_it_is_required() -> None:
    ((path, message),) = problems({"member_id": "m"})
    assert path == "type"
    assert message.startswith("is required: one of order_completed, ")


@pytest.mark.parametrize("given", [None, 7, ["redeem"]])
def test_a_missing_or_odd_type_is_refused_at_type(given: Any) -> None:
    data = {"member_id": "m"} if given is None else {"type": given, "member_id": "m"}
    ((path, _),) = problems(data)
    assert path == "type"


def test_a_step_that_is_not_a_mapping_is_refused() -> None:
    ((path, message),) = problems(["enrol"])
    assert path == ""
    assert "mapping" in message


def test_a_json_line_is_read_as_an_event_is() -> None:
    step = load_step_json(
        json.dumps({"type": "advance", "at": "2026-03-02T10:00:00Z", "members": ["a", "b"]})
    )
    assert step == Advance(at=utc(2026, 3, 2, 10), members=("a", "b"))
    with pytest.raises(InvalidEvent, match="is not JSON"):
        load_step_json("{")
    with pytest.raises(InvalidEvent, match="given twice"):
        load_step_json('{"type": "erase", "member_id": "a", "member_id": "b"}')


def test_a_spend_amount_is_decimal_never_a_float() -> None:
    line = (
        '{"type": "spend_cashback", "member_id": "m", "key": "k", "at": "2026-03-02T10:00:00Z",'
        ' "cart": {"currency": "USD"}, "amount": 0.1}'
    )
    step = load_step_json(line)
    assert str(step.amount) == "0.1"  # type: ignore[union-attr]


def test_a_validated_step_passes_through_as_it_is() -> None:
    step = RedeemReward(member_id="m", key="k", at=T0, reward="r", cart={})
    assert load_step(step) is step


# --------------------------------------------------- a coupon named by its incentive


def goodwill(runner: StepRunner, key: str) -> Grant:
    grant = runner.run(
        {
            "type": "grant",
            "member_id": "m-1",
            "key": key,
            "at": at(1),
            "incentive": "goodwill",
            "actor": "ops",
            "reason": "late parcel",
        }
    )
    assert isinstance(grant, Grant)
    return grant


def by_incentive(order_id: str, key: str | None = None) -> dict[str, Any]:
    return {
        "type": "redeem_coupon",
        "member_id": "m-1",
        "key": key or f"checkout:{order_id}",
        "at": at(2),
        "incentive": "goodwill",
        "cart": basket(order_id, "50.00"),
    }


def test_a_coupon_named_by_its_incentive_is_the_members_first_usable_one(
    runner: StepRunner,
) -> None:
    first, second = goodwill(runner, "g-1"), goodwill(runner, "g-2")
    used = runner.run(by_incentive("o-1"))
    assert isinstance(used, Redemption)
    assert used.total == usd("10.00")
    after = runner.run(by_incentive("o-2"))
    assert isinstance(after, Redemption)
    codes = {h.code: h.status for h in runner.service.holdings("m-1")}
    assert codes == {
        first.holdings[0].code: HoldingStatus.USED,
        second.holdings[0].code: HoldingStatus.USED,
    }


def test_a_coupon_step_by_incentive_given_again_is_answered_by_its_key(
    runner: StepRunner,
) -> None:
    goodwill(runner, "g-1")
    goodwill(runner, "g-2")
    used = runner.run(by_incentive("o-1"))
    assert runner.run(by_incentive("o-1")) == used  # the same run
    assert StepRunner(runner.service).run(by_incentive("o-1")) == used  # a run after
    usable = [h for h in runner.service.holdings("m-1") if h.status is HoldingStatus.OPEN]
    assert len(usable) == 1  # the second coupon was not touched


def test_a_new_key_by_incentive_is_refused_as_its_code_would_be_not_answered_by_another(
    runner: StepRunner,
) -> None:
    """A second coupon of the incentive, on the cart the first one is on, with a new
    key: the engine's refusal (here the incentive's per_order limit, like the code's),
    never the first step's redemption returned as if it were this one's."""
    goodwill(runner, "g-1")
    goodwill(runner, "g-2")
    used = runner.run(by_incentive("o-1", key="k-1"))
    assert isinstance(used, Redemption)
    with pytest.raises(RedemptionRefused, match="at most 1 of these coupons per order"):
        runner.run(by_incentive("o-1", key="k-2"))
    assert runner.run(by_incentive("o-1", key="k-1")) == used


def test_no_usable_coupon_of_the_incentive_is_named_as_such(runner: StepRunner) -> None:
    with pytest.raises(InvalidInput, match=r"incentive: 'goodwill' gave member 'm-1' no coupon"):
        runner.run(by_incentive("o-1"))
    goodwill(runner, "g-1")
    runner.run(by_incentive("o-1"))
    with pytest.raises(CouponUsed):  # the one it had is used: the service says when
        runner.run(by_incentive("o-2"))


def test_a_coupon_step_takes_a_code_or_an_incentive() -> None:
    step = {"type": "redeem_coupon", "member_id": "m", "key": "k", "at": at(0), "cart": {}}
    ((path, message),) = problems(step)
    assert path == "code"
    assert message == "is required: the coupon's code, or the incentive that issued it"
    ((path, message),) = problems({**step, "code": "X", "incentive": "goodwill"})
    assert (path, message) == ("code", "give the coupon's code or its incentive, not both")
