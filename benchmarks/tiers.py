"""Tier benchmarks: the tier update per order on long histories, and a year-end review.

One program, built with the public API: a 4-tier ladder (Member, Silver, Gold,
Platinum) on ``net_spend`` and ``orders`` with ``match: any``, one-step
downgrades, no grace period, in America/New_York. The per-order figures run it
with a ``calendar_year`` window and with a rolling 12 months window.

*Order histories* (``tiers.<window>.history_<n>``): ``n`` orders of 5-150 USD
evenly spread over the same 540 days (1 March 2024 to late August 2025, so the
history crosses a year end and, for the rolling window, old days have left the
window), plus refunds of about 3% of orders (half of them in full) on a recent
order. The member is reviewed at every period end on the way (1 January, or
every 1st of the month for the rolling window), as a nightly batch would. A
long history is denser, not older.

*Tier update per order* (``tiers.order_<window>.<pace>.*``): ``record_order(...)``
(which updates the window's running total and checks for an upgrade) then
``account.tier()``. Each measured account is the built history or a copy of it
made with :func:`loyalty.replay`, as a service loads an account; an account
receives at most a tenth of its history's length in new orders, so histories
grow by at most 10% while measured. Two paces:

* ``own_pace``: the history goes on at its own pace (one order per
  540 days / n), so both sizes move the same number of days ahead (at most 54,
  never past the end of 2025) and the rolling window evicts old days in both.
  The short history starts a new day at every order (a new day bucket, the
  window moves); the one of 10^5 orders once per 185 orders.
* ``same_day``: orders 1 ms apart: the same work per order at both sizes, so the
  ratio shows what the history's length alone costs.

*Review* (``tiers.review_<m>.*``): ``review(accounts, at)`` of ``m`` members at
the end of 2025 (calendar-year window), then again at the same time (idempotent:
it must write nothing). The members have one to three operations each; see
:func:`_build_member` for the cohorts (30% above the entry tier at review:
half kept, half moved down one step).
"""

from __future__ import annotations

import gc
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import loyalty
from benchmarks.harness import (
    AMOUNTS,
    Copies,
    Result,
    Settings,
    interleave,
    log,
    paired_ratio,
    timed,
    usd,
)
from loyalty import Account, Entry, EntryKind, Money, Program, TierCause, TierChange

__all__ = ["run"]

TIMEZONE = "America/New_York"
TZ = ZoneInfo(TIMEZONE)
LADDER: list[dict[str, Any]] = [
    {"name": "Member"},
    {"name": "Silver", "threshold": {"net_spend": 500, "orders": 10}},
    {"name": "Gold", "threshold": {"net_spend": 1500, "orders": 25}},
    {"name": "Platinum", "threshold": {"net_spend": 4000, "orders": 50}},
]
WINDOWS: dict[str, Any] = {
    "calendar_year": "calendar_year",
    "rolling_12_months": {"rolling": "12 months"},
}
"""Result label -> the ``tiers.window`` setting."""


def _program(window: Any) -> Program:
    return loyalty.load_program({
        "id": "bench-tiers",
        "name": "Benchmark Tiers",
        "currency": "USD",
        "timezone": TIMEZONE,
        "earning": {"rate": "1"},
        "tiers": {
            "metrics": ["net_spend", "orders"],
            "match": "any",
            "window": window,
            "retention": 1,
            "downgrade": "one_step",
            "ladder": LADDER,
        },
    })


MEMBER = "member-1"
START = datetime(2024, 3, 1, 14, 0, tzinfo=UTC)
SPAN = timedelta(days=540)
"""Every order history spans this; measuring adds at most a tenth (54 days, still in 2025)."""
REFUND_SHARE = 0.03
RECENT_ORDERS = 20
"""Refunds pick one of this many most recent orders not yet refunded."""

REVIEW_AT = datetime(2026, 1, 1, tzinfo=TZ).astimezone(UTC)
"""The review: midnight at the end of 2025, New York time."""
PREVIOUS_REVIEW_AT = datetime(2025, 1, 1, tzinfo=TZ).astimezone(UTC)
REVIEW_REPEATS = 3
"""Timed repeats of the second, idempotent review (the median is reported)."""

GOAL_RATIO = 1.3


def run(settings: Settings) -> list[Result]:
    small, large = (100, 2_000) if settings.quick else (100, 100_000)
    members = 5_000 if settings.quick else 100_000
    results: list[Result] = []
    for label, window in WINDOWS.items():
        with _long_lived():
            program = _program(window)
            short, long = (_history(program, label, size) for size in (small, large))
            results += short.describe() + long.describe()
            for pace in PACES:
                results += _order_and_tier(short, long, pace, settings)
            del short, long
    with _long_lived():
        results += _review(members)
    return results


# ------------------------------------------------------------------ histories


@dataclass(slots=True)
class _History:
    """A built journal to copy from; ``built`` is the account itself, until first used."""

    window: str
    size: int
    program: Program
    journal: tuple[Entry, ...]
    clock: datetime
    enrolled_at: datetime | None
    pace: timedelta
    """The time between two orders of the history."""
    summary: dict[str, Any]
    built: Account | None

    @property
    def name(self) -> str:
        return f"history_{self.size}"

    def copy(self) -> Account:
        """The built account the first time, then replays of its journal (as a service would)."""
        if self.built is not None:
            account, self.built = self.built, None
            return account
        with _collector_paused():
            account = loyalty.replay(self.program, MEMBER, self.journal, at=self.clock,
                                     enrolled_at=self.enrolled_at)
        gc.freeze()
        return account

    def describe(self) -> list[Result]:
        s = self.summary
        prefix = f"tiers.{self.window}.{self.name}"
        about = (
            f"{s['entries']} entries over {SPAN.days} days ({s['order_days']} days with orders): "
            f"{s['orders']} orders, {s['refunds']} refunds ({s['full_refunds']} in full), "
            f"{s['tier_changes']} tier entries ({s['changes']}); tier {s['tier']}; "
            f"current window: {s['window_orders']} orders, net spend {s['window_spend']}"
        )
        return [
            Result(f"{prefix}.entries", s["entries"], "entries", about),
            Result(f"{prefix}.order_days", s["order_days"], "days",
                   "local days with at least one order (tier buckets)"),
            Result(f"{prefix}.window_orders", s["window_orders"], "orders",
                   "orders counted in the running window at the end of the history"),
        ]


def _next_review(day: date, window: str) -> date:
    """The first period end after local day ``day`` (1 January, or the 1st of a month)."""
    if window == "calendar_year":
        return date(day.year + 1, 1, 1)
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=TZ).astimezone(UTC)


def _build(program: Program, window: str, size: int) -> Account:
    """``size`` orders over :data:`SPAN`, some refunds, a review at every period end."""
    rng = random.Random(size)
    account = loyalty.open_account(program, MEMBER, enrolled_at=START)
    step = SPAN / size
    review_at = _midnight(_next_review(START.astimezone(TZ).date(), window))
    refundable: list[tuple[str, int]] = []  # (order id, cents not yet refunded)
    for i in range(size):
        at = START + step * i
        while review_at <= at:
            loyalty.review_member(account, review_at)
            review_at = _midnight(_next_review(review_at.astimezone(TZ).date(), window))
        cents = rng.randint(500, 15_000)
        order = f"order-{i}"
        loyalty.record_order(account, order, usd(cents), at=at, key=f"order-{i}")
        account.tier()
        refundable.append((order, cents))
        del refundable[:-RECENT_ORDERS]
        if rng.random() < REFUND_SHARE and len(refundable) > 1:
            order, left = refundable.pop(rng.randrange(len(refundable) - 1))
            refund = left if rng.random() < 0.5 else left // 2
            loyalty.record_refund(account, order, usd(refund), at=at, key=f"refund-{i}")
    return account


def _history(program: Program, window: str, size: int) -> _History:
    started = time.perf_counter()
    with _collector_paused():
        account = _build(program, window, size)
    log(f"tiers: built {window} history_{size} with the public API "
        f"in {time.perf_counter() - started:.1f} s")
    journal = account.journal
    kinds = Counter(entry.kind for entry in journal)
    changes = Counter(
        "kept" if e.cause is TierCause.REVIEW and e.tier_to == e.tier_from
        else "moved down" if e.cause is TierCause.REVIEW else str(e.cause)
        for e in journal if isinstance(e, TierChange)
    )
    full = sum(1 for entry in journal if entry.kind is EntryKind.REFUND
               and (record := account.order(entry.source or "")) is not None
               and record.refunded == record.amount)
    status, metrics = account.tier(), account.tier_metrics()
    summary = {
        "entries": len(journal),
        "orders": kinds[EntryKind.ORDER],
        "refunds": kinds[EntryKind.REFUND],
        "full_refunds": full,
        "tier_changes": kinds[EntryKind.TIER],
        "changes": ", ".join(f"{count} {cause}" for cause, count in sorted(changes.items())),
        "order_days": len({entry.at.astimezone(TZ).date() for entry in journal
                           if entry.kind is EntryKind.ORDER}),
        "tier": status.tier if status else "-",
        "window_orders": metrics.orders,
        "window_spend": Money.rounded(metrics.spend, "USD"),
    }
    assert account.clock is not None
    gc.freeze()
    return _History(window, size, program, journal, account.clock, account.enrolled_at,
                    SPAN / size, summary, account)


@contextmanager
def _long_lived() -> Iterator[None]:
    """Histories and members live long: ``gc.freeze()`` them (here or as they are built), so
    the full collection before each timed sample skips them; unfrozen on the way out.

    Garbage that only reference counting frees (a discarded copy) is still freed.
    """
    try:
        yield
    finally:
        gc.unfreeze()
        gc.collect()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Building many objects is faster without the cyclic collector; nothing is timed here."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# ------------------------------------------------------------------- timing


PACES = {"own_pace": None, "same_day": timedelta(milliseconds=1)}
"""Time between two measured orders on one account (``None``: the history's own pace)."""




def _order_sample(history: _History, step: timedelta) -> Callable[[int], float]:
    copies = Copies(history.copy, history.size, history.clock, step)

    def sample(ops: int) -> float:
        plan = []
        for _ in range(ops):
            account, at, serial = copies.next()
            plan.append((account, f"bench-order-{serial}", AMOUNTS[serial % len(AMOUNTS)], at,
                         f"bench-{serial}"))

        def go() -> None:
            for account, order, amount, at, key in plan:
                loyalty.record_order(account, order, amount, at=at, key=key)
                account.tier()

        return timed(go)

    return sample


def _order_and_tier(small: _History, large: _History, pace: str, settings: Settings,
                    ) -> list[Result]:
    window, fixed = small.window, PACES[pace]
    log(f"tiers: timing record_order + tier() ({window}, {pace}) on {small.size} and "
        f"{large.size} orders")
    steps = {history.name: fixed or history.pace for history in (small, large)}
    timings = interleave(
        {h.name: _order_sample(h, steps[h.name]) for h in (small, large)}, settings
    )
    prefix = f"tiers.order_{window}.{pace}"
    about = f"record_order(...) then account.tier(), {window} window"
    results: list[Result] = []
    for history in (small, large):
        timing = timings[history.name]
        note = (f"{about}, one order per {_duration(steps[history.name])}; median of "
                f"{len(timing.per_op)} interleaved rounds of {timing.ops} ops "
                f"(slowest/fastest round {timing.spread:.2f})")
        results += [
            Result(f"{prefix}.{history.name}.us_per_op", timing.median * 1e6, "us/op", note),
            Result(f"{prefix}.{history.name}.us_per_op_min", timing.minimum * 1e6, "us/op",
                   "fastest round"),
        ]
    big, little = timings[large.name], timings[small.name]
    ratio = f"{prefix}.ratio_{large.size}_to_{small.size}"
    results += [
        Result(ratio, paired_ratio(big, little), "x",
               "median over rounds of the per-round ratio (same run, interleaved)", GOAL_RATIO),
        Result(f"{ratio}_min", big.minimum / little.minimum, "x", "ratio of fastest rounds"),
    ]
    return results


def _duration(span: timedelta) -> str:
    seconds = span.total_seconds()
    if seconds >= 86_400:
        return f"{seconds / 86_400:.1f} days"
    if seconds >= 3_600:
        return f"{seconds / 3_600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds * 1000:g} ms"


# ------------------------------------------------------------------- review


COHORTS = 20
"""Members are assigned to cohorts by ``index % COHORTS``; see :func:`_build_member`."""


def _build_member(program: Program, index: int) -> Account:
    """One member of the review population, enrolled in 2024 or 2025.

    Cohorts (of 20): 14 entry tier (one order of 15-150 USD in 2025); at review, kept:
    Silver upgraded in 2025 (one 600 USD order), Silver since 2024 and reviewed on
    1 January 2025 who requalified in 2025 (700 then 650 USD), Gold upgraded in 2025
    (1,800 USD); at review, moved down: Silver since 2024 with 90 USD in 2025 (to
    Member), Gold since 2024 with 700 USD in 2025 (to Silver), Silver upgraded in 2025
    who was refunded 500 of 800 USD (to Member).
    """
    account = loyalty.open_account(program, f"member-{index}")
    cohort = index % COHORTS
    day = (index // COHORTS) % 300  # every cohort spread over the year
    in_2024 = datetime(2024, 2, 1, 17, tzinfo=UTC) + timedelta(days=day, seconds=index % 3_600)
    in_2025 = datetime(2025, 2, 1, 17, tzinfo=UTC) + timedelta(days=day, seconds=index % 3_600)

    def order(at: datetime, cents: int, number: int) -> None:
        loyalty.record_order(account, f"order-{index}-{number}", usd(cents), at=at,
                             key=f"order-{index}-{number}")

    if cohort < 14:
        order(in_2025, 1_500 + (index * 7919) % 13_500, 1)
    elif cohort in (14, 16):
        order(in_2025, 60_000 if cohort == 14 else 180_000, 1)
    elif cohort == 19:
        order(in_2025, 80_000, 1)
        loyalty.record_refund(account, f"order-{index}-1", usd(50_000),
                              at=in_2025 + timedelta(days=10), key=f"refund-{index}")
    else:
        first, second = {15: (70_000, 65_000), 17: (70_000, 9_000), 18: (200_000, 70_000)}[cohort]
        order(in_2024, first, 1)
        loyalty.review_member(account, PREVIOUS_REVIEW_AT)
        order(in_2025, second, 2)
    return account


def _review(size: int) -> list[Result]:
    program = _program(WINDOWS["calendar_year"])
    started = time.perf_counter()
    with _collector_paused():
        accounts = [_build_member(program, index) for index in range(size)]
    gc.freeze()
    log(f"tiers: built {size} members with the public API in "
        f"{time.perf_counter() - started:.1f} s; timing review(accounts, at)")
    tiers = Counter(status.tier for account in accounts if (status := account.tier()))
    above = size - tiers[LADDER[0]["name"]]

    reports: list[loyalty.ReviewReport] = []
    first = timed(lambda: reports.append(loyalty.review(accounts, REVIEW_AT)))
    report = reports.pop()
    seq_before = sum(account.next_seq for account in accounts)
    repeats = [timed(lambda: reports.append(loyalty.review(accounts, REVIEW_AT)))
               for _ in range(REVIEW_REPEATS)]
    written = sum(len(again.entries) for again in reports)
    if written or sum(account.next_seq for account in accounts) != seq_before:
        raise RuntimeError(f"a second review at {REVIEW_AT} wrote {written} entries")
    repeat = sorted(repeats)[len(repeats) // 2]
    after = Counter(status.tier for account in accounts if (status := account.tier()))

    population = (
        f"{size} members ({above} above the entry tier before the review: "
        + ", ".join(f"{tiers[tier['name']]} {tier['name']}" for tier in LADDER[1:])
        + "; one to three operations each)"
    )
    prefix = f"tiers.review_{size}"
    return [
        Result(f"{prefix}.members_per_s", size / first, "members/s",
               f"review(accounts, {REVIEW_AT.astimezone(TZ):%Y-%m-%d %H:%M} New York) at the "
               f"end of a calendar year: {population}; one timed run"),
        Result(f"{prefix}.us_per_member", first / size * 1e6, "us/member",
               f"{len(report.entries)} entries written: {report.kept} kept, "
               f"{report.moved_down} moved down, {report.scheduled} scheduled; after: "
               + ", ".join(f"{after[tier['name']]} {tier['name']}" for tier in LADDER)),
        Result(f"{prefix}.above_entry_tier", above, "members",
               "members above the entry tier before the review"),
        Result(f"{prefix}.moved_down", report.moved_down, "members", "moved down by the review"),
        Result(f"{prefix}.repeat_us_per_member", repeat / size * 1e6, "us/member",
               f"the same review again (idempotent, writes nothing); median of {REVIEW_REPEATS}"),
        Result(f"{prefix}.repeat_entries", written, "entries",
               f"entries written by {REVIEW_REPEATS} repeated reviews", goal=0),
    ]
