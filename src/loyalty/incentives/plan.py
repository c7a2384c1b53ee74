"""The incentives of a program, compiled once: indexed by trigger, in run order.

Incentives on one trigger run by ``priority`` (highest first), then ``id`` - never
by start date - so the same occasion always fires them in the same order.

An order looks only at the ``order_completed`` incentives that its number can fire
(those naming no order number, and those for exactly its number), and windows are
judged with their bounds worked out once (:class:`Window`), not on every occasion.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from loyalty.dates import Period, end_of, start_of
from loyalty.incentives.audience import Facts
from loyalty.incentives.config import (
    Incentive,
    OnEnrol,
    OnOrder,
    TriggerKind,
)
from loyalty.incentives.windows import ActiveWindow
from loyalty.money import Money
from loyalty.program.compiled import compiled
from loyalty.program.model import Program

__all__ = [
    "IncentivePlan",
    "Occasion",
    "OrderFacts",
    "Window",
    "excluded",
    "incentive_plan",
    "member_excluded",
    "nothing_to_ship",
    "off_occasion",
]


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """The order an occasion is about."""

    order_id: str
    amount: Money
    """Its net spend, in the program currency."""
    nth: int
    """It is the member's nth completed order (1: their first)."""
    categories: frozenset[str] = frozenset()
    cancelled: bool = False
    """Cancelled, or refunded in full, by the occasion's time (a late shipment of it
    has nothing left to ship)."""


def nothing_to_ship(occasion: Occasion) -> str | None:
    """Why a ``shipment_delayed`` occasion grants nothing whatever the incentive: its
    order was cancelled or refunded in full before the delay (``None``: it may grant).
    The reason begins like a bundle's that came to nothing: no budget is to blame."""
    order = occasion.order
    if occasion.trigger is not TriggerKind.SHIPMENT_DELAYED or order is None:
        return None
    if not order.cancelled:
        return None
    return (
        f"nothing to grant: order {order.order_id} was cancelled or refunded in full "
        "before the delay; nothing is left to ship"
    )


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


class Window:
    """An incentive's active window compiled for the program's timezone: its fixed
    bounds worked out once, each year's occurrence of a ``yearly`` rule once per year.
    :meth:`contains` answers as :meth:`ActiveWindow.contains` does."""

    __slots__ = ("_tz", "_years", "end", "start", "yearly")

    def __init__(self, window: ActiveWindow, tz: ZoneInfo) -> None:
        # In UTC: comparing with an instant in UTC then needs no offset lookup.
        start, end = window.start(tz), window.end(tz)
        self.start = None if start is None else start.astimezone(UTC)
        self.end = None if end is None else end.astimezone(UTC)
        self.yearly = window.yearly
        self._tz = tz
        self._years: dict[int, tuple[datetime, datetime]] = {}

    def contains(self, at: datetime) -> bool:
        if self.start is not None and at < self.start:
            return False
        if self.end is not None and at >= self.end:
            return False
        if self.yearly is None:
            return True
        year = at.astimezone(self._tz).year
        for one in (year - 1, year, year + 1):  # as Yearly.around: the first not over yet
            occurrence = self._years.get(one)
            if occurrence is None:
                first, last = self.yearly.occurrence(one, self._tz)
                occurrence = self._years[one] = (first.astimezone(UTC), last.astimezone(UTC))
            if occurrence[1] > at:
                return occurrence[0] <= at
        raise AssertionError("unreachable: some occurrence ends after any instant")


def _run_order(items: Iterable[Incentive]) -> tuple[Incentive, ...]:
    return tuple(sorted(items, key=lambda item: (-item.priority, item.id)))


def _nth(trigger: OnOrder) -> int | None:
    """The one order number an ``order_completed`` trigger can fire on (``None``: any)."""
    return 1 if trigger.first_order else trigger.nth_order


@dataclass(frozen=True, slots=True)
class IncentivePlan:
    by_trigger: dict[TriggerKind, tuple[Incentive, ...]]
    windows: dict[int, Window] = field(default_factory=dict)
    """The incentives' windows, compiled, by ``id()`` of the incentive (the plan holds
    every incentive it names, so no other object can have one of those ids)."""
    orders_by_nth: dict[int, tuple[Incentive, ...]] = field(default_factory=dict)
    """For each order number an incentive names (``first_order``, ``nth_order``): the
    ``order_completed`` incentives such an order can fire, in run order."""
    orders_any_nth: tuple[Incentive, ...] = ()
    """The ``order_completed`` incentives that name no order number, in run order."""

    @classmethod
    def build(cls, program: Program) -> IncentivePlan:
        found: dict[TriggerKind, list[Incentive]] = {}
        for incentive in program.incentives.catalog:
            found.setdefault(TriggerKind(incentive.trigger.event), []).append(incentive)
        by_trigger = {trigger: _run_order(items) for trigger, items in found.items()}
        any_nth: list[Incentive] = []
        nths: dict[int, list[Incentive]] = {}
        for incentive in by_trigger.get(TriggerKind.ORDER_COMPLETED, ()):
            assert isinstance(incentive.trigger, OnOrder)
            nth = _nth(incentive.trigger)
            if nth is None:
                any_nth.append(incentive)
            else:
                nths.setdefault(nth, []).append(incentive)
        return cls(
            by_trigger,
            windows={
                id(incentive): Window(incentive.window, program.tz)
                for incentive in program.incentives.catalog
                if incentive.window is not None
            },
            orders_by_nth={nth: _run_order(any_nth + items) for nth, items in nths.items()},
            orders_any_nth=tuple(any_nth),
        )

    def on(self, trigger: TriggerKind) -> tuple[Incentive, ...]:
        return self.by_trigger.get(trigger, ())

    def for_occasion(self, occasion: Occasion) -> tuple[Incentive, ...]:
        """The incentives ``occasion`` may fire, in run order: those of its trigger, less
        (for an order) those for another order number, which :func:`excluded` refuses."""
        if occasion.trigger is TriggerKind.ORDER_COMPLETED and occasion.order is not None:
            return self.orders_by_nth.get(occasion.order.nth, self.orders_any_nth)
        return self.on(occasion.trigger)

    def in_window(self, incentive: Incentive, at: datetime, tz: ZoneInfo) -> bool:
        """Whether ``at`` is in ``incentive``'s window (it has none: always)."""
        if incentive.window is None:
            return True
        window = self.windows.get(id(incentive))
        return window.contains(at) if window is not None else incentive.window.contains(at, tz)


def incentive_plan(program: Program) -> IncentivePlan:
    return compiled(program, IncentivePlan.build)


def excluded(
    program: Program,
    incentive: Incentive,
    occasion: Occasion,
    facts: Callable[[], Facts],
    times: tuple[datetime, ...],
    *,
    plan: IncentivePlan | None = None,
) -> str | None:
    """Why ``incentive`` does not fire on ``occasion`` (``None``: it does). ``times``:
    when it fired for this member before; ``facts``: the member, for its audience;
    ``plan``: the program's :func:`incentive_plan`, if the caller has it at hand."""
    return off_occasion(program, incentive, occasion, plan) or member_excluded(
        program, incentive, occasion, facts, times
    )


def off_occasion(
    program: Program, incentive: Incentive, occasion: Occasion, plan: IncentivePlan | None = None
) -> str | None:
    """Why ``incentive`` does not fire on ``occasion`` whoever the member: its window at
    the occasion's time, and its trigger's filters (``None``: it may fire)."""
    tz = program.tz
    if occasion.only is not None and incentive.id != occasion.only:
        return "not the incentive asked for"
    if incentive.window is not None:
        plan = incentive_plan(program) if plan is None else plan
        if not plan.in_window(incentive, occasion.at, tz):
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
    return None


def member_excluded(
    program: Program,
    incentive: Incentive,
    occasion: Occasion,
    facts: Callable[[], Facts],
    times: tuple[datetime, ...],
) -> str | None:
    """Why ``incentive`` does not fire for this member: its per-member limit (``times``:
    when it fired for them before) or its audience (``None``: it fires)."""
    tz = program.tz
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

