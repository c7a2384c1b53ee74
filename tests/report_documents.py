"""Simulation result documents (format ``loyalty-simulation/1``, docs/simulation.md) built
by hand for the report's tests, as ``loyalty simulate`` writes them: a year of months
whose stocks follow from the flows (outstanding points, liability, members), totals that
sum the months (stocks at the end), B - A for every number and the months of the largest
differences. The figures are drawn from a seeded generator: the same call, the same
document."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

CENT = Decimal("0.01")
SHARE = Decimal("0.0001")
POINT_VALUE = Decimal("0.05")
SHARES = ("reward_share", "breakage_rate")
DIVERGE = ("cost.total", "points.issued", "points.redeemed", "liability.total",
           "orders_with_reward")

HOSTILE = {
    "program": 'Club <img src=x onerror=alert(1)> & "friends"',
    "campaign": '<script>alert("cost")</script>',
    "dollars": "$5 off $50 & more",
    "underscore": "_hidden campaign",
    "kind": "a&b \"c\" 'd' <kind>",
    "reward": "<i>five-off</i>",
    "tier": "<b>Gold</b> & co",
    "note": '</table><a href="https://evil.example/">click</a>',
    "summary": "<em>B</em> wins & costs \"less\"",
}
"""Names with markup, ampersands, quotes and dollar signs (TeX-like math to matplotlib)."""


@dataclass(frozen=True)
class Plan:
    """How one variant's program behaves: points per order, the share of orders with a
    reward, its campaigns (the value of one reward each), rewards (id to kind), tiers."""

    name: str
    program: dict[str, str]
    points_per_order: int
    reward_rate: Decimal
    campaigns: dict[str, Decimal]
    rewards: dict[str, str]
    tiers: tuple[str, ...] = ("Member", "Silver", "Gold")
    seed: int = 1
    cashback: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def money(amount: Decimal) -> str:
    return str(amount.quantize(CENT))


def share(part: int, whole: int) -> str:
    return str((Decimal(part) / Decimal(whole)).quantize(SHARE)) if whole else "0.0000"


def months_of(count: int, start: int = 2026) -> list[str]:
    return [f"{start + index // 12}-{index % 12 + 1:02d}" for index in range(count)]


def variant(plan: Plan, months: list[str]) -> dict[str, Any]:
    """One variant's figures month by month and in total."""
    rng = random.Random(plan.seed)
    members = 700
    outstanding = issued_so_far = expired_so_far = 0
    coupons_owed = Decimal(0)
    figures = []
    for index, month in enumerate(months):
        members += rng.randint(40, 90)
        orders = rng.randint(820, 1010) + 8 * index
        issued = orders * plan.points_per_order + rng.randint(0, 900)
        reversed_ = issued // rng.randint(25, 40)
        redeemed = min(outstanding, int(issued * plan.reward_rate * 3))
        expired = outstanding // rng.randint(15, 25) if index >= 6 else 0
        adjusted = 50 if index == 4 else 0
        outstanding += issued - redeemed - expired - reversed_ + adjusted
        issued_so_far += issued
        expired_so_far += expired
        with_reward = int(orders * plan.reward_rate) + rng.randint(0, 12)
        rewards = dict.fromkeys(sorted(plan.rewards), 0)
        for number in range(with_reward):
            rewards[sorted(plan.rewards)[number % len(plan.rewards)]] += 1
        by_kind: dict[str, int] = {}
        for reward, used in rewards.items():
            by_kind[plan.rewards[reward]] = by_kind.get(plan.rewards[reward], 0) + used
        by_campaign = {
            name: value * rng.randint(max(0, with_reward // 2 - 20), with_reward // 2)
            for name, value in sorted(plan.campaigns.items())
        }
        cost = sum(by_campaign.values(), Decimal(0))
        gross = (Decimal(orders) * Decimal("47.35") + Decimal(rng.randint(0, 9999)) / 100)
        refunds = (gross * Decimal("0.04")).quantize(CENT)
        coupons_used = rng.randint(5, 30)
        coupons_owed = max(Decimal(0), coupons_owed + Decimal(rng.randint(-40, 60)) * 5)
        points_owed = (outstanding * POINT_VALUE).quantize(CENT)
        cashback = Decimal(rng.randint(0, 20000)) / 100 if plan.cashback else Decimal(0)
        gold = members * (3 + index // 3) // 100
        silver = members * 15 // 100
        platinum = members // 100 if len(plan.tiers) > 3 else 0
        counts = (members - silver - gold - platinum, silver, gold, platinum)
        tier_counts = dict(zip(plan.tiers, counts[: len(plan.tiers)], strict=True))
        figures.append({
            "month": month,
            "members": members,
            "orders": orders,
            "orders_with_reward": with_reward,
            "reward_share": share(with_reward, orders),
            "coupons_used": coupons_used,
            "points": {"issued": issued, "redeemed": redeemed, "expired": expired,
                       "reversed": reversed_, "adjusted": adjusted, "outstanding": outstanding},
            "breakage_rate": share(expired_so_far, issued_so_far),
            "liability": {"points": money(points_owed), "cashback": money(cashback),
                          "coupons": money(coupons_owed),
                          "total": money(points_owed + cashback + coupons_owed)},
            "sales": {"gross": money(gross), "discounts": money(cost), "refunds": money(refunds),
                      "net": money(gross - cost - refunds)},
            "cost": {"total": money(cost),
                     "by_campaign": {name: money(value) for name, value in by_campaign.items()}},
            "rewards": rewards,
            "rewards_by_kind": dict(sorted(by_kind.items())),
            "tiers": dict(sorted(tier_counts.items())),
        })
    return {"name": plan.name, "program": plan.program, "months": figures,
            "total": total(figures)}


def total(months: list[dict[str, Any]]) -> dict[str, Any]:
    """Flows summed over the months, stocks (members, outstanding, liability, tiers) at the
    end, shares of the sums."""
    last = months[-1]

    def summed(key: str, part: str | None = None) -> Any:
        values = [m[key] if part is None else m[key][part] for m in months]
        if isinstance(values[0], int):
            return sum(values)
        return money(sum((Decimal(v) for v in values), Decimal(0)))

    def summed_names(key: str, part: str | None = None) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for m in months:
            for name, v in (m[key] if part is None else m[key][part]).items():
                found[name] = (found.get(name, 0) + v if isinstance(v, int)
                               else money(Decimal(found.get(name, "0")) + Decimal(v)))
        return dict(sorted(found.items()))

    points = {part: summed("points", part)
              for part in ("issued", "redeemed", "expired", "reversed", "adjusted")}
    points["outstanding"] = last["points"]["outstanding"]
    orders, with_reward = summed("orders"), summed("orders_with_reward")
    return {
        "month": "total",
        "members": last["members"],
        "orders": orders,
        "orders_with_reward": with_reward,
        "reward_share": share(with_reward, orders),
        "coupons_used": summed("coupons_used"),
        "points": points,
        "breakage_rate": last["breakage_rate"],
        "liability": dict(last["liability"]),
        "sales": {part: summed("sales", part) for part in ("gross", "discounts", "refunds", "net")},
        "cost": {"total": summed("cost", "total"),
                 "by_campaign": summed_names("cost", "by_campaign")},
        "rewards": summed_names("rewards"),
        "rewards_by_kind": summed_names("rewards_by_kind"),
        "tiers": dict(last["tiers"]),
    }


def minus(b: Any, a: Any, key: str = "") -> Any:
    """B - A of two figures, recursively; a name in one only counts as 0 in the other."""
    if key == "month":
        return a
    if isinstance(a, dict) or isinstance(b, dict):
        a, b = a or {}, b or {}
        return {name: minus(b.get(name), a.get(name), name) for name in sorted({*a, *b})}
    if isinstance(a, int) or isinstance(b, int):
        return (b or 0) - (a or 0)
    difference = Decimal(b or "0") - Decimal(a or "0")
    return str(difference.quantize(SHARE if key in SHARES else CENT))


def at(figures: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        figures = figures[part]
    return figures


def diverge(a: dict[str, Any], b: dict[str, Any], difference: dict[str, Any]) -> list[Any]:
    """For each headline figure, the month where |B - A| is largest (the first such)."""
    found = []
    for figure in DIVERGE:
        def size(index: int, figure: str = figure) -> Decimal:
            return abs(Decimal(at(difference["months"][index], figure)))

        index = max(range(len(difference["months"])), key=size)
        found.append({"figure": figure, "month": a["months"][index]["month"],
                      "a": at(a["months"][index], figure), "b": at(b["months"][index], figure),
                      "difference": at(difference["months"][index], figure)})
    return found


def plans(hostile: bool = False, tiers: bool = True) -> tuple[Plan, Plan]:
    campaign = HOSTILE["campaign"] if hostile else "service-recovery"
    kind = HOSTILE["kind"] if hostile else "free_product"
    reward = HOSTILE["reward"] if hostile else "five-off"
    names = (("Member", "Silver", HOSTILE["tier"]) if hostile
             else ("Member", "Silver", "Gold")) if tiers else ()
    a = Plan("A", {"id": "cosmetics-club", "name": "Cosmetics Club",
                   "file": "cosmetics-club.yaml"},
             points_per_order=45, reward_rate=Decimal("0.06"),
             campaigns={"rewards": Decimal("5.00"), campaign: Decimal("2.50")},
             rewards={reward: "amount_off", "ten-off": "amount_off", "free-serum": kind},
             tiers=names, seed=11)
    b_campaigns = {"rewards": Decimal("5.00"), campaign: Decimal("2.50"),
                   "birthday": Decimal("4.00")}
    if hostile:
        b_campaigns[HOSTILE["dollars"]] = Decimal("1.00")
        b_campaigns[HOSTILE["underscore"]] = Decimal("0.50")
    b = Plan("B", {"id": "cosmetics-club-plus",
                   "name": HOSTILE["program"] if hostile else "Cosmetics Club Plus",
                   "file": "cosmetics-club-plus.yaml"},
             points_per_order=60, reward_rate=Decimal("0.085"), campaigns=b_campaigns,
             rewards={reward: "amount_off", "ten-off": "amount_off", "free-serum": kind,
                      "free-sample": "free_product"},
             tiers=(*names, "Platinum") if tiers else (), seed=12, cashback=True)
    return a, b


def document(variants: int = 2, months: int = 12, tiers: bool = True,
             hostile: bool = False) -> dict[str, Any]:
    """A whole document: two variants compared (A then B) or one."""
    calendar = months_of(months)
    a_plan, b_plan = plans(hostile, tiers)
    a = variant(a_plan, calendar)
    runs = [a]
    difference = None
    diverging: list[Any] = []
    summary = f"{a_plan.program['name']} costs {a['total']['cost']['total']} USD over the period"
    if variants == 2:
        b = variant(b_plan, calendar)
        runs.append(b)
        difference = {"months": [minus(mb, ma) for ma, mb in zip(a["months"], b["months"],
                                                                 strict=True)],
                      "total": minus(b["total"], a["total"])}
        diverging = diverge(a, b, difference)
        more = Decimal(difference["total"]["cost"]["total"])
        summary = (f"B costs {more:,.2f} USD more over the year; liability at the end "
                   f"{Decimal(difference['total']['liability']['total']):+,.2f} USD")
    if hostile:
        summary = HOSTILE["summary"]
    return {
        "format": "loyalty-simulation/1",
        "currency": "USD",
        "timezone": "America/New_York",
        "history": {"file": "orders.jsonl", "events": 12034, "orders": 10012, "members": 1000,
                    "first": f"{calendar[0]}-01", "last": f"{calendar[-1]}-28"},
        "policy": {"seed": 1, "redeem": "0.5", "coupons": "0.8", "cashback": "1"},
        "point_value": str(POINT_VALUE),
        "notes": ([HOSTILE["note"]] if hostile
                  else ["Orders before the enrolment of their member earn nothing."]),
        "variants": runs,
        "difference": difference,
        "diverge": diverging,
        "summary": summary,
    }
