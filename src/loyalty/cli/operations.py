"""Running a program's store: ``loyalty advance`` (the nightly job), ``loyalty outbox``
(the notifications to forward) and ``loyalty db upgrade|current`` (the tables'
revision)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, tzinfo
from typing import Annotated

import typer
from rich.table import Table

from loyalty.cli.common import MEMORY, Failure, database_error, masked, sql_url
from loyalty.cli.members import (
    At,
    Json,
    ProgramFile,
    StoreUrl,
    instant,
    missing_sqlite_file,
    service_for,
)
from loyalty.cli.output import errors, out, print_json
from loyalty.cli.replay import advance_json, one_line
from loyalty.cli.state import when
from loyalty.notifications import Notification
from loyalty.service.arguments import MOST_MESSAGES

__all__ = ["register"]


# --------------------------------------------------------------------- advance


def advance_command(
    program: ProgramFile,
    store: StoreUrl = None,
    at: At = None,
    as_json: Json = False,
) -> None:
    """The scheduled job: release pending points, expire lots, review tiers, run
    scheduled incentives and settle referrals, for every member, as of --at (the
    current time by default). Exit 1 if any member failed (the others are done)."""
    with service_for(program, store, "advance") as service:
        when_at = instant(at, service.program)
        report = service.advance(when_at)
        zone = service.program.tz
    if as_json:
        print_json({"at": when_at, **advance_json(report)})
    else:
        out().print(
            f"advanced to {when(when_at, zone)} ({service.program.timezone}): "
            f"{report.members:,} members, {report.entries:,} entries written, "
            f"{report.notifications:,} notifications, {report.referrals:,} referrals settled, "
            f"{report.skipped:,} skipped (erased), {len(report.failed):,} failed"
        )
    for member, error in report.failed:
        errors().print(f"{member}: {one_line(error)}", markup=False, soft_wrap=True)
    if report.failed:
        raise typer.Exit(1)


# ---------------------------------------------------------------------- outbox


def outbox_command(
    program: ProgramFile,
    store: StoreUrl = None,
    ack: Annotated[
        bool, typer.Option("--ack", help="Acknowledge the messages listed (once forwarded).")
    ] = False,
    limit: Annotated[
        int,
        typer.Option(
            "--limit", help="List at most this many, oldest first.", min=1, max=MOST_MESSAGES
        ),
    ] = 100,
    as_json: Json = False,
) -> None:
    """The notifications waiting in the outbox, oldest first."""
    with service_for(program, store, "outbox") as service:
        messages = service.outbox(limit)
        if as_json:
            print_json([{"id": message.id, **message.notification.data()} for message in messages])
        else:
            zone = service.program.tz
            table = Table(title=f"Outbox: {len(messages):,} messages")
            for name in ("id", "kind", "member", "at", "details"):
                table.add_column(name, justify="right" if name == "id" else "left")
            for message in messages:
                notification = message.notification
                table.add_row(
                    str(message.id),
                    str(notification.kind),
                    notification.member_id,
                    when(notification.at, zone),
                    _details(notification, zone),
                )
            out().print(table)
        if ack and messages:
            service.acknowledge([message.id for message in messages])
            errors().print(f"acknowledged {len(messages):,} messages", markup=False)


def _details(notification: Notification, zone: tzinfo) -> str:
    """A notification's own fields, ``name=value``, times in the program's timezone."""
    shown = []
    for field in fields(notification):
        value = getattr(notification, field.name)
        if field.name in ("member_id", "at", "dedupe") or value is None or value == "":
            continue
        if isinstance(value, datetime):
            value = when(value, zone)
        elif isinstance(value, tuple):
            value = ", ".join(str(item) for item in value)
        shown.append(f"{field.name}={value}")
    return "; ".join(shown)


# -------------------------------------------------------------------------- db

db = typer.Typer(
    name="db",
    help="The loyalty tables of a SQL store: their revision, and upgrading them.",
    no_args_is_help=True,
)

Url = Annotated[
    str,
    typer.Argument(help="sqlite:///file.db or postgresql://user@host/db.", metavar="URL"),
]


@dataclass(frozen=True, slots=True)
class Revision:
    """The revision of a database's loyalty tables (``None``: none yet) and the head."""

    current: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    def __str__(self) -> str:
        if self.current is None:
            return f"no loyalty tables yet (head is {self.head}): run loyalty db upgrade"
        if self.up_to_date:
            return f"revision {self.current} (head)"
        return f"revision {self.current}; head is {self.head}: run loyalty db upgrade"


def _sql_url(url: str) -> str:
    """A SQLAlchemy URL: ``postgresql://`` is read with psycopg 3."""
    if url == MEMORY:
        raise Failure(
            "URL: 'memory' is not a SQL database URL; give 'sqlite:///file.db' or "
            "'postgresql://user@host/db'"
        )
    return sql_url(url, "URL")


def _revision(url: str) -> Revision:
    try:
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory
        from sqlalchemy import create_engine

        from loyalty.store.sql.schema import VERSION_TABLE
        from loyalty.store.sql.upgrade import alembic_config
    except ImportError as error:
        raise Failure(
            f"the SQL stores need the sql extra: pip install 'loyalty[sql]' ({error})"
        ) from None
    try:
        engine = create_engine(url)
    except Exception as error:  # a URL SQLAlchemy cannot read, a driver not installed
        raise Failure(f"URL: cannot open {masked(url)!r}: {database_error(error)}") from None
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
            current = context.get_current_revision()
            head = ScriptDirectory.from_config(alembic_config(connection)).get_current_head()
    except Exception as error:  # a server that is down, a wrong password
        raise Failure(f"URL: cannot read the database: {database_error(error)}") from None
    finally:
        engine.dispose()
    assert head is not None  # the package ships its migrations
    return Revision(current, head)


def _existing(url: str) -> str:
    """``url``, if it is not a SQLite file that does not exist."""
    missing = missing_sqlite_file(url)
    if missing is not None:
        raise Failure(f"URL: {missing}: no such database file")
    return url


@db.command("current")
def db_current(
    url: Url,
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 unless the tables are at the head revision.")
    ] = False,
    as_json: Json = False,
) -> None:
    """The revision of the loyalty tables, and whether it is the head (the latest)."""
    revision = _revision(_existing(_sql_url(url)))
    if as_json:
        print_json(
            {"current": revision.current, "head": revision.head, "up_to_date": revision.up_to_date}
        )
    else:
        out().print(str(revision), markup=False)
    if check and not revision.up_to_date:
        raise typer.Exit(1)


@db.command("upgrade")
def db_upgrade(url: Url) -> None:
    """Create or upgrade the loyalty tables to the head revision (safe to run again,
    and from several processes at once). A SQLite file is created if it is missing."""
    sql_url = _sql_url(url)
    before = _revision(sql_url)
    try:
        from loyalty.store.sql.upgrade import migrate
    except ImportError as error:  # pragma: no cover - _revision needs the same extra
        raise Failure(str(error)) from None
    try:
        migrate(sql_url)
    except Exception as error:  # the database refused (rights, a lock held too long)
        raise Failure(f"URL: cannot upgrade the database: {database_error(error)}") from None
    if before.up_to_date:
        out().print(f"already at revision {before.head} (head)", markup=False)
    else:
        out().print(
            f"upgraded from {before.current or 'no tables'} to {before.head} (head)", markup=False
        )


def register(app: typer.Typer) -> None:
    app.command("advance")(advance_command)
    app.command("outbox")(outbox_command)
    app.add_typer(db)
