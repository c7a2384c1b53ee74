"""A hand-written stacking quote in plain Python: the yardstick for ``loyalty.quote``
on a cart with offers.

What a shop might write by hand for the stacking benchmark's program
(:mod:`benchmarks.stacking`): lists and ints in cents, no library objects. It
applies the program's offers to the cart in the documented order (line
discounts, then cart percent, then cart amount, then shipping; within a class by
priority, then rewards after offers, then id), each on the cart the ones before
it left, with the engine's rounding: a percentage rounded down, an amount spread
over the lines in proportion to what is left of them (shares rounded down, the
largest remainders one cent each), units picked cheapest first (the dearest for the units
bought), a line split where a pick ends inside it. Then, for each reward, the
same with the reward added, and whether the member can redeem it (points,
hurdle, something to take off). The earn is the merchandise after the offers
(the order writes them when it completes) at one point per USD, rounded down.

It handles only what that program uses: one currency, offers and rewards that
all stack and never reach the same line as another line discount (so no unit is
ever closed to one), ``min_basket`` conditions on the merchandise after the
discounts before them. It is not a module with ``run``, so ``python -m
benchmarks`` does not list it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction
from typing import Any

__all__ = ["prepare", "quote"]

_STAGES = {"line": 0, "cart_percent": 1, "cart_amount": 2, "shipping": 3}


def _cents(text: Any) -> int:
    return int((Decimal(str(text)) * 100).to_integral_value(rounding=ROUND_FLOOR))


def _matcher(products: Mapping[str, Any] | None) -> Any:
    if products is None:
        return None
    skus = frozenset(products.get("skus", ()))
    categories = frozenset(products.get("categories", ()))
    return lambda line: line["sku"] in skus or not categories.isdisjoint(line["categories"])


def _discount(spec: Mapping[str, Any], source: int) -> dict[str, Any]:
    """A discount as the baseline applies it: its stage, its sort key and what it takes."""
    kind = spec["kind"]
    found: dict[str, Any] = {
        "id": spec["id"], "kind": kind, "products": _matcher(spec.get("products")),
        "condition": _cents(spec["conditions"]["min_basket"]) if "conditions" in spec else None,
    }
    if kind == "percent_off":
        found["percent"] = Decimal(str(spec["percent"]))
        found["max_amount"] = _cents(spec["max_amount"]) if "max_amount" in spec else None
        found["max_items"] = spec.get("max_items")
        line = found["products"] is not None or found["max_items"] is not None
        stage = "line" if line else "cart_percent"
    elif kind == "amount_off":
        found["amount"] = _cents(spec["amount"])
        found["each"] = spec.get("allocation") == "each"
        stage = "line" if found["products"] is not None or found["each"] else "cart_amount"
    elif kind == "buy_x_get_y":
        found["buy"], found["get"] = spec["buy"]["units"], spec["get"]["units"]
        stage = "line"
    elif kind == "free_product":
        found["sku"] = spec["sku"] if "sku" in spec else spec["choices"][0]
        stage = "line"
    else:
        stage = "shipping"
    found["key"] = (_STAGES[stage], -spec.get("priority", 0), source, spec["id"])
    return found


def prepare(program: Mapping[str, Any]) -> dict[str, Any]:
    """The program mapping as plain dicts: its offers and rewards as discounts."""
    offers = [_discount(spec, 0) for spec in program["offers"]["catalog"]]
    rewards = []
    for spec in program["rewards"]["catalog"]:
        reward = _discount(spec, 1)
        reward["cost"] = spec["cost"]
        hurdle = spec.get("hurdles", {}).get("min_basket")
        reward["hurdle"] = _cents(hurdle) if hurdle is not None else None
        rewards.append(reward)
    return {"offers": offers, "rewards": rewards}


# ------------------------------------------------------------------ the cart as slots


def _slots(cart: Mapping[str, Any]) -> list[list[Any]]:
    """[line, position, count, initial, left] for every line (no gift card in this cart)."""
    found = []
    for position, line in enumerate(cart["lines"]):
        net = _cents(line["unit_price"]) * line["quantity"] - _cents(line.get("discount", 0))
        found.append([line, position, line["quantity"], net, net])
    return found


def _allocate(total: int, rooms: Sequence[int]) -> list[int]:
    capacity = sum(rooms)
    if total <= 0 or capacity <= 0:
        return [0] * len(rooms)
    total = min(total, capacity)
    shares = [total * room // capacity for room in rooms]
    left = total - sum(shares)
    by_remainder = sorted(range(len(rooms)), key=lambda i: (total * rooms[i] % capacity, i))
    for index in reversed(by_remainder):
        if left and shares[index] < rooms[index]:
            shares[index] += 1
            left -= 1
    for index in range(len(rooms) - 1, -1, -1):
        extra = min(left, rooms[index] - shares[index])
        shares[index] += extra
        left -= extra
    return shares


def _pick(slots: list[list[Any]], eligible: list[list[Any]], units: int,
          dearest: bool = False) -> list[list[Any]]:
    """The ``units`` cheapest (dearest) units of ``eligible``, splitting the last slot."""
    def price(slot: list[Any]) -> tuple[Fraction, int]:
        unit = Fraction(slot[3], slot[2])
        return (-unit if dearest else unit, slot[1])

    chosen = []
    for slot in sorted(eligible, key=price):
        if units <= 0:
            break
        if slot[2] > units:
            line, position, count, initial, left = slot
            first = [line, position, units, initial * units // count, left * units // count]
            rest = [line, position, count - units, initial - first[3], left - first[4]]
            at = next(i for i, s in enumerate(slots) if s is slot)
            slots[at : at + 1] = [first, rest]
            slot = first
        chosen.append(slot)
        units -= slot[2]
    return chosen


def _take(discount: Mapping[str, Any], slots: list[list[Any]],
          shipping: int) -> tuple[list[tuple[list[Any], int]], int]:
    """What ``discount`` takes: (slot, cents) parts, and cents of shipping."""
    kind = discount["kind"]
    if kind == "free_shipping":
        return [], shipping
    matches = discount.get("products")
    open_ = [s for s in slots if s[4] > 0 and (matches is None or matches(s[0]))]
    if kind == "free_product":
        gift = [s for s in slots if s[0]["sku"] == discount["sku"] and s[4] > 0]
        return [(slot, slot[4]) for slot in _pick(slots, gift, 1)], 0
    if kind == "buy_x_get_y":
        buy, get = discount["buy"], discount["get"]
        times = sum(s[2] for s in open_) // (buy + get)
        got = _pick(slots, open_, times * get)
        rest = [s for s in slots if s[4] > 0 and matches(s[0]) and all(s is not g for g in got)]
        _pick(slots, rest, times * buy, dearest=True)
        return [(slot, slot[4]) for slot in got], 0
    if kind == "percent_off":
        if discount["max_items"] is not None:
            open_ = _pick(slots, open_, discount["max_items"])
        base = sum(s[4] for s in open_)
        wanted = base * discount["percent"] // 100
        if discount["max_amount"] is not None:
            wanted = min(wanted, discount["max_amount"])
        total = int(min(wanted, base))
    elif discount["each"]:
        return [(s, min(discount["amount"] * s[2], s[4])) for s in open_], 0
    else:
        total = min(discount["amount"], sum(s[4] for s in open_))
    shares = _allocate(total, [s[4] for s in open_])
    return [(s, share) for s, share in zip(open_, shares, strict=True) if share], 0


def apply(discounts: Sequence[Mapping[str, Any]], cart: Mapping[str, Any]
          ) -> tuple[list[tuple[str, dict[str, int], int]], int]:
    """Apply ``discounts`` in order: each one's id, cents per line and shipping cents;
    and the merchandise left after them, in cents."""
    slots = _slots(cart)
    shipping = _cents(cart.get("shipping", 0))
    applied = []
    for discount in sorted(discounts, key=lambda d: d["key"]):
        condition = discount["condition"]
        if condition is not None and sum(s[4] for s in slots) < condition:
            continue
        parts, off = _take(discount, slots, shipping)
        if not parts and not off:
            continue
        lines: dict[str, int] = {}
        for slot, amount in parts:
            slot[4] -= amount
            ref = slot[0]["sku"]
            lines[ref] = lines.get(ref, 0) + amount
        shipping -= off
        applied.append((discount["id"], lines, off))
    return applied, sum(s[4] for s in slots)


def quote(plan: Mapping[str, Any], points: int, cart: Mapping[str, Any]) -> dict[str, Any]:
    """The points the cart earns, the offers applied, and each reward: eligible, and its
    cents per line (with the offers)."""
    offers = plan["offers"]
    base, basket = apply(offers, cart)
    rewards = {}
    for reward in plan["rewards"]:
        applied, _ = apply([*offers, reward], cart)
        mine = next((lines for name, lines, _ in applied if name == reward["id"]), None)
        hurdle = reward["hurdle"]
        eligible = (
            points >= reward["cost"] and mine is not None
            and (hurdle is None or basket >= hurdle)
        )
        rewards[reward["id"]] = (eligible, mine)
    return {"points": basket // 100, "offers": base, "rewards": rewards}
