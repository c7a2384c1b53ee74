"""What the engine knows about a member when it looks at a cart.

The member's tier and completed orders come from the account (unless the cart
says otherwise), the loyalty discounts already on the cart from the account's
redemptions on it, and what their orders earned today and this period (for the
caps) from its journal.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from loyalty.cart import Cart
from loyalty.dates import Period, start_of
from loyalty.earning.calculate import EarnContext, exchange_rate
from loyalty.errors import InvalidInput
from loyalty.ledger.account import Account
from loyalty.rewards.discount import discountable

__all__ = ["MemberContext", "member_context"]


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


def member_context(account: Account, cart: Cart, at: datetime) -> MemberContext:
    """``account``'s standing at its clock (bring it to ``at`` first), for ``cart``."""
    if cart.member_id != account.member_id:
        raise InvalidInput(
            "cart.member_id", cart.member_id, f"is not the account's member {account.member_id!r}"
        )
    program = account.program
    status = account.tier()
    tier = cart.customer.tier if cart.customer.tier is not None else (
        status.tier if status is not None else None
    )
    orders = cart.customer.completed_orders
    if orders is None:
        orders = account.completed_orders(excluding=cart.id)
    reductions: dict[str, Decimal] = {}
    shipping = Decimal(0)
    for record in account.redemptions(cart.id):
        if not record.in_use:
            continue
        for part in record.discounts:
            reductions[part.line] = reductions.get(part.line, Decimal(0)) + part.amount.amount
        if record.shipping_discount is not None:
            shipping += record.shipping_discount.amount
    caps = program.earning.caps
    today = (
        account.order_points_since(start_of(Period.DAY, at, program.tz))
        if caps.per_day is not None
        else 0
    )
    period = (
        account.order_points_since(start_of(caps.per_period.period, at, program.tz))
        if caps.per_period is not None
        else 0
    )
    return MemberContext(
        tier=tier,
        orders_before=orders,
        available_points=account.balance().available,
        rate=exchange_rate(program, cart.currency),
        earn=EarnContext(
            tier=tier,
            earned_today=today,
            earned_this_period=period,
            reductions=reductions,
            shipping_reduction=shipping,
        ),
        room=discountable(cart, reductions),
    )
