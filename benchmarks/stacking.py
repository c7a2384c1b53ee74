"""Stacking benchmarks: a quote with offers and rewards, and the choice best for the customer.

    python -m benchmarks stacking [--quick]      # the figures
    python -m benchmarks.stacking [N] [--sort K] # profile N quotes (cProfile)

*A quote with offers* (``stacking.quote.*``): ``quote(account, cart, at=)`` in a
program with 10 stackable offers (percent off a category, 2.00 off each unit of
another, 3 for 2 on one product, a gift above 100.00, 15% off capped at 10.00,
20% off one unit, 5% off the cart, 3.00 and 5.00 off the cart, the second above
150.00 after the discounts before it, free shipping above 50.00) and 5 rewards
(5.00 off, 10.00 off above 150.00, 10% off a category, a free product, 5% off the
cart), on a 10-line cart, for a member with 1,000 points. Every offer and reward
applies in full, and no two line discounts reach the same line, so the chooser
needs one pass per stack: the cart's, and one per reward. Next to it,
:func:`benchmarks.baseline_stacking.quote`, plain Python applying the same
discounts in the same order with the same rounding. Before timing, both must
agree on the earn, every offer's lines and shipping, and every reward's
eligibility and lines, or the run fails. Goal: the library at most 2 times the
baseline.

*Best for the customer* (``stacking.choose.*``): :func:`loyalty.stacking.choose.stack`
with no required candidate and 12 optional ones that conflict on the same cart:
a best-of group of three cart percentages (two with a ``min_basket`` after the
discounts before them, one out of reach), a best-of group of two free-shipping
offers, an exclusive 25% off, five line offers that reach the same lines (20%
off a category, 50% off the cheapest unit, 3 for 2, 1.00 off each unit, 25% off
the two dearest units) and 10.00 off above 350.00. The fast path does not apply.
Reported: the time per ``stack()`` call, and the passes (calls to
:func:`~loyalty.stacking.engine.run`, counted with a wrapper) against the 4,096
subsets of 12 candidates and the valid combinations among them.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any

import loyalty
from benchmarks import baseline_stacking
from benchmarks.harness import Result, Settings, Timing, interleave, log, paired_ratio, timed
from loyalty import Account, Program
from loyalty.hurdles import Check, MinBasket, Situation
from loyalty.program.types import Selector
from loyalty.stacking import choose
from loyalty.stacking.config import AmountAllocation, GroupMode, Stage
from loyalty.stacking.effects import AmountOff, BuyGet, Effect, PercentOff, ShippingOff
from loyalty.stacking.engine import Candidate, Context, Pass

__all__ = ["run"]

GOAL_RATIO = 2.0
MEMBER = "member-1"
POINTS = 1000
AT = datetime(2026, 5, 3, 19, 0, tzinfo=UTC)


def _line(sku: str, price: str, quantity: int, categories: list[str], **more: Any,
          ) -> dict[str, Any]:
    return {"sku": sku, "unit_price": price, "quantity": quantity, "categories": categories,
            **more}


CART: dict[str, Any] = {
    "id": "cart-1",
    "member_id": MEMBER,
    "currency": "USD",
    "lines": [
        _line("SER-01", "48.00", 1, ["skincare"]),
        _line("CRM-02", "36.50", 2, ["skincare"]),
        _line("LIP-01", "18.00", 3, ["makeup"]),
        _line("MAS-01", "22.00", 1, ["makeup"], discount="2.00"),
        _line("FRG-01", "89.00", 1, ["fragrance"]),
        _line("SHP-01", "14.25", 2, ["hair"]),
        _line("BRS-01", "9.99", 1, ["tools"]),
        _line("NAI-01", "7.50", 4, ["nails"]),
        _line("KIT-01", "12.00", 1, ["kits"]),
        _line("TOTE-01", "15.00", 1, ["gifts"]),
    ],
    "shipping": "6.95",
    "customer": {"segments": ["newsletter"]},
}

OFFERS: list[dict[str, Any]] = [
    {"id": "skincare-10", "kind": "percent_off", "percent": 10,
     "products": {"categories": ["skincare"]}},
    {"id": "makeup-2-each", "kind": "amount_off", "amount": "2.00",
     "products": {"categories": ["makeup"]}, "allocation": "each"},
    {"id": "nails-3-for-2", "kind": "buy_x_get_y", "buy": {"units": 2}, "get": {"units": 1},
     "products": {"skus": ["NAI-01"]}},
    {"id": "tote-gift", "kind": "free_product", "sku": "TOTE-01",
     "conditions": {"min_basket": "100.00"}},
    {"id": "fragrance-15", "kind": "percent_off", "percent": 15,
     "products": {"categories": ["fragrance"]}, "max_amount": "10.00"},
    {"id": "hair-20-one", "kind": "percent_off", "percent": 20,
     "products": {"categories": ["hair"]}, "max_items": 1},
    {"id": "cart-5", "kind": "percent_off", "percent": 5},
    {"id": "cart-3-off", "kind": "amount_off", "amount": "3.00", "priority": 1},
    {"id": "big-basket-5", "kind": "amount_off", "amount": "5.00",
     "conditions": {"min_basket": "150.00"}},
    {"id": "ship-free-50", "kind": "free_shipping", "conditions": {"min_basket": "50.00"}},
]
REWARDS: list[dict[str, Any]] = [
    {"id": "five-off", "kind": "amount_off", "amount": "5.00", "cost": 100},
    {"id": "ten-off-big", "kind": "amount_off", "amount": "10.00", "cost": 200,
     "hurdles": {"min_basket": "150.00"}},
    {"id": "tools-10", "kind": "percent_off", "percent": 10,
     "products": {"categories": ["tools"]}, "cost": 50},
    {"id": "free-kit", "kind": "free_product", "choices": ["KIT-01"], "cost": 150},
    {"id": "pct-5", "kind": "percent_off", "percent": 5, "cost": 120},
]
PROGRAM: dict[str, Any] = {
    "id": "bench-stacking",
    "name": "Benchmark Stacking",
    "currency": "USD",
    "timezone": "UTC",
    "earning": {"rate": "1", "actions": {"grant": {"points": POINTS}}},
    "offers": {"catalog": OFFERS},
    "rewards": {"catalog": REWARDS},
}


def run(settings: Settings) -> list[Result]:
    program = loyalty.load_program(PROGRAM)
    account = _member(program)
    plan = baseline_stacking.prepare(PROGRAM)
    found = _agree(account, plan)
    results = _against_baseline(account, plan, found, settings)
    results += _chooser(program, settings)
    return results


def _member(program: Program) -> Account:
    account = loyalty.open_account(program, MEMBER)
    loyalty.award_action(account, "grant", at=AT, key="grant")
    return account


# ------------------------------------------------------------------ agreement


def _library(found: loyalty.Quote) -> dict[str, Any]:
    """The library's quote in the baseline's terms (cents)."""
    assert found.stack is not None
    offers = [
        (item.candidate.name, {part.line: part.amount.minor_units for part in item.lines},
         item.shipping.minor_units if item.shipping is not None else 0)
        for item in found.stack.applied
    ]
    rewards = {
        option.reward: (option.eligible,
                        {part.line: part.amount.minor_units for part in option.lines}
                        if option.applied is not None else None)
        for option in found.rewards
    }
    return {"points": found.earn.points, "offers": offers, "rewards": rewards}


def _agree(account: Account, plan: dict[str, Any]) -> loyalty.Quote:
    """Raise unless the baseline computes what the library's quote says."""
    found = loyalty.quote(account, CART, at=AT)
    library = _library(found)
    mine = baseline_stacking.quote(plan, POINTS, CART)
    for key in ("points", "offers", "rewards"):
        if library[key] != mine[key]:
            raise AssertionError(
                f"stacking: the baseline disagrees with the library on {key}:\n"
                f"  library:  {library[key]}\n  baseline: {mine[key]}"
            )
    assert found.stack is not None
    if len(found.stack.applied) != len(OFFERS) or not all(o.eligible for o in found.rewards):
        raise AssertionError("stacking: every offer and reward should apply on the cart")
    return found


# ------------------------------------------------------------------ a quote with offers


def _sample(once: Callable[[], object]) -> Callable[[int], float]:
    def sample(ops: int) -> float:
        def go() -> None:
            for _ in range(ops):
                once()

        return timed(go)

    return sample


def _against_baseline(account: Account, plan: dict[str, Any], found: loyalty.Quote,
                      settings: Settings) -> list[Result]:
    log("stacking: timing a quote with 10 offers and 5 rewards against the baseline")
    loaded = loyalty.load_cart(CART)
    timings = interleave({
        "library": _sample(partial(loyalty.quote, account, CART, at=AT)),
        "library_loaded_cart": _sample(partial(loyalty.quote, account, loaded, at=AT)),
        "baseline": _sample(partial(baseline_stacking.quote, plan, POINTS, CART)),
    }, settings)
    assert found.stack is not None
    total = sum(item.amount.minor_units for item in found.stack.applied)
    results = [
        Result("stacking.quote.offers_applied", len(found.stack.applied), "offers",
               f"of {len(OFFERS)}, taking {total / 100:.2f} USD off the 10-line cart; "
               f"{len(found.rewards)} rewards, all eligible; the baseline agrees on the "
               "earn, every offer's lines and every reward's lines"),
    ]
    for name, what in (
        ("library", "quote(account, cart mapping, at=)"),
        ("library_loaded_cart", "quote(account, load_cart(...) done once, at=)"),
        ("baseline", "benchmarks.baseline_stacking.quote (plain Python, points given)"),
    ):
        timing = timings[name]
        results.append(Result(
            f"stacking.quote.{name}.us_per_quote", timing.median * 1e6, "us/quote",
            f"{what}; median of {len(timing.per_op)} interleaved rounds of {timing.ops} "
            f"(slowest/fastest round {timing.spread:.2f})",
        ))
    base = timings["baseline"]
    results += [
        Result("stacking.quote.ratio_library_to_baseline",
               paired_ratio(timings["library"], base), "x",
               "time per quote, library over baseline; median of per-round ratios",
               GOAL_RATIO),
        Result("stacking.quote.ratio_loaded_cart_to_baseline",
               paired_ratio(timings["library_loaded_cart"], base), "x",
               "the same with the cart validated once, outside the loop"),
    ]
    return results


# ------------------------------------------------------------------ best for the customer


def _offer(name: str, effect: Effect, *, group: str = "default",
           mode: GroupMode = GroupMode.STACKABLE, above: str | None = None) -> Candidate:
    return Candidate(
        id=f"offer:{name}", name=name, label=name, source="offer", kind="bench",
        effect=effect, group=group, mode=mode, rank=(0, name),
        conditions=MinBasket(amount=Decimal(above)) if above is not None else None,
    )


SKINCARE = Selector(categories=("skincare",))
CONFLICTING: list[Candidate] = [
    _offer("vol-5", PercentOff(Decimal(5)), group="volume", mode=GroupMode.BEST_OF),
    _offer("vol-10", PercentOff(Decimal(10)), group="volume", mode=GroupMode.BEST_OF,
           above="300.00"),
    _offer("vol-15", PercentOff(Decimal(15)), group="volume", mode=GroupMode.BEST_OF,
           above="400.00"),
    _offer("ship-all", ShippingOff(), group="ship", mode=GroupMode.BEST_OF, above="200.00"),
    _offer("ship-half", ShippingOff(300), group="ship", mode=GroupMode.BEST_OF),
    _offer("vip-25", PercentOff(Decimal(25)), group="vip", mode=GroupMode.EXCLUSIVE),
    _offer("skin-20", PercentOff(Decimal(20), SKINCARE)),
    _offer("cheapest-50", PercentOff(Decimal(50), max_items=1)),
    _offer("makeup-3-for-2", BuyGet(2, 1, Selector(categories=("makeup",)))),
    _offer("nails-1-each", AmountOff(100, Selector(categories=("nails",)), AmountAllocation.EACH)),
    _offer("dear-25", PercentOff(Decimal(25), max_items=2, dearest=True)),
    _offer("ten-off-350", AmountOff(1000), above="350.00"),
]
"""12 optional candidates that conflict: two best-of groups, an exclusive one, conditions
on the basket after the discounts before them, five line offers reaching the same lines."""


def _context(program: Program) -> Context:
    cart = loyalty.load_cart(CART)

    def judge(condition: Any, reductions: Any, off: Decimal) -> Check:
        situation = Situation(cart, AT, 0, reductions=reductions, shipping_reduction=off)
        result: Check = condition.check(situation, program)
        return result

    order = (Stage.LINE, Stage.CART_PERCENT, Stage.CART_AMOUNT, Stage.SHIPPING)
    return Context(cart=cart, order=order, judge=judge)


@contextmanager
def _counting() -> Iterator[list[int]]:
    """Count the passes (calls to ``run``) the chooser makes, without changing it."""
    calls = [0]
    original = choose.run

    def counted(candidates: Sequence[Candidate], context: Context) -> Pass:
        calls[0] += 1
        return original(candidates, context)

    choose.run = counted  # type: ignore[assignment]
    try:
        yield calls
    finally:
        choose.run = original


def _valid_combinations(candidates: Sequence[Candidate]) -> int:
    groups: dict[str, int] = {}
    count = 1
    for candidate in candidates:
        if candidate.mode is GroupMode.STACKABLE:
            count *= 2
        elif candidate.mode is GroupMode.BEST_OF:
            groups[candidate.group] = groups.get(candidate.group, 0) + 1
    for members in groups.values():
        count *= members + 1
    return count + sum(1 for c in candidates if c.mode is GroupMode.EXCLUSIVE)


def _chooser(program: Program, settings: Settings) -> list[Result]:
    context = _context(program)
    with _counting() as calls:
        chosen = choose.stack((), CONFLICTING, context)
    passes = calls[0]
    if len(CONFLICTING) != choose.EXHAUSTIVE:
        raise AssertionError("stacking: the chooser benchmark needs 12 candidates")
    log("stacking: timing the choice among 12 conflicting candidates")
    timings = interleave({"stack": _sample(partial(choose.stack, (), CONFLICTING, context))},
                         replace(settings, probe_ops=3))  # a call takes a tenth of a second
    timing: Timing = timings["stack"]
    subsets = 2 ** len(CONFLICTING)
    applied = ", ".join(f"{a.candidate.name} {a.amount.amount}" for a in chosen.applied)
    return [
        Result("stacking.choose.us_per_stack", timing.median * 1e6, "us/stack",
               f"stack((), 12 conflicting offers, context) on the 10-line cart; median of "
               f"{len(timing.per_op)} rounds of {timing.ops} (slowest/fastest round "
               f"{timing.spread:.2f}); chosen: {applied} = {chosen.total / 100:.2f} USD"),
        Result("stacking.choose.passes", passes, "passes",
               f"calls to run() per stack(), against {subsets:,} subsets of 12 candidates "
               f"and {_valid_combinations(CONFLICTING):,} valid combinations"),
        Result("stacking.choose.us_per_pass", timing.median * 1e6 / passes, "us/pass",
               "the time per stack() over its passes"),
    ]


# ------------------------------------------------------------------ profile


def main(argv: Sequence[str] | None = None) -> int:
    """Profile ``N`` quotes of the benchmark's cart and print the top lines."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stacking",
                                     description=main.__doc__)
    parser.add_argument("quotes", nargs="?", type=int, default=500,
                        help="quotes to profile (default %(default)s)")
    parser.add_argument("--sort", default="tottime", help="pstats sort key (default %(default)s)")
    parser.add_argument("--top", type=int, default=25, help="lines to print (default %(default)s)")
    args = parser.parse_args(argv)
    account = _member(loyalty.load_program(PROGRAM))
    loyalty.quote(account, CART, at=AT)  # warm-up: the compiled plans
    profiler = cProfile.Profile()
    for _ in range(args.quotes):
        profiler.runcall(loyalty.quote, account, CART, at=AT)
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)
    print(f"{args.quotes} quotes of the 10-line cart (10 offers, 5 rewards)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
