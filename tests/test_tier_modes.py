"""Tier modes: the balance metric, downgrade modes, fixed manual tiers, gross figures."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty import (
    Account,
    ConfigurationError,
    Earn,
    InvalidInput,
    LoyaltyService,
    Order,
    Refund,
    Reverse,
    Store,
    TierCause,
    TierChange,
    TierChanged,
    adjust,
    advance,
    assign_tier,
    earn,
    load_program,
    open_account,
    record_order,
    record_refund,
    redeem,
    replay,
    reverse,
    review,
    review_member,
    tier_progress,
    verify,
)
from loyalty.store.codec import decode_entry, decode_snapshot, encode_entry, encode_snapshot
from tests.builders import BASE, SPEND_LADDER, account, ladder, usd, utc

BALANCE_LADDER = (("Basic", {}), ("Silver", {"balance": 100}), ("Gold", {"balance": 500}))


def balance_club(**settings: Any) -> Account:
    settings.setdefault("downgrade_mode", "automatic")
    return account(tiers=ladder(*BALANCE_LADDER, **settings))


def spend_club(**settings: Any) -> Account:
    return account(tiers=ladder(*SPEND_LADDER, **settings))


def order(member: Account, order_id: str, amount: str, at: datetime) -> None:
    record_order(member, order_id, usd(amount), at=at, key=f"order:{order_id}")


def refund(member: Account, order_id: str, amount: str, at: datetime) -> None:
    record_refund(member, order_id, usd(amount), at=at, key=f"refund:{order_id}:{amount}")


def tier_of(member: Account) -> str:
    status = member.tier()
    assert status is not None
    return status.tier


def tier_entries(member: Account) -> list[TierChange]:
    return [entry for entry in member.journal if isinstance(entry, TierChange)]


def rebuilt_the_same(member: Account) -> bool:
    """Replaying the journal gives the same tier state, and verify finds nothing."""
    again = replay(
        member.program,
        member.member_id,
        member.journal,
        at=member.clock,
        enrolled_at=member.enrolled_at,
    )
    return again.tier() == member.tier() and verify(member) == []


# ------------------------------------------------------------- balance metric


def test_the_balance_metric_follows_what_the_member_holds() -> None:
    member = balance_club()
    earn(member, points=100, at=utc(2026, 3, 1), key="e-1")
    assert tier_of(member) == "Silver"
    redeem(member, 50, at=utc(2026, 3, 2), key="r-1")
    assert tier_of(member) == "Basic"
    down = tier_entries(member)[-1]
    assert down.cause is TierCause.DOWNGRADE
    assert down.reason == "moved down to Basic on 2026-03-02: balance 50 < 100"
    assert rebuilt_the_same(member)


def test_points_expiring_or_reversed_lower_a_balance_tier() -> None:
    member = account(
        expiry={"policy": "fixed", "after": "3 months"},
        tiers=ladder(*BALANCE_LADDER, downgrade_mode="automatic"),
    )
    first = earn(member, amount=usd("600.00"), at=utc(2026, 1, 10), key="e-1")
    assert tier_of(member) == "Gold"
    reverse(member, first.id, amount=usd("200.00"), at=utc(2026, 1, 12), key="rv-1")
    assert tier_of(member) == "Silver"  # 400 held
    # The lot expires on 10 April; advancing past it drops the tier with it.
    assert member.tier(at=utc(2026, 4, 11)).tier == "Basic"
    review_member(member, utc(2026, 4, 11))
    assert tier_of(member) == "Basic"
    assert rebuilt_the_same(member)


def test_with_the_balance_metric_pending_points_count_as_count_pending_points_says() -> None:
    counted = account(
        pending={"period": "30 days"}, tiers=ladder(*BALANCE_LADDER, downgrade_mode="automatic")
    )
    earn(counted, points=100, at=utc(2026, 1, 1), key="e-1")
    assert tier_of(counted) == "Silver"
    waiting = account(
        pending={"period": "30 days"},
        tiers=ladder(*BALANCE_LADDER, downgrade_mode="automatic", count_pending_points=False),
    )
    earn(waiting, points=100, at=utc(2026, 1, 1), key="e-1")
    assert tier_of(waiting) == "Basic"
    assert waiting.tier(at=utc(2026, 1, 31)).tier == "Silver"
    assert rebuilt_the_same(waiting)


def test_a_balance_tier_that_is_never_lowered_keeps_the_highest_balance_reached() -> None:
    member = balance_club(downgrade_mode="never")
    earn(member, points=520, at=utc(2026, 3, 1), key="e-1")
    redeem(member, 500, at=utc(2026, 3, 2), key="r-1")
    assert tier_of(member) == "Gold"
    # A manual credit raises the balance too, and upgrades at once.
    other = balance_club(downgrade_mode="never")
    adjust(other, 150, at=utc(2026, 3, 1), key="a-1", reason="goodwill", actor="ops")
    assert tier_of(other) == "Silver"


def test_progress_toward_a_balance_tier_says_how_many_points_to_hold() -> None:
    member = balance_club()
    earn(member, points=70, at=utc(2026, 3, 1), key="e-1")
    progress = tier_progress(member, utc(2026, 3, 1))
    assert progress.metrics.value("balance") == 70
    assert progress.describe() == "tier Basic; hold 30 more points to reach Silver"


# ------------------------------------------------------------ downgrade modes


def test_at_review_is_the_default_and_a_refund_waits_for_the_review() -> None:
    member = spend_club(window="calendar_year")
    order(member, "A-1", "600.00", utc(2026, 3, 1))
    refund(member, "A-1", "500.00", utc(2026, 3, 5))
    assert tier_of(member) == "Gold"
    review_member(member, utc(2027, 1, 1))
    assert tier_of(member) == "Silver"  # one step down at the review


def test_automatic_downgrade_moves_at_once_on_a_refund() -> None:
    member = spend_club(window="calendar_year", downgrade_mode="automatic")
    order(member, "A-1", "600.00", utc(2026, 3, 1))
    assert tier_of(member) == "Gold"
    refund(member, "A-1", "500.00", utc(2026, 3, 5))
    assert tier_of(member) == "Member"
    last = tier_entries(member)[-1]
    assert (last.cause, last.tier_from, last.tier_to) == (TierCause.DOWNGRADE, "Gold", "Member")
    assert last.reason == (
        "moved down to Member on 2026-03-05: net spend 100.00 USD < 500.00 USD "
        "in calendar year 2026"
    )
    assert rebuilt_the_same(member)


def test_automatic_downgrade_follows_the_window_moving_on() -> None:
    member = spend_club(window="calendar_year", downgrade_mode="automatic")
    order(member, "A-1", "250.00", utc(2026, 3, 1))
    assert tier_of(member) == "Silver"
    assert member.tier(at=utc(2027, 1, 2)).tier == "Member"  # a new year, no spend yet
    report = review([member], utc(2027, 1, 2))
    assert [(e.cause, e.tier_to) for e in report.entries] == [(TierCause.DOWNGRADE, "Member")]
    assert review([member], utc(2027, 1, 2)).entries == ()  # idempotent
    assert rebuilt_the_same(member)


def test_never_keeps_a_tier_through_refunds_and_reviews() -> None:
    member = spend_club(window="calendar_year", downgrade_mode="never")
    order(member, "A-1", "600.00", utc(2026, 3, 1))
    refund(member, "A-1", "600.00", utc(2026, 3, 5))
    assert review([member], utc(2028, 1, 1)).entries == ()
    assert tier_of(member) == "Gold"
    order(member, "A-2", "1000.00", utc(2028, 2, 1))
    assert tier_of(member) == "Platinum"  # upgrades still happen at once
    assert rebuilt_the_same(member)


# ---------------------------------------------------------------- manual tiers


def test_a_manual_floor_holds_under_automatic_downgrade_and_a_fixed_tier_holds_down_too() -> None:
    floor = spend_club(downgrade_mode="automatic")
    assign_tier(floor, "Silver", at=utc(2026, 1, 1), key="m", reason="vip", actor="crm")
    assert tier_of(floor) == "Silver"
    order(floor, "A-1", "600.00", utc(2026, 2, 1))
    assert tier_of(floor) == "Gold"  # a floor lets the member rise
    refund(floor, "A-1", "600.00", utc(2026, 2, 2))
    assert tier_of(floor) == "Silver"  # and never falls below it

    fixed = spend_club(downgrade_mode="automatic")
    assign_tier(
        fixed, "Silver", at=utc(2026, 1, 1), key="m", reason="staff", actor="crm", fixed=True
    )
    order(fixed, "A-1", "600.00", utc(2026, 2, 1))
    assert tier_of(fixed) == "Silver"  # a fixed tier does not rise
    assert rebuilt_the_same(fixed)
    assert rebuilt_the_same(floor)


def test_a_fixed_tier_can_be_below_the_figures_and_review_keeps_it_until_it_ends() -> None:
    member = spend_club(window="calendar_year")
    order(member, "A-1", "600.00", utc(2026, 3, 1))
    entry = assign_tier(
        member,
        "Member",
        at=utc(2026, 3, 2),
        until=utc(2027, 6, 1),
        key="m",
        reason="abuse review",
        actor="ops",
        fixed=True,
    )
    assert entry.fixed
    assert tier_of(member) == "Member"
    order(member, "A-2", "600.00", utc(2026, 4, 1))
    assert tier_of(member) == "Member"
    # The assignment ends; the next fact upgrades by the figures as usual.
    order(member, "A-3", "10.00", utc(2027, 6, 2))
    assert tier_of(member) == "Member"  # 2027 spend 10.00
    order(member, "A-4", "500.00", utc(2027, 6, 3))
    assert tier_of(member) == "Gold"
    assert rebuilt_the_same(member)


def test_a_fixed_gold_is_kept_at_review_with_nothing_spent() -> None:
    member = spend_club(window="calendar_year")
    assign_tier(member, "Gold", at=utc(2026, 1, 5), key="m", reason="r", actor="a", fixed=True)
    review_member(member, utc(2028, 1, 1))
    assert tier_of(member) == "Gold"
    assert tier_entries(member)[-1].reason == (
        "kept Gold at the review on 2028-01-01: tier Gold fixed by hand"
    )


def test_the_journal_records_fixed_and_old_journals_read_as_a_floor() -> None:
    member = spend_club()
    fixed = assign_tier(
        member, "Gold", at=utc(2026, 1, 1), key="m", reason="r", actor="a", fixed=True
    )
    stored = encode_entry(fixed)
    assert isinstance(stored, dict)
    assert stored["fixed"] is True
    legacy = {name: value for name, value in stored.items() if name != "fixed"}
    assert decode_entry(legacy, member.member_id).fixed is False  # type: ignore[attr-defined]
    assert decode_entry(stored, member.member_id) == fixed


def test_a_manual_assignment_key_is_bound_to_floor_or_fixed() -> None:
    member = spend_club()
    first = assign_tier(member, "Gold", at=utc(2026, 1, 1), key="m", reason="r", actor="a")
    again = assign_tier(member, "Gold", at=utc(2026, 1, 1), key="m", reason="r", actor="a")
    assert again == first
    with pytest.raises(Exception, match="key"):
        assign_tier(
            member, "Gold", at=utc(2026, 1, 1), key="m", reason="r", actor="a", fixed=True
        )
    with pytest.raises(InvalidInput, match="fixed"):
        assign_tier(
            member, "Gold", at=utc(2026, 1, 1), key="n", reason="r", actor="a", fixed="yes"  # type: ignore[arg-type]
        )


# -------------------------------------------------------------- gross or net


def test_net_loses_the_upgrade_a_refunded_order_paid_for_at_the_review() -> None:
    member = spend_club(window="calendar_year")
    order(member, "A-1", "300.00", utc(2026, 3, 1))
    refund(member, "A-1", "300.00", utc(2026, 3, 5))
    assert member.tier_metrics().spend == 0
    assert member.tier_metrics().orders == 0
    review_member(member, utc(2027, 1, 1))
    assert tier_of(member) == "Member"


def test_gross_keeps_a_tier_through_its_retention_whatever_is_refunded() -> None:
    member = spend_club(window="calendar_year", qualify_on="gross")
    order(member, "A-1", "300.00", utc(2026, 3, 1))
    refund(member, "A-1", "300.00", utc(2026, 3, 5))
    figures = member.tier_metrics()
    assert (figures.spend, figures.orders) == (300, 1)
    review_member(member, utc(2027, 1, 1))
    assert tier_of(member) == "Silver"
    assert "gross spend 300.00 USD ≥ 200.00 USD in calendar year 2026" in (
        tier_entries(member)[-1].reason
    )
    review_member(member, utc(2028, 1, 1))  # retention 1: 2027 had nothing
    assert tier_of(member) == "Member"
    assert rebuilt_the_same(member)


def test_gross_points_are_not_lowered_by_a_reversal() -> None:
    for qualify_on, expected in (("net", 40), ("gross", 80)):
        member = account(tiers=ladder(("Member", {}), ("Gold", {"points": 100}),
                                      qualify_on=qualify_on))
        first = earn(member, amount=usd("80.00"), at=utc(2026, 1, 1), key="e-1")
        reverse(member, first.id, amount=usd("40.00"), at=utc(2026, 1, 2), key="r-1")
        assert member.tier_metrics().points == expected
        assert rebuilt_the_same(member)


def test_gross_under_automatic_downgrade_survives_a_refund() -> None:
    member = spend_club(downgrade_mode="automatic", qualify_on="gross")
    order(member, "A-1", "600.00", utc(2026, 3, 1))
    refund(member, "A-1", "600.00", utc(2026, 3, 5))
    assert tier_of(member) == "Gold"


# ------------------------------------------------------------------ validation


def problems(**settings: Any) -> list[str]:
    rungs = settings.pop("rungs", SPEND_LADDER)
    with pytest.raises(ConfigurationError) as error:
        load_program({**BASE, "tiers": ladder(*rungs, **settings)})
    return [str(problem) for problem in error.value.problems]


def test_contradictory_tier_modes_are_reported_with_their_paths() -> None:
    found = problems(rungs=BALANCE_LADDER, window="calendar_year", qualify_on="gross")
    assert found == [
        "tiers.window: the balance metric takes no window (calendar_year): it is the points "
        "held now; use window: lifetime",
        "tiers.downgrade_mode: at_review does not work with the balance metric: a balance has "
        "no figures per period for a review to assess; use automatic or never",
        "tiers.qualify_on: gross does not apply to the balance metric: a refund takes back "
        "the points it reverses whatever the figures",
    ]
    found = problems(downgrade_mode="automatic", downgrade="to_qualified", grace="30 days",
                     retention=2)
    assert found == [
        "tiers.downgrade: only applies at review, and downgrade_mode automatic moves straight "
        "to the tier the figures reach",
        "tiers.retention: only applies at review, and downgrade_mode automatic moves straight "
        "to the tier the figures reach",
        "tiers.grace: only applies at review, and downgrade_mode automatic moves straight "
        "to the tier the figures reach",
    ]
    assert problems(downgrade_mode="never", grace="7 days") == [
        "tiers.grace: only applies at review, and downgrade_mode never never moves a member down"
    ]


def test_the_modes_default_to_todays_behaviour() -> None:
    club = load_program({**BASE, "tiers": ladder(*SPEND_LADDER)})
    assert club.tiers is not None
    assert (club.tiers.downgrade_mode, club.tiers.qualify_on) == ("at_review", "net")
    member = open_account(club, "m-1")
    assert member.tiers is not None
    assert not member.tiers.follows


# ------------------------------------------------------------------ property

THRESHOLDS = {"balance": (100, 300), "points": (100, 300), "net_spend": (200, 500)}

operation = st.one_of(
    st.tuples(st.just("earn"), st.integers(1, 250)),
    st.tuples(st.just("redeem"), st.integers(1, 250)),
    st.tuples(st.just("reverse"), st.integers(1, 250)),
    st.tuples(st.just("order"), st.integers(1, 400)),
    st.tuples(st.just("refund"), st.integers(1, 400)),
    st.tuples(st.just("wait"), st.integers(1, 120)),
)


def automatic_member(metric: str, window: str) -> Account:
    silver, gold = THRESHOLDS[metric]
    return account(
        expiry={"policy": "fixed", "after": "60 days"},
        tiers=ladder(
            ("Member", {}),
            ("Silver", {metric: silver}),
            ("Gold", {metric: gold}),
            window=window,
            downgrade_mode="automatic",
        ),
    )


def oracle_figure(member: Account, metric: str, window: str) -> Decimal:
    """The figure of ``metric`` now, worked out from the journal and the balance (UTC)."""
    if metric == "balance":
        return Decimal(member.balance().net)
    if member.clock is None:
        return Decimal(0)
    today = member.clock.date()
    start = date.min if window == "lifetime" else date(today.year, 1, 1)

    def counts(when: datetime) -> bool:
        return start <= when.date() <= today

    journal = member.journal
    if metric == "points":
        earns = {e.id: e for e in journal if isinstance(e, Earn)}
        gained = sum(e.points for e in earns.values() if counts(e.when))
        lost = sum(
            e.requested for e in journal if isinstance(e, Reverse) and counts(earns[e.earn_id].when)
        )
        return Decimal(gained - lost)
    orders = {e.source: e for e in journal if isinstance(e, Order)}
    spent = sum((e.amount.amount for e in orders.values() if counts(e.when)), Decimal(0))
    refunded = sum(
        (e.amount.amount for e in journal if isinstance(e, Refund)
         and counts(orders[e.order_id].when)),
        Decimal(0),
    )
    return spent - refunded


@settings(max_examples=120, deadline=None)
@given(
    metric=st.sampled_from(("balance", "points", "net_spend")),
    yearly=st.booleans(),
    operations=st.lists(operation, max_size=25),
)
def test_under_automatic_downgrade_the_tier_is_always_the_tier_of_the_current_figures(
    metric: str, yearly: bool, operations: list[tuple[str, int]]
) -> None:
    window = "calendar_year" if yearly and metric != "balance" else "lifetime"
    member = automatic_member(metric, window)
    silver, gold = THRESHOLDS[metric]
    at = utc(2026, 11, 1)
    earns: list[str] = []
    orders: list[str] = []
    for number, (kind, size) in enumerate(operations):
        at += timedelta(days=1)
        key = f"{kind}-{number}"
        if kind == "earn":
            earns.append(earn(member, amount=usd(f"{size}.00"), at=at, key=key).id)
        elif kind == "redeem":
            available = member.balance(at).available
            if available:
                redeem(member, min(size, available), at=at, key=key)
        elif kind == "reverse" and earns:
            lot = member.lot(earns[size % len(earns)])
            if lot.points > lot.reversed:
                reverse(member, lot.id, points=min(size, lot.points - lot.reversed), at=at,
                        key=key)
        elif kind == "order":
            orders.append(f"A-{number}")
            order(member, f"A-{number}", f"{size}.00", at)
        elif kind == "refund" and orders:
            order_id = orders[size % len(orders)]
            record = member.order(order_id)
            assert record is not None
            left = record.amount - record.refunded
            if left.amount:
                record_refund(member, order_id, min(usd(f"{size}.00"), left), at=at, key=key)
        elif kind == "wait":
            at += timedelta(days=size)
            advance(member, at)
        figure = oracle_figure(member, metric, window)
        expected = "Gold" if figure >= gold else "Silver" if figure >= silver else "Member"
        assert tier_of(member) == expected, (kind, figure)
    assert rebuilt_the_same(member)


# ------------------------------------------------------------- through a store


def test_a_balance_tier_follows_through_the_service_on_every_store(store: Store) -> None:
    club = load_program(
        {
            **BASE,
            "earning": {"rate": 1},
            "tiers": ladder(*BALANCE_LADDER, downgrade_mode="automatic"),
        }
    )
    service = LoyaltyService(club, store, cache_size=0)  # every request loads from the store
    service.enrol("m-1", at=utc(2026, 3, 1))
    service.adjust("m-1", 120, at=utc(2026, 3, 2), key="a-1", actor="ops", reason="welcome")
    assert service.member("m-1").tier == "Silver"
    service.adjust("m-1", -50, at=utc(2026, 3, 3), key="a-2", actor="ops", reason="fix")
    assert service.member("m-1").tier == "Basic"
    changes = [
        (message.notification.tier_from, message.notification.tier_to)
        for message in service.outbox()
        if isinstance(message.notification, TierChanged)
    ]
    assert changes == [("Basic", "Silver"), ("Silver", "Basic")]
    assert service.verify("m-1") == []


def test_a_fixed_tier_survives_the_stored_form_of_the_state() -> None:
    club = load_program({**BASE, "tiers": ladder(*SPEND_LADDER, window="calendar_year")})
    member = open_account(club, "m-1")
    assign_tier(member, "Gold", at=utc(2026, 1, 5), key="m", reason="r", actor="a", fixed=True)
    stored = decode_snapshot(encode_snapshot(member.snapshot(), "m-1"), "m-1")
    assert stored.tier == member.tier()
    assert stored.tier is not None
    assert stored.tier.fixed


def test_a_retired_fixed_tier_waits_for_reconciling_then_the_member_follows_the_figures() -> None:
    member = spend_club(downgrade_mode="automatic")
    order(member, "A-1", "250.00", utc(2026, 3, 1))
    assign_tier(member, "Gold", at=utc(2026, 3, 2), key="m", reason="r", actor="a", fixed=True)
    renamed = ladder(
        ("Member", {}), ("Silver", {"net_spend": 200}), ("Or", {"net_spend": 500}),
        downgrade_mode="automatic",
    )
    replayed = replay(load_program({**BASE, "tiers": renamed}), "m-1", member.journal)
    order(replayed, "A-2", "10.00", utc(2026, 3, 3))
    assert tier_of(replayed) == "Gold"  # no automatic move until reconciled
    (change,) = review_member(replayed, utc(2026, 3, 4))
    assert (change.cause, change.tier_from, change.tier_to) == (
        TierCause.PROGRAM, "Gold", "Silver"
    )
    status = replayed.tier()
    assert status is not None
    assert (status.floor, status.fixed) == (None, False)
    order(replayed, "A-3", "300.00", utc(2026, 3, 5))
    assert tier_of(replayed) == "Or"
    assert verify(replayed) == []
