"""The SQL store: a SQLite file (the embedded default) or PostgreSQL (production).

The store holds the engine and the statements compiled for its database
(:mod:`~loyalty.store.sql.prepared`); its transactions
(:mod:`~loyalty.store.sql.transaction`) run them on the driver's connection.

SQLite: write transactions begin with ``BEGIN IMMEDIATE`` (writers queue for the one
write lock up front instead of failing half-way), read-only ones with a deferred
``BEGIN`` (WAL, the busy timeout and the hooks: :mod:`~loyalty.store.sql.engine`).
PostgreSQL (psycopg 3): READ COMMITTED; ``member(lock=True)`` is
``SELECT ... FOR UPDATE``; read-only transactions are ``REPEATABLE READ READ ONLY``
(one snapshot: a member's head and state items are read by two statements). The store
sends the ``BEGIN`` itself, in the same round trip as the transaction's first
statements (the connection is in psycopg's autocommit mode meanwhile, so psycopg does
not send one of its own and wait for it); a write is three round trips: the BEGIN with
the member's lock and its idempotency key, the writes, the commit.

Lost races are raised as :class:`~loyalty.store.port.StoreConflict`, and a lost
PostgreSQL connection as :class:`~loyalty.store.port.ConnectionLost`, a kind of it
(:mod:`~loyalty.store.sql.conflicts`): the connection is discarded, with every pooled
connection opened before it, and the service runs the transaction again on a new one.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import PoolProxiedConnection, StaticPool
from sqlalchemy.sql.elements import ClauseElement

from loyalty.notifications import notification_from
from loyalty.store.port import ConnectionLost, OutboxMessage, StoreConflict
from loyalty.store.sql.conflicts import _conflict, _disconnected, _translated
from loyalty.store.sql.engine import _create_engine, _prepare
from loyalty.store.sql.prepared import _Prepared
from loyalty.store.sql.statements import _ACKNOWLEDGE, _OUTBOX
from loyalty.store.sql.transaction import SQLTransaction
from loyalty.store.sql.upgrade import _upgrade

__all__ = ["SQLStore"]

_PG_BEGIN_WRITE = "BEGIN ISOLATION LEVEL READ COMMITTED"
_PG_BEGIN_READ = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"


class SQLStore:
    """A store in a SQL database: a SQLite file, or PostgreSQL (``postgresql+psycopg://``).

    ``url_or_engine``: a database URL, or an engine to share (for SQLite, the store
    adds its connection hooks to it: see :func:`migrate`). ``migrate``: bring the
    tables to the current revision first. ``busy_timeout``: how long, in seconds, a
    SQLite writer waits for the write lock before :class:`StoreConflict`.
    """

    def __init__(
        self,
        url_or_engine: str | Engine,
        *,
        migrate: bool = True,
        busy_timeout: float = 30.0,  # float-ok: seconds to wait for SQLite's lock
    ) -> None:
        if isinstance(url_or_engine, Engine):
            engine, self._owned = url_or_engine, False
            _prepare(engine, busy_timeout)
        else:
            engine, self._owned = _create_engine(url_or_engine, busy_timeout), True
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        # One connection shared by every thread (an in-memory SQLite database): sqlite3
        # does not serialise its use, so transactions take turns on this lock.
        self._serial: threading.RLock | None = (
            threading.RLock() if isinstance(engine.pool, StaticPool) else None
        )
        self._errors: type[Exception] = engine.dialect.loaded_dbapi.Error
        self._statements: dict[ClauseElement, _Prepared] = {}
        if migrate:
            _upgrade(engine, "head")

    def __repr__(self) -> str:
        """The database's URL, its password masked; it reads nothing from the database."""
        url = self._engine.url.render_as_string(hide_password=True)
        return f"<SQLStore {url}>"

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine it runs on: the one given, or the one it made from the URL
        (only then does :meth:`close` dispose of it)."""
        return self._engine

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    def transaction(self, program_id: str, *, write: bool = True) -> _Scope:
        """A unit of work on ``program_id``, rolled back unless committed. A writer on
        SQLite holds the database's write lock from the start. On an in-memory SQLite
        database (one connection for every thread) transactions run one at a time."""
        return _Scope(self, program_id, write)

    def _open(self, program_id: str, write: bool) -> SQLTransaction:
        """A transaction on a pooled connection (given back by :meth:`_close`)."""
        try:
            with _translated():
                pooled = self._engine.raw_connection()
        except Exception as error:  # PostgreSQL unreachable: down, restarting, refusing
            cause = error.orig if isinstance(error, DBAPIError) else error
            if self._sqlite or not isinstance(cause, self._errors):
                raise
            if not _disconnected(cause, None):
                raise
            raise ConnectionLost(f"cannot connect: {cause}") from error
        connection: Any = pooled.driver_connection
        begin: str | None = None
        try:
            try:
                if self._sqlite:
                    connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                else:
                    # The transaction's BEGIN goes with its first statements (one round trip:
                    # psycopg would send its own and wait for it), so psycopg is told not to
                    # begin one itself. A read is one snapshot (a member's head and its state
                    # items are read by two statements).
                    connection.autocommit = True
                    begin = _PG_BEGIN_WRITE if write else _PG_BEGIN_READ
            except self._errors as error:
                self._lost(pooled, error)
                raise
            return SQLTransaction(self, pooled, program_id, write, begin)
        except BaseException:
            pooled.close()  # back to the pool
            raise

    def _close(self, transaction: SQLTransaction) -> None:
        """End ``transaction`` (rolled back unless committed); its connection goes back."""
        pooled = transaction._pooled
        try:
            transaction.open = False
            self._end(pooled, rollback=not transaction.committed)
        finally:
            pooled.close()  # back to the pool

    def outbox(self, program_id: str, limit: int = 100) -> list[OutboxMessage]:
        """Notifications not yet acknowledged, oldest first."""
        with self.transaction(program_id, write=False) as transaction:
            rows = transaction._rows(_OUTBOX, {"p_program": program_id, "p_limit": limit})
        return [OutboxMessage(number, notification_from(payload)) for number, payload in rows]

    def acknowledge(self, program_id: str, ids: Sequence[int]) -> None:
        """Mark notifications forwarded; they are not read again."""
        if not ids:
            return
        with self.transaction(program_id) as transaction:
            transaction._run_many(
                _ACKNOWLEDGE, [{"p_program": program_id, "p_id": number} for number in ids]
            )
            transaction.commit()

    def close(self) -> None:
        """Close the pooled connections (of an engine the store created; a shared one is
        left to its owner)."""
        if self._owned:
            self._engine.dispose()

    def _prepared(self, statement: ClauseElement) -> _Prepared:
        prepared = self._statements.get(statement)
        if prepared is None:
            prepared = self._statements[statement] = _Prepared(statement, self._engine.dialect)
        return prepared

    def _end(self, pooled: PoolProxiedConnection, *, rollback: bool) -> None:
        connection: Any = pooled.driver_connection
        if connection is None or not pooled.is_valid:
            return  # lost and discarded (see _lost): nothing to roll back
        try:
            if rollback:
                connection.rollback()
            if not self._sqlite:
                connection.autocommit = False  # as the pool gives connections out
        except Exception as error:  # a broken connection: not to be used again
            self._discard(pooled, error)

    def _lost(self, pooled: PoolProxiedConnection, error: Exception) -> None:
        """Raise the driver's ``error`` as :class:`StoreConflict` if it means a lost race,
        or as :class:`ConnectionLost` if the connection is lost (then it is discarded:
        see :meth:`_discard`); the transaction may run again. Else return (the caller
        raises ``error`` as it is)."""
        driver: Any = pooled.driver_connection
        if not self._sqlite and (
            _disconnected(error, driver)
            or self._engine.dialect.is_disconnect(error, driver, None)  # type: ignore[arg-type]
        ):
            self._discard(pooled, error)
            raise ConnectionLost(f"connection lost: {error}") from error
        if _conflict(error):
            raise StoreConflict(str(error)) from error

    def _discard(self, pooled: PoolProxiedConnection, error: BaseException) -> None:
        """Close ``pooled`` and mark every pooled connection opened before it to be
        replaced at its next checkout (they were most likely lost with it: a server
        restart). Connections checked out meanwhile are closed, not leaked."""
        self._engine.pool._invalidate(pooled, error)


class _Scope:
    """:meth:`SQLStore.transaction` as a context manager (a class: a transaction per
    request makes the generator-based one's cost count)."""

    __slots__ = ("_program_id", "_serial", "_store", "_transaction", "_write")

    def __init__(self, store: SQLStore, program_id: str, write: bool) -> None:
        self._store = store
        self._program_id = program_id
        self._write = write
        self._serial = store._serial
        self._transaction: SQLTransaction | None = None

    def __enter__(self) -> SQLTransaction:
        serial = self._serial
        if serial is None:
            self._transaction = self._store._open(self._program_id, self._write)
            return self._transaction
        serial.acquire()
        try:
            self._transaction = self._store._open(self._program_id, self._write)
        except BaseException:
            serial.release()  # the turn is given back if opening fails
            raise
        return self._transaction

    def __exit__(self, *exc: object) -> None:
        transaction, self._transaction = self._transaction, None
        try:
            if transaction is not None:
                self._store._close(transaction)
        finally:
            if self._serial is not None:
                self._serial.release()
