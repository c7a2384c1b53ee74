"""The compiled earning plan gives what a straightforward reading of the configuration
gives: ``order_earn`` (which evaluates :func:`loyalty.earning.plan.earning_plan`)
against :func:`reference_earn`, a plain interpreter that walks every rule for every
line exactly as docs/earning.md says, on random programs, carts, members and times."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import hypothesis.strategies as st
from hypothesis import given, settings

from loyalty import Program, load_cart, load_program
from loyalty.cart import Cart, Line
from loyalty.earning.calculate import (
    EarnContext,
    EarnQuote,
    LineEarn,
    RulePoints,
    apportion,
    exchange_rate,
    order_earn,
)
from loyalty.earning.config import Combine, EarningRule, RoundingScope, TaxBasis
from loyalty.earning.plan import earning_plan
from loyalty.errors import LoyaltyError
from loyalty.money import Money, Rounding, allocate

ZERO, ONE = Decimal(0), Decimal(1)

# ------------------------------------------------------------------ the reference


def reference_earn(program: Program, cart: Cart, at: datetime, context: EarnContext) -> EarnQuote:
    """What ``cart`` earns, read straight from the configuration: every rule is checked
    for the order (window, segments, tiers) and, if it applies, for every line."""
    policy = program.earning
    currency = program.currency
    fx = exchange_rate(program, cart.currency)
    wants_tax = policy.basis.tax is TaxBasis.INCLUDED
    taxes = line_taxes(cart)
    active = [rule for rule in policy.rules if applies(rule, program, cart, at, context.tier)]
    multipliers: list[tuple[str, Decimal, EarningRule | None]] = []
    if policy.tier_multipliers and program.tiers is not None:
        for tier in program.tiers.ladder:
            factor = tier.benefits.earn_multiplier
            if tier.name == context.tier and factor != ONE:
                multipliers.append((f"tier {tier.name}", factor, None))
    multipliers += [(r.name, r.multiplier, r) for r in active if r.multiplier is not None]

    bases, exact, shares, names, excluded = [], [], [], [], []
    for line, tax in zip(cart.lines, taxes, strict=True):
        # The base: what is paid for the line, tax out (or in), converted, to the cent.
        paid = max(line.net - context.reductions.get(line.ref, ZERO), ZERO)
        if paid and cart.prices_include_tax and not wants_tax:
            paid = paid * (line.net - tax) / line.net
        elif paid and wants_tax and not cart.prices_include_tax:
            paid = paid * (line.net + tax) / line.net
        base = Money.rounded(paid * fx, currency, Rounding.HALF_EVEN).amount if paid else ZERO
        bases.append(base)
        # Excluded?
        why = None
        if line.gift_card and not policy.basis.gift_cards:
            why = "gift cards earn no points"
        elif policy.exclude is not None and policy.exclude.matches(
            line.sku, line.categories, line.tags
        ):
            why = "this product earns no points"
        excluded.append(why)
        # Multipliers, in order, combined.
        points = base * policy.rate
        applied = [] if why else [(n, m) for n, m, r in multipliers if selects(r, line)]
        parts: list[tuple[str, Decimal]] = []
        if applied and policy.combine is Combine.MULTIPLY:
            for name, factor in applied:
                parts.append((name, points * (factor - ONE)))
                points *= factor
        elif applied and policy.combine is Combine.ADD:
            parts = [(name, points * (factor - ONE)) for name, factor in applied]
            points += sum((part for _, part in parts), ZERO)
        elif applied:
            name, best = max(applied, key=lambda item: item[1])
            parts = [(name, points * (best - ONE))]
            points *= best
        exact.append(ZERO if why else points)
        shares.append(parts)
        names.append([name for name, _ in applied])

    # Whole points: once for the order (largest remainder), or per line.
    shipping_exact = ZERO
    if policy.basis.shipping:
        paid = max(cart.shipping - context.shipping_reduction, ZERO)
        shipping_exact = Money.rounded(paid * fx, currency, Rounding.HALF_EVEN).amount * policy.rate
    mode = program.rounding.decimal_mode
    if policy.rounding_scope is RoundingScope.LINE:
        points_by_line = [whole(points, mode) for points in exact]
        shipping = whole(shipping_exact, mode)
    else:
        *points_by_line, shipping = apportion(
            whole(sum(exact, shipping_exact), mode), [*exact, shipping_exact]
        )

    # Bonuses: once per order, over the matching lines by base.
    bonuses = []
    for rule in active:
        if rule.bonus is None:
            continue
        matching = [
            index for index, line in enumerate(cart.lines)
            if excluded[index] is None and selects(rule, line)
        ]
        if matching:
            for index, share in zip(
                matching, allocate(rule.bonus, [bases[i] for i in matching]), strict=True
            ):
                points_by_line[index] += share
                names[index].append(rule.name)
            bonuses.append(RulePoints(rule.name, rule.bonus, f"bonus of {rule.bonus} points"))

    basis = Money(sum((b for b, why in zip(bases, excluded, strict=True) if not why), ZERO),
                  currency)
    by_rule: dict[str, Decimal] = {}
    for parts in shares:
        for name, share in parts:
            by_rule[name] = by_rule.get(name, ZERO) + share
    rules = [
        RulePoints(name, whole(share, ROUND_HALF_EVEN), f"{name} multiplier")
        for name, share in by_rule.items()
    ]
    total = sum(points_by_line) + shipping
    base_part = total - sum(r.points for r in rules) - sum(b.points for b in bonuses)
    breakdown = [RulePoints("base", base_part, "base rate"), *rules, *bonuses]
    notes = []
    if policy.min_subtotal is not None and basis.amount < policy.min_subtotal:
        least = Money.rounded(policy.min_subtotal, currency, Rounding.CEILING)
        notes.append(f"orders below {least} earn no points")
        points_by_line, shipping, breakdown = [0] * len(cart.lines), 0, []

    # Caps.
    total = sum(points_by_line) + shipping
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
    if capped < total:
        cut = [note for limit, note in limits if limit < total]
        *points_by_line, shipping = allocate(capped, [*points_by_line, shipping])
        breakdown.append(RulePoints("cap", capped - total, "; ".join(cut)))
        notes += cut

    lines = []
    for index, line in enumerate(cart.lines):
        base = bases[index]
        lines.append(LineEarn(
            line.ref, line.sku, line.quantity, Money(base, currency),
            exact[index] / (base * policy.rate) if base and not excluded[index] else ONE,
            points_by_line[index], tuple(names[index]), excluded[index],
        ))
    return EarnQuote(capped, basis, tuple(lines), tuple(breakdown), shipping, tuple(notes))


def applies(rule: EarningRule, program: Program, cart: Cart, at: datetime,
            tier: str | None) -> bool:
    if rule.window is not None and not rule.window.contains(at, program.tz):
        return False
    if rule.segments and not set(rule.segments) & set(cart.customer.segments):
        return False
    return not rule.tiers or tier in rule.tiers


def selects(rule: EarningRule | None, line: Line) -> bool:
    return rule is None or rule.products is None or rule.products.matches(
        line.sku, line.categories, line.tags
    )


def line_taxes(cart: Cart) -> list[Decimal]:
    if all(line.tax is not None for line in cart.lines):
        return [line.tax or ZERO for line in cart.lines]
    if not cart.tax:
        return [ZERO] * len(cart.lines)
    return [part.amount for part in cart.money(cart.tax).split([ln.net for ln in cart.lines])]


def whole(points: Decimal, mode: str) -> int:
    return int(points.to_integral_value(rounding=mode))


# ------------------------------------------------------------------ random programs

SKUS = ("A", "B", "C", "D")
CATEGORIES = ("makeup", "skincare", "hair")
TAGS = ("new", "sale")
SEGMENTS = ("vip", "app", "staff")
TIERS = ("Member", "Silver", "Gold")
TIMEZONES = ("UTC", "America/New_York", "Asia/Tokyo")
DAYS = tuple(date(2026, 3, 1) + timedelta(days=n) for n in range(0, 35, 7))


def some(values: Sequence[str], most: int = 2) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(values), max_size=most, unique=True)


@st.composite
def selectors(draw: st.DrawFn) -> dict[str, Any]:
    found = {"skus": draw(some(SKUS)), "categories": draw(some(CATEGORIES)),
             "tags": draw(some(TAGS, 1))}
    if not any(found.values()):
        found["skus"] = [draw(st.sampled_from(SKUS))]
    return {key: value for key, value in found.items() if value}


@st.composite
def windows(draw: st.DrawFn) -> dict[str, Any]:
    first, second = sorted(draw(st.lists(st.sampled_from(DAYS), min_size=2, max_size=2,
                                         unique=True)))
    found: dict[str, Any] = {}
    if draw(st.booleans()):
        found["starts"] = first.isoformat()
    if draw(st.booleans()) or not found:
        found["ends"] = second.isoformat()
    return found


@st.composite
def rules(draw: st.DrawFn, index: int) -> dict[str, Any]:
    rule: dict[str, Any] = {"name": f"rule-{index}"}
    if draw(st.booleans()):
        rule["products"] = draw(selectors())
    if draw(st.integers(0, 3)) == 0:
        rule["window"] = draw(windows())
    if draw(st.integers(0, 3)) == 0:
        rule["segments"] = draw(some(SEGMENTS))
    if draw(st.integers(0, 3)) == 0:
        rule["tiers"] = draw(some(TIERS))
    if draw(st.integers(0, 2)):
        rule["multiplier"] = draw(st.sampled_from(("0.5", "1", "1.1", "1.25", "1.5", "2", "3")))
    else:
        rule["bonus"] = draw(st.integers(1, 60))
    return rule


@st.composite
def programs(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(0, 8))
    earning: dict[str, Any] = {
        "rate": draw(st.sampled_from(("1", "2", "0.5", "1.5", "0.3333"))),
        "basis": {"tax": draw(st.sampled_from(("excluded", "included"))),
                  "shipping": draw(st.booleans()), "gift_cards": draw(st.booleans())},
        "combine": draw(st.sampled_from(("multiply", "add", "best"))),
        "rounding_scope": draw(st.sampled_from(("order", "line"))),
        "tier_multipliers": draw(st.booleans()),
        "rules": [draw(rules(index)) for index in range(count)],
        "currencies": {"EUR": "1.08", "JPY": "0.0067"},
    }
    if draw(st.booleans()):
        earning["min_subtotal"] = draw(st.sampled_from(("5.00", "20.00", "99.99")))
    if draw(st.booleans()):
        earning["exclude"] = draw(selectors())
    caps: dict[str, Any] = {}
    if draw(st.booleans()):
        caps["per_order"] = draw(st.integers(1, 300))
    if draw(st.booleans()):
        caps["per_day"] = draw(st.integers(1, 500))
    if draw(st.booleans()):
        caps["per_period"] = {"points": draw(st.integers(1, 900)),
                              "period": draw(st.sampled_from(("month", "year")))}
    earning["caps"] = caps
    multipliers = draw(st.lists(st.sampled_from(("1", "1.25", "1.5", "2")), min_size=3,
                                max_size=3))
    tiers = {"metrics": ["net_spend"], "ladder": [
        {"name": name, **({"threshold": {"net_spend": 100 * n}} if n else {}),
         "benefits": {"earn_multiplier": multiplier}}
        for n, (name, multiplier) in enumerate(zip(TIERS, multipliers, strict=True))
    ]}
    return {"id": "club", "name": "Club", "currency": "USD",
            "timezone": draw(st.sampled_from(TIMEZONES)),
            "rounding": draw(st.sampled_from(("floor", "half_up", "half_even", "ceiling"))),
            "earning": earning, "tiers": tiers}


amounts = st.integers(0, 20_000).map(lambda cents: str(Decimal(cents).scaleb(-2)))


@st.composite
def carts(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 5))
    with_tax = draw(st.booleans())
    lines = []
    for index in range(count):
        quantity = draw(st.integers(1, 3))
        price = draw(amounts)
        line: dict[str, Any] = {
            "id": f"L{index}", "sku": draw(st.sampled_from(SKUS)), "unit_price": price,
            "quantity": quantity, "categories": draw(some(CATEGORIES)),
            "tags": draw(some(TAGS)), "gift_card": draw(st.integers(0, 5)) == 0,
        }
        gross = Decimal(price) * quantity
        if draw(st.booleans()):
            share = Decimal(draw(st.sampled_from(("0", "0.1", "0.5", "1"))))
            line["discount"] = str((gross * share).quantize(Decimal("0.01"), ROUND_FLOOR))
        net = gross - Decimal(line.get("discount", "0"))
        if with_tax:  # at most the line's price: tax included in a price is part of it
            line["tax"] = str(min(gross / 10, net).quantize(Decimal("0.01"), ROUND_FLOOR))
        lines.append(line)
    currency = draw(st.sampled_from(("USD", "USD", "EUR")))
    included = draw(st.booleans())
    tax = Decimal(draw(amounts))
    if included:  # a cart's tax included in its prices is at most what they come to
        nets = sum(Decimal(ln["unit_price"]) * ln["quantity"] - Decimal(ln.get("discount", "0"))
                   for ln in lines)
        tax = min(tax, nets)
    return {"id": "C", "member_id": "m", "currency": currency, "lines": lines,
            "shipping": draw(amounts), "tax": str(tax), "prices_include_tax": included,
            "customer": {"segments": draw(some(SEGMENTS))}}


@st.composite
def contexts(draw: st.DrawFn, cart: Cart) -> EarnContext:
    reductions = {}
    for line in cart.lines:
        if draw(st.integers(0, 3)) == 0:
            reductions[line.ref] = (line.net * Decimal(draw(st.sampled_from(("0.3", "1", "2"))))
                                    ).quantize(Decimal("0.01"), ROUND_FLOOR)
    return EarnContext(
        tier=draw(st.none() | st.sampled_from((*TIERS, "Platinum"))),
        earned_today=draw(st.integers(0, 600)),
        earned_this_period=draw(st.integers(0, 1000)),
        reductions=reductions,
        shipping_reduction=cart.shipping * Decimal(draw(st.sampled_from(("0", "0.5", "1")))),
    )


def instants(timezone: str) -> st.SearchStrategy[datetime]:
    """Midnights in the program's timezone on the days windows start and end on, and
    instants between them."""
    return st.builds(
        lambda day, hours: datetime.combine(day, time(), ZoneInfo(timezone)).astimezone(UTC)
        + timedelta(hours=hours),
        st.sampled_from(DAYS),
        st.sampled_from((0, 0, 0, 30)),
    )


def facts(quote: EarnQuote) -> dict[str, Any]:
    """Everything a quote says, with amounts as text (so 5.0 and 5.00 differ)."""
    return {
        "points": quote.points,
        "basis": str(quote.basis),
        "shipping": quote.shipping_points,
        "lines": [(line.line, line.sku, line.quantity, str(line.basis), line.multiplier,
                   line.points, line.rules, line.excluded) for line in quote.lines],
        "rules": list(quote.rules),
        "notes": quote.notes,
    }


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_the_compiled_plan_earns_what_a_plain_reading_of_the_configuration_earns(
    data: st.DataObject,
) -> None:
    program = load_program(data.draw(programs(), label="program"))
    cart = load_cart(data.draw(carts(), label="cart"))
    context = data.draw(contexts(cart), label="context")
    # Several instants on one program, in any order, each with the second before and
    # after it: the plan (and its memo of the rules open between window boundaries)
    # is reused, and a boundary is met from both sides.
    moments = [
        moment + timedelta(seconds=step)
        for moment in data.draw(
            st.lists(instants(program.timezone), min_size=1, max_size=3), label="at"
        )
        for step in (-1, 0, 1)
    ]
    for at in data.draw(st.permutations(moments), label="order"):
        found = outcome(order_earn, program, cart, at, context)
        expected = outcome(reference_earn, program, cart, at, context)
        assert found == expected


def outcome(earn: Any, *args: Any) -> Any:
    """What ``earn(*args)`` says (see :func:`facts`), or the error it raises (a line
    whose tax is more than its tax-inclusive price has a negative base)."""
    try:
        quote = earn(*args)
    except LoyaltyError as error:
        return type(error), str(error)
    return facts(quote), quote


def test_the_plan_is_compiled_once_per_program_and_dropped_with_it() -> None:
    mapping = {"id": "club", "name": "Club", "currency": "USD", "timezone": "UTC",
               "earning": {"rules": [{"name": "x", "multiplier": "2"}]}}
    program = load_program(mapping)
    assert earning_plan(program) is earning_plan(program)
    other = load_program(mapping)  # an equal program, another object: its own plan
    assert earning_plan(other) is not earning_plan(program)
    from loyalty.program import compiled as module

    before = len(module._plans)
    del other
    import gc

    gc.collect()
    assert len(module._plans) == before - 1
