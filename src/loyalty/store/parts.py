"""A member's stored state in parts, so a write saves only what it changed.

The state (:class:`~loyalty.ledger.state.Snapshot`) splits into a *head* (the
balance, the clock, the tier status: small, saved whole on every write) and
*items*: each lot, order, redemption, bonus action and tier day, saved one by
one under a key, and only when it changed (:meth:`Account.changes
<loyalty.ledger.account.Account.changes>`). The keys are member-relative (a
lot's key is its entry's number), so erasure moves rows without rewriting them.

Loading a member reads only the *hot* items (:func:`hot_keys`): the open lots (the
head's :attr:`~loyalty.ledger.state.Snapshot.hot` names them), the bonus actions and
the tier days. Closed lots, orders and redemptions are read one by one when the
account asks (the store's :class:`~loyalty.ledger.journal.History`). A head stored by
an earlier version has no ``hot`` part: then every item is read, as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any, Final, cast

from loyalty.ledger.entries import entry_seq, holding_order
from loyalty.ledger.lots import Lot
from loyalty.ledger.records import OrderRecord, RedemptionRecord
from loyalty.ledger.state import Snapshot

__all__ = ["HOT_PARTS", "PARTS", "ItemReads", "Items", "hot_keys", "join", "merge", "split"]

PARTS: Final = ("lots", "orders", "redemptions", "actions", "tier_days", "holdings")
HOT_PARTS: Final = ("actions", "tier_days", "holdings")
"""The parts loaded whole with the head (of the lots, only the open ones are)."""

Items = dict[str, dict[str, Any]]
"""Items by part, then by key. An item is what the snapshot's tuple holds."""


def split(state: Snapshot) -> tuple[Snapshot, Items]:
    """The head (the parts and the keys emptied) and the items of each part by key."""
    head = replace(
        state, lots=(), orders=(), redemptions=(), actions=(), tier_days=(), holdings=(), keys=()
    )
    items: Items = {
        "lots": {str(lot.seq): lot for lot in state.lots},
        "orders": {order_id: (order_id, order) for order_id, order in state.orders},
        "redemptions": {str(entry_seq(record.id)): record for record in state.redemptions},
        "actions": {name: (name, times) for name, times in state.actions},
        "tier_days": {day.isoformat(): (day, metrics) for day, metrics in state.tier_days},
        "holdings": {holding.key: holding for holding in state.holdings},
    }
    return head, items


def merge(items: Items, changed: Mapping[str, Mapping[str, Any]]) -> None:
    """Put the ``changed`` items into ``items``, replacing those with the same key."""
    for part, found in changed.items():
        items.setdefault(part, {}).update(found)


def join(head: Snapshot, items: Mapping[str, Mapping[str, Any]]) -> Snapshot:
    """The whole state from its head and items, each part in snapshot order."""

    def part(name: str) -> Iterable[Any]:
        return items.get(name, {}).values()

    return replace(
        head,
        lots=tuple(sorted(part("lots"), key=lambda lot: lot.seq)),
        orders=tuple(sorted(part("orders"))),
        redemptions=tuple(sorted(part("redemptions"), key=lambda record: entry_seq(record.id))),
        actions=tuple(sorted(part("actions"))),
        tier_days=tuple(sorted(part("tier_days"))),
        holdings=tuple(sorted(part("holdings"), key=lambda holding: holding_order(holding.key))),
    )


def hot_keys(head: Snapshot) -> tuple[str, ...] | None:
    """The keys of the lots to load with ``head`` (its open lots), or ``None``: load
    every item (a head stored by an earlier version)."""
    return None if head.hot is None else tuple(map(str, head.hot.open_lots))


class ItemReads:
    """A stored history's reads of single items, by the part and key :func:`split`
    gives them; a store's history supplies :meth:`_item` (the item, or ``None``)."""

    __slots__ = ()

    def _item(self, part: str, key: str) -> Any:
        raise NotImplementedError

    def lot(self, seq: int) -> Lot | None:
        found: Lot | None = self._item("lots", str(seq))
        return found

    def order(self, order_id: str) -> OrderRecord | None:
        found = self._item("orders", order_id)
        return None if found is None else cast(OrderRecord, found[1])

    def redemption(self, seq: int) -> RedemptionRecord | None:
        found: RedemptionRecord | None = self._item("redemptions", str(seq))
        return found
