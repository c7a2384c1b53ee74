"""The service a shop backend holds, on the embedded default: a SQLite file.

Enrol a member, feed the order webhooks (one delivered twice), quote and redeem
at checkout, run the nightly job, forward the outbox, and check that the stored
state re-derives from the stored journal. Pass a path to keep the database;
by default it lives in a temporary directory.

Run it with ``.venv/bin/python examples/service.py`` (the tests run it too).
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, assert_type

import loyalty
from loyalty.store.sql import SQLStore

PROGRAM = Path(__file__).parent / "programs" / "cosmetics-club.yaml"


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def order_event(order_id: str, when: str, *lines: tuple[str, str, int]) -> dict[str, Any]:
    """An order webhook as a shop would send it (JSON)."""
    return {
        "type": "order_completed",
        "member_id": "member-7",
        "key": f"order:{order_id}",
        "at": at(when).isoformat(),
        "cart": {
            "id": order_id,
            "member_id": "member-7",
            "currency": "USD",
            "lines": [
                {"sku": sku, "unit_price": price, "quantity": quantity}
                for sku, price, quantity in lines
            ],
        },
    }


def main(database: Path) -> loyalty.LoyaltyService:
    program = loyalty.load_program(PROGRAM)
    service = loyalty.LoyaltyService(program, SQLStore(f"sqlite:///{database}"))

    service.enrol("member-7", at=at("2026-02-01T10:00"), segments=["newsletter"])
    first = order_event("B-1", "2026-03-01T10:05", ("SERUM-50ML", "60.00", 2))
    service.handle(first)
    service.handle(first)  # the webhook is delivered twice: it credits once
    print(f"after B-1: {service.balance('member-7').pending} points pending")

    # The nightly job: the return window has passed, the points are available.
    report = service.advance(at("2026-04-01T02:00"))
    print(f"nightly run: {report.members} member(s), {report.notifications} notification(s)")

    basket = order_event(
        "B-3", "2026-04-10T09:12", ("LIPSTICK", "12.00", 1), ("MASCARA", "8.00", 2)
    )
    quote = service.quote("member-7", basket["cart"], at=at("2026-04-10T09:00"))
    best = quote.best
    print(f"best reward for B-3: {best.title if best else 'none'}")
    redemption = service.redeem(
        "member-7", "five-off", basket["cart"], at=at("2026-04-10T09:10"), key="checkout:B-3"
    )
    print(f"redeemed: {redemption.total} off, {redemption.points} points")
    # A typed event gives a typed result: mypy knows this is an OrderResult.
    completed = service.handle(loyalty.OrderCompleted.model_validate(basket))
    assert_type(completed, loyalty.OrderResult)
    print(f"B-3 earned {completed.earn.points if completed.earn else 0} points")

    # A webhook that arrives late (after the 02:00 nightly run of 12 April) is applied,
    # written at the member's clock and keeping its own time for its return window.
    service.advance(at("2026-04-12T02:00"))
    late = service.handle(order_event("B-4", "2026-04-12T01:59", ("LIPSTICK", "12.00", 1)))
    assert isinstance(late, loyalty.OrderResult)
    print(f"late B-4: written {late.order.at:%d %b %H:%M}, happened {late.order.when:%H:%M}")

    print("\noutbox (what the shop forwards to email or push):")
    messages = service.outbox()
    for message in messages:
        data = message.notification.data()
        print(f"  #{message.id} {data['kind']}: {data}")
    service.acknowledge([message.id for message in messages])

    print()
    print(service.statement("member-7").render())
    problems = service.verify("member-7")
    print(f"\nverify: {problems or 'sound'}")
    return service


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as folder:
            main(Path(folder) / "loyalty.db").store.close()
