"""What every benchmark module shares: results, settings, timing and memory helpers.

A benchmark module ``benchmarks/<name>.py`` defines ``run(settings) -> list[Result]``;
each result's name starts with ``<name>.`` and stays stable across runs, so
``benchmarks/results.json`` files can be compared over time.

Timing: a *sample* is a callable ``sample(ops) -> seconds`` that prepares ``ops``
operations (untimed) and returns the seconds they took, measured with
:func:`timed`. :func:`interleave` calibrates each sample to last about
``settings.sample_seconds``, then runs the samples of several cases in
alternating order for ``settings.rounds`` rounds, so that drift in the machine's
speed affects every case alike. Report the median per-op time, and compare two
cases with :func:`paired_ratio` (the median of the per-round ratios).
"""

from __future__ import annotations

import gc
import math
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from loyalty import Account, Money

__all__ = [
    "Result",
    "Sample",
    "Settings",
    "Timing",
    "interleave",
    "log",
    "paired_ratio",
    "retained_bytes",
    "timed",
]

_T = TypeVar("_T")

Sample = Callable[[int], float]
"""Run ``ops`` operations and return the seconds they took (see :func:`timed`)."""


@dataclass(frozen=True, slots=True)
class Result:
    """One figure. ``name`` is stable and dotted, starting with the module's name.

    ``goal``, if set, is an upper bound the value should not exceed; with
    ``higher_is_better`` it is a lower bound the value should reach (a rate).
    """

    name: str
    value: float
    unit: str
    about: str = ""
    goal: float | None = None
    higher_is_better: bool = False

    @property
    def met(self) -> bool | None:
        """Whether the goal is met, or ``None`` without a goal."""
        if self.goal is None:
            return None
        return self.value >= self.goal if self.higher_is_better else self.value <= self.goal


@dataclass(frozen=True, slots=True)
class Settings:
    """How long and how big to run. ``quick`` shrinks the sizes for a smoke test."""

    quick: bool = False
    rounds: int = 15
    sample_seconds: float = 0.05
    probe_ops: int = 20


@dataclass(frozen=True, slots=True)
class Timing:
    """The per-op seconds of each round of one case, in round order."""

    ops: int
    per_op: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.per_op)

    @property
    def minimum(self) -> float:
        return min(self.per_op)

    @property
    def spread(self) -> float:
        """Slowest round over fastest round (1.0 means no noise)."""
        return max(self.per_op) / min(self.per_op)


def log(message: str) -> None:
    """Progress for the person watching; goes to stderr so stdout is the table."""
    print(message, file=sys.stderr, flush=True)


def timed(run: Callable[[], object]) -> float:
    """Seconds taken by ``run()``, after a full collection and with the garbage collector off."""
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        run()
        return time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()


def interleave(cases: Mapping[str, Sample], settings: Settings) -> dict[str, Timing]:
    """Time ``cases`` in alternating order, each sample lasting about ``sample_seconds``."""
    ops: dict[str, int] = {}
    for name, sample in cases.items():
        probe = settings.probe_ops
        sample(probe)  # warm-up
        per_op = sample(probe) / probe
        ops[name] = max(probe, math.ceil(settings.sample_seconds / per_op))
    names = list(cases)
    per_op_runs: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(settings.rounds):
        for name in names if round_number % 2 == 0 else reversed(names):
            per_op_runs[name].append(cases[name](ops[name]) / ops[name])
    return {name: Timing(ops[name], tuple(per_op_runs[name])) for name in names}


def paired_ratio(numerator: Timing, denominator: Timing) -> float:
    """The median over rounds of ``numerator / denominator`` (both timed in the same round)."""
    return statistics.median(
        top / bottom for top, bottom in zip(numerator.per_op, denominator.per_op, strict=True)
    )


def retained_bytes(build: Callable[[], _T]) -> tuple[_T, int]:
    """``build()`` and the bytes it allocated that are still held once it returns.

    Measured with :mod:`tracemalloc`: objects that existed before are not counted,
    garbage is collected before reading, and the returned value keeps alive what it holds.
    """
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        value = build()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        if started:
            tracemalloc.stop()
    return value, after - before


def usd(cents: int) -> Money:
    return Money(Decimal(cents).scaleb(-2), "USD")


AMOUNTS = tuple(usd(cents) for cents in (1999, 4550, 899, 12000, 3475, 6810, 2505, 999))
"""Order amounts the measured operations cycle through."""


class Copies:
    """Fresh copies of one history, each given at most a tenth of its length in new operations.

    So an account never grows by more than 10% while it is measured, and every
    copy starts from the same state.
    """

    def __init__(self, copy: Callable[[], Account], size: int, start: datetime,
                 step: timedelta) -> None:
        self.copy = copy
        self.start = start
        self.step = step
        self.capacity = max(1, size // 10)
        self.account: Account | None = None
        self.used = 0
        self.serial = 0

    def next(self) -> tuple[Account, datetime, int]:
        """An account, the time of its next operation, and a serial number for ids and keys."""
        if self.account is None or self.used >= self.capacity:
            self.account = self.copy()
            self.used = 0
        self.used += 1
        self.serial += 1
        return self.account, self.start + self.step * self.used, self.serial
