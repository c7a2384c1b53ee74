"""A member's stored journal, read lazily: entries and idempotency keys, page by page."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Final

from sqlalchemy.sql.elements import ClauseElement

from loyalty.ledger.entries import Entry
from loyalty.ledger.state import KeyRecord
from loyalty.store.codec import decode_entry
from loyalty.store.sql.runner import _Runner
from loyalty.store.sql.statements import (
    _ENTRIES_FROM,
    _ENTRIES_SINCE,
    _FIRST_KEYS,
    _KEY,
    _KEYS_AFTER,
)

_FIRST_PAGE: Final = 8  # history pages grow from here (one entry read costs one small page)
_LAST_PAGE: Final = 1024


class _History:
    """A member's stored entries and keys, read page by page through the transaction."""

    __slots__ = ("_known", "_length", "_member_id", "_transaction")

    def __init__(
        self,
        transaction: _Runner,
        member_id: str,
        length: int,
        known: Mapping[str, KeyRecord | None] | None = None,
    ) -> None:
        self._transaction = transaction
        self._member_id = member_id
        self._length = length
        self._known = known  # keys read with the member, at this length: not read again

    @property
    def length(self) -> int:
        return self._length

    def _params(self, **extra: Any) -> dict[str, Any]:
        return {
            "p_program": self._transaction.program_id,
            "p_member": self._member_id,
            "p_length": self._length,
            **extra,
        }

    def entries(self, start: int = 1) -> Iterator[Entry]:
        return self._pages(_ENTRIES_FROM, self._params(p_start=max(start, 1)))

    def since(self, at: datetime) -> Iterator[Entry]:
        return self._pages(_ENTRIES_SINCE, self._params(p_start=1, p_at=at))

    def _pages(self, statement: ClauseElement, params: dict[str, Any]) -> Iterator[Entry]:
        # Pages grow: the first is small (Journal.entry reads one entry), later ones large.
        page = _FIRST_PAGE
        while params["p_start"] <= self._length:
            rows = self._transaction._rows(statement, {**params, "p_limit": page})
            for row in rows:
                yield decode_entry(row[1], self._member_id)
            if len(rows) < page:
                return
            params["p_start"] = rows[-1][0] + 1
            page = min(page * 8, _LAST_PAGE)

    def key(self, key: str) -> KeyRecord | None:
        known = self._known
        if known is not None and key in known:
            return known[key]
        rows = self._transaction._rows(_KEY, self._params(p_key=key))
        return KeyRecord(rows[0][0], rows[0][1]) if rows else None

    def keys(self) -> Iterator[tuple[str, KeyRecord]]:
        statement: ClauseElement = _FIRST_KEYS
        params = self._params(p_limit=_LAST_PAGE)
        while True:
            rows = self._transaction._rows(statement, params)
            for key, fingerprint, seq in rows:
                yield key, KeyRecord(fingerprint, seq)
            if len(rows) < _LAST_PAGE:
                return
            statement = _KEYS_AFTER
            params["p_after"] = rows[-1][0]
