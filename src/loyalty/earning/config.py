"""The ``earning`` section: how orders and actions become points.

```yaml
earning:
  rate: 1                        # points per unit of the program currency
  basis: {tax: excluded, shipping: false, gift_cards: false}
  min_subtotal: "5.00"           # orders whose eligible amount is below this earn nothing
  combine: multiply              # multiply | add | best: how the multipliers of a line combine
  rounding_scope: order          # order: round the order's points once | line: each line
  tier_multipliers: true         # the member's tier benefit earn_multiplier applies
  exclude: {categories: [gift-cards]}
  rules:
    - {name: double-makeup, products: {categories: [makeup]}, multiplier: 2}
    - {name: singles-day, window: {starts: 2026-11-11, ends: 2026-11-12}, multiplier: 3}
    - {name: newsletter, segments: [newsletter], multiplier: 1.25}
    - {name: serum-launch, products: {skus: [SER-01]}, bonus: 50}
    - {name: a-units, products: {skus: [A]}, per_unit: 1}   # 1 point per unit of A
  caps: {per_order: 1000, per_day: 2000, per_period: {points: 10000, period: month}}
  currencies: {EUR: "1.08"}      # 1 EUR counts as 1.08 of the program currency
  actions:
    signup: {points: 50}                          # once per member (the default)
    review: {points: 10, times: 5, per: month}
```

The base of a line is what the customer actually pays for it: its price after
the shop's discounts and after every loyalty reward applied to it (points paid
are a discount too), with tax in or out as configured. Payments by gift card or
store credit are tenders, not discounts: they never lower the base. Gift-card
purchases, shipping and excluded products earn nothing unless configured to.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from loyalty.dates import Period
from loyalty.errors import Problem
from loyalty.program.amounts import Amount, Count, Points
from loyalty.program.types import CurrencyCode, DateRange, PositiveDecimal, Section, Selector

__all__ = [
    "BonusAction",
    "Caps",
    "Combine",
    "EarnBasis",
    "EarningPolicy",
    "EarningRule",
    "PeriodCap",
    "RoundingScope",
    "TaxBasis",
]

Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", max_length=64)]


class Combine(StrEnum):
    """How the multipliers that apply to one line combine."""

    MULTIPLY = "multiply"
    """2x and 1.5x make 3x."""
    ADD = "add"
    """The extra parts add up: 2x and 1.5x make 1 + 1 + 0.5 = 2.5x."""
    BEST = "best"
    """Only the largest applies: 2x and 1.5x make 2x."""


class RoundingScope(StrEnum):
    """Where the program's ``rounding`` turns exact points into whole points."""

    ORDER = "order"
    """Once, on the order's exact points; the whole points are then given to the lines
    by largest remainder, so splitting a basket into more lines never changes its points."""
    LINE = "line"
    """Each line on its own (and shipping on its own): ten lines of 0.50 earn 10 points
    with ``half_up``, where one line of 5.00 earns 5."""


class TaxBasis(StrEnum):
    """Whether points are earned on amounts with or without tax."""

    EXCLUDED = "excluded"
    """Points on amounts without tax (tax is taken out of tax-inclusive prices)."""
    INCLUDED = "included"
    """Points on amounts with tax (tax is added to tax-exclusive prices)."""


class EarnBasis(Section):
    """Which amounts earn. Discounts and rewards always lower the base; tenders never do."""

    tax: TaxBasis = TaxBasis.EXCLUDED
    """Whether lines earn on their price without tax (``excluded``) or with tax (``included``); the
    cart's tax is taken out of, or added to, its prices to match."""
    shipping: bool = Field(default=False, description="Does shipping earn?")
    gift_cards: bool = Field(default=False, description="Do gift-card purchases earn?")


class EarningRule(Section):
    """A multiplier, a fixed bonus or points per unit, for some products, dates,
    segments or tiers."""

    name: Name
    """Names the rule in a quote's points per rule and in the reason of the order's earn entry
    (``earned on order 1001 (double-makeup)``); no two rules share a name."""
    products: Selector | None = Field(
        default=None, description="The lines it applies to; every line if omitted."
    )
    window: DateRange | None = Field(
        default=None, description="A campaign window, in the program's timezone."
    )
    segments: tuple[str, ...] = Field(
        default=(), description="Only for customers in one of these segments."
    )
    tiers: tuple[str, ...] = Field(default=(), description="Only for members in these tiers.")
    multiplier: PositiveDecimal | None = None
    """Multiplies the points of matching lines (the rate's and per-unit points, not bonuses): 1.5
    gives half as much again; combined with the line's other multipliers as ``earning.combine``
    says. Give exactly one of ``multiplier``, ``bonus`` or ``per_unit``."""
    bonus: Points | None = Field(
        default=None,
        description="Fixed points once per order that has a matching line, "
        "spread over the matching lines.",
    )
    per_unit: Points | None = Field(
        default=None,
        description="Points per unit of each matching line, beside the rate on money; "
        "multiplied like the rate's points, never on gift cards.",
    )

    @model_validator(mode="after")
    def _one_effect(self) -> EarningRule:
        given = [self.multiplier, self.bonus, self.per_unit]
        if sum(effect is not None for effect in given) != 1:
            raise ValueError("give exactly one of multiplier, bonus or per_unit")
        return self


class PeriodCap(Section):
    """At most ``points`` earned by orders in each calendar ``period`` (day, month,
    quarter or year) of the program's time zone; an order past the cap earns what is
    left of it."""

    points: Points
    """Most points orders earn together in one period; an order past it earns what is left."""
    period: Period
    """The calendar period the cap counts in, in the program's timezone; a new one starts at its
    local midnight."""


class Caps(Section):
    """Most points orders can earn: per order, per local day, per calendar period."""

    per_order: Points | None = None
    """Most points one order earns (its lines', bonuses' and shipping's together); no cap if
    omitted."""
    per_day: Points | None = None
    """Most points orders earn in one local day (the program's timezone), counting the day's earlier
    orders; no cap if omitted."""
    per_period: PeriodCap | None = None
    """Most points orders earn in each calendar day, month, quarter or year; no cap if omitted."""


ActionPeriod = Literal["lifetime", "day", "month", "quarter", "year"]


class BonusAction(Section):
    """Fixed points for something that is not an order, at most ``times`` per ``per``."""

    points: Points
    """Points credited each time the action is awarded."""
    times: Count = 1
    """How often a member can be awarded the action in each ``per`` period; one more is refused
    (``ActionLimitReached``)."""
    per: ActionPeriod = "lifetime"
    """The period ``times`` counts in: ``lifetime``, or the calendar day, month, quarter or year
    (program's timezone) in which the action happened."""


class EarningPolicy(Section):
    """The ``earning`` section: how money and actions become points. A base ``rate``
    per unit of the program currency on what the customer pays (the ``basis``), rules
    that multiply or add for some products, dates, segments or tiers, the tier
    multiplier, per-order and per-period ``caps``, rounding, other ``currencies`` at a
    fixed rate, and fixed points for ``actions`` that are not orders."""

    rate: PositiveDecimal = Field(
        default=Decimal(1), description="Base earn rate: points per unit of the program currency."
    )
    basis: EarnBasis = EarnBasis()
    """Which amounts earn: tax in or out, shipping, gift-card purchases. Discounts and rewards
    always lower the base; tenders (gift cards, store credit used to pay) never do."""
    min_subtotal: Amount | None = Field(
        default=None, description="Orders whose eligible amount is below this earn no points."
    )
    combine: Combine = Combine.MULTIPLY
    """How the multipliers that apply to one line combine (the rules' and the tier's
    ``earn_multiplier``): ``multiply`` (2x and 1.5x make 3x), ``add`` (2.5x) or ``best`` (2x)."""
    rounding_scope: RoundingScope = Field(
        default=RoundingScope.ORDER,
        description="order: round the order's exact points once and give them to the lines "
        "by largest remainder; line: round each line (and shipping) on its own.",
    )
    tier_multipliers: bool = Field(
        default=True, description="Apply the member's tier benefit earn_multiplier."
    )
    exclude: Selector | None = Field(default=None, description="Products that never earn.")
    rules: tuple[EarningRule, ...] = ()
    """Rules that add a multiplier, a fixed bonus or points per unit for some products, dates,
    segments or tiers; every rule whose conditions hold applies."""
    caps: Caps = Caps()
    """Most points orders can earn: per order, per local day, per calendar period. A cap that cuts
    an order's points says so in the quote's notes."""
    currencies: dict[CurrencyCode, PositiveDecimal] = Field(
        default_factory=dict,
        description="Other currencies orders may be in, each with what one unit counts as "
        "in the program currency (a fixed rate; no live exchange rates).",
    )
    actions: dict[Name, BonusAction] = Field(
        default_factory=dict,
        description="Points for actions that are not orders: signup, birthday, review...",
    )

    def problems(self) -> list[Problem]:
        """What is wrong across the rules (a name used twice), each with its path."""
        found = []
        names = [rule.name for rule in self.rules]
        for index, name in enumerate(names):
            if name in names[:index]:
                found.append(Problem(f"rules[{index}].name", f"{name!r} is used twice", name))
        return found
