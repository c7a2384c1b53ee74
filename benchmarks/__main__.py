"""Run the benchmarks, print a table and write ``benchmarks/results.json``.

    python -m benchmarks                 # every module, writes results.json
    python -m benchmarks ledger --quick  # some modules, small sizes, writes nothing
    python -m benchmarks --output out.json --strict

Without ``--output``, results.json is written only by a full run of every module,
so a partial or quick run never replaces the reference figures. ``--strict``
exits with status 1 if a figure misses its goal.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import loyalty
from benchmarks.harness import Result, Settings, log

PACKAGE = Path(__file__).resolve().parent
RESULTS = PACKAGE / "results.json"
SCHEMA_VERSION = 1
DEFAULTS = Settings()


def main(argv: Sequence[str] | None = None) -> int:
    available = discover()
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", metavar="module",
                        help=f"benchmark modules to run (default: all of {', '.join(available)})")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--rounds", type=int, default=DEFAULTS.rounds,
                        help="interleaved rounds per comparison (default %(default)s)")
    parser.add_argument("--sample-seconds", type=float, default=DEFAULTS.sample_seconds,
                        help="target duration of one timed sample (default %(default)s)")
    parser.add_argument("--output", type=Path, help=f"where to write the JSON (default {RESULTS} "
                                                    "for a full run, nothing otherwise)")
    parser.add_argument("--no-write", action="store_true", help="do not write any JSON")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a goal is missed")
    args = parser.parse_args(argv)

    unknown = sorted(set(args.modules) - set(available))
    if unknown:
        parser.error(f"unknown module(s) {', '.join(unknown)}; choose from {', '.join(available)}")
    modules = args.modules or available
    settings = Settings(quick=args.quick, rounds=args.rounds, sample_seconds=args.sample_seconds)

    started = time.perf_counter()
    results: list[Result] = []
    for name in modules:
        module_started = time.perf_counter()
        results += run_module(name, settings)
        log(f"{name}: done in {time.perf_counter() - module_started:.1f} s")
    elapsed = time.perf_counter() - started

    print(format_table(results))
    output = args.output
    if output is None and not args.no_write and not args.quick and modules == available:
        output = RESULTS
    if output is not None and not args.no_write:
        document = report(results, settings, modules, elapsed)
        output.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n",
                          encoding="utf-8")
        log(f"wrote {output}")
    log(f"total {elapsed:.1f} s")
    missed = [result.name for result in results if result.met is False]
    if missed:
        log(f"goal missed: {', '.join(missed)}")
    return 1 if missed and args.strict else 0


def discover() -> list[str]:
    """The modules of this package that define ``run``, by name."""
    names = []
    for info in pkgutil.iter_modules([str(PACKAGE)]):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__package__ or 'benchmarks'}.{info.name}")
        if callable(getattr(module, "run", None)):
            names.append(info.name)
    return sorted(names)


def run_module(name: str, settings: Settings) -> list[Result]:
    module = importlib.import_module(f"{__package__ or 'benchmarks'}.{name}")
    results: list[Result] = module.run(settings)
    seen: set[str] = set()
    for result in results:
        if not result.name.startswith(f"{name}."):
            raise ValueError(f"{name}: result {result.name!r} must start with {name + '.'!r}")
        if result.name in seen:
            raise ValueError(f"{name}: result {result.name!r} reported twice")
        seen.add(result.name)
    return results


def format_table(results: Sequence[Result]) -> str:
    header = ("benchmark", "value", "unit", "goal", "about")
    rows = [header] + [
        (
            result.name,
            _number(result.value),
            result.unit,
            "" if result.goal is None
            else f"{'>=' if result.higher_is_better else '<='} {_number(result.goal)} "
            + ("ok" if result.met else "MISSED"),
            result.about,
        )
        for result in results
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    lines = []
    for index, row in enumerate(rows):
        cells = [row[0].ljust(widths[0]), row[1].rjust(widths[1]), row[2].ljust(widths[2]),
                 row[3].ljust(widths[3]), row[4]]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in [*widths, len(header[4])]))
    return "\n".join(lines)


def _number(value: float) -> str:
    if float(value).is_integer() and abs(value) >= 1:
        return f"{int(value):,}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"


def report(results: Sequence[Result], settings: Settings, modules: Sequence[str],
           elapsed: float) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "duration_seconds": round(elapsed, 1),
        "modules": list(modules),
        "settings": {
            "quick": settings.quick,
            "rounds": settings.rounds,
            "sample_seconds": settings.sample_seconds,
        },
        "loyalty": {"version": loyalty.__version__, **_git()},
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "compiler": platform.python_compiler(),
            "build": list(platform.python_build()),
            "executable": sys.executable,
        },
        "machine": {
            "system": platform.system(),
            "release": platform.release(),
            "platform": platform.platform(),
            "architecture": platform.machine(),
            "processor": _processor(),
            "cpu_count": os.cpu_count(),
            "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count(),
        },
        "results": {
            result.name: {
                "value": _rounded(result.value),
                "unit": result.unit,
                **({"goal": result.goal, "met": result.met} if result.goal is not None else {}),
                **({"higher_is_better": True} if result.higher_is_better else {}),
                **({"about": result.about} if result.about else {}),
            }
            for result in results
        },
    }


def _rounded(value: float) -> float:
    return value if isinstance(value, int) else float(f"{value:.6g}")


def _processor() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor()


def _git() -> dict[str, Any]:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=PACKAGE, capture_output=True, text=True,
                              check=True, timeout=10).stdout.strip()

    try:
        return {"commit": git("rev-parse", "HEAD"),
                "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}
    except (OSError, subprocess.SubprocessError):
        return {}


if __name__ == "__main__":
    sys.exit(main())
