"""What an account remembers besides lots: orders, redemptions and idempotency keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from loyalty.ledger.entries import DiscountLine, OrderLine
from loyalty.money import Money

__all__ = ["KeyRecord", "OrderRecord", "RedemptionRecord"]


@dataclass(frozen=True)
class OrderRecord:
    """A recorded order: when it completed, its value and what was refunded of it so far.

    For an order completed from a cart, also its lines, the units of each line
    refunded so far, whether its shipping was refunded, and the earn it gave.
    """

    at: datetime
    amount: Money
    refunded: Money
    lines: tuple[OrderLine, ...] = ()
    refunded_units: tuple[tuple[str, int], ...] = ()
    shipping_refunded: bool = False
    earn_id: str | None = None

    def units_refunded(self, line: str) -> int:
        """Units of ``line`` refunded so far: a dictionary look-up, so that going over
        every line of a large order (a cancel) is linear in its lines, not quadratic."""
        return self._refunded.get(line, 0)

    @cached_property
    def _refunded(self) -> dict[str, int]:
        # Built once per record (a refund makes a new record); not a field, so the
        # stored form stays the tuple of pairs.
        return dict(self.refunded_units)

    @property
    def fully_refunded(self) -> bool:
        """Is all its money refunded and, for an order with lines, every unit of every line?"""
        return self.refunded == self.amount and (
            not self.lines
            or all(self.units_refunded(line.line) == line.quantity for line in self.lines)
        )


@dataclass(frozen=True, slots=True)
class RedemptionRecord:
    """A redemption: what it bought, on which order, and how many points came back."""

    id: str
    at: datetime
    points: int
    reward: str | None
    source: str | None
    discounts: tuple[DiscountLine, ...] = ()
    shipping_discount: Money | None = None
    returned: int = 0
    voided_by: str | None = None
    """The :class:`~loyalty.ledger.entries.Void` entry that undid it, if one did."""
    coupon: str | None = None
    """The holding of the coupon it used (or of the cashback credit it spent), if any."""
    tender: Money | None = None
    """The cashback it spent, if it spent some."""
    offer: str | None = None
    """The program's offer it applied, if it was one."""
    units: int | None = None
    """For a free product reward: the units it gave."""
    replaces: str | None = None
    """For a redemption written again by a restack: the entry it replaces."""
    terms: str | None = None
    """A digest of the reward's terms when it was redeemed: a restack rebuilds it only
    while the program's reward still has them."""
    choice: str | None = None
    """For a free product reward: the sku chosen."""

    @property
    def in_use(self) -> bool:
        """Not given back in full: it still counts toward the reward's usage limit.
        (A reward that cost no points has nothing to give back, so it stays used.)"""
        return self.voided_by is None and (self.points == 0 or self.returned < self.points)


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """What an idempotency key was used for: the request's fingerprint and the entry written."""

    fingerprint: str
    seq: int
