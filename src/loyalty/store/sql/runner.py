"""Running the store's prepared statements inside one transaction, on one pooled
connection: the plumbing under :class:`~loyalty.store.sql.transaction.SQLTransaction`.

Statements are logged at DEBUG level on the ``loyalty.store.sql`` logger.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql.elements import ClauseElement

from loyalty.ledger.records import KeyRecord
from loyalty.store.sql.statements import _UPSERTS

if TYPE_CHECKING:
    from loyalty.store.sql.store import SQLStore

_log = logging.getLogger("loyalty.store.sql")


class _Runner:
    """Runs statements on one pooled connection, inside one transaction; lost races are
    raised as :class:`~loyalty.store.port.StoreConflict` (see ``SQLStore._lost``)."""

    def __init__(
        self,
        store: SQLStore,
        pooled: PoolProxiedConnection,
        program_id: str,
        write: bool,
        begin: str | None = None,
    ) -> None:
        self._store = store
        self._pooled = pooled
        self._connection: Any = pooled.driver_connection
        self._upserts = _UPSERTS[store.dialect]
        self.program_id = program_id
        self.write = write
        self.committed = False
        self.open = True
        self._pending: list[Any] | None = None
        self._begin = begin  # sent before the first statement (PostgreSQL), then None
        self._outbox: list[dict[str, Any]] = []  # notifications emitted, not yet written
        # Per member: the version read and the idempotency keys read with it.
        self._known_keys: dict[str, tuple[int, dict[str, KeyRecord | None]]] = {}
        self._erased = False  # an erase ran: on SQLite, the WAL is emptied after commit

    def _execute(
        self, statement: ClauseElement, params: Any, *, many: bool = False, fetch: bool = False
    ) -> Any:
        """Run ``statement``: its rows if ``fetch``, else how many rows it changed."""
        if not self.open:
            raise RuntimeError("the transaction is over")
        prepared = self._store._prepared(statement)
        values = [prepared.values(row) for row in params] if many else prepared.values(params)
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug("%s %r", prepared.sql, values)
        cursor = self._connection.cursor()
        if self._pending is not None and not fetch:  # in a pipeline: counted after it
            if self._begin is not None:
                begin = self._connection.cursor()
                self._start(begin)
                begin.close()
            self._pending.append(cursor)
            (cursor.executemany if many else cursor.execute)(prepared.sql, values)
            return -1
        try:
            self._start(cursor)
            if many:
                cursor.executemany(prepared.sql, values)
            else:
                cursor.execute(prepared.sql, values)
            found = prepared.rows(cursor.fetchall()) if fetch else cursor.rowcount
        except self._store._errors as error:
            self._store._lost(self._pooled, error)
            raise
        finally:
            cursor.close()
        return found

    def _start(self, cursor: Any) -> None:
        """Begin the transaction before its first statement, if the store left it to us
        (PostgreSQL: in the same pipeline as the statements, if they are in one)."""
        if self._begin is not None:
            begin, self._begin = self._begin, None
            cursor.execute(begin)

    @contextmanager
    def _batch(self) -> Iterator[list[int]]:
        """Run the writes inside in one round trip (a psycopg pipeline on PostgreSQL;
        SQLite runs in-process anyway). The list it gives holds, after the block, how
        many rows each write changed, in order."""
        counts: list[int] = []
        if self._store.dialect != "postgresql":
            self._pending = None
            yield counts
            return
        self._pending = []
        try:
            with self._connection.pipeline():
                yield counts
        except self._store._errors as error:
            self._store._lost(self._pooled, error)
            raise
        finally:
            pending, self._pending = self._pending, None
            for cursor in pending:
                counts.append(cursor.rowcount)
                cursor.close()

    def _run(self, statement: ClauseElement, params: Mapping[str, Any]) -> int:
        """Run a write; how many rows it changed."""
        count: int = self._execute(statement, params)
        return count

    def _run_many(self, statement: ClauseElement, params: Sequence[Mapping[str, Any]]) -> None:
        self._execute(statement, params, many=True)

    def _rows(self, statement: ClauseElement, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self._execute(statement, params, fetch=True)
        return rows

    def _rows_together(
        self, reads: Sequence[tuple[ClauseElement, Mapping[str, Any]]]
    ) -> list[list[tuple[Any, ...]]]:
        """The rows of each read, run in order in one round trip (a psycopg pipeline on
        PostgreSQL: the server runs each after the one before it has ended, so a read
        after ``SELECT ... FOR UPDATE`` sees what was committed before the lock was had)."""
        if self._store.dialect != "postgresql" or (len(reads) == 1 and self._begin is None):
            return [self._rows(statement, params) for statement, params in reads]
        if not self.open:
            raise RuntimeError("the transaction is over")
        prepared = [(self._store._prepared(statement), params) for statement, params in reads]
        cursors = []
        try:
            try:
                with self._connection.pipeline():
                    if self._begin is not None:
                        begin = self._connection.cursor()
                        cursors.append(begin)
                        self._start(begin)
                    first = len(cursors)
                    for statement, params in prepared:
                        values = statement.values(params)
                        if _log.isEnabledFor(logging.DEBUG):
                            _log.debug("%s %r", statement.sql, values)
                        cursor = self._connection.cursor()
                        cursors.append(cursor)
                        cursor.execute(statement.sql, values)
                return [
                    statement.rows(cursor.fetchall())
                    for (statement, _), cursor in zip(prepared, cursors[first:], strict=True)
                ]
            except self._store._errors as error:
                self._store._lost(self._pooled, error)
                raise
        finally:
            for cursor in cursors:
                cursor.close()

    def _writing(self) -> None:
        if not self.write:
            raise RuntimeError("a read-only transaction cannot write")
