"""Small builders so a test states only what matters to it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from loyalty import Account, Money, Program, load_program, open_account

BASE: dict[str, Any] = {
    "id": "club",
    "name": "Test Club",
    "currency": "USD",
    "timezone": "UTC",
}


def program(**sections: Any) -> Program:
    """A valid program: the base above, with ``sections`` replacing or adding keys."""
    return load_program({**BASE, **sections})


def account(member_id: str = "m-1", **sections: Any) -> Account:
    return open_account(program(**sections), member_id)


def usd(amount: str) -> Money:
    return Money(amount, "USD")


def utc(year: int, month: int = 1, day: int = 1, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


T0 = utc(2026, 1, 1, 12)


def days(n: float) -> timedelta:
    return timedelta(days=n)


def ladder(*rungs: tuple[str, dict[str, Any]], **settings: Any) -> dict[str, Any]:
    """A tiers section: ``ladder(("Member", {}), ("Gold", {"net_spend": 500}), window=...)``.

    The metrics default to those the first threshold names.
    """
    tiers = [
        {"name": name, **({"threshold": threshold} if threshold else {})}
        for name, threshold in rungs
    ]
    metrics = settings.pop("metrics", None) or list(rungs[1][1])
    return {"metrics": metrics, "ladder": tiers, **settings}


SPEND_LADDER = (
    ("Member", {}),
    ("Silver", {"net_spend": 200}),
    ("Gold", {"net_spend": 500}),
    ("Platinum", {"net_spend": 1000}),
)
