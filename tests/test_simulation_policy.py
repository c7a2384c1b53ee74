"""The checkout policy of a simulation: seeded draws, one per member, order and
decision, that hold their chance; and what the chances 0 and 1 make members do."""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty import load_program
from loyalty.errors import InvalidInput
from loyalty.simulation import Policy, simulate
from loyalty.testing import program_from
from tests.simulation_history import history, text

PROGRAMS = Path(__file__).resolve().parents[1] / "examples" / "programs"

ids = st.text(min_size=1, max_size=20)
decisions = st.sampled_from(["redeem", "coupons", "cashback"])
chances = st.decimals(min_value=0, max_value=1, places=4)
seeds = st.integers(min_value=0, max_value=(1 << 63) - 1)


@given(seeds, decisions, ids, ids, chances, chances, chances)
def test_a_decision_depends_on_the_seed_member_order_and_its_own_chance_alone(
    seed: int, decision: str, member: str, order_id: str, mine: Decimal, a: Decimal, b: Decimal
) -> None:
    """Asked twice, or with the other decisions' chances changed, the answer is the same."""
    chances = {"redeem": a, "coupons": b, "cashback": a}
    first = Policy(seed=seed, **{**chances, decision: mine})
    other = Policy(seed=seed, **{**dict.fromkeys(chances, b), decision: mine})
    answer = first.decides(decision, member, order_id)  # type: ignore[arg-type]
    assert first.decides(decision, member, order_id) is answer  # type: ignore[arg-type]
    assert other.decides(decision, member, order_id) is answer  # type: ignore[arg-type]


@given(seeds, decisions, ids, ids)
def test_chance_0_never_decides_and_chance_1_always_does(
    seed: int, decision: str, member: str, order_id: str
) -> None:
    never = Policy(seed=seed, **{decision: Decimal(0)})
    always = Policy(seed=seed, **{decision: Decimal(1)})
    assert never.decides(decision, member, order_id) is False  # type: ignore[arg-type]
    assert always.decides(decision, member, order_id) is True  # type: ignore[arg-type]


@given(seeds, decisions, ids, ids, chances, chances)
def test_a_member_who_does_it_at_a_chance_does_it_at_any_higher_chance(
    seed: int, decision: str, member: str, order_id: str, low: Decimal, high: Decimal
) -> None:
    """So raising ``--redeem`` only adds redemptions: two policies compare cleanly."""
    low, high = sorted((low, high))
    if Policy(seed=seed, **{decision: low}).decides(decision, member, order_id):  # type: ignore[arg-type]
        assert Policy(seed=seed, **{decision: high}).decides(decision, member, order_id)  # type: ignore[arg-type]


DRAWS = 20_000


def _share(policy: Policy, decision: str, seed_of_ids: str = "") -> float:  # float-ok: a share
    hits = sum(
        policy.decides(decision, f"m{n % 997}{seed_of_ids}", f"o{n}")  # type: ignore[arg-type]
        for n in range(DRAWS)
    )
    return hits / DRAWS  # float-ok: a share of draws, not money


def _tolerance(chance: float) -> float:  # float-ok: a share
    """4.5 standard deviations of the share of DRAWS independent draws: a fair hash misses
    it with a probability of about 7 in a million (and the draws are fixed: a test that
    passes once passes always)."""
    return 4.5 * math.sqrt(chance * (1 - chance) / DRAWS)


@pytest.mark.parametrize("chance", ["0.05", "0.3", "0.5", "0.9"])
def test_over_many_members_and_orders_the_share_that_decide_is_the_chance(chance: str) -> None:
    for seed in (0, 1, 12345):
        for decision in ("redeem", "coupons"):
            share = _share(Policy(seed=seed, **{decision: Decimal(chance)}), decision)
            assert abs(share - float(chance)) <= _tolerance(float(chance)), (seed, decision)


def test_decisions_are_drawn_apart_for_each_decision_and_each_seed() -> None:
    """Whether a member redeems says nothing of whether they use a coupon, nor does one
    seed's draw say anything of another's: each pair agrees about half the time."""
    half = Policy(seed=1, redeem=Decimal("0.5"), coupons=Decimal("0.5"))
    other_seed = Policy(seed=2, redeem=Decimal("0.5"))
    pairs = [(f"m{n % 997}", f"o{n}") for n in range(DRAWS)]
    same_order = sum(
        half.decides("redeem", m, o) == half.decides("coupons", m, o) for m, o in pairs
    )
    same_seed = sum(
        half.decides("redeem", m, o) == other_seed.decides("redeem", m, o) for m, o in pairs
    )
    for agreed in (same_order, same_seed):
        assert abs(agreed / DRAWS - 0.5) <= _tolerance(0.5)  # float-ok: a share


@pytest.mark.parametrize(
    "fields",
    [
        {"redeem": Decimal("1.5")},
        {"coupons": Decimal("-0.1")},
        {"cashback": Decimal("NaN")},
        {"seed": -1},
        {"seed": True},
        {"seed": 1 << 63},
        {"surprise": 1},
        {"redeem": 0.5},
        {"coupons": True},
        {"cashback": "a\x00b"},
    ],
)
def test_a_policy_out_of_its_bounds_is_refused(fields: dict[str, Any]) -> None:
    """Refused as a typed error naming the field and the value (a float too: a chance
    is exact, like money)."""
    with pytest.raises(InvalidInput) as raised:
        Policy(**fields)
    (field, value), = fields.items()
    assert raised.value.field == field
    assert raised.value.value is value or raised.value.value == value
    assert str(raised.value).startswith(f"{field}: ")


def test_a_policy_reads_as_the_document_shows_it() -> None:
    policy = Policy(seed=9, redeem=Decimal("0.25"), coupons=Decimal(1), cashback=Decimal(0))
    assert policy.as_document() == {"seed": 9, "redeem": "0.25", "coupons": "1", "cashback": "0"}


# ------------------------------------------------------------------ in a simulation


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return text(history(20, seed=11, months=4, refunds=0.1, delays=0.3))


def test_redeem_0_redeems_no_reward_in_the_whole_run(lines: list[str]) -> None:
    program = load_program(PROGRAMS / "cosmetics-club.yaml")
    eager = simulate([program], lines, policy=Policy(redeem=Decimal(1))).document
    assert eager["variants"][0]["total"]["orders_with_reward"] > 0  # there were rewards to take
    variant = simulate([program], lines, policy=Policy(redeem=Decimal(0))).document["variants"][0]
    for figures in [*variant["months"], variant["total"]]:
        assert figures["rewards"] == {}
        assert figures["orders_with_reward"] == 0
        assert figures["points"]["redeemed"] == 0
        assert figures["cost"]["total"] == "0.00"
    assert variant["declined"] == {}


def test_coupons_0_uses_no_coupon_though_members_hold_them(lines: list[str]) -> None:
    program = load_program(PROGRAMS / "late-apology.yaml")
    variant = simulate([program], lines, policy=Policy(coupons=Decimal(0))).document["variants"][0]
    assert (
        Decimal(variant["total"]["liability"]["coupons"])
        + sum(Decimal(m["liability"]["coupons"]) for m in variant["months"])
        > 0
    )
    assert [m["coupons_used"] for m in variant["months"]] == [0] * len(variant["months"])
    assert variant["total"]["cost"]["total"] == "0.00"


def test_redeem_1_with_a_reward_anyone_can_afford_redeems_on_every_order_that_can() -> None:
    """A 1-point reward with no hurdle, 10 points per USD available at once: every
    member's order after their first has points enough; their first has none."""
    program = program_from(
        {
            "earning": {"rate": 10},
            "rewards": {
                "catalog": [
                    {
                        "id": "dollar-off",
                        "title": "1.00 off",
                        "kind": "amount_off",
                        "amount": "1.00",
                        "cost": 1,
                    }
                ]
            },
        }
    )
    steps = history(12, seed=4, months=3, refunds=0, delays=0)
    ordering = {s["member_id"] for s in steps if s["type"] == "order_completed"}
    variant = simulate([program], text(steps), policy=Policy(redeem=Decimal(1))).document[
        "variants"
    ][0]
    total = variant["total"]
    assert total["orders"] > 2 * len(ordering)
    assert total["orders_with_reward"] == total["orders"] - len(ordering)
    assert total["rewards"] == {"dollar-off": total["orders_with_reward"]}
    assert total["cost"]["by_campaign"] == {"rewards": f"{total['orders_with_reward']}.00"}
    assert variant["declined"] == {}
