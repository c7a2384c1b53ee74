"""Checkout: the cosmetics club's $5 reward, with its hurdles (story 1).

The reward costs 100 points and unlocks only on a repeat order of at least
$10.00. The first order earns the points but cannot use them; a small second
basket is told how much to add; a $20 basket gets the $5 off, earns on what the
customer paid, and gives the points back pro rata when a line is returned.

Run it with ``.venv/bin/python examples/checkout.py`` (the tests run it too).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import loyalty

PROGRAM = Path(__file__).parent / "programs" / "cosmetics-club.yaml"


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def cart(order_id: str, *lines: tuple[str, str, int]) -> dict[str, Any]:
    return {
        "id": order_id,
        "member_id": "member-7",
        "currency": "USD",
        "lines": [
            {"sku": sku, "unit_price": price, "quantity": quantity}
            for sku, price, quantity in lines
        ],
        "shipping": "4.90",
    }


def main() -> loyalty.Account:
    program = loyalty.load_program(PROGRAM)
    member = loyalty.open_account(program, "member-7")

    # The first order: it earns 120 points, but the reward is not for this order.
    first = cart("B-1", ("SERUM-50ML", "60.00", 2))
    print(loyalty.quote(member, first, at=at("2026-03-01T10:00")).explain(), end="\n\n")
    loyalty.complete_order(member, first, at=at("2026-03-01T10:05"), key="order:B-1")

    # 40 days later the points are available. A $9.50 basket is too small.
    small = cart("B-2", ("LIPSTICK", "9.50", 1))
    print(loyalty.quote(member, small, at=at("2026-04-10T09:00")).explain(), end="\n\n")

    # A $20 basket qualifies: redeem at checkout, then complete the order.
    basket = cart("B-3", ("LIPSTICK", "12.00", 1), ("MASCARA", "8.00", 2))
    redemption = loyalty.redeem_reward(
        member, "five-off", basket, at=at("2026-04-10T09:10"), key="checkout:B-3"
    )
    for line in redemption.lines:
        print(f"discount on {line.line}: {line.amount}")
    order = loyalty.complete_order(member, basket, at=at("2026-04-10T09:12"), key="order:B-3")
    assert order.earn is not None
    print(f"order B-3 earned {order.earn.points} points on {order.earn.basis} (after the $5)")

    # One mascara comes back: its share of the points earned is reversed, and its
    # share of the 100 points spent comes back as a new lot.
    refund = loyalty.refund_order(
        member, "B-3", lines={"MASCARA": 1}, at=at("2026-04-15T12:00"), key="refund:B-3:1"
    )
    taken = -refund.reversal.points if refund.reversal else 0
    given = sum(entry.points for entry in refund.returns)
    print(f"refund of one mascara: {taken} points reversed, {given} points given back")

    print()
    print(loyalty.statement(member).render())
    return member


if __name__ == "__main__":
    main()
