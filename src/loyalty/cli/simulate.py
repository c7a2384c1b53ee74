"""``loyalty simulate``: replay an order history under a program, or two variants side
by side, and show what each would have cost and owed (see docs/simulation.md)."""

from __future__ import annotations

import importlib.util
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from loyalty.cli.common import Failure, read_program
from loyalty.cli.output import errors, out
from loyalty.money import MAX_AMOUNT
from loyalty.simulation import Policy, Variant, simulate
from loyalty.simulation.compare import figure
from loyalty.simulation.run import usable_cores

__all__ = ["register", "summary_table"]


def _chance(text: str, option: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise Failure(f"{option}: {text!r} is not a number between 0 and 1", 2) from None
    if not value.is_finite() or not 0 <= value <= 1:
        raise Failure(f"{option}: {text!r} is not a number between 0 and 1", 2)
    return value


def _point_value(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value <= 0:
        raise Failure(f"--point-value: {text!r} is not an amount of money above 0", 2)
    if value > MAX_AMOUNT:
        raise Failure(f"--point-value: {text!r} is beyond the largest amount of money taken", 2)
    return value


_ROWS: tuple[tuple[str, str], ...] = (
    ("orders", "orders"),
    ("orders with a reward", "orders_with_reward"),
    ("coupons used", "coupons_used"),
    ("points issued", "points.issued"),
    ("points redeemed", "points.redeemed"),
    ("points expired", "points.expired"),
    ("points reversed", "points.reversed"),
    ("breakage rate", "breakage_rate"),
    ("points outstanding at the end", "points.outstanding"),
    ("liability at the end (all)", "liability.total"),
    ("loyalty cost", "cost.total"),
    ("net revenue", "sales.net"),
)


def _shown(value: Any) -> str:
    if isinstance(value, int):
        return f"{value:,}"
    return f"{Decimal(value):,}"


def summary_table(document: dict[str, Any]) -> Table:
    """The totals of each variant (and their difference) as a Rich table."""
    variants = document["variants"]
    table = Table(title=f"Simulated {document['history']['orders']:,} orders "
                  f"({document['history']['first']} to {document['history']['last']})")
    table.add_column("figure")
    for variant in variants:
        table.add_column(f"{variant['name']}: {variant['program']['id']}", justify="right")
    compared = document.get("difference")
    if compared:
        table.add_column("B - A", justify="right")
    for label, path in _ROWS:
        cells = [_shown(figure(variant["total"], path)) for variant in variants]
        if compared:
            gap = figure(compared["total"], path)
            cells.append(("+" if Decimal(gap) > 0 else "") + _shown(gap))
        table.add_row(label, *cells)
    return table


def simulate_command(
    program: Annotated[Path, typer.Argument(help="The program file (A).", metavar="PROGRAM")],
    orders: Annotated[
        Path, typer.Argument(help="The history: steps, one JSON object a line.", metavar="ORDERS")
    ],
    compare: Annotated[
        Path | None,
        typer.Option("--compare", help="A second program (B) to compare with.", metavar="FILE"),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Write the HTML report here.", metavar="FILE.html"),
    ] = None,
    json_file: Annotated[
        Path | None,
        typer.Option(
            "--json", help="Write the figures as JSON here ('-': stdout).", metavar="FILE"
        ),
    ] = None,
    csv_dir: Annotated[
        Path | None,
        typer.Option("--csv", help="Write months.csv into this directory.", metavar="DIR"),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Processes to run on (default: every core)."),
    ] = None,
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster", help="A Dask scheduler (tcp://host:8786), instead of processes.",
            metavar="ADDRESS",
        ),
    ] = None,
    seed: Annotated[
        int,
        typer.Option(
            "--seed", min=0, max=(1 << 63) - 1, help="The seed of the members' choices."
        ),
    ] = 0,
    redeem: Annotated[
        str, typer.Option("--redeem", help="Chance a member redeems a reward they can use.")
    ] = "0.5",
    coupons: Annotated[
        str, typer.Option("--coupons", help="Chance a member uses a coupon the cart can take.")
    ] = "0.8",
    cashback: Annotated[
        str, typer.Option("--cashback", help="Chance a member pays with cashback they hold.")
    ] = "1",
    point_value: Annotated[
        str | None,
        typer.Option(
            "--point-value",
            help="What a point is worth, for the liability (default: from the program).",
            metavar="AMOUNT",
        ),
    ] = None,
) -> None:
    """Replay ORDERS under PROGRAM (and --compare B) and report what each would have
    issued, redeemed, expired, cost and owed, month by month."""
    policy = Policy(
        seed=seed,
        redeem=_chance(redeem, "--redeem"),
        coupons=_chance(coupons, "--coupons"),
        cashback=_chance(cashback, "--cashback"),
    )
    value = _point_value(point_value)
    variants = [Variant("A", read_program(program), str(program))]
    if compare is not None:
        variants.append(Variant("B", read_program(compare, "--compare"), str(compare)))
    if orders.is_dir():
        raise Failure(f"{orders}: is a directory, not a file")
    if not orders.is_file():
        raise Failure(f"{orders}: no such file")
    render = _renderer() if report is not None else None
    # Where the results go is checked before the run, which may take a while.
    for option, path in (("--report", report), ("--json", json_file)):
        if path is not None and str(path) != "-":
            _check_file(option, path)
    if csv_dir is not None and csv_dir.exists() and not csv_dir.is_dir():
        raise Failure(f"--csv: {csv_dir}: is a file, not a directory")
    with errors().status("simulating...", spinner="dots"):
        result = simulate(
            variants,
            orders,
            policy=policy,
            workers=workers or usable_cores(),
            cluster=cluster,
            point_value=value,
        )
    document = result.document
    if not document["history"]["events"]:
        invalid = document["history"]["invalid_lines"]
        raise Failure(
            f"{orders}: no valid step to simulate ({invalid:,} line(s) that are not steps; "
            f"loyalty replay names each)"
        )
    to_stdout = json_file is not None and str(json_file) == "-"
    # With the figures on stdout, the lines naming the files written go to stderr.
    told = errors() if to_stdout else out()
    if to_stdout:
        out().out(result.to_json(), end="", highlight=False)
    else:
        out().print(summary_table(document))
        out().print(document["summary"], markup=False, highlight=False, soft_wrap=True)
        for note in [*document["notes"], *_refusals(document)]:
            out().print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    if json_file is not None and not to_stdout:
        json_file.write_text(result.to_json(), encoding="utf-8")
        told.print(f"figures: {json_file}", markup=False, highlight=False)
    if csv_dir is not None:
        for path in result.write_csv(csv_dir):
            told.print(f"csv: {path}", markup=False, highlight=False)
    if render is not None and report is not None:
        report.write_text(render(document), encoding="utf-8")
        told.print(f"report: {report}", markup=False, highlight=False)


def _refusals(document: dict[str, Any]) -> list[str]:
    """A line for each variant that refused steps, or uses at checkout, by error type."""
    lines = []
    for variant in document["variants"]:
        for counts, what in (
            (variant["refused"], "steps"),
            (variant["declined"], "uses at checkout"),
        ):
            if counts:
                said = ", ".join(f"{kind} {count:,}" for kind, count in counts.items())
                lines.append(f"{variant['name']} refused {sum(counts.values()):,} {what}: {said}")
    return lines


def _check_file(option: str, path: Path) -> None:
    """Refuse ``path`` for ``option`` if no file can be written there."""
    if path.is_dir():
        raise Failure(f"{option}: {path}: is a directory, not a file")
    if not path.parent.is_dir():
        raise Failure(f"{option}: {path}: the directory {path.parent} does not exist")


def _renderer() -> Any:
    try:
        from loyalty.report import render_report

        if importlib.util.find_spec("matplotlib") is None:
            raise ImportError("No module named 'matplotlib'")
    except ImportError as error:
        raise Failure(
            f"the report needs the report extra: pip install 'loyalty[report]' ({error})"
        ) from None
    return render_report


def register(app: typer.Typer) -> None:
    """Add ``simulate`` to ``app``."""
    app.command("simulate")(simulate_command)
