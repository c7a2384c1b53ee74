"""How the report writes numbers: money with thousands separators and its currency
("12,400.00 USD"), points and counts ("40,211"), shares as percentages ("6.42%"), and
differences with their sign ("+398.00 USD", "-1,210", "+0.85 pp"). Exact: no float."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from loyalty.currencies import MINOR_UNITS
from loyalty.money import Money

__all__ = ["count", "label_of", "money", "month_label", "percent", "signed", "value"]

_MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

LABELS: Final = {
    "members": "Members",
    "orders": "Orders",
    "orders_with_reward": "Orders with a reward",
    "reward_share": "Share of orders with a reward",
    "coupons_used": "Coupons used",
    "points.issued": "Points issued",
    "points.redeemed": "Points redeemed",
    "points.expired": "Points expired",
    "points.reversed": "Points reversed",
    "points.adjusted": "Points adjusted",
    "points.outstanding": "Outstanding points",
    "breakage_rate": "Breakage rate",
    "liability.points": "Liability for points",
    "liability.cashback": "Liability for cashback",
    "liability.coupons": "Liability for coupons",
    "liability.total": "Liability",
    "sales.gross": "Gross sales",
    "sales.discounts": "Discounts",
    "sales.refunds": "Refunds",
    "sales.net": "Net revenue",
    "cost.total": "Loyalty cost",
}
"""What the report calls each figure of the document."""


def label_of(figure: str) -> str:
    """The name of a figure for a reader (``"cost.total"`` is "Loyalty cost")."""
    return LABELS.get(figure, figure)


def money(amount: Money, *, sign: bool = False) -> str:
    """``12,400.00 USD``; with ``sign``, a positive amount gets a ``+``."""
    places = MINOR_UNITS[amount.currency]
    plus = "+" if sign and amount.amount > 0 else ""
    return f"{plus}{amount.amount:,.{places}f} {amount.currency}"


def count(number: int, *, sign: bool = False) -> str:
    """``40,211``; with ``sign``, a positive number gets a ``+``."""
    return f"{number:+,}" if sign and number > 0 else f"{number:,}"


def percent(share: Decimal, *, sign: bool = False) -> str:
    """A share as a percentage, ``"0.0642"`` as ``6.42%``; with ``sign`` a difference of
    shares, in percentage points: ``+0.85 pp``."""
    hundredths = share * 100 if share else Decimal(0)  # never "-0.00"
    if sign:
        return f"{hundredths:+.2f} pp" if hundredths > 0 else f"{hundredths:.2f} pp"
    return f"{hundredths:.2f}%"


def value(number: int | Money | Decimal, *, sign: bool = False) -> str:
    """Any figure of the document, written as its kind is."""
    if isinstance(number, Money):
        return money(number, sign=sign)
    if isinstance(number, Decimal):
        return percent(number, sign=sign)
    return count(number, sign=sign)


def signed(number: int | Money | Decimal) -> str:
    """A difference, with its sign."""
    return value(number, sign=True)


def month_label(month: str) -> str:
    """``"2026-01"`` as ``Jan 2026``."""
    year, number = month.split("-")
    return f"{_MONTHS[int(number) - 1]} {year}"
