"""The service over the SQL stores under concurrency and crashes.

Many writers at once (threads sharing one service, and "spawn" processes each with
its own store and service) spend one member's points, deliver one webhook, claim
a reward's shared stock or a budget kept in the registry, trigger an incentive
against its global budget, and use one coupon: nothing is overspent, issued past
its budget, used twice or credited twice. A writer killed with SIGKILL mid-import leaves every
member sound and every event either fully applied or absent, in whole batches.
Each test runs on a SQLite file and on PostgreSQL, in a program of its own (the
PostgreSQL database is shared).
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import make_url

from loyalty import (
    Busy,
    InsufficientPoints,
    LoyaltyService,
    Money,
    OrderResult,
    Program,
    Redemption,
    RedemptionRefused,
    load_program,
)
from loyalty.errors import CouponUsed, IncentiveRefused
from loyalty.ledger.entries import Adjust, Earn, Entry, Grant, HoldingStatus, Order, Redeem
from loyalty.store import StoreConflict
from loyalty.store.sql import SQLStore
from tests import crash_worker
from tests.builders import T0, days
from tests.conftest import postgres_url

N = 8
TIMEOUT = 60.0


def config(program_id: str) -> dict[str, Any]:
    """A point per dollar, available at once; a $5-off reward for 100 points and a
    free gift for the first five."""
    return {
        "id": program_id,
        "name": "Concurrency Club",
        "currency": "USD",
        "timezone": "UTC",
        "earning": {"rate": 1, "actions": {"signup": {"points": 50, "times": 1}}},
        "rewards": {
            "catalog": [
                {"id": "five-off", "kind": "amount_off", "amount": "5.00", "cost": 100},
                {"id": "gift", "kind": "amount_off", "amount": "1.00", "cost": 0, "stock": 5},
            ]
        },
    }


SIGNUP = 50
COST = 100
STOCK = 5


def cart(cart_id: str, member: str, price: str = "20.00") -> dict[str, Any]:
    return {
        "id": cart_id,
        "member_id": member,
        "currency": "USD",
        "lines": [{"sku": "SKU", "unit_price": price, "quantity": 1}],
    }


def order_event(order_id: str, member: str, price: str) -> dict[str, Any]:
    return {
        "type": "order_completed",
        "member_id": member,
        "key": f"order:{order_id}",
        "at": (T0 + days(1)).isoformat(),
        "cart": cart(order_id, member, price),
    }


# ------------------------------------------------------------------ fixtures


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database: a fresh SQLite file, or the shared PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'loyalty.db'}"
    return postgres_url()


@pytest.fixture
def program_id() -> str:
    return f"conc-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def service(url: str, program_id: str) -> Iterator[LoyaltyService]:
    store = SQLStore(url)
    yield LoyaltyService(load_program(config(program_id)), store)
    store.close()


def journal(service: LoyaltyService, member_id: str) -> list[Entry]:
    with service.store.transaction(service.program.id, write=False) as transaction:
        stored = transaction.member(member_id)
        assert stored is not None, member_id
        return list(transaction.history(member_id, stored.version).entries())


def assert_sound(service: LoyaltyService, member_id: str) -> None:
    """The stored state is what the stored journal derives, and no lot is overdrawn."""
    assert service.verify(member_id) == []
    with service.store.transaction(service.program.id, write=False) as transaction:
        stored = transaction.member(member_id)
        assert stored is not None
        assert stored.version == len(journal(service, member_id))
        assert all(0 <= lot.remaining <= lot.points for lot in stored.state.lots)
        assert stored.state.balance.available >= 0


def together(n: int, call: Callable[[int], Any]) -> list[tuple[str, Any]]:
    """Run ``call(0..n-1)`` in n threads released at once by a barrier: each
    ``("ok", result)`` or ``("error", exception)``."""
    barrier = threading.Barrier(n)
    results: list[tuple[str, Any]] = [("missing", None)] * n

    def run(number: int) -> None:
        barrier.wait(timeout=TIMEOUT)
        try:
            results[number] = ("ok", call(number))
        except Exception as error:  # each outcome is asserted by the test
            results[number] = ("error", error)

    threads = [threading.Thread(target=run, args=(number,)) for number in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    return results


# -------------------------------------------------------- processes ("spawn")
# One pool of N processes for the module (spawning is slow): each process keeps its
# stores and services, and waits on a shared barrier so the N calls start together.

_barrier: Any = None
_services: dict[tuple[str, str], LoyaltyService] = {}


def _start_worker(barrier: Any) -> None:
    global _barrier
    _barrier = barrier


def _service_in_worker(url: str, program_id: str) -> LoyaltyService:
    found = _services.get((url, program_id))
    if found is None:
        program: Program = load_program(config(program_id))
        found = LoyaltyService(program, SQLStore(url, migrate=False))  # the test migrated
        _services[(url, program_id)] = found
    return found


def _redeem_in_worker(url: str, program_id: str, number: int) -> tuple[Any, ...]:
    service = _service_in_worker(url, program_id)
    key = f"redeem:{number}"
    _barrier.wait(timeout=TIMEOUT)
    try:
        redemption = service.redeem(
            "m-1", "five-off", cart(f"C-{number}", "m-1"), at=T0 + days(1), key=key
        )
    except RedemptionRefused as error:
        return ("refused", type(error).__name__, [check.condition for check in error.unmet])
    return ("ok", key, redemption.entry.id)


def _deliver_in_worker(url: str, program_id: str, event: dict[str, Any]) -> tuple[Any, ...]:
    service = _service_in_worker(url, program_id)
    _barrier.wait(timeout=TIMEOUT)
    result = service.handle(event)
    assert isinstance(result, OrderResult)
    assert result.earn is not None
    return (result.order.id, result.earn.id, result.earn.points)


@pytest.fixture(scope="module")
def pool() -> Iterator[Any]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(N)
    with context.Pool(N, initializer=_start_worker, initargs=(barrier,)) as made:
        yield made, barrier


def in_processes(
    pool: Any, function: Callable[..., Any], calls: list[tuple[Any, ...]]
) -> list[Any]:
    made, barrier = pool
    assert len(calls) == N
    barrier.reset()
    return list(made.starmap_async(function, calls, chunksize=1).get(TIMEOUT))


# ---------------------------------------------------- 1, 2: one account, N spenders


def _funded(service: LoyaltyService) -> None:
    """m-1 with 500 points available: the signup and an adjustment."""
    service.enrol("m-1", at=T0)
    service.adjust("m-1", 5 * COST - SIGNUP, at=T0, key="fund", actor="test", reason="funding")
    assert service.balance("m-1").available == 5 * COST


def _assert_spent_five(service: LoyaltyService, keys: set[str]) -> None:
    balance = service.balance("m-1")
    assert balance.available == 0
    assert balance.earned + balance.adjusted - balance.redeemed == 0
    assert_sound(service, "m-1")
    spent = [entry for entry in journal(service, "m-1") if entry.points < 0]
    assert len(spent) == 5
    assert {entry.key for entry in spent} == keys
    assert sum(entry.points for entry in spent) == -5 * COST


def test_threads_redeeming_from_one_account_never_overspend(service: LoyaltyService) -> None:
    _funded(service)

    def redeem(number: int) -> Redemption:
        return service.redeem(
            "m-1", "five-off", cart(f"C-{number}", "m-1"), at=T0 + days(1), key=f"redeem:{number}"
        )

    results = together(N, redeem)
    done = [result for kind, result in results if kind == "ok"]
    refused = [result for kind, result in results if kind == "error"]
    assert len(done) == 5
    assert len(refused) == N - 5
    for error in refused:
        assert type(error) is RedemptionRefused, repr(error)
        assert [check.condition for check in error.unmet] == ["cost"]
    assert all(isinstance(entry, Redeem) for entry in journal(service, "m-1")[2:])
    _assert_spent_five(service, {redemption.entry.key for redemption in done})
    assert service.balance("m-1").redeemed == 5 * COST


def test_threads_debiting_one_account_never_overspend(service: LoyaltyService) -> None:
    _funded(service)

    def debit(number: int) -> Entry:
        return service.adjust(
            "m-1", -COST, at=T0 + days(1), key=f"debit:{number}", actor="test", reason="debit"
        )

    results = together(N, debit)
    done = [result for kind, result in results if kind == "ok"]
    refused = [result for kind, result in results if kind == "error"]
    assert len(done) == 5
    assert all(isinstance(entry, Adjust) for entry in done)
    assert len(refused) == N - 5
    for error in refused:
        assert type(error) is InsufficientPoints, repr(error)
        assert (error.requested, error.available) == (COST, 0)
    _assert_spent_five(service, {entry.key for entry in done})


def test_processes_redeeming_from_one_account_never_overspend(
    service: LoyaltyService, url: str, program_id: str, pool: Any
) -> None:
    _funded(service)
    results = in_processes(
        pool, _redeem_in_worker, [(url, program_id, number) for number in range(N)]
    )
    done = [result for result in results if result[0] == "ok"]
    refused = [result for result in results if result[0] == "refused"]
    assert len(done) == 5
    assert refused == [("refused", "RedemptionRefused", ["cost"])] * (N - 5)
    assert len({entry_id for _, _, entry_id in done}) == 5
    _assert_spent_five(service, {key for _, key, _ in done})
    redeemed = {entry.id for entry in journal(service, "m-1") if isinstance(entry, Redeem)}
    assert redeemed == {entry_id for _, _, entry_id in done}


# ------------------------------------------------- 3: one webhook, N deliveries


def _assert_credited_once(service: LoyaltyService, order_id: str, points: int) -> None:
    assert service.balance("m-1").earned == SIGNUP + points
    assert_sound(service, "m-1")
    entries = journal(service, "m-1")
    assert [type(entry) for entry in entries] == [Earn, Order, Earn]
    assert [entry.source for entry in entries[1:]] == [order_id, order_id]


def test_a_webhook_delivered_by_many_threads_credits_once(service: LoyaltyService) -> None:
    service.enrol("m-1", at=T0)
    event = order_event("A", "m-1", "80.00")
    results = together(N, lambda _: service.handle(event))
    assert [kind for kind, _ in results] == ["ok"] * N, results
    first = results[0][1]
    assert isinstance(first, OrderResult)
    assert first.earn is not None
    assert first.earn.points == 80
    assert all(result == first for _, result in results)
    _assert_credited_once(service, "A", first.earn.points)


def test_a_webhook_delivered_by_many_processes_credits_once(
    service: LoyaltyService, url: str, program_id: str, pool: Any
) -> None:
    service.enrol("m-1", at=T0)
    event = order_event("A", "m-1", "80.00")
    results = in_processes(pool, _deliver_in_worker, [(url, program_id, event)] * N)
    assert len(set(results)) == 1, results
    order_id, earn_id, points = results[0]
    assert points == 80
    _assert_credited_once(service, "A", points)
    entries = journal(service, "m-1")
    assert (entries[1].id, entries[2].id) == (order_id, earn_id)


# --------------------------------------------------- 4: a stock shared by members


def test_the_first_five_of_many_members_get_the_gift(service: LoyaltyService) -> None:
    members = [f"m-{number:02d}" for number in range(12)]
    for member in members:
        service.enrol(member, at=T0)

    def redeem(number: int) -> Redemption:
        member = members[number]
        return service.redeem(member, "gift", cart(f"C-{member}", member), at=T0, key="gift")

    results = together(len(members), redeem)
    done = [result for kind, result in results if kind == "ok"]
    refused = [result for kind, result in results if kind == "error"]
    assert len(done) == STOCK
    assert len(refused) == len(members) - STOCK
    for error in refused:
        assert type(error) is RedemptionRefused, repr(error)
        assert [check.condition for check in error.unmet] == ["stock"]
    winners = {redemption.entry.member_id for redemption in done}
    for member in members:
        redeems = [e for e in journal(service, member) if isinstance(e, Redeem)]
        assert len(redeems) == (1 if member in winners else 0)
        assert_sound(service, member)
    with service.store.transaction(service.program.id, write=False) as transaction:
        assert transaction.stock({"gift": STOCK}).left("gift") == 0
    # a winner retrying gets their gift again; a loser still gets nothing
    winner = sorted(winners)[0]
    again = service.redeem(winner, "gift", cart(f"C-{winner}", winner), at=T0, key="gift")
    assert again.entry in {redemption.entry for redemption in done}
    loser = sorted(set(members) - winners)[0]
    with pytest.raises(RedemptionRefused):
        service.redeem(loser, "gift", cart(f"C-{loser}", loser), at=T0, key="gift")


# ------------------------------------------- 4b: a budget kept in the registry

BUDGET = 10
CLAIMANTS = 32


def test_a_budget_in_the_registry_is_never_overspent_by_concurrent_writers(
    url: str, program_id: str
) -> None:
    """CLAIMANTS transactions at once each read the budget's counter with a lock and,
    while it is under BUDGET, count one more and add a claim of their own: a
    read-modify-write that loses no update (the row lock on PostgreSQL, the write lock
    on SQLite). Lost races are run again, as the service runs them."""
    store = SQLStore(url)

    def claim(number: int) -> bool:
        for attempt in range(1, 101):
            try:
                with store.transaction(program_id) as transaction:
                    registry = transaction.registry()
                    registry.add("budget", "b", 0)  # the first one creates the counter
                    used = registry.get("budget", "b", lock=True)
                    won = used < BUDGET
                    if won:
                        registry.put("budget", "b", used + 1)
                        assert registry.add("claim", f"c{number}", 1)
                    transaction.commit()
                return bool(won)
            except StoreConflict:
                time.sleep(random.uniform(0, min(0.002 * 2**attempt, 0.1)))
        raise AssertionError(f"claimant {number} still lost its race after 100 attempts")

    try:
        results = together(CLAIMANTS, claim)
        assert [kind for kind, _ in results] == ["ok"] * CLAIMANTS, results
        winners = {f"c{number}" for number, (_, won) in enumerate(results) if won}
        assert len(winners) == BUDGET
        with store.transaction(program_id, write=False) as transaction:
            registry = transaction.registry()
            assert registry.get("budget", "b") == BUDGET
            claims = registry.scan("claim")
        assert {key for key, _ in claims} == winners
        assert [value for _, value in claims] == [1] * BUDGET
    finally:
        store.close()


# ------------------------------------- 4c: an incentive's global budget, at once

MEMBERS = 32


def _incentive_service(url: str, program_id: str, *catalog: dict[str, Any]) -> LoyaltyService:
    """A service for the concurrency program with ``catalog`` as its incentives, and
    MEMBERS members enrolled."""
    program = load_program({**config(program_id), "incentives": {"catalog": list(catalog)}})
    service = LoyaltyService(program, SQLStore(url), attempts=50)
    for number in range(MEMBERS):
        service.enrol(f"m-{number:02d}", at=T0)
    return service


def _registry(service: LoyaltyService, space: str) -> list[tuple[str, Any]]:
    with service.store.transaction(service.program.id, write=False) as transaction:
        return transaction.registry().scan(space)


def _grants(service: LoyaltyService, member_id: str) -> list[Grant]:
    return [entry for entry in journal(service, member_id) if isinstance(entry, Grant)]


def test_an_incentives_budget_of_10_issues_exactly_10_to_32_members_at_once(
    url: str, program_id: str
) -> None:
    """32 operators' grants at once, one per member, all under the same campaign key:
    the budget's count is taken under a row lock, per member, so exactly 10 are issued
    (each with its points and its coupon) and 22 refused, whoever wins the races."""
    service = _incentive_service(
        url,
        program_id,
        {
            "id": "goodwill",
            "trigger": {"event": "manual"},
            "grants": [
                {"kind": "points", "points": 25},
                {"kind": "coupon", "offer": {"kind": "amount_off", "amount": "5.00"}},
            ],
            "limits": {"budget": {"count": BUDGET}},
        },
    )
    members = [f"m-{number:02d}" for number in range(MEMBERS)]

    def grant(number: int) -> Grant:
        return service.grant(
            members[number], "goodwill", at=T0 + days(1), key="spring", reason="sorry", actor="ops"
        )

    try:
        results = together(MEMBERS, grant)
        done = [result for kind, result in results if kind == "ok"]
        refused = [result for kind, result in results if kind == "error"]
        assert len(done) == BUDGET, refused
        assert len(refused) == MEMBERS - BUDGET
        for error in refused:
            assert type(error) is IncentiveRefused, repr(error)
            assert error.reason == f"its budget of {BUDGET} is spent"
        winners = {grant.member_id for grant in done}
        assert len(winners) == BUDGET
        for member in members:
            grants = _grants(service, member)
            assert len(grants) == (1 if member in winners else 0), member
            expected = SIGNUP + (25 if member in winners else 0)
            assert service.balance(member).available == expected
            assert len(service.holdings(member)) == len(grants)
            assert_sound(service, member)
        assert _registry(service, "budget") == [("budget:goodwill:count", BUDGET)]
        assert len(_registry(service, "claim")) == BUDGET
        codes = _registry(service, "code")
        assert sorted(member for _, (member, _) in codes) == sorted(winners)
        # a winner retrying gets the same grant; a loser is still refused
        winner, loser = sorted(winners)[0], sorted(set(members) - winners)[0]
        assert grant(members.index(winner)) in done
        with pytest.raises(IncentiveRefused):
            grant(members.index(loser))
    finally:
        service.store.close()


def test_a_money_budget_clips_the_last_grant_and_refuses_the_rest(
    url: str, program_id: str
) -> None:
    """A 25.00 budget of 3.00 cashback grants, 32 at once: 8 grants of 3.00, one
    clipped to the 1.00 left (saying so), 23 refused; 25.00 issued in all."""
    service = _incentive_service(
        url,
        program_id,
        {
            "id": "cashback",
            "trigger": {"event": "manual"},
            "grants": [{"kind": "cashback", "amount": "3.00"}],
            "limits": {"budget": {"money": "25.00"}},
        },
    )
    members = [f"m-{number:02d}" for number in range(MEMBERS)]

    def grant(number: int) -> Grant:
        return service.grant(
            members[number], "cashback", at=T0 + days(1), key="spring", reason="r", actor="ops"
        )

    try:
        results = together(MEMBERS, grant)
        done = [result for kind, result in results if kind == "ok"]
        refused = [result for kind, result in results if kind == "error"]
        amounts = sorted(str(holding.amount) for grant in done for holding in grant.holdings)
        assert amounts == ["1.00 USD"] + ["3.00 USD"] * 8
        assert len(refused) == MEMBERS - 9
        assert all(type(error) is IncentiveRefused for error in refused), refused
        (clipped,) = [grant for grant in done if grant.notes]
        assert clipped.notes == ("cashback clipped by the budget: 1.00 USD of 3.00 USD",)
        credited = sum(
            (service.wallet(member, T0 + days(2)).credited for member in members),
            start=Money.zero("USD"),
        )
        assert str(credited) == "25.00 USD"
        assert _registry(service, "budget") == [("budget:cashback:money", 2500)]
        for member in members:
            assert len(_grants(service, member)) <= 1
            assert_sound(service, member)
    finally:
        service.store.close()


# ----------------------------------------------- 4d: a coupon used once, at once


@pytest.mark.parametrize("transferable", [False, True], ids=["bound", "transferable"])
def test_a_coupon_redeemed_on_eight_carts_at_once_is_used_once(
    url: str, program_id: str, transferable: bool
) -> None:
    """Eight checkouts of one member enter the same coupon at once: the member's row
    lock makes them queue, the first uses it and the other seven are told it was used
    (and when, and on which order)."""
    program = load_program(
        {
            **config(program_id),
            "incentives": {
                "catalog": [
                    {
                        "id": "apology",
                        "trigger": {"event": "manual"},
                        "grants": [
                            {
                                "kind": "coupon",
                                "offer": {"kind": "amount_off", "amount": "10.00"},
                                "transferable": transferable,
                            }
                        ],
                    }
                ]
            },
        }
    )
    store = SQLStore(url)
    service = LoyaltyService(program, store, attempts=50)
    try:
        service.enrol("m-1", at=T0)
        (coupon,) = service.grant(
            "m-1", "apology", at=T0, key="late", reason="late parcel", actor="ops"
        ).holdings
        assert coupon.code is not None
        assert coupon.transferable is transferable

        def use(number: int) -> Redemption:
            return service.redeem_coupon(
                "m-1", coupon.code or "", cart(f"C-{number}", "m-1"), at=T0 + days(1),
                key=f"use:{number}",
            )

        results = together(N, use)
        done = [result for kind, result in results if kind == "ok"]
        refused = [result for kind, result in results if kind == "error"]
        assert len(done) == 1, refused
        assert len(refused) == N - 1
        (used,) = done
        for error in refused:
            assert type(error) is CouponUsed, repr(error)
            assert error.order == used.entry.source
        redeems = [e for e in journal(service, "m-1") if isinstance(e, Redeem)]
        assert redeems == [used.entry]
        (holding,) = service.holdings("m-1")
        assert (holding.status, holding.uses) == (HoldingStatus.USED, 0)
        assert_sound(service, "m-1")
    finally:
        store.close()


# ------------------------------------------------------- 5: SIGKILL mid-write

WORKER = Path(crash_worker.__file__)


def _run_and_kill(url: str, program_id: str, mode: str, after: int, log: Path) -> int:
    """Start the worker, wait until it reports ``after`` (batches committed, or events
    applied), let it run a little further, SIGKILL it; what it last reported."""
    # The worker imports the loyalty under test (and this tests package), whatever is installed.
    import loyalty

    code = Path(loyalty.__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(code), str(WORKER.parent.parent)])}
    with log.open("w") as errors:
        process = subprocess.Popen(
            [sys.executable, str(WORKER), url, program_id, mode],
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            env=env,
        )
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.strip())
        lines.put(None)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reported = 0
    deadline = time.monotonic() + TIMEOUT
    try:
        while reported < after:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.1))
            assert line is not None, f"the worker stopped early: {log.read_text()}"
            word, _, count = line.partition(" ")
            if word in ("committed", "applied"):
                reported = int(count)
        time.sleep(random.Random(f"{mode}{after}").uniform(0.0, 0.03))
        assert process.poll() is None, f"the worker finished before the kill: {log.read_text()}"
        process.send_signal(signal.SIGKILL)
        assert process.wait(TIMEOUT) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(TIMEOUT)
        assert process.stdout is not None
        process.stdout.close()
    while (line := lines.get()) is not None:
        word, _, count = line.partition(" ")
        if word in ("committed", "applied"):
            reported = int(count)
    return reported


def _applied(service: LoyaltyService) -> list[str]:
    """Every member sound, every order either fully applied (its Order entry and its
    Earn) or absent: the applied order ids, sorted."""
    applied: list[str] = []
    for number in range(crash_worker.MEMBERS):
        member = crash_worker.member(number)
        assert_sound(service, member)
        entries = journal(service, member)
        orders = [entry.source for entry in entries if isinstance(entry, Order)]
        earns = [entry.source for entry in entries if isinstance(entry, Earn) and entry.source]
        assert orders == earns, member
        assert len(set(orders)) == len(orders), member
        assert service.balance(member).earned == SIGNUP + sum(
            e.points for e in entries if isinstance(e, Earn) and e.source
        )
        applied.extend(str(order) for order in orders)
    return sorted(applied)


def _resumed(service: LoyaltyService) -> None:
    """The import run again to the end credits what was missing, once."""
    report = service.import_events(crash_worker.events(), batch_size=crash_worker.BATCH)
    assert (report.applied, report.rejected) == (crash_worker.EVENTS, ())
    every = [crash_worker.order_id(number) for number in range(crash_worker.EVENTS)]
    assert _applied(service) == every


@pytest.mark.parametrize("after", [1, 8, 21])
def test_a_writer_killed_mid_import_leaves_whole_batches(
    url: str, program_id: str, after: int, tmp_path: Path
) -> None:
    reported = _run_and_kill(url, program_id, "batch", after, tmp_path / "worker.log")
    store = SQLStore(url)
    try:
        service = LoyaltyService(load_program(crash_worker.config(program_id)), store)
        applied = _applied(service)
        batches, rest = divmod(len(applied), crash_worker.BATCH)
        assert rest == 0, f"{len(applied)} events applied: not whole batches"
        assert reported <= batches < crash_worker.EVENTS // crash_worker.BATCH
        assert applied == [crash_worker.order_id(number) for number in range(len(applied))]
        if after == 8:
            _resumed(service)
    finally:
        store.close()


def test_a_writer_killed_between_single_events_leaves_whole_events(
    url: str, program_id: str, tmp_path: Path
) -> None:
    reported = _run_and_kill(url, program_id, "single", 40, tmp_path / "worker.log")
    store = SQLStore(url)
    try:
        service = LoyaltyService(load_program(crash_worker.config(program_id)), store)
        applied = _applied(service)
        assert reported <= len(applied) <= reported + 1
        assert applied == [crash_worker.order_id(number) for number in range(len(applied))]
    finally:
        store.close()


# ------------------------------------------- 6: PostgreSQL connections dropped under load

FAULT_APP = "loyalty-fault-test"
WRITERS = 4
ORDERS_EACH = 40
KILL_FOR = 20.0  # seconds at most


def _terminate(url: str, stop: threading.Event, killed: list[int]) -> None:
    """Terminate the store's server processes (by application name) every few ms, from
    a connection of its own, until ``stop`` or KILL_FOR seconds."""
    import psycopg

    plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    deadline = time.monotonic() + KILL_FOR
    with psycopg.connect(plain, autocommit=True) as admin:
        while not stop.is_set() and time.monotonic() < deadline:
            rows = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND application_name = %s",
                (FAULT_APP,),
            ).fetchall()
            killed.append(sum(1 for (done,) in rows if done))
            stop.wait(random.uniform(0.005, 0.03))


def test_a_dropped_postgres_connection_is_retried_or_busy_and_the_books_stay_sound(
    program_id: str,
) -> None:
    url = make_url(postgres_url()).update_query_dict({"application_name": FAULT_APP})
    store = SQLStore(url.render_as_string(hide_password=False))
    service = LoyaltyService(load_program(config(program_id)), store)
    members = [f"m-{number}" for number in range(WRITERS)]
    for member in members:
        service.enrol(member, at=T0)
    outcomes: dict[str, str] = {}
    unexpected: list[BaseException] = []
    stop, killed = threading.Event(), [0]
    killer = threading.Thread(target=_terminate, args=(postgres_url(), stop, killed))

    def send(member: str) -> None:
        for number in range(ORDERS_EACH):
            order_id = f"{member}-o{number}"
            try:
                service.handle(order_event(order_id, member, "10.00"))
                outcomes[order_id] = "ok"
                assert service.balance(member).available >= SIGNUP + 10
            except Busy:
                outcomes[order_id] = "busy"
            except BaseException as error:
                unexpected.append(error)
                outcomes[order_id] = "error"

    writers = [threading.Thread(target=send, args=(member,)) for member in members]
    killer.start()
    try:
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(TIMEOUT)
    finally:
        stop.set()
        killer.join(TIMEOUT)
    assert not any(writer.is_alive() for writer in writers), "a writer hung"
    assert unexpected == [], [f"{type(e).__name__}: {e}" for e in unexpected]
    assert sum(killed) > 0, "no connection was terminated: the test tested nothing"
    ok = sorted(order for order, outcome in outcomes.items() if outcome == "ok")
    assert len(outcomes) == WRITERS * ORDERS_EACH
    assert ok, "no request succeeded"
    store.close()
    # The books, read through a store of its own (the faulty one's idle connections were
    # terminated too: it would find out, and retry, only on its next request).
    checker = SQLStore(postgres_url(), migrate=False)
    checked = LoyaltyService(service.program, checker)
    for member in members:
        assert_sound(checked, member)
        credited = [
            entry.source for entry in journal(checked, member) if isinstance(entry, Earn)
        ]
        assert len(credited) == len(set(credited)), member  # each order at most once
        for order_id in ok:
            if order_id.startswith(f"{member}-"):
                assert credited.count(order_id) == 1, order_id
    checker.close()


def test_a_postgres_server_that_cannot_be_reached_makes_requests_busy_not_raw_errors() -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = SQLStore(f"postgresql+psycopg://nobody@127.0.0.1:{port}/none", migrate=False)
    service = LoyaltyService(load_program(config("unreachable")), store, attempts=2)
    with pytest.raises(Busy):
        service.balance("m-1")
    with pytest.raises(Busy):
        service.enrol("m-1", at=T0)
    store.close()
