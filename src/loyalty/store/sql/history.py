"""A member's stored journal, read lazily: entries and idempotency keys, page by page,
and the stored items of the state (a lot, an order, a redemption) one by one."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, Final

from sqlalchemy.sql.elements import ClauseElement

from loyalty.ledger.entries import Entry
from loyalty.ledger.records import KeyRecord, RedemptionRecord
from loyalty.ledger.state import Snapshot
from loyalty.store.codec import decode_entry, decode_items, decode_snapshot
from loyalty.store.parts import ItemReads, join
from loyalty.store.sql.runner import _Runner
from loyalty.store.sql.statements import (
    _ENTRIES_FROM,
    _ENTRIES_SINCE,
    _FIRST_KEYS,
    _ITEM,
    _ITEMS,
    _KEY,
    _KEYS_AFTER,
    _REDEMPTIONS_ON,
    _REDEMPTIONS_ON_SQLITE,
    _SELECT_MEMBER,
)

_FIRST_PAGE: Final = 8  # history pages grow from here (one entry read costs one small page)
_LAST_PAGE: Final = 1024


class _History(ItemReads):
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

    # -- the stored state's items, one at a time

    def _item(self, part: str, key: str) -> Any:
        rows = self._transaction._rows(_ITEM, self._params(p_part=part, p_key=key))
        if not rows:
            return None
        return decode_items([(part, key, rows[0][0])], self._member_id)[part][key]

    def redemptions(self, source: str) -> Iterator[RedemptionRecord]:
        statement = _REDEMPTIONS_ON_SQLITE if self._transaction._store._sqlite else _REDEMPTIONS_ON
        rows = self._transaction._rows(statement, self._params(p_source=source))
        for seq, payload in sorted(rows, key=lambda row: int(row[0])):
            if seq > self._length:  # written after the version this history reads
                break
            items = decode_items([("redemptions", "", payload)], self._member_id)
            yield items["redemptions"][""]

    def state(self) -> Snapshot:
        params = self._params()
        rows = self._transaction._rows(_SELECT_MEMBER, params)
        if not rows:
            raise LookupError(f"member {self._member_id!r} is not stored")
        items = decode_items(self._transaction._rows(_ITEMS, params), self._member_id)
        return join(decode_snapshot(rows[0][5], self._member_id), items)
