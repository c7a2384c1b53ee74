"""Reviews: at each period end a member above the entry tier keeps their tier or moves down.

The rules (``downgrade_mode: at_review``; see ``docs/tiers.md``): the target is
the best tier qualified for in the last ``retention`` completed periods (the
entry tier with ``retention: 0``), never below an active manual floor, and a
fixed tier is kept. Below the current tier the member steps down one tier or
straight to the target; with a grace period the step is only scheduled.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from loyalty.ledger.entries import TierCause
from loyalty.ledger.figures import Decision, Metrics, TierStatus
from loyalty.program.model import Program
from loyalty.tiers.config import Downgrade, Tier, TiersConfig
from loyalty.tiers.window import Aggregate

__all__ = ["Reviewed", "best_completed", "next_review"]


class Reviewed(Protocol):
    """What a review reads of a member's tier state (the tier tracker)."""

    program: Program
    config: TiersConfig
    status: TierStatus
    reviews: bool

    @property
    def aggregate(self) -> Aggregate | None: ...

    def qualified(self, metrics: Metrics) -> int: ...

    def explain(self, metrics: Metrics, tier: Tier, window: str) -> str: ...

    def floor_index(self, at: datetime) -> int: ...

    def fixed(self, at: datetime) -> bool: ...

    def position(self, name: str | None) -> int: ...


def next_review(tracker: Reviewed, at: datetime) -> Decision | None:
    """The first review or grace expiry due by ``at`` that has not been applied, if any."""
    status, aggregate = tracker.status, tracker.aggregate
    if aggregate is None or status.index == 0 or not tracker.reviews:
        return None  # automatic and never modes have no reviews
    periods = aggregate.periods
    after = max(filter(None, (status.reviewed, status.since)), default=None)
    start = periods.local(after) if after is not None else periods.enrolled
    boundary = periods.midnight(periods.next_review(start)).astimezone(UTC)
    grace, target = status.downgrade_at, status.downgrade_to
    if grace is not None and target is not None and grace <= at and grace <= boundary:
        return _grace_ends(tracker, grace, target)
    if boundary > at:
        return None
    return _review(tracker, aggregate, boundary)


def _grace_ends(tracker: Reviewed, when: datetime, target: str) -> Decision:
    """The scheduled downgrade takes effect, but never below a floor assigned since."""
    status = tracker.status
    local = when.astimezone(tracker.program.tz).date().isoformat()
    floor = tracker.floor_index(when)
    if floor >= status.index:
        reason = f"stays {status.tier}: a manual floor holds it when the grace period ends"
        return Decision(TierCause.REQUALIFIED, status.tier, reason)
    new = tracker.config.ladder[max(tracker.position(target), floor)].name
    reason = (
        f"moved down to {new}: the grace period ended on {local} "
        f"without requalifying for {status.tier}"
    )
    return Decision(TierCause.DOWNGRADE, new, reason, downgrade_at=when)


def _review(tracker: Reviewed, aggregate: Aggregate, boundary: datetime) -> Decision:
    """The review at period end ``boundary``: keep, step down, or schedule a step down."""
    periods = aggregate.periods
    status = tracker.status
    current = tracker.config.ladder[status.index]
    on = periods.local(boundary)
    best = best_completed(tracker, aggregate, on)
    if best is None:
        target, basis = 0, "no completed period counts (retention 0)"
    else:
        target = best[0]
        basis = tracker.explain(best[1], current, periods.describe(best[2]))
    floor = tracker.floor_index(boundary)
    if tracker.fixed(boundary):
        target, basis = status.index, f"tier {current.name} fixed by hand"
    elif floor > target:
        target, basis = floor, f"manual floor {tracker.config.ladder[floor].name}"
    if target >= status.index:
        reason = f"kept {current.name} at the review on {on.isoformat()}: {basis}"
        return Decision(TierCause.REVIEW, current.name, reason, reviewed=boundary)
    step = target if tracker.config.downgrade is Downgrade.TO_QUALIFIED else status.index - 1
    new = tracker.config.ladder[max(step, floor)].name
    if not tracker.config.grace.is_zero:
        # A downgrade already waiting out its grace keeps its date: a later review
        # (grace longer than the review period) must not push it back.
        when = status.downgrade_at or tracker.config.grace.after(boundary, tracker.program.tz)
        local = when.astimezone(tracker.program.tz).date().isoformat()
        reason = (
            f"{current.name} moves down to {new} on {local} unless requalified "
            f"(review on {on.isoformat()}: {basis})"
        )
        return Decision(TierCause.GRACE, new, reason, reviewed=boundary, downgrade_at=when)
    reason = f"moved down to {new} at the review on {on.isoformat()}: {basis}"
    return Decision(TierCause.REVIEW, new, reason, reviewed=boundary)


def best_completed(
    tracker: Reviewed, aggregate: Aggregate, period_end: date
) -> tuple[int, Metrics, date] | None:
    """The best tier reached in the last ``retention`` completed periods, the latest
    ending on ``period_end`` (a review day): its position, figures and closing day
    (the most recent period on a tie); ``None`` when no completed period counts."""
    periods = aggregate.periods
    best: tuple[int, Metrics, date] | None = None
    for _ in range(tracker.config.retention):
        if period_end <= periods.enrolled:
            break
        closing = period_end - timedelta(days=1)
        metrics = aggregate.as_of(closing)
        reached = tracker.qualified(metrics)
        if best is None or reached > best[0]:
            best = (reached, metrics, closing)
        period_end = periods.previous_review(period_end)
    return best
