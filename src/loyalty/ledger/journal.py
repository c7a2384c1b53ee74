"""A member's journal: the entries kept elsewhere (a store), read on demand, and
those appended since the account was loaded.

An account built in memory has no history: every entry is in memory. An account
loaded from a store (:meth:`~loyalty.Account.restore`) starts from the hot part of
its derived state (the head, the open lots, bonus actions, tier days) and a
:class:`History` that reads stored entries, idempotency keys, and the stored
closed lots, orders and redemptions only when asked — so loading a member costs
the same whatever the length of their journal.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from datetime import datetime
from typing import Protocol

from loyalty.ledger.entries import Entry
from loyalty.ledger.lots import Lot
from loyalty.ledger.records import KeyRecord, OrderRecord, RedemptionRecord
from loyalty.ledger.state import Snapshot

__all__ = ["History", "Journal"]


class History(Protocol):
    """The stored part of one member's journal (entries ``1..length``)."""

    @property
    def length(self) -> int:
        """How many entries are stored."""
        ...

    def entries(self, start: int = 1) -> Iterator[Entry]:
        """Stored entries from seq ``start`` on, in order."""
        ...

    def since(self, at: datetime) -> Iterator[Entry]:
        """Stored entries dated ``at`` or later, in order."""
        ...

    def key(self, key: str) -> KeyRecord | None:
        """What stored idempotency ``key`` was used for, if anything."""
        ...

    def keys(self) -> Iterator[tuple[str, KeyRecord]]:
        """Every stored idempotency key."""
        ...

    # The stored derived state (after entry ``length``), one item at a time.

    def lot(self, seq: int) -> Lot | None:
        """The stored lot created by entry ``seq``, if any."""
        ...

    def order(self, order_id: str) -> OrderRecord | None:
        """The stored record of order ``order_id``, if any."""
        ...

    def redemption(self, seq: int) -> RedemptionRecord | None:
        """The stored record of the redemption made by entry ``seq``, if any."""
        ...

    def redemptions(self, source: str) -> Iterator[RedemptionRecord]:
        """The stored records of the redemptions made on ``source``, oldest first."""
        ...

    def state(self) -> Snapshot:
        """The whole stored state (every lot, order and redemption; keys may be left out)."""
        ...


class Journal:
    """Stored entries (through a :class:`History`) followed by entries appended since."""

    __slots__ = ("_base", "_history", "_new")

    def __init__(self, history: History | None = None) -> None:
        self._history = history
        self._base = history.length if history is not None else 0
        self._new: list[Entry] = []

    def __len__(self) -> int:
        return self._base + len(self._new)

    def __iter__(self) -> Iterator[Entry]:
        if self._history is not None:
            yield from self._history.entries()
        yield from self._new

    def entry(self, seq: int) -> Entry:
        """The entry at position ``seq`` (1-based); the caller checks the range."""
        if seq > self._base:
            return self._new[seq - self._base - 1]
        assert self._history is not None
        return next(self._history.entries(seq))

    def last(self) -> Entry | None:
        return self.entry(len(self)) if len(self) else None

    def from_seq(self, seq: int) -> Iterator[Entry]:
        """Entries from position ``seq`` on."""
        if seq <= self._base and self._history is not None:
            yield from self._history.entries(seq)
        yield from self._new[max(seq - self._base - 1, 0) :]

    def since(self, at: datetime) -> Iterator[Entry]:
        """Entries dated ``at`` or later."""
        if self._history is not None:
            yield from self._history.since(at)
        yield from self._new[bisect_left(self._new, at, key=lambda entry: entry.at) :]

    def append(self, entry: Entry) -> None:
        self._new.append(entry)

    def truncate(self, length: int) -> None:
        """Drop entries past ``length`` (appended ones only: stored entries are final)."""
        del self._new[max(length - self._base, 0) :]

    def stored_key(self, key: str) -> KeyRecord | None:
        return self._history.key(key) if self._history is not None else None

    def stored_keys(self) -> Iterator[tuple[str, KeyRecord]]:
        if self._history is not None:
            yield from self._history.keys()
