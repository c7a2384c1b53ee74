"""Bonus actions: points for what is not an order (signup, birthday, review...).

Each action in ``earning.actions`` gives fixed points, at most ``times`` per
``per`` (a local calendar day, month, quarter or year, or the member's
lifetime). A birthday also gives the member's tier ``birthday_bonus``. The
points are available at once and expire like any other points.

The apology for a late shipment (:func:`award_delay`) is different: it is paid
once per completed order of the member, whatever the key, and its ``times`` and
``per`` are not used.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from loyalty.dates import Period, end_of, start_of
from loyalty.earning.config import BonusAction
from loyalty.errors import ActionLimitReached, UnknownAction, UnknownOrder
from loyalty.ledger.account import Account
from loyalty.ledger.entries import Earn
from loyalty.ledger.requests import Request, require_account, same, text

__all__ = ["DELAY_ACTION", "award_action", "award_delay"]

DELAY_ACTION = "shipment_delayed"


def award_action(
    account: Account,
    action: str,
    *,
    at: datetime,
    key: str,
    source: str | None = None,
    detail: str | None = None,
) -> Earn:
    """Credit the points of bonus ``action``.

    ``detail`` is what else tells this request apart without being stored (a
    referral's referred member): only a hash of it enters the key's fingerprint,
    so the same key with another ``detail`` is an
    :class:`~loyalty.errors.IdempotencyConflict`, and the journal never holds it.

    Raises :class:`UnknownAction` if the program has no such action, and
    :class:`ActionLimitReached` if it was awarded as often as allowed.
    """
    require_account(account)
    config, request = _begin(account, action, at, key, source, detail)
    if request.original is not None:
        return same(request.original, Earn)
    # Counted in the period the action happened in (a late event keeps its own time).
    if config.per == "lifetime":
        done = list(account.action_times(action))
    else:
        since = start_of(Period(config.per), request.occurred, account.program.tz)
        until = end_of(Period(config.per), request.occurred, account.program.tz)
        done = [t for t in account.action_times(action) if since <= t < until]
    if len(done) >= config.times:
        raise ActionLimitReached(account.member_id, action, config.times, config.per)
    return _credit(account, action, request, config.points, source)


def award_delay(account: Account, order_id: str, *, at: datetime, key: str) -> Earn:
    """Credit the ``shipment_delayed`` apology for order ``order_id``: once per order.

    A second delay of the same order, under another key, writes nothing and
    returns the first apology (the shop reported the same delay twice). The same
    key for another order is an :class:`~loyalty.errors.IdempotencyConflict`.
    Raises :class:`UnknownOrder` for an order the member did not complete.
    """
    require_account(account)
    text(order_id, "order_id", required=True)
    config, request = _begin(account, DELAY_ACTION, at, key, order_id, None)
    if request.original is not None:
        return same(request.original, Earn)
    order = account.order(order_id)
    if order is None:
        raise UnknownOrder(account.member_id, order_id)
    for entry in account.entries_since(order.at):
        if isinstance(entry, Earn) and entry.action == DELAY_ACTION and entry.source == order_id:
            return entry
    return _credit(account, DELAY_ACTION, request, config.points, order_id)


def _begin(
    account: Account,
    action: str,
    at: datetime,
    key: str,
    source: str | None,
    detail: str | None,
) -> tuple[BonusAction, Request]:
    text(action, "action", required=True)
    text(detail, "detail", required=False)
    program = account.program
    config = program.earning.actions.get(action)
    if config is None:
        known = ", ".join(program.earning.actions) or "none"
        raise UnknownAction("action", action, f"is not a bonus action of the program ({known})")
    content = {"action": action, "source": source}
    if detail is not None:
        content["detail"] = hashlib.sha256(detail.encode()).hexdigest()
    return config, Request.begin(account, "action", at, key, **content)


def _credit(
    account: Account, action: str, request: Request, points: int, source: str | None
) -> Earn:
    program = account.program
    with account._transaction():
        account.advance(request.at)
        reason = f"bonus: {action}"
        if action == "birthday" and program.tiers is not None and (status := account.tier()):
            extra = program.tiers.ladder[status.index].benefits.birthday_bonus
            if extra:
                points += extra
                reason += f" (+{extra} for {status.tier})"
        entry = Earn(
            **request.fields(account, points, reason, source),
            available_at=request.at,
            expires_at=request.expires(program),
            action=action,
        )
        account._apply(entry)
        request.settle(account)
        request.upgrade_tier(account)
    return entry
