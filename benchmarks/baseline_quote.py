"""A hand-written quote in plain Python: the yardstick for ``loyalty.quote``.

What a shop might write by hand for one program, with dicts and
:class:`~decimal.Decimal` and no library objects: :func:`prepare` turns the
program mapping (the one given to ``load_program``) into plain dicts once, and
:func:`quote` takes the member's standing as a plain dict (what a service keeps
in a row: available points, tier, completed orders, uses per reward, points
earned today and this period) and the cart mapping, and returns the points per
line, the total, and every reward the member sees with eligible or not and why.

It follows the rules of ``docs/`` (line bases, multipliers, bonuses, the
minimum subtotal, caps; reward checks, discounts and hurdles) for what the
benchmark's program uses: one currency, tax excluded from the basis and
prices without tax. It is not a module with ``run``, so ``python -m benchmarks``
does not list it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["prepare", "quote"]

_ZERO = Decimal(0)
_CENT = Decimal("0.01")
_ROUNDING = {"floor": ROUND_FLOOR, "half_even": ROUND_HALF_EVEN, "ceiling": ROUND_CEILING,
             "half_up": ROUND_HALF_UP}
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}


# ------------------------------------------------------------------ the program, once


def prepare(program: Mapping[str, Any]) -> dict[str, Any]:
    """The program mapping as plain dicts with Decimals and aware datetimes."""
    tz = ZoneInfo(program["timezone"])
    earning = program.get("earning", {})
    basis = earning.get("basis", {})
    if basis.get("tax", "excluded") != "excluded" or earning.get("currencies"):
        raise NotImplementedError("the baseline handles tax excluded and one currency")
    caps = earning.get("caps", {})
    period = caps.get("per_period")
    tiers = program.get("tiers") or {}
    ladder = [
        {"name": tier["name"],
         "multiplier": Decimal(str(tier.get("benefits", {}).get("earn_multiplier", 1))),
         "rewards": tuple(tier.get("benefits", {}).get("rewards", ()))}
        for tier in tiers.get("ladder", ())
    ]
    rules = [
        {
            "name": rule["name"],
            "products": _selector(rule.get("products")),
            "window": _window(rule.get("window"), tz),
            "segments": frozenset(rule.get("segments", ())),
            "tiers": frozenset(rule.get("tiers", ())),
            "multiplier": Decimal(str(rule["multiplier"])) if "multiplier" in rule else None,
            "bonus": rule.get("bonus"),
        }
        for rule in earning.get("rules", ())
    ]
    rewards = [_reward(reward, tz, ladder) for reward in program.get("rewards", {})
               .get("catalog", ())]
    return {
        "currency": program["currency"],
        "tz": tz,
        "rounding": _ROUNDING[program.get("rounding", "floor")],
        "rate": Decimal(str(earning.get("rate", 1))),
        "shipping_earns": bool(basis.get("shipping", False)),
        "gift_cards_earn": bool(basis.get("gift_cards", False)),
        "min_subtotal": Decimal(earning["min_subtotal"]) if "min_subtotal" in earning else None,
        "combine": earning.get("combine", "multiply"),
        "rounding_scope": earning.get("rounding_scope", "order"),
        "tier_multipliers": earning.get("tier_multipliers", True),
        "exclude": _selector(earning.get("exclude")),
        "rules": rules,
        "per_order": caps.get("per_order"),
        "per_day": caps.get("per_day"),
        "per_period": period["points"] if period else None,
        "period": period["period"] if period else None,
        "ladder": ladder,
        "tier_names": [tier["name"] for tier in ladder],
        "rewards": rewards,
    }


def _selector(spec: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if spec is None:
        return None
    found: dict[str, Any] = {key: frozenset(spec.get(key, ()))
                             for key in ("skus", "categories", "tags")}
    found["describe"] = ", ".join((*spec.get("skus", ()), *spec.get("categories", ()),
                                   *spec.get("tags", ())))
    return found


def _instant(value: str | date | None, tz: ZoneInfo) -> datetime | None:
    """A date is midnight in ``tz``; a datetime without a zone is read in ``tz``."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    moment = value if isinstance(value, datetime) else datetime.combine(value, time())
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def _window(spec: Mapping[str, Any] | None, tz: ZoneInfo) -> tuple[Any, Any] | None:
    if spec is None:
        return None
    return _instant(spec.get("starts"), tz), _instant(spec.get("ends"), tz)


def _reward(spec: Mapping[str, Any], tz: ZoneInfo, ladder: list[dict[str, Any]],
            ) -> dict[str, Any]:
    reward = dict(spec)
    reward["window"] = _window(spec.get("valid"), tz)
    reward["seen_by"] = frozenset(spec.get("tiers", ())) | {
        tier["name"] for tier in ladder if spec["id"] in tier["rewards"]}
    for key in ("amount", "max_amount", "value", "percent"):
        if key in spec:
            reward[key] = Decimal(str(spec[key]))
    reward["products"] = _selector(spec.get("products"))
    reward["hurdles"] = _hurdle(spec["hurdles"], tz) if "hurdles" in spec else None
    return reward


def _hurdle(spec: Mapping[str, Any], tz: ZoneInfo) -> tuple[str, Any]:
    """``{min_points: 100}`` and the like, as ``(kind, argument)``."""
    ((kind, body),) = spec.items()
    if kind in ("all_of", "any_of"):
        return kind, [_hurdle(child, tz) for child in body]
    if kind == "not":
        return kind, _hurdle(body, tz)
    if kind == "min_basket":
        body = {"amount": body} if not isinstance(body, Mapping) else body
        return kind, (Decimal(str(body["amount"])), body.get("basis", "merchandise"))
    if kind == "max_points_share":
        return kind, (Decimal(str(body["percent"])) if "percent" in body else None,
                      Decimal(str(body["amount"])) if "amount" in body else None,
                      body.get("basis", "total"))
    if kind == "window":
        return kind, _window(body, tz)
    if kind == "requires":
        return kind, _selector(body)
    return kind, body


# ------------------------------------------------------------------ a quote


def quote(plan: dict[str, Any], member: Mapping[str, Any], cart: Mapping[str, Any],
          at: datetime) -> dict[str, Any]:
    """Points per line and in total, and ``{reward id: (eligible, reasons)}``."""
    lines = []
    for raw in cart["lines"]:
        unit = Decimal(raw["unit_price"])
        net = unit * raw["quantity"] - Decimal(raw.get("discount", "0"))
        lines.append({
            "ref": raw.get("id") or raw["sku"], "sku": raw["sku"], "unit": unit, "net": net,
            "categories": raw.get("categories", ()), "tags": raw.get("tags", ()),
            "gift_card": raw.get("gift_card", False),
        })
    segments = set(cart.get("customer", {}).get("segments", ()))
    shipping = Decimal(cart.get("shipping", "0"))
    tax = Decimal(cart.get("tax", "0"))
    if cart.get("prices_include_tax"):
        raise NotImplementedError("the baseline handles prices without tax")
    reductions = member.get("reductions", {})
    tier = member["tier"]
    per_line, total = _earn(plan, member, lines, segments, shipping, reductions, at)

    merchandise = sum((ln["net"] for ln in lines if not ln["gift_card"]), _ZERO)
    subtotal = sum((ln["net"] for ln in lines), _ZERO)
    cart_facts = {
        "lines": lines, "segments": segments, "shipping": shipping,
        "merchandise": merchandise, "subtotal": subtotal, "total": subtotal + shipping + tax,
        "room": {ln["ref"]: max(ln["net"] - reductions.get(ln["ref"], _ZERO), _ZERO)
                 for ln in lines if not ln["gift_card"]},
    }
    rewards = {}
    for reward in plan["rewards"]:
        if reward["seen_by"] and tier not in reward["seen_by"]:
            continue
        rewards[reward["id"]] = _evaluate(plan, reward, member, cart_facts, at)
    return {"points": total, "lines": per_line, "rewards": rewards}


def _matches(selector: Mapping[str, Any], line: Mapping[str, Any]) -> bool:
    return (line["sku"] in selector["skus"]
            or any(c in selector["categories"] for c in line["categories"])
            or any(t in selector["tags"] for t in line["tags"]))


def _within(window: tuple[Any, Any], at: datetime) -> bool:
    start, end = window
    return (start is None or at >= start) and (end is None or at < end)


def _earn(plan: dict[str, Any], member: Mapping[str, Any], lines: list[dict[str, Any]],
          segments: set[str], shipping: Decimal, reductions: Mapping[str, Decimal],
          at: datetime) -> tuple[dict[str, int], int]:
    tier = member["tier"]
    rate, rounding = plan["rate"], plan["rounding"]
    active = [
        rule for rule in plan["rules"]
        if (rule["window"] is None or _within(rule["window"], at))
        and (not rule["segments"] or not segments.isdisjoint(rule["segments"]))
        and (not rule["tiers"] or tier in rule["tiers"])
    ]
    multipliers: list[tuple[Decimal, Any]] = []
    if plan["tier_multipliers"]:
        multipliers += [(t["multiplier"], None) for t in plan["ladder"]
                        if t["name"] == tier and t["multiplier"] != 1]
    multipliers += [(rule["multiplier"], rule["products"]) for rule in active
                    if rule["multiplier"] is not None]
    combine = plan["combine"]
    exacts: list[Decimal] = []
    bases: list[Decimal] = []
    excluded: list[bool] = []
    for line in lines:
        paid = max(line["net"] - reductions.get(line["ref"], _ZERO), _ZERO)
        base = paid.quantize(_CENT, ROUND_HALF_EVEN)
        out = (line["gift_card"] and not plan["gift_cards_earn"]) or (
            plan["exclude"] is not None and _matches(plan["exclude"], line))
        exact = base * rate
        if not out:
            applied = [m for m, products in multipliers
                       if products is None or _matches(products, line)]
            if applied and combine == "best":
                exact *= max(applied)
            elif applied and combine == "add":
                exact += sum((exact * (m - 1) for m in applied), _ZERO)
            else:
                for m in applied:
                    exact *= m
        bases.append(base)
        excluded.append(out)
        exacts.append(_ZERO if out else exact)
    ship_exact = _ZERO
    if plan["shipping_earns"]:
        ship_base = max(shipping - member.get("shipping_reduction", _ZERO), _ZERO)
        ship_exact = ship_base.quantize(_CENT, ROUND_HALF_EVEN) * rate
    if plan["rounding_scope"] == "line":
        points = [int(e.to_integral_value(rounding=rounding)) for e in exacts]
        ship = int(ship_exact.to_integral_value(rounding=rounding))
    else:  # round the order once, then give the points out by largest remainder
        whole = int(sum(exacts, ship_exact).to_integral_value(rounding=rounding))
        *points, ship = _apportion(whole, [*exacts, ship_exact])
    for rule in active:
        if rule["bonus"] is None:
            continue
        matching = [i for i, line in enumerate(lines) if not excluded[i]
                    and (rule["products"] is None or _matches(rule["products"], line))]
        if matching:
            for i, share in zip(matching, _allocate(rule["bonus"], [bases[i] for i in matching]),
                                strict=True):
                points[i] += share
    basis = sum((b for b, out in zip(bases, excluded, strict=True) if not out), _ZERO)
    if plan["min_subtotal"] is not None and basis < plan["min_subtotal"]:
        points, ship = [0] * len(lines), 0
    total = sum(points) + ship
    limits = [total]
    if plan["per_order"] is not None:
        limits.append(plan["per_order"])
    if plan["per_day"] is not None:
        limits.append(max(plan["per_day"] - member["earned_today"], 0))
    if plan["per_period"] is not None:
        limits.append(max(plan["per_period"] - member["earned_this_period"], 0))
    capped = min(limits)
    if capped < total:
        shares = _allocate(capped, [*points, ship])
        points = shares[:-1]
    return {line["ref"]: p for line, p in zip(lines, points, strict=True)}, capped


def _apportion(total: int, exact: list[Decimal]) -> list[int]:
    """``total`` over parts worth ``exact`` points: each its floor, then one more to each
    of the largest fractions (the later part on a tie)."""
    shares = [int(e.to_integral_value(rounding=ROUND_FLOOR)) for e in exact]
    order = sorted(range(len(exact)), key=lambda i: (exact[i] - shares[i], i), reverse=True)
    for i in order[:total - sum(shares)]:
        shares[i] += 1
    return shares


def _allocate(total: int, weights: list[Any]) -> list[int]:
    """``total`` over ``weights``, rounded down, the last weighted part taking the rest."""
    weight_sum = sum(weights, _ZERO)
    nonzero = [i for i, w in enumerate(weights) if w]
    last = nonzero[-1] if nonzero else len(weights) - 1
    parts = [0] * len(weights)
    for i in nonzero:
        if i != last:
            parts[i] = int(total * Decimal(weights[i]) // weight_sum)
    parts[last] = total - sum(parts)
    return parts


# ------------------------------------------------------------------ rewards


def _money(amount: Decimal) -> str:
    return f"{amount.quantize(_CENT)} USD"


def _floor(amount: Decimal) -> Decimal:
    return amount.quantize(_CENT, ROUND_FLOOR)


def _points(need: int, have: int) -> tuple[bool, str, list[str]]:
    if have >= need:
        return True, f"holds {have} points (needs {need})", []
    missing = need - have
    reason = f"earn {missing} more point{'s' * (missing != 1)}"
    return False, reason, [reason]


def _evaluate(plan: dict[str, Any], reward: dict[str, Any], member: Mapping[str, Any],
              cart: dict[str, Any], at: datetime) -> tuple[bool, list[str]]:
    """``(eligible, the reasons of the conditions that fail, each once)``."""
    unmet: list[str] = []
    available = member["available_points"]
    if reward["window"] is not None:
        unmet += _date_check(reward["window"], at, plan["tz"])[2]
    kind = reward["kind"]
    room: dict[str, Decimal] = cart["room"]
    cost_failed = False
    if kind == "pay_with_points":
        wanted = _most_points(plan, reward, member, cart, at)
        need = max(wanted, max(reward.get("min_points", 0), reward.get("step", 1)))
        met, _, failed = _points(need, available)
        cost_failed = not met
        unmet += failed
    else:
        wanted = reward["cost"]
        if wanted:
            met, _, failed = _points(wanted, available)
            cost_failed = not met
            unmet += failed
    value: Decimal | None = None
    given = True
    error = None
    if kind == "pay_with_points":
        if wanted > 0:
            value = _worth(reward, wanted) or None
        else:
            given = False
    elif kind == "amount_off":
        value = min(_floor(reward["amount"]), _floor(sum(room.values(), _ZERO))) or None
    elif kind == "percent_off":
        products = reward["products"]
        lines = [left for line in cart["lines"] if (left := room.get(line["ref"])) is not None
                 and (products is None or _matches(products, line))]
        if products is not None and not any(left > 0 for left in lines):
            names = [*products.get("skus", ()), *products.get("categories", ()),
                     *products.get("tags", ())]
            error = f"add a product from: {', '.join(names)}"
        value = _floor(_floor(sum(lines, _ZERO)) * (reward["percent"] / 100))
        if "max_amount" in reward:
            value = min(value, _floor(reward["max_amount"]))
        value = value or None
    elif kind == "free_shipping":
        value = max(cart["shipping"], _ZERO).quantize(_CENT, ROUND_HALF_EVEN)
        if "max_amount" in reward:
            value = min(value, _floor(reward["max_amount"]))
    else:  # free_product
        present = [line for line in cart["lines"]
                   if line["sku"] in reward["choices"] and not line["gift_card"]]
        if present:
            line = max(present, key=lambda ln: ln["unit"])
            value = _floor(min(line["unit"], room.get(line["ref"], _ZERO))) or None
        else:
            unmet.append(f"add one of {', '.join(reward['choices'])} to your cart")
            given, cost_failed = False, True  # nothing to pick: no "take off" reason
    if error is not None:
        unmet.append(error)
    elif not value and (given or not cost_failed):
        unmet.append("nothing on this cart for it to take off")
    if reward["hurdles"] is not None:
        worth = value if kind == "pay_with_points" else None
        unmet += _check(reward["hurdles"], plan, member, cart, at, reward["id"], worth)[2]
    return not unmet, list(dict.fromkeys(unmet))


def _worth(reward: Mapping[str, Any], points: int) -> Decimal:
    return _floor(Decimal(points) * reward["value"] / reward["points"])


def _most_points(plan: dict[str, Any], reward: dict[str, Any], member: Mapping[str, Any],
                 cart: dict[str, Any], at: datetime) -> int:
    step = reward.get("step", 1)
    room = sum(cart["room"].values(), _ZERO)
    affordable = room * reward["points"] / reward["value"]
    most = min(member["available_points"], int(affordable)) // step * step
    for kind, share in _walk(reward["hurdles"]):
        if kind != "max_points_share":
            continue
        for _ in range(3):
            worth = _worth(reward, most)
            cap = _share_cap(share, cart)
            if worth <= cap or most <= 0:
                break
            fits = cap * reward["points"] / reward["value"]
            most = min(most - step, int(fits) // step * step)
    return max(most, 0) if most >= reward.get("min_points", 0) else 0


def _walk(hurdle: tuple[str, Any] | None) -> list[tuple[str, Any]]:
    if hurdle is None:
        return []
    kind, body = hurdle
    if kind in ("all_of", "any_of"):
        return [hurdle, *(found for child in body for found in _walk(child))]
    if kind == "not":
        return [hurdle, *_walk(body)]
    return [hurdle]


def _share_cap(share: tuple[Any, Any, str], cart: dict[str, Any]) -> Decimal:
    percent, amount, basis = share
    base = cart[basis].quantize(_CENT, ROUND_HALF_EVEN)
    caps = []
    if percent is not None:
        caps.append(_floor(base * (percent / 100)))
    if amount is not None:
        caps.append(_floor(amount))
    return min(caps) if caps else base


def _date_check(window: tuple[Any, Any], at: datetime, tz: ZoneInfo,
                ) -> tuple[bool, str, list[str]]:
    start, end = window
    if start is not None and at < start:
        reason = f"available from {start.astimezone(tz).date().isoformat()}"
        return False, reason, [reason]
    if end is not None and at >= end:
        reason = f"ended on {end.astimezone(tz).date().isoformat()}"
        return False, reason, [reason]
    return True, "within its dates", []


def _check(hurdle: tuple[str, Any], plan: dict[str, Any], member: Mapping[str, Any],
           cart: dict[str, Any], at: datetime, reward_id: str, worth: Decimal | None,
           ) -> tuple[bool, str, list[str]]:
    """``(met, reason, reasons of the failing leaves)`` of one hurdle."""
    kind, body = hurdle
    if kind in ("all_of", "any_of"):
        results = [_check(child, plan, member, cart, at, reward_id, worth) for child in body]
        leaves = [reason for met, _, failed in results if not met for reason in failed]
        if kind == "all_of":
            failing = [reason for met, reason, _ in results if not met]
            reason = "; ".join(failing) if failing else "every condition is met"
            return not failing, reason, leaves
        met_reasons = [reason for met, reason, _ in results if met]
        if met_reasons:
            return True, met_reasons[0], []
        return False, " or ".join(reason for _, reason, _ in results), leaves
    if kind == "not":
        met, inner, _ = _check(body, plan, member, cart, at, reward_id, worth)
        reason = f"not: {inner}"
        return not met, reason, [] if not met else [reason]
    if kind == "min_points":
        return _points(body, member["available_points"])
    if kind == "repeat_order":
        done = member["orders_before"]
        if done >= body:
            return True, f"{done} completed order(s) before this one", []
        n = body + 1
        reason = f"available from your {_ORDINALS.get(n, f'{n}th')} order"
        return False, reason, [reason]
    if kind == "min_basket":
        amount, basis = body
        have = cart[basis].quantize(_CENT, ROUND_HALF_EVEN)
        need = amount.quantize(_CENT, ROUND_CEILING)
        if have >= need:
            return True, f"basket {_money(have)} (needs {_money(need)})", []
        reason = f"add {_money(need - have)} to your basket"
        return False, reason, [reason]
    if kind == "max_points_share":
        cap = _share_cap(body, cart)
        used = worth or _ZERO
        if used <= cap:
            return True, f"{_money(used)} of at most {_money(cap)} paid with points", []
        reason = f"at most {_money(cap)} of this order can be paid with points"
        return False, reason, [reason]
    if kind == "min_tier":
        names = plan["tier_names"]
        current = member["tier"]
        have = names.index(current) if current in names else 0
        need = names.index(body) if body in names else len(names)
        if have >= need:
            return True, f"tier {current} (needs {body})", []
        return False, f"reach {body}", [f"reach {body}"]
    if kind == "segment":
        if body in cart["segments"]:
            return True, f"in segment {body}", []
        reason = f"only for members in segment {body}"
        return False, reason, [reason]
    if kind == "window":
        return _date_check(body, at, plan["tz"])
    if kind == "usage_limit":
        uses = member["uses"].get(reward_id, 0)
        if uses < body:
            return True, f"used {uses} of {body} times", []
        reason = f"already used {uses} times (limit {body})"
        return False, reason, [reason]
    if kind == "requires":
        for line in cart["lines"]:
            if _matches(body, line):
                return True, f"the basket has {line['sku']}", []
        reason = f"add a product from: {body['describe']}"
        return False, reason, [reason]
    raise ValueError(f"unknown hurdle {kind!r}")
