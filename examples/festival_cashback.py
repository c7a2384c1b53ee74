"""Linked festival campaigns (story 7), on the embedded default store (a SQLite file).

Singles' Day: Ana's 11.11 order earns 10% cashback, pending until 1 December. Ben
orders at 23:30 on 11.11 (New York), but the shop's webhook only arrives on 13
November, after two nightly runs: the order is judged at its own time and still
earns the 11.11 cashback. Cleo did not take part in 11.11: on 1 December she gets a
5.00 USD credit for the same Christmas window. In December Ana spends part of her
cashback and Cleo all of hers; on 25 December what is left expires, with an entry.

Program: ``examples/programs/festival-cashback.yaml``. Pass a path to keep the database.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import loyalty
from loyalty.store.port import OutboxMessage
from loyalty.store.sql import SQLStore

PROGRAM = Path(__file__).parent / "programs" / "festival-cashback.yaml"
NEW_YORK = ZoneInfo("America/New_York")
MEMBERS = ("ana", "ben", "cleo")


def at(moment: str) -> datetime:
    """A fixed instant, New York time (the program's timezone)."""
    return datetime.fromisoformat(moment).replace(tzinfo=NEW_YORK)


def cart(member: str, order_id: str, amount: str) -> dict[str, Any]:
    return {
        "id": order_id,
        "member_id": member,
        "currency": "USD",
        "lines": [{"sku": "GIFT-SET", "unit_price": amount, "quantity": 1}],
    }


def order(member: str, order_id: str, when: str, amount: str) -> dict[str, Any]:
    """An order webhook: ``at`` is when the order was placed, whenever it arrives."""
    return {
        "type": "order_completed",
        "member_id": member,
        "key": f"order:{order_id}",
        "at": at(when).isoformat(),
        "cart": cart(member, order_id, amount),
    }


@dataclass
class Run:
    """What the story did, for the tests to check."""

    service: loyalty.LoyaltyService
    cashback: dict[str, tuple[loyalty.Grant, ...]] = field(default_factory=dict)
    """The grants each order fired."""
    wallets: dict[str, dict[str, loyalty.Wallet]] = field(default_factory=dict)
    """Each member's wallet on each day shown."""
    refused: dict[str, loyalty.LoyaltyError] = field(default_factory=dict)
    spent: dict[str, tuple[loyalty.Redeem, ...]] = field(default_factory=dict)
    messages: list[OutboxMessage] = field(default_factory=list)


def wallets(run: Run, day: str) -> None:
    run.wallets[day] = {}
    print(f"wallets on {day}:")
    for member in MEMBERS:
        wallet = run.service.wallet(member, at(day))
        run.wallets[day][member] = wallet
        print(
            f"  {member}: pending {wallet.pending}, available {wallet.available}"
            f" (credited {wallet.credited}, spent {wallet.spent}, expired {wallet.expired})"
        )


def main(database: Path) -> Run:
    program = loyalty.load_program(PROGRAM)
    service = loyalty.LoyaltyService(program, SQLStore(f"sqlite:///{database}"))
    run = Run(service)
    for member in MEMBERS:
        service.enrol(member, at=at("2026-10-01T09:00"))

    def place(event: dict[str, Any]) -> None:
        result = service.handle(loyalty.OrderCompleted.model_validate(event))
        run.cashback[event["cart"]["id"]] = result.grants
        given = ", ".join(grant.reason for grant in result.grants) or "no cashback"
        print(f"{event['cart']['id']} ({event['member_id']}, {event['at'][:16]}): {given}")

    place(order("cleo", "C-1", "2026-10-20T12:00", "30.00"))
    place(order("ana", "A-1", "2026-11-10T18:00", "20.00"))  # the day before: nothing
    place(order("ana", "A-2", "2026-11-11T10:00", "80.00"))
    service.advance(at("2026-11-12T02:00"))
    service.advance(at("2026-11-13T02:00"))
    # Ben's order of 11.11 at 23:30 arrives on 13 November, after both nightly runs.
    place(order("ben", "B-1", "2026-11-11T23:30", "45.00"))
    place(order("ben", "B-2", "2026-11-13T10:00", "45.00"))  # two days later: nothing

    wallets(run, "2026-11-20T12:00")
    try:  # pending: not spendable before 1 December
        service.spend_cashback(
            "ana", cart("ana", "A-3", "30.00"), at=at("2026-11-20T12:00"), key="pay:A-3"
        )
    except loyalty.InvalidInput as refused:
        run.refused["ana"] = refused
        print(f"ana pays with cashback on 20 November: refused ({refused.reason})")

    service.advance(at("2026-12-01T02:00"))  # Cleo's Christmas credit
    run.spent["ana"] = service.spend_cashback(
        "ana",
        cart("ana", "A-4", "30.00"),
        at=at("2026-12-05T12:00"),
        key="pay:A-4",
        amount=loyalty.Money("5.00", "USD"),
    )
    place(order("ana", "A-4", "2026-12-05T12:01", "30.00"))
    run.spent["cleo"] = service.spend_cashback(
        "cleo", cart("cleo", "C-2", "30.00"), at=at("2026-12-10T12:00"), key="pay:C-2"
    )
    place(order("cleo", "C-2", "2026-12-10T12:01", "30.00"))
    for member, entries in run.spent.items():
        paid = sum(entry.tender.amount for entry in entries if entry.tender is not None)
        print(f"{member} pays {paid} USD of a 30.00 USD order with cashback")
    wallets(run, "2026-12-10T13:00")

    service.advance(at("2026-12-26T02:00"))  # the window closed at midnight on the 25th
    wallets(run, "2026-12-26T03:00")

    print("\noutbox (what the shop forwards to email or push):")
    run.messages = service.outbox()
    for message in run.messages:
        data = message.notification.data()
        shown = {k: v for k, v in data.items() if k not in ("kind", "member_id", "at", "dedupe")}
        print(f"  #{message.id} {data['kind']} for {data['member_id']}: {shown}")
    service.acknowledge([message.id for message in run.messages])
    print()
    print(service.statement("ben").render())
    return run


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as folder:
            main(Path(folder) / "loyalty.db").service.store.close()
