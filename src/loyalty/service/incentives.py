"""The service's side of incentives: building each trigger's occasion from what the
service knows (the stored profile, the order just recorded, the calendar) and
firing it in the request's transaction, with the store's shared rows.

Each occasion has a natural key, so redelivered events and repeated scheduled
runs grant nothing twice; see :mod:`loyalty.incentives.issue`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loyalty.cart import Cart, load_cart
from loyalty.errors import IncentiveRefused, InvalidInput, UnknownOrder
from loyalty.incentives.codes import normalise
from loyalty.incentives.config import OnBirthday, OnManual, OnSchedule, TriggerKind
from loyalty.incentives.holdings import settle_due, transfer
from loyalty.incentives.issue import BUDGET_MEASURES, Fired, budget_row, fire, member_facts
from loyalty.incentives.occasions import birthday_year, schedule_occurrences
from loyalty.incentives.plan import Occasion, OrderFacts, excluded, incentive_plan
from loyalty.incentives.shared import Shared
from loyalty.ledger.account import Account
from loyalty.ledger.entries import Grant, Order, Refund
from loyalty.ledger.records import OrderRecord
from loyalty.money import Money
from loyalty.program.model import Program
from loyalty.service.session import Session

__all__ = [
    "BudgetLeft",
    "budgets_left",
    "grant_manual",
    "on_birthday",
    "on_delay",
    "on_enrol",
    "on_order",
    "run_calendar",
    "shared",
    "take_transferred",
]


def shared(session: Session) -> Shared:
    """The program's shared rows, in the session's transaction."""
    return Shared(session.transaction.registry())


def _segments(session: Session, member_id: str, extra: Iterable[str] = ()) -> frozenset[str]:
    return frozenset(session.profile(member_id).segments) | frozenset(extra)


def on_order(
    session: Session, account: Account, order: Order, given: Cart | Mapping[str, Any], at: datetime
) -> Fired:
    """The ``order_completed`` incentives of an order just recorded from cart ``given``."""
    if not incentive_plan(account.program).on(TriggerKind.ORDER_COMPLETED):
        return Fired()
    cart = load_cart(given)
    nth = account.completed_orders(excluding=cart.id, before=order.when) + 1
    categories = frozenset(category for line in cart.lines for category in line.categories)
    facts = OrderFacts(cart.id, order.amount, nth, categories)
    occasion = Occasion(TriggerKind.ORDER_COMPLETED, f"order:{cart.id}", order.when, order=facts)
    segments = _segments(session, account.member_id, cart.customer.segments)
    return fire(account, occasion, at=at, shared=shared(session), segments=segments)


def on_delay(session: Session, account: Account, order_id: str, at: datetime) -> Fired:
    """The apology for order ``order_id``'s late shipment: once per order, whatever
    the deliveries. The occasion knows whether it was the member's first order."""
    if not incentive_plan(account.program).on(TriggerKind.SHIPMENT_DELAYED):
        return Fired()
    record = account.order(order_id)
    if record is None:
        raise UnknownOrder(account.member_id, order_id)
    nth = account.completed_orders(excluding=order_id, before=record.at) + 1
    cancelled = _refunded_in_full(account, order_id, record, at)
    facts = OrderFacts(order_id, record.amount, nth, cancelled=cancelled)
    occasion = Occasion(TriggerKind.SHIPMENT_DELAYED, f"delay:{order_id}", at, order=facts)
    return _fire(session, account, occasion, at)


def _refunded_in_full(account: Account, order_id: str, record: OrderRecord, at: datetime) -> bool:
    """Whether order ``order_id`` was cancelled or refunded in full at ``at``: it is now,
    and the refund that completed it (the last to happen) happened at or before ``at``."""
    if not record.fully_refunded:
        return False
    refunds = [
        entry.when
        for entry in account.entries_since(record.at)
        if isinstance(entry, Refund) and entry.order_id == order_id
    ]
    return bool(refunds) and max(refunds) <= at


def on_enrol(
    session: Session,
    account: Account,
    at: datetime,
    *,
    channel: str | None,
    campaign_code: str | None,
    referred: bool,
) -> Fired:
    occasion = Occasion(
        TriggerKind.ENROLLED,
        "enrolled",
        at,
        channel=channel,
        campaign_code=campaign_code,
        referred=referred,
    )
    return _fire(session, account, occasion, at)


def on_birthday(session: Session, account: Account, at: datetime) -> Fired:
    """The ``birthday`` incentives whose grant window holds ``at`` (once a year)."""
    birthday = session.profile(account.member_id).birthday
    program = account.program
    if birthday is None:
        return Fired()
    grants: list[Fired] = []
    for incentive in incentive_plan(program).on(TriggerKind.BIRTHDAY):
        trigger = incentive.trigger
        assert isinstance(trigger, OnBirthday)
        year = birthday_year(trigger, birthday, at, program.tz)
        if year is None:
            continue
        occasion = Occasion(TriggerKind.BIRTHDAY, f"birthday:{year}", at, only=incentive.id)
        grants.append(
            _fire(session, account, occasion, at)
        )
    return _joined(grants)


def run_calendar(session: Session, account: Account, at: datetime) -> Fired:
    """The scheduled run's incentives for one member: holdings that lapse, choices
    made at their deadline, birthdays, and the schedules' occurrences not yet
    granted (within each schedule's ``catch_up``)."""
    program = account.program
    settle_due(account, at, shared(session))
    fired = [on_birthday(session, account, at)]
    joined = account.enrolled_at
    for incentive in incentive_plan(program).on(TriggerKind.SCHEDULE):
        trigger = incentive.trigger
        assert isinstance(trigger, OnSchedule)
        last = account.action_times(f"incentive:{incentive.id}")
        floor = trigger.catch_up.before(at, program.tz)
        after = max(filter(None, (floor, joined, last[-1] if last else None)))
        for index, instant in schedule_occurrences(trigger, after, at, program.tz):
            occasion = Occasion(
                TriggerKind.SCHEDULE,
                f"schedule:{instant.isoformat()}",
                instant,
                only=incentive.id,
                rotation=index,
            )
            fired.append(_fire(session, account, occasion, at))
    return _joined(fired)


def _fire(session: Session, account: Account, occasion: Occasion, at: datetime) -> Fired:
    """Fire ``occasion`` for ``account``'s member, with their stored segments."""
    return fire(
        account,
        occasion,
        at=at,
        shared=shared(session),
        segments=_segments(session, account.member_id),
    )


def _joined(fired: Iterable[Fired]) -> Fired:
    items = list(fired)
    return Fired(
        tuple(grant for one in items for grant in one.grants),
        tuple(refusal for one in items for refusal in one.refused),
    )


def grant_manual(
    session: Session,
    account: Account,
    incentive_id: str,
    at: datetime,
    key: str,
    reason: str,
    actor: str,
) -> Grant:
    """A ``manual`` incentive issued by ``actor``: once per ``key``."""
    program = account.program
    incentive = program.incentives.get(incentive_id)
    if incentive is None or not isinstance(incentive.trigger, OnManual):
        raise InvalidInput("incentive_id", incentive_id, "is not a manual incentive of the program")
    occasion = Occasion(
        TriggerKind.MANUAL,
        f"manual:{key}",
        at,
        only=incentive_id,
        reason=f"{reason}, by {actor}",
    )
    fired = _fire(session, account, occasion, at)
    if fired.grants:
        return fired.grants[0]
    if fired.refused:
        raise IncentiveRefused(account.member_id, incentive_id, fired.refused[0][1])
    facts = member_facts(account, at, _segments(session, account.member_id))
    why = excluded(
        program,
        incentive,
        occasion,
        lambda: facts,
        account.action_times(f"incentive:{incentive_id}"),
    )
    raise InvalidInput("incentive_id", incentive_id, f"does not apply to this member: {why}")


def take_transferred(session: Session, account: Account, code: object, at: datetime) -> None:
    """If ``code`` is another member's transferable coupon, still open, move it to
    ``account``'s member: the holder's coupon is marked used (transferred) and the
    member receives the same coupon under the same code. Anything else is left for
    :func:`~loyalty.redeem_coupon` to refuse, uniformly."""
    program = account.program
    stored = normalise(code, program.incentives.codes)
    if stored is None:
        return
    rows = shared(session)
    owner = rows.code(stored)
    if owner is None or owner[0] == account.member_id:
        return
    holder = session.account(owner[0])
    holding = holder._holdings.get(owner[1])
    if holding is None or not holding.transferable or not holding.usable(at):
        return
    transfer(holder, account, holding, at, rows)


@dataclass(frozen=True, slots=True)
class BudgetLeft:
    """What is left of one of an incentive's global budgets: ``measure`` is ``count``
    (bundles), ``points`` or ``money`` (then ``limit``, ``used`` and ``left`` are in
    the program currency's minor units)."""

    incentive: str
    measure: str
    limit: int
    used: int

    @property
    def left(self) -> int:
        return max(self.limit - self.used, 0)


def budgets_left(program: Program, rows: Shared) -> tuple[BudgetLeft, ...]:
    """Every global budget of the program's incentives, with what is left of it."""
    found = []
    for incentive in program.incentives.catalog:
        budget = incentive.limits.budget
        if budget is None:
            continue
        money = Money(budget.money, program.currency).minor_units if budget.money else None
        limits = (budget.count, budget.points, money)
        for measure, limit in zip(BUDGET_MEASURES, limits, strict=True):
            if limit is not None:
                used = rows.used(budget_row(incentive.id, measure))
                found.append(BudgetLeft(incentive.id, measure, limit, used))
    return tuple(found)
