"""``loyalty replay``: apply a file of steps (JSON lines) to a store, then show each
member's state as of the replay's end.

The file is read line by line (never whole). A line that is not a valid step, or
that the engine refuses, is one message on stderr naming its line, and counts as
rejected; the replay goes on, or stops there with ``--stop-on-error``. A step whose
key the service had already seen (a duplicate) writes nothing and counts as
replayed: :class:`~loyalty.cli.counting.CountingStore` tells it from a new one.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from loyalty.cli.common import Failure, open_store, parse_at, read_program, worded
from loyalty.cli.counting import CountingStore
from loyalty.cli.lines import TOO_LONG, check_encoding, numbered_lines, too_long
from loyalty.cli.output import errors, out, print_json
from loyalty.cli.state import MemberState, members_table, read_state, state_json, when
from loyalty.errors import InvalidEvent, LoyaltyError, UnknownMember
from loyalty.incentives.issue import Fired
from loyalty.service.batches import AdvanceReport
from loyalty.service.service import LoyaltyService, Member
from loyalty.service.steps import (
    Advance,
    Enrol,
    Erase,
    Step,
    StepResult,
    StepRunner,
    load_step_json,
)

__all__ = ["PROGRESS_FROM", "Tally", "advance_json", "one_line", "register"]

PROGRESS_FROM = 1000
"""A file of more lines than this shows a progress bar (when stderr is a terminal)."""


@dataclass(slots=True)
class Tally:
    """What a replay did: steps read (blank and comment lines aside), and how many
    were applied, replayed (a duplicate key: nothing written) or rejected (with the
    line and message of each); the latest ``at`` of the valid steps; the line it
    stopped at (``--stop-on-error``); the members the valid steps named."""

    steps: int = 0
    applied: int = 0
    replayed: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    latest: datetime | None = None
    stopped_at: int | None = None
    members: set[str] = field(default_factory=set)


STDIN = "-"
"""The events argument that reads standard input (no progress bar: its length is unknown)."""

_POSITION = re.compile(r"line 1 column (\d+) \(char \d+\)")


def replay(
    program: Annotated[
        Path,
        typer.Argument(
            help="The program file (YAML, TOML or JSON).", metavar="PROGRAM", readable=False
        ),
    ],
    events: Annotated[
        Path,
        typer.Argument(
            help="The steps, one JSON object a line ('-': standard input).",
            metavar="EVENTS.jsonl",
            readable=False,
        ),
    ],
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            help="Where members are kept: memory (the default: nothing persists), "
            "sqlite:///file.db or postgresql://user@host/db.",
            metavar="URL",
        ),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Show the state as of this instant (a date, or a date and time with an "
            "offset). Default: the latest 'at' of the file's steps.",
            metavar="TIME",
        ),
    ] = None,
    advance: Annotated[
        bool,
        typer.Option(
            "--advance", help="Run the scheduled job at that instant before showing the state."
        ),
    ] = False,
    stop_on_error: Annotated[
        bool, typer.Option("--stop-on-error", help="Stop at the first rejected line (exit 1).")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Write JSON on stdout.")] = False,
) -> None:
    """Apply a file of steps (JSON lines) to a store and show each member's state.

    Exit code: 0 if every line applied (or replayed a duplicate), 1 if a line was
    rejected or the file cannot be read.
    """
    loaded = read_program(program)
    instant = parse_at(at, loaded.timezone)
    with _opened(events) as handle:
        check_encoding(_shown(events), handle)
        counted = CountingStore(open_store(store))
        try:
            service = LoyaltyService(loaded, counted)
            tally = _replay(StepRunner(service), counted, events, handle, stop_on_error)
            end = instant or tally.latest
            if end is None and advance:
                raise Failure("--advance needs --at: no step of the file was applied", 2)
            report = service.advance(end) if advance and end is not None else None
            # No step taken and no --at: no instant to read at, and nothing to show.
            states = [] if end is None else _states(service, tally.members, end)
        finally:
            counted.close()
    if as_json:
        print_json(
            {
                "at": end,
                "summary": _summary(tally),
                "rejected": [{"line": line, "message": text} for line, text in tally.rejected],
                "advance": None if report is None else advance_json(report),
                "members": [state_json(state) for state in states],
            }
        )
    else:
        zone = loaded.tz
        if end is not None:  # no step taken and no --at: no state to show
            out().print(members_table(states, zone))
        shown_at = None if end is None else f"{when(end, zone)} ({loaded.timezone})"
        out().print(_sentence(tally, report, shown_at))
    for member, error in () if report is None else report.failed:
        errors().print(
            f"--advance: {member}: {one_line(error)}", markup=False, highlight=False, soft_wrap=True
        )
    if tally.rejected or (report is not None and report.failed):
        raise typer.Exit(1)


# ----------------------------------------------------------------------- reading


@contextmanager
def _opened(path: Path) -> Iterator[IO[bytes]]:
    """The file at ``path``, or standard input for ``-`` (left open)."""
    if str(path) == STDIN:
        yield sys.stdin.buffer
        return
    with path.open("rb") as handle:
        yield handle


def _shown(path: Path) -> str:
    """``path`` as messages name it."""
    return "stdin" if str(path) == STDIN else str(path)


def _count_lines(handle: IO[bytes]) -> int:
    count, last = 0, b"\n"
    while chunk := handle.read(1 << 20):
        count += chunk.count(b"\n")
        last = chunk[-1:]
    handle.seek(0)
    return count + (last != b"\n")


def _progress(console: Console, handle: IO[bytes], name: str) -> Progress | None:
    """A progress bar on ``console`` for a long file, if it is an interactive terminal."""
    if not console.is_interactive or not handle.seekable():
        return None
    total = _count_lines(handle)
    if total <= PROGRESS_FROM:
        return None
    progress = Progress(
        TextColumn("replaying {task.fields[name]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("lines"),
        TimeElapsedColumn(),
        console=console,
    )
    progress.add_task("replay", total=total, name=name)
    return progress


# ---------------------------------------------------------------------- applying


def _replay(
    runner: StepRunner, counted: CountingStore, path: Path, handle: IO[bytes], stop: bool
) -> Tally:
    tally = Tally()
    console = errors()
    progress = _progress(console, handle, path.name)
    with progress if progress is not None else nullcontext():
        for number, raw in numbered_lines(handle, _shown(path)):
            if progress is not None:
                progress.advance(progress.task_ids[0])
            problem = _step(runner, counted, raw, tally)
            if problem is None:
                continue
            tally.rejected.append((number, problem))
            console.print(
                f"{_shown(path)}:{number}: {problem}", markup=False, highlight=False, soft_wrap=True
            )
            if stop:
                tally.stopped_at = number
                break
    return tally


def _step(runner: StepRunner, counted: CountingStore, raw: bytes, tally: Tally) -> str | None:
    """Apply the step of one line and count it; what was wrong with it, if anything."""
    if raw == TOO_LONG:
        tally.steps += 1
        return too_long()
    try:
        text = raw.decode("utf-8").strip()
    except UnicodeDecodeError as error:
        tally.steps += 1
        return f"not UTF-8 (byte {error.start + 1} of the line)"
    if not text or text.startswith("#"):
        return None
    tally.steps += 1
    try:
        step = load_step_json(text)
    except InvalidEvent as error:
        # A line is one JSON text: "line 1" of the parser's position says nothing.
        return "invalid step: " + _POSITION.sub(r"column \1", worded(one_line(error), "step"))
    member = getattr(step, "member_id", None)
    if isinstance(member, str):
        tally.members.add(member)
    before = counted.written
    try:
        result = runner.run(step)
    except LoyaltyError as error:
        return f"{_label(step)} refused: {one_line(error)}"
    instant = getattr(step, "at", None)  # of a step the service took: a refused one says nothing
    if isinstance(instant, datetime) and (tally.latest is None or instant > tally.latest):
        tally.latest = instant
    if counted.written == before and _answered(step, result):
        tally.replayed += 1
    else:
        tally.applied += 1
    return None


def _states(service: LoyaltyService, members: set[str], at: datetime) -> list[MemberState]:
    """The state of each member the file named, by id, but those no longer enrolled
    (erased, or never enrolled: their steps were rejected)."""
    states = []
    for member in sorted(members):
        try:
            states.append(read_state(service, member, at))
        except UnknownMember:
            continue
    return states


def _answered(step: Step, result: StepResult) -> bool:
    """Did the service answer ``step`` with an earlier result (it wrote nothing)? An
    enrolment with the same details returns the member; a keyed step returns the
    entries its key wrote first. A step that wrote nothing and returns nothing (an
    occasion no incentive answered) was not a duplicate."""
    if isinstance(step, Enrol):
        return True
    if isinstance(step, Advance | Erase) or isinstance(result, Member | AdvanceReport | str):
        return False
    if isinstance(result, Fired):
        return bool(result.grants)
    if isinstance(result, tuple):
        return bool(result)
    return True


def _label(step: Step) -> str:
    key = getattr(step, "key", None)
    if key is not None:
        return f"{step.type} {key!r}"
    member = getattr(step, "member_id", None)
    return step.type if member is None else f"{step.type} of {member!r}"


def one_line(error: BaseException) -> str:
    """``error``'s message on one line: a listing of problems as ``head: a; b``."""
    problems = getattr(error, "problems", None)
    if problems:
        head = str(error).split("\n", 1)[0].split(" (", 1)[0]
        body = "; ".join(str(problem).removeprefix("(top level): ") for problem in problems)
        return body if head == "invalid event" else f"{head}: {body}"
    return " ".join(str(error).split())


# ------------------------------------------------------------------------ output


def _summary(tally: Tally) -> dict[str, Any]:
    return {
        "steps": tally.steps,
        "applied": tally.applied,
        "replayed": tally.replayed,
        "rejected": len(tally.rejected),
        "stopped_at_line": tally.stopped_at,
    }


def advance_json(report: AdvanceReport) -> dict[str, Any]:
    """What the scheduled run did, as JSON: counts, and each member that failed."""
    return {
        "members": report.members,
        "entries": report.entries,
        "notifications": report.notifications,
        "referrals": report.referrals,
        "skipped": report.skipped,
        "failed": [
            {"member_id": member, "error": type(error).__name__, "message": one_line(error)}
            for member, error in report.failed
        ],
    }


def _sentence(tally: Tally, report: AdvanceReport | None, shown_at: str | None) -> str:
    text = (
        f"{tally.steps:,} steps: {tally.applied:,} applied, {tally.replayed:,} replayed "
        f"(duplicate keys), {len(tally.rejected):,} rejected"
    )
    if tally.stopped_at is not None:
        text += f"; stopped at line {tally.stopped_at} (--stop-on-error)"
    if report is not None:
        text += (
            f"\nscheduled run: {report.members:,} members, {report.entries:,} entries, "
            f"{report.notifications:,} notifications, {len(report.failed)} failed"
        )
    return text if shown_at is None else f"{text}\nstate as of {shown_at}"


def register(app: typer.Typer) -> None:
    app.command()(replay)
