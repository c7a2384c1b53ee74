"""Shared fixtures and the hypothesis profiles (derandomized under CI=true)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=200,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev")


# ------------------------------------------------------------------ stores
# Every store the contract suite and the service tests run against. PostgreSQL
# comes from LOYALTY_POSTGRES_URL (.ci/run starts a throwaway server); without it
# the PostgreSQL cases skip with a reason, except under CI=true, where they fail.

from collections.abc import Generator  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

POSTGRES_URL = os.environ.get("LOYALTY_POSTGRES_URL")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


POSTGRES_SKIPPED = "LOYALTY_POSTGRES_URL is not set, PostgreSQL not tested"
POSTGRES_HOW = 'eval "$(bash .ci/postgres.sh start /tmp/pg)" and run the tests again'


def postgres_url() -> str:
    """The test server's URL, or a skip (a failure under CI=true)."""
    if POSTGRES_URL:
        return POSTGRES_URL
    if IN_CI:
        pytest.fail(f"PostgreSQL is required under CI=true: {POSTGRES_SKIPPED} ({POSTGRES_HOW})")
    pytest.skip(POSTGRES_SKIPPED)


def _skipped_for_postgres(report: pytest.TestReport) -> bool:
    longrepr = report.longrepr
    return isinstance(longrepr, tuple) and POSTGRES_SKIPPED in str(longrepr[2])


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: Any) -> Generator[None]:
    """One line for the PostgreSQL tests skipped, instead of one line each in -ra's list
    (the closing counts still include them)."""
    skipped = terminalreporter.stats.get("skipped", [])
    postgres = [report for report in skipped if _skipped_for_postgres(report)]
    if postgres:
        terminalreporter.stats["skipped"] = [r for r in skipped if r not in postgres]
    try:
        return (yield)
    finally:
        if postgres:
            terminalreporter.stats["skipped"] = skipped
            terminalreporter.write_line(
                f"{len(postgres)} PostgreSQL tests skipped: LOYALTY_POSTGRES_URL is not set. "
                f"To run them: {POSTGRES_HOW}.",
                yellow=True,
            )


@pytest.fixture(scope="session")
def postgres_engine():  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine

    from loyalty.store.sql import migrate

    engine = create_engine(postgres_url(), pool_size=12, max_overflow=4)
    migrate(engine)
    yield engine
    engine.dispose()


def clear_postgres(engine) -> None:  # type: ignore[no-untyped-def]
    from loyalty.store.sql import metadata

    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request, tmp_path):  # type: ignore[no-untyped-def]
    """A fresh, empty store of each kind."""
    if request.param == "memory":
        from loyalty.store import MemoryStore

        yield MemoryStore()
        return
    from loyalty.store.sql import SQLStore

    if request.param == "sqlite":
        made = SQLStore(f"sqlite:///{tmp_path / 'loyalty.db'}")
    else:
        engine = request.getfixturevalue("postgres_engine")
        clear_postgres(engine)
        made = SQLStore(engine)
    yield made
    if request.param == "sqlite":
        made.close()

