"""One pass of a stack: chosen discounts applied in order, the caps reduced in one place.

The order is the configured order of the classes (line, cart percent, cart
amount, shipping; tenders last), then priority (higher first), then id. Each
discount sees the cart as the ones before it left it; its conditions are
checked on that cart (a ``min_basket`` measures the basket after them). The
per-order caps (an amount, a percent of the merchandise subtotal, a number of
discounts) cut or skip a discount in :func:`run` and nowhere else. Every
candidate ends applied (with what it took and what it wanted) or skipped (with
why).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from loyalty.cart import Cart
from loyalty.hurdles import Check
from loyalty.ledger.entries import DiscountLine
from loyalty.money import Money
from loyalty.stacking.config import GroupMode, Stage
from loyalty.stacking.effects import Effect, Take
from loyalty.stacking.units import Slot, Units, allocate

__all__ = ["Applied", "Candidate", "Context", "Pass", "Skipped", "run"]

Judge = Callable[[Any, Mapping[str, Decimal], Decimal], Check]
"""Checks a condition on the cart with these line reductions (cart currency, per line
ref) and this much shipping off."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A discount that may apply: an offer, a reward or a coupon."""

    id: str
    """Unique on the cart: ``offer:ID``, ``reward:ID``, ``coupon:KEY``."""
    name: str
    """The configured id, as ``combines_with`` names it."""
    label: str
    source: str
    kind: str
    effect: Effect
    group: str = "default"
    mode: GroupMode = GroupMode.STACKABLE
    priority: int = 0
    rank: tuple[Any, ...] = ()
    """Ties within a priority: by this, then id."""
    combines_with: frozenset[str] = frozenset()
    conditions: Any = None
    """A :data:`~loyalty.hurdles.Condition`, checked on the cart as it stands when it applies."""
    points: int = 0
    reference: Any = None
    """What built it (a reward, an offer, a coupon holding), for the caller."""

    @property
    def stage(self) -> Stage:
        return self.effect.stage

    def combines(self, other: Candidate) -> bool:
        """May the two discount the same units? Either naming the other is enough."""
        return other.name in self.combines_with or self.name in other.combines_with


@dataclass(frozen=True, slots=True)
class Applied:
    candidate: Candidate
    lines: tuple[DiscountLine, ...]
    shipping: Money | None
    amount: Money
    wanted: Money
    note: str | None = None
    """Why it took less than it wanted (a cap, the room left)."""

    @property
    def id(self) -> str:
        return self.candidate.id


@dataclass(frozen=True, slots=True)
class Skipped:
    candidate: Candidate
    reason: str
    check: Check | None = None
    """The unmet conditions, with their shortfalls, when that is why."""

    @property
    def id(self) -> str:
        return self.candidate.id


@dataclass(frozen=True, slots=True)
class Context:
    """What a pass needs besides the candidates."""

    cart: Cart
    order: tuple[Stage, ...]
    judge: Judge
    shipping_off: Decimal = Decimal(0)
    """Shipping the cart no longer pays before any candidate (the tier's benefit)."""
    max_total: int | None = None
    """The per-order cap in minor units (the lower of the amount and the percent)."""
    cap_text: str = ""
    max_discounts: int | None = None
    units: Units | None = field(default=None, compare=False)

    def fresh(self) -> Units:
        base = self.units if self.units is not None else Units.of(self.cart, self.shipping_off)
        return base.copy()

    def position(self, candidate: Candidate) -> tuple[Any, ...]:
        stage = candidate.stage
        where = len(self.order) if stage is Stage.TENDER else self.order.index(stage)
        return (where, -candidate.priority, candidate.rank, candidate.id)


@dataclass(slots=True)
class Taken:
    """What one candidate took in a pass, in minor units (made :class:`Applied`,
    with money, only for the pass chosen)."""

    candidate: Candidate
    lines: dict[Slot, int]
    shipping: int
    total: int
    wanted: int
    note: str | None

    def applied(self, currency: str) -> Applied:
        per_line: dict[str, int] = {}
        order: dict[str, int] = {}
        for slot, amount in self.lines.items():
            if amount:
                ref = slot.line.ref
                per_line[ref] = per_line.get(ref, 0) + amount
                order.setdefault(ref, slot.position)
        lines = tuple(
            DiscountLine(ref, Money.from_minor(per_line[ref], currency))
            for ref in sorted(per_line, key=order.__getitem__)
        )
        shipping = Money.from_minor(self.shipping, currency) if self.shipping else None
        return Applied(
            self.candidate,
            lines,
            shipping,
            Money.from_minor(self.total, currency),
            Money.from_minor(max(self.wanted, self.total), currency),
            self.note,
        )


@dataclass(slots=True)
class Pass:
    taken: list[Taken]
    skipped: list[Skipped]
    total: int
    """The discounts applied, in minor units (tenders excluded)."""

    def in_full(self) -> bool:
        """Did every candidate apply, taking all it wanted?"""
        return not self.skipped and all(
            t.note is None and t.total >= t.wanted for t in self.taken
        )

    def applied(self, currency: str) -> list[Applied]:
        return [taken.applied(currency) for taken in self.taken]


def run(candidates: Sequence[Candidate], context: Context) -> Pass:
    """Apply ``candidates`` in their order on a fresh copy of the cart's units."""
    units = context.fresh()
    shipping_start = units.shipping
    currency = context.cart.currency
    applied: list[Taken] = []
    skipped: list[Skipped] = []
    total = count = 0
    for candidate in sorted(candidates, key=context.position):
        if candidate.conditions is not None:
            off = context.shipping_off + _decimal(shipping_start - units.shipping, currency)
            check = context.judge(candidate.conditions, units.reductions(), off)
            if not check.met:
                skipped.append(Skipped(candidate, check.reason, check))
                continue
        tender = candidate.stage is Stage.TENDER
        if not tender and context.max_discounts is not None and count >= context.max_discounts:
            skipped.append(Skipped(
                candidate, f"over the per-order limit of {context.max_discounts} discounts"
            ))
            continue
        take = candidate.effect.take(units, _open_to(candidate))
        if take.total <= 0:
            skipped.append(Skipped(candidate, take.reason or _NOTHING))
            continue
        note = None
        if not tender and context.max_total is not None and total + take.total > context.max_total:
            room = context.max_total - total
            if room <= 0:
                skipped.append(Skipped(candidate, f"over the per-order cap of {context.cap_text}"))
                continue
            _cut(take, room)
            note = f"cut to the per-order cap of {context.cap_text}"
        _commit(units, take, candidate)
        if not tender:
            total += take.total
            count += 1
        lines: dict[Slot, int] = {}
        for slot, amount in take.parts:
            lines[slot] = lines.get(slot, 0) + amount
        applied.append(Taken(candidate, lines, take.shipping, take.total, take.wanted, note))
    return Pass(applied, skipped, total)


_NOTHING = "nothing on this cart for it to take off"


def _open_to(candidate: Candidate) -> Callable[[Slot], bool]:
    if candidate.stage is not Stage.LINE:
        return lambda slot: True

    def is_open(slot: Slot) -> bool:
        return all(candidate.combines(other) for other in slot.taken_by)

    return is_open


def _cut(take: Take, room: int) -> None:
    """Scale ``take`` down to ``room`` minor units, in proportion."""
    amounts = [amount for _, amount in take.parts] + [take.shipping]
    shares = allocate(room, amounts)
    take.parts = [(slot, share) for (slot, _), share in zip(take.parts, shares, strict=False)]
    take.shipping = shares[-1]


def _commit(units: Units, take: Take, candidate: Candidate) -> None:
    for slot, amount in take.parts:
        slot.left -= amount
    units.shipping -= take.shipping
    if candidate.stage is Stage.LINE:
        for slot in [slot for slot, _ in take.parts] + take.consumed:
            slot.taken_by = (*slot.taken_by, candidate)


def _decimal(amount: int, currency: str) -> Decimal:
    return Money.from_minor(amount, currency).amount
