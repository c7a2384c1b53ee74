"""Lots: the points of one earn (or credit), tracked until used, expired or reversed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from loyalty.dates import FAR_FUTURE
from loyalty.ledger.entries import EntryKind
from loyalty.money import Money

__all__ = ["Lot", "LotStatus"]


class LotStatus(StrEnum):
    """Where a :class:`Lot` stands (its ``status``)."""

    PENDING = "pending"
    """Points with something left, still in the return window: they count toward
    ``Balance.pending`` and cannot be spent until ``available_at``."""
    AVAILABLE = "available"
    """Points with something left that can be spent."""
    CLOSED = "closed"
    """Nothing left: every point was spent, expired or reversed."""


@dataclass(frozen=True, slots=True)
class Lot:
    """An immutable view of a lot; the account replaces it on each change.

    ``points`` is what the lot was credited with and never changes;
    ``remaining`` (0 <= remaining <= points) is what is left to use.
    ``expired`` counts points that expired from it, ``reversed`` the points
    reversed against its earn (however they were recovered), ``forgiven`` the
    part of those reversals that matched already-expired points, and
    ``refunded`` the money refunded against its ``basis``.
    """

    id: str
    seq: int
    origin: EntryKind
    points: int
    remaining: int
    earned_at: datetime
    available_at: datetime
    expires_at: datetime | None
    activated: bool
    source: str | None = None
    basis: Money | None = None
    refunded: Money | None = None
    expired: int = 0
    reversed: int = 0
    forgiven: int = 0

    @property
    def status(self) -> LotStatus:
        """Closed when nothing remains; otherwise available once activated, else pending."""
        if self.remaining <= 0:
            return LotStatus.CLOSED
        return LotStatus.AVAILABLE if self.activated else LotStatus.PENDING

    @property
    def is_open(self) -> bool:
        """Are there points left in it (pending or available)?"""
        return self.remaining > 0

    @property
    def spend_order(self) -> tuple[datetime, datetime, int]:
        """Redemption order: soonest expiry first, then oldest; lots without expiry last."""
        return (self.expires_at or FAR_FUTURE, self.earned_at, self.seq)
