"""Engine benchmarks: order events in the pure engine against a hand-written baseline,
and the memory a kept account holds per member.

The program (:func:`program_mapping`) is ``examples/programs/cosmetics-club.yaml``
(USD, America/New_York, floor rounding, points pending for 30 days, expiring
12 months after they are earned, rounded up to the end of the month) with the
4-tier net-spend ladder of :mod:`benchmarks.quote` (Member, Silver 200 USD,
Gold 500, Platinum 1,000; earn multipliers 1, 1.25, 1.5 and 2; lifetime
window) and its 12 earning rules (category and product multipliers and
bonuses, a fragrance week in May and a holiday double in December, segment and
tier rules).

*Order events* (``engine.order_event.*``): a stream of orders for many members
(:func:`stream`): each member orders every 3 to 30 days over 14 months, 15% of
the orders on the same local day as the one before, carts of 1 to 5 lines
(some with a line discount), segments fixed per member; the stream is sorted by
time. The carts are loaded beforehand (``load_cart``), outside the timing.
Each case replays the stream on fresh in-memory accounts (opened, untimed, when
the stream is used up), its n-th sample starting at the same point of the
stream (the events before it applied untimed), so both cases see the same
events on the same histories whatever number of events each times per sample:
``loyalty.complete_order(account, cart, at=, key=)`` against
:func:`benchmarks.baseline_engine.complete_order` (plain Python doing the same
bookkeeping; see its docstring). Before timing, one full pass of both must
agree on every event (points, points per line, net spend, release and expiry
times, the tier after it) and on every member's balance at the end, or the run
fails.

*Memory* (``engine.memory.*``): kept accounts after a year of typical
activity: 12 monthly orders of 1 to 5 lines, a redemption of 100 points in
the seventh month for members holding that many, then the account advanced to
the middle of the 14th month (every lot released, the first month's lot
expired); bytes allocated and still held, per member (tracemalloc), with the
program built before and not counted.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import yaml

import loyalty
from benchmarks import baseline_engine
from benchmarks.harness import (
    Result,
    Settings,
    interleave,
    log,
    paired_ratio,
    retained_bytes,
    timed,
)
from benchmarks.quote import MATCHING_RULES, OTHER_RULES, TIERS
from loyalty import Account, Cart, Program
from loyalty.ledger.account import restore
from loyalty.store.codec import decode_items, decode_snapshot, encode_items, encode_snapshot
from loyalty.store.memory import _History
from loyalty.store.parts import HOT_PARTS, hot_keys, join, split

__all__ = ["Event", "Replay", "program_mapping", "run", "stream"]

GOAL_PER_SECOND = 50_000
GOAL_RATIO = 2.0
GOAL_BYTES_PER_MEMBER = 8192
PROGRAM_FILE = Path(__file__).resolve().parent.parent / "examples/programs/cosmetics-club.yaml"
START = datetime(2026, 1, 1, 13, tzinfo=UTC)  # 8:00 in New York
SPAN_DAYS = 425  # 14 months: the first lots expire near the end
SAME_DAY_SHARE = 0.15

PRODUCTS: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("SER-01", "48.00", ("skincare",), ("new",)),
    ("CRM-02", "36.50", ("skincare",), ()),
    ("TON-03", "19.90", ("skincare",), ()),
    ("LIP-01", "18.00", ("makeup",), ()),
    ("MAS-01", "22.00", ("makeup",), ()),
    ("NAI-01", "7.50", ("makeup",), ("clearance",)),
    ("FRG-01", "89.00", ("fragrance",), ()),
    ("FRG-02", "64.00", ("fragrance",), ()),
    ("SHP-01", "14.25", ("hair",), ()),
    ("CND-02", "16.75", ("hair",), ()),
    ("BRS-01", "9.99", ("tools",), ("clearance",)),
    ("MIR-01", "29.00", ("tools",), ()),
)
"""(sku, unit price, categories, tags)."""

SEGMENTS: tuple[tuple[str, ...], ...] = (
    (), ("newsletter",), ("newsletter", "app"), ("app",), ("vip", "newsletter"), ("staff",),
)
"""The segment sets members are given, in turn."""


def program_mapping() -> dict[str, Any]:
    """cosmetics-club.yaml with the 4-tier ladder and 12 earning rules of the quote benchmark."""
    with PROGRAM_FILE.open(encoding="utf-8") as handle:
        mapping: dict[str, Any] = yaml.safe_load(handle)
    tiers = copy.deepcopy(TIERS)
    for tier in tiers["ladder"]:  # those rewards are not in this catalog
        tier.get("benefits", {}).pop("rewards", None)
    mapping["id"] = "bench-engine"
    mapping["tiers"] = tiers
    mapping["earning"] = {**mapping.get("earning", {}),
                          "rules": copy.deepcopy(MATCHING_RULES + OTHER_RULES)}
    return mapping


# ------------------------------------------------------------------ the stream


@dataclass(frozen=True, slots=True)
class Event:
    """One order event: whose, when, the cart as a mapping, the idempotency key."""

    member: int
    at: datetime
    cart: dict[str, Any]
    key: str


def member_id(index: int) -> str:
    return f"member-{index}"


def _cart(rng: random.Random, member: int, number: int, segments: Sequence[str],
          ) -> dict[str, Any]:
    lines = []
    for sku, price, categories, tags in rng.sample(PRODUCTS, rng.randint(1, 5)):
        line: dict[str, Any] = {"sku": sku, "unit_price": price, "quantity": rng.randint(1, 3),
                                "categories": list(categories), "tags": list(tags)}
        if rng.random() < 0.1:
            line["discount"] = "2.00"
        lines.append(line)
    return {"id": f"order-{number}", "member_id": member_id(member), "currency": "USD",
            "lines": lines, "shipping": "4.95", "customer": {"segments": list(segments)}}


def stream(members: int, seed: int = 11) -> list[Event]:
    """Orders of ``members`` members over :data:`SPAN_DAYS` days, sorted by time."""
    rng = random.Random(seed)
    events = []
    for member in range(members):
        segments = SEGMENTS[member % len(SEGMENTS)]
        at = START + timedelta(days=rng.randint(0, 14), minutes=rng.randint(0, 600))
        number = 0
        while at < START + timedelta(days=SPAN_DAYS):
            number += 1
            events.append(Event(member, at, _cart(rng, member, number, segments),
                                f"{member_id(member)}:order-{number}"))
            if rng.random() < SAME_DAY_SHARE:
                at += timedelta(minutes=rng.randint(5, 120))  # stays within 8:00-24:00 local
                if (at - START).seconds >= 16 * 3600:
                    at += timedelta(days=rng.randint(3, 30))
            else:
                at += timedelta(days=rng.randint(3, 30), minutes=rng.randint(-60, 60))
    events.sort(key=lambda event: (event.at, event.member))
    return events


@dataclass
class Replay:
    """The stream replayed on fresh books: ``sample(ops)`` times ``ops`` events with
    ``timer`` (:func:`~benchmarks.harness.timed`), opening fresh books (untimed) each
    time the stream is used up.

    With ``spread`` set, the n-th sample starts at ``n / spread`` of the stream (the
    events before it are applied untimed first), so that cases timing different
    numbers of events per sample still sample the same parts of the year, and each
    sees members with short and with long histories alike.
    """

    events: Sequence[tuple[int, datetime, Any, str]]
    fresh: Callable[[], list[Any]]
    apply: Callable[[Any, Any, datetime, str], object]
    spread: int | None = None
    books: list[Any] = field(default_factory=list)
    cursor: int = 0
    samples: int = 0

    def sample(self, ops: int, timer: Callable[[Callable[[], object]], float] = timed) -> float:
        if self.spread is not None:
            start = self.samples % self.spread * len(self.events) // self.spread
            if not self.books or start < self.cursor:
                self.books, self.cursor = self.fresh(), 0
            _go(self.apply, self.books, self.events[self.cursor:start])  # untimed
            self.cursor = start
        self.samples += 1
        seconds = 0.0
        while ops:
            if not self.books or self.cursor == len(self.events):
                self.books, self.cursor = self.fresh(), 0
            batch = self.events[self.cursor:self.cursor + ops]
            seconds += timer(partial(_go, self.apply, self.books, batch))
            self.cursor += len(batch)
            ops -= len(batch)
        return seconds


def _go(apply: Callable[[Any, Any, datetime, str], object], books: list[Any],
        batch: Sequence[tuple[int, datetime, Any, str]]) -> None:
    for member, at, cart, key in batch:
        apply(books[member], cart, at, key)


def library_replay(program: Program, events: Sequence[Event], members: int) -> Replay:
    loaded = [(event.member, event.at, loyalty.load_cart(event.cart), event.key)
              for event in events]

    def apply(account: Account, cart: Cart, at: datetime, key: str) -> object:
        return loyalty.complete_order(account, cart, at=at, key=key)

    return Replay(loaded, lambda: [loyalty.open_account(program, member_id(index))
                                   for index in range(members)], apply)


def baseline_replay(plan: dict[str, Any], events: Sequence[Event], members: int) -> Replay:
    parsed = [(event.member, event.at, baseline_engine.parse_cart(event.cart), event.key)
              for event in events]

    def apply(member: dict[str, Any], cart: dict[str, Any], at: datetime, key: str) -> object:
        return baseline_engine.complete_order(plan, member, cart, at, key)

    return Replay(parsed, lambda: [baseline_engine.open_member(member_id(index))
                                   for index in range(members)], apply)


# ------------------------------------------------------------------ run


def run(settings: Settings) -> list[Result]:
    mapping = program_mapping()
    program = loyalty.load_program(mapping)
    plan = baseline_engine.prepare(mapping)
    members = 40 if settings.quick else 500
    events = stream(members)
    library = library_replay(program, events, members)
    baseline = baseline_replay(plan, events, members)
    results = [_agree(library, baseline, plan, members)]
    library.spread = baseline.spread = settings.rounds + 2  # the probe, the warm-up, rounds
    results += _order_events(library, baseline, settings)
    results += _memory(program, 50 if settings.quick else 500)
    return results


def _agree(library: Replay, baseline: Replay, plan: dict[str, Any], members: int) -> Result:
    """One full pass of both; raise unless they agree on every event and every balance."""
    log(f"engine: checking the baseline against the library on {len(library.events)} events")
    accounts: list[Account] = library.fresh()
    books: list[dict[str, Any]] = baseline.fresh()
    upgrades = same_day = 0
    last_day: dict[int, Any] = {}
    for (member, at, cart, key), (_, _, plain, _) in zip(library.events, baseline.events,
                                                          strict=True):
        found = loyalty.complete_order(accounts[member], cart, at=at, key=key)
        mine = baseline_engine.complete_order(plan, books[member], plain, at, key)
        earn = found.earn
        status = accounts[member].tier()
        library_view = {
            "points": earn.points if earn is not None else 0,
            "lines": [(line.line, line.points) for line in earn.lines] if earn else [],
            "amount": found.order.amount.amount,
            "release": earn.available_at if earn is not None else None,
            "expiry": earn.expires_at if earn is not None else None,
            "tier": status.tier if status is not None else None,
        }
        lot = mine["lot"]
        baseline_view = {
            "points": mine["points"],
            "lines": [(ref, points) for ref, _, _, points in mine["lines"]] if lot else [],
            "amount": mine["amount"],
            "release": lot[3] if lot else None,
            "expiry": lot[4] if lot else None,
            "tier": plan["tier_names"][books[member]["tier"]],
        }
        if library_view != baseline_view:
            raise AssertionError(
                f"engine: the baseline disagrees with the library on {key} at {at}:\n"
                f"  library:  {library_view}\n  baseline: {baseline_view}")
        upgrades += found.tier_change is not None
        day = at.astimezone(accounts[member].program.tz).date()
        same_day += last_day.get(member) == day
        last_day[member] = day
    expired = 0
    for account, book in zip(accounts, books, strict=True):
        balance = account.balance()
        if (balance.available, balance.pending) != (book["available"], book["pending"]):
            raise AssertionError(
                f"engine: balances differ for {account.member_id}: library "
                f"{balance.available} available, {balance.pending} pending; baseline "
                f"{book['available']} available, {book['pending']} pending")
        expired += len(book["expired"])
    return Result(
        "engine.stream.events", len(library.events), "events",
        f"{members} members over {SPAN_DAYS} days, {same_day} orders on a member's same "
        f"local day, {upgrades} tier upgrades, {expired} lots expired; the baseline agrees "
        "on every event's points, points per line, net spend, release, expiry and tier, "
        "and on every balance")


# ------------------------------------------------------------------ timing


def _order_events(library: Replay, baseline: Replay, settings: Settings) -> list[Result]:
    log("engine: timing order events, the library against the baseline")
    timings = interleave({"library": library.sample, "baseline": baseline.sample}, settings)
    lib, base = timings["library"], timings["baseline"]
    return [
        Result("engine.order_event.per_second_per_core", 1 / lib.median, "events/s",
               "complete_order(account, loaded cart, at=, key=) on in-memory accounts, one "
               "process; samples start at evenly spread points of the stream; "
               f"median of {len(lib.per_op)} interleaved rounds of {lib.ops} events "
               f"(slowest/fastest round {lib.spread:.2f})", GOAL_PER_SECOND,
               higher_is_better=True),
        Result("engine.order_event.us_per_event", lib.median * 1e6, "us/event",
               "the same, per event"),
        Result("engine.baseline.us_per_event", base.median * 1e6, "us/event",
               "benchmarks.baseline_engine.complete_order (plain Python, same bookkeeping); "
               f"rounds of {base.ops} events (slowest/fastest round {base.spread:.2f})"),
        Result("engine.order_event.ratio_to_baseline", paired_ratio(lib, base), "x",
               "time per order event, library over baseline; median of per-round ratios",
               GOAL_RATIO),
    ]


# ------------------------------------------------------------------ memory


MEMORY_START = datetime(2026, 1, 10, 17, tzinfo=UTC)


def _year(program: Program, index: int) -> Account:
    """A member's year: 12 monthly orders, maybe a redemption, then time moves on."""
    rng = random.Random(index)
    name = member_id(index)
    account = loyalty.open_account(program, name)
    segments = SEGMENTS[index % len(SEGMENTS)]
    for month in range(12):
        at = MEMORY_START + timedelta(days=30 * month + rng.randint(0, 20),
                                      minutes=rng.randint(0, 600))
        if month == 6 and account.balance().available >= 100:
            loyalty.redeem(account, 100, at=at, key=f"{name}:redeem-1")
        cart = loyalty.load_cart(_cart(rng, index, month + 1, segments))
        loyalty.complete_order(account, cart, at=at, key=f"{name}:order-{month + 1}")
    loyalty.advance(account, MEMORY_START + timedelta(days=30 * 13 + 5))
    return account


def _stored(account: Account) -> tuple[str, dict[str, Any], list[Any], _History]:
    """``account`` as a store keeps it: the encoded head and items, and its history."""
    head, items = split(account.snapshot(keys=False))
    member = account.member_id
    journal = list(account.entries_from(1))
    return (member, encode_snapshot(head, member), encode_items(items, member),
            _History(journal, {}, len(journal)))


def _kept(program: Program, stored: tuple[str, dict[str, Any], list[Any], _History]) -> Account:
    """What a service keeps of a stored member: its hot state decoded (the head, the open
    lots, the bonus actions and tier days, as a store's load reads them) over its history."""
    member, head, rows, history = stored
    decoded = decode_snapshot(head, member)
    open_lots = set(hot_keys(decoded) or ())
    hot = [row for row in rows
           if row[0] in HOT_PARTS or (row[0] == "lots" and row[1] in open_lots)]
    return restore(program, member, join(decoded, decode_items(hot, member)), history)


def _memory(program: Program, members: int) -> list[Result]:
    log(f"engine: memory of {members} kept accounts after a year")
    years = [_year(program, index) for index in range(members + 1)]
    stored = [_stored(account) for account in years]
    entries = sum(account.next_seq - 1 for account in years) / members
    expired = sum(1 for account in years[:members] for entry in account.entries_from(1)
                  if entry.kind == "expire")
    redeemed = sum(1 for account in years[:members] for entry in account.entries_from(1)
                   if entry.kind == "redeem")
    _, whole = retained_bytes(lambda: [_year(program, index) for index in range(members)])
    _kept(program, stored[members])  # warm-up: caches and interned strings are not the members'
    kept, held = retained_bytes(lambda: [_kept(program, item) for item in stored[:members]])
    same = all(a.balance() == b.balance() and a.lots() == b.lots()
               for a, b in zip(kept, years[:members], strict=True))
    if not same:
        raise AssertionError("engine: a kept account differs from the one in memory")
    return [
        Result(
            "engine.memory.bytes_per_member", held / members, "bytes",
            f"{members} accounts as a service keeps them between requests after 12 monthly "
            f"orders of 1-5 lines ({redeemed} with a redemption), advanced to month 14 "
            f"({expired} lots expired): the hot state decoded from the stored head and items "
            f"(open lots, counters, tier days), the journal and the closed lots, orders and "
            f"redemptions left in the store; tracemalloc, program and store not counted",
            GOAL_BYTES_PER_MEMBER,
        ),
        Result(
            "engine.memory.whole_account_bytes_per_member", whole / members, "bytes",
            f"the same accounts built in memory, holding their whole journal "
            f"({entries:.1f} entries each) and every lot, order and redemption",
        ),
    ]
