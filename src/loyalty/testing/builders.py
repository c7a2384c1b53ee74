"""Builders with sensible defaults, so a test states only what matters to it: a
program from a few sections, a cart from ``(sku, price, qty)`` tuples, a service on
the in-memory store, and a member with a history.

The defaults (:data:`DEFAULTS`, and the engine's own for what they leave out) make
the simplest program there is: USD, UTC, **1 point per unit of currency** rounded
down once per order, **no return window** (points are available at once), no
expiry, no tiers, no rewards. A test that needs a return window says so::

    program(pending={"period": "30 days"})

Everything goes through the public API (:func:`loyalty.load_program`,
:func:`loyalty.load_cart`, :class:`loyalty.LoyaltyService`, steps as mappings), so
a program, cart or step the builders accept is one the shop's own code could send.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from os import PathLike
from types import MappingProxyType
from typing import Any, Final

from loyalty.cart import Cart, load_cart
from loyalty.errors import InvalidInput
from loyalty.program.loader import load_program
from loyalty.program.model import Program
from loyalty.service.service import LoyaltyService, Member
from loyalty.service.steps import StepRunner
from loyalty.store.memory import MemoryStore
from loyalty.testing.clock import START, Clock, instant
from loyalty.testing.steps import Item, amount_text, enrolment, line_data

__all__ = ["DEFAULTS", "History", "cart", "member", "program", "program_from", "service"]

DEFAULTS: Final[Mapping[str, Any]] = MappingProxyType(
    {"id": "test-program", "name": "Test program", "currency": "USD", "timezone": "UTC"}
)
"""The keys a program must have, as :func:`program` fills them in. The engine's
defaults do the rest: ``rounding: floor``, ``earning: {rate: 1}``,
``pending: {period: 0 days}``, ``expiry: {policy: none}``."""

History = Item | list[Item] | Cart | Mapping[str, Any] | timedelta
"""One entry of a member's history (see :func:`member`)."""

_ABOUT_AN_ORDER: Final = ("order_refunded", "order_cancelled", "shipment_delayed")


def program(**sections: Any) -> Program:
    """A valid program: :data:`DEFAULTS` with ``sections`` added or replacing keys
    (a section replaces the default's whole; ``earning={"rate": 2}``).

    Raises :class:`~loyalty.errors.ConfigurationError`, as
    :func:`~loyalty.load_program` does, listing every problem of the result."""
    return load_program({**DEFAULTS, **sections})


def program_from(data: Mapping[str, Any], **sections: Any) -> Program:
    """A program from a mapping (a dict, a parsed YAML file) completed with
    :data:`DEFAULTS`, then ``sections``: ``program_from({"earning": {"rate": 5}})``."""
    if not isinstance(data, Mapping):
        raise InvalidInput("data", data, "is not a mapping of program keys")
    return load_program({**DEFAULTS, **data, **sections})


def service(
    program: Program | Mapping[str, Any] | str | PathLike[str] | None = None,
) -> LoyaltyService:
    """A :class:`~loyalty.LoyaltyService` on a fresh in-memory store, for ``program``:
    a loaded program, a mapping (completed as :func:`program_from` does), a file path,
    or (by default) :func:`program` with no sections."""
    if program is None:
        loaded = load_program(dict(DEFAULTS))
    elif isinstance(program, Program):
        loaded = program
    elif isinstance(program, Mapping):
        loaded = program_from(program)
    else:
        loaded = load_program(program)
    return LoyaltyService(loaded, MemoryStore())


def cart(
    *items: Item,
    id: str = "cart",
    member_id: str = "m-1",
    currency: str = "USD",
    **fields: Any,
) -> Cart:
    """A validated cart of ``items``: ``(sku, price, qty)`` tuples, ``(sku, price)``
    for one unit, or bare prices (one unit of ``ITEM-<n>``).

    Prices are text (``"12.50"``), ``Decimal`` or ``int``; a ``float`` is refused
    with :class:`~loyalty.errors.InvalidMoney` naming ``items[<i>].price``.
    ``fields`` are the cart's other fields (``shipping``, ``tax``, ``customer``...);
    the cart itself is checked by :func:`~loyalty.load_cart`
    (:class:`~loyalty.errors.InvalidCart`)."""
    data = {
        "id": id,
        "member_id": member_id,
        "currency": currency,
        "lines": line_data(items),
        **fields,
    }
    return load_cart(data)


def member(
    service: LoyaltyService,
    member_id: str = "m-1",
    history: Iterable[History] = (),
    *,
    at: datetime | Clock = START,
    **details: Any,
) -> Member:
    """Enrol ``member_id`` in ``service`` at ``at`` and play ``history``; return the
    member as of the end of it.

    ``details`` are the enrolment's (``segments``, ``birthday``...). Each entry of
    ``history`` is, in order:

    - **an order**: a price (``"120.00"``), an item ``(sku, price, qty)`` or a list
      of items, in the program's currency, with the id ``H-<n>`` (the n-th order of
      the history, from 1) and the key ``order:H-<n>``; or a :class:`~loyalty.Cart`,
      with its own id and currency;
    - **a timedelta**: time passes (``timedelta(days=31)``);
    - **a step** (a mapping, as :mod:`loyalty.testing.steps` builds them:
      ``refund(lines={"A": 1})``, ``cancel()``, ``advance(...)``...): what it leaves
      out of ``member_id``, ``at`` and, for a refund, cancellation or delay,
      ``order_id`` (the last order so far) is filled in.

    Every entry happens at the current time: ``at`` at first, later as moved by the
    timedeltas. With a :class:`~loyalty.testing.clock.Clock`, the clock is moved to
    the history's last time. An entry that is none of these raises
    :class:`~loyalty.errors.InvalidInput` naming it (``history[2]``) before anything
    is written; a step the service refuses raises the service's error (the steps
    before it stay written)."""
    if isinstance(history, str | bytes | Mapping | Cart):
        raise InvalidInput("history", history, "is not a list of entries (wrap it: [entry])")
    now = instant(at)
    steps = [enrolment(member_id, at=now, **details)]
    orders = 0
    last_order: str | None = None
    for index, entry in enumerate(history):
        where = f"history[{index}]"
        if isinstance(entry, timedelta):
            if entry < timedelta():
                raise InvalidInput(where, entry, "is negative: a history only moves forward")
            now = Clock(now).advance(entry)
            continue
        if isinstance(entry, Mapping):
            step = _completed(entry, member_id, now, last_order, where)
        else:
            orders += 1
            step = _order(entry, member_id, f"H-{orders}", service.program.currency, where)
            step["at"] = now.isoformat()
        if step.get("type") == "order_completed" and isinstance(step.get("cart"), Mapping):
            last_order = step["cart"].get("id", last_order)
        steps.append(step)
    runner = StepRunner(service)
    for step in steps:
        runner.run(step)
    if isinstance(at, Clock):
        at.set(now)
    return service.member(member_id, now)


def _order(
    entry: object, member_id: str, order_id: str, currency: str, where: str
) -> dict[str, Any]:
    """The order_completed step a history entry stands for."""
    if isinstance(entry, Cart):
        body = {**entry.model_dump(mode="json"), "member_id": member_id}
        return {"type": "order_completed", "member_id": member_id,
                "key": f"order:{body['id']}", "cart": body}
    if isinstance(entry, list):
        lines = line_data(entry)
    elif isinstance(entry, tuple):
        lines = line_data([entry])
    elif isinstance(entry, str | int | float | Decimal):  # a float (or a bool) is refused
        lines = [{"sku": "ITEM-1", "unit_price": amount_text(entry, where), "quantity": 1}]
    else:
        raise InvalidInput(where, entry, "is not an order, a step (a mapping) or a timedelta")
    body = {"id": order_id, "member_id": member_id, "currency": currency, "lines": lines}
    return {"type": "order_completed", "member_id": member_id,
            "key": f"order:{order_id}", "cart": body}


def _completed(
    entry: Mapping[str, Any],
    member_id: str,
    now: datetime,
    last_order: str | None,
    where: str,
) -> dict[str, Any]:
    """``entry`` with what it leaves out filled in: the member, the time, the order."""
    step = dict(entry)
    kind = step.get("type")
    if kind != "advance":
        step.setdefault("member_id", member_id)
    step.setdefault("at", now.isoformat())
    if kind in _ABOUT_AN_ORDER and "order_id" not in step:
        if last_order is None:
            raise InvalidInput(
                where, dict(entry), f"refers to an order ({kind}), but no order comes before it"
            )
        step["order_id"] = last_order
    if kind == "order_completed" and isinstance(step.get("cart"), Mapping):
        step["cart"] = {"member_id": step["member_id"], **step["cart"]}
    return step
