"""Segment thresholds (story 8), on the embedded default store (a SQLite file).

Free shipping from 35.00 USD, for the vip segment only. Vera (vip) has 30.50 USD in
her cart: her quote tells her to add 4.50 USD for free shipping. She adds a lipstick
and gets it. Noah, with the same cart, is not vip: his quote does not list the offer
at all, not even as something he cannot have.

Program: ``examples/programs/segment-free-shipping.yaml``. Pass a path to keep the database.
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
from loyalty.store.sql import SQLStore

PROGRAM = Path(__file__).parent / "programs" / "segment-free-shipping.yaml"
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


@dataclass
class Run:
    """What the story did, for the tests to check."""

    service: loyalty.LoyaltyService
    quotes: dict[str, loyalty.Quote] = field(default_factory=dict)
    redeemed: loyalty.Redemption | None = None
    refused: loyalty.LoyaltyError | None = None


def main(database: Path) -> Run:
    program = loyalty.load_program(PROGRAM)
    service = loyalty.LoyaltyService(program, SQLStore(f"sqlite:///{database}"))
    run = Run(service)
    service.enrol("vera", at=at("2026-01-05T10:00"), segments=["vip"])
    service.enrol("noah", at=at("2026-01-05T10:00"), segments=["newsletter"])
    now = at("2026-05-02T15:00")

    for member in ("vera", "noah"):
        quote = service.quote(member, cart(member, f"{member}-1", ("SERUM", "30.50", 1)), at=now)
        run.quotes[member] = quote
        print(f"{member}'s cart of 30.50 USD:")
        for option in quote.rewards:
            print(f"  {option.reward}: {'yes' if option.eligible else option.check.reason}")
        if not quote.rewards:
            print("  (no offers to show)")

    bigger = cart("vera", "vera-1", ("SERUM", "30.50", 1), ("LIPSTICK", "12.00", 1))
    quote = service.quote("vera", bigger, at=now)
    run.quotes["vera, 42.50"] = quote
    best = quote.best
    print(f"vera adds a lipstick (42.50 USD): best offer {best.reward if best else 'none'}")
    run.redeemed = service.redeem("vera", "vip-free-shipping", bigger, at=now, key="vera-1:ship")
    print(f"  redeemed: {run.redeemed.shipping} off the shipping, {run.redeemed.points} points")

    try:  # Noah tries the reward anyway (a hand-made request): it is not for him
        service.redeem(
            "noah",
            "vip-free-shipping",
            cart("noah", "noah-1", ("SERUM", "30.50", 1), ("LIPSTICK", "12.00", 1)),
            at=now,
            key="noah-1:ship",
        )
    except loyalty.LoyaltyError as refused:
        run.refused = refused
        print(f"noah redeems it anyway: refused ({refused})")
    return run


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as folder:
            main(Path(folder) / "loyalty.db").service.store.close()
