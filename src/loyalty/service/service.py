"""The service a shop backend holds: one program over one store.

Every write runs in one store transaction: load the member (locked against
concurrent writers), ask the pure engine, append the entries with their
idempotency keys, save the derived state and write the decision's
notifications to the outbox — all or nothing. A request retried with the same
key returns the original result and writes nothing. A transaction that loses a
race (a serialization failure, a deadlock, two enrolments of one member) is run
again from the start, up to ``attempts`` times, then :class:`~loyalty.errors.Busy`.

Reads (quote, statement, balance) open a read-only transaction and never write.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Final, NamedTuple, TypeVar, overload

from loyalty.cart import Cart, load_cart
from loyalty.checkout.actions import award_action, award_delay
from loyalty.checkout.orders import (
    OrderResult,
    RefundResult,
    complete_order,
    refund_order,
    with_segments,
)
from loyalty.checkout.quote import Quote, quote
from loyalty.checkout.redemption import Redemption, redeem_reward, void_redemption
from loyalty.dates import Duration, require_aware
from loyalty.errors import (
    Busy,
    InvalidInput,
    LoyaltyError,
    MemberExists,
    UnknownMember,
    Unprocessed,
    WrongProgram,
)
from loyalty.ledger.account import Account, rebase, restore
from loyalty.ledger.entries import Earn, Entry, Void
from loyalty.ledger.operations import adjust, open_account
from loyalty.ledger.operations import advance as advance_account
from loyalty.ledger.requests import nonzero_points, positive_points, text
from loyalty.ledger.state import Balance
from loyalty.ledger.statement import Statement, statement
from loyalty.ledger.verify import Discrepancy, verify
from loyalty.notifications import decided, expiring
from loyalty.program.model import Program
from loyalty.service.events import (
    ActionCompleted,
    Birthday,
    Event,
    OrderCancelled,
    OrderCompleted,
    OrderRefunded,
    Referral,
    ShipmentDelayed,
    load_event,
)
from loyalty.store.port import (
    MemberProfile,
    OutboxMessage,
    Store,
    StoreConflict,
    StoredMember,
    Transaction,
    iter_members,
    new_incarnation,
)
from loyalty.tiers.operations import review_member

__all__ = ["AdvanceReport", "ImportReport", "LoyaltyService", "Member", "Outcome", "Rejected"]

_R = TypeVar("_R")

Outcome = OrderResult | RefundResult | Earn | None
"""What handling an event wrote: an order's or a refund's entries, a bonus action's
earn, or nothing (a shipment delay the program has no action for)."""


@dataclass(frozen=True, slots=True)
class Member:
    """A member as the service reports them."""

    member_id: str
    enrolled_at: datetime
    birthday: date | None
    segments: tuple[str, ...]
    balance: Balance
    tier: str | None


@dataclass(frozen=True, slots=True)
class AdvanceReport:
    """What a scheduled run did: members brought forward, entries written,
    notifications emitted, ids skipped because the store no longer had them
    (erased), and members whose run failed, each with its error (they wrote
    nothing; the run went on with the others)."""

    members: int
    entries: int
    notifications: int
    skipped: int = 0
    failed: tuple[tuple[str, LoyaltyError], ...] = ()


class Rejected(NamedTuple):
    """An imported event that wrote nothing: its number in the input (from 0) and why."""

    number: int
    error: LoyaltyError

    @property
    def reason(self) -> str:
        return str(self.error)


@dataclass(frozen=True, slots=True)
class ImportReport:
    """A batch import: how many events applied, and each rejected one with its number
    in the input and its error, in input order."""

    applied: int
    rejected: tuple[Rejected, ...] = ()


@dataclass(slots=True)
class _Loaded:
    account: Account
    stored: StoredMember
    start: int
    available: int
    clock: datetime | None


class _Accounts:
    """Accounts kept between requests, so a member the store still holds at the same
    version is not decoded and rebuilt again. An account is taken out while a request
    uses it (no two requests share one) and kept again only if it matches the store."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, tuple[str, int, Account]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, stored: StoredMember) -> Account | None:
        """The account kept for ``stored``, if it was kept at its version and for the
        same stored member (its incarnation: not one erased and enrolled again)."""
        with self._lock:
            item = self._items.pop(stored.profile.member_id, None)
        if item is None or (item[0], item[1]) != (stored.incarnation, stored.version):
            return None
        return item[2]

    def keep(self, member_id: str, incarnation: str, version: int, account: Account) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._items[member_id] = (incarnation, version, account)
            self._items.move_to_end(member_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


@dataclass(slots=True)
class _Session:
    """The members one transaction loaded; saved together at the end."""

    program: Program
    transaction: Transaction
    accounts: _Accounts
    writing: bool = True
    loaded: dict[str, _Loaded] = field(default_factory=dict)
    written: int = 0
    notified: int = 0
    skipped: int = 0

    def account(self, member_id: str) -> Account:
        text(member_id, "member_id", required=True)
        found = self.loaded.get(member_id)
        if found is None:
            stored = self.transaction.member(member_id, lock=self.writing)
            if stored is None:
                raise UnknownMember(
                    "member_id", member_id, f"is not enrolled in program {self.program.id!r}"
                )
            history = self.transaction.history(member_id, stored.version)
            account = self.accounts.take(stored)
            if account is None:
                account = restore(self.program, member_id, stored.state, history)
            else:
                rebase(account, history)
            balance = account.balance()
            found = _Loaded(account, stored, account.next_seq, balance.available, account.clock)
            self.loaded[member_id] = found
        return found.account

    def profile(self, member_id: str) -> MemberProfile:
        self.account(member_id)
        return self.loaded[member_id].stored.profile

    def save(self) -> None:
        """Append what each loaded account wrote, with its notifications. An account
        brought forward without entries (pending points released by the scheduled run)
        is saved too, so a read without ``at`` shows what the run did."""
        for member_id, loaded in self.loaded.items():
            entries = loaded.account.entries_from(loaded.start)
            if not loaded.stored.profile.erased:  # a pseudonym has no one to tell
                notifications = decided(loaded.account, entries, loaded.available)
                self.transaction.emit(notifications)
                self.notified += len(notifications)
            renewed = None
            if not entries:
                if loaded.account.clock == loaded.clock:
                    continue
                # Moved without entries: the version stays, so a new incarnation tells
                # accounts kept by other processes that this state is newer than theirs.
                renewed = new_incarnation()
                loaded.stored = replace(loaded.stored, incarnation=renewed)
            self.transaction.save(
                member_id,
                loaded.stored.version,
                entries,
                loaded.account.changes(),
                incarnation=renewed,
            )
            loaded.account.saved()
            self.written += len(entries)

    def keep(self) -> None:
        """After commit: keep each account that is what the store now holds."""
        for member_id, loaded in self.loaded.items():
            written = loaded.account.next_seq - loaded.start
            if self.writing or loaded.account.clock == loaded.clock:  # a write saved it
                stored = loaded.stored
                self.accounts.keep(
                    member_id, stored.incarnation, stored.version + written, loaded.account
                )


class LoyaltyService:
    """``program`` over ``store``: enrol, handle events, quote, redeem, statements and
    scheduled runs. Safe to share between threads; each call is one transaction.

    ``expiring_within`` is how far ahead :meth:`advance` announces expiring points.
    ``cache_size`` members are kept in memory between requests; one is reused only
    while the store still holds it at the same version (0 turns this off).
    """

    def __repr__(self) -> str:
        return f"<LoyaltyService {self.program.id!r} over {self.store!r}>"

    def __init__(
        self,
        program: Program,
        store: Store,
        *,
        expiring_within: Duration | str = "30 days",
        attempts: int = 10,
        cache_size: int = 10_000,
    ) -> None:
        if not isinstance(program, Program):
            raise InvalidInput("program", program, "is not a Program; load one with load_program()")
        self.program = program
        self.store = store
        self.expiring_within = Duration.parse(expiring_within, "expiring_within")
        self.attempts = _count(attempts, "attempts", 1)
        self._accounts = _Accounts(_count(cache_size, "cache_size", 0))
        self._limits = {
            reward.id: reward.stock
            for reward in program.rewards.catalog
            if reward.stock is not None
        }

    # ------------------------------------------------------------------ writes

    def enrol(
        self,
        member_id: str,
        *,
        at: datetime,
        birthday: date | None = None,
        segments: Iterable[str] = (),
    ) -> Member:
        """Enrol a member (and award the program's ``signup`` action, if it has one).

        Enrolling again with the same details returns the member; with other
        details it raises :class:`~loyalty.errors.MemberExists`.
        """
        text(member_id, "member_id", required=True)
        instant = require_aware(at, "at")
        profile = MemberProfile(member_id, instant, _birthday(birthday), _segments(segments))

        def run(session: _Session) -> Member:
            stored = session.transaction.member(member_id, lock=True)
            if stored is not None:
                if stored.profile != profile:
                    raise MemberExists(member_id)
                return self._member(session, member_id)
            account = open_account(self.program, member_id, enrolled_at=instant)
            state = account.snapshot(keys=False)
            session.transaction.add_member(StoredMember(profile, 0, state))
            if "signup" in self.program.earning.actions:
                account = session.account(member_id)
                award_action(account, "signup", at=instant, key=_internal_key("signup"))
            return self._member(session, member_id)

        return self._write(member_id, run)

    def update_member(
        self, member_id: str, *, birthday: date | None, segments: Iterable[str]
    ) -> Member:
        """Replace the member's birthday and segments (the shop's customer record changed)."""
        profile_birthday, profile_segments = _birthday(birthday), _segments(segments)

        def run(session: _Session) -> Member:
            account = session.account(member_id)
            loaded = session.loaded[member_id]
            stored = loaded.stored
            profile = replace(stored.profile, birthday=profile_birthday, segments=profile_segments)
            if profile != stored.profile:
                session.transaction.save(
                    member_id, stored.version, (), account.changes(), profile=profile
                )
                account.saved()
                loaded.stored = replace(stored, profile=profile)
            return self._member(session, member_id)

        return self._write(member_id, run)

    @overload
    def handle(self, event: OrderCompleted) -> OrderResult: ...
    @overload
    def handle(self, event: OrderRefunded | OrderCancelled) -> RefundResult: ...
    @overload
    def handle(self, event: Referral | Birthday | ActionCompleted) -> Earn: ...
    @overload
    def handle(self, event: ShipmentDelayed) -> Earn | None: ...
    @overload
    def handle(self, event: Mapping[str, Any] | Event) -> Outcome: ...

    def handle(self, event: Mapping[str, Any] | Event) -> Outcome:
        """Apply an event (see :mod:`loyalty.service.events`); idempotent by its key.

        Typed per event class: an :class:`OrderCompleted` gives an
        :class:`~loyalty.OrderResult`, a refund or cancellation a
        :class:`~loyalty.RefundResult`, a bonus action its ``Earn`` (a shipment delay
        ``None`` when the program pays no apology). A mapping (webhook JSON) gives the
        :data:`Outcome` union."""
        checked = self._check(event)
        return self._write(checked.member_id, lambda session: self._apply(session, checked))

    def redeem(
        self,
        member_id: str,
        reward_id: str,
        cart: Cart | Mapping[str, Any],
        *,
        at: datetime,
        key: str,
        points: int | None = None,
        choice: str | None = None,
    ) -> Redemption:
        """Redeem a reward on a cart (see :func:`~loyalty.redeem_reward`)."""
        _redeem_arguments(member_id, reward_id, at, key, points, choice)

        def run(session: _Session) -> Redemption:
            account = session.account(member_id)
            return redeem_reward(
                account,
                reward_id,
                cart,
                at=at,
                key=_caller_key(key),
                points=points,
                choice=choice,
                stock=session.transaction.stock(self._limits),
                segments=session.profile(member_id).segments,
            )

        return self._write(member_id, run)

    def void_redemption(
        self, member_id: str, redemption_id: str, *, at: datetime, key: str
    ) -> Void:
        """Undo a redemption whose order has not completed (an abandoned checkout): the
        points go back to their lots, with their expiry, and the reward's stock unit is
        released (see :func:`~loyalty.void_redemption`). Idempotent."""
        return self._write(
            member_id,
            lambda session: void_redemption(
                session.account(member_id),
                redemption_id,
                at=at,
                key=_caller_key(key),
                stock=session.transaction.stock(self._limits),
            ),
        )

    def adjust(
        self, member_id: str, points: int, *, at: datetime, key: str, actor: str, reason: str
    ) -> Entry:
        """A manual correction by ``actor`` (see :func:`~loyalty.adjust`)."""
        text(member_id, "member_id", required=True)
        nonzero_points(points, "points")
        return self._write(
            member_id,
            lambda session: adjust(
                session.account(member_id),
                points,
                at=at,
                key=_caller_key(key),
                actor=actor,
                reason=reason,
            ),
        )

    def import_events(
        self, events: Iterable[Mapping[str, Any] | Event], *, batch_size: int = 500
    ) -> ImportReport:
        """Apply many events, ``batch_size`` per transaction (a batch is all or nothing
        against crashes). An event that is rejected (bad payload, refused by the
        engine, or failing with any other error, wrapped in
        :class:`~loyalty.errors.Unprocessed`) writes nothing and is reported with its
        number in the input (from 0); the others in its batch apply."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInput("batch_size", batch_size, "must be a positive whole number")
        _collection(events, "events", "a collection of events")
        applied = 0
        rejected: list[Rejected] = []
        batch: list[tuple[int, Mapping[str, Any] | Event]] = []
        for number, event in enumerate(events):
            batch.append((number, event))
            if len(batch) == batch_size:
                applied += self._import(batch, rejected)
                batch = []
        if batch:
            applied += self._import(batch, rejected)
        return ImportReport(applied, tuple(sorted(rejected)))

    def _import(
        self, batch: Sequence[tuple[int, Mapping[str, Any] | Event]], rejected: list[Rejected]
    ) -> int:
        """One batch. An event the engine refuses rolls back only itself (every ledger
        operation undoes its own changes). An unexpected error may leave the store's
        transaction unusable, so the whole batch is rolled back and run again without
        that event."""
        failed: dict[int, LoyaltyError] = {}

        def run(session: _Session) -> list[Rejected]:
            refused: list[Rejected] = []
            for number, event in batch:
                if number in failed:
                    continue
                try:
                    self._apply(session, self._check(event))
                except LoyaltyError as error:
                    refused.append(Rejected(number, error))
                except StoreConflict:
                    raise
                except Exception as error:
                    raise _ItemFailed(number, error) from error
            return refused

        while True:
            try:
                refused = self._write("(batch)", run)
            except _ItemFailed as item:
                failed[int(str(item.item))] = _wrapped("event", item)
                continue
            break
        refused.extend(Rejected(number, error) for number, error in failed.items())
        rejected.extend(refused)
        return len(batch) - len(refused)

    def advance(
        self, at: datetime, member_ids: Iterable[str] | None = None, *, batch_size: int = 200
    ) -> AdvanceReport:
        """The scheduled run: bring members (all, by default) to ``at`` — activate
        pending points, expire due lots, reconcile a tier the program no longer has,
        review tiers — and announce points that expire within ``expiring_within``.

        A member whose run fails writes nothing and is listed in
        :attr:`AdvanceReport.failed` with the error (an unexpected one wrapped in
        :class:`~loyalty.errors.Unprocessed`); the run goes on with the others."""
        instant = require_aware(at, "at")
        _count(batch_size, "batch_size", 1)
        ids = (
            iter_members(self.store, self.program.id)
            if member_ids is None
            else _member_ids(member_ids)
        )
        members = entries = notes = skipped = 0
        failures: list[tuple[str, LoyaltyError]] = []
        batch: list[str] = []
        failed: dict[str, LoyaltyError] = {}

        def run(session: _Session) -> _Session:
            for member_id in batch:
                if member_id in failed:
                    continue
                try:
                    self._advance_member(session, member_id, instant)
                except UnknownMember:  # erased (or never enrolled) since the list was read
                    session.skipped += 1
                except StoreConflict:
                    raise
                except Exception as error:
                    raise _ItemFailed(member_id, error) from error
            return session

        for member_id in [*ids, None]:
            if member_id is not None:
                batch.append(member_id)
            if batch and (member_id is None or len(batch) == batch_size):
                failed = {}
                while True:
                    try:
                        done = self._write("(scheduled run)", run)
                    except _ItemFailed as item:
                        failed[str(item.item)] = _wrapped("member_id", item)
                        continue
                    break
                members += len(batch) - done.skipped - len(failed)
                entries += done.written
                notes += done.notified
                skipped += done.skipped
                failures.extend(failed.items())
                batch = []
        return AdvanceReport(members, entries, notes, skipped, tuple(failures))

    def _advance_member(self, session: _Session, member_id: str, instant: datetime) -> None:
        account = session.account(member_id)
        advance_account(account, instant)
        if account.tiers is not None:
            review_member(account, instant)  # a retired tier is reconciled first
        if not session.profile(member_id).erased:
            found = expiring(account, instant, self.expiring_within)
            session.transaction.emit(found)
            session.notified += len(found)

    def erase(self, member_id: str) -> str:
        """Remove the member's personal data; their journal stays, under the returned
        pseudonym, so the program's books still balance."""
        pseudonym = f"erased-{secrets.token_hex(8)}"

        def run(session: _Session) -> str:
            session.account(member_id)
            session.loaded.clear()
            session.transaction.erase(member_id, pseudonym)
            return pseudonym

        return self._write(member_id, run)

    # ------------------------------------------------------------------- reads

    def member(self, member_id: str, at: datetime | None = None) -> Member:
        """The member's profile, balance and tier (as at ``at``, if given)."""
        _read_arguments(member_id, at)
        return self._read(member_id, lambda session: self._member(session, member_id, at))

    def balance(self, member_id: str, at: datetime | None = None) -> Balance:
        """The member's points: available, pending and owed (as at ``at``, if given)."""
        _read_arguments(member_id, at)
        return self._read(member_id, lambda session: session.account(member_id).balance(at))

    def quote(self, member_id: str, cart: Cart | Mapping[str, Any], *, at: datetime) -> Quote:
        """What the cart earns and which rewards the member can use (see :func:`~loyalty.quote`)."""
        return self._read(
            member_id,
            lambda session: quote(
                session.account(member_id),
                self._cart(session, member_id, cart),
                at=at,
                stock=session.transaction.stock(self._limits),
            ),
        )

    def statement(self, member_id: str) -> Statement:
        """Every entry of the member's journal, with its reason and the running balance."""
        return self._read(member_id, lambda session: statement(session.account(member_id)))

    def verify(self, member_id: str) -> list[Discrepancy]:
        """Re-derive the member's state from the stored journal and compare it with the
        stored state: every discrepancy (empty when sound)."""
        def run(session: _Session) -> list[Discrepancy]:
            account = session.account(member_id)
            found = verify(account)
            enrolled = session.profile(member_id).enrolled_at
            if account.enrolled_at != enrolled:
                found.append(Discrepancy("enrolled_at (profile)", enrolled, account.enrolled_at))
            return found

        return self._read(member_id, run)

    def outbox(self, limit: int = 100) -> list[OutboxMessage]:
        """Notifications to forward, oldest first; :meth:`acknowledge` them once sent."""
        return self.store.outbox(self.program.id, _count(limit, "limit", 1, most=_MOST_MESSAGES))

    def acknowledge(self, ids: Sequence[int]) -> None:
        """Mark outbox messages (by their ids) forwarded: they are not read again."""
        self.store.acknowledge(self.program.id, _message_ids(ids))

    # --------------------------------------------------------------- internals

    def _check(self, event: Mapping[str, Any] | Event) -> Event:
        checked = load_event(event)
        if checked.program is not None and checked.program != self.program.id:
            raise WrongProgram(
                "program", checked.program, f"is not this service's program {self.program.id!r}"
            )
        _caller_key(checked.key)
        return checked

    def _apply(self, session: _Session, event: Event) -> Outcome:
        account = session.account(event.member_id)
        at, key = event.at, event.key
        if isinstance(event, OrderCompleted):
            segments = session.profile(event.member_id).segments
            return complete_order(account, event.cart, at=at, key=key, segments=segments)
        if isinstance(event, OrderRefunded | OrderCancelled):
            cancelled = isinstance(event, OrderCancelled)
            lines = None if isinstance(event, OrderCancelled) else event.lines
            shipping = cancelled or (isinstance(event, OrderRefunded) and event.shipping)
            return refund_order(
                account, event.order_id, at=at, key=key, lines=lines, shipping=shipping
            )
        if isinstance(event, ShipmentDelayed):
            if "shipment_delayed" not in self.program.earning.actions:
                return None
            return award_delay(account, event.order_id, at=at, key=key)
        if isinstance(event, Referral):
            # The referred member's id is not stored in the referrer's journal: erasing
            # them must not leave it behind (the key names the referral for the shop).
            # It is part of the key's fingerprint, a hash, so the same key with another
            # referred member is a conflict, not a retry.
            return award_action(account, "referral", at=at, key=key, detail=event.referred)
        if isinstance(event, Birthday):
            return award_action(account, "birthday", at=at, key=key)
        assert isinstance(event, ActionCompleted)
        return award_action(account, event.action, at=at, key=key, source=event.source)

    def _cart(self, session: _Session, member_id: str, cart: Cart | Mapping[str, Any]) -> Cart:
        """The cart, with the member's stored segments when it names none."""
        return with_segments(load_cart(cart), session.profile(member_id).segments)

    def _member(self, session: _Session, member_id: str, at: datetime | None = None) -> Member:
        account = session.account(member_id)
        profile = session.profile(member_id)
        status = account.tier(at)
        return Member(
            member_id,
            profile.enrolled_at,
            profile.birthday,
            profile.segments,
            account.balance(at),
            status.tier if status is not None else None,
        )

    def _write(self, member_id: str, run: Callable[[_Session], _R]) -> _R:
        for attempt in range(1, self.attempts + 1):
            try:
                with self.store.transaction(self.program.id) as transaction:
                    session = _Session(self.program, transaction, self._accounts)
                    result = run(session)
                    session.save()
                    transaction.commit()
                session.keep()
                return result
            except StoreConflict:
                if attempt == self.attempts:
                    raise Busy(member_id, attempt) from None
                time.sleep(random.uniform(0, min(0.002 * 2**attempt, 0.1)))
        raise AssertionError("unreachable")  # pragma: no cover

    def _read(self, member_id: str, run: Callable[[_Session], _R]) -> _R:
        for attempt in range(1, self.attempts + 1):
            try:
                with self.store.transaction(self.program.id, write=False) as transaction:
                    session = _Session(self.program, transaction, self._accounts, writing=False)
                    result = run(session)
                session.keep()
                return result
            except StoreConflict:  # a lost connection (a reader loses no race)
                if attempt == self.attempts:
                    raise Busy(member_id, attempt) from None
                time.sleep(random.uniform(0, min(0.002 * 2**attempt, 0.1)))
        raise AssertionError("unreachable")  # pragma: no cover


INTERNAL_KEY_PREFIX = "::"
"""Idempotency keys the service writes for itself (the signup award) start with this;
a caller's key may not, so no key a shop sends can collide with one of them."""


def _internal_key(name: str) -> str:
    return INTERNAL_KEY_PREFIX + name


def _caller_key(key: object) -> str:
    """A caller's idempotency key: any text but the service's own namespace."""
    text(key, "key", required=True)
    assert isinstance(key, str)
    if key.startswith(INTERNAL_KEY_PREFIX):
        raise InvalidInput(
            "key", key, f"keys starting with {INTERNAL_KEY_PREFIX!r} are reserved for the service"
        )
    return key


class _ItemFailed(Exception):
    """One item of a batch failed unexpectedly: the batch's transaction is abandoned
    (it may be unusable) and the batch run again without the item."""

    def __init__(self, item: object, error: Exception) -> None:
        super().__init__(item, error)
        self.item = item
        self.error = error


def _wrapped(field: str, failure: _ItemFailed) -> LoyaltyError:
    """The error to report for a failed item: a LoyaltyError as it is, any other wrapped."""
    if isinstance(failure.error, LoyaltyError):
        return failure.error
    wrapped = Unprocessed(field, failure.item, failure.error)
    wrapped.__cause__ = failure.error
    return wrapped


def _count(value: object, field: str, least: int, *, most: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise InvalidInput(field, value, f"must be a whole number of at least {least}")
    if most is not None and value > most:
        raise InvalidInput(field, value, f"must be at most {most:,}")
    return value


def _birthday(value: object) -> date | None:
    if value is not None and (isinstance(value, datetime) or not isinstance(value, date)):
        raise InvalidInput("birthday", value, "must be a date")
    if value is not None and not _FIRST_BIRTHDAY <= value < _LATEST_BIRTHDAY:
        raise InvalidInput("birthday", value, "must lie from 1900-01-01 to 2199-12-31")
    return value


# ------------------------------------------------------- argument checks

_FIRST_BIRTHDAY: Final = date(1900, 1, 1)
_LATEST_BIRTHDAY: Final = date(2200, 1, 1)
_MOST_MESSAGES: Final = 10_000
_MOST_MESSAGE_ID: Final = 2**63 - 1


def _collection(value: object, field: str, what: str) -> None:
    """``value`` must be an iterable that is not text nor a mapping."""
    if isinstance(value, str | bytes | bytearray | Mapping) or not isinstance(value, Iterable):
        raise InvalidInput(field, value, f"must be {what}")


def _member_ids(value: object) -> list[str]:
    """The member ids an advance names, each checked before anything is written."""
    _collection(value, "member_ids", "a collection of member ids")
    assert isinstance(value, Iterable)
    ids = list(value)
    for member_id in ids:
        text(member_id, "member_ids", required=True)
    return ids


def _message_ids(value: object) -> tuple[int, ...]:
    _collection(value, "ids", "a collection of outbox message ids")
    assert isinstance(value, Iterable)
    ids = tuple(value)
    for number in ids:
        if (
            isinstance(number, bool)
            or not isinstance(number, int)
            or not 1 <= number <= _MOST_MESSAGE_ID
        ):
            raise InvalidInput("ids", number, "is not an outbox message id")
    return ids


def _read_arguments(member_id: object, at: object) -> None:
    text(member_id, "member_id", required=True)
    if at is not None:
        require_aware(at, "at")


def _redeem_arguments(
    member_id: object, reward_id: object, at: object, key: object, points: object, choice: object
) -> None:
    text(member_id, "member_id", required=True)
    text(reward_id, "reward_id", required=True)
    require_aware(at, "at")
    text(key, "key", required=True)
    if points is not None:
        positive_points(points, "points")
    text(choice, "choice", required=False)


def _segments(value: object) -> tuple[str, ...]:
    """Segment names, sorted, each once."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidInput("segments", value, "must be a collection of segment names")
    tags = list(value)
    for tag in tags:
        text(tag, "segments", required=True)
    return tuple(sorted(set(tags)))
