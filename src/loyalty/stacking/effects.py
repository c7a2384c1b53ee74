"""What each kind of discount takes off a cart's units: pure arithmetic in minor units.

An effect never takes more than is left of a unit, nor more shipping than is left;
what it takes is spread over the units it covers with :func:`allocate` (shares
rounded down, the remainder to the last). Each returns a :class:`Take`: the
amount from each slot, from the shipping, what it wanted, and why it took
nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_FLOOR, Decimal

from loyalty.program.types import Selector
from loyalty.stacking.config import AmountAllocation, Basis, Stage
from loyalty.stacking.units import Slot, Units, allocate, unit_count

__all__ = [
    "AmountOff",
    "BuyGet",
    "Effect",
    "FreeUnits",
    "PercentOff",
    "ShippingOff",
    "Take",
]

Open = Callable[[Slot], bool]
"""Whether a slot is open to the discount at hand (no line discount it cannot
combine with consumed it)."""


@dataclass(slots=True)
class Take:
    """What a discount takes: from slots, from the shipping, and what it wanted."""

    parts: list[tuple[Slot, int]] = field(default_factory=list)
    shipping: int = 0
    wanted: int = 0
    consumed: list[Slot] = field(default_factory=list)
    """Slots it uses without discounting them (the units bought, for buy X get Y)."""
    reason: str | None = None
    shortfall: int | None = None

    @property
    def total(self) -> int:
        return sum(amount for _, amount in self.parts) + self.shipping


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def _matching(
    units: Units, products: Selector | None, is_open: Open, *, priced: bool = True
) -> list[Slot]:
    """The open slots of ``products`` (all if ``None``); with something left to take
    off unless ``priced`` is false (units bought count even when free)."""
    return [
        slot
        for slot in units.slots
        if (slot.left > 0 or not priced)
        and is_open(slot)
        and (products is None or products.matches(slot.line.sku, slot.line.categories,
                                                   slot.line.tags))
    ]


def _spread(slots: Sequence[Slot], total: int, wanted: int) -> Take:
    shares = allocate(total, [slot.left for slot in slots])
    return Take([(s, a) for s, a in zip(slots, shares, strict=True) if a], wanted=wanted)


def _nothing(products: Selector | None) -> str:
    if products is None:
        return "nothing on this cart for it to take off"
    return f"add a product from: {products.describe()}"


@dataclass(frozen=True, slots=True)
class PercentOff:
    """``percent`` off the cart, or off the units of ``products``; at most ``max_items``
    units (the cheapest, or the dearest) and at most ``max_amount`` minor units."""

    percent: Decimal
    products: Selector | None = None
    max_amount: int | None = None
    max_items: int | None = None
    dearest: bool = False
    basis: Basis = Basis.DISCOUNTED

    @property
    def stage(self) -> Stage:
        line = self.products is not None or self.max_items is not None
        return Stage.LINE if line else Stage.CART_PERCENT

    def ceiling(self) -> PercentOff:
        """The most it can take beside any others: the dearest units it may pick."""
        return replace(self, dearest=True) if self.max_items is not None else self

    def take(self, units: Units, is_open: Open) -> Take:
        slots = _matching(units, self.products, is_open)
        if self.max_items is not None:
            slots = units.pick(slots, self.max_items, dearest=self.dearest)
        if not slots:
            return Take(reason=_nothing(self.products))
        initial = self.basis is Basis.INITIAL
        base = sum(slot.initial if initial else slot.left for slot in slots)
        wanted = _floor(Decimal(base) * self.percent / 100)
        if self.max_amount is not None:
            wanted = min(wanted, self.max_amount)
        return _spread(slots, min(wanted, sum(s.left for s in slots)), wanted)


@dataclass(frozen=True, slots=True)
class AmountOff:
    """``amount`` minor units off, spread ``across`` the units (of ``products``), off
    ``each`` of them, or off the ``cheapest_once``; at most ``max_items`` units."""

    amount: int
    products: Selector | None = None
    allocation: AmountAllocation = AmountAllocation.ACROSS
    max_items: int | None = None
    dearest: bool = False
    tender: bool = False

    @property
    def stage(self) -> Stage:
        if self.tender:
            return Stage.TENDER
        across = self.allocation is AmountAllocation.ACROSS
        whole_cart = self.products is None and across and self.max_items is None
        return Stage.CART_AMOUNT if whole_cart else Stage.LINE

    def ceiling(self) -> AmountOff:
        """The most it can take beside any others: the dearest units it may pick."""
        picks = self.max_items is not None or self.allocation is AmountAllocation.CHEAPEST_ONCE
        return replace(self, dearest=True) if picks else self

    def take(self, units: Units, is_open: Open) -> Take:
        slots = _matching(units, self.products, is_open)
        if self.allocation is AmountAllocation.CHEAPEST_ONCE:
            slots = units.pick(slots, 1, dearest=self.dearest)
        elif self.max_items is not None:
            slots = units.pick(slots, self.max_items, dearest=self.dearest)
        if not slots:
            return Take(reason=_nothing(self.products))
        if self.allocation is AmountAllocation.EACH:
            parts = [(slot, min(self.amount * slot.count, slot.left)) for slot in slots]
            wanted = self.amount * unit_count(slots)
            return Take([(s, a) for s, a in parts if a], wanted=wanted)
        return _spread(slots, min(self.amount, sum(s.left for s in slots)), self.amount)


@dataclass(frozen=True, slots=True)
class FreeUnits:
    """``units`` units of ``sku`` (the cheapest in the cart) at ``percent`` off (free)."""

    sku: str
    units: int = 1
    percent: Decimal = Decimal(100)
    basis: Basis = Basis.DISCOUNTED
    dearest: bool = False

    stage = Stage.LINE

    def ceiling(self) -> FreeUnits:
        """The most it can take beside any others: the dearest units of its sku."""
        return replace(self, dearest=True)

    def take(self, units: Units, is_open: Open) -> Take:
        slots = [s for s in units.slots if s.line.sku == self.sku and s.left > 0 and is_open(s)]
        have = unit_count(slots)
        if have < self.units:
            missing = self.units - have
            return Take(reason=f"add {missing} more of {self.sku} to your cart", shortfall=missing)
        chosen = units.pick(slots, self.units, dearest=self.dearest)
        return _percent_of(chosen, self.percent, self.basis)


def _percent_of(slots: Sequence[Slot], percent: Decimal, basis: Basis) -> Take:
    """``percent`` off each of ``slots`` (never more than is left of it)."""
    parts = []
    wanted = 0
    for slot in slots:
        base = slot.initial if basis is Basis.INITIAL else slot.left
        want = base if percent == 100 else _floor(Decimal(base) * percent / 100)
        wanted += want
        if (amount := min(want, slot.left)) > 0:
            parts.append((slot, amount))
    return Take(parts, wanted=wanted)


@dataclass(frozen=True, slots=True)
class BuyGet:
    """Buy ``buy`` units (of ``buy_products``), get ``get`` units (of ``get_products``,
    the same products if not given) at ``percent`` off; repeated as often as the cart
    allows, at most ``limit`` times. The units got are the cheapest eligible ones;
    the units bought are others (the dearest left), and both are consumed."""

    buy: int
    get: int
    buy_products: Selector | None = None
    get_products: Selector | None = None
    percent: Decimal = Decimal(100)
    limit: int | None = None
    basis: Basis = Basis.DISCOUNTED
    dearest: bool = False
    """The units got are the dearest eligible ones instead of the cheapest."""

    stage = Stage.LINE

    def ceiling(self) -> BuyGet:
        """The most it can take beside any others: the dearest units got (the most
        repetitions, the dearest that can be got: greedy is exact for that)."""
        return replace(self, dearest=True)

    def take(self, units: Units, is_open: Open) -> Take:
        buyable = _matching(units, self.buy_products, is_open, priced=False)
        if self.get_products is None:
            gettable = [slot for slot in buyable if slot.left > 0]
        else:
            gettable = _matching(units, self.get_products, is_open)
        times, plan = self._most(buyable, gettable)
        if not times:
            return self._short(buyable, gettable)
        got: list[Slot] = []
        for slot, count in plan:
            got += units.pick([slot], count)
        taken = {id(slot) for slot in got}
        rest = [
            slot
            for slot in _matching(units, self.buy_products, is_open, priced=False)
            if id(slot) not in taken
        ]
        bought = units.pick(rest, times * self.buy, dearest=not self.dearest)
        found = _percent_of(got, self.percent, self.basis)
        found.consumed = bought
        return found

    def _most(
        self, buyable: list[Slot], gettable: list[Slot]
    ) -> tuple[int, list[tuple[Slot, int]]]:
        """The most repetitions the cart allows (binary search: if ``t`` fit, fewer do),
        and for them the units got: the cheapest (dearest) gettable ones, taking units
        that could also be bought only while enough are left to buy."""
        sign = -1 if self.dearest else 1
        ranked = sorted(gettable, key=lambda s: (sign * s.unit_price(), s.position))
        buy_ids = {id(slot) for slot in buyable}
        total_buy = unit_count(buyable)
        high = unit_count(gettable) // self.get
        if self.get_products is None:
            high = min(high, total_buy // (self.buy + self.get))
        if self.limit is not None:
            high = min(high, self.limit)

        def plan(t: int) -> list[tuple[Slot, int]] | None:
            need, spare = t * self.get, total_buy - t * self.buy
            if spare < 0:
                return None
            chosen = []
            for slot in ranked:
                if need <= 0:
                    break
                count = min(slot.count, need)
                if id(slot) in buy_ids:
                    count = min(count, spare)
                    spare -= count
                if count > 0:
                    chosen.append((slot, count))
                    need -= count
            return chosen if need <= 0 else None

        low, best = 0, []
        while low < high:
            middle = (low + high + 1) // 2
            found = plan(middle)
            if found is not None:
                low, best = middle, found
            else:
                high = middle - 1
        if low and not best:
            best = plan(low) or []
        return low, best

    def _short(self, buyable: list[Slot], gettable: list[Slot]) -> Take:
        if self.get_products is None:
            missing = self.buy + self.get - unit_count(buyable)
            return Take(reason=_add(missing, self.buy_products), shortfall=missing)
        if unit_count(gettable) < self.get:
            assert self.get_products is not None
            missing = self.get - unit_count(gettable)
            return Take(
                reason=f"add {missing} of {self.get_products.describe()}", shortfall=missing
            )
        missing = max(self.buy - unit_count(buyable), 1)
        return Take(reason=_add(missing, self.buy_products), shortfall=missing)


def _add(missing: int, products: Selector | None) -> str:
    if products is not None:
        return f"add {missing} more of {products.describe()}"
    return f"add {missing} more unit{'s' * (missing != 1)}"


@dataclass(frozen=True, slots=True)
class ShippingOff:
    """The shipping left to pay, up to ``max_amount`` minor units."""

    max_amount: int | None = None

    stage = Stage.SHIPPING

    def ceiling(self) -> ShippingOff:
        return self

    def take(self, units: Units, is_open: Open) -> Take:
        if units.shipping <= 0:
            return Take(reason="no shipping left to pay on this cart")
        amount = units.shipping
        if self.max_amount is not None:
            amount = min(amount, self.max_amount)
        return Take(shipping=amount, wanted=amount)


Effect = PercentOff | AmountOff | FreeUnits | BuyGet | ShippingOff
