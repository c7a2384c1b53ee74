"""A proactive apology (story 3), on the embedded default store (a SQLite file).

Two customers' parcels are late. The shop's shipping webhook reports each delay and
the program, unasked, gives a 10.00 USD coupon and free shipping for the next order,
once per order: the carrier's second report for the same parcel issues nothing.
The grant knows whether the late order was the customer's first, so the message can
say "your first order with us". Ana then uses both coupons on her next order.

Program: ``examples/programs/late-apology.yaml``. Pass a path to keep the database.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import loyalty
from loyalty.incentives.codes import display
from loyalty.store.port import OutboxMessage
from loyalty.store.sql import SQLStore

PROGRAM = Path(__file__).parent / "programs" / "late-apology.yaml"
NEW_YORK = ZoneInfo("America/New_York")


def at(moment: str) -> datetime:
    """A fixed instant, New York time (the program's timezone)."""
    return datetime.fromisoformat(moment).replace(tzinfo=NEW_YORK)


def cart(member: str, order_id: str, *lines: tuple[str, str, int]) -> dict[str, Any]:
    return {
        "id": order_id,
        "member_id": member,
        "currency": "USD",
        "shipping": "5.90",
        "lines": [
            {"sku": sku, "unit_price": price, "quantity": quantity}
            for sku, price, quantity in lines
        ],
    }


def order(member: str, order_id: str, when: str, *lines: tuple[str, str, int]) -> dict[str, Any]:
    """An order webhook as a shop would send it (JSON)."""
    return {
        "type": "order_completed",
        "member_id": member,
        "key": f"order:{order_id}",
        "at": at(when).isoformat(),
        "cart": cart(member, order_id, *lines),
    }


def delayed(member: str, order_id: str, when: str, webhook: str) -> dict[str, Any]:
    """The carrier's "late" report, as the shop's shipping webhook forwards it."""
    return {
        "type": "shipment_delayed",
        "member_id": member,
        "key": webhook,
        "at": at(when).isoformat(),
        "order_id": order_id,
    }


@dataclass
class Run:
    """What the story did, for the tests to check."""

    service: loyalty.LoyaltyService
    apologies: dict[str, loyalty.Fired]
    next_order: list[loyalty.Redemption]
    messages: list[OutboxMessage]


def main(database: Path) -> Run:
    program = loyalty.load_program(PROGRAM)
    service = loyalty.LoyaltyService(program, SQLStore(f"sqlite:///{database}"))
    codes = program.incentives.codes

    # Ana is new: her first order ships late. Ben has ordered before; his second is late.
    service.enrol("ana", at=at("2026-03-01T09:00"))
    service.enrol("ben", at=at("2026-01-10T09:00"))
    service.handle(order("ana", "A-1", "2026-03-02T10:00", ("SERUM", "42.00", 1)))
    service.handle(order("ben", "B-1", "2026-01-12T10:00", ("MASK", "15.00", 2)))
    service.handle(order("ben", "B-2", "2026-03-02T11:00", ("CREAM", "28.00", 1)))

    apologies: dict[str, loyalty.Fired] = {}
    for member, order_id, webhook in (("ana", "A-1", "ship:881"), ("ben", "B-2", "ship:882")):
        fired = service.handle(delayed(member, order_id, "2026-03-05T08:00", webhook))
        assert isinstance(fired, loyalty.Fired)
        apologies[order_id] = fired
        for grant in fired.grants:
            first = "their first order" if grant.first_order else "a repeat customer"
            print(f"{order_id} is late ({member}, {first}): {grant.reason}")
            for holding in grant.holdings:
                assert holding.code is not None
                assert holding.valid_until is not None
                print(
                    f"  {holding.title}: code {display(holding.code, codes)}, "
                    f"until {holding.valid_until.astimezone(NEW_YORK):%d %b %Y %H:%M}"
                )

    # The carrier reports A-1 late again, under another webhook id: nothing new.
    again = service.handle(delayed("ana", "A-1", "2026-03-06T08:00", "ship:913"))
    assert isinstance(again, loyalty.Fired)
    apologies["A-1 again"] = again
    same = bool(again.grants) and again.grants == apologies["A-1"].grants
    print(f"A-1 reported late again: {'the same grant, nothing new' if same else again}")
    print(f"ana holds {len(service.holdings('ana'))} coupons")

    # Ana's next order: she types both codes; 10.00 off the lines, and free shipping.
    basket = cart("ana", "A-2", ("LIPSTICK", "16.00", 1), ("MASCARA", "9.00", 1))
    next_order = []
    for holding in service.holdings("ana"):
        assert holding.code is not None
        typed = display(holding.code, codes).lower()  # read forgivingly: case, dashes
        redemption = service.redeem_coupon(
            "ana", typed, basket, at=at("2026-03-20T18:00"), key=f"checkout:A-2:{holding.key}"
        )
        next_order.append(redemption)
        for line in redemption.lines:
            print(f"  A-2 {line.line}: {line.amount} off")
        if redemption.shipping is not None:
            print(f"  A-2 shipping: {redemption.shipping} off")
    service.handle(
        order("ana", "A-2", "2026-03-20T18:02", ("LIPSTICK", "16.00", 1), ("MASCARA", "9.00", 1))
    )

    print("\noutbox (what the shop forwards to email or push):")
    messages = service.outbox()
    for message in messages:
        data = message.notification.data()
        shown = {k: v for k, v in data.items() if k not in ("kind", "member_id", "at", "dedupe")}
        print(f"  #{message.id} {data['kind']} for {data['member_id']}: {shown}")
    service.acknowledge([message.id for message in messages])

    print()
    print(service.statement("ana").render())
    return Run(service, apologies, next_order, messages)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as folder:
            main(Path(folder) / "loyalty.db").service.store.close()
