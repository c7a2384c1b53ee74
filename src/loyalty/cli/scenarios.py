"""``loyalty test``: run scenario files (``*.loyalty.yaml``) and say what failed.

``loyalty test DIR`` runs every scenario file under ``DIR``; ``loyalty test FILE...``
runs those files; ``loyalty test PROGRAM SCENARIOS...`` runs the scenarios against
``PROGRAM`` instead of the program each names (a program change written in a
scenario still happens). A table says which scenarios passed; each failure then
shows the file and line of its step, expected against actual, and the engine's
own explanation. Exit 0 if all passed, 1 if any failed or a file has mistakes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from loyalty.cli.common import Failure, read_program
from loyalty.cli.output import out, print_json
from loyalty.errors import ConfigurationError
from loyalty.program.loader import load_program
from loyalty.program.model import Program
from loyalty.testing.scenarios import (
    Located,
    ScenarioError,
    ScenarioResult,
    find_files,
    run_file,
)
from loyalty.testing.scenarios.runner import PATTERN

__all__ = ["register"]


@dataclass
class _FileRun:
    path: Path
    results: list[ScenarioResult] = field(default_factory=list)
    problems: tuple[Located, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.problems and all(result.passed for result in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.path),
            "passed": self.passed,
            "problems": [
                {"line": p.line, "path": p.path, "message": p.message} for p in self.problems
            ],
            "scenarios": [result.to_dict() for result in self.results],
        }


def _is_scenario_file(path: Path) -> bool:
    return path.name.endswith(PATTERN.removeprefix("*"))


def _inputs(target: Path, scenarios: list[Path]) -> tuple[Program | None, list[Path]]:
    """The program given (if ``target`` is one) and the scenario files to run."""
    if not target.exists():
        raise Failure(f"{target}: no such file or directory")
    if target.is_dir() or _is_scenario_file(target):
        files = find_files([target, *scenarios])
        program = None
    else:
        if not scenarios:
            raise Failure(_alone(target))
        program = read_program(target)
        files = find_files(scenarios)
    if not files:
        raise Failure(f"no scenario files ({PATTERN}) under {target}")
    return program, files


def _alone(target: Path) -> str:
    """What to say of ``target`` given alone, neither a directory nor a scenario file:
    a program wants scenario files to run; anything else is neither, and why."""
    try:
        load_program(target)
    except ConfigurationError as error:
        first = error.problems[0] if error.problems else None
        said = (str(first) if first.path else first.message) if first else "it does not load"
        others = len(error.problems) - 1
        more = f"; and {others} more problem(s)" if others > 0 else ""
        return (
            f"{target} is neither a scenario file (its name does not end in "
            f"{PATTERN.removeprefix('*')}) nor a valid program: {said}{more}"
        )
    return (
        f"{target} is a program: give the scenario files to run against it "
        f"(loyalty test {target} SCENARIOS...), or a directory of {PATTERN} files"
    )


def run_scenarios(
    target: Annotated[
        Path,
        typer.Argument(
            help=f"A directory of scenario files ({PATTERN}), a scenario file, or a program "
            "to run the SCENARIOS against.",
            metavar="PROGRAM_OR_DIR",
            readable=False,
        ),
    ],
    scenarios: Annotated[
        list[Path] | None,
        typer.Argument(help="Scenario files or directories.", metavar="SCENARIOS", readable=False),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Run scenario files: a pass/fail table, and each failure with its line and why."""
    program, files = _inputs(target, list(scenarios or []))
    runs: list[_FileRun] = []
    for path in files:
        run = _FileRun(path)
        try:
            run.results = run_file(path, program)
        except ScenarioError as error:
            run.problems = error.problems
        runs.append(run)
    passed = all(run.passed for run in runs)
    if as_json:
        listed = [run.to_dict() for run in runs]
        print_json({"passed": passed, "summary": _summary(runs), "files": listed})
    else:
        _print(runs)
    if not passed:
        raise typer.Exit(1)


def _summary(runs: list[_FileRun]) -> dict[str, int]:
    results = [result for run in runs for result in run.results]
    return {
        "scenarios": len(results),
        "passed": sum(1 for result in results if result.passed),
        "failed": sum(1 for result in results if not result.passed),
        "broken_files": sum(1 for run in runs if run.problems),
    }


SCENARIO_WIDTH = 12
"""The narrowest the Scenario column gets before the table grows past the console's
width: the names wrap, the ``FILE:LINE`` of the Where column never does."""


def _print(runs: list[_FileRun]) -> None:
    console = out()
    table = Table(title="Scenarios", title_justify="left")
    table.add_column("Result", no_wrap=True, min_width=6)
    table.add_column("Scenario", overflow="fold", ratio=1, min_width=SCENARIO_WIDTH)
    table.add_column("Where", no_wrap=True)  # FILE:LINE stays whole: a link to the step
    table.add_column("Steps", justify="right", no_wrap=True)
    wheres = [""]
    for run in runs:
        if run.problems:
            wheres.append(str(run.path))
            table.add_row("[red]ERROR[/]", "(the file has mistakes)", escape(str(run.path)), "")
        for result in run.results:
            done = sum(1 for step in result.steps if step.passed)
            failed = result.failed_step
            where = f"{result.file}:{result.line}"
            if failed is not None:
                where = f"{result.file}:{failed.line} (step {failed.number})"
            wheres.append(where)
            mark = "[green]PASS[/]" if result.passed else "[red]FAIL[/]"
            table.add_row(mark, escape(result.name), escape(where), f"{done}/{len(result.steps)}")
    # borders (5), padding (2 a column), Result, the narrowest Scenario, Where, Steps
    needed = 5 + 8 + 6 + SCENARIO_WIDTH + max(len(where) for where in wheres) + 5
    console.print(table, width=max(console.width, needed), crop=False)
    for run in runs:
        if run.problems:
            console.print(f"\n{escape(str(run.path))}: the file has mistakes, nothing ran:")
            for problem in run.problems:
                console.print(f"  {escape(str(problem))}", markup=True)
        for result in run.results:
            if not result.passed:
                console.print()
                console.print(result.report(), markup=False)
    summary = _summary(runs)
    line = f"{summary['passed']} passed, {summary['failed']} failed"
    if summary["broken_files"]:
        line += f", {summary['broken_files']} file(s) with mistakes"
    console.print(f"\n{line}")


def register(app: typer.Typer) -> None:
    """Add ``loyalty test`` to ``app``."""
    app.command("test")(run_scenarios)
