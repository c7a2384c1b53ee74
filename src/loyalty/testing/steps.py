"""Steps as a test writes them: an order from a few ``(sku, price, qty)`` tuples, a
refund, a cancellation, a late shipment, an enrolment, the nightly run.

Each builder returns the mapping a shop's webhook (or a replay file) would carry,
ready for :meth:`LoyaltyService.handle <loyalty.LoyaltyService.handle>` (events)
or :class:`loyalty.StepRunner` (any step): times as ISO 8601 text, amounts as
decimal text, so ``json.dumps`` takes every one. ``at`` is an aware datetime or a
:class:`~loyalty.testing.clock.Clock` (its current time).

The ids and keys a test does not care about are made up: an order is ``O-<n>``
with the key ``order:O-<n>``, a refund's key ``refund:<order>:<n>``, ``n``
counting up in the process. ``member_id``, ``at`` and a refund's ``order_id``
may be left out when the step goes into the history of
:func:`~loyalty.testing.builders.member`, which fills them in.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from loyalty.errors import InvalidInput, InvalidMoney
from loyalty.testing.clock import Clock, instant

__all__ = [
    "Item",
    "Price",
    "advance",
    "cancel",
    "delay",
    "enrolment",
    "line_data",
    "order",
    "refund",
]

Price = str | Decimal | int
"""A price or an amount: decimal text (``"12.50"``), a ``Decimal`` or an ``int``;
never a ``float``."""

Item = tuple[str, Price] | tuple[str, Price, int] | Price
"""A cart line: ``(sku, price, qty)``, ``(sku, price)`` for one unit, or a bare price
(one unit of ``ITEM-<n>``, ``n`` its position from 1)."""

_serial = itertools.count(1)


def amount_text(value: object, field: str) -> str | int:
    """``value`` as an amount a mapping carries: decimal text or an int. A float (or a
    bool) is refused with :class:`~loyalty.errors.InvalidMoney` naming ``field``."""
    if isinstance(value, bool | float):
        raise InvalidMoney(
            field, value,
            f"is a {type(value).__name__}; give amounts as text ('12.50'), Decimal or int",
        )
    if isinstance(value, int | str):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    raise InvalidMoney(field, value, "is not an amount: give text ('12.50'), Decimal or int")


def line_data(items: Iterable[Item]) -> list[dict[str, Any]]:
    """The cart lines ``items`` stand for, as mappings (``sku``, ``unit_price``,
    ``quantity``); a malformed item is refused with
    :class:`~loyalty.errors.InvalidInput` naming ``items[<i>]``."""
    lines = []
    for index, item in enumerate(items):
        where = f"items[{index}]"
        if not isinstance(item, tuple):
            lines.append(
                {"sku": f"ITEM-{index + 1}", "unit_price": amount_text(item, where), "quantity": 1}
            )
            continue
        if len(item) not in (2, 3):
            raise InvalidInput(where, item, "is not (sku, price) or (sku, price, qty)")
        sku, price = item[0], item[1]
        quantity = item[2] if len(item) == 3 else 1
        if not isinstance(sku, str):
            raise InvalidInput(f"{where}.sku", sku, "is not text")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise InvalidInput(f"{where}.qty", quantity, "is not a whole number of units")
        lines.append(
            {"sku": sku, "unit_price": amount_text(price, f"{where}.price"), "quantity": quantity}
        )
    if not lines:
        raise InvalidInput("items", (), "is empty: a cart needs at least one (sku, price, qty)")
    return lines


def _put(data: dict[str, Any], member_id: str | None, at: datetime | Clock | None) -> None:
    if member_id is not None:
        data["member_id"] = member_id
    if at is not None:
        data["at"] = instant(at).isoformat()


def enrolment(member_id: str, *, at: datetime | Clock, **details: Any) -> dict[str, Any]:
    """An ``enrol`` step (for :class:`loyalty.StepRunner`); ``details`` are the
    enrolment's other fields (``segments``, ``birthday``, ``channel``...)."""
    data: dict[str, Any] = {"type": "enrol"}
    _put(data, member_id, at)
    return {**data, **details}


def order(
    *items: Item,
    member_id: str | None = None,
    at: datetime | Clock | None = None,
    id: str | None = None,
    key: str | None = None,
    currency: str = "USD",
    **cart: Any,
) -> dict[str, Any]:
    """An ``order_completed`` event for a cart of ``items`` (see :data:`Item`).

    ``cart`` adds fields of the cart (``shipping``, ``tax``, ``customer``...).
    ``id`` defaults to ``O-<n>``, ``key`` to ``order:<id>``."""
    order_id = id if id is not None else f"O-{next(_serial)}"
    lines = line_data(items)
    body: dict[str, Any] = {"id": order_id, "currency": currency, "lines": lines, **cart}
    if member_id is not None:
        body.setdefault("member_id", member_id)
    data: dict[str, Any] = {"type": "order_completed"}
    _put(data, member_id, at)
    return {**data, "key": key if key is not None else f"order:{order_id}", "cart": body}


def refund(
    order_id: str | None = None,
    *,
    lines: dict[str, int] | None = None,
    amount: Price | None = None,
    shipping: bool = False,
    member_id: str | None = None,
    at: datetime | Clock | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """An ``order_refunded`` event: ``lines`` (line ref -> units), or an ``amount`` of
    the order's money, or (neither) all that is left; the shipping too if ``shipping``."""
    data: dict[str, Any] = {"type": "order_refunded"}
    _put(data, member_id, at)
    if order_id is not None:
        data["order_id"] = order_id
    if lines is not None:
        data["lines"] = dict(lines)
    if amount is not None:
        data["amount"] = amount_text(amount, "amount")
    if shipping:
        data["shipping"] = True
    data["key"] = key if key is not None else f"refund:{order_id or 'last'}:{next(_serial)}"
    return data


def _about_order(
    kind: str,
    order_id: str | None,
    member_id: str | None,
    at: datetime | Clock | None,
    key: str | None,
) -> dict[str, Any]:
    data: dict[str, Any] = {"type": kind}
    _put(data, member_id, at)
    if order_id is not None:
        data["order_id"] = order_id
    data["key"] = key if key is not None else f"{kind}:{order_id or 'last'}:{next(_serial)}"
    return data


def cancel(
    order_id: str | None = None,
    *,
    member_id: str | None = None,
    at: datetime | Clock | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """An ``order_cancelled`` event: everything left of the order is refunded."""
    return _about_order("order_cancelled", order_id, member_id, at, key)


def delay(
    order_id: str | None = None,
    *,
    member_id: str | None = None,
    at: datetime | Clock | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """A ``shipment_delayed`` event: the program's apology, if it has one."""
    return _about_order("shipment_delayed", order_id, member_id, at, key)


def advance(at: datetime | Clock) -> dict[str, Any]:
    """An ``advance`` step: the nightly run at ``at`` (pending points become
    available, lots expire, tiers are reviewed)."""
    return {"type": "advance", "at": instant(at).isoformat()}
