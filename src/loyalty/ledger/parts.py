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

from loyalty.ledger.entries import entry_seq
from loyalty.ledger.lots import Lot
from loyalty.ledger.projection import Projection
from loyalty.ledger.records import RedemptionRecord
from loyalty.ledger.state import Snapshot
from loyalty.ledger.undo import Tally

__all__ = ["load_state", "mark_saved", "state_of"]


def state_of(
    account: Projection, *, keys: bool, changed: Mapping[str, set[str]] | None = None
) -> Snapshot:
    """The account's derived state: all of it, or (``changed``) only the keyed items
    that changed since it was loaded or last saved; idempotency keys only if ``keys``."""

    def part(name: str, mapping: Mapping[str, Any]) -> list[tuple[str, Any]]:
        if changed is None:
            return list(mapping.items())
        return [(key, mapping[key]) for key in changed[name] if key in mapping]

    tiers = account.tiers
    return Snapshot(
        balance=account._tally.balance(),
        lots=tuple(sorted((lot for _, lot in part("lots", account._lots)), key=_by_seq)),
        keys=account._keys.all() if keys else (),
        clock=account._clock,
        last_activity_at=account._last_activity_at,
        inactivity_deadline=account._inactivity_deadline,
        enrolled_at=account._enrolled_at,
        orders=tuple(sorted(part("orders", account._orders))),
        tier=tiers.status if tiers is not None else None,
        tier_days=() if tiers is None else tiers.days(changed is not None),
        redemptions=tuple(
            sorted(
                (record for _, record in part("redemptions", account._redemptions)),
                key=_by_seq,
            )
        ),
        actions=tuple(sorted(part("actions", account._actions))),
        tier_cursor=tiers.cursor if tiers is not None else None,
    )


def mark_saved(account: Projection) -> None:
    """The changes so far are stored: the next :func:`state_of` with ``changed`` starts afresh."""
    for keys in account._changed.values():
        keys.clear()
    if account.tiers is not None:
        account.tiers.saved()


def load_state(account: Projection, state: Snapshot) -> None:
    """Put a saved ``state`` into a fresh ``account`` (with its journal already set)."""
    account._tally = Tally(state.balance)
    account._lots.update((lot.id, lot) for lot in state.lots)
    account._keys.load(state.keys)
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


def _by_seq(item: Lot | RedemptionRecord) -> int:
    return entry_seq(item.id)
