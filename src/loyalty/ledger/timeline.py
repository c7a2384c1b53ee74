"""Time: what the ledger writes by itself as the clock moves on.

:meth:`Timeline.advance` makes pending lots whose return window has passed
available (settling any debt first) and expires due lots with an
:class:`~loyalty.ledger.entries.Expire` entry; when released points count toward
tiers, a release may also call for a tier upgrade, which
:meth:`Timeline.upgrade_tier` writes. When the tier follows every change
(automatic downgrades, or the balance metric), it is settled at the end of
every advance and before every commit (:meth:`Timeline._settle_tier`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from loyalty.errors import NoTiers
from loyalty.ledger.entries import Allocation, Expire, TierChange
from loyalty.ledger.figures import Decision
from loyalty.ledger.lots import Lot
from loyalty.ledger.projection import Projection

__all__ = ["Timeline"]


class Timeline(Projection):
    """An account's state, brought forward in time by the entries it writes itself."""

    def advance(self, at: datetime) -> tuple[Expire, ...]:
        """Activate pending lots and expire lots due by ``at`` (UTC); return the expiries.

        Call through :func:`loyalty.advance`, which validates ``at`` and runs in a
        transaction.
        """
        written: list[Expire] = []
        queues = self._queues
        while True:
            release, expiry, deadline = self._next_due()
            due = min(filter(None, (release, expiry, deadline)), default=None)
            if due is None or due > at:
                if self._clock is None or at > self._clock:
                    self._clock = at
                if self._follow_tiers:
                    self._settle_tier()
                return tuple(written)
            if release == due:  # releases first: a lot due to expire as it is released expires
                self._activate(queues.pop_release())
                if self.tiers is not None and not self.tiers.counts_pending:
                    self.upgrade_tier(due)
                continue
            # Points given back after their expiry had passed (a void) expire at once.
            when = due if self._clock is None else max(due, self._clock)
            if deadline == due:
                written.append(self._expire(when, self._open_lots(), _inactive_reason(self)))
            else:
                lot = queues.pop_expiry()
                written.append(self._expire(when, [lot], _lot_reason(self, lot)))

    def _next_due(self) -> tuple[datetime | None, datetime | None, datetime | None]:
        """The next release, the next expiry and the inactivity deadline (of points held)."""
        tally = self._tally
        deadline = self._inactivity_deadline if tally.pending + tally.available else None
        return self._queues.next_release(), self._queues.next_expiry(), deadline

    def _stands_at(self, at: datetime) -> bool:
        """Whether :meth:`advance` to ``at`` would change nothing: the clock is at ``at``,
        nothing is due by then and the tier does not follow every change."""
        return (
            at == self._clock
            and not self._follow_tiers
            and all(due is None or due > at for due in self._next_due())
        )

    def _settle_tier(self) -> None:
        """When the tier follows every change (automatic downgrades, or the balance
        metric): write the move the figures call for at the clock, after a write or an
        advance, so the tier never lags what the member holds."""
        if self._clock is not None:
            self.upgrade_tier(self._clock)

    def header(self, at: datetime, points: int, reason: str) -> dict[str, Any]:
        """The fields every new entry starts with: its id, place, member, time, points, reason."""
        seq = self.next_seq
        return {
            "id": f"{self.member_id}:{seq}",
            "seq": seq,
            "member_id": self.member_id,
            "at": at,
            "points": points,
            "reason": reason,
        }

    def _expire(self, at: datetime, lots: Sequence[Lot], reason: str) -> Expire:
        allocation = tuple(Allocation(lot.id, lot.remaining) for lot in lots)
        points = -sum(part.points for part in allocation)
        entry = Expire(**self.header(at, points, reason), allocation=allocation)
        self._apply(entry)
        return entry

    def upgrade_tier(self, at: datetime, **extra: Any) -> TierChange | None:
        """Write the upgrade (or cancelled downgrade) the tier figures call for at ``at``
        (``extra``: the request's ``key`` and ``fingerprint``, when a request caused it)."""
        if self.tiers is None or (decision := self.tiers.upgrade(at)) is None:
            return None
        return self.tier_entry(at, decision, **extra)

    def tier_entry(self, at: datetime, decision: Decision, **extra: Any) -> TierChange:
        """Write a tier entry for ``decision`` at ``at``."""
        if self.tiers is None:
            raise NoTiers(self.program.id)
        entry = TierChange(
            **self.header(at, 0, decision.reason),
            cause=decision.cause,
            tier_from=self.tiers.status.tier,
            tier_to=decision.tier_to,
            reviewed=decision.reviewed,
            downgrade_at=decision.downgrade_at,
            **extra,
        )
        self._apply(entry)
        return entry

    def _open_lots(self) -> list[Lot]:
        return [lot for lot in self._lots.values() if lot.is_open]


def _local_date(account: Timeline, instant: datetime) -> str:
    return instant.astimezone(account.program.tz).date().isoformat()


def _lot_reason(account: Timeline, lot: Lot) -> str:
    origin = f" ({lot.source})" if lot.source else ""
    return f"expired: lot from {_local_date(account, lot.earned_at)}{origin}"


def _inactive_reason(account: Timeline) -> str:
    since = account._last_activity_at
    return f"expired: no activity since {_local_date(account, since)}" if since else "expired"
