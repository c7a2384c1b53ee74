"""Tier figures: what a member's tier state is made of, and how it follows the journal.

The ledger does not decide tiers; it only tells a listener about the facts that
count toward them. An account of a program with tiers holds a
:class:`TierFigures` (the tiers package's tracker), which the account feeds as it
applies entries: qualifying points, orders and refunds, tier entries. The
listener answers with a :class:`Decision` when the figures call for a tier entry,
which the account writes.

The listener is built by the factory the tiers package wires in with
:func:`wire_tier_figures` when :mod:`loyalty` is imported, so the ledger never
imports the tiers package (see ``docs/architecture.md``). The data the two share
(:class:`Metrics`, :class:`TierStatus`, :class:`Decision`) lives here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from loyalty.ledger.entries import TierCause, TierChange
from loyalty.ledger.lots import Lot

if TYPE_CHECKING:
    from loyalty.program.model import Program

__all__ = [
    "Decision",
    "Held",
    "Metrics",
    "TierFigures",
    "TierStatus",
    "Undo",
    "tier_figures",
    "wire_tier_figures",
]

Undo = Callable[[Callable[[], None]], None]
"""Where a mutation records how to undo itself (a transaction's log), or a no-op."""

Held = Callable[[bool], int]
"""The points an account holds now: available less debt, plus pending when asked
(``True``). What the ``balance`` tier metric reads."""


@dataclass(frozen=True, slots=True)
class Metrics:
    """What counts toward a tier: qualifying points, net spend and completed orders.

    (The ``balance`` metric is not a sum of days: the tier figures add it when they
    are read, see ``loyalty.tiers.window.Figures``.)
    """

    points: int = 0
    spend: Decimal = Decimal(0)
    orders: int = 0

    def __add__(self, other: Metrics) -> Metrics:
        return Metrics(
            self.points + other.points, self.spend + other.spend, self.orders + other.orders
        )

    def __sub__(self, other: Metrics) -> Metrics:
        return Metrics(
            self.points - other.points, self.spend - other.spend, self.orders - other.orders
        )

    def value(self, metric: str) -> Decimal:
        """The figure of ``metric``: ``points``, ``net_spend`` or ``orders``."""
        if metric == "points":
            return Decimal(self.points)
        if metric == "net_spend":
            return self.spend
        if metric == "orders":
            return Decimal(self.orders)
        raise ValueError(f"unknown tier metric {metric!r}")


@dataclass(frozen=True, slots=True)
class TierStatus:
    """Where a member stands: their tier, since when, and what may change it.

    ``floor`` is the tier assigned by hand (until ``floor_until``): a floor, or with
    ``fixed`` the tier itself, which nothing moves automatically while it lasts."""

    tier: str
    index: int
    since: datetime | None = None
    floor: str | None = None
    floor_until: datetime | None = None
    fixed: bool = False
    downgrade_to: str | None = None
    downgrade_at: datetime | None = None
    reviewed: datetime | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    """A tier entry to write: what it does and why."""

    cause: TierCause
    tier_to: str
    reason: str
    reviewed: datetime | None = None
    downgrade_at: datetime | None = None


class TierFigures(Protocol):
    """A member's tier state, fed by their account as it applies entries."""

    status: TierStatus

    @property
    def counts_pending(self) -> bool:
        """Do points count toward tiers while still pending (else once released)?"""
        ...

    @property
    def counts_refunds(self) -> bool:
        """Do refunds and reversals lower the figures (net), or not (gross)?"""
        ...

    @property
    def follows(self) -> bool:
        """Is the tier checked after every change (every write and every advance), not
        only after orders and earns? (:meth:`upgrade` then also says a move down.)"""
        ...

    @property
    def cursor(self) -> date | None:
        """The local day the running window closes on (the latest day it was moved to)."""
        ...

    def enrol(self, at: datetime, undo: Undo) -> None:
        """Start the windows (anniversaries count from ``at``)."""
        ...

    def counted_at(self, lot: Lot) -> datetime | None:
        """When ``lot``'s points count toward tiers (``None``: not yet)."""
        ...

    def points(self, counted_at: datetime, points: int, undo: Undo) -> None:
        """Qualifying points (negative for a reversal) counting on ``counted_at``'s day."""
        ...

    def move_to(self, at: datetime, undo: Undo) -> None:
        """Move the running window forward to ``at``'s day."""
        ...

    def add(self, counted_at: datetime, delta: Metrics, undo: Undo) -> None:
        """Add figures (an order, a refund) on ``counted_at``'s day."""
        ...

    def apply(self, entry: TierChange, undo: Undo) -> None:
        """Apply a tier entry of the journal to the status."""
        ...

    def upgrade(self, at: datetime) -> Decision | None:
        """The upgrade (or cancelled downgrade) the figures as of ``at`` call for; when
        the tier :attr:`follows` every change, also a move down."""
        ...

    def metrics(self, at: datetime | None = None) -> Metrics:
        """The figures of the window closing on ``at``'s day (the latest if ``None``)."""
        ...

    def days(self, changed: bool) -> tuple[tuple[date, Metrics], ...]:
        """The figures by local day (``changed``: only days changed since :meth:`saved`)."""
        ...

    def saved(self) -> None:
        """The changed days are stored: :meth:`days` with ``changed`` starts afresh."""
        ...

    def restore(
        self, status: TierStatus, days: tuple[tuple[date, Metrics], ...], cursor: date | None
    ) -> None:
        """Take the state a snapshot recorded."""
        ...


FiguresFactory = Callable[["Program", Held], TierFigures]
"""Builds the tier figures of an account from its program and a reader of its points."""
_factories: list[FiguresFactory] = []


def wire_tier_figures(factory: FiguresFactory) -> None:
    """Use ``factory`` to build the tier figures of accounts in programs with tiers."""
    _factories[:] = [factory]


def tier_figures(program: Program, held: Held) -> TierFigures | None:
    """The tier figures of a new account in ``program`` (``None`` if it has no tiers);
    ``held`` reads the points the account holds (for the ``balance`` metric)."""
    if program.tiers is None:
        return None
    if not _factories:  # pragma: no cover - importing loyalty wires them
        raise RuntimeError("no tier figures are wired in: import loyalty first")
    return _factories[0](program, held)
