"""Quantity and item-count hurdles: ``min_units`` (at least N units of selected
products) and ``min_items`` (at least N different products), alone, in the short
forms, combined with ``min_basket``, in a reward's hurdles at checkout, and against a
brute-force count on random carts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from loyalty import (
    ConfigurationError,
    Money,
    RedemptionRefused,
    award_action,
    load_cart,
    open_account,
    quote,
    redeem_reward,
)
from loyalty.cart import Cart
from loyalty.hurdle_cart import items_in, units_in
from loyalty.hurdles import Check, Condition, MinItems, MinUnits, Situation, check
from loyalty.program.types import Selector
from tests.builders import program

CONDITION: TypeAdapter[Condition] = TypeAdapter(Condition)
CLUB = program()
NOON = datetime(2026, 5, 1, 12, tzinfo=UTC)


def line(sku: str, quantity: int = 1, price: str = "10.00", **extra: Any) -> dict[str, Any]:
    return {"id": f"{sku}-{quantity}-{price}", "sku": sku, "unit_price": price,
            "quantity": quantity, **extra}


def basket(*lines: dict[str, Any]) -> Cart:
    return load_cart({"id": "C-1", "member_id": "m-1", "currency": "USD", "lines": list(lines)})


def run(spec: Any, cart: Cart) -> Check:
    return check(CONDITION.validate_python(spec), Situation(cart, NOON, 0), CLUB)


# ------------------------------------------------------------------ min_units


def test_min_units_says_how_many_more_of_the_product_to_add() -> None:
    spec = {"min_units": {"units": 3, "products": {"skus": ["A"]}}}
    result = run(spec, basket(line("A"), line("B", 5)))
    assert not result.met
    assert (result.condition, result.reason, result.shortfall) == (
        "min_units", "add 2 more of A", 2
    )
    assert isinstance(result.shortfall, int)
    met = run(spec, basket(line("A", 2), line("A", 1, "3.00"), line("B")))
    assert met.met
    assert met.reason == "3 of A in the basket (needs 3)"


def test_min_units_without_products_counts_every_line_but_gift_cards() -> None:
    cart = basket(line("A", 2), line("CARD", 5, gift_card=True))
    assert run({"min_units": 2}, cart).met
    missing = run({"min_units": 3}, cart)
    assert (missing.reason, missing.shortfall) == ("add 1 more unit", 1)
    assert run({"min_units": 5}, cart).reason == "add 3 more units"


def test_a_selected_gift_card_still_does_not_count() -> None:
    cart = basket(line("CARD", 4, gift_card=True, categories=["gifts"]))
    result = run({"min_units": {"units": 1, "products": {"categories": ["gifts"]}}}, cart)
    assert (result.met, result.shortfall) == (False, 1)


def test_min_units_selects_by_category_and_tag() -> None:
    cart = basket(line("LIP", 2, categories=["makeup"]), line("SER", 1, tags=["new"]))
    spec = {"min_units": {"units": 3, "products": {"categories": ["makeup"], "tags": ["new"]}}}
    assert run(spec, cart).met
    spec["min_units"]["units"] = 4
    assert run(spec, cart).reason == "add 1 more of makeup, new"


# ------------------------------------------------------------------ min_items


def test_min_items_counts_different_skus_not_lines() -> None:
    # Two lines of A are one product; the gift card is none.
    cart = basket(line("A"), line("A", 3, "2.00"), line("CARD", gift_card=True))
    result = run({"min_items": 2}, cart)
    assert (result.met, result.reason, result.shortfall) == (
        False, "add 1 more different product", 1
    )
    assert run({"min_items": 2}, basket(line("A"), line("B"))).met


def test_min_items_among_selected_products() -> None:
    cart = basket(line("LIP", categories=["makeup"]), line("SER", 4, categories=["skincare"]))
    spec = {"min_items": {"items": 3, "products": {"categories": ["makeup"]}}}
    result = run(spec, cart)
    assert (result.reason, result.shortfall) == ("add 2 more different products from: makeup", 2)
    assert run({"min_items": {"items": 1, "products": {"categories": ["makeup"]}}}, cart).reason \
        == "1 different products from: makeup (needs 1)"


# ------------------------------------------------------------------ forms and validation


def test_short_and_long_forms_are_the_same_condition() -> None:
    assert CONDITION.validate_python({"min_units": 3}) == MinUnits(units=3)
    assert CONDITION.validate_python({"min_items": 2}) == MinItems(items=2)
    long = {"kind": "min_units", "units": 3, "products": {"skus": ["A"]}}
    nested = {"min_units": {"units": 3, "products": {"skus": ["A"]}}}
    assert CONDITION.validate_python(long) == CONDITION.validate_python(nested) == MinUnits(
        units=3, products=Selector(skus=("A",))
    )


@pytest.mark.parametrize(
    "spec",
    [
        {"min_units": 0},
        {"min_units": -1},
        {"min_units": "3"},  # a count is an integer, not text
        {"min_units": 2.0},
        {"min_items": {"items": 2, "products": {}}},  # a selector names something
        {"min_items": {"items": 2, "skus": ["A"]}},  # products go under products
        {"min_units": {"units": 2, "product": {"skus": ["A"]}}},
    ],
)
def test_bad_quantity_conditions_are_refused(spec: Any) -> None:
    with pytest.raises(ValidationError):
        CONDITION.validate_python(spec)


def test_a_misspelt_condition_gets_a_suggestion() -> None:
    with pytest.raises(ConfigurationError, match="did you mean 'min_units'"):
        program(rewards={"catalog": [
            {"id": "r", "kind": "amount_off", "amount": "5.00", "cost": 100,
             "hurdles": {"min_unit": 3}},
        ]})


# ------------------------------------------------------------------ with min_basket


AT_LEAST_3_A_AND_320 = {
    "all_of": [
        {"min_units": {"units": 3, "products": {"skus": ["A"]}}},
        {"min_basket": "320"},
    ]
}


@pytest.mark.parametrize(
    ("lines", "reasons"),
    [
        ((line("A", 3, "100.00"), line("B", 1, "20.00")), []),
        ((line("A", 3, "100.00"),), ["add 20.00 USD to your basket"]),
        ((line("A", 2, "100.00"), line("B", 1, "200.00")), ["add 1 more of A"]),
        ((line("A", 1, "10.00"),), ["add 2 more of A", "add 310.00 USD to your basket"]),
        # Units of A on two lines add up; a 320 gift card is not merchandise.
        (
            (line("A", 2, "150.00"), line("A", 1, "20.00"), line("G", 1, "320.00", gift_card=True)),
            [],
        ),
    ],
)
def test_at_least_3_of_a_and_at_least_320_in_total(
    lines: tuple[dict[str, Any], ...], reasons: list[str]
) -> None:
    result = run(AT_LEAST_3_A_AND_320, basket(*lines))
    assert result.met is (not reasons)
    assert [c.reason for c in result.unmet()] == reasons


def test_a_reward_with_a_quantity_hurdle_at_checkout() -> None:
    reward = {"id": "three-a", "kind": "amount_off", "amount": "5.00", "cost": 10,
              "hurdles": AT_LEAST_3_A_AND_320}
    member = open_account(
        program(rewards={"catalog": [reward]}, earning={"actions": {"grant": {"points": 50}}}),
        "m-1",
    )
    award_action(member, "grant", at=NOON, key="g")
    short = {"id": "C-1", "member_id": "m-1", "currency": "USD",
             "lines": [line("A", 2, "200.00")]}
    option = quote(member, short, at=NOON).option("three-a")
    assert not option.eligible
    assert [(c.condition, c.reason, c.shortfall) for c in option.unmet] == [
        ("min_units", "add 1 more of A", 1)
    ]
    with pytest.raises(RedemptionRefused) as refused:
        redeem_reward(member, "three-a", short, at=NOON, key="r")
    assert [c.reason for c in refused.value.unmet] == ["add 1 more of A"]
    enough = {**short, "lines": [line("A", 3, "110.00")]}
    assert quote(member, enough, at=NOON).option("three-a").eligible
    assert redeem_reward(member, "three-a", enough, at=NOON, key="r").points == 10


# ------------------------------------------------------------------ properties

SKUS = ("A", "B", "C", "D")
CATEGORIES = ("makeup", "skincare")


@st.composite
def carts(draw: st.DrawFn) -> Cart:
    lines = [
        {
            "id": f"L{index}",
            "sku": draw(st.sampled_from(SKUS)),
            "unit_price": draw(st.sampled_from(("0", "1.00", "25.50"))),
            "quantity": draw(st.integers(1, 6)),
            "categories": draw(st.lists(st.sampled_from(CATEGORIES), max_size=2, unique=True)),
            "gift_card": draw(st.integers(0, 4)) == 0,
        }
        for index in range(draw(st.integers(1, 6)))
    ]
    return basket(*lines)


selectors = st.none() | st.builds(
    lambda skus, categories: Selector(skus=tuple(skus) or ("A",), categories=tuple(categories)),
    st.lists(st.sampled_from(SKUS), max_size=2, unique=True),
    st.lists(st.sampled_from(CATEGORIES), max_size=1, unique=True),
)


def counted(cart: Cart, products: Selector | None) -> list[Any]:
    """The lines the conditions count, written out plainly."""
    found = []
    for cart_line in cart.lines:
        if cart_line.gift_card:
            continue
        if products is not None and not (
            cart_line.sku in products.skus
            or set(cart_line.categories) & set(products.categories)
        ):
            continue
        found.append(cart_line)
    return found


@given(carts(), selectors, st.integers(1, 20))
def test_min_units_is_met_exactly_when_the_counted_units_reach_n(
    cart: Cart, products: Selector | None, need: int
) -> None:
    units = sum(cart_line.quantity for cart_line in counted(cart, products))
    assert units_in(cart, products) == units
    result = MinUnits(units=need, products=products).check(Situation(cart, NOON, 0), CLUB)
    assert result.met is (units >= need)
    assert result.shortfall == (None if result.met else need - units)


@given(carts(), selectors, st.integers(1, 5))
def test_min_items_is_met_exactly_when_the_different_skus_reach_n(
    cart: Cart, products: Selector | None, need: int
) -> None:
    items = len({cart_line.sku for cart_line in counted(cart, products)})
    assert items_in(cart, products) == items
    result = MinItems(items=need, products=products).check(Situation(cart, NOON, 0), CLUB)
    assert result.met is (items >= need)
    assert result.shortfall == (None if result.met else need - items)


@given(carts(), st.integers(1, 20), st.sampled_from(("0", "50.00", "320")))
def test_all_of_units_and_basket_is_met_iff_both_are(cart: Cart, need: int, amount: str) -> None:
    spec = {"all_of": [{"min_units": need}, {"min_basket": amount}]}
    units = sum(cart_line.quantity for cart_line in counted(cart, None))
    merchandise = sum(cart_line.net for cart_line in counted(cart, None))
    result = run(spec, cart)
    assert result.met is (units >= need and merchandise >= Money(amount, "USD").amount)
