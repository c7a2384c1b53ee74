"""A hand-written order event in plain Python: the yardstick for ``loyalty.complete_order``.

What a shop might write by hand to keep one program's books in memory, with
dicts, tuples and :class:`~decimal.Decimal` and no library objects.
:func:`prepare` turns the program mapping (the one given to ``load_program``)
into plain dicts once (through :func:`benchmarks.baseline_quote.prepare`),
:func:`parse_cart` turns a cart mapping into a plain dict once (as
``load_cart`` is done once for the library), and :func:`complete_order` does,
per order event, the bookkeeping the library does:

* checks the event (an aware time, a key, the cart's member) and its
  idempotency key: a key seen before with the same fingerprint returns the
  recorded order, with another fingerprint it is refused; the fingerprint is a
  SHA-256 of the parsed cart's ``repr`` (the library hashes the cart's JSON);
* refuses a cart id already recorded as an order;
* brings the member to the event's time: releases the pending lots whose
  release time has come and expires the lots whose expiry has come (two
  deques, in release and in expiry order; each expiry is recorded);
* computes the points: per line, its net paid rounded to the cent x rate x
  the member's tier multiplier x the multipliers of the matching earning rules
  that apply (campaign window, segments, tiers, products); the order's exact
  points rounded once (floor) and given to the lines by largest remainder; then
  each bonus rule's points spread over its matching lines by their base;
* records the order (its lines and net spend), and, if it earned, a lot with
  its release time (the local time 30 days later, in America/New_York) and its
  expiry (12 months later, rounded up to the end of that month, in New York,
  as an aware UTC datetime), both computed per event without memoising;
* adds the net spend to the member's tier window (a running total and a bucket
  per local day) and upgrades the tier if a higher threshold is reached;
* records the key with its fingerprint and sequence number.

It handles what the benchmark's program uses: one currency, tax excluded,
prices without tax, shipping that does not earn, no caps, no minimum subtotal,
no loyalty discounts on the cart, net-spend tiers over the member's lifetime,
pending and fixed expiry given in days and months. Events must come in time
order per member (the library also takes late events). It keeps no journal of
entries and writes no human-readable reasons, which the library does. It is not
a module with ``run``, so ``python -m benchmarks`` does not list it.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from typing import Any

from benchmarks import baseline_quote

__all__ = ["complete_order", "open_member", "parse_cart", "prepare"]

_ZERO = Decimal(0)
_CENT = Decimal("0.01")


# ------------------------------------------------------------------ once


def prepare(program: Mapping[str, Any]) -> dict[str, Any]:
    """The program mapping as plain dicts, for :func:`complete_order`."""
    plan = baseline_quote.prepare(program)
    earning = program.get("earning", {})
    if plan["shipping_earns"] or plan["min_subtotal"] is not None or earning.get("caps"):
        raise NotImplementedError("the baseline handles no shipping points, minimum or caps")
    if earning.get("combine", "multiply") != "multiply" or earning.get(
            "rounding_scope", "order") != "order" or plan["rounding"] != ROUND_FLOOR:
        raise NotImplementedError("the baseline multiplies, rounds down, once per order")
    pending = program["pending"]["period"].split()
    expiry = program["expiry"]
    after = expiry["after"].split()
    tiers = program["tiers"]
    if (pending[1] not in ("day", "days") or expiry["policy"] != "fixed"
            or after[1] not in ("month", "months") or expiry.get("round_up_to") != "month"
            or tiers.get("metrics") != ["net_spend"]
            or tiers.get("window", "lifetime") != "lifetime"):
        raise NotImplementedError("the baseline handles the benchmark's pending, expiry, tiers")
    for rule in plan["rules"]:  # campaign windows as UTC instants: cheaper to compare
        if rule["window"] is not None:
            rule["window"] = tuple(None if edge is None else edge.astimezone(UTC)
                                   for edge in rule["window"])
    plan["pending_days"] = timedelta(days=int(pending[0]))
    plan["expiry_months"] = int(after[0])
    plan["tier_multiplier"] = [tier["multiplier"] for tier in plan["ladder"]]
    plan["thresholds"] = [Decimal(str(tier.get("threshold", {}).get("net_spend", 0)))
                          for tier in tiers["ladder"]]
    return plan


def open_member(member_id: str) -> dict[str, Any]:
    """A new member's books."""
    return {
        "id": member_id, "clock": None, "seq": 0, "tier": 0,
        "available": 0, "pending": 0,
        "to_release": deque(), "to_expire": deque(),  # lots, in release / expiry order
        "expired": [],  # (seq, at, lot seq, points)
        "spend": _ZERO, "spend_days": {},  # the tier window: lifetime total, per local day
        "tier_changes": [],  # (seq, at, tier index)
        "orders": {},  # cart id -> order record
        "keys": {},  # key -> (fingerprint, seq, cart id)
    }


def parse_cart(cart: Mapping[str, Any]) -> dict[str, Any]:
    """The cart mapping with Decimals and tuples (done once, outside the timing)."""
    if cart.get("tax") or cart.get("prices_include_tax"):
        raise NotImplementedError("the baseline handles carts without tax")
    return {
        "id": cart["id"],
        "member_id": cart["member_id"],
        "currency": cart["currency"],
        "segments": tuple(sorted(cart.get("customer", {}).get("segments", ()))),
        "lines": tuple(
            (line.get("id") or line["sku"], line["sku"], line["quantity"],
             Decimal(line["unit_price"]), Decimal(line.get("discount", "0")),
             tuple(line.get("categories", ())), tuple(line.get("tags", ())),
             bool(line.get("gift_card", False)))
            for line in cart["lines"]
        ),
    }


# ------------------------------------------------------------------ an order event


def complete_order(plan: dict[str, Any], member: dict[str, Any], cart: dict[str, Any],
                   at: datetime, key: str) -> dict[str, Any]:
    """Record ``cart`` as an order of ``member`` at ``at`` and credit its points.

    Returns the order record: ``seq``, ``at``, ``id``, ``amount``, ``lines`` as
    ``(ref, quantity, amount, points)``, ``points``, and the ``lot`` (or None).
    """
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at must be an aware datetime")
    if not isinstance(key, str) or not key.strip():
        raise ValueError("key must be a non-empty string")
    if cart["member_id"] != member["id"]:
        raise ValueError("the cart is another member's")
    if cart["currency"] != plan["currency"]:
        raise ValueError("the cart is in another currency")
    at = at.astimezone(UTC)
    fingerprint = hashlib.sha256(repr(cart).encode()).hexdigest()[:32]
    seen = member["keys"].get(key)
    if seen is not None:
        if seen[0] != fingerprint:
            raise ValueError(f"key {key!r} was used for another request")
        original: dict[str, Any] = member["orders"][seen[2]]
        return original
    orders = member["orders"]
    if cart["id"] in orders:
        raise ValueError(f"order {cart['id']!r} is already recorded")
    clock = member["clock"]
    if clock is not None and at < clock:
        raise NotImplementedError("the baseline takes events in time order")
    _advance(member, at)
    member["clock"] = at

    tz = plan["tz"]
    local = at.astimezone(tz)
    tier = member["tier"]
    segments = cart["segments"]
    tier_name = plan["tier_names"][tier]
    multipliers: list[tuple[Decimal, Any]] = []
    tier_multiplier = plan["tier_multiplier"][tier]
    if tier_multiplier != 1:
        multipliers.append((tier_multiplier, None))
    bonuses = []
    for rule in plan["rules"]:
        window = rule["window"]
        if window is not None and not (
                (window[0] is None or at >= window[0]) and (window[1] is None or at < window[1])):
            continue
        if rule["segments"] and rule["segments"].isdisjoint(segments):
            continue
        if rule["tiers"] and tier_name not in rule["tiers"]:
            continue
        if rule["multiplier"] is not None:
            multipliers.append((rule["multiplier"], rule["products"]))
        if rule["bonus"] is not None:
            bonuses.append((rule["bonus"], rule["products"]))

    rate = plan["rate"]
    gift_cards_earn = plan["gift_cards_earn"]
    exclude = plan["exclude"]
    bases: list[Decimal] = []
    exact: list[Decimal] = []
    earns: list[bool] = []
    amounts: list[Decimal] = []
    for _ref, sku, quantity, unit, discount, categories, tags, gift_card in cart["lines"]:
        base = max(unit * quantity - discount, _ZERO).quantize(_CENT, ROUND_HALF_EVEN)
        earning = not (gift_card and not gift_cards_earn) and (
            exclude is None or not _matches(exclude, sku, categories, tags))
        points = base * rate
        if earning:
            for multiplier, products in multipliers:
                if products is None or _matches(products, sku, categories, tags):
                    points *= multiplier
        else:
            points = _ZERO
        bases.append(base)
        exact.append(points)
        earns.append(earning)
        amounts.append(_ZERO if gift_card else base)
    line_points = _apportion(int(sum(exact, _ZERO).to_integral_value(ROUND_FLOOR)), exact)
    lines = cart["lines"]
    for bonus, products in bonuses:
        matching = [i for i, line in enumerate(lines) if earns[i] and (
            products is None or _matches(products, line[1], line[5], line[6]))]
        if matching:
            for i, share in zip(matching, _allocate(bonus, [bases[i] for i in matching]),
                                strict=True):
                line_points[i] += share
    points = sum(line_points)

    amount = sum(amounts, _ZERO)
    seq = member["seq"] + 1
    order = {
        "seq": seq, "at": at, "id": cart["id"], "amount": amount,
        "lines": tuple((line[0], line[2], money, earned)
                       for line, money, earned in zip(lines, amounts, line_points, strict=True)),
        "points": points, "lot": None,
    }
    if points:
        seq += 1
        release = (local.replace(tzinfo=None) + plan["pending_days"]).replace(
            tzinfo=tz).astimezone(UTC)
        month = local.month + plan["expiry_months"]  # the month the points run out in
        year, month = local.year + (month - 1) // 12, (month - 1) % 12 + 1
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)  # its end
        expires = datetime(year, month, 1, tzinfo=tz).astimezone(UTC)
        lot = [seq, points, points, release, expires]  # seq, points, left, release, expiry
        member["to_release"].append(lot)
        member["to_expire"].append(lot)
        member["pending"] += points
        order["lot"] = lot
    orders[cart["id"]] = order

    day = local.date()
    days: dict[date, Decimal] = member["spend_days"]
    days[day] = days.get(day, _ZERO) + amount
    spend = member["spend"] = member["spend"] + amount
    thresholds = plan["thresholds"]
    reached = tier
    while reached + 1 < len(thresholds) and spend >= thresholds[reached + 1]:
        reached += 1
    if reached > tier:
        seq += 1
        member["tier"] = reached
        member["tier_changes"].append((seq, at, reached))
    member["seq"] = seq
    member["keys"][key] = (fingerprint, order["seq"], cart["id"])
    return order


def _advance(member: dict[str, Any], at: datetime) -> None:
    """Release the lots due by ``at``, then expire those due (releases first)."""
    to_release: deque[list[Any]] = member["to_release"]
    while to_release and to_release[0][3] <= at:
        lot = to_release.popleft()
        member["pending"] -= lot[2]
        member["available"] += lot[2]
    to_expire: deque[list[Any]] = member["to_expire"]
    while to_expire and to_expire[0][4] <= at:
        lot = to_expire.popleft()
        if lot[2]:
            member["seq"] += 1
            member["available"] -= lot[2]
            member["expired"].append((member["seq"], lot[4], lot[0], lot[2]))
            lot[2] = 0


def _matches(selector: Mapping[str, Any], sku: str, categories: tuple[str, ...],
             tags: tuple[str, ...]) -> bool:
    return (sku in selector["skus"] or not selector["categories"].isdisjoint(categories)
            or not selector["tags"].isdisjoint(tags))


# The same shares as the quote baseline (the library rounds an order once, the same way).
_apportion = baseline_quote._apportion
_allocate = baseline_quote._allocate
