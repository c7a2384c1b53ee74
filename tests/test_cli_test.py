"""``loyalty test``: through Typer's runner and through the real entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loyalty.cli.app import app
from loyalty.testing.scenarios import load_file

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "scenarios"
EXAMPLE = EXAMPLES / "cosmetics-club.loyalty.yaml"
COSMETICS = ROOT / "examples" / "programs" / "cosmetics-club.yaml"

SCENARIO = f"""\
program: {COSMETICS}
member: ana
start: 2026-03-01T09:00
scenarios:
  - name: an order earns pending points
    steps:
      - enrol: ana
      - order: {{id: A-1, lines: [[SERUM, "120.00", 1]]}}
        expect: {{pending: 120}}
"""


def invoke(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["test", *map(str, args)])
    return result.exit_code, result.stdout


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "loyalty", "test", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def example_scenarios() -> int:
    """How many scenarios the example files hold, read from the files themselves."""
    return sum(len(load_file(path).scenarios) for path in EXAMPLES.glob("*.loyalty.yaml"))


def test_the_examples_pass() -> None:
    count = example_scenarios()
    assert count >= 9  # at least one per example program
    code, output = invoke(EXAMPLES)
    assert code == 0, output
    assert output.count("PASS") == count
    assert "FAIL" not in output
    assert f"{count} passed, 0 failed" in output


def test_a_failure_shows_its_line_both_values_and_why(tmp_path: Path) -> None:
    path = write(tmp_path, "club.loyalty.yaml", SCENARIO.replace("pending: 120", "pending: 7"))
    code, output = invoke(tmp_path)
    assert code == 1
    assert "FAIL" in output
    assert f"{path}:9: pending" in output
    assert "expected: 7" in output
    assert "actual:   120" in output
    assert "earned on order A-1" in output  # the member's statement
    assert "0 passed, 1 failed" in output


def test_a_file_with_mistakes_fails_and_the_others_still_run(tmp_path: Path) -> None:
    write(tmp_path, "a-good.loyalty.yaml", SCENARIO)
    bad = write(tmp_path, "b-bad.loyalty.yaml", SCENARIO.replace("order:", "ordr:"))
    code, output = invoke(tmp_path)
    assert code == 1
    assert "PASS" in output
    assert "ERROR" in output
    assert f"{bad}:8: scenarios[0].steps[1].ordr: unknown key (did you mean 'order'?)" in output
    assert "1 passed, 0 failed, 1 file(s) with mistakes" in output


def test_a_program_given_runs_the_scenarios_against_it(tmp_path: Path) -> None:
    scenario = write(tmp_path, "club.loyalty.yaml", SCENARIO)
    doubled = write(
        tmp_path,
        "doubled.yaml",
        COSMETICS.read_text(encoding="utf-8").replace("rate: 1 ", "rate: 2 "),
    )
    assert "rate: 2 " in doubled.read_text()
    assert invoke(COSMETICS, scenario)[0] == 0
    code, output = invoke(doubled, scenario)
    assert code == 1
    assert "expected: 120" in output
    assert "actual:   240" in output


def test_json_output_parses(tmp_path: Path) -> None:
    path = write(tmp_path, "club.loyalty.yaml", SCENARIO.replace("pending: 120", "pending: 7"))
    write(tmp_path, "fine.loyalty.yaml", SCENARIO)
    result = CliRunner().invoke(app, ["test", str(tmp_path), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["passed"] is False
    assert data["summary"] == {"scenarios": 2, "passed": 1, "failed": 1, "broken_files": 0}
    failed = next(file for file in data["files"] if file["file"] == str(path))
    step = failed["scenarios"][0]["steps"][1]
    assert step["status"] == "failed"
    assert step["mismatches"][0]["line"] == 9
    assert (step["mismatches"][0]["expected"], step["mismatches"][0]["actual"]) == ("7", "120")


def test_json_output_of_the_examples(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["test", str(EXAMPLE), "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["passed"] is True
    assert data["summary"]["passed"] == 4


# ------------------------------------------------------------------ the real command


def test_the_real_command_passes_and_fails() -> None:
    done = run("examples/scenarios")
    assert done.returncode == 0, done.stderr
    assert f"{example_scenarios()} passed, 0 failed" in done.stdout
    assert "Traceback" not in done.stderr


def test_the_real_command_exits_1_on_a_failure(tmp_path: Path) -> None:
    write(tmp_path, "club.loyalty.yaml", SCENARIO.replace("pending: 120", "pending: 7"))
    done = run(tmp_path)
    assert done.returncode == 1
    assert "expected: 7" in done.stdout
    assert done.stderr == ""


def test_the_real_command_prints_json(tmp_path: Path) -> None:
    done = run(EXAMPLE, "--json")
    assert done.returncode == 0
    assert json.loads(done.stdout)["passed"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere"], "nowhere: no such file or directory"),
        ([str(COSMETICS)], "is a program: give the scenario files to run against it"),
        (["{empty}"], "no scenario files (*.loyalty.yaml) under"),
        (["{invalid}", str(EXAMPLE)], "not a valid program (3 problem(s))"),
    ],
)
def test_bad_input_is_one_message_and_exit_1(
    tmp_path: Path, args: list[str], message: str
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    invalid = write(tmp_path, "invalid.yaml", "id: x\ncurrency: USX\n")
    filled = [arg.format(empty=empty, invalid=invalid) for arg in args]
    done = run(*filled)
    assert done.returncode == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) >= 1


def test_no_arguments_is_a_usage_error() -> None:
    done = run()
    assert done.returncode == 2
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (bytes(range(128, 256)), "not UTF-8 text"),
        (b"a: 1\n", "id: is required; and 4 more problem(s)"),
    ],
)
def test_a_file_neither_scenario_nor_program_says_so(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    path = tmp_path / "bin.yaml"
    path.write_bytes(content)
    done = run(path)
    assert done.returncode == 1
    assert "is a program" not in done.stderr
    assert (
        f"{path} is neither a scenario file (its name does not end in .loyalty.yaml) "
        "nor a valid program: "
    ) in done.stderr
    assert reason in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_an_unreadable_file_is_its_own_error_not_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As root every file reads: the parser's check (``os.access``) and the read both
    refuse here, as they would for a user without the permission."""
    path = write(tmp_path, "club.loyalty.yaml", SCENARIO)
    real = Path.read_bytes

    def refused(self: Path) -> bytes:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)
    monkeypatch.setattr(Path, "read_bytes", refused)
    code, output = invoke(path)
    assert code == 1
    assert "is not readable" not in output
    assert f"{path}: (top level): cannot be read: Permission denied" in output


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads any file"
)
def test_an_unreadable_file_is_its_own_error(tmp_path: Path) -> None:
    path = write(tmp_path, "club.loyalty.yaml", SCENARIO)
    path.chmod(0)
    done = run(path)
    assert done.returncode == 1
    assert "is not readable" not in done.stderr + done.stdout
    assert "cannot be read" in done.stdout


def test_the_where_column_is_not_wrapped_at_80_columns(tmp_path: Path) -> None:
    folder = tmp_path / "tests" / "loyalty"
    folder.mkdir(parents=True)
    long_name = "an order earns pending points, " * 4
    text = SCENARIO.replace("an order earns pending points", long_name.strip(" ,"))
    write(folder, "club.loyalty.yaml", text.replace("pending: 120", "pending: 7"))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "80"}
    done = subprocess.run(
        [sys.executable, "-m", "loyalty", "test", "tests/loyalty"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 1
    table = done.stdout.split("\n\n")[0]
    assert max(len(line) for line in table.splitlines()) <= 80
    assert "tests/loyalty/club.loyalty.yaml:8 (step 2)" in table
    assert "pending points" in table  # the name wraps instead
