"""The store codec: entries and snapshots as JSON-safe values, and back.

Every entry kind and every snapshot survives ``json.dumps``/``json.loads`` and
decodes equal to the original; the stored form never names the member, so
decoding under a pseudonym gives the entries and the state a replay of the
pseudonymised journal gives; malformed ids and data are refused. Random
histories (ledger operations, tiers, checkouts with rewards and refunds, bonus
actions) check the same on every entry and on the snapshot after every step.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import fields, replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from loyalty import (
    Account,
    Allocation,
    Earn,
    EntryKind,
    LoyaltyError,
    Money,
    Program,
    Redeem,
    Snapshot,
    adjust,
    advance,
    assign_tier,
    award_action,
    complete_order,
    earn,
    open_account,
    record_order,
    record_refund,
    redeem,
    redeem_reward,
    refund_order,
    replay,
    reverse,
    review_member,
    verify,
    void_redemption,
)
from loyalty.checkout.cashback import spend_cashback
from loyalty.checkout.coupons import redeem_coupon
from loyalty.incentives.config import TriggerKind
from loyalty.incentives.holdings import choose, settle_due
from loyalty.incentives.issue import fire
from loyalty.incentives.plan import Occasion
from loyalty.incentives.shared import MemoryRows, Shared
from loyalty.ledger.entries import HoldingKind
from loyalty.store.codec import decode_entry, decode_snapshot, encode_entry, encode_snapshot
from loyalty.tiers.window import Metrics
from tests.builders import SPEND_LADDER, T0, days, ladder, program, usd
from tests.test_checkout_properties import carts, earnings, rewards, try_redeem

MEMBER = "member-Qx7"  # appears nowhere else in the histories below
PSEUDONYM = "erased-0042"
HOUR = timedelta(hours=1)


def stored(value: dict[str, Any]) -> dict[str, Any]:
    """What a store gives back: the value through JSON text."""
    text = json.dumps(value)
    loaded: dict[str, Any] = json.loads(text)
    assert loaded == value
    return loaded


def round_trips(account: Account) -> None:
    """Every entry and the snapshot of ``account`` decode equal, and never name the member."""
    member = account.member_id
    for entry in account.journal:
        encoded = encode_entry(entry)
        assert member not in json.dumps(encoded), entry
        assert decode_entry(stored(encoded), member) == entry
    snapshot = account.snapshot()
    encoded_snapshot = encode_snapshot(snapshot, member)
    assert member not in json.dumps(encoded_snapshot)
    assert decode_snapshot(stored(encoded_snapshot), member) == snapshot


def under_pseudonym(account: Account) -> None:
    """Decoded under a pseudonym, the journal replays to the decoded snapshot."""
    entries = [decode_entry(stored(encode_entry(e)), PSEUDONYM) for e in account.journal]
    snapshot = decode_snapshot(
        stored(encode_snapshot(account.snapshot(), account.member_id)), PSEUDONYM
    )
    rebuilt = replay(
        account.program, PSEUDONYM, entries, at=account.clock, enrolled_at=account.enrolled_at
    )
    assert rebuilt.snapshot() == snapshot
    assert all(entry.member_id == PSEUDONYM for entry in entries)


# ----------------------------------------------------------------- examples


def shop() -> Program:
    """Tiers, rewards, bonus actions, pending points and fixed expiry."""
    return program(
        pending={"period": "1 day"},
        expiry={"policy": "fixed", "after": "30 days"},
        earning={"actions": {"signup": {"points": 500}, "birthday": {"points": 50}}},
        rewards={
            "catalog": [
                {"id": "five-off", "kind": "amount_off", "cost": 100, "amount": "5.00"},
                {"id": "ship", "kind": "free_shipping", "cost": 50},
            ]
        },
        tiers=ladder(*SPEND_LADDER, grace="30 days"),
        incentives={
            "catalog": [
                {
                    "id": "welcome",
                    "trigger": {"event": "enrolled"},
                    "grants": [
                        {"kind": "coupon", "offer": {"kind": "amount_off", "amount": "5.00"},
                         "valid": {"within": "30 days"}},
                        {"kind": "cashback", "amount": "7.50", "valid": {"within": "20 days"}},
                        {"kind": "points", "points": 10},
                        {"kind": "one_of", "grants": [
                            {"kind": "gift", "sku": "S0", "value": "9.00"},
                            {"kind": "gift", "sku": "S1", "value": "4.00"},
                        ]},
                    ],
                }
            ]
        },
    )


def cart(cart_id: str, *prices: str, member: str = MEMBER) -> dict[str, Any]:
    lines = [
        {"id": f"L{n}", "sku": f"S{n}", "unit_price": price, "quantity": 2}
        for n, price in enumerate(prices)
    ]
    return {
        "id": cart_id,
        "member_id": member,
        "currency": "USD",
        "lines": lines,
        "shipping": "4.99",
    }


def every_kind(member: str = MEMBER) -> Account:
    """An account whose journal holds an entry of every kind."""
    account = open_account(shop(), member)
    award_action(account, "signup", at=T0, key="signup")
    basket = cart("c-1", "30.00", "12.50", member=member)
    redeem_reward(account, "five-off", basket, at=T0, key="reward")
    redeem_reward(account, "ship", basket, at=T0, key="shipping")
    complete_order(account, basket, at=T0, key="order")
    refund_order(account, "c-1", at=T0 + days(2), key="refund", lines={"L0": 1})
    refund_order(account, "c-1", at=T0 + days(3), key="refund-all")
    earned = earn(account, points=40, at=T0 + days(4), key="earn", source="o-7")
    reverse(account, earned.id, points=15, at=T0 + days(4), key="reverse")
    redeem(account, 30, at=T0 + days(6), key="redeem", source="o-8")
    abandoned = redeem_reward(account, "five-off", cart("c-2", "30.00", "12.50", member=member),
                              at=T0 + days(6), key="abandoned")
    void_redemption(account, abandoned.entry.id, at=T0 + days(6), key="void")
    adjust(account, 25, at=T0 + days(6), key="credit", reason="goodwill", actor="agent-1")
    adjust(account, -5, at=T0 + days(6), key="debit", reason="correction", actor="agent-1")
    record_order(account, "o-9", usd("600.00"), at=T0 + days(7), key="o-9")
    record_refund(account, "o-9", usd("600.00"), at=T0 + days(8), key="o-9-refund")
    assign_tier(
        account,
        "Silver",
        at=T0 + days(9),
        key="assign",
        reason="vip",
        actor="agent-2",
        until=T0 + days(100),
    )
    earn(account, points=5, at=T0 + days(5), key="late")  # a late webhook: occurred_at
    rows = Shared(MemoryRows())
    welcome = Occasion(TriggerKind.ENROLLED, "enrolled", T0 + days(10))
    (grant,) = fire(account, welcome, at=T0 + days(10), shared=rows).grants
    coupon = next(h for h in grant.holdings if h.kind is HoldingKind.COUPON)
    choice = next(h for h in grant.holdings if h.kind is HoldingKind.CHOICE)
    choose(account, choice.key, "S0", at=T0 + days(10), key="choose", shared=rows)
    basket = cart("c-3", "30.00", member=member)
    redeem_coupon(account, coupon.code or "", basket, at=T0 + days(10), key="coupon")
    spend_cashback(account, basket, at=T0 + days(10), key="cashback", amount=usd("2.50"))
    settle_due(account, T0 + days(45), rows)  # what is left of the credit expires
    advance(account, T0 + days(120))
    review_member(account, datetime(2027, 1, 1, tzinfo=UTC))
    assert verify(account) == []
    return account


def test_every_entry_kind_round_trips_without_naming_the_member() -> None:
    account = every_kind()
    assert {entry.kind for entry in account.journal} == set(EntryKind)
    round_trips(account)


def test_the_stored_form_holds_ids_as_sequence_numbers() -> None:
    account = every_kind()
    spent = next(e for e in account.journal if isinstance(e, Redeem) and e.allocation)
    encoded = stored(encode_entry(spent))
    assert encoded["seq"] == spent.seq
    assert "id" not in encoded
    assert "member_id" not in encoded
    assert encoded["kind"] == "redeem"
    assert [part["lot_id"] for part in encoded["allocation"]] == [
        int(part.lot_id.rsplit(":", 1)[1]) for part in spent.allocation
    ]


def test_entries_decode_under_a_pseudonym_with_ids_of_the_pseudonym() -> None:
    account = every_kind()
    for entry in account.journal:
        decoded = decode_entry(stored(encode_entry(entry)), PSEUDONYM)
        assert decoded.id == f"{PSEUDONYM}:{entry.seq}"
        assert decoded.member_id == PSEUDONYM
        # the same entry once its ids name the pseudonym (reasons never name the member here)
        assert repr(decoded) == repr(entry).replace(MEMBER, PSEUDONYM)
        assert decode_entry(stored(encode_entry(decoded)), MEMBER) == entry
    under_pseudonym(account)


def unhashed(value: Any) -> Any:
    """``value`` without request fingerprints (hashes of requests, carts hold the member id)
    and coupon codes (drawn at random for each coupon)."""
    if isinstance(value, dict):
        return {
            key: unhashed(item) for key, item in value.items() if key not in ("fingerprint", "code")
        }
    if isinstance(value, list):
        return [unhashed(item) for item in value]
    return value


def test_the_same_history_of_another_member_stores_the_same_form() -> None:
    one, other = every_kind(MEMBER), every_kind("someone-else")
    assert unhashed([encode_entry(e) for e in one.journal]) == unhashed(
        [encode_entry(e) for e in other.journal]
    )
    assert unhashed(encode_snapshot(one.snapshot(), MEMBER)) == unhashed(
        encode_snapshot(other.snapshot(), "someone-else")
    )


def test_ids_of_another_member_or_not_of_the_form_are_refused() -> None:
    entry = next(e for e in every_kind().journal if isinstance(e, Redeem) and e.allocation)
    for lot_id in ("someone:1", f"{MEMBER}:01", f"{MEMBER}:x", f"{MEMBER}:-1", f"{MEMBER}:", "7"):
        bad = replace(entry, allocation=(Allocation(lot_id, entry.points),))
        with pytest.raises(ValueError, match="is not of the form"):
            encode_entry(bad)
    with pytest.raises(ValueError, match="is not"):
        encode_entry(replace(entry, id=f"{MEMBER}:{entry.seq + 1}"))
    snapshot = every_kind().snapshot()
    lot = replace(snapshot.lots[0], id="someone:1")
    with pytest.raises(ValueError, match="is not of the form"):
        encode_snapshot(replace(snapshot, lots=(lot,)), MEMBER)


def test_malformed_stored_data_is_refused() -> None:
    entry = every_kind().journal[1]
    encoded = stored(encode_entry(entry))
    broken: list[dict[str, Any]] = [
        {**encoded, "seq": "2"},
        {**encoded, "seq": -1},
        {**encoded, "kind": "gift"},
        {**encoded, "surprise": 1},
        {**encoded, "id": f"{MEMBER}:2"},
        {**encoded, "member_id": MEMBER},
        {key: value for key, value in encoded.items() if key != "at"},
        {**encoded, "at": "yesterday"},
        {key: value for key, value in encoded.items() if key != "kind"},
    ]
    for data in broken:
        with pytest.raises(ValueError, match="not a stored entry"):
            decode_entry(data, MEMBER)
    assert decode_entry(encoded, MEMBER) == entry
    with pytest.raises(ValueError, match="not a stored snapshot"):
        decode_snapshot({"balance": {}}, MEMBER)


def test_money_decimals_and_datetimes_come_back_exact() -> None:
    """Decimal exponents, currencies without minor units and non-UTC offsets survive."""
    instant = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=timezone(timedelta(hours=-5)))
    snapshot = replace(
        every_kind().snapshot(),
        clock=instant,
        tier_days=(
            (date(2026, 1, 1), Metrics(points=3, spend=Decimal("5.0"), orders=1)),
            (date(2026, 1, 2), Metrics(spend=Decimal("5.00"))),
            (date(2026, 1, 3), Metrics(spend=Decimal("-1E+2"))),
            (date(2026, 1, 4), Metrics(spend=Decimal("0.00"))),
        ),
    )
    snapshot = replace(
        snapshot,
        orders=(
            (
                "o-jpy",
                replace(
                    snapshot.orders[0][1], amount=Money("1250", "JPY"), refunded=Money("0", "JPY")
                ),
            ),
        ),
    )
    decoded = decode_snapshot(stored(encode_snapshot(snapshot, MEMBER)), MEMBER)
    assert decoded == snapshot
    assert decoded.clock is not None
    assert decoded.clock.utcoffset() == timedelta(hours=-5)
    spends = [metrics.spend.as_tuple() for _, metrics in decoded.tier_days]
    assert spends == [metrics.spend.as_tuple() for _, metrics in snapshot.tier_days]
    amount = decoded.orders[0][1].amount
    assert (amount.amount.as_tuple(), amount.currency) == (Decimal("1250").as_tuple(), "JPY")


def test_an_entry_type_the_codec_does_not_know_is_refused() -> None:
    class Odd(Earn):
        pass

    entry = every_kind().journal[0]
    assert isinstance(entry, Earn)
    odd = Odd(**{field.name: getattr(entry, field.name) for field in fields(entry)})
    with pytest.raises(ValueError, match="Odd"):
        encode_entry(odd)


# --------------------------------------------------------------- histories

Step = Callable[[Account, datetime], None]


def attempt(operation: Callable[[], object]) -> None:
    """Run an operation a random history may ask for at a bad time (refused: skipped)."""
    try:
        operation()
    except LoyaltyError as error:
        event(f"refused: {type(error).__name__} {str(error)[:70]}")


def earns(account: Account) -> list[Earn]:
    return [entry for entry in account.journal if isinstance(entry, Earn)]


@st.composite
def ledger_steps(draw: st.DrawFn, index: int) -> Step:
    """One ledger operation: earn, redeem, reverse, adjust, a bonus action, time passing."""
    key = f"k{index}"
    kind = draw(st.sampled_from(["earn", "earn", "redeem", "reverse", "adjust", "action", "wait"]))
    if kind == "earn":
        points = draw(st.integers(1, 500))
        amount = draw(st.none() | st.integers(1, 50_000).map(lambda c: Money.from_minor(c, "USD")))
        source = draw(st.none() | st.just(f"o-{index}"))

        def step(account: Account, at: datetime) -> None:
            attempt(
                lambda: earn(
                    account,
                    points=None if amount else points,
                    amount=amount,
                    at=at,
                    key=key,
                    source=source,
                )
            )
    elif kind == "redeem":
        share = draw(st.integers(1, 100))

        def step(account: Account, at: datetime) -> None:
            points = account.balance(at).available * share // 100
            if points:
                attempt(lambda: redeem(account, points, at=at, key=key))
    elif kind == "reverse":
        which, part = draw(st.integers(0, 50)), draw(st.none() | st.integers(1, 100))

        def step(account: Account, at: datetime) -> None:
            left = {e.id: e.points - account.lot(e.id).reversed for e in earns(account)}
            found = [e for e in earns(account) if e.action is None and left[e.id] > 0]
            if found:
                target = found[which % len(found)]  # with a reason: the default names its id
                points = None if part is None else max(1, left[target.id] * part // 100)
                attempt(
                    lambda: reverse(
                        account, target.id, points=points, at=at, key=key, reason="refund"
                    )
                )
    elif kind == "adjust":
        points = draw(st.integers(1, 300) | st.integers(-300, -1))

        def step(account: Account, at: datetime) -> None:
            change = max(points, -account.balance(at).available)
            if change:
                attempt(lambda: adjust(account, change, at=at, key=key, reason="fix", actor="ops"))
    elif kind == "action":
        action = draw(st.sampled_from(["signup", "birthday"]))

        def step(account: Account, at: datetime) -> None:
            attempt(lambda: award_action(account, action, at=at, key=key))
    else:

        def step(account: Account, at: datetime) -> None:
            advance(account, at)

    return step


@st.composite
def tier_steps(draw: st.DrawFn, index: int) -> Step:
    """One tier operation: an order, a refund, a manual assignment or a review."""
    key = f"t{index}"
    kind = draw(st.sampled_from(["order", "order", "refund", "assign", "review"]))
    if kind == "order":
        cents = draw(st.integers(0, 80_000))

        def step(account: Account, at: datetime) -> None:
            attempt(
                lambda: record_order(
                    account, f"r-{index}", Money.from_minor(cents, "USD"), at=at, key=key
                )
            )
    elif kind == "refund":
        which, share = draw(st.integers(0, 50)), draw(st.integers(1, 100))

        def step(account: Account, at: datetime) -> None:
            orders = account.snapshot().orders
            if orders:
                order_id, record = orders[which % len(orders)]
                left = record.amount.minor_units - record.refunded.minor_units
                refund = Money.from_minor(max(1, left * share // 100), "USD")
                attempt(lambda: record_refund(account, order_id, refund, at=at, key=key))
    elif kind == "assign":
        tier = draw(st.sampled_from([name for name, _ in SPEND_LADDER]))
        until = draw(st.none() | st.integers(1, 200))

        def step(account: Account, at: datetime) -> None:
            ends = at + days(until) if until else None
            attempt(
                lambda: assign_tier(
                    account, tier, at=at, key=key, reason="vip", actor="ops", until=ends
                )
            )
    else:

        def step(account: Account, at: datetime) -> None:
            attempt(lambda: review_member(account, at))

    return step


@st.composite
def checkout_steps(draw: st.DrawFn, index: int) -> Step:
    """A checkout: a new cart, perhaps a reward redeemed on it, completed; or a refund."""
    key = f"c{index}"
    if draw(st.booleans()):
        basket = {**draw(carts(f"cart-{index}")), "member_id": MEMBER}
        reward = draw(
            st.none()
            | st.sampled_from(
                ["amount-off", "percent-off", "free-shipping", "free-product", "pay-with-points"]
            )
        )

        def step(account: Account, at: datetime) -> None:
            if reward is not None:
                try_redeem(account, reward, basket, at, f"{key}-reward")
            attempt(lambda: complete_order(account, basket, at=at, key=key))

        return step
    which = draw(st.integers(0, 50))
    whole, units = draw(st.booleans()), draw(st.integers(1, 5))

    def refund(account: Account, at: datetime) -> None:
        orders = [order_id for order_id, _ in account.snapshot().orders]
        if orders:
            order_id = orders[which % len(orders)]
            record = account.order(order_id)
            assert record is not None
            if record.fully_refunded:
                return
            line = record.lines[which % len(record.lines)] if record.lines else None
            left = line.quantity - record.units_refunded(line.line) if line else 0
            lines = None if whole or line is None or not left else {line.line: min(units, left)}
            attempt(lambda: refund_order(account, order_id, at=at, key=key, lines=lines))

    return refund


def play(
    data: st.DataObject,
    account: Account,
    steps: Callable[[int], st.SearchStrategy[Step]],
    count: int,
) -> Iterator[None]:
    """Play ``count`` random steps, an hour to weeks apart, yielding after each."""
    at = T0
    for index in range(count):
        at += data.draw(st.sampled_from([0, 1, 5, 30, 24 * 20]), label="hours") * HOUR
        data.draw(steps(index), label=f"step {index}")(account, at)
        yield


def finish(account: Account) -> None:
    """The checks at the end of a history, and what the history held."""
    under_pseudonym(account)
    assert verify(account) == []
    for kind in {entry.kind for entry in account.journal}:
        event(f"journal has {kind}")


def ledger_program(data: st.DataObject, **sections: Any) -> Program:
    return program(
        pending={"period": data.draw(st.sampled_from(["0 days", "2 days", "30 days"]))},
        expiry=data.draw(
            st.sampled_from(
                [
                    {"policy": "none"},
                    {"policy": "fixed", "after": "30 days"},
                    {"policy": "fixed", "after": "1 month", "round_up_to": "month"},
                    {"policy": "inactivity", "after": "40 days"},
                ]
            ),
            label="expiry",
        ),
        clawback=data.draw(st.sampled_from(["negative_balance", "write_off"]), label="clawback"),
        **sections,
    )


SPEND_AND_POINTS: tuple[tuple[str, dict[str, int]], ...] = (
    ("Member", {}),
    ("Silver", {"net_spend": 200, "points": 300}),
    ("Gold", {"net_spend": 500, "points": 800}),
)
ACTIONS = {"signup": {"points": 200}, "birthday": {"points": 20, "times": 2, "per": "year"}}


@given(st.data())
def test_ledger_histories_round_trip(data: st.DataObject) -> None:
    account = open_account(ledger_program(data, earning={"actions": ACTIONS}), MEMBER)
    for _ in play(data, account, ledger_steps, data.draw(st.integers(3, 25), label="steps")):
        round_trips(account)
    finish(account)


@given(st.data())
def test_tier_histories_round_trip(data: st.DataObject) -> None:
    rungs = data.draw(st.sampled_from([SPEND_LADDER, SPEND_AND_POINTS]), label="ladder")
    tiers = ladder(
        *rungs,
        window=data.draw(
            st.sampled_from(["lifetime", "calendar_year", {"rolling": "3 months"}]), label="window"
        ),
        grace="20 days",
        match=data.draw(st.sampled_from(["any", "all"]), label="match"),
    )
    club = ledger_program(data, earning={"actions": ACTIONS}, tiers=tiers)
    account = open_account(club, MEMBER, enrolled_at=T0 - days(data.draw(st.integers(0, 400))))

    def either(index: int) -> st.SearchStrategy[Step]:
        return st.one_of(ledger_steps(index), tier_steps(index))

    for _ in play(data, account, either, data.draw(st.integers(3, 25), label="steps")):
        round_trips(account)
    finish(account)


@given(st.data())
def test_checkout_histories_round_trip(data: st.DataObject) -> None:
    kinds = ("amount_off", "percent_off", "free_shipping", "free_product", "pay_with_points")
    catalog = [data.draw(rewards(kind, hurdled=False), label=kind) for kind in kinds]
    earning = {**data.draw(earnings(), label="earning"), "actions": ACTIONS}
    club = ledger_program(
        data, earning=earning, rewards={"catalog": catalog}, tiers=ladder(*SPEND_LADDER)
    )
    account = open_account(club, MEMBER)
    award_action(account, "signup", at=T0, key="signup")

    def mixed(index: int) -> st.SearchStrategy[Step]:
        return st.one_of(checkout_steps(index), checkout_steps(index), ledger_steps(index))

    for _ in play(data, account, mixed, data.draw(st.integers(3, 12), label="steps")):
        round_trips(account)
    finish(account)
    if any(isinstance(e, Redeem) and e.reward for e in account.journal):
        event("a reward was redeemed")


def test_snapshot_of_a_new_account_round_trips() -> None:
    account = open_account(shop(), MEMBER)
    snapshot: Snapshot = account.snapshot()
    assert decode_snapshot(stored(encode_snapshot(snapshot, MEMBER)), PSEUDONYM) == snapshot
