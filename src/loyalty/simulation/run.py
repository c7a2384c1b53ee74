"""Simulate programs over an order history: in this process, over a process pool, or
over a Dask cluster, with the same result to the cent and the point.

Members are independent: a partitioned run splits the history by member
(:mod:`loyalty.simulation.split`), replays each partition under every variant
(:func:`~loyalty.simulation.partition.run_partition`), and adds up the partitions'
books, which are flows (exact sums, in any order). Two things are shared between
members and would make the result depend on the partitioning: a program's global
budgets and stocks, and a history's referrals; with either, the run is one partition
(and the result says why).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from loyalty.errors import InvalidInput
from loyalty.money import MAX_AMOUNT
from loyalty.program.model import Program
from loyalty.simulation.months import period_end
from loyalty.simulation.partition import PartitionResult, run_partition
from loyalty.simulation.policy import Policy
from loyalty.simulation.result import Simulation, Variant, build_simulation
from loyalty.simulation.split import Split, split_history

__all__ = ["Variant", "run_bytes", "run_file", "shared_state", "simulate", "usable_cores"]


def shared_state(program: Program) -> list[str]:
    """What the program's members share (global budgets, stocks): each makes a member's
    outcome depend on the others', so the members cannot be simulated apart."""
    found = [
        f"incentive {incentive.id!r} has a global budget"
        for incentive in program.incentives.catalog
        if incentive.limits.budget is not None
    ]
    found += [
        f"incentive {incentive.id!r} gives a gift with a stock"
        for incentive in program.incentives.catalog
        if _stocked(incentive.grants)
    ]
    found += [
        f"reward {reward.id!r} has a stock"
        for reward in program.rewards.catalog
        if reward.stock is not None
    ]
    return found


def _stocked(grants: Iterable[Any]) -> bool:
    """Whether any of ``grants`` (or of the bundles and choices among them) has a stock."""
    return any(
        getattr(grant, "stock", None) is not None or _stocked(getattr(grant, "grants", ()))
        for grant in grants
    )


def simulate(
    variants: Sequence[Variant | Program],
    history: str | Path | Iterable[str | bytes],
    *,
    policy: Policy | None = None,
    workers: int = 1,
    cluster: Any = None,
    partitions: int | None = None,
    point_value: Decimal | None = None,
) -> Simulation:
    """Replay ``history`` (a JSON-lines file of steps, or its lines) under each variant
    (one program, or two to compare: "A" and "B" unless named) and return the figures.

    ``workers``: processes to run partitions on (1: this process). ``cluster``: a Dask
    scheduler address or ``distributed.Client`` (the ``dask`` extra), instead of
    processes. ``partitions``: how many parts to split the members in (default: one per
    worker; on a cluster, two per thread). ``point_value``: the money a point is worth,
    for the liability (default: see :func:`~loyalty.simulation.result.point_value_of`).
    The result does not depend on ``workers``, ``cluster`` or ``partitions``."""
    named = _variants(variants)
    policy = policy if policy is not None else Policy()
    if not isinstance(policy, Policy):
        raise InvalidInput("policy", policy, "is not a loyalty.simulation.Policy")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise InvalidInput("workers", workers, "must be a whole number, at least 1")
    if point_value is not None and not (
        isinstance(point_value, Decimal)
        and point_value.is_finite()
        and 0 < point_value <= MAX_AMOUNT
    ):
        raise InvalidInput("point_value", point_value, "must be a Decimal above 0, at most 10^12")
    name = _history(history)
    if cluster is None:
        return _simulate(named, history, name, policy, workers, None, partitions, point_value)
    client = _client(cluster)
    try:
        return _simulate(named, history, name, policy, workers, client, partitions, point_value)
    finally:
        if client is not cluster:  # made here from an address: closed here
            client.close()


def _simulate(
    named: list[Variant],
    history: str | Path | Iterable[str | bytes],
    name: str | None,
    policy: Policy,
    workers: int,
    cluster: Any,
    partitions: int | None,
    point_value: Decimal | None,
) -> Simulation:
    programs = [variant.program for variant in named]
    notes: list[str] = []
    shared = [reason for program in programs for reason in shared_state(program)]
    count = _partitions(partitions, workers, cluster)
    if shared and count > 1:
        notes.append(f"simulated as one partition: {'; '.join(shared)}")
        count = 1
    if count > 1 or cluster is not None:
        if name is None:
            raise InvalidInput(
                "history", "(lines)", "must be a file to be split across workers or a cluster"
            )
        with tempfile.TemporaryDirectory(prefix="loyalty-simulation-") as directory:
            with Path(name).open("rb") as lines:
                split = split_history(lines, count, Path(directory))
            # A history with no time in it has no period to bring members to: its
            # lines (invalid, or steps with no time) are read and counted in one run.
            if split.period.last is not None and (not split.linked or count == 1):
                merged = _partitioned(split, split.period.last, programs, policy, workers, cluster)
                return build_simulation(
                    named, merged, split.steps - merged.invalid, policy, point_value, notes, name
                )
        if split.linked:
            notes.append("simulated as one partition: the history links members (referrals)")
    with _opened(history) as lines:
        result = run_partition(programs, lines, policy, None)
    return build_simulation(named, result, result.steps, policy, point_value, notes, name)


def _variants(variants: Sequence[Variant | Program]) -> list[Variant]:
    if not isinstance(variants, Sequence) or not 1 <= len(variants) <= 2:
        shown = len(variants) if isinstance(variants, Sequence) else variants
        raise InvalidInput("variants", shown, "give a list of one program, or two to compare")
    named = []
    for number, variant in enumerate(variants):
        if not isinstance(variant, Variant):
            variant = Variant("AB"[number], variant)
        if not isinstance(variant.program, Program):
            raise InvalidInput(
                f"variants[{number}]", variant.program, "is not a Program (see load_program)"
            )
        named.append(variant)
    first = named[0].program
    for variant in named[1:]:
        for field in ("currency", "timezone"):
            if getattr(variant.program, field) != getattr(first, field):
                raise InvalidInput(
                    field,
                    getattr(variant.program, field),
                    f"differs from {named[0].name}'s {getattr(first, field)}: variants "
                    "compared month by month must share it",
                )
    return named


def _partitions(partitions: int | None, workers: int, cluster: Any) -> int:
    if partitions is None:
        if cluster is None:
            return workers
        threads: int = sum(cluster.nthreads().values())
        return 2 * max(1, threads)
    if isinstance(partitions, bool) or not isinstance(partitions, int) or partitions < 1:
        raise InvalidInput("partitions", partitions, "must be a whole number, at least 1")
    return partitions


@contextmanager
def _opened(history: str | Path | Iterable[str | bytes]) -> Iterator[Iterable[str | bytes]]:
    if isinstance(history, str | Path):
        with Path(history).open("rb") as lines:
            yield lines
    else:
        yield history


def _history(history: object) -> str | None:
    """The path of ``history`` if it is a file's (``None`` for lines); anything else is
    refused."""
    if isinstance(history, str | Path):
        if not Path(history).is_file():
            raise InvalidInput("history", str(history), "is not a file")
        return str(history)
    if isinstance(history, bytes | bytearray) or not isinstance(history, Iterable):
        raise InvalidInput("history", history, "is not a file's path, nor its lines")
    return None


def _partitioned(
    split: Split,
    last: datetime,
    programs: list[Program],
    policy: Policy,
    workers: int,
    cluster: Any,
) -> PartitionResult:
    """Run the partitions of ``split`` (whose last step is at ``last``), and add up their
    results in partition order."""
    until = period_end(last, programs[0].tz)
    if cluster is not None:
        results = _on_cluster(cluster, programs, split.files, policy, until)
    else:
        results = _on_processes(workers, programs, split.files, policy, until)
    merged = results[0]
    for other in results[1:]:
        merged.add(other)
    merged.first, merged.last = split.period.first, split.period.last
    return merged


def run_file(
    programs: list[Program], path: str, policy: Policy, until: datetime, part: tuple[int, int]
) -> PartitionResult:
    """Run one partition from its file (in a worker process)."""
    with Path(path).open("rb") as lines:
        return run_partition(programs, lines, policy, until, part)


def run_bytes(
    programs: list[Program], data: bytes, policy: Policy, until: datetime, part: tuple[int, int]
) -> PartitionResult:
    """Run one partition from its lines (on a Dask worker, which may not see the file)."""
    return run_partition(programs, data.splitlines(), policy, until, part)


def _on_processes(
    workers: int, programs: list[Program], files: Sequence[Path], policy: Policy, until: datetime
) -> list[PartitionResult]:
    count = len(files)
    # Forking a process with one thread is safe, quick, and needs no `if __name__ ==
    # "__main__"` guard in the caller's script; with other threads running, spawn.
    alone = sys.platform == "linux" and threading.active_count() == 1
    context = multiprocessing.get_context("fork" if alone else "spawn")
    # More processes than cores only compete for them: the parts then queue.
    processes = min(workers, count, usable_cores())
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        futures = [
            pool.submit(run_file, programs, str(path), policy, until, (number, count))
            for number, path in enumerate(files)
        ]
        return [future.result() for future in futures]


def usable_cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1  # pragma: no cover - not Linux


def _client(cluster: Any) -> Any:
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - the dask extra is installed in the tests
        raise InvalidInput(
            "cluster", str(cluster), "needs the dask extra: pip install 'loyalty[dask]'"
        ) from None
    if isinstance(cluster, Client):
        return cluster
    try:
        return Client(cluster)  # type: ignore[no-untyped-call]
    except Exception as error:  # a bad address, no scheduler there, something else answering
        reason = f"{type(error).__name__}: {str(error)[:300]}"
        raise InvalidInput(
            "cluster", str(cluster), f"is not a Dask scheduler reached: {reason}"
        ) from None


def _on_cluster(
    client: Any, programs: list[Program], files: Sequence[Path], policy: Policy, until: datetime
) -> list[PartitionResult]:
    """Each partition's lines go to the cluster as a task's data, a few at a time (the
    workers need not see this machine's files; memory stays bounded)."""
    from distributed import wait

    count = len(files)
    window = 2 * max(1, sum(client.nthreads().values()))
    futures: list[Any] = []
    for number, path in enumerate(files):
        running = [future for future in futures if not future.done()]
        if len(running) >= window:
            wait(running, return_when="FIRST_COMPLETED")  # type: ignore[no-untyped-call]
        futures.append(
            client.submit(
                run_bytes, programs, path.read_bytes(), policy, until, (number, count), pure=False
            )
        )
    return list(client.gather(futures))
