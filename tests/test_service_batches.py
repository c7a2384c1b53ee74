"""Batches through the service: one bad event or one failing member never stops an
import or the nightly run, and writes nothing of its own; a program version that
drops a tier members hold is reconciled by the nightly run."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import pytest

import loyalty.service.service
from loyalty import (
    LoyaltyService,
    Store,
    TierCause,
    Unprocessed,
    program_warnings,
)
from loyalty.ledger.calendar import Calendar
from loyalty.ledger.entries import TierChange
from tests.builders import SPEND_LADDER, T0, days, ladder, program
from tests.test_service import order

SECTIONS: dict[str, Any] = {
    "pending": {"period": "14 days"},
    "expiry": {"policy": "fixed", "after": "1 year"},
    "earning": {"rate": 1, "actions": {"signup": {"points": 50}}},
}
V1 = program(**SECTIONS, tiers=ladder(*SPEND_LADDER))
V2 = program(**SECTIONS, tiers=ladder(*SPEND_LADDER[:2]))  # Gold and Platinum dropped


class _Exploding(Mapping[str, Any]):
    """An event whose every read fails with an error that is not the library's."""

    def __getitem__(self, key: str) -> Any:
        raise RuntimeError("the row could not be read")

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("the row could not be read")

    def __len__(self) -> int:
        return 1


def _version(service: LoyaltyService, member_id: str) -> int:
    with service.store.transaction(service.program.id, write=False) as transaction:
        stored = transaction.member(member_id)
        return -1 if stored is None else stored.version


def test_an_import_reports_an_event_failing_with_any_error_and_applies_the_rest(
    store: Store,
) -> None:
    service = LoyaltyService(V1, store)
    service.enrol("m-1", at=T0)
    events: list[Any] = [
        order("A", "10.00", T0 + days(1)),
        _Exploding(),
        order("B", "20.00", T0 + days(1)),
    ]
    report = service.import_events(events, batch_size=10)
    assert report.applied == 2
    ((number, error),) = report.rejected
    assert number == 1
    assert isinstance(error, Unprocessed)
    assert "could not be read" in report.rejected[0].reason
    assert service.balance("m-1").earned == 50 + 30
    assert service.verify("m-1") == []


def test_an_imported_event_failing_midway_writes_nothing(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = LoyaltyService(V1, store)
    service.enrol("m-1", at=T0)
    poisoned = T0 + days(2)
    real = Calendar.expires

    def expiry(calendar: Calendar, at: datetime) -> Any:
        if at == poisoned:  # after the order entry is appended, before its earn
            raise ZeroDivisionError("a bug deep in the engine")
        return real(calendar, at)

    monkeypatch.setattr(Calendar, "expires", expiry)
    events = [
        order("A", "10.00", T0 + days(1)),
        order("B", "20.00", poisoned),
        order("C", "30.00", T0 + days(3)),
    ]
    report = service.import_events(events)
    assert report.applied == 2
    assert [(r.number, type(r.error)) for r in report.rejected] == [(1, Unprocessed)]
    assert service.balance("m-1").earned == 50 + 10 + 30
    assert [line.source for line in service.statement("m-1").lines if line.source] == [
        "A",
        "A",
        "C",
        "C",
    ]
    assert service.verify("m-1") == []


def test_the_nightly_run_places_members_of_a_retired_tier_on_the_new_ladder(
    store: Store,
) -> None:
    before = LoyaltyService(V1, store)
    for member_id in ("m-1", "m-2", "m-3"):
        before.enrol(member_id, at=T0)
    before.handle(order("A", "600.00", T0 + days(1), member="m-1"))
    before.handle(order("B", "1200.00", T0 + days(1), member="m-2"))
    before.handle(order("C", "100.00", T0 + days(1), member="m-3"))
    assert [before.member(m).tier for m in ("m-1", "m-2", "m-3")] == ["Gold", "Platinum", "Member"]

    after = LoyaltyService(V2, store)
    report = after.advance(T0 + days(20))
    assert report.failed == ()
    assert report.members == 3
    for member_id in ("m-1", "m-2"):
        assert after.member(member_id).tier == "Silver"  # 600 and 1200 reach Silver, the top
        change = after.statement(member_id).lines[-1]
        assert "program changed" in change.reason
        assert after.verify(member_id) == []
    assert after.advance(T0 + days(21)).entries == 0  # reconciled once


def test_a_reconciliation_is_a_program_tier_entry_from_the_retired_tier(store: Store) -> None:
    before = LoyaltyService(V1, store)
    before.enrol("m-1", at=T0)
    before.handle(order("A", "600.00", T0 + days(1)))
    after = LoyaltyService(V2, store)
    after.advance(T0 + days(2))
    with store.transaction(V2.id, write=False) as transaction:
        stored = transaction.member("m-1")
        assert stored is not None
        entries = list(transaction.history("m-1", stored.version).entries())
    change = entries[-1]
    assert isinstance(change, TierChange)
    assert (change.cause, change.tier_from, change.tier_to) == (
        TierCause.PROGRAM,
        "Gold",
        "Silver",
    )


def test_one_members_failure_never_stops_the_nightly_run(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = LoyaltyService(V1, store)
    for member_id in ("m-1", "m-2", "m-3"):
        service.enrol(member_id, at=T0)
        service.handle(order(f"O-{member_id}", "300.00", T0 + days(1), member=member_id))
    versions = {m: _version(service, m) for m in ("m-1", "m-2", "m-3")}
    real = loyalty.service.service.review_member

    def review(account: Any, at: datetime) -> Any:
        written = real(account, at)
        if account.member_id == "m-2":
            raise KeyError("a bug in one member's review")
        return written

    monkeypatch.setattr(loyalty.service.service, "review_member", review)
    report = service.advance(T0 + days(800), batch_size=10)
    assert [(member, type(error)) for member, error in report.failed] == [("m-2", Unprocessed)]
    assert report.members == 2
    assert _version(service, "m-2") == versions["m-2"]  # its expiry and review rolled back
    for member_id in ("m-1", "m-3"):
        assert _version(service, member_id) > versions[member_id]
        assert service.balance(member_id).expired == 350  # the others' points expired
        assert service.verify(member_id) == []


def test_program_warnings_name_the_tiers_a_new_version_drops_or_renames() -> None:
    assert program_warnings(V1, previous=V1) == []
    dropped = program_warnings(V2, previous=V1)
    assert [(w.path, w.value) for w in dropped] == [
        ("tiers.ladder", "Gold"),
        ("tiers.ladder", "Platinum"),
    ]
    renamed = program(
        **SECTIONS,
        tiers=ladder(("Member", {}), ("Argent", {"net_spend": 200}), *SPEND_LADDER[2:]),
    )
    (warning,) = program_warnings(renamed, previous=V1)
    assert "'Silver'" in warning.message
    assert "renamed to 'Argent'" in warning.message
