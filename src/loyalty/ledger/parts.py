"""The parts of an account a store saves, and loading them back.

A store keeps the journal and, beside it, the derived state of each member: the
scalars (balance, clocks, tier status) and keyed parts (lots, orders,
redemptions, bonus-action times, tier figures by day). After a write it saves
only the parts that changed (:func:`state_of` with ``changed``), so saving costs
the same whatever the member's history; :func:`load_state` puts a saved state
back into a fresh account.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loyalty.ledger.entries import Holding, entry_seq, holding_order
from loyalty.ledger.lots import Lot
from loyalty.ledger.projection import Projection
from loyalty.ledger.records import RedemptionRecord
from loyalty.ledger.state import Hot, Snapshot
from loyalty.ledger.undo import Tally

__all__ = ["load_state", "mark_saved", "state_of"]


def state_of(
    account: Projection, *, keys: bool, changed: Mapping[str, set[str]] | None = None
) -> Snapshot:
    """The account's derived state: all of it, or (``changed``) only the keyed items
    that changed since it was loaded or last saved; idempotency keys only if ``keys``.

    All of it, for an account loaded from a store, includes the items it did not
    read: the stored ones, overlaid with those in memory (the same or newer)."""
    lots: Mapping[str, Lot] = account._lots
    orders: Mapping[str, Any] = account._orders
    redemptions: Mapping[str, RedemptionRecord] = account._redemptions
    if changed is None and account._history is not None:
        stored = account._history.state()
        lots = {lot.id: lot for lot in stored.lots} | account._lots
        orders = dict(stored.orders) | account._orders
        redemptions = {record.id: record for record in stored.redemptions} | account._redemptions

    def part(name: str, mapping: Mapping[str, Any]) -> list[tuple[str, Any]]:
        if changed is None:
            return list(mapping.items())
        return [(key, mapping[key]) for key in changed.get(name, ()) if key in mapping]

    tiers = account.tiers
    return Snapshot(
        balance=account._tally.balance(),
        lots=tuple(sorted((lot for _, lot in part("lots", lots)), key=_by_seq)),
        keys=account._keys.all() if keys else (),
        clock=account._clock,
        last_activity_at=account._last_activity_at,
        inactivity_deadline=account._inactivity_deadline,
        enrolled_at=account._enrolled_at,
        orders=tuple(sorted(part("orders", orders))),
        tier=tiers.status if tiers is not None else None,
        tier_days=() if tiers is None else tiers.days(changed is not None),
        redemptions=tuple(
            sorted(
                (record for _, record in part("redemptions", redemptions)),
                key=_by_seq,
            )
        ),
        actions=tuple(sorted(part("actions", account._actions))),
        holdings=tuple(
            sorted((holding for _, holding in part("holdings", account._holdings)), key=_by_key)
        ),
        tier_cursor=tiers.cursor if tiers is not None else None,
        hot=Hot(
            tuple(sorted(account._open)),
            account._completed,
            tuple(sorted((reward, uses) for reward, uses in account._uses.items() if uses)),
        ),
    )


def mark_saved(account: Projection) -> None:
    """The changes so far are stored: the next :func:`state_of` with ``changed`` starts afresh."""
    account._changed.clear()
    if account.tiers is not None:
        account.tiers.saved()
    account._forget_cold()


def load_state(account: Projection, state: Snapshot) -> None:
    """Put a saved ``state`` into a fresh ``account`` (with its journal already set).

    An account with a history keeps only the hot part in memory (see
    :mod:`~loyalty.ledger.undo`): ``state`` may hold only that part (the open lots, no
    orders nor redemptions) when it has its :attr:`~Snapshot.hot` counters; without
    them (a state stored by an earlier version) it must be whole, to count them."""
    account._tally = Tally(state.balance)
    lazy = account._history is not None
    for lot in state.lots:
        if lot.is_open or not lazy:
            account._lots[lot.id] = lot
            account._track(lot.id, lot)
    account._keys.load(state.keys)
    account._clock = state.clock
    account._last_activity_at = state.last_activity_at
    account._inactivity_deadline = state.inactivity_deadline
    hot = state.hot
    if hot is None:
        account._completed = sum(1 for _, order in state.orders if not order.fully_refunded)
        for record in state.redemptions:
            if record.in_use and record.reward is not None:
                account._uses[record.reward] = account._uses.get(record.reward, 0) + 1
    else:
        account._completed = hot.completed
        account._uses.update(hot.uses)
    if not lazy:
        account._orders.update(state.orders)
        account._redemptions.update((record.id, record) for record in state.redemptions)
    account._actions.update(state.actions)
    account._holdings.update((holding.key, holding) for holding in state.holdings)
    if account.tiers is not None and state.tier is not None:
        account.tiers.restore(state.tier, state.tier_days, state.tier_cursor)
    account._queues.rebuild()


def _by_seq(item: Lot | RedemptionRecord) -> int:
    return entry_seq(item.id)


def _by_key(holding: Holding) -> tuple[int, int]:
    """Holdings in the order they were issued (``"12.0"`` before ``"12.1"`` before ``"100.0"``)."""
    return holding_order(holding.key)
