from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from loyalty import Money, load_cart
from loyalty.hurdles import Check, Condition, Situation, check
from tests.builders import SPEND_LADDER, ladder, program

CONDITION: TypeAdapter[Condition] = TypeAdapter(Condition)
CLUB = program(timezone="America/New_York", tiers=ladder(*SPEND_LADDER))
NOON = datetime(2026, 11, 11, 17, tzinfo=UTC)  # noon in New York


def basket(*prices: str, orders: int = 0, tier: str | None = None, **customer: Any) -> Any:
    lines = [
        {"sku": f"S-{n}", "unit_price": price, "quantity": 1, "categories": ["makeup"]}
        for n, price in enumerate(prices)
    ]
    return load_cart(
        {
            "id": "C-1",
            "member_id": "m-1",
            "currency": "USD",
            "lines": lines,
            "customer": {"completed_orders": orders, "tier": tier, **customer},
        }
    )


def run(spec: Any, cart: Any = None, points: int = 0, **situation: Any) -> Check:
    cart = cart or basket("20.00", orders=1)
    return check(CONDITION.validate_python(spec), Situation(cart, NOON, points, **situation), CLUB)


def test_the_cosmetics_club_hurdles_explain_every_shortfall() -> None:
    hurdles = {"all_of": [{"min_points": 100}, {"repeat_order": 1}, {"min_basket": "10.00"}]}
    result = run(hurdles, basket("6.50"), points=80)
    assert not result.met
    assert [(c.condition, c.reason, c.shortfall) for c in result.unmet()] == [
        ("min_points", "earn 20 more points", 20),
        ("repeat_order", "available from your second order", 1),
        ("min_basket", "add 3.50 USD to your basket", Money("3.50", "USD")),
    ]
    assert run(hurdles, basket("10.00", orders=1), points=100).met


@pytest.mark.parametrize(
    ("spec", "situation", "reason"),
    [
        ({"min_points": 100}, {"points": 99}, "earn 1 more point"),
        (
            {"repeat_order": 2},
            {"cart": basket("1.00", orders=1)},
            "available from your third order",
        ),
        ({"min_basket": {"amount": "30", "basis": "total"}}, {}, "add 10.00 USD to your basket"),
        (
            {"max_points_share": {"percent": 50, "amount": "8.00"}},
            {"points_value": Money("9.00", "USD")},
            "at most 8.00 USD of this order can be paid with points",
        ),
        ({"min_tier": "Gold"}, {"cart": basket("1.00", tier="Silver")}, "reach Gold"),
        ({"segment": "vip"}, {}, "only for members in segment vip"),
        ({"window": {"starts": "2026-11-12"}}, {}, "available from 2026-11-12"),
        ({"window": {"ends": "2026-11-11T12:00:00"}}, {}, "ended on 2026-11-11"),
        ({"usage_limit": 1}, {"uses": 1}, "already used 1 times (limit 1)"),
        ({"requires": {"categories": ["skincare"]}}, {}, "add a product from: skincare"),
        ({"not": {"requires": {"skus": ["S-0"]}}}, {}, "not: the basket has S-0"),
    ],
)
def test_each_condition_says_why_it_is_not_met(
    spec: Any, situation: dict[str, Any], reason: str
) -> None:
    result = run(spec, **situation)
    assert not result.met
    assert result.reason == reason
    assert result.unmet() == (result,)


@pytest.mark.parametrize(
    ("spec", "situation"),
    [
        ({"min_points": 100}, {"points": 100}),
        ({"repeat_order": 1}, {}),
        ({"min_basket": "20.00"}, {}),
        ({"max_points_share": {"percent": 50}}, {"points_value": Money("10.00", "USD")}),
        ({"min_tier": "Silver"}, {"cart": basket("1.00", tier="Gold")}),
        ({"segment": "vip"}, {"cart": basket("1.00", segments=["vip"])}),
        ({"window": {"starts": "2026-11-11", "ends": "2026-11-12"}}, {}),
        ({"usage_limit": 2}, {"uses": 1}),
        ({"requires": {"tags": ["x"], "categories": ["makeup"]}}, {}),
        ({"any_of": [{"segment": "vip"}, {"min_basket": "5"}]}, {}),
    ],
)
def test_each_condition_is_met_when_it_should_be(spec: Any, situation: dict[str, Any]) -> None:
    result = run(spec, **situation)
    assert result.met, result.reason
    assert result.unmet() == ()


def test_any_of_fails_only_when_every_branch_fails_and_reports_them_all() -> None:
    result = run({"any_of": [{"segment": "vip"}, {"min_points": 10}]})
    assert not result.met
    assert result.reason == "only for members in segment vip or earn 10 more points"
    assert [c.condition for c in result.unmet()] == ["segment", "min_points"]


def test_windows_are_read_in_the_program_timezone() -> None:
    # 2026-11-12 starts at 05:00 UTC in New York; at 04:30 UTC it is still the 11th there.
    early = datetime(2026, 11, 12, 4, 30, tzinfo=UTC)
    spec = CONDITION.validate_python({"window": {"starts": "2026-11-12"}})
    assert not check(spec, Situation(basket("1.00"), early, 0), CLUB).met


def test_unknown_or_malformed_conditions_are_refused() -> None:
    with pytest.raises(ValidationError, match="min_pointz"):
        CONDITION.validate_python({"min_pointz": 100})
    with pytest.raises(ValidationError):
        CONDITION.validate_python({"min_points": -5})
    with pytest.raises(ValidationError):
        CONDITION.validate_python({"all_of": []})


LEAVES = [
    {"min_points": 50},
    {"repeat_order": 1},
    {"min_basket": "15.00"},
    {"segment": "vip"},
    {"usage_limit": 1},
    {"requires": {"categories": ["skincare"]}},
]


@given(
    chosen=st.lists(st.sampled_from(range(len(LEAVES))), min_size=1, max_size=6, unique=True),
    points=st.integers(min_value=0, max_value=100),
    orders=st.integers(min_value=0, max_value=2),
    price=st.integers(min_value=1, max_value=3000),
    vip=st.booleans(),
    uses=st.integers(min_value=0, max_value=2),
)
def test_the_unmet_hurdles_reported_are_exactly_those_failing_alone(
    chosen: list[int], points: int, orders: int, price: int, vip: bool, uses: int
) -> None:
    cart = basket(str(Decimal(price).scaleb(-2)), orders=orders, segments=["vip"] if vip else [])
    specs = [LEAVES[n] for n in chosen]
    together = run({"all_of": specs}, cart, points=points, uses=uses)
    alone = [run(spec, cart, points=points, uses=uses) for spec in specs]
    assert [c.reason for c in together.unmet()] == [r.reason for r in alone if not r.met]
    assert together.met == all(r.met for r in alone)
