"""What the commands share: reading their inputs, and the errors a user can cause.

A :class:`Failure` is a message and an exit code; :func:`failure_of` says which
errors are the user's (a file, an input, a program, a refused operation) and
words them in one message. Anything else is a bug (see :mod:`loyalty.cli.app`).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from loyalty.cli.findings import findings
from loyalty.dates import instant_fault
from loyalty.errors import ConfigurationError, LoyaltyError, Problem
from loyalty.jsontext import JSONRefused, parse_object
from loyalty.program.loader import load_program
from loyalty.program.model import Program
from loyalty.store.memory import MemoryStore
from loyalty.store.port import Store

__all__ = [
    "Failure",
    "database_error",
    "failure_of",
    "masked",
    "open_store",
    "parse_at",
    "read_json_file",
    "read_program",
    "sql_url",
    "worded",
]

MEMORY = "memory"
"""The store URL of the in-memory store (the default: nothing persists)."""


class Failure(Exception):
    """An error the user can fix: ``message`` on stderr, and exit ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def failure_of(error: BaseException) -> Failure | None:
    """``error`` as a :class:`Failure` if a user can cause it, else ``None`` (a bug)."""
    if isinstance(error, Failure):
        return error
    if isinstance(error, LoyaltyError):
        return Failure(str(error))
    if isinstance(error, IsADirectoryError):
        return Failure(f"{error.filename}: is a directory, not a file")
    if isinstance(error, FileNotFoundError):
        return Failure(f"{error.filename}: no such file")
    if isinstance(error, OSError):
        where = f"{error.filename}: " if error.filename else ""
        return Failure(f"{where}{error.strerror or error}")
    if _database_refused(error):
        return Failure(f"the store's database refused: {database_error(error)}")
    return None


def _database_refused(error: BaseException) -> bool:
    """Whether ``error`` is a database's refusal the user can fix (an
    ``OperationalError`` of SQLAlchemy, sqlite3 or psycopg: a read-only file, a full
    disk, a server gone), told by its class (the command does not import the SQL
    extra's packages)."""
    return any(
        kind.__name__ == "OperationalError"
        and kind.__module__.split(".")[0] in ("sqlalchemy", "sqlite3", "psycopg")
        for kind in type(error).__mro__
    )


SHOWN_PROBLEMS = 20
"""The most problems a command other than ``validate`` lists for an invalid program."""


def read_program(path: Path, option: str | None = None) -> Program:
    """The program of a file; an invalid one is a :class:`Failure` listing its problems,
    one ``FILE:LINE: error: PATH: MESSAGE`` line each (``option``: the command-line
    option that named the file, for the message)."""
    try:
        return load_program(path)
    except ConfigurationError as error:
        found = findings(error.problems, path, "error")
    head = f"{option}: " if option else ""
    lines = [f"{head}{path}: not a valid program ({len(found)} problem(s)):"]
    lines += [str(item) for item in found[:SHOWN_PROBLEMS]]
    if len(found) > SHOWN_PROBLEMS:
        lines.append(f"... and {len(found) - SHOWN_PROBLEMS} more (loyalty validate {path})")
    raise Failure("\n".join(lines))


MAX_JSON_FILE = 16 << 20
"""The largest cart or member state file read, in bytes (16 MiB)."""


def read_json_file(path: Path, what: str) -> dict[str, Any]:
    """The JSON object of file ``path`` (``what`` it holds, for messages), read as
    events are: amounts as ``Decimal``, duplicate keys and deep nesting refused. A file
    larger than :data:`MAX_JSON_FILE` is refused before it is read whole."""
    with path.open("rb") as handle:
        data = handle.read(MAX_JSON_FILE + 1)
    if len(data) > MAX_JSON_FILE:
        raise Failure(f"{path}: is larger than {MAX_JSON_FILE:,} bytes; is it a {what}?")
    if not data.strip():
        raise Failure(f"{path}: is empty; a {what} is a JSON object")
    try:
        return parse_object(data)
    except JSONRefused as refused:
        raise Failure(f"{path}: not a valid {what}: {_worded(refused.problem, what)}") from None


def _worded(problem: Problem, what: str) -> str:
    """``problem`` of the JSON reader, speaking of ``what`` it read (a ``cart``)."""
    if not problem.path and problem.message == "is not a JSON object":
        return f"a {what} is a JSON object, not {problem.value}"
    return str(problem).removeprefix("(top level): ")


def worded(message: str, what: str) -> str:
    """``message`` about a JSON text that is not an object, speaking of ``what`` it read
    (a ``step``) rather than of the text."""
    return re.sub(r"(^|: )is not a JSON object", rf"\1a {what} is a JSON object", message)


def parse_at(text: str | None, timezone: str, option: str = "--at") -> datetime | None:
    """An instant given on the command line: ISO 8601 with an offset
    (``2026-03-01T10:00+01:00``, ``...Z``), or a date, read as its midnight in the
    program's ``timezone``. A time without an offset is refused (which zone?)."""
    if text is None:
        return None
    value = text.strip()
    try:
        if len(value) == 10:
            instant = datetime.combine(date.fromisoformat(value), time(), ZoneInfo(timezone))
        else:
            instant = datetime.fromisoformat(value)
    except ValueError:
        raise Failure(
            f"{option}: {text!r} is not a date (2026-03-01) or a date and time with an offset "
            "(2026-03-01T10:00+00:00)"
        ) from None
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise Failure(f"{option}: {text!r} has no UTC offset; add one, e.g. '+00:00' or 'Z'")
    fault = instant_fault(instant)
    if fault is not None:
        raise Failure(f"{option}: {text!r} {fault}")
    return instant


def open_store(url: str | None) -> Store:
    """The store at ``url``: ``memory`` (the default), ``sqlite:///file.db`` or a
    PostgreSQL URL (``postgresql://...``; psycopg 3 is used). SQL stores need the
    ``sql`` (or ``postgres``) extra; their tables are brought up to date."""
    if url is None or url == MEMORY:
        return MemoryStore()
    url = sql_url(url, "--store", memory=True)
    try:
        from loyalty.store.sql import SQLStore
    except ImportError as error:
        raise Failure(str(error)) from None
    try:
        return SQLStore(url)
    except LoyaltyError:
        raise
    except Exception as error:  # a URL SQLAlchemy cannot use, a server that is down
        raise Failure(f"--store: cannot open {masked(url)}: {database_error(error)}") from None


def sql_url(url: str, option: str, memory: bool = False) -> str:
    """The SQLAlchemy URL of a store URL given as ``option`` (``postgresql://`` is read
    with psycopg 3); anything but SQLite and PostgreSQL is refused, its password
    masked in the message."""
    scheme = url.split(":", 1)[0].lower()
    if scheme in ("postgres", "postgresql"):
        return "postgresql+psycopg" + url[len(scheme) :]
    if scheme.startswith("sqlite") or scheme.startswith("postgresql+"):
        return url
    what, stores = (
        ("a store URL", "'memory', 'sqlite:///file.db'")
        if memory
        else ("a SQL database URL", "'sqlite:///file.db'")
    )
    raise Failure(
        f"{option}: {masked(url)!r} is not {what}; give {stores} or 'postgresql://user@host/db'"
    )


_PASSWORD = re.compile(r"(://[^:/@\s]*):[^@\s]*@")


def masked(text: str) -> str:
    """``text`` with the password of any URL in it masked."""
    return _PASSWORD.sub(r"\1:***@", text)


def database_error(error: BaseException) -> str:
    """What a database driver said, on one line, without SQLAlchemy's links and SQL,
    with what to check for the usual reasons, and any password masked."""
    if isinstance(error, ModuleNotFoundError) and (error.name or "").startswith("psycopg"):
        return "PostgreSQL needs the postgres extra: pip install 'loyalty[postgres]'"
    cause = getattr(error, "orig", None) or error
    text = " ".join(str(cause).split("\n(Background on this error", 1)[0].split())
    text = text.split(" [SQL: ", 1)[0]
    hint = next((hint for found, hint in _HINTS if found in text), "")
    return masked(f"{text}{hint}" or type(error).__name__)


_HINTS = (
    ("unable to open database file", " (does its directory exist, and may you write there?)"),
    ("readonly database", " (the file, or its directory, is read-only: the store writes)"),
    ("file is not a database", " (is it a SQLite database?)"),
)
