"""Quickstart: earn on orders, redeem, refund, and print the member's statement.

Run it with ``.venv/bin/python examples/quickstart.py``. Every time is passed in
(``at=``); the library never reads the clock.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import loyalty
from loyalty import Money

PROGRAM = Path(__file__).parent / "programs" / "cosmetics-club.yaml"


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def main() -> loyalty.Account:
    program = loyalty.load_program(PROGRAM)
    member = loyalty.open_account(program, "member-42")

    # Two orders earn points; they stay pending for the 30-day return window.
    first = loyalty.earn(
        member,
        amount=Money("120.00", "USD"),
        at=at("2026-03-04T15:00"),
        key="order:A-1001",
        source="A-1001",
    )
    loyalty.earn(
        member,
        amount=Money("45.50", "USD"),
        at=at("2026-03-20T18:30"),
        key="order:A-1002",
        source="A-1002",
    )
    print(f"After two orders: {member.balance().pending} points pending")

    # The webhook for A-1001 is delivered twice: the second delivery changes nothing.
    again = loyalty.earn(
        member,
        amount=Money("120.00", "USD"),
        at=at("2026-03-04T15:05"),
        key="order:A-1001",
        source="A-1001",
    )
    print("A repeated delivery returns the original entry:", again is first)

    # After the return window the member redeems 100 points on a third order.
    loyalty.redeem(member, 100, at=at("2026-04-20T12:00"), key="redeem:A-1003", source="A-1003")

    # Half of order A-1001 is refunded: 60 points are taken back. The lot of
    # A-1001 has 20 left; the 40 already spent come from A-1002's lot.
    loyalty.reverse(
        member,
        first.id,
        amount=Money("60.00", "USD"),
        at=at("2026-04-25T09:00"),
        key="refund:RF-77",
        source="RF-77",
    )

    # A year on, what is left expires at the end of the month, in New York time.
    loyalty.advance(member, at("2027-04-02T00:00"))

    print(loyalty.statement(member).render())
    problems = loyalty.verify(member)
    print("verify:", problems or "the journal and the balances agree")
    return member


if __name__ == "__main__":
    main()
