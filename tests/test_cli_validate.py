"""``loyalty validate`` and ``loyalty schema``: every problem with its file and line,
exit codes a CI can use, JSON that parses, one message per broken file, never a
traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loyalty.cli import app as cli_app
from loyalty.cli.app import app
from loyalty.program.schema import program_json_schema

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "programs"
runner = CliRunner()


def command(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """``python -m loyalty ARGS`` in a fresh process (the real entry point)."""
    return subprocess.run(
        [sys.executable, "-m", "loyalty", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        timeout=120,
        check=False,
    )


DEEP_MISTAKES = """\
# A club with mistakes deep inside.
id: club
name: Club
currency: USD
timezone: America/New_York
earning:
  rate: 1
expiry:
  policy: fixed
  after: 12 moths
rewards:
  catalog:
    - id: five-off
      title: Five off
      kind: amount_off
      amount: "5.00"
      cost: 100
      hurdles:
        all_of:
          - min_points: 100
          - repeat_order: 1
          - min_basket: "ten"
    - id: other
      title: Other
      kind: amount_off
      amount: "5.00"
      cots: 100
"""

SHAKY_LADDER = """\
id: ladder
name: Ladder
currency: USD
timezone: America/New_York
earning:
  rate: 1
tiers:
  metrics: [net_spend, orders]
  match: any
  window: calendar_year
  ladder:
    - name: {low}
    - name: VIB
      threshold: {{net_spend: 0, orders: 6}}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------ valid files


def test_valid_programs_exit_0_with_one_ok_line_each() -> None:
    files = sorted(str(path) for path in EXAMPLES.glob("*.yaml"))
    done = runner.invoke(app, ["validate", *files])
    assert done.exit_code == 0, done.stdout
    for file in files:
        assert f"{file}: ok (program " in done.stdout
    assert f"{len(files)} file(s) checked: {len(files)} valid, 0 invalid" in done.stdout


# ------------------------------------------------------------------ lines


def test_each_error_has_its_file_line_and_path(tmp_path: Path) -> None:
    file = write(tmp_path, "club.yaml", DEEP_MISTAKES)
    done = runner.invoke(app, ["validate", str(file)])
    assert done.exit_code == 1
    lines = done.stdout.splitlines()
    assert lines[0] == (
        f"{file}:10: error: expiry.after: '12 moths' is not a duration "
        "(e.g. '30 days', '6 months', '1 year', 'P1Y6M')"
    )
    assert lines[1].startswith(
        f"{file}:22: error: rewards.catalog[0].hurdles.all_of[2].min_basket: 'ten' "
    )
    # a missing key: its parent mapping's line; an unknown key: the key's own line
    assert lines[2] == f"{file}:23: error: rewards.catalog[1].cost: is required"
    assert lines[3] == (
        f"{file}:27: error: rewards.catalog[1].cots: unknown key (did you mean 'cost'?)"
    )
    assert lines[4] == "1 file(s) checked: 0 valid, 1 invalid; 4 error(s), 0 warning(s)"


def test_a_json_program_gets_lines_too(tmp_path: Path) -> None:
    text = (
        "{\n"
        '\t"id": "x", "name": "X", "currency": "USD",\n'
        '\t"timezone": "America/New_York",\n'
        '\t"earning": {"rate": 1},\n'
        '\t"rewards": {"catalog": [\n'
        '\t\t{"id": "a", "title": "A", "kind": "amount_off", "amount": "5.00", "cost": 100},\n'
        '\t\t{"id": "b", "title": "B", "kind": "amount_off", "amount": "5.00",\n'
        '\t\t "cots": 100}\n'
        "\t]},\n"
        '\t"earning": {"rate": 2}\n'
        "}\n"
    )
    file = write(tmp_path, "club.json", text)
    done = runner.invoke(app, ["validate", str(file)])
    assert done.exit_code == 1
    assert f"{file}:7: error: rewards.catalog[1].cost: is required" in done.stdout
    assert f"{file}:8: error: rewards.catalog[1].cots: unknown key" in done.stdout
    assert f"{file}:10: error: earning: is given twice (line 4 and line 10)" in done.stdout


def test_a_toml_program_names_the_file_without_a_line(tmp_path: Path) -> None:
    text = 'id = "x"\nname = "X"\ncurrency = "USD"\ntimezone = "UTC"\ncolour = 1\n'
    text += "[earning]\nrate = 1\n"
    file = write(tmp_path, "club.toml", text)
    done = runner.invoke(app, ["validate", str(file)])
    assert done.exit_code == 1
    assert f"{file}: error: colour: unknown key" in done.stdout.splitlines()


def test_an_unknown_key_at_the_top_and_a_missing_one(tmp_path: Path) -> None:
    text = "# header\n\nid: x\nname: X\ntimezone: UTC\nearning:\n  rate: 1\ncurrencyy: USD\n"
    file = write(tmp_path, "club.yaml", text)
    done = runner.invoke(app, ["validate", "--json", str(file)])
    errors = {e["path"]: e["line"] for e in json.loads(done.stdout)["files"][0]["errors"]}
    assert errors["currencyy"] == 8
    assert errors["currency"] == 3  # missing at the top: the document's first line


# ------------------------------------------------------------------ warnings, --strict


def test_warnings_pass_unless_strict(tmp_path: Path) -> None:
    file = write(tmp_path, "ladder.yaml", SHAKY_LADDER.format(low="Insider"))
    done = runner.invoke(app, ["validate", str(file)])
    assert done.exit_code == 0
    warning = (
        f"{file}:12: warning: tiers.ladder[0]: nobody can stay in tier 'Insider': "
        "'VIB' above it needs net_spend of 0"
    )
    assert done.stdout.splitlines()[0] == warning
    assert f"{file}: ok (program 'ladder', 1 warning(s))" in done.stdout

    strict = runner.invoke(app, ["validate", "--strict", str(file)])
    assert strict.exit_code == 2
    assert "(--strict: warnings fail)" in strict.stdout


def test_errors_win_over_warnings_with_strict(tmp_path: Path) -> None:
    warned = write(tmp_path, "ladder.yaml", SHAKY_LADDER.format(low="Insider"))
    broken = write(tmp_path, "club.yaml", DEEP_MISTAKES)
    done = runner.invoke(app, ["validate", "--strict", str(warned), str(broken)])
    assert done.exit_code == 1


def test_previous_version_warns_about_a_renamed_tier(tmp_path: Path) -> None:
    old = write(tmp_path, "old.yaml", SHAKY_LADDER.format(low="Insider"))
    new = write(tmp_path, "new.yaml", SHAKY_LADDER.format(low="Basic"))
    alone = runner.invoke(app, ["validate", "--json", str(new)])
    paths = [w["path"] for w in json.loads(alone.stdout)["files"][0]["warnings"]]
    assert paths == ["tiers.ladder[0]"]

    done = runner.invoke(app, ["validate", "--json", "--previous", str(old), str(new)])
    warnings = json.loads(done.stdout)["files"][0]["warnings"]
    renamed = [w for w in warnings if w["path"] == "tiers.ladder"]
    assert len(renamed) == 1
    assert (
        "tier 'Insider' of the previous version looks renamed to 'Basic'" in (renamed[0]["message"])
    )
    assert renamed[0]["line"] == 11
    assert renamed[0]["value"] == "Insider"


def test_an_invalid_previous_version_is_one_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = write(tmp_path, "old.yaml", DEEP_MISTAKES)
    new = write(tmp_path, "new.yaml", SHAKY_LADDER.format(low="Basic"))
    assert cli_app.run(["validate", "--previous", str(old), str(new)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"--previous: {old}: not a valid program (4 problem(s)):\n")
    assert f"{old}:27: error: rewards.catalog[1].cots: unknown key" in err
    assert "Traceback" not in err


# ------------------------------------------------------------------ --json


def test_json_is_one_document_with_every_field(tmp_path: Path) -> None:
    broken = write(tmp_path, "club.yaml", DEEP_MISTAKES)
    warned = write(tmp_path, "ladder.yaml", SHAKY_LADDER.format(low="Insider"))
    done = runner.invoke(app, ["validate", "--json", "--strict", str(broken), str(warned)])
    assert done.exit_code == 1
    document = json.loads(done.stdout)  # nothing else on stdout
    first, second = document["files"]
    assert first["file"] == str(broken)
    assert first["valid"] is False
    assert first["program"] is None
    assert first["errors"][1] == {
        "path": "rewards.catalog[0].hurdles.all_of[2].min_basket",
        "line": 22,
        "message": first["errors"][1]["message"],
        "value": "ten",
    }
    assert second["valid"] is True
    assert second["program"] == "ladder"
    assert second["errors"] == []
    assert [w["line"] for w in second["warnings"]] == [12]
    assert document["summary"] == {
        "files": 2,
        "valid": 1,
        "invalid": 1,
        "errors": 4,
        "warnings": 1,
        "strict": True,
        "exit_code": 1,
    }


def test_json_with_warnings_and_strict_exits_2(tmp_path: Path) -> None:
    warned = write(tmp_path, "ladder.yaml", SHAKY_LADDER.format(low="Insider"))
    done = command("validate", "--json", "--strict", str(warned))
    assert done.returncode == 2
    assert json.loads(done.stdout)["summary"]["exit_code"] == 2
    assert done.stderr == ""


# ------------------------------------------------------------------ broken files


def broken_files(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Each kind of broken file, with the one message it gets."""
    (tmp_path / "folder.yaml").mkdir()
    (tmp_path / "binary.yaml").write_bytes(b"id: x\n\xff\xfe\x00\x01")
    return {
        "missing": (tmp_path / "missing.yaml", "error: cannot read the file: No such file"),
        "directory": (tmp_path / "folder.yaml", "error: cannot read the file: not a regular"),
        "binary": (tmp_path / "binary.yaml", ":2: error: not UTF-8 text: byte 0xff at line 2"),
        "invalid YAML": (
            write(tmp_path, "broken.yaml", "id: x\nrewards: [1,\n"),
            ":3: error: not valid YAML: ",
        ),
        "empty": (
            write(tmp_path, "empty.yaml", ""),
            "error: the program must be a mapping of keys, not nothing",
        ),
        "a list": (
            write(tmp_path, "list.yaml", "- 1\n- 2\n"),
            ": error: the program must be a mapping of keys, not a list",
        ),
        "wrong type": (
            write(tmp_path, "club.txt", "id: x\n"),
            "error: unknown file type '.txt'",
        ),
    }


@pytest.mark.parametrize(
    "kind",
    ["missing", "directory", "binary", "invalid YAML", "empty", "a list", "wrong type"],
)
def test_a_broken_file_is_one_error_and_exit_1(tmp_path: Path, kind: str) -> None:
    file, message = broken_files(tmp_path)[kind]
    done = runner.invoke(app, ["validate", str(file)])
    assert done.exit_code == 1
    errors = [line for line in done.stdout.splitlines() if ": error: " in line]
    assert errors == [errors[0]]
    assert errors[0].startswith(str(file))
    assert message in errors[0]
    assert done.exception is None or isinstance(done.exception, SystemExit)


def test_broken_files_through_the_real_command_stop_no_other(tmp_path: Path) -> None:
    files = [str(file) for file, _ in broken_files(tmp_path).values()]
    good = str(EXAMPLES / "cosmetics-club.yaml")
    done = command("validate", *files[:3], good, *files[3:])
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert "Traceback" not in output
    for file in files:
        assert sum(line.startswith(f"{file}") for line in done.stdout.splitlines()) == 1
    assert f"{good}: ok (program 'cosmetics-club')" in done.stdout
    assert "8 file(s) checked: 1 valid, 7 invalid; 7 error(s), 0 warning(s)" in done.stdout


def test_no_file_is_a_usage_error() -> None:
    done = command("validate")
    assert done.returncode == 2
    assert "Missing argument" in done.stderr


# ------------------------------------------------------------------ schema


def test_schema_prints_the_program_json_schema() -> None:
    done = command("schema")
    assert done.returncode == 0
    assert json.loads(done.stdout) == program_json_schema()


def test_schema_writes_a_file(tmp_path: Path) -> None:
    target = tmp_path / "program.schema.json"
    done = runner.invoke(app, ["schema", "-o", str(target)])
    assert done.exit_code == 0
    assert done.stdout == ""
    assert json.loads(target.read_text(encoding="utf-8")) == program_json_schema()
    assert target.read_text(encoding="utf-8") == (ROOT / "docs" / "program.schema.json").read_text(
        encoding="utf-8"
    )


def test_schema_to_a_folder_that_does_not_exist_is_one_message(tmp_path: Path) -> None:
    done = command("schema", "--output", str(tmp_path / "nowhere" / "schema.json"))
    assert done.returncode == 1
    assert "cannot write" in done.stderr
    assert "Traceback" not in done.stderr
