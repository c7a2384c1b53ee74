"""The store contract: one suite, run against every store (memory, SQLite, PostgreSQL).

Each test drives the port directly with real journal entries written by the
ledger, so a store that loses, reorders or misreads anything fails here.
"""

from __future__ import annotations

from typing import Any

import pytest

from loyalty import (
    Account,
    adjust,
    complete_order,
    earn,
    open_account,
    redeem,
    restore,
    verify,
)
from loyalty.checkout.stock import claim_prefix
from loyalty.notifications import PointsEarned
from loyalty.store import MemberProfile, Store, StoreConflict, StoredMember
from tests.builders import T0, days, program

PROGRAM = program(pending={"period": "14 days"}, expiry={"policy": "fixed", "after": "1 year"})
OTHER = program(id="other-club")


def _profile(member_id: str = "m-1", **fields: Any) -> MemberProfile:
    return MemberProfile(member_id, T0, **fields)


def _enrol(store: Store, member_id: str = "m-1", program_id: str = "club") -> None:
    with store.transaction(program_id) as transaction:
        state = open_account(PROGRAM, member_id, enrolled_at=T0).snapshot(keys=False)
        transaction.add_member(StoredMember(_profile(member_id), 0, state))
        transaction.commit()


def _history_account(member_id: str = "m-1") -> Account:
    """An account with earns (pending and available), a redeem, an adjustment and
    a request that wrote an expiry before its own entry."""
    account = open_account(PROGRAM, member_id, enrolled_at=T0)
    earn(account, points=100, at=T0, key="order:1", source="1")
    earn(account, points=50, at=T0 + days(1), key="order:2", source="2")
    redeem(account, 30, at=T0 + days(20), key="redeem:1")
    adjust(account, -5, at=T0 + days(21), key="fix:1", actor="ops", reason="typo")
    return account


def _save(store: Store, account: Account, version: int = 0, program_id: str = "club") -> None:
    with store.transaction(program_id) as transaction:
        transaction.save(
            account.member_id,
            version,
            account.entries_from(version + 1),
            account.snapshot(keys=False),
        )
        transaction.commit()


def test_a_member_is_stored_and_loaded(store: Store) -> None:
    _enrol(store)
    with store.transaction("club", write=False) as transaction:
        found = transaction.member("m-1")
        assert found is not None
        assert found.profile == _profile()
        assert found.version == 0
        assert found.state == open_account(PROGRAM, "m-1", enrolled_at=T0).snapshot(keys=False)
        assert transaction.member("m-2") is None


def test_enrolling_a_member_twice_is_a_conflict(store: Store) -> None:
    _enrol(store)
    with pytest.raises(StoreConflict):
        _enrol(store)


def test_nothing_is_kept_unless_committed(store: Store) -> None:
    with store.transaction("club") as transaction:
        state = open_account(PROGRAM, "m-1").snapshot(keys=False)
        transaction.add_member(StoredMember(_profile(), 0, state))

    def failing_request() -> None:
        with store.transaction("club") as transaction:
            transaction.add_member(StoredMember(_profile("m-2"), 0, state))
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError, match="the request failed"):
        failing_request()
    with store.transaction("club", write=False) as transaction:
        assert transaction.member("m-1") is None
        assert transaction.member("m-2") is None


def test_saved_entries_are_read_back_in_order_and_restore_the_account(store: Store) -> None:
    _enrol(store)
    account = _history_account()
    _save(store, account)
    with store.transaction("club", write=False) as transaction:
        stored = transaction.member("m-1")
        assert stored is not None
        assert stored.version == len(account.journal)
        history = transaction.history("m-1", stored.version)
        assert tuple(history.entries()) == account.journal
        assert tuple(history.entries(3)) == account.journal[2:]
        later = T0 + days(1)
        assert tuple(history.since(later)) == tuple(e for e in account.journal if e.at >= later)
        loaded = restore(PROGRAM, "m-1", stored.state, history)
        assert loaded.snapshot() == account.snapshot()
        assert loaded.balance() == account.balance()
        assert verify(loaded) == []


def test_keys_map_to_the_first_entry_of_their_request(store: Store) -> None:
    _enrol(store)
    account = open_account(PROGRAM, "m-1", enrolled_at=T0)
    earn(account, points=100, at=T0, key="order:1")
    line = {"sku": "A", "unit_price": "20.00", "quantity": 1}
    cart = {"id": "B-1", "member_id": "m-1", "currency": "USD", "lines": [line]}
    complete_order(account, cart, at=T0 + days(2), key="order:B-1")  # writes an order and an earn
    _save(store, account)
    with store.transaction("club", write=False) as transaction:
        history = transaction.history("m-1", len(account.journal))
        assert dict(history.keys()) == dict(account.snapshot().keys)
        written = account.request_entries("order:B-1")
        assert len(written) == 2
        record = history.key("order:B-1")
        assert record is not None
        assert record.seq == written[0].seq
        assert history.key("missing") is None


def test_appending_continues_after_the_stored_entries(store: Store) -> None:
    _enrol(store)
    account = _history_account()
    _save(store, account)
    with store.transaction("club") as transaction:
        stored = transaction.member("m-1", lock=True)
        assert stored is not None
        loaded = restore(PROGRAM, "m-1", stored.state, transaction.history("m-1", stored.version))
        start = loaded.next_seq
        earn(loaded, points=7, at=T0 + days(30), key="order:3")
        assert earn(loaded, points=7, at=T0 + days(30), key="order:3").seq == start  # replayed
        changes = loaded.changes()  # only what the write changed: the store keeps the rest
        assert 0 < len(changes.lots) < len(loaded.snapshot().lots)
        transaction.save("m-1", stored.version, loaded.entries_from(start), changes)
        expected = loaded.snapshot()
        transaction.commit()
    with store.transaction("club", write=False) as transaction:
        stored = transaction.member("m-1")
        assert stored is not None
        assert stored.version == start
        reloaded = restore(PROGRAM, "m-1", stored.state, transaction.history("m-1", stored.version))
        assert reloaded.balance().net == account.balance().net + 7
        assert reloaded.snapshot() == expected
        assert verify(reloaded) == []


def test_saving_over_a_version_that_moved_on_is_a_conflict(store: Store) -> None:
    _enrol(store)
    account = _history_account()
    _save(store, account)
    with pytest.raises(StoreConflict):
        _save(store, account, version=0)
    with store.transaction("club", write=False) as transaction:
        stored = transaction.member("m-1")
        assert stored is not None
        assert stored.version == len(account.journal)


def test_member_ids_are_listed_in_pages(store: Store) -> None:
    for member_id in ("c", "a", "d", "b"):
        _enrol(store, member_id)
    with store.transaction("club", write=False) as transaction:
        assert transaction.member_ids() == ["a", "b", "c", "d"]
        assert transaction.member_ids(limit=2) == ["a", "b"]
        assert transaction.member_ids("b", limit=5) == ["c", "d"]
        assert transaction.member_ids("d") == []


def test_programs_sharing_a_store_see_nothing_of_each_other(store: Store) -> None:
    _enrol(store, "m-1", "club")
    _save(store, _history_account())
    with store.transaction("other-club") as transaction:
        assert transaction.member("m-1") is None
        assert transaction.member_ids() == []
        state = open_account(OTHER, "m-1").snapshot(keys=False)
        transaction.add_member(StoredMember(_profile(), 0, state))
        transaction.commit()
    with store.transaction("other-club", write=False) as transaction:
        stored = transaction.member("m-1")
        assert stored is not None
        assert stored.version == 0
        assert tuple(transaction.history("m-1", 0).entries()) == ()
        assert transaction.history("m-1", 0).key("order:1") is None


def test_stock_is_never_claimed_beyond_its_limit(store: Store) -> None:
    with store.transaction("club") as transaction:
        stock = transaction.stock({"gift": 2})
        assert stock.left("gift") == 2
        assert stock.left("unlimited") is None
        assert stock.claim("gift", "m-1:a")
        assert stock.claim("gift", "m-1:a")  # the same claim again takes nothing more
        assert stock.claim("gift", "m-2:b")
        assert not stock.claim("gift", "m-3:c")
        assert stock.claim("unlimited", "m-3:c")
        assert stock.left("gift") == 0
        transaction.commit()
    with store.transaction("club") as transaction:
        stock = transaction.stock({"gift": 2})
        stock.release("gift", "m-1:a")
        assert stock.left("gift") == 1
        # not committed: the release is undone
    with store.transaction("club") as transaction:
        stock = transaction.stock({"gift": 2})
        assert stock.left("gift") == 0
        stock.release("gift", "m-1:a")
        stock.release("gift", "nobody")
        assert stock.claim("gift", "m-3:c")
        transaction.commit()
    with store.transaction("other-club", write=False) as transaction:
        assert transaction.stock({"gift": 2}).left("gift") == 2


def _earned(member_id: str, seq: int) -> PointsEarned:
    return PointsEarned(
        member_id=member_id,
        at=T0,
        dedupe=f"earned:{member_id}:{seq}",
        points=10 * seq,
        balance=10 * seq,
        source=f"order-{seq}",
        available_at=T0 + days(14),
        expires_at=None,
    )


def test_the_outbox_keeps_committed_notifications_once_until_acknowledged(store: Store) -> None:
    with store.transaction("club") as transaction:
        transaction.emit([_earned("m-1", 1), _earned("m-2", 2)])
        transaction.commit()
    with store.transaction("club") as transaction:
        transaction.emit([_earned("m-1", 3)])  # rolled back: never seen
    with store.transaction("club") as transaction:
        transaction.emit([_earned("m-1", 1), _earned("m-1", 4)])  # 1 again: dropped
        transaction.commit()
    messages = store.outbox("club")
    assert [message.notification for message in messages] == [
        _earned("m-1", 1),
        _earned("m-2", 2),
        _earned("m-1", 4),
    ]
    assert store.outbox("other-club") == []
    assert store.outbox("club", limit=1) == messages[:1]
    store.acknowledge("club", [messages[0].id, messages[2].id])
    assert store.outbox("club") == [messages[1]]
    with store.transaction("club") as transaction:
        transaction.emit([_earned("m-1", 1)])  # acknowledged facts are not announced again
        transaction.commit()
    assert store.outbox("club") == [messages[1]]


def test_erasure_keeps_the_numbers_under_a_pseudonym(store: Store) -> None:
    with store.transaction("club") as transaction:
        state = open_account(PROGRAM, "m-1", enrolled_at=T0).snapshot(keys=False)
        profile = _profile(birthday=T0.date(), segments=("vip",))
        transaction.add_member(StoredMember(profile, 0, state))
        transaction.commit()
    account = _history_account()
    _save(store, account)
    with store.transaction("club") as transaction:
        transaction.stock({"gift": 5}).claim("gift", claim_prefix("m-1") + "redeem:9")
        # a member whose id begins like m-1's: its claim is not m-1's
        transaction.stock({"gift": 5}).claim("gift", claim_prefix("m-1:x") + "k")
        transaction.emit([_earned("m-1", 1), _earned("m-2", 1)])
        transaction.commit()
    with store.transaction("club") as transaction:
        transaction.erase("m-1", "anon-1")
        transaction.commit()
    with store.transaction("club", write=False) as transaction:
        assert transaction.member("m-1") is None
        assert transaction.member_ids() == ["anon-1"]
        stored = transaction.member("anon-1")
        assert stored is not None
        assert stored.profile == MemberProfile("anon-1", T0, None, (), erased=True)
        history = transaction.history("anon-1", stored.version)
        entries = tuple(history.entries())
        assert [entry.id for entry in entries] == [
            f"anon-1:{n}" for n in range(1, len(entries) + 1)
        ]
        assert [entry.points for entry in entries] == [entry.points for entry in account.journal]
        loaded = restore(PROGRAM, "anon-1", stored.state, history)
        assert loaded.balance() == account.balance()
        assert verify(loaded) == []
        stock = transaction.stock({"gift": 5})
        assert stock.left("gift") == 3
    assert [message.notification.member_id for message in store.outbox("club")] == ["m-2"]
    with store.transaction("club") as transaction:
        stock = transaction.stock({"gift": 5})
        stock.release("gift", claim_prefix("anon-1") + "redeem:9")
        stock.release("gift", claim_prefix("m-1:x") + "k")  # still there, under its own id
        assert stock.left("gift") == 5


def test_a_save_that_is_not_committed_leaves_the_member_as_it_was(store: Store) -> None:
    _enrol(store)
    account = _history_account()
    _save(store, account)
    with store.transaction("club", write=False) as transaction:
        before = transaction.member("m-1")
        assert before is not None
        state = before.state
    with store.transaction("club") as transaction:
        stored = transaction.member("m-1", lock=True)
        assert stored is not None
        loaded = restore(PROGRAM, "m-1", stored.state, transaction.history("m-1", stored.version))
        start = loaded.next_seq
        earn(loaded, points=9, at=T0 + days(40), key="order:9")  # releases and adds lots
        transaction.save("m-1", stored.version, loaded.entries_from(start), loaded.changes())
        # no commit: the request failed after saving
    with store.transaction("club", write=False) as transaction:
        after = transaction.member("m-1")
        assert after is not None
        assert after.version == before.version
        assert after.state == state
        assert tuple(transaction.history("m-1", after.version + 5).entries()) == account.journal
        assert transaction.history("m-1", after.version + 5).key("order:9") is None


def test_a_store_prints_as_its_kind_and_what_it_holds_without_a_password(tmp_path: Any) -> None:
    from loyalty.store import MemoryStore
    from loyalty.store.sql import SQLStore

    memory = MemoryStore()
    assert repr(memory) == "<MemoryStore (0 programs, 0 members)>"
    _enrol(memory)
    assert repr(memory) == "<MemoryStore (1 program, 1 member)>"
    path = tmp_path / "loyalty.db"
    sqlite = SQLStore(f"sqlite:///{path}")
    assert repr(sqlite) == f"<SQLStore sqlite:///{path}>"
    sqlite.close()
    from sqlalchemy import create_engine

    engine = create_engine("postgresql+psycopg://shop:s3cret@db.example/loyalty")
    with_password = SQLStore(engine, migrate=False)
    assert repr(with_password) == "<SQLStore postgresql+psycopg://shop:***@db.example/loyalty>"
    assert "s3cret" not in repr(with_password)


# ------------------------------------------------------------ kept accounts and identity


def test_a_kept_account_is_not_reused_for_a_member_erased_and_enrolled_again(store: Store) -> None:
    from loyalty import LoyaltyService

    first, second = LoyaltyService(PROGRAM, store), LoyaltyService(PROGRAM, store)
    first.enrol("m-1", at=T0)
    first.adjust("m-1", 100, at=T0, key="old", actor="test", reason="before erasure")
    assert first.balance("m-1").available == 100  # kept by the first service, at entry 1
    second.erase("m-1")
    second.enrol("m-1", at=T0)  # the same enrolment instant...
    second.adjust("m-1", 5, at=T0, key="new", actor="test", reason="after")  # ...and entry 1
    assert first.balance("m-1").available == 5
    first.adjust("m-1", 1, at=T0 + days(1), key="next", actor="test", reason="after")
    assert second.balance("m-1").available == 6
    assert second.verify("m-1") == []
    assert [line.points for line in first.statement("m-1").lines] == [5, 1]


def test_each_enrolment_and_erasure_gives_the_stored_member_a_new_incarnation(
    store: Store,
) -> None:
    seen = set()
    for _ in range(3):
        _enrol(store)
        with store.transaction("club") as transaction:
            stored = transaction.member("m-1")
            assert stored is not None
            seen.add(stored.incarnation)
            transaction.erase("m-1", f"erased-{len(seen)}")
            transaction.commit()
        with store.transaction("club", write=False) as transaction:
            pseudonym = transaction.member(f"erased-{len(seen)}")
            assert pseudonym is not None
            seen.add(pseudonym.incarnation)
    assert len(seen) == 6
    assert "" not in seen


# ------------------------------------------------------------------ the registry

VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -7,
    2**62,
    1.5,
    "",
    'text with ünïcödé, emoji 🎉 and "quotes" \\ and\nnewlines',
    [],
    {},
    [1, "two", None, [3, [4]], {"five": 5}],
    {"nested": {"list": [True, False, None], "n": 0}, "": "empty key", "é": [1.25]},
]


def test_registry_rows_are_added_put_read_and_deleted(store: Store) -> None:
    with store.transaction("club") as transaction:
        registry = transaction.registry()
        assert registry.get("codes", "WELCOME") is None
        assert registry.add("codes", "WELCOME", {"uses": 0})
        assert not registry.add("codes", "WELCOME", {"uses": 99})  # the first one stays
        assert registry.get("codes", "WELCOME") == {"uses": 0}
        assert registry.get("codes", "WELCOME", lock=True) == {"uses": 0}
        registry.put("codes", "WELCOME", {"uses": 1})  # replaced
        registry.put("codes", "SPRING", {"uses": 5})  # inserted
        assert registry.get("other-space", "WELCOME") is None  # spaces are apart
        assert registry.add("other-space", "WELCOME", "another row")
        transaction.commit()
    with store.transaction("club") as transaction:
        registry = transaction.registry()
        assert registry.get("codes", "WELCOME") == {"uses": 1}
        assert registry.get("codes", "SPRING") == {"uses": 5}
        assert registry.get("other-space", "WELCOME") == "another row"
        assert registry.delete("codes", "SPRING")
        assert not registry.delete("codes", "SPRING")
        assert not registry.delete("codes", "NEVER")
        assert registry.get("codes", "SPRING") is None
        assert registry.add("codes", "SPRING", {"uses": 0})  # added again once deleted
        transaction.commit()
    with store.transaction("club", write=False) as transaction:
        registry = transaction.registry()
        assert registry.scan("codes") == [("SPRING", {"uses": 0}), ("WELCOME", {"uses": 1})]
        assert registry.scan("other-space") == [("WELCOME", "another row")]
        assert registry.scan("empty") == []


def test_registry_scan_is_in_python_str_order_within_its_bounds(store: Store) -> None:
    keys = ["b", "a", "B", "a0", "ab", "A", "0", " ", "~", "é", "e", "ÿ", "Ā", "中", "😀", "\uffff"]
    keys += ["z" * 200, "k-10", "k-9", "k-1"]
    with store.transaction("club") as transaction:
        registry = transaction.registry()
        for number, key in enumerate(keys):
            assert registry.add("links", key, number)
        registry.put("later-space", "a", "not scanned")
        registry.put("another", "zz", "not scanned")
        transaction.commit()
    rows = sorted((key, keys.index(key)) for key in keys)
    ordered = [key for key, _ in rows]
    with store.transaction("club", write=False) as transaction:
        registry = transaction.registry()
        assert registry.scan("links") == rows
        assert registry.scan("links", limit=3) == rows[:3]
        assert registry.scan("links", limit=0) == []
        assert registry.scan("links", after="a") == rows[ordered.index("a") + 1 :]
        assert registry.scan("links", until="a") == rows[: ordered.index("a") + 1]
        assert (
            registry.scan("links", after="B", until="é")
            == rows[ordered.index("B") + 1 : ordered.index("é") + 1]
        )
        # Bounds that are not keys.
        assert registry.scan("links", after="aa", until="b") == [("ab", 4), ("b", 0)]
        assert registry.scan("links", after="e", until="e") == []
        assert registry.scan("links", after="é", until="e") == []  # an empty range
        # Past the BMP: after U+FFFF in code point order (UTF-16 order puts it before).
        assert registry.scan("links", after="\uffff") == [("😀", keys.index("😀"))]
        assert registry.scan("links", until="\uffff")[-1] == ("\uffff", keys.index("\uffff"))
        assert registry.scan("links", after=ordered[-1]) == []
        # Paging by the last key read gives every row once, in order.
        paged: list[tuple[str, Any]] = []
        after: str | None = None
        while page := registry.scan("links", after=after, limit=6):
            paged += page
            after = page[-1][0]
        assert paged == rows
        with pytest.raises(ValueError, match="limit"):
            registry.scan("links", limit=-1)


def test_registry_writes_are_undone_by_a_rollback(store: Store) -> None:
    with store.transaction("club") as transaction:
        registry = transaction.registry()
        registry.put("budget", "spent", 3)
        registry.put("budget", "kept", [1, 2])
        registry.put("codes", "OLD", "x")
        transaction.commit()
    before = [("kept", [1, 2]), ("spent", 3)]

    def failing_request() -> None:
        with store.transaction("club") as transaction:
            registry = transaction.registry()
            assert registry.add("budget", "new", 1)  # an add
            registry.put("budget", "spent", 4)  # a put over a row
            registry.put("budget", "spent", 5)  # and over it again
            registry.put("budget", "fresh", {"a": 1})  # a put of a new row
            assert registry.delete("budget", "kept")  # a delete
            assert registry.add("budget", "gone", 0)  # added and deleted
            assert registry.delete("budget", "gone")
            assert registry.delete("codes", "OLD")  # deleted and put again
            registry.put("codes", "OLD", "y")
            # the transaction reads its own writes
            assert registry.scan("budget") == [("fresh", {"a": 1}), ("new", 1), ("spent", 5)]
            assert registry.get("codes", "OLD") == "y"
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError, match="the request failed"):
        failing_request()
    with store.transaction("club") as transaction:
        registry = transaction.registry()
        registry.put("budget", "spent", 6)
        assert registry.add("budget", "new", 1)
        # left without commit
    with store.transaction("club", write=False) as transaction:
        registry = transaction.registry()
        assert registry.scan("budget") == before
        assert registry.get("budget", "new") is None
        assert registry.get("codes", "OLD") == "x"


def test_programs_sharing_a_store_see_nothing_of_each_others_registry(store: Store) -> None:
    with store.transaction("club") as transaction:
        transaction.registry().put("codes", "WELCOME", "club's")
        transaction.commit()
    with store.transaction("other-club") as transaction:
        registry = transaction.registry()
        assert registry.get("codes", "WELCOME") is None
        assert registry.scan("codes") == []
        assert not registry.delete("codes", "WELCOME")
        assert registry.add("codes", "WELCOME", "other's")  # a row of its own
        transaction.commit()
    with store.transaction("club", write=False) as transaction:
        assert transaction.registry().scan("codes") == [("WELCOME", "club's")]
    with store.transaction("other-club", write=False) as transaction:
        assert transaction.registry().scan("codes") == [("WELCOME", "other's")]


def test_registry_values_read_back_as_written(store: Store) -> None:
    with store.transaction("club") as transaction:
        registry = transaction.registry()
        for number, value in enumerate(VALUES):
            assert registry.add("added", f"v{number:02d}", value)
            registry.put("put", f"v{number:02d}", value)
        transaction.commit()
    with store.transaction("club", write=False) as transaction:
        registry = transaction.registry()
        for number, value in enumerate(VALUES):
            for space in ("added", "put"):
                found = registry.get(space, f"v{number:02d}")
                assert found == value
                assert type(found) is type(value)
        assert [value for _, value in registry.scan("put")] == VALUES


def test_a_value_read_or_written_is_the_callers_own_copy(store: Store) -> None:
    written = {"holders": ["m-1"]}
    with store.transaction("club") as transaction:
        registry = transaction.registry()
        registry.put("codes", "A", written)
        written["holders"].append("changed after the put")
        read = registry.get("codes", "A")
        read["holders"].append("changed after the get")
        assert registry.get("codes", "A") == {"holders": ["m-1"]}
        transaction.commit()
    with store.transaction("club", write=False) as transaction:
        assert transaction.registry().get("codes", "A") == {"holders": ["m-1"]}


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ((1, 2), TypeError),
        ({1, 2}, TypeError),
        ({1: "int key"}, TypeError),
        ([{"deep": (1,)}], TypeError),
        (b"bytes", TypeError),
        (float("nan"), ValueError),
        ([float("inf")], ValueError),
        ("NUL \x00 inside", ValueError),
        ({"NUL \x00 key": 1}, ValueError),
        ("lone \ud800 surrogate", ValueError),
    ],
)
def test_registry_refuses_a_value_that_is_not_json_safe(
    store: Store, value: Any, error: type[Exception]
) -> None:
    with store.transaction("club") as transaction:
        registry = transaction.registry()
        with pytest.raises(error):
            registry.put("s", "k", value)
        with pytest.raises(error):
            registry.add("s", "k", value)
        assert registry.get("s", "k") is None


def test_registry_refuses_names_no_store_can_keep(store: Store) -> None:
    with store.transaction("club") as transaction:
        registry = transaction.registry()
        registry.put("s" * 200, "k" * 200, 1)  # the longest
        assert registry.get("s" * 200, "k" * 200) == 1
        for space, key in [("s", "k" * 201), ("s" * 201, "k"), ("s", "a\x00b"), ("s", "\udfff")]:
            with pytest.raises(ValueError, match="registry"):
                registry.put(space, key, 1)
            with pytest.raises(ValueError, match="registry"):
                registry.get(space, key)
        with pytest.raises(TypeError, match="text"):
            registry.add("s", 7, 1)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="text"):
            registry.scan(None)  # type: ignore[arg-type]


def test_a_read_only_transaction_reads_the_registry_but_cannot_write_or_lock_it(
    store: Store,
) -> None:
    with store.transaction("club") as transaction:
        transaction.registry().put("codes", "A", 1)
        transaction.commit()
    with store.transaction("club", write=False) as transaction:
        registry = transaction.registry()
        assert registry.get("codes", "A") == 1
        assert registry.scan("codes") == [("A", 1)]
        for write in (
            lambda: registry.add("codes", "B", 1),
            lambda: registry.put("codes", "A", 2),
            lambda: registry.delete("codes", "A"),
            lambda: registry.get("codes", "A", lock=True),
        ):
            with pytest.raises(RuntimeError, match="read-only"):
                write()
    with store.transaction("club", write=False) as transaction:
        assert transaction.registry().scan("codes") == [("A", 1)]


def test_erasure_leaves_the_registry_to_its_caller(store: Store) -> None:
    _enrol(store)
    with store.transaction("club") as transaction:
        registry = transaction.registry()
        registry.put("referrals", "CODE-1", {"referrer": "m-1"})
        registry.put("m-1", "m-1", "m-1")
        transaction.commit()
    with store.transaction("club") as transaction:
        transaction.erase("m-1", "anon-1")
        transaction.commit()
    with store.transaction("club", write=False) as transaction:
        registry = transaction.registry()
        # The store does not know which rows name the member: the caller moves them.
        assert registry.scan("referrals") == [("CODE-1", {"referrer": "m-1"})]
        assert registry.get("m-1", "m-1") == "m-1"
