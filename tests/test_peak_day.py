"""Story 9, peak days: ``examples/peak_day.py`` end to end, on a SQLite file.

The figures are worked out by hand from the example's webhooks, never by the code
under test: 1 point per USD; an order of 50.00 USD or more on 11 November (New York)
gives a 30%-off coupon valid 2 hours from the order, once per member that day.
"""

from __future__ import annotations

import runpy
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from itertools import permutations
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from loyalty import HoldingStatus, LoyaltyService, MemoryStore, load_program

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "peak_day.py"
NEW_YORK = ZoneInfo("America/New_York")


def ny(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=NEW_YORK)


@pytest.fixture
def peak(tmp_path: Path) -> Iterator[Any]:
    run = runpy.run_path(str(EXAMPLE))["main"](tmp_path / "loyalty.db")
    try:
        yield run
    finally:
        run.service.store.close()


def test_every_webhook_applies_and_duplicates_credit_once(peak: Any) -> None:
    assert (peak.report.applied, peak.report.rejected) == (9, ())
    service: LoyaltyService = peak.service
    # ana 62 + 28 (A-2: 40.00 - 12.00 paid); ben 55 + 58; cleo 30; dev 80 + 20; eli 70.
    expected = {"ana": 90, "ben": 113, "cleo": 30, "dev": 100, "eli": 70}
    assert {member: service.balance(member).net for member in expected} == expected
    for member in expected:
        assert service.verify(member) == []
    # One points_earned per distinct order (7 in the batch), none for a redelivery.
    batch = Counter(str(message.notification.kind) for message in peak.messages)
    assert batch == Counter({"points_earned": 7, "coupon_issued": 3})


def test_the_coupon_is_issued_at_the_time_of_the_order_that_earns_it(peak: Any) -> None:
    issued = {
        message.notification.member_id: message.notification.data()
        for message in peak.messages
        if str(message.notification.kind) == "coupon_issued"
    }
    # ben B-1 at 00:02, ana A-1 at 00:05, dev D-2 at 00:20; cleo's 30.00 and eli's
    # 10 November order get nothing; ben's B-2 is his second qualifying order that day.
    assert sorted(issued) == ["ana", "ben", "dev"]
    for member, ordered in (("ben", "00:02"), ("ana", "00:05"), ("dev", "00:20")):
        data = issued[member]
        start = ny(f"2026-11-11T{ordered}")
        assert datetime.fromisoformat(data["valid_from"]) == start
        assert (datetime.fromisoformat(data["expires_at"]) - start).total_seconds() == 7200
        assert data["incentive"] == "second-order-flash"


def test_the_coupon_takes_thirty_percent_off_the_second_order(peak: Any) -> None:
    assert peak.redeemed.total.amount == Decimal("12.00")  # 30% of 40.00
    lines = {line.line: line.amount.amount for line in peak.redeemed.lines}
    assert lines == {"LIPSTICK": Decimal("7.20"), "MASCARA": Decimal("4.80")}
    assert peak.second.grants == ()  # 28.00 paid: under 50.00, and ana had hers
    service: LoyaltyService = peak.service
    assert [h.status for h in service.holdings("ana")] == [HoldingStatus.USED]
    assert [h.status for h in service.holdings("ben")] == [HoldingStatus.OPEN]
    (budget,) = service.budgets()
    assert (budget.limit, budget.used) == (1000, 3)


def events() -> list[dict[str, Any]]:
    """The example's batch, as its ``webhook`` builds it."""
    webhook = runpy.run_path(str(EXAMPLE))["webhook"]
    return [
        webhook("dev", "D-2", "2026-11-11T00:20", "80.00"),
        webhook("dev", "D-1", "2026-11-11T00:12", "20.00"),
        webhook("dev", "D-2", "2026-11-11T00:20", "80.00"),
        webhook("dev", "D-0", "2026-11-10T23:59", "70.00"),
    ]


@pytest.mark.parametrize("order", list(permutations(range(4))))
def test_any_order_of_arrival_gives_the_same_points_and_one_coupon(
    order: tuple[int, ...],
) -> None:
    program = load_program(EXAMPLE.parent / "programs" / "peak-day.yaml")
    service = LoyaltyService(program, MemoryStore())
    service.enrol("dev", at=ny("2026-10-01T09:00"))
    batch = events()
    report = service.import_events([batch[i] for i in order])
    assert (report.applied, report.rejected) == (4, ())
    assert service.balance("dev").net == 80 + 20 + 70
    (coupon,) = service.holdings("dev")
    assert coupon.valid_from == ny("2026-11-11T00:20")  # D-2's time, whenever it came
    assert service.verify("dev") == []
