"""Scarcity with a hurdle (story 5), on the embedded default store (a SQLite file).

Friday 16:00: the marketer decides on a weekend flash sale for lapsed customers. An
operator issues the ``flash-half-off`` incentive to every member; its audience gives it
to the lapsed ones only. Each gets a 50% off coupon, valid 48 hours, on a basket of
30.00 USD or more. Ana's first basket is too small (she is told by how much), her
second gets half off; Ben waits too long and his code "cannot be applied"; the nightly
run then records his coupon as expired.

Program: ``examples/programs/flash-half-off.yaml``. Pass a path to keep the database.
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
from loyalty.store.port import OutboxMessage, iter_members
from loyalty.store.sql import SQLStore

PROGRAM = Path(__file__).parent / "programs" / "flash-half-off.yaml"
NEW_YORK = ZoneInfo("America/New_York")


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
    issued: dict[str, loyalty.Grant] = field(default_factory=dict)
    outside: dict[str, str] = field(default_factory=dict)
    refused: dict[str, loyalty.LoyaltyError] = field(default_factory=dict)
    redeemed: dict[str, loyalty.Redemption] = field(default_factory=dict)
    messages: list[OutboxMessage] = field(default_factory=list)


def main(database: Path) -> Run:
    program = loyalty.load_program(PROGRAM)
    service = loyalty.LoyaltyService(program, SQLStore(f"sqlite:///{database}"))
    run = Run(service)
    codes = program.incentives.codes
    service.enrol("ana", at=at("2025-09-01T09:00"), segments=["lapsed"])
    service.enrol("ben", at=at("2025-10-01T09:00"), segments=["lapsed"])
    service.enrol("cleo", at=at("2026-05-20T09:00"), segments=["newsletter"])

    # Friday 12 June, 16:00: the operator issues the flash sale to everyone at once.
    announced = at("2026-06-12T16:00")
    for member in iter_members(service.store, program.id):
        try:
            grant = service.grant(
                member,
                "flash-half-off",
                at=announced,
                key="flash-june",
                reason="weekend flash sale",
                actor="ops:maria",
            )
        except loyalty.InvalidInput as outside:  # the audience: not a lapsed customer
            run.outside[member] = outside.reason
            print(f"{member}: not issued ({outside.reason})")
            continue
        run.issued[member] = grant
        (coupon,) = grant.holdings
        assert coupon.code is not None
        assert coupon.valid_until is not None
        ends = coupon.valid_until.astimezone(NEW_YORK)
        print(f"{member}: {coupon.title}, code {display(coupon.code, codes)}, ends {ends:%a %H:%M}")

    ana = display(run.issued["ana"].holdings[0].code or "", codes)
    # Saturday: a 24.00 basket is under the 30.00 minimum.
    small = cart("ana", "A-1", ("LIPSTICK", "24.00", 1))
    try:
        service.redeem_coupon("ana", ana, small, at=at("2026-06-13T11:00"), key="checkout:A-1")
    except loyalty.RedemptionRefused as refused:
        run.refused["ana"] = refused
        (unmet,) = refused.unmet
        print(f"ana, 24.00 basket: refused: {unmet.reason} (short by {unmet.shortfall})")
    # She adds a mascara: 38.00, half off is 19.00, taken from each line.
    big = cart("ana", "A-1", ("LIPSTICK", "24.00", 1), ("MASCARA", "14.00", 1))
    redeemed = service.redeem_coupon(
        "ana", ana, big, at=at("2026-06-13T11:05"), key="checkout:A-1:2"
    )
    run.redeemed["ana"] = redeemed
    print(f"ana, 38.00 basket: {redeemed.total} off")
    for line in redeemed.lines:
        print(f"  {line.line}: {line.amount} off")
    service.handle(
        {
            "type": "order_completed",
            "member_id": "ana",
            "key": "order:A-1",
            "at": at("2026-06-13T11:06").isoformat(),
            "cart": big,
        }
    )
    print(f"ana's order earned {service.balance('ana').net} points on what she paid")

    # Ben comes back on Sunday at 16:00 sharp: the 48 hours are over.
    ben = display(run.issued["ben"].holdings[0].code or "", codes)
    late = cart("ben", "B-1", ("PALETTE", "45.00", 1))
    try:
        service.redeem_coupon("ben", ben, late, at=at("2026-06-14T16:00"), key="checkout:B-1")
    except loyalty.CouponRefused as refused:
        run.refused["ben"] = refused
        print(f"ben, Sunday 16:00: {refused} (audit trail: {refused.audit})")

    # The nightly run records the lapse.
    service.advance(at("2026-06-15T02:00"))
    for member in ("ana", "ben"):
        (coupon,) = service.holdings(member)
        print(f"{member}'s coupon: {coupon.status.value}")

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
