"""A program's registry rows, read and written inside a store transaction."""

from __future__ import annotations

from typing import Any

from loyalty.store.registry import check_name, check_value
from loyalty.store.sql.runner import _Runner
from loyalty.store.sql.statements import (
    _REGISTRY_DELETE,
    _REGISTRY_GET,
    _REGISTRY_LOCK,
    _REGISTRY_SCANS,
)

__all__ = ["SQLRegistry"]


class SQLRegistry:
    """A program's shared rows (see :class:`~loyalty.store.port.Registry`), in
    ``loyalty_registry``, inside one transaction: a rollback undoes every write.

    :meth:`add` is ``INSERT ... ON CONFLICT DO NOTHING``: of two transactions adding
    one key, the second waits for the first (PostgreSQL) or for the write lock (SQLite)
    and inserts nothing. ``get(lock=True)`` is ``SELECT ... FOR UPDATE`` on PostgreSQL;
    a SQLite writer holds the database's write lock from its ``BEGIN IMMEDIATE``.
    Values are stored as JSON (``JSONB`` on PostgreSQL, which keeps a dict's keys in an
    order of its own: the dict read back is equal, not in the order written)."""

    def __init__(self, transaction: _Runner) -> None:
        self._transaction = transaction

    def _row(self, space: str, key: str) -> dict[str, Any]:
        return {
            "p_program": self._transaction.program_id,
            "p_space": check_name("space", space),
            "p_key": check_name("key", key),
        }

    def get(self, space: str, key: str, *, lock: bool = False) -> Any:
        if lock:
            self._transaction._writing()
        rows = self._transaction._rows(
            _REGISTRY_LOCK if lock else _REGISTRY_GET, self._row(space, key)
        )
        return rows[0][0] if rows else None

    def add(self, space: str, key: str, value: Any) -> bool:
        transaction = self._transaction
        return transaction._run(transaction._upserts.add_row, self._written(space, key, value)) > 0

    def put(self, space: str, key: str, value: Any) -> None:
        transaction = self._transaction
        transaction._run(transaction._upserts.put_row, self._written(space, key, value))

    def delete(self, space: str, key: str) -> bool:
        self._transaction._writing()
        return self._transaction._run(_REGISTRY_DELETE, self._row(space, key)) > 0

    def scan(
        self, space: str, *, after: str | None = None, until: str | None = None, limit: int = 1000
    ) -> list[tuple[str, Any]]:
        if limit < 0:
            raise ValueError(f"a scan's limit is not negative: {limit}")
        params = {
            "p_program": self._transaction.program_id,
            "p_space": check_name("space", space),
            "p_after": after,
            "p_until": until,
            "p_limit": limit,
        }
        statement = _REGISTRY_SCANS[after is not None, until is not None]
        return [(key, value) for key, value in self._transaction._rows(statement, params)]

    def _written(self, space: str, key: str, value: Any) -> dict[str, Any]:
        self._transaction._writing()
        check_value(value)
        return {
            "program_id": self._transaction.program_id,
            "space": check_name("space", space),
            "key": check_name("key", key),
            "value": value,
        }
