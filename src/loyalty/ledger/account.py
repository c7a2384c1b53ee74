"""A member's account: the append-only journal and the state derived from it.

The state (balance, lots, idempotency keys, orders, tier status) is kept
incrementally: applying an entry costs O(log lots), independent of how long the
journal is. :class:`~loyalty.ledger.queues.LotQueues` orders the open lots by
release time, expiry time and spend order; the tier tracker keeps the tier
figures. The same :meth:`Account._apply` serves live operations and
:func:`replay`, so replaying a journal rebuilds exactly the same state.

Time moves through :meth:`Account.advance`: pending lots whose return window
has passed become available (settling any debt first), and due lots expire
with an :class:`~loyalty.ledger.entries.Expire` entry. Every operation advances
to its ``at`` before it applies; queries can be asked as of any time.

Writes run in a transaction that rolls back on error, so a rejected operation
leaves the journal and the state exactly as they were.

An account is not thread-safe; the service layer serialises writes per member.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from loyalty.dates import Duration, require_aware
from loyalty.errors import (
    CorruptJournal,
    IdempotencyConflict,
    InvalidInput,
    NoTiers,
    UnknownEntry,
)
from loyalty.ledger.entries import (
    Adjust,
    Allocation,
    Earn,
    Entry,
    EntryKind,
    Expire,
    Order,
    Redeem,
    Refund,
    Return,
    Reverse,
    TierChange,
    Void,
    entry_seq,
)
from loyalty.ledger.journal import History, Journal
from loyalty.ledger.lots import Lot
from loyalty.ledger.queues import LotQueues
from loyalty.ledger.state import (
    Balance,
    ExpiringPoints,
    KeyRecord,
    RedemptionRecord,
    Snapshot,
)
from loyalty.money import Money
from loyalty.program.model import Program
from loyalty.program.policies import InactivityExpiry
from loyalty.tiers.tracker import Decision, OrderRecord, TierStatus, TierTracker
from loyalty.tiers.window import Metrics

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


@dataclass(slots=True)
class _Undo:
    balance: Balance
    journal_length: int
    times: tuple[datetime | None, datetime | None, datetime | None, datetime | None]
    lots: list[tuple[str, Lot | None]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    restores: list[Callable[[], None]] = field(default_factory=list)
    popped: list[tuple[list[Any], Any]] = field(default_factory=list)


class Account:
    """One member's journal and derived state in one program.

    Open one with :func:`~loyalty.open_account`; change it only through the
    ledger operations (:func:`~loyalty.earn`, :func:`~loyalty.redeem`, ...).
    """

    def __init__(
        self, program: Program, member_id: str, enrolled_at: datetime | None = None
    ) -> None:
        self.program = program
        self.member_id = member_id
        self._enrolled_at = enrolled_at
        self._orders: dict[str, OrderRecord] = {}
        self._completed = 0  # orders not refunded in full
        self._redemptions: dict[str, RedemptionRecord] = {}
        self._actions: dict[str, tuple[datetime, ...]] = {}
        self.tiers = TierTracker(program, program.tiers) if program.tiers else None
        if self.tiers is not None and enrolled_at is not None:
            self.tiers.enrol(enrolled_at, _no_undo)
        self._journal = Journal()
        self._lots: dict[str, Lot] = {}
        self._balance = Balance()
        self._keys: dict[str, KeyRecord] = {}
        self._clock: datetime | None = None
        self._last_activity_at: datetime | None = None
        self._inactivity_deadline: datetime | None = None
        self._queues = LotQueues(self._lots)
        self._undo: _Undo | None = None
        self._changed: dict[str, set[str]] = {part: set() for part in _PARTS}
        self._inactivity: Duration | None = (
            program.expiry.after if isinstance(program.expiry, InactivityExpiry) else None
        )

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
    def next_seq(self) -> int:
        return len(self._journal) + 1

    @property
    def enrolled_at(self) -> datetime | None:
        """When the member joined: given to :func:`~loyalty.open_account`, else the first entry."""
        return self._enrolled_at

    def order(self, order_id: str) -> OrderRecord | None:
        """The recorded order ``order_id`` (when it completed, its amount and refunds), if any."""
        return self._orders.get(order_id)

    def completed_orders(
        self, excluding: str | None = None, before: datetime | None = None
    ) -> int:
        """Recorded orders not refunded in full, ``excluding`` one order id; with
        ``before``, only those that happened before it (for a late order)."""
        if before is not None:
            return sum(
                1
                for order_id, record in self._orders.items()
                if order_id != excluding and record.at < before and not record.fully_refunded
            )
        record = self._orders.get(excluding) if excluding is not None else None
        return self._completed - (record is not None and not record.fully_refunded)

    def redemption(self, redemption_id: str) -> RedemptionRecord | None:
        """The redemption made by entry ``redemption_id``, if it is one."""
        return self._redemptions.get(redemption_id)

    def redemptions(self, source: str | None = None) -> tuple[RedemptionRecord, ...]:
        """Every redemption, or those made on order (cart) ``source``, oldest first."""
        return tuple(
            record
            for record in self._redemptions.values()
            if source is None or record.source == source
        )

    def reward_uses(self, reward_id: str) -> int:
        """How many times the member redeemed ``reward_id``, not counting ones given back."""
        records = self._redemptions.values()
        return sum(1 for record in records if record.reward == reward_id and record.in_use)

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
        record = self._key(key)
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
        try:
            return self._lots[lot_id]
        except KeyError:
            raise UnknownEntry(self.member_id, lot_id) from None

    def entry(self, entry_id: str) -> Entry:
        """The entry with id ``entry_id``."""
        prefix, _, number = entry_id.rpartition(":")
        found = number.isascii() and number.isdigit()
        if prefix == self.member_id and found and 0 < int(number) <= len(self._journal):
            return self._journal.entry(int(number))
        raise UnknownEntry(self.member_id, entry_id)

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
        return self._state(keys=keys)

    def changes(self) -> Snapshot:
        """The state to save after a write: the scalars, and of the lots, orders,
        redemptions, bonus-action times and tier days only those that changed since
        the account was loaded or last :meth:`saved` — so saving a write costs the
        same whatever the member's history. (Idempotency keys are left out.)"""
        return self._state(keys=False, changed=self._changed)

    def saved(self) -> None:
        """The changes so far are stored: :meth:`changes` starts afresh."""
        for keys in self._changed.values():
            keys.clear()
        if self.tiers is not None and self.tiers.aggregate is not None:
            self.tiers.aggregate.touched.clear()

    def _state(self, *, keys: bool, changed: Mapping[str, set[str]] | None = None) -> Snapshot:
        def part(name: str, mapping: Mapping[str, Any]) -> list[tuple[str, Any]]:
            if changed is None:
                return list(mapping.items())
            return [(key, mapping[key]) for key in changed[name] if key in mapping]

        aggregate = self.tiers.aggregate if self.tiers else None
        days = () if aggregate is None else aggregate.days(
            None if changed is None else aggregate.touched
        )
        return Snapshot(
            balance=self._balance,
            lots=tuple(sorted((lot for _, lot in part("lots", self._lots)), key=_by_seq)),
            keys=self._all_keys() if keys else (),
            clock=self._clock,
            last_activity_at=self._last_activity_at,
            inactivity_deadline=self._inactivity_deadline,
            enrolled_at=self._enrolled_at,
            orders=tuple(sorted(part("orders", self._orders))),
            tier=self.tiers.status if self.tiers else None,
            tier_days=days,
            redemptions=tuple(
                sorted(
                    (record for _, record in part("redemptions", self._redemptions)),
                    key=_by_seq,
                )
            ),
            actions=tuple(sorted(part("actions", self._actions))),
            tier_cursor=aggregate.cursor if aggregate is not None else None,
        )

    def _all_keys(self) -> tuple[tuple[str, KeyRecord], ...]:
        return tuple(sorted((dict(self._journal.stored_keys()) | self._keys).items()))

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
        with self._transaction(commit=False):
            self.advance(instant)
            yield self

    def advance(self, at: datetime) -> tuple[Expire, ...]:
        """Activate pending lots and expire lots due by ``at`` (UTC); return the expiries.

        Call through :func:`loyalty.advance`, which validates ``at`` and runs in a
        transaction.
        """
        written: list[Expire] = []
        while True:
            release = self._queues.next_release()
            expiry = self._queues.next_expiry()
            deadline = (
                self._inactivity_deadline
                if self._balance.pending + self._balance.available
                else None
            )
            due = min(filter(None, (release, expiry, deadline)), default=None)
            if due is None or due > at:
                if self._clock is None or at > self._clock:
                    self._clock = at
                return tuple(written)
            if release == due:  # releases first: a lot due to expire as it is released expires
                self._activate(self._queues.pop_release())
                if self.tiers is not None and not self.tiers.counts_pending:
                    self.upgrade_tier(due)
                continue
            # Points given back after their expiry had passed (a void) expire at once.
            when = due if self._clock is None else max(due, self._clock)
            if deadline == due:
                written.append(self._expire(when, self._open_lots(), _inactive_reason(self)))
            else:
                lot = self._queues.pop_expiry()
                written.append(self._expire(when, [lot], _lot_reason(self, lot)))

    def header(self, at: datetime, points: int, reason: str) -> dict[str, Any]:
        """The fields every new entry starts with: its id, place, member, time, points, reason."""
        seq = self.next_seq
        return {
            "id": f"{self.member_id}:{seq}",
            "seq": seq,
            "member_id": self.member_id,
            "at": at,
            "points": points,
            "reason": reason,
        }

    def _expire(self, at: datetime, lots: Sequence[Lot], reason: str) -> Expire:
        allocation = tuple(Allocation(lot.id, lot.remaining) for lot in lots)
        points = -sum(part.points for part in allocation)
        entry = Expire(**self.header(at, points, reason), allocation=allocation)
        self._apply(entry)
        return entry

    def upgrade_tier(self, at: datetime, **extra: Any) -> TierChange | None:
        """Write the upgrade (or cancelled downgrade) the tier figures call for at ``at``
        (``extra``: the request's ``key`` and ``fingerprint``, when a request caused it)."""
        if self.tiers is None or (decision := self.tiers.upgrade(at)) is None:
            return None
        return self.tier_entry(at, decision, **extra)

    def tier_entry(self, at: datetime, decision: Decision, **extra: Any) -> TierChange:
        """Write a tier entry for ``decision`` at ``at``."""
        if self.tiers is None:
            raise NoTiers(self.program.id)
        entry = TierChange(
            **self.header(at, 0, decision.reason),
            cause=decision.cause,
            tier_from=self.tiers.status.tier,
            tier_to=decision.tier_to,
            reviewed=decision.reviewed,
            downgrade_at=decision.downgrade_at,
            **extra,
        )
        self._apply(entry)
        return entry

    def _open_lots(self) -> list[Lot]:
        return [lot for lot in self._lots.values() if lot.is_open]

    def _activate_due(self, at: datetime) -> None:
        while (release := self._queues.next_release()) is not None and release <= at:
            self._activate(self._queues.pop_release())

    def plan_spend(self, points: int, exclude: str | None = None) -> tuple[Allocation, ...]:
        """Allocate up to ``points`` over available lots in spend order, changing nothing."""
        return self._queues.plan_spend(points, exclude)

    # --------------------------------------------------------- applying entries

    def _apply(self, entry: Entry) -> None:
        """Apply one entry to the state and append it. Shared by operations and replay."""
        self._check_sequence(entry)
        self._activate_due(entry.at)
        if self._enrolled_at is None:
            enrolled = self._enrolled_at
            self._log(lambda: setattr(self, "_enrolled_at", enrolled))
            self._enrolled_at = entry.at
        if self.tiers is not None:
            self.tiers.enrol(self._enrolled_at, self._log)
        if isinstance(entry, Earn):
            if self.tiers is not None and self.tiers.counts_pending:
                self.tiers.points(entry.when, entry.points, self._log)
            self._credit(entry, entry.available_at, entry.expires_at, entry.basis)
            self._balance = replace(self._balance, earned=self._balance.earned + entry.points)
            self._active(entry.at)
            self._earn_facts(entry)
        elif isinstance(entry, Redeem):
            self._consume(entry, entry.allocation)
            self._balance = replace(self._balance, redeemed=self._balance.redeemed - entry.points)
            self._active(entry.at)
            self._put(
                "redemptions",
                entry.id,
                RedemptionRecord(
                    entry.id,
                    entry.at,
                    -entry.points,
                    entry.reward,
                    entry.source,
                    entry.discounts,
                    entry.shipping_discount,
                ),
            )
        elif isinstance(entry, Return):
            record = self._redemptions.get(entry.redeem_id)
            if record is None or record.returned + entry.points > record.points:
                raise CorruptJournal(
                    self.member_id, entry.seq, f"returns more than redemption {entry.redeem_id}"
                )
            self._put(
                "redemptions",
                entry.redeem_id,
                replace(record, returned=record.returned + entry.points),
            )
            self._credit(entry, entry.available_at, entry.expires_at, None)
            self._balance = replace(self._balance, returned=self._balance.returned + entry.points)
            self._active(entry.at)
        elif isinstance(entry, Void):
            self._void(entry)
        elif isinstance(entry, Expire):
            self._consume(entry, entry.allocation, expired=True)
            self._balance = replace(self._balance, expired=self._balance.expired - entry.points)
        elif isinstance(entry, Reverse):
            self._reverse(entry)
        elif isinstance(entry, Adjust):
            if entry.points > 0:
                self._credit(entry, entry.available_at or entry.at, entry.expires_at, None)
                self._active(entry.at)
            else:
                self._consume(entry, entry.allocation)
            self._balance = replace(self._balance, adjusted=self._balance.adjusted + entry.points)
        elif isinstance(entry, Order | Refund):
            self._order_fact(entry)
        elif isinstance(entry, TierChange):
            if self.tiers is None:
                raise CorruptJournal(self.member_id, entry.seq, "a tier entry, but no tiers")
            self.tiers.apply(entry, self._log)
        else:
            raise CorruptJournal(self.member_id, entry.seq, f"unknown entry type {type(entry)}")
        self._journal.append(entry)
        self._clock = entry.at
        if entry.key is not None and entry.fingerprint is not None:
            self._remember(entry.key, KeyRecord(entry.fingerprint, entry.seq))

    def _check_sequence(self, entry: Entry) -> None:
        if entry.seq != self.next_seq or entry.member_id != self.member_id:
            raise CorruptJournal(
                self.member_id,
                entry.seq,
                f"expected entry {self.next_seq} of member {self.member_id!r}",
            )
        if self._clock is not None and entry.at < self._clock:
            raise CorruptJournal(self.member_id, entry.seq, "dated before the previous entry")

    def _earn_facts(self, entry: Earn) -> None:
        """An earn for an order's lines belongs to the order; an action's earn is counted."""
        if entry.action is not None:
            times = self._actions.get(entry.action, ())
            self._put("actions", entry.action, (*times, entry.when))
        if entry.lines or entry.shipping_points:
            record = self._orders.get(entry.source or "")
            if record is None or record.earn_id is not None:
                raise CorruptJournal(
                    self.member_id, entry.seq, f"line points for order {entry.source!r}"
                )
            self._put("orders", entry.source or "", replace(record, earn_id=entry.id))

    def _order_fact(self, entry: Order | Refund) -> None:
        """Record an order or a refund, and what it does to the tier figures."""
        if isinstance(entry, Order):
            order_id = entry.source or ""
            if not order_id or order_id in self._orders:
                raise CorruptJournal(self.member_id, entry.seq, f"order {order_id!r} again")
            zero = Money.zero(entry.amount.currency)
            record = OrderRecord(entry.when, entry.amount, zero, lines=entry.lines)
            delta = Metrics(spend=entry.amount.amount, orders=1)
        else:
            order_id = entry.order_id
            previous = self._orders.get(order_id)
            if previous is None or entry.amount > previous.amount - previous.refunded:
                raise CorruptJournal(self.member_id, entry.seq, f"refunds order {order_id!r}")
            units = dict(previous.refunded_units)
            for part in entry.lines:
                units[part.line] = units.get(part.line, 0) + part.quantity
            record = replace(
                previous,
                refunded=previous.refunded + entry.amount,
                refunded_units=tuple(sorted(units.items())),
                shipping_refunded=previous.shipping_refunded or entry.shipping,
            )
            cancelled = record.refunded == record.amount and bool(record.amount)
            delta = Metrics(spend=-entry.amount.amount, orders=-1 if cancelled else 0)
        self._put("orders", order_id, record)
        if self.tiers is not None:
            self.tiers.move_to(entry.at, self._log)
            self.tiers.add(record.at, delta, self._log)

    def _reverse(self, entry: Reverse) -> None:
        earn = self._lots.get(entry.earn_id)
        if earn is None or earn.origin is not EntryKind.EARN:
            raise CorruptJournal(
                self.member_id, entry.seq, f"reverses unknown earn {entry.earn_id}"
            )
        if self.tiers is not None and (counted := self.tiers.counted_at(earn)) is not None:
            self.tiers.move_to(entry.at, self._log)
            self.tiers.points(counted, -entry.requested, self._log)
        self._consume(entry, entry.allocation)
        earn = self._lots[entry.earn_id]
        refunded = earn.refunded
        if entry.refund is not None:
            refunded = entry.refund if refunded is None else refunded + entry.refund
        self._set_lot(
            replace(
                earn,
                reversed=earn.reversed + entry.requested,
                forgiven=earn.forgiven + entry.forgiven,
                refunded=refunded,
            )
        )
        balance = self._balance
        self._balance = replace(
            balance,
            debt=balance.debt + entry.debt,
            reversed=balance.reversed - entry.points,
            written_off=balance.written_off + entry.written_off,
        )

    def _void(self, entry: Void) -> None:
        """Give a redemption's points back to the lots they came from (settling any debt
        first, as a release does)."""
        record = self._redemptions.get(entry.redeem_id)
        spent = {part.lot_id: part.points for part in self._spent(entry.redeem_id)}
        if (
            record is None
            or record.returned
            or entry.points != record.points
            or {part.lot_id: part.points for part in entry.allocation} != spent
        ):
            raise CorruptJournal(
                self.member_id, entry.seq, f"voids redemption {entry.redeem_id} wrongly"
            )
        self._put(
            "redemptions",
            entry.redeem_id,
            replace(record, returned=record.points, voided_by=entry.id),
        )
        restored = 0
        for part in entry.allocation:
            lot = self._lots[part.lot_id]
            settled = min(self._balance.debt - restored, part.points)
            restored += settled
            lot = replace(lot, remaining=lot.remaining + part.points - settled)
            self._set_lot(lot)
            self._queues.push(lot, release=False)
        balance = self._balance
        self._balance = replace(
            balance,
            available=balance.available + entry.points - restored,
            debt=balance.debt - restored,
            returned=balance.returned + entry.points,
        )

    def _spent(self, redeem_id: str) -> tuple[Allocation, ...]:
        """The lots a redemption took its points from (from its journal entry)."""
        seq = entry_seq(redeem_id)
        entry = self._journal.entry(seq) if 0 < seq <= len(self._journal) else None
        return entry.allocation if isinstance(entry, Redeem) else ()

    def _credit(
        self, entry: Entry, available_at: datetime, expires_at: datetime | None, basis: Money | None
    ) -> None:
        lot = Lot(
            id=entry.id,
            seq=entry.seq,
            origin=entry.kind,
            points=entry.points,
            remaining=entry.points,
            earned_at=entry.when,
            available_at=available_at,
            expires_at=expires_at,
            activated=False,
            source=entry.source,
            basis=basis,
        )
        self._set_lot(lot)
        if not lot.is_open:
            return
        self._balance = replace(self._balance, pending=self._balance.pending + lot.points)
        if available_at <= entry.at:
            self._activate(lot)
            self._queues.push(self._lots[lot.id], release=False, spend=False)
        else:
            self._queues.push(lot)

    def _activate(self, lot: Lot) -> None:
        """Make a pending lot available, settling any debt from it first."""
        settled = min(self._balance.debt, lot.remaining)
        balance = self._balance
        self._balance = replace(
            balance,
            pending=balance.pending - lot.remaining,
            available=balance.available + lot.remaining - settled,
            debt=balance.debt - settled,
        )
        if (
            self.tiers is not None
            and not self.tiers.counts_pending
            and lot.origin is EntryKind.EARN
        ):
            self.tiers.points(lot.available_at, lot.points - lot.reversed, self._log)
        lot = replace(lot, activated=True, remaining=lot.remaining - settled)
        self._set_lot(lot)
        self._queues.push(lot, release=False, expiry=False)

    def _consume(
        self, entry: Entry, allocation: Iterable[Allocation], expired: bool = False
    ) -> None:
        pending = available = 0
        for part in allocation:
            lot = self._lots.get(part.lot_id)
            if lot is None or part.points <= 0 or part.points > lot.remaining:
                raise CorruptJournal(
                    self.member_id,
                    entry.seq,
                    f"takes {part.points} points from lot {part.lot_id}, "
                    f"which has {lot.remaining if lot else 'no'} points left",
                )
            if lot.activated:
                available += part.points
            else:
                pending += part.points
            self._set_lot(
                replace(
                    lot,
                    remaining=lot.remaining - part.points,
                    expired=lot.expired + (part.points if expired else 0),
                )
            )
        balance = self._balance
        self._balance = replace(
            balance, pending=balance.pending - pending, available=balance.available - available
        )

    def _active(self, at: datetime) -> None:
        self._last_activity_at = at
        if self._inactivity is not None:
            self._inactivity_deadline = self._inactivity.after(at, self.program.tz)

    # ------------------------------------------------------ idempotency and undo

    def replayed(self, key: str, fingerprint: str, operation: str) -> Entry | None:
        """The entry an earlier request with ``key`` wrote, or ``None`` for a new key.

        Raises :class:`IdempotencyConflict` if the key was used for different content.
        """
        record = self._key(key)
        if record is None:
            return None
        if record.fingerprint != fingerprint:
            raise IdempotencyConflict(self.member_id, key, operation)
        return self._journal.entry(record.seq)

    def _key(self, key: str) -> KeyRecord | None:
        record = self._keys.get(key)
        return record if record is not None else self._journal.stored_key(key)

    def _log(self, restore: Callable[[], None]) -> None:
        """Record how to undo a change, when inside a transaction."""
        if self._undo is not None:
            self._undo.restores.append(restore)

    def _remember(self, key: str, record: KeyRecord) -> None:
        """Remember the first entry a request wrote (a request may write several)."""
        if key in self._keys:
            return
        if self._undo is not None:
            self._undo.keys.append(key)
        self._keys[key] = record

    def _put(self, part: str, key: str, value: Any) -> None:
        """Set ``key`` of the state ``part`` (orders, redemptions, actions), recording
        how to undo it and that it changed."""
        mapping: MutableMapping[str, Any] = getattr(self, f"_{part}")
        self._changed[part].add(key)
        if part == "orders":
            self._count_completed(mapping.get(key), value)
        if key in mapping:
            previous = mapping[key]
            self._log(lambda: mapping.__setitem__(key, previous))
        else:
            self._log(lambda: mapping.__delitem__(key))
        mapping[key] = value

    def _count_completed(self, before: OrderRecord | None, after: OrderRecord) -> None:
        """Keep the number of orders not refunded in full (so counting them is O(1))."""
        change = (not after.fully_refunded) - (before is not None and not before.fully_refunded)
        if change:
            count = self._completed
            self._log(lambda: setattr(self, "_completed", count))
            self._completed = count + change

    def _set_lot(self, lot: Lot) -> None:
        self._changed["lots"].add(lot.id)
        if self._undo is not None:
            self._undo.lots.append((lot.id, self._lots.get(lot.id)))
        self._lots[lot.id] = lot

    @contextmanager
    def _transaction(self, commit: bool = True) -> Iterator[None]:
        """Changes inside are kept only if the block succeeds and ``commit`` is true."""
        if self._undo is not None:
            raise RuntimeError("ledger transactions do not nest")
        undo = _Undo(
            self._balance,
            len(self._journal),
            (self._clock, self._last_activity_at, self._inactivity_deadline, self._enrolled_at),
        )
        self._undo = undo
        self._queues.popped = undo.popped
        try:
            yield
        except BaseException:
            self._rollback(undo)
            raise
        else:
            if not commit:
                self._rollback(undo)
        finally:
            self._undo = None
            self._queues.popped = None

    def _rollback(self, undo: _Undo) -> None:
        self._balance = undo.balance
        self._journal.truncate(undo.journal_length)
        for restore in reversed(undo.restores):
            restore()
        (self._clock, self._last_activity_at, self._inactivity_deadline, self._enrolled_at) = (
            undo.times
        )
        for key in undo.keys:
            del self._keys[key]
        restored: dict[str, Lot | None] = {}
        for lot_id, previous in reversed(undo.lots):
            restored[lot_id] = previous
        for lot_id, previous in restored.items():
            if previous is None:
                del self._lots[lot_id]
            else:
                self._lots[lot_id] = previous
        self._queues.restore(undo.popped)


_PARTS = ("lots", "orders", "redemptions", "actions")


def _by_seq(item: Lot | RedemptionRecord) -> int:
    return entry_seq(item.id)


def _no_undo(restore: Callable[[], None]) -> None:
    """Outside a transaction nothing needs undoing."""


def _local_date(account: Account, instant: datetime) -> str:
    return instant.astimezone(account.program.tz).date().isoformat()


def _lot_reason(account: Account, lot: Lot) -> str:
    origin = f" ({lot.source})" if lot.source else ""
    return f"expired: lot from {_local_date(account, lot.earned_at)}{origin}"


def _inactive_reason(account: Account) -> str:
    since = account._last_activity_at
    return f"expired: no activity since {_local_date(account, since)}" if since else "expired"


def restore(program: Program, member_id: str, state: Snapshot, history: History) -> Account:
    """An account loaded from a store: its derived ``state`` (as :meth:`Account.snapshot`
    gave it after the last stored entry) over the stored ``history``.

    Nothing of the journal is read here; entries and idempotency keys are read from
    ``history`` only when a query or an operation asks for them. ``state.keys`` may be
    empty (the store keeps keys with the history).
    """
    account = Account(program, member_id, state.enrolled_at)
    account._journal = Journal(history)
    account._balance = state.balance
    account._lots.update((lot.id, lot) for lot in state.lots)
    account._keys.update(state.keys)
    account._clock = state.clock
    account._last_activity_at = state.last_activity_at
    account._inactivity_deadline = state.inactivity_deadline
    account._orders.update(state.orders)
    account._completed = sum(1 for _, order in state.orders if not order.fully_refunded)
    account._redemptions.update((record.id, record) for record in state.redemptions)
    account._actions.update(state.actions)
    if account.tiers is not None and state.tier is not None:
        account.tiers.restore(state.tier, state.tier_days, state.tier_cursor)
    account._queues.rebuild()
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
    account._keys.clear()


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
