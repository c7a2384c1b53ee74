"""``loyalty statement``, ``loyalty member`` and ``loyalty erase``: one member of a
store that persists (SQLite or PostgreSQL).

Reads are made as of an explicit instant (``--at``, or the current time): a balance
read without one would show points pending that the return window has released.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from loyalty.cli.common import MEMORY, Failure, open_store, parse_at, read_program
from loyalty.cli.output import errors, out, print_json, to_json
from loyalty.cli.state import member_table, read_state, state_json, when
from loyalty.ledger.state import Balance
from loyalty.program.model import Program
from loyalty.service.service import LoyaltyService

__all__ = [
    "At",
    "Json",
    "ProgramFile",
    "StoreUrl",
    "instant",
    "missing_sqlite_file",
    "register",
    "service_for",
]

ProgramFile = Annotated[
    Path,
    typer.Argument(
        help="The program file (YAML, TOML or JSON).", metavar="PROGRAM", readable=False
    ),
]
StoreUrl = Annotated[
    str | None,
    typer.Option(
        "--store",
        help="The store that holds the members: sqlite:///file.db or postgresql://user@host/db.",
        metavar="URL",
    ),
]
At = Annotated[
    str | None,
    typer.Option(
        "--at",
        help="As of this instant (a date, or a date and time with an offset). "
        "Default: the current time.",
        metavar="TIME",
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Write JSON on stdout.")]
MemberId = Annotated[str, typer.Argument(help="The member's id.", metavar="MEMBER")]


@contextmanager
def service_for(program: Path, url: str | None, command: str) -> Iterator[LoyaltyService]:
    """A service of ``program`` over the store at ``url``, closed after use. The memory
    store is refused: it starts empty in every process, so ``command`` would find no
    one. A SQLite file that does not exist is refused too (it would be created empty)."""
    loaded = read_program(program)
    if url is None or url == MEMORY:
        raise Failure(
            f"{command} needs --store URL, the store that holds the members "
            "(sqlite:///loyalty.db or postgresql://user@host/db): a memory store starts "
            "empty in every command, so there would be no one to read",
            code=2,
        )
    missing = missing_sqlite_file(url)
    if missing is not None:
        raise Failure(
            f"--store: {missing}: no such database file "
            "(loyalty replay --store or loyalty db upgrade creates one)"
        )
    store = open_store(url)
    try:
        yield LoyaltyService(loaded, store)
    finally:
        store.close()


def missing_sqlite_file(url: str) -> str | None:
    """The path of a SQLite URL's file if it does not exist (``None`` otherwise, and
    for an in-memory database or another dialect)."""
    scheme, sep, rest = url.partition(":///")
    if not sep or not scheme.lower().startswith("sqlite"):
        return None
    path = rest.split("?", 1)[0]
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return None if Path(path).exists() else path


def instant(at: str | None, program: Program) -> datetime:
    """``--at``, or the current time: the command line is where the clock is read."""
    return parse_at(at, program.timezone) or datetime.now(UTC)


# ------------------------------------------------------------------- statement


def statement_command(
    program: ProgramFile,
    member: MemberId,
    store: StoreUrl = None,
    at: At = None,
    as_json: Json = False,
) -> None:
    """Every entry of a member's journal, with its reason and the running balance."""
    with service_for(program, store, "statement") as service:
        when_at = instant(at, service.program)
        found = service.statement(member)
        balance = service.balance(member, when_at)
    if as_json:
        print_json(
            {
                "member_id": found.member_id,
                "timezone": found.timezone,
                "lines": to_json(found.lines),
                "at": when_at,
                "balance": _balance_json(balance),
            }
        )
        return
    zone = service.program.tz
    table = Table(title=f"Statement of {found.member_id} (times in {found.timezone})")
    for name in ("#", "date", "kind", "points", "balance", "reason"):
        table.add_column(name, justify="right" if name in ("#", "points", "balance") else "left")
    for line in found.lines:
        reason = line.reason
        if line.occurred_at is not None:
            reason += f" (late: happened {when(line.occurred_at, zone)})"
        table.add_row(
            str(line.seq),
            when(line.at, zone),
            line.kind.value,
            f"{line.points:+,}",
            f"{line.balance:,}",
            reason,
        )
    out().print(table)
    out().print(
        f"as of {when(when_at, zone)}: available {balance.available:,}, pending "
        f"{balance.pending:,}, debt {balance.debt:,}; net {balance.net:,} (earned "
        f"{balance.earned:,}, redeemed {balance.redeemed:,}, returned {balance.returned:,}, "
        f"expired {balance.expired:,}, reversed {balance.reversed:,}, adjusted "
        f"{balance.adjusted:+,}, written off {balance.written_off:,})"
    )


def _balance_json(balance: Balance) -> dict[str, Any]:
    return {**to_json(balance), "net": balance.net}


# ---------------------------------------------------------------------- member


def member_command(
    program: ProgramFile,
    member: MemberId,
    store: StoreUrl = None,
    at: At = None,
    as_json: Json = False,
) -> None:
    """A member's state: tier, points, open lots, coupons, choices and cashback."""
    with service_for(program, store, "member") as service:
        state = read_state(service, member, instant(at, service.program))
    if as_json:
        print_json(state_json(state))
        return
    for table in member_table(state, service.program.tz):
        out().print(table)


# ----------------------------------------------------------------------- erase


def erase_command(
    program: ProgramFile,
    member: MemberId,
    store: StoreUrl = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: Json = False,
) -> None:
    """Erase a member's personal data; their journal stays, under a pseudonym."""
    with service_for(program, store, "erase") as service:
        service.member(member)  # an unknown member is refused before anything is asked
        if not yes:
            question = (
                f"Erase the personal data of member {member!r}? Their journal stays, under a "
                "pseudonym; this cannot be undone."
            )
            if not _confirmed(question):
                raise Failure(f"member {member!r} not erased (pass --yes to erase without asking)")
        pseudonym = service.erase(member)
    if as_json:
        print_json({"member_id": member, "pseudonym": pseudonym})
    else:
        out().print(f"member {member!r} erased; their journal is kept as {pseudonym}")


def _confirmed(question: str) -> bool:
    """Ask ``question`` on stderr and read the answer from stdin: ``y`` or ``yes``
    confirms; anything else, or no answer (stdin closed), does not. Nothing is written
    on stdout, which holds only the command's result."""
    console = errors()
    console.print(f"{question} [y/N]: ", end="", markup=False, highlight=False, soft_wrap=True)
    answer = sys.stdin.readline()
    if not answer.endswith("\n"):  # end of input: finish the prompt's line
        console.print()
    return answer.strip().lower() in ("y", "yes")


def register(app: typer.Typer) -> None:
    app.command("statement")(statement_command)
    app.command("member")(member_command)
    app.command("erase")(erase_command)
