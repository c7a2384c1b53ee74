"""A member's tier: status kept incrementally from the journal, and the decisions on it.

The rules (see ``docs/tiers.md``):

* **Upgrade at once.** After every order, earn (or release of pending points,
  when pending points do not count) the member's current window is compared
  with the ladder; crossing a threshold upgrades them immediately.
* **Down only at review** (the default ``at_review`` mode): nothing lowers a
  tier between the reviews at each period end (see :mod:`loyalty.tiers.review`),
  not a refund, not the window moving on.
* **Other downgrade modes.** ``automatic``: after every
  write and every advance the member is placed on the tier their current figures
  reach, up or down (never below a floor). ``never``: upgrades only.
* **Manual tiers** are a floor, or ``fixed``: a fixed tier is the member's tier
  until it ends, whatever the figures or the reviews say.
* **Gross figures** (``qualify_on: gross``): refunds and reversals leave the
  figures as they were (the ledger does not pass them on).
* **A program change** that drops a tier a member holds: until it is reconciled,
  the retired tier counts as the entry tier (so nothing indexes past the
  ladder); :meth:`TierTracker.reconcile` then places the member on the best tier
  of the new ladder their figures reach (the current window, or any of the last
  ``retention`` completed periods), never below a manual floor still on it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from loyalty.errors import CorruptJournal
from loyalty.ledger.entries import TierCause, TierChange
from loyalty.ledger.figures import Decision, Held, Metrics, TierStatus, Undo
from loyalty.ledger.lots import Lot
from loyalty.ledger.records import OrderRecord
from loyalty.money import Money
from loyalty.program.model import Program
from loyalty.tiers.config import (
    DowngradeMode,
    Match,
    QualifyOn,
    Tier,
    TierMetric,
    TiersConfig,
)
from loyalty.tiers.review import best_completed, next_review
from loyalty.tiers.window import Aggregate, Figures, Periods

__all__ = ["Decision", "OrderRecord", "TierStatus", "TierTracker"]
# Decision, OrderRecord and TierStatus are defined by the ledger, which shares them.


class TierTracker:
    """The tier state of one account, fed by the account as it applies entries
    (the :class:`~loyalty.ledger.figures.TierFigures` of a program with tiers)."""

    @classmethod
    def for_program(cls, program: Program, held: Held | None = None) -> TierTracker:
        """The tracker of a new account in ``program`` (which has tiers); ``held`` reads
        the points the account holds (needed by the ``balance`` metric)."""
        if program.tiers is None:
            raise ValueError(f"program {program.id!r} has no tiers")
        return cls(program, program.tiers, held)

    def __init__(
        self,
        program: Program,
        config: TiersConfig,
        held: Held | None = None,
    ) -> None:
        self.program = program
        self.config = config
        self.status = TierStatus(config.ladder[0].name, 0)
        self._aggregate: Aggregate | None = None
        self._held = held if TierMetric.BALANCE in config.metrics else None
        self._automatic = config.downgrade_mode is DowngradeMode.AUTOMATIC
        self.reviews = config.downgrade_mode is DowngradeMode.AT_REVIEW
        self.follows = config.follows
        self.counts_refunds = config.qualify_on is QualifyOn.NET

    # ------------------------------------------------------------ feeding facts

    def enrol(self, at: datetime, undo: Undo) -> None:
        """Start the windows (anniversaries count from here); the first fact does it too."""
        if self._aggregate is None:
            local = at.astimezone(self.program.tz).date()
            periods = Periods(self.config.window, self.program.tz, local)
            self._aggregate = Aggregate(periods)
            undo(lambda: setattr(self, "_aggregate", None))

    @property
    def aggregate(self) -> Aggregate | None:
        return self._aggregate

    @property
    def cursor(self) -> date | None:
        """The local day the running window closes on (the latest day it was moved to)."""
        return self._aggregate.cursor if self._aggregate is not None else None

    def days(self, changed: bool) -> tuple[tuple[date, Metrics], ...]:
        """The figures by local day; ``changed``: only those changed since :meth:`saved`."""
        if self._aggregate is None:
            return ()
        return self._aggregate.days(self._aggregate.touched if changed else None)

    def saved(self) -> None:
        """The changed days are stored."""
        if self._aggregate is not None:
            self._aggregate.touched.clear()

    def restore(
        self, status: TierStatus, days: tuple[tuple[date, Metrics], ...], cursor: date | None
    ) -> None:
        """Take the state a snapshot recorded (the member is enrolled already). The
        tier's position is taken from the current ladder, by name: a program version
        may have added or dropped tiers since (a dropped one counts as the entry tier
        until :meth:`reconcile`)."""
        self.status = replace(status, index=self.position(status.tier))
        if self._aggregate is not None:
            self._aggregate.restore(days, cursor)

    @property
    def counts_pending(self) -> bool:
        """Do points count toward tiers while still pending (else once released)?"""
        return self.config.count_pending_points

    def counted_at(self, lot: Lot) -> datetime | None:
        """When ``lot``'s points count toward tiers: earned, or released; None if not yet."""
        if self.counts_pending:
            return lot.earned_at
        return lot.available_at if lot.activated else None

    def points(self, counted_at: datetime, points: int, undo: Undo) -> None:
        """Qualifying points (negative for a reversal) counting on ``counted_at``'s day."""
        if points:
            self.add(counted_at, Metrics(points=points), undo)

    def move_to(self, at: datetime, undo: Undo) -> None:
        """Move the running window forward to ``at``'s day."""
        aggregate = self._require()
        aggregate.move_to(aggregate.periods.local(at), undo)

    def add(self, counted_at: datetime, delta: Metrics, undo: Undo) -> None:
        """Add figures on ``counted_at``'s day (in the past for a refund of an older order)."""
        aggregate = self._require()
        aggregate.add(aggregate.periods.local(counted_at), delta, undo)

    def _require(self) -> Aggregate:
        if self._aggregate is None:
            raise RuntimeError("the tier tracker is used before the member was enrolled")
        return self._aggregate

    def position(self, name: str | None) -> int:
        """The position of tier ``name`` on the ladder; 0 for a tier it no longer has."""
        return next((i for i, tier in enumerate(self.config.ladder) if tier.name == name), 0)

    def _on_ladder(self, name: str | None) -> bool:
        return self.config.get(name) is not None

    @property
    def stale(self) -> bool:
        """Does the status name a tier the ladder no longer has (its tier, its manual
        floor or a scheduled downgrade)? :meth:`reconcile` decides what replaces it."""
        status = self.status
        return (
            not self._on_ladder(status.tier)
            or (status.floor is not None and not self._on_ladder(status.floor))
            or (status.downgrade_to is not None and not self._on_ladder(status.downgrade_to))
        )

    def apply(self, entry: TierChange, undo: Undo) -> None:
        """Apply a tier entry from the journal to the status.

        An entry may name a tier of an earlier program version that this ladder no
        longer has: it counts as the entry tier until a ``program`` entry places the
        member on this ladder."""
        status = self.status
        if entry.cause is TierCause.PROGRAM and not self._on_ladder(entry.tier_to):
            raise CorruptJournal(entry.member_id, entry.seq, f"unknown tier {entry.tier_to!r}")
        undo(lambda: setattr(self, "status", status))
        index = self.position(entry.tier_to)
        # Reviews and grace ends take effect at the period end or grace end they are
        # for, so a late review still counts each period from the right time.
        effective = entry.reviewed or entry.downgrade_at or entry.at
        cause = entry.cause
        if cause is TierCause.GRACE:
            new = replace(
                status,
                downgrade_to=entry.tier_to,
                downgrade_at=entry.downgrade_at,
                reviewed=entry.reviewed,
            )
        elif cause is TierCause.PROGRAM:
            kept_floor = self._on_ladder(status.floor)
            kept_downgrade = self._on_ladder(status.downgrade_to)
            new = replace(
                status,
                tier=entry.tier_to,
                index=index,
                since=effective,
                floor=status.floor if kept_floor else None,
                floor_until=status.floor_until if kept_floor else None,
                fixed=status.fixed and kept_floor,
                downgrade_to=status.downgrade_to if kept_downgrade else None,
                downgrade_at=status.downgrade_at if kept_downgrade else None,
            )
        elif cause is TierCause.MANUAL:
            new = replace(
                status, floor=entry.tier_to, floor_until=entry.floor_until, fixed=entry.fixed
            )
            if entry.fixed:  # the tier itself, up or down; a scheduled downgrade is off
                new = replace(new, downgrade_to=None, downgrade_at=None)
            moved = index != status.index or entry.tier_to != status.tier
            if (entry.fixed and moved) or index > status.index or not self._on_ladder(
                entry.tier_to
            ):
                new = replace(new, tier=entry.tier_to, index=index, since=effective)
        else:
            new = replace(status, downgrade_to=None, downgrade_at=None)
            if cause is TierCause.REVIEW:
                new = replace(new, reviewed=entry.reviewed)
            moved = index != status.index or entry.tier_to != status.tier
            if cause is not TierCause.REQUALIFIED and moved:
                new = replace(new, tier=entry.tier_to, index=index, since=effective)
        self.status = new

    # ------------------------------------------------------------------ reading

    def metrics(self, at: datetime | None = None) -> Metrics:
        """The figures of the window that closes on ``at``'s day (the latest day if None)."""
        if self._aggregate is None:
            figures = Metrics()
        elif at is None:
            figures = self._aggregate.current()
        else:
            figures = self._aggregate.as_of(self._aggregate.periods.local(at))
        if self._held is not None:
            return Figures(figures.points, figures.spend, figures.orders, self.held())
        return figures

    def held(self) -> int:
        """The points the ``balance`` metric counts: available (and pending, when
        pending points count) less any debt, as the account stands now."""
        return self._held(self.counts_pending) if self._held is not None else 0

    def qualified(self, metrics: Metrics) -> int:
        """The highest tier these figures reach."""
        best = 0
        for index, tier in enumerate(self.config.ladder[1:], start=1):
            if self.meets(metrics, tier):
                best = index
        return best

    def meets(self, metrics: Metrics, tier: Tier) -> bool:
        checks = [
            metrics.value(metric) >= threshold for metric, threshold in tier.threshold.items()
        ]
        return any(checks) if self.config.match is Match.ANY else all(checks)

    def explain(self, metrics: Metrics, tier: Tier, window: str) -> str:
        """Why ``metrics`` do or do not reach ``tier``, in words.

        'net spend 512.00 USD ≥ 500.00 USD in calendar year 2026' names the
        thresholds met when the tier is reached, and every threshold missed when not.
        """
        met = self.meets(metrics, tier)
        parts = []
        for metric, threshold in tier.threshold.items():
            value = metrics.value(metric)
            if (value >= threshold) == met:
                sign = "≥" if value >= threshold else "<"
                parts.append(
                    f"{self.show(metric, value)} {sign} {self.show(metric, threshold, False)}"
                )
        joiner = " and " if (self.config.match is Match.ALL) == met else " or "
        if set(tier.threshold) == {TierMetric.BALANCE}:
            return joiner.join(parts)  # a balance is read as it stands, in no window
        return f"{joiner.join(parts)} in {window}"

    def show(self, metric: TierMetric, value: Decimal, label: bool = True) -> str:
        """A figure as people read it: 'net spend 512.00 USD', 'orders 3', 'points 120'."""
        if metric is TierMetric.NET_SPEND:
            shown = str(Money.rounded(value, self.program.currency))
        else:
            shown = str(int(value))
        name = str(metric)
        if metric is TierMetric.NET_SPEND:
            name = "net spend" if self.counts_refunds else "gross spend"
        return f"{name} {shown}" if label else shown

    # ---------------------------------------------------------------- deciding

    def upgrade(self, at: datetime) -> Decision | None:
        """An upgrade (or a cancelled downgrade) the figures as of ``at`` call for."""
        if self._aggregate is None:
            return None
        status = self.status
        if self.fixed(at):
            return None  # a fixed tier: nothing moves it while it lasts
        metrics = self.metrics(at)
        qualified = self.qualified(metrics)
        if self._automatic:
            return self._follow(at, metrics, qualified)
        if qualified <= status.index and status.downgrade_to is None:
            return None
        day = self._aggregate.periods.local(at)
        window = self._aggregate.periods.describe(day)
        if qualified > status.index:
            tier = self.config.ladder[qualified]
            reason = (
                f"upgraded to {tier.name} on {day.isoformat()}: "
                f"{self.explain(metrics, tier, window)}"
            )
            return Decision(TierCause.UPGRADE, tier.name, reason)
        if status.downgrade_to is not None and qualified >= status.index:
            tier = self.config.ladder[status.index]
            reason = (
                f"stays {tier.name}: requalified on {day.isoformat()} "
                f"({self.explain(metrics, tier, window)})"
            )
            return Decision(TierCause.REQUALIFIED, tier.name, reason)
        return None

    def _follow(self, at: datetime, metrics: Metrics, qualified: int) -> Decision | None:
        """Automatic mode: the tier the figures reach now, up or down, never below a
        manual floor. A status naming a retired tier waits for :meth:`reconcile`."""
        status, periods = self.status, self._require().periods
        floor = self.floor_index(at)
        target = max(qualified, floor)
        if target == status.index or self.stale:
            return None
        day = periods.local(at)
        window = periods.describe(day)
        tier = self.config.ladder[target]
        if target > status.index:
            reason = (
                f"upgraded to {tier.name} on {day.isoformat()}: "
                f"{self.explain(metrics, tier, window)}"
            )
            return Decision(TierCause.UPGRADE, tier.name, reason)
        current = self.config.ladder[status.index]
        basis = (
            f"manual floor {tier.name}"
            if floor == target and floor > qualified
            else self.explain(metrics, current, window)
        )
        reason = f"moved down to {tier.name} on {day.isoformat()}: {basis}"
        return Decision(TierCause.DOWNGRADE, tier.name, reason)

    def reconcile(self, at: datetime) -> Decision | None:
        """After a program change: where a member whose status names a retired tier
        stands on the new ladder (``None`` if nothing is stale).

        The rule: the best tier of the new ladder their figures reach — the current
        window as of ``at``, or any of the last ``retention`` completed periods, as a
        review would count them — and never below a manual floor still on the ladder.
        A retired floor or a downgrade scheduled to a retired tier is dropped.
        """
        if self._aggregate is None or not self.stale:
            return None
        aggregate = self._aggregate
        periods = aggregate.periods
        metrics = self.metrics(at)
        target = self.qualified(metrics)
        basis = f"figures of {periods.describe(periods.local(at))}"
        last_review = periods.previous_review(periods.next_review(periods.local(at)))
        best = best_completed(self, aggregate, last_review)
        if best is not None and best[0] > target:
            target, basis = best[0], f"figures of {periods.describe(best[2])}"
        floor = self.floor_index(at)
        if self.fixed(at):
            target, basis = floor, f"tier {self.config.ladder[floor].name} fixed by hand"
        elif floor > target:
            target, basis = floor, f"manual floor {self.config.ladder[floor].name}"
        status, new = self.status, self.config.ladder[target].name
        retired = [
            name
            for name in (status.tier, status.floor, status.downgrade_to)
            if name is not None and not self._on_ladder(name)
        ]
        listed = ", ".join(dict.fromkeys(repr(name) for name in retired))
        reason = (
            f"program changed: {listed} no longer on the ladder; "
            f"placed at {new} by the {basis}"
        )
        return Decision(TierCause.PROGRAM, new, reason)

    def next_review(self, at: datetime) -> Decision | None:
        """The first review or grace expiry due by ``at`` that has not been applied, if any
        (see :mod:`loyalty.tiers.review`)."""
        return next_review(self, at)

    def floor_index(self, at: datetime) -> int:
        status = self.status
        if status.floor is None or (status.floor_until is not None and status.floor_until <= at):
            return 0
        return self.position(status.floor)

    def fixed(self, at: datetime) -> bool:
        """Is the member's tier fixed by hand at ``at`` (an assignment still running)?"""
        status = self.status
        return (
            status.fixed
            and (status.floor_until is None or status.floor_until > at)
            and self._on_ladder(status.floor)
        )
