import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from loyalty import (
    Clawback,
    ConfigurationError,
    Duration,
    FixedExpiry,
    InactivityExpiry,
    NoExpiry,
    Period,
    Rounding,
    load_program,
)
from loyalty.program.schema import program_json_schema, program_json_schema_text
from tests.builders import BASE, program

ROOT = Path(__file__).resolve().parents[1]

YAML = """
id: cosmetics-club
name: Cosmetics Club
currency: USD
timezone: America/New_York
rounding: half_up
earning:
  rate: 1.5
pending:
  period: 30 days
expiry:
  policy: fixed
  after: 12 months
  round_up_to: quarter
clawback: write_off
"""
TOML = """
id = "cosmetics-club"
name = "Cosmetics Club"
currency = "USD"
timezone = "America/New_York"
rounding = "half_up"
clawback = "write_off"
[earning]
rate = "1.5"
[pending]
period = "30 days"
[expiry]
policy = "fixed"
after = "P1Y"
round_up_to = "quarter"
"""


def problems(data: dict[str, object]) -> dict[str, str]:
    with pytest.raises(ConfigurationError) as caught:
        load_program(data)
    return {problem.path: problem.message for problem in caught.value.problems}


def test_a_program_loads_from_yaml_toml_and_json_alike(tmp_path: Path) -> None:
    (tmp_path / "club.yaml").write_text(YAML)
    (tmp_path / "club.toml").write_text(TOML)
    from_yaml = load_program(tmp_path / "club.yaml")
    (tmp_path / "club.json").write_text(from_yaml.model_dump_json())
    assert load_program(tmp_path / "club.toml") == from_yaml
    assert load_program(str(tmp_path / "club.json")) == from_yaml
    assert from_yaml.rounding is Rounding.HALF_UP
    assert from_yaml.clawback is Clawback.WRITE_OFF
    assert from_yaml.pending.period == Duration(days=30)
    assert from_yaml.expiry == FixedExpiry(
        policy="fixed", after=Duration(months=12), round_up_to=Period.QUARTER
    )
    assert str(from_yaml.earning.rate) == "1.5"


def test_defaults_are_floor_rounding_no_pending_no_expiry_and_negative_balance() -> None:
    club = program()
    assert club.rounding is Rounding.FLOOR
    assert club.pending.period.is_zero
    assert club.expiry == NoExpiry()
    assert club.clawback is Clawback.NEGATIVE_BALANCE
    assert str(club.earning.rate) == "1"


def test_inactivity_expiry_loads() -> None:
    club = program(expiry={"policy": "inactivity", "after": "18 months"})
    assert club.expiry == InactivityExpiry(policy="inactivity", after=Duration(months=18))


def test_every_problem_is_reported_at_once_with_its_path_and_value() -> None:
    found = problems(
        {
            **BASE,
            "currency": "USDD",
            "timezone": "Mars/Base",
            "currencyy": "USD",
            "rounding": "up",
            "earning": {"rate": -1},
            "expiry": {"policy": "fixed", "after": "13 moths"},
        }
    )
    assert found == {
        "currency": "'USDD' is not an ISO 4217 currency code (e.g. 'USD', 'EUR')",
        "timezone": "'Mars/Base' is not an IANA timezone (e.g. 'Europe/Paris')",
        "currencyy": "unknown key (did you mean 'currency'?)",
        "rounding": "'up': input should be 'floor', 'half_up', 'half_even' or 'ceiling'",
        "earning.rate": "-1: input should be greater than 0",
        "expiry.after": "'13 moths' is not a duration (e.g. '30 days', '6 months', '1 year', "
        "'P1Y6M')",
    }


def test_the_error_message_lists_each_problem_on_its_own_line() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_program({**BASE, "expiry": {"policy": "fixed", "after": "13 moths"}})
    assert "expiry.after: '13 moths' is not a duration" in str(caught.value)
    assert "1 problem(s)" in str(caught.value)


def test_missing_keys_are_reported_as_required() -> None:
    assert problems({"name": "No id"}) == {
        "id": "is required",
        "currency": "is required",
        "timezone": "is required",
    }


def test_an_unknown_expiry_policy_names_the_choices() -> None:
    found = problems({**BASE, "expiry": {"policy": "sometimes"}})
    assert list(found) == ["expiry.policy"]
    assert "'none', 'fixed', 'inactivity'" in found["expiry.policy"]


def test_a_zero_expiry_period_is_refused() -> None:
    assert problems({**BASE, "expiry": {"policy": "inactivity", "after": "0 days"}}) == {
        "expiry.after": "'0 days' must be longer than zero"
    }


def test_unknown_keys_in_a_section_are_refused() -> None:
    found = problems({**BASE, "pending": {"periode": "30 days"}})
    assert found == {"pending.periode": "unknown key (did you mean 'period'?)"}


def test_a_bad_program_id_is_refused() -> None:
    assert list(problems({**BASE, "id": "has spaces"})) == ["id"]


def test_a_file_with_bad_syntax_is_a_configuration_error(tmp_path: Path) -> None:
    bad = tmp_path / "club.yaml"
    bad.write_text("id: [unclosed")
    with pytest.raises(ConfigurationError, match="not valid YAML"):
        load_program(bad)


def test_unknown_file_types_and_missing_files_are_configuration_errors(tmp_path: Path) -> None:
    (tmp_path / "club.ini").write_text("id = x")
    with pytest.raises(ConfigurationError, match="unknown file type"):
        load_program(tmp_path / "club.ini")
    with pytest.raises(ConfigurationError, match="cannot read the file"):
        load_program(tmp_path / "missing.yaml")


def test_a_program_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    (tmp_path / "club.json").write_text("[1, 2]")
    with pytest.raises(ConfigurationError, match="must be a mapping"):
        load_program(tmp_path / "club.json")


def test_programs_are_frozen() -> None:
    club = program()
    with pytest.raises(ValidationError):
        club.currency = "EUR"  # type: ignore[misc]


def test_every_default_in_the_schema_has_its_key_s_type() -> None:
    """A default is written as a program file would write it: a duration's is its text
    (``"0 days"``), not the object's fields, so an editor checking the file against the
    schema does not flag the defaults themselves."""
    kinds = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict}
    wrong: list[str] = []

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            kind = kinds.get(node.get("type")) if isinstance(node.get("type"), str) else None
            default = node.get("default")
            if kind is not None and default is not None and not isinstance(default, kind):
                wrong.append(f"{path}: {default!r} is not a {node['type']}")
            for key, value in node.items():
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}/{index}")

    walk(program_json_schema(), "#")
    assert wrong == []


def test_the_json_schema_in_docs_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "program.schema.json").read_text()
    assert committed == program_json_schema_text(), "run `make schema`"
    schema = json.loads(committed)
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {"id", "name", "currency", "timezone"}


@pytest.mark.parametrize("source", [None, [1, 2], 42])
def test_a_source_that_is_neither_a_path_nor_a_mapping_is_refused(source: object) -> None:
    with pytest.raises(ConfigurationError, match="a file path or a mapping"):
        load_program(source)  # type: ignore[arg-type]


def test_paths_into_lists_read_as_written() -> None:
    found = problems(
        {
            **BASE,
            "tiers": {
                "metrics": ["net_spend"],
                "ladder": [{"name": "Member"}, {"name": "Gold", "threshold": {"net_spend": -1}}],
            },
        }
    )
    assert list(found) == ["tiers.ladder[1].threshold.net_spend"]
