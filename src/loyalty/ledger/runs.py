"""Runs of entry numbers: a set of integers kept as sorted, disjoint, inclusive runs.

An account names its open lots this way in its stored head. Lots open in entry
order and mostly close in the same order (spent soonest-expiring first, expired
oldest first), so the open ones form a few runs whatever the length of the
history: saving and loading the head costs the number of runs, not of lots.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator

__all__ = ["Runs"]


class Runs:
    """A set of integers as sorted, disjoint, non-adjacent inclusive runs ``(first, last)``."""

    __slots__ = ("_firsts", "_lasts")

    def __init__(self) -> None:
        self._firsts: list[int] = []
        self._lasts: list[int] = []

    def __contains__(self, number: int) -> bool:
        index = bisect_right(self._firsts, number) - 1
        return index >= 0 and number <= self._lasts[index]

    def __iter__(self) -> Iterator[int]:
        for first, last in zip(self._firsts, self._lasts, strict=True):
            yield from range(first, last + 1)

    def __len__(self) -> int:
        return sum(last - first + 1 for first, last in zip(self._firsts, self._lasts, strict=True))

    def runs(self) -> tuple[tuple[int, int], ...]:
        return tuple(zip(self._firsts, self._lasts, strict=True))

    def add(self, number: int) -> None:
        firsts, lasts = self._firsts, self._lasts
        index = bisect_right(firsts, number) - 1  # the run starting at or before number
        if index >= 0 and number <= lasts[index]:
            return
        joins_left = index >= 0 and lasts[index] == number - 1
        joins_right = index + 1 < len(firsts) and firsts[index + 1] == number + 1
        if joins_left and joins_right:
            lasts[index] = lasts[index + 1]
            del firsts[index + 1], lasts[index + 1]
        elif joins_left:
            lasts[index] = number
        elif joins_right:
            firsts[index + 1] = number
        else:
            firsts.insert(index + 1, number)
            lasts.insert(index + 1, number)

    def discard(self, number: int) -> None:
        firsts, lasts = self._firsts, self._lasts
        index = bisect_right(firsts, number) - 1
        if index < 0 or number > lasts[index]:
            return
        first, last = firsts[index], lasts[index]
        if first == last:
            del firsts[index], lasts[index]
        elif number == first:
            firsts[index] = number + 1
        elif number == last:
            lasts[index] = number - 1
        else:
            lasts[index] = number - 1
            firsts.insert(index + 1, number + 1)
            lasts.insert(index + 1, last)
