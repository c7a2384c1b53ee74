"""The incentive engine: windows as rules, audiences, bundles all or nothing, budgets,
choices, holdings' lifecycle, coupons at checkout and the calendar triggers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from loyalty import (
    ConfigurationError,
    CouponRefused,
    CouponUsed,
    HoldingKind,
    HoldingStatus,
    IncentiveRefused,
    InvalidInput,
    LoyaltyService,
    MemoryStore,
    Program,
    RedemptionRefused,
    RedemptionVoided,
    complete_order,
    refund_order,
    verify,
    void_redemption,
)
from loyalty.cart import load_cart
from loyalty.checkout.candidates import Converter, coupon_candidate
from loyalty.checkout.cashback import spend_cashback
from loyalty.checkout.coupons import redeem_coupon
from loyalty.hurdles import Check
from loyalty.incentives.audience import Audience, Facts
from loyalty.incentives.config import OnBirthday, OnSchedule, TriggerKind
from loyalty.incentives.holdings import choose, holdings, revoke, settle_due, transfer, wallet
from loyalty.incentives.issue import fire
from loyalty.incentives.occasions import birthday_window, birthday_year, schedule_occurrences
from loyalty.incentives.offers import offer_of
from loyalty.incentives.plan import Occasion, OrderFacts
from loyalty.incentives.shared import MemoryRows, Shared
from loyalty.incentives.windows import ActiveWindow, Validity, Yearly
from loyalty.ledger.account import Account
from loyalty.stacking.engine import Context
from tests.builders import T0, days, program, usd, utc

NY = ZoneInfo("America/New_York")


def incentives(*catalog: dict[str, Any], **settings: Any) -> Program:
    return program(incentives={"catalog": list(catalog), **settings})


def welcome(*grants: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"id": "welcome", "trigger": {"event": "enrolled"}, "grants": list(grants), **more}


AMOUNT = {"kind": "coupon", "offer": {"kind": "amount_off", "amount": "5.00"}}
SHIPPING = {"kind": "free_shipping"}


def enrolled(account: Account, rows: Shared, at: datetime = T0, **occasion: Any) -> Any:
    return fire(
        account, Occasion(TriggerKind.ENROLLED, "enrolled", at, **occasion), at=at, shared=rows
    )


def cart(
    cart_id: str, *lines: tuple[str, str], shipping: str = "4.90", member: str = "m-1"
) -> dict[str, Any]:
    return {
        "id": cart_id,
        "member_id": member,
        "currency": "USD",
        "shipping": shipping,
        "lines": [{"sku": sku, "unit_price": price, "quantity": 1} for sku, price in lines],
    }


def new(prog: Program, member: str = "m-1") -> Account:
    from loyalty import open_account

    return open_account(prog, member)


# ------------------------------------------------------------------ windows


def test_a_yearly_window_is_the_same_local_days_every_year() -> None:
    singles = ActiveWindow(yearly=Yearly(start=(11, 11), end=(11, 12)))
    assert singles.contains(datetime(2025, 11, 11, 0, 30, tzinfo=NY), NY)
    assert singles.contains(datetime(2031, 11, 11, 23, 59, tzinfo=NY), NY)
    assert not singles.contains(datetime(2026, 11, 12, 0, 0, tzinfo=NY), NY)
    assert not singles.contains(datetime(2026, 11, 11, 4, 59, tzinfo=UTC), NY)  # 10 Nov in NY


def test_a_yearly_window_may_cross_new_year_and_keeps_29_february_in_other_years() -> None:
    holidays = Yearly(start=(12, 20), end=(1, 6))
    assert holidays.around(datetime(2027, 1, 3, tzinfo=NY), NY) == (
        datetime(2026, 12, 20, tzinfo=NY),
        datetime(2027, 1, 6, tzinfo=NY),
    )
    leap = Yearly(start=(2, 29), end=(3, 2))
    assert leap.occurrence(2027, NY)[0] == datetime(2027, 2, 28, tzinfo=NY)
    assert leap.occurrence(2028, NY)[0] == datetime(2028, 2, 29, tzinfo=NY)


def test_a_validity_is_the_narrowest_of_its_rules() -> None:
    christmas = Validity(yearly=Yearly(start=(12, 1), end=(12, 25)))
    earned = datetime(2025, 11, 11, 15, tzinfo=NY)
    assert christmas.bounds(earned, NY) == (
        datetime(2025, 12, 1, tzinfo=NY),
        datetime(2025, 12, 25, tzinfo=NY),
    )
    flash = Validity.model_validate({"within": "48 hours"})
    assert flash.bounds(earned, NY) == (earned, datetime(2025, 11, 13, 20, tzinfo=UTC))
    capped = Validity.model_validate({"within": "30 days", "ends": "2025-11-20"})
    assert capped.bounds(earned, NY)[1] == datetime(2025, 11, 20, tzinfo=NY)
    assert Validity().bounds(earned, NY) == (earned, None)


@pytest.mark.parametrize("text", ["13-01", "02-30", "1111", "11/11", 1111])
def test_a_month_day_that_is_not_a_day_is_refused(text: object) -> None:
    with pytest.raises(ConfigurationError, match="day"):
        incentives(welcome(AMOUNT, window={"yearly": {"start": text, "end": "12-01"}}))


# ----------------------------------------------------------------- audience


def facts(**overrides: Any) -> Facts:
    base: dict[str, Any] = {
        "at": T0,
        "segments": frozenset({"vip"}),
        "tier": "Gold",
        "orders": 3,
        "spend": lambda: usd("120.00").amount,
        "enrolled_at": T0 - days(100),
        "ordered_between": lambda start, end: False,
    }
    return Facts(**{**base, **overrides})


@pytest.mark.parametrize(
    ("audience", "why"),
    [
        ({"segments": ["staff"]}, "not in segment staff"),
        ({"tiers": ["Platinum"]}, "not in tier Platinum"),
        ({"min_orders": 4}, "fewer than 4 orders"),
        ({"max_orders": 0}, "more than 0 orders"),
        ({"min_spend": "120.01"}, "spent less than 120.01"),
        ({"joined_in": {"starts": "2025-12-01"}}, "did not join in the window"),
    ],
)
def test_an_audience_says_why_a_member_is_outside_it(audience: dict[str, Any], why: str) -> None:
    assert Audience.model_validate(audience).excludes(facts(), ZoneInfo("UTC")) == why


def test_an_audience_of_everything_the_member_is_includes_them() -> None:
    audience = Audience.model_validate(
        {"segments": ["vip", "x"], "tiers": ["Gold"], "min_orders": 3, "min_spend": "120.00"}
    )
    assert audience.excludes(facts(), ZoneInfo("UTC")) is None


def test_has_not_ordered_in_the_window_looks_at_its_latest_stretch() -> None:
    asked: list[tuple[datetime | None, datetime | None]] = []

    def ordered(start: datetime | None, end: datetime | None) -> bool:
        asked.append((start, end))
        return False

    audience = Audience.model_validate(
        {"not_ordered_in": {"yearly": {"start": "11-11", "end": "11-12"}}}
    )
    at = datetime(2026, 12, 5, tzinfo=NY)
    assert audience.excludes(facts(at=at, ordered_between=ordered), NY) is None
    assert asked == [(datetime(2026, 11, 11, tzinfo=NY), datetime(2026, 11, 12, tzinfo=NY))]
    assert audience.excludes(facts(at=at, ordered_between=lambda s, e: True), NY) == (
        "ordered in the window"
    )


# ------------------------------------------------------------------- bundles


def test_a_bundle_is_one_grant_entry_with_its_coupons_choices_and_points() -> None:
    prog = incentives(
        welcome(
            AMOUNT,
            SHIPPING,
            {"kind": "points", "points": 50, "expires_after": "90 days"},
            {
                "kind": "one_of",
                "grants": [
                    {"kind": "gift", "sku": "A", "value": "24.00"},
                    {"kind": "gift", "sku": "B", "value": "19.00"},
                ],
            },
        ),
        point_value="0.01",
    )
    account, rows = new(prog), Shared(MemoryRows())
    (grant,) = enrolled(account, rows).grants
    kinds = sorted(holding.kind.value for holding in grant.holdings)
    assert kinds == ["choice", "coupon", "coupon"]
    assert grant.cost == usd("29.50")  # 5.00 + the best choice 24.00 + 50 points at 0.01
    codes = [holding.code for holding in grant.holdings if holding.code]
    assert len(set(codes)) == 2
    assert all(rows.code(code) for code in codes if code)
    earn = account.entry(f"m-1:{grant.seq + 1}")
    assert earn.points == 50
    assert earn.key == grant.key
    assert earn.expires_at == T0 + days(90)  # type: ignore[attr-defined]
    assert verify(account) == []


def test_the_same_occasion_fires_once() -> None:
    account, rows = new(incentives(welcome(AMOUNT))), Shared(MemoryRows())
    first = enrolled(account, rows).grants
    again = enrolled(account, rows, at=T0 + days(1)).grants
    assert again == first
    assert len(holdings(account)) == 1


def test_a_required_gift_out_of_stock_refuses_the_whole_bundle_and_an_optional_one_is_skipped() -> (
    None
):
    gift = {"kind": "gift", "sku": "A", "value": "9.00", "stock": 1}
    prog = incentives(welcome(AMOUNT, gift))
    rows = Shared(MemoryRows())
    assert enrolled(new(prog, "m-1"), rows).grants
    second = new(prog, "m-2")
    fired = enrolled(second, rows)
    assert fired.grants == ()
    assert fired.refused == (("welcome", "A is out of stock"),)
    assert second.next_seq == 1  # nothing written

    optional = incentives(welcome(AMOUNT, {**gift, "optional": True}))
    rows = Shared(MemoryRows())
    enrolled(new(optional, "m-1"), rows)
    (grant,) = enrolled(new(optional, "m-2"), rows).grants
    assert [h.title for h in grant.holdings] == ["5.00 USD off"]
    assert grant.notes == ("skipped gift A: out of stock",)


def test_a_count_budget_rejects_past_its_limit() -> None:
    prog = incentives(welcome(AMOUNT, limits={"budget": {"count": 2}}))
    rows = Shared(MemoryRows())
    results = [enrolled(new(prog, f"m-{n}"), rows) for n in range(4)]
    assert [bool(result.grants) for result in results] == [True, True, False, False]
    assert results[3].refused == (("welcome", "its budget of 2 is spent"),)
    assert rows.used("budget:welcome:count") == 2


def test_a_money_budget_clips_cashback_and_records_what_was_wanted() -> None:
    cashback = {"kind": "cashback", "amount": "4.00"}
    prog = incentives(welcome(cashback, limits={"budget": {"money": "10.00"}}))
    rows = Shared(MemoryRows())
    granted = [enrolled(new(prog, f"m-{n}"), rows).grants for n in range(4)]
    amounts = [g[0].holdings[0].amount if g else None for g in granted]
    assert amounts == [usd("4.00"), usd("4.00"), usd("2.00"), None]
    assert granted[2][0].notes == ("cashback clipped by the budget: 2.00 USD of 4.00 USD",)


def test_a_points_budget_clips_points() -> None:
    prog = incentives(welcome({"kind": "points", "points": 30}, limits={"budget": {"points": 50}}))
    rows = Shared(MemoryRows())
    balances = []
    for n in range(3):
        account = new(prog, f"m-{n}")
        enrolled(account, rows)
        balances.append(account.balance().available)
    assert balances == [30, 20, 0]


def test_per_member_limits_count_within_their_period() -> None:
    monthly = {
        "id": "monthly",
        "trigger": {"event": "manual"},
        "grants": [AMOUNT],
        "limits": {"per_member": 1, "per": "month"},
    }
    account, rows = new(incentives(monthly)), Shared(MemoryRows())

    def grant(at: datetime, occurrence: str) -> bool:
        occasion = Occasion(TriggerKind.MANUAL, occurrence, at, only="monthly")
        return bool(fire(account, occasion, at=at, shared=rows).grants)

    assert grant(utc(2026, 1, 5), "a")
    assert not grant(utc(2026, 1, 25), "b")
    assert grant(utc(2026, 2, 1), "c")


def test_order_triggers_filter_on_their_order() -> None:
    first = {
        "id": "first",
        "trigger": {"event": "order_completed", "first_order": True},
        "grants": [AMOUNT],
    }
    third = {
        "id": "third",
        "trigger": {"event": "order_completed", "nth_order": 3},
        "grants": [AMOUNT],
    }
    big = {
        "id": "big",
        "trigger": {"event": "order_completed", "min_amount": "100.00", "categories": ["skin"]},
        "grants": [AMOUNT],
    }
    account, rows = new(incentives(first, third, big)), Shared(MemoryRows())

    def order(n: int, amount: str, categories: frozenset[str] = frozenset()) -> list[str]:
        facts = OrderFacts(f"o{n}", usd(amount), n, categories)
        occasion = Occasion(TriggerKind.ORDER_COMPLETED, f"order:o{n}", T0 + days(n), order=facts)
        return [g.incentive for g in fire(account, occasion, at=T0 + days(n), shared=rows).grants]

    assert order(1, "20.00") == ["first"]
    assert order(2, "150.00") == []
    assert order(3, "150.00", frozenset({"skin"})) == ["big", "third"]  # priority 0: by id


def test_incentives_on_one_trigger_run_by_priority_then_id() -> None:
    items = [
        {"id": name, "trigger": {"event": "enrolled"}, "grants": [AMOUNT], "priority": priority}
        for name, priority in (("b", 0), ("a", 0), ("z", 5))
    ]
    account, rows = new(incentives(*items)), Shared(MemoryRows())
    assert [g.incentive for g in enrolled(account, rows).grants] == ["z", "a", "b"]


def test_enrolment_triggers_filter_on_channel_campaign_and_referral() -> None:
    email = welcome(AMOUNT, trigger={"event": "enrolled", "channel": "email"})
    referee = {
        "id": "referee",
        "trigger": {"event": "enrolled", "referred": True},
        "grants": [SHIPPING],
    }
    prog = incentives(email, referee)
    rows = Shared(MemoryRows())
    assert [g.incentive for g in enrolled(new(prog, "a"), rows, channel="email").grants] == [
        "welcome"
    ]
    assert [g.incentive for g in enrolled(new(prog, "b"), rows, referred=True).grants] == [
        "referee"
    ]
    assert enrolled(new(prog, "c"), rows, channel="store").grants == ()


# ------------------------------------------------------------------ holdings


def choice_program(policy: str = "member_picks", **extra: Any) -> Program:
    return incentives(
        welcome(
            {
                "kind": "one_of",
                "policy": policy,
                "deadline": "14 days",
                "grants": [
                    {"kind": "gift", "sku": "A", "value": "24.00", "stock": 1},
                    {"kind": "gift", "sku": "B", "value": "19.00"},
                    {"kind": "points", "points": 100},
                ],
            }
        ),
        **extra,
    )


def test_a_choice_stays_open_until_made_and_becomes_a_coupon_with_its_own_code() -> None:
    account, rows = new(choice_program()), Shared(MemoryRows())
    (grant,) = enrolled(account, rows).grants
    (pending,) = grant.holdings
    assert pending.kind is HoldingKind.CHOICE
    assert pending.valid_until == T0 + days(14)
    made = choose(account, pending.key, "B", at=T0 + days(1), key="pick", shared=rows)
    assert made.choice == 1
    (gift,) = made.issued
    assert gift.kind is HoldingKind.COUPON
    assert gift.value == usd("19.00")
    assert gift.code
    assert account._holdings[pending.key].status is HoldingStatus.USED
    assert choose(account, pending.key, "B", at=T0 + days(1), key="pick", shared=rows) == made
    with pytest.raises(InvalidInput, match="is used"):
        choose(account, pending.key, 0, at=T0 + days(1), key="again", shared=rows)
    assert verify(account) == []


def test_a_choice_of_points_credits_them() -> None:
    account, rows = new(choice_program()), Shared(MemoryRows())
    (grant,) = enrolled(account, rows).grants
    choose(account, grant.holdings[0].key, 2, at=T0, key="pick", shared=rows)
    assert account.balance().available == 100


def test_an_option_out_of_stock_cannot_be_chosen_and_the_deadline_picks_the_best_in_stock() -> None:
    prog = choice_program()
    rows = Shared(MemoryRows())
    first, second = new(prog, "m-1"), new(prog, "m-2")
    (g1,) = enrolled(first, rows).grants
    (g2,) = enrolled(second, rows).grants
    choose(first, g1.holdings[0].key, "A", at=T0, key="pick", shared=rows)
    with pytest.raises(InvalidInput, match="A is out of stock"):
        choose(second, g2.holdings[0].key, "A", at=T0, key="pick", shared=rows)
    (made,) = settle_due(second, T0 + days(15), rows)
    assert made.reason == "chosen at the deadline"
    assert made.choice == 1
    assert made.occurred_at is None or made.occurred_at <= made.at


def test_highest_value_in_stock_is_chosen_at_issue() -> None:
    account, rows = new(choice_program("highest_value_in_stock")), Shared(MemoryRows())
    (grant,) = enrolled(account, rows).grants
    (gift,) = grant.holdings
    assert gift.kind is HoldingKind.COUPON
    assert gift.title == "a free A"


def test_a_coupon_lapses_with_an_entry_and_can_be_revoked_with_a_reason() -> None:
    prog = incentives(welcome({**AMOUNT, "valid": {"within": "48 hours"}}, SHIPPING))
    account, rows = new(prog), Shared(MemoryRows())
    (grant,) = enrolled(account, rows).grants
    flash, shipping = grant.holdings
    assert settle_due(account, T0 + days(1), rows) == ()
    (lapsed,) = settle_due(account, T0 + days(3), rows)
    assert lapsed.holding == flash.key
    assert lapsed.occurred_at == T0 + days(2)
    assert account._holdings[flash.key].status is HoldingStatus.EXPIRED
    revoked = revoke(account, shipping.key, at=T0 + days(3), key="r", reason="fraud", actor="ops")
    assert revoked.reason == "revoked: fraud"
    assert revoked.actor == "ops"
    with pytest.raises(InvalidInput, match="is revoked"):
        revoke(account, shipping.key, at=T0 + days(3), key="r2", reason="again", actor="ops")
    assert verify(account) == []


# ------------------------------------------------------------------- coupons


BUNDLE = (
    AMOUNT,
    {"kind": "coupon", "offer": {"kind": "percent_off", "percent": 10}},
    {"kind": "gift", "sku": "GIFT", "value": "8.50"},
    SHIPPING,
)


def coupons_of(account: Account) -> dict[str, str]:
    return {h.title: h.code or "" for h in holdings(account, HoldingKind.COUPON)}


def test_coupons_apply_in_one_order_whatever_order_they_are_entered_in() -> None:
    prog = incentives(welcome(*BUNDLE))
    basket = cart("c-1", ("GIFT", "8.50"), ("X", "20.00"))
    totals = []
    for order in (
        ["5.00 USD off", "10% off", "a free GIFT", "free shipping"],
        ["free shipping", "a free GIFT", "10% off", "5.00 USD off"],
        ["10% off", "5.00 USD off", "free shipping", "a free GIFT"],
    ):
        account, rows = new(prog), Shared(MemoryRows())
        enrolled(account, rows)
        codes = coupons_of(account)
        for n, title in enumerate(order):
            redeem_coupon(account, codes[title], basket, at=T0, key=f"k{n}")
        live = [r for r in account.redemptions("c-1") if r.in_use]
        lines: dict[str, Any] = {}
        for record in live:
            for part in record.discounts:
                lines[part.line] = lines.get(part.line, usd("0")) + part.amount
        shipping = sum((r.shipping_discount.amount for r in live if r.shipping_discount), start=0)
        totals.append((sorted(lines.items()), shipping))
        assert verify(account) == []
    assert totals[0] == totals[1] == totals[2]
    # the gift is free (8.50), then 10% of 20.00, then 5.00 off the rest, then shipping
    assert dict(totals[0][0]) == {"GIFT": usd("8.50"), "X": usd("7.00")}


def test_the_application_order_ranks_line_discounts_first() -> None:
    account, rows = new(incentives(welcome(*BUNDLE))), Shared(MemoryRows())
    enrolled(account, rows)
    stacking = account.program.stacking
    convert = Converter("USD", Decimal(1))
    coupons = [
        coupon_candidate(h, offer_of(h.offer), convert, stacking, id=h.key, reference=h)
        for h in holdings(account, HoldingKind.COUPON)
    ]
    where = Context(cart=load_cart(cart("c-1", ("X", "1.00"))), order=stacking.order,
                    judge=lambda condition, reductions, off: Check("none", True, ""))
    ranked = [c.reference for c in sorted(coupons, key=where.position)]
    assert [h.title for h in ranked] == ["a free GIFT", "10% off", "5.00 USD off", "free shipping"]


def test_an_unknown_an_expired_a_revoked_and_another_members_code_get_the_same_answer() -> None:
    prog = incentives(welcome({**AMOUNT, "valid": {"within": "1 day"}}, SHIPPING))
    rows = Shared(MemoryRows())
    mine, theirs = new(prog, "m-1"), new(prog, "m-2")
    enrolled(mine, rows)
    enrolled(theirs, rows)
    own = coupons_of(mine)
    revoke(mine, holdings(mine)[1].key, at=T0, key="r", reason="test", actor="ops")
    basket = cart("c-1", ("X", "20.00"))
    answers = []
    for code, at in (
        ("NOPE-NOPE-NOPE", T0),
        (own["5.00 USD off"], T0 + days(2)),
        (own["free shipping"], T0),
        (coupons_of(theirs)["5.00 USD off"], T0),
    ):
        with pytest.raises(CouponRefused) as refused:
            redeem_coupon(mine, code, basket, at=at, key=f"try-{code}-{at}")
        answers.append(str(refused.value))
        assert refused.value.audit  # the real reason, for the audit trail
    assert set(answers) == {"this code cannot be applied"}


def test_a_second_use_names_the_code_and_when_it_was_used() -> None:
    account, rows = new(incentives(welcome(AMOUNT))), Shared(MemoryRows())
    enrolled(account, rows)
    code = coupons_of(account)["5.00 USD off"]
    basket = cart("c-1", ("X", "20.00"))
    first = redeem_coupon(account, code.lower(), basket, at=T0, key="k1")  # typed in lowercase
    assert redeem_coupon(account, code, basket, at=T0, key="k2") == first  # its reservation
    complete_order(account, basket, at=T0, key="order")
    shown = f"{code[:4]}-{code[4:8]}-{code[8:]}"
    with pytest.raises(CouponUsed, match=rf"coupon {shown} was already used at .* on order c-1"):
        redeem_coupon(account, code, cart("c-2", ("X", "20.00")), at=T0 + days(1), key="k3")


def test_a_voided_coupon_is_usable_again() -> None:
    account, rows = new(incentives(welcome(AMOUNT))), Shared(MemoryRows())
    enrolled(account, rows)
    code = coupons_of(account)["5.00 USD off"]
    used = redeem_coupon(account, code, cart("c-1", ("X", "20.00")), at=T0, key="k1")
    void_redemption(account, used.entry.id, at=T0, key="void")
    again = redeem_coupon(account, code, cart("c-2", ("X", "20.00")), at=T0, key="k2")
    assert again.total == usd("5.00")


def test_a_coupon_redemption_repeated_after_its_void_is_refused() -> None:
    account, rows = new(incentives(welcome(AMOUNT))), Shared(MemoryRows())
    enrolled(account, rows)
    code = coupons_of(account)["5.00 USD off"]
    used = redeem_coupon(account, code, cart("c-1", ("X", "20.00")), at=T0, key="k1")
    void = void_redemption(account, used.entry.id, at=T0, key="void")
    with pytest.raises(RedemptionVoided) as refused:
        redeem_coupon(account, code, cart("c-1", ("X", "20.00")), at=T0, key="k1")
    assert refused.value.void_id == void.id
    again = redeem_coupon(account, code, cart("c-1", ("X", "20.00")), at=T0, key="k2")
    assert again.total == usd("5.00")


def test_a_coupon_carries_its_own_hurdles_and_per_order_limit() -> None:
    prog = incentives(
        welcome(
            {**AMOUNT, "hurdles": {"min_basket": "30.00"}},
            {**AMOUNT, "title": "second"},
            limits={"per_order": 1},
        )
    )
    account, rows = new(prog), Shared(MemoryRows())
    enrolled(account, rows)
    codes = coupons_of(account)
    with pytest.raises(RedemptionRefused, match=r"add 10\.00 USD"):
        redeem_coupon(account, codes["5.00 USD off"], cart("c-1", ("X", "20.00")), at=T0, key="k1")
    redeem_coupon(account, codes["second"], cart("c-1", ("X", "40.00")), at=T0, key="k2")
    with pytest.raises(RedemptionRefused, match="at most 1 of these coupons per order"):
        redeem_coupon(account, codes["5.00 USD off"], cart("c-1", ("X", "40.00")), at=T0, key="k3")


def test_a_transferable_coupon_moves_to_the_member_who_uses_it() -> None:
    prog = incentives(welcome({**AMOUNT, "transferable": True}))
    rows = Shared(MemoryRows())
    giver, taker = new(prog, "m-1"), new(prog, "m-2")
    enrolled(giver, rows)
    (coupon,) = holdings(giver)
    grant = transfer(giver, taker, coupon, T0 + days(1), rows)
    assert giver._holdings[coupon.key].status is HoldingStatus.TRANSFERRED
    assert rows.code(coupon.code or "") == ("m-2", grant.holdings[0].key)
    used = redeem_coupon(
        taker, coupon.code or "", cart("c-9", ("X", "9.00"), member="m-2"), at=T0 + days(1), key="k"
    )
    assert used.total == usd("5.00")
    assert verify(giver) == []
    assert verify(taker) == []


# ------------------------------------------------------------------ cashback


def cashback_program(**grant: Any) -> Program:
    festival = {
        "id": "singles-day",
        "trigger": {"event": "order_completed"},
        "window": {"yearly": {"start": "11-11", "end": "11-12"}},
        "grants": [
            {
                "kind": "cashback",
                "percent": 10,
                "valid": {"yearly": {"start": "12-01", "end": "12-25"}},
                **grant,
            }
        ],
    }
    return program(timezone="America/New_York", incentives={"catalog": [festival]})


def order_occasion(account: Account, cart_id: str, amount: str, at: datetime, rows: Shared) -> Any:
    facts = OrderFacts(cart_id, usd(amount), 1)
    occasion = Occasion(TriggerKind.ORDER_COMPLETED, f"order:{cart_id}", at, order=facts)
    return fire(account, occasion, at=at, shared=rows)


def test_cashback_earned_on_11_11_is_spendable_only_at_christmas_and_then_expires() -> None:
    account, rows = new(cashback_program()), Shared(MemoryRows())
    earned = datetime(2026, 11, 11, 20, tzinfo=NY)
    assert (
        order_occasion(account, "o-0", "80.00", datetime(2026, 11, 10, 20, tzinfo=NY), rows).grants
        == ()
    )
    (grant,) = order_occasion(account, "o-1", "80.00", earned, rows).grants
    (credit,) = grant.holdings
    assert credit.amount == usd("8.00")
    assert credit.valid_from == datetime(2026, 12, 1, tzinfo=NY)
    assert wallet(account, earned).pending == usd("8.00")
    basket = cart("c-2", ("X", "50.00"))
    with pytest.raises(InvalidInput, match="nothing to pay with"):
        spend_cashback(account, basket, at=datetime(2026, 11, 30, tzinfo=NY), key="early")
    spent = spend_cashback(
        account, basket, at=datetime(2026, 12, 3, tzinfo=NY), key="pay", amount=usd("3.00")
    )
    assert [entry.tender for entry in spent] == [usd("3.00")]
    (lapse,) = settle_due(account, datetime(2026, 12, 26, tzinfo=NY), rows)
    assert lapse.amount == usd("5.00")
    after = wallet(account, datetime(2026, 12, 26, tzinfo=NY))
    assert (after.credited, after.spent, after.expired, after.balance) == (
        usd("8.00"),
        usd("3.00"),
        usd("5.00"),
        usd("0.00"),
    )
    assert verify(account) == []


def test_cashback_pays_at_most_what_is_left_after_discounts() -> None:
    prog = program(
        incentives={"catalog": [welcome({"kind": "cashback", "amount": "50.00"}, AMOUNT)]}
    )
    account, rows = new(prog), Shared(MemoryRows())
    enrolled(account, rows)
    basket = cart("c-1", ("X", "20.00"), shipping="0")
    redeem_coupon(account, coupons_of(account)["5.00 USD off"], basket, at=T0, key="coupon")
    with pytest.raises(InvalidInput, match=r"more than the 15\.00 USD left to pay"):
        spend_cashback(account, basket, at=T0, key="too-much", amount=usd("16.00"))
    (paid,) = spend_cashback(account, basket, at=T0, key="pay")
    assert paid.tender == usd("15.00")
    result = complete_order(account, basket, at=T0, key="order")
    assert result.earn is not None
    assert result.earn.points == 15


def test_a_full_refund_gives_cashback_back_and_unwinds_the_orders_own_grants() -> None:
    rewarded = {
        "id": "thanks",
        "trigger": {"event": "order_completed"},
        "grants": [AMOUNT, {"kind": "points", "points": 20}],
    }
    prog = program(
        incentives={"catalog": [welcome({"kind": "cashback", "amount": "6.00"}), rewarded]}
    )
    account, rows = new(prog), Shared(MemoryRows())
    enrolled(account, rows)
    basket = cart("o-1", ("X", "30.00"))
    spend_cashback(account, basket, at=T0, key="pay", amount=usd("6.00"))
    done = complete_order(account, basket, at=T0, key="order")
    order_occasion(account, "o-1", str(done.order.amount.amount), T0, rows)
    thanks = [h for h in holdings(account) if h.incentive == "thanks"]
    before = account.balance().available
    refund_order(account, "o-1", at=T0 + days(1), key="refund")
    assert wallet(account, T0 + days(1)).available == usd("6.00")
    assert account._holdings[thanks[0].key].status is HoldingStatus.REVOKED
    assert account.balance().available == before - 20 - done.earn.points  # type: ignore[union-attr]
    assert verify(account) == []


# ------------------------------------------------------------ the calendar


def test_a_birthday_window_and_29_february() -> None:
    trigger = OnBirthday(event="birthday", days_before=2, days_after=1, leap_day="03-01")
    utc_zone = ZoneInfo("UTC")
    assert birthday_window(trigger, date(2000, 2, 29), 2027, utc_zone) == (
        utc(2027, 2, 27),
        utc(2027, 3, 3),
    )
    assert birthday_year(trigger, date(1990, 1, 1), utc(2026, 12, 31), utc_zone) == 2027
    month = OnBirthday(event="birthday", grant_window="month")
    assert birthday_window(month, date(1990, 2, 10), 2028, utc_zone) == (
        utc(2028, 2, 1),
        utc(2028, 3, 1),
    )
    assert birthday_year(month, date(1990, 2, 10), utc(2028, 3, 1), utc_zone) is None


def test_schedule_occurrences_are_numbered_from_their_start() -> None:
    rule = OnSchedule(event="schedule", rrule="FREQ=MONTHLY;BYMONTHDAY=1", starts=date(2026, 1, 1))
    found = list(schedule_occurrences(rule, utc(2026, 2, 15), utc(2026, 5, 1, 3), NY))
    assert found == [(2, datetime(2026, 3, 1, tzinfo=NY)), (3, datetime(2026, 4, 1, tzinfo=NY))]
    # 1 May, local midnight, is 04:00 UTC: after the run at 03:00 UTC
    assert list(schedule_occurrences(rule, utc(2026, 4, 1, 5), utc(2026, 5, 1, 4), NY)) == [
        (4, datetime(2026, 5, 1, tzinfo=NY))
    ]


def test_an_invalid_recurrence_rule_is_refused_at_its_path() -> None:
    schedule = {"event": "schedule", "rrule": "FREQ=SOMETIMES", "starts": "2026-01-01"}
    with pytest.raises(ConfigurationError) as refused:
        incentives({"id": "s", "trigger": schedule, "grants": [AMOUNT]})
    assert "catalog[0].trigger.schedule.rrule" in str(refused.value)
    assert "not an RFC 5545 recurrence rule" in str(refused.value)


def test_every_problem_of_the_incentives_is_reported_at_once() -> None:
    with pytest.raises(ConfigurationError) as refused:
        incentives(welcome({"kind": "cashback", "percent": 5}), welcome(AMOUNT))
    text = str(refused.value)
    assert "catalog[0].grants[0].percent: " in text
    assert "a percent of the order needs an order_completed trigger" in text
    assert "catalog[1].id: 'welcome' is used twice" in text


# ------------------------------------------------------------- the service


MONTHLY_GIFTS = {
    "id": "monthly-gift",
    "trigger": {
        "event": "schedule",
        "rrule": "FREQ=MONTHLY;BYMONTHDAY=1",
        "starts": "2026-01-01",
        "catch_up": "40 days",
        "rotate": [
            {"kind": "gift", "sku": "JAN", "value": "5.00"},
            {"kind": "gift", "sku": "FEB", "value": "6.00"},
            {"kind": "gift", "sku": "MAR", "value": "7.00"},
        ],
    },
    "grants": [{"kind": "points", "points": 5}],
}


def test_the_scheduled_run_gives_each_month_its_gift_once_and_makes_up_a_missed_run() -> None:
    service = LoyaltyService(program(incentives={"catalog": [MONTHLY_GIFTS]}), MemoryStore())
    service.enrol("m-1", at=utc(2025, 12, 20))
    service.advance(utc(2026, 1, 2))
    service.advance(utc(2026, 1, 2, 5))  # a replayed run
    service.advance(utc(2026, 3, 3))  # February's run was missed
    gifts = [h.title for h in service.holdings("m-1")]
    assert gifts == ["a free JAN", "a free FEB", "a free MAR"]
    assert service.balance("m-1").available == 15
    assert service.verify("m-1") == []


def test_a_manual_grant_needs_a_manual_incentive_and_respects_its_budget() -> None:
    goodwill = {
        "id": "goodwill",
        "trigger": {"event": "manual"},
        "grants": [AMOUNT],
        "limits": {"budget": {"count": 1}},
    }
    service = LoyaltyService(
        program(incentives={"catalog": [goodwill, welcome(SHIPPING)]}), MemoryStore()
    )
    for member in ("m-1", "m-2"):
        service.enrol(member, at=T0)
    grant = service.grant("m-1", "goodwill", at=T0, key="g-1", reason="late parcel", actor="ops-7")
    assert grant.reason == "goodwill: 5.00 USD off (late parcel, by ops-7)"
    assert (
        service.grant("m-1", "goodwill", at=T0, key="g-1", reason="late parcel", actor="ops-7")
        == grant
    )
    with pytest.raises(IncentiveRefused, match="budget of 1 is spent"):
        service.grant("m-2", "goodwill", at=T0, key="g-2", reason="late parcel", actor="ops-7")
    ((name, measure, limit, used, left),) = [
        (b.incentive, b.measure, b.limit, b.used, b.left) for b in service.budgets()
    ]
    assert (name, measure, limit, used, left) == ("goodwill", "count", 1, 1, 0)
    with pytest.raises(InvalidInput, match="is not a manual incentive"):
        service.grant("m-2", "welcome", at=T0, key="g-3", reason="x", actor="ops-7")


def test_the_apology_is_issued_once_per_order_and_knows_a_first_order() -> None:
    apology = {
        "id": "apology",
        "trigger": {"event": "shipment_delayed"},
        "grants": [
            {"kind": "coupon", "offer": {"kind": "amount_off", "amount": "10.00"}},
            SHIPPING,
        ],
    }
    service = LoyaltyService(program(incentives={"catalog": [apology]}), MemoryStore())
    service.enrol("m-1", at=T0)
    basket = cart("o-1", ("X", "30.00"))
    service.handle(
        {"type": "order_completed", "member_id": "m-1", "key": "w-1", "at": T0, "cart": basket}
    )
    first = service.handle(
        {
            "type": "shipment_delayed",
            "member_id": "m-1",
            "key": "d-1",
            "at": T0 + days(2),
            "order_id": "o-1",
        }
    )
    again = service.handle(
        {
            "type": "shipment_delayed",
            "member_id": "m-1",
            "key": "d-2",
            "at": T0 + days(3),
            "order_id": "o-1",
        }
    )
    assert first == again
    assert len(first.grants) == 1
    assert first.grants[0].first_order is True  # type: ignore[union-attr]
    assert len(service.holdings("m-1")) == 2


APOLOGY = {
    "id": "apology",
    "trigger": {"event": "shipment_delayed"},
    "grants": [{"kind": "coupon", "offer": {"kind": "amount_off", "amount": "10.00"}}, SHIPPING],
}


def _ordered(lines: tuple[tuple[str, str], ...] = (("X", "30.00"), ("Y", "20.00"))) -> Any:
    service = LoyaltyService(program(incentives={"catalog": [APOLOGY]}), MemoryStore())
    service.enrol("m-1", at=T0)
    basket = cart("o-1", *lines)
    service.handle(
        {"type": "order_completed", "member_id": "m-1", "key": "w-1", "at": T0, "cart": basket}
    )
    return service


def _delayed(service: LoyaltyService, at: datetime, key: str = "d-1") -> Any:
    event = {"type": "shipment_delayed", "member_id": "m-1", "key": key, "at": at}
    return service.handle({**event, "order_id": "o-1"})


NOTHING_TO_SHIP = (
    "nothing to grant: order o-1 was cancelled or refunded in full before the delay; "
    "nothing is left to ship"
)


@pytest.mark.parametrize(
    "refund",
    [
        {"type": "order_cancelled"},
        {"type": "order_refunded"},  # all that is left
        {"type": "order_refunded", "amount": Decimal("50.00"), "shipping": True},
        {"type": "order_refunded", "lines": {"X": 1, "Y": 1}},
    ],
    ids=["cancelled", "refunded", "refunded-amount", "refunded-lines"],
)
def test_no_apology_for_a_late_shipment_of_an_order_cancelled_or_refunded_in_full(
    refund: dict[str, Any],
) -> None:
    service = _ordered()
    refunded = {"member_id": "m-1", "key": "r-1", "at": T0 + days(1), "order_id": "o-1"}
    service.handle({**refund, **refunded})
    messages = len(service.outbox(1000))
    fired = _delayed(service, T0 + days(2))
    assert fired.grants == ()
    assert fired.refused == (("apology", NOTHING_TO_SHIP),)
    assert service.holdings("m-1") == ()
    assert len(service.outbox(1000)) == messages  # no budget was exhausted: nothing told
    assert _delayed(service, T0 + days(3), key="d-2") == fired  # reported again: the same


def test_the_late_apology_example_gives_no_coupons_for_a_cancelled_order() -> None:
    from pathlib import Path

    from loyalty import load_program

    example = Path(__file__).parent.parent / "examples" / "programs" / "late-apology.yaml"
    service = LoyaltyService(load_program(example), MemoryStore())
    service.enrol("ana", at=T0)
    basket = cart("A-1", ("SERUM", "42.00"), member="ana")
    service.handle(
        {"type": "order_completed", "member_id": "ana", "key": "o", "at": T0, "cart": basket}
    )
    service.handle(
        {"type": "order_cancelled", "member_id": "ana", "key": "c", "at": T0, "order_id": "A-1"}
    )
    fired = service.handle(
        {"type": "shipment_delayed", "member_id": "ana", "key": "d", "at": T0, "order_id": "A-1"}
    )
    assert fired.grants == ()
    assert [incentive for incentive, _ in fired.refused] == ["late-apology"]
    assert service.holdings("ana") == ()


def test_the_apology_fires_for_an_order_refunded_in_part() -> None:
    service = _ordered()
    service.handle(
        {
            "type": "order_refunded",
            "member_id": "m-1",
            "key": "r-1",
            "at": T0 + days(1),
            "order_id": "o-1",
            "lines": {"X": 1},
        }
    )
    fired = _delayed(service, T0 + days(2))
    assert len(fired.grants) == 1
    assert fired.refused == ()
    assert len(service.holdings("m-1")) == 2


def test_an_apology_for_a_delay_before_the_cancellation_stands() -> None:
    """The delay is judged as things stood when it happened: one reported late, after
    the cancellation it preceded, still fires; one granted before stays granted."""
    service = _ordered()
    first = _delayed(service, T0 + days(1))
    cancel = {"type": "order_cancelled", "member_id": "m-1", "key": "c", "order_id": "o-1"}
    service.handle({**cancel, "at": T0 + days(2)})
    assert _delayed(service, T0 + days(3), key="d-2") == first
    late = _ordered()
    late.handle({**cancel, "at": T0 + days(2)})
    fired = _delayed(late, T0 + days(1))  # happened the day before the cancellation
    assert len(fired.grants) == 1


def test_tiers_named_by_audiences_and_coupon_hurdles_must_be_on_the_ladder() -> None:
    from tests.builders import SPEND_LADDER, ladder

    gold_coupon = {**AMOUNT, "hurdles": {"min_tier": "Diamond"}}
    with pytest.raises(ConfigurationError) as refused:
        program(
            tiers=ladder(*SPEND_LADDER),
            incentives={"catalog": [welcome(gold_coupon, audience={"tiers": ["Bronze"]})]},
            rewards={
                "catalog": [
                    {"id": "r", "kind": "free_shipping", "cost": 0, "audience": {"tiers": ["Tin"]}}
                ]
            },
        )
    text = str(refused.value)
    assert "incentives.catalog[0].audience.tiers[0]: 'Bronze' is not a tier" in text
    assert "incentives.catalog[0].grants[0].hurdles.min_tier: 'Diamond' is not a tier" in text
    assert "rewards.catalog[0].audience.tiers[0]: 'Tin' is not a tier" in text


def test_a_redelivery_returns_the_first_grant_even_past_a_per_member_limit() -> None:
    once = {"limits": {"per_member": 1}}
    first_order = {"id": "first", "trigger": {"event": "order_completed"}, "grants": [AMOUNT]}
    goodwill = {"id": "goodwill", "trigger": {"event": "manual"}, "grants": [SHIPPING]}
    service = LoyaltyService(
        incentives({**first_order, **once}, {**goodwill, **once}), MemoryStore()
    )
    service.enrol("m", at=T0)
    cart = {
        "id": "o1",
        "member_id": "m",
        "currency": "USD",
        "lines": [{"sku": "A", "unit_price": "9.00", "quantity": 1}],
    }
    event = {
        "type": "order_completed",
        "member_id": "m",
        "key": "w1",
        "at": T0.isoformat(),
        "cart": cart,
    }
    (granted,) = service.handle(event).grants
    assert service.handle(event).grants == (granted,)
    manual = service.grant("m", "goodwill", at=T0, key="k", reason="sorry", actor="ops")
    assert service.grant("m", "goodwill", at=T0, key="k", reason="sorry", actor="ops") == manual
    with pytest.raises(InvalidInput, match="already given 1 times"):
        service.grant("m", "goodwill", at=T0, key="k2", reason="sorry", actor="ops")
    assert len(service.holdings("m")) == 2


def test_holdings_are_stored_and_read_back_by_every_store(store: Any) -> None:
    prog = program(
        timezone="America/New_York",
        incentives={
            "catalog": [
                welcome(
                    AMOUNT,
                    {
                        "kind": "one_of",
                        "grants": [
                            {"kind": "gift", "sku": "A", "value": "4.00"},
                            {"kind": "gift", "sku": "B", "value": "3.00"},
                        ],
                    },
                    {"kind": "cashback", "amount": "2.50", "valid": {"within": "10 days"}},
                ),
            ]
        },
    )
    writer = LoyaltyService(prog, store, cache_size=0)
    writer.enrol("m-1", at=T0)
    pending = next(h for h in writer.holdings("m-1") if h.kind is HoldingKind.CHOICE)
    writer.choose("m-1", pending.key, "B", at=T0, key="pick")
    code = next(h.code for h in writer.holdings("m-1") if h.title == "5.00 USD off")
    basket = cart("o-1", ("X", "20.00"), ("B", "3.00"))
    writer.redeem_coupon("m-1", code or "", basket, at=T0, key="coupon")
    writer.spend_cashback("m-1", basket, at=T0, key="cash", amount=usd("1.00"))
    writer.advance(T0 + days(11))
    reader = LoyaltyService(prog, store, cache_size=0)
    assert reader.holdings("m-1") == writer.holdings("m-1")
    assert [h.status for h in reader.holdings("m-1")] == [
        HoldingStatus.USED,  # the choice, made
        HoldingStatus.EXPIRED,  # 1.50 of cashback left at its end
        HoldingStatus.USED,  # 5.00 off, on o-1
        HoldingStatus.OPEN,  # the gift B
    ]
    assert reader.wallet("m-1", T0 + days(11)).expired == usd("1.50")
    assert reader.verify("m-1") == []


def test_budget_claims_fit_the_registry_whatever_the_member_id(store: Any) -> None:
    gift = {"kind": "gift", "sku": "S" * 100, "value": "3.00", "stock": 5}
    budgeted = welcome(gift, limits={"budget": {"count": 3, "money": "100.00"}}, id="w" * 64)
    service = LoyaltyService(program(incentives={"catalog": [budgeted]}), store)
    member = "m" * 500
    service.enrol(member, at=T0)
    (coupon,) = service.holdings(member)
    assert coupon.title == f"a free {'S' * 100}"
    with store.transaction("club", write=False) as transaction:
        claims = transaction.registry().scan("claim")
    assert len(claims) == 3  # stock, count and money, each under a digest
    assert all(member not in key and len(key) == 64 for key, _ in claims)


def test_an_imported_event_refused_after_writing_part_of_itself_writes_nothing() -> None:
    from loyalty import earn
    from loyalty.service.batches import import_in_batches

    service = LoyaltyService(program(), MemoryStore())
    service.enrol("m-1", at=T0)

    def apply(session: Any, event: Any) -> None:  # writes, then may be refused
        account = session.account("m-1")
        earn(account, points=event["points"], at=T0, key=event["key"])
        if event["refuse"]:
            raise InvalidInput("event", event["key"], "refused after writing")

    events = [
        {"key": "a", "points": 1, "refuse": False},
        {"key": "b", "points": 10, "refuse": True},
        {"key": "c", "points": 100, "refuse": False},
    ]
    report = import_in_batches(service._write, apply, events, 10)
    assert report.applied == 2
    assert [(item.number, str(item.error)) for item in report.rejected] == [
        (1, "event: 'b' refused after writing")
    ]
    assert service.balance("m-1").available == 101


def test_a_delay_of_an_order_the_member_did_not_complete_is_refused() -> None:
    apology = {"id": "apology", "trigger": {"event": "shipment_delayed"}, "grants": [SHIPPING]}
    service = LoyaltyService(program(incentives={"catalog": [apology]}), MemoryStore())
    service.enrol("m-1", at=T0)
    event = {"type": "shipment_delayed", "member_id": "m-1", "key": "d", "at": T0, "order_id": "x"}
    report = service.import_events([event])
    assert [type(item.error).__name__ for item in report.rejected] == ["UnknownOrder"]
    assert service.holdings("m-1") == ()


def test_codes_typed_on_the_cart_page_get_the_answer_a_redemption_would() -> None:
    prog = incentives(
        welcome(
            {**AMOUNT, "valid": {"within": "1 day"}},
            {**SHIPPING, "hurdles": {"min_basket": "50.00"}},
            {"kind": "coupon", "offer": {"kind": "percent_off", "percent": 10}},
            {"kind": "coupon", "offer": {"kind": "amount_off", "amount": "2.00"}},
        )
    )
    service = LoyaltyService(prog, MemoryStore())
    for member in ("m-1", "m-2"):
        service.enrol(member, at=T0)
    own = {h.title: h.code or "" for h in service.holdings("m-1")}
    theirs = service.holdings("m-2")[0].code or ""
    service.revoke(
        "m-1", service.holdings("m-1")[2].key, at=T0, key="r", reason="fraud", actor="ops"
    )
    service.redeem_coupon("m-1", own["2.00 USD off"], cart("o-1", ("X", "9.00")), at=T0, key="k")
    service.handle(
        {
            "type": "order_completed",
            "member_id": "m-1",
            "key": "o",
            "at": T0,
            "cart": cart("o-1", ("X", "9.00")),
        }
    )
    typed = [own["free shipping"], own["5.00 USD off"], own["10% off"], own["2.00 USD off"]]
    typed += [theirs, "ZZZZ-ZZZZ-ZZZZ"]
    quote = service.quote("m-1", cart("c-2", ("X", "20.00")), at=T0 + days(2), codes=typed)
    assert [code.answer for code in quote.entered] == [
        "add 30.00 USD to your basket",
        "this coupon expired on 2026-01-02",
        "this coupon was withdrawn",
        "this coupon was already used on order o-1",
        "this code cannot be applied",
        "this code cannot be applied",
    ]
    assert quote.entered[0].option is not None
    assert quote.entered[0].option.unmet[0].shortfall == usd("30.00")


def test_an_order_incentive_judges_the_audience_as_it_was_before_the_order() -> None:
    newcomer = {
        "id": "newcomer",
        "trigger": {"event": "order_completed"},
        "audience": {
            "max_orders": 0,
            "not_ordered_in": {"yearly": {"start": "11-11", "end": "11-12"}},
        },
        "grants": [AMOUNT],
    }
    service = LoyaltyService(program(incentives={"catalog": [newcomer]}), MemoryStore())
    service.enrol("m-1", at=utc(2026, 11, 1))
    at = utc(2026, 11, 11, 12)
    first = service.handle(
        {
            "type": "order_completed",
            "member_id": "m-1",
            "key": "o-1",
            "at": at,
            "cart": cart("o-1", ("X", "9.00")),
        }
    )
    second = service.handle(
        {
            "type": "order_completed",
            "member_id": "m-1",
            "key": "o-2",
            "at": at + days(0.1),
            "cart": cart("o-2", ("X", "9.00")),
        }
    )
    assert [g.incentive for g in first.grants] == ["newcomer"]
    assert second.grants == ()


def test_a_schedule_may_give_only_its_rotation_but_an_incentive_gives_something() -> None:
    rotating = {**MONTHLY_GIFTS, "grants": []}
    service = LoyaltyService(program(incentives={"catalog": [rotating]}), MemoryStore())
    service.enrol("m-1", at=utc(2025, 12, 20))
    service.advance(utc(2026, 1, 2))
    assert [h.title for h in service.holdings("m-1")] == ["a free JAN"]
    with pytest.raises(ConfigurationError, match=r"catalog\[0\]\.grants: give at least one grant"):
        incentives(welcome())


def test_a_choice_made_at_its_deadline_by_a_late_run_is_valid_from_the_deadline() -> None:
    prog = incentives(
        welcome(
            {
                "kind": "one_of",
                "deadline": "14 days",
                "grants": [
                    {"kind": "gift", "sku": "A", "value": "5.00", "valid": {"within": "30 days"}},
                    {"kind": "gift", "sku": "B", "value": "4.00"},
                ],
            }
        )
    )
    account, rows = new(prog), Shared(MemoryRows())
    enrolled(account, rows)
    (made,) = settle_due(account, T0 + days(20), rows)  # the run came 6 days late
    (gift,) = made.issued
    assert gift.valid_until == T0 + days(14 + 30)


# ----------------------------------------------- found by review and by a new user


def order_event(member: str, basket: dict[str, Any], at: datetime) -> dict[str, Any]:
    return {
        "type": "order_completed",
        "member_id": member,
        "key": basket["id"],
        "at": at,
        "cart": basket,
    }


def test_a_transferred_coupon_is_not_given_back_to_its_old_holder_by_a_refund() -> None:
    prog = incentives(welcome({**AMOUNT, "transferable": True, "uses": 2}), coupon_refund="restore")
    service = LoyaltyService(prog, MemoryStore())
    for member in ("a", "b"):
        service.enrol(member, at=T0)
    (coupon,) = service.holdings("a")
    code = coupon.code or ""
    service.redeem_coupon("a", code, cart("x", ("X", "20.00"), member="a"), at=T0, key="a1")
    service.handle(order_event("a", cart("x", ("X", "20.00"), member="a"), T0))
    service.redeem_coupon("b", code, cart("y", ("X", "20.00"), member="b"), at=T0, key="b1")
    service.handle(
        {
            "type": "order_cancelled",
            "member_id": "a",
            "key": "r",
            "at": T0 + days(1),
            "order_id": "x",
        }
    )
    assert service.holdings("a")[0].status is HoldingStatus.TRANSFERRED
    with pytest.raises(CouponRefused):
        service.redeem_coupon("a", code, cart("z", ("X", "20.00"), member="a"), at=T0, key="a2")


def test_cashback_tendered_before_a_coupon_never_pays_more_than_the_cart() -> None:
    prog = incentives(welcome(AMOUNT, {"kind": "cashback", "amount": "30.00"}))
    account, rows = new(prog), Shared(MemoryRows())
    enrolled(account, rows)
    basket = cart("c-1", ("X", "20.00"), shipping="0")
    spend_cashback(account, basket, at=T0, key="pay")  # all 20.00
    redeem_coupon(account, coupons_of(account)["5.00 USD off"], basket, at=T0, key="coupon")
    tenders = [r.tender for r in account.redemptions("c-1") if r.in_use and r.tender]
    assert tenders == [usd("15.00")]
    assert wallet(account, T0).available == usd("15.00")
    assert verify(account) == []


def test_a_full_refund_revokes_what_the_orders_choice_became_and_a_spent_credit() -> None:
    thanks = {
        "id": "thanks",
        "trigger": {"event": "order_completed"},
        "grants": [
            {"kind": "cashback", "amount": "4.00"},
            {
                "kind": "one_of",
                "grants": [
                    {"kind": "gift", "sku": "A", "value": "5.00"},
                    {"kind": "points", "points": 30},
                ],
            },
        ],
    }
    service = LoyaltyService(program(incentives={"catalog": [thanks]}), MemoryStore())
    service.enrol("m-1", at=T0)
    result = service.handle(order_event("m-1", cart("o-1", ("X", "20.00")), T0))
    choice = next(h for h in result.grants[0].holdings if h.kind is HoldingKind.CHOICE)
    service.choose("m-1", choice.key, 1, at=T0, key="pick")  # the 30 points
    service.spend_cashback("m-1", cart("o-2", ("X", "9.00")), at=T0, key="pay")
    service.handle(order_event("m-1", cart("o-2", ("X", "9.00")), T0))
    before = service.balance("m-1").available
    service.handle(
        {
            "type": "order_cancelled",
            "member_id": "m-1",
            "key": "r1",
            "at": T0 + days(1),
            "order_id": "o-1",
        }
    )
    assert service.balance("m-1").available == before - 30 - 20  # the choice's and the order's
    service.handle(
        {
            "type": "order_cancelled",
            "member_id": "m-1",
            "key": "r2",
            "at": T0 + days(1),
            "order_id": "o-2",
        }
    )
    assert service.wallet("m-1", T0 + days(1)).available == usd("0.00")  # not revived
    assert service.verify("m-1") == []


def test_a_choice_whose_option_is_out_of_stock_inside_a_bundle_falls_back_at_its_deadline() -> None:
    prog = incentives(
        welcome(
            {
                "kind": "one_of",
                "deadline": "1 day",
                "grants": [
                    {
                        "kind": "all_of",
                        "grants": [{"kind": "gift", "sku": "A", "value": "50.00", "stock": 1}],
                    },
                    {"kind": "gift", "sku": "B", "value": "10.00"},
                ],
            }
        )
    )
    service = LoyaltyService(prog, MemoryStore())
    for member in ("m-1", "m-2"):
        service.enrol(member, at=T0)
    service.choose("m-1", service.holdings("m-1")[0].key, 0, at=T0, key="pick")
    report = service.advance(T0 + days(2))
    assert report.failed == ()
    assert [h.title for h in service.holdings("m-2")][-1] == "a free B"


def test_points_chosen_expire_with_the_programs_policy() -> None:
    prog = program(
        expiry={"policy": "fixed", "after": "30 days"},
        incentives={
            "catalog": [
                welcome(
                    {
                        "kind": "one_of",
                        "grants": [
                            {"kind": "points", "points": 30},
                            {"kind": "gift", "sku": "B", "value": "1.00"},
                        ],
                    }
                )
            ]
        },
    )
    account, rows = new(prog), Shared(MemoryRows())
    (grant,) = enrolled(account, rows).grants
    choose(account, grant.holdings[0].key, 0, at=T0, key="pick", shared=rows)
    (lot,) = account.expiring(T0, days(31))
    assert (lot.points, lot.expires_at) == (30, T0 + days(30))


def test_cashback_spent_on_a_cart_does_not_count_toward_a_coupon_per_order_limit() -> None:
    prog = incentives(
        welcome(AMOUNT, {"kind": "cashback", "amount": "5.00"}, limits={"per_order": 1})
    )
    account, rows = new(prog), Shared(MemoryRows())
    enrolled(account, rows)
    basket = cart("c-1", ("X", "40.00"))
    spend_cashback(account, basket, at=T0, key="pay")
    assert redeem_coupon(account, coupons_of(account)["5.00 USD off"], basket, at=T0, key="k")


def test_bad_arguments_to_the_new_calls_are_typed_errors() -> None:
    service = LoyaltyService(
        incentives(
            welcome(
                AMOUNT,
                {
                    "kind": "one_of",
                    "grants": [
                        {"kind": "gift", "sku": "A", "value": "1.00"},
                        {"kind": "gift", "sku": "B", "value": "1.00"},
                    ],
                },
            )
        ),
        MemoryStore(),
    )
    service.enrol("m-1", at=T0)
    choice = next(h for h in service.holdings("m-1") if h.kind is HoldingKind.CHOICE)
    with pytest.raises(InvalidInput, match="option"):
        service.choose("m-1", choice.key, 1.5, at=T0, key="c")  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="codes"):
        service.quote("m-1", cart("c", ("X", "1.00")), at=T0, codes=None)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match=r"codes\[1\]"):
        service.quote("m-1", cart("c", ("X", "1.00")), at=T0, codes=["A", 7])  # type: ignore[list-item]
    naive = datetime(2026, 1, 1)  # noqa: DTZ001 - the point of the test
    with pytest.raises(InvalidInput, match="naive"):
        service.redeem_coupon("m-1", "X", cart("c", ("X", "1.00")), at=naive, key="k")


def test_schedules_and_choices_that_cannot_work_are_refused() -> None:
    secondly = {"event": "schedule", "rrule": "FREQ=SECONDLY", "starts": "2026-01-01"}
    never = {
        "event": "schedule",
        "rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        "starts": "2026-01-01",
    }
    for trigger in (secondly, never):
        with pytest.raises(ConfigurationError, match=r"daily at most|never occurs"):
            incentives({"id": "s", "trigger": trigger, "grants": [AMOUNT]})
    picked = {"kind": "one_of", "grants": [{"kind": "cashback", "percent": 5}, SHIPPING]}
    with pytest.raises(ConfigurationError, match=r"grants\[0\]\.grants\[0\]\.percent"):
        incentives({"id": "o", "trigger": {"event": "order_completed"}, "grants": [picked]})


def test_a_partial_refund_scales_the_orders_cashback_down() -> None:
    thanks = {
        "id": "thanks",
        "trigger": {"event": "order_completed"},
        "grants": [{"kind": "cashback", "percent": 10}],
    }
    service = LoyaltyService(program(incentives={"catalog": [thanks]}), MemoryStore())
    service.enrol("m-1", at=T0)
    basket = {**cart("o-1", ("A", "50.00"), ("B", "50.00")), "shipping": "0"}
    service.handle(order_event("m-1", basket, T0))
    service.spend_cashback(
        "m-1", cart("o-2", ("X", "3.00"), shipping="0"), at=T0, key="pay", amount=usd("3.00")
    )
    refund = {"type": "order_refunded", "member_id": "m-1", "at": T0 + days(1), "order_id": "o-1"}
    service.handle({**refund, "key": "r1", "lines": {"A": 1}})
    held = service.wallet("m-1", T0 + days(1))
    assert (held.credited, held.spent, held.expired, held.available) == (
        usd("10.00"),
        usd("3.00"),
        usd("5.00"),
        usd("2.00"),
    )  # keeps 5.00 of 10.00: 3.00 spent, 2.00 left
    service.handle({**refund, "key": "r2", "lines": {"B": 1}})
    assert service.wallet("m-1", T0 + days(1)).available == usd("0.00")
    assert service.verify("m-1") == []
