"""The figures of a simulation: the books turned into months and a total, as a document.

Flows (:class:`~loyalty.simulation.books.Flows`) become each month's figures; the
stocks at each month end (members, outstanding points, liabilities, members per
tier) are the running sums of the flows. The total sums the flows of the period and
takes the stocks at its end. Money is given as a string in the currency's minor
unit, shares with four decimals; see ``docs/simulation.md`` for every figure.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from loyalty.money import Money
from loyalty.simulation.books import Books, Flows

__all__ = ["Figures", "money_text", "share_text"]

_SHARE = Decimal("0.0001")


def money_text(amount: Decimal, currency: str) -> str:
    """``amount`` rounded to the currency's minor unit (half to even), as text: "-12.50"."""
    rounded = Money.rounded(amount, currency).amount
    return str(rounded.copy_abs() if rounded == 0 else rounded)


def share_text(part: int | Decimal, whole: int | Decimal) -> str:
    """``part / whole`` with four decimals ("0.0000" when ``whole`` is 0)."""
    if not whole:
        return "0.0000"
    return str((Decimal(part) / Decimal(whole)).quantize(_SHARE, rounding=ROUND_HALF_EVEN))


@dataclass(slots=True)
class _Stocks:
    """What the members hold at a month end: the running sums of the flows."""

    members: int = 0
    outstanding: int = 0
    issued: int = 0
    expired: int = 0
    cashback: Decimal = Decimal(0)
    coupons: Decimal = Decimal(0)
    tiers: Counter[str] = field(default_factory=Counter)

    def carry(self, flows: Flows) -> None:
        self.members += flows.members
        self.outstanding += flows.net_points
        self.issued += flows.issued
        self.expired += flows.expired
        self.cashback += flows.cashback
        self.coupons += flows.coupons
        self.tiers.update(flows.tiers)


@dataclass(frozen=True, slots=True)
class Figures:
    """How to turn flows into figures: the currency, the money value of a point (``None``:
    the points liability is not valued), and the tiers of the ladder in order."""

    currency: str
    point_value: Decimal | None
    tiers: tuple[str, ...] = ()

    def month(self, key: str, flows: Flows, stocks: _Stocks) -> dict[str, Any]:
        """The figures of one month (or of the total, ``key="total"``)."""
        money = self._money
        points_liability = (
            Decimal(0) if self.point_value is None else stocks.outstanding * self.point_value
        )
        cost = sum(flows.cost.values(), Decimal(0))
        net = flows.gross - flows.discounts - flows.refunds
        tiers = {name: stocks.tiers[name] for name in sorted({*self.tiers, *stocks.tiers})}
        return {
            "month": key,
            "members": stocks.members,
            "orders": flows.orders,
            "orders_with_reward": flows.orders_with_reward,
            "reward_share": share_text(flows.orders_with_reward, flows.orders),
            "coupons_used": flows.coupons_used,
            "points": {
                "issued": flows.issued,
                "redeemed": flows.redeemed,
                "expired": flows.expired,
                "reversed": flows.reversed,
                "adjusted": flows.adjusted,
                "outstanding": stocks.outstanding,
            },
            "breakage_rate": share_text(stocks.expired, stocks.issued),
            "liability": {
                "points": money(points_liability),
                "cashback": money(stocks.cashback),
                "coupons": money(stocks.coupons),
                "total": money(points_liability + stocks.cashback + stocks.coupons),
            },
            "sales": {
                "gross": money(flows.gross),
                "discounts": money(flows.discounts),
                "refunds": money(flows.refunds),
                "net": money(net),
            },
            "cost": {
                "total": money(cost),
                "by_campaign": {name: money(flows.cost[name]) for name in sorted(flows.cost)},
            },
            "rewards": _sorted_counts(flows.rewards),
            "rewards_by_kind": _sorted_counts(flows.rewards_by_kind),
            "tiers": tiers if self.tiers else {},
        }

    def variant(
        self, books: Books, months: list[str]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """The figures of each of ``months`` and the total, from ``books``."""
        stocks = _Stocks()
        total = Flows()
        listed = []
        for key in months:
            flows = books.months.get(key, Flows())
            stocks.carry(flows)
            total.add(flows)
            listed.append(self.month(key, flows, stocks))
        return listed, self.month("total", total, stocks)

    def _money(self, amount: Decimal) -> str:
        return money_text(amount, self.currency)


def _sorted_counts(counts: Counter[str]) -> dict[str, int]:
    return {name: counts[name] for name in sorted(counts) if counts[name]}
