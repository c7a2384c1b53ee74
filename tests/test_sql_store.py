"""The SQL store on what is particular to it: the migrations, SQLite's locking and WAL,
PostgreSQL's row locks and error codes, lazy history reads, shared stock under
threads, the outbox and erasure, down to the rows.

Every test runs on a SQLite file; those marked with the ``backend`` fixture also run on
PostgreSQL when ``LOYALTY_POSTGRES_URL`` is set (each test in a schema of its own,
dropped after it). Without it the PostgreSQL runs are skipped, but fail under CI=true.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Dialect, bindparam, create_engine, inspect, make_url, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from loyalty import Account, earn
from loyalty.checkout.stock import claim_prefix
from loyalty.ledger.account import restore
from loyalty.notifications import PointsEarned
from loyalty.store.port import MemberProfile, StoreConflict, StoredMember
from loyalty.store.sql import SQLStore, metadata, migrate
from loyalty.store.sql import statements as sql
from loyalty.store.sql.prepared import _Prepared
from loyalty.store.sql.schema import VERSION_TABLE
from loyalty.store.sql.upgrade import alembic_config
from tests.builders import T0, account, days
from tests.conftest import postgres_url

TABLES = {
    "loyalty_members",
    "loyalty_entries",
    "loyalty_keys",
    "loyalty_stock",
    "loyalty_stock_claims",
    "loyalty_state_items",
    "loyalty_outbox",
    "loyalty_registry",
}


# --- where the tests run ------------------------------------------------------------------------


@pytest.fixture
def postgres() -> Iterator[str]:
    """A URL whose connections work in a fresh schema (dropped afterwards)."""
    base = postgres_url()
    schema = f"loyalty_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'loyalty.db'}"
    found: str = request.getfixturevalue("postgres")
    return found


@pytest.fixture
def store(url: str) -> Iterator[SQLStore]:
    opened = SQLStore(url)
    yield opened
    opened.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'loyalty.db'}"


# --- helpers ------------------------------------------------------------------------------------


def journal(member_id: str, count: int, start: int = 0) -> Account:
    """An account with ``count`` earns, a day apart, keyed ``k<n>``."""
    member = account(member_id)
    for n in range(start, start + count):
        earn(member, points=10 + n, at=T0 + days(n), key=f"k{n}", source=f"order-{n}")
    return member


def enrol(store: SQLStore, program: str, member: Account, **profile: Any) -> None:
    """Store ``member`` as a new member, then its journal (two transactions)."""
    empty = account(member.member_id).snapshot()
    with store.transaction(program) as transaction:
        stored = StoredMember(MemberProfile(member.member_id, T0, **profile), 0, empty)
        transaction.add_member(stored)
        transaction.commit()
    save(store, program, member, 0)


def save(store: SQLStore, program: str, member: Account, version: int) -> None:
    with store.transaction(program) as transaction:
        new = member.journal[version:]
        transaction.save(member.member_id, version, new, member.snapshot())
        transaction.commit()


def notification(member_id: str, dedupe: str, points: int = 10) -> PointsEarned:
    return PointsEarned(
        member_id=member_id,
        at=T0,
        dedupe=dedupe,
        points=points,
        balance=points,
        source=None,
        available_at=T0,
        expires_at=None,
    )


def statements(caplog: pytest.LogCaptureFixture) -> Callable[[], int]:
    """How many statements the store has sent since (it logs each at DEBUG level)."""
    caplog.set_level(logging.DEBUG, logger="loyalty.store.sql")
    caplog.clear()
    return lambda: len([r for r in caplog.records if r.name == "loyalty.store.sql"])


def retry(work: Callable[[], bool]) -> bool:
    """``work()`` until it does not lose a race."""
    for _ in range(200):
        try:
            return work()
        except StoreConflict:
            time.sleep(0.01)
    raise AssertionError("still losing races after 200 attempts")


# --- migrations ---------------------------------------------------------------------------------


def test_the_migration_creates_exactly_the_tables_of_the_metadata(url: str) -> None:
    migrate(url)
    migrate(url)  # a second run finds nothing to do
    engine = create_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": VERSION_TABLE, "compare_type": True}
        )
        assert compare_metadata(context, metadata) == []
        assert set(inspect(connection).get_table_names()) == {*TABLES, VERSION_TABLE}
        revision = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
        assert revision.scalars().all() == ["0004"]
        if connection.dialect.name == "sqlite":  # table options compare_metadata does not see
            created = dict(connection.execute(text("SELECT name, sql FROM sqlite_master")).all())
            for table in metadata.tables.values():
                clustered = table.dialect_options["sqlite"]["with_rowid"] is False
                assert ("WITHOUT ROWID" in created[table.name]) == clustered, table.name
    engine.dispose()


def test_registry_keys_compare_byte_by_byte_whatever_the_database_collation(
    postgres: str,
) -> None:
    """The registry's names are ``COLLATE "C"`` on PostgreSQL, so a scan is in Python's
    ``str`` order even where the database's default collation is a language's (the test
    server's is C, where the contract tests could not tell). SQLite compares bytes."""
    migrate(postgres)
    engine = create_engine(postgres)
    with engine.connect() as connection:
        found = connection.execute(
            text(
                "SELECT column_name, collation_name FROM information_schema.columns"
                " WHERE table_name = 'loyalty_registry' AND table_schema = current_schema()"
                " AND column_name <> 'value'"
            )
        ).all()
    engine.dispose()
    assert sorted(found) == [("key", "C"), ("program_id", "C"), ("space", "C")]


def test_members_stored_before_incarnations_upgrade_to_the_empty_one(url: str) -> None:
    migrate(url, "0001")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO loyalty_members (program_id, member_id, enrolled_at, segments,"
                " erased, version, state) VALUES ('p', 'm-1', :at, '[]', false, 0, :state)"
            ),
            {"at": T0, "state": json.dumps({})},
        )
    engine.dispose()
    store = SQLStore(url)  # migrates to the head
    with store.transaction("p", write=False) as transaction:
        stored = transaction.member("m-1")
    assert stored is not None
    assert (stored.version, stored.incarnation) == (0, "")
    store.close()


def test_downgrading_to_base_drops_the_tables(url: str) -> None:
    migrate(url)
    engine = create_engine(url)
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) == {VERSION_TABLE}
    engine.dispose()


def test_a_store_can_skip_migrating(sqlite_url: str) -> None:
    store = SQLStore(sqlite_url, migrate=False)
    with pytest.raises(Exception, match="no such table"), store.transaction("p") as transaction:
        transaction.member("m-1")
    store.close()


# --- SQLite: WAL and the write lock -------------------------------------------------------------


def test_sqlite_runs_in_wal_mode(sqlite_url: str) -> None:
    store = SQLStore(sqlite_url)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        # Whatever the build's default: erased rows are zeroed, not left in free space.
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    store.close()
    # WAL is a property of the file: a plain sqlite3 connection sees it too.
    raw = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    raw.close()


def test_a_sqlite_writer_holds_the_write_lock_from_the_start(sqlite_url: str) -> None:
    store = SQLStore(sqlite_url, busy_timeout=0.05)
    raw = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), timeout=0.05)
    raw.isolation_level = None
    with store.transaction("p") as transaction:
        transaction.member("m-1")  # a read: a deferred BEGIN would hold no lock yet
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            raw.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreConflict), store.transaction("p"):
            pass
        with store.transaction("p", write=False) as reader:  # readers do not wait
            assert reader.member_ids() == []
    raw.execute("BEGIN IMMEDIATE")  # released at the end of the transaction
    raw.execute("ROLLBACK")
    raw.close()
    store.close()


def test_a_sqlite_reader_takes_no_lock(sqlite_url: str) -> None:
    store = SQLStore(sqlite_url, busy_timeout=0.05)
    with store.transaction("p", write=False) as reader:
        reader.member_ids()
        with store.transaction("p") as writer:
            writer.emit([notification("m-1", "d-1")])
            writer.commit()
    assert len(store.outbox("p")) == 1
    store.close()


# --- PostgreSQL: row locks ----------------------------------------------------------------------


def test_postgres_lock_holds_the_member_until_the_transaction_ends(postgres: str) -> None:
    store = SQLStore(postgres)
    enrol(store, "p", journal("m-1", 1))
    order: list[str] = []
    locked = threading.Event()

    def second() -> None:
        locked.wait()
        with store.transaction("p") as transaction:
            transaction.member("m-1", lock=True)
            order.append("second locked")

    thread = threading.Thread(target=second)
    with store.transaction("p") as transaction:
        transaction.member("m-1", lock=True)
        thread.start()
        locked.set()
        time.sleep(0.3)
        order.append("first done")
    thread.join()
    assert order == ["first done", "second locked"]
    store.close()


@pytest.mark.parametrize("setting", ["lock_timeout=100ms", "statement_timeout=100ms"])
def test_postgres_timeouts_are_lost_races(postgres: str, setting: str) -> None:
    """A server-side timeout while waiting on a member's row lock (SQLSTATE 55P03, or
    57014 for a statement timeout) aborts the transaction; like a lost race it is a
    StoreConflict, which the service runs again and, when it keeps timing out, reports
    as Busy, never as the driver's error."""
    options = make_url(postgres).query["options"]
    timed = make_url(postgres).update_query_dict({"options": f"{options} -c{setting}"})
    store = SQLStore(timed.render_as_string(hide_password=False))
    holder = SQLStore(postgres)
    enrol(holder, "p", journal("m-1", 1))
    with holder.transaction("p") as held:
        held.member("m-1", lock=True)
        with pytest.raises(StoreConflict), store.transaction("p") as transaction:
            transaction.member("m-1", lock=True)
    with store.transaction("p") as transaction:  # the store works on once the lock is free
        assert transaction.member("m-1", lock=True) is not None
    store.close()
    holder.close()


# --- transactions -------------------------------------------------------------------------------


def test_nothing_is_kept_unless_committed(store: SQLStore) -> None:
    member = journal("m-1", 2)
    with store.transaction("p") as transaction:
        transaction.add_member(StoredMember(MemberProfile("m-1", T0), 0, member.snapshot()))

    def fail_half_way() -> None:
        with store.transaction("p") as transaction:
            transaction.add_member(StoredMember(MemberProfile("m-1", T0), 0, member.snapshot()))
            transaction.emit([notification("m-1", "d-1")])
            assert transaction.stock({"r": 1}).claim("r", "m-1:a")
            _ = 1 / 0

    with pytest.raises(ZeroDivisionError):
        fail_half_way()
    with store.transaction("p", write=False) as transaction:
        assert transaction.member("m-1") is None
        assert transaction.stock({"r": 1}).left("r") == 1
    assert store.outbox("p") == []


def test_a_transaction_is_over_once_committed_or_left(store: SQLStore) -> None:
    with store.transaction("p") as transaction:
        transaction.commit()
        with pytest.raises(RuntimeError, match="over"):
            transaction.member_ids()
    with pytest.raises(RuntimeError, match="over"):
        transaction.member("m-1")


def test_a_read_only_transaction_refuses_writes(store: SQLStore) -> None:
    with store.transaction("p", write=False) as transaction:
        with pytest.raises(RuntimeError, match="read-only"):
            transaction.emit([notification("m-1", "d-1")])
        with pytest.raises(RuntimeError, match="read-only"):
            transaction.member("m-1", lock=True)


def test_a_stale_version_is_a_conflict_and_writes_nothing(store: SQLStore) -> None:
    member = journal("m-1", 2)
    enrol(store, "p", member)
    with store.transaction("p", write=False) as transaction:
        loaded = transaction.member("m-1")
    assert loaded is not None
    assert loaded.version == 2
    earn(member, points=5, at=T0 + days(5), key="k-new")
    save(store, "p", member, 2)  # another writer moved the member on
    stale = journal("m-1", 3)  # a third entry computed from version 2
    with pytest.raises(StoreConflict), store.transaction("p") as transaction:
        transaction.save("m-1", 2, stale.journal[2:], stale.snapshot())
    with store.transaction("p", write=False) as transaction:
        stored = transaction.member("m-1")
        assert stored is not None
        assert stored.version == 3
        history = transaction.history("m-1", 3)
        assert list(history.entries()) == list(member.journal)
        assert history.key("k2") is None


def test_enrolling_a_member_twice_is_a_conflict_even_concurrently(store: SQLStore) -> None:
    empty = account("m-1").snapshot()
    stored = StoredMember(MemberProfile("m-1", T0), 0, empty)
    outcomes: list[str] = []
    started = threading.Event()

    def second() -> None:
        started.wait()
        try:
            with store.transaction("p") as transaction:
                transaction.add_member(stored)
                transaction.commit()
            outcomes.append("enrolled")
        except StoreConflict:
            outcomes.append("conflict")

    thread = threading.Thread(target=second)
    thread.start()
    with store.transaction("p") as transaction:
        transaction.add_member(stored)
        started.set()
        time.sleep(0.2)  # the second enrolment waits for this one (lock or unique index)
        transaction.commit()
    thread.join()
    assert outcomes == ["conflict"]
    with pytest.raises(StoreConflict), store.transaction("p") as transaction:
        transaction.add_member(stored)


def test_programs_in_one_database_see_nothing_of_each_other(store: SQLStore) -> None:
    enrol(store, "p1", journal("m-1", 3), segments=("vip",))
    enrol(store, "p2", journal("m-1", 1))
    enrol(store, "p2", journal("m-2", 1))
    with store.transaction("p1") as transaction:
        assert transaction.stock({"r": 1}).claim("r", "m-1:a")
        transaction.emit([notification("m-1", "same")])
        transaction.commit()
    with store.transaction("p2") as transaction:
        assert transaction.stock({"r": 1}).claim("r", "m-1:a")  # p1's unit is not p2's
        transaction.emit([notification("m-1", "same", points=20)])  # nor is p1's dedupe
        transaction.commit()
    with store.transaction("p1", write=False) as transaction:
        assert transaction.member_ids() == ["m-1"]
        stored = transaction.member("m-1")
        assert stored is not None
        assert stored.version == 3
        assert stored.profile.segments == ("vip",)
        assert transaction.member("m-2") is None
        assert [e.seq for e in transaction.history("m-1", 3).entries()] == [1, 2, 3]
    with store.transaction("p2", write=False) as transaction:
        assert transaction.member_ids() == ["m-1", "m-2"]
        stored = transaction.member("m-1")
        assert stored is not None
        assert stored.version == 1
        assert stored.profile.segments == ()
        assert len(list(transaction.history("m-1", 3).keys())) == 1
    assert [m.notification.points for m in store.outbox("p1")] == [10]  # type: ignore[attr-defined]
    assert [m.notification.points for m in store.outbox("p2")] == [20]  # type: ignore[attr-defined]
    store.acknowledge("p2", [m.id for m in store.outbox("p1")])  # p1's ids, through p2
    assert len(store.outbox("p1")) == 1
    with store.transaction("p2") as transaction:
        transaction.erase("m-1", "anon")
        transaction.commit()
    with store.transaction("p1", write=False) as transaction:
        assert transaction.member_ids() == ["m-1"]
    assert len(store.outbox("p1")) == 1


def test_member_ids_come_in_code_point_order_in_batches(store: SQLStore) -> None:
    ids = ["b", "a", "Z", "a-1", "é", "a_1", "10", "9"]
    with store.transaction("p") as transaction:
        for member_id in ids:
            snapshot = account(member_id).snapshot()
            transaction.add_member(StoredMember(MemberProfile(member_id, T0), 0, snapshot))
        transaction.commit()
    with store.transaction("p", write=False) as transaction:
        assert transaction.member_ids() == sorted(ids)
        assert transaction.member_ids(limit=3) == sorted(ids)[:3]
        assert transaction.member_ids(after="a-1", limit=2) == ["a_1", "b"]
        assert transaction.member_ids(after="é") == []


# --- members and history ------------------------------------------------------------------------


def test_a_member_reads_back_as_saved(store: SQLStore) -> None:
    member = journal("m-1", 4)
    enrol(store, "p", member, birthday=date(1990, 5, 17), segments=("vip", "eu"))
    with store.transaction("p", write=False) as transaction:
        stored = transaction.member("m-1")
        assert stored is not None
        assert stored.profile == MemberProfile("m-1", T0, date(1990, 5, 17), ("vip", "eu"))
        assert stored.version == 4
        assert stored.state == replace(member.snapshot(), keys=())  # keys live in their rows
        again = restore(member.program, "m-1", stored.state, transaction.history("m-1", 4))
        assert again.snapshot() == member.snapshot()
        assert again.journal == member.journal


def test_save_can_change_the_profile(store: SQLStore) -> None:
    member = journal("m-1", 1)
    enrol(store, "p", member)
    profile = MemberProfile("m-1", T0 + days(1), date(2000, 2, 29), ("new",))
    with store.transaction("p") as transaction:
        transaction.save("m-1", 1, (), member.snapshot(), profile)
        transaction.commit()
    with store.transaction("p", write=False) as transaction:
        stored = transaction.member("m-1")
        assert stored is not None
        assert stored.profile == profile
        assert stored.version == 1


def test_history_reads_lazily_and_only_its_length(
    store: SQLStore, caplog: pytest.LogCaptureFixture
) -> None:
    member = journal("m-1", 30)
    enrol(store, "p", member)
    earn(member, points=1, at=T0 + days(40), key="k-late")
    save(store, "p", member, 30)  # entry 31 is past the history's length below
    with store.transaction("p", write=False) as transaction:
        sent = statements(caplog)
        history = transaction.history("m-1", 30)
        assert sent() == 0
        assert history.length == 30
        entries = history.entries()
        first = next(entries)
        assert first == member.journal[0]
        assert sent() == 1
        assert next(history.entries(17)) == member.journal[16]
        assert sent() == 2
        assert list(entries) == list(member.journal[1:30])  # the rest, page by page
        assert [e.seq for e in history.entries(29)] == [29, 30]
        assert list(history.entries(31)) == []
        assert history.key("k-late") is None
        assert history.key("k7") == dict(member.snapshot().keys)["k7"]
        assert dict(history.keys()) == {
            key: record for key, record in member.snapshot().keys if key != "k-late"
        }


def test_keys_read_with_the_member_are_answered_without_another_read(
    store: SQLStore, caplog: pytest.LogCaptureFixture
) -> None:
    member = journal("m-1", 5)
    enrol(store, "p", member)
    records = dict(member.snapshot().keys)
    with store.transaction("p") as transaction:
        sent = statements(caplog)
        stored = transaction.member("m-1", lock=True, keys=("k3", "k-new"))
        assert stored is not None
        assert stored.version == 5
        read = sent()
        assert read == 3  # the member and each key: one round trip on PostgreSQL
        history = transaction.history("m-1", 5)
        assert history.key("k3") == records["k3"]
        assert history.key("k-new") is None
        assert sent() == read
        assert history.key("k4") == records["k4"]  # not asked for: read
        assert sent() == read + 1
        assert transaction.history("m-1", 4).key("k3") is not None  # another length: read
        assert sent() == read + 2
        later = journal("m-1", 6)
        transaction.save("m-1", 5, later.journal[5:], later.snapshot())
        # After a save the keys read before are not trusted: k5 is stored now.
        assert transaction.history("m-1", 6).key("k5") == dict(later.snapshot().keys)["k5"]
    with store.transaction("p", write=False) as transaction:
        assert transaction.member("m-2", keys=("k3",)) is None
        sent = statements(caplog)
        assert transaction.member("m-1", keys=("k3",)) is not None
        assert sent() == (1 if store.dialect == "sqlite" else 2)  # SQLite: one join
        assert transaction.history("m-1", 5).key("k3") == records["k3"]
        assert transaction.member("m-1", keys=("k-new",)) is not None
        assert transaction.history("m-1", 5).key("k-new") is None
        assert sent() == (2 if store.dialect == "sqlite" else 4)


def test_notifications_are_written_with_the_save_or_at_commit_and_dropped_by_erase(
    store: SQLStore,
) -> None:
    member = journal("m-1", 2)
    enrol(store, "p", member)
    with store.transaction("p") as transaction:
        transaction.emit([notification("m-2", "left")])  # never committed
    with store.transaction("p") as transaction:
        transaction.emit([notification("m-2", "alone")])  # no save: written at the commit
        transaction.commit()
    with store.transaction("p") as transaction:
        transaction.emit([notification("m-1", "saved")])
        more = journal("m-1", 3)
        transaction.save("m-1", 2, more.journal[2:], more.snapshot())
        transaction.commit()
    assert [m.notification.dedupe for m in store.outbox("p")] == ["alone", "saved"]
    with store.transaction("p") as transaction:
        transaction.emit([notification("m-1", "before erase")])
        transaction.erase("m-1", "erased-1")
        transaction.commit()
    assert [m.notification.dedupe for m in store.outbox("p")] == ["alone"]


def test_since_compares_instants_whatever_the_offset(store: SQLStore) -> None:
    member = journal("m-1", 10)
    enrol(store, "p", member)
    tokyo = timezone(timedelta(hours=9))
    with store.transaction("p", write=False) as transaction:
        history = transaction.history("m-1", 10)
        at = (T0 + days(6)).astimezone(tokyo)
        assert [e.seq for e in history.since(at)] == [7, 8, 9, 10]
        assert [e.seq for e in history.since(at + timedelta(microseconds=1))] == [8, 9, 10]
        assert [e.seq for e in history.since(T0 - days(1))] == list(range(1, 11))
        assert list(history.since(T0 + days(10))) == []


def test_a_request_with_several_entries_keeps_its_first_entry_for_its_key(store: SQLStore) -> None:
    member = journal("m-1", 1)
    first = member.journal[0]
    again = replace(first, id="m-1:2", seq=2, fingerprint="other")  # same key, second entry
    enrol(store, "p", member)
    with store.transaction("p") as transaction:
        transaction.save("m-1", 1, [again], member.snapshot())
        transaction.commit()
    with store.transaction("p", write=False) as transaction:
        record = transaction.history("m-1", 2).key("k0")
        assert record is not None
        assert (record.seq, record.fingerprint) == (1, first.fingerprint)


def test_save_refuses_entries_that_do_not_follow_the_version(store: SQLStore) -> None:
    member = journal("m-1", 2)
    enrol(store, "p", journal("m-1", 1))
    with pytest.raises(ValueError, match="is not entry"), store.transaction("p") as transaction:
        transaction.save("m-1", 0, member.journal[1:], member.snapshot())


# --- stock --------------------------------------------------------------------------------------


def test_stock_claims_are_keyed_and_given_back(store: SQLStore) -> None:
    limits = {"gift": 2, "none": 0}
    with store.transaction("p") as transaction:
        stock = transaction.stock(limits)
        assert stock.left("gift") == 2
        assert stock.left("unlimited") is None
        assert stock.claim("gift", "m-1:a")
        assert stock.claim("gift", "m-1:a")
        assert stock.left("gift") == 1
        assert stock.claim("gift", "m-2:a")
        assert not stock.claim("gift", "m-3:a")
        assert not stock.claim("none", "m-1:a")
        assert stock.claim("unlimited", "m-1:a")
        stock.release("gift", "m-2:a")
        stock.release("gift", "m-2:a")  # released once
        stock.release("gift", "m-9:z")  # never claimed
        assert stock.left("gift") == 1
        transaction.commit()
    with store.transaction("p") as transaction:
        stock = transaction.stock(limits)
        assert stock.claim("gift", "m-3:a")
        assert not stock.claim("gift", "m-4:a")
        assert stock.left("gift") == 0
        # not committed: m-3's unit comes back
    with store.transaction("p", write=False) as transaction:
        assert transaction.stock(limits).left("gift") == 1


def test_stock_is_never_overspent_by_concurrent_claims(url: str) -> None:
    store = SQLStore(url)
    limit, threads, attempts = 13, 8, 6
    granted: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def claimant(n: int) -> None:
        start.wait()
        for attempt in range(attempts):
            claim = f"m-{n}:{attempt}"

            def work(claim: str = claim) -> bool:
                with store.transaction("p") as transaction:
                    won = transaction.stock({"gift": limit}).claim("gift", claim)
                    transaction.commit()
                return won

            if retry(work):
                with lock:
                    granted.append(claim)

    workers = [threading.Thread(target=claimant, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(granted) == limit
    with store.transaction("p", write=False) as transaction:
        assert transaction.stock({"gift": limit}).left("gift") == 0
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT claim FROM loyalty_stock_claims")).scalars()
        assert sorted(rows) == sorted(granted)
    store.close()


# --- outbox -------------------------------------------------------------------------------------


def test_the_outbox_drops_duplicates_and_forgets_what_was_acknowledged(store: SQLStore) -> None:
    with store.transaction("p") as transaction:
        transaction.emit([notification("m-1", "a"), notification("m-1", "b", 20)])
        transaction.emit([notification("m-1", "a", 99)])  # the same fact, announced again
        transaction.commit()
    with store.transaction("p") as transaction:
        transaction.emit([notification("m-2", "b", 99), notification("m-2", "c", 30)])
        transaction.emit([])
        transaction.commit()
    messages = store.outbox("p")
    assert [m.notification for m in messages] == [
        notification("m-1", "a"),
        notification("m-1", "b", 20),
        notification("m-2", "c", 30),
    ]
    assert [m.id for m in messages] == sorted(m.id for m in messages)
    assert store.outbox("p", limit=2) == messages[:2]
    store.acknowledge("p", [messages[0].id, messages[2].id])
    store.acknowledge("p", [])
    assert store.outbox("p") == [messages[1]]
    with store.transaction("p") as transaction:
        transaction.emit([notification("m-1", "a", 99)])  # acknowledged is still announced
        transaction.commit()
    assert store.outbox("p") == [messages[1]]


# --- erasure ------------------------------------------------------------------------------------


def test_erase_moves_the_journal_and_drops_personal_data(store: SQLStore) -> None:
    member = journal("m-1", 3)
    enrol(store, "p", member, birthday=date(1990, 5, 17), segments=("vip",))
    enrol(store, "p", journal("m-2", 1))
    with store.transaction("p") as transaction:
        stock = transaction.stock({"gift": 5})
        assert stock.claim("gift", claim_prefix("m-1") + "k1")
        assert stock.claim("gift", claim_prefix("m-2") + "k1")
        assert stock.claim("gift", claim_prefix("m-10") + "k1")  # an id that starts alike
        transaction.emit([notification("m-1", "a"), notification("m-2", "b")])
        transaction.registry().put("codes", "WELCOME", {"holder": "m-2"})
        transaction.commit()
    with store.transaction("p") as transaction:
        transaction.erase("m-1", "anon-7")
        transaction.erase("m-404", "anon-8")  # nobody: nothing to do
        transaction.commit()
    with store.transaction("p", write=False) as transaction:
        assert transaction.member("m-1") is None
        assert transaction.member_ids() == ["anon-7", "m-2"]
        erased = transaction.member("anon-7")
        assert erased is not None
        assert erased.profile == MemberProfile("anon-7", T0, None, (), erased=True)
        assert erased.version == 3
        history = transaction.history("anon-7", 3)
        assert [e.id for e in history.entries()] == ["anon-7:1", "anon-7:2", "anon-7:3"]
        assert [e.points for e in history.entries()] == [e.points for e in member.journal]
        assert history.key("k1") is not None
        assert list(transaction.history("m-1", 3).entries()) == []
        assert transaction.history("m-1", 3).key("k1") is None
    assert [m.notification.member_id for m in store.outbox("p")] == ["m-2"]
    with store.engine.connect() as connection:
        claims = connection.execute(text("SELECT claim FROM loyalty_stock_claims")).scalars()
        kept = [claim_prefix(member) + "k1" for member in ("anon-7", "m-10", "m-2")]
        assert sorted(claims) == sorted(kept)
        for table in TABLES:
            rows = connection.execute(text(f"SELECT * FROM {table}")).all()
            values = [str(v) for row in rows for v in row if v != claim_prefix("m-10") + "k1"]
            assert values, table
            assert [value for value in values if "m-1" in value] == [], table


# --- the SQLAlchemy internals the prepared statements read ----------------------------------------

# Statements of each kind the store runs, with parameters as the store passes them (the
# upserts are spelled per database: their attribute on ``sql._UPSERTS[dialect]``).
KINDS: dict[str, tuple[str, dict[str, Any]]] = {
    "select": ("_SELECT_MEMBER", {"p_program": "p", "p_member": "m-1"}),
    "select for update": ("_LOCK_MEMBER", {"p_program": "p", "p_member": "m-1"}),
    "paged select": (
        "_ENTRIES_FROM",
        {"p_program": "p", "p_member": "m-1", "p_start": 2, "p_length": 9, "p_limit": 8},
    ),
    "keyset select": (
        "_KEYS_AFTER",
        {"p_program": "p", "p_member": "m-1", "p_length": 9, "p_limit": 8, "p_after": "k1"},
    ),
    "update": ("_GIVE_BACK", {"p_program": "p", "p_reward": "gift"}),
    "update with functions": (
        "_MOVE_CLAIMS",
        {
            "p_program": "p",
            "p_prefix": "m-1:",
            "p_prefix_length": 4,
            "p_rest": 5,
            "p_new_prefix": "anon-7:",
        },
    ),
    "delete": ("_DELETE_CLAIM", {"p_program": "p", "p_reward": "gift", "p_claim": "m-1:k1"}),
    "insert, or nothing": (
        "insert_keys",
        {"program_id": "p", "member_id": "m-1", "key": "k1", "fingerprint": "f", "seq": 3},
    ),
    "insert, or update": ("take", {"p_program": "p", "p_reward": "gift", "p_limit": 5}),
}


def sqlalchemy_dialect(name: str) -> Dialect:
    if name == "postgresql":
        pytest.importorskip("psycopg")
        return postgresql.psycopg.dialect()  # type: ignore[no-untyped-call]
    return sqlite.dialect()


def kind_statement(kind: str, dialect: str) -> ClauseElement:
    name, _ = KINDS[kind]
    found: ClauseElement = getattr(sql._UPSERTS[dialect] if name.islower() else sql, name)
    return found


def placeholders(statement: ClauseElement, dialect: Dialect) -> list[str]:
    """The parameter names in the order the SQL uses them, read from the SQL written with
    named placeholders (SQLite) or from psycopg's ``%(name)s``."""
    if dialect.name == "sqlite":
        named = statement.compile(dialect=sqlite.dialect(paramstyle="named"))
        return re.findall(r":(\w+)", str(named))
    return re.findall(r"%\((\w+)\)s", str(statement.compile(dialect=dialect)))


@pytest.mark.parametrize("dialect_name", ["sqlite", "postgresql"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_prepared_statements_on_sqlalchemy_internals(kind: str, dialect_name: str) -> None:
    """loyalty.store.sql.prepared reads SQLCompiler.bind_names, SQLCompiler.positiontup
    and BindParameter.effective_value, which are not public API: a SQLAlchemy upgrade
    that drops or changes them fails here, before it reorders a write's parameters."""
    dialect = sqlalchemy_dialect(dialect_name)
    statement = kind_statement(kind, dialect_name)
    compiled = statement.compile(dialect=dialect)
    version = f"SQLAlchemy {sqlalchemy.__version__}"
    assert isinstance(compiled, SQLCompiler), f"{version}: {kind} compiles to {type(compiled)}"
    for internal in ("bind_names", "positiontup"):
        assert hasattr(compiled, internal), (
            f"{version}: SQLCompiler.{internal} is gone; loyalty.store.sql.prepared reads it"
        )
    assert getattr(bindparam("literal", 7), "effective_value", None) == 7, (
        f"{version}: BindParameter.effective_value is gone; loyalty.store.sql.prepared reads it"
    )

    _, params = KINDS[kind]
    prepared = _Prepared(statement, dialect)
    order = placeholders(statement, dialect)
    # Every parameter, with the values of the literals SQLAlchemy binds (public API).
    expected = compiled.construct_params(params)
    assert prepared.sql == compiled.string
    assert set(params) <= set(order)
    if dialect_name == "sqlite":
        assert prepared.positional
        assert prepared.names == tuple(order)
        assert prepared.sql.count("?") == len(order)
        assert prepared.values(params) == tuple(expected[name] for name in order)
    else:
        assert not prepared.positional
        assert sorted(prepared.names) == sorted(set(order))
        assert prepared.values(params) == {name: expected[name] for name in order}


def test_prepared_literals_and_conversions_land_in_their_places() -> None:
    """The literals (``claimed = 1``, ``claimed + 1``) come from the statement and the
    column conversions apply to their own parameters, in the order the SQL reads them."""
    take = _Prepared(sql._UPSERTS["sqlite"].take, sqlite.dialect())
    assert take.values({"p_program": "p", "p_reward": "gift", "p_limit": 5}) == (
        "p",
        "gift",
        1,
        1,
        5,
    )
    at = datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    payload = {"points": 10, "note": "x"}
    row = {
        "program_id": "p",
        "member_id": "m-1",
        "seq": 1,
        "at": at,
        "kind": "earn",
        "source": None,
        "key": "k1",
        "payload": payload,
    }
    insert = _Prepared(sql._INSERT_ENTRIES, sqlite.dialect())
    values = dict(zip(insert.names, insert.values(row), strict=True))
    assert {name: values[name] for name in row if name not in ("at", "payload")} == {
        name: row[name] for name in row if name not in ("at", "payload")
    }
    assert values["at"] == "2024-01-02 01:04:05.000000"  # in UTC, as SQLite stores it
    assert json.loads(values["payload"]) == payload


# --- SQLite in memory: one connection shared by threads -----------------------------------------

IN_MEMORY_THREADS = """
import sys, threading
from loyalty import LoyaltyService, load_program
from loyalty.store.sql import SQLStore
from tests.test_concurrency import config, order_event

store = SQLStore(sys.argv[1])
service = LoyaltyService(load_program(config("mem")), store)
members = [f"m-{n}" for n in range(6)]
for member in members:
    service.enrol(member, at=__import__("tests.builders").builders.T0)
errors = []

def send(member):
    for number in range(25):
        try:
            service.handle(order_event(f"{member}-{number}", member, "10.00"))
            service.balance(member)
        except Exception as error:
            errors.append(f"{type(error).__name__}: {error}")

threads = [threading.Thread(target=send, args=(member,)) for member in members]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(60)
print(sorted(set(errors)))
print([service.balance(member).available for member in members])
print([service.verify(member) for member in members])
"""


@pytest.mark.parametrize("memory_url", ["sqlite://", "sqlite:///:memory:"])
def test_threads_sharing_an_in_memory_sqlite_store_take_turns_and_never_crash(
    memory_url: str,
) -> None:
    # Run apart: before, the shared connection raised raw OperationalErrors, then signal 11.
    done = subprocess.run(
        [sys.executable, "-c", IN_MEMORY_THREADS, memory_url],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    errors, balances, checks = done.stdout.splitlines()[-3:]
    assert errors == "[]"
    assert balances == str([50 + 25 * 10] * 6)
    assert checks == str([[]] * 6)


# --- SQLite: erasure leaves no copy of the personal data in the files ---------------------------


def test_after_erase_no_byte_of_the_member_id_or_segments_is_left_in_the_sqlite_files(
    tmp_path: Path,
) -> None:
    from loyalty import LoyaltyService, load_program
    from tests.test_concurrency import config, order_event

    path = tmp_path / "loyalty.db"
    store = SQLStore(f"sqlite:///{path}")
    service = LoyaltyService(load_program(config("wal")), store)
    member, segment = "zelda.personal@example.org", "segment-only-zelda-has"
    service.enrol(member, at=T0, segments=[segment])
    service.enrol("someone-else", at=T0)
    for number in range(30):  # many versions of her rows: pages rewritten again and again
        service.handle(order_event(f"o-{number}", member, "12.50"))
        service.handle(order_event(f"p-{number}", "someone-else", "3.00"))
    service.balance(member)  # a reader's connection is in the pool too
    with sqlite3.connect(path) as connection:  # her rows in the file, as after a long run
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    assert member.encode() in path.read_bytes()
    pseudonym = service.erase(member)
    assert service.verify(pseudonym) == []
    assert service.balance(pseudonym).available == 50 + 30 * 12
    for name in (path, Path(f"{path}-wal"), Path(f"{path}-journal")):
        found = name.read_bytes() if name.exists() else b""
        assert member.encode() not in found, name
        assert segment.encode() not in found, name
    store.close()
