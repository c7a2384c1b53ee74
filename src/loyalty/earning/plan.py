"""The ``earning`` section compiled into an evaluation plan, once per program.

:func:`earning_plan` turns a program's earning configuration into plain,
frozen data that :func:`~loyalty.earning.calculate.order_earn` evaluates
without walking the configuration:

* selectors as frozensets (:class:`Selects`);
* rules that select products indexed by sku, category and tag, so a line visits
  only the rules that may select it; rules that select every line are indexed
  by what gates them for the order (a segment, else a tier, else a campaign
  window, else nothing), so an order visits only the rules whose gate it passes;
* campaign windows resolved once to instants (dates are read in the program's
  timezone) and, for the rules gated by a window alone, the rules open in each
  interval between two window boundaries, found by bisection and memoised;
* segments and tiers as frozensets, multipliers with their extra part
  (``multiplier - 1``) precomputed, the tier multipliers by tier name, the
  minor unit of the program currency, the rounding mode, the caps;
* whether any rule gives points per unit (a ``per_unit`` rule is indexed like
  any other, by what it selects or what gates it; without one, no line looks).

The plan is cached per :class:`~loyalty.program.model.Program` object (a
program is immutable) and dropped with it. It holds no per-order state and is
safe to share between threads (the interval memo only ever gains equal values).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Final

from loyalty.currencies import MINOR_UNITS
from loyalty.earning.config import Combine, EarningRule, RoundingScope, TaxBasis
from loyalty.money import Money, Rounding
from loyalty.program.compiled import compiled
from loyalty.program.model import Program
from loyalty.program.types import Selector

__all__ = ["EarningPlan", "RulePlan", "Selects", "earning_plan"]

_ONE: Final = Decimal(1)


@dataclass(frozen=True, slots=True)
class Selects:
    """A :class:`~loyalty.program.types.Selector` as frozensets: a line matches if its
    sku, one of its categories or one of its tags is named."""

    skus: frozenset[str]
    categories: frozenset[str]
    tags: frozenset[str]

    @classmethod
    def of(cls, selector: Selector) -> Selects:
        return cls(frozenset(selector.skus), frozenset(selector.categories),
                   frozenset(selector.tags))

    def matches(self, sku: str, categories: Iterable[str], tags: Iterable[str]) -> bool:
        return (
            sku in self.skus
            or not self.categories.isdisjoint(categories)
            or not self.tags.isdisjoint(tags)
        )


@dataclass(frozen=True, slots=True, eq=False)
class RulePlan:
    """One earning rule, ready to check: its position in the configuration (the order
    its multiplier applies in), its gates and its effect (a multiplier, a bonus or
    points per unit)."""

    index: int
    name: str
    multiplier: Decimal | None
    extra: Decimal
    """``multiplier - 1``: the multiplier's extra part (0 for a bonus)."""
    bonus: int | None
    bonus_reason: str
    per_unit: int | None
    """Points per unit of a matching line (before the line's multipliers)."""
    per_unit_reason: str
    selects: Selects | None
    """The lines it applies to; every line if ``None``."""
    starts: datetime | None
    """The campaign window as UTC instants: ``starts <= at < ends``."""
    ends: datetime | None
    segments: frozenset[str]
    tiers: frozenset[str]

    def open_to(self, at: datetime, segments: frozenset[str], tier: str | None) -> bool:
        """Does the rule apply to an order at ``at``, by a customer in ``segments``
        and a member in ``tier`` (its window, segments and tiers; each if given)?"""
        return (
            (self.starts is None or at >= self.starts)
            and (self.ends is None or at < self.ends)
            and (not self.segments or not self.segments.isdisjoint(segments))
            and (not self.tiers or tier in self.tiers)
        )


@dataclass(frozen=True, slots=True)
class _Windows:
    """Rules gated only by a campaign window: the rules open in each interval between
    two consecutive window boundaries (memoised on first use)."""

    rules: tuple[RulePlan, ...]
    bounds: tuple[datetime, ...]
    memo: dict[int, tuple[RulePlan, ...]] = field(default_factory=dict)

    def open_at(self, at: datetime) -> tuple[RulePlan, ...]:
        if not self.rules:
            return ()
        slot = bisect_right(self.bounds, at)
        found = self.memo.get(slot)
        if found is None:
            # Every instant of a slot is on the same side of every boundary, so the
            # rules open at ``at`` are the rules open anywhere in its slot.
            found = tuple(
                rule
                for rule in self.rules
                if (rule.starts is None or at >= rule.starts)
                and (rule.ends is None or at < rule.ends)
            )
            self.memo[slot] = found
        return found


@dataclass(frozen=True, slots=True)
class TierRate:
    """A tier's earn multiplier, as it applies to the lines of its members."""

    label: str
    multiplier: Decimal
    extra: Decimal


@dataclass(frozen=True, slots=True, eq=False)
class EarningPlan:
    """A program's earning section, compiled (see the module)."""

    currency: str
    quantum: Decimal
    """The program currency's minor unit (``0.01`` for USD)."""
    zero: Money
    rate: Decimal
    rounding_mode: str
    rounding_scope: RoundingScope
    combine: Combine
    tax_included: bool
    shipping_earns: bool
    gift_cards_earn: bool
    exclude: Selects | None
    min_subtotal: Decimal | None
    min_subtotal_note: str
    currencies: dict[str, Decimal]
    """What one unit of each accepted currency counts as (the program's own is 1)."""
    tier_rates: dict[str, tuple[TierRate, ...]]
    """The tier multipliers (other than 1) of each tier, if tier multipliers apply."""
    by_sku: dict[str, tuple[RulePlan, ...]]
    by_category: dict[str, tuple[RulePlan, ...]]
    by_tag: dict[str, tuple[RulePlan, ...]]
    """Rules that select products, by what they name."""
    by_segment: dict[str, tuple[RulePlan, ...]]
    """Rules for every line gated by segments, under each of their segments."""
    by_tier: dict[str, tuple[RulePlan, ...]]
    """Rules for every line gated by tiers (and no segment), under each tier."""
    windows: _Windows
    """Rules for every line gated only by a campaign window."""
    always: tuple[RulePlan, ...]
    """Rules for every line with no gate at all."""
    per_unit: bool
    """Does any rule give points per unit? (If not, no line looks for them.)"""
    per_order: int | None
    per_day: int | None
    per_period: int | None
    period: str

    def open_everywhere(
        self, at: datetime, segments: frozenset[str], tier: str | None
    ) -> list[RulePlan]:
        """The rules for every line that apply to this order, in configuration order."""
        found: dict[int, RulePlan] = {rule.index: rule for rule in self.always}
        for rule in self.windows.open_at(at):
            found[rule.index] = rule
        for segment in segments:
            for rule in self.by_segment.get(segment, ()):
                if rule.index not in found and rule.open_to(at, segments, tier):
                    found[rule.index] = rule
        if tier is not None:
            for rule in self.by_tier.get(tier, ()):
                if rule.open_to(at, segments, tier):
                    found[rule.index] = rule
        return [found[index] for index in sorted(found)]


def _instant(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _rule(index: int, rule: EarningRule, program: Program) -> RulePlan:
    window = rule.window
    tz = program.tz
    return RulePlan(
        index=index,
        name=rule.name,
        multiplier=rule.multiplier,
        extra=_ONE if rule.multiplier is None else rule.multiplier - _ONE,
        bonus=rule.bonus,
        bonus_reason=f"bonus of {rule.bonus} points",
        per_unit=rule.per_unit,
        per_unit_reason=f"{rule.per_unit} point{'s' * (rule.per_unit != 1)} per unit",
        selects=None if rule.products is None else Selects.of(rule.products),
        starts=None if window is None else _instant(window.start(tz)),
        ends=None if window is None else _instant(window.end(tz)),
        segments=frozenset(rule.segments),
        tiers=frozenset(rule.tiers),
    )


def _index(pairs: Iterable[tuple[str, RulePlan]]) -> dict[str, tuple[RulePlan, ...]]:
    found: dict[str, list[RulePlan]] = {}
    for key, rule in pairs:
        rules = found.setdefault(key, [])
        if not any(seen is rule for seen in rules):
            rules.append(rule)
    return {key: tuple(rules) for key, rules in found.items()}


def compile_plan(program: Program) -> EarningPlan:
    """Compile ``program``'s earning section (uncached: see :func:`earning_plan`)."""
    policy = program.earning
    rules = [_rule(index, rule, program) for index, rule in enumerate(policy.rules)]
    selecting = [rule for rule in rules if rule.selects is not None]
    everywhere = [rule for rule in rules if rule.selects is None]
    gated_by_window = [
        rule for rule in everywhere
        if not rule.segments and not rule.tiers and (rule.starts or rule.ends)
    ]
    bounds = sorted(
        {moment for rule in gated_by_window for moment in (rule.starts, rule.ends) if moment}
    )
    tier_rates: dict[str, tuple[TierRate, ...]] = {}
    if policy.tier_multipliers and program.tiers is not None:
        for tier in program.tiers.ladder:
            multiplier = tier.benefits.earn_multiplier
            if multiplier != _ONE:
                rate = TierRate(f"tier {tier.name}", multiplier, multiplier - _ONE)
                tier_rates[tier.name] = (*tier_rates.get(tier.name, ()), rate)
    caps = policy.caps
    currency = program.currency
    minimum = policy.min_subtotal
    return EarningPlan(
        currency=currency,
        quantum=_ONE.scaleb(-MINOR_UNITS[currency]),
        zero=Money.zero(currency),
        rate=policy.rate,
        rounding_mode=program.rounding.decimal_mode,
        rounding_scope=policy.rounding_scope,
        combine=policy.combine,
        tax_included=policy.basis.tax is TaxBasis.INCLUDED,
        shipping_earns=policy.basis.shipping,
        gift_cards_earn=policy.basis.gift_cards,
        exclude=None if policy.exclude is None else Selects.of(policy.exclude),
        min_subtotal=minimum,
        min_subtotal_note=""
        if minimum is None
        else f"orders below {Money.rounded(minimum, currency, Rounding.CEILING)} earn no points",
        currencies={currency: _ONE, **{
            code: rate for code, rate in policy.currencies.items() if code != currency
        }},
        tier_rates=tier_rates,
        by_sku=_index((sku, r) for r in selecting if r.selects for sku in r.selects.skus),
        by_category=_index(
            (name, r) for r in selecting if r.selects for name in r.selects.categories
        ),
        by_tag=_index((tag, r) for r in selecting if r.selects for tag in r.selects.tags),
        by_segment=_index((s, r) for r in everywhere for s in r.segments),
        by_tier=_index((t, r) for r in everywhere if not r.segments for t in r.tiers),
        windows=_Windows(tuple(gated_by_window), tuple(bounds)),
        always=tuple(
            r for r in everywhere
            if not r.segments and not r.tiers and r.starts is None and r.ends is None
        ),
        per_unit=any(rule.per_unit is not None for rule in rules),
        per_order=caps.per_order,
        per_day=caps.per_day,
        per_period=None if caps.per_period is None else caps.per_period.points,
        period="" if caps.per_period is None else f"{caps.per_period.period}",
    )


def earning_plan(program: Program) -> EarningPlan:
    """The evaluation plan of ``program``'s earning section, compiled on first use and
    kept as long as the program object lives."""
    return compiled(program, compile_plan)


