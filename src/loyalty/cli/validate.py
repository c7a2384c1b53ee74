"""``loyalty validate``: check program files, every problem at once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from loyalty.cli.common import read_program
from loyalty.cli.output import out

__all__ = ["register"]


def validate(
    programs: Annotated[
        list[Path],
        typer.Argument(help="Program files (YAML, TOML or JSON).", metavar="PROGRAM..."),
    ],
) -> None:
    """Check program files: every error with its path."""
    for path in programs:
        program = read_program(path)
        out().print(f"{path}: ok (program {program.id!r})")


def register(app: typer.Typer) -> None:
    app.command()(validate)
