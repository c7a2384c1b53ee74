"""Example-based tests of the checkout layer: quote, redeem, complete and refund orders,
bonus actions, shared stock.

Expected values are worked out by hand in the comments next to them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loyalty import (
    Account,
    ActionLimitReached,
    IdempotencyConflict,
    InvalidInput,
    MemoryStock,
    Money,
    RedemptionRefused,
    UnknownAction,
    UnknownOrder,
    UnknownReward,
    UnsupportedCurrency,
    award_action,
    complete_order,
    load_program,
    open_account,
    quote,
    redeem_reward,
    refund_order,
    verify,
)
from loyalty.ledger.entries import Return
from tests.builders import T0, days, ladder, program, usd, utc

COSMETICS = Path(__file__).resolve().parent.parent / "examples" / "programs" / "cosmetics-club.yaml"


def cart(
    cart_id: str, *lines: dict[str, Any], member: str = "m-1", **extra: Any
) -> dict[str, Any]:
    return {"id": cart_id, "member_id": member, "currency": "USD", "lines": list(lines), **extra}


def line(sku: str, price: str, quantity: int = 1, **extra: Any) -> dict[str, Any]:
    return {"sku": sku, "unit_price": price, "quantity": quantity, **extra}


def funded(points: int, member: str = "m-1", **sections: Any) -> Account:
    """An account of a program with ``sections`` holding ``points`` available points
    (from a bonus action, so no order is recorded)."""
    earning = dict(sections.pop("earning", {}))
    earning["actions"] = {**earning.get("actions", {}), "grant": {"points": points}}
    account = open_account(program(earning=earning, **sections), member)
    award_action(account, "grant", at=T0, key=f"grant-{member}")
    assert account.balance().available == points
    return account


def rewards(*catalog: dict[str, Any], **settings: Any) -> dict[str, Any]:
    return {"catalog": list(catalog), **settings}


def conditions(error_or_option: Any) -> list[str]:
    return [check.condition for check in error_or_option.unmet]


def reasons(error_or_option: Any) -> list[str]:
    return [check.reason for check in error_or_option.unmet]


# ------------------------------------------------------------ the cosmetics-club story


def test_cosmetics_club_story_end_to_end() -> None:
    club = load_program(COSMETICS)
    member = open_account(club, "m-1")
    t0 = utc(2026, 3, 1, 15)
    first = cart("A-1", line("LIP", "60.00", 2))

    # First order: the reward is refused on it, with every reason.
    with pytest.raises(RedemptionRefused) as refused:
        redeem_reward(member, "five-off", first, at=t0, key="r-0")
    by_name = {check.condition: check for check in refused.value.unmet}
    # The min_points hurdle repeats the cost: its shortfall is said once.
    assert set(by_name) == {"cost", "repeat_order"}
    assert by_name["cost"].reason == "earn 100 more points"
    assert by_name["cost"].shortfall == 100
    assert by_name["repeat_order"].reason == "available from your second order"
    assert by_name["repeat_order"].shortfall == 1
    assert member.journal == ()

    # It earns 1 point per USD, per line, pending for 30 days.
    done = complete_order(member, first, at=t0, key="o-1")
    assert done.earn is not None
    assert done.earn.points == 120
    assert [(lp.line, lp.quantity, lp.points) for lp in done.earn.lines] == [("LIP", 2, 120)]
    # 30 local days: 10:00 in New York, which is EDT (UTC-4) after the 8 March change.
    assert done.earn.available_at == utc(2026, 3, 31, 14)
    assert member.balance().pending == 120
    assert member.balance().available == 0

    # Still refused right after the first order: the points are pending.
    with pytest.raises(RedemptionRefused) as refused:
        redeem_reward(member, "five-off", cart("A-1b", line("LIP", "20.00")), at=t0, key="r-1")
    assert conditions(refused.value) == ["cost"]  # min_points repeats it: said once

    # 40 days later the points are available; a 9.50 basket is 0.50 short.
    t1 = t0 + days(40)
    small = cart("A-2", line("LIP", "9.50"))
    option = quote(member, small, at=t1).option("five-off")
    assert not option.eligible
    assert conditions(option) == ["min_basket"]
    assert reasons(option) == ["add 0.50 USD to your basket"]
    assert option.unmet[0].shortfall == usd("0.50")
    with pytest.raises(RedemptionRefused) as refused:
        redeem_reward(member, "five-off", small, at=t1, key="r-2")
    assert refused.value.unmet[0].shortfall == usd("0.50")
    assert "add 0.50 USD to your basket" in str(refused.value)

    # Exactly 10.00 is enough.
    assert quote(member, cart("A-2b", line("LIP", "10.00")), at=t1).option("five-off").eligible

    # The second order of 28.00: 5.00 off, spread over the lines by price.
    second = cart("A-3", line("LIP", "12.00"), line("MAS", "8.00", 2))
    before = quote(member, second, at=t1)
    assert before.earn.points == 28
    assert before.best is not None
    assert before.best.reward == "five-off"
    redemption = redeem_reward(member, "five-off", second, at=t1, key="r-3")
    assert redemption.points == 100
    assert redemption.total == usd("5.00")
    parts = {part.line: part.amount for part in redemption.lines}
    # 500 cents over 1200 and 1600: 214 and 285, the last cent to the last line.
    assert parts == {"LIP": usd("2.14"), "MAS": usd("2.86")}
    assert sum(parts.values(), usd("0")) == usd("5.00")
    assert parts["LIP"] <= usd("12.00")
    assert parts["MAS"] <= usd("16.00")
    assert member.balance().available == 20

    # The order earns on what is paid after the discount, rounded once: floor(9.86 + 13.14);
    # the point left after flooring each line goes to the larger fraction (LIP's .86).
    after = quote(member, second, at=t1)
    assert after.earn.points == 23
    result = complete_order(member, second, at=t1, key="o-2")
    assert result.earn is not None
    assert {lp.line: (lp.basis, lp.points) for lp in result.earn.lines} == {
        "LIP": (usd("9.86"), 10),
        "MAS": (usd("13.14"), 13),
    }
    assert result.earn.points == after.earn.points

    # Refund one of the two mascaras.
    t2 = t1 + days(1)
    refund = refund_order(member, "A-3", at=t2, key="rf-1", lines={"MAS": 1})
    assert refund.refund.amount == usd("6.57")  # half of 13.14
    # 13 points on 2 units: keep floor(13 / 2) = 6, take back 7.
    assert refund.reversal is not None
    assert refund.reversal.points == -7
    # 100 points over the discount lines 2.14 / 2.86: 43 / 57; half of 57 kept (28) -> 29 back.
    assert [entry.points for entry in refund.returns] == [29]
    assert refund.returns[0].expires_at == utc(2026, 10, 11, 15)  # 6 months, New York time
    balance = member.balance()
    assert (balance.pending, balance.available) == (23 - 7, 20 + 29)
    assert (balance.earned, balance.redeemed, balance.reversed, balance.returned) == (
        143,
        100,
        7,
        29,
    )
    lots = {lot.id: lot for lot in member.lots()}
    first_lot = lots[done.earn.id]
    second_lot = lots[result.earn.id]
    returned_lot = lots[refund.returns[0].id]
    assert (first_lot.remaining, first_lot.activated) == (20, True)
    assert (second_lot.remaining, second_lot.activated, second_lot.reversed) == (16, False, 7)
    assert (returned_lot.remaining, returned_lot.activated) == (29, True)
    assert len(lots) == 3
    assert verify(member) == []


# ------------------------------------------------------------------------ quote


FIVE_OFF = {"id": "five-off", "kind": "amount_off", "amount": "5.00", "cost": 100}


def test_quote_writes_nothing() -> None:
    member = funded(300, rewards=rewards(FIVE_OFF, {**FIVE_OFF, "id": "big", "cost": 500}))
    journal, snapshot = member.journal, member.snapshot()
    later = T0 + days(400)
    found = quote(member, cart("C-1", line("LIP", "30.00")), at=later)
    assert found.option("five-off").eligible
    assert member.journal == journal
    assert member.snapshot() == snapshot
    assert member.clock == snapshot.clock


def test_quote_best_and_explain() -> None:
    catalog = rewards(
        FIVE_OFF,
        {"id": "ten-off", "kind": "amount_off", "amount": "10.00", "cost": 200},
        {"id": "too-dear", "kind": "amount_off", "amount": "20.00", "cost": 1000},
        {**FIVE_OFF, "id": "cheap-five", "cost": 50},
    )
    member = funded(250, rewards=catalog)
    found = quote(member, cart("C-1", line("LIP", "30.00")), at=T0)
    assert found.best is not None
    assert found.best.reward == "ten-off"
    assert found.best.value == usd("10.00")
    assert not found.option("too-dear").eligible
    text = found.explain()
    assert "earn 750 more points" in text
    assert "too-dear: not yet" in text
    assert "best: ten-off" in text
    # On a tie in value the cheaper reward is best.
    small = quote(member, cart("C-2", line("LIP", "5.00")), at=T0)
    assert small.best is not None
    assert small.best.reward == "cheap-five"
    with pytest.raises(UnknownReward):
        found.option("nope")


def test_quote_with_no_eligible_reward_has_no_best() -> None:
    member = funded(10, rewards=rewards(FIVE_OFF))
    found = quote(member, cart("C-1", line("LIP", "30.00")), at=T0)
    assert found.best is None
    assert "best: none eligible" in found.explain()
    assert "earn 90 more points" in found.explain()


# ----------------------------------------------------------------------- redeem


def test_refused_redemption_writes_nothing() -> None:
    stocked = {**FIVE_OFF, "stock": 3, "hurdles": {"min_basket": "50.00"}}
    member = funded(300, rewards=rewards(stocked))
    stock = MemoryStock(member.program.rewards.catalog)
    journal, snapshot = member.journal, member.snapshot()
    with pytest.raises(RedemptionRefused) as refused:
        redeem_reward(
            member, "five-off", cart("C-1", line("LIP", "30.00")), at=T0, key="r", stock=stock
        )
    assert conditions(refused.value) == ["min_basket"]
    assert refused.value.unmet[0].shortfall == usd("20.00")
    assert member.journal == journal
    assert member.snapshot() == snapshot
    assert stock.left("five-off") == 3
    # The key was not used up: the same key works on a cart that qualifies.
    done = redeem_reward(
        member, "five-off", cart("C-2", line("LIP", "50.00")), at=T0, key="r", stock=stock
    )
    assert done.points == 100
    assert stock.left("five-off") == 2


def test_redeem_retry_with_same_key_returns_same_entry() -> None:
    member = funded(300, rewards=rewards(FIVE_OFF))
    basket = cart("C-1", line("LIP", "30.00"))
    first = redeem_reward(member, "five-off", basket, at=T0, key="r-1")
    length = len(member.journal)
    again = redeem_reward(member, "five-off", basket, at=T0 + days(1), key="r-1")
    assert again.entry == first.entry
    assert again.lines == first.lines
    assert len(member.journal) == length
    assert member.balance().available == 200
    other = cart("C-1", line("LIP", "40.00"))
    with pytest.raises(IdempotencyConflict):
        redeem_reward(member, "five-off", other, at=T0 + days(1), key="r-1")
    assert len(member.journal) == length


def test_redeem_rejects_bad_requests() -> None:
    pay = {"id": "pay", "kind": "pay_with_points", "points": 100, "value": "1.00"}
    member = funded(300, rewards=rewards(FIVE_OFF, pay))
    basket = cart("C-1", line("LIP", "30.00"))
    with pytest.raises(UnknownReward):
        redeem_reward(member, "nope", basket, at=T0, key="r-1")
    with pytest.raises(InvalidInput) as error:
        redeem_reward(member, "five-off", basket, at=T0, key="r-2", points=100)
    assert error.value.field == "points"
    with pytest.raises(InvalidInput) as error:
        redeem_reward(member, "pay", basket, at=T0, key="r-3")
    assert error.value.field == "points"
    with pytest.raises(InvalidInput) as error:
        redeem_reward(member, "five-off", cart("C-2", line("X", "9.00"), member="m-2"), at=T0,
                      key="r-4")
    assert error.value.field == "cart.member_id"
    with pytest.raises(InvalidInput):
        quote(member, cart("C-3", line("X", "9.00"), member="m-2"), at=T0)
    assert member.balance().available == 300
    assert member.redemptions() == ()


def test_redeem_on_a_completed_order_is_refused() -> None:
    member = funded(300, rewards=rewards(FIVE_OFF))
    basket = cart("O-1", line("LIP", "20.00"))
    complete_order(member, basket, at=T0, key="o")
    length = len(member.journal)
    with pytest.raises(RedemptionRefused) as refused:
        redeem_reward(member, "five-off", basket, at=T0, key="r")
    assert conditions(refused.value) == ["order"]
    assert len(member.journal) == length
    assert member.balance().available == 300 + 20


def test_two_rewards_on_one_cart_share_what_is_left() -> None:
    big = {"id": "big", "kind": "amount_off", "amount": "8.00", "cost": 0}
    member = funded(1, rewards=rewards(big, {**big, "id": "big2"}))
    basket = cart("C-1", line("LIP", "10.00"))
    redeem_reward(member, "big", basket, at=T0, key="r-1")
    option = quote(member, basket, at=T0).option("big2")
    assert option.value == usd("2.00")  # only 2.00 of the line is left
    second = redeem_reward(member, "big2", basket, at=T0, key="r-2")
    assert second.total == usd("2.00")
    assert not quote(member, basket, at=T0).option("big").eligible


# ------------------------------------------------------------------ reward kinds


def test_amount_off_is_capped_and_skips_gift_cards() -> None:
    twenty = {"id": "twenty", "kind": "amount_off", "amount": "20.00", "cost": 10}
    member = funded(100, rewards=rewards(twenty))
    basket = cart(
        "C-1", line("LIP", "12.00"), line("GC", "50.00", gift_card=True), shipping="5.00"
    )
    option = quote(member, basket, at=T0).option("twenty")
    assert option.eligible
    assert option.value == usd("12.00")
    done = redeem_reward(member, "twenty", basket, at=T0, key="r")
    assert [(part.line, part.amount) for part in done.lines] == [("LIP", usd("12.00"))]
    assert done.shipping is None
    # A cart of gift cards only has nothing to take off.
    gifts = cart("C-2", line("GC", "50.00", gift_card=True))
    option = quote(member, gifts, at=T0).option("twenty")
    assert not option.eligible
    assert conditions(option) == ["value"]


def test_amount_off_respects_line_discounts() -> None:
    twenty = {"id": "twenty", "kind": "amount_off", "amount": "25.00", "cost": 0}
    member = funded(1, rewards=rewards(twenty))
    # 25.00 off a cart worth 17.00 + 4.00 after the shop's discount: capped at 21.00.
    basket = cart("C-1", line("LIP", "10.00", 2, discount="3.00"), line("MAS", "4.00"))
    done = redeem_reward(member, "twenty", basket, at=T0, key="r")
    assert {p.line: p.amount for p in done.lines} == {"LIP": usd("17.00"), "MAS": usd("4.00")}


def test_percent_off_some_categories_up_to_a_maximum() -> None:
    pct = {
        "id": "skin20",
        "kind": "percent_off",
        "percent": 20,
        "products": {"categories": ["skincare"]},
        "max_amount": "3.00",
        "cost": 50,
    }
    member = funded(500, rewards=rewards(pct))
    basket = cart(
        "C-1",
        line("SER", "10.00", categories=["skincare"]),
        line("LIP", "30.00", categories=["makeup"]),
    )
    done = redeem_reward(member, "skin20", basket, at=T0, key="r-1")
    assert [(p.line, p.amount) for p in done.lines] == [("SER", usd("2.00"))]
    big = cart(
        "C-2",
        line("SER", "20.00", categories=["skincare"]),
        line("CRM", "5.00", categories=["skincare"]),
        line("LIP", "30.00", categories=["makeup"]),
    )
    option = quote(member, big, at=T0).option("skin20")
    assert option.value == usd("3.00")  # 20% of 25.00 is 5.00, capped at 3.00
    assert option.discount is not None
    assert {p.line for p in option.discount.lines} == {"SER", "CRM"}
    none = quote(member, cart("C-3", line("LIP", "30.00", categories=["makeup"])), at=T0)
    assert conditions(none.option("skin20")) == ["value"]


def test_free_shipping_up_to_a_maximum() -> None:
    ship = {"id": "ship", "kind": "free_shipping", "max_amount": "4.00", "cost": 0}
    member = funded(1, rewards=rewards(ship))
    done = redeem_reward(member, "ship", cart("C-1", line("LIP", "9.00"), shipping="6.50"),
                         at=T0, key="r-1")
    assert done.lines == ()
    assert done.shipping == usd("4.00")
    assert done.total == usd("4.00")
    cheap = quote(member, cart("C-2", line("LIP", "9.00"), shipping="3.00"), at=T0)
    assert cheap.option("ship").value == usd("3.00")
    free = quote(member, cart("C-3", line("LIP", "9.00")), at=T0).option("ship")
    assert not free.eligible
    assert conditions(free) == ["value"]


def test_free_shipping_lowers_shipping_points() -> None:
    ship = {"id": "ship", "kind": "free_shipping", "cost": 0}
    member = funded(1, rewards=rewards(ship), earning={"basis": {"shipping": True}})
    basket = cart("C-1", line("LIP", "9.00"), shipping="6.00")
    assert quote(member, basket, at=T0).earn.shipping_points == 6
    redeem_reward(member, "ship", basket, at=T0, key="r")
    assert quote(member, basket, at=T0).earn.shipping_points == 0
    done = complete_order(member, basket, at=T0, key="o")
    assert done.earn is not None
    assert done.earn.points == 9


FREE_GIFT = {"id": "gift", "kind": "free_product", "choices": ["SER-01", "CRM-02"], "cost": 40}


def test_free_product_with_a_choice() -> None:
    member = funded(100, rewards=rewards(FREE_GIFT))
    basket = cart(
        "C-1", line("SER-01", "30.00", 2), line("CRM-02", "20.00"), line("LIP", "9.00")
    )
    option = quote(member, basket, at=T0).option("gift")
    assert option.eligible
    assert set(option.choices) == {"SER-01", "CRM-02"}
    assert option.value == usd("30.00")  # one unit of the dearest choice
    done = redeem_reward(member, "gift", basket, at=T0, key="r", choice="CRM-02")
    assert [(p.line, p.amount) for p in done.lines] == [("CRM-02", usd("20.00"))]
    assert done.points == 40


def test_free_product_choice_not_in_the_cart_is_refused() -> None:
    member = funded(100, rewards=rewards(FREE_GIFT))
    basket = cart("C-1", line("SER-01", "30.00"))
    journal = member.journal
    for index, choice in enumerate(["CRM-02", "LIP"]):
        with pytest.raises(RedemptionRefused) as refused:
            redeem_reward(member, "gift", basket, at=T0, key=f"r-{index}", choice=choice)
        assert conditions(refused.value) == ["value"]
        assert f"{choice!r} is not in the cart" in reasons(refused.value)[0]
    assert member.journal == journal
    without = quote(member, cart("C-2", line("LIP", "30.00")), at=T0).option("gift")
    assert not without.eligible
    assert "product" in conditions(without)
    assert "add one of SER-01, CRM-02 to your cart" in reasons(without)
    with pytest.raises(RedemptionRefused):
        redeem_reward(member, "gift", cart("C-2", line("LIP", "30.00")), at=T0, key="r-3")


def test_free_product_is_never_a_gift_card() -> None:
    gift = {**FREE_GIFT, "choices": ["GC"]}
    member = funded(100, rewards=rewards(gift))
    option = quote(member, cart("C-1", line("GC", "25.00", gift_card=True)), at=T0).option("gift")
    assert not option.eligible


def pay_with_points(**extra: Any) -> dict[str, Any]:
    return {"id": "pay", "kind": "pay_with_points", "points": 100, "value": "1.00", **extra}


def test_pay_with_points_share_cap_sets_the_most_points() -> None:
    reward = pay_with_points(step=30, min_points=60, hurdles={"max_points_share": {"percent": 50}})
    member = funded(2000, rewards=rewards(reward))
    basket = cart("C-1", line("LIP", "10.00"))
    option = quote(member, basket, at=T0).option("pay")
    # At most 5.00 of 10.00: 500 points, the largest multiple of 30 within it is 480.
    assert option.eligible
    assert option.points == 480
    assert option.value == usd("4.80")
    done = redeem_reward(member, "pay", basket, at=T0, key="r-1", points=option.points)
    assert done.total == usd("4.80")
    assert member.balance().available == 2000 - 480


def test_pay_with_points_over_the_share_is_refused() -> None:
    reward = pay_with_points(step=50, hurdles={"max_points_share": {"percent": 50}})
    member = funded(2000, rewards=rewards(reward))
    basket = cart("C-1", line("LIP", "10.00"), shipping="2.00")
    # The share is of the total, shipping included: 6.00 -> 600 points.
    assert quote(member, basket, at=T0).option("pay").points == 600
    with pytest.raises(RedemptionRefused) as refused:
        redeem_reward(member, "pay", basket, at=T0, key="r-1", points=700)
    assert conditions(refused.value) == ["max_points_share"]
    assert refused.value.unmet[0].shortfall == usd("1.00")
    assert "at most 6.00 USD of this order can be paid with points" in str(refused.value)
    with pytest.raises(RedemptionRefused) as refused:
        redeem_reward(member, "pay", basket, at=T0, key="r-2", points=75)
    assert conditions(refused.value) == ["value"]
    assert "multiple of 50" in reasons(refused.value)[0]
    assert member.balance().available == 2000


@pytest.mark.parametrize(
    ("value", "price", "currency", "rate"),
    [
        ("1.00", "10.01", "USD", "1"),
        ("0.70", "10.00", "USD", "1"),  # 715 points are worth 5.005, rounded down to 5.00
        ("1.00", "7.77", "EUR", "0.93"),
        ("1.00", "20.00", "EUR", "1.08"),
    ],
)
def test_pay_with_points_quote_offers_the_most_points_the_share_allows(
    value: str, price: str, currency: str, rate: str
) -> None:
    reward = pay_with_points(value=value, hurdles={"max_points_share": {"percent": 50}})
    member = funded(100_000, rewards=rewards(reward), earning={"currencies": {"EUR": rate}})
    basket = {**cart("C-1", line("LIP", price)), "currency": currency}
    option = quote(member, basket, at=T0).option("pay")
    assert option.eligible
    # One point more is refused, and the points offered are accepted.
    with pytest.raises(RedemptionRefused) as refused:
        redeem_reward(member, "pay", basket, at=T0, key="more", points=option.points + 1)
    assert conditions(refused.value) == ["max_points_share"]
    done = redeem_reward(member, "pay", basket, at=T0, key="offered", points=option.points)
    assert done.total == option.value


@pytest.mark.parametrize("value", ["1.00", "0.70"])
def test_pay_with_points_quote_offers_the_most_points_the_cart_takes(value: str) -> None:
    member = funded(100_000, rewards=rewards(pay_with_points(value=value)))
    basket = cart("C-1", line("LIP", "10.00"))
    option = quote(member, basket, at=T0).option("pay")
    with pytest.raises(RedemptionRefused):
        redeem_reward(member, "pay", basket, at=T0, key="more", points=option.points + 1)
    done = redeem_reward(member, "pay", basket, at=T0, key="offered", points=option.points)
    assert done.total == option.value


def test_pay_with_points_amount_cap_and_member_points() -> None:
    reward = pay_with_points(step=10, hurdles={"max_points_share": {"amount": "3.00"}})
    member = funded(2000, rewards=rewards(reward))
    assert quote(member, cart("C-1", line("LIP", "10.00")), at=T0).option("pay").points == 300
    poor = funded(255, member="m-2", rewards=rewards(pay_with_points(step=10)))
    option = quote(poor, cart("C-2", line("LIP", "10.00"), member="m-2"), at=T0).option("pay")
    assert option.points == 250  # all the member has, in steps of 10
    cheap = quote(poor, cart("C-3", line("LIP", "1.20"), member="m-2"), at=T0).option("pay")
    assert cheap.points == 120  # no more than the cart is worth


def test_pay_with_points_min_points() -> None:
    reward = pay_with_points(step=50, min_points=200)
    member = funded(150, rewards=rewards(reward))
    option = quote(member, cart("C-1", line("LIP", "10.00")), at=T0).option("pay")
    assert not option.eligible
    assert conditions(option) == ["cost"]
    assert reasons(option) == ["earn 50 more points"]


def test_pay_with_points_never_discounts_gift_cards() -> None:
    member = funded(5000, rewards=rewards(pay_with_points()))
    basket = cart("C-1", line("LIP", "10.00"), line("GC", "25.00", gift_card=True))
    option = quote(member, basket, at=T0).option("pay")
    assert option.points == 1000
    with pytest.raises(RedemptionRefused):
        redeem_reward(member, "pay", basket, at=T0, key="r-1", points=1100)
    done = redeem_reward(member, "pay", basket, at=T0, key="r-2", points=1000)
    assert [p.line for p in done.lines] == ["LIP"]


# ---------------------------------------------------------------------- stock


def test_shared_stock_runs_out_for_everyone() -> None:
    gift = {**FIVE_OFF, "cost": 0, "stock": 1}
    catalog = rewards(gift)
    club = program(rewards=catalog)
    first, second = open_account(club, "m-1"), open_account(club, "m-2")
    stock = MemoryStock(club.rewards.catalog)
    assert quote(first, cart("C-1", line("LIP", "9.00")), at=T0, stock=stock).option(
        "five-off"
    ).eligible
    redeem_reward(first, "five-off", cart("C-1", line("LIP", "9.00")), at=T0, key="r",
                  stock=stock)
    assert stock.left("five-off") == 0
    theirs = cart("C-2", line("LIP", "9.00"), member="m-2")
    option = quote(second, theirs, at=T0, stock=stock).option("five-off")
    assert not option.eligible
    assert reasons(option) == ["sold out"]
    with pytest.raises(RedemptionRefused) as refused:
        redeem_reward(second, "five-off", theirs, at=T0, key="r", stock=stock)
    assert conditions(refused.value) == ["stock"]
    assert second.journal == ()
    # A retry by the first member does not take a second unit.
    redeem_reward(first, "five-off", cart("C-1", line("LIP", "9.00")), at=T0, key="r",
                  stock=stock)
    assert stock.left("five-off") == 0


def test_refused_redemption_does_not_take_stock() -> None:
    member = funded(10, rewards=rewards({**FIVE_OFF, "stock": 1}))
    stock = MemoryStock(member.program.rewards.catalog)
    with pytest.raises(RedemptionRefused):
        redeem_reward(member, "five-off", cart("C-1", line("LIP", "9.00")), at=T0, key="r",
                      stock=stock)
    assert stock.left("five-off") == 1


def test_stocked_reward_needs_a_stock() -> None:
    member = funded(300, rewards=rewards({**FIVE_OFF, "stock": 5}))
    with pytest.raises(InvalidInput) as error:
        redeem_reward(member, "five-off", cart("C-1", line("LIP", "9.00")), at=T0, key="r")
    assert error.value.field == "stock"
    assert member.balance().available == 300


# ---------------------------------------------------------------------- tiers


def tiered(**catalog_extra: Any) -> dict[str, Any]:
    return {
        "tiers": {
            "metrics": ["net_spend"],
            "ladder": [
                {"name": "Member", "benefits": {"birthday_bonus": 5}},
                {
                    "name": "Gold",
                    "threshold": {"net_spend": 500},
                    "benefits": {"rewards": ["gold-perk"], "birthday_bonus": 30},
                },
            ],
        },
        "rewards": rewards(
            {**FIVE_OFF, "id": "gold-only", "cost": 0, "tiers": ["Gold"]},
            {**FIVE_OFF, "id": "gold-perk", "cost": 0},
            {**FIVE_OFF, "id": "for-gold", "cost": 0, "hurdles": {"min_tier": "Gold"}},
            {**FIVE_OFF, "id": "open", "cost": 0},
        ),
    }


def test_tier_restricted_rewards_are_hidden_from_lower_tiers() -> None:
    member = open_account(program(**tiered()), "m-1")
    basket = cart("C-1", line("LIP", "20.00"))
    found = quote(member, basket, at=T0)
    assert [o.reward for o in found.rewards] == ["for-gold", "open"]
    for hidden in ("gold-only", "gold-perk"):
        with pytest.raises(UnknownReward):
            redeem_reward(member, hidden, basket, at=T0, key=f"r-{hidden}")
    option = found.option("for-gold")
    assert not option.eligible
    assert conditions(option) == ["min_tier"]
    assert reasons(option) == ["reach Gold"]
    # Spending 500 reaches Gold: everything is visible and the hurdle is met.
    complete_order(member, cart("O-1", line("BAG", "500.00")), at=T0, key="o-1")
    tier = member.tier()
    assert tier is not None
    assert tier.tier == "Gold"
    gold = quote(member, cart("C-2", line("LIP", "20.00")), at=T0 + days(1))
    assert [o.reward for o in gold.rewards] == ["gold-only", "gold-perk", "for-gold", "open"]
    assert all(o.eligible for o in gold.rewards)


# -------------------------------------------------------------------- refunds


def spent_on_order(**sections: Any) -> tuple[Account, dict[str, Any]]:
    """A member who paid 300 points (3.00) on an order of 2 x 10.00 + 1 x 5.00."""
    reward = pay_with_points()
    account = funded(
        1000,
        rewards=rewards(reward, returned_points_expire_after="6 months"),
        earning={"rate": 2},
        **sections,
    )
    basket = cart("O-1", line("LIP", "10.00", 2), line("MAS", "5.00"))
    redeem_reward(account, "pay", basket, at=T0, key="r", points=300)
    complete_order(account, basket, at=T0, key="o")
    return account, basket


def test_full_refund_takes_back_all_earned_and_gives_back_all_spent() -> None:
    member, _ = spent_on_order()
    order = member.order("O-1")
    assert order is not None
    earned = member.balance().earned - 1000
    # 3.00 spread as 2.40 / 0.60; 2 points per USD on 17.60 and 4.40: 35.2 + 8.8 = 44.
    assert earned == 44
    when = T0 + days(3)
    result = refund_order(member, "O-1", at=when, key="rf")
    assert result.reversal is not None
    assert result.reversal.points == -earned
    assert sum(entry.points for entry in result.returns) == 300
    for entry in result.returns:
        assert isinstance(entry, Return)
        assert "O-1" in entry.reason
        assert entry.available_at == when
        assert entry.expires_at == utc(2026, 7, 4, 12)  # 6 months after the refund
    balance = member.balance()
    assert balance.available == 1000
    assert balance.pending == 0
    assert (balance.reversed, balance.returned) == (earned, 300)
    assert result.refund.shipping is True
    assert verify(member) == []
    # Nothing is left to refund.
    with pytest.raises(InvalidInput):
        refund_order(member, "O-1", at=when, key="rf-2")


def test_refunding_one_unit_at_a_time_never_beats_refunding_together() -> None:
    one, _ = spent_on_order()
    together, _ = spent_on_order()
    when = T0 + days(1)
    refund_order(one, "O-1", at=when, key="a", lines={"LIP": 1})
    refund_order(one, "O-1", at=when, key="b", lines={"MAS": 1})
    refund_order(together, "O-1", at=when, key="a", lines={"LIP": 1, "MAS": 1})
    held_one = one.balance().available + one.balance().pending
    held_together = together.balance().available + together.balance().pending
    assert held_one <= held_together
    # And the last unit brings both back to where they started: everything undone.
    refund_order(one, "O-1", at=when, key="c", lines={"LIP": 1})
    refund_order(together, "O-1", at=when, key="c", lines={"LIP": 1})
    assert one.balance().available == together.balance().available == 1000
    assert one.balance().pending == together.balance().pending == 0
    assert verify(one) == []
    assert verify(together) == []


def test_refunding_units_of_an_odd_split_line() -> None:
    member = funded(
        1000, rewards=rewards(pay_with_points()), earning={"rate": 5}
    )
    basket = cart("O-1", line("LIP", "3.33", 3))
    redeem_reward(member, "pay", basket, at=T0, key="r", points=100)
    done = complete_order(member, basket, at=T0, key="o")
    assert done.earn is not None
    assert done.earn.points == 44  # floor(8.99 x 5)
    taken = 0
    given = 0
    for unit in range(3):
        result = refund_order(member, "O-1", at=T0 + days(1), key=f"rf-{unit}",
                              lines={"LIP": 1})
        assert result.reversal is not None
        taken -= result.reversal.points
        given += sum(entry.points for entry in result.returns)
        # What is kept never exceeds the share of the units not refunded.
        assert 44 - taken <= 44 * (2 - unit) // 3
        assert 100 - given <= 100 * (2 - unit) // 3
    assert (taken, given) == (44, 100)
    assert verify(member) == []


def test_refund_errors() -> None:
    member, _ = spent_on_order()
    with pytest.raises(UnknownOrder):
        refund_order(member, "O-404", at=T0, key="x")
    with pytest.raises(InvalidInput) as error:
        refund_order(member, "O-1", at=T0, key="y", lines={"LIP": 3})
    assert error.value.field == "lines.LIP"
    with pytest.raises(InvalidInput) as error:
        refund_order(member, "O-1", at=T0, key="z", lines={"NOPE": 1})
    assert error.value.field == "lines.NOPE"
    with pytest.raises(InvalidInput) as error:
        refund_order(member, "O-1", at=T0, key="w", lines={"LIP": 0})
    assert error.value.field == "lines.LIP"
    refund_order(member, "O-1", at=T0, key="v", lines={"LIP": 1})
    with pytest.raises(InvalidInput) as error:
        refund_order(member, "O-1", at=T0, key="u", lines={"LIP": 2})
    assert error.value.field == "lines.LIP"


def test_refund_retry_returns_the_same_result() -> None:
    member, _ = spent_on_order()
    first = refund_order(member, "O-1", at=T0 + days(1), key="rf", lines={"LIP": 1})
    length = len(member.journal)
    again = refund_order(member, "O-1", at=T0 + days(2), key="rf", lines={"LIP": 1})
    assert again == first
    assert len(member.journal) == length


def test_usage_limit_counts_a_refunded_redemption_as_given_back() -> None:
    once = {**FIVE_OFF, "cost": 10, "hurdles": {"usage_limit": 1}}
    member = funded(100, rewards=rewards(once))
    basket = cart("O-1", line("LIP", "20.00"))
    redeem_reward(member, "five-off", basket, at=T0, key="r-1")
    complete_order(member, basket, at=T0, key="o-1")
    assert member.reward_uses("five-off") == 1
    option = quote(member, cart("C-2", line("LIP", "20.00")), at=T0).option("five-off")
    assert conditions(option) == ["usage_limit"]
    assert reasons(option) == ["already used 1 times (limit 1)"]
    refund_order(member, "O-1", at=T0 + days(1), lines={"LIP": 1}, key="rf")
    assert member.reward_uses("five-off") == 0
    assert quote(member, cart("C-2", line("LIP", "20.00")), at=T0 + days(1)).option(
        "five-off"
    ).eligible
    assert member.balance().available == 100


def test_partial_refund_keeps_the_use() -> None:
    once = {**FIVE_OFF, "cost": 10, "hurdles": {"usage_limit": 1}}
    member = funded(100, rewards=rewards(once))
    basket = cart("O-1", line("LIP", "20.00", 2))
    redeem_reward(member, "five-off", basket, at=T0, key="r-1")
    complete_order(member, basket, at=T0, key="o-1")
    refund_order(member, "O-1", at=T0 + days(1), lines={"LIP": 1}, key="rf")
    assert member.reward_uses("five-off") == 1


# --------------------------------------------------------------- bonus actions


ACTIONS = {
    "signup": {"points": 50},
    "review": {"points": 10, "times": 2, "per": "month"},
    "birthday": {"points": 20, "per": "year"},
}


def test_signup_once() -> None:
    member = open_account(program(earning={"actions": ACTIONS}), "m-1")
    earn = award_action(member, "signup", at=T0, key="s-1")
    assert earn.points == 50
    assert earn.available_at == T0
    assert member.balance().available == 50
    again = award_action(member, "signup", at=T0, key="s-1")
    assert again == earn
    with pytest.raises(ActionLimitReached) as error:
        award_action(member, "signup", at=T0 + days(400), key="s-2")
    assert (error.value.action, error.value.times) == ("signup", 1)
    assert member.balance().available == 50


def test_reviews_per_month_in_the_program_timezone() -> None:
    club = program(timezone="America/New_York", earning={"actions": ACTIONS})
    member = open_account(club, "m-1")
    award_action(member, "review", at=utc(2026, 1, 10), key="r-1")
    award_action(member, "review", at=utc(2026, 1, 20), key="r-2")
    # 03:00 UTC on 1 February is still 31 January in New York.
    with pytest.raises(ActionLimitReached):
        award_action(member, "review", at=utc(2026, 2, 1, 3), key="r-3")
    third = award_action(member, "review", at=utc(2026, 2, 1, 6), key="r-4")
    assert third.points == 10
    assert member.balance().available == 30


def test_birthday_adds_the_tier_bonus() -> None:
    club = program(earning={"actions": ACTIONS}, **tiered())
    member = open_account(club, "m-1")
    first = award_action(member, "birthday", at=T0, key="b-1")
    assert first.points == 20 + 5  # Member's birthday bonus
    complete_order(member, cart("O-1", line("BAG", "500.00")), at=T0, key="o-1")
    later = award_action(member, "birthday", at=T0 + days(366), key="b-2")
    assert later.points == 20 + 30  # Gold's
    plain = open_account(program(earning={"actions": ACTIONS}), "m-2")
    assert award_action(plain, "birthday", at=T0, key="b").points == 20


def test_unknown_action() -> None:
    member = open_account(program(earning={"actions": ACTIONS}), "m-1")
    with pytest.raises(UnknownAction) as error:
        award_action(member, "tweet", at=T0, key="t")
    assert error.value.field == "action"
    assert member.journal == ()


# -------------------------------------------------------------- complete_order


def test_complete_order_is_idempotent_per_key() -> None:
    member = open_account(program(), "m-1")
    basket = cart("O-1", line("LIP", "12.50", 2))
    first = complete_order(member, basket, at=T0, key="o")
    assert first.earn is not None
    assert first.earn.points == 25
    length = len(member.journal)
    again = complete_order(member, basket, at=T0 + days(1), key="o")
    assert again == first
    assert len(member.journal) == length
    with pytest.raises(InvalidInput) as error:
        complete_order(member, basket, at=T0 + days(1), key="other")
    assert error.value.field == "cart.id"
    with pytest.raises(IdempotencyConflict):
        complete_order(member, cart("O-2", line("LIP", "1.00")), at=T0 + days(1), key="o")
    assert len(member.journal) == length
    assert member.balance().available == 25


def test_complete_order_currencies() -> None:
    club = program(earning={"rate": 10, "currencies": {"EUR": "1.08"}})
    member = open_account(club, "m-1")
    with pytest.raises(UnsupportedCurrency):
        complete_order(member, {**cart("O-1", line("LIP", "10.00")), "currency": "GBP"},
                       at=T0, key="o-1")
    assert member.journal == ()
    done = complete_order(member, {**cart("O-2", line("LIP", "10.00")), "currency": "EUR"},
                          at=T0, key="o-2")
    assert done.earn is not None
    assert done.earn.points == 108  # 10.00 EUR = 10.80 USD, 10 points per USD
    assert done.earn.basis == Money("10.80", "USD")
    with pytest.raises(UnsupportedCurrency):
        quote(member, {**cart("O-3", line("LIP", "10.00")), "currency": "GBP"}, at=T0)


def test_foreign_currency_discount_is_converted() -> None:
    member = funded(500, rewards=rewards(FIVE_OFF), earning={"currencies": {"EUR": "1.08"}})
    basket = {**cart("O-1", line("LIP", "20.00")), "currency": "EUR"}
    done = redeem_reward(member, "five-off", basket, at=T0, key="r")
    # 5.00 USD at 1.08 USD per EUR is 4.6296 EUR, rounded down.
    assert done.total == Money("4.62", "EUR")


def test_refunding_an_order_with_three_rewards_unit_by_unit_undoes_everything() -> None:
    ship = {"id": "ship", "kind": "free_shipping", "cost": 30}
    member = funded(1000, rewards=rewards(FIVE_OFF, pay_with_points(), ship))
    basket = cart("O-1", line("LIP", "7.33", 3), line("MAS", "4.99"), shipping="3.10")
    redeem_reward(member, "five-off", basket, at=T0, key="a")
    redeem_reward(member, "pay", basket, at=T0, key="b", points=777)
    redeem_reward(member, "ship", basket, at=T0, key="c")
    spent = 100 + 777 + 30
    assert member.balance().available == 1000 - spent
    done = complete_order(member, basket, at=T0, key="o")
    assert done.earn is not None
    given = taken = 0
    for index, units in enumerate([{"LIP": 1}, {"MAS": 1}, {"LIP": 2}]):
        result = refund_order(member, "O-1", at=T0 + days(1), key=f"rf-{index}", lines=units)
        given += sum(entry.points for entry in result.returns)
        taken -= result.reversal.points if result.reversal is not None else 0
    assert (given, taken) == (spent, done.earn.points)
    assert member.balance().available == 1000
    assert [member.reward_uses(r) for r in ("five-off", "pay", "ship")] == [0, 0, 0]
    assert verify(member) == []


# ------------------------------------------- hurdles see the discounts already applied

HUNDRED_OFF = {
    "id": "hundred-off",
    "kind": "amount_off",
    "amount": "100.00",
    "cost": 0,
    "hurdles": {"min_basket": "100.00"},
}


def test_a_minimum_basket_counts_the_rewards_already_redeemed_on_the_cart() -> None:
    member = funded(10, rewards=rewards(HUNDRED_OFF, {**HUNDRED_OFF, "id": "another"}))
    basket = cart("C-1", line("LIP", "165.00"))
    first = redeem_reward(member, "hundred-off", basket, at=T0, key="r-1")
    assert first.total == usd("100.00")
    # 65.00 is left to pay: a second "minimum 100.00" reward no longer fits.
    option = quote(member, basket, at=T0).option("another")
    assert not option.eligible
    assert reasons(option) == ["add 35.00 USD to your basket"]
    with pytest.raises(RedemptionRefused) as refused:
        redeem_reward(member, "another", basket, at=T0, key="r-2")
    assert reasons(refused.value) == ["add 35.00 USD to your basket"]
    with pytest.raises(RedemptionRefused):
        redeem_reward(member, "hundred-off", basket, at=T0, key="r-3")
    assert len(member.redemptions("C-1")) == 1
    assert verify(member) == []


@pytest.mark.parametrize(
    ("basis", "have"),
    [("merchandise", "65.00"), ("subtotal", "65.00"), ("total", "65.00")],
)
def test_every_basket_basis_is_measured_after_the_loyalty_discounts(basis: str, have: str) -> None:
    ship = {"id": "ship", "kind": "free_shipping", "cost": 0}
    hurdle = {"min_basket": {"amount": "1000.00", "basis": basis}}
    gate = {**HUNDRED_OFF, "id": "gate", "hurdles": hurdle}
    member = funded(10, rewards=rewards(HUNDRED_OFF, ship, gate))
    basket = cart("C-1", line("LIP", "165.00"), shipping="5.00")
    redeem_reward(member, "hundred-off", basket, at=T0, key="r-1")
    redeem_reward(member, "ship", basket, at=T0, key="r-2")
    option = quote(member, basket, at=T0).option("gate")
    # 165.00 less 100.00 on the line, and (for total) 5.00 shipping less the free shipping.
    assert option.unmet[0].shortfall == usd("1000.00") - usd(have)


def test_the_points_share_cap_is_measured_after_the_discounts_already_on_the_cart() -> None:
    pay = {
        "id": "pay",
        "kind": "pay_with_points",
        "points": 100,
        "value": "1.00",
        "hurdles": {"max_points_share": {"percent": 50}},
    }
    member = funded(100_000, rewards=rewards(HUNDRED_OFF, pay))
    basket = cart("C-1", line("LIP", "165.00"))
    redeem_reward(member, "hundred-off", basket, at=T0, key="r-1")
    # Half of the 65.00 left, not half of 165.00.
    option = quote(member, basket, at=T0).option("pay")
    assert option.value == usd("32.50")


def test_a_points_hurdle_that_repeats_the_cost_says_the_shortfall_once() -> None:
    costly = {**FIVE_OFF, "id": "costly", "cost": 150, "hurdles": {"min_points": 150}}
    member = funded(100, rewards=rewards(costly))
    option = quote(member, cart("C-1", line("LIP", "30.00")), at=T0).option("costly")
    assert reasons(option) == ["earn 50 more points"]
    assert option.check.reason == "earn 50 more points"
    with pytest.raises(RedemptionRefused) as refused:
        redeem_reward(member, "costly", cart("C-1", line("LIP", "30.00")), at=T0, key="r")
    assert reasons(refused.value) == ["earn 50 more points"]
    assert str(refused.value).count("earn 50 more points") == 1


# ----------------------------------------------------------- tier shipping benefits


def shipping_club(benefits: dict[str, Any], **earning: Any) -> Account:
    tiers = ladder(("Member", {}), ("Gold", {"net_spend": 500}))
    tiers["ladder"][1]["benefits"] = benefits
    ship = {"id": "ship", "kind": "free_shipping", "cost": 0}
    hurdle = {"min_basket": {"amount": "30.00", "basis": "total"}}
    gate = {**FIVE_OFF, "id": "gate", "cost": 0, "hurdles": hurdle}
    return funded(
        10,
        tiers=tiers,
        rewards=rewards(ship, gate),
        earning={"basis": {"shipping": True}, **earning},
    )


def gold_cart(cart_id: str, price: str, shipping: str = "4.90") -> dict[str, Any]:
    return cart(cart_id, line("LIP", price), shipping=shipping, customer={"tier": "Gold"})


def test_tier_free_shipping_is_taken_off_in_the_quote_and_not_earned_on() -> None:
    member = shipping_club({"free_shipping": True})
    basket = gold_cart("C-1", "28.00")
    found = quote(member, basket, at=T0)
    assert found.shipping_benefit == usd("4.90")
    assert "free shipping (4.90 USD off)" in found.explain()
    # Shipping earns with basis.shipping, but the member does not pay it: 28 points.
    assert (found.earn.points, found.earn.shipping_points) == (28, 0)
    # A free-shipping reward has nothing left to take off.
    assert not found.option("ship").eligible
    # The basket total the hurdles see is 28.00, not 32.90.
    assert reasons(found.option("gate")) == ["add 2.00 USD to your basket"]
    done = complete_order(member, basket, at=T0, key="o")
    assert done.earn is not None
    assert (done.earn.points, done.earn.shipping_points) == (28, 0)


def test_a_member_below_the_tier_pays_and_earns_on_shipping() -> None:
    member = shipping_club({"free_shipping": True})
    basket = cart("C-1", line("LIP", "28.00"), shipping="4.90")
    found = quote(member, basket, at=T0)
    assert found.shipping_benefit is None
    assert (found.earn.points, found.earn.shipping_points) == (32, 4)
    assert found.option("ship").eligible


@pytest.mark.parametrize(("price", "free"), [("49.99", False), ("50.00", True)])
def test_free_shipping_above_applies_from_the_amount_on(price: str, free: bool) -> None:
    member = shipping_club({"free_shipping_above": "50.00"})
    found = quote(member, gold_cart("C-1", price), at=T0)
    assert found.shipping_benefit == (usd("4.90") if free else None)
    assert found.earn.shipping_points == (0 if free else 4)


def test_free_shipping_above_counts_the_rewards_already_on_the_cart() -> None:
    tiers = ladder(("Member", {}), ("Gold", {"net_spend": 500}))
    tiers["ladder"][1]["benefits"] = {"free_shipping": True, "free_shipping_above": "50.00"}
    member = funded(10, tiers=tiers, rewards=rewards({**FIVE_OFF, "cost": 0}))
    basket = gold_cart("C-1", "52.00")
    assert quote(member, basket, at=T0).shipping_benefit == usd("4.90")
    redeem_reward(member, "five-off", basket, at=T0, key="r")
    # 52.00 less 5.00 is 47.00: below 50.00, so the shipping is paid again.
    assert quote(member, basket, at=T0).shipping_benefit is None


# ------------------------------------------------------------------------ reprs


def test_a_quote_and_its_parts_print_as_one_short_line() -> None:
    catalog = [{**FIVE_OFF, "id": f"r-{n}", "cost": 100 * n} for n in range(1, 21)]
    member = funded(300, rewards=rewards(*catalog))
    found = quote(member, cart("c-1", *(line(f"S{n}", "6.00") for n in range(20))), at=T0)
    assert repr(found) == "<Quote cart c-1: earns 120 points, 3 of 20 rewards usable>"
    assert repr(found.earn) == "<EarnQuote 120 points on 120.00 USD, 20 lines, 1 rule part(s)>"
    assert repr(found.option("r-1")) == "<RewardOption r-1: 5.00 USD off for 100 points>"
    assert repr(found.option("r-4")) == "<RewardOption r-4: not eligible: earn 100 more points>"
    assert len(repr(found)) < 100


@pytest.mark.parametrize(
    ("tiers", "reason"),
    [
        (ladder(("Member", {}), ("Gold", {"net_spend": 500})), "is not a tier of the program"),
        (None, "the program has no tiers"),
    ],
)
def test_a_customer_tier_the_program_does_not_have_is_refused(
    tiers: dict[str, Any] | None, reason: str
) -> None:
    """A misspelt tier given by the shop would silently earn as no tier at all."""
    member = open_account(program(**({"tiers": tiers} if tiers else {})), "m-1")
    basket = {"id": "C-1", "member_id": "m-1", "currency": "USD",
              "lines": [{"sku": "X", "unit_price": "100.00", "quantity": 1}],
              "customer": {"tier": "Gld"}}
    for call in (quote, complete_order):
        with pytest.raises(InvalidInput, match=reason) as refused:
            call(member, basket, at=T0, **({"key": "o"} if call is complete_order else {}))
        assert (refused.value.field, refused.value.value) == ("cart.customer.tier", "Gld")
    assert len(member.journal) == 0
