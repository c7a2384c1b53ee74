"""Offers and stacking at checkout: a cosmetics shop's promotions beside its points.

Mia subscribes to the newsletter and holds 120 points. On 2 May a serum alone
(30.50 USD) is told to add 4.50 USD for free shipping and one more item for 5% off.
With three soaps and a lipstick, the 3-for-2 frees the cheapest soap, 10% from 4
items beats 5% from 2 (only the better of the two applies), and the basket, still
above 35.00 USD after both, ships free. She spends 100 points on 5.00 USD off: the
discounts now pass the cap of 18.00 USD per order, so the free shipping is cut. The
order earns on what she paid after all of it. On 4 July the summer sale (25% off,
exclusive) gives a two-item basket more than everything else together, so it applies
alone (cut to the cap too); with no reward to redeem, ``apply_offers`` writes it.

Program: ``examples/programs/stacked-offers.yaml``; the page is ``docs/offers.md``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import loyalty

PROGRAM = Path(__file__).parent / "programs" / "stacked-offers.yaml"
NEW_YORK = ZoneInfo("America/New_York")

SERUM = ("SERUM", "30.50", 1, "skincare")
CREAM = ("CREAM", "42.00", 1, "skincare")
ROSE_SOAP = ("SOAP-ROSE", "4.00", 2, "soap")
SAGE_SOAP = ("SOAP-SAGE", "5.00", 1, "soap")
LIPSTICK = ("LIPSTICK", "12.00", 1, "makeup")


def at(moment: str) -> datetime:
    """A fixed instant, New York time (the program's timezone)."""
    return datetime.fromisoformat(moment).replace(tzinfo=NEW_YORK)


def cart(order_id: str, *lines: tuple[str, str, int, str]) -> dict[str, Any]:
    return {
        "id": order_id,
        "member_id": "mia",
        "currency": "USD",
        "shipping": "5.90",
        "customer": {"segments": ["newsletter"]},  # the shop fills them from her profile
        "lines": [
            {"sku": sku, "unit_price": price, "quantity": quantity, "categories": [category]}
            for sku, price, quantity, category in lines
        ],
    }


def main() -> loyalty.Account:
    program = loyalty.load_program(PROGRAM)
    mia = loyalty.open_account(program, "mia")
    loyalty.earn(mia, amount=loyalty.Money("120.00", "USD"), at=at("2026-04-01T10:00"),
                 key="order:A-7", source="A-7")

    print("== 2 May, a serum alone ==")
    small = cart("B-1", SERUM)
    print(loyalty.quote(mia, small, at=at("2026-05-02T15:00")).explain(), end="\n\n")

    print("== 2 May, with three soaps and a lipstick ==")
    basket = cart("B-2", SERUM, ROSE_SOAP, SAGE_SOAP, LIPSTICK)
    print(loyalty.quote(mia, basket, at=at("2026-05-02T15:00")).explain(), end="\n\n")

    print("== she spends 100 points on 5.00 USD off ==")
    redemption = loyalty.redeem_reward(mia, "five-off", basket, at=at("2026-05-02T15:05"),
                                       key="checkout:B-2")
    print(f"five-off: {redemption.total} off for {redemption.points} points")
    for record in mia.redemptions("B-2"):
        if record.in_use:
            what = f"offer {record.offer}" if record.offer else f"reward {record.reward}"
            off = sum(part.amount.amount for part in record.discounts)
            shipping = f", shipping {record.shipping_discount}" if record.shipping_discount else ""
            print(f"  written: {what}, {record.points} points, lines {off}{shipping}")
    print(loyalty.quote(mia, basket, at=at("2026-05-02T15:06")).explain(), end="\n\n")
    order = loyalty.complete_order(mia, basket, at=at("2026-05-02T15:10"), key="order:B-2")
    assert order.earn is not None
    print(f"order B-2 earned {order.earn.points} points on {order.earn.basis}", end="\n\n")

    print("== 4 July, summer sale ==")
    summer = cart("B-3", SERUM, CREAM)
    print(loyalty.quote(mia, summer, at=at("2026-07-04T11:00")).explain())
    applied = loyalty.apply_offers(mia, summer, at=at("2026-07-04T11:05"), key="offers:B-3")
    print("applied: " + ", ".join(f"{r.entry.offer} {r.total}" for r in applied))
    order = loyalty.complete_order(mia, summer, at=at("2026-07-04T11:10"), key="order:B-3")
    assert order.earn is not None
    print(f"order B-3 earned {order.earn.points} points on {order.earn.basis}")
    print(f"balance: {mia.balance().available} points")
    return mia


if __name__ == "__main__":
    main()
