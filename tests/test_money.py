from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty import (
    CurrencyMismatch,
    InvalidInput,
    InvalidMoney,
    Money,
    Rounding,
    UnknownCurrency,
    allocate,
    to_points,
)


def test_money_is_quantized_to_the_currency_minor_unit() -> None:
    assert Money("12.5", "USD").amount == Decimal("12.50")
    assert Money(3, "JPY").amount == Decimal("3")
    assert Money("1.234", "KWD").amount == Decimal("1.234")
    assert str(Money(10, "EUR")) == "10.00 EUR"


def test_a_float_is_refused_with_the_field_and_value() -> None:
    with pytest.raises(InvalidMoney) as caught:
        Money(0.1, "USD")  # type: ignore[arg-type]
    assert caught.value.field == "amount"
    assert caught.value.value == 0.1
    assert "float" in str(caught.value)


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", True, None, [1]])
def test_non_numbers_are_refused(bad: object) -> None:
    with pytest.raises(InvalidMoney):
        Money(bad, "USD")  # type: ignore[arg-type]


def test_more_decimals_than_the_currency_has_are_refused_not_rounded() -> None:
    with pytest.raises(InvalidMoney, match="more decimals than USD allows"):
        Money("0.005", "USD")
    with pytest.raises(InvalidMoney):
        Money("1.5", "JPY")


def test_rounded_builds_money_with_an_explicit_policy() -> None:
    assert Money.rounded("0.125", "USD", Rounding.HALF_EVEN) == Money("0.12", "USD")
    assert Money.rounded("0.125", "USD", Rounding.HALF_UP) == Money("0.13", "USD")
    assert Money.rounded("0.129", "USD", Rounding.FLOOR) == Money("0.12", "USD")


def test_an_unknown_currency_is_refused() -> None:
    with pytest.raises(UnknownCurrency) as caught:
        Money(1, "USDD")
    assert caught.value.field == "currency"
    assert caught.value.value == "USDD"


def test_arithmetic_across_currencies_raises() -> None:
    with pytest.raises(CurrencyMismatch) as caught:
        Money(1, "USD") + Money(1, "EUR")
    assert (caught.value.expected, caught.value.got) == ("USD", "EUR")
    with pytest.raises(CurrencyMismatch):
        _ = Money(1, "USD") < Money(2, "EUR")


def test_arithmetic_and_comparison_in_one_currency() -> None:
    a, b = Money("10.10", "USD"), Money("0.20", "USD")
    assert a + b == Money("10.30", "USD")
    assert a - b == Money("9.90", "USD")
    assert -b == Money("-0.20", "USD")
    assert b < a
    assert b <= a
    assert a > b
    assert a >= b
    assert not a < b
    assert not Money(0, "USD")
    assert Money("0.10", "USD") + Money("0.20", "USD") == Money("0.30", "USD")
    assert len({Money("1", "USD"), Money("1.00", "USD")}) == 1


def test_money_is_immutable() -> None:
    money = Money(1, "USD")
    with pytest.raises(AttributeError):
        money.amount = Decimal(2)  # type: ignore[misc]


def test_times_rounds_with_the_given_policy() -> None:
    assert Money("10.00", "USD").times(Decimal("0.333"), Rounding.FLOOR) == Money("3.33", "USD")
    assert Money("0.05", "USD").times(Decimal("0.5"), Rounding.HALF_UP) == Money("0.03", "USD")
    with pytest.raises(InvalidInput):
        Money("1", "USD").times(0.5)  # type: ignore[arg-type]


def test_ratio_is_exact_and_refuses_zero() -> None:
    assert Money("2.50", "USD").ratio(Money("10.00", "USD")) == Decimal("0.25")
    with pytest.raises(InvalidMoney):
        Money("1", "USD").ratio(Money(0, "USD"))


def test_split_gives_the_remainder_to_the_last_line() -> None:
    parts = Money("10.00", "USD").split([1, 1, 1])
    assert parts == [Money("3.33", "USD"), Money("3.33", "USD"), Money("3.34", "USD")]


@pytest.mark.parametrize(
    ("rounding", "expected"),
    [(Rounding.FLOOR, 12), (Rounding.HALF_UP, 13), (Rounding.HALF_EVEN, 12)],
)
def test_money_to_points_uses_the_named_rounding(rounding: Rounding, expected: int) -> None:
    assert to_points(Money("12.50", "USD"), Decimal(1), rounding) == expected


def test_half_even_rounds_ties_to_even() -> None:
    assert to_points(Money("13.50", "USD"), Decimal(1), Rounding.HALF_EVEN) == 14


def test_allocate_refuses_empty_or_negative_weights() -> None:
    with pytest.raises(InvalidInput):
        allocate(10, [])
    with pytest.raises(InvalidInput):
        allocate(10, [1, -1])


def test_allocate_gives_everything_to_the_last_line_when_no_line_has_a_weight() -> None:
    assert allocate(5, [0, 0]) == [0, 5]


def test_allocate_never_gives_the_remainder_to_a_line_without_weight() -> None:
    assert allocate(3, [1, 1, 0]) == [1, 2, 0]


@given(
    total=st.integers(min_value=-(10**9), max_value=10**9),
    weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=12),
)
def test_allocated_parts_always_sum_to_the_whole(total: int, weights: list[int]) -> None:
    parts = allocate(total, weights)
    assert sum(parts) == total
    assert len(parts) == len(weights)
    assert all(part * total >= 0 for part in parts)
    weighted = [index for index, weight in enumerate(weights) if weight]
    last = weighted[-1] if weighted else len(weights) - 1
    sign = -1 if total < 0 else 1
    weight_sum = sum(weights)
    for index, weight in enumerate(weights):
        if index != last:
            share = abs(total) * weight // weight_sum if weight_sum else 0
            assert parts[index] == sign * share


@given(
    cents=st.integers(min_value=0, max_value=10**10),
    weights=st.lists(st.integers(min_value=0, max_value=10**4), min_size=1, max_size=10),
)
def test_split_money_sums_to_the_amount(cents: int, weights: list[int]) -> None:
    amount = Money.from_minor(cents, "USD")
    parts = amount.split(weights)
    assert sum((part.amount for part in parts), Decimal(0)) == amount.amount
    assert all(part.amount >= 0 for part in parts)


def test_money_copies_and_pickles_as_itself() -> None:
    import copy
    import pickle

    money = Money("12.50", "USD")
    assert copy.copy(money) is money
    assert copy.deepcopy(money) is money
    assert pickle.loads(pickle.dumps(money)) == money


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: Money("1e30", "USD"), "amount"),
        (lambda: Money.from_minor(1250.0, "USD"), "units"),  # type: ignore[arg-type]
        (lambda: to_points(Money("1", "USD"), 1.5, Rounding.FLOOR), "rate"),  # type: ignore[arg-type]
        (lambda: allocate(100, [0.5, 0.5]), "weights"),  # type: ignore[list-item]
        (lambda: allocate(100, [Decimal("NaN")]), "weights"),
    ],
)
def test_bad_arguments_get_typed_errors_naming_the_field(call: object, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        call()  # type: ignore[operator]
    assert caught.value.field == field


def test_ceiling_rounds_up_and_policies_can_be_named_by_string() -> None:
    assert Money.rounded("0.121", "USD", Rounding.CEILING) == Money("0.13", "USD")
    assert Money.rounded("0.125", "USD", "half_up") == Money("0.13", "USD")  # type: ignore[arg-type]
