"""Offers, stacking and multi-unit rewards through the public checkout calls: what
the quote shows is what a redemption writes, and the order earns after both."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from loyalty import (
    ConfigurationError,
    InvalidInput,
    MemoryStock,
    RedemptionRefused,
    complete_order,
    load_program,
    program_warnings,
    quote,
    redeem_reward,
    void_redemption,
)
from loyalty.cart import load_cart
from loyalty.checkout.offers import apply_offers
from loyalty.stacking.engine import Applied, Skipped
from tests.builders import program, usd
from tests.test_checkout import T0, cart, funded, line, rewards

SHIP_FREE = {
    "id": "ship-35",
    "kind": "free_shipping",
    "conditions": {"min_basket": "35.00"},
    "audience": {"segments": ["newsletter"]},
}


def offers(*catalog: dict[str, Any]) -> dict[str, Any]:
    return {"catalog": list(catalog)}


def offer_lines(found: Applied | Skipped) -> list[tuple[str, str]]:
    assert isinstance(found, Applied), found
    return [(part.line, str(part.amount.amount)) for part in found.lines]


def named(q: Any, offer_id: str) -> Applied | Skipped:
    for item in q.offers:
        if item.candidate.name == offer_id:
            return item  # type: ignore[no-any-return]
    raise AssertionError(f"{offer_id} is not on the quote")


def test_story_8_free_shipping_above_a_threshold_only_for_a_segment() -> None:
    member = funded(1, offers=offers(SHIP_FREE))
    short = cart("C-1", line("LIP", "30.50"), shipping="4.90",
                 customer={"segments": ["newsletter"]})
    found = named(quote(member, short, at=T0), "ship-35")
    assert isinstance(found, Skipped)
    assert found.reason == "add 4.50 USD to your basket"
    assert found.check is not None
    assert found.check.shortfall == usd("4.50")
    enough = cart("C-1", line("LIP", "35.00"), shipping="4.90",
                  customer={"segments": ["newsletter"]})
    applied = named(quote(member, enough, at=T0), "ship-35")
    assert isinstance(applied, Applied)
    assert applied.shipping == usd("4.90")
    outsider = cart("C-1", line("LIP", "35.00"), shipping="4.90")
    assert quote(member, outsider, at=T0).offers == ()  # not shown at all


def test_the_quote_explains_what_applied_in_order_and_what_was_dropped() -> None:
    member = funded(1, offers=offers(
        {"id": "ten", "kind": "percent_off", "percent": 10},
        {"id": "sale", "kind": "percent_off", "percent": 30, "group": "summer-sale"},
        {"id": "lip-2", "kind": "amount_off", "amount": "2.00", "products": {"skus": ["LIP"]}},
    ), stacking={"groups": [{"id": "summer-sale", "mode": "exclusive"}]})
    basket = cart("C-1", line("LIP", "20.00"), line("SER", "30.00"))
    q = quote(member, basket, at=T0)
    assert [item.candidate.name for item in q.offers if isinstance(item, Applied)] == ["sale"]
    text = q.explain()
    assert "sale: 15.00 USD off (LIP 6.00 USD, SER 9.00 USD)" in text
    assert "ten: not applied: excluded by 'summer-sale' (exclusive): sale applies alone" in text


def test_redeeming_writes_the_offers_and_the_order_earns_after_them() -> None:
    member = funded(500, earning={"rate": 1},
                    offers=offers({"id": "ten", "kind": "percent_off", "percent": 10}),
                    rewards=rewards({"id": "five", "kind": "amount_off", "amount": "5.00",
                                     "cost": 100}))
    basket = cart("C-1", line("LIP", "50.00"))
    option = quote(member, basket, at=T0).option("five")
    assert option.value == usd("5.00")
    done = redeem_reward(member, "five", basket, at=T0, key="r-1")
    assert done.total == option.value  # the quote and the redemption agree
    on_cart = [r for r in member.redemptions("C-1") if r.in_use]
    assert sorted((r.offer or r.reward or "") for r in on_cart) == ["five", "ten"]
    result = complete_order(member, basket, at=T0, key="o-1")
    assert result.earn is not None
    assert result.earn.points == 40


def test_apply_offers_writes_them_once() -> None:
    member = funded(1, offers=offers({"id": "ten", "kind": "percent_off", "percent": 10}))
    basket = cart("C-1", line("LIP", "50.00"))
    first = apply_offers(member, basket, at=T0, key="a-1")
    assert [r.total for r in first] == [usd("5.00")]
    again = apply_offers(member, basket, at=T0, key="a-2")
    assert [r.entry.id for r in again] == [r.entry.id for r in first]
    assert len([r for r in member.redemptions("C-1") if r.in_use]) == 1


def test_a_reward_redeems_once_per_cart_unless_it_says_otherwise() -> None:
    ten = {"id": "ten", "kind": "percent_off", "percent": 10, "cost": 10}
    member = funded(100, rewards=rewards(ten, {**ten, "id": "thrice", "per_cart": 3}))
    basket = cart("C-1", line("A", "100.00", 3))
    redeem_reward(member, "ten", basket, at=T0, key="r-1")
    with pytest.raises(RedemptionRefused) as refused:
        redeem_reward(member, "ten", basket, at=T0, key="r-2")
    assert [c.condition for c in refused.value.unmet] == ["per_cart"]
    assert "already on this cart" in str(refused.value)
    for n in range(3):
        redeem_reward(member, "thrice", basket, at=T0, key=f"t-{n}")
    assert not quote(member, basket, at=T0).option("thrice").eligible
    totals = sorted(r.discounts[0].amount.amount for r in member.redemptions("C-1") if r.in_use)
    # 300 -> 270 -> 243 -> 218.70 -> 196.83: each 10% sees the cart after the others.
    assert [str(t) for t in totals] == ["21.87", "24.30", "27.00", "30.00"]


def test_two_free_units_per_three_points() -> None:
    gift = {"id": "two-free", "kind": "free_product", "choices": ["SOAP"], "units": 2, "cost": 3}
    member = funded(20, rewards=rewards(gift))
    basket = cart("C-1", line("SOAP", "4.00", 6))
    option = quote(member, basket, at=T0).option("two-free")
    assert (option.points, option.value) == (3, usd("8.00"))
    done = redeem_reward(member, "two-free", basket, at=T0, key="r-1", units=5)
    assert done.points == 9  # ceil(5 / 2) x 3
    assert done.total == usd("20.00")
    assert member.balance().available == 11


def test_a_reward_in_an_exclusive_group_replaces_the_offers() -> None:
    member = funded(500, offers=offers({"id": "ten", "kind": "percent_off", "percent": 10}),
                    rewards=rewards({"id": "vip", "kind": "percent_off", "percent": 40,
                                     "cost": 100, "group": "vip"}),
                    stacking={"groups": [{"id": "vip", "mode": "exclusive"}]})
    basket = cart("C-1", line("LIP", "50.00"))
    apply_offers(member, basket, at=T0, key="a-1")
    done = redeem_reward(member, "vip", basket, at=T0, key="r-1")
    assert done.total == usd("20.00")
    on_cart = [r for r in member.redemptions("C-1") if r.in_use]
    assert [r.reward for r in on_cart] == ["vip"]  # the offer's record was voided
    void_redemption(member, done.entry.id, at=T0, key="v-1")
    assert member.balance().available == 500


def test_the_per_order_cap_in_percent_cuts_the_last_discount() -> None:
    member = funded(500, offers=offers({"id": "twenty", "kind": "percent_off", "percent": 20}),
                    rewards=rewards({"id": "fifteen", "kind": "amount_off", "amount": "15.00",
                                     "cost": 100}),
                    stacking={"caps": {"max_percent": 30}})
    basket = cart("C-1", line("LIP", "100.00"))
    option = quote(member, basket, at=T0).option("fifteen")
    assert option.value == usd("10.00")
    assert option.applied is not None
    assert option.applied.note == (
        "cut to the per-order cap of 30%"
    )
    assert redeem_reward(member, "fifteen", basket, at=T0, key="r-1").total == usd("10.00")


def test_stacking_configuration_problems_are_reported_with_their_paths() -> None:
    with pytest.raises(ConfigurationError) as error:
        load_program({
            "id": "p", "name": "P", "currency": "USD", "timezone": "UTC",
            "offers": {"catalog": [
                {"id": "a", "kind": "percent_off", "percent": 10, "group": "nope"},
                {"id": "a", "kind": "amount_off", "amount": "1.00", "combines_with": ["zzz"]},
            ]},
            "stacking": {"groups": [{"id": "g"}, {"id": "g"}]},
        })
    paths = {problem.path for problem in error.value.problems}
    assert {"offers.catalog[0].group", "offers.catalog[1].id",
            "offers.catalog[1].combines_with[0]", "stacking.groups[1].id"} <= paths


def test_a_one_sided_combines_with_is_a_warning() -> None:
    skin = {"categories": ["skincare"]}
    prog = program(offers=offers(
        {"id": "a", "kind": "percent_off", "percent": 10, "products": skin,
         "combines_with": ["b"]},
        {"id": "b", "kind": "percent_off", "percent": 5, "products": skin},
    ))
    warnings = program_warnings(prog)
    assert [w.path for w in warnings] == ["offers.catalog[0].combines_with"]
    assert "combine both ways" in warnings[0].message


def test_combines_with_on_a_whole_cart_discount_is_a_warning() -> None:
    prog = program(offers=offers(
        {"id": "a", "kind": "percent_off", "percent": 10, "combines_with": ["b"]},
        {"id": "b", "kind": "amount_off", "amount": "1.00", "combines_with": ["a"]},
    ))
    assert [w.path for w in program_warnings(prog)] == [
        "offers.catalog[0].combines_with", "offers.catalog[1].combines_with"
    ]


def test_an_offer_may_not_share_a_reward_id() -> None:
    with pytest.raises(ConfigurationError) as error:
        program(offers=offers({"id": "ten", "kind": "percent_off", "percent": 10}),
                rewards=rewards({"id": "ten", "kind": "amount_off", "amount": "1.00",
                                 "cost": 1}))
    assert [p.path for p in error.value.problems] == ["offers.catalog[0].id"]


def test_a_multi_unit_free_product_quotes_the_units_the_cart_has() -> None:
    gift = {"id": "two-free", "kind": "free_product", "choices": ["SOAP"], "units": 2, "cost": 3}
    member = funded(20, rewards=rewards(gift))
    option = quote(member, cart("C-1", line("SOAP", "4.00")), at=T0).option("two-free")
    assert (option.eligible, option.units, option.points, option.value) == (
        True, 1, 3, usd("4.00")
    )


def test_only_the_best_of_five_percent_from_two_items_and_ten_from_four() -> None:
    member = funded(1, offers=offers(
        {"id": "five-from-2", "kind": "percent_off", "percent": 5, "group": "volume",
         "conditions": {"min_units": 2}},
        {"id": "ten-from-4", "kind": "percent_off", "percent": 10, "group": "volume",
         "conditions": {"min_units": 4}},
    ), stacking={"groups": [{"id": "volume", "mode": "best_of"}]})
    three = quote(member, cart("C-1", line("A", "10.00", 3)), at=T0)
    assert [a.candidate.name for a in three.offers if isinstance(a, Applied)] == ["five-from-2"]
    ten = named(three, "ten-from-4")
    assert isinstance(ten, Skipped)
    assert ten.reason == "add 1 more unit"
    five = quote(member, cart("C-1", line("A", "10.00", 5)), at=T0)
    assert [str(a.amount.amount) for a in five.offers if isinstance(a, Applied)] == ["5.00"]
    dropped = named(five, "five-from-2")
    assert isinstance(dropped, Skipped)
    assert dropped.reason == "only one of 'volume' applies: ten-from-4 is the better one"


def test_at_least_three_of_a_and_at_least_320_in_all() -> None:
    member = funded(1, offers=offers(
        {"id": "bulk", "kind": "amount_off", "amount": "20.00",
         "conditions": {"all_of": [{"min_units": {"units": 3, "products": {"skus": ["A"]}}},
                                   {"min_basket": "320.00"}]}},
    ))
    short = named(quote(member, cart("C-1", line("A", "100.00", 2), line("B", "130.00")),
                        at=T0), "bulk")
    assert isinstance(short, Skipped)
    assert short.reason == "add 1 more of A"
    done = named(quote(member, cart("C-1", line("A", "100.00", 3), line("B", "20.00")),
                       at=T0), "bulk")
    assert isinstance(done, Applied)
    assert done.amount == usd("20.00")


def test_a_threshold_measured_before_or_after_the_discounts() -> None:
    after = {"id": "ship", "kind": "free_shipping", "conditions": {"min_basket": "35.00"}}
    before = {**after, "conditions": {"min_basket": {"amount": "35.00", "discounts": "before"}}}
    ten = {"id": "ten", "kind": "amount_off", "amount": "5.00"}
    basket = cart("C-1", line("A", "38.00"), shipping="4.90")
    on_net = quote(funded(1, offers=offers(ten, after)), basket, at=T0)
    assert [a.candidate.name for a in on_net.offers if isinstance(a, Applied)] == ["ten"]
    assert named(on_net, "ship").reason == "add 2.00 USD to your basket"  # 33.00 after 5.00
    on_gross = quote(funded(1, offers=offers(ten, before)), basket, at=T0)
    assert sorted(a.candidate.name for a in on_gross.offers if isinstance(a, Applied)) == [
        "ship", "ten"
    ]


def test_of_two_exclusive_rewards_the_better_stays_whatever_the_order() -> None:
    group = {"group": "vip"}
    small = {"id": "small", "kind": "amount_off", "amount": "5.00", "cost": 10, **group}
    big = {"id": "big", "kind": "percent_off", "percent": 20, "cost": 10, **group}
    for first, second in (("small", "big"), ("big", "small")):
        member = funded(100, rewards=rewards(small, big),
                        stacking={"groups": [{"id": "vip", "mode": "best_of"}]})
        basket = cart("C-1", line("A", "50.00"))
        redeem_reward(member, first, basket, at=T0, key="r-1")
        if second == "big":
            redeem_reward(member, second, basket, at=T0, key="r-2")  # replaces small
        else:
            with pytest.raises(RedemptionRefused) as refused:
                redeem_reward(member, second, basket, at=T0, key="r-2")
            assert "only one of 'vip' applies: big is the better one" in str(refused.value)
        on_cart = [r.reward for r in member.redemptions("C-1") if r.in_use]
        assert on_cart == ["big"]
        assert member.balance().available == 90  # small's points came back


def test_a_redemption_reports_what_it_took_off_the_cart() -> None:
    small = {"id": "small", "kind": "amount_off", "amount": "5.00", "cost": 10, "group": "vip"}
    big = {"id": "big", "kind": "percent_off", "percent": 20, "cost": 10, "group": "vip"}
    member = funded(100, rewards=rewards(small, big),
                    stacking={"groups": [{"id": "vip", "mode": "best_of"}]})
    basket = cart("C-1", line("A", "50.00"))
    assert redeem_reward(member, "small", basket, at=T0, key="r-1").dropped == ()
    done = redeem_reward(member, "big", basket, at=T0, key="r-2")
    assert [(d.candidate.name, d.reason) for d in done.dropped] == [
        ("small", "only one of 'vip' applies: big is the better one")
    ]


def test_a_stocked_reward_taken_off_by_a_restack_gives_its_unit_back() -> None:
    small = {"id": "small", "kind": "amount_off", "amount": "5.00", "cost": 10,
             "group": "vip", "stock": 1}
    big = {"id": "big", "kind": "percent_off", "percent": 20, "cost": 10, "group": "vip"}
    member = funded(100, rewards=rewards(small, big),
                    stacking={"groups": [{"id": "vip", "mode": "best_of"}]})
    stock = MemoryStock(member.program.rewards.catalog)
    basket = cart("C-1", line("A", "50.00"))
    redeem_reward(member, "small", basket, at=T0, key="r-1", stock=stock)
    assert stock.left("small") == 0
    redeem_reward(member, "big", basket, at=T0, key="r-2", stock=stock)
    assert stock.left("small") == 1


def test_a_rewritten_stocked_reward_still_releases_its_unit_when_voided() -> None:
    pct = {"id": "pct", "kind": "percent_off", "percent": 10, "cost": 10, "stock": 1}
    free = {"id": "free", "kind": "free_product", "choices": ["A"], "cost": 10}
    member = funded(100, rewards=rewards(pct, free))
    stock = MemoryStock(member.program.rewards.catalog)
    basket = cart("C-1", line("A", "10.00"), line("B", "40.00"))
    redeem_reward(member, "pct", basket, at=T0, key="r-1", stock=stock)
    redeem_reward(member, "free", basket, at=T0, key="r-2", stock=stock)  # applies first
    (record,) = [r for r in member.redemptions("C-1") if r.in_use and r.reward == "pct"]
    assert str(record.discounts[0].amount.amount) == "4.00"  # 10% of what is left: 40.00
    void_redemption(member, record.id, at=T0, key="v-1", stock=stock)
    assert stock.left("pct") == 1


# ------------------------------------------------------------ what a review found


def test_a_later_discount_may_not_cut_points_already_paid_as_money() -> None:
    pwp = {"id": "pwp", "kind": "pay_with_points", "points": 100, "value": "1.00"}
    ten = {"id": "ten", "kind": "percent_off", "percent": 10, "cost": 0}
    member = funded(10000, rewards=rewards(pwp, ten))
    basket = cart("C-1", line("X", "100.00"))
    redeem_reward(member, "pwp", basket, at=T0, key="r-1", points=10000)
    with pytest.raises(RedemptionRefused) as refused:
        redeem_reward(member, "ten", basket, at=T0, key="r-2")
    assert "it would leave pwp, paid with points, 90.00 USD instead of 100.00 USD" in str(
        refused.value
    )
    assert member.balance().available == 0


def test_a_reward_that_would_lose_a_better_offer_is_not_eligible() -> None:
    member = funded(500, offers=offers({"id": "sale", "kind": "percent_off", "percent": 30,
                                        "group": "sale"}),
                    rewards=rewards({"id": "five", "kind": "amount_off", "amount": "5.00",
                                     "cost": 100}),
                    stacking={"groups": [{"id": "sale", "mode": "exclusive"}]})
    basket = cart("C-1", line("X", "100.00"))
    option = quote(member, basket, at=T0).option("five")
    assert not option.eligible
    assert option.check.reason == (
        "the cart's discounts take 30.00 USD off without it, 5.00 USD with it"
    )
    assert quote(member, basket, at=T0).best is None


def test_voiding_by_the_first_id_voids_the_redemption_written_in_its_place() -> None:
    ten = {"id": "ten", "kind": "percent_off", "percent": 10, "cost": 100}
    line20 = {"id": "line20", "kind": "percent_off", "percent": 20, "cost": 0,
              "products": {"skus": ["X"]}}
    member = funded(1000, rewards=rewards(ten, line20))
    basket = cart("C-1", line("X", "100.00"))
    first = redeem_reward(member, "ten", basket, at=T0, key="r-1")
    redeem_reward(member, "line20", basket, at=T0, key="r-2")  # ten is written again: 8.00
    replay = redeem_reward(member, "ten", basket, at=T0, key="r-1")
    assert replay.entry.id != first.entry.id
    assert replay.total == usd("8.00")  # the replay returns what stands now
    void_redemption(member, first.entry.id, at=T0, key="v-1")
    assert [r.reward for r in member.redemptions("C-1") if r.in_use] == ["line20"]
    assert member.balance().available == 1000


def test_voiding_with_the_cart_restacks_what_is_left() -> None:
    ten = {"id": "ten", "kind": "percent_off", "percent": 10, "cost": 100}
    line20 = {"id": "line20", "kind": "percent_off", "percent": 20, "cost": 0,
              "products": {"skus": ["X"]}}
    member = funded(1000, rewards=rewards(ten, line20))
    basket = cart("C-1", line("X", "100.00"))
    redeem_reward(member, "ten", basket, at=T0, key="r-1")
    second = redeem_reward(member, "line20", basket, at=T0, key="r-2")
    void_redemption(member, second.entry.id, at=T0, key="v-1", cart=basket)
    (standing,) = [r for r in member.redemptions("C-1") if r.in_use]
    assert standing.discounts[0].amount == usd("10.00")
    assert member.balance().available == 900


def test_a_reward_redeemed_on_other_terms_keeps_its_lines() -> None:
    ten = {"id": "ten", "kind": "percent_off", "percent": 10, "cost": 100}
    five = {"id": "five", "kind": "amount_off", "amount": "5.00", "cost": 10}
    member = funded(1000, rewards=rewards(ten, five))
    basket = cart("C-1", line("X", "100.00"))
    redeem_reward(member, "ten", basket, at=T0, key="r-1")
    member.program = program(earning={"actions": {"grant": {"points": 1000}}},
                             rewards=rewards({**ten, "percent": 50}, five))
    redeem_reward(member, "five", basket, at=T0, key="r-2")
    amounts = {r.reward: str(r.discounts[0].amount.amount)
               for r in member.redemptions("C-1") if r.in_use}
    assert amounts == {"ten": "10.00", "five": "5.00"}


def test_a_free_product_whose_line_left_the_cart_never_moves_to_another() -> None:
    gift = {"id": "gift", "kind": "free_product", "choices": ["A", "B"], "cost": 10}
    member = funded(100, rewards=rewards(gift))
    redeem_reward(member, "gift", cart("C-1", line("A", "50.00"), line("B", "10.00")),
                  at=T0, key="r-1", choice="B")
    q = quote(member, cart("C-1", line("A", "50.00")), at=T0)
    assert q.stack is not None
    assert q.stack.applied == ()
    assert [s.reason for s in q.stack.skipped] == ["add 1 more of B to your cart"]


def test_a_quote_earns_as_the_order_will_after_the_offers() -> None:
    member = funded(1, earning={"rate": 1},
                    offers=offers({"id": "ten", "kind": "percent_off", "percent": 10}))
    basket = cart("C-1", line("X", "50.00"))
    assert quote(member, basket, at=T0).earn.points == 45
    result = complete_order(member, basket, at=T0, key="o-1")  # writes the offer first
    assert result.earn is not None
    assert result.earn.points == 45
    assert [r.offer for r in member.redemptions("C-1") if r.in_use] == ["ten"]


def test_cashback_tendered_is_fitted_when_a_later_discount_leaves_less_to_pay() -> None:
    from loyalty.checkout.cashback import left_to_pay, spend_cashback, taken
    from loyalty.incentives.shared import MemoryRows, Shared
    from tests.test_incentives import enrolled, new, welcome

    member = new(program(
        incentives={"catalog": [welcome({"kind": "cashback", "amount": "50.00"})]},
        rewards=rewards({"id": "five", "kind": "amount_off", "amount": "5.00", "cost": 0}),
        offers=offers({"id": "ten", "kind": "percent_off", "percent": 10}),
    ))
    enrolled(member, Shared(MemoryRows()))
    basket = cart("c-1", line("X", "20.00"))
    (paid,) = spend_cashback(member, basket, at=T0, key="pay")
    assert paid.tender == usd("20.00")
    redeem_reward(member, "five", basket, at=T0, key="five")  # writes the 10% offer too
    on_cart = [r for r in member.redemptions("c-1") if r.in_use]
    assert sum(taken(r) for r in on_cart) == Decimal("20.00")  # never more than the cart
    assert left_to_pay(member, load_cart(basket)) == usd("0.00")
    tender = [r.tender for r in on_cart if r.tender is not None]
    assert tender == [usd("13.00")]  # 20.00 - 2.00 (10%) - 5.00


def test_the_wallet_payable_on_a_quote_counts_the_offers_the_order_will_take_off() -> None:
    from loyalty.incentives.shared import MemoryRows, Shared
    from tests.test_incentives import enrolled, new, welcome

    member = new(program(
        incentives={"catalog": [welcome({"kind": "cashback", "amount": "50.00"})]},
        offers=offers({"id": "ten", "kind": "percent_off", "percent": 10}),
    ))
    enrolled(member, Shared(MemoryRows()))
    basket = cart("c-1", line("X", "20.00"))
    assert quote(member, basket, at=T0).wallet_payable == usd("18.00")
    apply_offers(member, basket, at=T0, key="offers")
    assert quote(member, basket, at=T0).wallet_payable == usd("18.00")  # now written


@pytest.mark.parametrize("units", [True, 2.5, 0, -1, 10**30, "3"])
def test_units_that_are_not_a_positive_whole_number_are_refused(units: Any) -> None:
    gift = {"id": "g", "kind": "free_product", "choices": ["A"], "cost": 1, "units": 2}
    member = funded(100, rewards=rewards(gift))
    with pytest.raises(InvalidInput) as refused:
        redeem_reward(member, "g", cart("C-1", line("A", "1.00", 3)), at=T0, key="k",
                      units=units)
    assert refused.value.field == "units"
    assert member.balance().available == 100
