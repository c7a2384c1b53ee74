"""The stacking engine on its own: units, effects, application order, caps, groups and
the choice best for the customer, with figures from other systems' test suites."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest

from loyalty.cart import Cart, load_cart
from loyalty.hurdles import Check, MinBasket, Situation
from loyalty.program.types import Selector
from loyalty.stacking.choose import EXHAUSTIVE, Stack, stack
from loyalty.stacking.config import AmountAllocation, Basis, GroupMode, Stage
from loyalty.stacking.effects import AmountOff, BuyGet, Effect, FreeUnits, PercentOff, ShippingOff
from loyalty.stacking.engine import Applied, Candidate, Context, Skipped
from tests.builders import program, usd, utc

T0 = utc(2026, 3, 1)
ORDER = (Stage.LINE, Stage.CART_PERCENT, Stage.CART_AMOUNT, Stage.SHIPPING)
PROGRAM = program()


def basket(*lines: tuple[str, str, int], shipping: str = "0.00") -> Cart:
    return load_cart({
        "id": "C-1",
        "member_id": "m-1",
        "currency": "USD",
        "lines": [{"sku": sku, "unit_price": price, "quantity": qty} for sku, price, qty in lines],
        "shipping": shipping,
    })


def context(cart: Cart, **settings: Any) -> Context:
    def judge(condition: Any, reductions: Any, off: Decimal) -> Check:
        situation = Situation(cart, T0, 0, reductions=reductions, shipping_reduction=off)
        result: Check = condition.check(situation, PROGRAM)
        return result

    return Context(cart=cart, order=settings.pop("order", ORDER), judge=judge, **settings)


def offer(name: str, effect: Effect, **settings: Any) -> Candidate:
    return Candidate(id=f"offer:{name}", name=name, label=name, source="offer", kind="test",
                     effect=effect, **settings)


def cents(amount: str) -> int:
    return usd(amount).minor_units


def amounts(result: Stack) -> dict[str, str]:
    return {item.candidate.name: str(item.amount.amount) for item in result.applied}


def lines_of(item: Applied | Skipped | None) -> list[tuple[str, str]]:
    assert isinstance(item, Applied), item
    return [(part.line, str(part.amount.amount)) for part in item.lines]


def skipped(result: Stack, name: str) -> str:
    found = result.find(f"offer:{name}")
    assert isinstance(found, Skipped), found
    return found.reason


SKIN = Selector(categories=("skincare",))


def test_ten_percent_three_times_compounds_on_the_discounted_cart() -> None:
    cart = basket(("A", "100.00", 3))
    tens = [offer(f"ten-{n}", PercentOff(Decimal(10))) for n in range(3)]
    result = stack((), tens, context(cart))
    assert amounts(result) == {"ten-0": "30.00", "ten-1": "27.00", "ten-2": "24.30"}
    assert result.total == cents("81.30")  # 300 -> 270 -> 243 -> 218.70


def test_on_the_initial_basis_percentages_add_up() -> None:
    cart = basket(("A", "100.00", 1))
    ten = offer("ten", PercentOff(Decimal(10), basis=Basis.INITIAL))
    twenty = offer("twenty", PercentOff(Decimal(20), basis=Basis.INITIAL))
    assert stack((), [ten, twenty], context(cart)).total == cents("30.00")
    ten_d = offer("ten", PercentOff(Decimal(10)))
    twenty_d = offer("twenty", PercentOff(Decimal(20)))
    assert stack((), [ten_d, twenty_d], context(cart)).total == cents("28.00")


def test_four_spread_over_three_equal_lines_gives_the_remainder_to_the_last() -> None:
    cart = basket(("A", "2.00", 1), ("B", "2.00", 1), ("C", "2.00", 1))
    result = stack((), [offer("four", AmountOff(cents("4.00")))], context(cart))
    assert lines_of(result.find("offer:four")) == [("A", "1.33"), ("B", "1.33"), ("C", "1.34")]


def test_an_amount_larger_than_the_item_leaves_it_at_zero_never_below() -> None:
    cart = basket(("A", "25.00", 1))
    result = stack((), [offer("big", AmountOff(cents("249.00")))], context(cart))
    found = result.find("offer:big")
    assert isinstance(found, Applied)
    assert found.amount == usd("25.00")
    assert found.wanted == usd("249.00")


def test_each_and_cheapest_once_allocations() -> None:
    cart = basket(("A", "10.00", 2), ("B", "1.50", 1))
    each = offer("each", AmountOff(cents("2.00"), allocation=AmountAllocation.EACH))
    assert lines_of(stack((), [each], context(cart)).find("offer:each")) == [
        ("A", "4.00"), ("B", "1.50")
    ]
    once = offer("once", AmountOff(cents("5.00"), allocation=AmountAllocation.CHEAPEST_ONCE))
    assert lines_of(stack((), [once], context(cart)).find("offer:once")) == [("B", "1.50")]


def test_three_in_the_cart_one_free_over_75_units_frees_25() -> None:
    cart = basket(("SOAP", "4.00", 75))
    result = stack((), [offer("3for2", BuyGet(buy=2, get=1))], context(cart))
    assert lines_of(result.find("offer:3for2")) == [("SOAP", "100.00")]  # 25 x 4.00


@pytest.mark.parametrize(("units", "free"), [(2, 0), (3, 1), (5, 1), (6, 2), (8, 2), (9, 3)])
def test_buy_two_get_one_repeats_per_three_units(units: int, free: int) -> None:
    cart = basket(("SOAP", "4.00", units))
    result = stack((), [offer("3for2", BuyGet(buy=2, get=1))], context(cart))
    found = result.find("offer:3for2")
    if free == 0:
        assert isinstance(found, Skipped)
        assert found.reason == "add 1 more unit"
    else:
        assert lines_of(found) == [("SOAP", f"{4 * free}.00")]


def test_the_free_units_are_the_cheapest_and_a_limit_caps_the_repeats() -> None:
    cart = basket(("A", "9.00", 2), ("B", "3.00", 2), ("C", "5.00", 2))
    result = stack((), [offer("3for2", BuyGet(buy=2, get=1))], context(cart))
    assert lines_of(result.find("offer:3for2")) == [("B", "6.00")]  # the two cheapest
    limited = stack((), [offer("3for2", BuyGet(buy=2, get=1, limit=1))], context(cart))
    assert lines_of(limited.find("offer:3for2")) == [("B", "3.00")]


def test_buy_two_of_one_product_get_another_at_half_price() -> None:
    cream, lip = Selector(skus=("CRM",)), Selector(skus=("LIP",))
    deal = offer("cream-lip", BuyGet(2, 1, cream, lip, Decimal(50)))
    one = basket(("CRM", "20.00", 1), ("LIP", "8.00", 3))
    assert skipped(stack((), [deal], context(one)), "cream-lip") == "add 1 more of CRM"
    two = basket(("CRM", "20.00", 2), ("LIP", "8.00", 3))
    assert lines_of(stack((), [deal], context(two)).find("offer:cream-lip")) == [("LIP", "4.00")]
    four = basket(("CRM", "20.00", 4), ("LIP", "8.00", 3))
    assert lines_of(stack((), [deal], context(four)).find("offer:cream-lip")) == [("LIP", "8.00")]


def test_twenty_percent_on_one_item_only_takes_the_cheapest_or_the_dearest() -> None:
    cart = basket(("A", "50.00", 1), ("B", "10.00", 2))
    cheapest = offer("one", PercentOff(Decimal(20), max_items=1))
    assert lines_of(stack((), [cheapest], context(cart)).find("offer:one")) == [("B", "2.00")]
    dearest = offer("one", PercentOff(Decimal(20), max_items=1, dearest=True))
    assert lines_of(stack((), [dearest], context(cart)).find("offer:one")) == [("A", "10.00")]


def test_a_cap_on_units_never_multiplies_the_rate() -> None:
    cart = basket(("A", "40.00", 1))
    five = offer("five", PercentOff(Decimal(10), max_items=5))
    assert lines_of(stack((), [five], context(cart)).find("offer:five")) == [("A", "4.00")]


def test_a_money_cap_cuts_the_percentage() -> None:
    cart = basket(("SER", "100.00", 1))
    capped = offer("capped", PercentOff(Decimal(20), max_amount=cents("15.00")))
    found = stack((), [capped], context(cart)).find("offer:capped")
    assert isinstance(found, Applied)
    assert (found.amount, found.wanted) == (usd("15.00"), usd("15.00"))


def test_line_discounts_apply_before_cart_ones_whatever_the_list_order() -> None:
    cart = basket(("SER", "50.00", 1), ("LIP", "50.00", 1))
    line = offer("ser-20", PercentOff(Decimal(20), products=Selector(skus=("SER",))))
    whole = offer("ten", PercentOff(Decimal(10)))
    amount = offer("five", AmountOff(cents("5.00")))
    for order in ([line, whole, amount], [amount, whole, line], [whole, amount, line]):
        result = stack((), order, context(cart))
        assert [a.candidate.name for a in result.applied] == ["ser-20", "ten", "five"]
        assert amounts(result) == {"ser-20": "10.00", "ten": "9.00", "five": "5.00"}


def test_the_application_order_is_configurable() -> None:
    cart = basket(("A", "100.00", 1))
    whole = offer("ten", PercentOff(Decimal(10)))
    amount = offer("twenty", AmountOff(cents("20.00")))
    amount_first = (Stage.LINE, Stage.CART_AMOUNT, Stage.CART_PERCENT, Stage.SHIPPING)
    assert amounts(stack((), [whole, amount], context(cart))) == {"ten": "10.00", "twenty": "20.00"}
    assert amounts(stack((), [whole, amount], context(cart, order=amount_first))) == {
        "twenty": "20.00", "ten": "8.00"
    }


def test_priority_orders_within_a_class_then_the_id() -> None:
    cart = basket(("A", "100.00", 1))
    low = offer("a-low", AmountOff(cents("10.00")))
    high = offer("z-high", PercentOff(Decimal(50), max_items=1), priority=5)
    first = offer("b-first", PercentOff(Decimal(10), max_items=1),
                  combines_with=frozenset({"z-high"}))
    result = stack((), [low, first, high], context(cart))
    assert [a.candidate.name for a in result.applied] == ["z-high", "b-first", "a-low"]


def test_units_one_line_offer_consumed_are_closed_to_another_unless_they_combine() -> None:
    cart = basket(("SER", "10.00", 1))
    first = offer("a", PercentOff(Decimal(10), products=Selector(skus=("SER",))))
    second = offer("b", PercentOff(Decimal(20), products=Selector(skus=("SER",))))
    result = stack((), [first, second], context(cart))
    assert [a.candidate.name for a in result.applied] == ["b"]  # the better of the two alone
    assert skipped(result, "a") == "the discounts applied give more without it"
    told = offer("a", PercentOff(Decimal(10), products=Selector(skus=("SER",))),
                 combines_with=frozenset({"b"}))
    assert amounts(stack((), [told, second], context(cart))) == {"a": "1.00", "b": "1.80"}


def test_best_of_applies_only_the_best_member() -> None:
    cart = basket(("A", "10.00", 5))
    five = offer("five", PercentOff(Decimal(5)), group="volume", mode=GroupMode.BEST_OF)
    ten = offer("ten", PercentOff(Decimal(10)), group="volume", mode=GroupMode.BEST_OF)
    result = stack((), [five, ten], context(cart))
    assert amounts(result) == {"ten": "5.00"}
    assert skipped(result, "five") == "only one of 'volume' applies: ten is the better one"


def test_an_exclusive_offer_applies_alone_when_it_gives_more() -> None:
    cart = basket(("A", "100.00", 1))
    sale = offer("sale", PercentOff(Decimal(25)), group="summer-sale", mode=GroupMode.EXCLUSIVE)
    ten = offer("ten", PercentOff(Decimal(10)))
    five = offer("five", AmountOff(cents("5.00")))
    result = stack((), [ten, sale, five], context(cart))
    assert amounts(result) == {"sale": "25.00"}
    assert skipped(result, "ten") == "excluded by 'summer-sale' (exclusive): sale applies alone"
    weaker = offer("sale", PercentOff(Decimal(12)), group="summer-sale", mode=GroupMode.EXCLUSIVE)
    result = stack((), [ten, weaker, five], context(cart))
    assert amounts(result) == {"ten": "10.00", "five": "5.00"}
    assert "exclusive" in skipped(result, "sale")


def test_a_required_discount_keeps_out_an_exclusive_offer() -> None:
    cart = basket(("A", "100.00", 1))
    chosen = Candidate(id="reward:r", name="r", label="r", source="reward", kind="amount_off",
                       effect=AmountOff(cents("1.00")))
    sale = offer("sale", PercentOff(Decimal(50)), group="summer-sale", mode=GroupMode.EXCLUSIVE)
    result = stack((chosen,), [sale], context(cart))
    assert [a.id for a in result.applied] == ["reward:r"]
    assert skipped(result, "sale") == "'summer-sale' is exclusive and cannot be used with r"


def test_per_order_caps_cut_then_skip_in_one_place() -> None:
    cart = basket(("A", "100.00", 1))
    a = offer("a", PercentOff(Decimal(20), basis=Basis.INITIAL))
    b = offer("b", PercentOff(Decimal(20), basis=Basis.INITIAL), priority=-1)
    c = offer("c", AmountOff(cents("5.00")))
    result = stack((), [a, b, c], context(cart, max_total=cents("30.00"), cap_text="30%"))
    assert result.total == cents("30.00")
    cut = result.find("offer:b")
    assert isinstance(cut, Applied)
    assert (cut.amount, cut.wanted, cut.note) == (
        usd("10.00"), usd("20.00"), "cut to the per-order cap of 30%"
    )
    assert skipped(result, "c") == "over the per-order cap of 30%"


def test_at_most_n_discounts_keeps_the_best_ones() -> None:
    cart = basket(("A", "100.00", 1))
    offers = [offer("one", AmountOff(cents("1.00"))), offer("three", AmountOff(cents("3.00"))),
              offer("two", AmountOff(cents("2.00")))]
    result = stack((), offers, context(cart, max_discounts=2))
    assert amounts(result) == {"three": "3.00", "two": "2.00"}
    assert skipped(result, "one") == "over the per-order limit of 2 discounts"


def test_a_threshold_after_discounts_says_how_much_to_add() -> None:
    cart = basket(("A", "40.00", 1), shipping="4.90")
    ten = offer("ten", AmountOff(cents("10.00")))
    ship = offer("ship", ShippingOff(), conditions=MinBasket(amount=Decimal("35.00")))
    result = stack((), [ten, ship], context(cart))
    # Best for the customer: free shipping (4.90) is worth less than 10.00 off, and the
    # 10.00 off puts the basket under 35.00.
    assert amounts(result) == {"ten": "10.00"}
    alone = stack((), [ship], context(basket(("A", "30.50", 1), shipping="4.90")))
    assert skipped(alone, "ship") == "add 4.50 USD to your basket"
    found = alone.find("offer:ship")
    assert isinstance(found, Skipped)
    assert found.check is not None
    assert found.check.shortfall == usd("4.50")


def test_free_units_need_the_product_in_the_cart() -> None:
    cart = basket(("A", "10.00", 1), ("GIFT", "6.00", 3))
    gift = offer("gift", FreeUnits("GIFT", 2))
    assert lines_of(stack((), [gift], context(cart)).find("offer:gift")) == [("GIFT", "12.00")]
    missing = offer("gift", FreeUnits("TOTE", 1))
    assert skipped(stack((), [missing], context(cart)), "gift") == "add 1 more of TOTE to your cart"


def test_no_line_or_shipping_goes_below_zero_with_many_discounts() -> None:
    cart = basket(("A", "3.00", 1), ("B", "1.00", 2), shipping="2.00")
    many = [offer(f"p{n}", PercentOff(Decimal(90))) for n in range(4)]
    many += [offer(f"a{n}", AmountOff(cents("2.00"))) for n in range(4)]
    many += [offer("s1", ShippingOff()), offer("s2", ShippingOff())]
    result = stack((), many, context(cart))
    per_line: dict[str, Decimal] = {}
    for applied in result.applied:
        for part in applied.lines:
            per_line[part.line] = per_line.get(part.line, Decimal(0)) + part.amount.amount
    assert per_line["A"] <= Decimal("3.00")
    assert per_line["B"] <= Decimal("2.00")
    assert result.total <= cents("7.00")
    shipping = [a.candidate.name for a in result.applied if a.shipping is not None]
    assert len(shipping) == 1  # the other has nothing left to take


def test_the_result_does_not_depend_on_the_order_of_the_list() -> None:
    cart = basket(("A", "30.00", 2), ("B", "5.00", 3), shipping="3.00")
    offers = [
        offer("pct", PercentOff(Decimal(15)), group="g", mode=GroupMode.BEST_OF),
        offer("amt", AmountOff(cents("8.00")), group="g", mode=GroupMode.BEST_OF),
        offer("bxgy", BuyGet(2, 1)),
        offer("line", PercentOff(Decimal(30), products=Selector(skus=("A",)))),
        offer("ship", ShippingOff(), conditions=MinBasket(amount=Decimal("40.00"))),
        offer("ex", AmountOff(cents("30.00")), group="x", mode=GroupMode.EXCLUSIVE),
    ]
    first = stack((), offers, context(cart))
    shuffled = list(offers)
    for seed in range(10):
        random.Random(seed).shuffle(shuffled)
        assert stack((), shuffled, context(cart)) == first


def test_above_twelve_candidates_the_greedy_rule_applies() -> None:
    cart = basket(("A", "500.00", 1))
    offers = [offer(f"o{n:02}", AmountOff(cents(f"{n + 1}.00"))) for n in range(EXHAUSTIVE + 3)]
    offers.append(offer("best", AmountOff(cents("100.00")), group="b", mode=GroupMode.BEST_OF))
    offers.append(offer("less", AmountOff(cents("60.00")), group="b", mode=GroupMode.BEST_OF))
    result = stack((), offers, context(cart))
    assert result.total == cents(f"{sum(range(1, EXHAUSTIVE + 4)) + 100}.00")
    assert "only one of 'b' applies" in skipped(result, "less")


def test_buy_x_get_y_can_give_the_dearest_units() -> None:
    cart = basket(("A", "9.00", 1), ("B", "3.00", 1), ("C", "5.00", 1))
    dearest = offer("3for2", BuyGet(buy=2, get=1, dearest=True))
    assert lines_of(stack((), [dearest], context(cart)).find("offer:3for2")) == [("A", "9.00")]


def test_an_amount_across_many_lines_goes_by_largest_remainder() -> None:
    cart = basket(*[(f"S{n}", "1.00", 1) for n in range(10)])
    result = stack((), [offer("nine", AmountOff(cents("0.09")))], context(cart))
    assert lines_of(result.find("offer:nine")) == [(f"S{n}", "0.01") for n in range(1, 10)]
    uneven = basket(("A", "1.00", 1), ("B", "2.00", 1), ("C", "4.00", 1))
    found = stack((), [offer("one", AmountOff(cents("1.00")))], context(uneven))
    # 1.00 x 1/7, 2/7, 4/7 = 0.142, 0.285, 0.571: the two largest remainders get a cent.
    assert lines_of(found.find("offer:one")) == [("A", "0.14"), ("B", "0.29"), ("C", "0.57")]


def test_buy_x_get_y_with_pools_that_overlap_gets_from_the_get_only_units_when_it_must() -> None:
    buy, get = Selector(skus=("A", "B")), Selector(skus=("B", "C"))
    cart = basket(("B", "1.00", 1), ("C", "5.00", 1))
    deal = offer("deal", BuyGet(1, 1, buy, get))
    assert lines_of(stack((), [deal], context(cart)).find("offer:deal")) == [("C", "5.00")]


def test_a_free_unit_counts_as_bought() -> None:
    cart = basket(("X", "0.00", 1), ("Y", "7.00", 1))
    deal = offer("deal", BuyGet(1, 1, Selector(skus=("X",)), Selector(skus=("Y",))))
    assert lines_of(stack((), [deal], context(cart)).find("offer:deal")) == [("Y", "7.00")]
