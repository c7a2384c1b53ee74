"""The stories of the design (2, 3, 5, 6, 7 and 8), end to end: each example's events in,
and the exact points, coupons, cashback, discounts and notifications out.

Each test runs the story's example (``examples/<story>.py``, on a SQLite file) and
checks what the service holds afterwards against figures worked out by hand in the
comments, never by the code under test.
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

from loyalty import (
    HoldingKind,
    HoldingStatus,
    InvalidInput,
    LoyaltyService,
    MemoryRows,
    MemoryStore,
    Money,
    Occasion,
    Shared,
    TriggerKind,
    fire,
    load_program,
    open_account,
)
from loyalty.store.port import OutboxMessage

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NEW_YORK = ZoneInfo("America/New_York")


def ny(moment: str) -> datetime:
    return datetime.fromisoformat(moment).replace(tzinfo=NEW_YORK)


def usd(amount: str) -> Money:
    return Money(amount, "USD")


def story(name: str, tmp_path: Path) -> Iterator[Any]:
    """Run ``examples/{name}.py`` on a SQLite file; its ``Run``, closed afterwards."""
    run = runpy.run_path(str(EXAMPLES / f"{name}.py"))["main"](tmp_path / "loyalty.db")
    try:
        yield run
    finally:
        run.service.store.close()


def kinds(messages: list[OutboxMessage]) -> Counter[tuple[str, str]]:
    """How many notifications of each kind each member was sent."""
    return Counter(
        (str(message.notification.kind), message.notification.member_id) for message in messages
    )


def of_kind(messages: list[OutboxMessage], kind: str) -> list[dict[str, Any]]:
    return [
        message.notification.data()
        for message in messages
        if str(message.notification.kind) == kind
    ]


def lines_off(redemption: Any) -> dict[str, Decimal]:
    return {line.line: line.amount.amount for line in redemption.lines}


# ------------------------------------------------------------ 3: the apology


@pytest.fixture
def apology(tmp_path: Path) -> Iterator[Any]:
    yield from story("late_apology", tmp_path)


def test_apology_a_late_order_gives_a_ten_off_coupon_and_free_shipping(apology: Any) -> None:
    (grant,) = apology.apologies["A-1"].grants
    assert (grant.incentive, grant.campaign, grant.source) == (
        "late-apology",
        "service-recovery",
        "A-1",
    )
    ten_off, shipping = grant.holdings
    # Reported at 08:00 on 5 March (New York): valid 60 days, until 08:00 on 4 May.
    for coupon in (ten_off, shipping):
        assert coupon.kind is HoldingKind.COUPON
        assert coupon.valid_from == ny("2026-03-05T08:00")
        assert coupon.valid_until == ny("2026-05-04T08:00")
        assert coupon.uses == 1
        assert coupon.code is not None
        assert len(coupon.code) == 12
    assert (ten_off.title, ten_off.value) == ("10.00 USD off your next order", usd("10.00"))
    assert shipping.title == "Free shipping on your next order"
    assert ten_off.code != shipping.code
    assert grant.cost == usd("10.00")  # free shipping has no face value


def test_apology_knows_whether_the_late_order_was_the_first(apology: Any) -> None:
    (ana,) = apology.apologies["A-1"].grants
    (ben,) = apology.apologies["B-2"].grants
    assert ana.first_order is True
    assert ben.first_order is False  # B-2 is Ben's second order


def test_apology_a_second_delay_report_for_the_order_issues_nothing(apology: Any) -> None:
    service: LoyaltyService = apology.service
    assert apology.apologies["A-1 again"].grants == apology.apologies["A-1"].grants
    kinds_written = [line.kind.value for line in service.statement("ana").lines]
    assert kinds_written.count("grant") == 1
    issued = [h for h in service.holdings("ana") if h.kind is HoldingKind.COUPON]
    assert len(issued) == 2
    assert len(service.holdings("ben")) == 2


def test_apology_the_next_order_takes_ten_off_the_lines_and_the_shipping(apology: Any) -> None:
    ten_off, shipping = apology.next_order
    # 10.00 off a 25.00 basket, split pro rata: 16/25 of it and the rest.
    assert lines_off(ten_off) == {"LIPSTICK": Decimal("6.40"), "MASCARA": Decimal("3.60")}
    assert ten_off.shipping is None
    assert lines_off(shipping) == {}
    assert shipping.shipping == usd("5.90")
    service: LoyaltyService = apology.service
    assert [h.status for h in service.holdings("ana")] == [HoldingStatus.USED] * 2
    # A-1 earned 42; A-2 earns on the 15.00 Ana paid for the lines.
    assert service.balance("ana").available == 42 + 15
    assert service.verify("ana") == []


def test_apology_notifications_say_first_order_and_carry_the_codes(apology: Any) -> None:
    messages = apology.messages
    assert kinds(messages) == Counter(
        {
            ("points_earned", "ana"): 2,
            ("points_earned", "ben"): 2,
            ("coupon_issued", "ana"): 2,
            ("coupon_issued", "ben"): 2,
        }
    )
    issued = of_kind(messages, "coupon_issued")
    by_member = {(data["member_id"], data["value"]): data for data in issued}
    assert by_member[("ana", "10.00 USD")]["first_order"] is True
    assert by_member[("ben", "10.00 USD")]["first_order"] is False
    codes = {h.code for h in apology.service.holdings("ana")}
    shown = {str(data["code"]).replace("-", "") for data in issued if data["member_id"] == "ana"}
    assert shown == codes


# ------------------------------------------------ 5: scarcity with a hurdle


@pytest.fixture
def flash(tmp_path: Path) -> Iterator[Any]:
    yield from story("flash_sale", tmp_path)


def test_flash_the_operator_issues_to_the_lapsed_segment_only(flash: Any) -> None:
    assert sorted(flash.issued) == ["ana", "ben"]
    assert flash.outside == {"cleo": "does not apply to this member: not in segment lapsed"}
    assert flash.service.holdings("cleo") == ()
    for grant in flash.issued.values():
        assert grant.reason == (
            "Half off, 48 hours only: 50% off, this weekend only (weekend flash sale, by ops:maria)"
        )
        assert (grant.incentive, grant.campaign, grant.cost) == (
            "flash-half-off",
            "flash-june",
            usd("15.00"),
        )
        (coupon,) = grant.holdings
        # Issued Friday 16:00 New York (EDT, UTC-4): 48 hours, to Sunday 16:00.
        assert coupon.valid_from == ny("2026-06-12T16:00")
        assert coupon.valid_until == ny("2026-06-14T16:00")


def test_flash_a_basket_under_thirty_is_told_the_shortfall(flash: Any) -> None:
    refused = flash.refused["ana"]
    (unmet,) = refused.unmet
    assert unmet.condition == "min_basket"
    assert unmet.shortfall == usd("6.00")  # 30.00 - 24.00
    assert unmet.reason == "add 6.00 USD to your basket"


def test_flash_a_basket_over_thirty_gets_half_off_every_line(flash: Any) -> None:
    redeemed = flash.redeemed["ana"]
    assert lines_off(redeemed) == {"LIPSTICK": Decimal("12.00"), "MASCARA": Decimal("7.00")}
    assert redeemed.total == usd("19.00")
    assert redeemed.shipping is None
    service: LoyaltyService = flash.service
    (coupon,) = service.holdings("ana")
    assert coupon.status is HoldingStatus.USED
    assert service.balance("ana").net == 19  # earned on the 19.00 she paid
    assert service.verify("ana") == []


def test_flash_after_forty_eight_hours_the_code_cannot_be_applied(flash: Any) -> None:
    refused = flash.refused["ben"]
    assert str(refused) == "this code cannot be applied"
    assert "valid from" in refused.audit
    service: LoyaltyService = flash.service
    (coupon,) = service.holdings("ben")
    assert coupon.status is HoldingStatus.EXPIRED  # the nightly run wrote it
    expired = service.statement("ben").lines[-1]
    assert expired.kind.value == "holding"
    assert expired.reason == "expired: 50% off, this weekend only (flash-half-off)"
    assert service.verify("ben") == []


def test_flash_one_minute_before_the_end_the_code_still_applies(tmp_path: Path) -> None:
    service = LoyaltyService(
        load_program(EXAMPLES / "programs" / "flash-half-off.yaml"), MemoryStore()
    )
    service.enrol("dan", at=ny("2026-01-01T09:00"), segments=["lapsed"])
    grant = service.grant(
        "dan", "flash-half-off", at=ny("2026-06-12T16:00"), key="k", reason="r", actor="ops"
    )
    code = grant.holdings[0].code
    assert code is not None
    cart = {
        "id": "D-1",
        "member_id": "dan",
        "currency": "USD",
        "lines": [{"sku": "PALETTE", "unit_price": "45.00", "quantity": 1}],
    }
    used = service.redeem_coupon("dan", code, cart, at=ny("2026-06-14T15:59"), key="c")
    assert used.total == usd("22.50")
    # The operator runs the issue again: the same key gives the same grant, and another
    # key is refused by the per-member limit.
    again = service.grant(
        "dan", "flash-half-off", at=ny("2026-06-12T16:00"), key="k", reason="r", actor="ops"
    )
    assert again == grant
    with pytest.raises(InvalidInput, match="already given 1 times"):
        service.grant(
            "dan", "flash-half-off", at=ny("2026-06-12T16:10"), key="k2", reason="r", actor="ops"
        )


def test_flash_notifications(flash: Any) -> None:
    assert kinds(flash.messages) == Counter(
        {
            ("coupon_issued", "ana"): 1,
            ("coupon_issued", "ben"): 1,
            ("points_earned", "ana"): 1,
        }
    )
    (ben,) = [
        data for data in of_kind(flash.messages, "coupon_issued") if data["member_id"] == "ben"
    ]
    assert datetime.fromisoformat(str(ben["expires_at"])) == ny("2026-06-14T16:00")


# ------------------------------------------------------ 6: scheduled gifts

SHIPPING = "Free shipping to get your gift"


@pytest.fixture
def gifts(tmp_path: Path) -> Iterator[Any]:
    yield from story("monthly_gift", tmp_path)


def test_gifts_each_month_gives_that_months_gift(gifts: Any) -> None:
    assert gifts.runs["1 Jan"] == {"ana": [SHIPPING, "A mini lip balm"], "ben": []}
    both = {"ana": [SHIPPING, "A mini hand cream"], "ben": [SHIPPING, "A mini hand cream"]}
    assert gifts.runs["1 Feb"] == both
    # April is the fourth occurrence from January: the rotation of three starts again.
    assert gifts.runs["1 Apr"]["ben"] == [SHIPPING, "A mini lip balm"]


def test_gifts_a_missed_run_is_made_up_and_a_replayed_run_gives_nothing(gifts: Any) -> None:
    assert gifts.runs["1 Feb, replayed"] == {"ana": [], "ben": []}
    assert gifts.runs["3 Mar"]["ben"] == [SHIPPING, "A mini hair oil"]
    assert gifts.runs["3 Mar, started again"] == {"ana": [], "ben": []}
    service: LoyaltyService = gifts.service
    made_up = [h for h in service.holdings("ben") if h.title == "A mini hair oil"]
    (hair_oil,) = made_up
    # Made up on 3 March, but issued as the occurrence of 1 March would have been.
    assert hair_oil.issued_at == ny("2026-03-01T00:00")
    assert hair_oil.valid_until == ny("2026-04-01T00:00")
    assert hair_oil.value == usd("9.00")
    grants = [line for line in service.statement("ben").lines if line.kind.value == "grant"]
    assert len(grants) == 3  # February, March, April: one each


def test_gifts_the_claimed_gift_is_free_and_the_rest_lapse(gifts: Any) -> None:
    shipping, lip_balm = gifts.claimed
    assert shipping.shipping == usd("4.90")
    assert lines_off(lip_balm) == {"LIP-BALM-MINI": Decimal("6.00")}
    service: LoyaltyService = gifts.service
    states = [(h.title, h.status) for h in service.holdings("ana")]
    used, expired, open_ = HoldingStatus.USED, HoldingStatus.EXPIRED, HoldingStatus.OPEN
    assert states == [
        (SHIPPING, used),
        ("A mini lip balm", used),
        (SHIPPING, expired),
        ("A mini hand cream", expired),
        (SHIPPING, expired),
        ("A mini hair oil", expired),
        (SHIPPING, open_),
        ("A mini lip balm", open_),
    ]
    assert service.balance("ana").net == 38  # the serum; the free lip balm earns nothing
    assert service.verify("ana") == []
    assert service.verify("ben") == []


def test_gifts_a_run_missed_for_longer_than_the_catch_up_is_not_made_up() -> None:
    service = LoyaltyService(
        load_program(EXAMPLES / "programs" / "monthly-gift.yaml"), MemoryStore()
    )
    service.enrol("cleo", at=ny("2025-12-01T10:00"))
    service.advance(ny("2026-01-01T02:00"))
    service.advance(ny("2026-02-09T02:00"))  # 1 February is 8 days back: past the 7
    titles = [h.title for h in service.holdings("cleo")]
    assert titles == [SHIPPING, "A mini lip balm"]


def test_gifts_notifications(gifts: Any) -> None:
    # Four gift bundles for Ana (January to April) and three for Ben, two coupons each.
    assert kinds(gifts.messages)[("coupon_issued", "ana")] == 8
    assert kinds(gifts.messages)[("coupon_issued", "ben")] == 6
    assert kinds(gifts.messages)[("points_earned", "ana")] == 1


# ------------------------------------------------ 7: linked festival campaigns


@pytest.fixture
def festival(tmp_path: Path) -> Iterator[Any]:
    yield from story("festival_cashback", tmp_path)


def test_festival_only_orders_of_eleven_november_earn_cashback(festival: Any) -> None:
    assert {order: len(grants) for order, grants in festival.cashback.items()} == {
        "C-1": 0,
        "A-1": 0,  # 10 November
        "A-2": 1,
        "B-1": 1,  # 11 November, 23:30 New York: 04:30 UTC on the 12th, still 11.11 locally
        "B-2": 0,
        "A-4": 0,
        "C-2": 0,
    }
    ((a2,), (b1,)) = festival.cashback["A-2"], festival.cashback["B-1"]
    for grant, amount in ((a2, "8.00"), (b1, "4.50")):  # 10% of 80.00 and of 45.00
        (credit,) = grant.holdings
        assert credit.kind is HoldingKind.CASHBACK
        assert (credit.amount, grant.cost) == (usd(amount), usd(amount))
        assert credit.valid_from == ny("2026-12-01T00:00")
        assert credit.valid_until == ny("2026-12-25T00:00")


def test_festival_a_late_webhook_still_earns_the_eleven_november_cashback(festival: Any) -> None:
    (grant,) = festival.cashback["B-1"]
    # Written at Ben's clock (the nightly run of the 13th), judged at the order's time.
    assert grant.at == ny("2026-11-13T02:00")
    assert grant.occurred_at == ny("2026-11-11T23:30")
    assert grant.holdings[0].issued_at == ny("2026-11-11T23:30")
    service: LoyaltyService = festival.service
    redelivered = service.handle(
        {
            "type": "order_completed",
            "member_id": "ben",
            "key": "order:B-1",
            "at": ny("2026-11-11T23:30").isoformat(),
            "cart": {
                "id": "B-1",
                "member_id": "ben",
                "currency": "USD",
                "lines": [{"sku": "GIFT-SET", "unit_price": "45.00", "quantity": 1}],
            },
        }
    )
    assert redelivered.grants == (grant,)
    assert service.wallet("ben", ny("2026-12-01T00:00")).credited == usd("4.50")


def test_festival_members_who_missed_eleven_november_get_a_christmas_credit(
    festival: Any,
) -> None:
    service: LoyaltyService = festival.service
    (credit,) = service.holdings("cleo")
    assert (credit.incentive, credit.campaign) == ("christmas-catch-up", "festival")
    assert credit.amount == usd("5.00")
    assert credit.issued_at == ny("2026-12-01T00:00")
    assert credit.valid_until == ny("2026-12-25T00:00")
    # Ana and Ben ordered on 11.11: their only credit is the 11.11 cashback.
    assert [h.incentive for h in service.holdings("ana")] == ["singles-day-cashback"]
    assert [h.incentive for h in service.holdings("ben")] == ["singles-day-cashback"]


def test_festival_cashback_is_pending_then_spendable_then_expires(festival: Any) -> None:
    def flows(day: str, member: str) -> tuple[str, ...]:
        wallet = festival.wallets[day][member]
        return tuple(
            str(money.amount)
            for money in (
                wallet.credited,
                wallet.spent,
                wallet.expired,
                wallet.pending,
                wallet.available,
            )
        )

    # credited, spent, expired, pending, available
    assert flows("2026-11-20T12:00", "ana") == ("8.00", "0.00", "0.00", "8.00", "0.00")
    assert flows("2026-11-20T12:00", "ben") == ("4.50", "0.00", "0.00", "4.50", "0.00")
    assert flows("2026-11-20T12:00", "cleo") == ("0.00",) * 5
    assert flows("2026-12-10T13:00", "ana") == ("8.00", "5.00", "0.00", "0.00", "3.00")
    assert flows("2026-12-10T13:00", "cleo") == ("5.00", "5.00", "0.00", "0.00", "0.00")
    assert flows("2026-12-26T03:00", "ana") == ("8.00", "5.00", "3.00", "0.00", "0.00")
    assert flows("2026-12-26T03:00", "ben") == ("4.50", "0.00", "4.50", "0.00", "0.00")
    assert flows("2026-12-26T03:00", "cleo") == ("5.00", "5.00", "0.00", "0.00", "0.00")


def test_festival_spending_is_refused_before_december_and_expiry_is_an_entry(
    festival: Any,
) -> None:
    assert festival.refused["ana"].reason.startswith(
        "nothing to pay with: 0.00 USD spendable now (8.00 USD becomes spendable later)"
    )
    ((ana,), (cleo,)) = festival.spent["ana"], festival.spent["cleo"]
    assert (ana.tender, cleo.tender) == (usd("5.00"), usd("5.00"))
    service: LoyaltyService = festival.service
    last = service.statement("ana").lines[-1]
    assert (last.kind.value, last.reason) == (
        "holding",
        "expired: 3.00 USD cashback (singles-day-cashback)",
    )
    assert last.occurred_at == ny("2026-12-25T00:00")
    # Cashback is a tender: A-4 earns on all of its 30.00.
    assert service.balance("ana").net == 20 + 80 + 30
    for member in ("ana", "ben", "cleo"):
        assert service.verify(member) == []


def test_festival_notifications(festival: Any) -> None:
    sent = kinds(festival.messages)
    assert sent[("cashback_credited", "ana")] == 1
    assert sent[("cashback_credited", "ben")] == 1
    assert sent[("cashback_credited", "cleo")] == 1
    credited = {data["member_id"]: data for data in of_kind(festival.messages, "cashback_credited")}
    assert credited["ben"]["amount"] == "4.50 USD"
    assert credited["cleo"]["amount"] == "5.00 USD"
    for data in credited.values():  # 1-24 December, New York (EST: UTC-5)
        assert datetime.fromisoformat(str(data["spendable_from"])) == ny("2026-12-01T00:00")
        assert datetime.fromisoformat(str(data["spendable_until"])) == ny("2026-12-25T00:00")


# --------------------------------------------------- 8: segment thresholds


@pytest.fixture
def threshold(tmp_path: Path) -> Iterator[Any]:
    yield from story("segment_threshold", tmp_path)


def test_threshold_a_vip_is_told_how_much_to_add(threshold: Any) -> None:
    (option,) = threshold.quotes["vera"].rewards
    assert option.reward == "vip-free-shipping"
    assert not option.eligible
    (unmet,) = option.check.unmet()
    assert unmet.reason == "add 4.50 USD to your basket"  # 35.00 - 30.50
    assert unmet.shortfall == usd("4.50")


def test_threshold_a_vip_over_the_threshold_ships_free(threshold: Any) -> None:
    best = threshold.quotes["vera, 42.50"].best
    assert best is not None
    assert best.reward == "vip-free-shipping"
    redeemed = threshold.redeemed
    assert (redeemed.shipping, redeemed.points, redeemed.lines) == (usd("5.90"), 0, ())


def test_threshold_another_segment_does_not_see_the_offer_at_all(threshold: Any) -> None:
    quote = threshold.quotes["noah"]
    assert quote.rewards == ()
    assert "vip" not in quote.explain()
    assert "free-shipping" not in quote.explain()


def test_threshold_another_segment_cannot_redeem_it(threshold: Any) -> None:
    assert isinstance(threshold.refused, InvalidInput)
    assert str(threshold.refused) == (
        "reward_id: 'vip-free-shipping' is not offered to this member"
    )
    service: LoyaltyService = threshold.service
    assert [line.kind.value for line in service.statement("noah").lines] == []


# ------------------------------------------------- 2: layered incentives


@pytest.fixture
def club(tmp_path: Path) -> Iterator[Any]:
    """The joining part of the story (the referral part has its own fixture)."""
    run = runpy.run_path(str(EXAMPLES / "club_welcome.py"))["main"](
        tmp_path / "loyalty.db", referral=False
    )
    try:
        yield run
    finally:
        run.service.store.close()


@pytest.fixture
def referral(tmp_path: Path) -> Iterator[Any]:
    yield from story("club_welcome", tmp_path)


def test_club_joining_from_the_email_is_one_incentive_of_four_grants(club: Any) -> None:
    service: LoyaltyService = club.service
    for member, points in (("ana", 50 + 3), ("ben", 50)):  # Ana's A-1 earned 3
        grants = [line for line in service.statement(member).lines if line.kind.value == "grant"]
        assert grants[0].reason == (
            "Welcome to the Club: A free full-size item, 5.00 USD off, free shipping, 50 points"
        )
        choice, five_off, shipping = service.holdings(member)[:3]
        assert choice.kind is HoldingKind.CHOICE
        assert choice.value == usd("24.00")  # worth its best option
        assert choice.valid_until == ny("2026-03-16T09:00")  # 14 days to pick
        assert (five_off.title, five_off.value) == ("5.00 USD off", usd("5.00"))
        assert (shipping.title, shipping.value) == ("free shipping", usd("0.00"))
        for coupon in (five_off, shipping):
            assert coupon.valid_until == ny("2026-04-01T09:00")  # 30 days (EDT from 8 March)
        assert service.balance(member).earned == points


def test_club_the_bundle_records_its_cost_and_fires_only_from_the_email() -> None:
    program = load_program(EXAMPLES / "programs" / "club-welcome.yaml")
    rows = Shared(MemoryRows())
    joined = ny("2026-03-02T09:00")
    grants = {}
    for member, channel in (("dee", "email"), ("eve", "shop")):
        account = open_account(program, member, enrolled_at=joined)
        occasion = Occasion(TriggerKind.ENROLLED, "enrolled", joined, channel=channel)
        grants[member] = fire(account, occasion, at=joined, shared=rows).grants
    assert grants["eve"] == ()  # joined in the shop, not from the email
    (grant,) = grants["dee"]
    # 24.00 (the choice at its best option) + 5.00 + 0.00 (shipping) + 50 points at 0.01.
    assert grant.cost == usd("29.50")
    assert (grant.incentive, grant.campaign) == ("club-welcome", "club")


def test_club_every_code_on_the_cart_applies_in_one_order(club: Any) -> None:
    five_off, shipping, cream = club.redeemed
    assert lines_off(cream) == {"CREAM-50ML": Decimal("19.00")}
    assert lines_off(five_off) == {"LIPSTICK": Decimal("5.00")}
    assert (shipping.shipping, lines_off(shipping)) == (usd("4.90"), {})
    service: LoyaltyService = club.service
    # 27.50 + 4.90 - 19.00 - 5.00 - 4.90 = 3.50 paid; it earns 3 points, pending 30 days.
    balance = service.balance("ana", ny("2026-03-05T13:00"))
    assert (balance.available, balance.pending) == (50, 3)
    assert service.verify("ana") == []


def test_club_the_total_does_not_depend_on_the_order_codes_are_typed_in() -> None:
    service = LoyaltyService(
        load_program(EXAMPLES / "programs" / "club-welcome.yaml"), MemoryStore()
    )
    totals: dict[tuple[str, ...], tuple[Decimal, dict[str, Decimal], Money | None]] = {}
    for number, typed in enumerate(permutations(("5.00 USD off", "free shipping", "cream"))):
        member = f"m{number}"
        service.enrol(member, at=ny("2026-03-02T09:00"), channel="email")
        choice = service.holdings(member)[0]
        service.choose(member, choice.key, "CREAM-50ML", at=ny("2026-03-03T10:00"), key="pick")
        by_title = {
            ("cream" if h.title == "Full-size cream" else h.title): h
            for h in service.holdings(member)
            if h.code is not None
        }
        basket = {
            "id": f"{member}-1",
            "member_id": member,
            "currency": "USD",
            "shipping": "4.90",
            "lines": [
                {"sku": "CREAM-50ML", "unit_price": "19.00", "quantity": 1},
                {"sku": "LIPSTICK", "unit_price": "8.50", "quantity": 1},
            ],
        }
        when = ny("2026-03-05T12:00")
        for title in typed:
            code = by_title[title].code or ""
            service.redeem_coupon(member, code, basket, at=when, key=f"use:{title}")
        now = [
            service.redeem_coupon(
                member, by_title[title].code or "", basket, at=when, key=f"look:{title}"
            )
            for title in ("5.00 USD off", "free shipping", "cream")
        ]
        per_line: dict[str, Decimal] = {}
        for redemption in now:
            for sku, amount in lines_off(redemption).items():
                per_line[sku] = per_line.get(sku, Decimal(0)) + amount
        total = sum(per_line.values(), Decimal(0)) + now[1].shipping.amount
        totals[typed] = (total, per_line, now[1].shipping)
    assert len(totals) == 6
    for total in totals.values():
        # The cream is free, the 5.00 comes off what is left, shipping last: 28.90 off.
        assert total == (
            Decimal("28.90"),
            {"CREAM-50ML": Decimal("19.00"), "LIPSTICK": Decimal("5.00")},
            usd("4.90"),
        )


def test_club_a_member_who_never_picks_gets_the_best_item_in_stock(club: Any) -> None:
    service: LoyaltyService = club.service
    choice, *_, serum = service.holdings("ben")
    assert choice.status is HoldingStatus.USED
    assert (serum.title, serum.value, serum.status) == (
        "Full-size serum",
        usd("24.00"),
        HoldingStatus.OPEN,
    )
    offer = serum.offer
    assert '"free_product"' in offer
    assert "SERUM-30ML" in offer
    chosen = [line for line in service.statement("ben").lines if line.kind.value == "holding"]
    assert [line.reason for line in chosen] == ["chosen at the deadline"]
    # Ana picked before the deadline: the run made no choice for her.
    assert [h.title for h in service.holdings("ana")].count("Full-size serum") == 0


def test_club_the_referred_member_gets_her_own_bundle(referral: Any) -> None:
    service: LoyaltyService = referral.service
    ten_off, shipping = service.holdings("cleo")
    assert (ten_off.incentive, ten_off.value) == ("referee-welcome", usd("10.00"))
    assert '"min_basket"' in ten_off.offer
    assert shipping.title == "free shipping"
    assert ten_off.valid_until == ny("2026-04-17T18:00")
    assert service.balance("cleo").earned == 40  # her order; no welcome points


def test_club_the_referrer_is_rewarded_after_the_return_window(referral: Any) -> None:
    assert referral.referral_runs["2026-04-15T02:00"] == []
    (coupon,) = referral.referral_runs["2026-04-20T02:00"]
    assert (coupon.incentive, coupon.campaign, coupon.value) == (
        "referrer-thanks",
        "referrals",
        usd("15.00"),
    )
    service: LoyaltyService = referral.service
    # 50 welcome + 3 from A-1 + 200 for the referral.
    assert service.balance("ana").available == 253
    assert service.verify("ana") == []
    sent = kinds(referral.messages)
    assert sent[("referral_completed", "ana")] == 1
    assert sent[("referral_completed", "cleo")] == 0
    (completed,) = of_kind(referral.messages, "referral_completed")
    assert completed["incentives"] == "referrer-thanks"
    assert "cleo" not in str(completed)  # the referrer is not told who, by id


def test_club_notifications(club: Any) -> None:
    sent = kinds(club.messages)
    assert sent[("coupon_issued", "ana")] == 3  # 5.00 off, free shipping, the cream
    assert sent[("coupon_issued", "ben")] == 3  # the serum, at the deadline
    assert sent[("choice_pending", "ana")] == 1
    assert sent[("choice_pending", "ben")] == 1
    pending = {data["member_id"]: data for data in of_kind(club.messages, "choice_pending")}
    assert pending["ana"]["options"] == ["Full-size serum", "Full-size cream", "Full-size mask"]
    assert datetime.fromisoformat(str(pending["ana"]["deadline"])) == ny("2026-03-16T09:00")
    serum = [
        data
        for data in of_kind(club.messages, "coupon_issued")
        if data["member_id"] == "ben" and data["title"] == "Full-size serum"
    ]
    assert [data["value"] for data in serum] == ["24.00 USD"]
