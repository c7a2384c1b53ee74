"""Advice about programs that are legal but probably wrong (``program_warnings``).

Each rule: a program that triggers it (its path and the words that matter) and one
beside it that does not. The example programs give only the advice they deserve.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from loyalty import (
    ConfigurationError,
    LoyaltyService,
    load_cart,
    load_program,
    open_account,
    program_warnings,
)
from loyalty.dates import Duration, Period, end_of, start_of
from loyalty.hurdles import Condition, Situation
from loyalty.ledger.operations import earn
from loyalty.program.advice_hurdles import Bound, Holder, hurdle_advice, leaves
from loyalty.program.advice_time import days, hours, touched
from loyalty.program.files import parse_file
from loyalty.store.memory import MemoryStore
from tests.builders import BASE, program

ROOT = Path(__file__).resolve().parents[1]


def advice(**sections: Any) -> list[tuple[str, str]]:
    """The warnings of the base program with ``sections``: (path, message) pairs."""
    return [(w.path, w.message) for w in program_warnings(program(**sections))]


def at(path: str, **sections: Any) -> str:
    """The one warning at ``path`` (its message)."""
    found = [message for where, message in advice(**sections) if where == path]
    assert len(found) == 1, advice(**sections)
    return found[0]


def reward(**fields: Any) -> dict[str, Any]:
    return {"id": "five-off", "kind": "amount_off", "amount": "5.00", "cost": 100, **fields}


def rewards(*catalog: dict[str, Any]) -> dict[str, Any]:
    return {"catalog": list(catalog)}


# ------------------------------------------------------------------- examples

EXPECTED = {
    "beauty-tiers": [],
    "club-welcome": [],
    "cosmetics-club": [],
    "festival-cashback": [],
    "flash-half-off": [],
    "late-apology": [],
    "monthly-gift": [],
    "peak-day": [],
    "segment-free-shipping": [],
    "stacked-offers": [],
    "tea-house": [],
}


def test_every_example_program_is_listed() -> None:
    names = {path.stem for path in (ROOT / "examples" / "programs").glob("*.yaml")}
    assert names == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_example_programs_give_only_the_advice_they_deserve(name: str) -> None:
    loaded = load_program(ROOT / "examples" / "programs" / f"{name}.yaml")
    assert [w.path for w in program_warnings(loaded)] == EXPECTED[name]


# ------------------------------------------------- 6. a reward repeats its cost


def test_a_min_points_hurdle_that_repeats_the_cost() -> None:
    message = at(
        "rewards.catalog[0].hurdles.all_of[0].min_points",
        rewards=rewards(reward(hurdles={"all_of": [{"min_points": 100}, {"repeat_order": 1}]})),
    )
    assert "repeats the reward's cost of 100 points" in message
    assert "always met; remove it" in message


def test_a_min_points_hurdle_below_the_cost() -> None:
    message = at("rewards.catalog[0].hurdles.min_points",
                 rewards=rewards(reward(hurdles={"min_points": 60})))
    assert "asks for 60 points, fewer than the reward's cost of 100 points" in message


def test_a_min_points_hurdle_above_the_cost_or_on_a_free_reward_is_a_real_hurdle() -> None:
    assert advice(rewards=rewards(reward(hurdles={"min_points": 101}))) == []
    assert advice(rewards=rewards(reward(cost=0, hurdles={"min_points": 1}))) == []


def test_a_repeated_cost_inside_any_of_makes_the_any_of_always_met() -> None:
    hurdles = {"any_of": [{"min_points": 100}, {"segment": "vip"}]}
    message = at("rewards.catalog[0].hurdles.any_of[0].min_points",
                 rewards=rewards(reward(hurdles=hurdles)))
    assert "and so is the any_of around it (hurdles.any_of)" in message


def test_a_repeated_cost_under_not_is_never_met() -> None:
    message = at("rewards.catalog[0].hurdles.not.min_points",
                 rewards=rewards(reward(hurdles={"not": {"min_points": 50}})))
    assert "never met" in message
    assert "nobody can redeem reward 'five-off'" in message


def test_paying_with_points_repeats_its_least_points() -> None:
    pay = {"id": "pay", "kind": "pay_with_points", "points": 100, "value": "1.00", "step": 100,
           "min_points": 500, "hurdles": {"min_points": 500}}
    message = at("rewards.catalog[0].hurdles.min_points", rewards=rewards(pay))
    assert "the 500 points paying with it takes at least" in message
    assert advice(rewards=rewards({**pay, "hurdles": {"min_points": 600}})) == []


# -------------------------------------------------- 3. contradicting hurdles

LADDER = {"metrics": ["orders"], "ladder": [
    {"name": "Member"}, {"name": "Silver", "threshold": {"orders": 5}},
    {"name": "Gold", "threshold": {"orders": 10}}]}


def test_min_tier_naming_the_entry_tier_is_always_met() -> None:
    message = at("rewards.catalog[0].hurdles.min_tier", tiers=LADDER,
                 rewards=rewards(reward(hurdles={"min_tier": "Member"})))
    assert "names the entry tier 'Member', which every member is in" in message
    assert advice(tiers=LADDER, rewards=rewards(reward(hurdles={"min_tier": "Silver"}))) == []


def test_min_basket_above_the_basket_cap_of_an_offer() -> None:
    offer = {"id": "gift", "kind": "free_product", "sku": "TOTE",
             "conditions": {"all_of": [{"min_basket": "50.00"}, {"not": {"min_basket": "40.00"}}]}}
    message = at("offers.catalog[0].conditions.all_of[0].min_basket", offers={"catalog": [offer]})
    assert "a basket of at least 50.00 USD" in message
    assert "conditions.all_of[1].not.min_basket asks for a basket below 40.00 USD" in message
    assert "offer 'gift' never applies" in message


@pytest.mark.parametrize(
    "conditions",
    [
        {"all_of": [{"min_basket": "30.00"}, {"not": {"min_basket": "40.00"}}]},  # 30 to 40
        {"any_of": [{"min_basket": "50.00"}, {"not": {"min_basket": "40.00"}}]},  # either
        {"all_of": [{"min_basket": "50.00"},  # another basis
                    {"not": {"min_basket": {"amount": "40.00", "basis": "total"}}}]},
    ],
)
def test_baskets_that_can_meet_are_no_contradiction(conditions: dict[str, Any]) -> None:
    offer = {"id": "gift", "kind": "free_product", "sku": "TOTE", "conditions": conditions}
    assert advice(offers={"catalog": [offer]}) == []


@pytest.mark.parametrize(
    ("hurdles", "path", "words"),
    [
        ({"all_of": [{"repeat_order": 3}, {"not": {"repeat_order": 2}}]},
         "all_of[0].repeat_order", "at least 3 completed order(s)"),
        ({"all_of": [{"min_units": 4}, {"not": {"min_units": 4}}]},
         "all_of[0].min_units", "at least 4 units"),
        ({"all_of": [{"min_points": 300}, {"not": {"min_points": 200}}]},
         "all_of[0].min_points", "at least 300 points"),
        ({"all_of": [{"segment": "vip"}, {"not": {"segment": "vip"}}]},
         "all_of[0].segment", "excluded by hurdles.all_of[1].not.segment"),
        ({"all_of": [{"segment": "vip"}, {"not": {"any_of": [{"segment": "vip"}]}}]},
         "all_of[0].segment", "excluded by hurdles.all_of[1].not.any_of[0].segment"),
    ],
)
def test_hurdles_that_contradict_each_other(hurdles: dict[str, Any], path: str, words: str) -> None:
    message = at(f"rewards.catalog[0].hurdles.{path}", rewards=rewards(reward(hurdles=hurdles)))
    assert words in message
    assert "nobody can redeem reward 'five-off'" in message


def test_a_not_all_of_is_a_choice_not_a_contradiction() -> None:
    hurdles = {"all_of": [{"segment": "vip"}, {"not": {"all_of": [{"segment": "vip"},
                                                                  {"min_basket": "5.00"}]}}]}
    assert advice(rewards=rewards(reward(hurdles=hurdles))) == []


def test_repeat_order_on_an_enrolment_coupon() -> None:
    incentive = {"id": "welcome", "trigger": {"event": "enrolled"}, "grants": [
        {"kind": "coupon", "offer": {"kind": "amount_off", "amount": "5.00"},
         "hurdles": {"all_of": [{"repeat_order": 1}, {"min_basket": "20.00"}]}}]}
    message = at("incentives.catalog[0].grants[0].hurdles.all_of[0].repeat_order",
                 incentives={"catalog": [incentive]})
    assert "issued when a member enrols, with no orders" in message
    assert "cannot be used on their first order" in message
    later = {**incentive, "trigger": {"event": "shipment_delayed"}}
    assert advice(incentives={"catalog": [later]}) == []


@pytest.mark.parametrize(("key", "value"), [("min_orders", 1), ("min_spend", "100.00")])
def test_an_enrolment_incentive_for_members_with_orders_never_fires(key: str, value: Any) -> None:
    incentive = {"id": "welcome", "trigger": {"event": "enrolled"}, "audience": {key: value},
                 "grants": [{"kind": "points", "points": 50}]}
    message = at(f"incentives.catalog[0].audience.{key}", incentives={"catalog": [incentive]})
    assert "has no orders yet: incentive 'welcome' never fires" in message
    on_order = {**incentive, "trigger": {"event": "order_completed"}}
    assert advice(incentives={"catalog": [on_order]}) == []


# ----------------------------------------------------- who sees a reward


def test_a_reward_whose_tiers_and_audience_never_meet() -> None:
    message = at("rewards.catalog[0].audience.tiers", tiers=LADDER, rewards=rewards(
        reward(tiers=["Silver"], audience={"tiers": ["Gold"]})))
    assert "keeps it to tiers 'Gold', but only tiers 'Silver' see it" in message
    listed = {**LADDER, "ladder": [*LADDER["ladder"][:2],
                                   {**LADDER["ladder"][2], "benefits": {"rewards": ["five-off"]}}]}
    assert advice(tiers=listed, rewards=rewards(
        reward(tiers=["Silver"], audience={"tiers": ["Gold"]}))) == []


def test_a_min_tier_above_every_tier_that_sees_the_reward() -> None:
    message = at("rewards.catalog[0].hurdles.min_tier", tiers=LADDER, rewards=rewards(
        reward(tiers=["Silver"], hurdles={"min_tier": "Gold"})))
    assert "needs tier Gold or above, but only tiers 'Silver' see it" in message
    assert advice(tiers=LADDER, rewards=rewards(
        reward(tiers=["Silver", "Gold"], hurdles={"min_tier": "Gold"}))) == []


def test_an_audience_nobody_is_in() -> None:
    message = at("offers.catalog[0].audience.max_orders", offers={"catalog": [
        {"id": "new", "kind": "free_shipping", "audience": {"min_orders": 3, "max_orders": 1}}]})
    assert "is below min_orders 3: nobody is in the audience" in message


def test_repeat_order_above_the_audience_max_orders() -> None:
    first = reward(audience={"max_orders": 0}, hurdles={"repeat_order": 1})
    message = at("rewards.catalog[0].hurdles.repeat_order", rewards=rewards(first))
    assert "at most 0 (audience.max_orders)" in message
    assert advice(rewards=rewards({**first, "audience": {"max_orders": 1}})) == []


def test_an_audience_segment_the_conditions_exclude() -> None:
    offer = {"id": "vip", "kind": "free_shipping", "audience": {"segments": ["vip"]},
             "conditions": {"not": {"segment": "vip"}}}
    message = at("offers.catalog[0].audience.segments", offers={"catalog": [offer]})
    assert "keeps it to segment(s) vip, which its conditions exclude" in message
    both = {**offer, "audience": {"segments": ["vip", "staff"]}}
    assert advice(offers={"catalog": [both]}) == []


# ------------------------------------------ 4. burn windows before earn windows


def test_a_hurdle_window_that_closes_before_the_reward_opens() -> None:
    late = reward(valid={"starts": "2026-06-01"}, hurdles={"window": {"ends": "2026-05-01"}})
    message = at("rewards.catalog[0].hurdles.window.ends", rewards=rewards(late))
    assert "ends on 2026-05-01, before its valid dates open on 2026-06-01" in message
    ok = reward(valid={"starts": "2026-04-01"}, hurdles={"window": {"ends": "2026-05-01"}})
    assert advice(rewards=rewards(ok)) == []


def _coupon_incentive(window: dict[str, Any] | None = None, **coupon: Any) -> dict[str, Any]:
    grant = {"kind": "coupon", "offer": {"kind": "amount_off", "amount": "5.00"}, **coupon}
    incentive: dict[str, Any] = {"id": "spring", "trigger": {"event": "manual"}, "grants": [grant]}
    if window is not None:
        incentive["window"] = window
    return {"catalog": [incentive]}


def test_a_coupon_that_expires_before_its_incentive_can_issue_it() -> None:
    message = at("incentives.catalog[0].grants[0].valid.ends", incentives=_coupon_incentive(
        {"starts": "2026-06-01"}, valid={"ends": "2026-05-31"}))
    assert "ends on 2026-05-31, before the incentive first issues it on 2026-06-01" in message
    assert "this coupon can never be used" in message
    assert advice(incentives=_coupon_incentive(
        {"starts": "2026-06-01"}, valid={"ends": "2026-06-02"})) == []


def test_a_coupon_whose_within_lapses_before_its_dates_open() -> None:
    message = at("incentives.catalog[0].grants[0].valid.within", incentives=_coupon_incentive(
        {"starts": "2026-11-01", "ends": "2026-11-12"},
        valid={"within": "7 days", "starts": "2026-12-01"}))
    assert "lasts 7 days from issue, and the last one is issued before 2026-11-12" in message
    assert "before its valid dates open on 2026-12-01" in message
    assert advice(incentives=_coupon_incentive(
        {"starts": "2026-11-01", "ends": "2026-11-12"},
        valid={"within": "30 days", "starts": "2026-12-01"})) == []


def test_a_coupon_the_member_picks_later_is_issued_after_the_window() -> None:
    coupon = {"kind": "coupon", "offer": {"kind": "amount_off", "amount": "5.00"},
              "valid": {"within": "7 days", "starts": "2026-12-01"}}
    incentive = {"id": "pick", "trigger": {"event": "manual"},
                 "window": {"starts": "2026-11-01", "ends": "2026-11-12"},
                 "grants": [{"kind": "one_of", "deadline": "14 days",
                             "grants": [coupon, {"kind": "points", "points": 10}]}]}
    assert advice(incentives={"catalog": [incentive]}) == []  # picked by 11-26, used by 12-03
    at_once = {**incentive, "grants": [{**incentive["grants"][0],
                                        "policy": "highest_value_in_stock"}]}
    assert "never be used" in at("incentives.catalog[0].grants[0].grants[0].valid.within",
                                 incentives={"catalog": [at_once]})


def test_cashback_that_closes_before_its_schedule_starts() -> None:
    incentive = {"id": "xmas", "trigger": {"event": "schedule", "rrule": "FREQ=YEARLY",
                                           "starts": "2026-12-01"},
                 "grants": [{"kind": "cashback", "amount": "5.00",
                             "valid": {"ends": "2026-01-01"}}]}
    message = at("incentives.catalog[0].grants[0].valid.ends", incentives={"catalog": [incentive]})
    assert "before its schedule starts on 2026-12-01: this cashback can never be used" in message


# --------------------------------------------------------- 5. stacking caps


def test_an_amount_off_above_the_stacking_cap() -> None:
    stacking = {"caps": {"max_amount": "18.00"}}
    message = at("rewards.catalog[0].amount", stacking=stacking,
                 rewards=rewards(reward(amount="20.00")))
    assert "is 20.00 USD, above stacking.caps.max_amount 18.00 USD" in message
    assert "never gives its full amount, though it costs 100 points" in message
    assert advice(stacking=stacking, rewards=rewards(reward(amount="18.00"))) == []


def test_a_coupon_and_an_offer_above_the_stacking_cap() -> None:
    warned = dict(advice(
        stacking={"caps": {"max_amount": "4.00"}},
        incentives=_coupon_incentive(),
        offers={"catalog": [{"id": "two", "kind": "amount_off", "amount": "2.00"},
                            {"id": "six", "kind": "amount_off", "amount": "6.00"}]}))
    assert set(warned) == {"incentives.catalog[0].grants[0].offer.amount",
                           "offers.catalog[1].amount"}


def test_more_coupons_per_order_than_discounts_per_order() -> None:
    incentives = _coupon_incentive()
    incentives["catalog"][0]["limits"] = {"per_order": 3}
    message = at("incentives.catalog[0].limits.per_order", incentives=incentives,
                 stacking={"caps": {"max_discounts": 2}})
    assert "use 3 of its coupons, but stacking.caps.max_discounts applies at most 2" in message
    assert advice(incentives=incentives, stacking={"caps": {"max_discounts": 3}}) == []


# ----------------------------------------------- 1. tiers nobody reaches or keeps


def points_ladder(gold: int, **settings: Any) -> dict[str, Any]:
    return {"metrics": ["points"], "window": "calendar_year", **settings,
            "ladder": [{"name": "Member"}, {"name": "Gold", "threshold": {"points": gold}}]}


MONTHLY_CAP = {"caps": {"per_period": {"points": 1000, "period": "month"}}}


def test_retention_zero_keeps_no_tier_past_a_review() -> None:
    message = at("tiers.retention", tiers=points_ladder(500, retention=0))
    assert "each member above 'Member' moves down one tier whatever their figures" in message
    message = at("tiers.retention", tiers=points_ladder(500, retention=0, downgrade="to_qualified"))
    assert "moves down to 'Member'" in message
    assert advice(tiers=points_ladder(500, retention=1)) == []


def test_a_points_threshold_above_what_the_caps_let_a_member_earn_in_a_year() -> None:
    message = at("tiers.ladder[1].threshold.points", earning=MONTHLY_CAP,
                 tiers=points_ladder(12001))
    assert "needs 12001 points in a calendar year, but a member earns at most 12000" in message
    assert "orders at most 1000 a month by earning.caps.per_period" in message
    assert "nobody can reach 'Gold'" in message
    assert advice(earning=MONTHLY_CAP, tiers=points_ladder(12000)) == []


def test_a_member_who_earns_all_the_caps_allow_stops_at_the_bound() -> None:
    tiers = {**points_ladder(12001), "ladder": [
        {"name": "Member"}, {"name": "Silver", "threshold": {"points": 12000}},
        {"name": "Gold", "threshold": {"points": 12001}}]}
    club = program(earning=MONTHLY_CAP, tiers=tiers)
    assert [w.path for w in program_warnings(club)] == ["tiers.ladder[2].threshold.points"]
    service = LoyaltyService(club, MemoryStore())
    start = datetime(2026, 1, 1, 12, tzinfo=UTC)
    service.enrol("m-1", at=start)
    for day in range(365):  # 400.00 USD every day: the monthly cap every month
        when = start + timedelta(days=day)
        service.handle({"type": "order_completed", "member_id": "m-1", "key": f"o-{day}",
                        "at": when.isoformat(), "cart": {
                            "id": f"o-{day}", "member_id": "m-1", "currency": "USD",
                            "lines": [{"sku": "A", "unit_price": "400.00", "quantity": 1}]}})
    assert service.balance("m-1", at=start + timedelta(days=365)).earned == 12000
    assert service.member("m-1", at=start + timedelta(days=365)).tier == "Silver"


def test_a_daily_cap_bounds_a_calendar_year_by_366_days() -> None:
    daily = {"caps": {"per_day": 10}}
    assert "at most 3660" in at("tiers.ladder[1].threshold.points", earning=daily,
                                tiers=points_ladder(3661))
    assert advice(earning=daily, tiers=points_ladder(3660)) == []


def test_points_counted_when_released_span_one_more_period() -> None:
    late = points_ladder(13000, count_pending_points=False)
    assert advice(earning=MONTHLY_CAP, pending={"period": "30 days"}, tiers=late) == []
    late = points_ladder(13001, count_pending_points=False)
    assert "at most 13000" in at("tiers.ladder[1].threshold.points", earning=MONTHLY_CAP,
                                 pending={"period": "30 days"}, tiers=late)


def test_bonus_actions_count_toward_the_bound() -> None:
    earning = {**MONTHLY_CAP, "actions": {"signup": {"points": 50},
                                          "review": {"points": 10, "times": 2, "per": "month"}}}
    # 12000 from orders, 50 once, 10 twice in each of 12 months: 12290
    assert advice(earning=earning, tiers=points_ladder(12290)) == []
    message = at("tiers.ladder[1].threshold.points", earning=earning, tiers=points_ladder(12291))
    assert "bonus actions at most 290" in message


@pytest.mark.parametrize(
    "sections",
    [
        {"earning": {"caps": {"per_order": 100}}},  # orders are not counted
        {"earning": {**MONTHLY_CAP, "actions": {"shipment_delayed": {"points": 10}}}},
        {"earning": MONTHLY_CAP, "incentives": {"catalog": [
            {"id": "p", "trigger": {"event": "manual"},
             "grants": [{"kind": "points", "points": 5}]}]}},
        {"earning": MONTHLY_CAP, "tiers": points_ladder(99999, window="lifetime")},
        {"earning": MONTHLY_CAP, "tiers": {**points_ladder(99999), "metrics": ["points", "orders"],
                                           "ladder": [{"name": "Member"}, {"name": "Gold",
                                           "threshold": {"points": 99999, "orders": 5}}]}},
    ],
    ids=["per-order-cap", "delay-apology", "points-grant", "lifetime", "another-metric"],
)
def test_no_bound_or_another_way_up_says_nothing(sections: dict[str, Any]) -> None:
    assert advice(**{"tiers": points_ladder(99999), **sections}) == []


def test_with_match_all_the_points_threshold_alone_blocks_the_tier() -> None:
    tiers = {"metrics": ["points", "orders"], "match": "all", "window": {"rolling": "6 months"},
             "ladder": [{"name": "Member"}, {"name": "Gold",
                                             "threshold": {"points": 7001, "orders": 5}}]}
    message = at("tiers.ladder[1].threshold.points", earning=MONTHLY_CAP, tiers=tiers)
    assert "needs 7001 points in 6 months, but a member earns at most 7000" in message


def birthday_ladder(bonus: int = 250) -> dict[str, Any]:
    return {"metrics": ["net_spend"], "ladder": [
        {"name": "Member"},
        {"name": "Rouge", "threshold": {"net_spend": 1000}, "benefits": {"birthday_bonus": bonus}},
    ]}


def test_a_birthday_bonus_without_a_birthday_action_is_never_given() -> None:
    message = at("tiers.ladder[1].benefits.birthday_bonus", tiers=birthday_ladder())
    assert message == (
        "is 250 points on top of the 'birthday' bonus action, but earning.actions has no "
        "'birthday': members of 'Rouge' never get it (add the action, even of few points, "
        "or give the gift as a birthday incentive)"
    )
    single = {"metrics": ["net_spend"], "ladder": [{"name": "Member",
                                                   "benefits": {"birthday_bonus": 5}}]}
    assert [path for path, _ in advice(tiers=single)] == [
        "tiers.ladder[0].benefits.birthday_bonus"
    ]


def test_a_birthday_bonus_with_a_birthday_action_or_of_zero_says_nothing() -> None:
    actions = {"actions": {"birthday": {"points": 1, "per": "year"}}}
    assert advice(tiers=birthday_ladder(), earning=actions) == []
    assert advice(tiers=birthday_ladder(0)) == []


def test_the_bonus_is_given_with_the_action_only_as_the_warning_says() -> None:
    """What the warning rests on: a birthday event gives the tier's bonus with the
    action's points, and nothing without the action."""
    tiers = {**birthday_ladder(), "ladder": [
        {"name": "Member", "benefits": {"birthday_bonus": 7}},
        birthday_ladder()["ladder"][1],
    ]}
    birthday = {"type": "birthday", "member_id": "m-1", "key": "b", "at": "2026-03-01T10:00Z"}
    enrolled = datetime(2026, 1, 1, tzinfo=UTC)
    without = LoyaltyService(program(tiers=tiers), MemoryStore())
    without.enrol("m-1", at=enrolled)
    without.handle(birthday)
    assert without.balance("m-1").available == 0
    actions = {"actions": {"birthday": {"points": 1, "per": "year"}}}
    with_action = LoyaltyService(program(tiers=tiers, earning=actions), MemoryStore())
    with_action.enrol("m-1", at=enrolled)
    with_action.handle(birthday)
    assert with_action.balance("m-1").available == 1 + 7


# --------------------------------- 2. points that expire before they can be spent


def fixed(after: str, **more: Any) -> dict[str, Any]:
    return {"policy": "fixed", "after": after, **more}


@pytest.mark.parametrize(
    ("pending", "expiry"),
    [("60 days", fixed("30 days")), ("30 days", fixed("30 days")), ("1 month", fixed("28 days")),
     ("3 months", fixed("1 month", round_up_to="month")), ("5 days", fixed("48 hours"))],
)
def test_points_that_expire_before_they_leave_pending(pending: str, expiry: dict[str, Any]) -> None:
    message = at("expiry.after", pending={"period": pending}, expiry=expiry)
    assert f"but stay pending for {pending}" in message
    assert "points earned on orders expire before they can be spent" in message


@pytest.mark.parametrize(
    ("pending", "expiry"),
    [("29 days", fixed("30 days")), ("30 days", fixed("1 month")),
     ("2 months", fixed("1 month", round_up_to="month")), ("47 hours", fixed("2 days")),
     ("2 days", fixed("48 hours"))],  # 2 local days last 47 hours when clocks go forward
)
def test_points_that_may_be_spent_say_nothing(pending: str, expiry: dict[str, Any]) -> None:
    assert advice(pending={"period": pending}, expiry=expiry) == []


def test_the_warning_is_true_points_expire_while_pending() -> None:
    club = program(pending={"period": "30 days"}, expiry=fixed("30 days"))
    account = open_account(club, "m-1")
    start = datetime(2026, 1, 31, 12, tzinfo=UTC)
    earn(account, points=100, at=start, key="k-1")
    for days_later in (0, 29, 30, 31, 60):
        balance = account.balance(start + timedelta(days=days_later))
        assert balance.available == 0
    assert balance.expired == 100


def test_a_reward_nobody_can_afford_before_their_points_expire() -> None:
    expiry = fixed("12 months")
    # 12 months touch 13 calendar months: 13000 points at most
    message = at("rewards.catalog[0].cost", earning=MONTHLY_CAP, expiry=expiry,
                 rewards=rewards(reward(cost=13001)))
    assert "is 13001 points, but points expire 1 year after they are earned" in message
    assert "a member earns at most 13000 in that time" in message
    assert "nobody can afford reward 'five-off'" in message
    assert advice(earning=MONTHLY_CAP, expiry=expiry, rewards=rewards(reward(cost=13000))) == []
    rounded = fixed("12 months", round_up_to="month")
    assert advice(earning=MONTHLY_CAP, expiry=rounded, rewards=rewards(reward(cost=14000))) == []


def test_the_points_a_reward_needs_may_be_a_hurdle_or_a_minimum() -> None:
    expiry = fixed("1 month")  # two calendar months: 2000 points at most
    assert "is 2001 points" in at("rewards.catalog[0].hurdles.min_points", earning=MONTHLY_CAP,
                                  expiry=expiry,
                                  rewards=rewards(reward(hurdles={"min_points": 2001})))
    pay = {"id": "pay", "kind": "pay_with_points", "points": 100, "value": "1.00", "step": 100,
           "min_points": 2100}
    assert "is 2100 points" in at("rewards.catalog[0].min_points", earning=MONTHLY_CAP,
                                  expiry=expiry, rewards=rewards(pay))


@pytest.mark.parametrize(
    "sections",
    [{"expiry": fixed("1 month")},  # no caps: no bound
     {"earning": MONTHLY_CAP, "expiry": {"policy": "inactivity", "after": "1 month"}},
     {"earning": MONTHLY_CAP}],
)
def test_without_a_bound_or_an_expiry_every_reward_is_affordable(sections: dict[str, Any]) -> None:
    assert advice(rewards=rewards(reward(cost=10**9)), **sections) == []


# ------------------------------------------------------------------ properties

ZONES = ["UTC", "America/New_York", "Australia/Lord_Howe", "Pacific/Apia", "Europe/London"]
durations = st.builds(
    Duration,
    months=st.integers(0, 30),
    days=st.integers(0, 400),
    hours=st.integers(0, 100),
)
NAIVE_START = datetime(1990, 1, 1)  # noqa: DTZ001 - hypothesis bounds are naive
NAIVE_END = datetime(2100, 1, 1)  # noqa: DTZ001
instants = st.datetimes(NAIVE_START, NAIVE_END, timezones=st.just(UTC))


@given(duration=durations, start=instants, zone_name=st.sampled_from(ZONES),
       period=st.sampled_from(list(Period)))
def test_the_calendar_bounds_hold_from_any_start(
    duration: Duration, start: datetime, zone_name: str, period: Period
) -> None:
    tz = ZoneInfo(zone_name)
    end = duration.after(start, tz)
    low, high = hours(duration)
    assert low * 3600 <= (end - start).total_seconds() <= high * 3600
    count, cursor = 0, start_of(period, start, tz)
    while cursor < end:
        count += 1
        cursor = end_of(period, cursor, tz)
    assert count <= touched(duration, period)
    if not duration.hours:
        local_days = (end.astimezone(tz).date() - start.astimezone(tz).date()).days
        least, most = days(duration)
        assert least - 1 <= local_days <= most  # a skipped local day (Apia, 2011)


TIERS = ("Member", "Silver", "Gold")
CLUB = program(tiers={"metrics": ["orders"], "ladder": [
    {"name": "Member"}, {"name": "Silver", "threshold": {"orders": 5}},
    {"name": "Gold", "threshold": {"orders": 10}}]})
CONDITION: TypeAdapter[Condition] = TypeAdapter(Condition)

MOMENTS = ["2026-01-01", "2026-03-01", "2026-06-01", "2026-06-15", "2026-12-01"]
leaf_specs = st.one_of(
    st.builds(lambda n: {"min_points": n}, st.integers(1, 300)),
    st.builds(lambda n: {"repeat_order": n}, st.integers(1, 4)),
    st.builds(lambda n: {"min_basket": f"{n}.00"}, st.integers(0, 60)),
    st.builds(lambda n: {"min_units": n}, st.integers(1, 5)),
    st.builds(lambda t: {"min_tier": t}, st.sampled_from(TIERS)),
    st.builds(lambda s: {"segment": s}, st.sampled_from(["vip", "staff"])),
    st.builds(lambda w: {"window": w}, st.one_of(
        st.sampled_from(MOMENTS).map(lambda day: {"starts": day}),
        st.sampled_from(MOMENTS).map(lambda day: {"ends": day}),
    )),
)
condition_specs = st.recursive(
    leaf_specs,
    lambda inner: st.one_of(
        st.builds(lambda cs: {"all_of": cs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda cs: {"any_of": cs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda c: {"not": c}, inner),
    ),
    max_leaves=6,
)


def _situation(data: st.DataObject, cost: int) -> Situation:
    cart = load_cart({
        "id": "C-1", "member_id": "m-1", "currency": "USD",
        "lines": [{"sku": "A", "unit_price": f"{data.draw(st.integers(1, 40))}.00",
                   "quantity": data.draw(st.integers(1, 5))}],
        "customer": {"completed_orders": data.draw(st.integers(0, 5)),
                     "tier": data.draw(st.sampled_from(TIERS)),
                     "segments": data.draw(st.lists(st.sampled_from(["vip", "staff"])))},
    })
    points = data.draw(st.integers(cost, 400))  # a member redeeming holds the cost
    day = data.draw(st.sampled_from([*MOMENTS, "2025-06-01", "2026-04-01", "2027-01-01"]))
    return Situation(cart, datetime.fromisoformat(day).replace(tzinfo=UTC), points)


@given(spec=condition_specs, cost=st.sampled_from([0, 50, 100, 200]),
       valid=st.sampled_from([None, *MOMENTS]), data=st.data())
def test_what_the_hurdle_advice_says_holds_on_every_cart(
    spec: dict[str, Any], cost: int, valid: str | None, data: st.DataObject
) -> None:
    """Always met: the leaf is met; nobody can redeem: the whole is not met within the
    reward's dates (valid from ``valid``), whatever the cart, member and day."""
    condition = CONDITION.validate_python(spec)
    opens = () if valid is None else (
        Bound(datetime.fromisoformat(valid).replace(tzinfo=UTC), "valid.starts", "opens on"),)
    holder = Holder("rewards.catalog[0]", "nobody can redeem reward 'r'", condition, "hurdles",
                    cost, f"the reward's cost of {cost} points", opens)
    found = hurdle_advice(holder, TIERS, "USD", ZoneInfo("UTC"))
    every = leaves(condition, "rewards.catalog[0].hurdles")
    by_path = {leaf.path: leaf.condition for leaf in every}
    for _ in range(5):
        situation = _situation(data, cost)
        whole = condition.check(situation, CLUB).met and all(
            situation.at >= bound.at for bound in opens)
        for problem in found:
            if "always met" in problem.message or "never met under its 'not'" in problem.message:
                assert by_path[problem.path].check(situation, CLUB).met, problem
            if "nobody can redeem" in problem.message:
                assert not whole, problem


def resolves(data: Any, path: str) -> bool:
    """Does ``path`` name a key of ``data`` as written (``rewards.catalog[0].cost``)?"""
    node = data
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        try:
            node = node[int(part[1:-1])] if part.startswith("[") else node[part]
        except (KeyError, IndexError, TypeError):
            return False
    return True


DAYS = ["2026-01-01", "2026-03-01", "2026-06-01", "2026-06-15", "2026-12-01"]
dated = st.lists(st.sampled_from(DAYS), min_size=2, max_size=2, unique=True).map(sorted)
ranges = st.one_of(
    st.just({}),
    dated.map(lambda pair: {"starts": pair[0], "ends": pair[1]}),
    st.sampled_from(DAYS).map(lambda day: {"starts": day}),
    st.sampled_from(DAYS).map(lambda day: {"ends": day}),
)
spans = st.sampled_from(["0 days", "30 days", "1 month", "2 months", "48 hours", "12 months"])


@st.composite
def programs(draw: st.DrawFn) -> dict[str, Any]:
    """A program mapping with caps, expiry, tiers, rewards, offers and incentives."""
    data: dict[str, Any] = {**BASE}
    caps = draw(st.fixed_dictionaries({}, optional={
        "per_day": st.integers(1, 500),
        "per_period": st.fixed_dictionaries({"points": st.integers(1, 5000),
                                             "period": st.sampled_from(list(Period))}),
    }))
    actions = draw(st.dictionaries(
        st.sampled_from(["signup", "birthday", "review", "shipment_delayed"]),
        st.fixed_dictionaries({"points": st.integers(1, 100)}, optional={
            "times": st.integers(1, 3), "per": st.sampled_from(["lifetime", "day", "month"])}),
        max_size=2))
    data["earning"] = {"caps": caps, "actions": actions}
    data["pending"] = {"period": draw(spans)}
    data["expiry"] = draw(st.one_of(
        st.just({"policy": "none"}),
        st.fixed_dictionaries(
            {"policy": st.just("fixed"), "after": spans.filter(lambda text: text != "0 days")},
            optional={"round_up_to": st.sampled_from(list(Period))},
        ),
    ))
    tiered = draw(st.booleans())
    if tiered:
        gold = draw(st.integers(2, 50000))
        data["tiers"] = {
            "metrics": ["points"], "retention": draw(st.integers(0, 2)),
            "window": draw(st.sampled_from(["lifetime", "calendar_year", "anniversary",
                                            {"rolling": "6 months"}])),
            "count_pending_points": draw(st.booleans()),
            "ladder": [{"name": "Member"}, {"name": "Silver", "threshold": {"points": gold // 2}},
                       {"name": "Gold", "threshold": {"points": gold}}],
        }
    hurdles = condition_specs
    if not tiered:
        hurdles = condition_specs.filter(lambda spec: "min_tier" not in str(spec))
    data["rewards"] = {"catalog": [
        {"id": f"r{index}", "kind": "amount_off", "amount": f"{draw(st.integers(1, 30))}.00",
         "cost": draw(st.integers(0, 30000)), "valid": draw(ranges),
         **draw(st.fixed_dictionaries({}, optional={"hurdles": hurdles}))}
        for index in range(draw(st.integers(0, 3)))
    ]}
    data["offers"] = {"catalog": [
        {"id": f"o{index}", "kind": "amount_off", "amount": f"{draw(st.integers(1, 30))}.00",
         "valid": draw(ranges), "audience": draw(st.fixed_dictionaries({}, optional={
             "max_orders": st.integers(0, 3), "segments": st.just(["vip"])})),
         **draw(st.fixed_dictionaries({}, optional={"conditions": hurdles}))}
        for index in range(draw(st.integers(0, 2)))
    ]}
    data["incentives"] = {"catalog": [
        {"id": f"i{index}",
         "trigger": draw(st.sampled_from([
             {"event": "enrolled"}, {"event": "manual"}, {"event": "shipment_delayed"},
             {"event": "schedule", "rrule": "FREQ=MONTHLY", "starts": "2026-03-01"}])),
         "window": draw(ranges), "limits": {"per_order": draw(st.integers(1, 3))},
         "grants": [
             {"kind": "coupon", "offer": {"kind": "amount_off", "amount": "5.00"},
              "valid": {**draw(ranges), **draw(st.fixed_dictionaries({}, optional={
                  "within": st.sampled_from(["7 days", "30 days"])}))},
              **draw(st.fixed_dictionaries({}, optional={"hurdles": hurdles}))},
             *draw(st.lists(st.just({"kind": "points", "points": 10}), max_size=1)),
         ]}
        for index in range(draw(st.integers(0, 2)))
    ]}
    data["stacking"] = {"caps": draw(st.fixed_dictionaries({}, optional={
        "max_amount": st.integers(1, 30).map(lambda n: f"{n}.00"),
        "max_discounts": st.integers(1, 3)}))}
    return data


@given(data=programs())
def test_advice_never_raises_and_points_at_keys_as_written(data: dict[str, Any]) -> None:
    try:
        loaded = load_program(data)
    except ConfigurationError:
        assume(False)
        raise
    for warning in program_warnings(loaded):
        assert resolves(data, warning.path), warning
        assert warning.message


def _tweaked(node: Any, draw: st.DrawFn) -> Any:
    """``node`` with some of its numbers changed: whole numbers and amounts."""
    if isinstance(node, dict):
        return {key: _tweaked(value, draw) for key, value in node.items()}
    if isinstance(node, list):
        return [_tweaked(value, draw) for value in node]
    if isinstance(node, bool) or not draw(st.booleans()):
        return node
    if isinstance(node, int):
        return draw(st.integers(0, 20000))
    if isinstance(node, str) and re.fullmatch(r"\d+\.\d\d", node):
        return f"{draw(st.integers(0, 200))}.{draw(st.integers(0, 99)):02d}"
    return node


EXAMPLES = {name: parse_file(ROOT / "examples" / "programs" / f"{name}.yaml") for name in EXPECTED}


@given(name=st.sampled_from(sorted(EXAMPLES)), data=st.data())
def test_advice_on_the_examples_with_other_numbers(name: str, data: st.DataObject) -> None:
    tweaked = _tweaked(EXAMPLES[name], data.draw)
    try:
        loaded = load_program(tweaked)
    except ConfigurationError:
        assume(False)
        raise
    for warning in program_warnings(loaded):
        assert resolves(tweaked, warning.path), warning


# ----------------------------------------------------------------------- docs


def _section() -> str:
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    return page.split("\n## Warnings\n", 1)[1].split("\n## ", 1)[0]


def _documented() -> list[tuple[str, str]]:
    """The (YAML, message) pairs of the Warnings section of docs/configuration.md."""
    return re.findall(r"```yaml\n(.*?)```\n\n```text\n(.*?)\n```", _section(), re.DOTALL)


@pytest.mark.parametrize(("snippet", "said"), _documented())
def test_each_documented_warning_is_what_its_program_prints(snippet: str, said: str) -> None:
    path = re.match(r"# warns: (\S+)\n", snippet)
    assert path is not None, snippet
    loaded = load_program({**BASE, **yaml.safe_load(snippet)})
    assert [str(w) for w in program_warnings(loaded) if w.path == path.group(1)] == [said]


def test_every_program_of_the_warnings_section_is_followed_by_what_it_prints() -> None:
    assert len(_documented()) == _section().count("```yaml") > 0
