"""Bonus actions: points for what is not an order (signup, birthday, review...).

Each action in ``earning.actions`` gives fixed points, at most ``times`` per
``per`` (a local calendar day, month, quarter or year, or the member's
lifetime). A birthday also gives the member's tier ``birthday_bonus``. The
points are available at once and expire like any other points.
"""

from __future__ import annotations

from datetime import datetime

from loyalty.dates import Period, end_of, start_of
from loyalty.errors import ActionLimitReached, UnknownAction
from loyalty.ledger.account import Account
from loyalty.ledger.entries import Earn
from loyalty.ledger.requests import Request, require_account, same, text

__all__ = ["award_action"]


def award_action(
    account: Account, action: str, *, at: datetime, key: str, source: str | None = None
) -> Earn:
    """Credit the points of bonus ``action``.

    Raises :class:`UnknownAction` if the program has no such action, and
    :class:`ActionLimitReached` if it was awarded as often as allowed.
    """
    require_account(account)
    text(action, "action", required=True)
    program = account.program
    config = program.earning.actions.get(action)
    if config is None:
        known = ", ".join(program.earning.actions) or "none"
        raise UnknownAction("action", action, f"is not a bonus action of the program ({known})")
    request = Request.begin(account, "action", at, key, action=action, source=source)
    if request.original is not None:
        return same(request.original, Earn)
    # Counted in the period the action happened in (a late event keeps its own time).
    if config.per == "lifetime":
        done = list(account.action_times(action))
    else:
        since = start_of(Period(config.per), request.occurred, program.tz)
        until = end_of(Period(config.per), request.occurred, program.tz)
        done = [t for t in account.action_times(action) if since <= t < until]
    if len(done) >= config.times:
        raise ActionLimitReached(account.member_id, action, config.times, config.per)
    with account._transaction():
        account.advance(request.at)
        points = config.points
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
        account.upgrade_tier(request.at)
    return entry
