"""Properties of a simulation over small random histories: the document reconciles with
itself and with the ledger, and two partitions add up to one."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty import Program, load_program
from loyalty.simulation import Policy, Variant, simulate
from loyalty.simulation.months import period_end
from loyalty.simulation.partition import run_partition
from loyalty.simulation.result import build_simulation
from loyalty.testing import program_from
from tests.simulation_history import ROLLING_TIERS, history, reference, text

PROGRAMS = Path(__file__).resolve().parents[1] / "examples" / "programs"
EXAMPLES: dict[str, Program] = {
    "cosmetics-club": load_program(PROGRAMS / "cosmetics-club.yaml"),
    "late-apology": load_program(PROGRAMS / "late-apology.yaml"),
    "rolling-tiers": program_from(ROLLING_TIERS),
}
_POINTS = ("issued", "redeemed", "expired", "reversed", "adjusted")


@st.composite
def cases(draw: st.DrawFn) -> tuple[Program, list[str], Policy]:
    """A program, a history of 1-4 members over 1-4 months, and a policy."""
    steps = history(
        draw(st.integers(1, 4)),
        seed=draw(st.integers(0, 1 << 32)),
        months=draw(st.integers(1, 4)),
        gap_days=draw(st.sampled_from([(1, 6), (3, 25), (20, 60)])),
        refunds=draw(st.sampled_from([0.0, 0.3, 0.7])),  # float-ok: a share of orders
        delays=draw(st.sampled_from([0.0, 0.5])),  # float-ok: a share of orders
        churn=draw(st.sampled_from([0.0, 0.5])),  # float-ok: a share of members
    )
    policy = Policy(
        seed=draw(st.integers(0, 1000)),
        redeem=draw(st.sampled_from([Decimal(0), Decimal("0.5"), Decimal(1)])),
        coupons=draw(st.sampled_from([Decimal(0), Decimal(1)])),
    )
    return EXAMPLES[draw(st.sampled_from(sorted(EXAMPLES)))], text(steps), policy


def _flows(points: dict[str, Any]) -> int:
    return (
        points["issued"]
        - points["redeemed"]
        - points["expired"]
        - points["reversed"]
        + points["adjusted"]
    )


@settings(max_examples=30, deadline=None)
@given(cases())
def test_the_monthly_flows_add_up_to_the_outstanding_points_and_the_ledgers_balances(
    case: tuple[Program, list[str], Policy],
) -> None:
    program, lines, policy = case
    variant = simulate([program], lines, policy=policy).document["variants"][0]
    _, states = reference(program, lines, policy)
    previous = 0
    for figures in variant["months"]:
        points = figures["points"]
        assert _flows(points) == points["outstanding"] - previous
        assert points["outstanding"] == states[figures["month"]].balance["net"]
        previous = points["outstanding"]
    total = variant["total"]["points"]
    for name in _POINTS:
        assert total[name] == sum(m["points"][name] for m in variant["months"])
    assert total["outstanding"] == _flows(total) == previous


@settings(max_examples=30, deadline=None)
@given(cases())
def test_two_partitions_added_up_give_the_books_of_one(
    case: tuple[Program, list[str], Policy],
) -> None:
    program, lines, policy = case
    last = max(datetime.fromisoformat(json.loads(line)["at"]) for line in lines)
    until = period_end(last, program.tz)
    whole = run_partition([program], lines, policy, until)
    parts = [run_partition([program], lines, policy, until, (number, 2)) for number in (0, 1)]
    parts[0].add(parts[1])
    variants = [Variant("A", program)]
    documents = [
        build_simulation(variants, result, result.steps, policy, None, [], None).to_json()
        for result in (whole, parts[0])
    ]
    assert documents[0] == documents[1]
    assert parts[0].steps == whole.steps == len(lines)
