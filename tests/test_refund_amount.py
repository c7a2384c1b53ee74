"""Refunds by amount: money off a whole order (a goodwill 20.00 on a 100.00 order).

The rounding rule these tests hold the library to (docs/rewards.md, and
``loyalty.checkout.shares``): after any refunds, a line that earned ``p`` points
keeps ``rnd(p x u x V / W)``, where ``u`` is the share of its units left, ``V`` the
money left to refund on the order, ``W`` what the units left are worth at the
order's prices, and ``rnd`` the program's rounding; a redemption's points that paid
for the line keep the same share. Everything is worked out from the order as
refunded so far, so:

* refunds by amount alone keep ``rnd(p x V / amount)`` per line: pieces adding up to
  ``a`` leave exactly the points one refund of ``a`` leaves;
* refunding all that is left, in one piece or the last of many, is a full refund:
  everything earned is taken back, everything spent given back, exactly.

Expected values are worked out by hand in the comments next to them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from loyalty import (
    Account,
    CurrencyMismatch,
    IdempotencyConflict,
    InvalidEvent,
    InvalidInput,
    InvalidMoney,
    LoyaltyService,
    Money,
    RefundResult,
    Return,
    Reverse,
    Rounding,
    Store,
    award_action,
    complete_order,
    open_account,
    redeem_reward,
    refund_order,
    verify,
)
from loyalty.checkout.cashback import spend_cashback
from loyalty.incentives.holdings import holdings, wallet
from loyalty.incentives.shared import MemoryRows, Shared
from loyalty.ledger.account import replay
from loyalty.ledger.entries import Earn, HoldingStatus, Refund
from loyalty.ledger.requests import _fingerprint
from loyalty.money import prorate
from loyalty.store.codec import decode_entry, encode_entry
from tests.builders import T0, days, ladder, program, usd
from tests.test_checkout import cart, funded, line, pay_with_points, rewards
from tests.test_checkout_properties import (
    HOUR,
    carts,
    order_with_redemption,
    programs,
    source_points,
)
from tests.test_codec import stored, under_pseudonym
from tests.test_incentives import AMOUNT, enrolled, new, order_occasion, welcome

# -------------------------------------------------------------------- builders


def paid_with_points(**sections: Any) -> Account:
    """A member (1000 points) who paid 500 points (5.00) on order O-1: one 60.00 unit of
    A and two 20.00 units of B. The 5.00 spreads 3.00 / 2.00 by price, so the lines are
    paid 57.00 and 38.00 (95.00) and earn, at 1 point per USD, 57 and 38 points; the
    500 points split 300 / 200 over them."""
    account = funded(1000, rewards=rewards(pay_with_points()), **sections)
    basket = cart("O-1", line("A", "60.00"), line("B", "20.00", 2))
    redeem_reward(account, "pay", basket, at=T0, key="redeem", points=500)
    done = complete_order(account, basket, at=T0, key="order")
    assert done.earn is not None
    assert [(part.line, part.points) for part in done.earn.lines] == [("A", 57), ("B", 38)]
    assert done.order.amount == usd("95.00")
    return account


def taken(result: RefundResult) -> int:
    return -result.reversal.points if result.reversal is not None else 0


def given_back(result: RefundResult) -> int:
    return sum(entry.points for entry in result.returns)


def totals(account: Account, order_id: str = "O-1") -> tuple[int, int, int]:
    """Points reversed and given back on the order, and the member's net balance."""
    return (
        -source_points(account, order_id, Reverse),
        source_points(account, order_id, Return),
        account.balance().net,
    )


# ------------------------------------------------------------------- examples


def test_a_goodwill_amount_reverses_earned_and_gives_back_spent_points_pro_rata() -> None:
    member = paid_with_points()
    result = refund_order(member, "O-1", at=T0 + days(1), key="goodwill", amount="20.00")
    # 75.00 of 95.00 is left: each line keeps 15/19 of its points, rounded down (floor):
    # A 57 x 15/19 = 45, B 38 x 15/19 = 30, so 20 of 95 come back.
    assert taken(result) == 20
    # Spent: A's 300 keep 236.8 -> 236, B's 200 keep 157.9 -> 157: 64 + 43 = 107 back.
    assert given_back(result) == 107
    assert result.refund.amount == usd("20.00")
    assert result.refund.lines == ()
    assert result.refund.shipping is False
    order = member.order("O-1")
    assert order is not None
    assert order.refunded == usd("20.00")
    assert not order.fully_refunded
    assert verify(member) == []


def test_amount_pieces_add_up_to_one_refund_of_their_sum() -> None:
    apart, together = paid_with_points(), paid_with_points()
    refund_order(apart, "O-1", at=T0 + days(1), key="one", amount="20.00")
    second = refund_order(apart, "O-1", at=T0 + days(2), key="two", amount=Decimal("15"))
    # 60.00 of 95.00 left: A keeps 57 x 12/19 = 36, B 38 x 12/19 = 24; 35 taken in all,
    # 15 by this piece. Spent: 300 keep 189.5 -> 189, 200 keep 126.3 -> 126: 185 back
    # in all, 78 by this piece.
    assert (taken(second), given_back(second)) == (15, 78)
    refund_order(together, "O-1", at=T0 + days(2), key="both", amount=usd("35.00"))
    assert totals(apart) == totals(together) == (35, 185, 1000 - 500 + 95 - 35 + 185)
    # Net spend for tiers is down by the money refunded.
    assert apart.order("O-1") == together.order("O-1")
    assert verify(apart) == verify(together) == []


def test_units_after_an_amount_refund_refund_their_share_of_what_is_left() -> None:
    member = paid_with_points()
    refund_order(member, "O-1", at=T0 + days(1), key="goodwill", amount="35.00")
    result = refund_order(member, "O-1", at=T0 + days(2), key="unit", lines={"B": 1})
    # The units left were worth 95.00, 76.00 without one B (19.00): 60.00 left keeps
    # 60.00 x 76/95 = 48.00, so the unit refunds 12.00.
    assert result.refund.amount == usd("12.00")
    # B keeps 38 x 1/2 x 48/76 = 12 (of 24): 12 taken; A still keeps 57 x 48/76 = 36.
    assert taken(result) == 12
    # B's 200 keep 200 x 1/2 x 48/76 = 63.2 -> 63 (of 126): 63 back.
    assert given_back(result) == 63
    # The rest, 48.00, is all that is left: a full refund, shipping and units included.
    rest = refund_order(member, "O-1", at=T0 + days(3), key="rest", amount="48.00")
    assert {(part.line, part.quantity) for part in rest.refund.lines} == {("A", 1), ("B", 1)}
    assert rest.refund.shipping is True
    assert totals(member) == (95, 500, 1000)
    order = member.order("O-1")
    assert order is not None
    assert order.fully_refunded
    assert verify(member) == []


def test_an_amount_after_a_unit_refund_scales_what_the_other_lines_keep() -> None:
    member = paid_with_points()
    unit = refund_order(member, "O-1", at=T0 + days(1), key="unit", lines={"A": 1})
    assert unit.refund.amount == usd("57.00")
    assert (taken(unit), given_back(unit)) == (57, 300)
    result = refund_order(member, "O-1", at=T0 + days(2), key="goodwill", amount="19.00")
    # 19.00 of the 38.00 left: B keeps half its 38 points and half its 200 spent.
    assert (taken(result), given_back(result)) == (19, 100)
    with pytest.raises(InvalidMoney) as refused:
        refund_order(member, "O-1", at=T0 + days(3), key="over", amount="19.01")
    assert (refused.value.field, refused.value.value) == ("amount", "19.01")
    assert "19.00 USD left" in str(refused.value)
    assert verify(member) == []


def test_refunding_exactly_what_is_left_is_a_full_refund() -> None:
    by_amount, by_default = paid_with_points(), paid_with_points()
    full = refund_order(by_amount, "O-1", at=T0 + days(1), key="all", amount="95.00")
    plain = refund_order(by_default, "O-1", at=T0 + days(1), key="all")
    assert full.refund.amount == plain.refund.amount == usd("95.00")
    assert full.refund.lines == plain.refund.lines
    assert full.refund.shipping is plain.refund.shipping is True
    assert [(e.kind, e.points) for e in by_amount.journal] == [
        (e.kind, e.points) for e in by_default.journal
    ]
    assert totals(by_amount) == totals(by_default) == (95, 500, 1000)
    with pytest.raises(InvalidMoney, match=r"0\.00 USD left"):
        refund_order(by_amount, "O-1", at=T0 + days(2), key="again", amount="0.01")


def test_a_full_refund_by_amount_gives_cashback_back_and_unwinds_the_orders_grants() -> None:
    thanks = {
        "id": "thanks",
        "trigger": {"event": "order_completed"},
        "grants": [AMOUNT, {"kind": "points", "points": 20}],
    }
    prog = program(
        incentives={"catalog": [welcome({"kind": "cashback", "amount": "6.00"}), thanks]}
    )
    account, rows = new(prog), Shared(MemoryRows())
    enrolled(account, rows)
    basket = {**cart("o-1", line("X", "30.00")), "shipping": "0"}
    spend_cashback(account, basket, at=T0, key="pay", amount=usd("6.00"))
    done = complete_order(account, basket, at=T0, key="order")
    assert done.earn is not None
    order_occasion(account, "o-1", str(done.order.amount.amount), T0, rows)
    coupon = next(h for h in holdings(account) if h.incentive == "thanks")
    before = account.balance().available
    half = done.order.amount.times(Decimal("0.5"), Rounding.FLOOR)
    refund_order(account, "o-1", at=T0 + days(1), key="half", amount=half)
    # Half refunded: the cashback spent on the order and the order's coupon stay.
    assert wallet(account, T0 + days(1)).available == usd("0.00")
    assert account._holdings[coupon.key].status is HoldingStatus.OPEN
    rest = done.order.amount - half
    refund_order(account, "o-1", at=T0 + days(1), key="rest", amount=rest)
    assert wallet(account, T0 + days(1)).available == usd("6.00")
    assert account._holdings[coupon.key].status is HoldingStatus.REVOKED
    assert account.balance().available == before - 20 - done.earn.points
    assert verify(account) == []


def test_an_amount_refund_with_shipping_reverses_the_shipping_points_too() -> None:
    member = open_account(program(earning={"rate": 1, "basis": {"shipping": True}}), "m-1")
    basket = {**cart("S-1", line("X", "10.00")), "shipping": "5.00"}
    done = complete_order(member, basket, at=T0, key="order")
    assert done.earn is not None
    # 10.00 of lines (the order's amount: shipping aside) earn 10, the shipping 5.
    assert (done.order.amount, done.earn.shipping_points) == (usd("10.00"), 5)
    result = refund_order(member, "S-1", at=T0, key="gw", amount="2.00", shipping=True)
    assert result.refund.shipping is True
    assert taken(result) == 2 + 5  # 10 x 8/10 = 8 kept of the lines; the shipping's 5
    assert verify(member) == []


def test_an_amount_refund_lowers_the_tier_figures_by_the_money_refunded() -> None:
    member = paid_with_points(tiers=ladder(("Member", {}), ("Gold", {"net_spend": 500})))
    assert member.tiers is not None
    assert member.tiers.metrics(T0).spend == Decimal("95.00")
    refund_order(member, "O-1", at=T0 + days(1), key="goodwill", amount="20.00")
    assert member.tiers.metrics(T0 + days(1)).spend == Decimal("75.00")
    assert member.tiers.metrics(T0 + days(1)).orders == 1
    refund_order(member, "O-1", at=T0 + days(1), key="rest", amount="75.00")
    assert member.tiers.metrics(T0 + days(1)).spend == 0
    assert member.tiers.metrics(T0 + days(1)).orders == 0  # refunded in full: uncounted


def test_a_retried_amount_refund_returns_the_original_and_other_content_conflicts() -> None:
    member = paid_with_points()
    first = refund_order(member, "O-1", at=T0 + days(1), key="gw", amount="20.00")
    length = len(member.journal)
    # The same money, however it is spelled, is the same request.
    for same in ("20", Decimal("20.0"), usd("20.00"), 20):
        assert refund_order(member, "O-1", at=T0 + days(2), key="gw", amount=same) == first
    assert len(member.journal) == length
    for other in ({"amount": "21.00"}, {"lines": {"A": 1}}, {}):
        with pytest.raises(IdempotencyConflict):
            refund_order(member, "O-1", at=T0 + days(2), key="gw", **other)
    assert len(member.journal) == length


def test_a_unit_refund_keeps_its_fingerprint() -> None:
    """A refund by units names no amount in its fingerprint: keys stored before refunds
    by amount existed replay as they did."""
    member = paid_with_points()
    refund_order(member, "O-1", at=T0 + days(1), key="u", lines={"A": 1})
    entry = next(e for e in member.journal if isinstance(e, Refund))
    content = {"order_id": "O-1", "lines": {"A": 1}, "shipping": False, "reason": None}
    assert entry.fingerprint == _fingerprint("refund_order", content)
    assert entry.fingerprint != _fingerprint("refund_order", {**content, "amount": None})


@pytest.mark.parametrize(
    ("amount", "error", "field"),
    [
        ("0", InvalidMoney, "amount"),
        ("0.00", InvalidMoney, "amount"),
        ("-5.00", InvalidMoney, "amount"),
        (usd("-1.00"), InvalidMoney, "amount"),
        ("95.01", InvalidMoney, "amount"),
        ("1.001", InvalidMoney, "amount"),
        (1.5, InvalidMoney, "amount"),
        ("ten", InvalidMoney, "amount"),
        (True, InvalidMoney, "amount"),
    ],
)
def test_a_bad_amount_is_refused_by_name_and_writes_nothing(
    amount: object, error: type[InvalidInput], field: str
) -> None:
    member = paid_with_points()
    journal = member.journal
    with pytest.raises(error) as refused:
        refund_order(member, "O-1", at=T0 + days(1), key="bad", amount=amount)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert refused.value.value == amount
    assert member.journal == journal
    assert verify(member) == []


def test_an_amount_with_lines_or_in_another_currency_is_refused() -> None:
    member = paid_with_points()
    journal = member.journal
    with pytest.raises(InvalidInput) as refused:
        refund_order(member, "O-1", at=T0, key="both", amount="1.00", lines={"A": 1})
    assert (refused.value.field, refused.value.value) == ("amount", "1.00")
    with pytest.raises(CurrencyMismatch):
        refund_order(member, "O-1", at=T0, key="eur", amount=Money("1.00", "EUR"))
    assert member.journal == journal


def test_a_late_amount_refund_is_written_at_the_clock_like_a_late_unit_refund() -> None:
    late = paid_with_points(earning={"actions": {"visit": {"points": 1}}})
    timely = paid_with_points(earning={"actions": {"visit": {"points": 1}}})
    award_action(late, "visit", at=T0 + days(10), key="visit")
    award_action(timely, "visit", at=T0 + days(10), key="visit")
    result = refund_order(late, "O-1", at=T0 + days(5), key="gw", amount="20.00")
    assert result.refund.at == T0 + days(10)
    assert result.refund.occurred_at == T0 + days(5)
    assert result.reversal is not None
    assert result.reversal.at == T0 + days(10)
    refund_order(timely, "O-1", at=T0 + days(10), key="gw", amount="20.00")
    assert totals(late) == totals(timely)
    assert verify(late) == []


def test_amount_refunds_are_stored_as_plain_refunds_and_replay() -> None:
    """A refund by amount is a ``Refund`` without lines: the stored form every journal
    already has (``record_refund`` writes the same), so the codec is unchanged and old
    journals read as before."""
    member = paid_with_points()
    refund_order(member, "O-1", at=T0 + days(1), key="gw", amount="20.00")
    refund_order(member, "O-1", at=T0 + days(2), key="unit", lines={"B": 1})
    refund_order(member, "O-1", at=T0 + days(3), key="rest", amount=left_of(member, "O-1"))
    goodwill = next(e for e in member.journal if isinstance(e, Refund))
    assert "lines" not in encode_entry(goodwill)
    for entry in member.journal:
        assert decode_entry(stored(encode_entry(entry)), member.member_id) == entry
    under_pseudonym(member)
    rebuilt = replay(member.program, member.member_id, member.journal, at=member.clock)
    assert rebuilt.snapshot() == member.snapshot()


# -------------------------------------------------------------------- service


@pytest.fixture
def service(store: Store) -> LoyaltyService:
    thanks = {
        "id": "thanks",
        "trigger": {"event": "order_completed"},
        "grants": [{"kind": "cashback", "percent": 10}],
    }
    prog = program(earning={"rate": 1}, incentives={"catalog": [thanks]})
    return LoyaltyService(prog, store)


def refunded(key: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": "order_refunded",
        "member_id": "m-1",
        "key": key,
        "at": (T0 + days(1)).isoformat(),
        "order_id": "o-1",
        **fields,
    }


def test_an_order_refunded_event_by_amount_on_every_store(service: LoyaltyService) -> None:
    service.enrol("m-1", at=T0)
    basket = {**cart("o-1", line("A", "50.00"), line("B", "50.00")), "shipping": "0"}
    service.handle({"type": "order_completed", "member_id": "m-1", "key": "o", "at": T0,
                    "cart": basket})
    assert service.wallet("m-1", T0).credited == usd("10.00")
    service.spend_cashback(
        "m-1", cart("o-2", line("X", "3.00")), at=T0, key="pay", amount=usd("3.00")
    )
    from loyalty import load_event_json

    text = (
        '{"type": "order_refunded", "member_id": "m-1", "key": "gw", "order_id": "o-1",'
        f' "at": "{(T0 + days(1)).isoformat()}", "amount": 20.00}}'
    )
    result = service.handle(load_event_json(text))
    assert isinstance(result, RefundResult)
    assert result.refund.amount == usd("20.00")
    assert taken(result) == 20  # 100 points, 80.00 of 100.00 kept: 80
    # The cashback follows the 80% kept: 8.00 of 10.00; 3.00 spent, 5.00 left.
    assert service.wallet("m-1", T0 + days(1)).available == usd("5.00")
    # A redelivery (the amount spelled another way) returns the original.
    assert service.handle(refunded("gw", amount="20")) == result
    with pytest.raises(IdempotencyConflict):
        service.handle(refunded("gw", amount="25.00"))
    with pytest.raises(InvalidMoney) as over:
        service.handle(refunded("over", amount="80.01"))
    assert over.value.field == "amount"
    with pytest.raises(InvalidEvent) as both:
        service.handle(refunded("both", amount="1.00", lines={"A": 1}))
    assert [problem.path for problem in both.value.problems] == ["amount"]
    with pytest.raises(InvalidEvent) as zero:
        service.handle(refunded("zero", amount="0"))
    assert [problem.path for problem in zero.value.problems] == ["amount"]
    # A unit refund after the amount: A is half of what is left, 40.00.
    unit = service.handle(refunded("unit", lines={"A": 1}))
    assert isinstance(unit, RefundResult)
    assert unit.refund.amount == usd("40.00")
    rest = service.handle(refunded("rest", amount="40.00"))
    assert isinstance(rest, RefundResult)
    assert rest.refund.shipping is True
    balance = service.balance("m-1")
    assert balance.reversed == 100
    assert service.wallet("m-1", T0 + days(1)).available == usd("0.00")
    assert service.verify("m-1") == []


# ----------------------------------------------------------------- properties


def amount_or_units(cart: dict[str, Any]) -> st.SearchStrategy[tuple[str, Any]]:
    """One partial refund: a share (in thousandths) of the money left, or some units."""
    refs = [item["id"] for item in cart["lines"]]
    return st.one_of(
        st.tuples(st.just("amount"), st.integers(1, 999)),
        st.tuples(
            st.just("units"), st.dictionaries(st.sampled_from(refs), st.integers(1, 5), min_size=1)
        ),
    )


def left_of(account: Account, order_id: str = "C-1") -> Money:
    order = account.order(order_id)
    assert order is not None
    return order.amount - order.refunded


def part_of(left: Money, thousandths: int) -> Money:
    return Money.from_minor(left.minor_units * thousandths // 1000, left.currency)


@given(st.data())
def test_refunds_by_amount_and_units_never_create_points(data: st.DataObject) -> None:
    prog = data.draw(programs(hurdled=False), label="program")
    cart = data.draw(carts("C-1"), label="cart")
    account, before, spent, earned = order_with_redemption(data, prog, cart)
    at = T0 + HOUR
    steps = data.draw(st.lists(amount_or_units(cart), min_size=1, max_size=6), label="refunds")
    kinds = set()
    for index, (kind, what) in enumerate(steps):
        order = account.order("C-1")
        assert order is not None
        if kind == "amount":
            amount = part_of(left_of(account), what)
            if not amount:
                continue
            refund_order(account, "C-1", at=at, key=f"refund-{index}", amount=amount)
        else:
            lines = order.lines
            unrefunded = {ln.line: ln.quantity - order.units_refunded(ln.line) for ln in lines}
            units = {ref: min(n, unrefunded[ref]) for ref, n in what.items() if unrefunded[ref]}
            if not units:
                continue
            refund_order(account, "C-1", at=at, key=f"refund-{index}", lines=units)
        kinds.add(kind)
        at += HOUR
        reversed_, returned, net = totals(account, "C-1")
        assert 0 <= reversed_ <= earned
        assert 0 <= returned <= spent
        assert net <= before + earned - reversed_
        assert verify(account) == []
    event(" and ".join(sorted(kinds)) or "no partial refund")
    order = account.order("C-1")
    assert order is not None
    if not order.fully_refunded:
        left = left_of(account)
        if left and data.draw(st.booleans(), label="rest by amount"):
            refund_order(account, "C-1", at=at, key="rest", amount=left)
        else:
            refund_order(account, "C-1", at=at, key="rest")
    assert totals(account, "C-1") == (earned, spent, before)
    assert verify(account) == []


@given(st.data())
def test_amount_pieces_keep_exactly_what_one_refund_of_their_sum_keeps(
    data: st.DataObject,
) -> None:
    prog = data.draw(programs(hurdled=False), label="program")
    cart = data.draw(carts("C-1"), label="cart")
    # Thousandths of what is left; 1000 (all of it) ends the pieces with a full refund.
    fraction = st.one_of(st.integers(1, 999), st.just(1000))
    shares = data.draw(st.lists(fraction, min_size=1, max_size=5), label="pieces")
    apart, before, spent, earned = order_with_redemption(data, prog, cart)
    record = apart.order("C-1")
    assert record is not None
    whole = record.amount
    pieces: list[Money] = []
    for index, thousandths in enumerate(shares):
        piece = part_of(left_of(apart), thousandths)
        if not piece:
            continue
        refund_order(apart, "C-1", at=T0 + 2 * HOUR, key=f"piece-{index}", amount=piece)
        pieces.append(piece)
    total = sum(pieces, Money.zero(whole.currency))
    # The twin: the same program, cart and redemptions, one refund of the sum.
    together = twin(apart, cart)
    if total:
        refund_order(together, "C-1", at=T0 + 2 * HOUR, key="sum", amount=total)
    assert totals(apart, "C-1") == totals(together, "C-1")
    # The rule, stated exactly: each line keeps rnd(points x left / amount).
    earns = [e for e in apart.journal if isinstance(e, Earn) and e.source == "C-1"]
    if earns and total != whole:
        left = (whole - total).minor_units
        kept = sum(
            prorate(part.points, left, whole.minor_units, prog.rounding)
            for part in earns[0].lines
        )
        assert totals(apart, "C-1")[0] == earned - earns[0].shipping_points - kept
    event("whole order in pieces" if total and total == whole else "part of the order")
    if total and total == whole:  # an order of 0.00 has no money to refund
        assert totals(apart, "C-1") == (earned, spent, before)
        full = twin(apart, cart)
        refund_order(full, "C-1", at=T0 + 2 * HOUR, key="full")
        assert totals(full, "C-1") == totals(apart, "C-1")
    assert verify(apart) == verify(together) == []


def twin(account: Account, cart: dict[str, Any]) -> Account:
    """A fresh account replaying ``account``'s journal up to the order (same program,
    same redemptions and order)."""
    refunds = [i for i, e in enumerate(account.journal) if isinstance(e, Refund)]
    entries = account.journal[: refunds[0]] if refunds else account.journal
    return replay(account.program, account.member_id, entries, at=entries[-1].at)


def test_a_refund_of_an_order_refunded_in_full_names_the_order_not_its_lines() -> None:
    account = paid_with_points()
    refund_order(account, "O-1", at=T0 + HOUR, key="all")
    with pytest.raises(InvalidInput) as again:
        refund_order(account, "O-1", at=T0 + 2 * HOUR, key="again")
    assert str(again.value) == (
        "order_id: 'O-1' has nothing left to refund: it is cancelled or refunded in full"
    )
    with pytest.raises(InvalidInput, match=r"^lines: \{\} names nothing to refund of order"):
        refund_order(paid_with_points(), "O-1", at=T0 + HOUR, key="none", lines={})
