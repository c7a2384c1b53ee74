"""The books of a simulation: what happened in each month, as flows.

Every figure is kept as a flow of its month (points issued, an order, a coupon
issued or closed, a member moving into a tier), never as a snapshot, so the books
of any partition of the members add up to the books of all of them, exactly and in
any order, and the stocks at each month end (outstanding points, liabilities,
members per tier) are the running sums of the flows (:mod:`loyalty.simulation.figures`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

__all__ = ["Books", "Flows"]

_ZERO = Decimal(0)

_COUNTS = ("members", "orders", "orders_with_reward", "coupons_used")
_POINTS = ("issued", "redeemed", "expired", "reversed", "adjusted")
_MONEY = ("gross", "discounts", "refunds", "cashback", "coupons")
_NAMED = ("rewards", "rewards_by_kind", "tiers")


@dataclass(slots=True)
class Flows:
    """What happened in one month.

    ``members``: members who enrolled; ``tiers``: members who moved into (+1) or out of
    (-1) each tier, enrolments included. ``issued``... ``adjusted``: points (``redeemed``
    net of redemptions voided or given back). ``cashback`` and ``coupons``: the change of
    the money the members hold as cashback and as coupons at face value. ``gross``: the
    orders before any discount of the program; ``discounts``: what the program took off
    them (cashback spent included); ``refunds``: money refunded; ``cost``: the discounts
    by campaign; ``rewards``: rewards redeemed by id, ``rewards_by_kind`` by kind.
    """

    members: int = 0
    orders: int = 0
    orders_with_reward: int = 0
    coupons_used: int = 0
    issued: int = 0
    redeemed: int = 0
    expired: int = 0
    reversed: int = 0
    adjusted: int = 0
    gross: Decimal = _ZERO
    discounts: Decimal = _ZERO
    refunds: Decimal = _ZERO
    cashback: Decimal = _ZERO
    coupons: Decimal = _ZERO
    cost: dict[str, Decimal] = field(default_factory=dict)
    rewards: Counter[str] = field(default_factory=Counter)
    rewards_by_kind: Counter[str] = field(default_factory=Counter)
    tiers: Counter[str] = field(default_factory=Counter)

    def add(self, other: Flows) -> None:
        """Add ``other``'s flows to these."""
        for name in (*_COUNTS, *_POINTS, *_MONEY):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in _NAMED:
            mine: Counter[str] = getattr(self, name)
            for key, value in getattr(other, name).items():
                mine[key] += value
        for campaign, amount in other.cost.items():
            self.spend(campaign, amount)

    def spend(self, campaign: str, amount: Decimal) -> None:
        """``amount`` more of the program's money given under ``campaign``."""
        self.cost[campaign] = self.cost.get(campaign, _ZERO) + amount

    @property
    def net_points(self) -> int:
        """The change of the members' net balance (pending + available - debt)."""
        return self.issued - self.redeemed - self.expired - self.reversed + self.adjusted


@dataclass(slots=True)
class Books:
    """The flows of every month, by month (``"2026-11"``, in the program's timezone)."""

    months: dict[str, Flows] = field(default_factory=dict)

    def month(self, key: str) -> Flows:
        """The flows of month ``key``, created empty the first time."""
        flows = self.months.get(key)
        if flows is None:
            flows = self.months[key] = Flows()
        return flows

    def add(self, other: Books) -> None:
        """Add ``other``'s months to these."""
        for key, flows in other.months.items():
            self.month(key).add(flows)
