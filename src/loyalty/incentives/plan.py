"""The incentives of a program, compiled once: indexed by trigger, in run order.

Incentives on one trigger run by ``priority`` (highest first), then ``id`` - never
by start date - so the same occasion always fires them in the same order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from loyalty.dates import Period, end_of, start_of
from loyalty.incentives.audience import Facts
from loyalty.incentives.config import (
    Incentive,
    OnEnrol,
    OnOrder,
    TriggerKind,
)
from loyalty.money import Money
from loyalty.program.compiled import compiled
from loyalty.program.model import Program

__all__ = ["IncentivePlan", "Occasion", "OrderFacts", "incentive_plan"]


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """The order an occasion is about."""

    order_id: str
    amount: Money
    """Its net spend, in the program currency."""
    nth: int
    """It is the member's nth completed order (1: their first)."""
    categories: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Occasion:
    """One occurrence of a trigger. ``occurrence`` is its natural key within the member
    (``order:{id}``, ``delay:{order}``, ``birthday:{year}``, ``schedule:{instant}``), so
    a redelivery, or a replayed schedule, grants nothing twice; ``at`` is when it
    happened (windows and validity are judged at it, not at its arrival)."""

    trigger: TriggerKind
    occurrence: str
    at: datetime
    order: OrderFacts | None = None
    channel: str | None = None
    campaign_code: str | None = None
    referred: bool = False
    only: str | None = None
    """Fire this incentive only (a manual grant, one schedule)."""
    rotation: int = 0
    """For a schedule: the occurrence's number (from 0), which picks ``rotate``."""
    reason: str | None = None
    """For a manual grant: the operator's reason."""


@dataclass(frozen=True, slots=True)
class IncentivePlan:
    by_trigger: dict[TriggerKind, tuple[Incentive, ...]]

    @classmethod
    def build(cls, program: Program) -> IncentivePlan:
        found: dict[TriggerKind, list[Incentive]] = {}
        for incentive in program.incentives.catalog:
            found.setdefault(TriggerKind(incentive.trigger.event), []).append(incentive)
        return cls(
            {
                trigger: tuple(sorted(items, key=lambda item: (-item.priority, item.id)))
                for trigger, items in found.items()
            }
        )

    def on(self, trigger: TriggerKind) -> tuple[Incentive, ...]:
        return self.by_trigger.get(trigger, ())


def incentive_plan(program: Program) -> IncentivePlan:
    return compiled(program, IncentivePlan.build)


def excluded(
    program: Program,
    incentive: Incentive,
    occasion: Occasion,
    facts: Callable[[], Facts],
    times: tuple[datetime, ...],
) -> str | None:
    """Why ``incentive`` does not fire on ``occasion`` (``None``: it does). ``times``:
    when it fired for this member before; ``facts``: the member, for its audience."""
    tz = program.tz
    if occasion.only is not None and incentive.id != occasion.only:
        return "not the incentive asked for"
    if incentive.window is not None and not incentive.window.contains(occasion.at, tz):
        return "outside its window"
    trigger = incentive.trigger
    if isinstance(trigger, OnOrder):
        order = occasion.order
        if order is None:
            return "no order"
        if trigger.first_order and order.nth != 1:
            return "not the member's first order"
        if trigger.nth_order is not None and order.nth != trigger.nth_order:
            return f"not the member's order number {trigger.nth_order}"
        if trigger.min_amount is not None and order.amount.amount < trigger.min_amount:
            return f"order below {trigger.min_amount}"
        if trigger.categories and not order.categories & set(trigger.categories):
            return f"no line in {', '.join(trigger.categories)}"
    if isinstance(trigger, OnEnrol):
        if trigger.channel is not None and occasion.channel != trigger.channel:
            return f"not enrolled through {trigger.channel}"
        if trigger.campaign_code is not None and occasion.campaign_code != trigger.campaign_code:
            return "another campaign code"
        if trigger.referred is not None and occasion.referred != trigger.referred:
            return "referred" if occasion.referred else "not referred"
    limits = incentive.limits
    if limits.per_member is not None:
        if limits.per == "lifetime":
            done = len(times)
        else:
            period = Period(limits.per)
            since, until = start_of(period, occasion.at, tz), end_of(period, occasion.at, tz)
            done = sum(1 for time in times if since <= time < until)
        if done >= limits.per_member:
            return f"already given {done} times (limit {limits.per_member})"
    if incentive.audience is not None:
        return incentive.audience.excludes(facts(), tz)
    return None


ZERO = Decimal(0)
