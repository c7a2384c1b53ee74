"""What the ledger works out once instead of on every event: the expiry calendar, the
request fingerprint, and the balance counters; each checked against the plain way."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty import Balance, IdempotencyConflict, complete_order, load_cart
from loyalty.dates import Duration, Period, end_of
from loyalty.ledger.calendar import Calendar
from loyalty.ledger.records import KeyRecord
from loyalty.ledger.requests import _fingerprint, _legacy_fingerprint, canonical
from loyalty.ledger.undo import Tally
from tests.builders import SPEND_LADDER, T0, account, days, ladder, program

NAIVE_START = datetime(2020, 1, 1)  # noqa: DTZ001 - hypothesis bounds are naive
NAIVE_END = datetime(2030, 12, 31)  # noqa: DTZ001
ZONES = ["UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "America/Santiago"]


def expected_expiry(after: Duration, rounding: Period | None, at: datetime, zone: str) -> datetime:
    """The plain way: the duration on the local calendar, then the end of the period."""
    expires = after.after(at, ZoneInfo(zone))
    return end_of(rounding, expires, ZoneInfo(zone)) if rounding else expires


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    months=st.integers(0, 30),
    day_count=st.integers(0, 400),
    hours=st.sampled_from([0, 0, 0, 5, 23]),
    rounding=st.sampled_from([None, *Period]),
    instants=st.lists(
        st.datetimes(NAIVE_START, NAIVE_END, timezones=st.just(UTC)),
        min_size=1,
        max_size=12,
    ),
)
def test_the_calendar_gives_the_expiry_the_policy_defines(
    zone: str,
    months: int,
    day_count: int,
    hours: int,
    rounding: Period | None,
    instants: list[datetime],
) -> None:
    after = Duration(months=months, days=day_count, hours=hours)
    if after.is_zero:
        after = Duration(days=1)
    expiry: dict[str, Any] = {"policy": "fixed", "after": str(after)}
    if rounding is not None:
        expiry["round_up_to"] = rounding.value
    calendar = Calendar(program(timezone=zone, expiry=expiry))
    # The same instants twice, and neighbours within the same local day: the
    # remembered day must give what the plain computation gives for each one.
    for at in [*instants, *instants, *(at + timedelta(hours=7) for at in instants)]:
        assert calendar.expires(at) == expected_expiry(after, rounding, at, zone), at


def test_the_calendar_has_no_expiry_without_a_fixed_policy() -> None:
    assert Calendar(program()).expires(T0) is None
    inactivity = program(expiry={"policy": "inactivity", "after": "1 year"})
    assert Calendar(inactivity).expires(T0) is None


CART: dict[str, Any] = {
    "id": "C-1",
    "member_id": "m-1",
    "currency": "USD",
    "lines": [
        {"sku": "A", "unit_price": "10.00", "quantity": 2, "categories": ["x", "y"]},
        {"sku": "B", "unit_price": "5.50", "quantity": 1, "tags": ["t"], "discount": "0.50"},
    ],
    "shipping": "4.90",
    "customer": {"segments": ["vip", "newsletter", "app", "staff", "beta"], "tier": "Gold"},
}


def fingerprint_in_a_new_process(seed: str) -> str:
    code = (
        "from loyalty import load_cart\n"
        "from loyalty.ledger.requests import _fingerprint\n"
        "from tests.test_compiled_ledger import CART\n"
        "print(_fingerprint('complete_order', {'cart': load_cart(CART)}))\n"
    )
    environment = {**os.environ, "PYTHONHASHSEED": seed}
    done = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_a_fingerprint_is_the_same_in_every_process() -> None:
    """A set of segments iterates in another order under another hash seed; the
    fingerprint must not (a redelivery to another worker is the same request)."""
    here = _fingerprint("complete_order", {"cart": load_cart(CART)})
    assert {fingerprint_in_a_new_process(seed) for seed in ("1", "2", "3")} == {here}


def _edits() -> st.SearchStrategy[tuple[str, Any]]:
    return st.sampled_from(
        [
            ("id", "C-2"),
            ("shipping", "4.91"),
            ("tax", "1.00"),
            ("prices_include_tax", True),
            ("lines.0.quantity", 3),
            ("lines.0.unit_price", "10.01"),
            ("lines.1.discount", "0.40"),
            ("lines.1.tags", ["t", "u"]),
            ("lines.0.categories", ["y", "x"]),
            ("lines.1.gift_card", True),
            ("lines.1.id", "second"),
            ("lines.0.tax", "0.10"),
            ("customer.segments", ["vip"]),
            ("customer.tier", "Silver"),
            ("customer.completed_orders", 2),
        ]
    )


@settings(max_examples=60, deadline=None)
@given(edit=_edits())
def test_any_change_to_the_cart_changes_the_fingerprint(edit: tuple[str, Any]) -> None:
    path, value = edit
    changed: Any = {**CART, "lines": [dict(line) for line in CART["lines"]]}
    changed["customer"] = dict(CART["customer"])
    *parents, last = path.split(".")
    target = changed
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[last] = value
    before = _fingerprint("complete_order", {"cart": load_cart(CART)})
    after = _fingerprint("complete_order", {"cart": load_cart(changed)})
    assert before != after


def test_reordered_segments_and_mapping_keys_fingerprint_the_same() -> None:
    shuffled = {
        **CART,
        "customer": {**CART["customer"], "segments": ["beta", "vip", "staff", "app", "newsletter"]},
    }
    assert _fingerprint("complete_order", {"cart": load_cart(CART)}) == _fingerprint(
        "complete_order", {"cart": load_cart(shuffled)}
    )
    assert canonical({"b": 1, "a": 2}) == canonical({"a": 2, "b": 1})
    assert _fingerprint("op", {"a": 1, "b": 2}) != _fingerprint("other", {"a": 1, "b": 2})
    with pytest.raises(TypeError, match="cannot fingerprint"):
        canonical(object())


def test_a_key_stored_under_the_first_fingerprint_scheme_still_replays() -> None:
    """Keys written before fingerprints changed hold a bare JSON-dump hash: a
    redelivery of the same order still returns what it wrote, and other content
    under the key is still a conflict."""
    member = account(earning={"rate": 1}, tiers=ladder(*SPEND_LADDER))  # the cart names Gold
    cart = load_cart(CART)
    first = complete_order(member, cart, at=T0, key="order:C-1")
    legacy = _legacy_fingerprint("complete_order", {"cart": cart})
    assert ":" not in legacy
    assert len(legacy) == 32
    member._keys._new["order:C-1"] = KeyRecord(legacy, first.order.seq)

    again = complete_order(member, cart, at=T0 + days(1), key="order:C-1")
    assert again == first
    with pytest.raises(IdempotencyConflict):
        complete_order(member, {**CART, "shipping": "9.99"}, at=T0 + days(1), key="order:C-1")


@given(st.lists(st.integers(-(10**12), 10**12), min_size=10, max_size=10))
def test_the_counters_hold_each_balance_field(values: list[int]) -> None:
    balance = Balance(*values)
    tally = Tally(balance)
    assert tally.balance() == balance
    assert tally.pending == balance.pending
    assert tally.returned == balance.returned
    tally.earned += 1
    assert tally.balance().earned == balance.earned + 1
    assert tally.balance().written_off == balance.written_off

