"""Two variants side by side: the difference of every figure, the months where they
diverge most, the summary sentence, and months.csv."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from loyalty import Program, load_program
from loyalty.simulation import Policy, Variant, simulate
from tests.simulation_history import history, text

COSMETICS = Path(__file__).resolve().parents[1] / "examples" / "programs" / "cosmetics-club.yaml"
HEADLINES = ("cost.total", "points.issued", "points.redeemed", "liability.total",
             "orders_with_reward")  # fmt: skip


def cosmetics(program_id: str = "cosmetics-club", **reward: Any) -> Program:
    """cosmetics-club (under ``program_id``), its reward changed by ``reward``."""
    data = yaml.safe_load(COSMETICS.read_text(encoding="utf-8"))
    data["rewards"]["catalog"][0].update(reward)
    return load_program({**data, "id": program_id})


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return text(history(25, seed=21, months=5))


@pytest.fixture(scope="module")
def cheaper(lines: list[str]) -> dict[str, Any]:
    """A: cosmetics-club; B: its reward for 50 points instead of 100."""
    variants = [Variant("A", cosmetics()), Variant("B", cosmetics(cost=50))]
    return simulate(variants, lines, policy=Policy(seed=5)).document


def rewards(figures: dict[str, Any]) -> int:
    return sum(figures["rewards"].values())


def at(figures: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        figures = figures[part]
    return figures


def test_a_cheaper_reward_is_redeemed_more_often(cheaper: dict[str, Any]) -> None:
    a, b = (variant["total"] for variant in cheaper["variants"])
    assert rewards(b) > rewards(a) > 0
    assert b["orders_with_reward"] > a["orders_with_reward"]
    assert Decimal(b["cost"]["total"]) > Decimal(a["cost"]["total"])
    # points are earned on what is paid: more taken off, fewer points
    assert b["points"]["issued"] < a["points"]["issued"]


def _decimals(text: str) -> int:
    exponent = Decimal(text).as_tuple().exponent
    assert isinstance(exponent, int)
    return -exponent


def _check_difference(a: Any, b: Any, gap: Any, path: str) -> int:
    """Assert ``gap`` is ``b - a`` figure by figure (a name in one only counts as 0 in
    the other); return how many figures differ."""
    if isinstance(gap, dict):
        a, b = a or {}, b or {}
        assert set(gap) == set(a) | set(b), path
        differing = 0
        for key, value in gap.items():
            if key == "month":
                assert value == a[key] == b[key]
            else:
                differing += _check_difference(a.get(key), b.get(key), value, f"{path}.{key}")
        return differing
    if isinstance(gap, str):
        expected = Decimal(b if b is not None else 0) - Decimal(a if a is not None else 0)
        assert Decimal(gap) == expected, path
        assert not gap.startswith("-") or expected < 0, path  # no "-0.00"
        assert _decimals(gap) == _decimals(a if a is not None else b), path
        return int(expected != 0)
    assert isinstance(gap, int), path
    assert not isinstance(gap, bool), path
    assert gap == (b or 0) - (a or 0), path
    return int(gap != 0)


def test_the_difference_is_b_minus_a_for_every_figure_of_every_month(
    cheaper: dict[str, Any],
) -> None:
    a, b = cheaper["variants"]
    gaps = cheaper["difference"]
    assert len(gaps["months"]) == len(a["months"]) == len(b["months"])
    differing = sum(
        _check_difference(x, y, gap, gap["month"])
        for x, y, gap in zip(a["months"], b["months"], gaps["months"], strict=True)
    )
    assert differing > 0
    assert _check_difference(a["total"], b["total"], gaps["total"], "total") > 0


def test_diverge_names_the_month_of_the_largest_gap_of_each_headline_figure(
    cheaper: dict[str, Any],
) -> None:
    a, b = cheaper["variants"]
    expected = []
    for path in HEADLINES:
        gaps = [
            (abs(Decimal(at(y, path)) - Decimal(at(x, path))), x, y)
            for x, y in zip(a["months"], b["months"], strict=True)
        ]
        largest = max(gap for gap, _, _ in gaps)
        if largest == 0:
            continue
        _, x, y = next(item for item in gaps if item[0] == largest)  # the first on a tie
        expected.append((path, x["month"], at(x, path), at(y, path)))
    found = [(d["figure"], d["month"], d["a"], d["b"]) for d in cheaper["diverge"]]
    assert found == expected
    assert {"cost.total", "points.redeemed", "orders_with_reward"} <= {d[0] for d in found}
    for entry in cheaper["diverge"]:
        assert Decimal(entry["difference"]) == Decimal(entry["b"]) - Decimal(entry["a"])


def _expected_summary(a: dict[str, Any], b: dict[str, Any], months: int) -> str:
    cost = Decimal(b["cost"]["total"]) - Decimal(a["cost"]["total"])
    change = round((rewards(b) - rewards(a)) * 100 / rewards(a))
    liability = Decimal(b["liability"]["total"]) - Decimal(a["liability"]["total"])
    return (
        f"B costs {abs(cost):,} USD {'more' if cost > 0 else 'less'} over the {months} months "
        f"and redeems {abs(change)}% {'more' if change > 0 else 'fewer'} rewards; "
        f"its liability at the end is {abs(liability):,} USD "
        f"{'higher' if liability > 0 else 'lower'}"
    )


def test_the_summary_says_which_way_b_goes_and_by_how_much(
    cheaper: dict[str, Any], lines: list[str]
) -> None:
    a, b = (variant["total"] for variant in cheaper["variants"])
    months = len(cheaper["variants"][0]["months"])
    assert months == 5
    assert cheaper["summary"] == _expected_summary(a, b, months)
    assert " more over the 5 months and redeems " in cheaper["summary"]
    # the other way round, B is the dearer reward: less, and fewer
    swapped = simulate(
        [Variant("A", cosmetics(cost=50)), Variant("B", cosmetics())], lines, policy=Policy(seed=5)
    ).document
    a, b = (variant["total"] for variant in swapped["variants"])
    assert swapped["summary"] == _expected_summary(a, b, months)
    assert " less over the 5 months and redeems " in swapped["summary"]
    assert " fewer rewards" in swapped["summary"]


def test_one_variant_is_summed_up_alone(lines: list[str]) -> None:
    document = simulate([cosmetics()], lines, policy=Policy(seed=5)).document
    total = document["variants"][0]["total"]
    share = Decimal(total["reward_share"]) * 100
    assert document["summary"] == (
        f"A issues {total['points']['issued']:,} points over the 5 months, redeems "
        f"{rewards(total):,} rewards on {share:.1f}% of orders and costs "
        f"{Decimal(total['cost']['total']):,} USD; liability at the end "
        f"{Decimal(total['liability']['total']):,} USD"
    )
    assert document["difference"] is None
    assert document["diverge"] == []


def test_a_variant_compared_with_itself_differs_in_nothing(lines: list[str]) -> None:
    """The members decide the same under both (the draws know nothing of the variant)."""
    document = simulate(
        [cosmetics(), cosmetics("same-club")], lines, policy=Policy(seed=5)
    ).document
    a, b = document["variants"]
    assert b["program"]["id"] == "same-club"
    assert a["months"] == b["months"]
    assert _check_difference(a["total"], b["total"], document["difference"]["total"], "") == 0
    assert document["diverge"] == []
    assert document["summary"] == (
        "B costs the same over the 5 months and redeems as many rewards; "
        "its liability at the end is the same"
    )


# ------------------------------------------------------------------------------ CSV


def _flat(figures: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in figures.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[prefix + key] = value
    return flat


def test_months_csv_has_a_row_per_variant_and_month_and_the_totals_with_the_jsons_values(
    cheaper: dict[str, Any], tmp_path: Path
) -> None:
    from loyalty.simulation import Simulation

    written = Simulation(cheaper).write_csv(tmp_path / "out")
    assert written == [tmp_path / "out" / "months.csv"]
    with written[0].open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    expected: list[tuple[str, dict[str, Any]]] = []
    for variant in cheaper["variants"]:
        expected += [(variant["name"], f) for f in [*variant["months"], variant["total"]]]
    gaps = cheaper["difference"]
    expected += [("B-A", f) for f in [*gaps["months"], gaps["total"]]]
    assert len(rows) == 3 * (5 + 1)
    assert [(row["variant"], row["month"]) for row in rows] == [
        (name, figures["month"]) for name, figures in expected
    ]
    columns = set(rows[0])
    for row, (_, figures) in zip(rows, expected, strict=True):
        flat = _flat(figures)
        assert set(flat) <= columns
        for column in columns - {"variant"}:
            assert row[column] == str(flat.get(column, 0)), column
    assert {"points.issued", "cost.by_campaign.rewards", "rewards.five-off"} <= columns


def _variant(name: str, rewards: int, cost: str = "10.00") -> dict[str, Any]:
    return {
        "name": name,
        "total": {"cost": {"total": cost}, "rewards": {"r": rewards} if rewards else {},
                  "liability": {"total": "0.00"}},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("a", "b", "said"),
    [
        (1000, 1000, "redeems as many rewards"),
        (1000, 1004, "redeems 0.4% more rewards"),
        (1000, 999, "redeems 0.1% fewer rewards"),
        (100000, 100001, "redeems <0.1% more rewards"),
        (200, 236, "redeems 18% more rewards"),
        (0, 5, "redeems 5 rewards (A none)"),
    ],
)
def test_the_summary_never_calls_a_change_in_rewards_none(a: int, b: int, said: str) -> None:
    from loyalty.simulation.compare import summary

    sentence = summary([_variant("A", a), _variant("B", b)], "USD", 12)
    assert sentence == (
        f"B costs the same over the 12 months and {said}; its liability at the end is the same"
    )
