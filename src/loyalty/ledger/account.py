"""A member's account: the append-only journal and the state derived from it.

:class:`Account` is the facade: the queries, time, and the entries the ledger
writes itself (expiries, tier changes). The state it derives lives in
:mod:`~loyalty.ledger.undo` (with the transaction), the way entries change it in
:mod:`~loyalty.ledger.projection`, the idempotency keys in
:mod:`~loyalty.ledger.keys` and what stores save of it in :mod:`~loyalty.ledger.parts`.
The same :meth:`Account._apply` serves live operations and :func:`replay`, so
replaying a journal rebuilds exactly the same state.

Time moves through :meth:`Account.advance`: pending lots whose return window
has passed become available (settling any debt first), and due lots expire
with an :class:`~loyalty.ledger.entries.Expire` entry. Every operation advances
to its ``at`` before it applies; queries can be asked as of any time.

Writes run in a transaction that rolls back on error, so a rejected operation
leaves the journal and the state exactly as they were.

An account is not thread-safe; the service layer serialises writes per member.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from loyalty.dates import Duration, require_aware
from loyalty.errors import InvalidInput, UnknownEntry
from loyalty.ledger.entries import Allocation, Earn, Entry, Order, entry_seq
from loyalty.ledger.figures import Metrics, TierStatus
from loyalty.ledger.journal import History, Journal
from loyalty.ledger.lots import Lot
from loyalty.ledger.parts import load_state, mark_saved, state_of
from loyalty.ledger.records import KeyRecord, OrderRecord, RedemptionRecord
from loyalty.ledger.state import Balance, ExpiringPoints, Snapshot
from loyalty.ledger.timeline import Timeline
from loyalty.program.model import Program

__all__ = [
    "Account",
    "Balance",
    "ExpiringPoints",
    "KeyRecord",
    "RedemptionRecord",
    "Snapshot",
    "replay",
    "restore",
]


class Account(Timeline):
    """One member's journal and derived state in one program.

    Open one with :func:`~loyalty.open_account`; change it only through the
    ledger operations (:func:`~loyalty.earn`, :func:`~loyalty.redeem`, ...).
    """

    def __repr__(self) -> str:
        balance = self._balance
        status = self.tiers.status.tier if self.tiers is not None else None
        parts = [f"{balance.available} available", f"{balance.pending} pending"]
        if balance.debt:
            parts.append(f"{balance.debt} owed")
        if status is not None:
            parts.append(status)
        return f"<Account {self.member_id}: {', '.join(parts)}>"

    # ------------------------------------------------------------------ queries

    @property
    def journal(self) -> tuple[Entry, ...]:
        """Every entry, in order."""
        return tuple(self._journal)

    @property
    def last_at(self) -> datetime | None:
        """The time of the last entry, or ``None`` for an empty journal."""
        last = self._journal.last()
        return last.at if last is not None else None

    @property
    def clock(self) -> datetime | None:
        """The time the account has been brought to: its last entry, or a later advance.

        Pending lots due by then are available. An operation dated before it (a late
        event) is written at the clock and keeps its own time as ``occurred_at``.
        """
        return self._clock

    @property
    def enrolled_at(self) -> datetime | None:
        """When the member joined: given to :func:`~loyalty.open_account`, else the first entry."""
        return self._enrolled_at

    def order(self, order_id: str) -> OrderRecord | None:
        """The recorded order ``order_id`` (when it completed, its amount and refunds), if any."""
        return self._order(order_id)

    def completed_orders(self, excluding: str | None = None, before: datetime | None = None) -> int:
        """Recorded orders not refunded in full, ``excluding`` one order id; with
        ``before``, only those that happened before it (for a late order).

        Counted from the running count: with ``before``, less the orders that happened
        at or after it, found among the entries written since (an order is written no
        earlier than it happened), so older orders are never read."""
        record = self._order(excluding) if excluding is not None else None
        count = self._completed - (record is not None and not record.fully_refunded)
        if before is None:
            return count
        if record is not None and not record.fully_refunded and record.at >= before:
            count += 1  # taken off above, and again below
        later = {
            entry.source
            for entry in self._journal.since(before)
            if isinstance(entry, Order) and entry.when >= before
        }
        for order_id in later:
            found = self._order(order_id or "")
            if found is not None and not found.fully_refunded:
                count -= 1
        return count

    def redemption(self, redemption_id: str) -> RedemptionRecord | None:
        """The redemption made by entry ``redemption_id``, if it is one."""
        return self._redemption(redemption_id)

    def redemptions(self, source: str | None = None) -> tuple[RedemptionRecord, ...]:
        """Every redemption, or those made on order (cart) ``source``, oldest first."""
        found: dict[str, RedemptionRecord] = {}
        if self._history is not None:
            stored = (
                self._history.state().redemptions
                if source is None
                else tuple(self._history.redemptions(source))
            )
            found.update((record.id, record) for record in stored)
        for record in self._redemptions.values():  # the same or newer than the stored ones
            if source is None or record.source == source:
                found[record.id] = record
        return tuple(sorted(found.values(), key=lambda record: entry_seq(record.id)))

    def reward_uses(self, reward_id: str) -> int:
        """How many times the member redeemed ``reward_id``, not counting ones given back."""
        return self._uses.get(reward_id, 0)

    def action_times(self, action: str) -> tuple[datetime, ...]:
        """When the member was awarded bonus action ``action`` (signup, birthday...)."""
        return self._actions.get(action, ())

    def order_points_between(self, start: datetime, end: datetime | None = None) -> int:
        """Points earned by orders (earns with line points) that happened at or after
        ``start`` and before ``end`` (their own time: a late order counts when it happened)."""
        return sum(
            entry.points
            for entry in self._journal.since(start)  # written at or after they happened
            if isinstance(entry, Earn)
            and (entry.lines or entry.shipping_points)
            and start <= entry.when
            and (end is None or entry.when < end)
        )

    def request_entries(self, key: str) -> tuple[Entry, ...]:
        """Every entry the request with idempotency ``key`` wrote (none for an unknown key)."""
        record = self._keys.get(key)
        if record is None:
            return ()
        found = []
        for entry in self._journal.from_seq(record.seq):
            if entry.key == key:
                found.append(entry)
            elif entry.key is not None:
                break
        return tuple(found)

    def tier(self, at: datetime | None = None) -> TierStatus | None:
        """The member's tier status now, or as of ``at``; ``None`` if the program has no tiers."""
        if at is None:
            return self.tiers.status if self.tiers else None
        with self._as_of(at) as view:
            return view.tier()

    def tier_metrics(self, at: datetime | None = None) -> Metrics:
        """The figures of the tier window that closes on ``at``'s day (the latest if None)."""
        if self.tiers is None:
            return Metrics()
        if at is None:
            return self.tiers.metrics()
        with self._as_of(at) as view:
            return view.tiers.metrics(require_aware(at, "at")) if view.tiers else Metrics()

    def balance(self, at: datetime | None = None) -> Balance:
        """The balance now (after the last entry), or as of ``at``."""
        if at is None:
            return self._balance
        with self._as_of(at) as view:
            return view._balance

    def lots(self, at: datetime | None = None) -> tuple[Lot, ...]:
        """The open lots (pending or available), in the order they would be spent."""
        if at is None:
            return tuple(
                sorted(
                    (lot for lot in self._lots.values() if lot.is_open),
                    key=lambda lot: (not lot.activated, lot.spend_order),
                )
            )
        with self._as_of(at) as view:
            return view.lots()

    def lot(self, lot_id: str) -> Lot:
        """The lot created by entry ``lot_id`` (open or closed)."""
        lot = self._lot(lot_id)
        if lot is None:
            raise UnknownEntry(self.member_id, lot_id)
        return lot

    def entry(self, entry_id: str) -> Entry:
        """The entry with id ``entry_id``."""
        prefix, _, number = entry_id.rpartition(":")
        found = number.isascii() and number.isdigit()
        if prefix == self.member_id and found and 0 < int(number) <= len(self._journal):
            return self._journal.entry(int(number))
        raise UnknownEntry(self.member_id, entry_id, "entry")

    def entries_from(self, seq: int) -> tuple[Entry, ...]:
        """Entries from position ``seq`` on (what an operation wrote, if ``seq`` was
        :attr:`next_seq` before it)."""
        return tuple(self._journal.from_seq(seq))

    def entries_since(self, at: datetime) -> tuple[Entry, ...]:
        """Entries dated ``at`` or later (reads only that part of a stored journal)."""
        return tuple(self._journal.since(at))

    def entries_for(self, source: str) -> tuple[Entry, ...]:
        """Entries whose ``source`` is ``source`` (e.g. everything about one order)."""
        return tuple(entry for entry in self._journal if entry.source == source)

    def expiring(self, at: datetime, within: Duration | timedelta) -> tuple[ExpiringPoints, ...]:
        """Points that will expire after ``at`` and no later than ``at + within``, soonest first.

        Counts the lots as of ``at`` (after activating and expiring what is due);
        under inactivity expiry, every open lot expires at the inactivity deadline.
        """
        if not isinstance(within, Duration | timedelta):
            raise InvalidInput("within", within, "must be a Duration or a timedelta")
        with self._as_of(at) as view:
            start = view._clock or at
            horizon = (
                within.after(start, self.program.tz)
                if isinstance(within, Duration)
                else start + within
            )
            deadline = view._inactivity_deadline
            found = [
                ExpiringPoints(lot.id, lot.remaining, when)
                for lot in view._lots.values()
                if lot.is_open
                and (when := lot.expires_at or deadline) is not None
                and when <= horizon
            ]
        return tuple(sorted(found, key=lambda item: (item.expires_at, item.lot_id)))

    def snapshot(self, *, keys: bool = True) -> Snapshot:
        """All derived state, for comparison with a replay (see :func:`~loyalty.verify`).

        ``keys=False`` leaves out the idempotency keys (a store keeps them with the
        journal, so saving state after a write does not grow with the number of keys).
        """
        return state_of(self, keys=keys)

    def changes(self) -> Snapshot:
        """The state to save after a write: the scalars, and of the lots, orders,
        redemptions, bonus-action times and tier days only those that changed since
        the account was loaded or last :meth:`saved` — so saving a write costs the
        same whatever the member's history. (Idempotency keys are left out.)"""
        return state_of(self, keys=False, changed=self._changed)

    def saved(self) -> None:
        """The changes so far are stored: :meth:`changes` starts afresh."""
        mark_saved(self)

    # ---------------------------------------------------------- time and views

    @contextmanager
    def as_of(self, at: datetime) -> Iterator[Account]:
        """This account as it stands at ``at``, to read from inside the ``with`` block:
        projected forward (and rolled back after), or replayed up to ``at``."""
        with self._as_of(at) as view:
            yield view

    @contextmanager
    def _as_of(self, at: datetime) -> Iterator[Account]:
        """This account as it stands at ``at``: projected forward, or replayed up to it."""
        instant = require_aware(at, "at")
        if self._clock is not None and instant < self._clock:
            yield replay(
                self.program,
                self.member_id,
                (entry for entry in self._journal if entry.at <= instant),
                at=instant,
                enrolled_at=self._enrolled_at,
            )
            return
        if self._undo is None and self._stands_at(instant):
            yield self  # nothing to project, so nothing to roll back
            return
        with self._transaction(commit=False):
            self.advance(instant)
            yield self

    def plan_spend(self, points: int, exclude: str | None = None) -> tuple[Allocation, ...]:
        """Allocate up to ``points`` over available lots in spend order, changing nothing."""
        return self._queues.plan_spend(points, exclude)

    # ------------------------------------------------------------- idempotency

    def replayed(
        self,
        key: str,
        fingerprint: str,
        operation: str,
        legacy: Callable[[], str] | None = None,
    ) -> Entry | None:
        """The entry an earlier request with ``key`` wrote, or ``None`` for a new key.

        ``legacy`` gives the request's fingerprint under the first scheme, for a key
        stored before fingerprints changed. Raises :class:`IdempotencyConflict` if
        the key was used for different content.
        """
        seq = self._keys.replayed(self.member_id, key, fingerprint, operation, legacy)
        return None if seq is None else self._journal.entry(seq)


def restore(program: Program, member_id: str, state: Snapshot, history: History) -> Account:
    """An account loaded from a store: its derived ``state`` (as :meth:`Account.snapshot`
    gave it after the last stored entry) over the stored ``history``.

    Nothing of the journal is read here; entries and idempotency keys are read from
    ``history`` only when a query or an operation asks for them. ``state.keys`` may be
    empty (the store keeps keys with the history). Only the hot state is kept in
    memory: closed lots, orders and redemptions are read from ``history`` when
    something names them, so ``state`` may hold only the open lots and no orders nor
    redemptions, if it has its :attr:`~Snapshot.hot` part (see
    :func:`~loyalty.ledger.parts.load_state`).
    """
    account = Account(program, member_id, state.enrolled_at)
    account._history = history
    account._journal = Journal(history)
    account._keys.rebase(account._journal)
    load_state(account, state)
    return account


def rebase(account: Account, history: History) -> None:
    """Read ``account``'s journal from ``history`` from now on: the store now holds
    every entry the account has (a service keeping accounts between requests calls
    this when it takes one up again, in a new transaction)."""
    if history.length != len(account._journal):
        raise ValueError(
            f"the stored journal has {history.length} entries, the account {len(account._journal)}"
        )
    account._journal = Journal(history)
    account._keys.rebase(account._journal)
    account._history = history
    account._forget_cold()


def replay(
    program: Program,
    member_id: str,
    entries: Iterable[Entry],
    at: datetime | None = None,
    enrolled_at: datetime | None = None,
) -> Account:
    """Rebuild an account from its journal, then bring it to ``at`` if given.

    Raises :class:`CorruptJournal` if an entry cannot apply. An account that was
    advanced past its last entry (its :attr:`Account.clock`) is rebuilt exactly
    by ``replay(program, member_id, account.journal, at=account.clock,
    enrolled_at=account.enrolled_at)``.
    """
    account = Account(program, member_id, enrolled_at)
    for entry in entries:
        account._apply(entry)
    account._queues.rebuild()
    if at is not None:
        account.advance(require_aware(at, "at"))
    return account
