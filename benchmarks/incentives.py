"""Incentive benchmarks: what 20 incentives add to an order event.

    python -m benchmarks incentives [--quick]     # the figures
    python -m benchmarks.incentives [N] [--whole] # profile the incentive path (cProfile)

*Order events* (``incentives.order_event.*``): the stream and program of
:mod:`benchmarks.engine` (the cosmetics club with the 4-tier ladder and 12 earning
rules), each order driven as the service drives it: ``complete_order`` on the
loaded cart, then the ``order_completed`` occasion built as
:func:`loyalty.service.incentives.on_order` builds it (the member's nth order, the
cart's categories, the member's segments) and fired with
:func:`loyalty.incentives.issue.fire` over ``Shared(MemoryRows())``. Two programs
are timed in interleaved rounds on CPU time: the same program with the 20
incentives of :data:`CATALOG` and without an ``incentives`` section (where the
occasion is not built: the service's ``on_order`` returns at once). Goal: the
program with incentives at most 1.5 times the time per event of the program
without.

The catalog is what a shop runs in a year: 16 incentives on ``order_completed``,
most with filters that an ordinary order does not pass (the first order, the nth
order, categories, the 11.11 and Black Friday windows, minimum amounts,
audiences by segment, tier, spend and past orders), a few that fire on some
orders (5% cashback in March, a coupon on the 5th order, gifts for Platinum
members in December), and four on other triggers (a shipment-delay apology, a
birthday, a monthly schedule, an enrolment welcome) that an order never looks at.

Before timing, one full pass of both programs must agree on every order's own
points and tier, or the run fails; the grants it fired are counted per incentive.
"""

from __future__ import annotations

import argparse
import copy
import cProfile
import gc
import pstats
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import loyalty
from benchmarks import engine
from benchmarks.harness import Result, Settings, Timing, interleave, log, paired_ratio
from loyalty import Account, Cart, Program
from loyalty.checkout.orders import OrderResult
from loyalty.incentives.config import TriggerKind
from loyalty.incentives.issue import Fired, fire
from loyalty.incentives.plan import Occasion, OrderFacts, incentive_plan
from loyalty.incentives.shared import MemoryRows, Shared

__all__ = ["CATALOG", "main", "program_mapping", "run"]

GOAL_RATIO = 1.5
PROFILE_MEMBERS = 200


def _coupon(amount: str, within: str = "30 days") -> dict[str, Any]:
    return {"kind": "coupon", "offer": {"kind": "amount_off", "amount": amount},
            "valid": {"within": within}}


CATALOG: list[dict[str, Any]] = [
    # --- on order_completed: filters an ordinary order does not pass
    {"id": "first-order-welcome", "title": "Welcome: 15% off your next order",
     "trigger": {"event": "order_completed", "first_order": True},
     "grants": [{"kind": "coupon", "offer": {"kind": "percent_off", "percent": 15},
                 "value": "8.00", "valid": {"within": "30 days"}}]},
    {"id": "second-order", "trigger": {"event": "order_completed", "nth_order": 2},
     "grants": [{"kind": "points", "points": 150, "expires_after": "90 days"}]},
    {"id": "tenth-order", "trigger": {"event": "order_completed", "nth_order": 10},
     "grants": [{"kind": "all_of", "grants": [
         {"kind": "free_shipping", "valid": {"within": "60 days"}},
         {"kind": "points", "points": 250}]}]},
    {"id": "app-third-order", "audience": {"segments": ["app"]},
     "trigger": {"event": "order_completed", "nth_order": 3},
     "grants": [{"kind": "free_shipping", "valid": {"within": "30 days"}}]},
    {"id": "singles-day", "campaign": "festivals",
     "window": {"yearly": {"start": "11-11", "end": "11-12"}},
     "trigger": {"event": "order_completed"},
     "grants": [{"kind": "cashback", "percent": 11, "max_amount": "50.00",
                 "valid": {"yearly": {"start": "12-01", "end": "12-25"}}}],
     "limits": {"budget": {"money": "20000.00"}}},
    {"id": "black-friday", "campaign": "festivals",
     "window": {"yearly": {"start": "11-27", "end": "12-01"}},
     "trigger": {"event": "order_completed", "min_amount": "100.00"},
     "grants": [_coupon("15.00", "14 days")],
     "limits": {"per_member": 1, "per": "year"}},
    {"id": "fragrance-week-gold", "window": {"starts": "2026-05-01", "ends": "2026-05-08"},
     "audience": {"tiers": ["Gold", "Platinum"]},
     "trigger": {"event": "order_completed", "categories": ["fragrance"],
                 "min_amount": "150.00"},
     "grants": [{"kind": "points", "points": 200}],
     "limits": {"per_member": 1, "per": "lifetime"}},
    {"id": "big-basket", "trigger": {"event": "order_completed", "min_amount": "450.00"},
     "grants": [{"kind": "free_shipping", "valid": {"within": "30 days"}}],
     "limits": {"per_member": 1, "per": "quarter"}},
    {"id": "vip-summer", "window": {"starts": "2026-06-01", "ends": "2026-06-15"},
     "audience": {"segments": ["vip"]}, "trigger": {"event": "order_completed"},
     "grants": [{"kind": "cashback", "percent": 10, "max_amount": "25.00",
                 "valid": {"within": "60 days"}}],
     "limits": {"per_member": 1, "per": "lifetime"}},
    {"id": "staff-hair", "audience": {"segments": ["staff"]},
     "trigger": {"event": "order_completed", "categories": ["hair"], "min_amount": "350.00"},
     "grants": [_coupon("5.00")]},
    {"id": "summer-tools", "window": {"yearly": {"start": "07-01", "end": "07-15"}},
     "trigger": {"event": "order_completed", "categories": ["tools"], "min_amount": "250.00"},
     "grants": [_coupon("3.00")], "limits": {"per_member": 1, "per": "year"}},
    {"id": "platinum-spender", "audience": {"tiers": ["Platinum"], "min_spend": "4000.00"},
     "trigger": {"event": "order_completed", "min_amount": "450.00"},
     "grants": [{"kind": "points", "points": 500}], "limits": {"per_member": 1, "per": "year"}},
    {"id": "autumn-comeback", "window": {"starts": "2026-09-01", "ends": "2026-10-01"},
     "audience": {"segments": ["newsletter"], "min_orders": 3,
                  "not_ordered_in": {"starts": "2026-07-01", "ends": "2026-09-01"}},
     "trigger": {"event": "order_completed"}, "grants": [_coupon("10.00")],
     "limits": {"per_member": 1, "per": "lifetime"}},
    # --- on order_completed: fire on some orders
    {"id": "fifth-order-coupon", "trigger": {"event": "order_completed", "nth_order": 5},
     "grants": [_coupon("10.00", "60 days")]},
    {"id": "march-cashback", "window": {"starts": "2026-03-01", "ends": "2026-04-01"},
     "trigger": {"event": "order_completed", "min_amount": "30.00"},
     "grants": [{"kind": "cashback", "percent": 5, "max_amount": "15.00",
                 "valid": {"within": "90 days"}}],
     "limits": {"per_member": 2, "per": "month", "budget": {"money": "50000.00"}}},
    {"id": "platinum-holiday-gift", "window": {"yearly": {"start": "12-10", "end": "12-25"}},
     "audience": {"tiers": ["Platinum"]},
     "trigger": {"event": "order_completed", "categories": ["fragrance"]},
     "grants": [{"kind": "one_of", "policy": "highest_value_in_stock", "grants": [
         {"kind": "gift", "sku": "FRG-02", "value": "20.00", "stock": 300},
         {"kind": "gift", "sku": "MIR-01", "value": "12.00"}]}],
     "limits": {"per_member": 1, "per": "year"}},
    # --- other triggers: an order does not look at them
    {"id": "late-apology", "trigger": {"event": "shipment_delayed"},
     "grants": [_coupon("10.00", "60 days"),
                {"kind": "free_shipping", "valid": {"within": "60 days"}}],
     "limits": {"budget": {"money": "5000.00"}}},
    {"id": "birthday-treat", "trigger": {"event": "birthday", "grant_window": "month"},
     "grants": [{"kind": "points", "points": 100}, _coupon("5.00", "30 days")]},
    {"id": "monthly-member-day", "audience": {"min_orders": 1},
     "trigger": {"event": "schedule", "rrule": "FREQ=MONTHLY;BYMONTHDAY=1",
                 "starts": "2026-01-01"},
     "grants": [{"kind": "points", "points": 10}]},
    {"id": "club-welcome", "trigger": {"event": "enrolled", "channel": "email"},
     "grants": [_coupon("5.00"), {"kind": "points", "points": 50}]},
]
"""20 incentives: 16 on ``order_completed`` (13 that an ordinary order does not pass,
3 that fire on some orders), 4 on other triggers."""


def program_mapping(incentives: bool = True) -> dict[str, Any]:
    """The engine benchmark's program, with :data:`CATALOG` or without incentives."""
    mapping = engine.program_mapping()
    mapping["id"] = "bench-incentives"
    mapping.pop("incentives", None)
    if incentives:
        mapping["incentives"] = {"point_value": "0.01", "catalog": copy.deepcopy(CATALOG)}
    return mapping


# ------------------------------------------------------------------ the service's path


Book = tuple[Account, Shared]


def order_occasion(account: Account, result: OrderResult, cart: Cart) -> Occasion | None:
    """The occasion :func:`loyalty.service.incentives.on_order` builds for an order just
    recorded (``None`` when the program has no ``order_completed`` incentive)."""
    if not incentive_plan(account.program).on(TriggerKind.ORDER_COMPLETED):
        return None
    order = result.order
    nth = account.completed_orders(excluding=cart.id, before=order.when) + 1
    categories = frozenset(category for line in cart.lines for category in line.categories)
    facts = OrderFacts(cart.id, order.amount, nth, categories)
    return Occasion(TriggerKind.ORDER_COMPLETED, f"order:{cart.id}", order.when, order=facts)


def on_order(book: Book, result: OrderResult, cart: Cart, at: datetime) -> Fired:
    """The incentive part of an order event, as the service runs it."""
    account, shared = book
    occasion = order_occasion(account, result, cart)
    if occasion is None:
        return Fired()
    return fire(account, occasion, at=at, shared=shared, segments=cart.customer.segments)


def order_event(book: Book, cart: Cart, at: datetime, key: str) -> tuple[OrderResult, Fired]:
    """An order event as the service handles it: the order, then its incentives."""
    result = loyalty.complete_order(book[0], cart, at=at, key=key)
    return result, on_order(book, result, cart, at)


def replay(program: Program, events: Sequence[engine.Event], members: int) -> engine.Replay:
    """The stream on fresh accounts of ``program``, sharing one fresh set of rows."""
    loaded = [(event.member, event.at, loyalty.load_cart(event.cart), event.key)
              for event in events]

    def fresh() -> list[Book]:
        shared = Shared(MemoryRows())
        return [(loyalty.open_account(program, engine.member_id(index)), shared)
                for index in range(members)]

    return engine.Replay(loaded, fresh, order_event)


def cpu_timed(run: Callable[[], object]) -> float:
    """CPU seconds of this process taken by ``run()`` (a full collection first, the
    garbage collector off while it runs): other work on the machine is not counted."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.process_time()
        run()
        return time.process_time() - start
    finally:
        if enabled:
            gc.enable()


# ------------------------------------------------------------------ run


def run(settings: Settings) -> list[Result]:
    members = 40 if settings.quick else 500
    events = engine.stream(members)
    with_incentives = replay(loyalty.load_program(program_mapping()), events, members)
    without = replay(loyalty.load_program(program_mapping(incentives=False)), events, members)
    results = _agree(with_incentives, without, members)
    with_incentives.spread = without.spread = settings.rounds + 2  # probe, warm-up, rounds
    results += _order_events(with_incentives, without, settings)
    return results


def _agree(with_incentives: engine.Replay, without: engine.Replay, members: int,
           ) -> list[Result]:
    """One full pass of both; raise unless every order earns the same points and leaves
    the same tier. Counts the grants fired, per incentive."""
    log(f"incentives: checking both programs on {len(with_incentives.events)} events")
    books: list[Book] = with_incentives.fresh()
    plain: list[Book] = without.fresh()
    granted: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    firing = 0
    for member, at, cart, key in with_incentives.events:
        result, fired = order_event(books[member], cart, at, key)
        other, nothing = order_event(plain[member], cart, at, key)
        mine = (result.earn.points if result.earn else 0, books[member][0].tier())
        theirs = (other.earn.points if other.earn else 0, plain[member][0].tier())
        if mine != theirs or nothing.grants or nothing.refused:
            raise AssertionError(f"incentives: {key} at {at} differs: with incentives {mine}, "
                                 f"without {theirs} (and fired {nothing})")
        granted.update(grant.incentive for grant in fired.grants)
        refused.update(incentive for incentive, _ in fired.refused)
        firing += bool(fired.grants or fired.refused)
    expected = {"first-order-welcome", "second-order", "fifth-order-coupon", "march-cashback"}
    if not expected <= set(granted):
        raise AssertionError(f"incentives: expected grants of {sorted(expected)}, "
                             f"got {dict(granted)}")
    count = len(with_incentives.events)
    fired_text = ", ".join(f"{name} {n}" for name, n in sorted(granted.items()))
    refused_text = (", refused: " + ", ".join(f"{name} {n}" for name, n in
                                              sorted(refused.items()))) if refused else ""
    return [
        Result("incentives.stream.events", count, "events",
               f"the engine benchmark's stream: {members} members over {engine.SPAN_DAYS} "
               "days; every order earns the same points and leaves the same tier with and "
               "without incentives"),
        Result("incentives.stream.orders_firing", firing / count, "share",
               f"orders that fired an incentive ({firing}); grants: {fired_text}"
               f"{refused_text}"),
    ]


def _order_events(with_incentives: engine.Replay, without: engine.Replay,
                  settings: Settings) -> list[Result]:
    log("incentives: timing order events with 20 incentives and without incentives")
    cases = {
        "with": lambda ops: with_incentives.sample(ops, cpu_timed),
        "without": lambda ops: without.sample(ops, cpu_timed),
    }
    timings: dict[str, Timing] = interleave(cases, settings)
    mine, plain = timings["with"], timings["without"]
    return [
        Result("incentives.order_event.us_per_event", mine.median * 1e6, "us/event",
               "complete_order, then the order's occasion fired (fire over "
               "Shared(MemoryRows())) in the program with 20 incentives; CPU time, median "
               f"of {len(mine.per_op)} interleaved rounds of {mine.ops} events "
               f"(slowest/fastest round {mine.spread:.2f})"),
        Result("incentives.order_event.plain_us_per_event", plain.median * 1e6, "us/event",
               "the same events in the same program without incentives; rounds of "
               f"{plain.ops} events (slowest/fastest round {plain.spread:.2f})"),
        Result("incentives.order_event.per_second_per_core", 1 / mine.median, "events/s",
               "order events per CPU second with 20 incentives", higher_is_better=True),
        Result("incentives.order_event.ratio_to_plain", paired_ratio(mine, plain), "x",
               "time per order event with 20 incentives over the same program without "
               "incentives; median of per-round ratios", GOAL_RATIO),
    ]


# ------------------------------------------------------------------ profile


def main(argv: Sequence[str] | None = None) -> int:
    """Profile the incentive part of ``N`` order events (``complete_order`` runs
    unprofiled), or with ``--whole`` the whole event, and print the top lines."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.incentives",
                                     description=main.__doc__)
    parser.add_argument("events", nargs="?", type=int, default=5000,
                        help="order events to profile (default %(default)s)")
    parser.add_argument("--whole", action="store_true",
                        help="profile complete_order too, not only the incentives")
    parser.add_argument("--sort", default="tottime", help="pstats sort key (default %(default)s)")
    parser.add_argument("--top", type=int, default=25, help="lines to print (default %(default)s)")
    args = parser.parse_args(argv)

    events = engine.stream(PROFILE_MEMBERS)[: args.events]
    loaded = replay(loyalty.load_program(program_mapping()), events, PROFILE_MEMBERS)
    profiler = cProfile.Profile()
    for profiling in (False, True):  # a warm-up pass, then the profiled one, fresh accounts
        books: list[Book] = loaded.fresh()
        for member, at, cart, key in loaded.events:
            book = books[member]
            if profiling and args.whole:
                profiler.runcall(order_event, book, cart, at, key)
                continue
            result = loyalty.complete_order(book[0], cart, at=at, key=key)
            if profiling:
                profiler.runcall(on_order, book, result, cart, at)
            else:
                on_order(book, result, cart, at)
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)
    what = "whole order events" if args.whole else "the incentive part of order events"
    print(f"{len(loaded.events)} {what} ({PROFILE_MEMBERS} members, 20 incentives)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
