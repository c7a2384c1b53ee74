"""How a run without PostgreSQL ends: one line about the PostgreSQL tests, not one each."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SELECTION = "tests/test_store_contract.py::test_a_member_is_stored_and_loaded"


def run_without_postgres(ci: bool) -> subprocess.CompletedProcess[str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("LOYALTY_POSTGRES_URL", "CI", "PYTEST_ADDOPTS")
    }
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", SELECTION],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_run_without_postgres_says_once_that_its_tests_were_skipped_and_how_to_run_them() -> (
    None
):
    done = run_without_postgres(ci=False)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [line for line in lines if line.startswith("SKIPPED")] == []
    told = [line for line in lines if "PostgreSQL tests skipped" in line]
    assert told == [
        "1 PostgreSQL tests skipped: LOYALTY_POSTGRES_URL is not set. "
        'To run them: eval "$(bash .ci/postgres.sh start /tmp/pg)" and run the tests again.'
    ]
    assert "2 passed, 1 skipped" in lines[-1]


def test_a_run_under_ci_without_postgres_fails() -> None:
    done = run_without_postgres(ci=True)
    assert done.returncode != 0
    assert "PostgreSQL is required under CI=true" in done.stdout
