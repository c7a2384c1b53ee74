"""A member statement: every entry in order, with a running balance and its reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from loyalty.ledger.account import Account, Balance
from loyalty.ledger.entries import EntryKind

__all__ = ["Statement", "StatementLine", "statement"]


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One entry: when (in the program's timezone), what, how many points, and why."""

    seq: int
    at: datetime
    kind: EntryKind
    points: int
    balance: int
    reason: str
    source: str | None
    occurred_at: datetime | None = None
    """For a late event: when it happened (``at`` is when it was written)."""


@dataclass(frozen=True, slots=True)
class Statement:
    """The lines of a member's journal and the balance they lead to.

    The running ``balance`` of each line is the net balance
    (pending + available - debt) just after that entry.
    """

    member_id: str
    timezone: str
    lines: tuple[StatementLine, ...]
    balance: Balance

    def render(self) -> str:
        """A plain-text table, one line per entry, with the totals under it."""
        header = f"{'#':>4}  {'date':<16}  {'kind':<8}  {'points':>8}  {'balance':>8}  reason"
        title = f"Statement for member {self.member_id} (times in {self.timezone})"
        rows = [title, header, "-" * len(header)]
        for line in self.lines:
            late = ""
            if line.occurred_at is not None:
                late = f" (late: happened {line.occurred_at:%Y-%m-%d %H:%M})"
            rows.append(
                f"{line.seq:>4}  {line.at:%Y-%m-%d %H:%M}  {line.kind.value:<8}  "
                f"{line.points:>+8}  {line.balance:>8}  {line.reason}{late}"
            )
        b = self.balance
        rows.append("-" * len(header))
        rows.append(
            f"available {b.available}, pending {b.pending}, debt {b.debt}; net {b.net} "
            f"(earned {b.earned}, redeemed {b.redeemed}, returned {b.returned}, "
            f"expired {b.expired}, "
            f"reversed {b.reversed}, adjusted {b.adjusted:+}, written off {b.written_off})"
        )
        return "\n".join(rows)

    def __str__(self) -> str:
        return self.render()


def statement(account: Account) -> Statement:
    """The statement of ``account`` as its journal stands."""
    tz = account.program.tz
    running = 0
    lines = []
    for entry in account.journal:
        running += entry.points
        lines.append(
            StatementLine(
                entry.seq,
                entry.at.astimezone(tz),
                entry.kind,
                entry.points,
                running,
                entry.reason,
                entry.source,
                entry.occurred_at.astimezone(tz) if entry.occurred_at else None,
            )
        )
    return Statement(account.member_id, account.program.timezone, tuple(lines), account.balance())
