"""``loyalty quote``: what a cart earns and which rewards a member can use on it.

The member is built in memory, nothing is stored: from a history replayed
(``--events``, JSON lines of steps, see :mod:`loyalty.service.steps`), from a
state (``--member``, see :mod:`loyalty.cli.member_state`), or new, enrolled at the
quote's instant. The instant is ``--at``, else the cart file's ``at``, else the
last time of the history; the clock is never read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from loyalty.cart import load_cart
from loyalty.checkout.quote import Quote
from loyalty.cli.common import Failure, parse_at, read_json_file, read_program, worded
from loyalty.cli.lines import TOO_LONG, check_encoding, is_skipped, numbered_lines, too_long
from loyalty.cli.member_state import MemberState, load_state
from loyalty.cli.output import out, print_json
from loyalty.cli.quote_json import quote_document
from loyalty.cli.tables import print_quote
from loyalty.errors import InvalidCart, LoyaltyError, UnsupportedCurrency, shown
from loyalty.program.model import Program
from loyalty.service.service import LoyaltyService
from loyalty.service.steps import StepRunner, load_step_json
from loyalty.store.memory import MemoryStore
from loyalty.text import MAX_TEXT, text_fault

__all__ = ["History", "Inputs", "read_history", "register"]


@dataclass(frozen=True, slots=True)
class Inputs:
    """What a quote is made of, read and checked."""

    member_id: str
    cart: dict[str, Any]
    at: datetime


@dataclass(slots=True)
class History:
    """What a history file held: the latest ``at`` of its steps (and the line of that
    step), and the members its steps named."""

    last: datetime | None = None
    line: int = 0
    members: set[str] = field(default_factory=set)


def read_history(runner: StepRunner, path: Path) -> History:
    """Apply the steps of the JSON-lines file ``path`` (blank lines and ``#`` comments
    skipped, as ``replay`` reads them); return what it held. A bad or refused step
    stops with its line number."""
    history = History()
    with path.open("rb") as file:
        check_encoding(str(path), file)
        for number, raw in numbered_lines(file, str(path)):
            if raw == TOO_LONG:
                raise Failure(f"{path}:{number}: {too_long()}")
            if is_skipped(raw):
                continue
            try:
                step = load_step_json(raw)
                runner.run(step)
            except LoyaltyError as error:
                raise Failure(f"{path}:{number}: {worded(_described(error), 'step')}") from None
            member = getattr(step, "member_id", None)
            if isinstance(member, str):
                history.members.add(member)
            at = getattr(step, "at", None)
            if isinstance(at, datetime) and (history.last is None or at > history.last):
                history.last, history.line = at, number
    return history


def _described(error: LoyaltyError) -> str:
    problems = getattr(error, "problems", None)
    if problems:
        return "; ".join(str(problem).removeprefix("(top level): ") for problem in problems[:20])
    return str(error)


def _cart_file(path: Path) -> tuple[dict[str, Any], str | None]:
    """The cart object of ``path``, and the ``at`` it gives (taken off the cart)."""
    data = read_json_file(path, "cart")
    at = data.pop("at", None)
    if at is not None and not isinstance(at, str):
        raise Failure(f"{path}: at: {at!r} is not a date and time (2026-03-01T10:00+00:00)")
    return data, at


def _instant(
    program: Program, given: str | None, cart_at: str | None, cart: Path, last: datetime | None
) -> datetime:
    if given is not None:
        return _parsed(given, program, "--at")
    if cart_at is not None:
        return _parsed(cart_at, program, f"{cart}: at")
    if last is not None:
        return last
    raise Failure(
        "--at is required: the cart gives no 'at' and there is no history (--events) "
        "to take the time from; e.g. --at 2026-03-01T10:00+00:00"
    )


def _parsed(text: str, program: Program, option: str) -> datetime:
    instant = parse_at(text, program.timezone, option)
    assert instant is not None
    return instant


def _member_id(
    option: str | None, state: MemberState | None, cart: dict[str, Any], cart_path: Path
) -> str:
    """The member quoted: ``--member-id``, else the state's, else the cart's; checked
    here, so that a refusal names where it was given."""
    given: list[tuple[object, str]] = [
        (option, "--member-id"),
        (state.member_id if state else None, "the member state's member_id"),
        (cart.get("member_id"), f"{cart_path}: member_id"),
    ]
    for found, where in given:
        if found is None:
            continue
        if not isinstance(found, str) or not found.strip():
            raise Failure(f"{where}: {found!r} is not a member id (a non-empty text)")
        fault = text_fault(found) or (
            f"is longer than {MAX_TEXT} characters" if len(found) > MAX_TEXT else None
        )
        if fault is not None:
            raise Failure(f"{where}: {shown(found)} {fault}")
        return found
    raise Failure("no member: give --member-id, or a member_id in the cart or the member state")


def build(
    program: Program,
    cart_path: Path,
    state_path: Path | None,
    events: Path | None,
    member_option: str | None,
    at_option: str | None,
) -> tuple[LoyaltyService, Inputs]:
    """The service holding the member, and the checked inputs of the quote."""
    if state_path is not None and events is not None:
        raise Failure("give --member or --events, not both")
    cart, cart_at = _cart_file(cart_path)
    state = None
    if state_path is not None:
        state = load_state(read_json_file(state_path, "member state"), program, str(state_path))
    service = LoyaltyService(program, MemoryStore())
    runner = StepRunner(service)
    history = read_history(runner, events) if events is not None else None
    last = history.last if history is not None else None
    at = _instant(program, at_option, cart_at, cart_path, last)
    if history is not None and last is not None and at < last:
        raise Failure(
            f"the quote's instant {at.isoformat()} is before the end of the history "
            f"({events}:{history.line} is at {last.isoformat()}); give a later --at"
        )
    member_id = _member_id(member_option, state, cart, cart_path)
    named = cart.setdefault("member_id", member_id)
    if named != member_id:
        raise Failure(
            f"{cart_path}: member_id: {named!r} is not the member quoted, {member_id!r} "
            "(--member-id, else the member state's); leave it out of the cart, or make "
            "them the same"
        )
    if state is not None:
        if state.enrolled_at > at:
            raise Failure(
                f"{state_path}: enrolled_at {state.enrolled_at.isoformat()} is after the "
                f"quote's instant {at.isoformat()}"
            )
        cart["customer"] = state.customer(cart)
        for step in state.steps(member_id, at):
            runner.run(step)
    elif history is None:
        runner.run({"type": "enrol", "member_id": member_id, "at": at})
    elif member_id not in history.members:
        named = ", ".join(repr(member) for member in sorted(history.members)[:5]) or "no one"
        raise Failure(
            f"{events}: the history does not name member {member_id!r}, the member "
            f"quoted (--member-id, else the cart's member_id); it names {named}"
        )
    try:
        load_cart(cart)
    except InvalidCart as error:
        raise Failure(f"{cart_path}: not a valid cart: {_described(error)}") from None
    return service, Inputs(member_id, cart, at)


def quote(
    program_path: Annotated[
        Path,
        typer.Argument(
            metavar="PROGRAM", help="The program file (YAML, TOML or JSON).", readable=False
        ),
    ],
    cart: Annotated[
        Path,
        typer.Option(
            "--cart",
            metavar="CART.json",
            help="The cart, as JSON (an 'at' allowed).",
            readable=False,
        ),
    ],
    member: Annotated[
        Path | None,
        typer.Option(
            "--member", metavar="STATE.json", help="The member as they stand.", readable=False
        ),
    ] = None,
    events: Annotated[
        Path | None,
        typer.Option(
            "--events",
            metavar="EVENTS.jsonl",
            help="The member's history: JSON lines of steps.",
            readable=False,
        ),
    ] = None,
    member_id: Annotated[
        str | None,
        typer.Option("--member-id", metavar="ID", help="The member (default: the cart's)."),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            metavar="TIME",
            help="The instant (default: the cart's 'at', else the history's last time).",
        ),
    ] = None,
    codes: Annotated[
        list[str] | None,
        typer.Option("--code", "--codes", metavar="CODE", help="A code typed at checkout."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the quote as JSON.")] = False,
) -> None:
    """What a cart earns, which rewards the member can use on it and why not, the
    offers applied or skipped, and the best reward. Nothing is stored."""
    program = read_program(program_path)
    for code in codes or ():
        if not code.strip():
            raise Failure("--code: is empty; give the code the customer typed")
    service, inputs = build(program, cart, member, events, member_id, at)
    try:
        result: Quote = service.quote(
            inputs.member_id, inputs.cart, at=inputs.at, codes=tuple(codes or ())
        )
    except (InvalidCart, UnsupportedCurrency) as error:
        raise Failure(f"{cart}: not a valid cart: {_described(error)}") from None
    if as_json:
        print_json(quote_document(result))
    else:
        print_quote(out(), result, program.tz)


def register(app: typer.Typer) -> None:
    """Add ``quote`` to ``app``."""
    app.command()(quote)
