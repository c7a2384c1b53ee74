"""``loyalty schema``: the JSON Schema of a program file, for an editor's YAML
language server (see ``docs/cli.md`` for VS Code and JetBrains)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from loyalty.cli.common import Failure
from loyalty.cli.output import errors
from loyalty.program.schema import program_json_schema_text

__all__ = ["register"]


def schema(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Write the schema to FILE instead of stdout."
        ),
    ] = None,
) -> None:
    """Print the JSON Schema (draft 2020-12) of a program file, or write it to FILE."""
    text = program_json_schema_text()
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        raise Failure(f"{output}: cannot write: {error.strerror or error}") from None
    errors().print(f"wrote the program schema to {output}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``schema`` to ``app``."""
    app.command()(schema)
