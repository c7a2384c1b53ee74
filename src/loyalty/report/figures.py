"""What a simulation result document holds, typed: the figures of a month or of a whole
period, the variants, B - A, the months of the largest differences, the history simulated.
:func:`loyalty.report.document.read_document` makes them from the JSON document. Money is
:class:`~loyalty.money.Money`, shares and rates :class:`~decimal.Decimal`, points and counts
``int``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from datetime import date
from decimal import Decimal

from loyalty.money import Money

__all__ = [
    "Comparison",
    "Cost",
    "Divergence",
    "Document",
    "Figures",
    "History",
    "Liability",
    "Points",
    "Program",
    "Sales",
    "Variant",
    "figure_value",
]


@dataclass(frozen=True, slots=True)
class Points:
    """Points issued, redeemed, expired, reversed and adjusted in the period; outstanding at
    its end."""

    issued: int
    redeemed: int
    expired: int
    reversed: int
    adjusted: int
    outstanding: int


@dataclass(frozen=True, slots=True)
class Liability:
    """What the program owes at the period's end: points, cashback and coupons."""

    points: Money
    cashback: Money
    coupons: Money
    total: Money


@dataclass(frozen=True, slots=True)
class Sales:
    """Sales of the period: gross, discounts, refunds and net."""

    gross: Money
    discounts: Money
    refunds: Money
    net: Money


@dataclass(frozen=True, slots=True)
class Cost:
    """The loyalty cost of the period, in all and by campaign (names sorted)."""

    total: Money
    by_campaign: Mapping[str, Money]


@dataclass(frozen=True, slots=True)
class Figures:
    """The figures of one month (``month`` is ``"2026-01"``) or of the whole period
    (``"total"``: flows summed, stocks at the end)."""

    month: str
    members: int
    orders: int
    orders_with_reward: int
    reward_share: Decimal
    coupons_used: int
    points: Points
    breakage_rate: Decimal
    liability: Liability
    sales: Sales
    cost: Cost
    rewards: Mapping[str, int]
    rewards_by_kind: Mapping[str, int]
    tiers: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Program:
    """The program a variant ran: its id, name and file (None for a program that was not
    loaded from a file)."""

    id: str
    name: str
    file: str | None


@dataclass(frozen=True, slots=True)
class Variant:
    """One program run over the history: its figures month by month and in total."""

    name: str
    program: Program
    months: tuple[Figures, ...]
    total: Figures


@dataclass(frozen=True, slots=True)
class Comparison:
    """B - A, month by month and in total (a name present in one variant only counts as 0
    in the other)."""

    months: tuple[Figures, ...]
    total: Figures


@dataclass(frozen=True, slots=True)
class Divergence:
    """The month where a headline figure differs most between the variants."""

    figure: str
    month: str
    a: int | Money | Decimal
    b: int | Money | Decimal
    difference: int | Money | Decimal


@dataclass(frozen=True, slots=True)
class History:
    """The order history simulated: its file (None for lines given in memory), sizes and
    first and last days."""

    file: str | None
    events: int
    orders: int
    members: int
    first: date
    last: date


@dataclass(frozen=True, slots=True)
class Document:
    """A simulation result, read and checked."""

    currency: str
    timezone: str
    history: History
    policy: Mapping[str, object]
    point_value: Decimal
    notes: tuple[str, ...]
    variants: tuple[Variant, ...]
    difference: Comparison | None
    diverge: tuple[Divergence, ...]
    summary: str

    @property
    def months(self) -> tuple[str, ...]:
        """The calendar months of the history, in order (``"2026-01"``...)."""
        return tuple(figures.month for figures in self.variants[0].months)


def figure_value(figures: Figures, path: str) -> object:
    """The value at a dotted ``path`` of ``figures`` (``"cost.total"``, ``"points.issued"``,
    ``"cost.by_campaign.rewards"``), or ``None`` if there is none."""
    value: object = figures
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif is_dataclass(value) and part in {field.name for field in fields(value)}:
            value = getattr(value, part)
        else:
            return None
        if value is None:
            return None
    return value
