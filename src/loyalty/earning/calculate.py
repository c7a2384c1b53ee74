"""What a cart earns: points per line, per rule, after caps. Pure: reads no state.

For each line, in this order:

1. **Base.** The line's price after the shop's discounts and after the loyalty
   rewards applied to it, with tax taken out of (or added to) it per
   ``earning.basis.tax``, in the program currency (at the configured rate for
   another currency), rounded to the cent.
2. **Excluded?** Gift-card purchases (unless ``basis.gift_cards``) and
   ``exclude``-d products earn nothing.
3. **Multipliers.** The tier's ``earn_multiplier`` and every multiplier rule
   that applies (its products, campaign window, segments and tiers), combined
   as ``combine`` says. A line's exact points are ``base x rate x multiplier``.
4. **Whole points.** With ``rounding_scope: order`` (the default) the order's
   exact points (its lines', and its shipping's if shipping earns) are rounded
   once with the program's rounding and given to the lines and shipping by
   largest remainder (:func:`apportion`), so splitting a basket never changes
   what it earns; with ``line`` each line and the shipping round on their own.
5. **Bonuses.** A bonus rule's fixed points go once per order, spread over its
   matching lines in proportion to their base.

Then the order: nothing below ``min_subtotal``; shipping earns at the base rate
if ``basis.shipping``; the caps per order, day and period cut the total, spread
back over the lines in proportion. The per-rule breakdown always sums to the
total: rounding is absorbed by the base line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

from loyalty.cart import Cart, Line
from loyalty.earning.config import (
    Combine,
    EarningPolicy,
    EarningRule,
    RoundingScope,
    TaxBasis,
)
from loyalty.errors import UnsupportedCurrency
from loyalty.ledger.entries import LinePoints
from loyalty.money import Money, Rounding, allocate
from loyalty.program.model import Program

__all__ = [
    "EarnContext",
    "EarnQuote",
    "LineEarn",
    "RulePoints",
    "apportion",
    "exchange_rate",
    "order_earn",
]

_ZERO = Decimal(0)
_ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class EarnContext:
    """What the calculation needs beyond the cart: the member's tier, what their orders
    already earned in the cap windows, and the loyalty discounts already on the cart."""

    tier: str | None = None
    earned_today: int = 0
    earned_this_period: int = 0
    reductions: Mapping[str, Decimal] = field(default_factory=dict)
    """Reward discounts per line ref, in the cart currency."""
    shipping_reduction: Decimal = _ZERO


@dataclass(frozen=True, slots=True)
class LineEarn:
    """One line's points and why: its base, the multiplier applied, the rules that applied."""

    line: str
    sku: str
    quantity: int
    basis: Money
    multiplier: Decimal
    points: int
    rules: tuple[str, ...] = ()
    excluded: str | None = None


@dataclass(frozen=True, slots=True)
class RulePoints:
    """Points one rule contributes to the order (the cap's are negative)."""

    rule: str
    points: int
    reason: str


@dataclass(frozen=True, slots=True, repr=False)
class EarnQuote:
    """What an order earns: the total, per line and per rule."""

    points: int
    basis: Money
    lines: tuple[LineEarn, ...]
    rules: tuple[RulePoints, ...]
    shipping_points: int = 0
    notes: tuple[str, ...] = ()

    def __repr__(self) -> str:
        lines = len(self.lines)
        return (
            f"<EarnQuote {self.points} points on {self.basis}, "
            f"{lines} line{'s' * (lines != 1)}, {len(self.rules)} rule part(s)>"
        )

    def line_points(self) -> tuple[LinePoints, ...]:
        """The attribution an earn entry keeps, so a refund reverses exactly a line's share."""
        return tuple(
            LinePoints(line.line, line.quantity, line.basis, line.points) for line in self.lines
        )


def exchange_rate(program: Program, currency: str) -> Decimal:
    """What one unit of ``currency`` counts as in the program currency."""
    if currency == program.currency:
        return _ONE
    rate = program.earning.currencies.get(currency)
    if rate is None:
        accepted = ", ".join((program.currency, *program.earning.currencies))
        raise UnsupportedCurrency("currency", currency, f"is not accepted (accepted: {accepted})")
    return rate


def order_earn(program: Program, cart: Cart, at: datetime, context: EarnContext) -> EarnQuote:
    """The points ``cart`` earns at ``at`` for a member in ``context``."""
    policy = program.earning
    fx = exchange_rate(program, cart.currency)
    rounding = program.rounding
    taxes = _line_taxes(cart)
    active = [rule for rule in policy.rules if _applies(rule, cart, at, context.tier, program)]
    multipliers = _multipliers(program, active, context)
    bases: list[Decimal] = []
    lines: list[LineEarn] = []
    exact: list[list[tuple[str, Decimal]]] = []
    exact_points: list[Decimal] = []
    for line, tax in zip(cart.lines, taxes, strict=True):
        base = _line_base(program, cart, line, tax, context.reductions.get(line.ref, _ZERO), fx)
        bases.append(base)
        excluded = _excluded(policy, line)
        applied = [] if excluded else [(n, m) for n, m, rule in multipliers if _fits(rule, line)]
        combined, parts = _combine(policy.combine, base * policy.rate, applied)
        exact.append(parts)
        exact_points.append(_ZERO if excluded else combined)
        lines.append(
            LineEarn(
                line.ref,
                line.sku,
                line.quantity,
                Money(base, program.currency),
                combined / (base * policy.rate) if base else _ONE,
                0,
                tuple(name for name, _ in applied),
                excluded,
            )
        )
    points_by_line, shipping = _whole_points(
        policy.rounding_scope,
        rounding,
        exact_points,
        _shipping_exact(program, cart, context, fx),
    )
    bonuses = _bonuses(active, cart, lines, bases, points_by_line)
    eligible = (base for base, line in zip(bases, lines, strict=True) if not line.excluded)
    basis = Money(sum(eligible, _ZERO), program.currency)
    notes: list[str] = []
    breakdown = _breakdown(exact, bonuses, points_by_line, shipping)
    if policy.min_subtotal is not None and basis.amount < policy.min_subtotal:
        minimum = Money.rounded(policy.min_subtotal, program.currency, Rounding.CEILING)
        notes.append(f"orders below {minimum} earn no points")
        points_by_line = [0] * len(lines)
        shipping, breakdown = 0, []
    total = sum(points_by_line) + shipping
    capped, cap_notes = _cap(policy, total, context)
    if capped < total:
        shares = allocate(capped, [*points_by_line, shipping])
        points_by_line, shipping = shares[:-1], shares[-1]
        breakdown.append(RulePoints("cap", capped - total, "; ".join(cap_notes)))
        notes.extend(cap_notes)
    return EarnQuote(
        points=capped,
        basis=basis,
        lines=tuple(
            replace(line, points=points)
            for line, points in zip(lines, points_by_line, strict=True)
        ),
        rules=tuple(breakdown),
        shipping_points=shipping,
        notes=tuple(notes),
    )


# ------------------------------------------------------------------ the parts


def _line_taxes(cart: Cart) -> list[Decimal]:
    """Each line's tax: as given on every line, or the cart's tax spread by net amount."""
    if all(line.tax is not None for line in cart.lines):
        return [line.tax or _ZERO for line in cart.lines]
    if not cart.tax:
        return [_ZERO] * len(cart.lines)
    return [part.amount for part in cart.money(cart.tax).split([ln.net for ln in cart.lines])]


def _line_base(
    program: Program, cart: Cart, line: Line, tax: Decimal, reduction: Decimal, fx: Decimal
) -> Decimal:
    """What the line earns on, in the program currency, rounded to its minor unit."""
    paid = max(line.net - reduction, _ZERO)
    if not paid:
        return _ZERO
    wants_tax = program.earning.basis.tax is TaxBasis.INCLUDED
    if cart.prices_include_tax and not wants_tax:
        paid = paid * (line.net - tax) / line.net
    elif wants_tax and not cart.prices_include_tax:
        paid = paid * (line.net + tax) / line.net
    return Money.rounded(paid * fx, program.currency, Rounding.HALF_EVEN).amount


def _excluded(policy: EarningPolicy, line: Line) -> str | None:
    if line.gift_card and not policy.basis.gift_cards:
        return "gift cards earn no points"
    if policy.exclude is not None and policy.exclude.matches(line.sku, line.categories, line.tags):
        return "this product earns no points"
    return None


def _applies(
    rule: EarningRule, cart: Cart, at: datetime, tier: str | None, program: Program
) -> bool:
    """Does ``rule`` apply to this order at all (dates, segments, tiers)?"""
    if rule.window is not None and not rule.window.contains(at, program.tz):
        return False
    if rule.segments and not cart.customer.segments.intersection(rule.segments):
        return False
    return not rule.tiers or tier in rule.tiers


def _fits(rule: EarningRule | None, line: Line) -> bool:
    return rule is None or rule.products is None or rule.products.matches(
        line.sku, line.categories, line.tags
    )


def _multipliers(
    program: Program, active: Sequence[EarningRule], context: EarnContext
) -> list[tuple[str, Decimal, EarningRule | None]]:
    """The multipliers that apply to this order, in order: the tier's, then the rules'."""
    found: list[tuple[str, Decimal, EarningRule | None]] = []
    tiers = program.tiers
    if program.earning.tier_multipliers and tiers is not None and context.tier is not None:
        for tier in tiers.ladder:
            if tier.name == context.tier and tier.benefits.earn_multiplier != _ONE:
                found.append((f"tier {tier.name}", tier.benefits.earn_multiplier, None))
    for rule in active:
        if rule.multiplier is not None:
            found.append((rule.name, rule.multiplier, rule))
    return found


def _combine(
    mode: Combine, base: Decimal, applied: Sequence[tuple[str, Decimal]]
) -> tuple[Decimal, list[tuple[str, Decimal]]]:
    """The line's exact points and each multiplier's exact share of them."""
    if not applied:
        return base, []
    if mode is Combine.BEST:
        name, best = max(applied, key=lambda item: item[1])
        return base * best, [(name, base * (best - _ONE))]
    if mode is Combine.ADD:
        parts = [(name, base * (m - _ONE)) for name, m in applied]
        return base + sum((part for _, part in parts), _ZERO), parts
    parts, running = [], base
    for name, m in applied:
        parts.append((name, running * (m - _ONE)))
        running *= m
    return running, parts


def _bonuses(
    active: Sequence[EarningRule],
    cart: Cart,
    lines: list[LineEarn],
    bases: Sequence[Decimal],
    points: list[int],
) -> list[RulePoints]:
    """Add each bonus rule's points to its matching lines (in ``points``); return them."""
    found = []
    for rule in active:
        if rule.bonus is None:
            continue
        matching = [
            index
            for index, (line, earn) in enumerate(zip(cart.lines, lines, strict=True))
            if not earn.excluded and _fits(rule, line)
        ]
        if not matching:
            continue
        shares = allocate(rule.bonus, [bases[index] for index in matching])
        for index, share in zip(matching, shares, strict=True):
            points[index] += share
            lines[index] = replace(lines[index], rules=(*lines[index].rules, rule.name))
        found.append(RulePoints(rule.name, rule.bonus, f"bonus of {rule.bonus} points"))
    return found


def _shipping_exact(program: Program, cart: Cart, context: EarnContext, fx: Decimal) -> Decimal:
    """The exact points of the shipping paid (after loyalty discounts on it), if it earns."""
    if not program.earning.basis.shipping:
        return _ZERO
    paid = max(cart.shipping - context.shipping_reduction, _ZERO)
    base = Money.rounded(paid * fx, program.currency, Rounding.HALF_EVEN).amount
    return base * program.earning.rate


def _whole_points(
    scope: RoundingScope, rounding: Rounding, lines: Sequence[Decimal], shipping: Decimal
) -> tuple[list[int], int]:
    """Whole points per line and for shipping, from their exact points.

    ``order``: the order's exact points are rounded once, then given out by largest
    remainder, so the parts sum to that one rounding. ``line``: each part is rounded
    on its own.
    """
    mode = rounding.decimal_mode
    if scope is RoundingScope.LINE:
        return [_whole(points, mode) for points in lines], _whole(shipping, mode)
    total = _whole(sum(lines, shipping), mode)
    shares = apportion(total, [*lines, shipping])
    return shares[:-1], shares[-1]


def apportion(total: int, exact: Sequence[Decimal]) -> list[int]:
    """Give ``total`` whole points to parts worth ``exact`` (non-negative) points, by
    largest remainder: each part gets its exact points rounded down, then one more
    point goes to each of the parts with the largest fractions (the later part on a
    tie) until ``total`` is reached. ``total`` must lie between the sum of the parts
    rounded down and the sum rounded up, as any rounding of the exact sum does; then
    every part is its exact points rounded down or up, and the parts sum to ``total``.

    >>> apportion(5, [Decimal("0.5")] * 10)
    [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    """
    shares = [_whole(points, ROUND_FLOOR) for points in exact]
    left = total - sum(shares)
    by_fraction = sorted(
        range(len(exact)), key=lambda index: (exact[index] - shares[index], index), reverse=True
    )
    for index in by_fraction[:left]:
        shares[index] += 1
    return shares


def _whole(points: Decimal, mode: str) -> int:
    return int(points.to_integral_value(rounding=mode))


def _breakdown(
    exact: Sequence[Sequence[tuple[str, Decimal]]],
    bonuses: Sequence[RulePoints],
    points: Sequence[int],
    shipping: int,
) -> list[RulePoints]:
    """Points per rule: each multiplier's exact share rounded half-even; the base rate
    takes the rest, so the breakdown sums to the total."""
    shares: dict[str, Decimal] = {}
    for parts in exact:
        for name, share in parts:
            shares[name] = shares.get(name, _ZERO) + share
    half_even = Rounding.HALF_EVEN.decimal_mode
    rules = [
        RulePoints(name, int(share.to_integral_value(rounding=half_even)), f"{name} multiplier")
        for name, share in shares.items()
    ]
    total = sum(points) + shipping
    base = total - sum(rule.points for rule in rules) - sum(bonus.points for bonus in bonuses)
    return [RulePoints("base", base, "base rate"), *rules, *bonuses]


def _cap(policy: EarningPolicy, total: int, context: EarnContext) -> tuple[int, list[str]]:
    """The total after the caps, and a note for each cap that cut it."""
    caps = policy.caps
    limits = []
    if caps.per_order is not None:
        limits.append((caps.per_order, f"at most {caps.per_order} points per order"))
    if caps.per_day is not None:
        left = max(caps.per_day - context.earned_today, 0)
        limits.append((left, f"at most {caps.per_day} points per day ({left} left today)"))
    if caps.per_period is not None:
        cap = caps.per_period
        left = max(cap.points - context.earned_this_period, 0)
        limits.append(
            (left, f"at most {cap.points} points per {cap.period} ({left} left this {cap.period})")
        )
    capped = min([total, *(limit for limit, _ in limits)])
    return capped, [note for limit, note in limits if limit < total]
