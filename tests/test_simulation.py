"""The figures of a simulation against the ledger: the same history replayed on a
service of its own (the same checkout, the scheduled run at every month end), and the
members' balances, tiers and holdings read at each month end; and the month each flow
lands in."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from loyalty import Program, load_program
from loyalty.ledger.entries import TierCause, TierChange
from loyalty.simulation import Policy, simulate
from loyalty.testing import delay, enrolment, order, program_from, refund
from tests.simulation_history import ROLLING_TIERS, MonthEnd, history, reference, text

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = ROOT / "examples" / "programs"
NEW_YORK = ZoneInfo("America/New_York")


def example(name: str) -> Program:
    return load_program(PROGRAMS / f"{name}.yaml")


def ny(month: int, day: int, year: int = 2026, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, tzinfo=NEW_YORK)


def run(program: Program, steps: list[Any], **policy: Any) -> dict[str, Any]:
    """The single variant's figures of ``steps`` under ``program``."""
    document = simulate([program], text(steps), policy=Policy(**policy)).document
    variant: dict[str, Any] = document["variants"][0]
    return variant


def by_month(variant: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {figures["month"]: figures for figures in variant["months"]}


# ------------------------------------------------------------ the ledger's own count

CASES = {
    # name: (program, history options, what must have happened for the case to test anything)
    "cosmetics-club": (
        lambda: example("cosmetics-club"),
        {"members": 18, "months": 15, "churn": 0.5},
        ("expired", "returned", "reversed", "redeemed"),
    ),
    "stacked-offers": (
        lambda: example("stacked-offers"),
        {"members": 20, "months": 5},
        ("returned", "reversed", "redeemed"),
    ),
    "late-apology": (
        lambda: example("late-apology"),
        {"members": 20, "months": 5, "delays": 0.4},
        ("reversed", "coupons"),
    ),
    "rolling-tiers": (
        lambda: program_from(ROLLING_TIERS),
        {"members": 20, "months": 7, "gap_days": (2, 40)},
        ("reversed", "downgrades"),
    ),
    "beauty-tiers": (
        lambda: example("beauty-tiers"),
        {"members": 15, "months": 5, "gap_days": (2, 12)},
        ("reversed", "upgrades"),
    ),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def reconciled(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any], dict[str, MonthEnd]]:
    """A case's simulation and its reference: the state at each month end."""
    name = request.param
    build, options, _ = CASES[name]
    program = build()
    lines = text(history(seed=7, **options))
    policy = Policy(seed=3, redeem=Decimal("0.5"), coupons=Decimal("0.7"))
    document = simulate([program], lines, policy=policy).document
    _, states = reference(program, lines, policy)
    return name, document["variants"][0], states


def _happened(name: str, variant: dict[str, Any], states: dict[str, MonthEnd]) -> None:
    """The case's history did what the case is there to check (else it checks nothing)."""
    end = states[variant["months"][-1]["month"]].balance
    months = variant["months"]
    for what in CASES[name][2]:
        if what in ("expired", "returned", "reversed", "redeemed"):
            assert end[what] > 0, what
        elif what == "coupons":
            assert any(Decimal(m["liability"]["coupons"]) > 0 for m in months)
            assert variant["total"]["coupons_used"] > 0
        elif what in ("downgrades", "upgrades"):
            moves = [
                sum(abs(count) for count in _tier_moves(before, after).values())
                for before, after in pairwise(months)
            ]
            assert sum(moves) > 0, what


def _tier_moves(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    return {name: after["tiers"][name] - before["tiers"][name] for name in after["tiers"]}


def test_outstanding_points_at_every_month_end_are_the_members_net_balances(
    reconciled: tuple[str, dict[str, Any], dict[str, MonthEnd]],
) -> None:
    name, variant, states = reconciled
    _happened(name, variant, states)
    assert [m["month"] for m in variant["months"]] == list(states)
    for figures in variant["months"]:
        state = states[figures["month"]]
        assert figures["points"]["outstanding"] == state.balance["net"], figures["month"]
        assert figures["members"] == state.members
    assert variant["total"]["points"]["outstanding"] == state.balance["net"]


def test_each_months_flows_are_what_the_ledgers_counters_moved_by_in_that_month(
    reconciled: tuple[str, dict[str, Any], dict[str, MonthEnd]],
) -> None:
    """Balance counts redemptions gross and what voids and refunds gave back as
    ``returned``; the document's ``redeemed`` is net of both."""
    _, variant, states = reconciled
    before = MonthEnd().balance
    for figures in variant["months"]:
        now = states[figures["month"]].balance
        points = figures["points"]
        moved = {name: now[name] - before[name] for name in now}
        assert points["issued"] == moved["earned"]
        assert points["redeemed"] == moved["redeemed"] - moved["returned"]
        assert points["expired"] == moved["expired"]
        assert points["reversed"] == moved["reversed"]
        assert points["adjusted"] == moved["adjusted"]
        before = now
    total, end = variant["total"]["points"], before
    assert total["issued"] == end["earned"]
    assert total["redeemed"] == end["redeemed"] - end["returned"]
    assert (total["expired"], total["reversed"], total["adjusted"]) == (
        end["expired"],
        end["reversed"],
        end["adjusted"],
    )


def test_the_flows_of_each_month_add_up_to_the_change_of_the_outstanding_points(
    reconciled: tuple[str, dict[str, Any], dict[str, MonthEnd]],
) -> None:
    _, variant, _ = reconciled
    previous = 0
    for figures in variant["months"]:
        p = figures["points"]
        flows = p["issued"] - p["redeemed"] - p["expired"] - p["reversed"] + p["adjusted"]
        assert flows == p["outstanding"] - previous, figures["month"]
        previous = p["outstanding"]
    t = variant["total"]["points"]
    assert t["issued"] - t["redeemed"] - t["expired"] - t["reversed"] + t["adjusted"] == previous


def test_members_per_tier_and_the_liabilities_at_every_month_end_are_the_ledgers(
    reconciled: tuple[str, dict[str, Any], dict[str, MonthEnd]],
) -> None:
    _, variant, states = reconciled
    for figures in variant["months"]:
        state = states[figures["month"]]
        held = {tier: count for tier, count in figures["tiers"].items() if count}
        assert held == dict(state.tiers), figures["month"]
        assert Decimal(figures["liability"]["coupons"]) == state.coupons
        assert Decimal(figures["liability"]["cashback"]) == state.cashback


# ------------------------------------------------------------------ month attribution


@pytest.mark.parametrize("last", [ny(1, 20, 2027), ny(2, 3, 2027)])
def test_points_usable_to_the_end_of_january_are_januarys_breakage(last: datetime) -> None:
    """cosmetics-club: points earned in January 2026 expire 12 months later, rounded up
    to the month's end: at midnight on 1 February 2027, the end of January."""
    steps = [
        enrolment("ann", at=ny(1, 5)),
        order(("SERUM", "120.00", 1), member_id="ann", at=ny(1, 10), id="A-1"),
        enrolment("bob", at=last),  # the history's last step
    ]
    months = by_month(run(example("cosmetics-club"), steps, redeem=0))
    expired = {month: figures["points"]["expired"] for month, figures in months.items()}
    assert expired.pop("2027-01") == 120
    assert set(expired.values()) == {0}
    assert months["2026-12"]["points"]["outstanding"] == 120
    assert months["2027-01"]["points"]["outstanding"] == 0
    assert months["2027-01"]["breakage_rate"] == "1.0000"
    assert months["2026-12"]["breakage_rate"] == "0.0000"


def test_a_refunds_reversal_and_money_are_in_the_refunds_month_not_the_orders() -> None:
    steps = [
        enrolment("ann", at=ny(1, 5)),
        order(
            ("SERUM", "120.00", 1), ("SOAP", "30.00", 2), member_id="ann", at=ny(1, 10), id="A-1"
        ),
        refund("A-1", lines={"SOAP": 1}, member_id="ann", at=ny(3, 2)),
    ]
    months = by_month(run(example("late-apology"), steps))
    assert [m["points"]["issued"] for m in months.values()] == [180, 0, 0]
    assert [m["points"]["reversed"] for m in months.values()] == [0, 0, 30]
    assert [m["sales"]["refunds"] for m in months.values()] == ["0.00", "0.00", "30.00"]
    assert [m["sales"]["gross"] for m in months.values()] == ["180.00", "0.00", "0.00"]
    assert [m["points"]["outstanding"] for m in months.values()] == [180, 180, 150]


def test_a_tier_moves_in_the_month_its_review_or_its_downgrade_takes_effect() -> None:
    """450.00 in January makes ann Gold at once; February's review (of January) keeps
    her; March's (of an empty February) moves her one step down after a 10-day grace
    (11 March), April's moves her down again (11 April)."""
    program = program_from(ROLLING_TIERS)
    steps = [
        enrolment("ann", at=ny(1, 5)),
        order(("SERUM", "450.00", 1), member_id="ann", at=ny(1, 10), id="A-1"),
        enrolment("bob", at=ny(4, 20)),
    ]
    months = by_month(run(program, steps))
    tiers = {month: {k: v for k, v in m["tiers"].items() if v} for month, m in months.items()}
    assert tiers == {
        "2026-01": {"Gold": 1},
        "2026-02": {"Gold": 1},
        "2026-03": {"Silver": 1},
        "2026-04": {"Bronze": 2},
    }
    service, states = reference(program, text(steps), Policy())
    assert {month: dict(state.tiers) for month, state in states.items()} == tiers
    downgrades = [
        entry.downgrade_at
        for entry in service.journal("ann")
        if isinstance(entry, TierChange) and entry.cause is TierCause.DOWNGRADE
    ]
    assert [at.astimezone(NEW_YORK).date().isoformat() for at in downgrades if at] == [
        "2026-03-11",
        "2026-04-11",
    ]


def test_a_coupon_is_a_liability_from_its_issue_to_its_use_or_its_lapse() -> None:
    """late-apology: a 10.00 coupon for each late parcel, valid 60 days. The first is
    used on the next order (February); the second is never used and lapses on 11 April."""
    steps = [
        enrolment("ann", at=ny(1, 5)),
        order(("SERUM", "50.00", 1), member_id="ann", at=ny(1, 10), id="A-1"),
        delay("A-1", member_id="ann", at=ny(1, 12)),
        order(("SERUM", "40.00", 1), member_id="ann", at=ny(2, 3), id="A-2"),
        delay("A-2", member_id="ann", at=ny(2, 10)),
        enrolment("bob", at=ny(4, 25)),
    ]
    months = by_month(run(example("late-apology"), steps, coupons=1))
    assert [m["liability"]["coupons"] for m in months.values()] == [
        "10.00",
        "10.00",
        "10.00",
        "0.00",
    ]
    assert [m["coupons_used"] for m in months.values()] == [0, 1, 0, 0]
    assert months["2026-02"]["cost"]["by_campaign"] == {"service-recovery": "10.00"}
    assert months["2026-02"]["sales"]["discounts"] == "10.00"
    assert months["2026-02"]["sales"]["net"] == "30.00"
    # with nobody using coupons, both lapse: the first in March (60 days from 12 January)
    months = by_month(run(example("late-apology"), steps, coupons=0))
    assert [m["liability"]["coupons"] for m in months.values()] == [
        "10.00",
        "20.00",
        "10.00",
        "0.00",
    ]


# ---------------------------------------------------------------- the scheduled run


def test_a_member_downgraded_between_orders_is_upgraded_again_by_the_next_one() -> None:
    """The reviews run before ann's April order (as the shop's nightly job would have
    run them): she is Bronze by then, and 450.00 makes her Gold again at once."""
    steps = [
        enrolment("ann", at=ny(1, 5)),
        order(("SERUM", "450.00", 1), member_id="ann", at=ny(1, 10), id="A-1"),
        order(("SERUM", "450.00", 1), member_id="ann", at=ny(4, 20), id="A-2"),
        enrolment("bob", at=ny(5, 20)),
    ]
    months = by_month(run(program_from(ROLLING_TIERS), steps))
    tiers = {month: {k: v for k, v in m["tiers"].items() if v} for month, m in months.items()}
    assert tiers == {
        "2026-01": {"Gold": 1},
        "2026-02": {"Gold": 1},
        "2026-03": {"Silver": 1},
        "2026-04": {"Gold": 1},
        "2026-05": {"Gold": 1, "Bronze": 1},
    }


def test_a_scheduled_credit_reaches_a_member_whose_next_order_is_weeks_later() -> None:
    """festival-cashback: on 1 December every member who did not order on 11.11 gets a
    5.00 credit to spend by the 24th. ann's next order is on the 20th; bob ordered on
    11.11 and gets 10% of it instead, which he never spends (it lapses on the 25th)."""
    steps = [
        enrolment("ann", at=ny(10, 1)),
        enrolment("bob", at=ny(10, 2)),
        order(("SERUM", "40.00", 1), member_id="ann", at=ny(10, 15), id="A-1"),
        order(("SERUM", "80.00", 1), member_id="bob", at=ny(11, 11), id="B-1"),
        order(("SERUM", "60.00", 1), member_id="ann", at=ny(12, 20), id="A-2"),
        enrolment("cat", at=ny(12, 28)),
    ]
    months = by_month(run(example("festival-cashback"), steps, cashback=1))
    assert [m["liability"]["cashback"] for m in months.values()] == ["0.00", "8.00", "0.00"]
    assert months["2026-12"]["cost"]["by_campaign"] == {"festival": "5.00"}
    assert months["2026-12"]["sales"]["net"] == "55.00"


def test_a_birthday_coupon_the_scheduled_run_gave_is_used_at_the_next_checkout() -> None:
    """A coupon for the birthday month, issued by the scheduled run (before ann's first
    February order) from the birthday she gave at enrolment: no step's result shows it."""
    program = program_from(
        {
            "incentives": {
                "catalog": [
                    {
                        "id": "birthday-ten",
                        "campaign": "birthday",
                        "trigger": {"event": "birthday", "grant_window": "month"},
                        "grants": [
                            {
                                "kind": "coupon",
                                "offer": {"kind": "amount_off", "amount": "10.00"},
                                "valid": {"within": "30 days"},
                            }
                        ],
                    }
                ]
            }
        }
    )
    steps = [
        enrolment("ann", at=ny(1, 5), birthday="1990-02-10"),
        order(("SERUM", "50.00", 1), member_id="ann", at=ny(2, 15), id="A-1"),
        order(("SERUM", "50.00", 1), member_id="ann", at=ny(2, 20), id="A-2"),
    ]
    months = by_month(run(program, steps, coupons=1))
    assert months["2026-02"]["coupons_used"] == 1
    assert months["2026-02"]["cost"]["by_campaign"] == {"birthday": "10.00"}
    assert months["2026-02"]["liability"]["coupons"] == "0.00"
