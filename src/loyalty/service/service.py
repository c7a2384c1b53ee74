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
from typing import Any, TypeVar

from loyalty.cart import Cart, load_cart
from loyalty.checkout.actions import award_action
from loyalty.checkout.orders import OrderResult, RefundResult, complete_order, refund_order
from loyalty.checkout.quote import Quote, quote
from loyalty.checkout.redemption import Redemption, redeem_reward
from loyalty.dates import Duration, require_aware
from loyalty.errors import (
    Busy,
    InvalidInput,
    LoyaltyError,
    MemberExists,
    UnknownMember,
    WrongProgram,
)
from loyalty.ledger.account import Account, rebase, restore
from loyalty.ledger.entries import Earn, Entry
from loyalty.ledger.operations import adjust, open_account
from loyalty.ledger.operations import advance as advance_account
from loyalty.ledger.requests import text
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
)
from loyalty.tiers.operations import review_member

__all__ = ["AdvanceReport", "ImportReport", "LoyaltyService", "Member", "Outcome"]

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
    """What a scheduled run did: members visited, entries written, notifications
    emitted, and ids skipped because the store no longer had them (erased)."""

    members: int
    entries: int
    notifications: int
    skipped: int = 0


@dataclass(frozen=True, slots=True)
class ImportReport:
    """A batch import: how many events applied, and each rejected one with its error."""

    applied: int
    rejected: tuple[tuple[int, LoyaltyError], ...] = ()


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
        """Append what each loaded account wrote, with its notifications (an account
        brought forward without entries is not saved: that is derived again on load)."""
        for member_id, loaded in self.loaded.items():
            entries = loaded.account.entries_from(loaded.start)
            if not loaded.stored.profile.erased:  # a pseudonym has no one to tell
                notifications = decided(loaded.account, entries, loaded.available)
                self.transaction.emit(notifications)
                self.notified += len(notifications)
            if not entries:
                continue
            self.transaction.save(
                member_id, loaded.stored.version, entries, loaded.account.changes()
            )
            loaded.account.saved()
            self.written += len(entries)

    def keep(self) -> None:
        """After commit: keep each account that is what the store now holds."""
        for member_id, loaded in self.loaded.items():
            written = loaded.account.next_seq - loaded.start
            if written or loaded.account.clock == loaded.clock:
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
                award_action(session.account(member_id), "signup", at=instant, key="signup")
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

    def handle(self, event: Mapping[str, Any] | Event) -> Outcome:
        """Apply an event (see :mod:`loyalty.service.events`); idempotent by its key."""
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

        def run(session: _Session) -> Redemption:
            account = session.account(member_id)
            return redeem_reward(
                account,
                reward_id,
                self._cart(session, member_id, cart),
                at=at,
                key=key,
                points=points,
                choice=choice,
                stock=session.transaction.stock(self._limits),
            )

        return self._write(member_id, run)

    def adjust(
        self, member_id: str, points: int, *, at: datetime, key: str, actor: str, reason: str
    ) -> Entry:
        """A manual correction by ``actor`` (see :func:`~loyalty.adjust`)."""
        return self._write(
            member_id,
            lambda session: adjust(
                session.account(member_id), points, at=at, key=key, actor=actor, reason=reason
            ),
        )

    def import_events(
        self, events: Iterable[Mapping[str, Any] | Event], *, batch_size: int = 500
    ) -> ImportReport:
        """Apply many events, ``batch_size`` per transaction (a batch is all or nothing
        against crashes). An event that is rejected (bad payload, refused by the
        engine) writes nothing and is reported; the others in its batch apply."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidInput("batch_size", batch_size, "must be a positive whole number")
        applied = 0
        rejected: list[tuple[int, LoyaltyError]] = []
        batch: list[tuple[int, Mapping[str, Any] | Event]] = []
        for number, event in enumerate(events):
            batch.append((number, event))
            if len(batch) == batch_size:
                applied += self._import(batch, rejected)
                batch = []
        if batch:
            applied += self._import(batch, rejected)
        return ImportReport(applied, tuple(rejected))

    def _import(
        self,
        batch: Sequence[tuple[int, Mapping[str, Any] | Event]],
        rejected: list[tuple[int, LoyaltyError]],
    ) -> int:
        def run(session: _Session) -> list[tuple[int, LoyaltyError]]:
            refused: list[tuple[int, LoyaltyError]] = []
            for number, event in batch:
                try:
                    checked = self._check(event)
                    self._apply(session, checked)
                except LoyaltyError as error:
                    refused.append((number, error))
            return refused

        refused = self._write("(batch)", run)
        rejected.extend(refused)
        return len(batch) - len(refused)

    def advance(
        self, at: datetime, member_ids: Iterable[str] | None = None, *, batch_size: int = 200
    ) -> AdvanceReport:
        """The scheduled run: bring members (all, by default) to ``at`` — activate
        pending points, expire due lots, review tiers — and announce points that
        expire within ``expiring_within``."""
        instant = require_aware(at, "at")
        _count(batch_size, "batch_size", 1)
        if isinstance(member_ids, str):
            raise InvalidInput("member_ids", member_ids, "must be a collection of member ids")
        ids = iter_members(self.store, self.program.id) if member_ids is None else member_ids
        members = entries = notes = skipped = 0
        batch: list[str] = []

        def run(session: _Session) -> _Session:
            for member_id in batch:
                try:
                    account = session.account(member_id)
                except UnknownMember:  # erased (or never enrolled) since the list was read
                    session.skipped += 1
                    continue
                advance_account(account, instant)
                if account.tiers is not None:
                    review_member(account, instant)
                if not session.profile(member_id).erased:
                    found = expiring(account, instant, self.expiring_within)
                    session.transaction.emit(found)
                    session.notified += len(found)
            return session

        for member_id in [*ids, None]:
            if member_id is not None:
                batch.append(member_id)
            if batch and (member_id is None or len(batch) == batch_size):
                done = self._write("(scheduled run)", run)
                members += len(batch) - done.skipped
                entries += done.written
                notes += done.notified
                skipped += done.skipped
                batch = []
        return AdvanceReport(members, entries, notes, skipped)

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
        return self._read(member_id, lambda session: self._member(session, member_id, at))

    def balance(self, member_id: str, at: datetime | None = None) -> Balance:
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
        return self.store.outbox(self.program.id, _count(limit, "limit", 1))

    def acknowledge(self, ids: Sequence[int]) -> None:
        if isinstance(ids, str | bytes) or not all(
            isinstance(number, int) and not isinstance(number, bool) for number in ids
        ):
            raise InvalidInput("ids", ids, "must be a collection of outbox message ids")
        self.store.acknowledge(self.program.id, ids)

    # --------------------------------------------------------------- internals

    def _check(self, event: Mapping[str, Any] | Event) -> Event:
        checked = load_event(event)
        if checked.program is not None and checked.program != self.program.id:
            raise WrongProgram(
                "program", checked.program, f"is not this service's program {self.program.id!r}"
            )
        return checked

    def _apply(self, session: _Session, event: Event) -> Outcome:
        account = session.account(event.member_id)
        at, key = event.at, event.key
        if isinstance(event, OrderCompleted):
            cart = self._cart(session, event.member_id, event.cart)
            return complete_order(account, cart, at=at, key=key)
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
            return award_action(account, "shipment_delayed", at=at, key=key, source=event.order_id)
        if isinstance(event, Referral):
            # The referred member's id is not stored in the referrer's journal: erasing
            # them must not leave it behind (the key names the referral for the shop).
            return award_action(account, "referral", at=at, key=key)
        if isinstance(event, Birthday):
            return award_action(account, "birthday", at=at, key=key)
        assert isinstance(event, ActionCompleted)
        return award_action(account, event.action, at=at, key=key, source=event.source)

    def _cart(self, session: _Session, member_id: str, cart: Cart | Mapping[str, Any]) -> Cart:
        """The cart, with the member's stored segments when it names none."""
        loaded = load_cart(cart)
        segments = session.profile(member_id).segments
        if loaded.customer.segments or not segments:
            return loaded
        customer = loaded.customer.model_copy(update={"segments": frozenset(segments)})
        return loaded.model_copy(update={"customer": customer})

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


def _count(value: object, field: str, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise InvalidInput(field, value, f"must be a whole number of at least {least}")
    return value


def _birthday(value: object) -> date | None:
    if value is not None and (isinstance(value, datetime) or not isinstance(value, date)):
        raise InvalidInput("birthday", value, "must be a date")
    return value


def _segments(value: object) -> tuple[str, ...]:
    """Segment names, sorted, each once."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidInput("segments", value, "must be a collection of segment names")
    tags = list(value)
    for tag in tags:
        text(tag, "segments", required=True)
    return tuple(sorted(set(tags)))
