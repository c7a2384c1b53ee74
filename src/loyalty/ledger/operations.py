"""The ledger's operations: earn, redeem, reverse, adjust and advance.

Each operation, in this order:

1. validates its input (a typed error naming the field and the value);
2. looks up its idempotency ``key``: the same key with the same content returns
   the entry written the first time and writes nothing; the same key with other
   content raises :class:`~loyalty.errors.IdempotencyConflict`. ``at`` is not
   part of the content, so a webhook retried later is still the same request;
3. places the request in time: an ``at`` earlier than the account's clock (a
   late webhook) is written at the clock and keeps its own time as the entry's
   ``occurred_at`` (see :mod:`loyalty.ledger.requests`);
4. in one transaction, advances the account to ``at`` (activating and expiring
   what is due), checks what depends on the state, and appends its entry. Any
   error rolls the whole transaction back: a rejected operation writes nothing.

Idempotency keys are scoped to the member's account.
"""

from __future__ import annotations

from datetime import datetime

from loyalty.dates import require_aware
from loyalty.errors import (
    CurrencyMismatch,
    InsufficientPoints,
    InvalidInput,
    ReversalExceedsEarn,
    UnknownEntry,
)
from loyalty.ledger.account import Account
from loyalty.ledger.entries import (
    Adjust,
    Allocation,
    Earn,
    EntryKind,
    Expire,
    Redeem,
    Reverse,
)
from loyalty.ledger.requests import (
    Request,
    expiry_for,
    money_amount,
    nonzero_points,
    positive_points,
    require_account,
    same,
    text,
)
from loyalty.money import Money, prorate, to_points
from loyalty.program.model import Program
from loyalty.program.policies import Clawback

__all__ = [
    "adjust",
    "advance",
    "earn",
    "expiry_for",
    "open_account",
    "redeem",
    "reverse",
    "spend",
    "take_back",
]


def open_account(
    program: Program, member_id: str, *, enrolled_at: datetime | None = None
) -> Account:
    """A new, empty account for ``member_id`` in ``program``.

    ``enrolled_at`` is when the member joined (anniversary tier windows count
    from it); by default, the time of the account's first entry.
    """
    text(member_id, "member_id", required=True)
    if not isinstance(program, Program):
        raise InvalidInput("program", program, "is not a Program; load one with load_program()")
    joined = require_aware(enrolled_at, "enrolled_at") if enrolled_at is not None else None
    return Account(program, member_id, joined)


def earn(
    account: Account,
    *,
    points: int | None = None,
    amount: Money | None = None,
    at: datetime,
    key: str,
    source: str | None = None,
    reason: str | None = None,
) -> Earn:
    """Credit points, given directly or as ``amount`` converted at the program's earn rate.

    The new lot is pending until the program's pending period has passed and
    expires per its expiry policy. An ``amount`` is remembered as the lot's
    basis, so a partial refund reverses a proportional share.
    """
    require_account(account)
    program = account.program
    if (points is None) == (amount is None):
        raise InvalidInput("points", points, "give exactly one of points or amount")
    if points is not None:
        positive_points(points, "points")
    if amount is not None:
        money_amount(amount, program.currency, "amount")
    request = Request.begin(
        account, "earn", at, key, points=points, amount=amount, source=source, reason=reason
    )
    if request.original is not None:
        return same(request.original, Earn)
    with account._transaction():
        account.advance(request.at)
        earned = (
            to_points(amount, program.earning.rate, program.rounding)
            if amount is not None
            else points or 0
        )
        if reason is None:
            reason = f"earned on order {source}" if amount is not None and source else "earned"
        entry = Earn(
            **request.fields(account, earned, reason, source),
            available_at=request.available(program),
            expires_at=request.expires(program),
            basis=amount,
        )
        account._apply(entry)
        request.settle(account)
        account.upgrade_tier(request.at)
    return entry


def redeem(
    account: Account,
    points: int,
    *,
    at: datetime,
    key: str,
    source: str | None = None,
    reason: str | None = None,
) -> Redeem:
    """Spend available points: soonest expiry first, then oldest, lots without expiry last.

    Raises :class:`~loyalty.errors.InsufficientPoints` if fewer are available.
    """
    require_account(account)
    positive_points(points, "points")
    request = Request.begin(account, "redeem", at, key, points=points, source=source, reason=reason)
    if request.original is not None:
        return same(request.original, Redeem)
    with account._transaction():
        allocation = spend(account, points, request.at)
        default = f"redeemed on order {source}" if source else "redeemed"
        entry = Redeem(
            **request.fields(account, -points, reason or default, source), allocation=allocation
        )
        account._apply(entry)
    return entry


def reverse(
    account: Account,
    earn_id: str,
    *,
    points: int | None = None,
    amount: Money | None = None,
    at: datetime,
    key: str,
    source: str | None = None,
    reason: str | None = None,
) -> Reverse:
    """Take back all or part of an earn (a refund, a cancellation).

    Give ``points``, or the refunded ``amount`` (the earn must have been made from
    an amount), or neither to reverse all that is left. After a refund the member
    keeps ``round(points x (basis - refunded so far) / basis)`` with the program's
    rounding, so this reversal takes the rest less what was reversed before:
    cumulative, so a series of partial refunds never leaves the member more points
    than an order of the amount kept would earn, and a full refund takes back
    exactly what the earn gave.

    Points are taken first from the earn's own lot, pending or available; points
    of that lot that already expired are not taken again; points already spent
    are taken from other available points, then become a debt or a write-off per
    the program's clawback policy.
    """
    require_account(account)
    program = account.program
    text(earn_id, "earn_id", required=True)
    if points is not None and amount is not None:
        raise InvalidInput("points", points, "give points or amount, not both")
    if points is not None:
        positive_points(points, "points")
    if amount is not None:
        money_amount(amount, None, "amount", positive=True)
    request = Request.begin(
        account,
        "reverse",
        at,
        key,
        earn_id=earn_id,
        points=points,
        amount=amount,
        source=source,
        reason=reason,
    )
    if request.original is not None:
        return same(request.original, Reverse)
    lot = account.lot(earn_id)
    if lot.origin is not EntryKind.EARN:
        raise UnknownEntry(account.member_id, earn_id)
    left = lot.points - lot.reversed
    refund: Money | None = None
    if points is not None:
        requested = points
    elif amount is not None:
        if lot.basis is None:
            raise InvalidInput(
                "amount",
                amount,
                f"cannot reverse earn {earn_id}: it was not "
                "earned from an amount; reverse by points",
            )
        if amount.currency != lot.basis.currency:
            raise CurrencyMismatch(lot.basis.currency, amount.currency, "refund")
        refunded = amount if lot.refunded is None else lot.refunded + amount
        if refunded > lot.basis:
            raise ReversalExceedsEarn(
                account.member_id,
                earn_id,
                amount,
                lot.basis - (lot.refunded or Money.zero(amount.currency)),
            )
        # Round what the member keeps, not what is taken back: they keep exactly what
        # an order of the amount not refunded would have earned, never more.
        kept = prorate(
            lot.points, lot.basis.amount - refunded.amount, lot.basis.amount, program.rounding
        )
        target = lot.points - kept
        requested, refund = max(0, target - lot.reversed), amount
    else:
        requested = left
        if lot.basis is not None:
            refund = lot.basis - (lot.refunded or Money.zero(lot.basis.currency))
    if requested > left or (points is None and amount is None and requested == 0):
        raise ReversalExceedsEarn(account.member_id, earn_id, requested if points else "all", left)
    with account._transaction():
        account.advance(request.at)
        entry = take_back(account, request, earn_id, requested, refund, reason, source)
    return entry


def take_back(
    account: Account,
    request: Request,
    earn_id: str,
    requested: int,
    refund: Money | None,
    reason: str | None,
    source: str | None,
) -> Reverse:
    """Write the reversal of ``requested`` points of earn ``earn_id``, inside a transaction
    already advanced to the request's time (see :func:`reverse`)."""
    program = account.program
    lot = account.lot(earn_id)
    own = min(requested, lot.remaining)
    forgiven = min(requested - own, lot.expired - lot.forgiven)
    spent = requested - own - forgiven
    others = account.plan_spend(spent, exclude=lot.id) if spent else ()
    missing = spent - sum(part.points for part in others)
    owed = missing if program.clawback is Clawback.NEGATIVE_BALANCE else 0
    own_part = (Allocation(lot.id, own),) if own else ()
    entry = Reverse(
        **request.fields(
            account,
            -(own + spent - missing + owed),
            reason
            or _reversal_reason(lot.source or f"#{lot.seq}", requested, refund, missing, owed),
            source,
        ),
        earn_id=earn_id,
        requested=requested,
        allocation=own_part + others,
        debt=owed,
        written_off=missing - owed,
        forgiven=forgiven,
        refund=refund,
    )
    account._apply(entry)
    return entry


def adjust(
    account: Account,
    points: int,
    *,
    at: datetime,
    key: str,
    reason: str,
    actor: str,
    source: str | None = None,
) -> Adjust:
    """A manual correction. A credit creates an available lot (expiring per the program);
    a debit uses available points like a redemption. ``reason`` and ``actor`` are required."""
    require_account(account)
    nonzero_points(points, "points")
    text(reason, "reason", required=True)
    text(actor, "actor", required=True)
    request = Request.begin(
        account, "adjust", at, key, points=points, reason=reason, actor=actor, source=source
    )
    if request.original is not None:
        return same(request.original, Adjust)
    with account._transaction():
        if points > 0:
            account.advance(request.at)
            entry = Adjust(
                **request.fields(account, points, reason, source),
                actor=actor,
                available_at=request.at,
                expires_at=request.expires(account.program),
            )
        else:
            allocation = spend(account, -points, request.at)
            entry = Adjust(
                **request.fields(account, points, reason, source),
                actor=actor,
                allocation=allocation,
            )
        account._apply(entry)
        request.settle(account)
    return entry


def advance(account: Account, at: datetime) -> tuple[Expire, ...]:
    """Bring the account to ``at``: activate pending lots, expire due ones; return the expiries.

    Advancing to a time at or before the account's clock does nothing.
    """
    require_account(account)
    instant = require_aware(at, "at")
    with account._transaction():
        return account.advance(instant)


# ------------------------------------------------------------------- helpers


def spend(account: Account, points: int, at: datetime) -> tuple[Allocation, ...]:
    """Advance to ``at`` and plan taking ``points`` available points, in spend order."""
    account.advance(at)
    available = account.balance().available
    if points > available:
        raise InsufficientPoints(account.member_id, points, available)
    return account.plan_spend(points)


def _reversal_reason(
    origin: str, points: int, refund: Money | None, missing: int, owed: int
) -> str:
    what = f"refund of {refund} on order {origin}" if refund is not None else f"earn {origin}"
    reason = f"reversed {points} points: {what}"
    if owed:
        reason += f"; {owed} already spent, now owed"
    elif missing:
        reason += f"; {missing} already spent, written off"
    return reason
