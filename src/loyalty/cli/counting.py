"""A store that counts what its transactions commit, so that a replay can tell a step
that wrote something from one the service answered from its idempotency keys (a
duplicate writes nothing: it returns what the first one wrote)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager

from loyalty.checkout.stock import RewardStock
from loyalty.ledger.entries import Entry
from loyalty.ledger.journal import History
from loyalty.ledger.state import Snapshot
from loyalty.notifications import Notification
from loyalty.store.port import (
    MemberProfile,
    OutboxMessage,
    Registry,
    Store,
    StoredMember,
    Transaction,
)

__all__ = ["CountingStore"]


class CountingStore:
    """``store``, counting in :attr:`written` the entries appended, the members added and
    the members erased by the transactions that committed (one that rolled back, or
    was run again after losing a race, counts only once it commits)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.written = 0

    def __repr__(self) -> str:
        return repr(self.store)

    def transaction(
        self, program_id: str, *, write: bool = True
    ) -> AbstractContextManager[Transaction]:
        return self._counted(program_id, write)

    @contextmanager
    def _counted(self, program_id: str, write: bool) -> Iterator[Transaction]:
        with self.store.transaction(program_id, write=write) as transaction:
            yield _Counting(self, transaction)

    def outbox(self, program_id: str, limit: int = 100) -> list[OutboxMessage]:
        return self.store.outbox(program_id, limit)

    def acknowledge(self, program_id: str, ids: Sequence[int]) -> None:
        self.store.acknowledge(program_id, ids)

    def close(self) -> None:
        self.store.close()


class _Counting:
    """A transaction of a :class:`CountingStore`: the inner one, and what it wrote."""

    def __init__(self, store: CountingStore, inner: Transaction) -> None:
        self._store = store
        self._inner = inner
        self._written = 0

    def member(
        self, member_id: str, *, lock: bool = False, keys: Sequence[str] = ()
    ) -> StoredMember | None:
        return self._inner.member(member_id, lock=lock, keys=keys)

    def history(self, member_id: str, length: int) -> History:
        return self._inner.history(member_id, length)

    def add_member(self, member: StoredMember) -> None:
        self._inner.add_member(member)
        self._written += 1

    def save(
        self,
        member_id: str,
        version: int,
        entries: Sequence[Entry],
        state: Snapshot,
        profile: MemberProfile | None = None,
        incarnation: str | None = None,
    ) -> None:
        self._inner.save(member_id, version, entries, state, profile, incarnation)
        self._written += len(entries)

    def member_ids(self, after: str | None = None, limit: int = 1000) -> list[str]:
        return self._inner.member_ids(after, limit)

    def stock(self, limits: Mapping[str, int]) -> RewardStock:
        return self._inner.stock(limits)

    def registry(self) -> Registry:
        return self._inner.registry()

    def emit(self, notifications: Sequence[Notification]) -> None:
        self._inner.emit(notifications)

    def erase(self, member_id: str, pseudonym: str) -> None:
        self._inner.erase(member_id, pseudonym)
        self._written += 1

    def commit(self) -> None:
        self._inner.commit()
        self._store.written += self._written
        self._written = 0
