"""What a simulation refuses before it runs: each refusal an InvalidInput naming the
field and the value."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from loyalty import Program, load_program
from loyalty.errors import InvalidInput
from loyalty.simulation import Policy, Variant, simulate
from tests.simulation_history import history, text, write

COSMETICS = Path(__file__).resolve().parents[1] / "examples" / "programs" / "cosmetics-club.yaml"


@pytest.fixture(scope="module")
def program() -> Program:
    return load_program(COSMETICS)


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return text(history(3, seed=1, months=1))


def other(program: Program, **fields: Any) -> Program:
    return load_program({**program.model_dump(mode="json", exclude_unset=True), **fields})


@pytest.mark.parametrize(
    ("options", "field", "value"),
    [
        ({"workers": 0}, "workers", 0),
        ({"workers": True}, "workers", True),
        ({"workers": -2}, "workers", -2),
        ({"workers": 1.5}, "workers", 1.5),
        ({"partitions": 0}, "partitions", 0),
        ({"partitions": False}, "partitions", False),
        ({"partitions": "2"}, "partitions", "2"),
        ({"point_value": Decimal(0)}, "point_value", Decimal(0)),
        ({"point_value": Decimal("-0.05")}, "point_value", Decimal("-0.05")),
        ({"point_value": Decimal("NaN")}, "point_value", None),
        ({"point_value": Decimal("1e400")}, "point_value", Decimal("1e400")),
        ({"point_value": 0.05}, "point_value", 0.05),
        ({"policy": {"redeem": "1"}}, "policy", {"redeem": "1"}),
    ],
)
def test_bad_workers_partitions_point_value_or_policy_are_named(
    program: Program, lines: list[str], options: dict[str, Any], field: str, value: Any
) -> None:
    with pytest.raises(InvalidInput) as raised:
        simulate([program], lines, **options)
    assert raised.value.field == field
    if value is not None:  # NaN is not equal to itself
        assert raised.value.value == value
    assert type(raised.value.value) is type(options[field])


@pytest.mark.parametrize(
    ("fields", "field", "value"),
    [
        ({"currency": "EUR"}, "currency", "EUR"),
        ({"timezone": "Europe/Paris"}, "timezone", "Europe/Paris"),
    ],
)
def test_two_variants_must_share_their_currency_and_timezone(
    program: Program, lines: list[str], fields: dict[str, Any], field: str, value: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        simulate([program, other(program, id="b", **fields)], lines)
    assert raised.value.field == field
    assert str(raised.value.value) == value
    assert "A's" in str(raised.value)


@pytest.mark.parametrize("count", [0, 3])
def test_one_or_two_programs_and_no_more(program: Program, lines: list[str], count: int) -> None:
    with pytest.raises(InvalidInput) as raised:
        simulate([program] * count, lines)
    assert raised.value.field == "variants"
    assert raised.value.value == count


def test_a_program_alone_is_not_a_list_of_variants(program: Program, lines: list[str]) -> None:
    with pytest.raises(InvalidInput) as raised:
        simulate(program, lines)  # type: ignore[arg-type]
    assert raised.value.field == "variants"


@pytest.mark.parametrize(
    ("variants", "field"),
    [(["club.yaml"], "variants[0]"), ([None], "variants[0]"), (5, "variants")],
)
def test_a_variant_that_is_not_a_program_is_named(
    program: Program, lines: list[str], variants: Any, field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        simulate(variants, lines)
    assert raised.value.field == field
    with pytest.raises(InvalidInput) as named:
        simulate([program, Variant("B", "club-b.yaml")], lines)  # type: ignore[arg-type]
    assert (named.value.field, named.value.value) == ("variants[1]", "club-b.yaml")


@pytest.mark.parametrize(
    ("history", "reason"),
    [
        ("/no/such/orders.jsonl", "is not a file"),
        (42, "is not a file's path, nor its lines"),
        (b'{"type": "enrol"}', "is not a file's path, nor its lines"),
        ([b"", 7], "has a line that is not text"),
    ],
)
def test_a_history_that_is_neither_a_file_nor_lines_is_named(
    program: Program, history: Any, reason: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        simulate([program], history)
    assert raised.value.field == "history"
    assert reason in str(raised.value)


def test_a_directory_is_not_a_history(program: Program, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as raised:
        simulate([program], tmp_path, workers=2)
    assert (raised.value.field, raised.value.value) == ("history", str(tmp_path))


def test_lines_cannot_be_split_across_workers_but_a_file_can(
    program: Program, lines: list[str], tmp_path: Path
) -> None:
    with pytest.raises(InvalidInput) as raised:
        simulate([program], lines, workers=2)
    assert raised.value.field == "history"
    path = write(tmp_path / "orders.jsonl", lines)
    split = simulate([program], path, partitions=2).document
    together = simulate([program], lines).document
    assert split["history"].pop("file") == "orders.jsonl"
    assert together["history"].pop("file") is None
    assert split == together


def test_named_variants_keep_their_names_and_files(program: Program, lines: list[str]) -> None:
    document = simulate(
        [Variant("now", program, "/somewhere/cosmetics-club.yaml"), Variant("next", program)],
        lines,
        policy=Policy(seed=3),
    ).document
    assert [v["name"] for v in document["variants"]] == ["now", "next"]
    assert [v["program"]["file"] for v in document["variants"]] == ["cosmetics-club.yaml", None]
    assert document["summary"].startswith("next costs the same")
