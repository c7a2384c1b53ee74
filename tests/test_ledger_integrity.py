from dataclasses import replace

import pytest

from loyalty import (
    Adjust,
    Allocation,
    Discrepancy,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidInput,
    InvalidPoints,
    UnknownEntry,
    adjust,
    advance,
    earn,
    open_account,
    redeem,
    replay,
    reverse,
    statement,
    verify,
)
from tests.builders import T0, account, days, usd, utc


def test_the_same_key_with_the_same_content_returns_the_original_and_writes_nothing() -> None:
    member = account()
    first = earn(member, amount=usd("20.00"), at=T0, key="order-1", source="A-1")
    redeem(member, 5, at=T0 + days(1), key="r-1")
    again = earn(member, amount=usd("20.00"), at=T0 + days(2), key="order-1", source="A-1")
    assert again is first
    assert len(member.journal) == 2
    assert member.balance().available == 15


def test_a_retried_old_request_is_not_refused_as_out_of_order() -> None:
    member = account()
    first = earn(member, points=10, at=T0, key="k-1")
    earn(member, points=10, at=T0 + days(5), key="k-2")
    assert earn(member, points=10, at=T0, key="k-1") is first


def test_the_same_key_with_different_content_is_a_conflict_and_writes_nothing() -> None:
    member = account()
    earn(member, amount=usd("20.00"), at=T0, key="order-1", source="A-1")
    with pytest.raises(IdempotencyConflict) as caught:
        earn(member, amount=usd("25.00"), at=T0, key="order-1", source="A-1")
    assert (caught.value.member_id, caught.value.key, caught.value.operation) == (
        "m-1",
        "order-1",
        "earn",
    )
    with pytest.raises(IdempotencyConflict):
        redeem(member, 5, at=T0, key="order-1")
    assert len(member.journal) == 1


def test_every_operation_is_idempotent() -> None:
    member = account()
    entry = earn(member, amount=usd("20.00"), at=T0, key="e")
    calls = [
        lambda: redeem(member, 5, at=T0, key="r"),
        lambda: reverse(member, entry.id, amount=usd("5.00"), at=T0, key="v"),
        lambda: adjust(member, 3, at=T0, key="a", reason="goodwill", actor="agent-1"),
    ]
    for call in calls:
        original = call()
        assert call() is original
    assert len(member.journal) == 4


def test_a_rejected_operation_does_not_use_up_its_key() -> None:
    member = account()
    earn(member, points=10, at=T0, key="e")
    with pytest.raises(InsufficientPoints):
        redeem(member, 50, at=T0, key="r")
    assert redeem(member, 5, at=T0, key="r").points == -5


def test_a_late_operation_is_written_at_the_clock_with_its_own_time() -> None:
    member = account(pending={"period": "10 days"}, expiry={"policy": "fixed", "after": "30 days"})
    earn(member, points=10, at=T0, key="e-1")
    late = earn(member, points=7, at=T0 - days(1), key="e-2")
    assert (late.at, late.occurred_at, late.when) == (T0, T0 - days(1), T0 - days(1))
    # The return window and the expiry count from when it happened, not when it arrived.
    assert late.available_at == T0 + days(9)
    assert late.expires_at == T0 + days(29)
    assert member.lot(late.id).earned_at == T0 - days(1)
    assert len(member.journal) == 2
    assert member.balance(at=T0 + days(9)).available == 7
    assert verify(member) == []


def test_a_late_earn_already_past_its_expiry_is_credited_and_expires_at_once() -> None:
    member = account(expiry={"policy": "fixed", "after": "30 days"})
    earn(member, points=10, at=T0 + days(60), key="e-1")
    late = earn(member, points=7, at=T0, key="e-2")
    expired = member.journal[-1]
    assert (late.at, late.expires_at, expired.kind, expired.points) == (
        T0 + days(60),
        T0 + days(60),
        "expire",
        -7,
    )
    assert member.balance().available == 10
    assert member.balance().expired == 7
    assert verify(member) == []


def test_a_manual_credit_is_available_at_once_and_names_its_actor() -> None:
    member = account(expiry={"policy": "fixed", "after": "6 months"})
    entry = adjust(member, 25, at=T0, key="adj-1", reason="late delivery goodwill", actor="agent-7")
    assert isinstance(entry, Adjust)
    assert (entry.actor, entry.reason, entry.points) == ("agent-7", "late delivery goodwill", 25)
    assert member.lot(entry.id).expires_at == utc(2026, 7, 1, 12)
    assert member.balance().available == 25
    assert member.balance().adjusted == 25


def test_a_manual_debit_spends_points_and_cannot_overdraw() -> None:
    member = account()
    earn(member, points=10, at=T0, key="e")
    entry = adjust(member, -4, at=T0, key="adj-1", reason="duplicate order", actor="agent-7")
    assert entry.allocation == (Allocation("m-1:1", 4),)
    assert member.balance().adjusted == -4
    with pytest.raises(InsufficientPoints):
        adjust(member, -7, at=T0, key="adj-2", reason="oops", actor="agent-7")


@pytest.mark.parametrize(
    ("points", "reason", "actor", "error"),
    [
        (0, "r", "a", InvalidPoints),
        (True, "r", "a", InvalidPoints),
        (5, "", "a", InvalidInput),
        (5, "r", None, InvalidInput),
    ],
)
def test_an_adjustment_needs_points_a_reason_and_an_actor(
    points: object, reason: str, actor: object, error: type[Exception]
) -> None:
    member = account()
    with pytest.raises(error):
        adjust(member, points, at=T0, key="k", reason=reason, actor=actor)  # type: ignore[arg-type]
    assert member.journal == ()


def test_a_statement_lists_every_entry_with_a_running_balance_and_its_reason() -> None:
    member = account(timezone="America/New_York")
    first = earn(
        member, amount=usd("120.00"), at=utc(2026, 3, 4, 15), key="A-1001", source="A-1001"
    )
    redeem(member, 100, at=utc(2026, 3, 10, 15), key="R-1", source="A-1002")
    reverse(member, first.id, amount=usd("60.00"), at=utc(2026, 3, 12, 15), key="RF-1")
    lines = statement(member).lines
    assert [(line.kind, line.points, line.balance) for line in lines] == [
        ("earn", 120, 120),
        ("redeem", -100, 20),
        ("reverse", -60, -40),
    ]
    assert lines[0].reason == "earned on order A-1001"
    assert lines[0].at.isoformat() == "2026-03-04T10:00:00-05:00"
    text = statement(member).render()
    assert "earned on order A-1001" in text
    assert "debt 40; net -40" in text


def test_a_sound_account_verifies_and_replays_to_the_same_state() -> None:
    member = account(pending={"period": "7 days"}, expiry={"policy": "fixed", "after": "60 days"})
    entry = earn(member, amount=usd("80.00"), at=T0, key="A-1")
    earn(member, points=30, at=T0 + days(3), key="A-2")
    redeem(member, 50, at=T0 + days(10), key="R-1")
    reverse(member, entry.id, amount=usd("40.00"), at=T0 + days(11), key="RF-1")
    adjust(member, 5, at=T0 + days(12), key="ADJ-1", reason="goodwill", actor="agent")
    advance(member, T0 + days(100))
    assert verify(member) == []
    rebuilt = replay(member.program, "m-1", member.journal, at=member.clock)
    assert rebuilt.snapshot() == member.snapshot()


def test_an_account_advanced_past_its_last_entry_verifies_and_answers_about_the_past() -> None:
    member = account(pending={"period": "10 days"})
    earn(member, points=10, at=T0, key="A-1")
    advance(member, T0 + days(11))  # releases the lot; no entry is written for that
    assert member.last_at == T0
    assert member.clock == T0 + days(11)
    assert member.balance().available == 10
    assert member.balance(at=T0 + days(5)).pending == 10
    assert verify(member) == []
    late = redeem(member, 5, at=T0 + days(6), key="R-1")  # before the clock: applied at it
    assert (late.at, late.occurred_at) == (T0 + days(11), T0 + days(6))
    assert member.balance().available == 5


def test_a_manual_credit_counts_as_activity_for_inactivity_expiry() -> None:
    member = account(expiry={"policy": "inactivity", "after": "2 months"})
    earn(member, points=10, at=T0, key="A-1")
    adjust(member, 5, at=T0 + days(90), key="ADJ-1", reason="goodwill", actor="support")
    assert member.balance().expired == 10
    assert member.balance(at=T0 + days(91)).available == 5
    advance(member, T0 + days(91))
    assert verify(member) == []


def test_verify_reports_state_that_drifted_from_the_journal() -> None:
    member = account()
    entry = earn(member, points=10, at=T0, key="A-1")
    member._lots[entry.id] = replace(member._lots[entry.id], remaining=12)
    found = verify(member)
    assert Discrepancy(f"lot {entry.id} remaining", "0..10", 12) in found
    assert any(problem.where == f"lot {entry.id}" for problem in found)


def test_verify_reports_an_entry_whose_points_do_not_match_its_allocation() -> None:
    member = account()
    earn(member, points=10, at=T0, key="A-1")
    redeem(member, 4, at=T0, key="R-1")
    member._journal._new[1] = replace(member._journal._new[1], points=-3)
    found = [str(problem) for problem in verify(member)]
    assert "entry 2 (redeem) points: expected -4, found -3" in found


def test_verify_reports_a_journal_that_cannot_be_replayed() -> None:
    member = account()
    earn(member, points=10, at=T0, key="A-1")
    redeem(member, 4, at=T0, key="R-1")
    redeem_entry = member._journal._new[1]
    tampered = replace(redeem_entry, points=-40, allocation=(Allocation("m-1:1", 40),))
    member._journal._new[1] = tampered
    (problem,) = [p for p in verify(member) if p.where.startswith("journal")]
    assert problem.where == "journal entry 2"
    assert "has 10 points left" in str(problem.found)


def test_a_balance_in_the_past_is_rebuilt_from_the_journal() -> None:
    member = account(expiry={"policy": "fixed", "after": "30 days"})
    earn(member, points=10, at=T0, key="A-1")
    redeem(member, 4, at=T0 + days(10), key="R-1")
    earn(member, points=20, at=T0 + days(40), key="A-2")
    assert member.balance(at=T0 + days(5)).available == 10
    assert member.balance(at=T0 + days(20)).available == 6
    assert member.balance(at=T0 + days(35)).expired == 6
    assert member.balance(at=T0 - days(1)).earned == 0


def test_entries_can_be_found_by_id_and_by_source() -> None:
    member = account()
    entry = earn(member, amount=usd("10.00"), at=T0, key="A-1", source="A-1")
    reverse(member, entry.id, amount=usd("5.00"), at=T0, key="RF-1", source="A-1")
    assert member.entry(entry.id) is entry
    assert [e.kind for e in member.entries_for("A-1")] == ["earn", "reverse"]
    with pytest.raises(UnknownEntry):
        member.entry("m-1:9")
    with pytest.raises(UnknownEntry):
        member.entry("other:1")


def test_bad_arguments_to_queries_and_operations_are_typed_errors() -> None:
    member = account()
    earn(member, points=10, at=T0, key="A-1")
    with pytest.raises(InvalidInput):
        member.expiring(T0, "30 days")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as caught:
        reverse(member, ["m-1:1"], at=T0, key="RF-1")  # type: ignore[arg-type]
    assert caught.value.field == "earn_id"
    with pytest.raises(UnknownEntry):
        member.entry("m-1:²")
    with pytest.raises(InvalidInput) as caught:
        open_account({"id": "club"}, "m-2")  # type: ignore[arg-type]
    assert caught.value.field == "program"
