"""What the engine knows about a member when it looks at a cart.

The tier is the one the member holds *before* the cart becomes an order: the
order that lifts a member into a tier earns at, and gets the benefits of, the
tier they held when it was placed; the upgrade applies from the next order.

The member's tier and completed orders come from the account (unless the cart
says otherwise), the loyalty discounts on the cart from its stack (the
redemptions on it and the offers the member sees: :mod:`loyalty.checkout.stacked`),
and what their orders earned today and this period (for the caps) from its
journal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal

from loyalty.cart import Cart
from loyalty.checkout.stacked import (
    CartStack,
    Standing,
    brings_back,
    cart_stack,
    restacked,
    shipping_of,
    unwritten_offers,
    with_lines,
)
from loyalty.dates import Period, end_of, start_of
from loyalty.earning.calculate import EarnContext, exchange_rate
from loyalty.errors import InvalidInput
from loyalty.hurdles import Basis
from loyalty.incentives.audience import Facts
from loyalty.incentives.issue import member_facts
from loyalty.ledger.account import Account
from loyalty.money import Money, Rounding
from loyalty.program.model import Program
from loyalty.rewards.discount import discountable

__all__ = ["MemberContext", "audience_facts", "earn_context", "member_context"]


@dataclass(frozen=True, slots=True)
class MemberContext:
    """A member's standing, as it bears on one cart."""

    tier: str | None
    orders_before: int
    available_points: int
    rate: Decimal
    """What one unit of the cart's currency counts as in the program currency."""
    earn: EarnContext
    room: dict[str, Decimal]
    """What is left to discount of each line, after the loyalty discounts already on it."""
    tier_shipping: Decimal = Decimal(0)
    """The shipping the member's tier benefit takes off (``free_shipping``,
    ``free_shipping_above``), in the cart currency; counted in ``earn.shipping_reduction``."""
    amounts: dict[Basis, Money] = field(default_factory=dict)
    """The cart's amounts on each basis after the loyalty discounts already on it, as
    hurdles measure them, memoised for the rewards of one quote."""
    stack: CartStack | None = None
    """The cart's stack: the redemptions on it and the offers the member sees."""
    facts: Callable[[], Facts] | None = None
    """The member's audience facts (worked out when first asked)."""
    reductions: dict[str, Decimal] = field(default_factory=dict)
    """What the cart's stack takes off each line (hurdles measure the basket after
    it); ``earn`` counts only the redemptions written on the cart, as completing the
    order will."""
    shipping_reduction: Decimal = Decimal(0)
    """The shipping the tier's benefit and the cart's stack take off."""


def member_context(account: Account, cart: Cart, at: datetime) -> MemberContext:
    """``account``'s standing at its clock (bring it to ``at`` first), for ``cart``.

    For a cart of a late event (``at`` before the account's clock), the standing as
    it was at ``at``: the tier then, the orders before it, and what was earned in
    ``at``'s day and cap period. The loyalty discounts on the cart are its stack's."""
    earn, tier_shipping, rate, late = _standing(account, cart, at)
    orders = cart.customer.completed_orders
    if orders is None:
        orders = account.completed_orders(excluding=cart.id, before=at if late else None)
    available = account.balance().available
    facts = audience_facts(account, at, cart.customer.segments)
    standing = Standing(at, available, earn.tier, orders, rate)
    stacked = cart_stack(
        account, cart, standing, tier_shipping=tier_shipping, facts=facts
    )
    reductions = stacked.reductions()
    room = discountable(cart, reductions)
    earn = _with_unwritten_offers(account, cart, earn, stacked)
    return MemberContext(
        tier=earn.tier,
        orders_before=orders,
        available_points=available,
        rate=rate,
        earn=earn,
        room=room,
        tier_shipping=tier_shipping,
        stack=stacked,
        facts=facts,
        reductions=reductions,
        shipping_reduction=tier_shipping + stacked.shipping(),
    )


def _with_unwritten_offers(
    account: Account, cart: Cart, earn: EarnContext, stacked: CartStack
) -> EarnContext:
    """``earn`` with the offers of the cart's stack when none is written yet: completing
    the order writes them, so a quote earns as the order will."""
    if brings_back(stacked):  # completing the order writes the whole stack
        reductions: dict[str, Decimal] = {}
        shipping = Decimal(0)
        for record in account.redemptions(cart.id):
            if not record.in_use:
                continue
            if restacked(record, stacked.base):
                if record.shipping_discount is not None:
                    shipping -= record.shipping_discount.amount
                continue
            for part in record.discounts:
                reductions[part.line] = reductions.get(part.line, Decimal(0)) + part.amount.amount
        return replace(
            earn,
            reductions=with_lines(reductions, stacked.base.applied),
            shipping_reduction=earn.shipping_reduction + shipping
            + shipping_of(stacked.base.applied),
        )
    offers = unwritten_offers(account, cart.id, stacked)
    if not offers:
        return earn
    return replace(
        earn,
        reductions=with_lines(earn.reductions, offers),
        shipping_reduction=earn.shipping_reduction + shipping_of(offers),
    )


def audience_facts(account: Account, at: datetime, segments: Iterable[str]) -> Callable[[], Facts]:
    """The member's audience :class:`~loyalty.incentives.audience.Facts` at ``at``: built
    on the first call only (``account`` must still stand at ``at`` then), and kept."""
    chosen = frozenset(segments)
    found: list[Facts] = []

    def facts() -> Facts:
        if not found:
            found.append(member_facts(account, at, chosen))
        return found[0]

    return facts


def earn_context(account: Account, cart: Cart, at: datetime) -> EarnContext:
    """What an order of ``cart`` earns by: the part of :func:`member_context` that
    completing an order needs (no discount room, no order count)."""
    return _standing(account, cart, at)[0]


def _standing(
    account: Account, cart: Cart, at: datetime
) -> tuple[EarnContext, Decimal, Decimal, bool]:
    """The earn context, the tier's shipping benefit, the exchange rate, and whether
    ``at`` is before the account's clock (a late event)."""
    if cart.member_id != account.member_id:
        raise InvalidInput(
            "cart.member_id", cart.member_id, f"is not the account's member {account.member_id!r}"
        )
    program = account.program
    given = cart.customer.tier
    if given is not None and (program.tiers is None or program.tiers.get(given) is None):
        raise InvalidInput(
            "cart.customer.tier",
            given,
            "is not a tier of the program's ladder"
            if program.tiers is not None
            else "is given, but the program has no tiers",
        )
    late = account.clock is not None and at < account.clock
    status = account.tier(at if late else None)
    tier = cart.customer.tier if cart.customer.tier is not None else (
        status.tier if status is not None else None
    )
    reductions: dict[str, Decimal] = {}
    shipping = Decimal(0)
    for record in account.redemptions(cart.id):
        if not record.in_use:
            continue
        for part in record.discounts:
            reductions[part.line] = reductions.get(part.line, Decimal(0)) + part.amount.amount
        if record.shipping_discount is not None:
            shipping += record.shipping_discount.amount
    rate = exchange_rate(program, cart.currency)
    tier_shipping = _tier_shipping(program, tier, cart, reductions, shipping, rate)
    caps = program.earning.caps
    today = _earned_in(account, Period.DAY, at, late) if caps.per_day is not None else 0
    period = (
        _earned_in(account, caps.per_period.period, at, late)
        if caps.per_period is not None
        else 0
    )
    earn = EarnContext(
        tier=tier,
        earned_today=today,
        earned_this_period=period,
        reductions=reductions,
        shipping_reduction=shipping + tier_shipping,
    )
    return earn, tier_shipping, rate, late


def _earned_in(account: Account, period: Period, at: datetime, late: bool) -> int:
    """Points orders earned in the ``period`` (a local day, month...) that holds ``at``."""
    tz = account.program.tz
    end = end_of(period, at, tz) if late else None
    return account.order_points_between(start_of(period, at, tz), end)


def _tier_shipping(
    program: Program,
    tier: str | None,
    cart: Cart,
    reductions: dict[str, Decimal],
    shipping_off: Decimal,
    rate: Decimal,
) -> Decimal:
    """The shipping left to pay that ``tier``'s benefits make free, in the cart currency.

    ``free_shipping: true`` makes it free on every order; ``free_shipping_above``
    (with or without it) only when the merchandise, after the loyalty discounts
    already on the cart, reaches the amount (program currency, converted).
    """
    left = max(cart.shipping - shipping_off, Decimal(0))
    rung = program.tiers.get(tier) if program.tiers is not None else None
    if not left or rung is None:
        return Decimal(0)
    benefits = rung.benefits
    above = benefits.free_shipping_above
    if above is None:
        return left if benefits.free_shipping else Decimal(0)
    basket = sum(
        (
            max(line.net - reductions.get(line.ref, Decimal(0)), Decimal(0))
            for line in cart.lines
            if not line.gift_card
        ),
        Decimal(0),
    )
    need = Money.rounded(Decimal(above) / rate, cart.currency, Rounding.CEILING).amount
    return left if basket >= need else Decimal(0)
