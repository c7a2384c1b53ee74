from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty import Cart, InvalidCart, Money, load_cart


def cart(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "C-1",
        "member_id": "m-1",
        "currency": "USD",
        "lines": [
            {
                "sku": "LIP-01",
                "unit_price": "12.50",
                "quantity": 2,
                "discount": "2.00",
                "categories": ["makeup"],
                "tags": ["new"],
            },
            {"sku": "GIFT-25", "unit_price": "25", "quantity": 1, "gift_card": True},
        ],
        "shipping": "4.90",
        "tax": "1.80",
        "customer": {"tier": "Gold", "segments": ["newsletter"], "completed_orders": 3},
    }
    return {**base, **changes}


def problems(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidCart) as caught:
        load_cart(data)
    return {problem.path: problem.message for problem in caught.value.problems}


def test_a_valid_cart_has_its_subtotals_and_total() -> None:
    valid = load_cart(cart())
    assert valid.merchandise_subtotal == Money("23.00", "USD")  # gift cards left out
    assert valid.subtotal == Money("48.00", "USD")
    assert valid.total == Money("54.70", "USD")
    assert valid.customer.completed_orders == 3
    assert valid.customer.segments == frozenset({"newsletter"})
    assert valid.lines[0].net == Decimal("23.00")


def test_tax_included_in_prices_is_not_added_again() -> None:
    assert load_cart(cart(prices_include_tax=True)).total == Money("52.90", "USD")


def test_money_in_the_cart_currency_is_accepted() -> None:
    line = {"sku": "A", "unit_price": Money("3.00", "USD"), "quantity": 1}
    assert load_cart(cart(lines=[line])).subtotal == Money("3.00", "USD")


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    found = problems(
        cart(
            lines=[
                {"sku": "A", "unit_price": 12.5, "quantity": -1},
                {"sku": "B", "unit_price": "1.005", "quantity": 1.5},
                {"sku": "C", "unit_price": Money("3", "EUR"), "quantity": 1, "colour": "red"},
                {"sku": "D", "unit_price": "5.00", "quantity": 1, "discount": "6.00"},
            ],
            shipping="-1",
            customer={"completed_orders": -2},
        )
    )
    assert found == {
        "lines[0].unit_price": "12.5 is a float; give amounts as strings",
        "lines[0].quantity": "-1: input should be greater than or equal to 1",
        "lines[1].unit_price": "'1.005' has more decimals than USD allows",
        "lines[1].quantity": "1.5: input should be a valid integer",
        "lines[2].unit_price": "3.00 EUR is not in the cart currency USD",
        "lines[2].colour": "unknown key",
        "lines[3]": "the discount 6.00 is more than the line's 5.00",
        "shipping": "'-1': input should be greater than or equal to 0",
        "customer.completed_orders": "-2: input should be greater than or equal to 0",
    }


def test_a_cart_needs_lines_an_id_and_a_known_currency() -> None:
    assert problems(cart(lines=[])) == {"lines": "a cart needs at least one line"}
    found = problems({"member_id": "m", "currency": "XYZ", "lines": [], "idd": "C-1"})
    assert set(found) == {"id", "currency", "lines", "idd"}
    assert found["idd"] == "unknown key (did you mean 'id'?)"


@pytest.mark.parametrize("bad", [True, "NaN", "Infinity", "abc"])
def test_amounts_must_be_finite_numbers(bad: object) -> None:
    line = {"sku": "A", "unit_price": bad, "quantity": 1}
    assert list(problems(cart(lines=[line]))) == ["lines[0].unit_price"]


def test_a_cart_that_is_not_a_mapping_is_refused_and_a_cart_passes_through() -> None:
    with pytest.raises(InvalidCart, match="a mapping"):
        load_cart([1, 2])  # type: ignore[arg-type]
    valid = load_cart(cart())
    assert load_cart(valid) is valid


def test_carts_are_frozen() -> None:
    valid = load_cart(cart())
    with pytest.raises(ValueError, match="frozen"):
        valid.id = "other"  # type: ignore[misc]


@given(
    lines=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=10**6),
            st.integers(min_value=1, max_value=50),
            st.integers(min_value=0, max_value=100),
            st.booleans(),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_subtotals_add_up_line_by_line(lines: list[tuple[int, int, int, bool]]) -> None:
    data = cart(
        lines=[
            {
                "sku": f"S-{n}",
                "unit_price": str(Decimal(cents).scaleb(-2)),
                "quantity": quantity,
                "discount": str((Decimal(cents) * quantity * percent / 100).quantize(1).scaleb(-2)),
                "gift_card": gift,
            }
            for n, (cents, quantity, percent, gift) in enumerate(lines)
        ]
    )
    valid: Cart = load_cart(data)
    nets = [line.net for line in valid.lines]
    assert all(net >= 0 for net in nets)
    assert valid.subtotal.amount == sum(nets, Decimal(0))
    assert valid.merchandise_subtotal.amount == sum(
        (line.net for line in valid.lines if not line.gift_card), Decimal(0)
    )
    assert valid.merchandise_subtotal <= valid.subtotal


def test_tax_included_in_the_prices_is_never_more_than_they_come_to() -> None:
    base = {"id": "c", "member_id": "m", "currency": "USD", "prices_include_tax": True}
    line = {"sku": "A", "unit_price": "4.43", "quantity": 1}
    with pytest.raises(InvalidCart, match=r"the tax 9\.23 is included in the prices"):
        load_cart({**base, "lines": [line], "tax": "9.23"})
    with pytest.raises(InvalidCart, match=r"line 'A': its tax 5\.00 is included in its price"):
        load_cart({**base, "lines": [{**line, "tax": "5.00"}]})
    assert load_cart({**base, "lines": [line], "tax": "4.43"}).total.amount == Decimal("4.43")
    assert load_cart({**base, "prices_include_tax": False, "lines": [line], "tax": "9.23"})
