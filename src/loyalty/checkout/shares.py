"""What a refund leaves of an order, and the points that follow what is left.

An order is refunded by units (some units of its lines) or by amount (money off the
whole order, a goodwill gesture). Both leave each line a *share kept*, and the
points follow it: a line that earned ``p`` points keeps ``round(p x share)``, and a
redemption's points that paid for a line keep the same share, each rounded with the
program's rounding. Shares are cumulative (worked out from the order as refunded so
far, never from the last refund alone), so a series of refunds never leaves the
member more points than one refund of the same units or money.

The share a line keeps is ``units left / units`` times the order's *factor*,
``value / worth``:

* ``value``: the money left to refund on the order (its amount minus every refund);
* ``worth``: what the units left are worth at the order's prices, each line rounded
  as a refund by units rounds its money (half even, on what is kept).

Refunds by units alone keep ``value == worth``: the factor is 1 and a line keeps
exactly ``units left / units``. A refund by amount lowers ``value`` only, so every
line keeps the same fraction less. A refund of units after one by amount refunds
those units' share of the value left: the value kept is ``value x worth after /
worth``, rounded down, so the factor never rises and what a line keeps never grows.
When no money line has units left (``worth`` is 0) the factor is 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import localcontext
from math import gcd

from loyalty.ledger.account import Account
from loyalty.ledger.entries import Earn
from loyalty.ledger.records import OrderRecord, RedemptionRecord
from loyalty.money import Money, Rounding, allocate, prorate

__all__ = ["Kept", "earn_taken", "points_returned", "units_money"]

_SMALL = 10**12
"""Shares with a denominator up to this are worked out in the default decimal context."""
_DIGITS = 80
"""Decimal digits for a share of points: points (10^12) times units (10^9) times money in
minor units (10^14, twice) fit exactly, so rounding sees the exact quotient."""


@dataclass(frozen=True, slots=True)
class Kept:
    """What is left of an order after its refunds: its ``value`` (money not refunded)
    and the ``worth`` of its units left, both in minor units."""

    order: OrderRecord
    value: int
    worth: int

    @classmethod
    def of(cls, order: OrderRecord, less: Mapping[str, int] | None = None) -> Kept:
        """The order as refunded so far, or (for ``worth``) with ``less`` units too.

        Linear in the lines, but only the lines with units refunded round anything: the
        others are worth their whole amount."""
        less = less or {}
        value = (order.amount - order.refunded).minor_units
        if not order.lines:
            return cls(order, value, 0)
        worth = 0
        for line in order.lines:
            gone = order.units_refunded(line.line) + less.get(line.line, 0)
            whole = line.amount.minor_units
            if gone:
                whole = prorate(whole, line.quantity - gone, line.quantity, Rounding.HALF_EVEN)
            worth += whole
        return cls(order, value, worth)

    def share(self, line: str, quantity: int) -> tuple[int, int]:
        """The share of ``line`` (of ``quantity`` units) kept, as a fraction
        ``(part, whole)``."""
        left = quantity - self.order.units_refunded(line)
        if self.worth == self.value or not self.worth:
            return left, quantity
        part, whole = left * self.value, quantity * self.worth
        common = gcd(part, whole)
        return part // common, whole // common

    def keep(self, points: int, line: str, quantity: int, rounding: Rounding) -> int:
        """What ``points`` attributed to ``line`` keep, rounded with ``rounding``."""
        return _rounded(points, self.share(line, quantity), rounding)


def _rounded(points: int, share: tuple[int, int], rounding: Rounding) -> int:
    part, whole = share
    if part == whole:
        return points
    if not part:
        return 0
    if whole <= _SMALL:  # units only: the product fits the default 28 digits
        return prorate(points, part, whole, rounding)
    with localcontext() as context:
        context.prec = _DIGITS
        return prorate(points, part, whole, rounding)


def units_money(order: OrderRecord, units: Mapping[str, int]) -> Money:
    """The money of refunding ``units`` (more units per line) of ``order``: their share
    of the value left, rounding what is kept (down after a refund by amount). With
    every unit refunded it is all the value left."""
    before, after = Kept.of(order), Kept.of(order, units)
    if not after.worth or not before.worth:
        kept = 0
    elif before.value == before.worth:  # only units refunded so far: exact
        kept = after.worth
    else:
        with localcontext() as context:
            context.prec = _DIGITS
            kept = prorate(before.value, after.worth, before.worth, Rounding.FLOOR)
    return Money.from_minor(before.value - kept, order.amount.currency)


def earn_taken(account: Account, earn: Earn, before: OrderRecord, after: OrderRecord) -> int:
    """The points of ``earn`` the refund from ``before`` to ``after`` takes back: what
    its lines keep less, and its shipping points if the shipping was refunded; never
    less than nothing, nor more than is left of the earn."""
    rounding = account.program.rounding
    was, now = Kept.of(before), Kept.of(after)
    taken = 0
    for line in earn.lines:
        share = now.share(line.line, line.quantity)
        before_share = was.share(line.line, line.quantity)
        if share != before_share:  # (a line's share only changes when refunded)
            taken += _rounded(line.points, before_share, rounding)
            taken -= _rounded(line.points, share, rounding)
    if after.shipping_refunded and not before.shipping_refunded:
        taken += earn.shipping_points
    lot = account.lot(earn.id)
    return max(min(taken, lot.points - lot.reversed), 0)


def points_returned(account: Account, record: RedemptionRecord, order: OrderRecord) -> int:
    """How many more of the points ``record`` spent come back, now that ``order`` is
    refunded as it is: of each discount line's share of the points, what the line no
    longer keeps; the shipping part once the shipping is refunded."""
    rounding = account.program.rounding
    quantities = {line.line: line.quantity for line in order.lines}
    parts = [part for part in record.discounts if part.line in quantities]
    weights = [part.amount.amount for part in parts]
    if record.shipping_discount is not None:
        weights.append(record.shipping_discount.amount)
    if not weights:  # points spent on the order without discount lines: by money refunded
        if not order.amount:
            return record.points - record.returned if order.fully_refunded else 0
        whole, left = order.amount.minor_units, (order.amount - order.refunded).minor_units
        kept = prorate(record.points, left, whole, rounding)
        return max(record.points - kept - record.returned, 0)
    shares = allocate(record.points, weights)
    now = Kept.of(order)
    target = 0
    for part, share in zip(parts, shares, strict=False):
        target += share - now.keep(share, part.line, quantities[part.line], rounding)
    if record.shipping_discount is not None and order.shipping_refunded:
        target += shares[-1]
    return max(target - record.returned, 0)
