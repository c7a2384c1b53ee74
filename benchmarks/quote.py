"""Quote benchmarks: ``quote(account, cart, at=)`` against a hand-written baseline, and
its cost as the number of earning rules grows.

One realistic program (:data:`PROGRAM`, in America/New_York, floor rounding):

* tiers: Member, Silver (200 USD net spend), Gold (500), Platinum (1,000), with
  earn multipliers 1, 1.25, 1.5 and 2; Gold and Platinum each see one reward of
  their own (``benefits.rewards``);
* earning: 1 point per USD, shipping earns, gift cards and ``sample`` products
  do not, a 10 USD minimum subtotal, multipliers multiplied, 12 rules (category
  multipliers, a campaign window that is on and one that is off, segment
  multipliers and bonuses, a tier rule, product bonuses) and caps per order
  (which the measured cart hits), day and month;
* rewards: 21 of every kind (amount off, percent off, free shipping, free
  product, pay with points) with validity dates, a tier restriction and
  hurdles of every kind (min_points, repeat_order, min_basket,
  max_points_share, min_tier, segment, window, usage_limit, requires, all_of,
  any_of, not); some eligible, some not for one or more reasons.

The member (Gold) has four completed orders over a month, one of them today
and one with a redeemed reward. The cart has 10 lines (one gift card, one
excluded sample, two with line discounts), shipping and tax.

*Library vs baseline* (``quote.library.*``, ``quote.baseline.*``): the library's
``quote`` on the cart mapping (validated on every call, as a shop's JSON
would be), and :func:`benchmarks.baseline_quote.quote`, a plain-Python quote for
the same program (dicts and Decimal) that gets the member's standing as a
ready dict (what a service keeps in a row) where the library reads it from the
account's journal at ``at``. Before timing, the baseline must agree with the
library on the total, the points of every line, the rewards the member sees, which
are eligible and the reasons of those that are not, or the run fails. Also
timed: the library on a cart loaded once (``quote.library_loaded_cart.*``), to
show what validating the cart costs.

*Earning rules* (``quote.rules_<n>.*``): the same quote with 10, 100 and 1,000
earning rules: the 4 rules of the program that match this cart and member, and
fillers that do not (rules for other skus, for other segments, for other tiers,
and campaign windows that are over), reported as ratios to 10 rules. The
baseline agrees with each.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

import loyalty
from benchmarks import baseline_quote
from benchmarks.harness import Result, Settings, Timing, interleave, log, paired_ratio, timed
from loyalty import Account, Program

__all__ = ["run"]

GOAL_RATIO = 2.0
RULES_GOAL = {1000: 1.5}
"""A quote with 1,000 earning rules costs at most this much more than one with 10."""
MEMBER = "member-1"
AT = datetime(2026, 5, 3, 19, 0, tzinfo=UTC)
"""The quote: 3 May 2026, 15:00 in New York, during the fragrance week."""

TIERS: dict[str, Any] = {
    "metrics": ["net_spend"],
    "ladder": [
        {"name": "Member"},
        {"name": "Silver", "threshold": {"net_spend": 200},
         "benefits": {"earn_multiplier": "1.25"}},
        {"name": "Gold", "threshold": {"net_spend": 500},
         "benefits": {"earn_multiplier": "1.5", "rewards": ["gold-gift"]}},
        {"name": "Platinum", "threshold": {"net_spend": 1000},
         "benefits": {"earn_multiplier": "2", "rewards": ["platinum-lounge"]}},
    ],
}

MATCHING_RULES: list[dict[str, Any]] = [
    {"name": "double-skincare", "products": {"categories": ["skincare"]}, "multiplier": "2"},
    {"name": "makeup-boost", "products": {"categories": ["makeup"]}, "multiplier": "1.5"},
    {"name": "newsletter", "segments": ["newsletter"], "multiplier": "1.1"},
    {"name": "serum-launch", "products": {"skus": ["SER-01"]}, "bonus": 50},
]
"""Rules that apply to the measured cart and member (kept in every rule count)."""

OTHER_RULES: list[dict[str, Any]] = [
    {"name": "fragrance-week", "window": {"starts": "2026-05-01", "ends": "2026-05-08"},
     "products": {"categories": ["fragrance"]}, "multiplier": "3"},
    {"name": "holiday-double", "window": {"starts": "2026-12-01", "ends": "2026-12-25"},
     "multiplier": "2"},
    {"name": "staff-half", "segments": ["staff"], "multiplier": "0.5"},
    {"name": "app-order", "segments": ["app"], "bonus": 25},
    {"name": "gold-hair", "tiers": ["Gold", "Platinum"], "products": {"categories": ["hair"]},
     "multiplier": "2"},
    {"name": "clearance-bonus", "products": {"tags": ["clearance"]}, "bonus": 10},
    {"name": "platinum-extra", "tiers": ["Platinum"], "multiplier": "1.5"},
    {"name": "vip-bonus", "segments": ["vip"], "bonus": 100},
]

EARNING: dict[str, Any] = {
    "rate": "1",
    "basis": {"tax": "excluded", "shipping": True, "gift_cards": False},
    "min_subtotal": "10.00",
    "combine": "multiply",
    "tier_multipliers": True,
    "exclude": {"tags": ["sample"]},
    "rules": MATCHING_RULES + OTHER_RULES,
    "caps": {"per_order": 1000, "per_day": 2000, "per_period": {"points": 20000,
                                                                 "period": "month"}},
}

CATALOG: list[dict[str, Any]] = [
    {"id": "five-off", "kind": "amount_off", "amount": "5.00", "cost": 100,
     "hurdles": {"all_of": [{"min_points": 100}, {"repeat_order": 1},
                            {"min_basket": "10.00"}]}},
    {"id": "ten-off", "kind": "amount_off", "amount": "10.00", "cost": 200,
     "hurdles": {"min_basket": "250.00"}},
    {"id": "big-spender", "kind": "amount_off", "amount": "50.00", "cost": 5000,
     "hurdles": {"min_basket": "1000.00"}},
    {"id": "pct-skincare", "kind": "percent_off", "percent": "20",
     "products": {"categories": ["skincare"]}, "max_amount": "15.00", "cost": 250},
    {"id": "pct-hair", "kind": "percent_off", "percent": "10",
     "products": {"categories": ["hair"]}, "cost": 150, "hurdles": {"min_tier": "Gold"}},
    {"id": "pct-tools-platinum", "kind": "percent_off", "percent": "25",
     "products": {"categories": ["tools"]}, "cost": 100, "hurdles": {"min_tier": "Platinum"}},
    {"id": "pct-jewelry", "kind": "percent_off", "percent": "15",
     "products": {"categories": ["jewelry"]}, "cost": 50},
    {"id": "free-shipping", "kind": "free_shipping", "cost": 0,
     "hurdles": {"all_of": [{"segment": "newsletter"}, {"min_basket": "35.00"}]}},
    {"id": "free-shipping-vip", "kind": "free_shipping", "max_amount": "5.00", "cost": 0,
     "hurdles": {"segment": "vip"}},
    {"id": "free-serum", "kind": "free_product", "choices": ["SER-01", "CRM-02"], "cost": 400,
     "stock": 500, "valid": {"ends": "2026-12-31"}, "tiers": ["Gold", "Platinum"]},
    {"id": "free-perfume", "kind": "free_product", "choices": ["FRG-99"], "cost": 300},
    {"id": "pay-with-points", "kind": "pay_with_points", "points": 100, "value": "1.00",
     "step": 100, "hurdles": {"max_points_share": {"percent": 50}}},
    {"id": "points-capped", "kind": "pay_with_points", "points": 50, "value": "1.00",
     "step": 50, "min_points": 500,
     "hurdles": {"all_of": [{"max_points_share": {"percent": 30, "amount": "10.00",
                                                  "basis": "merchandise"}},
                            {"repeat_order": 2}]}},
    {"id": "singles-day", "kind": "amount_off", "amount": "11.00", "cost": 111,
     "hurdles": {"window": {"starts": "2026-11-11", "ends": "2026-11-12"}}},
    {"id": "welcome-once", "kind": "amount_off", "amount": "3.00", "cost": 0,
     "hurdles": {"usage_limit": 1}},
    {"id": "makeup-bundle", "kind": "percent_off", "percent": "10",
     "products": {"categories": ["makeup"]}, "cost": 120,
     "hurdles": {"all_of": [{"requires": {"categories": ["makeup"]}},
                            {"any_of": [{"segment": "app"}, {"min_tier": "Platinum"}]}]}},
    {"id": "not-staff", "kind": "amount_off", "amount": "7.00", "cost": 140,
     "hurdles": {"not": {"segment": "staff"}}},
    {"id": "gold-gift", "kind": "free_product", "choices": ["LIP-01"], "cost": 0,
     "hurdles": {"usage_limit": 2}},
    {"id": "platinum-lounge", "kind": "amount_off", "amount": "20.00", "cost": 0},
    {"id": "spring-sale", "kind": "percent_off", "percent": "5", "cost": 50,
     "valid": {"starts": "2026-03-01", "ends": "2026-04-01"}},
    {"id": "fragrance-lovers", "kind": "percent_off", "percent": "12",
     "products": {"categories": ["fragrance"]}, "cost": 180,
     "hurdles": {"all_of": [{"requires": {"skus": ["FRG-01"]}}, {"repeat_order": 5},
                            {"not": {"min_basket": "100.00"}}]}},
]

PROGRAM: dict[str, Any] = {
    "id": "bench-quote",
    "name": "Benchmark Beauty",
    "currency": "USD",
    "timezone": "America/New_York",
    "rounding": "floor",
    "earning": EARNING,
    "tiers": TIERS,
    "rewards": {"catalog": CATALOG},
}


def _line(sku: str, price: str, quantity: int, categories: list[str], **more: Any,
          ) -> dict[str, Any]:
    return {"sku": sku, "unit_price": price, "quantity": quantity, "categories": categories,
            **more}


CART: dict[str, Any] = {
    "id": "cart-1",
    "member_id": MEMBER,
    "currency": "USD",
    "lines": [
        _line("SER-01", "48.00", 1, ["skincare"], tags=["new"]),
        _line("CRM-02", "36.50", 2, ["skincare"]),
        _line("LIP-01", "18.00", 3, ["makeup"]),
        _line("MAS-01", "22.00", 1, ["makeup"], discount="2.00"),
        _line("FRG-01", "89.00", 1, ["fragrance"]),
        _line("SHP-01", "14.25", 2, ["hair"]),
        _line("BRS-01", "9.99", 1, ["tools"], tags=["clearance"]),
        _line("GC-50", "50.00", 1, ["gift-cards"], gift_card=True),
        _line("NAI-01", "7.50", 4, ["makeup"], tags=["clearance"], discount="3.00"),
        _line("KIT-01", "12.00", 1, ["skincare"], tags=["sample"]),
    ],
    "shipping": "6.95",
    "tax": "31.20",
    "customer": {"segments": ["newsletter", "app"]},
}

HISTORY: list[tuple[datetime, list[dict[str, Any]], str | None]] = [
    (datetime(2026, 4, 2, 16, tzinfo=UTC),
     [_line("SER-01", "48.00", 2, ["skincare"]), _line("FRG-01", "89.00", 1, ["fragrance"])],
     "welcome-once"),
    (datetime(2026, 4, 20, 18, tzinfo=UTC),
     [_line("LIP-01", "18.00", 5, ["makeup"]), _line("CRM-02", "36.50", 2, ["skincare"])], None),
    (datetime(2026, 5, 2, 14, tzinfo=UTC),
     [_line("SHP-01", "14.25", 4, ["hair"]), _line("BRS-01", "9.99", 3, ["tools"])], None),
    (datetime(2026, 5, 3, 13, tzinfo=UTC),
     [_line("MAS-01", "22.00", 4, ["makeup"]), _line("CRM-02", "36.50", 1, ["skincare"])], None),
]
"""(when, lines, a reward redeemed on the order): four orders, the last one today."""


def run(settings: Settings) -> list[Result]:
    program = loyalty.load_program(PROGRAM)
    account = _member(program)
    plan = baseline_quote.prepare(PROGRAM)
    standing = _standing(account, program)
    checked = _agree(account, plan, standing)
    results = _describe(checked, standing)
    results += _against_baseline(account, plan, standing, settings)
    results += _rule_counts(settings)
    return results


# ------------------------------------------------------------------ the member


def _member(program: Program) -> Account:
    account = loyalty.open_account(program, MEMBER)
    for number, (at, lines, reward) in enumerate(HISTORY, start=1):
        cart = {"id": f"order-{number}", "member_id": MEMBER, "currency": "USD",
                "lines": lines, "shipping": "4.95", "customer": {"segments": ["newsletter"]}}
        if reward is not None:
            loyalty.redeem_reward(account, reward, cart, at=at, key=f"redeem-{number}")
        loyalty.complete_order(account, cart, at=at, key=f"order-{number}")
    return account


def _standing(account: Account, program: Program) -> dict[str, Any]:
    """The member's standing at :data:`AT`, as the baseline's service would keep it."""
    with account.as_of(AT) as view:
        status = view.tier()
        today = datetime(2026, 5, 3, 4, tzinfo=UTC)  # local midnight, New York (EDT)
        month = datetime(2026, 5, 1, 4, tzinfo=UTC)
        return {
            "tier": status.tier if status is not None else None,
            "available_points": view.balance().available,
            "orders_before": view.completed_orders(excluding=CART["id"]),
            "uses": {reward.id: view.reward_uses(reward.id)
                     for reward in program.rewards.catalog},
            "earned_today": view.order_points_between(today),
            "earned_this_period": view.order_points_between(month),
        }


# ------------------------------------------------------------------ agreement


def _agree(account: Account, plan: dict[str, Any], standing: Mapping[str, Any],
           cart: Mapping[str, Any] = CART) -> dict[str, Any]:
    """Raise unless the baseline computes what the library's quote says; return both."""
    found = loyalty.quote(account, cart, at=AT)
    mine = baseline_quote.quote(plan, standing, cart, AT)
    library = {
        "points": found.earn.points,
        "lines": {line.line: line.points for line in found.earn.lines},
        "rewards": {option.reward: (option.eligible, list(option.check.reasons()))
                    for option in found.rewards},
    }
    for key in ("points", "lines", "rewards"):
        if library[key] != mine[key]:
            raise AssertionError(
                f"quote: the baseline disagrees with the library on {key}:\n"
                f"  library:  {library[key]}\n  baseline: {mine[key]}"
            )
    return {"quote": found, **library}


def _describe(checked: Mapping[str, Any], standing: Mapping[str, Any]) -> list[Result]:
    found: loyalty.Quote = checked["quote"]
    eligible = sorted(reward for reward, (ok, _) in checked["rewards"].items() if ok)
    capped = any(rule.rule == "cap" for rule in found.earn.rules)
    return [
        Result("quote.cart.points", found.earn.points, "points",
               f"the 10-line cart earns this{' (capped per order)' if capped else ''}; "
               f"tier {standing['tier']}, {standing['available_points']} points available, "
               f"{standing['orders_before']} orders before"),
        Result("quote.cart.rewards_seen", len(found.rewards), "rewards",
               f"of {len(CATALOG)} in the catalog; the baseline agrees on points per line, "
               "eligibility and reasons"),
        Result("quote.cart.rewards_eligible", len(eligible), "rewards", ", ".join(eligible)),
    ]


# ------------------------------------------------------------------ timing


def _sample(once: Callable[[], object]) -> Callable[[int], float]:
    def sample(ops: int) -> float:
        def go() -> None:
            for _ in range(ops):
                once()

        return timed(go)

    return sample


def _against_baseline(account: Account, plan: dict[str, Any], standing: Mapping[str, Any],
                      settings: Settings) -> list[Result]:
    log("quote: timing the library against the baseline")
    loaded = loyalty.load_cart(CART)
    timings = interleave({
        "library": _sample(partial(loyalty.quote, account, CART, at=AT)),
        "library_loaded_cart": _sample(partial(loyalty.quote, account, loaded, at=AT)),
        "baseline": _sample(partial(baseline_quote.quote, plan, standing, CART, AT)),
    }, settings)
    results: list[Result] = []
    for name, what in (
        ("library", "quote(account, cart mapping, at=)"),
        ("library_loaded_cart", "quote(account, load_cart(...) done once, at=)"),
        ("baseline", "benchmarks.baseline_quote.quote (plain Python, standing given)"),
    ):
        results += _per_op(f"quote.{name}", timings[name], what)
    lib, base = timings["library"], timings["baseline"]
    results += [
        Result("quote.ratio_library_to_baseline", paired_ratio(lib, base), "x",
               "time per quote, library over baseline; median of per-round ratios",
               GOAL_RATIO),
        Result("quote.ratio_loaded_cart_to_baseline",
               paired_ratio(timings["library_loaded_cart"], base), "x",
               "the same with the cart validated once, outside the loop"),
    ]
    return results


def _per_op(prefix: str, timing: Timing, what: str) -> list[Result]:
    return [
        Result(f"{prefix}.quotes_per_s", 1 / timing.median, "quotes/s",
               f"{what}; median of {len(timing.per_op)} interleaved rounds of {timing.ops} "
               f"(slowest/fastest round {timing.spread:.2f})"),
        Result(f"{prefix}.us_per_quote", timing.median * 1e6, "us/quote", what),
    ]


# ------------------------------------------------------------------ rule counts


RULE_COUNTS = (10, 100, 1000)


def _fillers(count: int) -> list[dict[str, Any]]:
    """``count`` rules that do not apply to the measured cart and member, of four sorts."""
    rules: list[dict[str, Any]] = []
    for index in range(count):
        name = f"filler-{index}"
        sort = index % 4
        if sort == 0:  # applies to the order but to no line of this cart
            rules.append({"name": name, "products": {"skus": [f"OTHER-{index}"]},
                          "multiplier": "1.2"})
        elif sort == 1:  # another segment
            rules.append({"name": name, "segments": [f"segment-{index}"], "bonus": 5})
        elif sort == 2:  # a campaign that is over
            rules.append({"name": name, "window": {"starts": "2025-01-01",
                                                   "ends": "2025-02-01"},
                          "products": {"categories": [f"category-{index}"]},
                          "multiplier": "2"})
        else:  # another tier
            rules.append({"name": name, "tiers": ["Platinum"], "multiplier": "1.1"})
    return rules


def _with_rules(count: int) -> dict[str, Any]:
    rules = MATCHING_RULES + _fillers(count - len(MATCHING_RULES))
    return {**PROGRAM, "id": f"bench-quote-{count}", "earning": {**EARNING, "rules": rules}}


def _rule_counts(settings: Settings) -> list[Result]:
    cases: dict[str, Callable[[int], float]] = {}
    for count in RULE_COUNTS:
        mapping = _with_rules(count)
        program = loyalty.load_program(mapping)
        account = _member(program)
        _agree(account, baseline_quote.prepare(mapping), _standing(account, program))
        cases[f"rules_{count}"] = _sample(partial(loyalty.quote, account, CART, at=AT))
    log(f"quote: timing quotes with {', '.join(map(str, RULE_COUNTS))} earning rules")
    timings = interleave(cases, settings)
    first = timings[f"rules_{RULE_COUNTS[0]}"]
    results: list[Result] = []
    for count in RULE_COUNTS:
        timing = timings[f"rules_{count}"]
        results += _per_op(f"quote.rules_{count}", timing,
                           f"{count} earning rules, {len(MATCHING_RULES)} of them matching")
        if count != RULE_COUNTS[0]:
            results.append(Result(
                f"quote.rules_{count}.ratio_to_{RULE_COUNTS[0]}", paired_ratio(timing, first), "x",
                f"time per quote with {count} rules over {RULE_COUNTS[0]} (same run, interleaved)",
                RULES_GOAL.get(count),
            ))
    return results
