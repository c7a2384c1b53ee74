"""The discount a reward gives on a cart, as discount lines. Pure.

A discount is spread over the lines it applies to in proportion to what is
left of each (its price after the shop's discounts and the loyalty discounts
already on the cart), in minor units: each line gets its share rounded down,
and the remainder goes to the last line that has room, so the lines sum to the
discount exactly, no line goes below zero and the discount never exceeds what
the lines are worth. Gift-card purchases are never discounted.

Amounts in the configuration are in the program currency; on a cart in
another accepted currency they are converted at the configured rate, rounded
down (a discount is never more than configured).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_FLOOR, Decimal

from loyalty.cart import Cart, Line
from loyalty.currencies import MINOR_UNITS
from loyalty.errors import InvalidInput, InvalidPoints
from loyalty.ledger.entries import DiscountLine
from loyalty.money import Money, Rounding
from loyalty.rewards.config import (
    AmountOff,
    FreeProduct,
    FreeShipping,
    PayWithPoints,
    PercentOff,
    Reward,
)

__all__ = [
    "Discount",
    "discount",
    "discountable",
    "free_product_choices",
    "points_value",
    "room_units",
    "spread",
    "total_of",
]

_ZERO = Decimal(0)


class Discount:
    """What a reward takes off a cart, line by line, and the points it costs.

    ``Discount(lines, shipping, points)``. A discount spread over lines (see
    :func:`spread`) works its lines out when they are first read: a quote shows
    only its total; a redemption writes its lines.
    """

    __slots__ = ("_lines", "_shares", "_total", "points", "shipping")

    shipping: Money | None
    points: int

    def __init__(
        self, lines: tuple[DiscountLine, ...], shipping: Money | None, points: int
    ) -> None:
        self._lines: tuple[DiscountLine, ...] | None = lines
        self._shares: tuple[Money, dict[str, int]] | None = None
        self._total: Money | None = None
        self.shipping = shipping
        self.points = points

    @classmethod
    def _spread(cls, total: Money, units: Mapping[str, int], points: int) -> Discount:
        """``total`` (more than zero, at most the ``units`` of room) spread over the lines
        with :func:`spread`'s shares, worked out when first read (internal)."""
        found = cls((), None, points)
        found._lines = None
        found._shares = (total, dict(units))
        found._total = total
        return found

    @property
    def lines(self) -> tuple[DiscountLine, ...]:
        if self._lines is None:
            assert self._shares is not None
            total, units = self._shares
            self._lines = _lines(total.minor_units, units, total.currency)
        return self._lines

    @property
    def total(self) -> Money | None:
        """The whole discount (``None`` for an empty one on no line)."""
        if self._total is not None:
            return self._total
        return total_of(self.lines, self.shipping)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Discount):
            return NotImplemented
        return (self.lines, self.shipping, self.points) == (
            other.lines, other.shipping, other.points
        )

    def __hash__(self) -> int:
        return hash((self.lines, self.shipping, self.points))

    def __repr__(self) -> str:
        return f"Discount(lines={self.lines!r}, shipping={self.shipping!r}, points={self.points!r})"


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


def spread(total: Money, room: Mapping[str, Decimal]) -> tuple[DiscountLine, ...]:
    """``total`` over the lines in proportion to their ``room``; none above its room.

    Each line gets its share rounded down to the minor unit; the remainder goes to
    the last line with room left, then the one before it.
    """
    units = room_units(room, total.currency)
    wanted = _within(total, units)
    return _lines(wanted, units, total.currency) if wanted else ()


def room_units(room: Mapping[str, Decimal], currency: str) -> dict[str, int]:
    """The ``room`` of each line that has some, in whole minor units (rounded down)."""
    digits = MINOR_UNITS[currency]
    return {
        ref: int(left.scaleb(digits).to_integral_value(rounding=ROUND_FLOOR))
        for ref, left in room.items()
        if left > 0
    }


def _within(total: Money, units: Mapping[str, int]) -> int:
    """``total`` in minor units; refused if more than the ``units`` it is spread over."""
    capacity = sum(units.values())
    wanted = total.minor_units
    if wanted > capacity:
        raise InvalidInput("discount", total, f"is more than the {capacity} minor units it covers")
    return wanted


def _lines(wanted: int, units: Mapping[str, int], currency: str) -> tuple[DiscountLine, ...]:
    """``wanted`` minor units (at most the sum of ``units``) as discount lines, in
    proportion to ``units``, the remainder to the last line with room, then earlier."""
    if not wanted:
        return ()
    capacity = sum(units.values())
    shares = {ref: wanted * have // capacity for ref, have in units.items()}
    left = wanted - sum(shares.values())
    for ref in reversed(list(units)):
        extra = min(left, units[ref] - shares[ref])
        shares[ref] += extra
        left -= extra
    digits = MINOR_UNITS[currency]
    return tuple(
        DiscountLine(ref, Money._exact(Decimal(share).scaleb(-digits), currency))
        for ref, share in shares.items()
        if share
    )


def _spread(total: Money, units: Mapping[str, int], points: int) -> Discount:
    """The :class:`Discount` of ``total`` spread over lines with ``units`` of room."""
    if not _within(total, units):
        return Discount((), None, points)
    return Discount._spread(total, units, points)


def points_value(reward: PayWithPoints, points: int, rate: Decimal, currency: str) -> Money:
    """What ``points`` are worth on a cart in ``currency`` (rounded down)."""
    worth = Decimal(points) * reward.value / reward.points
    return Money.rounded(worth / rate, currency, Rounding.FLOOR)


def discount(
    reward: Reward,
    cart: Cart,
    *,
    rate: Decimal,
    room: Mapping[str, Decimal],
    shipping_reduction: Decimal = _ZERO,
    points: int | None = None,
    choice: str | None = None,
    units: Mapping[str, int] | None = None,
) -> Discount:
    """The discount ``reward`` gives on ``cart``, whose lines have ``room`` left to discount
    (see :func:`discountable`).

    ``points`` is how many points to pay with (pay-with-points only); ``choice``
    the sku of the free product. Raises :class:`InvalidInput` for a choice or a
    number of points the reward cannot take. ``units`` is :func:`room_units` of
    ``room``, if already known (a quote works it out once for every reward).
    """
    currency = cart.currency
    if units is None:
        units = room_units(room, currency)

    def configured(amount: Decimal) -> Money:
        return Money.rounded(amount / rate, currency, Rounding.FLOOR)

    if isinstance(reward, PayWithPoints):
        used = _points_to_use(reward, points)
        value = points_value(reward, used, rate, currency)
        most = Money.rounded(sum(room.values(), _ZERO), currency, Rounding.FLOOR)
        if value > most:
            raise InvalidPoints(
                "points", used, f"are worth {value}, more than the {most} they can pay for"
            )
        return _spread(value, units, used)
    if points is not None:
        raise InvalidInput("points", points, f"only pay-with-points rewards take points; "
                           f"{reward.id!r} costs {reward.cost}")
    if isinstance(reward, AmountOff):
        most = Money.rounded(sum(room.values(), _ZERO), currency, Rounding.FLOOR)
        return _spread(min(configured(reward.amount), most), units, reward.cost)
    if isinstance(reward, PercentOff):
        selector = reward.products
        lines = [
            line.ref
            for line in cart.lines
            if line.ref in room
            and (selector is None or selector.matches(line.sku, line.categories, line.tags))
        ]
        base = Money.rounded(sum((room[ref] for ref in lines), _ZERO), currency, Rounding.FLOOR)
        value = base.times(reward.percent / 100, Rounding.FLOOR)
        if reward.max_amount is not None:
            value = min(value, configured(reward.max_amount))
        return _spread(value, {ref: units[ref] for ref in lines if ref in units}, reward.cost)
    if isinstance(reward, FreeShipping):
        left = Money.rounded(max(cart.shipping - shipping_reduction, _ZERO), currency)
        if reward.max_amount is not None:
            left = min(left, configured(reward.max_amount))
        return Discount((), left, reward.cost)
    return _free_product(reward, cart, room, choice)


def free_product_choices(reward: FreeProduct, cart: Cart) -> list[Line]:
    """The lines of ``cart`` the member may pick as the free product."""
    return [line for line in cart.lines if line.sku in reward.choices and not line.gift_card]


def _free_product(
    reward: FreeProduct, cart: Cart, room: Mapping[str, Decimal], choice: str | None
) -> Discount:
    present = free_product_choices(reward, cart)
    if choice is None:
        if len(present) != 1:
            options = ", ".join(reward.choices)
            raise InvalidInput("choice", choice, f"pick one of {options} (put it in the cart)")
        line = present[0]
    else:
        picked = [line for line in present if line.sku == choice]
        if not picked:
            raise InvalidInput(
                "choice", choice, f"is not in the cart among {', '.join(reward.choices)}"
            )
        line = picked[0]
    value = min(line.unit_price, room.get(line.ref, _ZERO))
    amount = Money.rounded(value, cart.currency, Rounding.FLOOR)
    return Discount((DiscountLine(line.ref, amount),) if amount else (), None, reward.cost)


def _points_to_use(reward: PayWithPoints, points: int | None) -> int:
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise InvalidPoints("points", points, "say how many points to pay with (a whole number)")
    if points % reward.step:
        raise InvalidPoints("points", points, f"must be a multiple of {reward.step}")
    if points < reward.min_points:
        raise InvalidPoints("points", points, f"must be at least {reward.min_points}")
    return points
