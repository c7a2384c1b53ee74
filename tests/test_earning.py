"""What a cart earns: ``order_earn`` directly, and through ``quote`` / ``complete_order``."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from loyalty import (
    Money,
    Program,
    UnsupportedCurrency,
    complete_order,
    load_cart,
    open_account,
    quote,
    redeem_reward,
)
from loyalty.earning.calculate import EarnContext, EarnQuote, order_earn
from tests.builders import SPEND_LADDER, T0, account, ladder, program, usd, utc


def line(sku: str, price: str, quantity: int = 1, **extra: Any) -> dict[str, Any]:
    return {"sku": sku, "unit_price": price, "quantity": quantity, **extra}


def cart(*lines: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": "C-1", "member_id": "m-1", "currency": "USD", "lines": list(lines), **extra}


def earn(club: Program, data: dict[str, Any], at: datetime = T0, **context: Any) -> EarnQuote:
    return order_earn(club, load_cart(data), at, EarnContext(**context))


def by_line(result: EarnQuote) -> dict[str, int]:
    return {earned.line: earned.points for earned in result.lines}


def by_rule(result: EarnQuote) -> dict[str, int]:
    return {rule.rule: rule.points for rule in result.rules}


def assert_breakdown_sums(result: EarnQuote) -> None:
    assert sum(rule.points for rule in result.rules) == result.points
    assert sum(earned.points for earned in result.lines) + result.shipping_points == result.points


def gold_ladder(multiplier: str = "1.5") -> dict[str, Any]:
    tiers = ladder(*SPEND_LADDER)
    tiers["ladder"][2]["benefits"] = {"earn_multiplier": multiplier}
    return tiers


# ------------------------------------------------------------------ the base


def test_lines_earn_the_rate_on_their_price_after_line_discounts() -> None:
    club = program(earning={"rate": 2})
    result = earn(
        club,
        cart(line("LIP", "12.50", 2, discount="5.00"), line("MAS", "3.99")),
    )
    # LIP: 25.00 - 5.00 = 20.00 -> 40 points; MAS: 3.99 x 2 = 7.98 -> 7 (floor).
    assert result.lines[0].basis == usd("20.00")
    assert by_line(result) == {"LIP": 40, "MAS": 7}
    assert result.points == 47
    assert result.basis == usd("23.99")
    assert_breakdown_sums(result)


def test_a_fractional_rate_applies_to_the_exact_base() -> None:
    club = program(earning={"rate": "1.5"})
    result = earn(club, cart(line("LIP", "9.99")))
    assert result.points == int((Decimal("9.99") * Decimal("1.5")).to_integral_value(ROUND_FLOOR))


def test_gift_cards_earn_nothing_unless_configured() -> None:
    data = cart(line("LIP", "20.00"), line("GC", "50.00", gift_card=True))
    plain = earn(program(), data)
    assert by_line(plain) == {"LIP": 20, "GC": 0}
    assert plain.lines[1].excluded is not None
    assert "gift card" in plain.lines[1].excluded
    assert plain.basis == usd("20.00")

    generous = earn(program(earning={"basis": {"gift_cards": True}}), data)
    assert by_line(generous) == {"LIP": 20, "GC": 50}
    assert generous.lines[1].excluded is None
    assert generous.basis == usd("70.00")


@pytest.mark.parametrize(
    "exclude",
    [{"skus": ["GIFTWRAP"]}, {"categories": ["services"]}, {"tags": ["no-points"]}],
)
def test_excluded_products_earn_nothing(exclude: dict[str, list[str]]) -> None:
    club = program(earning={"exclude": exclude, "rules": [{"name": "all-double", "multiplier": 2}]})
    result = earn(
        club,
        cart(
            line("LIP", "10.00"),
            line("GIFTWRAP", "5.00", categories=["services"], tags=["no-points"]),
        ),
    )
    assert by_line(result) == {"LIP": 20, "GIFTWRAP": 0}
    assert result.lines[1].excluded == "this product earns no points"
    assert result.lines[1].rules == ()
    assert result.basis == usd("10.00")
    assert_breakdown_sums(result)


def test_shipping_earns_only_when_configured() -> None:
    data = cart(line("LIP", "10.00"), shipping="7.50")
    assert earn(program(), data).points == 10
    assert earn(program(), data).shipping_points == 0

    club = program(earning={"basis": {"shipping": True}})
    result = earn(club, data)
    assert result.shipping_points == 7
    assert result.points == 17
    assert_breakdown_sums(result)
    # A free-shipping reward already on the cart lowers what shipping earns.
    assert earn(club, data, shipping_reduction=Decimal("5.00")).shipping_points == 2
    assert earn(club, data, shipping_reduction=Decimal("9.00")).shipping_points == 0


def test_shipping_is_not_multiplied_by_rules() -> None:
    club = program(
        earning={"basis": {"shipping": True}, "rules": [{"name": "triple", "multiplier": 3}]}
    )
    result = earn(club, cart(line("LIP", "10.00"), shipping="5.00"))
    assert by_line(result) == {"LIP": 30}
    assert result.shipping_points == 5
    assert result.points == 35
    assert_breakdown_sums(result)


# ------------------------------------------------------------------ tax


def test_tax_inclusive_prices_lose_the_line_tax_when_tax_is_excluded() -> None:
    result = earn(
        program(),
        cart(
            line("LIP", "110.00", tax="10.00"),
            line("MAS", "55.00", tax="5.00"),
            prices_include_tax=True,
        ),
    )
    assert [earned.basis for earned in result.lines] == [usd("100.00"), usd("50.00")]
    assert result.points == 150


def test_the_cart_tax_is_spread_over_the_lines_by_net_amount() -> None:
    result = earn(
        program(),
        cart(line("LIP", "60.00"), line("MAS", "40.00"), tax="10.00", prices_include_tax=True),
    )
    # 10.00 of tax split 60:40 -> 6.00 and 4.00.
    assert [earned.basis for earned in result.lines] == [usd("54.00"), usd("36.00")]
    assert result.points == 90


def test_tax_exclusive_prices_gain_the_tax_when_tax_is_included() -> None:
    club = program(earning={"basis": {"tax": "included"}})
    result = earn(club, cart(line("LIP", "100.00", tax="8.00"), line("MAS", "50.00", tax="4.00")))
    assert [earned.basis for earned in result.lines] == [usd("108.00"), usd("54.00")]
    assert result.points == 162


def test_tax_is_left_alone_when_the_prices_already_match_the_basis() -> None:
    included = program(earning={"basis": {"tax": "included"}})
    inclusive = cart(line("LIP", "110.00", tax="10.00"), prices_include_tax=True)
    assert earn(included, inclusive).points == 110
    exclusive = cart(line("LIP", "100.00", tax="8.00"))
    assert earn(program(), exclusive).points == 100


def test_a_reduction_on_a_tax_inclusive_line_loses_its_tax_share_too() -> None:
    result = earn(
        program(),
        cart(line("LIP", "110.00", tax="10.00"), prices_include_tax=True),
        reductions={"LIP": Decimal("11.00")},
    )
    # Paid 99.00 tax included; 10/110 of it is tax -> 90.00.
    assert result.lines[0].basis == usd("90.00")
    assert result.points == 90


# ------------------------------------------------------------------ rewards lower the base


def test_reward_reductions_lower_the_base_of_their_lines() -> None:
    data = cart(line("LIP", "20.00"), line("MAS", "10.00"))
    result = earn(program(), data, reductions={"LIP": Decimal("5.00")})
    assert result.lines[0].basis == usd("15.00")
    assert by_line(result) == {"LIP": 15, "MAS": 10}
    assert result.basis == usd("25.00")
    # A reduction never takes a line below zero.
    assert by_line(earn(program(), data, reductions={"MAS": Decimal("12.00")}))["MAS"] == 0


def test_a_redeemed_reward_lowers_what_the_quote_says_the_order_earns() -> None:
    member = account(
        rewards={
            "catalog": [{"id": "five-off", "kind": "amount_off", "amount": "5.00", "cost": 10}]
        }
    )
    complete_order(member, cart(line("SEED", "50.00"), id="O-0"), at=T0, key="o0")
    data = cart(line("LIP", "20.00"), id="O-1")
    before = quote(member, data, at=T0).earn.points
    redemption = redeem_reward(member, "five-off", data, at=T0, key="r1")
    after = quote(member, data, at=T0).earn
    assert redemption.total == usd("5.00")
    assert before == 20
    assert after.points == before - 5
    assert after.lines[0].basis == usd("15.00")


# ------------------------------------------------------------------ multipliers


TWO_MULTIPLIERS = [
    {"name": "double-makeup", "products": {"categories": ["makeup"]}, "multiplier": 2},
    {"name": "one-and-a-half", "multiplier": "1.5"},
]


@pytest.mark.parametrize(
    ("combine", "total", "shares"),
    [
        # multiply: 100 x 2 x 1.5; the second multiplier applies to the already doubled 200.
        ("multiply", 300, {"base": 100, "double-makeup": 100, "one-and-a-half": 100}),
        # add: 100 + 100 (the 2x's extra) + 50 (the 1.5x's extra).
        ("add", 250, {"base": 100, "double-makeup": 100, "one-and-a-half": 50}),
        # best: only the 2x applies.
        ("best", 200, {"base": 100, "double-makeup": 100}),
    ],
)
def test_multipliers_combine_as_configured(
    combine: str, total: int, shares: dict[str, int]
) -> None:
    club = program(earning={"combine": combine, "rules": TWO_MULTIPLIERS})
    result = earn(club, cart(line("LIP", "100.00", categories=["makeup"])))
    assert result.points == total
    assert result.lines[0].multiplier == Decimal(total) / 100
    assert by_rule(result) == shares
    assert_breakdown_sums(result)


def test_a_multiplier_applies_only_to_the_products_it_selects() -> None:
    club = program(earning={"rules": TWO_MULTIPLIERS})
    result = earn(club, cart(line("LIP", "10.00", categories=["makeup"]), line("SOAP", "10.00")))
    assert by_line(result) == {"LIP": 30, "SOAP": 15}
    assert result.lines[0].rules == ("double-makeup", "one-and-a-half")
    assert result.lines[1].rules == ("one-and-a-half",)
    assert_breakdown_sums(result)


def test_the_breakdown_sums_to_the_total_when_lines_round() -> None:
    club = program(earning={"rules": TWO_MULTIPLIERS})
    result = earn(
        club,
        cart(
            line("LIP", "3.33", 3, categories=["makeup"]),
            line("SOAP", "7.77"),
            line("MAS", "1.01", 7, categories=["makeup"]),
        ),
    )
    assert_breakdown_sums(result)
    assert by_rule(result)["base"] > 0


def test_the_tier_earn_multiplier_applies() -> None:
    club = program(tiers=gold_ladder("1.5"))
    data = cart(line("LIP", "100.00"))
    gold = earn(club, data, tier="Gold")
    assert gold.points == 150
    assert by_rule(gold) == {"base": 100, "tier Gold": 50}
    assert gold.lines[0].rules == ("tier Gold",)
    assert earn(club, data, tier="Silver").points == 100
    assert earn(club, data).points == 100


def test_tier_multipliers_false_ignores_the_tier_benefit() -> None:
    club = program(tiers=gold_ladder("1.5"), earning={"tier_multipliers": False})
    result = earn(club, cart(line("LIP", "100.00")), tier="Gold")
    assert result.points == 100
    assert by_rule(result) == {"base": 100}


def test_the_tier_multiplier_combines_with_rules() -> None:
    club = program(
        tiers=gold_ladder("1.5"), earning={"combine": "add", "rules": [TWO_MULTIPLIERS[0]]}
    )
    result = earn(club, cart(line("LIP", "100.00", categories=["makeup"])), tier="Gold")
    assert result.points == 100 + 50 + 100
    assert_breakdown_sums(result)


def test_quote_takes_the_tier_from_the_cart_customer() -> None:
    member = account(tiers=gold_ladder("2"))
    data = cart(line("LIP", "10.00"), customer={"tier": "Gold"})
    assert quote(member, data, at=T0).earn.points == 20
    data["customer"] = {"tier": "Silver"}
    assert quote(member, data, at=T0).earn.points == 10


# ------------------------------------------------------------------ when and for whom


SINGLES_DAY = {
    "rules": [
        {
            "name": "singles-day",
            "window": {"starts": "2026-11-11", "ends": "2026-11-12"},
            "multiplier": 3,
        }
    ]
}


@pytest.mark.parametrize(
    ("at", "points"),
    [
        (utc(2026, 11, 10, 15, 59), 10),  # 11-10 23:59 in Shanghai
        (utc(2026, 11, 10, 16, 0), 30),  # 11-11 00:00 in Shanghai
        (utc(2026, 11, 10, 17, 0), 30),  # 11-11 01:00 in Shanghai
        (utc(2026, 11, 11, 15, 59), 30),  # 11-11 23:59 in Shanghai
        (utc(2026, 11, 11, 16, 30), 10),  # 11-12 00:30 in Shanghai, still 11-11 in UTC
    ],
)
def test_a_campaign_window_is_read_in_the_program_timezone(at: datetime, points: int) -> None:
    club = program(timezone="Asia/Shanghai", earning=SINGLES_DAY)
    result = earn(club, cart(line("LIP", "10.00")), at=at)
    assert result.points == points
    assert ("singles-day" in result.lines[0].rules) is (points == 30)


def test_a_segment_rule_applies_only_to_customers_in_the_segment() -> None:
    club = program(
        earning={
            "rules": [{"name": "newsletter", "segments": ["newsletter", "vip"], "multiplier": 2}]
        }
    )
    subscribed = cart(line("LIP", "10.00"), customer={"segments": ["vip"]})
    assert earn(club, subscribed).points == 20
    other = cart(line("LIP", "10.00"), customer={"segments": ["staff"]})
    assert earn(club, other).points == 10
    assert earn(club, cart(line("LIP", "10.00"))).points == 10


def test_a_tier_rule_applies_only_to_members_in_the_tier() -> None:
    club = program(
        tiers=ladder(*SPEND_LADDER),
        earning={"rules": [{"name": "gold-bonus", "tiers": ["Gold", "Platinum"], "bonus": 25}]},
    )
    data = cart(line("LIP", "10.00"))
    assert earn(club, data, tier="Gold").points == 35
    assert earn(club, data, tier="Platinum").points == 35
    assert earn(club, data, tier="Silver").points == 10
    assert earn(club, data).points == 10


# ------------------------------------------------------------------ bonuses


def test_a_bonus_is_given_once_and_spread_over_matching_lines_by_base() -> None:
    club = program(
        earning={
            "rules": [
                {"name": "serum-launch", "products": {"skus": ["SER-01", "SER-02"]}, "bonus": 50}
            ]
        }
    )
    result = earn(
        club,
        cart(line("SER-01", "15.00", 2), line("SER-02", "10.00"), line("LIP", "10.00")),
    )
    # 50 split 30:10 -> 37 (rounded down) and the remainder 13 on the last matching line.
    assert by_line(result) == {"SER-01": 30 + 37, "SER-02": 10 + 13, "LIP": 10}
    assert result.points == 50 + 50
    assert by_rule(result) == {"base": 50, "serum-launch": 50}
    assert "serum-launch" in result.lines[0].rules
    assert "serum-launch" not in result.lines[2].rules
    assert_breakdown_sums(result)


def test_a_bonus_without_a_matching_line_gives_nothing() -> None:
    club = program(
        earning={
            "exclude": {"skus": ["SER-01"]},
            "rules": [{"name": "serum-launch", "products": {"skus": ["SER-01"]}, "bonus": 50}],
        }
    )
    # The only matching line is excluded, so it does not count as matching.
    assert earn(club, cart(line("SER-01", "10.00"), line("LIP", "10.00"))).points == 10
    assert earn(club, cart(line("LIP", "10.00"))).points == 10


def test_a_bonus_is_not_multiplied() -> None:
    club = program(
        earning={"rules": [{"name": "double", "multiplier": 2}, {"name": "hello", "bonus": 5}]}
    )
    result = earn(club, cart(line("LIP", "10.00")))
    assert result.points == 25
    assert by_rule(result) == {"base": 10, "double": 10, "hello": 5}


# ------------------------------------------------------------------ minimum and caps


def test_orders_below_the_minimum_subtotal_earn_nothing_and_say_why() -> None:
    club = program(
        earning={
            "min_subtotal": "25.00",
            "basis": {"shipping": True},
            "rules": [{"name": "hello", "bonus": 5}],
        }
    )
    # Shipping and gift cards do not count toward the minimum.
    small = earn(
        club,
        cart(line("LIP", "24.99"), line("GC", "50.00", gift_card=True), shipping="10.00"),
    )
    assert small.points == 0
    assert small.shipping_points == 0
    assert by_line(small) == {"LIP": 0, "GC": 0}
    assert small.rules == ()
    assert len(small.notes) == 1
    assert "25.00" in small.notes[0]
    enough = earn(club, cart(line("LIP", "25.00")))
    assert enough.points == 30
    assert enough.notes == ()


def test_the_per_order_cap_cuts_the_total_and_spreads_the_cut_over_the_lines() -> None:
    club = program(earning={"caps": {"per_order": 50}})
    result = earn(club, cart(line("LIP", "60.00"), line("MAS", "40.00")))
    assert result.points == 50
    assert by_line(result) == {"LIP": 30, "MAS": 20}
    assert by_rule(result)["cap"] == -50
    assert any("50 points per order" in note for note in result.notes)
    assert_breakdown_sums(result)
    under = earn(club, cart(line("LIP", "40.00")))
    assert under.points == 40
    assert "cap" not in by_rule(under)
    assert under.notes == ()


def test_the_per_order_cap_also_cuts_shipping_points() -> None:
    club = program(earning={"caps": {"per_order": 40}, "basis": {"shipping": True}})
    result = earn(club, cart(line("LIP", "60.00"), shipping="20.00"))
    assert result.points == 40
    assert result.lines[0].points + result.shipping_points == 40
    assert result.shipping_points == 10


@pytest.mark.parametrize(("earned_today", "points"), [(0, 40), (30, 20), (50, 0), (80, 0)])
def test_the_per_day_cap_counts_what_orders_earned_today(earned_today: int, points: int) -> None:
    club = program(earning={"caps": {"per_day": 50}})
    result = earn(club, cart(line("LIP", "40.00")), earned_today=earned_today)
    assert result.points == points


def test_the_per_day_cap_spans_orders_of_the_same_local_day() -> None:
    member = account(timezone="America/New_York", earning={"caps": {"per_day": 50}})
    first = complete_order(
        member, cart(line("LIP", "40.00"), id="O-1"), at=utc(2026, 3, 1, 15), key="o1"
    )
    assert first.earn.points == 40
    late = quote(member, cart(line("LIP", "40.00"), id="O-2"), at=utc(2026, 3, 2, 3)).earn
    assert late.points == 10
    assert any("10 left today" in note for note in late.notes)
    # 03:00 UTC on March 2nd is still March 1st in New York: 10 left today.
    second = complete_order(
        member, cart(line("LIP", "40.00"), id="O-2"), at=utc(2026, 3, 2, 3), key="o2"
    )
    assert second.earn.points == 10
    # 06:00 UTC on March 2nd is March 2nd in New York: a new day.
    third = complete_order(
        member, cart(line("LIP", "40.00"), id="O-3"), at=utc(2026, 3, 2, 6), key="o3"
    )
    assert third.earn.points == 40
    assert member.balance().available == 90


def test_the_per_period_cap_counts_what_orders_earned_this_period() -> None:
    club = program(earning={"caps": {"per_period": {"points": 100, "period": "month"}}})
    data = cart(line("LIP", "40.00"))
    assert earn(club, data, earned_this_period=70).points == 30
    assert earn(club, data, earned_this_period=50).points == 40
    cut = earn(club, data, earned_this_period=100)
    assert cut.points == 0
    assert any("per month" in note for note in cut.notes)


def test_the_per_period_cap_through_orders_resets_with_the_month() -> None:
    member = account(earning={"caps": {"per_period": {"points": 100, "period": "month"}}})
    assert (
        complete_order(
            member, cart(line("LIP", "80.00"), id="O-1"), at=utc(2026, 3, 1), key="o1"
        ).earn.points
        == 80
    )
    assert (
        complete_order(
            member, cart(line("LIP", "80.00"), id="O-2"), at=utc(2026, 3, 31, 23), key="o2"
        ).earn.points
        == 20
    )
    assert (
        complete_order(
            member, cart(line("LIP", "80.00"), id="O-3"), at=utc(2026, 4, 1), key="o3"
        ).earn.points
        == 80
    )


def test_the_tightest_cap_wins() -> None:
    club = program(
        earning={
            "caps": {
                "per_order": 60,
                "per_day": 100,
                "per_period": {"points": 1000, "period": "month"},
            }
        }
    )
    data = cart(line("LIP", "100.00"))
    assert earn(club, data).points == 60
    assert earn(club, data, earned_today=70).points == 30
    assert earn(club, data, earned_this_period=990).points == 10


# ------------------------------------------------------------------ currencies and rounding


def test_a_foreign_currency_earns_at_the_configured_rate() -> None:
    club = program(earning={"currencies": {"EUR": "1.08"}})
    data = {**cart(line("LIP", "100.00"), line("MAS", "0.50")), "currency": "EUR"}
    result = earn(club, data)
    assert result.lines[0].basis == Money("108.00", "USD")
    assert result.lines[1].basis == Money("0.54", "USD")
    assert result.basis == Money("108.54", "USD")
    assert result.points == 108


def test_a_currency_the_program_does_not_accept_is_refused() -> None:
    club = program(earning={"currencies": {"EUR": "1.08"}})
    data = {**cart(line("LIP", "10.00")), "currency": "GBP"}
    with pytest.raises(UnsupportedCurrency) as caught:
        earn(club, data)
    assert caught.value.value == "GBP"
    assert "EUR" in str(caught.value)
    assert "USD" in str(caught.value)
    with pytest.raises(UnsupportedCurrency):
        quote(open_account(club, "m-1"), data, at=T0)


@pytest.mark.parametrize(("rounding", "mode"), [("floor", ROUND_FLOOR), ("half_up", ROUND_HALF_UP)])
def test_rounding_scope_line_rounds_each_line_on_its_own(rounding: str, mode: str) -> None:
    club = program(rounding=rounding, earning={"rounding_scope": "line"})
    prices = ["10.60", "10.60", "3.50"]
    result = earn(club, cart(*(line(f"S{i}", price) for i, price in enumerate(prices))))
    per_line = [int(Decimal(price).to_integral_value(mode)) for price in prices]
    assert [earned.points for earned in result.lines] == per_line
    assert result.points == sum(per_line)
    # Rounded per line, not on the order total (24.70).
    assert result.points != int(sum(map(Decimal, prices)).to_integral_value(mode))


# ------------------------------------------------------- rounding once per order


def test_ten_lines_of_half_a_dollar_earn_what_one_line_of_five_earns_with_half_up() -> None:
    club = program(rounding="half_up")
    result = earn(club, cart(*(line(f"S{i}", "0.50") for i in range(10))))
    # Rounded per line, each 0.5 would give 1 point: 10 for a 5.00 basket.
    assert result.points == 5
    assert sorted(by_line(result).values()) == [0] * 5 + [1] * 5
    assert_breakdown_sums(result)


def test_a_hundred_lines_of_one_cent_earn_one_point_with_ceiling() -> None:
    club = program(rounding="ceiling")
    result = earn(club, cart(*(line(f"S{i}", "0.01") for i in range(100))))
    assert result.points == 1
    assert sum(by_line(result).values()) == 1
    assert_breakdown_sums(result)


def test_a_coupon_spread_over_two_lines_costs_no_point_with_floor() -> None:
    # 50 + 20 less a 10.00 coupon, spread 7.14 / 2.86: the lines pay 42.86 and 17.14,
    # 60.00 in all. Floored per line that was 42 + 17 = 59.
    club = program(rounding="floor")
    reductions = {"A": Decimal("7.14"), "B": Decimal("2.86")}
    result = earn(club, cart(line("A", "50.00"), line("B", "20.00")), reductions=reductions)
    assert result.basis == usd("60.00")
    assert result.points == 60
    # The point left after flooring each line goes to the larger fraction (A's .86).
    assert by_line(result) == {"A": 43, "B": 17}


def test_a_coupon_redeemed_on_the_cart_is_earned_on_once_through_complete_order() -> None:
    five = {"id": "ten-off", "kind": "amount_off", "amount": "10.00", "cost": 0}
    club = program(rewards={"catalog": [five]})
    member = open_account(club, "m-1")
    data = cart(line("A", "50.00"), line("B", "20.00"))
    redeem_reward(member, "ten-off", data, at=T0, key="r")
    assert quote(member, data, at=T0).earn.points == 60
    done = complete_order(member, data, at=T0, key="o")
    assert done.earn is not None
    assert done.earn.points == 60
    assert sum(lp.points for lp in done.earn.lines) == 60


def test_leftover_points_go_to_the_largest_fractions_and_the_later_line_on_a_tie() -> None:
    club = program(rounding="half_up")
    result = earn(club, cart(line("A", "0.50"), line("B", "0.70"), line("C", "0.80")))
    assert by_line(result) == {"A": 0, "B": 1, "C": 1}  # 2.00 -> 2
    tie = earn(club, cart(line("A", "0.50"), line("B", "0.50"), line("C", "0.50")))
    assert by_line(tie) == {"A": 0, "B": 1, "C": 1}  # 1.50 -> 2


def test_shipping_points_share_the_order_rounding() -> None:
    club = program(rounding="floor", earning={"basis": {"shipping": True}})
    result = earn(club, cart(line("A", "9.60"), shipping="0.40"))
    # 9.60 + 0.40 = 10.00 earns 10; apart, floor(9.60) + floor(0.40) = 9.
    assert result.points == 10
    assert (by_line(result), result.shipping_points) == ({"A": 10}, 0)
    assert_breakdown_sums(result)


def test_rounding_once_keeps_multipliers_bonuses_and_caps_adding_up() -> None:
    rules = [*TWO_MULTIPLIERS, {"name": "launch", "products": {"skus": ["S1"]}, "bonus": 7}]
    uncapped = program(rounding="half_up", earning={"rules": rules})
    club = program(rounding="half_up", earning={"rules": rules, "caps": {"per_order": 20}})
    data = cart(*(line(f"S{i}", "0.50", categories=["makeup"]) for i in range(10)))
    free = earn(uncapped, data)
    # 10 x 0.50 x 2 x 1.5 = 15.00 -> 15, plus the bonus 7.
    assert free.points == 22
    assert_breakdown_sums(free)
    capped = earn(club, data)
    assert capped.points == 20
    assert_breakdown_sums(capped)


@pytest.mark.parametrize("rounding", ["floor", "half_up", "half_even", "ceiling"])
def test_splitting_a_basket_into_lines_never_changes_its_points(rounding: str) -> None:
    club = program(rounding=rounding, earning={"rate": "1.5"})
    whole = earn(club, cart(line("A", "7.77", 3)))
    split = earn(club, cart(*(line(f"A{i}", "7.77") for i in range(3))))
    assert whole.points == split.points


# --------------------------------------------------- the order that lifts a tier


def test_the_order_that_lifts_a_member_into_a_tier_earns_at_the_tier_they_held() -> None:
    tiers = gold_ladder("2")
    tiers["ladder"][1]["benefits"] = {"earn_multiplier": "1.25"}
    club = program(tiers=tiers)
    member = open_account(club, "m-1")
    first = complete_order(member, {**cart(line("LIP", "450.00")), "id": "O-1"}, at=T0, key="1")
    assert first.tier_change is not None
    assert first.tier_change.tier_to == "Silver"
    # Member -> Silver on this order: it earns at the Member rate, 450.
    assert first.earn is not None
    assert first.earn.points == 450

    lifting = {**cart(line("LIP", "100.00")), "id": "O-2"}
    assert quote(member, lifting, at=T0).earn.points == 125  # Silver's 1.25, not Gold's 2
    second = complete_order(member, lifting, at=T0, key="2")
    assert second.tier_change is not None
    assert second.tier_change.tier_to == "Gold"
    assert second.earn is not None
    assert second.earn.points == 125

    # Gold's rate applies from the next order on.
    third = complete_order(member, {**cart(line("LIP", "100.00")), "id": "O-3"}, at=T0, key="3")
    assert third.earn is not None
    assert third.earn.points == 200
