"""A kept account holds only the hot state (open lots, counters, bonus actions, tier
days); closed lots, orders and redemptions stay in the store and are read when
something names them. Results must be exactly those of an account that never left
memory, and loading must not read the cold parts."""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty import (
    LoyaltyError,
    MemoryStore,
    complete_order,
    open_account,
    redeem_reward,
    refund_order,
    restore,
    verify,
    void_redemption,
)
from loyalty.ledger.account import Account
from loyalty.store import MemberProfile, Store, StoredMember
from tests.builders import SPEND_LADDER, T0, days, ladder, program

PROGRAM = program(
    pending={"period": "14 days"},
    expiry={"policy": "fixed", "after": "60 days"},
    tiers=ladder(*SPEND_LADDER),
    rewards={
        "catalog": [
            {"id": "five-off", "kind": "amount_off", "amount": "5.00", "cost": 20},
            {
                "id": "once",
                "kind": "amount_off",
                "amount": "1.00",
                "cost": 10,
                "hurdles": {"usage_limit": 1},
            },
        ]
    },
)


def _cart(order_id: str, price: str) -> dict[str, Any]:
    return {
        "id": order_id,
        "member_id": "m-1",
        "currency": "USD",
        "lines": [{"sku": "SKU", "unit_price": price, "quantity": 2}],
    }


class _Counting:
    """A history that counts what is read through it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.reads: Counter[str] = Counter()
        self.length = inner.length

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.inner, name)

        def counted(*args: Any) -> Any:
            self.reads[name] += 1
            return found(*args)

        return counted


class _Cold:
    """An account saved to a memory store after every write and restored from its hot
    state, as a service that keeps no account would do."""

    def __init__(self, store: Store | None = None) -> None:
        self.store = store if store is not None else MemoryStore()
        self.version = 0
        with self.store.transaction(PROGRAM.id) as transaction:
            account = open_account(PROGRAM, "m-1", enrolled_at=T0)
            profile = MemberProfile("m-1", T0)
            transaction.add_member(StoredMember(profile, 0, account.snapshot()))
            transaction.commit()

    def run(self, operation: Any) -> Any:
        with self.store.transaction(PROGRAM.id) as transaction:
            stored = transaction.member("m-1", lock=True)
            assert stored is not None
            hot = stored.hot
            assert hot.orders == ()
            assert hot.redemptions == ()
            assert all(lot.is_open for lot in hot.lots)
            history = _Counting(transaction.history("m-1", stored.version))
            account = restore(PROGRAM, "m-1", hot, history)
            assert not history.reads  # loading read nothing of the cold parts
            try:
                result = operation(account)
            finally:
                written = account.entries_from(self.version + 1)
                transaction.save("m-1", self.version, written, account.changes())
                account.saved()
                transaction.commit()
                self.version += len(written)
            self.last = account
            return result


def _ops(draw: Any) -> list[tuple[str, int, int]]:
    return draw(
        st.lists(
            st.tuples(
                st.sampled_from(["order", "order", "refund", "redeem", "once", "void"]),
                st.integers(0, 20),
                st.integers(1, 9),
            ),
            max_size=25,
        )
    )


def _apply(account: Account, step: int, op: tuple[str, int, int]) -> Any:
    kind, pick, size = op
    at = T0 + days(7 * step + 1)
    key = f"k{step}"
    orders = [e.source for e in account.entries_from(1) if e.kind == "order"]
    redemptions = [e.id for e in account.entries_from(1) if e.kind == "redeem"]
    if kind == "order":
        return complete_order(account, _cart(f"O{step}", f"{size * 7}.00"), at=at, key=key)
    if kind == "refund" and orders:
        return refund_order(account, orders[pick % len(orders)] or "", at=at, key=key)
    if kind in ("redeem", "once"):
        reward = "five-off" if kind == "redeem" else "once"
        return redeem_reward(account, reward, _cart(f"C{step}", "30.00"), at=at, key=key)
    if kind == "void" and redemptions:
        return void_redemption(account, redemptions[pick % len(redemptions)], at=at, key=key)
    return None


def _outcome(account: Account, step: int, op: tuple[str, int, int]) -> Any:
    try:
        return repr(_apply(account, step, op))
    except LoyaltyError as error:
        return type(error).__name__, str(error)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_a_cold_account_answers_as_one_that_never_left_memory(data: Any) -> None:
    ops = _ops(data.draw)
    kept = open_account(PROGRAM, "m-1", enrolled_at=T0)
    cold = _Cold()
    for step, op in enumerate(ops):
        expected = _outcome(kept, step, op)
        assert cold.run(lambda account, s=step, o=op: _outcome(account, s, o)) == expected
    if ops:
        account = cold.last
        assert account.snapshot(keys=False) == kept.snapshot(keys=False)
        assert account.redemptions() == kept.redemptions()
        for order_id in {e.source for e in kept.entries_from(1) if e.kind == "order"}:
            assert cold.run(lambda a, o=order_id: a.order(o or "")) == kept.order(order_id or "")
            assert cold.run(lambda a, o=order_id: a.redemptions(o)) == kept.redemptions(order_id)
        for reward in ("five-off", "once"):
            assert cold.run(lambda a, r=reward: a.reward_uses(r)) == kept.reward_uses(reward)
        late = T0 + days(7 * len(ops) // 2)
        assert cold.run(lambda a: a.completed_orders(before=late)) == kept.completed_orders(
            before=late
        )
        assert cold.run(lambda a: verify(a)) == []


def test_loading_reads_only_the_hot_state_and_a_refund_reads_only_its_order(
    store: Store,
) -> None:
    """On every store: the history is read only for what is named, and what it reads
    (an order, a closed lot, the redemptions made on an order) decodes whole."""
    cold = _Cold(store)
    for number in range(30):
        at = T0 + days(number)
        cold.run(
            lambda a, n=number, t=at: complete_order(a, _cart(f"O{n}", "10.00"), at=t, key=f"o{n}")
        )
    cold.run(
        lambda a: redeem_reward(a, "five-off", _cart("O30", "30.00"), at=T0 + days(30), key="r")
    )
    cold.run(lambda a: complete_order(a, _cart("O30", "30.00"), at=T0 + days(30), key="o30"))
    with cold.store.transaction(PROGRAM.id, write=False) as transaction:
        stored = transaction.member("m-1")
        assert stored is not None
        history = _Counting(transaction.history("m-1", stored.version))
        account = restore(PROGRAM, "m-1", stored.hot, history)
        assert "m-1:2" not in account._lots  # spent by the redemption: closed, left stored
        assert not account._orders
        assert not account._redemptions
        assert account.order("O1") is not None
        assert account.lot("m-1:2").remaining == 0
        assert [r.source for r in account.redemptions("O30")] == ["O30"]
        assert history.reads == Counter(order=1, lot=1, redemptions=1)
