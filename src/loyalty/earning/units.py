"""Points per unit: what the ``per_unit`` earning rules give a line, and each rule's
part of an order (see :mod:`loyalty.earning.calculate`, which adds them to a line's
points before its multipliers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING

from loyalty.earning.plan import RulePlan
from loyalty.earning.rounding import whole

if TYPE_CHECKING:
    from loyalty.cart import Line

__all__ = ["per_unit_rules", "unit_points"]

_ZERO = Decimal(0)


def unit_points(
    line: Line, rules: Sequence[RulePlan], reductions: Mapping[str, Decimal]
) -> list[tuple[RulePlan, Decimal]]:
    """Each per-unit rule's exact points on ``line``, before its multipliers: points per
    unit times its units, in proportion to the share of the line still paid after the
    loyalty rewards on it (a unit a reward made free, or paid with points, earns none;
    nor does a line that costs nothing). Gift cards never earn points per unit."""
    found = [(rule, rule.per_unit) for rule in rules if rule.per_unit is not None]
    if not found or line.gift_card:
        return []
    net = line.net
    paid = max(net - reductions.get(line.ref, _ZERO), _ZERO) if reductions else net
    if not paid:
        return []
    units = Decimal(line.quantity) if paid == net else line.quantity * paid / net
    return [(rule, per * units) for rule, per in found]


def per_unit_rules(
    by_line: Sequence[Sequence[tuple[RulePlan, Decimal]]],
) -> list[tuple[str, int, str]]:
    """Each per-unit rule's points over the order, before multipliers, from its exact
    points on each line (``by_line``): its name, its points rounded half-even (as a
    multiplier's share is) and its reason, in configuration order."""
    found: dict[int, tuple[RulePlan, Decimal]] = {}
    for units in by_line:
        for rule, points in units:
            _, before = found.get(rule.index, (rule, _ZERO))
            found[rule.index] = (rule, before + points)
    return [
        (rule.name, whole(points, ROUND_HALF_EVEN), rule.per_unit_reason)
        for _, (rule, points) in sorted(found.items())
    ]
