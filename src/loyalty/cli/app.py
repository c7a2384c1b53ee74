"""The command's application: its commands, and what becomes of an error.

Every command is registered by its module's ``register(app)``. An error a user can
cause (a missing or undecodable file, bad JSON, an invalid program or event, a
refused operation, a database that refuses) is one message on stderr and exit code
1, never a traceback; ``--debug`` anywhere on the line (or ``LOYALTY_DEBUG=1``) shows
the traceback of any error. A usage error (an unknown option, an option that takes
one value given twice: see :mod:`loyalty.cli.options`) exits with 2, anything else
with 70 (a bug). With ``--json``, stdout holds one JSON document even on an error.
"""

from __future__ import annotations

import contextlib
import os
import traceback
from typing import Annotated

import typer
from typer.main import get_command

from loyalty.cli import (
    generate,
    members,
    operations,
    quote,
    replay,
    scenarios,
    schema,
    simulate,
    validate,
)
from loyalty.cli.common import failure_of
from loyalty.cli.options import repeated_option
from loyalty.cli.output import errors, json_written, print_json_error

__all__ = ["app", "run"]

app = typer.Typer(
    name="loyalty",
    help="Validate, quote, replay, test, simulate and operate loyalty programs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an error.")
    ] = False,
) -> None:
    """Validate, quote, replay, test, simulate and operate loyalty programs."""


for _module in (
    validate,
    schema,
    quote,
    replay,
    scenarios,
    members,
    operations,
    generate,
    simulate,
):
    _module.register(app)

INTERNAL = 70
"""The exit code of an unexpected error (a bug): EX_SOFTWARE."""

USAGE = 2
"""The exit code of a usage error (an unknown option, a missing argument)."""

_USAGE_ERROR = typer.TyperException
"""The base of the usage errors Typer raises (an unknown option, a bad value)."""


def run(argv: list[str]) -> int:
    """Run ``argv`` and return the exit code (see :func:`loyalty.cli.main`).

    With ``--json``, stdout holds one JSON document whatever happens: the command's, or
    ``{"error": {"kind", "message", "exit_code"}}`` when it fails before writing it."""
    options = argv[: argv.index("--")] if "--" in argv else argv
    debug = "--debug" in options or os.environ.get("LOYALTY_DEBUG") == "1"
    if "--debug" in options:  # an option of the command as a whole, wherever it is given
        argv = ["--debug", *(word for word in options if word != "--debug"), *argv[len(options) :]]
    wants_json = _json_on_stdout(options)
    json_written(reset=True)
    try:
        repeated = repeated_option(get_command(app), argv)
        if repeated is not None:
            errors().print(repeated, markup=False, highlight=False, soft_wrap=True)
            return _failed(wants_json, "usage", repeated.rsplit("Error: ", 1)[-1], USAGE)
        done = app(args=argv, prog_name="loyalty", standalone_mode=False)
    except SystemExit as exited:  # a broken pipe on stdout
        return exited.code if isinstance(exited.code, int) else (0 if exited.code is None else 1)
    except KeyboardInterrupt:
        return 130
    except typer.Abort:  # a prompt with no answer
        errors().print("aborted", markup=False, highlight=False)
        return 1
    except _USAGE_ERROR as error:
        show = getattr(error, "show", None)
        if callable(show):
            show()
        code = getattr(error, "exit_code", USAGE)
        return _failed(wants_json, "usage", error.format_message(), code)
    except Exception as error:
        if debug:
            traceback.print_exc()
        failure = failure_of(error)
        if failure is not None:
            errors().print(failure.message, markup=False, highlight=False, soft_wrap=True)
            return _failed(wants_json, "input", failure.message, failure.code)
        message = f"internal error: {type(error).__name__}: {error}"
        if not debug:
            errors().print(
                f"{message}\n(this is a bug in loyalty; run with --debug for the traceback)",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        return _failed(wants_json, "internal", message, INTERNAL)
    return done if isinstance(done, int) else 0


_JSON_TO_A_FILE = frozenset({"simulate"})
"""Commands whose ``--json`` names a file to write: stdout holds JSON only with ``-``."""


def _json_on_stdout(options: list[str]) -> bool:
    """Whether the command line asks for JSON on stdout (``--json``; for a command whose
    ``--json`` takes a file, ``--json -``)."""
    command = next((word for word in options if not word.startswith("-")), None)
    if command not in _JSON_TO_A_FILE:
        return "--json" in options
    for at, word in enumerate(options):
        if word == "--json":
            return options[at + 1 : at + 2] == ["-"]
        if word.startswith("--json="):
            return word == "--json=-"
    return False


def _failed(wants_json: bool, kind: str, message: str, code: int) -> int:
    """Exit ``code``; with ``--json``, the error's document on stdout unless the command
    already wrote its own."""
    if wants_json and not json_written():
        with contextlib.suppress(OSError):  # stdout closed (a pipe's reader gone)
            print_json_error(kind, message, code)
    return code
