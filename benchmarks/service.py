"""Service benchmarks: order events through :class:`loyalty.LoyaltyService` on each store,
against raw driver inserts of the same rows, batch imports and a hot member.

One program (:data:`PROGRAM`: 1 point per USD, a 12-month expiry, no tiers, so an
order writes exactly two entries: the Order and its Earn). :data:`MEMBERS` members
are enrolled first (untimed); the measured order events go to them in turn, so
each member's journal stays short (a few dozen entries at most), 1 ms apart.

*Order events* (``service.<store>.events_per_s``): ``service.handle(event)`` on an
``order_completed`` mapping with a 3-line cart, one transaction per event (load
and lock the member, validate the event and cart, run the engine, append the
Order and Earn entries, the idempotency key, the member's new state and any
notifications, commit). Stores: :class:`~loyalty.store.memory.MemoryStore`
(informational), ``SQLStore`` on a SQLite file in a temporary directory, and on
PostgreSQL at ``LOYALTY_POSTGRES_URL`` (not measured, with a note, when unset), in a
schema of its own (:data:`SCHEMA`, dropped before and after the run).

*Raw driver* (``service.<db>.raw_events_per_s``, ``service.<db>.ratio_to_raw``):
in the same run, interleaved with the service, the rows the service writes to
``loyalty_entries`` per event (the Order and Earn rows, their JSON payloads
precomputed by the codec before timing), the key row to ``loyalty_keys`` and the
"points earned" notification to ``loyalty_outbox`` (the service's guarantee: the
notification is written in the transaction that earned the points, exactly once, so
the floor of the write includes it), one transaction per event, straight through the
DBAPI driver (``sqlite3`` with WAL and ``synchronous=NORMAL``, as the store sets
them; ``psycopg`` 3, one statement per table: four round trips with the BEGIN and
the COMMIT), into the same tables under another program id. It does no engine work
and no reads: the ratio service/raw is the cost of the library (validation, engine,
codec, the member row and its state items) over the floor of the writes, goal at
most :data:`GOAL_RATIO`. It leaves out what a hand-written service might keep
elsewhere: the member row (its lock and state: ``service.<db>.raw_member_*``,
informational, locks it with ``SELECT ... FOR UPDATE`` on PostgreSQL and updates its
precomputed state, the least a hand-written service would do) and the state items
(the lot and the order, one row each), which the service writes so that loading a
member never reads the journal.

*Batch import* (``service.<db>.import_events_per_s``): ``import_events(events,
batch_size=500)`` over the same kind of events, interleaved with one transaction
per event; ``service.<db>.import_speedup`` is per-event time of ``handle`` over
per-event time of the import.

*History length* (``service.sqlite.history.*``): ``handle`` for members with
:data:`SHORT` prior orders against members with :data:`LONG` (10,000; 1,000 with
``--quick``), on a SQLite file, interleaved: ``kept`` with the service's kept accounts
(the usual path: the write saves only the state items it changed), and ``loaded``
with ``cache_size=0`` (every request loads the member cold). The design's budget,
:data:`HISTORY_GOAL`, holds for both: a write costs the same whatever the history.
``loaded`` misses it for now (a cold load reads every state item: one per lot and
per order, so it grows with the history). The histories are written in bulk through
the store (:func:`_bulk_history`): one template member's orders run through the
engine once, then stored under each member id in one save.

*Hot member* (``service.postgresql.hot_member.*``): 8 threads (then 8 processes,
each with its own store) each redeem 1 point at a time with
``service.adjust(member, -1, ...)`` from one member who has enough points, for a
fixed number of redemptions each, all at one instant; redemptions per second from
when every worker is ready (a barrier) to when the last one ends. Every write
locks the member, so this is the rate of one member's serialised transactions.
After, the member's balance must have dropped by exactly the number of successes
and ``service.verify(member)`` must be empty, or the run fails.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import loyalty
from benchmarks.harness import Result, Settings, Timing, interleave, log, paired_ratio, timed
from loyalty import LoyaltyService, Program
from loyalty.errors import Busy
from loyalty.notifications import decided, dedupe_key
from loyalty.store.codec import decode_entry, decode_snapshot, encode_entry, encode_snapshot
from loyalty.store.memory import MemoryStore
from loyalty.store.port import MemberProfile, StoredMember

__all__ = ["run"]

GOAL_RATIO = 2.0
HISTORY_GOAL = 1.3
SHORT = 10
LONG = 10_000
LONG_QUICK = 1_000
"""Prior orders of the long-history members (``--quick``: :data:`LONG_QUICK`)."""
HISTORY_MEMBERS = 4
"""Members of each history length and mode, taking the measured orders in turn (each
mode has members of its own: a write by one service moves the member on, and the
other service would then load it afresh)."""
PROGRAM: dict[str, Any] = {
    "id": "bench-service",
    "name": "Benchmark Service",
    "currency": "USD",
    "timezone": "Europe/Paris",
    "earning": {"rate": "1"},
    "expiry": {"policy": "fixed", "after": "12 months"},
}
RAW_PROGRAM = "bench-service-raw"
"""The raw inserts go to the same tables under this program id."""
MEMBERS = 200
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STEP = timedelta(milliseconds=1)
BATCH = 500
HOT_WORKERS = 8
HOT_POINTS = 1_000_000
HOT_ATTEMPTS = 50
LINES: list[dict[str, Any]] = [
    {"sku": "TEA-01", "unit_price": "12.50", "quantity": 2, "categories": ["tea"]},
    {"sku": "CUP-02", "unit_price": "8.00", "quantity": 1, "categories": ["kitchen"]},
    {"sku": "BIS-03", "unit_price": "4.25", "quantity": 3, "categories": ["food"]},
]
URL_VARIABLE = "LOYALTY_POSTGRES_URL"
SCHEMA = "loyalty_bench"
"""On PostgreSQL, everything happens in this schema, dropped before and after."""


def run(settings: Settings) -> list[Result]:
    program = loyalty.load_program(PROGRAM)
    if settings.quick:
        settings = Settings(True, min(settings.rounds, 5), settings.sample_seconds,
                            settings.probe_ops)
    db_settings = Settings(settings.quick, settings.rounds, max(settings.sample_seconds, 0.1),
                           settings.probe_ops)
    results = _memory(program, db_settings)
    try:
        from loyalty.store.sql import SQLStore, migrate
    except ImportError as error:
        log(f"service: SQL stores not measured: {error}")
        return [*results, Result("service.sql.measured", 0, "", f"not measured: {error}")]
    directory = tempfile.mkdtemp(prefix="loyalty-bench-")
    try:
        url = f"sqlite:///{os.path.join(directory, 'bench.db')}"
        migrate(url)
        results += _database("sqlite", url, SQLStore, program, db_settings)
        history_url = f"sqlite:///{os.path.join(directory, 'history.db')}"
        migrate(history_url)
        results += _history(history_url, SQLStore, program, db_settings)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    pg_url = os.environ.get(URL_VARIABLE)
    if not pg_url:
        log(f"service: {URL_VARIABLE} is not set: PostgreSQL not measured")
        results.append(Result("service.postgresql.measured", 0, "", f"not measured: "
                              f"{URL_VARIABLE} is unset (make bench starts a throwaway server)"))
        return results
    schema_url = _bench_schema(pg_url)
    try:
        migrate(schema_url)
        results.append(Result("service.postgresql.measured", 1, "",
                              f"{_postgres_version(pg_url)}, in schema {SCHEMA}"))
        results += _database("postgresql", schema_url, SQLStore, program, db_settings)
        results += _hot_member(schema_url, program, settings)
    finally:
        _drop_schema(pg_url)
    return results


# ------------------------------------------------------------------ events


class _Clock:
    """Serial numbers, members in turn and instants 1 ms apart, across the samples of
    one service (so every member's journal moves forward in time)."""

    def __init__(self) -> None:
        self.serial = 0

    def next(self) -> tuple[int, str, datetime]:
        self.serial += 1
        return self.serial, _member(self.serial % MEMBERS), START + STEP * self.serial


def _member(number: int) -> str:
    return f"member-{number:04d}"


def _order(serial: int, member_id: str, at: datetime, prefix: str) -> dict[str, Any]:
    order_id = f"{prefix}-order-{serial}"
    return {
        "type": "order_completed",
        "member_id": member_id,
        "key": order_id,
        "at": at.isoformat(),
        "cart": {"id": order_id, "member_id": member_id, "currency": "USD", "lines": LINES,
                 "shipping": "4.95"},
    }


def _service(program: Program, store: Any) -> LoyaltyService:
    service = LoyaltyService(program, store)
    for number in range(MEMBERS):
        service.enrol(_member(number), at=START)
    return service


def _handle_sample(service: LoyaltyService, clock: _Clock, prefix: str,
                   ) -> Callable[[int], float]:
    def sample(ops: int) -> float:
        events = [_order(*clock.next(), prefix) for _ in range(ops)]

        def go() -> None:
            for event in events:
                service.handle(event)

        return timed(go)

    return sample


def _import_sample(service: LoyaltyService, clock: _Clock, prefix: str,
                   ) -> Callable[[int], float]:
    def sample(ops: int) -> float:
        # Whole batches only: the time of the events imported, scaled to ``ops`` of them.
        size = -(-ops // BATCH) * BATCH
        events = [_order(*clock.next(), prefix) for _ in range(size)]

        def go() -> None:
            report = service.import_events(events, batch_size=BATCH)
            if report.applied != len(events):
                raise AssertionError(f"service: import rejected {report.rejected[:3]}")

        return timed(go) * ops / size

    return sample


def _rate(name: str, timing: Timing, about: str) -> list[Result]:
    note = (f"{about}; median of {len(timing.per_op)} interleaved rounds of {timing.ops} events "
            f"(slowest/fastest round {timing.spread:.2f})")
    return [
        Result(f"{name}.events_per_s", 1 / timing.median, "events/s", note),
        Result(f"{name}.us_per_event", timing.median * 1e6, "us/event"),
    ]


def _memory(program: Program, settings: Settings) -> list[Result]:
    log("service: timing handle(order) on the memory store")
    service = _service(program, MemoryStore())
    timings = interleave({"memory": _handle_sample(service, _Clock(), "mem")}, settings)
    timing = timings["memory"]
    return [
        Result("service.memory.events_per_s", 1 / timing.median, "events/s",
               f"handle(order_completed), MemoryStore, {MEMBERS} members; informational; "
               f"median of {len(timing.per_op)} rounds of {timing.ops} events"),
        Result("service.memory.us_per_event", timing.median * 1e6, "us/event"),
    ]


# ------------------------------------------------------------------ history length


def _history(url: str, store_class: Any, program: Program, settings: Settings) -> list[Result]:
    long = LONG_QUICK if settings.quick else LONG
    log(f"service: writing members with {SHORT} and {long} prior orders on sqlite (in bulk)")
    store = store_class(url, migrate=False)
    try:
        kept = LoyaltyService(program, store)
        loaded = LoyaltyService(program, store, cache_size=0)
        groups = {
            (mode, length): [f"{mode}{length}-{n:02d}" for n in range(HISTORY_MEMBERS)]
            for mode in ("kept", "loaded")
            for length in (SHORT, long)
        }
        for length in (SHORT, long):
            _bulk_history(store, program, [*groups["kept", length], *groups["loaded", length]],
                          length)
        counter = [long + 1]  # every member's clock is at START + STEP * length

        def sample(service: LoyaltyService, members: list[str]) -> Callable[[int], float]:
            def run(ops: int) -> float:
                events = []
                for number in range(ops):
                    counter[0] += 1
                    member_id = members[number % len(members)]
                    events.append(_order(counter[0], member_id, START + STEP * counter[0], "h"))

                def go() -> None:
                    for event in events:
                        service.handle(event)

                return timed(go)

            return run

        log("service: timing handle(order) by history length on sqlite")
        # A cold load of a long history takes most of a second: probe with few events.
        history_settings = Settings(settings.quick, settings.rounds, settings.sample_seconds,
                                    probe_ops=2)
        timings = interleave({
            "kept_short": sample(kept, groups["kept", SHORT]),
            "kept_long": sample(kept, groups["kept", long]),
            "loaded_short": sample(loaded, groups["loaded", SHORT]),
            "loaded_long": sample(loaded, groups["loaded", long]),
        }, history_settings)
    finally:
        store.close()
    prefix = "service.sqlite.history"
    results: list[Result] = []
    for mode, about in (("kept", "kept accounts (the usual path)"),
                        ("loaded", "cache_size=0: every request loads the member")):
        for length, case in ((SHORT, "short"), (long, "long")):
            results.append(Result(f"{prefix}.{mode}.orders_{length}.us_per_event",
                                  timings[f"{mode}_{case}"].median * 1e6, "us/event",
                                  f"handle(order) for members with {length} prior orders, "
                                  f"{about}"))
        ratio = paired_ratio(timings[f"{mode}_long"], timings[f"{mode}_short"])
        results.append(Result(f"{prefix}.{mode}.ratio_{long}_to_{SHORT}", ratio, "x",
                              f"{long} prior orders over {SHORT} (same run, interleaved)",
                              HISTORY_GOAL))
    return results


def _bulk_history(store: Any, program: Program, member_ids: list[str], length: int) -> None:
    """Enrol ``member_ids``, each with ``length`` prior orders (at ``START + STEP * n``,
    n = 1..length), written through the store in one save per member: the orders are run
    once through the engine for a template member, and its entries and state (which never
    name the member: see :mod:`loyalty.store.codec`) are stored under each member id."""
    template = "template"
    account = loyalty.open_account(program, template, enrolled_at=START)
    for serial in range(1, length + 1):
        cart = _order(serial, template, START + STEP * serial, "history")["cart"]
        loyalty.complete_order(account, cart, at=START + STEP * serial, key=cart["id"])
    entries = [encode_entry(entry) for entry in account.entries_from(1)]
    state = encode_snapshot(account.snapshot(keys=False), template)
    empty = loyalty.open_account(program, template, enrolled_at=START).snapshot(keys=False)
    for member_id in member_ids:
        with store.transaction(program.id) as transaction:
            transaction.add_member(StoredMember(MemberProfile(member_id, START), 0, empty))
            transaction.save(member_id, 0, [decode_entry(entry, member_id) for entry in entries],
                             decode_snapshot(state, member_id))
            transaction.commit()


# ------------------------------------------------------------------ raw driver


@dataclass(slots=True)
class _RawEvent:
    member_id: str
    entries: list[tuple[Any, ...]]  # (program, member, seq, at, kind, source, key, payload)
    key: tuple[Any, ...]  # (program, member, key, fingerprint, seq)
    state: str
    outbox: tuple[Any, ...]  # (program, member, dedupe, kind, at, payload)


class _RawRows:
    """Per event, the rows the service writes, encoded before timing. Each member's first
    order is run through the engine in memory and encoded by the codec; later events
    reuse its payloads (same size and shape) under the next ``seq``, key and instant."""

    def __init__(self, program: Program, dialect: str) -> None:
        self.dialect = dialect
        self.clock = _Clock()
        self.templates: dict[
            str, tuple[list[tuple[str, str | None, str]], str, str, tuple[str, str]]
        ] = {}
        self.seqs: dict[str, int] = {}
        for number in range(MEMBERS):
            member_id = _member(number)
            account = loyalty.open_account(program, member_id, enrolled_at=START)
            available = account.balance().available
            cart = _order(0, member_id, START, "raw")["cart"]
            result = loyalty.complete_order(account, cart, at=START, key=cart["id"])
            written = [result.order, *([result.earn] if result.earn is not None else [])]
            if len(written) != 2 or written[0].fingerprint is None:
                raise AssertionError(f"service: expected Order + Earn, got {written}")
            notes = decided(account, written, available)
            if len(notes) != 1:
                raise AssertionError(f"service: expected one notification, got {notes}")
            self.templates[member_id] = (
                [(entry.kind.value, entry.source, json.dumps(encode_entry(entry)))
                 for entry in written],
                written[0].fingerprint,
                json.dumps(encode_snapshot(account.snapshot(keys=False), member_id)),
                (str(notes[0].kind), json.dumps(notes[0].data())),
            )
            self.seqs[member_id] = 0

    def next(self) -> _RawEvent:
        serial, member_id, at = self.clock.next()
        entries, fingerprint, state, (note_kind, note) = self.templates[member_id]
        first = self.seqs[member_id] + 1
        self.seqs[member_id] += len(entries)
        key = f"raw-order-{serial}"
        when = self._at(at)
        rows = [(RAW_PROGRAM, member_id, seq, when, kind, source, key, payload)
                for seq, (kind, source, payload) in enumerate(entries, first)]
        # The service's dedupe names the Earn entry (``earned`` and its id): as long here.
        dedupe = dedupe_key("earned", f"{member_id}:{first + 1}")
        return _RawEvent(member_id, rows, (RAW_PROGRAM, member_id, key, fingerprint, first),
                         state, (RAW_PROGRAM, member_id, dedupe, note_kind, when, note))

    def _at(self, at: datetime) -> Any:
        # SQLite keeps naive UTC text, as SQLAlchemy writes it; PostgreSQL a timestamptz.
        if self.dialect == "sqlite":
            return at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        return at


class _RawSQLite:
    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.connection.execute("PRAGMA journal_mode = WAL")
        self.connection.execute("PRAGMA synchronous = NORMAL")
        self.versions: dict[str, int] = {}

    def enrol(self, member_ids: list[str]) -> None:
        c = self.connection
        c.execute("BEGIN IMMEDIATE")
        c.executemany(
            "INSERT INTO loyalty_members (program_id, member_id, enrolled_at, segments, erased, "
            "version, state) VALUES (?, ?, ?, '[]', 0, 0, '{}')",
            [(RAW_PROGRAM, m, START.replace(tzinfo=None).isoformat(" ")) for m in member_ids])
        c.execute("COMMIT")

    def write(self, event: _RawEvent, member: bool) -> None:
        c = self.connection
        c.execute("BEGIN IMMEDIATE")
        if member:
            c.execute("SELECT version, state FROM loyalty_members WHERE program_id = ? "
                      "AND member_id = ?", (RAW_PROGRAM, event.member_id)).fetchone()
            c.execute("UPDATE loyalty_members SET version = version + 2, state = ? "
                      "WHERE program_id = ? AND member_id = ?",
                      (event.state, RAW_PROGRAM, event.member_id))
        c.executemany("INSERT INTO loyalty_entries (program_id, member_id, seq, at, kind, "
                      "source, key, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", event.entries)
        c.execute("INSERT INTO loyalty_keys (program_id, member_id, key, fingerprint, seq) "
                  "VALUES (?, ?, ?, ?, ?)", event.key)
        c.execute("INSERT INTO loyalty_outbox (program_id, member_id, dedupe, kind, at, payload, "
                  "acknowledged) VALUES (?, ?, ?, ?, ?, ?, 0)", event.outbox)
        c.execute("COMMIT")

    def close(self) -> None:
        self.connection.close()


class _RawPostgres:
    def __init__(self, url: str) -> None:
        import psycopg

        self.connection = psycopg.connect(_libpq(url))

    def enrol(self, member_ids: list[str]) -> None:
        with self.connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO loyalty_members (program_id, member_id, enrolled_at, segments, "
                "erased, version, state) VALUES (%s, %s, %s, '[]', false, 0, '{}')",
                [(RAW_PROGRAM, m, START) for m in member_ids])
        self.connection.commit()

    def write(self, event: _RawEvent, member: bool) -> None:
        with self.connection.cursor() as cursor:
            if member:
                cursor.execute("SELECT version, state FROM loyalty_members WHERE program_id = %s "
                               "AND member_id = %s FOR UPDATE", (RAW_PROGRAM, event.member_id))
                cursor.fetchone()
                cursor.execute("UPDATE loyalty_members SET version = version + 2, state = %s "
                               "WHERE program_id = %s AND member_id = %s",
                               (event.state, RAW_PROGRAM, event.member_id))
            one, two = event.entries
            cursor.execute("INSERT INTO loyalty_entries (program_id, member_id, seq, at, kind, "
                           "source, key, payload) VALUES (%s, %s, %s, %s, %s, %s, %s, %s), "
                           "(%s, %s, %s, %s, %s, %s, %s, %s)", (*one, *two))
            cursor.execute("INSERT INTO loyalty_keys (program_id, member_id, key, fingerprint, "
                           "seq) VALUES (%s, %s, %s, %s, %s)", event.key)
            cursor.execute("INSERT INTO loyalty_outbox (program_id, member_id, dedupe, kind, at, "
                           "payload, acknowledged) VALUES (%s, %s, %s, %s, %s, %s, false)",
                           event.outbox)
        self.connection.commit()

    def close(self) -> None:
        self.connection.close()


def _libpq(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://...``) as libpq takes it."""
    scheme, _, rest = url.partition("://")
    return f"postgresql://{rest}" if scheme.startswith("postgresql") else url


def _raw_sample(raw: _RawSQLite | _RawPostgres, rows: _RawRows, member: bool,
                ) -> Callable[[int], float]:
    def sample(ops: int) -> float:
        events = [rows.next() for _ in range(ops)]

        def go() -> None:
            for event in events:
                raw.write(event, member)

        return timed(go)

    return sample


# ------------------------------------------------------------------ one database


def _database(dialect: str, url: str, store_class: Any, program: Program,
              settings: Settings) -> list[Result]:
    log(f"service: timing handle(order) against raw inserts on {dialect}")
    store = store_class(url, migrate=False)
    raw: _RawSQLite | _RawPostgres
    raw = _RawSQLite(url.removeprefix("sqlite:///")) if dialect == "sqlite" else _RawPostgres(url)
    try:
        service = _service(program, store)
        raw.enrol([_member(n) for n in range(MEMBERS)])
        rows = _RawRows(program, dialect)
        clock = _Clock()
        timings = interleave({
            "service": _handle_sample(service, clock, "handle"),
            "raw": _raw_sample(raw, rows, member=False),
            "raw_member": _raw_sample(raw, rows, member=True),
        }, settings)
        prefix = f"service.{dialect}"
        results = _rate(prefix, timings["service"],
                        f"handle(order_completed), SQLStore on {dialect}, one transaction each")
        results += _rate(f"{prefix}.raw", timings["raw"],
                         "raw driver: 2 entry rows + 1 key row + 1 outbox row, precomputed, one "
                         "commit each")
        results += _rate(f"{prefix}.raw_member", timings["raw_member"],
                         "raw driver: as raw, plus lock the member row and update its state")
        results += [
            Result(f"{prefix}.ratio_to_raw", paired_ratio(timings["service"], timings["raw"]),
                   "x", "service time per event over raw inserts of its rows (same run, "
                   "interleaved; median of per-round ratios)", GOAL_RATIO),
            Result(f"{prefix}.ratio_to_raw_member",
                   paired_ratio(timings["service"], timings["raw_member"]), "x",
                   "service over raw with the member row locked and updated; informational"),
        ]
        log(f"service: timing import_events(batch_size={BATCH}) on {dialect}")
        batch_settings = Settings(settings.quick, max(3, settings.rounds // 3),
                                  max(settings.sample_seconds, 0.5), probe_ops=BATCH)
        imports = interleave({
            "handle": _handle_sample(service, clock, "single"),
            "import": _import_sample(service, clock, "import"),
        }, batch_settings)
        results += [
            Result(f"{prefix}.import_events_per_s", 1 / imports["import"].median, "events/s",
                   f"import_events(batch_size={BATCH}); median of {len(imports['import'].per_op)}"
                   f" rounds of {-(-imports['import'].ops // BATCH)} batch(es)"),
            Result(f"{prefix}.import_speedup",
                   paired_ratio(imports["handle"], imports["import"]), "x",
                   "per-event time of handle() (one transaction each) over import_events "
                   "(same run, interleaved)"),
        ]
        return results
    finally:
        raw.close()
        store.close()


# ------------------------------------------------------------------ PostgreSQL


def _bench_schema(url: str) -> str:
    """A fresh schema of its own for this run (dropped first if a run left one), and the
    URL that works in it: nothing outside it is touched."""
    import psycopg

    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        connection.execute(f"CREATE SCHEMA {SCHEMA}")
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{SCHEMA}"


def _drop_schema(url: str) -> None:
    import psycopg

    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


def _postgres_version(url: str) -> str:
    import psycopg

    with psycopg.connect(_libpq(url)) as connection:
        row = connection.execute("SHOW server_version").fetchone()
    return f"PostgreSQL {row[0] if row else '?'} at {URL_VARIABLE}"


HOT_MEMBER = "hot-member"
HOT_AT = START + timedelta(days=1)


def _hot_worker(url: str, worker: int, count: int, start: Any,
                results: Any = None) -> tuple[int, int, float, float]:
    """``count`` redemptions of 1 point from the hot member, once every worker is ready:
    (successes, gave up with Busy, start, end) with ``time.perf_counter`` (system-wide)."""
    from loyalty.store.sql import SQLStore

    store = SQLStore(url, migrate=False)
    service = LoyaltyService(loyalty.load_program(PROGRAM), store, attempts=HOT_ATTEMPTS)
    done = busy = 0
    try:
        start.wait()
        began = time.perf_counter()
        for number in range(count):
            try:
                key = f"hot-{os.getpid()}-{worker}-{number}"
                service.adjust(HOT_MEMBER, -1, at=HOT_AT, key=key, actor="bench",
                               reason="hot member")
                done += 1
            except Busy:
                busy += 1
        ended = time.perf_counter()
    finally:
        store.close()
    outcome = (done, busy, began, ended)
    if results is not None:
        results.put(outcome)
    return outcome


def _hot_member(url: str, program: Program, settings: Settings) -> list[Result]:
    from loyalty.store.sql import SQLStore

    count = 25 if settings.quick else 150
    store = SQLStore(url, migrate=False)
    service = LoyaltyService(program, store)
    service.enrol(HOT_MEMBER, at=START)
    service.adjust(HOT_MEMBER, HOT_POINTS, at=START, key="hot-credit", actor="bench",
                   reason="hot member")
    results: list[Result] = []
    try:
        for mode in ("threads", "processes"):
            log(f"service: hot member on postgresql, {HOT_WORKERS} {mode}")
            before = service.balance(HOT_MEMBER, HOT_AT).available
            outcomes = (_hot_threads if mode == "threads" else _hot_processes)(url, count)
            if len(outcomes) != HOT_WORKERS:
                raise AssertionError(f"service: a hot-member worker ({mode}) failed")
            done = sum(outcome[0] for outcome in outcomes)
            busy = sum(outcome[1] for outcome in outcomes)
            elapsed = max(o[3] for o in outcomes) - min(o[2] for o in outcomes)
            after = service.balance(HOT_MEMBER, HOT_AT).available
            problems = service.verify(HOT_MEMBER)
            if before - after != done or problems:
                raise AssertionError(f"service: hot member ({mode}): balance {before} -> {after} "
                                     f"after {done} redemptions; verify: {problems}")
            results += [
                Result(f"service.postgresql.hot_member.{mode}.redemptions_per_s",
                       done / elapsed, "redemptions/s",
                       f"{HOT_WORKERS} {mode} x {count} adjust(-1) on one member; {done} "
                       f"succeeded, {busy} gave up (Busy); balance fell by exactly {done}, "
                       "verify() empty"),
                Result(f"service.postgresql.hot_member.{mode}.busy", busy, "requests",
                       f"gave up after {HOT_ATTEMPTS} attempts"),
            ]
    finally:
        store.close()
    return results


def _hot_threads(url: str, count: int) -> list[tuple[int, int, float, float]]:
    start = threading.Barrier(HOT_WORKERS)
    outcomes: list[tuple[int, int, float, float]] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        outcome = _hot_worker(url, worker, count, start)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(HOT_WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _hot_processes(url: str, count: int) -> list[tuple[int, int, float, float]]:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(HOT_WORKERS)
    queue = context.Queue()
    processes = [context.Process(target=_hot_worker, args=(url, n, count, start, queue))
                 for n in range(HOT_WORKERS)]
    for process in processes:
        process.start()
    outcomes = [queue.get(timeout=300) for _ in processes]
    for process in processes:
        process.join()
    return outcomes
