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

import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, TypeVar, overload

from loyalty.cart import Cart, load_cart, with_segments
from loyalty.checkout.actions import DELAY_ACTION, award_action, award_delay
from loyalty.checkout.cashback import spend_cashback
from loyalty.checkout.coupons import redeem_coupon
from loyalty.checkout.offers import apply_offers
from loyalty.checkout.orders import (
    OrderResult,
    RefundResult,
    complete_order,
    refund_order,
)
from loyalty.checkout.quote import Quote, quote
from loyalty.checkout.redemption import Redemption, redeem_reward, void_redemption
from loyalty.dates import Duration, require_aware
from loyalty.errors import (
    InvalidInput,
    MemberExists,
    WrongProgram,
)
from loyalty.incentives.holdings import Wallet, choose, find_code, holdings, revoke, wallet
from loyalty.incentives.issue import Fired
from loyalty.incentives.shared import Shared
from loyalty.ledger.entries import Earn, Entry, Grant, Holding, HoldingChange, Redeem, Void
from loyalty.ledger.lots import Lot
from loyalty.ledger.operations import adjust, open_account
from loyalty.ledger.operations import advance as advance_account
from loyalty.ledger.requests import nonzero_points, text
from loyalty.ledger.state import Balance
from loyalty.ledger.statement import Statement, statement
from loyalty.ledger.verify import Discrepancy, verify
from loyalty.money import Money
from loyalty.notifications import expiring
from loyalty.program.model import Program
from loyalty.service import arguments, referrals
from loyalty.service.batches import (
    AdvanceReport,
    ImportReport,
    Rejected,
    advance_in_batches,
    import_in_batches,
)
from loyalty.service.erasure import erase_rows
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
from loyalty.service.incentives import (
    BudgetLeft,
    budgets_left,
    grant_manual,
    on_birthday,
    on_delay,
    on_enrol,
    on_order,
    run_calendar,
    shared,
    take_transferred,
)
from loyalty.service.referrals import ReferralStatus
from loyalty.service.session import Accounts, Session, retried, transact
from loyalty.store.port import (
    MemberProfile,
    OutboxMessage,
    Store,
    StoredMember,
    iter_members,
)
from loyalty.tiers.operations import review_member

__all__ = ["AdvanceReport", "ImportReport", "LoyaltyService", "Member", "Outcome", "Rejected"]

_R = TypeVar("_R")

Outcome = OrderResult | RefundResult | Earn | Fired
"""What handling an event wrote: an order's or a refund's entries (an order's with the
grants its incentives issued), a bonus action's earn, or what the incentives of a
shipment delay or a birthday granted (when the program has no points action for it)."""


@dataclass(frozen=True, slots=True)
class Member:
    """A member as the service reports them: their id, when they enrolled, their
    birthday and segments (as last given), their points (``balance``) and their tier
    (``None`` for a program without tiers)."""

    member_id: str
    enrolled_at: datetime
    birthday: date | None
    segments: tuple[str, ...]
    balance: Balance
    tier: str | None


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
        self.attempts = arguments.count(attempts, "attempts", 1)
        self._accounts = Accounts(arguments.count(cache_size, "cache_size", 0))
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
        channel: str | None = None,
        campaign_code: str | None = None,
        referral_code: str | None = None,
        identity: str | None = None,
    ) -> Member:
        """Enrol a member (and award the program's ``signup`` action, if it has one),
        and issue the ``enrolled`` incentives: those of the ``channel`` they joined
        through or the ``campaign_code`` they gave, if the incentive names one.

        ``referral_code``: the code a referrer shared (see :meth:`referral_code`); the
        member is then referred (their ``enrolled`` incentives with ``referred: true``
        fire) or, if the referral is refused, nothing is written and
        :class:`~loyalty.errors.ReferralRefused` says why (see
        :mod:`loyalty.service.referrals`). ``identity``: the person's identity key, as
        the shop knows it (an e-mail hash, a payment fingerprint; the member id if
        omitted), which the referral guards compare.

        Enrolling again with the same details returns the member; with other
        details it raises :class:`~loyalty.errors.MemberExists` (with a referral code
        naming another referrer than their own, :class:`~loyalty.errors.ReferralRefused`).
        """
        text(member_id, "member_id", required=True)
        text(channel, "channel", required=False)
        text(campaign_code, "campaign_code", required=False)
        text(referral_code, "referral_code", required=False)
        text(identity, "identity", required=False)
        instant = require_aware(at, "at")
        profile = MemberProfile(
            member_id, instant, arguments.birthday(birthday), arguments.segments(segments)
        )

        def run(session: Session) -> Member:
            stored = session.transaction.member(member_id, lock=True)
            if stored is not None:
                if stored.profile != profile:
                    raise MemberExists(member_id)
                if referral_code is not None:
                    referrals.confirm(session, member_id, referral_code)
                return self._member(session, member_id)
            referred = referrals.attribute(session, member_id, instant, referral_code, identity)
            account = open_account(self.program, member_id, enrolled_at=instant)
            state = account.snapshot(keys=False)
            session.transaction.add_member(StoredMember(profile, 0, state))
            if "signup" in self.program.earning.actions:
                account = session.account(member_id)
                award_action(account, "signup", at=instant, key=arguments.internal_key("signup"))
            fired = on_enrol(
                session,
                session.account(member_id),
                instant,
                channel=channel,
                campaign_code=campaign_code,
                referred=referred,
            )
            session.refused(member_id, fired, instant)
            return self._member(session, member_id)

        return self._write(member_id, run)

    def update_member(
        self, member_id: str, *, birthday: date | None, segments: Iterable[str]
    ) -> Member:
        """Replace the member's birthday and segments (the shop's customer record changed)."""
        profile_birthday = arguments.birthday(birthday)
        profile_segments = arguments.segments(segments)

        def run(session: Session) -> Member:
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
    def handle(self, event: Referral | ActionCompleted) -> Earn: ...
    @overload
    def handle(self, event: Birthday | ShipmentDelayed) -> Earn | Fired: ...
    @overload
    def handle(self, event: Mapping[str, Any] | Event) -> Outcome: ...

    def handle(self, event: Mapping[str, Any] | Event) -> Outcome:
        """Apply an event (see :mod:`loyalty.service.events`); idempotent by its key.

        Typed per event class: an :class:`OrderCompleted` gives an
        :class:`~loyalty.OrderResult`, a refund or cancellation a
        :class:`~loyalty.RefundResult`, a bonus action its ``Earn``; a birthday or a
        shipment delay its ``Earn`` when the program pays one, else the incentives it
        :class:`~loyalty.Fired` (``Fired(grants=(), refused=())`` when it pays nothing).
        A mapping (webhook JSON) gives the :data:`Outcome` union."""
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
        units: int | None = None,
    ) -> Redemption:
        """Redeem a reward on a cart (see :func:`~loyalty.redeem_reward`); the cart's
        other discounts and the offers are restacked with it."""
        arguments.redeem_arguments(member_id, reward_id, at, key, points, choice)

        def run(session: Session) -> Redemption:
            account = session.account(member_id, key)
            return redeem_reward(
                account,
                reward_id,
                cart,
                at=at,
                key=key,  # a caller key: redeem_arguments checked it
                points=points,
                choice=choice,
                units=units,
                stock=session.transaction.stock(self._limits),
                segments=session.profile(member_id).segments,
            )

        return self._write(member_id, run)

    def apply_offers(
        self, member_id: str, cart: Cart | Mapping[str, Any], *, at: datetime, key: str
    ) -> tuple[Redemption, ...]:
        """Write the offers the member's cart gets, for a checkout that uses no reward
        or coupon (see :func:`~loyalty.apply_offers`)."""
        arguments.write_arguments(member_id, at, key)
        return self._write(
            member_id,
            lambda session: apply_offers(
                session.account(member_id, key),
                cart,
                at=at,
                key=key,
                segments=session.profile(member_id).segments,
            ),
        )

    def void_redemption(
        self, member_id: str, redemption_id: str, *, at: datetime, key: str
    ) -> Void:
        """Undo a redemption whose order has not completed (an abandoned checkout): the
        points go back to their lots, with their expiry, and the reward's stock unit is
        released (see :func:`~loyalty.void_redemption`). Idempotent."""
        return self._write(
            member_id,
            lambda session: void_redemption(
                session.account(member_id, key),
                redemption_id,
                at=at,
                key=arguments.caller_key(key),
                stock=session.transaction.stock(self._limits),
            ),
        )

    def redeem_coupon(
        self,
        member_id: str,
        code: str,
        cart: Cart | Mapping[str, Any],
        *,
        at: datetime,
        key: str,
    ) -> Redemption:
        """Use coupon ``code`` (as the customer typed it) on the member's cart (see
        :func:`~loyalty.redeem_coupon`). A transferable coupon of another member is
        moved to this one first, in the same transaction; any other code that is not
        the member's is refused exactly as an unknown one is."""
        arguments.write_arguments(member_id, at, key)

        def run(session: Session) -> Redemption:
            account = session.account(member_id, key)
            if find_code(account, code) is None:
                take_transferred(session, account, code, at)
            return redeem_coupon(
                account,
                code,
                cart,
                at=at,
                key=key,
                segments=session.profile(member_id).segments,
                stock=session.transaction.stock(self._limits),
            )

        return self._write(member_id, run)

    def spend_cashback(
        self,
        member_id: str,
        cart: Cart | Mapping[str, Any],
        *,
        at: datetime,
        key: str,
        amount: Money | None = None,
    ) -> tuple[Redeem, ...]:
        """Pay part of the cart with the member's cashback (see :func:`~loyalty.spend_cashback`)."""
        text(member_id, "member_id", required=True)
        arguments.caller_key(key)
        return self._write(
            member_id,
            lambda session: spend_cashback(
                session.account(member_id, key), cart, at=at, key=key, amount=amount
            ),
        )

    def grant(
        self,
        member_id: str,
        incentive_id: str,
        *,
        at: datetime,
        key: str,
        reason: str,
        actor: str,
    ) -> Grant:
        """Issue a ``manual`` incentive to a member: an operator's grant, with a reason.
        The same ``key`` grants once. Raises :class:`~loyalty.errors.InvalidInput` for an
        incentive that is not manual or whose limits or audience exclude the member,
        and :class:`~loyalty.errors.IncentiveRefused` when its budget or stock is spent."""
        text(member_id, "member_id", required=True)
        text(reason, "reason", required=True)
        text(actor, "actor", required=True)
        arguments.caller_key(key)
        return self._write(
            member_id,
            lambda session: grant_manual(
                session, session.account(member_id), incentive_id, at, key, reason, actor
            ),
        )

    def choose(
        self, member_id: str, holding: str, option: int | str, *, at: datetime, key: str
    ) -> HoldingChange:
        """Make a pending choice (see :func:`~loyalty.choose`)."""
        arguments.caller_key(key)
        return self._write(
            member_id,
            lambda session: choose(
                session.account(member_id, key),
                holding,
                option,
                at=at,
                key=key,
                shared=shared(session),
            ),
        )

    def revoke(
        self, member_id: str, holding: str, *, at: datetime, key: str, reason: str, actor: str
    ) -> HoldingChange:
        """Withdraw a member's open coupon or choice (see :func:`~loyalty.revoke`)."""
        arguments.caller_key(key)
        return self._write(
            member_id,
            lambda session: revoke(
                session.account(member_id, key), holding, at=at, key=key, reason=reason, actor=actor
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
                session.account(member_id, key),
                points,
                at=at,
                key=arguments.caller_key(key),
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
        arguments.count(batch_size, "batch_size", 1)
        arguments.collection(events, "events", "a collection of events")
        return import_in_batches(
            self._write,
            lambda session, event: self._apply(session, self._check(event)),
            events,
            batch_size,
        )

    def advance(
        self, at: datetime, member_ids: Iterable[str] | None = None, *, batch_size: int = 200
    ) -> AdvanceReport:
        """The scheduled run: settle the referrals due by ``at`` (those of ``member_ids``,
        if given; each in its own transaction: see :mod:`loyalty.service.referrals`),
        then bring members (all, by default) to ``at`` — activate pending points,
        expire due lots, run the incentives' calendar (holdings past their end lapse,
        choices past their deadline are made, birthday and schedule incentives due are
        issued), reconcile a tier the program no longer has, review tiers — and
        announce points that expire within ``expiring_within``.

        A member whose run fails writes nothing and is listed in
        :attr:`AdvanceReport.failed` with the error (an unexpected one wrapped in
        :class:`~loyalty.errors.Unprocessed`); the run goes on with the others."""
        instant = require_aware(at, "at")
        arguments.count(batch_size, "batch_size", 1)
        named = None if member_ids is None else arguments.member_ids(member_ids)
        settled = referrals.settle_due(
            self.store,
            self.program,
            self._write,
            instant,
            None if named is None else frozenset(named),
        )
        report = advance_in_batches(
            self._write,
            lambda session, member_id: self._advance_member(session, member_id, instant),
            iter_members(self.store, self.program.id) if named is None else named,
            batch_size,
        )
        return replace(
            report,
            entries=report.entries + settled.entries,
            notifications=report.notifications + settled.notifications,
            failed=settled.failed + report.failed,
            referrals=settled.referrals,
        )

    def _advance_member(self, session: Session, member_id: str, instant: datetime) -> None:
        account = session.account(member_id)
        advance_account(account, instant)
        fired = run_calendar(session, account, instant)
        if account.tiers is not None:
            review_member(account, instant)  # a retired tier is reconciled first
        session.refused(member_id, fired, instant)
        if not session.profile(member_id).erased:
            session.tell(member_id, expiring(account, instant, self.expiring_within))

    def erase(self, member_id: str) -> str:
        """Remove the member's personal data; their journal stays, under the returned
        pseudonym, so the program's books still balance. The shared rows that named
        them (coupon codes, budget claims, referrals) name the pseudonym (see
        :mod:`loyalty.service.erasure`)."""
        pseudonym = f"erased-{secrets.token_hex(8)}"

        def run(session: Session) -> str:
            erase_rows(session, session.account(member_id), pseudonym)
            session.loaded.clear()
            session.transaction.erase(member_id, pseudonym)
            return pseudonym

        return self._write(member_id, run)

    def referral_code(self, member_id: str) -> str:
        """The code the member shares to refer others, as displayed: drawn (like a
        coupon's, unique among the program's codes) the first time, the same after."""
        text(member_id, "member_id", required=True)
        return self._write(member_id, lambda session: referrals.referral_code(session, member_id))

    # ------------------------------------------------------------------- reads

    def referral(self, member_id: str) -> ReferralStatus | None:
        """The referral that brought the member in (``None`` if none did), as it stands."""
        arguments.read_arguments(member_id, None)
        return self._read(member_id, lambda session: referrals.status(session, member_id))

    def member(self, member_id: str, at: datetime | None = None) -> Member:
        """The member's profile, balance and tier (as at ``at``, if given)."""
        arguments.read_arguments(member_id, at)
        return self._read(member_id, lambda session: self._member(session, member_id, at))

    def balance(self, member_id: str, at: datetime | None = None) -> Balance:
        """The member's points: available, pending and owed (as at ``at``, if given)."""
        arguments.read_arguments(member_id, at)
        return self._read(member_id, lambda session: session.account(member_id).balance(at))

    def lots(self, member_id: str, at: datetime | None = None) -> tuple[Lot, ...]:
        """The member's open lots (pending or available), in the order they would be
        spent (as at ``at``, if given)."""
        arguments.read_arguments(member_id, at)
        return self._read(member_id, lambda session: session.account(member_id).lots(at))

    def quote(
        self,
        member_id: str,
        cart: Cart | Mapping[str, Any],
        *,
        at: datetime,
        codes: Iterable[str] = (),
    ) -> Quote:
        """What the cart earns, which rewards the member can use, their coupons, choices
        and cashback, and the answer to each of ``codes`` the customer typed (see
        :func:`~loyalty.quote`)."""
        return self._read(
            member_id,
            lambda session: quote(
                session.account(member_id),
                self._cart(session, member_id, cart),
                at=at,
                stock=session.transaction.stock(self._limits),
                codes=codes,
            ),
        )

    def holdings(self, member_id: str) -> tuple[Holding, ...]:
        """What incentives gave the member besides points: coupons, cashback credits and
        choices, as they stand, in the order they were issued."""
        arguments.read_arguments(member_id, None)
        return self._read(member_id, lambda session: holdings(session.account(member_id)))

    def wallet(self, member_id: str, at: datetime) -> Wallet:
        """The member's cashback as of ``at`` (see :func:`~loyalty.wallet`)."""
        arguments.read_arguments(member_id, at)
        return self._read(member_id, lambda session: wallet(session.account(member_id), at))

    def budgets(self) -> tuple[BudgetLeft, ...]:
        """What is left of each global budget of the program's incentives (read in one
        read-only transaction; a concurrent grant may take from it the next moment)."""
        def read() -> tuple[BudgetLeft, ...]:
            with self.store.transaction(self.program.id, write=False) as transaction:
                return budgets_left(self.program, Shared(transaction.registry()))

        return retried(read, self.attempts, "(budgets)")

    def statement(self, member_id: str) -> Statement:
        """Every entry of the member's journal, with its reason and the running balance."""
        return self._read(member_id, lambda session: statement(session.account(member_id)))

    def journal(self, member_id: str) -> tuple[Entry, ...]:
        """Every entry of the member's journal, oldest first: the facts :meth:`statement`
        renders, with all their fields."""
        arguments.read_arguments(member_id, None)
        return self._read(member_id, lambda session: tuple(session.account(member_id).journal))

    def verify(self, member_id: str) -> list[Discrepancy]:
        """Re-derive the member's state from the stored journal and compare it with the
        stored state: every discrepancy (empty when sound)."""
        def run(session: Session) -> list[Discrepancy]:
            account = session.account(member_id)
            found = verify(account)
            enrolled = session.profile(member_id).enrolled_at
            if account.enrolled_at != enrolled:
                found.append(Discrepancy("enrolled_at (profile)", enrolled, account.enrolled_at))
            return found

        return self._read(member_id, run)

    def outbox(self, limit: int = 100) -> list[OutboxMessage]:
        """Notifications to forward, oldest first; :meth:`acknowledge` them once sent. A
        lost connection is retried like a read; after ``attempts`` tries, :class:`Busy`."""
        limit = arguments.count(limit, "limit", 1, most=arguments.MOST_MESSAGES)
        return retried(lambda: self.store.outbox(self.program.id, limit), self.attempts, "(outbox)")

    def acknowledge(self, ids: Sequence[int]) -> None:
        """Mark outbox messages (by their ids) forwarded: they are not read again.
        Acknowledging a message twice is harmless, so a lost connection is retried."""
        checked = arguments.message_ids(ids)
        retried(
            lambda: self.store.acknowledge(self.program.id, checked), self.attempts, "(outbox)"
        )

    # --------------------------------------------------------------- internals

    def _check(self, event: Mapping[str, Any] | Event) -> Event:
        checked = load_event(event)
        if checked.program is not None and checked.program != self.program.id:
            raise WrongProgram(
                "program", checked.program, f"is not this service's program {self.program.id!r}"
            )
        arguments.caller_key(checked.key)
        return checked

    def _apply(self, session: Session, event: Event) -> Outcome:
        account = session.account(event.member_id, event.key)
        at, key = event.at, event.key
        if isinstance(event, OrderCompleted):
            segments = session.profile(event.member_id).segments
            cart = load_cart(event.cart)  # validated once, for the order and its incentives
            result = complete_order(account, cart, at=at, key=key, segments=segments)
            fired = on_order(session, account, result.order, cart, at)
            referrals.qualify(session, account, result.order)
            session.refused(event.member_id, fired, at)
            return replace(result, grants=fired.grants) if fired.grants else result
        if isinstance(event, OrderRefunded | OrderCancelled):
            cancelled = isinstance(event, OrderCancelled)
            lines = None if isinstance(event, OrderCancelled) else event.lines
            amount = None if isinstance(event, OrderCancelled) else event.amount
            shipping = cancelled or (isinstance(event, OrderRefunded) and event.shipping)
            refunded = refund_order(
                account,
                event.order_id,
                at=at,
                key=key,
                lines=lines,
                amount=amount,
                shipping=shipping,
            )
            referrals.claw_back(session, account, event.order_id, at)
            return refunded
        if isinstance(event, ShipmentDelayed):
            # The points action first: it refuses an order the member did not complete.
            points = None
            if DELAY_ACTION in self.program.earning.actions:
                points = award_delay(account, event.order_id, at=at, key=key)
            apology = on_delay(session, account, event.order_id, at)
            session.refused(event.member_id, apology, at)
            return apology if points is None else points
        if isinstance(event, Referral):
            # The referred member's id is not stored in the referrer's journal: erasing
            # them must not leave it behind (the key names the referral for the shop).
            # It is part of the key's fingerprint, a hash, so the same key with another
            # referred member is a conflict, not a retry.
            return award_action(account, "referral", at=at, key=key, detail=event.referred)
        if isinstance(event, Birthday):
            points = None
            if "birthday" in self.program.earning.actions:
                points = award_action(account, "birthday", at=at, key=key)
            gifts = on_birthday(session, account, at)
            session.refused(event.member_id, gifts, at)
            return gifts if points is None else points
        assert isinstance(event, ActionCompleted)
        return award_action(account, event.action, at=at, key=key, source=event.source)

    def _cart(self, session: Session, member_id: str, cart: Cart | Mapping[str, Any]) -> Cart:
        """The cart, with the member's stored segments when it names none."""
        return with_segments(load_cart(cart), session.profile(member_id).segments)

    def _member(self, session: Session, member_id: str, at: datetime | None = None) -> Member:
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

    def _write(self, member_id: str, run: Callable[[Session], _R]) -> _R:
        return transact(
            self.store, self.program, self._accounts, self.attempts, member_id, run, writing=True
        )

    def _read(self, member_id: str, run: Callable[[Session], _R]) -> _R:
        return transact(
            self.store, self.program, self._accounts, self.attempts, member_id, run, writing=False
        )
