"""Alembic environment of the loyalty tables (run by :func:`loyalty.store.sql.migrate`).

The revisions are recorded in their own table, ``loyalty_alembic_version``, so they
never mix with a host's Alembic history. Online, the connection comes from
``config.attributes["connection"]`` or, failing that, from ``sqlalchemy.url``;
offline (``--sql``), the SQL is written for ``sqlalchemy.url``'s dialect.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from loyalty.store.sql.schema import VERSION_TABLE, metadata

config = context.config


def run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        literal_binds=True,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
    )
    with context.begin_transaction():
        context.run_migrations()
elif (given := config.attributes.get("connection")) is not None:
    run(given)
else:
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("no database: set sqlalchemy.url or config.attributes['connection']")
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            run(connection)
    finally:
        engine.dispose()
