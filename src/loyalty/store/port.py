"""The store port: what the service needs from a place that keeps programs' members.

A store keeps, per program and member: a profile (the only personal data: the
member id, a birthday, segments), the append-only journal, its idempotency keys,
and the derived state after the last stored entry (a small head, and one item per
lot, order, redemption, bonus action and tier day: see :mod:`loyalty.store.parts`),
so loading a member never reads the journal. Shared across members: reward stock claims,
the registry of rows such as coupon codes and budgets, and the outbox of notifications.

Every read and write goes through a :class:`Transaction` opened by
:meth:`Store.transaction` for one program; it rolls back unless
:meth:`Transaction.commit` is called. Nothing of one program is visible through a
transaction opened for another.

A store raises :class:`StoreConflict` when a transaction lost a race (a
serialization failure, a deadlock, a row another transaction created first), or
:class:`ConnectionLost` (a kind of it) when its connection was lost; the service
retries the whole transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from loyalty.checkout.stock import RewardStock
from loyalty.ledger.entries import Entry
from loyalty.ledger.journal import History
from loyalty.ledger.state import Snapshot
from loyalty.notifications import Notification

__all__ = [
    "ConnectionLost",
    "MemberProfile",
    "OutboxMessage",
    "Registry",
    "Store",
    "StoreConflict",
    "StoredMember",
    "Transaction",
]


class StoreConflict(Exception):
    """A transaction lost a race with another; running it again may succeed."""


class ConnectionLost(StoreConflict):
    """The transaction's database connection was lost (the server closed it, restarted,
    or broke the connection mid-statement). Nothing it wrote was committed, unless the
    connection was lost while committing; either way running it again is safe, since
    every write is idempotent by its key. The store reconnects for the next one."""


@dataclass(frozen=True, slots=True)
class MemberProfile:
    """What a program keeps about a member besides their points: the personal data
    erasure removes (``birthday``, ``segments``) and when they joined."""

    member_id: str
    enrolled_at: datetime
    birthday: date | None = None
    segments: tuple[str, ...] = ()
    erased: bool = False


@dataclass(frozen=True, slots=True)
class StoredMember:
    """A member as loaded: the profile, how many entries are stored, and the
    derived state after them (its ``keys`` may be empty: keys stay in the store).

    A store may give the state as a function that reads and decodes it, so a caller
    that already holds the member at this ``version`` does not pay for that; read
    :attr:`state` while the transaction that loaded the member is open.

    ``incarnation`` names this stored member: a new random one is given by the store
    at each :meth:`~Transaction.add_member` and :meth:`~Transaction.erase` (it is
    ignored when adding), and by a :meth:`~Transaction.save` that changed the state
    without entries, so a member erased and enrolled again under the same id, or
    brought forward by the scheduled run, is told apart from the one kept before,
    even at the same ``version``.
    """

    profile: MemberProfile
    version: int
    stored_state: Snapshot | Callable[[], Snapshot]
    incarnation: str = ""
    hot_state: Callable[[], Snapshot] | None = None
    """Reads the hot part of the state only: the head, the open lots, the bonus actions
    and the tier days, without closed lots, orders and redemptions (which the member's
    :meth:`~Transaction.history` reads on demand). ``None``: the same as :attr:`state`."""

    @property
    def state(self) -> Snapshot:
        """The whole state."""
        stored = self.stored_state
        return stored if isinstance(stored, Snapshot) else stored()

    @property
    def hot(self) -> Snapshot:
        """What :func:`~loyalty.ledger.account.restore` needs: the hot part of the state
        (see :mod:`loyalty.store.parts`), or the whole state."""
        return self.hot_state() if self.hot_state is not None else self.state


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A notification waiting in the outbox; acknowledge it by ``id`` once forwarded."""

    id: int
    notification: Notification


class Registry(Protocol):
    r"""Rows shared by the members of one program (coupon codes, global budgets,
    referral links), read and written inside the transaction that
    :meth:`Transaction.registry` opened it in: a rollback undoes every write.

    Rows live in named spaces (``space``), under a text ``key`` (at most 200 characters),
    and hold a JSON-safe ``value`` (what ``json.loads(json.dumps(value))`` gives back
    unchanged). Keys of a space are ordered as Python orders ``str``. Every store
    refuses the same rows (:mod:`loyalty.store.registry`): a space is text of at most
    200 characters too, and no name or string holds NUL or a lone surrogate.

    Concurrent writers are safe: :meth:`add` of one key succeeds in exactly one
    transaction, and a row read with ``lock=True`` is held until the transaction ends
    (on PostgreSQL ``SELECT ... FOR UPDATE``; SQLite and memory serialise writers), so
    a read-modify-write of a counter never loses an update.

    :meth:`Transaction.erase` leaves the registry as it is: to the store its rows are
    not a member's personal data. A caller that keeps member ids in rows (a referral
    link's referrer, a code's holder) rewrites or deletes them itself, in the
    transaction that erases the member (it knows the pseudonym).
    """

    def get(self, space: str, key: str, *, lock: bool = False) -> Any:
        """The row's value, or ``None`` if there is none. ``lock``: hold the row against
        other writers until the transaction ends (a writing transaction only)."""
        ...

    def add(self, space: str, key: str, value: Any) -> bool:
        """Insert the row unless one with this key exists: ``True`` if this inserted it."""
        ...

    def put(self, space: str, key: str, value: Any) -> None:
        """Insert or replace the row."""
        ...

    def delete(self, space: str, key: str) -> bool:
        """Delete the row: ``True`` if there was one."""
        ...

    def scan(
        self, space: str, *, after: str | None = None, until: str | None = None, limit: int = 1000
    ) -> list[tuple[str, Any]]:
        """Rows of ``space`` with ``after < key <= until`` (either bound open), in key
        order, at most ``limit``."""
        ...


class Transaction(Protocol):
    """One unit of work in one program; rolled back unless committed."""

    def member(
        self, member_id: str, *, lock: bool = False, keys: Sequence[str] = ()
    ) -> StoredMember | None:
        """The member, or None. ``lock`` holds the member against concurrent writers
        until the transaction ends. ``keys``: idempotency keys the caller is about to
        look up; a store may read them with the member (in the same round trip, after
        the lock), so that the :meth:`history` at the member's version answers them
        without reading again."""
        ...

    def history(self, member_id: str, length: int) -> History:
        """The member's first ``length`` stored entries and their keys, and the stored
        items of the state (lots, orders, redemptions), read on demand (only while the
        transaction is open)."""
        ...

    def add_member(self, member: StoredMember) -> None:
        """Store a new member, under a new incarnation (:class:`StoreConflict` if one
        with that id exists)."""
        ...

    def save(
        self,
        member_id: str,
        version: int,
        entries: Sequence[Entry],
        state: Snapshot,
        profile: MemberProfile | None = None,
        incarnation: str | None = None,
    ) -> None:
        """Append ``entries`` (with their idempotency keys) after entry ``version``, and
        store the derived ``state`` after them (and a new ``profile``, if given).

        A state that changed without entries (points the scheduled run released) is
        saved with a new ``incarnation``: the version alone would not tell an account
        kept elsewhere that it is stale.

        ``state`` is what :meth:`Account.changes <loyalty.Account.changes>` gives: its
        parts (lots, orders, redemptions, actions, tier days) hold only the items that
        changed; the store keeps the others (see :mod:`loyalty.store.parts`).
        :class:`StoreConflict` if the member no longer has ``version`` entries."""
        ...

    def member_ids(self, after: str | None = None, limit: int = 1000) -> list[str]:
        """Member ids in order, those after ``after`` (for batch jobs)."""
        ...

    def stock(self, limits: Mapping[str, int]) -> RewardStock:
        """The program's shared reward stock (``limits``: units per reward id), claimed
        inside this transaction: a rollback gives the claims back."""
        ...

    def registry(self) -> Registry:
        """The program's shared rows (see :class:`Registry`), inside this transaction."""
        ...

    def emit(self, notifications: Sequence[Notification]) -> None:
        """Add to the outbox; a notification whose ``dedupe`` was emitted before is dropped."""
        ...

    def erase(self, member_id: str, pseudonym: str) -> None:
        """Move the member's journal, keys and claims to ``pseudonym`` (under a new
        incarnation), drop their personal data and their notifications not yet
        acknowledged. The :meth:`registry` is left as it is (see :class:`Registry`)."""
        ...

    def commit(self) -> None:
        """Make the transaction's writes durable. Leaving the ``transaction`` block without
        committing rolls every write back."""
        ...


class Store(Protocol):
    """Where members are kept. Implementations: memory, SQLite, PostgreSQL."""

    def transaction(
        self, program_id: str, *, write: bool = True
    ) -> AbstractContextManager[Transaction]:
        """A unit of work on ``program_id``. Writers are serialised per member (or per
        store); a read-only one (``write=False``) takes no locks and must not write."""
        ...

    def outbox(self, program_id: str, limit: int = 100) -> list[OutboxMessage]:
        """Notifications not yet acknowledged, oldest first."""
        ...

    def acknowledge(self, program_id: str, ids: Sequence[int]) -> None:
        """Mark notifications forwarded; they are not read again."""
        ...

    def close(self) -> None:
        """Release the store's connections; it is not used again."""
        ...


def new_incarnation() -> str:
    """A new random incarnation for a stored member (see :class:`StoredMember`)."""
    return secrets.token_hex(8)


def iter_members(store: Store, program_id: str, batch: int = 1000) -> Iterator[str]:
    """Every member id of a program, read in batches."""
    after: str | None = None
    while True:
        with store.transaction(program_id, write=False) as transaction:
            ids = transaction.member_ids(after, batch)
        yield from ids
        if len(ids) < batch:
            return
        after = ids[-1]
