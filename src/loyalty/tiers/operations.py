"""Tier operations: record orders and refunds, assign a tier by hand, review members.

Like the ledger's operations, each one validates its input, honours its
idempotency key, runs in one transaction and writes nothing when it fails.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from loyalty.dates import require_aware
from loyalty.errors import InvalidInput, NoTiers, RefundExceedsOrder, UnknownOrder
from loyalty.ledger.account import Account
from loyalty.ledger.entries import Order, Refund, TierCause, TierChange
from loyalty.ledger.requests import Request, money_amount, same, text
from loyalty.money import Money
from loyalty.tiers.tracker import TierTracker

__all__ = [
    "ReviewReport",
    "assign_tier",
    "reconcile_tier",
    "record_order",
    "record_refund",
    "review",
    "review_member",
]


def record_order(
    account: Account,
    order_id: str,
    amount: Money,
    *,
    at: datetime,
    key: str,
    reason: str | None = None,
) -> Order:
    """Record a completed order worth ``amount`` (what counts as net spend).

    Counts toward tiers at once: crossing a threshold writes an upgrade entry.
    """
    text(order_id, "order_id", required=True)
    money_amount(amount, account.program.currency, "amount")
    request = Request.begin(
        account, "order", at, key, order_id=order_id, amount=amount, reason=reason
    )
    if request.original is not None:
        return same(request.original, Order)
    if account.order(order_id) is not None:
        raise InvalidInput("order_id", order_id, "is already recorded for this member")
    with account._transaction():
        account.advance(request.at)
        entry = Order(
            **request.fields(account, 0, reason or f"order {order_id}: {amount}", order_id),
            amount=amount,
        )
        account._apply(entry)
        account.upgrade_tier(request.at)
    return entry


def record_refund(
    account: Account,
    order_id: str,
    amount: Money,
    *,
    at: datetime,
    key: str,
    reason: str | None = None,
) -> Refund:
    """Record money refunded on a recorded order; a full refund uncounts the order.

    The refund lowers the figures of the window the order counted in (not with
    ``qualify_on: gross``). At review (the default mode) it never lowers a tier by
    itself: the next review looks at the net figures; with ``downgrade_mode:
    automatic`` the tier follows at once.
    """
    text(order_id, "order_id", required=True)
    money_amount(amount, account.program.currency, "amount", positive=True)
    request = Request.begin(
        account, "refund", at, key, order_id=order_id, amount=amount, reason=reason
    )
    if request.original is not None:
        return same(request.original, Refund)
    order = account.order(order_id)
    if order is None:
        raise UnknownOrder(account.member_id, order_id)
    left = order.amount - order.refunded
    if amount > left:
        raise RefundExceedsOrder(account.member_id, order_id, amount, left)
    with account._transaction():
        account.advance(request.at)
        entry = Refund(
            **request.fields(
                account, 0, reason or f"refund of {amount} on order {order_id}", order_id
            ),
            order_id=order_id,
            amount=amount,
        )
        account._apply(entry)
    return entry


def assign_tier(
    account: Account,
    tier: str,
    *,
    at: datetime,
    key: str,
    reason: str,
    actor: str,
    until: datetime | None = None,
    fixed: bool = False,
) -> TierChange:
    """Assign ``tier`` by hand until ``until`` (forever without it).

    By default it is a floor: a tier above the member's current one takes effect at
    once, a lower one only sets the floor, and nothing (a review, an automatic
    downgrade) goes below it while it lasts. With ``fixed=True`` it is the member's
    tier, up or down, at once, and nothing moves them automatically while it lasts
    (no upgrade, no review, no automatic downgrade); then the program's rules take
    over again. A later assignment replaces an earlier one.
    """
    tracker = tier_tracker(account)
    names = [rung.name for rung in tracker.config.ladder]
    if tier not in names:
        raise InvalidInput("tier", tier, f"is not a tier of this program ({', '.join(names)})")
    text(reason, "reason", required=True)
    text(actor, "actor", required=True)
    ends = require_aware(until, "until") if until is not None else None
    if not isinstance(fixed, bool):
        raise InvalidInput("fixed", fixed, "must be true or false")
    # ``fixed`` joins the fingerprint only when set, so a key stored before it existed
    # still matches its floor assignment.
    request = Request.begin(
        account,
        "assign_tier",
        at,
        key,
        tier=tier,
        reason=reason,
        actor=actor,
        until=ends,
        **({"fixed": True} if fixed else {}),
    )
    if request.original is not None:
        return same(request.original, TierChange)
    if ends is not None and ends <= request.at:
        raise InvalidInput("until", until, "must be after at")
    with account._transaction():
        account.advance(request.at)
        entry = TierChange(
            **request.fields(account, 0, reason, None),
            cause=TierCause.MANUAL,
            tier_from=tracker.status.tier,
            tier_to=tier,
            floor_until=ends,
            actor=actor,
            fixed=fixed,
        )
        account._apply(entry)
    return entry


def reconcile_tier(account: Account, at: datetime) -> TierChange | None:
    """After a program change that dropped a tier the member holds (or their floor,
    or the target of a scheduled downgrade): place them on the new ladder with a
    ``program`` tier entry (see :meth:`~loyalty.tiers.tracker.TierTracker.reconcile`
    for the rule), dated ``at`` or the account's clock if later. ``None`` when the
    member's tier status names no retired tier. :func:`review_member` does this first.
    """
    tracker = tier_tracker(account)
    instant = require_aware(at, "at")
    if not tracker.stale:
        return None
    with account._transaction():
        return _reconcile(account, tracker, instant)


def _reconcile(account: Account, tracker: TierTracker, instant: datetime) -> TierChange | None:
    when = max(instant, account.clock or instant)
    account.advance(when)
    decision = tracker.reconcile(when)
    return account.tier_entry(when, decision) if decision is not None else None


def review_member(account: Account, at: datetime) -> tuple[TierChange, ...]:
    """Review one member at every period end up to ``at``; return the entries written.

    Idempotent: each period end is reviewed once, so reviewing again writes
    nothing. Entries are dated ``at`` (or the account's clock, if later) and name
    the period end they are for. Grace periods that ended by ``at`` are applied.
    A member left below what their current window earns (a late review, after
    new orders) is upgraded back at once. A tier status naming a tier the program
    no longer has is reconciled first (:func:`reconcile_tier`).
    """
    tracker = tier_tracker(account)
    instant = require_aware(at, "at")
    written: list[TierChange] = []
    if tracker.follows:  # automatic mode or the balance metric: no reviews, a settle
        return _follow(account, tracker, instant)
    if tracker.status.index == 0 and not tracker.stale:
        return ()  # nothing to review at the entry tier (and no downgrade can be pending)
    with account._transaction():
        when = max(instant, account.clock or instant)
        if tracker.stale and (change := _reconcile(account, tracker, instant)) is not None:
            written.append(change)
        account.advance(when)
        while (decision := tracker.next_review(instant)) is not None:
            written.append(account.tier_entry(when, decision))
        # A member whose current figures already earn more than a review left them
        # with (orders placed after the period end) is upgraded at once, as always.
        if written and (upgrade := account.upgrade_tier(when)) is not None:
            written.append(upgrade)
    return tuple(written)


def _follow(account: Account, tracker: TierTracker, instant: datetime) -> tuple[TierChange, ...]:
    """Where the tier follows every change there is no review: a retired tier is
    reconciled, then the member is brought to ``at`` and placed where the figures say."""
    with account._transaction():
        start = account.next_seq
        when = max(instant, account.clock or instant)
        if tracker.stale:
            _reconcile(account, tracker, instant)
        account.advance(when)  # settles the tier; the commit settles it again if needed
        account.upgrade_tier(when)
        return tuple(e for e in account.entries_from(start) if isinstance(e, TierChange))


@dataclass(frozen=True, slots=True)
class ReviewReport:
    """What a batch review did at ``at``: ``members`` reviewed, how many ``kept`` their
    tier, ``moved_down``, or had a downgrade ``scheduled`` after its grace period, and
    the tier ``entries`` it wrote."""

    at: datetime
    members: int
    kept: int
    moved_down: int
    scheduled: int
    entries: tuple[TierChange, ...] = field(repr=False)


def review(accounts: Iterable[Account], at: datetime) -> ReviewReport:
    """Review every member at ``at`` (typically each period end); linear in members.

    Idempotent: a second review at the same time writes nothing.
    """
    instant = require_aware(at, "at")
    members = 0
    entries: list[TierChange] = []
    for account in accounts:
        members += 1
        entries.extend(review_member(account, instant))
    kept = sum(1 for e in entries if e.cause is TierCause.REVIEW and e.tier_to == e.tier_from)
    down = sum(
        1
        for e in entries
        if e.cause is TierCause.DOWNGRADE
        or (e.cause is TierCause.REVIEW and e.tier_to != e.tier_from)
    )
    scheduled = sum(1 for e in entries if e.cause is TierCause.GRACE)
    return ReviewReport(instant, members, kept, down, scheduled, tuple(entries))


def tier_tracker(account: Account) -> TierTracker:
    """The tier tracker of ``account`` (the tier figures the ledger feeds)."""
    figures = account.tiers
    if figures is None:
        raise NoTiers(account.program.id)
    if not isinstance(figures, TierTracker):  # pragma: no cover - loyalty wires the tracker
        raise TypeError(f"the tier figures of {account.member_id!r} are not a TierTracker")
    return figures
