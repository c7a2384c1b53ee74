"""What the commands share: reading their inputs, and the errors a user can cause.

A :class:`Failure` is a message and an exit code; :func:`failure_of` says which
errors are the user's (a file, an input, a program, a refused operation) and
words them in one message. Anything else is a bug (see :mod:`loyalty.cli.app`).
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from loyalty.cli.findings import findings
from loyalty.errors import ConfigurationError, LoyaltyError, Problem
from loyalty.program.loader import load_program
from loyalty.program.model import Program
from loyalty.service.events import read_json
from loyalty.store.memory import MemoryStore
from loyalty.store.port import Store

__all__ = [
    "Failure",
    "failure_of",
    "open_store",
    "parse_at",
    "read_json_file",
    "read_program",
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
    return None


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


def read_json_file(path: Path, what: str) -> dict[str, Any]:
    """The JSON object of file ``path`` (``what`` it holds, for messages), read as
    events are: amounts as ``Decimal``, duplicate keys and deep nesting refused."""
    data = path.read_bytes()
    try:
        return read_json(data)
    except LoyaltyError as error:
        problems = getattr(error, "problems", ())
        detail = "; ".join(_worded(problem, what) for problem in problems) or str(error)
        raise Failure(f"{path}: not a valid {what}: {detail}") from None


def _worded(problem: Problem, what: str) -> str:
    """``problem``, where the JSON reader of events speaks of an event, of ``what``."""
    if not problem.path and problem.message == "an event is a JSON object":
        return f"(top level): a {what} is a JSON object, not {problem.value}"
    return str(problem)


def parse_at(text: str | None, timezone: str, option: str = "--at") -> datetime | None:
    """An instant given on the command line: ISO 8601 with an offset
    (``2026-03-01T10:00+01:00``, ``...Z``), or a date, read as its midnight in the
    program's ``timezone``. A time without an offset is refused (which zone?)."""
    if text is None:
        return None
    value = text.strip()
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime.combine(day, time(), ZoneInfo(timezone))
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise Failure(
            f"{option}: {text!r} is not a date (2026-03-01) or a date and time with an offset "
            "(2026-03-01T10:00+00:00)"
        ) from None
    if instant.tzinfo is None:
        raise Failure(f"{option}: {text!r} has no UTC offset; add one, e.g. '+00:00' or 'Z'")
    return instant


def open_store(url: str | None) -> Store:
    """The store at ``url``: ``memory`` (the default), ``sqlite:///file.db`` or a
    PostgreSQL URL (``postgresql://...``; psycopg 3 is used). SQL stores need the
    ``sql`` (or ``postgres``) extra; their tables are brought up to date."""
    if url is None or url == MEMORY:
        return MemoryStore()
    scheme = url.split(":", 1)[0].lower()
    if scheme in ("postgres", "postgresql"):
        url = "postgresql+psycopg" + url[len(scheme) :]
    elif not (scheme.startswith("sqlite") or scheme.startswith("postgresql+")):
        raise Failure(
            f"--store: {url!r} is not a store URL; give 'memory', 'sqlite:///file.db' "
            "or 'postgresql://user@host/db'"
        )
    try:
        from loyalty.store.sql import SQLStore
    except ImportError as error:
        raise Failure(str(error)) from None
    try:
        return SQLStore(url)
    except LoyaltyError:
        raise
    except Exception as error:  # a URL SQLAlchemy cannot use, a server that is down
        raise Failure(f"--store: cannot open {_masked(url)}: {error}") from None


def _masked(url: str) -> str:
    """``url`` without its password."""
    head, at, tail = url.rpartition("@")
    if not at or ":" not in head.split("//", 1)[-1]:
        return url
    scheme, _, credentials = head.partition("//")
    user = credentials.split(":", 1)[0]
    return f"{scheme}//{user}:***@{tail}"
