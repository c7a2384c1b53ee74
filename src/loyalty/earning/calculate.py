"""What a cart earns: points per line, per rule, after caps. Pure: reads no state.

For each line, in this order:

1. **Base.** The line's price after the shop's discounts and after the loyalty
   rewards applied to it, with tax taken out of (or added to) it per
   ``earning.basis.tax``, in the program currency (at the configured rate for
   another currency), rounded to the cent.
2. **Excluded?** Gift-card purchases (unless ``basis.gift_cards``) and
   ``exclude``-d products earn nothing.
3. **Points per unit.** Each ``per_unit`` rule that applies adds its points per
   unit of the line (gift cards never), in proportion to the share of the line
   still paid after the loyalty rewards on it.
4. **Multipliers.** The tier's ``earn_multiplier`` and every multiplier rule
   that applies (its products, campaign window, segments and tiers), combined
   as ``combine`` says. A line's exact points are
   ``(base x rate + points per unit) x multiplier``.
5. **Whole points.** With ``rounding_scope: order`` (the default) the order's
   exact points (its lines', and its shipping's if shipping earns) are rounded
   once with the program's rounding and given to the lines and shipping by
   largest remainder (:func:`~loyalty.earning.rounding.apportion`), so splitting
   a basket never changes what it earns; with ``line`` each line and the
   shipping round on their own.
6. **Bonuses.** A bonus rule's fixed points go once per order, spread over its
   matching lines in proportion to their base.

Then the order: nothing below ``min_subtotal``; shipping earns at the base rate
if ``basis.shipping``; the caps per order, day and period cut the total, spread
back over the lines in proportion. The per-rule breakdown always sums to the
total: rounding is absorbed by the base line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from loyalty.cart import Cart, Line
from loyalty.earning.config import Combine
from loyalty.earning.plan import EarningPlan, RulePlan, earning_plan
from loyalty.earning.rounding import apportion, spread, whole, whole_points
from loyalty.earning.units import per_unit_rules, unit_points
from loyalty.errors import UnsupportedCurrency
from loyalty.ledger.entries import LinePoints
from loyalty.money import MAX_AMOUNT, Money, Rounding, allocate
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
    """The points ``cart`` earns at ``at`` for a member in ``context``.

    Evaluates the program's compiled :func:`~loyalty.earning.plan.earning_plan`: a
    line visits only the rules that may select it, an order only the rules whose
    segment, tier or window gate it passes.
    """
    plan = earning_plan(program)
    fx = plan.currencies.get(cart.currency)
    if fx is None:
        fx = exchange_rate(program, cart.currency)  # raises UnsupportedCurrency
    tier = context.tier
    segments = cart.customer.segments
    everywhere = plan.open_everywhere(at, segments, tier)
    tier_rates = plan.tier_rates.get(tier, ()) if tier is not None else ()
    bases = _line_bases(plan, cart, context.reductions, fx)
    rate, combine, exclude, by_unit = plan.rate, plan.combine, plan.exclude, plan.per_unit
    opened: dict[int, bool] = {}
    applied_by_line: list[list[RulePlan]] = []
    exact: list[list[tuple[str, Decimal]]] = []
    exact_points: list[Decimal] = []
    multipliers: list[Decimal] = []
    excluded_by_line: list[str | None] = []
    units_by_line: list[list[tuple[RulePlan, Decimal]]] = []
    for line, base in zip(cart.lines, bases, strict=True):
        excluded: str | None = None
        if line.gift_card and not plan.gift_cards_earn:
            excluded = "gift cards earn no points"
        elif exclude is not None and exclude.matches(line.sku, line.categories, line.tags):
            excluded = "this product earns no points"
        excluded_by_line.append(excluded)
        earns = base * rate
        if excluded is not None:
            if by_unit:
                units_by_line.append([])
            applied_by_line.append([])
            exact.append([])
            exact_points.append(_ZERO)
            multipliers.append(_ONE)
            continue
        rules = _line_rules(plan, line, everywhere, opened, at, segments, tier)
        applied_by_line.append(rules)
        if by_unit:
            units = unit_points(line, rules, context.reductions)
            units_by_line.append(units)
            earns += sum((points for _, points in units), _ZERO)
        parts: list[tuple[str, Decimal, Decimal]] = [
            (rate_.label, rate_.multiplier, rate_.extra) for rate_ in tier_rates
        ]
        parts += [
            (rule.name, rule.multiplier, rule.extra) for rule in rules
            if rule.multiplier is not None
        ]
        combined, line_shares = _combine(combine, earns, parts)
        exact.append(line_shares)
        exact_points.append(combined)
        multipliers.append(combined / earns if earns and parts else _ONE)
    points_by_line, shipping = whole_points(
        plan.rounding_scope,
        plan.rounding_mode,
        exact_points,
        _shipping_exact(plan, cart, context, fx),
    )
    names: list[list[str]] = [
        [rate_.label for rate_ in tier_rates] if excluded is None and tier_rates else []
        for excluded in excluded_by_line
    ]
    per_unit: list[RulePoints] = []
    if by_unit:  # the per-unit rules that earned, among the multipliers, in order
        for index, rules in enumerate(applied_by_line):
            earning = {rule.index for rule, _ in units_by_line[index]}
            names[index] += [
                rule.name for rule in rules
                if rule.multiplier is not None or rule.index in earning
            ]
        per_unit = [RulePoints(*part) for part in per_unit_rules(units_by_line)]
    else:
        for index, rules in enumerate(applied_by_line):
            names[index] += [rule.name for rule in rules if rule.multiplier is not None]
    bonuses = _bonuses(applied_by_line, bases, points_by_line, names)
    basis = _basis(plan, bases, excluded_by_line)
    notes: list[str] = []
    breakdown = _breakdown(exact, per_unit, bonuses, points_by_line, shipping)
    if plan.min_subtotal is not None and basis.amount < plan.min_subtotal:
        notes.append(plan.min_subtotal_note)
        points_by_line = [0] * len(bases)
        shipping, breakdown = 0, []
    total = sum(points_by_line) + shipping
    capped, cap_notes = _cap(plan, total, context)
    if capped < total:
        cut = allocate(capped, [*points_by_line, shipping])
        points_by_line, shipping = cut[:-1], cut[-1]
        breakdown.append(RulePoints("cap", capped - total, "; ".join(cap_notes)))
        notes.extend(cap_notes)
    currency = plan.currency
    return EarnQuote(
        points=capped,
        basis=basis,
        lines=tuple(
            LineEarn(
                line.ref,
                line.sku,
                line.quantity,
                Money._exact(base, currency) if base else plan.zero,
                multiplier,
                points,
                tuple(rule_names),
                excluded,
            )
            for line, base, multiplier, points, rule_names, excluded in zip(
                cart.lines, bases, multipliers, points_by_line, names, excluded_by_line,
                strict=True,
            )
        ),
        rules=tuple(breakdown),
        shipping_points=shipping,
        notes=tuple(notes),
    )


# ------------------------------------------------------------------ the parts


def _line_bases(
    plan: EarningPlan, cart: Cart, reductions: Mapping[str, Decimal], fx: Decimal
) -> list[Decimal]:
    """What each line earns on, in the program currency, rounded to its minor unit:
    what is paid for it (after the loyalty discounts on it), with tax taken out or
    added as the basis says."""
    adjust = plan.tax_included != cart.prices_include_tax
    taxes = _line_taxes(cart) if adjust else None
    quantum = plan.quantum
    found: list[Decimal] = []
    for index, line in enumerate(cart.lines):
        net = line.net
        paid = max(net - reductions.get(line.ref, _ZERO), _ZERO) if reductions else net
        if not paid:
            found.append(_ZERO)
            continue
        if taxes is not None:
            if cart.prices_include_tax:
                paid = paid * (net - taxes[index]) / net
            else:
                paid = paid * (net + taxes[index]) / net
        found.append(_to_quantum(paid * fx, quantum, plan.currency))
    return found


def _to_quantum(amount: Decimal, quantum: Decimal, currency: str) -> Decimal:
    """``amount`` (not negative) rounded half-even to ``quantum``, as
    :meth:`Money.rounded` does (which also refuses amounts beyond the largest)."""
    if amount > MAX_AMOUNT:
        return Money.rounded(amount, currency, Rounding.HALF_EVEN).amount
    return amount.quantize(quantum, rounding=ROUND_HALF_EVEN)


def _line_taxes(cart: Cart) -> list[Decimal]:
    """Each line's tax: as given on every line, or the cart's tax spread by net amount."""
    if all(line.tax is not None for line in cart.lines):
        return [line.tax or _ZERO for line in cart.lines]
    if not cart.tax:
        return [_ZERO] * len(cart.lines)
    return [part.amount for part in cart.money(cart.tax).split([ln.net for ln in cart.lines])]


def _line_rules(
    plan: EarningPlan,
    line: Line,
    everywhere: list[RulePlan],
    opened: dict[int, bool],
    at: datetime,
    segments: frozenset[str],
    tier: str | None,
) -> list[RulePlan]:
    """The rules that apply to ``line``, in configuration order: those for every line
    that apply to the order, and those that select it and apply to the order
    (``opened`` remembers the order's answer for each rule)."""
    candidates = list(plan.by_sku.get(line.sku, ()))
    by_category, by_tag = plan.by_category, plan.by_tag
    for category in line.categories:
        candidates += by_category.get(category, ())
    for tag in line.tags:
        candidates += by_tag.get(tag, ())
    if not candidates:
        return everywhere
    found = {rule.index: rule for rule in everywhere}
    for rule in candidates:
        index = rule.index
        if index in found:
            continue
        ok = opened.get(index)
        if ok is None:
            ok = opened[index] = rule.open_to(at, segments, tier)
        if ok:
            found[index] = rule
    return [found[index] for index in sorted(found)]


def _combine(
    mode: Combine, base: Decimal, applied: Sequence[tuple[str, Decimal, Decimal]]
) -> tuple[Decimal, list[tuple[str, Decimal]]]:
    """The line's exact points and each multiplier's exact share of them, from its
    multipliers ``(name, multiplier, multiplier - 1)`` in order."""
    if not applied:
        return base, []
    if mode is Combine.MULTIPLY:
        parts, running = [], base
        for name, m, extra in applied:
            parts.append((name, running * extra))
            running *= m
        return running, parts
    if mode is Combine.BEST:
        name, best, extra = max(applied, key=lambda item: item[1])
        return base * best, [(name, base * extra)]
    shares = [(name, base * extra) for name, _, extra in applied]
    return base + sum((share for _, share in shares), _ZERO), shares


def _bonuses(
    applied: Sequence[Sequence[RulePlan]],
    bases: Sequence[Decimal],
    points: list[int],
    names: list[list[str]],
) -> list[RulePoints]:
    """Add each bonus rule's points to its matching lines (in ``points``, and its name
    to theirs in ``names``), spread in proportion to their bases; return them."""
    matching: dict[int, tuple[RulePlan, list[int]]] = {}
    for index, rules in enumerate(applied):
        for rule in rules:
            if rule.bonus is not None:
                matching.setdefault(rule.index, (rule, []))[1].append(index)
    found = []
    for _, (rule, lines) in sorted(matching.items()):
        bonus = rule.bonus or 0
        for index, share in zip(lines, spread(bonus, [bases[i] for i in lines]), strict=True):
            points[index] += share
            names[index].append(rule.name)
        found.append(RulePoints(rule.name, bonus, rule.bonus_reason))
    return found


def _basis(plan: EarningPlan, bases: Sequence[Decimal], excluded: Sequence[str | None]) -> Money:
    """What the eligible lines earn on, together."""
    amount = sum((base for base, out in zip(bases, excluded, strict=True) if out is None), _ZERO)
    if not amount:
        return plan.zero
    if amount > MAX_AMOUNT:
        return Money(amount, plan.currency)  # raises: beyond the largest amount
    return Money._exact(amount, plan.currency)


def _shipping_exact(plan: EarningPlan, cart: Cart, context: EarnContext, fx: Decimal) -> Decimal:
    """The exact points of the shipping paid (after loyalty discounts on it), if it earns."""
    if not plan.shipping_earns:
        return _ZERO
    paid = max(cart.shipping - context.shipping_reduction, _ZERO)
    return _to_quantum(paid * fx, plan.quantum, plan.currency) * plan.rate


def _breakdown(
    exact: Sequence[Sequence[tuple[str, Decimal]]],
    per_unit: Sequence[RulePoints],
    bonuses: Sequence[RulePoints],
    points: Sequence[int],
    shipping: int,
) -> list[RulePoints]:
    """Points per rule: each multiplier's exact share rounded half-even, then the
    per-unit rules' and the bonuses; the base rate takes the rest, so the breakdown
    sums to the total."""
    shares: dict[str, Decimal] = {}
    for parts in exact:
        for name, share in parts:
            shares[name] = shares.get(name, _ZERO) + share
    rules = [
        RulePoints(name, whole(share, ROUND_HALF_EVEN), f"{name} multiplier")
        for name, share in shares.items()
    ]
    rules += per_unit
    total = sum(points) + shipping
    base = total - sum(rule.points for rule in rules) - sum(bonus.points for bonus in bonuses)
    return [RulePoints("base", base, "base rate"), *rules, *bonuses]


def _cap(plan: EarningPlan, total: int, context: EarnContext) -> tuple[int, list[str]]:
    """The total after the caps, and a note for each cap that cut it."""
    capped, notes = total, []
    if plan.per_order is not None and plan.per_order < total:
        capped = min(capped, plan.per_order)
        notes.append(f"at most {plan.per_order} points per order")
    if plan.per_day is not None:
        left = max(plan.per_day - context.earned_today, 0)
        if left < total:
            capped = min(capped, left)
            notes.append(f"at most {plan.per_day} points per day ({left} left today)")
    if plan.per_period is not None:
        left = max(plan.per_period - context.earned_this_period, 0)
        if left < total:
            capped = min(capped, left)
            notes.append(
                f"at most {plan.per_period} points per {plan.period} "
                f"({left} left this {plan.period})"
            )
    return capped, notes
