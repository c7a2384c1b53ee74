"""Resolving a bundle of grants: what it will issue, what it is worth, and whether
its gifts are in stock. Pure, but for reading stock from the shared rows.

:func:`resolve` walks ``all_of`` and ``one_of`` (a choice the member makes later is
one open holding; ``highest_value_in_stock`` is made at once), works out cashback
(an amount, or a percent of the occasion's order) and collects coupons, gifts and
points into a :class:`Bundle`. A gift that is out of stock refuses the bundle unless
it is ``optional``. :func:`value_of` is what a grant is worth to the member, for its
cost and to rank a choice's options.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import TypeAdapter

from loyalty.incentives.config import (
    AllOf,
    Cashback,
    ChoicePolicy,
    Gift,
    OneOf,
    PointsGrant,
)
from loyalty.incentives.config import Grant as GrantConfig
from loyalty.incentives.offers import CouponGrant
from loyalty.incentives.plan import Occasion
from loyalty.incentives.shared import Shared
from loyalty.ledger.entries import Holding, HoldingKind
from loyalty.money import Money, Rounding
from loyalty.program.model import Program

__all__ = ["GRANTS", "Bundle", "available", "in_stock", "resolve", "stock_of", "value_of"]

GRANTS: TypeAdapter[tuple[GrantConfig, ...]] = TypeAdapter(tuple[GrantConfig, ...])


@dataclass
class Bundle:
    """A bundle being resolved: what it will issue and what it costs."""

    holdings: list[Holding] = field(default_factory=list)
    coupons: list[CouponGrant] = field(default_factory=list)
    points: list[tuple[PointsGrant, int]] = field(default_factory=list)
    gifts: list[Gift] = field(default_factory=list)
    money: Decimal = Decimal(0)
    """Face value of coupons, gifts, choices and cashback (program currency)."""
    notes: list[str] = field(default_factory=list)


def resolve(
    program: Program,
    grants: Iterable[GrantConfig],
    occasion: Occasion,
    shared: Shared,
    incentive: str,
    bundle: Bundle,
) -> str | None:
    """Add ``grants`` to ``bundle``; a reason if a required one is out of stock."""
    for grant in grants:
        if isinstance(grant, AllOf):
            inner = Bundle()
            short = resolve(program, grant.grants, occasion, shared, incentive, inner)
            if short is not None:
                if grant.optional:
                    bundle.notes.append(f"skipped {grant.title or 'a bundle'}: {short}")
                    continue
                return short
            _merge(bundle, inner)
        elif isinstance(grant, OneOf):
            short = _choice(program, grant, occasion, shared, incentive, bundle)
            if short is not None:
                if grant.optional:
                    bundle.notes.append(f"skipped {grant.title or 'a choice'}: {short}")
                    continue
                return short
        elif isinstance(grant, PointsGrant):
            bundle.points.append((grant, grant.points))
        elif isinstance(grant, Cashback):
            amount = _cashback(program, grant, occasion)
            if amount:
                bundle.money += amount
                bundle.holdings.append(_credit(program, grant, amount, occasion))
            else:
                bundle.notes.append("no cashback: nothing to take a percent of")
        else:
            if isinstance(grant, Gift) and not in_stock(shared, incentive, grant):
                reason = f"{grant.sku} is out of stock"
                if grant.optional:
                    bundle.notes.append(f"skipped gift {grant.sku}: out of stock")
                    continue
                return reason
            bundle.coupons.append(grant)
            bundle.money += value_of(grant)
            if isinstance(grant, Gift):
                bundle.gifts.append(grant)
    return None


def _merge(bundle: Bundle, inner: Bundle) -> None:
    bundle.holdings += inner.holdings
    bundle.coupons += inner.coupons
    bundle.points += inner.points
    bundle.gifts += inner.gifts
    bundle.money += inner.money
    bundle.notes += inner.notes


def _choice(
    program: Program,
    grant: OneOf,
    occasion: Occasion,
    shared: Shared,
    incentive: str,
    bundle: Bundle,
) -> str | None:
    """A choice: left open for the member (``member_picks``), or made at once."""
    options = [o for o in grant.grants if available(program, o, occasion, shared, incentive)]
    if not options:
        return "every option is out of stock"
    if grant.policy is ChoicePolicy.HIGHEST_VALUE_IN_STOCK:
        best = max(options, key=value_of)
        return resolve(program, (best,), occasion, shared, incentive, bundle)
    worth = max(value_of(option) for option in grant.grants)
    bundle.money += worth
    currency = program.currency
    until = grant.deadline.after(occasion.at, program.tz)
    bundle.holdings.append(
        Holding(
            key="",
            kind=HoldingKind.CHOICE,
            incentive=incentive,
            campaign="",
            issued_at=occasion.at,
            valid_from=occasion.at,
            valid_until=until,
            value=Money(worth, currency),
            offer=GRANTS.dump_json(grant.grants, exclude_none=True).decode(),
            title=grant.title or f"a choice of {len(grant.grants)}",
        )
    )
    return None


def available(
    program: Program, grant: GrantConfig, occasion: Occasion, shared: Shared, incentive: str
) -> bool:
    """Can ``grant`` be given now: every gift in it that is not optional in stock?"""
    return resolve(program, (grant,), occasion, shared, incentive, Bundle()) is None


def in_stock(shared: Shared, incentive: str, gift: Gift) -> bool:
    return gift.stock is None or shared.used(stock_of(incentive, gift)) < gift.stock


def stock_of(incentive: str, gift: Gift) -> str:
    return f"stock:{incentive}:{gift.sku}"


def value_of(grant: GrantConfig) -> Decimal:
    """What a grant is worth to the member (the program currency), for its cost and to
    pick the best of a choice; points and percent offers without a ``value`` count 0."""
    if isinstance(grant, Gift):
        return grant.value
    if isinstance(grant, AllOf):
        return sum((value_of(inner) for inner in grant.grants), Decimal(0))
    if isinstance(grant, OneOf):
        return max(value_of(inner) for inner in grant.grants)
    if isinstance(grant, Cashback):
        return grant.amount or Decimal(0)
    if isinstance(grant, PointsGrant):
        return Decimal(0)
    if grant.value is not None:
        return grant.value
    offer = getattr(grant, "offer", None)
    amount = getattr(offer, "amount", None)
    return amount if isinstance(amount, Decimal) else Decimal(0)


def _cashback(program: Program, grant: Cashback, occasion: Occasion) -> Decimal:
    if grant.amount is not None:
        return grant.amount
    order = occasion.order
    if order is None or grant.percent is None:
        return Decimal(0)
    amount = Money(order.amount.amount, program.currency).times(grant.percent / 100, Rounding.FLOOR)
    if grant.max_amount is not None:
        amount = min(amount, Money(grant.max_amount, program.currency))
    return amount.amount


def _credit(program: Program, grant: Cashback, amount: Decimal, occasion: Occasion) -> Holding:
    start, end = grant.valid.bounds(occasion.at, program.tz)
    money = Money(amount, program.currency)
    return Holding(
        key="",
        kind=HoldingKind.CASHBACK,
        incentive="",
        campaign="",
        issued_at=occasion.at,
        valid_from=start,
        valid_until=end,
        value=money,
        amount=money,
        remaining=money,
        title=grant.title or f"{money} cashback",
    )
