from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty import (
    Account,
    ConfigurationError,
    CorruptJournal,
    InvalidInput,
    NoTiers,
    RefundExceedsOrder,
    TierCause,
    UnknownOrder,
    assign_tier,
    earn,
    load_program,
    open_account,
    program_warnings,
    record_order,
    record_refund,
    replay,
    reverse,
    review,
    review_member,
    tier_progress,
    verify,
)
from loyalty.tiers.tracker import OrderRecord
from tests.builders import BASE, SPEND_LADDER, account, ladder, program, usd, utc

NEW_YORK = ZoneInfo("America/New_York")


def spend_club(member: str = "m-1", **settings: object) -> Account:
    return account(member, timezone="America/New_York", tiers=ladder(*SPEND_LADDER, **settings))


def order(member: Account, order_id: str, amount: str, at: datetime) -> None:
    record_order(member, order_id, usd(amount), at=at, key=f"order:{order_id}")


def tier_of(member: Account) -> str:
    status = member.tier()
    assert status is not None
    return status.tier


# ----------------------------------------------------------------- upgrades


def test_crossing_a_threshold_upgrades_at_once_with_a_reason() -> None:
    member = spend_club(window="calendar_year")
    order(member, "A-1", "300.00", utc(2026, 3, 1, 15))
    order(member, "A-2", "212.00", utc(2026, 3, 4, 15))
    assert tier_of(member) == "Gold"
    last = member.journal[-1]
    assert last.cause is TierCause.UPGRADE
    assert last.reason == (
        "upgraded to Gold on 2026-03-04: net spend 512.00 USD ≥ 500.00 USD in calendar year 2026"
    )


def test_one_order_can_skip_tiers() -> None:
    member = spend_club()
    order(member, "A-1", "1200.00", utc(2026, 3, 1))
    assert tier_of(member) == "Platinum"
    assert [e.tier_to for e in member.journal if e.kind == "tier"] == ["Platinum"]


def test_orders_count_as_a_metric_and_any_threshold_is_enough() -> None:
    member = account(
        tiers=ladder(("Member", {}), ("Gold", {"net_spend": 500, "orders": 3}), match="any")
    )
    for number in range(3):
        order(member, f"A-{number}", "10.00", utc(2026, 1, 1 + number))
    assert tier_of(member) == "Gold"
    assert "orders 3 ≥ 3" in member.journal[-1].reason


def test_with_all_every_threshold_must_be_met() -> None:
    member = account(
        tiers=ladder(("Member", {}), ("Gold", {"net_spend": 500, "orders": 3}), match="all")
    )
    order(member, "A-1", "600.00", utc(2026, 1, 1))
    order(member, "A-2", "10.00", utc(2026, 1, 2))
    assert tier_of(member) == "Member"
    order(member, "A-3", "10.00", utc(2026, 1, 3))
    assert tier_of(member) == "Gold"


def test_qualifying_points_count_when_earned() -> None:
    member = account(
        pending={"period": "30 days"}, tiers=ladder(("Member", {}), ("Gold", {"points": 100}))
    )
    earn(member, points=100, at=utc(2026, 1, 1), key="e-1")
    assert tier_of(member) == "Gold"


def test_pending_points_can_be_left_out_until_released() -> None:
    member = account(
        pending={"period": "30 days"},
        tiers=ladder(("Member", {}), ("Gold", {"points": 100}), count_pending_points=False),
    )
    earn(member, points=100, at=utc(2026, 1, 1), key="e-1")
    assert tier_of(member) == "Member"
    assert member.tier(at=utc(2026, 1, 31)).tier == "Gold"
    earn(member, points=1, at=utc(2026, 2, 5), key="e-2")
    upgrade = next(e for e in member.journal if e.kind == "tier")
    assert upgrade.at == utc(2026, 1, 31)  # dated when the points were released
    assert verify(member) == []


def test_reversed_points_stop_counting() -> None:
    member = account(tiers=ladder(("Member", {}), ("Gold", {"points": 100})))
    first = earn(member, amount=usd("80.00"), at=utc(2026, 1, 1), key="e-1")
    reverse(member, first.id, amount=usd("40.00"), at=utc(2026, 1, 2), key="r-1")
    earn(member, points=50, at=utc(2026, 1, 3), key="e-2")
    assert member.tier_metrics().points == 90
    assert tier_of(member) == "Member"


# ------------------------------------------------------------------ windows


def test_the_calendar_year_ends_at_midnight_in_the_program_timezone() -> None:
    member = spend_club(window="calendar_year")
    # 23:30 on 31 December in New York is already 1 January in UTC.
    order(member, "A-1", "300.00", datetime(2026, 12, 31, 23, 30, tzinfo=NEW_YORK))
    order(member, "A-2", "250.00", datetime(2027, 1, 1, 0, 30, tzinfo=NEW_YORK))
    assert member.tier_metrics(at=datetime(2026, 12, 31, 23, 59, tzinfo=NEW_YORK)).spend == 300
    assert member.tier_metrics().spend == 250
    assert tier_of(member) == "Silver"


def test_a_rolling_window_drops_old_orders() -> None:
    member = spend_club(window={"rolling": "3 months"}, retention=1)
    order(member, "A-1", "300.00", utc(2026, 1, 10, 15))
    order(member, "A-2", "250.00", utc(2026, 3, 1, 15))
    assert tier_of(member) == "Gold"
    assert member.tier_metrics(at=utc(2026, 4, 9, 15)).spend == 550
    assert member.tier_metrics(at=utc(2026, 4, 10, 15)).spend == 250
    # Reviewed monthly: on 1 April the window to 31 March holds both orders; on
    # 1 May the window to 30 April holds only A-2, so one step down.
    kept, entry = review_member(member, utc(2026, 5, 1, 12))
    assert kept.tier_to == "Gold"
    assert (entry.tier_from, entry.tier_to) == ("Gold", "Silver")
    assert "the 3 months to 2026-04-30" in entry.reason


def test_an_anniversary_window_is_reviewed_on_the_enrolment_anniversary() -> None:
    club = program(tiers=ladder(*SPEND_LADDER, window="anniversary"))
    member = open_account(club, "m-1", enrolled_at=utc(2026, 2, 10, 12))
    order(member, "A-1", "600.00", utc(2026, 5, 1))
    assert review_member(member, utc(2027, 2, 9, 12)) == ()
    (kept,) = review_member(member, utc(2027, 2, 10, 12))
    assert kept.tier_to == "Gold"
    assert "the membership year from 2026-02-10" in kept.reason
    (down,) = review_member(member, utc(2028, 2, 10, 12))
    assert (down.tier_from, down.tier_to) == ("Gold", "Silver")


def test_a_lifetime_window_never_forgets() -> None:
    member = spend_club(window="lifetime")
    order(member, "A-1", "600.00", utc(2020, 5, 1))
    written = review_member(member, utc(2026, 6, 1))
    assert {entry.tier_to for entry in written} == {"Gold"}
    assert tier_of(member) == "Gold"


# ------------------------------------------------------------------ reviews


def test_a_tier_is_kept_through_the_next_year_and_reviewed_on_net_figures() -> None:
    member = spend_club(window="calendar_year")
    order(member, "A-1", "520.00", utc(2026, 3, 1))
    (kept,) = review_member(member, utc(2027, 1, 1, 12))
    assert kept.tier_to == "Gold"
    assert kept.reason == (
        "kept Gold at the review on 2027-01-01: net spend 520.00 USD ≥ 500.00 USD "
        "in calendar year 2026"
    )
    (down,) = review_member(member, utc(2028, 1, 1, 12))
    assert (down.tier_from, down.tier_to) == ("Gold", "Silver")
    assert down.reason == (
        "moved down to Silver at the review on 2028-01-01: net spend 0.00 USD < 500.00 USD "
        "in calendar year 2027"
    )


def test_a_refund_never_lowers_a_tier_before_the_review() -> None:
    member = spend_club(window="calendar_year")
    order(member, "A-1", "300.00", utc(2026, 3, 1))
    order(member, "A-2", "212.00", utc(2026, 3, 4))
    record_refund(member, "A-2", usd("212.00"), at=utc(2026, 3, 8), key="refund:A-2")
    assert tier_of(member) == "Gold"
    assert member.tier_metrics().spend == 300
    assert member.tier_metrics().orders == 1
    (entry,) = review_member(member, utc(2027, 1, 2))
    assert (entry.tier_from, entry.tier_to) == ("Gold", "Silver")


def test_a_refund_before_the_threshold_is_crossed_prevents_the_upgrade() -> None:
    member = spend_club()
    order(member, "A-1", "300.00", utc(2026, 3, 1))
    record_refund(member, "A-1", usd("100.00"), at=utc(2026, 3, 2), key="refund:A-1")
    order(member, "A-2", "250.00", utc(2026, 3, 3))
    assert tier_of(member) == "Silver"  # 450 net, not 550


def test_with_retention_zero_every_tier_resets_at_the_period_end() -> None:
    member = spend_club(window="calendar_year", retention=0, downgrade="to_qualified")
    order(member, "A-1", "1500.00", utc(2026, 3, 1))
    (entry,) = review_member(member, utc(2027, 1, 1, 12))
    assert entry.tier_to == "Member"


def test_with_retention_two_a_tier_survives_one_quiet_year() -> None:
    member = spend_club(window="calendar_year", retention=2)
    order(member, "A-1", "600.00", utc(2026, 3, 1))
    assert review_member(member, utc(2027, 1, 1, 12))[0].tier_to == "Gold"
    assert review_member(member, utc(2028, 1, 1, 12))[0].tier_to == "Gold"
    assert review_member(member, utc(2029, 1, 1, 12))[0].tier_to == "Silver"


def test_one_step_versus_straight_to_the_qualified_tier() -> None:
    stepper = spend_club("a", window="calendar_year", downgrade="one_step")
    dropper = spend_club("b", window="calendar_year", downgrade="to_qualified")
    for member in (stepper, dropper):
        order(member, "A-1", "1200.00", utc(2026, 3, 1))
        order(member, "A-2", "50.00", utc(2027, 3, 1))
    review([stepper, dropper], utc(2028, 1, 1, 12))
    assert (tier_of(stepper), tier_of(dropper)) == ("Gold", "Member")


def test_a_late_review_reviews_each_period_end_in_turn() -> None:
    member = spend_club(window="calendar_year", downgrade="one_step")
    order(member, "A-1", "1200.00", utc(2026, 3, 1))
    written = review_member(member, utc(2029, 6, 1))
    assert [(e.tier_to, e.reviewed) for e in written] == [
        ("Platinum", datetime(2027, 1, 1, tzinfo=NEW_YORK)),
        ("Gold", datetime(2028, 1, 1, tzinfo=NEW_YORK)),
        ("Silver", datetime(2029, 1, 1, tzinfo=NEW_YORK)),
    ]


def test_a_grace_period_delays_the_downgrade() -> None:
    member = spend_club(window="calendar_year", grace="60 days")
    order(member, "A-1", "600.00", utc(2026, 3, 1))
    review_member(member, utc(2027, 1, 1, 12))
    (scheduled,) = review_member(member, utc(2028, 1, 1, 12))
    assert scheduled.cause is TierCause.GRACE
    assert scheduled.reason.startswith("Gold moves down to Silver on 2028-03-01 unless requalified")
    assert tier_of(member) == "Gold"
    (applied,) = review_member(member, utc(2028, 3, 2))
    assert (applied.cause, applied.tier_to) == (TierCause.DOWNGRADE, "Silver")


def test_requalifying_during_the_grace_period_cancels_the_downgrade() -> None:
    member = spend_club(window="calendar_year", grace="60 days")
    order(member, "A-1", "600.00", utc(2026, 3, 1))
    review_member(member, utc(2028, 1, 1, 12))  # kept at 2027-01-01, scheduled at 2028-01-01
    order(member, "A-2", "500.00", utc(2028, 2, 1))
    assert member.journal[-1].cause is TierCause.REQUALIFIED
    assert review_member(member, utc(2028, 3, 2)) == ()
    assert tier_of(member) == "Gold"


def test_reviewing_twice_changes_nothing() -> None:
    members = [spend_club(f"m-{n}", window="calendar_year") for n in range(3)]
    for n, member in enumerate(members):
        order(member, "A-1", f"{300 * (n + 1)}.00", utc(2026, 3, 1))
    first = review(members, utc(2027, 1, 1, 12))
    journals = [member.journal for member in members]
    second = review(members, utc(2027, 1, 1, 12))
    assert (first.members, first.kept, len(first.entries)) == (3, 3, 3)
    assert second.entries == ()
    assert [member.journal for member in members] == journals


def test_members_at_the_entry_tier_need_no_review() -> None:
    member = spend_club()
    order(member, "A-1", "10.00", utc(2026, 3, 1))
    assert review_member(member, utc(2030, 1, 1)) == ()


# ------------------------------------------------------------ manual floors


def test_a_manual_tier_is_a_floor_until_its_end_date() -> None:
    member = spend_club(window="calendar_year", downgrade="to_qualified")
    entry = assign_tier(
        member,
        "Gold",
        at=utc(2026, 2, 1),
        key="vip-1",
        reason="influencer programme",
        actor="crm-lead",
        until=utc(2027, 6, 1),
    )
    assert (entry.cause, entry.actor, entry.tier_to) == (TierCause.MANUAL, "crm-lead", "Gold")
    assert tier_of(member) == "Gold"
    (kept,) = review_member(member, utc(2027, 1, 1, 12))
    assert kept.tier_to == "Gold"
    assert "manual floor Gold" in kept.reason
    (down,) = review_member(member, utc(2028, 1, 1, 12))
    assert down.tier_to == "Member"


def test_a_lower_manual_tier_only_sets_the_floor() -> None:
    member = spend_club()
    order(member, "A-1", "600.00", utc(2026, 3, 1))
    assign_tier(member, "Silver", at=utc(2026, 3, 2), key="k", reason="r", actor="a")
    assert tier_of(member) == "Gold"
    assert member.tier().floor == "Silver"


def test_bad_manual_assignments_are_refused() -> None:
    member = spend_club()
    with pytest.raises(InvalidInput, match="is not a tier"):
        assign_tier(member, "Diamond", at=utc(2026, 1, 1), key="k", reason="r", actor="a")
    with pytest.raises(InvalidInput, match="must be after at"):
        assign_tier(
            member,
            "Gold",
            at=utc(2026, 1, 1),
            key="k",
            reason="r",
            actor="a",
            until=utc(2025, 1, 1),
        )
    assert member.journal == ()


# ------------------------------------------------------- orders and refunds


def test_orders_and_refunds_are_idempotent_and_validated() -> None:
    member = spend_club()
    first = record_order(member, "A-1", usd("100.00"), at=utc(2026, 1, 1), key="o-1")
    assert record_order(member, "A-1", usd("100.00"), at=utc(2026, 1, 2), key="o-1") is first
    with pytest.raises(InvalidInput, match="already recorded"):
        record_order(member, "A-1", usd("100.00"), at=utc(2026, 1, 2), key="o-2")
    with pytest.raises(UnknownOrder):
        record_refund(member, "A-9", usd("1.00"), at=utc(2026, 1, 2), key="r-1")
    record_refund(member, "A-1", usd("60.00"), at=utc(2026, 1, 2), key="r-1")
    with pytest.raises(RefundExceedsOrder) as caught:
        record_refund(member, "A-1", usd("50.00"), at=utc(2026, 1, 3), key="r-2")
    assert caught.value.remaining == usd("40.00")
    assert len(member.journal) == 2


def test_tier_operations_need_a_program_with_tiers() -> None:
    member = account()
    with pytest.raises(NoTiers):
        review_member(member, utc(2026, 1, 1))
    assert member.tier() is None
    record_order(member, "A-1", usd("10.00"), at=utc(2026, 1, 1), key="o-1")
    assert member.order("A-1") is not None


# ----------------------------------------------------------------- progress


def test_progress_says_what_the_next_tier_takes_and_by_when() -> None:
    member = account(
        timezone="America/New_York",
        tiers=ladder(
            ("Member", {}),
            ("Silver", {"net_spend": 200, "orders": 5}),
            ("Gold", {"net_spend": 500, "orders": 10}),
            window="calendar_year",
        ),
    )
    order(member, "A-1", "262.50", utc(2026, 3, 4, 15))
    order(member, "A-2", "200.00", utc(2026, 3, 5, 15))
    progress = tier_progress(member, utc(2026, 6, 1))
    assert progress.tier == "Silver"
    assert progress.next is not None
    assert progress.next.describe("USD", "reach") == (
        "spend 37.50 USD more or complete 8 more orders by 2026-12-31 to reach Gold"
    )
    assert progress.keep is not None
    assert progress.keep.met
    assert progress.describe() == (
        "tier Silver; spend 37.50 USD more or complete 8 more orders by 2026-12-31 "
        "to reach Gold; keep Silver: done"
    )


def test_at_the_top_there_is_no_next_tier_and_lifetime_has_no_deadline() -> None:
    member = spend_club(window="lifetime")
    order(member, "A-1", "1000.00", utc(2026, 1, 1))
    progress = tier_progress(member, utc(2026, 2, 1))
    assert progress.next is None
    assert progress.keep is not None
    assert progress.keep.by is None


# ------------------------------------------------------------ configuration


def test_a_ladder_whose_thresholds_do_not_increase_is_refused_with_paths() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_program(
            {
                **BASE,
                "currencyy": "USD",
                "tiers": ladder(
                    ("Member", {}),
                    ("Silver", {"net_spend": 500, "orders": 5}),
                    ("Gold", {"net_spend": 400, "orders": "5.5"}),
                    ("Silver", {"net_spend": 900}),
                    metrics=["net_spend", "orders"],
                ),
            }
        )
    found = {problem.path: problem.message for problem in caught.value.problems}
    assert found == {
        "currencyy": "unknown key (did you mean 'currency'?)",
        "tiers.ladder[2].threshold.net_spend": "400 is not above 500 ('Silver'): "
        "thresholds must increase up the ladder",
        "tiers.ladder[2].threshold.orders": "5.5 is not a whole number",
        "tiers.ladder[3].name": "'Silver' is used twice",
        "tiers.ladder[3].threshold.orders": "is required: orders is a tier metric",
    }


def test_other_ladder_mistakes_are_refused() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_program(
            {
                **BASE,
                "tiers": {
                    "metrics": ["points", "points"],
                    "window": {"kind": "rolling"},
                    "ladder": [{"name": "Member", "threshold": {"points": 1}}],
                },
            }
        )
    paths = sorted(problem.path for problem in caught.value.problems)
    assert paths == ["tiers.metrics", "tiers.window"]


def test_a_tier_nobody_can_hold_is_warned_about() -> None:
    club = program(tiers=ladder(("Member", {}), ("Silver", {"orders": 0}), ("Gold", {"orders": 5})))
    (warning,) = program_warnings(club)
    assert warning.path == "tiers.ladder[0]"
    assert "nobody can stay in tier 'Member'" in warning.message
    assert program_warnings(program(tiers=ladder(*SPEND_LADDER))) == []


def test_window_shorthands() -> None:
    club = program(tiers=ladder(*SPEND_LADDER, window={"rolling": "12 months"}))
    assert club.tiers is not None
    assert club.tiers.window.length is not None
    assert club.tiers.window.length.months == 12
    with pytest.raises(ConfigurationError, match="takes no length"):
        program(tiers=ladder(*SPEND_LADDER, window={"kind": "lifetime", "length": "1 day"}))


def test_tier_history_verifies() -> None:
    member = spend_club(window={"rolling": "6 months"}, grace="10 days")
    for month in range(1, 13):
        order(member, f"A-{month}", f"{month * 40}.00", utc(2026, month, 5))
        review_member(member, utc(2026, month, 6))
    record_refund(member, "A-12", usd("480.00"), at=utc(2026, 12, 20), key="refund")
    review_member(member, utc(2027, 3, 1))
    assert verify(member) == []
    assert member.tier(at=utc(2026, 6, 1)) is not None


def test_a_floor_assigned_during_a_grace_period_holds_the_tier() -> None:
    member = spend_club(window="calendar_year", grace="60 days")
    order(member, "A-1", "600.00", utc(2026, 3, 1))
    review_member(member, utc(2028, 1, 1, 12))  # Gold scheduled down to Silver on 2028-03-01
    assign_tier(member, "Gold", at=utc(2028, 1, 15), key="vip", reason="vip", actor="crm")
    (entry,) = review_member(member, utc(2028, 3, 2))
    assert entry.cause is TierCause.REQUALIFIED
    assert tier_of(member) == "Gold"


def test_a_review_during_a_grace_period_keeps_the_downgrade_date() -> None:
    member = spend_club(window={"rolling": "1 month"}, grace="45 days")
    order(member, "A-1", "600.00", utc(2026, 1, 10, 15))
    written = review_member(member, utc(2026, 4, 2))
    assert [entry.cause for entry in written] == [
        TierCause.REVIEW,  # 1 February: the month to 31 January holds the order
        TierCause.GRACE,  # 1 March: scheduled for 15 April
        TierCause.GRACE,  # 1 April: still 15 April, not pushed back
    ]
    assert written[1].downgrade_at == written[2].downgrade_at
    (down,) = review_member(member, utc(2026, 4, 16))
    assert (down.cause, down.tier_to) == (TierCause.DOWNGRADE, "Silver")


def test_a_rolling_window_in_hours_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="whole days or months"):
        program(tiers=ladder(*SPEND_LADDER, window={"rolling": "48 hours"}))


def test_a_journal_naming_a_retired_tier_replays_it_as_the_entry_tier_until_reconciled() -> None:
    member = spend_club()
    order(member, "A-1", "600.00", utc(2026, 3, 1))
    renamed = ladder(("Member", {}), ("Silver", {"net_spend": 200}), ("Or", {"net_spend": 500}))
    other = program(timezone="America/New_York", tiers=renamed)
    replayed = replay(other, "m-1", member.journal)
    status = replayed.tier()
    assert status is not None
    assert (status.tier, status.index) == ("Gold", 0)
    (change,) = review_member(replayed, utc(2026, 3, 2))
    assert (change.cause, change.tier_from, change.tier_to) == (TierCause.PROGRAM, "Gold", "Or")
    assert "program changed: 'Gold' no longer on the ladder" in change.reason
    assert verify(replayed) == []
    assert review_member(replayed, utc(2026, 3, 3)) == ()


def test_a_program_entry_naming_a_tier_the_ladder_does_not_have_is_corrupt() -> None:
    member = spend_club()
    order(member, "A-1", "600.00", utc(2026, 3, 1))
    smaller = program(timezone="America/New_York", tiers=ladder(*SPEND_LADDER[:2]))
    replayed = replay(smaller, "m-1", member.journal)
    review_member(replayed, utc(2026, 3, 2))
    other = program(timezone="America/New_York", tiers=ladder(("Member", {}), ("X", {"orders": 9})))
    with pytest.raises(CorruptJournal, match="unknown tier 'Silver'"):
        replay(other, "m-1", replayed.journal)


def test_a_retired_manual_floor_is_dropped_and_the_member_placed_by_their_figures() -> None:
    member = spend_club()
    order(member, "A-1", "250.00", utc(2026, 3, 1))
    assign_tier(member, "Platinum", at=utc(2026, 3, 2), key="vip", reason="VIP", actor="ops")
    smaller = program(timezone="America/New_York", tiers=ladder(*SPEND_LADDER[:3]))
    replayed = replay(smaller, "m-1", member.journal)
    (change,) = review_member(replayed, utc(2026, 3, 3))
    assert (change.tier_from, change.tier_to) == ("Platinum", "Silver")
    status = replayed.tier()
    assert status is not None
    assert (status.tier, status.floor) == ("Silver", None)
    assert verify(replayed) == []


# ------------------------------------------------------- order records: growth

T0_ORDER = utc(2026, 3, 1, 12)


class _CountingPairs(tuple[tuple[str, int], ...]):
    """Refunded units that count how often they are walked through."""

    walks = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        type(self).walks += 1
        return super().__iter__()


def test_looking_up_every_line_of_a_refunded_order_walks_its_refunds_once() -> None:
    # A cancel looks up each line's refunded units: a scan per look-up made a
    # 32k-line cancel quadratic (about 15 s); the look-up is a dictionary's.
    refs = [f"L{index}" for index in range(1000)]
    _CountingPairs.walks = 0
    record = OrderRecord(
        T0_ORDER, usd("1000.00"), usd("0.00"), refunded_units=_CountingPairs((r, 1) for r in refs)
    )
    _CountingPairs.walks = 0
    assert [record.units_refunded(ref) for ref in refs] == [1] * 1000
    assert record.units_refunded("missing") == 0
    assert _CountingPairs.walks <= 1


@given(
    st.dictionaries(st.text("ab", min_size=1, max_size=3), st.integers(1, 5), max_size=6),
    st.lists(st.text("abc", min_size=1, max_size=3), max_size=10),
)
def test_refunded_units_read_as_a_scan_of_the_refunds_would(
    refunds: dict[str, int], asked: list[str]
) -> None:
    pairs = tuple(sorted(refunds.items()))
    record = OrderRecord(T0_ORDER, usd("10.00"), usd("0.00"), refunded_units=pairs)
    for ref in [*asked, *refunds]:
        assert record.units_refunded(ref) == next((n for r, n in pairs if r == ref), 0)
