"""Open lots in three orders: by release time, by expiry time and in spend order.

Each order is a heap of items ``(key..., lot id)``. Items are never updated in
place: a lot that changes (released, spent, expired, rolled back) leaves stale
items behind, which are dropped when they reach the top — an item is current
only while it equals what its lot would push now. A duplicate of a current item
is harmless. So every change costs O(log lots), whatever the history.

Inside a transaction the account hands the queues a list in ``popped``: every
item taken off a heap is recorded there, so a rollback can put back exactly what
the transaction took, and :meth:`LotQueues.compact` drops what it left behind.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from loyalty.ledger.entries import Allocation
from loyalty.ledger.lots import Lot

__all__ = ["LotQueues"]

_Item = TypeVar("_Item", bound=tuple[Any, ...])
_Release = tuple[datetime, int, str]
_Expiry = tuple[datetime, int, str]
_Spend = tuple[datetime, datetime, int, str]


def _release_item(lot: Lot) -> _Release | None:
    return (lot.available_at, lot.seq, lot.id) if lot.is_open and not lot.activated else None


def _expiry_item(lot: Lot) -> _Expiry | None:
    if lot.is_open and lot.expires_at is not None:
        return (lot.expires_at, lot.seq, lot.id)
    return None


def _spend_item(lot: Lot) -> _Spend | None:
    return (*lot.spend_order, lot.id) if lot.is_open and lot.activated else None


class LotQueues:
    """The three orders over the lots of one account (read through ``lots``)."""

    def __init__(self, lots: Mapping[str, Lot]) -> None:
        self._lots = lots
        self._release: list[_Release] = []
        self._expiry: list[_Expiry] = []
        self._spend: list[_Spend] = []
        self.popped: list[tuple[list[Any], Any]] | None = None

    def push(
        self, lot: Lot, *, release: bool = True, expiry: bool = True, spend: bool = True
    ) -> None:
        """Queue ``lot`` wherever it belongs now, in the orders asked for."""
        if release and (item := _release_item(lot)):
            heapq.heappush(self._release, item)
        if expiry and (due := _expiry_item(lot)):
            heapq.heappush(self._expiry, due)
        if spend and (order := _spend_item(lot)):
            heapq.heappush(self._spend, order)

    def next_release(self) -> datetime | None:
        """When the next pending lot is released, if any."""
        item = self._peek(self._release, _release_item)
        return item[0] if item else None

    def pop_release(self) -> Lot:
        return self._lots[self._pop(self._release)[2]]

    def next_expiry(self) -> datetime | None:
        """When the next lot expires, if any."""
        item = self._peek(self._expiry, _expiry_item)
        return item[0] if item else None

    def pop_expiry(self) -> Lot:
        return self._lots[self._pop(self._expiry)[2]]

    def plan_spend(self, points: int, exclude: str | None = None) -> tuple[Allocation, ...]:
        """Allocate up to ``points`` over available lots in spend order, changing nothing."""
        taken: list[_Spend] = []
        allocation: list[Allocation] = []
        seen = {exclude}
        left = points
        while left > 0 and (item := self._peek(self._spend, _spend_item)):
            taken.append(heapq.heappop(self._spend))
            if item[3] in seen:
                continue
            seen.add(item[3])
            part = min(left, self._lots[item[3]].remaining)
            allocation.append(Allocation(item[3], part))
            left -= part
        for item in taken:
            heapq.heappush(self._spend, item)
        return tuple(allocation)

    def restore(self, popped: list[tuple[list[Any], Any]]) -> None:
        """Put back what a rolled-back transaction took, and drop what it left behind."""
        for heap, item in popped:
            heapq.heappush(heap, item)
        limit = 2 * len(self._lots) + 32
        if max(len(self._release), len(self._expiry), len(self._spend)) > limit:
            self.rebuild()

    def rebuild(self) -> None:
        """Rebuild from the open lots alone, dropping every stale item."""
        open_lots = [lot for lot in self._lots.values() if lot.is_open]
        self._release = [a for lot in open_lots if (a := _release_item(lot))]
        self._expiry = [e for lot in open_lots if (e := _expiry_item(lot))]
        self._spend = [s for lot in open_lots if (s := _spend_item(lot))]
        heapq.heapify(self._release)
        heapq.heapify(self._expiry)
        heapq.heapify(self._spend)

    def _peek(self, heap: list[_Item], item_of: Callable[[Lot], _Item | None]) -> _Item | None:
        while heap:
            item = heap[0]
            lot = self._lots.get(item[-1])
            if lot is not None and item == item_of(lot):
                return item
            self._pop(heap)
        return None

    def _pop(self, heap: list[_Item]) -> _Item:
        item = heapq.heappop(heap)
        if self.popped is not None:
            self.popped.append((heap, item))
        return item
