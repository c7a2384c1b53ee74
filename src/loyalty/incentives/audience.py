"""Audiences: who an incentive or a reward is for.

```yaml
audience:
  segments: [vip, newsletter]       # in any of these segments
  tiers: [Gold, Platinum]           # in any of these tiers
  min_orders: 1                     # completed orders (not refunded in full)
  max_orders: 0                     # 0: only members who never ordered
  min_spend: "100.00"               # lifetime net spend, program currency
  not_ordered_in: {yearly: {start: "11-11", end: "11-12"}}   # no order in this year's 11.11
  joined_in: {starts: 2026-11-01, ends: 2026-11-12}          # enrolled during the festival
```

Every condition given must hold. A member outside the audience does not see the
incentive or the reward at all: a quote lists nothing about it (no "only for
members in segment vip" to everyone else), and a trigger does not fire for them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from loyalty.incentives.windows import ActiveWindow
from loyalty.program.amounts import Amount, Count, PointsOrZero
from loyalty.program.types import Section

__all__ = ["Audience", "Facts"]


@dataclass(frozen=True, slots=True)
class Facts:
    """What an audience looks at, as of ``at``."""

    at: datetime
    segments: frozenset[str]
    tier: str | None
    orders: int
    spend: Callable[[], Decimal]
    """Net spend of completed orders, in the program currency (worked out when asked)."""
    enrolled_at: datetime | None
    ordered_between: Callable[[datetime | None, datetime | None], bool]
    """Did the member complete an order in ``[start, end)`` (``None``: open)?"""


class Audience(Section):
    """Who an incentive, a reward or an offer is for. Every condition given must hold:
    in one of ``segments``, in one of ``tiers``, at least ``min_orders`` and at most
    ``max_orders`` completed orders, at least ``min_spend`` lifetime net spend, no order
    in the ``not_ordered_in`` window, enrolled in the ``joined_in`` window. A member
    outside it does not see the thing at all, and a trigger does not fire for them."""

    segments: tuple[str, ...] = ()
    """Only members in at least one of these segments; any segment if empty."""
    tiers: tuple[str, ...] = ()
    """Only members whose tier is one of these; any tier if empty."""
    min_orders: Count | None = None
    """Only members with at least this many completed orders (an order refunded in full does not
    count, nor the order that triggers the incentive)."""
    max_orders: PointsOrZero | None = None
    """Only members with at most this many completed orders, counted as for ``min_orders``: 0 keeps
    members who never ordered before."""
    min_spend: Amount | None = None
    """Only members whose lifetime net spend (completed orders less refunds, in the program
    currency) is at least this."""
    not_ordered_in: ActiveWindow | None = None
    """Only members with no completed order in this window (its latest stretch, for a yearly one):
    ``{yearly: {start: 11-11, end: 11-12}}`` is this year's 11.11."""
    joined_in: ActiveWindow | None = None
    """Only members who enrolled within this window."""

    def excludes(self, facts: Facts, tz: ZoneInfo) -> str | None:
        """Why a member with ``facts`` is outside the audience (the first condition
        they miss, as a phrase), or ``None``: inside."""
        if self.segments and not facts.segments & set(self.segments):
            return f"not in segment {' or '.join(self.segments)}"
        if self.tiers and facts.tier not in self.tiers:
            return f"not in tier {' or '.join(self.tiers)}"
        if self.min_orders is not None and facts.orders < self.min_orders:
            return f"fewer than {self.min_orders} orders"
        if self.max_orders is not None and facts.orders > self.max_orders:
            return f"more than {self.max_orders} orders"
        if self.min_spend is not None and facts.spend() < self.min_spend:
            return f"spent less than {self.min_spend}"
        if self.not_ordered_in is not None:
            start, end = self.not_ordered_in.latest(facts.at, tz)
            if facts.ordered_between(start, end):
                return "ordered in the window"
        if self.joined_in is not None and (
            facts.enrolled_at is None or not self.joined_in.contains(facts.enrolled_at, tz)
        ):
            return "did not join in the window"
        return None
