"""``loyalty quote``: what a cart earns and which rewards a member can use on it.

The member is built in memory, nothing is stored: from a history replayed
(``--events``, JSON lines of steps, see :mod:`loyalty.service.steps`), from a
state (``--member``, see :mod:`loyalty.cli.member_state`), or new, enrolled at the
quote's instant. The instant is ``--at``, else the cart file's ``at``, else the
last time of the history; the clock is never read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from loyalty.cart import load_cart
from loyalty.checkout.quote import Quote
from loyalty.cli.common import Failure, parse_at, read_json_file, read_program
from loyalty.cli.member_state import MemberState, load_state
from loyalty.cli.output import out, print_json
from loyalty.cli.quote_json import quote_document
from loyalty.cli.tables import print_quote
from loyalty.errors import InvalidCart, LoyaltyError
from loyalty.program.model import Program
from loyalty.service.service import LoyaltyService
from loyalty.service.steps import StepRunner, load_step_json
from loyalty.store.memory import MemoryStore

__all__ = ["Inputs", "read_history", "register"]


@dataclass(frozen=True, slots=True)
class Inputs:
    """What a quote is made of, read and checked."""

    member_id: str
    cart: dict[str, Any]
    at: datetime


def read_history(runner: StepRunner, path: Path) -> datetime | None:
    """Apply the steps of the JSON-lines file ``path`` (blank lines skipped); return the
    latest ``at`` among them. A bad or refused step stops with its line number."""
    last: datetime | None = None
    with path.open("rb") as file:
        for number, raw in enumerate(file, start=1):
            if not raw.strip():
                continue
            try:
                step = load_step_json(raw)
                runner.run(step)
            except LoyaltyError as error:
                raise Failure(f"{path}:{number}: {_described(error)}") from None
            at = getattr(step, "at", None)
            if isinstance(at, datetime) and (last is None or at > last):
                last = at
    return last


def _described(error: LoyaltyError) -> str:
    problems = getattr(error, "problems", None)
    if problems:
        return "; ".join(str(problem) for problem in problems[:20])
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


def _member_id(option: str | None, state: MemberState | None, cart: dict[str, Any]) -> str:
    for found in (option, state.member_id if state else None, cart.get("member_id")):
        if isinstance(found, str) and found:
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
    last = read_history(runner, events) if events is not None else None
    at = _instant(program, at_option, cart_at, cart_path, last)
    member_id = _member_id(member_option, state, cart)
    cart.setdefault("member_id", member_id)
    if state is not None:
        if state.enrolled_at > at:
            raise Failure(
                f"{state_path}: enrolled_at {state.enrolled_at.isoformat()} is after the "
                f"quote's instant {at.isoformat()}"
            )
        cart["customer"] = state.customer(cart)
        for step in state.steps(member_id, at):
            runner.run(step)
    elif events is None:
        runner.run({"type": "enrol", "member_id": member_id, "at": at})
    try:
        load_cart(cart)
    except InvalidCart as error:
        raise Failure(f"{cart_path}: not a valid cart: {_described(error)}") from None
    return service, Inputs(member_id, cart, at)


def quote(
    program_path: Annotated[
        Path, typer.Argument(metavar="PROGRAM", help="The program file (YAML, TOML or JSON).")
    ],
    cart: Annotated[
        Path,
        typer.Option("--cart", metavar="CART.json", help="The cart, as JSON (an 'at' allowed)."),
    ],
    member: Annotated[
        Path | None,
        typer.Option("--member", metavar="STATE.json", help="The member as they stand."),
    ] = None,
    events: Annotated[
        Path | None,
        typer.Option(
            "--events", metavar="EVENTS.jsonl", help="The member's history: JSON lines of steps."
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
    service, inputs = build(program, cart, member, events, member_id, at)
    result: Quote = service.quote(
        inputs.member_id, inputs.cart, at=inputs.at, codes=tuple(codes or ())
    )
    if as_json:
        print_json(quote_document(result))
    else:
        print_quote(out(), result, program.tz)


def register(app: typer.Typer) -> None:
    """Add ``quote`` to ``app``."""
    app.command()(quote)
