"""The pytest plugin: scenario files collected as tests, run in a pytest of their own."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
COSMETICS = ROOT / "examples" / "programs" / "cosmetics-club.yaml"

# The plugin, registered once whether or not the installed package has its entry point
# (an editable install made before it existed does not).
CONFTEST = """
import pytest_loyalty as plugin

def pytest_configure(config):
    if not config.pluginmanager.is_registered(plugin):
        config.pluginmanager.register(plugin, "loyalty")
"""

PASSING = f"""
program: {COSMETICS}
member: ana
start: 2026-03-01T09:00
scenarios:
  - name: an order earns pending points
    steps:
      - enrol: ana
      - order: {{id: A-1, lines: [[SERUM, "120.00", 1]]}}
        expect: {{pending: 120, available: 0}}
  - name: the first order cannot use the reward
    steps:
      - enrol: ana
      - expect:
          quote:
            cart: {{id: A-1, lines: [[SERUM, "120.00", 1]]}}
            rewards:
              five-off: {{eligible: false,
                          reasons: [earn 100 more points, available from your second order]}}
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    return pytester


def test_a_passing_file_is_one_test_per_scenario(suite: pytest.Pytester) -> None:
    suite.makefile(".loyalty.yaml", club=PASSING)
    result = suite.runpytest("-v")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*club.loyalty.yaml::an order earns pending points PASSED*",
            "*club.loyalty.yaml::the first order cannot use the reward PASSED*",
        ]
    )


def test_k_selects_a_scenario_by_name(suite: pytest.Pytester) -> None:
    suite.makefile(".loyalty.yaml", club=PASSING)
    result = suite.runpytest("-k", "pending")
    result.assert_outcomes(passed=1, deselected=1)


def test_a_failing_step_reports_like_an_assertion(suite: pytest.Pytester) -> None:
    path = suite.makefile(".loyalty.yaml", club=PASSING.replace("pending: 120", "pending: 121"))
    line = next(
        number
        for number, text in enumerate(path.read_text().splitlines(), start=1)
        if "pending: 121" in text
    )
    result = suite.runpytest()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*scenario 'an order earns pending points' failed at step 2 (order)*",
            f"*club.loyalty.yaml:{line}: pending",
            "*expected: 121",
            "*actual:   120",
            "*earned on order A-1*",  # the engine's statement: what produced the points
            "FAILED club.loyalty.yaml::an order earns pending points - *",
        ]
    )
    assert "def runtest" not in result.stdout.str()  # no traceback into the plugin


def test_a_broken_file_is_a_collection_error_with_file_line_and_path(
    suite: pytest.Pytester,
) -> None:
    path = suite.makefile(
        ".loyalty.yaml",
        broken=f"""
        program: {COSMETICS}
        scenarios:
          - name: typo
            steps:
              - enrol: ana
              - ordr: {{id: A-1, lines: [[SERUM, "1.00"]]}}
              - redeem: {{reward: five-of, cart: {{id: A, lines: [[A, "1.00"]]}}}}
        """,
    )
    lines = path.read_text().splitlines()
    typo = next(n for n, text in enumerate(lines, start=1) if "ordr:" in text)
    result = suite.runpytest()
    result.assert_outcomes(errors=1)
    output = result.stdout.str()
    result.stdout.fnmatch_lines(["*ERROR collecting broken.loyalty.yaml*"])
    assert (
        f"{path}:{typo}: scenarios[0].steps[1].ordr: unknown key (did you mean 'order'?)"
    ) in output
    assert (
        f"{path}:{typo + 1}: scenarios[0].steps[2].redeem.reward: the program has no reward "
        "'five-of' (did you mean 'five-off'?)"
    ) in output
    assert "Traceback" not in output
    assert "load_file" not in output


def test_other_yaml_files_and_tests_are_left_alone(suite: pytest.Pytester) -> None:
    suite.makefile(".yaml", program="id: not-a-scenario\n")
    suite.makepyfile(test_plain="def test_plain():\n    assert 1 + 1 == 2\n")
    result = suite.runpytest()
    result.assert_outcomes(passed=1)


def test_it_is_turned_off_with_no_loyalty(suite: pytest.Pytester) -> None:
    suite.makefile(".loyalty.yaml", club=PASSING)
    result = suite.runpytest("-p", "no:loyalty")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_the_plugin_imports_no_engine_until_it_meets_a_scenario(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT / "src"))
    suite.makepyfile(
        test_plain="""
        import sys

        def test_nothing_of_the_scenarios_was_imported():
            assert "pytest_loyalty" in sys.modules
            assert "loyalty" not in sys.modules
        """
    )
    result = suite.runpytest_subprocess()
    result.assert_outcomes(passed=1)


def test_the_package_declares_the_entry_point() -> None:
    with (ROOT / "pyproject.toml").open("rb") as file:
        project = tomllib.load(file)["project"]
    assert project["entry-points"]["pytest11"] == {"loyalty": "pytest_loyalty"}
    source = textwrap.dedent(
        """
        import sys
        import pytest_loyalty as plugin
        print(callable(plugin.pytest_collect_file), "loyalty.cli" in sys.modules)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-c", source], capture_output=True, text=True, env=env, check=True
    )
    assert done.stdout.split() == ["True", "False"]


def test_the_examples_are_collected_by_this_suite(pytestconfig: pytest.Config) -> None:
    with (ROOT / "pyproject.toml").open("rb") as file:
        options = tomllib.load(file)["tool"]["pytest"]["ini_options"]
    assert "examples" in options["testpaths"]
    assert pytestconfig.pluginmanager.has_plugin("loyalty")
