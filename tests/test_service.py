"""The service over every store: events, idempotency, typed refusals that write
nothing, notifications through the outbox, stock, batch import and erasure."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date, datetime
from typing import Any

import pytest

from loyalty import (
    Busy,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidCart,
    InvalidEvent,
    InvalidInput,
    LoyaltyService,
    MemberExists,
    MemoryStore,
    OrderResult,
    PointsEarned,
    PointsExpiring,
    RedemptionRefused,
    RewardUnlocked,
    Store,
    StoreConflict,
    TierChanged,
    UnknownMember,
    WrongProgram,
    open_account,
    restore,
)
from loyalty.ledger.entries import Entry
from loyalty.ledger.records import KeyRecord
from loyalty.store.port import ConnectionLost, OutboxMessage
from tests.builders import SPEND_LADDER, T0, days, ladder, program

PROGRAM = program(
    pending={"period": "14 days"},
    expiry={"policy": "fixed", "after": "1 year"},
    tiers=ladder(*SPEND_LADDER),
    earning={
        "rate": 1,
        "actions": {
            "signup": {"points": 50, "times": 1},
            "birthday": {"points": 20, "times": 1, "per": "year"},
            "referral": {"points": 30, "times": 5},
        },
    },
    rewards={
        "catalog": [
            {"id": "five-off", "kind": "amount_off", "amount": "5.00", "cost": 100},
            {"id": "gift", "kind": "amount_off", "amount": "1.00", "cost": 0, "stock": 2},
        ]
    },
)


def cart(order_id: str, price: str, quantity: int = 1, member: str = "m-1") -> dict[str, Any]:
    return {
        "id": order_id,
        "member_id": member,
        "currency": "USD",
        "lines": [{"sku": "SKU", "unit_price": price, "quantity": quantity}],
    }


def order(
    order_id: str, price: str, at: datetime, member: str = "m-1", **extra: Any
) -> dict[str, Any]:
    return {
        "type": "order_completed",
        "member_id": member,
        "key": f"order:{order_id}",
        "at": at.isoformat(),
        "cart": cart(order_id, price, member=member),
        **extra,
    }


@pytest.fixture
def service(store: Store) -> LoyaltyService:
    return LoyaltyService(PROGRAM, store)


def _version(service: LoyaltyService, member_id: str) -> int:
    with service.store.transaction(PROGRAM.id, write=False) as transaction:
        stored = transaction.member(member_id)
        return -1 if stored is None else stored.version


def test_enrolment_awards_signup_once_and_is_idempotent(service: LoyaltyService) -> None:
    member = service.enrol("m-1", at=T0, birthday=date(1990, 5, 17), segments=["vip"])
    assert member.balance.earned == 50
    assert member.tier == "Member"
    assert service.enrol("m-1", at=T0, birthday=date(1990, 5, 17), segments=["vip"]) == member
    with pytest.raises(MemberExists):
        service.enrol("m-1", at=T0, segments=["other"])
    assert _version(service, "m-1") == 1


def test_an_order_event_earns_and_a_redelivery_credits_once(service: LoyaltyService) -> None:
    service.enrol("m-1", at=T0)
    first = service.handle(order("A", "80.00", T0 + days(1)))
    again = service.handle(order("A", "80.00", T0 + days(1)))
    assert isinstance(first, OrderResult)
    assert first == again
    assert first.earn is not None
    assert first.earn.points == 80
    assert service.balance("m-1").earned == 130
    with pytest.raises(IdempotencyConflict):
        service.handle(order("A", "90.00", T0 + days(1)))
    assert service.balance("m-1").earned == 130
    assert service.verify("m-1") == []


def test_refunds_and_cancellations_take_points_back(service: LoyaltyService) -> None:
    service.enrol("m-1", at=T0)
    service.handle(order("A", "80.00", T0))
    refund = {
        "type": "order_cancelled",
        "member_id": "m-1",
        "key": "cancel:A",
        "at": (T0 + days(2)).isoformat(),
        "order_id": "A",
    }
    service.handle(refund)
    balance = service.balance("m-1")
    assert balance.reversed == 80
    assert balance.net == 50
    assert service.verify("m-1") == []


@pytest.mark.parametrize(
    ("event", "error"),
    [
        (order("A", "10.00", T0, member="nobody"), UnknownMember),
        ({**order("A", "10.00", T0), "program": "another"}, WrongProgram),
        (
            {
                **order("A", "10.00", T0),
                "cart": {
                    **cart("A", "10.00"),
                    "lines": [{"sku": "S", "unit_price": 1.5, "quantity": 1}],
                },
            },
            InvalidCart,
        ),
        ({**order("A", "10.00", T0), "at": "2026-01-01T12:00:00"}, InvalidEvent),
        ({"type": "order_completed", "member_id": "m-1"}, InvalidEvent),
        (
            {"type": "teleported", "member_id": "m-1", "key": "k", "at": T0.isoformat()},
            InvalidEvent,
        ),
    ],
)
def test_bad_input_gets_a_typed_error_and_writes_nothing(
    service: LoyaltyService, event: dict[str, Any], error: type[Exception]
) -> None:
    service.enrol("m-1", at=T0)
    outbox = service.outbox()
    with pytest.raises(error):
        service.handle(event)
    assert _version(service, "m-1") == 1
    assert _version(service, "nobody") == -1
    assert service.outbox() == outbox


def test_a_malformed_event_names_every_problem_with_its_path(service: LoyaltyService) -> None:
    with pytest.raises(InvalidEvent) as raised:
        service.handle(
            {
                "type": "order_refunded",
                "member_id": "",
                "key": "k",
                "at": "yesterday",
                "order_id": "A",
                "lines": {"SKU": 0},
                "colour": 1,
            }
        )
    paths = sorted(problem.path for problem in raised.value.problems)
    assert paths == ["at", "colour", "lines.SKU", "member_id"]


def test_notifications_reach_the_outbox_once_and_are_acknowledged(service: LoyaltyService) -> None:
    service.enrol("m-1", at=T0, birthday=date(1990, 5, 17), segments=["vip"])
    service.handle(order("A", "250.00", T0 + days(1)))  # crosses Silver (200)
    kinds = [type(message.notification) for message in service.outbox()]
    assert kinds == [PointsEarned, PointsEarned, TierChanged]
    tier = service.outbox()[2].notification
    assert isinstance(tier, TierChanged)
    assert (tier.tier_from, tier.tier_to) == ("Member", "Silver")
    service.handle(order("A", "250.00", T0 + days(1)))  # a redelivery announces nothing
    assert len(service.outbox()) == 3
    service.acknowledge([message.id for message in service.outbox()])
    assert service.outbox() == []
    # 14 days later the points are available: the scheduled run unlocks the $5 reward.
    report = service.advance(T0 + days(20))
    assert report.members == 1
    unlocked = [
        m.notification for m in service.outbox() if isinstance(m.notification, RewardUnlocked)
    ]
    assert [(n.reward, n.cost, n.available) for n in unlocked] == [("five-off", 100, 300)]
    # Nothing personal beyond the member id: no birthday, no segments.
    texts = [str(message.notification.data()) for message in service.outbox()]
    assert texts
    assert not any("1990" in text or "vip" in text for text in texts)


def test_the_scheduled_run_announces_expiring_points_once(service: LoyaltyService) -> None:
    service.enrol("m-1", at=T0)
    service.enrol("m-2", at=T0)
    service.handle(order("A", "40.00", T0))
    service.acknowledge([message.id for message in service.outbox()])
    before = T0 + days(345)  # the lots expire a year after T0
    first = service.advance(before)
    assert first.members == 2
    expiring = [m.notification for m in service.outbox()]
    assert all(isinstance(n, PointsExpiring) for n in expiring)
    assert sorted((n.member_id, n.points) for n in expiring if isinstance(n, PointsExpiring)) == [
        ("m-1", 40),
        ("m-1", 50),
        ("m-2", 50),
    ]
    service.advance(before + days(1))
    assert len(service.outbox()) == 3
    expired = service.advance(T0 + days(400))
    assert expired.entries == 3  # an expiry per lot
    assert service.balance("m-1").expired == 90
    assert service.verify("m-1") == []


def test_stock_shared_by_members_is_never_overspent(service: LoyaltyService) -> None:
    for member in ("m-1", "m-2", "m-3"):
        service.enrol(member, at=T0)
    for member in ("m-1", "m-2"):
        service.redeem(
            member, "gift", cart(f"C-{member}", "10.00", member=member), at=T0 + days(1), key="gift"
        )
    # a retry of the same redemption claims nothing more
    service.redeem("m-1", "gift", cart("C-m-1", "10.00"), at=T0 + days(1), key="gift")
    with pytest.raises(RedemptionRefused) as refused:
        service.redeem(
            "m-3", "gift", cart("C-m-3", "10.00", member="m-3"), at=T0 + days(1), key="gift"
        )
    assert [check.condition for check in refused.value.unmet] == ["stock"]
    assert _version(service, "m-3") == 1


def test_a_redemption_beyond_the_balance_is_refused(service: LoyaltyService) -> None:
    service.enrol("m-1", at=T0)
    with pytest.raises(RedemptionRefused):
        service.redeem("m-1", "five-off", cart("C", "20.00"), at=T0 + days(1), key="r")
    with pytest.raises(InsufficientPoints):
        service.adjust("m-1", -60, at=T0 + days(1), key="fix", actor="ops", reason="test")
    assert _version(service, "m-1") == 1


def test_a_quote_reads_the_member_and_writes_nothing(service: LoyaltyService) -> None:
    service.enrol("m-1", at=T0, segments=["vip"])
    service.handle(order("A", "100.00", T0))
    quoted = service.quote("m-1", cart("B", "20.00"), at=T0 + days(20))
    assert quoted.earn.points == 20
    assert quoted.option("five-off").eligible
    assert _version(service, "m-1") == 3


def test_batch_import_applies_good_events_and_reports_bad_ones(service: LoyaltyService) -> None:
    service.enrol("m-1", at=T0)
    service.enrol("m-2", at=T0)
    events = [
        order("A", "10.00", T0 + days(1)),
        order("B", "20.00", T0 + days(1), member="m-2"),
        order("C", "30.00", T0 + days(1), member="ghost"),
        {"type": "birthday", "member_id": "m-1", "key": "bday", "at": (T0 + days(2)).isoformat()},
        order("A", "10.00", T0 + days(1)),  # a duplicate: applied as a replay
        {"type": "birthday", "member_id": "m-1", "key": "bday-2", "at": (T0 + days(3)).isoformat()},
    ]
    report = service.import_events(events, batch_size=4)
    assert report.applied == 4
    assert [(number, type(error)) for number, error in report.rejected] == [
        (2, UnknownMember),
        (5, type(report.rejected[1][1])),
    ]
    assert report.rejected[1][1].__class__.__name__ == "ActionLimitReached"
    assert service.balance("m-1").earned == 50 + 10 + 20
    assert service.balance("m-2").earned == 50 + 20
    assert service.verify("m-1") == []


def test_erasure_keeps_the_books_under_a_pseudonym(service: LoyaltyService) -> None:
    service.enrol("m-1", at=T0, birthday=date(1990, 5, 17), segments=["vip"])
    service.handle(order("A", "80.00", T0))
    before = service.balance("m-1")
    pseudonym = service.erase("m-1")
    with pytest.raises(UnknownMember):
        service.balance("m-1")
    erased = service.member(pseudonym)
    assert (erased.birthday, erased.segments) == (None, ())
    assert erased.balance == before
    assert service.verify(pseudonym) == []
    assert all(m.notification.member_id != "m-1" for m in service.outbox())


def test_the_statement_lists_the_stored_journal(service: LoyaltyService) -> None:
    service.enrol("m-1", at=T0)
    service.handle(order("A", "80.00", T0 + days(1)))
    lines = service.statement("m-1").lines
    assert [line.points for line in lines] == [50, 0, 80]


class _Unread:
    """A history whose entries must not be read (keys may be looked up)."""

    def __init__(self, length: int) -> None:
        self.length = length

    def entries(self, start: int = 1) -> Iterator[Entry]:
        raise AssertionError("the journal was read")

    def since(self, at: datetime) -> Iterator[Entry]:
        raise AssertionError("the journal was read")

    def key(self, key: str) -> KeyRecord | None:
        return None

    def keys(self) -> Iterator[tuple[str, KeyRecord]]:
        raise AssertionError("the keys were read")

    def lot(self, seq: int) -> None:
        return None  # the state given is whole: nothing more is stored

    def order(self, order_id: str) -> None:
        return None

    def redemption(self, seq: int) -> None:
        return None

    def redemptions(self, source: str) -> Iterator[Any]:
        return iter(())

    def state(self) -> Any:
        raise AssertionError("the whole state was read")


def test_operations_on_a_loaded_member_do_not_read_their_journal() -> None:
    store = MemoryStore()
    service = LoyaltyService(PROGRAM, store)
    service.enrol("m-1", at=T0)
    for number in range(30):
        service.handle(order(f"O-{number}", "10.00", T0 + days(number)))
    with store.transaction(PROGRAM.id, write=False) as transaction:
        stored = transaction.member("m-1")
        assert stored is not None
    account = restore(PROGRAM, "m-1", stored.state, _Unread(stored.version))
    from loyalty import complete_order, quote, redeem_reward

    at = T0 + days(60)
    assert quote(account, cart("Q", "20.00"), at=at).option("five-off").eligible
    redeem_reward(account, "five-off", cart("Q", "20.00"), at=at, key="redeem:Q")
    complete_order(account, cart("Q", "20.00"), at=at, key="order:Q")
    assert account.balance().net == 50 + 300 - 100 + 15
    assert open_account(PROGRAM, "x").balance().net == 0


class _Racing(MemoryStore):
    """A memory store whose first ``losses`` saves lose a race."""

    def __init__(self, losses: int) -> None:
        super().__init__()
        self.losses = losses

    def transaction(self, program_id: str, *, write: bool = True) -> Any:
        context = super().transaction(program_id, write=write)
        store = self

        class _Context:
            def __enter__(self) -> Any:
                transaction = context.__enter__()
                save = transaction.save

                def losing(*args: Any, **kwargs: Any) -> None:
                    if store.losses > 0:
                        store.losses -= 1
                        raise StoreConflict("lost")
                    save(*args, **kwargs)

                transaction.save = losing
                return transaction

            def __exit__(self, *exc: Any) -> Any:
                return context.__exit__(*exc)

        return _Context()


def test_a_write_that_loses_races_is_retried_then_gives_up() -> None:
    store = _Racing(losses=2)
    service = LoyaltyService(PROGRAM, store, attempts=3)
    service.enrol("m-1", at=T0)  # an enrolment without signup entries would not save; this one does
    assert store.losses == 0
    assert service.balance("m-1").earned == 50
    store.losses = 5
    with pytest.raises(Busy):
        service.handle(order("A", "10.00", T0))
    assert service.balance("m-1").earned == 50


class _Dropping(MemoryStore):
    """A memory store whose next ``drops`` outbox reads, acknowledgements and
    transactions lose their connection."""

    def __init__(self) -> None:
        super().__init__()
        self.drops = 0

    def _drop(self) -> None:
        if self.drops > 0:
            self.drops -= 1
            raise ConnectionLost("connection lost: server closed the connection")

    def outbox(self, program_id: str, limit: int) -> list[OutboxMessage]:
        self._drop()
        return super().outbox(program_id, limit)

    def acknowledge(self, program_id: str, ids: Sequence[int]) -> None:
        self._drop()
        super().acknowledge(program_id, ids)

    def transaction(self, program_id: str, *, write: bool = True) -> Any:
        self._drop()
        return super().transaction(program_id, write=write)


def test_the_outbox_and_budgets_retry_a_lost_connection_then_are_busy() -> None:
    """The relay's calls go through the same retries as the rest: a dropped connection
    is tried again, and one that stays down is a Busy, never the store's own error."""
    store = _Dropping()
    service = LoyaltyService(PROGRAM, store, attempts=3)
    service.enrol("m-1", at=T0)
    store.drops = 2
    messages = service.outbox()
    assert [str(m.notification.kind) for m in messages] == ["points_earned"]
    store.drops = 2
    service.acknowledge([m.id for m in messages])
    assert service.outbox() == []
    store.drops = 2
    assert service.budgets() == ()
    for call in (service.outbox, lambda: service.acknowledge([1]), service.budgets):
        store.drops = 3
        with pytest.raises(Busy) as caught:
            call()
        assert caught.value.attempts == 3
        assert caught.value.member_id in ("(outbox)", "(budgets)")


def test_a_kept_account_is_not_used_once_another_writer_moved_the_member_on(store: Store) -> None:
    """Two services over one store (two processes of a shop): each keeps accounts
    between requests, and neither acts on a stale one."""
    first = LoyaltyService(PROGRAM, store)
    second = LoyaltyService(PROGRAM, store)
    first.enrol("m-1", at=T0)
    first.handle(order("A", "10.00", T0 + days(1)))
    assert first.balance("m-1").earned == 60  # kept by the first service
    second.handle(order("B", "20.00", T0 + days(2)))
    assert first.balance("m-1").earned == 80
    first.handle(order("C", "30.00", T0 + days(3)))
    assert second.balance("m-1").earned == 110
    assert [line.points for line in second.statement("m-1").lines] == [50, 0, 10, 0, 20, 0, 30]
    assert first.verify("m-1") == []
    # The same key sent to the other service is a replay, not a second credit.
    second.handle(order("C", "30.00", T0 + days(3)))
    assert first.balance("m-1").earned == 110


def test_without_kept_accounts_every_request_loads_from_the_store(store: Store) -> None:
    service = LoyaltyService(PROGRAM, store, cache_size=0)
    service.enrol("m-1", at=T0)
    for number in range(3):
        service.handle(order(f"O-{number}", "10.00", T0 + days(number)))
    assert service.balance("m-1").earned == 80
    assert service.verify("m-1") == []


def test_claims_of_members_whose_ids_and_keys_contain_colons_never_collide(
    service: LoyaltyService,
) -> None:
    for member in ("a", "a:b", "c"):
        service.enrol(member, at=T0)
    service.redeem("a", "gift", cart("G-1", "10.00", member="a"), at=T0, key="b:k")
    service.redeem("a:b", "gift", cart("G-2", "10.00", member="a:b"), at=T0, key="k")
    with pytest.raises(RedemptionRefused):  # stock 2: the third is refused
        service.redeem("c", "gift", cart("G-3", "10.00", member="c"), at=T0, key="k")


def test_a_member_erased_and_enrolled_again_is_not_served_from_a_kept_account(
    store: Store,
) -> None:
    first = LoyaltyService(PROGRAM, store)
    second = LoyaltyService(PROGRAM, store)
    first.enrol("y", at=T0)
    assert first.balance("y").earned == 50  # kept by the first service, at version 1
    second.erase("y")
    second.enrol("y", at=T0 + days(200))  # version 1 again, a new member
    report = first.advance(T0 + days(370))
    assert report.skipped == 0
    # The new member's signup (earned on day 200) has not expired; the old one's did.
    assert first.balance("y").expired == 0
    assert first.verify("y") == []
    assert second.member("y").enrolled_at == T0 + days(200)


def test_the_scheduled_run_skips_ids_no_longer_stored_and_tells_pseudonyms_nothing(
    service: LoyaltyService,
) -> None:
    service.enrol("m-1", at=T0)
    service.enrol("m-2", at=T0)
    service.handle(order("A", "40.00", T0, member="m-2"))
    pseudonym = service.erase("m-2")
    service.acknowledge([message.id for message in service.outbox()])
    report = service.advance(T0 + days(345), ["m-1", "ghost", pseudonym])
    assert (report.members, report.skipped) == (2, 1)
    members = {message.notification.member_id for message in service.outbox()}
    assert members == {"m-1"}  # the pseudonym's expiring points are announced to no one
    with pytest.raises(InvalidInput):
        service.advance(T0 + days(345), "m-1")  # type: ignore[arg-type]


def test_a_referral_does_not_store_the_referred_members_id(service: LoyaltyService) -> None:
    service.enrol("alice", at=T0)
    referral = {"type": "referral", "member_id": "alice", "key": "ref:1", "at": T0.isoformat()}
    service.handle({**referral, "referred": "bob@example.com"})
    assert service.balance("alice").earned == 50 + 30
    texts = [str(line) for line in service.statement("alice").lines]
    texts += [str(message.notification.data()) for message in service.outbox()]
    assert not any("bob@example.com" in text for text in texts)


def test_a_member_enrolled_again_after_erasure_is_announced_again(
    service: LoyaltyService,
) -> None:
    service.enrol("x", at=T0)
    service.erase("x")
    service.enrol("x", at=T0 + days(1))
    earned = [m.notification for m in service.outbox() if isinstance(m.notification, PointsEarned)]
    assert [(n.member_id, n.at) for n in earned] == [("x", T0 + days(1))]


def test_the_profile_can_be_updated_without_touching_the_points(service: LoyaltyService) -> None:
    service.enrol("m-1", at=T0, segments=["new"])
    service.handle(order("A", "10.00", T0))
    updated = service.update_member("m-1", birthday=date(1990, 5, 17), segments=["vip", "vip"])
    assert (updated.birthday, updated.segments) == (date(1990, 5, 17), ("vip",))
    assert service.member("m-1") == updated
    assert updated.balance.earned == 60
    assert service.verify("m-1") == []
    assert service.enrol("m-1", at=T0, birthday=date(1990, 5, 17), segments=["vip"]) == updated


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s: s.enrol("m-9", at=T0, segments="vip"), "segments"),
        (lambda s: s.enrol("m-9", at=T0, segments=None), "segments"),
        (lambda s: s.enrol("m-9", at=T0, segments=[["x"]]), "segments"),
        (lambda s: s.enrol("m-9", at=T0, birthday=T0), "birthday"),
        (lambda s: LoyaltyService(PROGRAM, s.store, attempts=0), "attempts"),
        (lambda s: LoyaltyService(PROGRAM, s.store, cache_size="10"), "cache_size"),
        (lambda s: s.advance(T0, batch_size=0), "batch_size"),
        (lambda s: s.import_events([], batch_size=True), "batch_size"),
        (lambda s: s.outbox(-1), "limit"),
        (lambda s: s.acknowledge("12"), "ids"),
    ],
)
def test_bad_arguments_name_the_field(service: LoyaltyService, call: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        call(service)
    assert raised.value.field == field
    assert _version(service, "m-9") == -1


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"at": 1767268800}, "at"),
        ({"lines": {"SKU": 1.0}}, "lines.SKU"),
        ({"shipping": "yes"}, "shipping"),
    ],
)
def test_an_event_takes_no_lax_values(
    service: LoyaltyService, changes: dict[str, Any], path: str
) -> None:
    refund = {"type": "order_refunded", "member_id": "m-1", "key": "r", "at": T0.isoformat()}
    with pytest.raises(InvalidEvent) as raised:
        service.handle({**refund, "order_id": "A", **changes})
    assert [problem.path for problem in raised.value.problems] == [path]


def test_reads_during_concurrent_writes_see_one_consistent_state(store: Store) -> None:
    """A read loads a member's head and its state items in two statements: both
    come from one snapshot (REPEATABLE READ on PostgreSQL), so verify stays clean."""
    import threading

    writer = LoyaltyService(PROGRAM, store, cache_size=0)
    reader = LoyaltyService(PROGRAM, store, cache_size=0)
    writer.enrol("m-1", at=T0)
    found: list[object] = []

    def write() -> None:
        for number in range(60):
            writer.handle(order(f"O-{number}", "1.00", T0 + days(1)))

    thread = threading.Thread(target=write)
    thread.start()
    while thread.is_alive():
        problems = reader.verify("m-1")
        if problems:
            found.append(problems)
            break
    thread.join()
    assert found == []
    assert reader.balance("m-1").earned == 50 + 60
