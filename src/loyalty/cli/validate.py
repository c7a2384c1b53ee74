"""``loyalty validate``: check program files, every problem at once, with its line.

Each file is checked whatever became of the others: a file that is missing, a
directory, not UTF-8, not YAML/TOML/JSON or not a mapping is one error of that
file. An error or a warning is one line, ``FILE:LINE: error: PATH: MESSAGE``
(see :mod:`loyalty.cli.findings`). Exit codes: 0 every file valid (warnings
allowed), 1 any error, 2 warnings with ``--strict`` and no error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from loyalty.cli.common import read_program
from loyalty.cli.findings import Finding, findings
from loyalty.cli.output import out, print_json, to_json
from loyalty.errors import ConfigurationError
from loyalty.program.loader import load_program, program_warnings
from loyalty.program.locate import file_locator
from loyalty.program.model import Program

__all__ = ["FileReport", "check_file", "register"]

OK, ERRORS, WARNINGS = 0, 1, 2
"""The exit codes: every file valid; an error; warnings with ``--strict``."""


@dataclass(frozen=True, slots=True)
class FileReport:
    """What ``validate`` found in one file."""

    file: str
    program: str | None
    """The program's id, when the file is valid."""
    errors: list[Finding] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors


def check_file(path: Path, previous: Program | None = None) -> FileReport:
    """Validate the program file ``path``: its errors, or its warnings (``previous``:
    the version it replaces, for changes of the tier ladder)."""
    try:
        program = load_program(path)
    except ConfigurationError as error:
        return FileReport(str(path), None, errors=findings(error.problems, path, "error"))
    advice = program_warnings(program, previous=previous)
    locator = file_locator(path) if advice else None
    return FileReport(str(path), program.id, warnings=findings(advice, path, "warning", locator))


def exit_code(reports: list[FileReport], strict: bool) -> int:
    """1 if any file has an error; else 2 if ``strict`` and any has a warning; else 0."""
    if any(report.errors for report in reports):
        return ERRORS
    if strict and any(report.warnings for report in reports):
        return WARNINGS
    return OK


def summary(reports: list[FileReport], strict: bool) -> dict[str, Any]:
    """The counts of a run, and its exit code."""
    return {
        "files": len(reports),
        "valid": sum(1 for report in reports if report.valid),
        "invalid": sum(1 for report in reports if not report.valid),
        "errors": sum(len(report.errors) for report in reports),
        "warnings": sum(len(report.warnings) for report in reports),
        "strict": strict,
        "exit_code": exit_code(reports, strict),
    }


def document(reports: list[FileReport], strict: bool) -> dict[str, Any]:
    """The ``--json`` document: each file with its errors and warnings, and the summary."""

    def items(found: list[Finding]) -> list[dict[str, Any]]:
        return [
            {
                "path": item.path,
                "line": item.line,
                "message": item.message,
                "value": to_json(item.value),
            }
            for item in found
        ]

    return {
        "files": [
            {
                "file": report.file,
                "valid": report.valid,
                "program": report.program,
                "errors": items(report.errors),
                "warnings": items(report.warnings),
            }
            for report in reports
        ],
        "summary": summary(reports, strict),
    }


def _print(reports: list[FileReport], strict: bool) -> None:
    console = out()
    for report in reports:
        for item in [*report.errors, *report.warnings]:
            style = "red" if item.severity == "error" else "yellow"
            console.print(Text(str(item), style=style))
        if report.valid:
            warned = f", {len(report.warnings)} warning(s)" if report.warnings else ""
            console.print(Text(f"{report.file}: ok (program {report.program!r}{warned})", "green"))
    counts = summary(reports, strict)
    line = (
        f"{counts['files']} file(s) checked: {counts['valid']} valid, "
        f"{counts['invalid']} invalid; {counts['errors']} error(s), "
        f"{counts['warnings']} warning(s)"
    )
    if counts["exit_code"] == WARNINGS:
        line += " (--strict: warnings fail)"
    style = {OK: "green", ERRORS: "red", WARNINGS: "yellow"}[counts["exit_code"]]
    console.print(Text(line, style=f"bold {style}"))


def validate(
    programs: Annotated[
        list[Path],
        typer.Argument(
            help="Program files (YAML, TOML or JSON).", metavar="PROGRAM", readable=False
        ),
    ],
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit with 2 when there are warnings.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON document (nothing else on stdout).")
    ] = False,
    previous: Annotated[
        Path | None,
        typer.Option(
            "--previous",
            metavar="OLD",
            readable=False,
            help="The version these programs replace: warn about tiers dropped or renamed.",
        ),
    ] = None,
) -> None:
    """Check program files: every error and warning with its file, line and path.

    Exit codes: 0 valid (warnings allowed), 1 any error, 2 warnings with --strict.
    """
    before = read_program(previous, "--previous") if previous is not None else None
    reports = [check_file(path, before) for path in programs]
    if as_json:
        print_json(document(reports, strict))
    else:
        _print(reports, strict)
    raise typer.Exit(exit_code(reports, strict))


def register(app: typer.Typer) -> None:
    """Add ``validate`` to ``app``."""
    app.command()(validate)
