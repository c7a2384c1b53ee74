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
from loyalty.currencies import MINOR_UNITS
from loyalty.hurdles import Check
from loyalty.ledger.entries import DiscountLine
from loyalty.money import Money
from loyalty.stacking.config import GroupMode, Stage
from loyalty.stacking.effects import Effect, Take
from loyalty.stacking.units import Slot, Units, allocate

__all__ = ["Applied", "Candidate", "Context", "Pass", "Skipped", "over_limit", "run"]

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


class Applied:
    """A discount applied: what it took off, line by line and off the shipping, what
    it wanted, and why it took less (``note``: a cap, the room left). Its lines are
    made when first read (a quote mostly needs the amount)."""

    __slots__ = ("_lines", "_parts", "amount", "candidate", "note", "shipping", "wanted")

    def __init__(
        self,
        candidate: Candidate,
        lines: tuple[DiscountLine, ...] | Callable[[], tuple[DiscountLine, ...]],
        shipping: Money | None,
        amount: Money,
        wanted: Money,
        note: str | None = None,
    ) -> None:
        self.candidate = candidate
        self._lines = lines if isinstance(lines, tuple) else None
        self._parts = None if isinstance(lines, tuple) else lines
        self.shipping = shipping
        self.amount = amount
        self.wanted = wanted
        self.note = note

    @property
    def lines(self) -> tuple[DiscountLine, ...]:
        """What it took off each line (made when first read)."""
        if self._lines is None:
            assert self._parts is not None
            self._lines = self._parts()
        return self._lines

    @property
    def id(self) -> str:
        """The id of the reward, coupon or offer."""
        return self.candidate.id

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Applied):
            return NotImplemented
        return (self.candidate, self.lines, self.shipping, self.amount, self.wanted,
                self.note) == (other.candidate, other.lines, other.shipping, other.amount,
                               other.wanted, other.note)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        cut = f", {self.note}" if self.note else ""
        return f"<Applied {self.candidate.id}: {self.amount} off (wanted {self.wanted}{cut})>"


@dataclass(frozen=True, slots=True)
class Skipped:
    """A discount that did not apply to the cart, and why (``reason``: its hurdles
    were not met, its group or a cap left no room, nothing was left to take off)."""

    candidate: Candidate
    reason: str
    check: Check | None = None
    """The unmet conditions, with their shortfalls, when that is why."""

    @property
    def id(self) -> str:
        """The id of the reward, coupon or offer."""
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
        money = _money_of(currency)
        shipping = money(self.shipping) if self.shipping else None
        return Applied(
            self.candidate,
            lambda: self._discount_lines(money),
            shipping,
            money(self.total),
            money(max(self.wanted, self.total)),
            self.note,
        )

    def _discount_lines(self, money: Callable[[int], Money]) -> tuple[DiscountLine, ...]:
        """What it took off each line, in the cart's order of lines."""
        per_line: dict[str, int] = {}
        order: dict[str, int] = {}
        for slot, amount in self.lines.items():
            if amount:
                ref = slot.line.ref
                per_line[ref] = per_line.get(ref, 0) + amount
                order.setdefault(ref, slot.position)
        return tuple(
            DiscountLine(ref, money(per_line[ref]))
            for ref in sorted(per_line, key=order.__getitem__)
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
    ordered = candidates if len(candidates) < 2 else sorted(candidates, key=context.position)
    last = ordered[-1] if ordered else None
    for candidate in ordered:
        if candidate.conditions is not None:
            off = context.shipping_off + _decimal(shipping_start - units.shipping, currency)
            check = context.judge(candidate.conditions, units.reductions(), off)
            if not check.met:
                skipped.append(Skipped(candidate, check.reason, check))
                continue
        tender = candidate.stage is Stage.TENDER
        if not tender and context.max_discounts is not None and count >= context.max_discounts:
            skipped.append(Skipped(candidate, over_limit(context.max_discounts)))
            continue
        take = candidate.effect.take(units, _open_to(candidate))
        took = take.total
        if took <= 0:
            skipped.append(Skipped(candidate, take.reason or _NOTHING))
            continue
        note = None
        if not tender and context.max_total is not None and total + took > context.max_total:
            room = context.max_total - total
            if room <= 0:
                skipped.append(Skipped(candidate, f"over the per-order cap of {context.cap_text}"))
                continue
            _cut(take, room)
            took = take.total
            note = f"cut to the per-order cap of {context.cap_text}"
        if candidate is not last:  # nothing after the last reads the units
            _commit(units, take, candidate)
        if not tender:
            total += took
            count += 1
        lines: dict[Slot, int] = {}
        for slot, amount in take.parts:
            lines[slot] = lines.get(slot, 0) + amount
        applied.append(Taken(candidate, lines, take.shipping, took, take.wanted, note))
    return Pass(applied, skipped, total)


_NOTHING = "nothing on this cart for it to take off"


def over_limit(most: int) -> str:
    """Why a discount past the per-order limit of ``most`` discounts is skipped."""
    return f"over the per-order limit of {most} discount{'s' * (most != 1)}"


def _always(slot: Slot) -> bool:
    return True


def _open_to(candidate: Candidate) -> Callable[[Slot], bool]:
    if candidate.stage is not Stage.LINE:
        return _always

    def is_open(slot: Slot) -> bool:
        return not slot.taken_by or all(candidate.combines(o) for o in slot.taken_by)

    return is_open


def _cut(take: Take, room: int) -> None:
    """Scale ``take`` down to ``room`` minor units, in proportion."""
    amounts = [amount for _, amount in take.parts] + [take.shipping]
    shares = allocate(room, amounts)
    take.parts = [(slot, share) for (slot, _), share in zip(take.parts, shares, strict=False)]
    take.shipping = shares[-1]


def _commit(units: Units, take: Take, candidate: Candidate) -> None:
    """Take ``take`` off ``units``: each slot it touched is replaced by a new one
    (slots are shared between passes, never changed)."""
    line = candidate.stage is Stage.LINE
    changed: dict[int, tuple[Slot, int]] = {}
    for slot, amount in take.parts:
        changed[id(slot)] = (slot, amount)
    if line:
        for slot in take.consumed:
            changed.setdefault(id(slot), (slot, 0))
    for index, slot in enumerate(units.slots):
        found = changed.get(id(slot))
        if found is not None:
            taken_by = (*slot.taken_by, candidate) if line else slot.taken_by
            units.slots[index] = Slot(
                slot.line, slot.position, slot.count, slot.initial, slot.left - found[1], taken_by
            )
    units.shipping -= take.shipping


def _decimal(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-MINOR_UNITS[currency])


def _money_of(currency: str) -> Callable[[int], Money]:
    """Whole minor units of ``currency`` as Money (exact: no checks needed)."""
    digits = -MINOR_UNITS[currency]

    def money(units: int) -> Money:
        return Money._exact(Decimal(units).scaleb(digits), currency)

    return money
