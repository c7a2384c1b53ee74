"""Ledger benchmarks: appending to long histories, memory per lot, redemptions.

Every account is built with the public API in one program: earn rate 1 point per
USD, a 14-day pending period and a fixed 12-month expiry, in Europe/Paris.

*Mixed histories* (``ledger.history_<n>``): about 78% earns from amounts of
5-150 USD, 20% redemptions of 50-200 points (of what is available) and 2%
partial refunds of a recent earn, evenly spread over the same 300 days whatever
their length. 300 days is shorter than the expiry, so nothing has expired, and
the shares of open, pending and closed lots are the same at every length: a long
history is denser, not older. The figures ``ledger.history_<n>.*`` describe them.

Each measured account is a copy of a built history made with
:func:`loyalty.replay` (as a service loads an account) and advanced to its last
entry. A copy receives at most a tenth of its history's length in new entries,
so histories grow by at most 10% while measured; measured operations are 1 ms
apart, so pending lots (almost) never activate and nothing expires while
measuring, at any length.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import loyalty
from benchmarks.harness import (
    AMOUNTS,
    Copies,
    Result,
    Settings,
    Timing,
    interleave,
    log,
    paired_ratio,
    retained_bytes,
    timed,
    usd,
)
from loyalty import Account, Entry, EntryKind, Program

__all__ = ["run"]

PROGRAM = {
    "id": "bench",
    "name": "Benchmark Club",
    "currency": "USD",
    "timezone": "Europe/Paris",
    "earning": {"rate": "1"},
    "pending": {"period": "14 days"},
    "expiry": {"policy": "fixed", "after": "12 months"},
}
MEMBER = "member-1"
START = datetime(2025, 3, 3, 8, 30, tzinfo=UTC)
SPAN = timedelta(days=300)
"""Every history spans this, shorter than the expiry: nothing has expired."""
STEP = timedelta(milliseconds=1)
"""Time between two measured operations on one account."""
SETTLED = timedelta(days=15)
"""After the pending period: a history advanced this far has every lot available."""

REDEEM_SHARE = 0.20
REFUND_SHARE = 0.02
REDEEM_POINTS = (50, 100, 150, 200)
RECENT_EARNS = 20
"""Refunds pick one of this many most recent earns not yet refunded."""
LOT_POINTS = 500
REDEEM_BATCH = 100
"""Redemption benchmark: lots of 500 points, redemptions of 100 (every 5th closes a lot)."""

GOAL_RATIO = 1.3


def run(settings: Settings) -> list[Result]:
    program = loyalty.load_program(PROGRAM)
    small, large = (100, 2_000) if settings.quick else (100, 100_000)
    memory_size = 1_000 if settings.quick else 20_000
    results: list[Result] = []
    mixed = {size: _history(program, size, _build_mixed) for size in (small, large)}
    for history in mixed.values():
        results += history.describe()
    results += _append_and_balance(mixed[small], mixed[large], settings)
    results += _balance_as_of(mixed[small], mixed[large], settings)
    del mixed
    earns = {size: _history(program, size, _build_redeemable) for size in (small, large)}
    results += _redeem_and_balance(earns[small], earns[large], settings)
    del earns
    results += _memory(program, memory_size)
    return results


# ------------------------------------------------------------------ histories


@dataclass(frozen=True, slots=True)
class _History:
    """A built journal to copy from; ``ready_at`` is when copies start being used."""

    name: str
    size: int
    program: Program
    journal: tuple[Entry, ...]
    ready_at: datetime
    summary: dict[str, int]

    def copy(self) -> Account:
        account = loyalty.replay(self.program, MEMBER, self.journal)
        loyalty.advance(account, self.ready_at)  # also drops stale heap items, as live use would
        return account

    def describe(self) -> list[Result]:
        s = self.summary
        prefix = f"ledger.{self.name}"
        about = (
            f"{s['entries']} entries over {SPAN.days} days: {s['earns']} earns, "
            f"{s['redeems']} redemptions, {s['reversals']} partial refunds; "
            f"{s['open_lots']} open lots ({s['pending_lots']} pending), "
            f"{s['closed_lots']} closed; {s['expired_points']} points expired; "
            f"net balance {s['net_points']} points"
        )
        return [
            Result(f"{prefix}.entries", s["entries"], "entries", about),
            Result(f"{prefix}.open_lots", s["open_lots"], "lots"),
            Result(f"{prefix}.pending_lots", s["pending_lots"], "lots"),
            Result(f"{prefix}.closed_lots", s["closed_lots"], "lots"),
            Result(f"{prefix}.expired_points", s["expired_points"], "points"),
        ]


def _history(program: Program, size: int,
             build: Callable[[Program, int], tuple[str, Account, datetime]]) -> _History:
    started = time.perf_counter()
    name, account, ready_at = build(program, size)
    log(f"ledger: built {name} with the public API in {time.perf_counter() - started:.1f} s")
    kinds = Counter(entry.kind for entry in account.journal)
    lots = account.lots()
    balance = account.balance()
    summary = {
        "entries": len(account.journal),
        "earns": kinds[EntryKind.EARN],
        "redeems": kinds[EntryKind.REDEEM],
        "reversals": kinds[EntryKind.REVERSE],
        "open_lots": len(lots),
        "pending_lots": sum(1 for lot in lots if not lot.activated),
        "closed_lots": kinds[EntryKind.EARN] - len(lots),
        "expired_points": balance.expired,
        "net_points": balance.net,
    }
    return _History(name, size, program, account.journal, ready_at, summary)


def _build_mixed(program: Program, size: int) -> tuple[str, Account, datetime]:
    """Earns, redemptions and partial refunds; see the module's docstring."""
    rng = random.Random(size)
    account = loyalty.open_account(program, MEMBER)
    step = SPAN / size
    refundable: list[tuple[str, str, int]] = []  # (earn id, order, cents)
    for i in range(size):
        at = START + step * i
        key = f"history-{i}"
        roll = rng.random()
        if roll < REDEEM_SHARE:
            # Available before advancing to ``at`` is a lower bound of what redeem will find.
            points = min(rng.choice(REDEEM_POINTS), account.balance().available)
            if points >= REDEEM_POINTS[0]:
                loyalty.redeem(account, points, at=at, key=key, source=f"reward-{i}")
                continue
        elif roll < REDEEM_SHARE + REFUND_SHARE and refundable:
            earn_id, order, cents = refundable.pop(rng.randrange(len(refundable)))
            loyalty.reverse(account, earn_id, amount=usd(cents // 2), at=at, key=key,
                            source=order)
            continue
        cents = rng.randint(500, 15_000)
        order = f"order-{i}"
        entry = loyalty.earn(account, amount=usd(cents), at=at, key=key, source=order)
        refundable.append((entry.id, order, cents))
        del refundable[:-RECENT_EARNS]
    return f"history_{size}", account, account.last_at or START


def _build_earns(program: Program, size: int, points: int | None) -> Account:
    """``size`` earns over the span (of ``points`` each, or from varied amounts)."""
    account = loyalty.open_account(program, MEMBER)
    step = SPAN / size
    for i in range(size):
        at, key, order = START + step * i, f"earn-{i}", f"order-{i}"
        if points is None:
            loyalty.earn(account, amount=usd(500 + (i * 7919) % 14_500), at=at, key=key,
                         source=order)
        else:
            loyalty.earn(account, points=points, at=at, key=key, source=order)
    return account


def _build_redeemable(program: Program, size: int) -> tuple[str, Account, datetime]:
    """Earns of 500 points only, used once every lot is available: ``size`` open lots."""
    account = _build_earns(program, size, LOT_POINTS)
    return f"lots_{size}", account, (account.last_at or START) + SETTLED


# ------------------------------------------------------------------- timing




def _append_sample(history: _History) -> Callable[[int], float]:
    copies = Copies(history.copy, history.size, history.ready_at, STEP)

    def sample(ops: int) -> float:
        plan = []
        for _ in range(ops):
            account, at, serial = copies.next()
            plan.append((account, at, f"bench-{serial}", AMOUNTS[serial % len(AMOUNTS)],
                         f"bench-order-{serial}"))

        def go() -> None:
            for account, at, key, amount, order in plan:
                loyalty.earn(account, amount=amount, at=at, key=key, source=order)
                account.balance()

        return timed(go)

    return sample


def _redeem_sample(history: _History) -> Callable[[int], float]:
    copies = Copies(history.copy, history.size, history.ready_at, STEP)

    def sample(ops: int) -> float:
        plan = [copies.next() for _ in range(ops)]

        def go() -> None:
            for account, at, serial in plan:
                loyalty.redeem(account, REDEEM_BATCH, at=at, key=f"bench-{serial}")
                account.balance()

        return timed(go)

    return sample


def _balance_as_of_sample(history: _History) -> Callable[[int], float]:
    account = history.copy()
    # Just after the next pending lot becomes available: exactly one lot activates, whatever
    # the history's length, in a view of the account that is then rolled back.
    at = min(lot.available_at for lot in account.lots() if not lot.activated) + STEP

    def sample(ops: int) -> float:
        def go() -> None:
            for _ in range(ops):
                account.balance(at)

        return timed(go)

    return sample


def _compared(
    prefix: str, label: str, small: _History, large: _History, timings: dict[str, Timing],
    about: str, goal: float | None = None,
) -> list[Result]:
    results: list[Result] = []
    for history in (small, large):
        timing = timings[history.name]
        note = (f"{about}; median of {len(timing.per_op)} interleaved rounds of {timing.ops} ops "
                f"(slowest/fastest round {timing.spread:.2f})")
        results += [
            Result(f"{prefix}.{label}_{history.size}.us_per_op", timing.median * 1e6, "us/op",
                   note),
            Result(f"{prefix}.{label}_{history.size}.us_per_op_min", timing.minimum * 1e6,
                   "us/op", "fastest round"),
        ]
    big, little = timings[large.name], timings[small.name]
    ratio_name = f"{prefix}.ratio_{large.size}_to_{small.size}"
    results += [
        Result(ratio_name, paired_ratio(big, little), "x",
               "median over rounds of the per-round ratio (same run, interleaved)", goal),
        Result(f"{ratio_name}_min", big.minimum / little.minimum, "x", "ratio of fastest rounds"),
    ]
    return results


def _append_and_balance(small: _History, large: _History, settings: Settings) -> list[Result]:
    log(f"ledger: timing earn + balance() on {small.size} and {large.size} entries")
    timings = interleave(
        {history.name: _append_sample(history) for history in (small, large)}, settings
    )
    return _compared("ledger.append_and_balance", "history", small, large, timings,
                     "earn(amount=...) 1 ms after the last entry, then balance()", GOAL_RATIO)


def _balance_as_of(small: _History, large: _History, settings: Settings) -> list[Result]:
    log(f"ledger: timing balance(at) on {small.size} and {large.size} entries")
    timings = interleave(
        {history.name: _balance_as_of_sample(history) for history in (small, large)},
        Settings(settings.quick, settings.rounds, settings.sample_seconds, probe_ops=2),
    )
    return _compared("ledger.balance_as_of", "history", small, large, timings,
                     "balance(at) just after the next pending lot becomes available (one lot "
                     "activates in a view that is rolled back); informational, no goal")


def _redeem_and_balance(small: _History, large: _History, settings: Settings) -> list[Result]:
    log(f"ledger: timing redeem + balance() with {small.size} and {large.size} open lots")
    timings = interleave(
        {history.name: _redeem_sample(history) for history in (small, large)}, settings
    )
    return _compared(
        "ledger.redeem_and_balance", "lots", small, large, timings,
        f"redeem({REDEEM_BATCH}) + balance() with n available lots of {LOT_POINTS} points "
        "(earns only, every 5th redemption closes a lot)",
    )


# ------------------------------------------------------------------- memory


def _memory(program: Program, size: int) -> list[Result]:
    log(f"ledger: measuring memory with tracemalloc ({size} earns, {size} mixed entries)")
    _, empty = retained_bytes(lambda: loyalty.open_account(program, MEMBER))

    def earned() -> Account:
        account = _build_earns(program, size, None)
        loyalty.advance(account, (account.last_at or START) + SETTLED)
        return account

    built, whole = retained_bytes(earned)
    journal, settled_at = built.journal, (built.last_at or START) + SETTLED
    open_lots = len(built.lots())

    def replayed() -> Account:
        account = loyalty.replay(program, MEMBER, journal)
        loyalty.advance(account, settled_at)
        return account

    _, state = retained_bytes(replayed)
    del built
    mixed, mixed_bytes = retained_bytes(lambda: _build_mixed(program, size)[1])
    mixed_entries, mixed_open = len(mixed.journal), len(mixed.lots())
    del mixed

    per_earn = (whole - empty) / size
    per_lot = (state - empty) / open_lots
    return [
        Result("ledger.memory.empty_account.bytes", empty, "B", "open_account(...)"),
        Result("ledger.memory.open_lot.bytes_per_lot", per_lot, "B",
               f"derived state per open lot (lot, heap items, idempotency record): account "
               f"replayed from {size} earns, all {open_lots} lots open and available, "
               "minus an empty account"),
        Result("ledger.memory.earn_entry.bytes_per_entry", per_earn - per_lot, "B",
               "one Earn entry with what only it holds (id, key, fingerprint, reason, "
               "datetimes, Money basis): built minus replayed state"),
        Result("ledger.memory.earn_with_open_lot.bytes", per_earn, "B",
               f"account built with the API from {size} earns, per earn"),
        Result("ledger.memory.mixed_history.bytes_per_entry", (mixed_bytes - empty) / mixed_entries,
               "B", f"whole account per entry, mixed history of {mixed_entries} entries "
               f"({mixed_open} open lots)"),
    ]
