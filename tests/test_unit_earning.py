"""Points per unit: ``per_unit`` earning rules, beside the rate on money. Through
``order_earn`` (and the compiled plan), ``quote``, ``complete_order`` and unit refunds;
then properties on random carts and programs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty import (
    ConfigurationError,
    Program,
    complete_order,
    load_cart,
    open_account,
    quote,
    refund_order,
    verify,
)
from loyalty.earning.calculate import EarnContext, EarnQuote, order_earn
from loyalty.earning.plan import earning_plan
from tests.builders import SPEND_LADDER, T0, account, days, ladder, program, utc

A_UNITS = {"name": "a-units", "products": {"skus": ["A"]}, "per_unit": 1}


def line(sku: str, price: str, quantity: int = 1, **extra: Any) -> dict[str, Any]:
    return {"sku": sku, "unit_price": price, "quantity": quantity, **extra}


def cart(*lines: dict[str, Any], cart_id: str = "C-1", **extra: Any) -> dict[str, Any]:
    return {"id": cart_id, "member_id": "m-1", "currency": "USD", "lines": list(lines), **extra}


def earn(club: Program, data: dict[str, Any], at: datetime = T0, **context: Any) -> EarnQuote:
    return order_earn(club, load_cart(data), at, EarnContext(**context))


def by_rule(result: EarnQuote) -> dict[str, int]:
    return {rule.rule: rule.points for rule in result.rules}


def by_line(result: EarnQuote) -> dict[str, int]:
    return {earned.line: earned.points for earned in result.lines}


def assert_breakdown_sums(result: EarnQuote) -> None:
    assert sum(rule.points for rule in result.rules) == result.points
    assert sum(earned.points for earned in result.lines) + result.shipping_points == result.points


def gold(multiplier: str) -> dict[str, Any]:
    tiers = ladder(*SPEND_LADDER)
    tiers["ladder"][2]["benefits"] = {"earn_multiplier": multiplier}
    return tiers


# ------------------------------------------------------------------ examples


def test_one_point_per_unit_of_a_beside_the_rate_on_money() -> None:
    club = program(earning={"rules": [A_UNITS]})
    result = earn(club, cart(line("A", "10.00", 3), line("B", "5.00", 2)))
    # A: 30.00 -> 30 points, and 3 units -> 3; B: 10.00 -> 10.
    assert by_line(result) == {"A": 33, "B": 10}
    assert result.points == 43
    assert result.lines[0].rules == ("a-units",)
    assert result.lines[1].rules == ()
    assert [(r.rule, r.points, r.reason) for r in result.rules] == [
        ("base", 40, "base rate"),
        ("a-units", 3, "1 point per unit"),
    ]
    assert_breakdown_sums(result)


def test_the_quote_explains_points_per_unit() -> None:
    member = account(earning={"rules": [{**A_UNITS, "per_unit": 5}]})
    found = quote(member, cart(line("A", "2.00", 4)), at=T0)
    assert found.earn.points == 8 + 20
    assert "a-units: +20 (5 points per unit)" in found.explain()
    assert "line A: 28 points" in found.explain()


def test_gift_cards_never_earn_points_per_unit() -> None:
    # Even when gift cards earn on their price, and a rule for every line gives points per unit.
    club = program(earning={"basis": {"gift_cards": True},
                            "rules": [{"name": "every-unit", "per_unit": 2}]})
    result = earn(club, cart(line("CARD", "25.00", 2, gift_card=True), line("B", "1.00", 3)))
    assert by_line(result) == {"CARD": 50, "B": 3 + 6}
    assert result.lines[0].rules == ()
    assert by_rule(result) == {"base": 53, "every-unit": 6}


def test_excluded_products_earn_no_points_per_unit() -> None:
    club = program(earning={"exclude": {"skus": ["A"]}, "rules": [A_UNITS]})
    result = earn(club, cart(line("A", "10.00", 3)))
    assert result.points == 0
    assert result.lines[0].excluded == "this product earns no points"
    assert "a-units" not in by_rule(result)


def test_tier_and_rule_multipliers_multiply_points_per_unit_too() -> None:
    club = program(
        tiers=gold("1.5"),
        earning={"rules": [{**A_UNITS, "per_unit": 4},
                           {"name": "double-a", "products": {"skus": ["A"]}, "multiplier": 2}]},
    )
    result = earn(club, cart(line("A", "10.00", 2)), tier="Gold")
    # (20.00 x 1 + 2 units x 4) = 28, x 1.5 (tier) x 2 (rule) = 84.
    assert result.points == 84
    assert result.lines[0].multiplier == 3
    assert result.lines[0].rules == ("tier Gold", "a-units", "double-a")
    # The tier's share is 28 x 0.5 = 14; the rule's 42 x 1 = 42; per unit 8; base 20.
    assert by_rule(result) == {"base": 20, "tier Gold": 14, "double-a": 42, "a-units": 8}
    assert_breakdown_sums(result)


def test_best_of_combines_over_points_per_unit_as_over_the_rate() -> None:
    club = program(earning={"combine": "best", "rules": [
        A_UNITS, {"name": "x3", "multiplier": 3}, {"name": "x2", "multiplier": 2},
    ]})
    assert earn(club, cart(line("A", "1.00", 5))).points == (5 + 5) * 3


def test_caps_cut_points_per_unit_like_any_points() -> None:
    club = program(earning={"rules": [{**A_UNITS, "per_unit": 10}], "caps": {"per_order": 25}})
    result = earn(club, cart(line("A", "1.00", 3)))
    assert result.points == 25
    assert by_rule(result) == {"base": 3, "a-units": 30, "cap": -8}
    assert result.notes == ("at most 25 points per order",)
    assert_breakdown_sums(result)


def test_an_order_below_the_minimum_earns_no_points_per_unit_either() -> None:
    club = program(earning={"rules": [A_UNITS], "min_subtotal": "5.00"})
    result = earn(club, cart(line("A", "1.00", 3)))
    assert (result.points, result.rules) == (0, ())


def test_units_made_free_by_a_reward_earn_nothing_per_unit() -> None:
    club = program(earning={"rules": [{**A_UNITS, "per_unit": 3}]})
    data = cart(line("A", "10.00", 3), line("B", "10.00", 1))
    # One of three units of A free: two paid units earn 2 x 3 per unit.
    one_free = earn(club, data, reductions={"A": Decimal("10.00")})
    assert by_line(one_free) == {"A": 20 + 6, "B": 10}
    assert by_rule(one_free)["a-units"] == 6
    # The whole line paid with points: no points on it at all.
    all_free = earn(club, data, reductions={"A": Decimal("30.00")})
    assert by_line(all_free) == {"A": 0, "B": 10}
    assert all_free.lines[0].rules == ()
    # A line the shop gives for nothing earns nothing per unit.
    assert earn(club, cart(line("A", "0", 2))).points == 0


def test_per_unit_rules_are_gated_by_window_segment_and_tier_like_others() -> None:
    club = program(
        tiers=gold("1"),
        earning={"rules": [
            {**A_UNITS, "name": "may", "window": {"starts": "2026-05-01", "ends": "2026-06-01"}},
            {**A_UNITS, "name": "vip", "segments": ["vip"], "per_unit": 10},
            {"name": "gold", "tiers": ["Gold"], "per_unit": 100},
        ]},
    )
    plain = cart(line("A", "1.00", 2))
    assert earn(club, plain, at=utc(2026, 4, 30)).points == 2
    assert earn(club, plain, at=utc(2026, 5, 2)).points == 2 + 2
    vip = cart(line("A", "1.00", 2), customer={"segments": ["vip"]})
    assert earn(club, vip, at=utc(2026, 5, 2)).points == 2 + 2 + 20
    assert earn(club, plain, at=utc(2026, 4, 1), tier="Gold").points == 2 + 200


def test_per_unit_rules_go_through_the_compiled_plan() -> None:
    club = program(earning={"rules": [
        {"name": "makeup-units", "products": {"categories": ["makeup"]}, "per_unit": 2},
        {"name": "double", "multiplier": 2},
    ]})
    plan = earning_plan(club)
    assert plan.per_unit
    (indexed,) = plan.by_category["makeup"]
    assert (indexed.name, indexed.per_unit, indexed.per_unit_reason) == (
        "makeup-units", 2, "2 points per unit"
    )
    assert not earning_plan(program(earning={"rules": [{"name": "d", "multiplier": 2}]})).per_unit
    result = earn(club, cart(line("LIP", "1.00", 2, categories=["makeup"]), line("X", "1.00")))
    assert by_line(result) == {"LIP": (2 + 4) * 2, "X": 2}


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"per_unit": 1, "bonus": 5}, "give exactly one of multiplier, bonus or per_unit"),
        ({"per_unit": 1, "multiplier": 2}, "give exactly one of multiplier, bonus or per_unit"),
        ({"per_unit": 0}, "greater than 0"),
        ({"per_unit": "1"}, "valid integer"),
        ({"per_unit": 1.5}, "valid integer"),
    ],
)
def test_bad_per_unit_rules_are_refused_with_their_path(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        program(earning={"rules": [{"name": "u", **rule}]})
    assert "earning.rules[0]" in str(refused.value)
    assert message in str(refused.value)


def test_refunding_units_reverses_exactly_their_points_per_unit() -> None:
    member = account(earning={"rules": [{**A_UNITS, "per_unit": 5}]})
    data = cart(line("A", "10.00", 3), line("B", "4.00", 1), cart_id="O-1")
    done = complete_order(member, data, at=T0, key="o")
    assert done.earn is not None
    assert done.earn.points == 3 * (10 + 5) + 4
    first = refund_order(member, "O-1", at=T0 + days(1), key="r1", lines={"A": 1})
    assert first.reversal is not None
    assert first.reversal.points == -(10 + 5)
    second = refund_order(member, "O-1", at=T0 + days(1), key="r2", lines={"A": 2})
    assert second.reversal is not None
    assert second.reversal.points == -2 * (10 + 5)
    assert member.balance().pending + member.balance().available == 4
    assert verify(member) == []


# ------------------------------------------------------------------ properties

SKUS = ("A", "B", "C")


@st.composite
def unit_programs(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An earning section with integer multipliers (so points per unit stay whole) and
    its per-unit rules, apart."""
    earning: dict[str, Any] = {
        "rate": draw(st.sampled_from(("1", "0.5", "1.5", "0.3333"))),
        "combine": draw(st.sampled_from(("multiply", "add", "best"))),
        "rounding_scope": draw(st.sampled_from(("order", "line"))),
        "basis": {"gift_cards": draw(st.booleans())},
        "rules": [
            {"name": f"m{index}", "multiplier": draw(st.sampled_from(("1", "2", "3"))),
             **({"products": {"skus": draw(st.lists(st.sampled_from(SKUS), min_size=1,
                                                    max_size=2, unique=True))}}
                if draw(st.booleans()) else {})}
            for index in range(draw(st.integers(0, 2)))
        ],
    }
    per_unit = [
        {"name": f"u{index}", "per_unit": draw(st.integers(1, 7)),
         **({"products": {"skus": draw(st.lists(st.sampled_from(SKUS), min_size=1, max_size=2,
                                                unique=True))}}
            if draw(st.booleans()) else {})}
        for index in range(draw(st.integers(1, 3)))
    ]
    return earning, per_unit


@st.composite
def unit_carts(draw: st.DrawFn) -> dict[str, Any]:
    lines = [
        line(draw(st.sampled_from(SKUS)), draw(st.sampled_from(("0.99", "1.00", "12.34", "50.00"))),
             draw(st.integers(1, 9)), id=f"L{index}", gift_card=draw(st.integers(0, 4)) == 0)
        for index in range(draw(st.integers(1, 5)))
    ]
    return cart(*lines)


@settings(max_examples=200, deadline=None)
@given(unit_programs(), unit_carts(),
       st.sampled_from(("floor", "ceiling", "half_up")), st.sampled_from(("1", "2", "3")))
def test_per_unit_rules_add_their_points_per_unit_times_units_times_the_multiplier(
    section: tuple[dict[str, Any], list[dict[str, Any]]],
    data: dict[str, Any],
    rounding: str,
    tier_multiplier: str,
) -> None:
    earning, per_unit = section
    tiers = gold(tier_multiplier)
    without = program(rounding=rounding, tiers=tiers, earning=earning)
    with_units = program(rounding=rounding, tiers=tiers,
                         earning={**earning, "rules": [*earning["rules"], *per_unit]})
    before = earn(without, data, tier="Gold")
    after = earn(with_units, data, tier="Gold")
    cart_ = load_cart(data)
    expected_total = 0
    for earned_before, earned_after, cart_line in zip(
        before.lines, after.lines, cart_.lines, strict=True
    ):
        per = sum(
            rule["per_unit"] for rule in per_unit
            if "products" not in rule or cart_line.sku in rule["products"]["skus"]
        )
        units = 0 if cart_line.gift_card or not cart_line.net else cart_line.quantity
        # The line's multiplier (whole here) multiplies its points per unit as its rate's.
        expected = per * units * earned_before.multiplier
        assert earned_after.points - earned_before.points == expected
        expected_total += expected
    assert after.points - before.points == expected_total
    assert_breakdown_sums(after)


@given(st.integers(1, 50), st.integers(1, 9), st.sampled_from(("0.01", "3.33", "10.00")))
def test_points_per_unit_are_linear_in_the_quantity(
    quantity: int, per_unit: int, price: str
) -> None:
    club = program(earning={"rate": "0.0000000001", "rules": [{**A_UNITS, "per_unit": per_unit}]})
    result = earn(club, cart(line("A", price, quantity)))
    # The money earns next to nothing (floored away): only the units count.
    assert result.points == per_unit * quantity
    assert by_rule(result)["a-units"] == per_unit * quantity


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 5), st.integers(1, 40)),
             min_size=1, max_size=4),
    st.integers(1, 9),
    st.data(),
)
def test_a_unit_refund_reverses_exactly_the_points_of_the_refunded_units(
    lines: list[tuple[str, int, int]], per_unit: int, data: st.DataObject
) -> None:
    club = program(earning={"rules": [{**A_UNITS, "per_unit": per_unit}]})
    member = open_account(club, "m-1")
    order = cart(*(line(sku, str(price), quantity, id=f"L{index}")
                   for index, (sku, quantity, price) in enumerate(lines)), cart_id="O-1")
    complete_order(member, order, at=T0, key="o")
    per_line = {f"L{index}": price + (per_unit if sku == "A" else 0)
                for index, (sku, _, price) in enumerate(lines)}
    left = {f"L{index}": quantity for index, (_, quantity, _) in enumerate(lines)}
    for step in range(3):
        refund = {ref: data.draw(st.integers(0, units), label=ref) for ref, units in left.items()}
        refund = {ref: units for ref, units in refund.items() if units}
        if not refund:
            continue
        result = refund_order(member, "O-1", at=T0 + days(1), key=f"r{step}", lines=refund)
        taken = -result.reversal.points if result.reversal is not None else 0
        assert taken == sum(units * per_line[ref] for ref, units in refund.items())
        for ref, units in refund.items():
            left[ref] -= units
        if not any(left.values()):
            break
    assert verify(member) == []
