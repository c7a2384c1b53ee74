"""An account's derived state and its transaction: changes kept only if the whole write succeeds.

:class:`State` holds what an account derives from its journal (lots, balance,
orders, redemptions, bonus-action times, clocks, tier figures) and is the only
place that changes it. Every change goes through a primitive that records how to
undo it (:meth:`State._put`, :meth:`State._set_lot`, :meth:`State._log`) and which
stored part it touched, so that

* a rejected write rolls back exactly what it changed (:meth:`State._transaction`),
  at a cost proportional to the change, not to the account; and
* a store saves only the parts a write changed (see :mod:`loyalty.ledger.parts`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import fields
from datetime import datetime
from typing import Any

from loyalty.dates import Duration
from loyalty.ledger.figures import TierFigures, tier_figures
from loyalty.ledger.journal import Journal
from loyalty.ledger.keys import Keys
from loyalty.ledger.lots import Lot
from loyalty.ledger.queues import LotQueues
from loyalty.ledger.records import OrderRecord, RedemptionRecord
from loyalty.ledger.state import Balance
from loyalty.program.model import Program
from loyalty.program.policies import InactivityExpiry

__all__ = ["PARTS", "State", "Tally"]

PARTS = ("lots", "orders", "redemptions", "actions")
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
        self.load(tuple(getattr(balance, name) for name in _FIELDS))

    def load(self, values: tuple[int, ...]) -> None:
        (
            self.pending,
            self.available,
            self.debt,
            self.earned,
            self.redeemed,
            self.expired,
            self.reversed,
            self.adjusted,
            self.written_off,
            self.returned,
        ) = values

    def values(self) -> tuple[int, ...]:
        """The counters in :data:`_FIELDS` order (checked when this module loads)."""
        return (
            self.pending,
            self.available,
            self.debt,
            self.earned,
            self.redeemed,
            self.expired,
            self.reversed,
            self.adjusted,
            self.written_off,
            self.returned,
        )

    def balance(self) -> Balance:
        return Balance(*self.values())


_probe = Tally(Balance(*range(len(_FIELDS))))
if any(getattr(_probe, name) != index for index, name in enumerate(_FIELDS)) or (
    _probe.values() != tuple(range(len(_FIELDS)))
):  # pragma: no cover - a Balance field added or moved without Tally
    raise RuntimeError("Tally must list Balance's fields in Balance's order")
del _probe


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
        self._actions: dict[str, tuple[datetime, ...]] = {}
        self.tiers: TierFigures | None = tier_figures(program)
        if self.tiers is not None and enrolled_at is not None:
            self.tiers.enrol(enrolled_at, _no_undo)
        self._journal = Journal()
        self._keys = Keys(self._journal)
        self._lots: dict[str, Lot] = {}
        self._tally = Tally(Balance())
        self._clock: datetime | None = None
        self._last_activity_at: datetime | None = None
        self._inactivity_deadline: datetime | None = None
        self._queues = LotQueues(self._lots)
        self._undo: _Undo | None = None
        self._changed: dict[str, set[str]] = {part: set() for part in PARTS}
        self._inactivity: Duration | None = (
            program.expiry.after if isinstance(program.expiry, InactivityExpiry) else None
        )

    @property
    def _balance(self) -> Balance:
        return self._tally.balance()

    # ------------------------------------------------------------ the primitives

    def _log(self, restore: Callable[[], None]) -> None:
        """Record how to undo a change, when inside a transaction."""
        if self._undo is not None:
            self._undo.restores.append(restore)

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
        self._queues.restore(undo.popped)


def _no_undo(restore: Callable[[], None]) -> None:
    """Outside a transaction nothing needs undoing."""
