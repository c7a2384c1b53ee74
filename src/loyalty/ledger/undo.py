"""An account's derived state and its transaction: changes kept only if the whole write succeeds.

:class:`State` holds what an account derives from its journal (lots, balance,
orders, redemptions, bonus-action times, clocks, tier figures) and is the only
place that changes it. Every change goes through a primitive that records how to
undo it (:meth:`State._put`, :meth:`State._set_lot`, :meth:`State._log`) and which
stored part it touched, so that

* a rejected write rolls back exactly what it changed (:meth:`State._transaction`),
  at a cost proportional to the change, not to the account; and
* a store saves only the parts a write changed (see :mod:`loyalty.ledger.parts`).

An account loaded from a store keeps only the *hot* state in memory: the open lots,
the counters, bonus-action times and tier figures. Closed lots, orders and
redemptions stay in the store and are read through the account's
:class:`~loyalty.ledger.journal.History` when something names them
(:meth:`State._lot`, :meth:`State._order`, :meth:`State._redemption`); an item read
is kept until the changes are saved (:meth:`State._forget_cold`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime
from operator import attrgetter
from typing import Any, Final

from loyalty.dates import Duration
from loyalty.ledger.entries import Holding, entry_seq
from loyalty.ledger.figures import TierFigures, tier_figures
from loyalty.ledger.journal import History, Journal
from loyalty.ledger.keys import Keys
from loyalty.ledger.lots import Lot
from loyalty.ledger.queues import LotQueues
from loyalty.ledger.records import OrderRecord, RedemptionRecord
from loyalty.ledger.state import Balance
from loyalty.program.model import Program
from loyalty.program.policies import InactivityExpiry

__all__ = ["PARTS", "State", "Tally"]

PARTS = ("lots", "orders", "redemptions", "actions", "holdings")
"""The keyed parts of the state a store saves one item at a time."""


_FIELDS = tuple(field.name for field in fields(Balance))
"""The balance's counters, in the order :class:`Balance` takes them."""


class Tally:
    """The running counters of the balance (see :class:`~loyalty.ledger.state.Balance`)."""

    __slots__ = _FIELDS
    pending: int
    available: int
    debt: int
    earned: int
    redeemed: int
    expired: int
    reversed: int
    adjusted: int
    written_off: int
    returned: int

    def __init__(self, balance: Balance) -> None:
        self.load(_COUNTERS(balance))

    def load(self, values: tuple[int, ...]) -> None:
        for name, value in zip(_FIELDS, values, strict=True):
            setattr(self, name, value)

    def values(self) -> tuple[int, ...]:
        """The counters in :data:`_FIELDS` order."""
        found: tuple[int, ...] = _COUNTERS(self)
        return found

    def balance(self) -> Balance:
        return Balance(*_COUNTERS(self))


_COUNTERS: Final = attrgetter(*_FIELDS)
"""The counters of a balance or a tally, in :data:`_FIELDS` order."""


class _Undo:
    """What a transaction changed, to put back on rollback."""

    __slots__ = ("journal_length", "lots", "popped", "restores", "tally", "times")

    def __init__(
        self,
        journal_length: int,
        tally: tuple[int, ...],
        times: tuple[datetime | None, datetime | None, datetime | None, datetime | None],
    ) -> None:
        self.journal_length = journal_length
        self.tally = tally
        self.times = times
        self.lots: list[tuple[str, Lot | None]] = []
        self.restores: list[Callable[[], None]] = []
        self.popped: list[tuple[list[Any], Any]] = []


class State:
    """One member's derived state in one program, and the primitives that change it."""

    def __init__(
        self, program: Program, member_id: str, enrolled_at: datetime | None = None
    ) -> None:
        self.program = program
        self.member_id = member_id
        self._enrolled_at = enrolled_at
        self._orders: dict[str, OrderRecord] = {}
        self._completed = 0  # orders not refunded in full
        self._redemptions: dict[str, RedemptionRecord] = {}
        self._uses: dict[str, int] = {}  # redemptions in use, per reward
        self._history: History | None = None  # where the cold items are (None: all here)
        self._missing: set[tuple[str, str]] | None = None  # items the history lacks
        self._actions: dict[str, tuple[datetime, ...]] = {}
        self._holdings: dict[str, Holding] = {}  # what incentives gave, by key (all hot)
        self.tiers: TierFigures | None = tier_figures(program, self._held)
        if self.tiers is not None and enrolled_at is not None:
            self.tiers.enrol(enrolled_at, _no_undo)
        self._follow_tiers = self.tiers is not None and self.tiers.follows
        """Check the tier before every commit (see :meth:`_settle_tier`)."""
        self._journal = Journal()
        self._keys = Keys(self._journal)
        self._lots: dict[str, Lot] = {}
        self._open: set[int] = set()  # the open lots' numbers (kept with every change)
        self._closed: set[str] = set()  # closed lots in memory (dropped once saved)
        self._tally = Tally(Balance())
        self._clock: datetime | None = None
        self._last_activity_at: datetime | None = None
        self._inactivity_deadline: datetime | None = None
        self._queues = LotQueues(self._lots)
        self._undo: _Undo | None = None
        self._changed: dict[str, set[str]] = {}  # keys changed since saved, per part
        self._inactivity: Duration | None = (
            program.expiry.after if isinstance(program.expiry, InactivityExpiry) else None
        )

    def _held(self, pending: bool) -> int:
        """The points held: available less debt, and pending ones if ``pending``."""
        tally = self._tally
        return tally.available - tally.debt + (tally.pending if pending else 0)

    @property
    def _balance(self) -> Balance:
        return self._tally.balance()

    # ------------------------------------------------------------ the primitives

    def _log(self, restore: Callable[[], None]) -> None:
        """Record how to undo a change, when inside a transaction."""
        if self._undo is not None:
            self._undo.restores.append(restore)

    def _put(self, part: str, key: str, value: Any) -> None:
        """Set ``key`` of the state ``part`` (orders, redemptions, actions, holdings), recording
        how to undo it and that it changed. (An existing order or redemption was read
        first, through :meth:`_order` or :meth:`_redemption`, so it is in memory.)"""
        mapping: MutableMapping[str, Any] = getattr(self, f"_{part}")
        self._mark(part, key)
        if part == "orders":
            self._count_completed(mapping.get(key), value)
        elif part == "redemptions":
            self._count_uses(mapping.get(key), value)
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

    def _count_uses(self, before: RedemptionRecord | None, after: RedemptionRecord) -> None:
        """Keep the redemptions in use per reward (so a usage limit is O(1))."""
        if before is not None and before.in_use and before.reward is not None:
            self._add_use(before.reward, -1)
        if after.in_use and after.reward is not None:
            self._add_use(after.reward, 1)

    def _add_use(self, reward: str, change: int) -> None:
        uses = self._uses
        count = uses.get(reward, 0)
        self._log(lambda: uses.__setitem__(reward, count))
        uses[reward] = count + change

    def _mark(self, part: str, key: str) -> None:
        changed = self._changed.get(part)
        if changed is None:
            changed = self._changed[part] = set()
        changed.add(key)
        if self._missing:
            self._missing.discard((part, key))

    def _set_lot(self, lot: Lot) -> None:
        self._mark("lots", lot.id)
        if self._undo is not None:
            self._undo.lots.append((lot.id, self._lots.get(lot.id)))
        self._lots[lot.id] = lot
        self._track(lot.id, lot)

    def _track(self, lot_id: str, lot: Lot | None) -> None:
        """Keep :attr:`_open` and :attr:`_closed` in step with lot ``lot_id`` (``None``:
        gone), so that neither a save nor dropping the cold lots scans every lot."""
        if lot is not None and lot.remaining > 0:
            self._open.add(lot.seq)
            self._closed.discard(lot_id)
            return
        self._open.discard(entry_seq(lot_id))
        if lot is None:
            self._closed.discard(lot_id)
        else:
            self._closed.add(lot_id)

    # ------------------------------------------------------------ the cold items

    def _lot(self, lot_id: str) -> Lot | None:
        """The lot ``lot_id``: in memory (every open lot is), else read from the history."""
        lot = self._lots.get(lot_id)
        if lot is None and self._history is not None and self._absent("lots", lot_id):
            lot = self._history.lot(entry_seq(lot_id)) if _of(self, lot_id) else None
            self._found("lots", lot_id, lot)
        return lot

    def _order(self, order_id: str) -> OrderRecord | None:
        """The record of order ``order_id``: in memory, else read from the history."""
        record = self._orders.get(order_id)
        if record is None and self._history is not None and self._absent("orders", order_id):
            record = self._history.order(order_id)
            self._found("orders", order_id, record)
        return record

    def _redemption(self, redemption_id: str) -> RedemptionRecord | None:
        """The redemption made by entry ``redemption_id``: in memory, else read."""
        record = self._redemptions.get(redemption_id)
        if (
            record is None
            and self._history is not None
            and self._absent("redemptions", redemption_id)
        ):
            seq = entry_seq(redemption_id) if _of(self, redemption_id) else 0
            record = self._history.redemption(seq) if seq else None
            self._found("redemptions", redemption_id, record)
        return record

    def _absent(self, part: str, key: str) -> bool:
        """Not known to be missing from the history (so worth reading)."""
        return self._missing is None or (part, key) not in self._missing

    def _found(self, part: str, key: str, item: Any) -> None:
        """Keep what the history gave (unchanged: it is not saved again), or that it has none."""
        if item is not None:
            getattr(self, f"_{part}")[key] = item
            if part == "lots":
                self._track(key, item)
            return
        if self._missing is None:
            self._missing = set()
        self._missing.add((part, key))

    def _forget_cold(self) -> None:
        """Drop from memory what the history holds and the hot state does not need:
        closed lots, orders and redemptions (only when every change is saved)."""
        if self._history is None or any(self._changed.values()) or self._undo is not None:
            return
        lots = self._lots
        for lot_id in self._closed:
            del lots[lot_id]  # in place: the queues read this mapping
        self._closed.clear()
        self._orders.clear()
        self._redemptions.clear()
        self._missing = None

    # ------------------------------------------------------------ the transaction

    @contextmanager
    def _transaction(self, commit: bool = True) -> Iterator[None]:
        """Changes inside are kept only if the block succeeds and ``commit`` is true."""
        if self._undo is not None:
            raise RuntimeError("ledger transactions do not nest")
        undo = _Undo(
            len(self._journal),
            self._tally.values(),
            (self._clock, self._last_activity_at, self._inactivity_deadline, self._enrolled_at),
        )
        self._undo = undo
        self._queues.popped = undo.popped
        self._keys.begin()
        try:
            yield
            if commit and self._follow_tiers:
                self._settle_tier()
        except BaseException:
            self._rollback(undo)
            raise
        else:
            if not commit:
                self._rollback(undo)
        finally:
            self._undo = None
            self._queues.popped = None
            self._keys.end()

    def _settle_tier(self) -> None:
        """Bring the tier to what the figures call for, when it follows every change
        (the timeline writes the entry)."""

    def _rollback(self, undo: _Undo) -> None:
        self._tally.load(undo.tally)
        self._journal.truncate(undo.journal_length)
        for restore in reversed(undo.restores):
            restore()
        (self._clock, self._last_activity_at, self._inactivity_deadline, self._enrolled_at) = (
            undo.times
        )
        self._keys.rollback()
        restored: dict[str, Lot | None] = {}
        for lot_id, previous in reversed(undo.lots):
            restored[lot_id] = previous
        for lot_id, previous in restored.items():
            if previous is None:
                del self._lots[lot_id]
            else:
                self._lots[lot_id] = previous
            self._track(lot_id, previous)
        self._queues.restore(undo.popped)


def _of(state: State, entry_id: str) -> bool:
    """Is ``entry_id`` the id of one of ``state``'s entries (``member:seq``)?"""
    prefix, _, number = entry_id.rpartition(":")
    return prefix == state.member_id and number.isascii() and number.isdigit()


def _no_undo(restore: Callable[[], None]) -> None:
    """Outside a transaction nothing needs undoing."""
