"""Scheduled gifts (story 6), on the embedded default store (a SQLite file).

Every 1st of the month the nightly run gives each member that month's free gift (a
mini product from another category each month) and free shipping to claim it. Ana
claims January's lip balm with her order. The run of 1 March never happens (the
server was down): the run of 3 March makes it up, with the validity the 1st would
have given. The operator, unsure, starts the run of 3 March again: nothing twice.

Program: ``examples/programs/monthly-gift.yaml``. Pass a path to keep the database.
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
from loyalty.incentives.codes import display
from loyalty.store.port import OutboxMessage
from loyalty.store.sql import SQLStore

PROGRAM = Path(__file__).parent / "programs" / "monthly-gift.yaml"
NEW_YORK = ZoneInfo("America/New_York")
MEMBERS = ("ana", "ben")


def at(moment: str) -> datetime:
    """A fixed instant, New York time (the program's timezone)."""
    return datetime.fromisoformat(moment).replace(tzinfo=NEW_YORK)


def cart(member: str, order_id: str, *lines: tuple[str, str, int]) -> dict[str, Any]:
    return {
        "id": order_id,
        "member_id": member,
        "currency": "USD",
        "shipping": "4.90",
        "lines": [
            {"sku": sku, "unit_price": price, "quantity": quantity}
            for sku, price, quantity in lines
        ],
    }


@dataclass
class Run:
    """What the story did, for the tests to check."""

    service: loyalty.LoyaltyService
    runs: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    """Each nightly run: the titles of what it gave each member."""
    claimed: list[loyalty.Redemption] = field(default_factory=list)
    messages: list[OutboxMessage] = field(default_factory=list)


def nightly(service: loyalty.LoyaltyService, run: Run, moment: str, label: str) -> None:
    """The scheduled run, and what it gave each member."""
    before = {member: len(service.holdings(member)) for member in MEMBERS}
    service.advance(at(moment))
    given = {member: service.holdings(member)[before[member] :] for member in MEMBERS}
    run.runs[label] = {member: [h.title for h in found] for member, found in given.items()}
    print(f"nightly run {label}:")
    for member, found in given.items():
        for holding in found:
            assert holding.code is not None
            assert holding.valid_until is not None
            code = display(holding.code, service.program.incentives.codes)
            ends = holding.valid_until.astimezone(NEW_YORK)
            print(f"  {member}: {holding.title} (code {code}, until {ends:%d %b %H:%M})")
    if not any(given.values()):
        print("  nothing new")


def main(database: Path) -> Run:
    program = loyalty.load_program(PROGRAM)
    service = loyalty.LoyaltyService(program, SQLStore(f"sqlite:///{database}"))
    run = Run(service)
    service.enrol("ana", at=at("2025-11-20T10:00"))
    service.enrol("ben", at=at("2026-01-15T10:00"))  # joins after January's gift

    nightly(service, run, "2026-01-01T02:00", "1 Jan")

    # Ana claims her lip balm: it goes in the cart, and both coupons come off.
    basket = cart("ana", "A-1", ("LIP-BALM-MINI", "6.00", 1), ("SERUM", "38.00", 1))
    for holding in service.holdings("ana"):
        assert holding.code is not None
        claimed = service.redeem_coupon(
            "ana", holding.code, basket, at=at("2026-01-20T19:00"), key=f"A-1:{holding.key}"
        )
        run.claimed.append(claimed)
        print(f"  ana claims {holding.title}: {claimed.total} off")
    service.handle(
        {
            "type": "order_completed",
            "member_id": "ana",
            "key": "order:A-1",
            "at": at("2026-01-20T19:01").isoformat(),
            "cart": basket,
        }
    )

    nightly(service, run, "2026-02-01T02:00", "1 Feb")
    nightly(service, run, "2026-02-01T02:00", "1 Feb, replayed")
    # The run of 1 March is missed; 3 March makes it up (and lapses February's gifts).
    nightly(service, run, "2026-03-03T02:00", "3 Mar")
    nightly(service, run, "2026-03-03T02:05", "3 Mar, started again")
    nightly(service, run, "2026-04-01T02:00", "1 Apr")

    for member in MEMBERS:
        states = ", ".join(f"{h.title}: {h.status.value}" for h in service.holdings(member))
        print(f"{member}: {states}")

    print("\noutbox (what the shop forwards to email or push):")
    run.messages = service.outbox()
    for message in run.messages:
        data = message.notification.data()
        shown = {k: v for k, v in data.items() if k not in ("kind", "member_id", "at", "dedupe")}
        print(f"  #{message.id} {data['kind']} for {data['member_id']}: {shown}")
    service.acknowledge([message.id for message in run.messages])
    return run


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as folder:
            main(Path(folder) / "loyalty.db").service.store.close()
