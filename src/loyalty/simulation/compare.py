"""Two variants side by side: the difference of every figure, where they diverge most,
and the sentence a marketer reads first."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

__all__ = ["HEADLINES", "difference", "diverge", "figure", "summary"]

HEADLINES = (
    "cost.total",
    "points.issued",
    "points.redeemed",
    "liability.total",
    "orders_with_reward",
)
"""The figures whose month of largest difference :func:`diverge` names."""


def difference(a: Any, b: Any) -> Any:
    """``b - a``, figure by figure: counts as ints, money and shares as text with the
    decimals they have; a name in only one of two mappings counts as 0 in the other."""
    if isinstance(a, dict) or isinstance(b, dict):
        a, b = a or {}, b or {}
        return {
            key: (a.get(key) if key == "month" else difference(a.get(key), b.get(key)))
            for key in _keys(a, b)
        }
    if isinstance(a, str) or isinstance(b, str):
        result = Decimal(b or 0) - Decimal(a or 0)
        return str(result.copy_abs() if result == 0 else result)
    return int(b or 0) - int(a or 0)


def _keys(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    keys = list(a)
    keys += [key for key in b if key not in a]
    return keys if "month" in keys else sorted(keys)


def figure(figures: dict[str, Any], path: str) -> Any:
    """The figure at ``path`` ("cost.total") of one month's figures."""
    value: Any = figures
    for part in path.split("."):
        value = value[part]
    return value


def diverge(a_months: list[dict[str, Any]], b_months: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """For each headline figure that differs at all, the month where ``|b - a|`` is the
    largest (the first such month on a tie)."""
    found = []
    for path in HEADLINES:
        best: tuple[Decimal, dict[str, Any]] | None = None
        for a, b in zip(a_months, b_months, strict=True):
            gap = Decimal(figure(b, path)) - Decimal(figure(a, path))
            if gap and (best is None or abs(gap) > best[0]):
                best = abs(gap), {
                    "figure": path,
                    "month": a["month"],
                    "a": figure(a, path),
                    "b": figure(b, path),
                    "difference": difference(figure(a, path), figure(b, path)),
                }
        if best is not None:
            found.append(best[1])
    return found


def _rewards(total: dict[str, Any]) -> int:
    return sum(total["rewards"].values())


def _amount(text: str, currency: str) -> str:
    return f"{Decimal(text).copy_abs():,} {currency}"


def _percent(part: int, whole: int) -> str:
    """``part`` as a percentage of ``whole``, whole if that says anything ("18"), else to
    a tenth ("0.4"), else "<0.1": a change is never shown as none."""
    share = Decimal(part) * 100 / whole
    for shown in (f"{share:.0f}", f"{share:.1f}"):
        if Decimal(shown):
            return shown
    return "<0.1"


def summary(variants: list[dict[str, Any]], currency: str, months: int) -> str:
    """One sentence: with two variants, what B costs, redeems and owes against A; with
    one, what it issues, redeems, costs and owes."""
    span = {0: "no month", 1: "the month"}.get(months, f"the {months} months")
    first = variants[0]["total"]
    if len(variants) == 1:
        return (
            f"{variants[0]['name']} issues {first['points']['issued']:,} points over {span}, "
            f"redeems {_rewards(first):,} rewards on {Decimal(first['reward_share']) * 100:.1f}% "
            f"of orders and costs {_amount(first['cost']['total'], currency)}; liability at "
            f"the end {_amount(first['liability']['total'], currency)}"
        )
    second = variants[1]["total"]
    name = variants[1]["name"]
    cost = Decimal(second["cost"]["total"]) - Decimal(first["cost"]["total"])
    if cost:
        costs = f"costs {_amount(str(cost), currency)} {'more' if cost > 0 else 'less'}"
    else:
        costs = "costs the same"
    a_rewards, b_rewards = _rewards(first), _rewards(second)
    if a_rewards == b_rewards:
        rewards = "redeems as many rewards"
    elif a_rewards:
        change = _percent(abs(b_rewards - a_rewards), a_rewards)
        rewards = f"redeems {change}% {'more' if b_rewards > a_rewards else 'fewer'} rewards"
    else:
        rewards = f"redeems {b_rewards:,} rewards (A none)"
    liability = Decimal(second["liability"]["total"]) - Decimal(first["liability"]["total"])
    if liability:
        owes = (
            f"its liability at the end is {_amount(str(liability), currency)} "
            f"{'higher' if liability > 0 else 'lower'}"
        )
    else:
        owes = "its liability at the end is the same"
    return f"{name} {costs} over {span} and {rewards}; {owes}"
