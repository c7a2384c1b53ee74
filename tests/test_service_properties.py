"""The service over a store ends where the engine on a plain account ends.

Random sequences of requests (orders, partial refunds, cancellations, reward
redemptions, adjustments, birthdays, scheduled runs, and retries of earlier
requests) go to two services sharing one store: one keeps accounts between
requests, the other loads every member afresh; each request goes to either at
random, so kept accounts go stale and must be noticed. The same requests drive
the engine directly on an in-memory account. After every request the two agree:
the same outcome (a result or the same error type), the same balance, the same
journal, and the stored state re-derives from the stored journal (``verify``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from loyalty import (
    Account,
    LoyaltyError,
    LoyaltyService,
    MemoryStore,
    Store,
    adjust,
    advance,
    award_action,
    complete_order,
    open_account,
    redeem_reward,
    refund_order,
)
from tests.builders import T0, program

PROGRAM = program(
    pending={"period": "3 days"},
    expiry={"policy": "fixed", "after": "20 days"},
    earning={"rate": 1, "actions": {"birthday": {"points": 15, "times": 1, "per": "month"}}},
    rewards={"catalog": [{"id": "two-off", "kind": "amount_off", "amount": "2.00", "cost": 30}]},
)
MEMBER = "m-1"
MANUAL = {"actor": "ops", "reason": "test"}

Request = tuple[str, int, int, int]
"""(what, hours after the previous request, a number, another number)."""

requests = st.lists(
    st.tuples(
        st.sampled_from(["order", "refund", "cancel", "redeem", "adjust", "birthday", "run"]),
        st.integers(0, 72),
        st.integers(1, 4),
        st.integers(0, 6),
    ),
    min_size=1,
    max_size=14,
)


def _cart(number: int, units: int) -> dict[str, Any]:
    return {
        "id": f"O-{number}",
        "member_id": MEMBER,
        "currency": "USD",
        "lines": [
            {"sku": "A", "unit_price": "7.50", "quantity": units},
            {"sku": "B", "unit_price": "3.25", "quantity": 1},
        ],
    }


def _outcome(call: Callable[..., object], *args: Any, **kwargs: Any) -> object:
    """What ``call(*args, **kwargs)`` returned, or the type of the error it raised."""
    try:
        return call(*args, **kwargs)
    except LoyaltyError as error:
        return type(error)


def _run(store: Store, steps: list[Request], retry: list[bool]) -> None:
    kept = LoyaltyService(PROGRAM, store)
    loading = LoyaltyService(PROGRAM, store, cache_size=0)
    kept.enrol(MEMBER, at=T0)
    engine: Account = open_account(PROGRAM, MEMBER, enrolled_at=T0)
    at = T0
    orders = 0
    for index, (what, hours, number, other) in enumerate(steps):
        at += timedelta(hours=hours)
        service = kept if (number + other + index) % 2 else loading
        key = f"{what}:{index}"
        order = f"O-{max(orders - other % max(orders, 1), 1)}" if orders else "O-0"
        if what == "order":
            orders += 1
            cart = _cart(orders, number)
            payload = {
                "type": "order_completed",
                "member_id": MEMBER,
                "key": key,
                "at": at.isoformat(),
                "cart": cart,
            }
            ours = _outcome(service.handle, payload)
            theirs = _outcome(complete_order, engine, cart, at=at, key=key)
        elif what in ("refund", "cancel"):
            payload = {
                "type": "order_refunded" if what == "refund" else "order_cancelled",
                "member_id": MEMBER,
                "key": key,
                "at": at.isoformat(),
                "order_id": order,
            }
            lines = {"A": 1} if what == "refund" else None
            if lines is not None:
                payload["lines"] = lines
            ours = _outcome(service.handle, payload)
            theirs = _outcome(
                refund_order,
                engine,
                order,
                at=at,
                key=key,
                lines=lines,
                shipping=what == "cancel",
            )
        elif what == "redeem":
            cart = _cart(orders + 100, number)
            ours = _outcome(service.redeem, MEMBER, "two-off", cart, at=at, key=key)
            theirs = _outcome(redeem_reward, engine, "two-off", cart, at=at, key=key)
        elif what == "adjust":
            points = (number * 5) * (1 if other % 2 else -1)
            ours = _outcome(service.adjust, MEMBER, points, at=at, key=key, **MANUAL)
            theirs = _outcome(adjust, engine, points, at=at, key=key, **MANUAL)
        elif what == "birthday":
            payload = {"type": "birthday", "member_id": MEMBER, "key": key, "at": at.isoformat()}
            ours = _outcome(service.handle, payload)
            theirs = _outcome(award_action, engine, "birthday", at=at, key=key)
        else:
            ours = _outcome(service.advance, at)
            theirs = _outcome(advance, engine, at)
        event(f"{what}: {theirs.__name__ if isinstance(theirs, type) else 'done'}")
        if isinstance(theirs, type):
            assert ours is theirs, (what, ours, theirs)
        else:
            assert not isinstance(ours, type), (what, ours, theirs)
        if retry[index % len(retry)] and what not in ("run",):
            # a retried request changes nothing (kept by the other service, or loaded)
            before = (kept.balance(MEMBER, at), len(kept.statement(MEMBER).lines))
            again = kept if service is loading else loading
            if what == "order":
                _outcome(again.handle, payload)
            elif what == "adjust":
                _outcome(again.adjust, MEMBER, points, at=at, key=key, **MANUAL)
            assert (kept.balance(MEMBER, at), len(kept.statement(MEMBER).lines)) == before
        # As of the request's time: a run that only released pending points wrote no
        # entry, so the store's state is as of the last entry and projects forward.
        assert kept.balance(MEMBER, at) == engine.balance(at)
        assert loading.balance(MEMBER, at) == engine.balance(at)
        stored = [(line.kind, line.points) for line in loading.statement(MEMBER).lines]
        wanted = [(entry.kind, entry.points) for entry in engine.journal if entry.kind != "tier"]
        assert stored == wanted
        assert kept.verify(MEMBER) == []


@given(requests, st.lists(st.booleans(), min_size=1, max_size=4))
def test_the_service_on_the_memory_store_agrees_with_the_engine(
    steps: list[Request], retry: list[bool]
) -> None:
    _run(MemoryStore(), steps, retry)


@settings(max_examples=25)
@given(requests, st.lists(st.booleans(), min_size=1, max_size=4))
def test_the_service_on_sqlite_agrees_with_the_engine(
    tmp_path_factory: pytest.TempPathFactory, steps: list[Request], retry: list[bool]
) -> None:
    from loyalty.store.sql import SQLStore

    store = SQLStore(f"sqlite:///{tmp_path_factory.mktemp('db') / 'loyalty.db'}")
    try:
        _run(store, steps, retry)
    finally:
        store.close()
