"""Peak days (story 9), on the embedded default store (a SQLite file).

11 November, just after midnight in New York: the shop's order webhooks arrive in a
rush, some twice, some out of order, one from the day before. They go in as one batch
through ``LoyaltyService.import_events``. Each order of 50.00 USD or more on 11.11
brings its flash coupon (30% off a second order within 2 hours) in the same
transaction as the order, at the order's own time, and the notification is in the
outbox for the shop to send at once. Ana uses hers an hour later.

Program: ``examples/programs/peak-day.yaml``. Pass a path to keep the database. Times
are fixed: the example reads no clock. How fast this runs at peak is measured by the
benchmarks (docs/benchmarks.md), not here.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import loyalty
from loyalty.store.port import OutboxMessage
from loyalty.store.sql import SQLStore

PROGRAM = Path(__file__).parent / "programs" / "peak-day.yaml"
NEW_YORK = ZoneInfo("America/New_York")
MEMBERS = ("ana", "ben", "cleo", "dev", "eli")


def at(moment: str) -> datetime:
    """A fixed instant, New York time (the program's timezone)."""
    return datetime.fromisoformat(moment).replace(tzinfo=NEW_YORK)


def cart(member: str, order_id: str, *lines: tuple[str, str, int]) -> dict[str, Any]:
    return {
        "id": order_id,
        "member_id": member,
        "currency": "USD",
        "lines": [
            {"sku": sku, "unit_price": price, "quantity": quantity}
            for sku, price, quantity in lines
        ],
    }


def webhook(member: str, order_id: str, when: str, total: str) -> dict[str, Any]:
    """An order webhook as the shop sends it (JSON), keyed by the order."""
    return {
        "type": "order_completed",
        "member_id": member,
        "key": f"order:{order_id}",
        "at": at(when).isoformat(),
        "cart": cart(member, order_id, ("BUNDLE", total, 1)),
    }


@dataclass
class Run:
    """What the story did, for the tests to check."""

    service: loyalty.LoyaltyService
    report: loyalty.ImportReport
    redeemed: loyalty.Redemption
    second: loyalty.OrderResult
    messages: list[OutboxMessage] = field(default_factory=list)


def main(database: Path) -> Run:
    program = loyalty.load_program(PROGRAM)
    service = loyalty.LoyaltyService(program, SQLStore(f"sqlite:///{database}"))
    for member in MEMBERS:
        service.enrol(member, at=at("2026-10-01T09:00"))

    # --8<-- [start:batch]
    # The first minutes of 11.11, as the webhooks arrive (not as the orders happened).
    batch = [
        webhook("ben", "B-1", "2026-11-11T00:02", "55.00"),
        webhook("ana", "A-1", "2026-11-11T00:05", "62.00"),
        webhook("cleo", "C-1", "2026-11-11T00:07", "30.00"),  # under 50.00: no coupon
        webhook("ana", "A-1", "2026-11-11T00:05", "62.00"),  # delivered twice
        webhook("dev", "D-2", "2026-11-11T00:20", "80.00"),  # D-2 arrives before D-1
        webhook("dev", "D-1", "2026-11-11T00:12", "20.00"),
        webhook("eli", "E-1", "2026-11-10T23:59", "70.00"),  # 10 November: no coupon
        webhook("ben", "B-2", "2026-11-11T00:25", "58.00"),  # once per member a day
        webhook("ben", "B-1", "2026-11-11T00:02", "55.00"),  # delivered twice
    ]
    report = service.import_events(batch)
    rejected = len(report.rejected)
    print(f"batch: {len(batch)} webhooks, {report.applied} applied, {rejected} rejected")
    # --8<-- [end:batch]

    # --8<-- [start:outbox]
    # The coupons are in the outbox already, each issued at its order's own time.
    messages = service.outbox()
    sent = Counter(str(message.notification.kind) for message in messages)
    print(f"outbox: {dict(sorted(sent.items()))}")
    for message in messages:
        data = message.notification.data()
        if data["kind"] == "coupon_issued":
            issued = datetime.fromisoformat(str(data["valid_from"])).astimezone(NEW_YORK)
            ends = datetime.fromisoformat(str(data["expires_at"])).astimezone(NEW_YORK)
            print(f"  {data['member_id']}: {data['title']}, {issued:%H:%M} to {ends:%H:%M}")
    service.acknowledge([message.id for message in messages])
    # --8<-- [end:outbox]

    # --8<-- [start:second-order]
    # 01:10: Ana comes back within the 2 hours; her coupon takes 30% off a 40.00 basket.
    (coupon,) = service.holdings("ana")
    assert coupon.code is not None
    second = cart("ana", "A-2", ("LIPSTICK", "24.00", 1), ("MASCARA", "16.00", 1))
    redeemed = service.redeem_coupon(
        "ana", coupon.code, second, at=at("2026-11-11T01:10"), key="checkout:A-2"
    )
    print(f"ana's second order: {redeemed.total} off")
    done = service.handle(
        {
            "type": "order_completed",
            "member_id": "ana",
            "key": "order:A-2",
            "at": at("2026-11-11T01:11").isoformat(),
            "cart": second,
        }
    )
    assert isinstance(done, loyalty.OrderResult)
    assert done.earn is not None
    print(f"  it earns {done.earn.points} points on what she paid; coupons: {len(done.grants)}")
    # --8<-- [end:second-order]

    # --8<-- [start:balances]
    # Each order credited once, whatever the order of arrival; every journal re-derives.
    for member in MEMBERS:
        balance = service.balance(member)
        coupons = [h.status.value for h in service.holdings(member)]
        problems = service.verify(member)
        print(
            f"  {member}: {balance.net} points, coupons {coupons or 'none'}, {problems or 'sound'}"
        )
    (left,) = service.budgets()
    print(f"flash coupons issued: {left.used} of {left.limit}")
    # --8<-- [end:balances]
    return Run(service, report, redeemed, done, messages)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as folder:
            main(Path(folder) / "loyalty.db").service.store.close()
