"""A service request's unit of work: the members one store transaction loaded,
saved together at its end, and the accounts kept between requests.

:func:`transact` runs a request in one transaction and runs it again when it
loses a race or its connection, up to the service's ``attempts``.
"""

from __future__ import annotations

import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TypeVar

from loyalty.errors import Busy, InvalidInput, UnknownMember
from loyalty.incentives.issue import Fired
from loyalty.ledger.account import Account, rebase, restore
from loyalty.ledger.requests import text
from loyalty.notifications import Notification, decided, exhausted
from loyalty.program.model import Program
from loyalty.store.port import (
    MemberProfile,
    Store,
    StoreConflict,
    StoredMember,
    Transaction,
    new_incarnation,
)

__all__ = ["Accounts", "Session", "transact"]

_R = TypeVar("_R")


@dataclass(slots=True)
class _Loaded:
    """A member a session loaded: the account, as stored, and where it stood."""

    account: Account
    stored: StoredMember
    start: int
    available: int
    clock: datetime | None


class Accounts:
    """Accounts kept between requests, so a member the store still holds at the same
    version is not decoded and rebuilt again. An account is taken out while a request
    uses it (no two requests share one) and kept again only if it matches the store."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, tuple[str, int, Account]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, stored: StoredMember) -> Account | None:
        """The account kept for ``stored``, if it was kept at its version and for the
        same stored member (its incarnation: not one erased and enrolled again)."""
        with self._lock:
            item = self._items.pop(stored.profile.member_id, None)
        if item is None or (item[0], item[1]) != (stored.incarnation, stored.version):
            return None
        return item[2]

    def keep(self, member_id: str, incarnation: str, version: int, account: Account) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[member_id] = (incarnation, version, account)
            self._items.move_to_end(member_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


@dataclass(slots=True)
class Session:
    """The members one transaction loaded; saved together at the end."""

    program: Program
    transaction: Transaction
    accounts: Accounts
    writing: bool = True
    loaded: dict[str, _Loaded] = field(default_factory=dict)
    written: int = 0
    notified: int = 0
    skipped: int = 0
    later: dict[str, list[Notification]] = field(default_factory=dict)
    """Notifications to emit at save after those of the entries, per member (incentives
    refused for their budget or stock, what the scheduled run found expiring)."""

    def account(self, member_id: str, key: str | None = None) -> Account:
        """The member's account, loaded (and locked, for a write) on first use. ``key``: the
        idempotency key the request is about to check, read with the member."""
        text(member_id, "member_id", required=True)
        found = self.loaded.get(member_id)
        if found is None:
            stored = self.transaction.member(member_id, lock=self.writing, keys=_keys(key))
            if stored is None:
                raise UnknownMember(
                    "member_id", member_id, f"is not enrolled in program {self.program.id!r}"
                )
            history = self.transaction.history(member_id, stored.version)
            account = self.accounts.take(stored)
            if account is None:
                account = restore(self.program, member_id, stored.hot, history)
            else:
                rebase(account, history)
            balance = account.balance()
            found = _Loaded(account, stored, account.next_seq, balance.available, account.clock)
            self.loaded[member_id] = found
        return found.account

    def profile(self, member_id: str) -> MemberProfile:
        self.account(member_id)
        return self.loaded[member_id].stored.profile

    def refused(self, member_id: str, fired: Fired, at: datetime) -> None:
        """Tell, with the member's notifications at save, the incentives ``fired``
        could not issue for their budget or stock (once per incentive and day)."""
        if fired.refused:
            self.tell(member_id, exhausted(member_id, fired.refused, at, self.program.tz))

    def tell(self, member_id: str, notifications: list[Notification]) -> None:
        """Emit ``notifications`` at save, after those the member's entries give (what
        is expiring is told after what was issued)."""
        self.later.setdefault(member_id, []).extend(notifications)

    def save(self) -> None:
        """Append what each loaded account wrote, with its notifications. An account
        brought forward without entries (pending points released by the scheduled run)
        is saved too, so a read without ``at`` shows what the run did."""
        for member_id, loaded in self.loaded.items():
            entries = loaded.account.entries_from(loaded.start)
            if not loaded.stored.profile.erased:  # a pseudonym has no one to tell
                profile = loaded.stored.profile
                notifications = decided(
                    loaded.account, entries, loaded.available, profile.segments
                ) + self.later.get(member_id, [])
                self.transaction.emit(notifications)
                self.notified += len(notifications)
            renewed = None
            if not entries:
                if loaded.account.clock == loaded.clock:
                    continue
                # Moved without entries: the version stays, so a new incarnation tells
                # accounts kept by other processes that this state is newer than theirs.
                renewed = new_incarnation()
                loaded.stored = replace(loaded.stored, incarnation=renewed)
            self.transaction.save(
                member_id,
                loaded.stored.version,
                entries,
                loaded.account.changes(),
                incarnation=renewed,
            )
            loaded.account.saved()
            self.written += len(entries)

    def keep(self) -> None:
        """After commit: keep each account that is what the store now holds."""
        for member_id, loaded in self.loaded.items():
            written = loaded.account.next_seq - loaded.start
            if self.writing or loaded.account.clock == loaded.clock:  # a write saved it
                stored = loaded.stored
                self.accounts.keep(
                    member_id, stored.incarnation, stored.version + written, loaded.account
                )


def _keys(key: str | None) -> tuple[str, ...]:
    """The key to read with the member: none if it is not valid text (the operation
    refuses it, as it would have, in its own order of checks; the store never sees it)."""
    if key is None:
        return ()
    try:
        text(key, "key", required=True)
    except InvalidInput:
        return ()
    return (key,)


def transact(
    store: Store,
    program: Program,
    accounts: Accounts,
    attempts: int,
    member_id: str,
    run: Callable[[Session], _R],
    *,
    writing: bool,
) -> _R:
    """``run`` in one store transaction; a write saves what the session loaded and
    commits. A transaction that loses a race (or its connection) is run again: see
    :func:`retried`."""

    def once() -> _R:
        with store.transaction(program.id, write=writing) as transaction:
            session = Session(program, transaction, accounts, writing=writing)
            result = run(session)
            if writing:
                session.save()
                transaction.commit()
        session.keep()
        return result

    return retried(once, attempts, member_id)


def retried(call: Callable[[], _R], attempts: int, who: str) -> _R:
    """``call()``, run again after a short random backoff each time it loses a race with
    another transaction or its connection (:class:`StoreConflict`); after ``attempts``
    tries, :class:`Busy` naming ``who`` (a member, or what the call was about)."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except StoreConflict:
            if attempt == attempts:
                raise Busy(who, attempt) from None
            time.sleep(random.uniform(0, min(0.002 * 2**attempt, 0.1)))
    raise AssertionError("unreachable")  # pragma: no cover
