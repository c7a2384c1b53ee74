"""``loyalty generate-orders``: write a reproducible synthetic order history (the steps
of a replay, one JSON object a line) for simulating programs over it.

The same arguments give the same file, byte for byte: everything is drawn from
``--seed``, and the start is 2026-01-01 unless ``--start`` says otherwise (the clock
is never read). A one-line summary goes to stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from loyalty.cli.common import Failure, parse_at, read_program
from loyalty.cli.output import errors
from loyalty.dates import zone
from loyalty.errors import InvalidInput, shown
from loyalty.simulation.generate import (
    DEFAULT_CURRENCY,
    DEFAULT_START,
    DEFAULT_TIMEZONE,
    HistoryCounts,
    HistorySettings,
    write_history,
)

__all__ = ["generate_orders", "register"]

STDOUT = "-"
"""The ``--output`` that writes standard output."""


def generate_orders(
    members: Annotated[
        int, typer.Option("--members", metavar="N", help="How many members (m000001, m000002...).")
    ],
    months: Annotated[
        int,
        typer.Option(
            "--months", metavar="M", help="How long the history is, in months (1 to 120)."
        ),
    ],
    seed: Annotated[
        int, typer.Option("--seed", metavar="S", help="The seed every draw comes from.")
    ],
    output: Annotated[
        str,
        typer.Option("--output", "-o", metavar="FILE", help="The file to write; '-': stdout."),
    ],
    start: Annotated[
        str | None,
        typer.Option(
            "--start",
            metavar="DATE",
            help="The first day (its midnight in the timezone), or an instant with an offset "
            f"[default: {DEFAULT_START.isoformat()}].",
        ),
    ] = None,
    currency: Annotated[
        str | None,
        typer.Option(
            "--currency", metavar="CODE", help=f"The carts' currency [default: {DEFAULT_CURRENCY}]."
        ),
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone",
            metavar="ZONE",
            help=f"The IANA timezone of the times [default: {DEFAULT_TIMEZONE}].",
        ),
    ] = None,
    program: Annotated[
        Path | None,
        typer.Option(
            "--program",
            metavar="PROGRAM",
            help="Take the currency and timezone from this program file.",
            readable=False,
        ),
    ] = None,
    orders_per_year: Annotated[
        float,
        typer.Option(
            "--orders-per-year", metavar="RATE", help="Average orders of a member in a year."
        ),
    ] = 10.0,  # float-ok: a rate of orders
) -> None:
    """Write a synthetic order history (JSON lines for replay) to simulate programs over."""
    if program is not None:
        given = next(
            (
                name
                for name, value in (("--currency", currency), ("--timezone", timezone))
                if value is not None
            ),
            None,
        )
        if given is not None:
            raise Failure(f"{given}: the program gives it; leave out {given} or --program", 2)
        chosen = read_program(program, "--program")
        currency, timezone = chosen.currency, chosen.timezone
    settings = _settings(
        members,
        months,
        seed,
        start,
        DEFAULT_CURRENCY if currency is None else currency,
        DEFAULT_TIMEZONE if timezone is None else timezone,
        orders_per_year,
    )
    if output == STDOUT:
        counts = write_history(settings, sys.stdout)
        sys.stdout.flush()
    else:
        counts = _write_whole(Path(output), settings)
    errors().print(
        _summary(counts, "stdout" if output == STDOUT else output),
        markup=False,
        highlight=False,
        soft_wrap=True,
    )


def _write_whole(path: Path, settings: HistorySettings) -> HistoryCounts:
    """Write the history to ``path``. A regular file (or a new one) is written beside it
    and moved over it when whole: a failure leaves an existing file as it was, and no part
    of a history. Anything else (a device, a pipe) is written to as it is."""
    try:
        if path.exists() and not path.is_file():
            with path.open("w", encoding="utf-8", newline="\n") as handle:
                return write_history(settings, handle)
        partial = path.with_name(f".{path.name}.partial")
        try:
            with partial.open("w", encoding="utf-8", newline="\n") as handle:
                counts = write_history(settings, handle)
            partial.replace(path)
        finally:
            partial.unlink(missing_ok=True)
    except FileNotFoundError:
        raise Failure(f"{path}: no such file or directory (the directory must exist)") from None
    except OSError as error:
        raise Failure(f"{path}: cannot write the history: {error.strerror or error}") from None
    return counts


def _settings(
    members: int,
    months: int,
    seed: int,
    start: str | None,
    currency: str,
    timezone: str,
    orders_per_year: float,  # float-ok: a rate of orders
) -> HistorySettings:
    """The settings of the options; a bad value is a :class:`Failure` naming its option."""
    try:
        zone(timezone)
        instant = parse_at(start, timezone, "--start")
        return HistorySettings(
            members=members,
            months=months,
            seed=seed,
            start=DEFAULT_START if instant is None else instant,
            currency=currency,
            timezone=timezone,
            orders_per_year=orders_per_year,
        )
    except InvalidInput as error:
        option = "--" + error.field.replace("_", "-")
        raise Failure(f"{option}: {shown(error.value)} {error.reason}") from None


def _summary(counts: HistoryCounts, where: str) -> str:
    return (
        f"{where}: {counts.lines:,} lines: {counts.members:,} members, {counts.orders:,} orders, "
        f"{counts.refunds:,} refunds, {counts.delays:,} shipment delays"
    )


def register(app: typer.Typer) -> None:
    app.command("generate-orders")(generate_orders)
