"""Redemption hurdles: composable conditions on (member, cart, time).

A reward's ``hurdles`` are written as one condition, usually ``all_of`` a list::

    hurdles:
      all_of:
        - min_points: 100          # the member holds at least 100 points
        - repeat_order: 1          # at least 1 completed order before this one
        - min_basket: "10.00"      # merchandise subtotal of at least 10.00
        - max_points_share: {percent: 50, amount: "20.00"}
        - min_tier: Gold
        - segment: newsletter
        - window: {starts: "2026-11-11", ends: "2026-11-12"}   # program timezone
        - usage_limit: 1           # per member
        - requires: {categories: [makeup]}
        - min_units: {units: 3, products: {skus: [A]}}   # at least 3 units of A
        - min_items: 2             # at least 2 different products (skus), gift cards aside
        - any_of: [...]
        - not: {segment: staff}

Checking never raises for "not eligible": :func:`check` returns a
:class:`Check` with ``met``, a human ``reason`` ("earn 20 more points", "add
3.50 USD to your basket", "available from your second order") and the
``shortfall`` where one can be measured. :meth:`Check.unmet` lists exactly the
leaf conditions that fail.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, Field

from loyalty.hurdle_cart import Basis, items_in, measure, units_in
from loyalty.money import Money, Rounding
from loyalty.program.amounts import AmountOrZero, Count, Points
from loyalty.program.types import DateRange, Percent, Section, Selector

if TYPE_CHECKING:
    from loyalty.cart import Cart
    from loyalty.tiers.config import TiersConfig

__all__ = [
    "Basis",
    "Check",
    "Condition",
    "ProgramView",
    "Situation",
    "check",
    "points_check",
    "walk",
    "window_check",
]


class ProgramView(Protocol):
    """What a hurdle reads of the program: its timezone and its tier ladder. A
    :class:`loyalty.program.model.Program` is one; the hurdles do not import it,
    because the program model imports them (through the rewards catalog)."""

    @property
    def tz(self) -> ZoneInfo: ...

    @property
    def tiers(self) -> TiersConfig | None: ...


@dataclass(frozen=True, slots=True)
class Situation:
    """What a hurdle is checked against: the cart, the time and the member's standing."""

    cart: Cart
    at: datetime
    available_points: int
    uses: int = 0
    """How many times this member already used the reward."""
    points_value: Money | None = None
    """The money value of the points the member wants to pay with (for ``max_points_share``)."""
    tier: str | None = None
    """The member's tier; the cart's ``customer.tier`` if not given."""
    orders_before: int | None = None
    """Completed orders before this one; the cart's ``customer.completed_orders`` if not given."""
    rate: Decimal = Decimal(1)
    """What one unit of the cart's currency counts as in the program currency."""
    reductions: Mapping[str, Decimal] = field(default_factory=dict)
    """The loyalty discounts already on the cart, per line ref, in the cart currency
    (the rewards redeemed on it so far): basket amounts are measured after them."""
    shipping_reduction: Decimal = Decimal(0)
    """The shipping the cart no longer pays: free-shipping rewards redeemed on it, and
    the member's tier benefit."""
    amounts: dict[Basis, Money] = field(default_factory=dict, compare=False, repr=False)
    """The cart's amount on each basis, once measured: a memo that situations of one
    cart, with the same reductions, may share."""

    @property
    def member_tier(self) -> str | None:
        """``tier``, or the cart's ``customer.tier`` when it is not given."""
        return self.tier if self.tier is not None else self.cart.customer.tier

    @property
    def completed_orders(self) -> int:
        """``orders_before``, or the cart's ``customer.completed_orders`` (0 if neither)."""
        if self.orders_before is not None:
            return self.orders_before
        return self.cart.customer.completed_orders or 0

    def in_cart_currency(self, amount: Decimal, rounding: Rounding) -> Money:
        """A program-currency amount of the configuration, in the cart's currency."""
        return Money.rounded(amount / self.rate, self.cart.currency, rounding)


@dataclass(frozen=True, slots=True)
class Check:
    """The outcome of one condition: met or not, why, and what is missing."""

    condition: str
    met: bool
    reason: str
    shortfall: Money | int | None = None
    children: tuple[Check, ...] = ()

    def reasons(self) -> tuple[str, ...]:
        """The reasons of the unmet conditions, each said once, in order."""
        return tuple(dict.fromkeys(check.reason for check in self.unmet()))

    def unmet(self) -> tuple[Check, ...]:
        """The leaf conditions that fail (empty when met), each reason once: a
        ``min_points`` hurdle that repeats the reward's cost says "earn 50 more
        points" once, not twice (the first such condition stands for both)."""
        if self.met:
            return ()
        if not self.children or self.condition == "not":
            return (self,)
        leaves: dict[str, Check] = {}
        for child in self.children:
            for leaf in child.unmet():
                leaves.setdefault(leaf.reason, leaf)
        return tuple(leaves.values())


def _ordinal(n: int) -> str:
    words = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}
    return words.get(n, f"{n}th")


def _basis_amount(situation: Situation, basis: Basis) -> Money:
    """The cart's amount on ``basis``, after the loyalty discounts already on it."""
    found = situation.amounts.get(basis)
    if found is None:
        found = situation.amounts[basis] = measure(
            situation.cart, basis, situation.reductions, situation.shipping_reduction
        )
    return found


class MinPoints(Section):
    kind: Literal["min_points"] = "min_points"
    """``min_points``: the member holds at least ``points`` available points (pending points do not
    count). Short form: ``{min_points: 100}``."""
    points: Points
    """Available points the member must hold; a quote says how many more to earn."""

    def check(self, situation: Situation, program: ProgramView) -> Check:
        return points_check(self.kind, self.points, situation.available_points)


def points_check(condition: str, need: int, have: int) -> Check:
    """Does a member holding ``have`` available points have ``need``?"""
    if have >= need:
        return Check(condition, True, f"holds {have} points (needs {need})")
    missing = need - have
    return Check(condition, False, f"earn {missing} more point{'s' * (missing != 1)}", missing)


class RepeatOrder(Section):
    kind: Literal["repeat_order"] = "repeat_order"
    """``repeat_order``: the member has completed at least ``orders_before`` orders before this one.
    Short form: ``{repeat_order: 1}``."""
    orders_before: Count = 1
    """Completed orders needed before this one: 1 makes it available from the second order."""

    def check(self, situation: Situation, program: ProgramView) -> Check:
        done = situation.completed_orders
        if done >= self.orders_before:
            return Check(self.kind, True, f"{done} completed order(s) before this one")
        reason = f"available from your {_ordinal(self.orders_before + 1)} order"
        return Check(self.kind, False, reason, self.orders_before - done)


class MinBasket(Section):
    """The basket on ``basis`` reaches ``amount``: measured ``after`` the loyalty
    discounts on the cart (those applied before, for an offer), or ``before`` them."""

    kind: Literal["min_basket"] = "min_basket"
    """``min_basket``: the cart's amount on ``basis`` reaches ``amount``. Short form:
    ``{min_basket: '10.00'}``."""
    amount: AmountOrZero
    """The amount the basket must reach, in the program currency (converted for a cart in another
    currency, rounded up); a quote says how much to add."""
    basis: Basis = Basis.MERCHANDISE
    """Which amount of the cart is measured: ``merchandise`` (lines after their discounts, gift
    cards aside), ``subtotal`` (every line after its discount) or ``total`` (what the customer pays,
    shipping and tax in)."""
    discounts: Literal["after", "before"] = "after"
    """``after``: the amount is measured after the loyalty discounts already on the cart (for an
    offer, those applied before it); ``before``: on the cart as sent, before any of them."""

    def check(self, situation: Situation, program: ProgramView) -> Check:
        if self.discounts == "before":
            have = measure(situation.cart, self.basis, {}, Decimal(0))
        else:
            have = _basis_amount(situation, self.basis)
        need = situation.in_cart_currency(self.amount, Rounding.CEILING)
        if have >= need:
            return Check(self.kind, True, f"basket {have} (needs {need})")
        missing = need - have
        return Check(self.kind, False, f"add {missing} to your basket", missing)


class MaxPointsShare(Section):
    kind: Literal["max_points_share"] = "max_points_share"
    """``max_points_share``: at most ``percent`` of the cart's amount on ``basis``, and at most
    ``amount``, can be paid with points (for ``pay_with_points``). Short form:
    ``{max_points_share: {percent: 50}}``."""
    percent: Percent | None = None
    """Most of the cart's amount on ``basis`` that points may pay; with ``amount`` too, the lower
    one holds."""
    amount: AmountOrZero | None = None
    """Most money, in the program currency, that points may pay on one order; with ``percent`` too,
    the lower one holds."""
    basis: Basis = Basis.TOTAL
    """Which amount of the cart ``percent`` is a share of: ``total`` (what the customer pays,
    shipping and tax in), ``subtotal`` or ``merchandise``; measured after the loyalty discounts
    already on it."""

    def check(self, situation: Situation, program: ProgramView) -> Check:
        cart = situation.cart
        caps = []
        if self.percent is not None:
            base = _basis_amount(situation, self.basis)
            caps.append(base.times(self.percent / 100, Rounding.FLOOR))
        if self.amount is not None:
            caps.append(situation.in_cart_currency(self.amount, Rounding.FLOOR))
        cap = min(caps) if caps else _basis_amount(situation, self.basis)
        used = situation.points_value or Money.zero(cart.currency)
        if used <= cap:
            return Check(self.kind, True, f"{used} of at most {cap} paid with points")
        return Check(
            self.kind, False, f"at most {cap} of this order can be paid with points", used - cap
        )


class MinTier(Section):
    kind: Literal["min_tier"] = "min_tier"
    """``min_tier``: the member's tier is ``tier`` or above it on the ladder. Short form:
    ``{min_tier: Gold}``."""
    tier: str
    """The lowest tier of the ladder that qualifies; a member in no tier counts as in the first."""

    def check(self, situation: Situation, program: ProgramView) -> Check:
        names = [tier.name for tier in program.tiers.ladder] if program.tiers else []
        current = situation.member_tier
        have = names.index(current) if current in names else 0
        need = names.index(self.tier) if self.tier in names else len(names)
        if have >= need:
            return Check(self.kind, True, f"tier {current} (needs {self.tier})")
        return Check(self.kind, False, f"reach {self.tier}")


class InSegment(Section):
    kind: Literal["segment"] = "segment"
    """``segment``: the cart's customer is in ``segment`` (a segment the shop sends with the cart).
    Short form: ``{segment: newsletter}``."""
    segment: str
    """The segment the cart's customer must be in."""

    def check(self, situation: Situation, program: ProgramView) -> Check:
        if self.segment in situation.cart.customer.segments:
            return Check(self.kind, True, f"in segment {self.segment}")
        return Check(self.kind, False, f"only for members in segment {self.segment}")


class DateWindow(DateRange):
    kind: Literal["window"] = "window"
    """``window``: the time of the redemption or order is within ``starts`` and ``ends``, read in
    the program's timezone. Short form: ``{window: {starts: 2026-11-11}}``."""

    def check(self, situation: Situation, program: ProgramView) -> Check:
        return window_check(self.kind, self, situation.at, program.tz)


def window_check(condition: str, dates: DateRange, at: datetime, tz: ZoneInfo) -> Check:
    """Is ``at`` within ``dates`` (read in ``tz``)?"""
    if (start := dates.start(tz)) is not None and at < start:
        return Check(condition, False, f"available from {start.astimezone(tz).date().isoformat()}")
    if (end := dates.end(tz)) is not None and at >= end:
        return Check(condition, False, f"ended on {end.astimezone(tz).date().isoformat()}")
    return Check(condition, True, "within its dates")


class UsageLimit(Section):
    kind: Literal["usage_limit"] = "usage_limit"
    """``usage_limit``: the member has used it fewer than ``uses`` times. Short form:
    ``{usage_limit: 1}``."""
    uses: Count
    """How many times one member may use it; the next use is refused (a quote says how often it was
    used)."""

    def check(self, situation: Situation, program: ProgramView) -> Check:
        if situation.uses < self.uses:
            return Check(self.kind, True, f"used {situation.uses} of {self.uses} times")
        return Check(self.kind, False, f"already used {situation.uses} times (limit {self.uses})")


class Requires(Selector):
    kind: Literal["requires"] = "requires"
    """``requires``: the cart has at least one line matching ``skus``, ``categories`` or ``tags``.
    Short form: ``{requires: {categories: [makeup]}}``."""

    def check(self, situation: Situation, program: ProgramView) -> Check:
        for line in situation.cart.lines:
            if self.matches(line.sku, line.categories, line.tags):
                return Check(self.kind, True, f"the basket has {line.sku}")
        return Check(self.kind, False, f"add a product from: {self.describe()}")


class MinUnits(Section):
    """At least ``units`` units of the selected products, as the lines give them (every
    line but gift cards if ``products`` is not given)."""

    kind: Literal["min_units"] = "min_units"
    """``min_units``: the cart has at least ``units`` units of the selected products. Short form:
    ``{min_units: 3}``."""
    units: Count
    """Units needed, summed over the matching lines' quantities."""
    products: Selector | None = None
    """Which lines count; every line but gift cards if omitted."""

    def check(self, situation: Situation, program: ProgramView) -> Check:
        have, need = units_in(situation.cart, self.products), self.units
        what = f"of {self.products.describe()}" if self.products else "units"
        if have >= need:
            return Check(self.kind, True, f"{have} {what} in the basket (needs {need})")
        missing = need - have
        if missing == 1 and not self.products:
            what = "unit"
        return Check(self.kind, False, f"add {missing} more {what}", missing)


class MinItems(Section):
    """At least ``items`` different products (skus) among the selected lines (every line
    but gift cards if ``products`` is not given)."""

    kind: Literal["min_items"] = "min_items"
    """``min_items``: the cart has at least ``items`` different products (skus) among the selected
    lines. Short form: ``{min_items: 2}``."""
    items: Count
    """Different skus needed among the matching lines."""
    products: Selector | None = None
    """Which lines count; every line but gift cards if omitted."""

    def check(self, situation: Situation, program: ProgramView) -> Check:
        have, need = items_in(situation.cart, self.products), self.items
        among = f" from: {self.products.describe()}" if self.products else ""
        if have >= need:
            return Check(self.kind, True, f"{have} different products{among} (needs {need})")
        missing = need - have
        products = "product" if missing == 1 else "products"
        return Check(self.kind, False, f"add {missing} more different {products}{among}", missing)


class AllOf(Section):
    kind: Literal["all_of"] = "all_of"
    """``all_of``: met when every one of ``conditions`` is met. Short form: ``{all_of: [...]}``."""
    conditions: tuple[Condition, ...] = Field(min_length=1)
    """The conditions that must all be met; a quote lists each unmet one with its reason."""

    def check(self, situation: Situation, program: ProgramView) -> Check:
        results = tuple(c.check(situation, program) for c in self.conditions)
        failing = [r.reason for r in results if not r.met]
        reason = "; ".join(failing) if failing else "every condition is met"
        return Check(self.kind, not failing, reason, children=results)


class AnyOf(Section):
    kind: Literal["any_of"] = "any_of"
    """``any_of``: met when at least one of ``conditions`` is met. Short form:
    ``{any_of: [...]}``."""
    conditions: tuple[Condition, ...] = Field(min_length=1)
    """The conditions of which one is enough."""

    def check(self, situation: Situation, program: ProgramView) -> Check:
        results = tuple(c.check(situation, program) for c in self.conditions)
        met = [r for r in results if r.met]
        reason = met[0].reason if met else " or ".join(r.reason for r in results)
        return Check(self.kind, bool(met), reason, children=results)


class Not(Section):
    kind: Literal["not"] = "not"
    """``not``: met when ``condition`` is not met. Short form: ``{not: {segment: staff}}``."""
    condition: Condition
    """The condition that must not hold."""

    def check(self, situation: Situation, program: ProgramView) -> Check:
        inner = self.condition.check(situation, program)
        reason = f"not: {inner.reason}"
        return Check(self.kind, not inner.met, reason, children=(inner,))


_SHORT = {
    "min_points": "points",
    "repeat_order": "orders_before",
    "min_basket": "amount",
    "min_tier": "tier",
    "segment": "segment",
    "usage_limit": "uses",
    "min_units": "units",
    "min_items": "items",
    "all_of": "conditions",
    "any_of": "conditions",
    "not": "condition",
}


def _tagged(value: Any) -> Any:
    """``{min_points: 100}`` is short for ``{kind: min_points, points: 100}``."""
    if isinstance(value, dict) and len(value) == 1 and "kind" not in value:
        ((kind, body),) = value.items()
        if isinstance(body, dict) and kind not in ("all_of", "any_of", "not"):
            return {"kind": kind, **body}
        if kind in _SHORT:
            return {"kind": kind, _SHORT[kind]: body}
        return {"kind": kind, **(body if isinstance(body, dict) else {})}
    return value


_Tagged = Annotated[
    MinPoints
    | RepeatOrder
    | MinBasket
    | MaxPointsShare
    | MinTier
    | InSegment
    | DateWindow
    | UsageLimit
    | Requires
    | MinUnits
    | MinItems
    | AllOf
    | AnyOf
    | Not,
    Field(discriminator="kind"),
]
Condition = Annotated[_Tagged, BeforeValidator(_tagged)]
"""One hurdle, or a combination of them: what a reward's ``hurdles``, an offer's or a
coupon's ``conditions`` hold. Each condition is a model told apart by its ``kind``
(``min_points``, ``repeat_order``, ``min_basket``, ``max_points_share``, ``min_tier``,
``segment``, ``window``, ``usage_limit``, ``requires``, ``min_units``, ``min_items``,
and ``all_of``, ``any_of`` and ``not`` to combine them). In a file the short form
``{min_points: 100}`` stands for ``{kind: min_points, points: 100}``. Checking one
never raises for "not eligible": it gives a :class:`Check`."""

AllOf.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()


def check(condition: Condition, situation: Situation, program: ProgramView) -> Check:
    """Check ``condition``; "not eligible" is a result, never an exception."""
    return condition.check(situation, program)


def walk(condition: Condition, path: str = "") -> Iterator[tuple[str, Condition]]:
    """Every condition in ``condition`` (itself first), each with its path as written:
    ``all_of[1].min_tier``."""
    here = f"{path}.{condition.kind}" if path else condition.kind
    yield here, condition
    if isinstance(condition, AllOf | AnyOf):
        for index, child in enumerate(condition.conditions):
            yield from walk(child, f"{here}[{index}]")
    elif isinstance(condition, Not):
        yield from walk(condition.condition, here)
