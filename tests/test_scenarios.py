"""Scenario files: the format, the loader's errors (file, line, path), the runner and
its reports, on the example programs."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

import loyalty
from loyalty.testing.scenarios import (
    ScenarioError,
    ScenarioResult,
    Status,
    load_file,
    run_file,
)

ROOT = Path(__file__).resolve().parents[1]
PROGRAMS = ROOT / "examples" / "programs"
EXAMPLE = ROOT / "examples" / "scenarios" / "cosmetics-club.loyalty.yaml"
COSMETICS = PROGRAMS / "cosmetics-club.yaml"
CLUB = PROGRAMS / "club-welcome.yaml"


def write(folder: Path, text: str, name: str = "case.loyalty.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def scenario(
    folder: Path,
    steps: str,
    program: Path = COSMETICS,
    start: str = "2026-03-01T09:00",
    **top: str,
) -> Path:
    """A file of one scenario named 'case' with ``steps`` (YAML, indented as a list)."""
    head = "".join(f"{key}: {value}\n" for key, value in top.items())
    body = textwrap.indent(textwrap.dedent(steps).strip("\n"), "      ")
    return write(
        folder,
        f"program: {program}\nmember: ana\nstart: {start}\n{head}"
        f"scenarios:\n  - name: case\n    steps:\n{body}\n",
    )


def only(results: list[ScenarioResult]) -> ScenarioResult:
    assert len(results) == 1
    return results[0]


def problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as raised:
        load_file(path)
    return [str(problem) for problem in raised.value.problems]


def line_of(path: Path, text: str, start: int = 0) -> int:
    """The (1-based) line of the first occurrence of ``text`` after line ``start``."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if number > start and text in line:
            return number
    raise AssertionError(f"{text!r} not in {path}")


# ------------------------------------------------------------------ the example


def test_the_cosmetics_club_scenarios_pass() -> None:
    results = run_file(EXAMPLE)
    assert [result.name for result in results] == [
        "The 100-point reward is refused on the first order and below 10.00, then accepted",
        "Pending points become available after the 30-day return window",
        "A partial refund reverses the points of the units returned, and leaves a debt",
        "The apology coupon is issued once per delayed order",
    ]
    for result in results:
        assert result.passed, result.report()
        assert all(step.status is Status.PASSED for step in result.steps)


def mutated(folder: Path, old: str, new: str, count: int = 1) -> Path:
    """The example with one expectation changed (its programs found from ``folder``)."""
    text = EXAMPLE.read_text(encoding="utf-8")
    assert text.count(old) >= count, old
    text = text.replace(old, new, count)
    text = text.replace("../programs/cosmetics-club.yaml", str(COSMETICS))
    text = text.replace("cosmetics-club-v2.yaml", str(EXAMPLE.parent / "cosmetics-club-v2.yaml"))
    path = folder / "mutant.loyalty.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def failing(results: list[ScenarioResult]) -> ScenarioResult:
    failed = [result for result in results if not result.passed]
    assert len(failed) == 1, [result.name for result in failed]
    return failed[0]


def test_a_wrong_balance_fails_at_its_line_with_both_values_and_the_statement(
    tmp_path: Path,
) -> None:
    path = mutated(tmp_path, "          pending: 120\n          available: 0\n          notif",
                   "          pending: 121\n          available: 0\n          notif")
    result = failing(run_file(path))
    step = result.failed_step
    assert step is not None
    assert step.kind == "order"
    line = line_of(path, "pending: 121")
    report = result.report()
    assert f"{path}:{line}: pending" in report
    assert "expected: 121" in report
    assert "actual:   120" in report
    assert "earned on order A-1" in report  # the statement: which entry made the points
    # the steps after it did not run
    later = [s.status for s in result.steps if s.number > step.number]
    assert later
    assert set(later) == {Status.SKIPPED}


def test_a_wrong_reason_shows_the_engines_reasons_and_its_explanation(tmp_path: Path) -> None:
    path = mutated(tmp_path, "reasons: [earn 100 more points, available from your second order]",
                   "reasons: [earn 99 more points, available from your second order]")
    result = failing(run_file(path))
    report = result.report()
    line = line_of(path, "earn 99 more points")
    assert f"{path}:{line}: quote.rewards.five-off.reasons" in report
    assert "expected: ['earn 99 more points', 'available from your second order']" in report
    assert "actual:   ['earn 100 more points', 'available from your second order']" in report
    # Quote.explain(): why the reward is not eligible, which rule produced the points
    assert "five-off: not yet: earn 100 more points; available from your second order" in report
    assert "base: +120 (base rate)" in report


def test_a_wrong_shortfall_and_earn_fail(tmp_path: Path) -> None:
    path = mutated(tmp_path, 'shortfalls: ["2.00 USD"]', 'shortfalls: ["2.50 USD"]')
    report = failing(run_file(path)).report()
    assert "expected: [2.50 USD]" in report
    assert "actual:   [2.00 USD]" in report
    path = mutated(tmp_path, "earns: 120", "earns: 119")
    report = failing(run_file(path)).report()
    assert "quote.earns" in report
    assert "expected: 119" in report
    assert "actual:   120" in report


def test_an_expected_error_of_another_type_fails(tmp_path: Path) -> None:
    path = mutated(
        tmp_path,
        "error: {type: RedemptionRefused, message_contains: earn 80 more points}",
        "error: InsufficientPoints",
    )
    result = failing(run_file(path))
    report = result.report()
    assert "expected: InsufficientPoints" in report
    assert "actual:   RedemptionRefused:" in report
    assert "earn 80 more points" in report


def test_an_expected_message_that_is_not_said_fails(tmp_path: Path) -> None:
    path = mutated(tmp_path, "message_contains: earn 80 more points",
                   "message_contains: earn 81 more points")
    report = failing(run_file(path)).report()
    assert "error message" in report
    assert "containing 'earn 81 more points'" in report


def test_one_apology_per_order_is_pinned(tmp_path: Path) -> None:
    path = mutated(tmp_path, "expect: {coupons: 1, notifications: []}",
                   "expect: {coupons: 2, notifications: []}")
    result = failing(run_file(path))
    assert result.name == "The apology coupon is issued once per delayed order"
    report = result.report()
    assert "expected: 2 coupon(s)" in report
    assert "actual:   1 coupon(s)" in report
    assert "late-apology" in report  # the coupons the member holds


def test_the_partial_refund_debt_is_pinned(tmp_path: Path) -> None:
    path = mutated(tmp_path, "debt: 50}", "debt: 0}")
    result = failing(run_file(path))
    report = result.report()
    assert "expected: 0" in report
    assert "actual:   50" in report
    assert "reversed 100 points: refund on order C-1" in report


def test_a_wrong_lot_expiry_names_the_lots(tmp_path: Path) -> None:
    path = mutated(tmp_path, "expires: 2027-04-01T00:00}", "expires: 2027-03-01T00:00}")
    report = failing(run_file(path)).report()
    assert "lots[0].expires" in report
    assert "expected: 2027-03-01T00:00" in report
    assert "actual:   2027-04-01T00:00-04:00" in report


# ------------------------------------------------------------------ behaviours


def test_an_error_expected_of_a_step_that_succeeds_fails(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - order: {id: A-1, lines: [[SERUM, "10.00"]]}
          error: InsufficientPoints
    """)
    result = only(run_file(path))
    assert not result.passed
    mismatch = result.steps[1].mismatches[0]
    assert mismatch.expected == "InsufficientPoints"
    assert mismatch.actual.startswith("the step succeeded")
    assert mismatch.line == line_of(path, "order:")


def test_an_unexpected_refusal_fails_the_step_with_the_engines_message(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - redeem: {reward: five-off, cart: {id: A-1, lines: [[SERUM, "20.00"]]}}
    """)
    result = only(run_file(path))
    mismatch = result.steps[1].mismatches[0]
    assert mismatch.expected == "no error"
    assert mismatch.actual.startswith("RedemptionRefused: ")
    assert "earn 100 more points" in mismatch.actual


def test_a_base_class_matches_an_expected_error(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - redeem: {reward: five-off, cart: {id: A-1, lines: [[SERUM, "20.00"]]}}
          error: LoyaltyError
        - expect: {available: 0}
    """)
    assert only(run_file(path)).passed


def test_the_same_key_twice_credits_once_and_void_gives_the_points_back(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - order: {id: A-1, lines: [[SERUM, "120.00"]]}
          key: webhook-1
        - order: {id: A-1, lines: [[SERUM, "120.00"]]}
          key: webhook-1
          expect: {pending: 120}
        - order: {id: A-2, lines: [[SERUM, "20.00"]]}
          expect: {pending: 140}
        - advance: 31 days
          expect: {available: 140}
        - redeem: {reward: five-off, cart: {id: A-3, lines: [[LIP, "12.00"]]}}
          key: checkout-1
          expect: {available: 40}
        - void:
          expect: {available: 140}
        - redeem: {reward: five-off, cart: {id: A-4, lines: [[LIP, "12.00"]]}}
          key: checkout-2
        - void: checkout-2
          expect: {available: 140}
    """)
    result = only(run_file(path))
    assert result.passed, result.report()


def test_wait_reads_the_future_and_advance_writes_it(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - order: {id: A-1, lines: [[SERUM, "120.00"]]}
          expect: {notifications: [points_earned]}
        - wait: 31 days
          expect: {available: 120, notifications: []}
        - advance:
          expect: {notifications: [{kind: reward_unlocked, reward: five-off}]}
    """)
    assert only(run_file(path)).passed


def test_the_clock_does_not_wait_backwards(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - wait: 2026-02-01
    """)
    mismatch = only(run_file(path)).steps[1].mismatches[0]
    assert mismatch.what == "the clock"
    assert "time only moves forward" in (mismatch.explanation or "")


def test_a_late_event_is_dated_with_at(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
          at: 2026-02-01
        - wait: 2026-03-10
        - order: {id: A-1, lines: [[SERUM, "120.00"]]}
          at: 2026-03-01T12:00
        - expect:
            lots: [{points: 120, available: 2026-03-31T12:00, status: pending}]
    """)
    assert only(run_file(path)).passed


def test_steps_of_another_member(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - enrol: ben
        - order: {id: B-1, lines: [[SERUM, "30.00"]]}
          member: ben
        - expect: {pending: 0}
        - expect: {pending: 30}
          member: ben
    """)
    assert only(run_file(path)).passed


def test_a_tier_and_its_progress(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - expect:
            tier: Insider
            progress: spend 350.00 USD more or complete 6 more orders by 2026-12-31 to reach VIB
        - order: {id: A-1, lines: [[BAG, "400.00"]]}
          expect:
            tier: VIB
            progress:
              keep: "keep VIB: done"
    """, program=PROGRAMS / "beauty-tiers.yaml")
    result = only(run_file(path))
    assert result.passed, result.report()


def test_a_wrong_tier_shows_the_progress(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - order: {id: A-1, lines: [[BAG, "40.00"]]}
          expect: {tier: VIB}
    """, program=PROGRAMS / "beauty-tiers.yaml")
    mismatch = only(run_file(path)).steps[1].mismatches[0]
    assert (mismatch.expected, mismatch.actual) == ("VIB", "Insider")
    assert "to reach VIB" in (mismatch.explanation or "")


def test_offers_on_a_quoted_cart(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - expect:
            quote:
              cart: {id: Q-1, lines: [[SOAP, "10.00", 1], [CREAM, "30.00", 1]]}
              offers:
                five-from-2: {applied: true, amount: "2.00"}
                ten-from-4: {applied: false}
                soap-3-for-2: false
    """, program=PROGRAMS / "stacked-offers.yaml")
    result = only(run_file(path))
    assert result.passed, result.report()


def test_an_offer_expected_applied_that_is_not_says_why(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - expect:
            quote:
              cart: {id: Q-1, lines: [[CREAM, "30.00", 1]]}
              offers: {five-from-2: true}
    """, program=PROGRAMS / "stacked-offers.yaml")
    mismatch = only(run_file(path)).steps[1].mismatches[0]
    assert mismatch.what == "quote.offers.five-from-2.applied"
    assert (mismatch.expected, mismatch.actual) == ("true", "skipped: add 1 more unit")
    assert "5% off from 2 items: not applied: add 1 more unit" in (mismatch.explanation or "")


def test_cashback_in_the_wallet(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
          at: 2026-11-01
        - order: {id: A-1, lines: [[SERUM, "200.00"]]}
          at: 2026-11-11T10:00
          expect:
            cashback: {available: "0.00", pending: "20.00"}
            notifications: [points_earned, {kind: cashback_credited, amount: "20.00"}]
        - wait: 2026-12-02
          expect: {cashback: "20.00"}
    """, program=PROGRAMS / "festival-cashback.yaml")
    result = only(run_file(path))
    assert result.passed, result.report()


def test_an_inline_program_and_a_new_version_mid_scenario(tmp_path: Path) -> None:
    path = write(tmp_path, """
        program:
          id: shop
          name: Shop
          currency: EUR
          timezone: Europe/Paris
          earning: {rate: 1}
        member: ana
        scenarios:
          - name: the rate doubles in version 2
            steps:
              - enrol: ana
              - order: {id: A-1, lines: [[X, "10.00"]]}
                expect: {available: 10}
              - program: {id: shop, name: Shop, currency: EUR, timezone: Europe/Paris,
                          earning: {rate: 2}}
              - order: {id: A-2, lines: [[X, "10.00"]]}
                expect: {available: 30}
    """)
    assert only(run_file(path)).passed


def test_a_program_given_replaces_the_files(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - order: {id: A-1, lines: [[SERUM, "12.00"]]}
          expect: {pending: 12}
    """)
    assert only(run_file(path)).passed
    doubled = loyalty.load_program(
        {"id": "cosmetics-club", "name": "C", "currency": "USD", "timezone": "UTC",
         "earning": {"rate": 2}, "pending": {"period": "30 days"}, "rewards": {"catalog": [
             {"id": "five-off", "kind": "amount_off", "amount": "5.00", "cost": 100}]}}
    )
    result = only(run_file(path, doubled))
    mismatch = result.steps[1].mismatches[0]
    assert (mismatch.expected, mismatch.actual) == ("12", "24")


def test_a_redemption_and_coupons_expected_of_nothing(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - expect: {redemption: {total: "5.00"}, coupons: 0, cashback: "0.00"}
    """)
    mismatch = only(run_file(path)).steps[1].mismatches
    assert [m.what for m in mismatch] == ["redemption"]
    assert mismatch[0].actual == "no redeem step has run in this scenario"


def test_results_as_dicts_say_where(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - expect: {available: 5}
    """)
    data = only(run_file(path)).to_dict()
    assert data["passed"] is False
    failed = data["steps"][1]
    assert failed["status"] == "failed"
    assert failed["mismatches"][0] == {
        "what": "available",
        "expected": "5",
        "actual": "0",
        "line": line_of(path, "available: 5"),
        "explanation": failed["mismatches"][0]["explanation"],
    }


# ------------------------------------------------------------------ files with mistakes


def one_problem(path: Path) -> str:
    found = problems(path)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    ("steps", "marker", "where", "message"),
    [
        ("- ordr: {id: A-1, lines: [[A, '1.00']]}", "ordr", "steps[1].ordr",
         "unknown key (did you mean 'order'?)"),
        ("- order: {id: A-1, lines: [[A, '1.00']], colour: red}", "colour",
         "steps[1].order.colour", "unknown key"),
        ("- order: {id: A-1, lines: [[A, '1x.00']]}", "1x.00",
         "steps[1].order.lines[0].unit_price", "valid decimal"),
        ("- refund: {order: A-1, lines: {A: 0}}", "refund", "steps[1].refund.lines.A",
         "greater than 0"),
        ("- redeem: {reward: five-of, cart: {id: A, lines: [[A, '1.00']]}}", "five-of",
         "steps[1].redeem.reward",
         "the program has no reward 'five-of' (did you mean 'five-off'?)"),
        ("- expect: {quote: {cart: {id: Q, lines: [[A, '1.00']]}, rewards: {fiveoff: true}}}",
         "fiveoff", "steps[1].expect.quote.rewards.fiveoff", "no reward 'fiveoff'"),
        ("- expect: {tier: Gold}", "Gold", "steps[1].expect.tier", "no tier 'Gold'"),
        ("- expect: {quote: {cart: {id: Q, lines: [[A, '1.00']]}, offers: {half: false}}}",
         "half", "steps[1].expect.quote.offers.half", "no offer 'half'"),
        ("- grant: welcome", "welcome", "steps[1].grant", "no incentive 'welcome'"),
        ("- action: review", "review", "steps[1].action", "no bonus action 'review'"),
        ("- order: {id: A, lines: [[A, '1.00']]}\n  error: InsuficientPoints", "error:",
         "steps[1].error", "(did you mean 'InsufficientPoints'?)"),
        ("- expect: {notifications: [points_earnd]}", "points_earnd",
         "steps[1].expect.notifications[0].kind", "(did you mean 'points_earned'?)"),
        ("- cancel: A-1\n  shipment_delayed: A-1", "cancel", "steps[1]",
         "a step does one thing; this one names cancel, shipment_delayed"),
        ("- wait: 2 days\n  error: LoyaltyError", "wait", "steps[1]",
         "'error' goes on a step that calls the service"),
        ("- wait: soon", "soon", "steps[1].wait", "'soon' is not a duration"),
        ("- member: ben", "member", "steps[1]", "a step names one of enrol, order"),
        ("- order: {id: A, lines: [[A, '1.00', 1, 2]]}", "order", "steps[1].order",
         "a short line is [sku, unit price] or [sku, unit price, quantity]"),
        ("- order: {id: A, lines: [[A, '-1.00']]}", "order", "steps[1].order.lines[0].unit_price",
         ""),
        ("- expect: {available: many}", "many", "steps[1].expect.available", "valid integer"),
        ("- expect: {notifications: [{kind: points_earned, pionts: 3}]}", "pionts",
         "steps[1].expect.notifications[0].pionts",
         "a points_earned has no field 'pionts' (did you mean 'points'?)"),
        ("- expect: {lots: [{points: 1, expires: soon}]}", "soon",
         "steps[1].expect.lots[0].expires", "is not a date"),
        ("- expect: {coupons: [{statuss: open}]}", "statuss", "steps[1].expect.coupons[0].statuss",
         "did you mean 'status'"),
        ("- order: {id: A, currency: EUR, lines: [[A, '1.00']]}", "EUR",
         "steps[1].order.currency", "'EUR' is not accepted (accepted: USD)"),
        ("- redeem: {reward: five-off, cart: {id: A, currency: EUR, lines: [[A, '1.00']]}}",
         "EUR", "steps[1].redeem.cart.currency", "'EUR' is not accepted"),
        ("- adjust: 1000000000000000", "adjust", "steps[1].adjust",
         "less than or equal to 1000000000000"),
        ("- adjust: -1000000000001", "adjust", "steps[1].adjust",
         "greater than or equal to -1000000000000"),
        ("- order: {id: A, lines: [[A, '1.00']]}\n  at: 9999-01-01", "9999", "steps[1].at",
         "9999-01-01 lies outside the instants taken (from 1970-01-01 to 2200-01-01 UTC)"),
        ("- wait: 2200-01-02T00:00", "wait", "steps[1].wait", "lies outside the instants taken"),
        ("- advance: 1969-06-01", "advance", "steps[1].advance",
         "1969-06-01 lies outside the instants taken"),
        ('- enrol: "a\\u0007b"', "u0007", "steps[1].enrol",
         "'a\\x07b' contains a control character (U+0007) at position 1"),
    ],
)
def test_a_mistake_is_named_with_file_line_and_path(
    tmp_path: Path, steps: str, marker: str, where: str, message: str
) -> None:
    path = scenario(tmp_path, f"- enrol: ana\n{steps}")
    found = one_problem(path)
    line = line_of(path, marker, start=line_of(path, "enrol: ana"))
    assert found.startswith(f"{path}:{line}: scenarios[0].{where}: "), found
    assert message in found


def test_every_mistake_of_a_file_is_listed_in_line_order(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - redeem: {reward: five-of, cart: {id: A, lines: [[A, "1.00"]]}}
        - ordr: {id: A}
        - expect: {tier: Gold}
    """)
    found = problems(path)
    lines = [int(re.match(rf"{re.escape(str(path))}:(\d+):", item).group(1))  # type: ignore[union-attr]
             for item in found]
    assert len(found) == 3
    assert lines == sorted(lines)
    assert "five-of" in found[0]
    assert "ordr" in found[1]
    assert "Gold" in found[2]


def test_a_names_after_a_new_version_are_checked_against_it(tmp_path: Path) -> None:
    path = scenario(tmp_path, f"""
        - enrol: ana
        - redeem_coupon: {{incentive: late-apology, cart: {{id: A, lines: [[A, "1.00"]]}}}}
        - program: {EXAMPLE.parent / "cosmetics-club-v2.yaml"}
        - redeem_coupon: {{incentive: late-apology, cart: {{id: A, lines: [[A, "1.00"]]}}}}
    """)
    found = one_problem(path)
    assert "steps[1].redeem_coupon.incentive: the program has no incentive 'late-apology'" in found


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("program: x\nscenarios: [\n", 3, "is not valid YAML"),
        ("", 1, "is empty"),
        ("- a\n- b\n", 1, "a scenario file is a mapping"),
        ("program: x\nprogram: y\nscenarios: []\n", 2, "program: is given twice"),
        ("scenarios:\n  - name: a\n    steps: [{enrol: ana}]\n", 2,
         "scenarios[0]: no program: give 'program'"),
        ("program: nowhere.yaml\nscenarios:\n  - name: a\n    steps: [{enrol: ana}]\n", 1,
         "program: the program nowhere.yaml: cannot read the file"),
        ("program: {id: p, name: P, currency: USX, timezone: UTC}\n"
         "scenarios:\n  - name: a\n    steps: [{enrol: ana}]\n", 1, "program.currency: "),
        ("program: {id: p}\nscenarios:\n  - steps: [{enrol: ana}]\n", 3,
         "scenarios[0].name: is required"),
        ("program: {id: p}\nstart: tomorrow\nscenarios: []\n", 2,
         "start: 'tomorrow' is not a date"),
        (f"program: {COSMETICS}\nstart: 9999-01-01\nscenarios:\n  - name: a\n"
         "    steps: [{enrol: ana}]\n", 2,
         "start: 9999-01-01 lies outside the instants taken (from 1970-01-01 to 2200-01-01 UTC)"),
        (f"program: {COSMETICS}\nscenarios:\n  - name: a\n    start: 1900-01-01T09:00\n"
         "    steps: [{enrol: ana}]\n", 4,
         "scenarios[0].start: 1900-01-01T09:00 lies outside the instants taken"),
    ],
)
def test_a_broken_file_is_named_with_its_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = tmp_path / "broken.loyalty.yaml"
    path.write_text(text, encoding="utf-8")
    found = problems(path)
    assert any(item.startswith(f"{path}:{line}: ") and message in item for item in found), found


def test_a_new_version_must_keep_the_programs_id(tmp_path: Path) -> None:
    path = scenario(tmp_path, f"""
        - enrol: ana
        - program: {PROGRAMS / "late-apology.yaml"}
    """)
    found = one_problem(path)
    assert "steps[1].program: is program 'late-apology', not 'cosmetics-club'" in found


def test_a_file_that_cannot_be_read(tmp_path: Path) -> None:
    missing = one_problem(tmp_path / "missing.loyalty.yaml")
    assert missing.startswith(f"{tmp_path / 'missing.loyalty.yaml'}: (top level): cannot be read")
    binary = tmp_path / "binary.loyalty.yaml"
    binary.write_bytes(b"program: \xff\n")
    assert "is not UTF-8 (byte 9)" in one_problem(binary)


def test_floats_are_read_as_decimals_and_times_as_text(tmp_path: Path) -> None:
    # An unquoted 12.50 is the amount 12.50, not a float the cart would refuse.
    path = scenario(tmp_path, """
        - enrol: ana
        - order: {id: A-1, lines: [[SERUM, 12.50, 2]]}
          at: 2026-03-01 10:00
          expect: {pending: 25, lots: [{points: 25, available: 2026-03-31}]}
    """)
    assert only(run_file(path)).passed


def test_the_references_example_passes(tmp_path: Path) -> None:
    page = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(# A scenario file beside.*?)```", page, re.DOTALL)
    assert example is not None
    text = example.group(1).replace("../programs/cosmetics-club.yaml", str(COSMETICS))
    results = run_file(write(tmp_path, text))
    assert len(results) == 2
    for result in results:
        assert result.passed, result.report()


def test_the_references_choices_and_referrals_example_passes(tmp_path: Path) -> None:
    page = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(# Choices and referrals.*?)```", page, re.DOTALL)
    assert example is not None
    text = example.group(1).replace("../programs/club-welcome.yaml", str(CLUB))
    result = only(run_file(write(tmp_path, text)))
    assert result.passed, result.report()


ACTIONS = """
program:
  id: actions
  name: Actions
  currency: USD
  timezone: UTC
  earning:
    rate: 1
    actions:
      review: {points: 10, times: 2}
      birthday: {points: 50, per: year}
      referral: {points: 100, times: 5}
member: ana
start: 2026-05-01
scenarios:
  - name: every kind of step
    steps:
      - enrol: {birthday: 1990-05-02, segments: [newsletter]}
      - action: review
        expect: {available: 10}
      - action: {action: review, source: product-page}
      - action: review
        error: {type: ActionLimitReached}
      - birthday:
        at: 2026-05-02
        expect: {available: 70}
      - referral: ben
        expect: {available: 170}
      - adjust: -20
        expect: {available: 150}
      - adjust: {points: 5, reason: goodwill, actor: support}
        expect: {available: 155}
      - order: {id: A-1, lines: [[X, "30.00", 1]], shipping: "4.90"}
        expect: {available: 185}
      - refund: {order: A-1, amount: "10.00"}
        expect: {available: 175}
      - cancel: A-1
        expect: {available: 155}
      - erase:
      - action: review
        error: UnknownMember          # their journal lives on under a pseudonym
      - enrol: ana
        expect: {available: 0}
"""


def test_every_kind_of_step_runs(tmp_path: Path) -> None:
    result = only(run_file(write(tmp_path, ACTIONS)))
    assert result.passed, result.report()
    assert len(result.steps) == 14


def test_a_grant_and_its_coupon(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: {segments: [lapsed]}
        - grant: flash-half-off
          expect:
            coupons: [{incentive: flash-half-off, title: "50% off, this weekend only",
                       status: open, value: "15.00"}]
            notifications: [{kind: coupon_issued, incentive: flash-half-off}]
        - redeem_coupon: {incentive: flash-half-off, cart: {id: C-1, lines: [[BAG, "40.00"]]}}
          expect:
            redemption: {total: "20.00", lines: {BAG: "20.00"}}
            coupons: [{status: used}]
        - redeem_coupon: {incentive: flash-half-off, cart: {id: C-2, lines: [[BAG, "40.00"]]}}
    """, program=PROGRAMS / "flash-half-off.yaml")
    result = only(run_file(path))
    failed = result.failed_step
    assert failed is not None
    assert failed.number == 4
    # the coupon used is the one found (none is usable now): the engine refuses it
    assert failed.mismatches[0].actual.startswith("CouponUsed: coupon ")
    assert "was already used" in failed.mismatches[0].actual


def test_cashback_is_spent(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
          at: 2026-11-01
        - order: {id: A-1, lines: [[SERUM, "200.00"]]}
          at: 2026-11-11T10:00
        - wait: 2026-12-02
        - spend_cashback: {cart: {id: A-2, lines: [[SERUM, "30.00"]]}, amount: "5.00"}
          expect: {cashback: {available: "15.00", spent: "5.00"}}
        - apply_offers: {id: A-3, lines: [[SERUM, "30.00"]]}
    """, program=PROGRAMS / "festival-cashback.yaml")
    result = only(run_file(path))
    assert result.passed, result.report()


# ------------------------------------------------------------------ choices and referrals

@pytest.mark.parametrize("option", ["Full-size cream", "CREAM-50ML", "1"])
def test_a_member_picks_an_option_of_her_choice(tmp_path: Path, option: str) -> None:
    path = scenario(tmp_path, f"""
        - enrol: {{channel: email}}
        - choose: {{incentive: club-welcome, option: {option}}}
          expect:
            coupons: [{{}}, {{}}, {{title: Full-size cream, value: "19.00", status: open}}]
        - choose: {{incentive: club-welcome, option: 0}}
          error: {{type: InvalidInput, message_contains: is used}}
    """, program=CLUB, start="2026-03-02T09:00")
    result = only(run_file(path))
    assert result.passed, result.report()


def test_a_choice_is_chosen_by_its_holding_key(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: {channel: email}
        - choose: {holding: "1.0", option: MASK-75ML}
          expect: {coupons: [{}, {}, {title: Full-size mask}]}
    """, program=CLUB, start="2026-03-02T09:00")
    result = only(run_file(path))
    assert result.passed, result.report()


def test_choosing_without_a_choice_fails_at_the_steps_line(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: {channel: app}
        - choose: {incentive: club-welcome, option: 0}
    """, program=CLUB, start="2026-03-02T09:00")
    mismatch = only(run_file(path)).steps[1].mismatches[0]
    assert mismatch.what == "choose.incentive"
    assert mismatch.actual == "ana holds none"
    assert mismatch.line == line_of(path, "choose:")


REFERRAL = """
    - enrol: ana
    - enrol: {referred_by: ana}
      member: cleo
      expect:
        referral: {state: attributed, referrer: ana}
        coupons: [{incentive: referee-welcome, value: "10.00"}, {incentive: referee-welcome}]
    - expect: {referral: null}
    - order: {id: C-1, lines: [[SERUM-30ML, "40.00"]]}
      member: cleo
      at: 2026-03-20T14:00
      expect:
        referral: {state: qualified, order: C-1, due: 2026-04-19T14:00}
    - advance: 2026-04-20T02:00
      expect: {available: 200, coupons: [{incentive: referrer-thanks, value: "15.00"}]}
    - member: cleo
      expect: {referral: rewarded}
"""


def test_a_member_enrols_with_another_members_referral_code(tmp_path: Path) -> None:
    path = scenario(tmp_path, REFERRAL, program=CLUB, start="2026-03-18T18:00")
    result = only(run_file(path))
    assert result.passed, result.report()


def test_a_wrong_referral_state_fails_with_the_referral_in_words(tmp_path: Path) -> None:
    text = REFERRAL.replace("referral: rewarded", "referral: rejected")
    path = scenario(tmp_path, text, program=CLUB, start="2026-03-18T18:00")
    mismatch = only(run_file(path)).steps[5].mismatches[0]
    assert (mismatch.what, mismatch.expected, mismatch.actual) == (
        "referral.state", "rejected", "rewarded"
    )
    assert "cleo was referred by ana: rewarded, order C-1" in (mismatch.explanation or "")
    assert mismatch.line == line_of(path, "referral: rejected")


def test_a_referral_expected_of_a_member_nobody_referred(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - expect: {referral: attributed}
    """, program=CLUB)
    mismatch = only(run_file(path)).steps[1].mismatches[0]
    assert (mismatch.what, mismatch.expected, mismatch.actual) == ("referral", "a referral", "none")


# ------------------------------------------------------------------ coupons found for the engine


def test_a_lapsed_coupon_is_refused_by_the_engine(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: {segments: [lapsed]}
        - grant: flash-half-off
        - wait: 3 days
        - redeem_coupon: {incentive: flash-half-off, cart: {id: C-1, lines: [[BAG, "40.00"]]}}
          error: {type: CouponRefused, message_contains: this code cannot be applied}
    """, program=PROGRAMS / "flash-half-off.yaml")
    result = only(run_file(path))
    assert result.passed, result.report()


def test_a_usable_coupon_is_found_before_a_used_one(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - order: {id: A-1, lines: [[BAG, "40.00"]]}
        - shipment_delayed: A-1
        - redeem_coupon: {incentive: late-apology, cart: {id: C-1, lines: [[BAG, "40.00"]]}}
          expect: {redemption: {total: "10.00"}}
        - order: {id: A-2, lines: [[BAG, "40.00"]]}
        - shipment_delayed: A-2
          expect: {coupons: [{status: used}, {status: open}, {status: open}, {status: open}]}
        - redeem_coupon: {incentive: late-apology, cart: {id: C-2, shipping: "4.90",
                                                          lines: [[BAG, "40.00"]]}}
          expect:   # the first delay's free shipping: the oldest usable, not the newest
            redemption: {shipping: "4.90"}
            coupons: [{status: used}, {status: used}, {status: open}, {status: open}]
    """, program=PROGRAMS / "late-apology.yaml")
    result = only(run_file(path))
    assert result.passed, result.report()


def test_redeeming_a_coupon_the_member_does_not_hold_fails_at_the_steps_line(
    tmp_path: Path,
) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - redeem_coupon: {incentive: flash-half-off, cart: {id: C-1, lines: [[BAG, "40.00"]]}}
    """, program=PROGRAMS / "flash-half-off.yaml")
    result = only(run_file(path))
    mismatch = result.steps[1].mismatches[0]
    assert mismatch.actual == "ana holds none"
    line = line_of(path, "redeem_coupon:")
    assert mismatch.line == line
    assert f"{path}:{line}: redeem_coupon.incentive" in result.report()


# ------------------------------------------------------------------ what a quote does not list


def test_a_reward_the_quote_does_not_list_is_absent(tmp_path: Path) -> None:
    steps = """
        - enrol: {segments: [%s]}
        - expect:
            quote:
              cart: {id: Q-1, lines: [[SERUM, "40.00"]]}
              rewards: {vip-free-shipping: absent}
    """
    program = PROGRAMS / "segment-free-shipping.yaml"
    assert only(run_file(scenario(tmp_path, steps % "newsletter", program=program))).passed
    result = only(run_file(scenario(tmp_path, steps % "vip", program=program)))
    mismatch = result.steps[1].mismatches[0]
    assert mismatch.what == "quote.rewards.vip-free-shipping"
    assert mismatch.expected == "absent (not offered to this member)"
    assert mismatch.actual == "offered: not eligible"


def test_an_offer_the_quote_does_not_list_is_absent(tmp_path: Path) -> None:
    steps = """
        - enrol: {segments: [newsletter]}
        - expect:
            quote:
              cart: {id: Q-1, lines: [[SOAP, "10.00", 1], [CREAM, "30.00", 1]]}
              offers: {summer-sale: {offered: false}, five-from-2: {offered: true}}
    """
    program = PROGRAMS / "stacked-offers.yaml"
    assert only(run_file(scenario(tmp_path, steps, program=program))).passed
    july = scenario(tmp_path, steps, program=program, start="2026-07-02")
    mismatch = only(run_file(july)).steps[1].mismatches[0]
    assert mismatch.what == "quote.offers.summer-sale"
    assert mismatch.actual == "applied"


def test_nothing_else_is_checked_of_what_is_absent(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - expect:
            quote:
              cart: {id: Q-1, lines: [[SERUM, "40.00"]]}
              rewards: {five-off: {offered: false, eligible: false}}
    """)
    found = one_problem(path)
    assert "steps[1].expect.quote.rewards.five-off: " in found
    assert "what is not offered has no eligible to check" in found


# ------------------------------------------------------------------ rules, offers written


def test_the_tier_multipliers_rule_is_named_after_the_tier(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - order: {id: A-1, lines: [[BAG, "400.00"]]}
        - expect:
            quote:
              cart: {id: Q-1, lines: [[BAG, "650.00"]]}
              earns: 812
              rules: {base: 650, tier VIB: 162}
    """, program=PROGRAMS / "beauty-tiers.yaml")
    result = only(run_file(path))
    assert result.passed, result.report()


def test_a_tier_without_a_multiplier_has_no_rule(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - expect:
            quote: {cart: {id: Q-1, lines: [[BAG, "6.00"]]}, rules: {tier Insider: 0}}
    """, program=PROGRAMS / "beauty-tiers.yaml")
    found = one_problem(path)
    assert "steps[1].expect.quote.rules.tier Insider: the program has no earning rule" in found
    assert "tier VIB" in found or "tier Rouge" in found


def test_what_apply_offers_wrote(tmp_path: Path) -> None:
    steps = """
        - enrol: {segments: [newsletter]}
        - apply_offers: {id: A-1, shipping: "5.90",
                         lines: [[SOAP, "10.00", 1], [CREAM, "30.00", 1]]}
          expect:
            offers_written:
              five-from-2: {total: "2.00", lines: {SOAP: "0.50", CREAM: "1.50"}}
              newsletter-shipping: {shipping: "5.90", lines: {}}
    """
    program = PROGRAMS / "stacked-offers.yaml"
    result = only(run_file(scenario(tmp_path, steps, program=program)))
    assert result.passed, result.report()
    wrong = steps.replace('five-from-2: {total: "2.00", ', 'five-from-2: {total: "2.50", ')
    mismatch = only(run_file(scenario(tmp_path, wrong, program=program))).steps[1].mismatches[0]
    assert (mismatch.what, mismatch.expected, mismatch.actual) == (
        "offers_written.five-from-2.total", "2.50", "2.00 USD"
    )
    assert "five-from-2: 0 points, 2.00 USD off" in (mismatch.explanation or "")
    fewer = scenario(tmp_path, steps.replace(
        "              newsletter-shipping: {shipping: \"5.90\", lines: {}}\n", ""
    ), program=program)
    mismatch = only(run_file(fewer)).steps[1].mismatches[0]
    assert (mismatch.what, mismatch.expected, mismatch.actual) == (
        "offers_written", "['five-from-2']", "['five-from-2', 'newsletter-shipping']"
    )


def test_a_redemption_is_read_as_a_later_one_left_it(tmp_path: Path) -> None:
    cart = '{id: A-1, shipping: "4.90", lines: [[SERUM-30ML, "24.00", 1], [LIPSTICK, "8.50", 1]]}'
    path = scenario(tmp_path, f"""
        - enrol: {{channel: email}}
        - choose: {{incentive: club-welcome, option: SERUM-30ML}}
        - redeem_coupon: {{incentive: club-welcome, cart: {cart}}}
          key: five-off
          expect: {{redemption: {{total: "5.00", lines: {{SERUM-30ML: "3.69", LIPSTICK: "1.31"}}}}}}
        - redeem_coupon: {{incentive: club-welcome, cart: {cart}}}
        - redeem_coupon: {{incentive: club-welcome, cart: {cart}}}
          expect:
            redemption: {{total: "24.00", lines: {{SERUM-30ML: "24.00"}}}}
        - expect:
            redemption: {{key: five-off, total: "5.00", lines: {{LIPSTICK: "5.00"}}}}
        - void: five-off
        - expect:
            redemption: {{key: five-off}}
    """, program=CLUB, start="2026-03-02T09:00")
    result = only(run_file(path))
    failed = result.failed_step
    assert failed is not None, result.report()
    assert failed.number == 8, result.report()
    mismatch = failed.mismatches[0]
    assert (mismatch.what, mismatch.actual) == ("redemption", "it was voided")


def test_a_redemption_named_by_a_key_no_step_made(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - expect: {redemption: {key: checkout-1}}
    """)
    mismatch = only(run_file(path)).steps[1].mismatches[0]
    assert mismatch.what == "redemption.key"
    assert mismatch.actual == "no redemption made by a step with that key (made by: none)"


# ------------------------------------------------------------------ shorthands


def test_a_mapping_line_is_one_unit_unless_it_says(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - order: {id: A-1, lines: [{sku: LIP, unit_price: "12.00", categories: [makeup]},
                                   {sku: SERUM, unit_price: "10.00", quantity: 3}]}
          expect: {pending: 42}
    """)
    result = only(run_file(path))
    assert result.passed, result.report()


def test_a_count_of_notifications(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - order: {id: A-1, lines: [[SERUM, "120.00"]]}
          expect: {notifications: 1}
        - advance: 31 days
          expect: {notifications: 2}
    """)
    result = only(run_file(path))
    mismatch = result.steps[2].mismatches[0]
    assert (mismatch.what, mismatch.expected, mismatch.actual) == (
        "notifications", "2 notification(s)", "['reward_unlocked']"
    )
    assert result.steps[1].status is Status.PASSED


def test_a_notification_of_any_kind_has_no_fields(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - expect: {notifications: [{points: 3}]}
    """)
    found = one_problem(path)
    assert "steps[1].expect.notifications[0]: " in found
    assert "give the notification's kind to check its fields" in found


# ------------------------------------------------------------------ checked before running


@pytest.mark.parametrize(
    ("steps", "marker", "where", "message"),
    [
        ("- choose: {incentive: club-welcom, option: 0}", "club-welcom",
         "steps[1].choose.incentive", "no incentive 'club-welcom' (did you mean 'club-welcome'?)"),
        ("- choose: {incentive: referee-welcome, option: 0}", "referee-welcome",
         "steps[1].choose.option", "incentive 'referee-welcome' leaves no choice to the member"),
        ("- choose: {incentive: club-welcome, option: 3}", "option: 3",
         "steps[1].choose.option", "option 3: pick a number from 0 to 2"),
        ("- choose: {incentive: club-welcome, option: LIPSTICK}", "LIPSTICK",
         "steps[1].choose.option", "option 'LIPSTICK' is none of the choice's"),
        ("- choose: {option: 0}", "choose", "steps[1].choose",
         "give the choice's incentive or its holding"),
        ("- choose: {incentive: club-welcome, option: -1}", "option: -1",
         "steps[1].choose.option", "-1: give the option's number (from 0), a gift's sku"),
        ("- enrol: {referred_by: ben}\n  member: cleo", "referred_by",
         "steps[1].enrol.referred_by", "no earlier step enrols 'ben' (enrolled before: ana)"),
        ("- enrol: {referred_by: ana, referral_code: X}\n  member: cleo", "referred_by",
         "steps[1].enrol", "give 'referral_code' or 'referred_by', not both"),
        ("- redeem_coupon: {incentive: referrer-thank, cart: {id: A, lines: [[A, '1.00']]}}",
         "referrer-thank", "steps[1].redeem_coupon.incentive",
         "(did you mean 'referrer-thanks'?)"),
        ("- expect: {quote: {cart: {id: Q, lines: [[A, '1.00']]}, rewards: {five-off: absent}}}",
         "five-off", "steps[1].expect.quote.rewards.five-off", "no reward 'five-off'"),
        ("- expect: {offers_written: {half: '1.00'}}", "half",
         "steps[1].expect.offers_written.half", "no offer 'half'"),
        ("- expect: {referral: {incentives: [referrer]}}", "referrer",
         "steps[1].expect.referral.incentives[0]", "(did you mean 'referrer-thanks'?)"),
        ("- expect: {referral: invited}", "invited", "steps[1].expect.referral",
         "'invited': input should be 'attributed', 'qualified', 'rewarded' or 'rejected'"),
    ],
)
def test_the_names_of_the_new_steps_are_checked_before_running(
    tmp_path: Path, steps: str, marker: str, where: str, message: str
) -> None:
    path = scenario(tmp_path, f"- enrol: ana\n{steps}", program=CLUB)
    found = one_problem(path)
    line = line_of(path, marker, start=line_of(path, "enrol: ana"))
    assert found.startswith(f"{path}:{line}: scenarios[0].{where}: "), found
    assert message in found


def test_a_coupon_of_an_incentive_that_issues_none(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - redeem_coupon: {incentive: singles-day-cashback, cart: {id: A, lines: [[A, "1.00"]]}}
    """, program=PROGRAMS / "festival-cashback.yaml")
    found = one_problem(path)
    said = "steps[1].redeem_coupon.incentive: incentive 'singles-day-cashback' issues no coupon"
    assert said in found


def test_a_duplicate_anchor_keeps_pyyamls_words_and_both_lines(tmp_path: Path) -> None:
    path = write(tmp_path, """\
        program: x
        scenarios:
          - name: a
            steps:
              - order: &B-3 {id: B-3}
              - order: &B-3 {id: B-4}
    """)
    found = one_problem(path)
    assert found.startswith(f"{path}:6: (top level): is not valid YAML: "), found
    assert "found duplicate anchor 'B-3'; first occurrence (line 5)" in found
    assert "second occurrence (line 6)" in found


# ------------------------------------------------------------------ reports


def test_a_report_lists_mismatches_in_line_order_and_each_explanation_once(
    tmp_path: Path,
) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - order: {id: A-1, lines: [[SERUM, "120.00"]]}
          expect:
            pending: 121
            available: 1
            notifications: [points_earned, points_earned]
            debt: 2
    """)
    result = only(run_file(path))
    step = result.steps[1]
    whats = [mismatch.what for mismatch in step.mismatches]
    assert whats == ["pending", "available", "notifications", "debt"]
    assert [m.line for m in step.mismatches] == sorted(m.line or 0 for m in step.mismatches)
    report = result.report()
    assert report.count("Statement for member ana") == 1
    assert report.count("why: as above") == 2
    assert report.index("pending") < report.index("debt")


def test_times_in_a_notification_mismatch_are_in_the_programs_timezone(tmp_path: Path) -> None:
    path = scenario(tmp_path, """
        - enrol: ana
        - order: {id: A-1, lines: [[SERUM, "120.00"]]}
          expect:
            notifications: [{kind: points_earned, available_at: 2026-03-31T10:00}]
    """)
    mismatch = only(run_file(path)).steps[1].mismatches[0]
    assert mismatch.expected == "2026-03-31T10:00"
    assert mismatch.actual == "2026-03-31T09:00-04:00"
    assert "available_at=2026-03-31T09:00-04:00" in (mismatch.explanation or "")


def test_a_files_start_out_of_range_is_said_once(tmp_path: Path) -> None:
    path = write(tmp_path, f"""\
        program: {COSMETICS}
        start: 9999-01-01
        scenarios:
          - name: a
            steps: [{{enrol: ana}}]
          - name: b
            steps: [{{enrol: ben}}]
    """)
    assert one_problem(path) == (
        f"{path}:2: start: 9999-01-01 lies outside the instants taken "
        "(from 1970-01-01 to 2200-01-01 UTC)"
    )


def test_without_a_member_the_first_enrolled_is_the_scenarios_member(tmp_path: Path) -> None:
    path = write(tmp_path, f"""\
        program: {COSMETICS}
        scenarios:
          - name: the first enrolled is the default
            steps:
              - enrol: m
              - order: {{id: A-1, lines: [[SERUM, "12.00", 1]]}}
                expect: {{pending: 12}}
              - enrol: ben
              - expect: {{pending: 12}}
              - order: {{id: B-1, lines: [[SERUM, "5.00", 1]]}}
                member: ben
                expect: {{pending: 5}}
          - name: an enrol step's member modifier names them too
            steps:
              - enrol: {{channel: email}}
                member: cleo
              - order: {{id: C-1, lines: [[SERUM, "3.00", 1]]}}
                expect: {{pending: 3}}
    """)
    results = run_file(path)
    assert [result.passed for result in results] == [True, True], [r.report() for r in results]
    assert [scenario.member for scenario in load_file(path).scenarios] == ["m", "cleo"]


def test_a_member_given_stays_the_default_whoever_enrols_first(tmp_path: Path) -> None:
    path = write(tmp_path, f"""\
        program: {COSMETICS}
        member: ana
        scenarios:
          - name: a
            steps:
              - enrol: ben
              - order: {{id: A-1, lines: [[SERUM, "12.00", 1]]}}
                error: UnknownMember
          - name: b
            member: cleo
            steps:
              - enrol: ben
    """)
    assert [scenario.member for scenario in load_file(path).scenarios] == ["ana", "cleo"]
    assert only(run_file(path)[:1]).passed


def test_without_a_member_or_a_named_enrolment_the_member_is_member(tmp_path: Path) -> None:
    path = write(tmp_path, f"""\
        program: {COSMETICS}
        scenarios:
          - name: a
            steps:
              - enrol:
              - order: {{id: A-1, lines: [[SERUM, "12.00", 1]]}}
                expect: {{pending: 12}}
    """)
    assert load_file(path).scenarios[0].member == "member"
    assert only(run_file(path)).passed


def _headings(page: Path) -> list[str]:
    """The page's headings, outside code blocks."""
    found, fenced = [], False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            found.append(line)
    return found


def test_the_scenarios_page_has_one_title_and_the_anchors_testing_links_to() -> None:
    docs = ROOT / "docs"
    headings = _headings(docs / "scenarios.md")
    assert headings[0] == "# Scenario files"
    assert [h for h in headings if h.startswith("# ")] == ["# Scenario files"]
    slugs = {
        re.sub(r"[^\w\- ]", "", h.lstrip("#").strip().lower()).replace(" ", "-")
        for h in headings
    }
    linked = re.findall(r"\]\(scenarios\.md#([\w-]+)\)", (docs / "testing.md").read_text())
    assert set(linked) == {"loyalty-test", "the-pytest-plugin"}
    assert set(linked) <= slugs
