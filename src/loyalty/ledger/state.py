"""What an account reports: its balance, points about to expire, and a full snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from loyalty.ledger.entries import Holding
from loyalty.ledger.figures import Metrics, TierStatus
from loyalty.ledger.lots import Lot
from loyalty.ledger.records import KeyRecord, OrderRecord, RedemptionRecord

__all__ = ["Balance", "ExpiringPoints", "Hot", "Snapshot"]


@dataclass(frozen=True, slots=True)
class Balance:
    """A member's points. ``net = pending + available - debt`` and, always,
    ``earned - redeemed + returned - expired - reversed + adjusted == net``.

    ``returned`` counts points given back to the member when an order they
    were spent on was refunded.

    ``written_off`` counts points a reversal could not recover under the
    write-off clawback policy; it is not part of the equation.
    """

    pending: int = 0
    available: int = 0
    debt: int = 0
    earned: int = 0
    redeemed: int = 0
    expired: int = 0
    reversed: int = 0
    adjusted: int = 0
    written_off: int = 0
    returned: int = 0

    @property
    def net(self) -> int:
        """``pending + available - debt``: the points the member holds, less what they owe."""
        return self.pending + self.available - self.debt

    @property
    def flows(self) -> int:
        """The left side of the balance equation; equals :attr:`net` in a sound account."""
        return (
            self.earned
            - self.redeemed
            + self.returned
            - self.expired
            - self.reversed
            + self.adjusted
        )


@dataclass(frozen=True, slots=True)
class ExpiringPoints:
    """Points of one lot that will expire at ``expires_at`` unless used."""

    lot_id: str
    points: int
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Hot:
    """What an account loaded from a store keeps in memory besides the head, so that
    loading it never reads its closed lots, orders or redemptions (they are read on
    demand): the entry numbers of the open lots, and the counters that would
    otherwise sum over every order and redemption. Derived like the rest, so
    :func:`~loyalty.verify` checks it against a replay."""

    open_lots: tuple[int, ...] = ()
    """The ``seq`` of every open lot (pending or available), in order."""
    completed: int = 0
    """Orders not refunded in full."""
    uses: tuple[tuple[str, int], ...] = ()
    """Per reward, the redemptions still in use (not given back in full), by reward id."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """All derived state of an account, comparable with ``==`` (see :func:`~loyalty.verify`)."""

    balance: Balance
    lots: tuple[Lot, ...]
    keys: tuple[tuple[str, KeyRecord], ...]
    clock: datetime | None
    last_activity_at: datetime | None
    inactivity_deadline: datetime | None
    enrolled_at: datetime | None
    orders: tuple[tuple[str, OrderRecord], ...]
    tier: TierStatus | None
    tier_days: tuple[tuple[date, Metrics], ...]
    redemptions: tuple[RedemptionRecord, ...] = ()
    actions: tuple[tuple[str, tuple[datetime, ...]], ...] = ()
    tier_cursor: date | None = None
    """The local day the running tier window closes on (the latest day it was moved to)."""
    holdings: tuple[Holding, ...] = ()
    """Coupons, cashback credits and open choices incentives gave, by key."""
    hot: Hot | None = None
    """The open lots and the counters (``None`` in a state stored by an earlier version:
    then they are worked out from the whole state)."""
