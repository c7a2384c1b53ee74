"""Coupons on one cart: the best set of them stays, the others are set aside (kept,
unused) and come back when the best set includes them, so the order a customer
enters codes in never changes what the cart gets."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from loyalty import Account, RedemptionRefused, open_account
from loyalty.checkout.coupons import redeem_coupon
from loyalty.checkout.orders import complete_order
from loyalty.checkout.quote import quote
from loyalty.checkout.redemption import Redemption, void_redemption
from loyalty.incentives.config import TriggerKind
from loyalty.incentives.issue import fire
from loyalty.incentives.plan import Occasion
from loyalty.incentives.shared import MemoryRows, Shared
from loyalty.ledger.entries import HoldingStatus
from loyalty.money import Money
from tests.builders import T0, program

LATER = T0.replace(hour=T0.hour + 1)
ONE_PERCENT = {"kind": "percent_off", "percent": 1, "products": {"skus": ["SER"]}}
CENT = {"kind": "amount_off", "amount": "0.01"}
FREE_SER = {"kind": "free_product", "choices": ["SER"]}
GRANT_KINDS = ("coupon", "free_shipping")


def coupons(*grants: dict[str, Any], **stacking: Any) -> tuple[Account, list[str]]:
    """A member holding one coupon of each grant (an offer alone is a coupon of
    it), and their codes in the order issued."""
    catalog = [{
        "id": "b",
        "trigger": {"event": "manual"},
        "grants": [g if g.get("kind") in GRANT_KINDS else coupon(g) for g in grants],
    }]
    prog = program(timezone="UTC", stacking=stacking, incentives={"catalog": catalog})
    account = open_account(prog, "m-1", enrolled_at=T0)
    occasion = Occasion(TriggerKind.MANUAL, "manual:b", T0, only="b")
    (grant,) = fire(account, occasion, at=T0, shared=Shared(MemoryRows())).grants
    return account, [h.code or "" for h in grant.holdings]


def coupon(offer: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"kind": "coupon", "offer": offer, **more}


def basket(*lines: tuple[str, str]) -> dict[str, Any]:
    return {
        "id": "C-1",
        "member_id": "m-1",
        "currency": "USD",
        "lines": [
            {"id": f"L{n}", "sku": sku, "unit_price": price, "quantity": 1}
            for n, (sku, price) in enumerate(lines)
        ],
    }


def on_cart(account: Account) -> dict[str, Decimal]:
    """What the coupons in use take off each line."""
    found: dict[str, Decimal] = {}
    for record in account.redemptions("C-1"):
        if record.in_use:
            for part in record.discounts:
                found[part.line] = found.get(part.line, Decimal(0)) + part.amount.amount
    return found


def enter(account: Account, codes: list[str], order: list[int], cart: dict[str, Any]
          ) -> list[Redemption]:
    return [
        redeem_coupon(account, codes[n], cart, at=LATER, key=f"use:{n}") for n in order
    ]


def test_a_free_product_entered_first_is_not_lost_to_a_one_percent_coupon() -> None:
    cart = basket(("SER", "1.00"))
    results = {}
    for order in ([0, 1, 2, 3], [3, 1, 2, 0], [1, 3, 0, 2]):
        account, codes = coupons(ONE_PERCENT, CENT, CENT, FREE_SER)
        enter(account, codes, order, cart)
        results[tuple(order)] = on_cart(account)
        assert {r.coupon for r in account.redemptions("C-1") if r.in_use} == {"1.3"}
    assert list(results.values()) == [{"L0": Decimal("1.00")}] * 3


def test_an_entered_coupon_left_out_is_set_aside_with_why_and_keeps_its_use() -> None:
    account, codes = coupons(ONE_PERCENT, CENT, CENT, FREE_SER)
    cart = basket(("SER", "1.00"))
    free, cent, _, percent = enter(account, codes, [3, 1, 2, 0], cart)
    assert free.aside is None
    assert free.lines[0].amount.amount == Decimal("1.00")
    assert cent.aside == "nothing on this cart for it to take off"
    assert percent.aside == "the discounts on the cart take more off without it"
    assert (percent.lines, percent.total, percent.dropped) == ((), None, ())
    held = {h.key: h for h in account._holdings.values()}
    assert [held[key].uses for key in ("1.0", "1.1", "1.3")] == [1, 1, 0]
    assert held["1.0"].status is HoldingStatus.OPEN
    # the same request again answers the same
    again = redeem_coupon(account, codes[0], cart, at=LATER, key="use:0")
    assert again.aside == percent.aside
    assert again.lines == ()
    assert redeem_coupon(account, codes[1], cart, at=LATER, key="use:1").aside == cent.aside


def test_set_aside_coupons_come_back_when_the_best_set_includes_them() -> None:
    account, codes = coupons(ONE_PERCENT, FREE_SER, {"kind": "free_shipping"})
    cart = basket(("SER", "1.00")) | {"shipping": "4.90"}
    free, _, percent = enter(account, codes, [1, 2, 0], cart)
    assert percent.aside is not None
    void_redemption(account, free.entry.id, at=LATER, key="void", cart=cart)
    assert on_cart(account) == {"L0": Decimal("0.01")}  # the 1% set aside, back
    assert {r.coupon for r in account.redemptions("C-1") if r.in_use} == {"1.0", "1.2"}


def test_an_exclusive_coupon_entered_first_gives_way_to_a_better_pair() -> None:
    """Two stackable coupons worth more together than an exclusive one: entered in
    any order, the pair stays (refusing one of them at entry would lose it)."""
    exclusive = coupon({"kind": "amount_off", "amount": "10.00"}, group="solo")
    seven = {"kind": "amount_off", "amount": "7.00"}
    six = {"kind": "amount_off", "amount": "6.00"}
    groups = {"groups": [{"id": "solo", "mode": "exclusive"}]}
    cart = basket(("X", "50.00"))
    for order in ([0, 1, 2], [2, 0, 1], [0, 2, 1], [1, 2, 0]):
        account, codes = coupons(exclusive, seven, six, **groups)
        enter(account, codes, order, cart)
        assert on_cart(account) == {"L0": Decimal("13.00")}, order
        in_use = {r.coupon for r in account.redemptions("C-1") if r.in_use}
        assert in_use == {"1.1", "1.2"}


def test_a_coupon_that_takes_nothing_even_alone_is_refused() -> None:
    account, codes = coupons(FREE_SER, {"kind": "amount_off", "amount": "5.00"})
    with pytest.raises(RedemptionRefused, match="add one of SER to your cart"):
        redeem_coupon(account, codes[0], basket(("X", "4.00")), at=LATER, key="k0")
    assert account.redemptions("C-1") == ()
    gift_cards_only = basket(("X", "4.00")) | {
        "lines": [{"id": "L0", "sku": "X", "unit_price": "4.00", "quantity": 1,
                   "discount": "4.00"}]
    }
    with pytest.raises(RedemptionRefused, match="nothing on this cart for it to take off"):
        redeem_coupon(account, codes[1], gift_cards_only, at=LATER, key="k1")
    assert account.redemptions("C-1") == ()


def test_a_coupon_set_aside_and_entered_again_applies_when_it_has_room() -> None:
    account, codes = coupons(CENT, FREE_SER)
    small = basket(("SER", "1.00"))
    _, cent = enter(account, codes, [1, 0], small)
    assert cent.aside is not None
    bigger = basket(("SER", "1.00"), ("X", "2.00"))
    again = redeem_coupon(account, codes[0], bigger, at=LATER, key="again")
    assert again.aside is None
    assert again.total is not None
    assert on_cart(account) == {"L0": Decimal("1.00"), "L1": Decimal("0.01")}
    assert [r.coupon for r in account.redemptions("C-1") if r.in_use].count("1.0") == 1


def test_voiding_the_only_coupon_in_use_brings_back_one_set_aside() -> None:
    """The free SER is the best set; the 1% waits aside. Voiding the free SER leaves
    no discount in use, and the 1% comes back all the same."""
    account, codes = coupons(FREE_SER, ONE_PERCENT)
    cart = basket(("SER", "1.00"))
    free, percent = enter(account, codes, [0, 1], cart)
    assert free.aside is None
    assert percent.aside is not None
    assert on_cart(account) == {"L0": Decimal("1.00")}
    void_redemption(account, free.entry.id, at=LATER, key="void", cart=cart)
    assert on_cart(account) == {"L0": Decimal("0.01")}
    assert {r.coupon for r in account.redemptions("C-1") if r.in_use} == {"1.1"}


def test_a_coupon_set_aside_that_the_customer_removes_stays_off() -> None:
    account, codes = coupons(FREE_SER, ONE_PERCENT)
    cart = basket(("SER", "1.00"))
    free, percent = enter(account, codes, [0, 1], cart)
    assert percent.aside is not None
    removed = void_redemption(account, percent.entry.id, at=LATER, key="void-p", cart=cart)
    assert (removed.restacked, removed.key, removed.points) == (False, "void-p", 0)
    assert void_redemption(account, percent.entry.id, at=LATER, key="void-p", cart=cart) == removed
    assert void_redemption(account, percent.entry.id, at=LATER, key="other") == removed
    replayed = redeem_coupon(account, codes[1], cart, at=LATER, key="use:1")
    assert (replayed.aside, replayed.entry) == (percent.aside, percent.entry)
    void_redemption(account, free.entry.id, at=LATER, key="void-f", cart=cart)
    assert on_cart(account) == {}
    assert all(not r.in_use for r in account.redemptions("C-1"))
    held = {h.key: h for h in account._holdings.values()}
    assert [held[key].uses for key in ("1.0", "1.1")] == [1, 1]


def test_a_completed_order_gets_the_set_aside_coupon_its_quote_showed() -> None:
    catalog = [{"id": "b", "trigger": {"event": "manual"},
                "grants": [coupon(CENT), coupon(FREE_SER)]}]
    prog = program(timezone="UTC", stacking={}, incentives={"catalog": catalog},
                   offers={"catalog": [{"id": "half", "kind": "amount_off", "amount": "0.50"}]})
    account = open_account(prog, "m-1", enrolled_at=T0)
    occasion = Occasion(TriggerKind.MANUAL, "manual:b", T0, only="b")
    (grant,) = fire(account, occasion, at=T0, shared=Shared(MemoryRows())).grants
    codes = [h.code or "" for h in grant.holdings]
    _, cent = enter(account, codes, [1, 0], basket(("SER", "1.00")))
    assert cent.aside is not None
    bigger = basket(("SER", "1.00"), ("X", "2.00"))
    shown = quote(account, bigger, at=LATER)
    assert shown.stack is not None
    done = complete_order(account, bigger, at=LATER, key="order")
    assert done.earn is not None
    assert done.earn.basis == shown.earn.basis == Money("1.49", "USD")
    assert done.order.amount == Money("1.49", "USD")
    written = {(r.coupon or r.offer, r.discounts) for r in account.redemptions("C-1") if r.in_use}
    expected = {(a.candidate.name if a.candidate.source == "offer" else a.id.split(":")[1],
                 a.lines) for a in shown.stack.applied}
    assert written == expected
    assert account._holdings["1.0"].uses == 0


def test_per_order_counts_coupons_set_aside_so_no_more_come_back() -> None:
    three = coupon({"kind": "amount_off", "amount": "3.00"})
    catalog = [
        {"id": "a", "trigger": {"event": "manual"}, "limits": {"per_order": 1},
         "grants": [three, three]},
        {"id": "d", "trigger": {"event": "manual"},
         "grants": [coupon({"kind": "amount_off", "amount": "10.00"}, group="solo")]},
    ]
    prog = program(timezone="UTC", stacking={"groups": [{"id": "solo", "mode": "exclusive"}]},
                   incentives={"catalog": catalog})
    account = open_account(prog, "m-1", enrolled_at=T0)
    shared = Shared(MemoryRows())
    codes: list[str] = []
    for name in ("a", "d"):
        occasion = Occasion(TriggerKind.MANUAL, f"manual:{name}", T0, only=name)
        (grant,) = fire(account, occasion, at=T0, shared=shared).grants
        codes += [h.code or "" for h in grant.holdings]
    cart = basket(("X", "50.00"))
    solo, first = enter(account, codes, [2, 0], cart)
    assert first.aside is not None
    with pytest.raises(RedemptionRefused, match="at most 1 of these coupons per order"):
        redeem_coupon(account, codes[1], cart, at=LATER, key="use:1")
    void_redemption(account, solo.entry.id, at=LATER, key="void", cart=cart)
    assert on_cart(account) == {"L0": Decimal("3.00")}
    assert {r.coupon for r in account.redemptions("C-1") if r.in_use} == {"1.0"}
