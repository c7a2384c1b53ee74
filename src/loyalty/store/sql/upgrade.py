"""Bringing the loyalty tables to a revision with Alembic (the scripts in ``migrations``)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text

from loyalty.store.sql.conflicts import _translated
from loyalty.store.sql.engine import _BEGIN, _create_engine, _prepare
from loyalty.store.sql.schema import VERSION_TABLE

__all__ = ["MIGRATIONS", "alembic_config", "migrate"]

MIGRATIONS: Final = Path(__file__).with_name("migrations")
"""The Alembic script directory shipped with the package."""


def alembic_config(connection: Connection) -> Config:
    """The Alembic configuration of the loyalty migrations, run on ``connection``
    (for ``alembic.command.downgrade``, ``history`` and the like)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(target: str | Engine, revision: str = "head") -> None:
    """Upgrade the loyalty tables to ``revision`` (the latest by default) with Alembic.

    The revision is recorded in ``loyalty_alembic_version``, apart from a host's own
    Alembic history. Safe to run from several processes at once: on SQLite the
    migration holds the write lock; on PostgreSQL an advisory lock serialises them.
    An engine passed in is prepared as :class:`SQLStore` prepares it.
    """
    if isinstance(target, Engine):
        _prepare(target)
        _upgrade(target, revision)
        return
    engine = _create_engine(target)
    try:
        _upgrade(engine, revision)
    finally:
        engine.dispose()


def _upgrade(engine: Engine, revision: str) -> None:
    if engine.dialect.name == "sqlite":
        engine = engine.execution_options(**{_BEGIN: "BEGIN IMMEDIATE"})
    with _translated(), engine.connect() as connection, connection.begin():
        if engine.dialect.name == "postgresql":
            lock = text("SELECT pg_advisory_xact_lock(hashtext(:name))")
            connection.execute(lock, {"name": VERSION_TABLE})
        command.upgrade(alembic_config(connection), revision)
