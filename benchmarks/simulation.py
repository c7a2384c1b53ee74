"""Simulation benchmarks: test-and-learn over a generated order history.

A history is generated first (``loyalty.simulation.generate``, untimed, into a
temporary directory): ``MEMBERS`` members over 12 months at 10 orders a member-year.
Then, each in a fresh process (``python -m loyalty simulate``, so that start-up,
reading, splitting, the final advance, the journals read into the books, the JSON
and the report all count, and so that peak memory is the simulation's own):

*One core* (``simulation.one_core.*``): the cosmetics-club program alone,
``--workers 1``: order events per second per core, against the design's goal of
:data:`GOAL_PER_CORE`; and the same through ``benchmarks.engine``'s hand-written
bookkeeping would be the floor (see ``engine.baseline``).

*Compared, all cores* (``simulation.compare.*``): cosmetics-club against its variant
``examples/simulation/cosmetics-club-b.yaml``, with ``--workers 1`` and then
``--workers 2`` and the HTML report: wall seconds, the speed-up from 1 to 2 workers,
and the time the design's case (1,000,000 orders for 100,000 members, two variants,
report included: :data:`GOAL_SECONDS`) would take at the measured rate, scaled by
orders (members are independent: the work grows with the orders). The outputs of
the 1- and 2-worker runs must be the same bytes, or the run fails.

Peak memory (``simulation.*.peak_rss_mb``): the largest resident set of any one
process of the run (the command or a worker), from ``getrusage(RUSAGE_CHILDREN)`` in
a fresh parent of the command (the benchmarks' own process has run other modules'
processes, whose peaks that call would count too).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import Result, Settings, log
from loyalty.simulation.generate import HistorySettings, write_history

__all__ = ["run"]

ROOT = Path(__file__).resolve().parent.parent
PROGRAM_A = ROOT / "examples/programs/cosmetics-club.yaml"
PROGRAM_B = ROOT / "examples/simulation/cosmetics-club-b.yaml"
MEMBERS = 5_000
QUICK_MEMBERS = 500
GOAL_PER_CORE = 50_000.0
GOAL_SECONDS = 60.0
DESIGN_ORDERS = 1_000_000


_PEAK = (
    "import resource, subprocess, sys\n"
    "done = subprocess.run(sys.argv[1:], check=False)\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(peak, file=sys.stderr)\n"
    "sys.exit(done.returncode)\n"
)
"""Runs a command and prints, last on stderr, the largest resident set (KiB) of any process
it ran: a fresh parent, so no process of an earlier benchmark counts."""


def _simulate(history: Path, *extra: str) -> tuple[float, int, bytes]:
    """Run ``loyalty simulate`` in a fresh process: wall seconds, the peak resident set
    (KiB) of any process it ran (the command or a worker), and the JSON it wrote."""
    command = [sys.executable, "-m", "loyalty", "simulate", str(PROGRAM_A), str(history),
               "--json", "-", *extra]
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _PEAK, *command], capture_output=True,
                          check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.decode()[-2000:]}")
    peak = int(done.stderr.decode().strip().splitlines()[-1])
    return seconds, peak, done.stdout


def run(settings: Settings) -> list[Result]:
    members = QUICK_MEMBERS if settings.quick else MEMBERS
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="loyalty-bench-simulation-") as directory:
        folder = Path(directory)
        history = folder / "orders.jsonl"
        log(f"simulation: generating {members:,} members x 12 months")
        start = time.perf_counter()
        with history.open("w", encoding="utf-8") as stream:
            counts = write_history(HistorySettings(members=members, months=12, seed=1), stream)
        generated = time.perf_counter() - start
        orders = counts.orders
        results.append(Result(
            "simulation.history.orders", orders, "orders",
            f"{members:,} members over 12 months (seed 1): {counts.lines:,} lines, "
            f"{counts.refunds:,} refunds, {counts.delays:,} delays",
        ))
        results.append(Result(
            "simulation.generate.lines_per_s", counts.lines / generated, "lines/s",
            "loyalty.simulation.generate.write_history into a file", higher_is_better=True,
        ))

        log("simulation: one program, one worker")
        seconds, peak, _ = _simulate(history, "--workers", "1")
        results += [
            Result(
                "simulation.one_core.order_events_per_s", orders / seconds, "events/s",
                "loyalty simulate cosmetics-club ORDERS --workers 1 --json -: order events "
                "per second of the whole command (start-up, the final advance, the books)",
                goal=GOAL_PER_CORE, higher_is_better=True,
            ),
            Result("simulation.one_core.seconds", seconds, "s", "wall time of that command"),
            Result("simulation.one_core.peak_rss_mb", peak / 1024, "MiB",
                   "largest resident set of the command"),
        ]

        timings: dict[int, float] = {}
        outputs: dict[int, bytes] = {}
        for workers in (1, 2):
            log(f"simulation: A against B, {workers} worker(s), with the report")
            report = folder / f"report-{workers}.html"
            seconds, peak, output = _simulate(
                history, "--compare", str(PROGRAM_B), "--workers", str(workers),
                "--report", str(report),
            )
            timings[workers], outputs[workers] = seconds, output
            results += [
                Result(f"simulation.compare.workers_{workers}.seconds", seconds, "s",
                       f"loyalty simulate A ORDERS --compare B --workers {workers} --report: "
                       f"{orders:,} orders, two variants, wall time"),
                Result(f"simulation.compare.workers_{workers}.peak_rss_mb", peak / 1024, "MiB",
                       "largest resident set of any one process of the run"),
            ]
        if outputs[1] != outputs[2]:
            raise RuntimeError("the 1- and 2-worker simulations gave different figures")
        projected = timings[2] * DESIGN_ORDERS / orders
        results += [
            Result("simulation.compare.speedup_1_to_2", timings[1] / timings[2], "x",
                   "wall time with 1 worker over wall time with 2 (same run, same output)",
                   higher_is_better=True),
            Result("simulation.compare.design_case_seconds", projected, "s",
                   f"1,000,000 orders, two variants, 2 workers, report included: the measured "
                   f"2-worker time scaled by orders ({DESIGN_ORDERS:,} / {orders:,}); an "
                   f"estimate, not a run", goal=GOAL_SECONDS),
        ]
    return results
