"""Lost races: the driver errors that a retry may win, raised as
:class:`~loyalty.store.port.StoreConflict`.

Lost races are a locked SQLite database, a serialization failure or deadlock, a unique
violation such as two transactions enrolling one member, a PostgreSQL lock or statement
timeout, and an aborted psycopg pipeline.
A lost PostgreSQL connection (:func:`_disconnected`) is raised as
:class:`~loyalty.store.port.ConnectionLost`, a kind of conflict: see ``SQLStore._lost``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from sqlalchemy.exc import DBAPIError

from loyalty.store.port import StoreConflict

_PG_CONFLICTS: Final = frozenset({"40001", "40P01", "23505", "55P03", "57014"})
"""Serialization failure, deadlock, unique violation; a lock wait past ``lock_timeout``
and a statement cancelled (``statement_timeout``): the transaction is aborted either way,
and running it again is safe."""
_SQLITE_CONFLICTS: Final = frozenset(
    {
        "SQLITE_BUSY",
        "SQLITE_BUSY_SNAPSHOT",
        "SQLITE_BUSY_RECOVERY",
        "SQLITE_BUSY_TIMEOUT",
        "SQLITE_LOCKED",
        "SQLITE_LOCKED_SHAREDCACHE",
        "SQLITE_CONSTRAINT_PRIMARYKEY",
        "SQLITE_CONSTRAINT_UNIQUE",
    }
)


_PG_LOST: Final = frozenset({"57P01", "57P02", "57P03"})
"""Admin shutdown (``pg_terminate_backend``), crash shutdown, cannot connect now."""


def _disconnected(error: BaseException, connection: object) -> bool:
    """Whether the driver's ``error`` on ``connection`` (None once discarded) means the
    connection is lost or in an unknown state: a connection exception (SQLSTATE class
    08), a server shutdown (57P01-57P03), a closed or broken psycopg connection, or a
    psycopg ``OperationalError`` raised by the client itself (no SQLSTATE), such as
    "cannot exit pipeline mode while busy" after the server went away."""
    if isinstance(error, sqlite3.Error):
        return False
    if connection is None or getattr(connection, "closed", False):
        return True
    if getattr(connection, "broken", False):
        return True
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate.startswith("08") or sqlstate in _PG_LOST
    return any(kind.__name__ == "OperationalError" for kind in type(error).__mro__)


def _conflict(error: BaseException) -> bool:
    """Whether the driver's ``error`` means a lost race, which a retry may win."""
    if type(error).__name__ == "PipelineAborted":  # an earlier statement of the batch failed
        return True
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in _PG_CONFLICTS
    if isinstance(error, sqlite3.Error):
        name = getattr(error, "sqlite_errorname", None)
        if name is not None:
            return name in _SQLITE_CONFLICTS
        message = str(error)
        return "database is locked" in message or "UNIQUE constraint failed" in message
    return False


@contextmanager
def _translated() -> Iterator[None]:
    """Lost races raised through SQLAlchemy, as :class:`StoreConflict`."""
    try:
        yield
    except DBAPIError as error:
        if error.orig is not None and _conflict(error.orig):
            raise StoreConflict(str(error.orig)) from error
        raise
