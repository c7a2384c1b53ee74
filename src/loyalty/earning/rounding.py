"""Whole points from exact ones: rounding an order's points and splitting them over its
lines and shipping (by largest remainder), and spreading a bonus over lines by weight.
These are the earn's rounding and splitting policies (see :mod:`loyalty.earning.calculate`)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, Decimal

from loyalty.earning.config import RoundingScope
from loyalty.money import allocate, allocate_unchecked

__all__ = ["apportion", "spread", "whole", "whole_points"]


def whole_points(
    scope: RoundingScope, mode: str, lines: Sequence[Decimal], shipping: Decimal
) -> tuple[list[int], int]:
    """Whole points per line and for shipping, from their exact points.

    ``order``: the order's exact points are rounded once, then given out by largest
    remainder, so the parts sum to that one rounding. ``line``: each part is rounded
    on its own.
    """
    if scope is RoundingScope.LINE:
        return [whole(points, mode) for points in lines], whole(shipping, mode)
    total = whole(sum(lines, shipping), mode)
    shares = apportion(total, [*lines, shipping])
    return shares[:-1], shares[-1]


def apportion(total: int, exact: Sequence[Decimal]) -> list[int]:
    """Give ``total`` whole points to parts worth ``exact`` (non-negative) points, by
    largest remainder: each part gets its exact points rounded down, then one more
    point goes to each of the parts with the largest fractions (the later part on a
    tie) until ``total`` is reached. ``total`` must lie between the sum of the parts
    rounded down and the sum rounded up, as any rounding of the exact sum does; then
    every part is its exact points rounded down or up, and the parts sum to ``total``.

    >>> apportion(5, [Decimal("0.5")] * 10)
    [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    """
    shares = [whole(points, ROUND_FLOOR) for points in exact]
    left = total - sum(shares)
    by_fraction = sorted(
        range(len(exact)), key=lambda index: (exact[index] - shares[index], index), reverse=True
    )
    for index in by_fraction[:left]:
        shares[index] += 1
    return shares


def whole(points: Decimal, mode: str) -> int:
    return int(points.to_integral_value(rounding=mode))


def spread(total: int, weights: Sequence[Decimal]) -> list[int]:
    """:func:`~loyalty.money.allocate` for a total that is not negative, over the line
    bases, without its checks unless a base is negative (which it refuses: a line whose
    tax is more than its tax-inclusive price)."""
    if len(weights) == 1 and weights[0] >= 0:
        return [total]
    if min(weights) < 0:
        return allocate(total, weights)
    return allocate_unchecked(total, weights)
