"""The command's application: its commands, and what becomes of an error.

Every command is registered by its module's ``register(app)``. An error a user can
cause (a missing or undecodable file, bad JSON, an invalid program or event, a
refused operation) is one message on stderr and exit code 1, never a traceback;
``--debug`` (or ``LOYALTY_DEBUG=1``) shows the traceback of any error.
"""

from __future__ import annotations

import os
import traceback
from typing import Annotated

import typer

from loyalty.cli import members, operations, quote, replay, scenarios, schema, validate
from loyalty.cli.common import failure_of
from loyalty.cli.output import errors

__all__ = ["app", "run"]

app = typer.Typer(
    name="loyalty",
    help="Validate, quote, replay, test and operate loyalty programs.",
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
    """Validate, quote, replay, test and operate loyalty programs."""


for _module in (validate, schema, quote, replay, scenarios, members, operations):
    _module.register(app)

INTERNAL = 70
"""The exit code of an unexpected error (a bug): EX_SOFTWARE."""


def run(argv: list[str]) -> int:
    """Run ``argv`` and return the exit code (see :func:`loyalty.cli.main`)."""
    debug = "--debug" in argv or os.environ.get("LOYALTY_DEBUG") == "1"
    try:
        app(args=argv, prog_name="loyalty")
    except SystemExit as done:  # Typer's own exit: usage errors, typer.Exit
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        if debug:
            traceback.print_exc()
        failure = failure_of(error)
        if failure is not None:
            errors().print(failure.message, markup=False, highlight=False, soft_wrap=True)
            return failure.code
        if not debug:
            errors().print(
                f"internal error: {type(error).__name__}: {error}\n"
                "(this is a bug in loyalty; run with --debug for the traceback)",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        return INTERNAL
    return 0
