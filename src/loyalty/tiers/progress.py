"""Progress: what a member needs to reach the next tier, and to keep the current one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from loyalty.dates import require_aware
from loyalty.ledger.account import Account
from loyalty.money import Money, Rounding
from loyalty.tiers.config import Match, Tier, TierMetric, WindowKind
from loyalty.tiers.operations import tier_tracker
from loyalty.tiers.tracker import TierTracker
from loyalty.tiers.window import Metrics

__all__ = ["Goal", "Shortfall", "TierProgress", "tier_progress"]


@dataclass(frozen=True, slots=True)
class Shortfall:
    """How far one metric is from a threshold."""

    metric: TierMetric
    have: Decimal
    need: Decimal

    @property
    def missing(self) -> Decimal:
        """``need - have``, never below zero."""
        return max(Decimal(0), self.need - self.have)

    def describe(self, currency: str) -> str:
        """What is missing as a phrase: 'spend 37.50 USD more', 'complete 2 more orders'."""
        if self.metric is TierMetric.NET_SPEND:
            return f"spend {Money.rounded(self.missing, currency, Rounding.CEILING)} more"
        count = int(self.missing)
        if self.metric is TierMetric.POINTS:
            return f"earn {count} more point{'s' if count != 1 else ''}"
        if self.metric is TierMetric.BALANCE:
            return f"hold {count} more point{'s' if count != 1 else ''}"
        return f"complete {count} more order{'s' if count != 1 else ''}"


@dataclass(frozen=True, slots=True)
class Goal:
    """What reaching (or keeping) ``tier`` takes: ``any`` or ``all`` of the shortfalls."""

    tier: str
    match: Match
    shortfalls: tuple[Shortfall, ...]
    by: date | None

    @property
    def met(self) -> bool:
        """Is the goal reached: any shortfall at zero (``match: any``), or every one (``all``)?"""
        done = [shortfall.missing == 0 for shortfall in self.shortfalls]
        return any(done) if self.match is Match.ANY else all(done)

    def describe(self, currency: str, verb: str) -> str:
        """'spend 37.50 USD more or complete 2 more orders by 2026-12-31 to reach Gold'."""
        if self.met:
            return f"{verb} {self.tier}: done"
        parts = [s.describe(currency) for s in self.shortfalls if s.missing]
        joiner = " or " if self.match is Match.ANY else " and "
        deadline = f" by {self.by.isoformat()}" if self.by else ""
        return f"{joiner.join(parts)}{deadline} to {verb} {self.tier}"


@dataclass(frozen=True, slots=True)
class TierProgress:
    """Where a member stands and what the next steps take, as of ``at``."""

    at: datetime
    tier: str
    metrics: Metrics
    next: Goal | None
    keep: Goal | None
    currency: str

    def describe(self) -> str:
        """The tier, then the goals: 'tier Silver; spend 120.00 USD more by 2026-12-31 to
        reach Gold'."""
        lines = [f"tier {self.tier}"]
        if self.next is not None:
            lines.append(self.next.describe(self.currency, "reach"))
        if self.keep is not None:
            lines.append(self.keep.describe(self.currency, "keep"))
        return "; ".join(lines)


def tier_progress(account: Account, at: datetime) -> TierProgress:
    """What ``account`` needs, as of ``at``, to reach the next tier and to keep its own.

    The deadline is the last day of the current period (calendar or membership
    year); for a rolling window, the day before the next monthly review; none
    for a lifetime window. Keeping the entry tier takes nothing (``keep`` is None).
    """
    tiers = tier_tracker(account)
    instant = require_aware(at, "at")
    status = account.tier(instant) or tiers.status
    metrics = account.tier_metrics(instant)
    by = _deadline(tiers, instant)
    ladder = tiers.config.ladder
    following = ladder[status.index + 1] if status.index + 1 < len(ladder) else None
    return TierProgress(
        at=instant,
        tier=status.tier,
        metrics=metrics,
        next=_goal(tiers, following, metrics, by) if following else None,
        keep=_goal(tiers, ladder[status.index], metrics, by) if status.index else None,
        currency=account.program.currency,
    )


def _goal(tracker: TierTracker, tier: Tier, metrics: Metrics, by: date | None) -> Goal:
    shortfalls = tuple(
        Shortfall(metric, metrics.value(metric), need) for metric, need in tier.threshold.items()
    )
    return Goal(tier.name, tracker.config.match, shortfalls, by)


def _deadline(tracker: TierTracker, at: datetime) -> date | None:
    aggregate = tracker.aggregate
    if aggregate is None or tracker.config.window.kind is WindowKind.LIFETIME:
        return None
    periods = aggregate.periods
    return periods.next_review(periods.local(at)) - timedelta(days=1)
