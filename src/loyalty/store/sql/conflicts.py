"""Lost races: the driver errors that a retry may win, raised as
:class:`~loyalty.store.port.StoreConflict`.

Lost races are a locked SQLite database, a serialization failure or deadlock, a unique
violation such as two transactions enrolling one member, and a dropped connection (the
last is told apart by the dialect: see ``SQLStore._lost``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from sqlalchemy.exc import DBAPIError

from loyalty.store.port import StoreConflict

_PG_CONFLICTS: Final = frozenset({"40001", "40P01", "23505"})
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


def _conflict(error: BaseException) -> bool:
    """Whether the driver's ``error`` means a lost race, which a retry may win."""
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
