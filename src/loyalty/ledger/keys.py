"""Idempotency keys: which request wrote which entry, so a retried request is answered
with what it wrote the first time.

Keys written since the account was loaded are kept here; older ones are read from
the stored history on demand (:class:`~loyalty.ledger.journal.Journal`), so
loading a member does not read every key they ever used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from loyalty.errors import IdempotencyConflict
from loyalty.ledger.entries import Entry
from loyalty.ledger.journal import Journal
from loyalty.ledger.records import KeyRecord

__all__ = ["Keys"]


class Keys:
    """One member's idempotency keys: stored ones (through the journal) and new ones."""

    __slots__ = ("_added", "_journal", "_new")

    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        self._new: dict[str, KeyRecord] = {}
        self._added: list[str] | None = None  # inside a transaction: keys to forget on rollback

    def get(self, key: str) -> KeyRecord | None:
        record = self._new.get(key)
        return record if record is not None else self._journal.stored_key(key)

    def replayed(
        self,
        member_id: str,
        key: str,
        fingerprint: str,
        operation: str,
        legacy: Callable[[], str] | None = None,
    ) -> int | None:
        """The seq of the entry an earlier request with ``key`` wrote, or ``None`` for a
        new key. Raises :class:`IdempotencyConflict` if the key was used for other content.

        A key stored under an earlier fingerprint scheme (no ``scheme:`` prefix) is
        compared with ``legacy()``, the request's fingerprint under that scheme."""
        record = self.get(key)
        if record is None:
            return None
        stored = record.fingerprint
        if stored != fingerprint and (legacy is None or ":" in stored or stored != legacy()):
            raise IdempotencyConflict(member_id, key, operation)
        return record.seq

    def remember(self, entry: Entry) -> None:
        """Remember the first entry a request wrote (a request may write several)."""
        key = entry.key
        if key is None or entry.fingerprint is None or key in self._new:
            return
        if self._added is not None:
            self._added.append(key)
        self._new[key] = KeyRecord(entry.fingerprint, entry.seq)

    def all(self) -> tuple[tuple[str, KeyRecord], ...]:
        """Every key, stored and new, sorted."""
        return tuple(sorted((dict(self._journal.stored_keys()) | self._new).items()))

    def new(self) -> Iterator[tuple[str, KeyRecord]]:
        return iter(self._new.items())

    def load(self, keys: tuple[tuple[str, KeyRecord], ...]) -> None:
        self._new.update(keys)

    def rebase(self, journal: Journal) -> None:
        """The store now holds every key: read them from ``journal``'s history."""
        self._journal = journal
        self._new.clear()

    def begin(self) -> None:
        self._added = []

    def end(self) -> None:
        self._added = None

    def rollback(self) -> None:
        for key in self._added or ():
            del self._new[key]
