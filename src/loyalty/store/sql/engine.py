"""The store's engine: its pool, and on SQLite the connection and ``BEGIN`` hooks.

SQLite: connections run in WAL mode with a busy timeout and ``secure_delete`` on (see
``SQLTransaction.erase``), and sqlite3 leaves ``BEGIN``
to the store (``BEGIN IMMEDIATE`` for a writer, so that writers queue for the one write
lock up front instead of failing half-way; a deferred ``BEGIN`` for a reader). The
connections of SQLAlchemy itself (migrations, a host sharing the engine) begin through
the ``begin`` hook, with the ``BEGIN`` their execution options name.
PostgreSQL (psycopg 3): READ COMMITTED.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

from loyalty.store.sql.statements import _UPSERTS

_BEGIN: Final = "loyalty_sqlite_begin"  # connection option: the BEGIN the SQLite hook emits
_POOL_SIZE: Final = 10


def _create_engine(url: str, busy_timeout: float = 30.0) -> Engine:  # float-ok: seconds
    # The store ends each of its transactions itself (commit, or rollback: SQLStore._end)
    # and SQLAlchemy's own connections roll back when closed, so the pool does not roll
    # back again each connection it is given back (a call per transaction).
    if url.startswith("sqlite"):
        if make_url(url).database in (None, "", ":memory:"):
            # Else each connection has its own empty database: share one, which the store's
            # transactions take in turns (see SQLStore).
            engine = create_engine(
                url,
                poolclass=StaticPool,
                connect_args={"check_same_thread": False},
                pool_reset_on_return=None,
            )
        else:
            engine = create_engine(
                url, pool_size=_POOL_SIZE, max_overflow=_POOL_SIZE, pool_reset_on_return=None
            )
    else:
        engine = create_engine(
            url,
            pool_size=_POOL_SIZE,
            max_overflow=_POOL_SIZE,
            isolation_level="READ COMMITTED",
            pool_reset_on_return=None,
        )
    _prepare(engine, busy_timeout)
    return engine


def _prepare(engine: Engine, busy_timeout: float = 30.0) -> None:  # float-ok: seconds
    """Check the database, and on SQLite: WAL, a busy timeout, and ``BEGIN`` left to the
    store rather than to sqlite3 (hooks added once per engine)."""
    if engine.dialect.name not in _UPSERTS:
        raise ValueError(f"unsupported database {engine.dialect.name!r}: SQLite or PostgreSQL")
    if engine.dialect.name != "sqlite" or event.contains(engine, "begin", _sqlite_begin):
        return
    milliseconds = int(busy_timeout * 1000)

    def connect(dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {milliseconds}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        # Deleted and moved rows are overwritten with zeros, so an erased member's id and
        # segments leave no copy in free pages (the WAL is checkpointed after an erase).
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.close()

    event.listen(engine, "connect", connect)
    event.listen(engine, "begin", _sqlite_begin)


def _sqlite_begin(connection: Connection) -> None:
    """SQLAlchemy's connections (migrations, a host sharing the engine) begin here."""
    connection.exec_driver_sql(connection.get_execution_options().get(_BEGIN, "BEGIN"))
