"""What a reward's discount is, and the arithmetic around it. Pure.

Where a reward lands on a cart, with the other discounts on it, is the stacking
engine's work (:mod:`loyalty.stacking`); this module holds what a redemption
reads back: :class:`Discount` (its lines, its shipping, its points), what is
left to discount of each line, and the worth of points paid with.

Amounts in the configuration are in the program currency; on a cart in another
accepted currency they are converted at the configured rate, rounded down (a
discount is never more than configured).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from loyalty.cart import Cart, Line
from loyalty.ledger.entries import DiscountLine
from loyalty.money import Money, Rounding
from loyalty.rewards.config import FreeProduct, PayWithPoints

__all__ = [
    "Discount",
    "discountable",
    "free_product_choices",
    "points_fault",
    "points_value",
    "total_of",
]

_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Discount:
    """What a reward takes off a cart, line by line and off the shipping, and the
    points it costs."""

    lines: tuple[DiscountLine, ...]
    shipping: Money | None
    points: int

    @property
    def total(self) -> Money | None:
        """The whole discount (``None`` for an empty one on no line)."""
        return total_of(self.lines, self.shipping)


def total_of(lines: tuple[DiscountLine, ...], shipping: Money | None) -> Money | None:
    """Discount lines and shipping added up; ``None`` when there are none."""
    parts = [line.amount for line in lines]
    if shipping is not None:
        parts.append(shipping)
    return sum(parts[1:], parts[0]) if parts else None


def discountable(cart: Cart, reductions: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """What is left to discount of each line (gift cards excluded), in the cart currency."""
    return {
        line.ref: max(line.net - reductions.get(line.ref, _ZERO), _ZERO)
        for line in cart.lines
        if not line.gift_card
    }


def points_value(reward: PayWithPoints, points: int, rate: Decimal, currency: str) -> Money:
    """What ``points`` are worth on a cart in ``currency`` (rounded down)."""
    worth = Decimal(points) * reward.value / reward.points
    return Money.rounded(worth / rate, currency, Rounding.FLOOR)


def points_fault(reward: PayWithPoints, points: int) -> str | None:
    """Why ``reward`` cannot take ``points`` (a multiple of its step, at least its
    minimum), or ``None``."""
    if points % reward.step:
        return f"{points} points: must be a multiple of {reward.step}"
    if points < reward.min_points:
        return f"{points} points: must be at least {reward.min_points}"
    return None


def free_product_choices(reward: FreeProduct, cart: Cart) -> list[Line]:
    """The lines of ``cart`` the member may pick as the free product."""
    return [line for line in cart.lines if line.sku in reward.choices and not line.gift_card]
