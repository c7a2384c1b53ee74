"""Validation of the ``rewards`` and ``earning`` sections and the references across sections.

Each problem is reported with its path as written, every problem at once.
"""

from __future__ import annotations

from typing import Any

import pytest

from loyalty import ConfigurationError, load_program
from loyalty.rewards.config import AmountOff, PayWithPoints
from tests.builders import BASE, SPEND_LADDER, ladder


def problems(**sections: Any) -> dict[str, str]:
    """Every problem of the base program with ``sections``, by path."""
    with pytest.raises(ConfigurationError) as caught:
        load_program({**BASE, **sections})
    found = {problem.path: problem.message for problem in caught.value.problems}
    assert len(found) == len(caught.value.problems), "two problems share a path"
    return found


def amount_off(reward_id: str = "five-off", **extra: Any) -> dict[str, Any]:
    return {"id": reward_id, "kind": "amount_off", "amount": "5.00", "cost": 100, **extra}


def pay_with_points(**extra: Any) -> dict[str, Any]:
    return {"id": "pwp", "kind": "pay_with_points", "points": 100, "value": "1.00", **extra}


def test_a_valid_catalog_loads() -> None:
    club = load_program(
        {
            **BASE,
            "tiers": ladder(*SPEND_LADDER),
            "rewards": {
                "catalog": [
                    amount_off(tiers=["Gold"], hurdles={"all_of": [{"min_tier": "Silver"}]}),
                    pay_with_points(step=50, min_points=200),
                ]
            },
            "earning": {"currencies": {"EUR": "1.08"}},
        }
    )
    reward = club.rewards.get("five-off")
    assert isinstance(reward, AmountOff)
    assert reward.tiers == ("Gold",)
    assert isinstance(club.rewards.get("pwp"), PayWithPoints)
    assert club.rewards.get("nope") is None


def test_duplicate_reward_ids_are_refused_at_the_second() -> None:
    found = problems(rewards={"catalog": [amount_off("a"), amount_off("b"), amount_off("a")]})
    assert list(found) == ["rewards.catalog[2].id"]
    assert "'a'" in found["rewards.catalog[2].id"]
    assert "twice" in found["rewards.catalog[2].id"]


def test_duplicate_rule_names_are_refused_at_the_second() -> None:
    found = problems(earning={"rules": [{"name": "x", "multiplier": 2}, {"name": "x", "bonus": 5}]})
    assert list(found) == ["earning.rules[1].name"]
    assert "'x'" in found["earning.rules[1].name"]


@pytest.mark.parametrize(
    "rule",
    [{"name": "x", "multiplier": 2, "bonus": 5}, {"name": "x"}],
    ids=["both", "neither"],
)
def test_a_rule_needs_exactly_one_of_multiplier_or_bonus(rule: dict[str, Any]) -> None:
    found = problems(earning={"rules": [{"name": "ok", "bonus": 1}, rule]})
    assert list(found) == ["earning.rules[1]"]
    assert "exactly one of multiplier, bonus or per_unit" in found["earning.rules[1]"]


def test_problems_of_different_sections_are_reported_together() -> None:
    found = problems(
        rewards={"catalog": [amount_off("a"), amount_off("a")]},
        earning={"rules": [{"name": "x", "multiplier": 2, "bonus": 5}]},
    )
    assert set(found) == {"rewards.catalog[1].id", "earning.rules[0]"}


def test_a_section_check_still_runs_when_another_section_does_not_parse() -> None:
    found = problems(
        rewards={"catalog": [{"id": "a", "kind": "cashback", "cost": 1}]},
        earning={"rules": [{"name": "x", "multiplier": 2}, {"name": "x", "bonus": 1}]},
    )
    assert set(found) == {"rewards.catalog[0].kind", "earning.rules[1].name"}


def test_an_unknown_reward_kind_names_the_kinds() -> None:
    found = problems(
        rewards={"catalog": [amount_off(), {"id": "a", "kind": "cashback", "cost": 1}]}
    )
    assert list(found) == ["rewards.catalog[1].kind"]
    message = found["rewards.catalog[1].kind"]
    assert "cashback" in message
    for kind in ("amount_off", "percent_off", "free_shipping", "free_product", "pay_with_points"):
        assert kind in message


def test_a_reward_without_a_kind_is_refused() -> None:
    found = problems(rewards={"catalog": [{"id": "a", "cost": 1}]})
    assert list(found) == ["rewards.catalog[0].kind"]
    assert "is required" in found["rewards.catalog[0].kind"]
    assert "'amount_off'" in found["rewards.catalog[0].kind"]


# ------------------------------------------------------------------ references across sections


def test_tier_references_must_name_tiers_of_the_ladder() -> None:
    found = problems(
        tiers=ladder(*SPEND_LADDER),
        rewards={
            "catalog": [
                amount_off(
                    tiers=["Gold", "Diamond"],
                    hurdles={"all_of": [{"min_points": 100}, {"min_tier": "Ruby"}]},
                ),
                amount_off("b", hurdles={"not": {"min_tier": "Onyx"}}),
            ]
        },
        earning={"rules": [{"name": "r", "tiers": ["Bronze"], "multiplier": 2}]},
    )
    assert set(found) == {
        "rewards.catalog[0].tiers[1]",
        "rewards.catalog[0].hurdles.all_of[1].min_tier",
        "rewards.catalog[1].hurdles.not.min_tier",
        "earning.rules[0].tiers[0]",
    }
    assert "'Diamond' is not a tier" in found["rewards.catalog[0].tiers[1]"]
    assert "'Gold'" in found["rewards.catalog[0].tiers[1]"]  # the ladder is listed
    assert "'Ruby'" in found["rewards.catalog[0].hurdles.all_of[1].min_tier"]


def test_a_tier_reference_without_a_ladder_says_there_are_no_tiers() -> None:
    found = problems(rewards={"catalog": [amount_off(tiers=["Gold"])]})
    assert list(found) == ["rewards.catalog[0].tiers[0]"]
    assert "no tiers" in found["rewards.catalog[0].tiers[0]"]


def test_tier_benefit_rewards_must_be_in_the_catalog() -> None:
    tiers = ladder(*SPEND_LADDER)
    tiers["ladder"][1]["benefits"] = {"rewards": ["ghost", "five-off"]}
    tiers["ladder"][3]["benefits"] = {"rewards": ["five-off", "spectre"]}
    found = problems(tiers=tiers, rewards={"catalog": [amount_off()]})
    assert set(found) == {
        "tiers.ladder[1].benefits.rewards[0]",
        "tiers.ladder[3].benefits.rewards[1]",
    }
    assert "'ghost' is not a reward" in found["tiers.ladder[1].benefits.rewards[0]"]


def test_earning_currencies_must_not_list_the_program_currency() -> None:
    found = problems(earning={"currencies": {"EUR": "1.08", "USD": "1"}})
    assert list(found) == ["earning.currencies.USD"]
    assert "program currency" in found["earning.currencies.USD"]


@pytest.mark.parametrize("rate", ["0", "-1.08", "NaN"])
def test_an_exchange_rate_must_be_positive(rate: str) -> None:
    assert list(problems(earning={"currencies": {"EUR": rate}})) == ["earning.currencies.EUR"]


def test_every_cross_section_problem_is_reported_at_once() -> None:
    tiers = ladder(*SPEND_LADDER)
    tiers["ladder"][2]["benefits"] = {"rewards": ["ghost"]}
    found = problems(
        tiers=tiers,
        rewards={"catalog": [amount_off(tiers=["Diamond"])]},
        earning={"currencies": {"USD": "1"}},
    )
    assert set(found) == {
        "rewards.catalog[0].tiers[0]",
        "tiers.ladder[2].benefits.rewards[0]",
        "earning.currencies.USD",
    }


# ------------------------------------------------------------------ field checks


@pytest.mark.parametrize(("step", "min_points"), [(100, 150), (3, 10), (7, 1)])
def test_pay_with_points_min_points_must_be_a_multiple_of_step(step: int, min_points: int) -> None:
    found = problems(
        rewards={"catalog": [amount_off(), pay_with_points(step=step, min_points=min_points)]}
    )
    assert list(found) == ["rewards.catalog[1].min_points"]
    message = found["rewards.catalog[1].min_points"]
    assert str(min_points) in message
    assert str(step) in message


@pytest.mark.parametrize(("step", "min_points"), [(100, 0), (100, 300), (1, 7), (3, 9)])
def test_min_points_on_a_step_is_accepted(step: int, min_points: int) -> None:
    club = load_program(
        {**BASE, "rewards": {"catalog": [pay_with_points(step=step, min_points=min_points)]}}
    )
    reward = club.rewards.get("pwp")
    assert isinstance(reward, PayWithPoints)
    assert reward.min_points == min_points


@pytest.mark.parametrize(
    "window",
    [
        {"starts": "2026-02-01", "ends": "2026-01-31"},
        {"starts": "2026-02-01", "ends": "2026-02-01"},
        {"starts": "2026-02-01T10:00:00", "ends": "2026-02-01T09:59:59"},
    ],
)
def test_a_date_range_must_end_after_it_starts(window: dict[str, str]) -> None:
    found = problems(earning={"rules": [{"name": "r", "window": window, "multiplier": 2}]})
    assert list(found) == ["earning.rules[0].window"]
    assert "must be after starts" in found["earning.rules[0].window"]


def test_a_date_range_open_at_one_end_is_fine() -> None:
    club = load_program(
        {
            **BASE,
            "earning": {
                "rules": [{"name": "r", "window": {"ends": "2026-01-31"}, "multiplier": 2}]
            },
            "rewards": {"catalog": [amount_off(valid={"starts": "2026-01-01"})]},
        }
    )
    assert club.earning.rules[0].window is not None
    assert club.earning.rules[0].window.starts is None


def test_an_empty_selector_is_refused() -> None:
    found = problems(
        earning={
            "exclude": {},
            "rules": [{"name": "r", "products": {"skus": []}, "multiplier": 2}],
        }
    )
    assert set(found) == {"earning.exclude", "earning.rules[0].products"}
    assert "at least one of skus, categories or tags" in found["earning.exclude"]


@pytest.mark.parametrize(
    "reward",
    [
        amount_off(amount="0"),
        amount_off(cost=-1),
        {"id": "p", "kind": "percent_off", "percent": 101, "cost": 1},
        {"id": "p", "kind": "percent_off", "percent": 0, "cost": 1},
        {"id": "f", "kind": "free_product", "choices": [], "cost": 1},
        pay_with_points(step=0),
        pay_with_points(points=0),
        amount_off(stock=0),
        amount_off(id="has space"),
    ],
)
def test_bad_reward_fields_are_refused_inside_that_reward(reward: dict[str, Any]) -> None:
    found = problems(rewards={"catalog": [amount_off("first"), reward]})
    assert len(found) == 1
    assert next(iter(found)).startswith("rewards.catalog[1]")


# ------------------------------------------------------------------ paths as written (bug)


@pytest.mark.parametrize(
    ("reward", "path"),
    [
        (amount_off(amount="-5"), "rewards.catalog[0].amount"),
        (
            amount_off(valid={"starts": "2026-02-01", "ends": "2026-01-01"}),
            "rewards.catalog[0].valid",
        ),
        (
            {"id": "p", "kind": "percent_off", "percent": 10, "products": {}, "cost": 1},
            "rewards.catalog[0].products",
        ),
        (pay_with_points(step=0), "rewards.catalog[0].step"),
        (
            amount_off(hurdles={"all_of": [{"min_points": 100}, {"min_points": 0}]}),
            "rewards.catalog[0].hurdles.all_of[1].min_points",
        ),
    ],
    ids=["amount", "valid", "products", "step", "hurdle"],
)
def test_paths_inside_a_reward_read_as_written(reward: dict[str, Any], path: str) -> None:
    """The reward's ``kind`` is a tag, not a key: it must not appear in the path (nor the
    internal ``conditions`` of a hurdle), just as cross-checks write
    ``rewards.catalog[0].hurdles.all_of[1].min_tier``."""
    found = problems(rewards={"catalog": [reward]})
    assert len(found) == 1
    written = next(iter(found))
    assert written == path or written.startswith(f"{path}."), (
        f"expected {path!r}, found {written!r}"
    )
