"""What the member sees of incentives at the cart: rewards only within their audience,
their coupons with hurdles and time left, pending choices and the cashback wallet."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty import LoyaltyService, MemoryStore, UnknownReward, quote
from loyalty.checkout.held import choice_labels, ends_in, time_left
from loyalty.checkout.options import visible
from loyalty.incentives.audience import Facts
from loyalty.incentives.bundle import GRANTS
from loyalty.incentives.codes import CodeFormat, normalise
from loyalty.incentives.config import TriggerKind
from loyalty.incentives.holdings import choose, holdings
from loyalty.incentives.issue import fire
from loyalty.incentives.plan import Occasion, OrderFacts
from loyalty.incentives.shared import MemoryRows, Shared
from loyalty.ledger.account import Account
from loyalty.ledger.entries import HoldingKind
from tests.builders import T0, days, program, usd

NY = ZoneInfo("America/New_York")


def cart(cart_id: str, amount: str, shipping: str = "4.90", member: str = "m-1") -> dict[str, Any]:
    return {
        "id": cart_id,
        "member_id": member,
        "currency": "USD",
        "shipping": shipping,
        "lines": [{"sku": "X", "unit_price": amount, "quantity": 1}],
    }


# ----------------------------------------------------------- reward audience

VIP_SHIPPING = {
    "id": "vip-shipping",
    "kind": "free_shipping",
    "cost": 0,
    "hurdles": {"min_basket": "35.00"},
    "audience": {"segments": ["vip"]},
}
FIVE_OFF = {"id": "five-off", "kind": "amount_off", "amount": "5.00", "cost": 0}


def audience_service() -> LoyaltyService:
    svc = LoyaltyService(program(rewards={"catalog": [VIP_SHIPPING, FIVE_OFF]}), MemoryStore())
    svc.enrol("m-1", at=T0)
    svc.enrol("m-vip", at=T0, segments=["vip"])
    return svc


def test_a_member_in_the_segment_is_told_what_free_shipping_still_needs() -> None:
    svc = audience_service()
    seen = svc.quote("m-vip", cart("c-1", "30.50", member="m-vip"), at=T0)
    option = seen.option("vip-shipping")
    assert not option.eligible
    assert [(c.reason, c.shortfall) for c in option.unmet] == [
        ("add 4.50 USD to your basket", usd("4.50"))
    ]


def test_a_member_outside_the_audience_does_not_see_the_reward_at_all() -> None:
    svc = audience_service()
    seen = svc.quote("m-1", cart("c-1", "30.50"), at=T0)
    assert [option.reward for option in seen.rewards] == ["five-off"]
    assert "vip" not in seen.explain()
    with pytest.raises(UnknownReward):
        seen.option("vip-shipping")


def test_a_reward_outside_the_audience_cannot_be_redeemed() -> None:
    svc = audience_service()
    with pytest.raises(UnknownReward, match="is not offered to this member"):
        svc.redeem("m-1", "vip-shipping", cart("c-1", "40.00"), at=T0, key="r-1")
    done = svc.redeem("m-vip", "vip-shipping", cart("c-1", "40.00", member="m-vip"), at=T0, key="r")
    assert done.shipping == usd("4.90")


def test_the_carts_own_segments_decide_the_audience_in_a_pure_quote() -> None:
    account = _account(program(rewards={"catalog": [VIP_SHIPPING]}))
    plain = quote(account, cart("c-1", "40.00"), at=T0)
    tagged = {**cart("c-1", "40.00"), "customer": {"segments": ["vip"]}}
    assert plain.rewards == ()
    assert [option.reward for option in quote(account, tagged, at=T0).rewards] == ["vip-shipping"]


def test_a_reward_without_an_audience_builds_no_facts() -> None:
    prog = program(rewards={"catalog": [FIVE_OFF, VIP_SHIPPING]})
    five, vip = prog.rewards.catalog

    def never() -> Facts:
        raise AssertionError("facts built for a reward without an audience")

    assert visible(prog, five, None, never)
    assert not visible(prog, vip, None)  # an audience and nothing to judge it by: hidden


# ------------------------------------------------------------------- coupons

HURDLED = {
    "kind": "coupon",
    "offer": {"kind": "amount_off", "amount": "5.00"},
    "hurdles": {"min_basket": "30.00"},
    "valid": {"within": "48 hours"},
}


def welcome(*grants: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"id": "welcome", "trigger": {"event": "enrolled"}, "grants": list(grants), **more}


def _account(prog: Any, member: str = "m-1") -> Account:
    from loyalty import open_account

    return open_account(prog, member)


def enrolled(*grants: dict[str, Any], **more: Any) -> tuple[Account, Shared]:
    account = _account(program(incentives={"catalog": [welcome(*grants, **more)]}))
    rows = Shared(MemoryRows())
    fire(account, Occasion(TriggerKind.ENROLLED, "enrolled", T0), at=T0, shared=rows)
    return account, rows


def test_a_coupon_short_of_its_hurdle_says_what_is_missing_and_the_time_left() -> None:
    account, _ = enrolled(HURDLED)
    (held,) = holdings(account, HoldingKind.COUPON)
    seen = quote(account, cart("c-1", "26.50"), at=T0 + timedelta(hours=44, minutes=40))
    (coupon,) = seen.coupons
    assert normalise(coupon.code, CodeFormat()) == held.code
    assert (coupon.title, coupon.kind, coupon.value) == ("5.00 USD off", "amount_off", usd("5.00"))
    assert not coupon.eligible
    assert [(c.reason, c.shortfall) for c in coupon.unmet] == [
        ("add 3.50 USD to your basket", usd("3.50"))
    ]
    assert (coupon.ends_at, coupon.ends_in) == (T0 + timedelta(hours=48), "ends in 3 h 20 min")
    assert f"{coupon.code} 5.00 USD off: not yet: add 3.50 USD to your basket" in seen.explain()


def test_a_coupon_that_clears_its_hurdle_says_what_it_takes_off() -> None:
    account, _ = enrolled(HURDLED)
    (coupon,) = quote(account, cart("c-1", "40.00"), at=T0).coupons
    assert coupon.eligible
    assert coupon.takes_off == usd("5.00")
    assert coupon.ends_in == "ends in 2 days"


def test_a_coupon_not_yet_valid_or_lapsed_is_not_offered() -> None:
    later = {**HURDLED, "valid": {"starts": "2026-02-01"}}
    account, _ = enrolled(HURDLED, later)
    early = quote(account, cart("c-1", "40.00"), at=T0)
    assert [coupon.ends_at for coupon in early.coupons] == [T0 + days(2)]
    assert quote(account, cart("c-1", "40.00"), at=T0 + days(2)).coupons == ()
    (open_ended,) = quote(
        account, cart("c-1", "40.00"), at=datetime.fromisoformat("2026-02-01T00:00:00+00:00")
    ).coupons
    assert (open_ended.ends_at, open_ended.ends_in) == (None, None)


def test_a_coupon_used_on_this_cart_is_shown_applied_and_no_longer_offered_elsewhere() -> None:
    svc = LoyaltyService(program(incentives={"catalog": [welcome(HURDLED)]}), MemoryStore())
    svc.enrol("m-1", at=T0)
    (held,) = svc.holdings("m-1")
    svc.redeem_coupon("m-1", held.code or "", cart("c-1", "40.00"), at=T0, key="use")
    (applied,) = svc.quote("m-1", cart("c-1", "40.00"), at=T0).coupons
    assert (applied.applied, applied.eligible, applied.takes_off) == (True, True, usd("5.00"))
    assert "applied, 5.00 USD off" in svc.quote("m-1", cart("c-1", "40.00"), at=T0).explain()
    assert svc.quote("m-1", cart("c-2", "40.00"), at=T0).coupons == ()


def test_a_second_coupon_past_the_per_order_limit_says_so() -> None:
    svc = LoyaltyService(
        program(
            incentives={
                "catalog": [welcome(HURDLED, {**HURDLED, "title": "more"}, limits={"per_order": 1})]
            }
        ),
        MemoryStore(),
    )
    svc.enrol("m-1", at=T0)
    first = next(h for h in svc.holdings("m-1") if h.title == "more")
    svc.redeem_coupon("m-1", first.code or "", cart("c-1", "80.00"), at=T0, key="use")
    seen = svc.quote("m-1", cart("c-1", "80.00"), at=T0).coupons
    other = next(coupon for coupon in seen if not coupon.applied)
    assert not other.eligible
    assert [c.reason for c in other.unmet] == ["at most 1 of these coupons per order"]


def test_an_incentive_whose_audience_excludes_the_member_shows_nothing() -> None:
    svc = LoyaltyService(
        program(incentives={"catalog": [welcome(HURDLED, audience={"segments": ["vip"]})]}),
        MemoryStore(),
    )
    svc.enrol("m-1", at=T0)
    svc.enrol("m-vip", at=T0, segments=["vip"])
    assert svc.quote("m-1", cart("c-1", "40.00"), at=T0).coupons == ()
    assert len(svc.quote("m-vip", cart("c-1", "40.00", member="m-vip"), at=T0).coupons) == 1


# ------------------------------------------------------------------- choices

CHOICE = {
    "kind": "one_of",
    "deadline": "14 days",
    "grants": [
        {"kind": "gift", "sku": "SER-01", "value": "24.00"},
        {"kind": "coupon", "offer": {"kind": "percent_off", "percent": 20}},
        {"kind": "points", "points": 200},
    ],
}


def test_a_pending_choice_lists_its_options_and_time_left_until_it_is_made() -> None:
    account, rows = enrolled(CHOICE)
    (choice,) = quote(account, cart("c-1", "40.00"), at=T0 + days(1)).choices
    assert choice.options == ("SER-01", "20% off", "200 points")
    assert (choice.deadline, choice.ends_in) == (T0 + days(14), "ends in 13 days")
    choose(account, choice.holding, 1, at=T0 + days(1), key="pick", shared=rows)
    after = quote(account, cart("c-1", "40.00"), at=T0 + days(1))
    assert after.choices == ()
    assert [coupon.title for coupon in after.coupons] == ["20% off"]


def test_choice_labels_describe_every_kind_of_grant() -> None:
    options = GRANTS.validate_python(
        [
            {"kind": "cashback", "amount": "3.00"},
            {"kind": "cashback", "percent": 5},
            {"kind": "free_shipping"},
            {"kind": "coupon", "offer": {"kind": "free_product", "choices": ["A", "B"]}},
            {
                "kind": "all_of",
                "grants": [{"kind": "points", "points": 5}, {"kind": "free_shipping"}],
            },
            {
                "kind": "one_of",
                "grants": [
                    {"kind": "points", "points": 5},
                    {"kind": "gift", "sku": "G", "value": "1"},
                ],
            },
            {"kind": "gift", "sku": "G", "value": "1.00", "title": "a tote bag"},
        ]
    )
    stored = GRANTS.dump_json(options).decode()
    assert choice_labels(stored, "USD") == (
        "3.00 USD cashback",
        "5% cashback",
        "free shipping",
        "a free A, B",
        "5 points + free shipping",
        "one of 5 points, G",
        "a tote bag",
    )


# -------------------------------------------------------------------- wallet


def singles_day() -> Account:
    festival = {
        "id": "singles-day",
        "trigger": {"event": "order_completed"},
        "grants": [
            {
                "kind": "cashback",
                "percent": 10,
                "valid": {"yearly": {"start": "12-01", "end": "12-25"}},
            }
        ],
    }
    account = _account(program(timezone="America/New_York", incentives={"catalog": [festival]}))
    earned = datetime(2026, 11, 11, 20, tzinfo=NY)
    occasion = Occasion(
        TriggerKind.ORDER_COMPLETED, "order:o-1", earned, order=OrderFacts("o-1", usd("80.00"), 1)
    )
    fire(account, occasion, at=earned, shared=Shared(MemoryRows()))
    return account


def test_cashback_before_its_window_is_pending_and_pays_nothing() -> None:
    seen = quote(singles_day(), cart("c-2", "5.00"), at=datetime(2026, 11, 30, tzinfo=NY))
    assert seen.wallet is not None
    assert (seen.wallet.pending, seen.wallet.available) == (usd("8.00"), usd("0.00"))
    assert seen.wallet_payable == usd("0.00")
    assert "cashback: 0.00 USD spendable, 8.00 USD pending; 0.00 USD can pay" in seen.explain()


def test_cashback_in_its_window_pays_up_to_what_is_left_to_pay() -> None:
    account = singles_day()
    at = datetime(2026, 12, 3, tzinfo=NY)
    small = quote(account, cart("c-2", "3.00", shipping="1.50"), at=at)
    assert small.wallet is not None
    assert small.wallet.available == usd("8.00")
    assert small.wallet_payable == usd("4.50")
    assert quote(account, cart("c-3", "50.00"), at=at).wallet_payable == usd("8.00")


def test_cashback_after_its_window_has_expired_and_pays_nothing() -> None:
    seen = quote(singles_day(), cart("c-2", "50.00"), at=datetime(2026, 12, 25, tzinfo=NY))
    assert seen.wallet is not None
    assert (seen.wallet.expired, seen.wallet.balance) == (usd("8.00"), usd("0.00"))
    assert seen.wallet_payable == usd("0.00")


def test_cashback_pays_what_is_left_after_a_coupon_on_the_cart() -> None:
    svc = LoyaltyService(
        program(
            incentives={
                "catalog": [
                    welcome(
                        {"kind": "cashback", "amount": "50.00"},
                        {"kind": "coupon", "offer": {"kind": "amount_off", "amount": "5.00"}},
                    )
                ]
            }
        ),
        MemoryStore(),
    )
    svc.enrol("m-1", at=T0)
    code = next(h.code for h in svc.holdings("m-1") if h.kind is HoldingKind.COUPON)
    basket = cart("c-1", "20.00", shipping="0")
    assert svc.quote("m-1", basket, at=T0).wallet_payable == usd("20.00")
    svc.redeem_coupon("m-1", code or "", basket, at=T0, key="use")
    assert svc.quote("m-1", basket, at=T0).wallet_payable == usd("15.00")


def test_a_member_without_incentives_has_an_empty_wallet_and_nothing_else() -> None:
    seen = quote(_account(program()), cart("c-1", "10.00"), at=T0)
    assert (seen.coupons, seen.choices, seen.wallet_payable) == ((), (), usd("0.00"))
    assert "coupons" not in seen.explain()
    assert "cashback" not in seen.explain()


# ---------------------------------------------------------------- time left


@pytest.mark.parametrize(
    ("left", "said"),
    [
        (timedelta(seconds=-1), "ended"),
        (timedelta(0), "ended"),
        (timedelta(microseconds=1), "ends in under 1 min"),
        (timedelta(seconds=59, microseconds=999999), "ends in under 1 min"),
        (timedelta(minutes=1), "ends in 1 min"),
        (timedelta(minutes=59, seconds=59), "ends in 59 min"),
        (timedelta(hours=1), "ends in 1 h"),
        (timedelta(hours=3, minutes=20, seconds=59), "ends in 3 h 20 min"),
        (timedelta(hours=23, minutes=59, seconds=59), "ends in 23 h 59 min"),
        (timedelta(days=1), "ends in 1 day"),
        (timedelta(days=1, hours=4, minutes=59), "ends in 1 day 4 h"),
        (timedelta(days=1, hours=23, minutes=59, seconds=59), "ends in 1 day 23 h"),
        (timedelta(days=2), "ends in 2 days"),
        (timedelta(days=400, hours=23), "ends in 400 days"),
    ],
)
def test_time_left_at_its_boundaries(left: timedelta, said: str) -> None:
    assert time_left(left) == said


def test_time_left_is_measured_between_instants_whatever_their_zones() -> None:
    start = datetime(2026, 3, 8, 1, 30, tzinfo=NY)  # a DST change falls within
    assert ends_in(start, start.astimezone(ZoneInfo("Asia/Tokyo")) + timedelta(hours=2)) == (
        "ends in 2 h"
    )


_UNITS = {
    "day": timedelta(days=1),
    "days": timedelta(days=1),
    "h": timedelta(hours=1),
    "min": timedelta(minutes=1),
}


def bounds(said: str) -> tuple[timedelta, timedelta]:
    """The time left a phrase stands for, from (inclusive) and to (exclusive), read
    independently of the formatter: to the minute under a day, to the hour under two
    days, to the day beyond."""
    if said == "ended":
        return timedelta.min, timedelta(microseconds=1)
    if said == "ends in under 1 min":
        return timedelta(microseconds=1), timedelta(minutes=1)
    phrase = said.removeprefix("ends in ")
    pairs = re.findall(r"(\d+) (days?|h|min)", phrase)
    assert " ".join(f"{n} {unit}" for n, unit in pairs) == phrase, said
    low = sum((int(n) * _UNITS[unit] for n, unit in pairs), timedelta(0))
    if low < timedelta(days=1):
        step = timedelta(minutes=1)
    elif low < timedelta(days=2):
        step = timedelta(hours=1)
    else:
        step = timedelta(days=1)
    return low, low + step


lefts = st.timedeltas(min_value=timedelta(days=-3), max_value=timedelta(days=900))


@given(lefts)
def test_time_left_never_says_more_than_there_is_nor_a_unit_less(left: timedelta) -> None:
    low, high = bounds(time_left(left))
    assert low <= left < high


@given(lefts, lefts)
def test_more_time_left_never_reads_as_less(one: timedelta, other: timedelta) -> None:
    shorter, longer = sorted((one, other))
    assert bounds(time_left(shorter))[0] <= bounds(time_left(longer))[0]
