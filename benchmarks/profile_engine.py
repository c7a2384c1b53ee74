"""Profile order events in the pure engine: where ``complete_order`` spends its time.

    python -m benchmarks.profile_engine [N] [--baseline] [--sort tottime] [--top 25]

Replays the first ``N`` events (default 5,000) of the stream of
:mod:`benchmarks.engine` (200 members, the same program, carts loaded
beforehand) on fresh in-memory accounts under :mod:`cProfile`, and prints the
top lines by internal time. ``--baseline`` profiles the hand-written baseline
instead. Compare the output before and after a change; profiles are noisy on a
loaded machine, so look at the shares, not the absolute times.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from collections.abc import Callable, Sequence

import loyalty
from benchmarks import baseline_engine, engine

__all__ = ["main"]

MEMBERS = 200


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_engine",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("events", nargs="?", type=int, default=5000,
                        help="order events to profile (default %(default)s)")
    parser.add_argument("--baseline", action="store_true",
                        help="profile benchmarks.baseline_engine instead of the library")
    parser.add_argument("--sort", default="tottime", help="pstats sort key (default %(default)s)")
    parser.add_argument("--top", type=int, default=25, help="lines to print (default %(default)s)")
    args = parser.parse_args(argv)

    mapping = engine.program_mapping()
    events = engine.stream(MEMBERS)
    if args.baseline:
        replay = engine.baseline_replay(baseline_engine.prepare(mapping), events, MEMBERS)
    else:
        replay = engine.library_replay(loyalty.load_program(mapping), events, MEMBERS)
    replay.sample(min(200, args.events))  # warm-up, then start again on fresh accounts
    replay.books = []
    profiler = cProfile.Profile()

    def profiled(run: Callable[[], object]) -> float:
        profiler.runcall(run)  # only the events: opening fresh accounts is not profiled
        return 0.0

    replay.sample(args.events, profiled)
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)
    what = "baseline" if args.baseline else "library"
    print(f"{args.events} order events ({what}, {MEMBERS} members, "
          f"stream of {len(events)} replayed on fresh accounts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
