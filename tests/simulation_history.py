"""Order histories for the simulation tests: steps of the replay format (enrolments,
orders of 1-3 lines, refunds of some lines or of all, delayed shipments) for a few
members over a few months, the same for the same seed."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from loyalty import LoyaltyService, Program
from loyalty.errors import LoyaltyError
from loyalty.ledger.entries import HoldingKind, HoldingStatus
from loyalty.service.events import OrderCompleted
from loyalty.service.steps import Enrol, StepRunner, load_step_json
from loyalty.simulation import Policy
from loyalty.simulation.checkout import Checkout
from loyalty.simulation.months import month_end, month_key, months_between
from loyalty.store.memory import MemoryStore

NEW_YORK_WINTER = timezone(timedelta(hours=-5))
START = datetime(2026, 1, 1, 9, tzinfo=NEW_YORK_WINTER)
"""The first day of a history: 1 January 2026, 9:00 in New York."""

SKUS = tuple(
    (f"S{number:02d}", price)
    for number, price in enumerate(
        ("12.00", "24.50", "8.99", "45.00", "60.00", "19.99", "33.50", "5.00", "90.00", "27.25")
    )
)
CATEGORIES = ("skincare", "makeup", "soap", "hair")

ROLLING_TIERS: dict[str, Any] = {
    "id": "rolling-tiers",
    "name": "Rolling tiers",
    "currency": "USD",
    "timezone": "America/New_York",
    "tiers": {
        "metrics": ["net_spend"],
        "window": {"rolling": "1 months"},
        "retention": 1,
        "grace": "10 days",
        "downgrade": "one_step",
        "ladder": [
            {"name": "Bronze"},
            {"name": "Silver", "threshold": {"net_spend": 150}},
            {"name": "Gold", "threshold": {"net_spend": 400}},
        ],
    },
}
"""Tiers on the last month's spend, reviewed on every 1st: members go up and down."""


def history(
    members: int,
    *,
    seed: int,
    months: int = 4,
    gap_days: tuple[int, int] = (3, 25),
    refunds: float = 0.15,  # float-ok: a share of orders, not money
    delays: float = 0.1,  # float-ok: a share of orders, not money
    churn: float = 0.25,  # float-ok: a share of members, not money
    start: datetime = START,
) -> list[dict[str, Any]]:
    """Steps for ``members`` members (``m000``, ``m001``...): each enrols in the first
    month and orders every ``gap_days`` days until ``months`` months (of 30 days) have
    passed, or (a ``churn`` share of them) until a day drawn in that period; a share of
    orders is refunded (one unit of a line, a whole line, or all that is left) and a
    share delayed. Sorted by time; every key is unique."""
    rnd = random.Random(seed)
    period = start + timedelta(days=30 * months - 1)
    timed: list[tuple[datetime, int, dict[str, Any]]] = []

    def put(at: datetime, step: dict[str, Any]) -> None:
        timed.append((at, len(timed), {**step, "at": at.isoformat()}))

    for number in range(members):
        member = f"m{number:03d}"
        churns = rnd.random() < churn
        end = start + timedelta(days=rnd.randrange(30 * months)) if churns else period
        at = start + timedelta(days=rnd.randrange(0, 28), minutes=rnd.randrange(600))
        put(at, {"type": "enrol", "member_id": member})
        count = 0
        while True:
            at += timedelta(days=rnd.randint(*gap_days), minutes=rnd.randrange(600))
            if at > end:
                break
            count += 1
            order_id = f"{member}-{count}"
            lines = [
                {
                    "sku": sku,
                    "unit_price": price,
                    "quantity": rnd.randint(1, 3),
                    "categories": [rnd.choice(CATEGORIES)],
                }
                for sku, price in rnd.sample(SKUS, rnd.randint(1, 3))
            ]
            cart = {"id": order_id, "member_id": member, "currency": "USD", "lines": lines}
            put(
                at,
                {
                    "type": "order_completed",
                    "member_id": member,
                    "key": f"order:{order_id}",
                    "cart": cart,
                },
            )
            if rnd.random() < delays:
                put(
                    at + timedelta(days=2),
                    {
                        "type": "shipment_delayed",
                        "member_id": member,
                        "key": f"delay:{order_id}",
                        "order_id": order_id,
                    },
                )
            if rnd.random() < refunds:
                when = min(at + timedelta(days=rnd.randint(1, 20)), period)
                refund: dict[str, Any] = {
                    "type": "order_refunded",
                    "member_id": member,
                    "key": f"refund:{order_id}",
                    "order_id": order_id,
                }
                kind = rnd.randrange(3)
                line = rnd.choice(lines)
                if kind == 0:
                    refund["lines"] = {line["sku"]: 1}
                elif kind == 1:
                    refund["lines"] = {line["sku"]: line["quantity"]}
                put(when, refund)
    timed.sort(key=lambda item: (item[0], item[1]))
    return [step for _, _, step in timed]


def text(steps: Iterable[Mapping[str, Any] | str]) -> list[str]:
    """The steps as lines of JSON (a ``str`` is kept as it is)."""
    return [step if isinstance(step, str) else json.dumps(step) for step in steps]


def write(path: Path, steps: Iterable[Mapping[str, Any] | str]) -> Path:
    """A file of ``steps``, one a line."""
    path.write_text("".join(line + "\n" for line in text(steps)), encoding="utf-8")
    return path


# ------------------------------------------------------------------ the reference
# The same history replayed without the simulation's books: one service, the same
# checkout, the scheduled run at every month end, and the members' state read there.


@dataclass
class MonthEnd:
    """The members' state at a month end, summed over the members."""

    members: int = 0
    balance: Counter[str] = field(default_factory=Counter)
    """``net`` and every counter of :class:`loyalty.Balance` (earned, redeemed...)."""
    tiers: Counter[str] = field(default_factory=Counter)
    coupons: Decimal = Decimal(0)
    """The face value of the coupons held open."""
    cashback: Decimal = Decimal(0)
    """What is left of the cashback credits held open."""


_COUNTERS = ("earned", "redeemed", "returned", "expired", "reversed", "adjusted", "written_off")


def reference(
    program: Program, lines: Iterable[str], policy: Policy
) -> tuple[LoyaltyService, dict[str, MonthEnd]]:
    """Replay ``lines`` under ``program`` as the simulation's checkout would, advancing
    every member to each month end (midnight of the next 1st) as the steps pass it, and
    return the service and the state at each month end (to the end of the last step's
    month)."""
    service = LoyaltyService(program, MemoryStore())
    runner = StepRunner(service)
    checkout = Checkout(service, program, policy)
    tz = program.tz
    members: list[str] = []
    states: dict[str, MonthEnd] = {}
    month: str | None = None

    def close(key: str) -> None:
        end = month_end(key, tz)
        service.advance(end)
        states[key] = _state(service, members)

    for line in lines:
        step = load_step_json(line)
        at = step.at  # type: ignore[union-attr]
        key = month_key(at, tz)
        if month is None:
            month = key
        while month < key:
            close(month)
            month = months_between(month, key)[1]
        try:
            if isinstance(step, OrderCompleted):
                checkout(step.member_id, step.cart, at)
            outcome = runner.run(step)
        except LoyaltyError:
            continue
        if isinstance(step, Enrol):
            members.append(step.member_id)
        checkout.saw(step.member_id, outcome)  # type: ignore[union-attr]
    if month is not None:
        close(month)
    return service, states


def _state(service: LoyaltyService, members: list[str]) -> MonthEnd:
    state = MonthEnd(members=len(members))
    for member_id in members:
        profile = service.member(member_id)
        balance = profile.balance
        state.balance["net"] += balance.net
        for name in _COUNTERS:
            state.balance[name] += getattr(balance, name)
        if profile.tier is not None:
            state.tiers[profile.tier] += 1
        for holding in service.holdings(member_id):
            if holding.status is not HoldingStatus.OPEN:
                continue
            if holding.kind is HoldingKind.COUPON and holding.uses > 0:
                state.coupons += holding.value.amount
            elif holding.kind is HoldingKind.CASHBACK and holding.remaining is not None:
                state.cashback += holding.remaining.amount
    return state
