"""A member's holdings after they were issued: choices made, coupons revoked, and
what lapses when its window closes. Every change is a journal entry
(:class:`~loyalty.ledger.entries.HoldingChange`).

* :func:`choose`: the member picks an option of a pending choice; it becomes what
  the option grants (a coupon for a free gift, with its own code).
* :func:`revoke`: an operator (or a refund) withdraws a coupon or a choice.
* :func:`settle_due`: the scheduled run's part. A coupon or choice past its end
  expires; a choice the member did not make by its deadline is made for them (the
  option worth most that is in stock); what is left of a cashback credit when its
  window closes expires, amount and all.
* :func:`wallet`: the member's cashback: pending, spendable and the flows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from loyalty.dates import require_aware
from loyalty.errors import InvalidInput
from loyalty.incentives.bundle import GRANTS, Bundle, available, resolve, stock_of, value_of
from loyalty.incentives.codes import normalise
from loyalty.incentives.config import Gift, TriggerKind
from loyalty.incentives.issue import bundle_holdings, credit_points
from loyalty.incentives.plan import Occasion
from loyalty.incentives.shared import Shared
from loyalty.ledger.account import Account
from loyalty.ledger.entries import (
    Change,
    Earn,
    Grant,
    Holding,
    HoldingChange,
    HoldingKind,
    HoldingStatus,
)
from loyalty.ledger.requests import Request, expiry_for, require_account, same, text
from loyalty.money import Money
from loyalty.program.model import Program

__all__ = [
    "Wallet",
    "choice_of",
    "choose",
    "coupon_of",
    "find_code",
    "holdings",
    "revoke",
    "settle_due",
    "transfer",
    "wallet",
]


def holdings(account: Account, kind: HoldingKind | None = None) -> tuple[Holding, ...]:
    """The member's holdings (of ``kind``), in the order they were issued."""
    found = account._holdings.values()
    return tuple(holding for holding in found if kind is None or holding.kind is kind)


def coupon_of(found: Sequence[Holding], incentive: str, at: datetime) -> Holding | None:
    """Of ``found`` (a member's holdings, as issued), their oldest coupon of
    ``incentive`` usable at ``at``; if none is, their newest whatever its state (so
    that the engine refuses it in its own words: used, expired, revoked); ``None`` if
    they hold none. For a caller that names a coupon by the incentive that gave it
    (codes are drawn at random): a replay file, a scenario."""
    return _pick(found, HoldingKind.COUPON, incentive, at)


def choice_of(found: Sequence[Holding], incentive: str, at: datetime) -> Holding | None:
    """Of ``found``, the oldest open choice of ``incentive``; if none is, the newest (a
    choice made or lapsed); ``None`` if there is none."""
    return _pick(found, HoldingKind.CHOICE, incentive, at)


def _pick(
    found: Sequence[Holding], kind: HoldingKind, incentive: str, at: datetime
) -> Holding | None:
    mine = [h for h in found if h.kind is kind and h.incentive == incentive]
    usable = [holding for holding in mine if holding.usable(at)]
    if usable:
        return usable[0]
    return mine[-1] if mine else None


def find_code(account: Account, code: object) -> Holding | None:
    """The member's coupon with ``code`` as a customer typed it (normalised first)."""
    stored = normalise(code, account.program.incentives.codes)
    if stored is None:
        return None
    return next((h for h in account._holdings.values() if h.code == stored), None)


def _holding(account: Account, key: str) -> Holding:
    text(key, "holding", required=True)
    found = account._holdings.get(key)
    if found is None:
        raise InvalidInput("holding", key, f"is not a holding of member {account.member_id!r}")
    return found


def choose(
    account: Account,
    holding_key: str,
    option: int | str,
    *,
    at: datetime,
    key: str,
    shared: Shared,
) -> HoldingChange:
    """Make the pending choice ``holding_key``: ``option`` is the option's number (from 0)
    or a gift's sku. Raises :class:`InvalidInput` for a choice already made or lapsed,
    an unknown option, or one out of stock."""
    require_account(account)
    holding = _holding(account, holding_key)
    if isinstance(option, bool) or not isinstance(option, int | str):
        raise InvalidInput("option", option, "give the option's number or a gift's sku")
    request = Request.begin(account, "choose", at, key, holding=holding_key, option=option)
    if request.original is not None:
        return same(request.original, HoldingChange)
    if holding.kind is not HoldingKind.CHOICE:
        raise InvalidInput("holding", holding_key, "is not a choice")
    if not holding.usable(request.at):
        raise InvalidInput("holding", holding_key, f"is {_state(holding, request.at)}")
    options = GRANTS.validate_json(holding.offer)
    index = _option(options, option)
    with account._transaction():
        account.advance(request.at)
        return _choose(account, request, holding, index, shared, f"chose {_label(options[index])}")


def _option(options: tuple[object, ...], option: int | str) -> int:
    if isinstance(option, bool) or not isinstance(option, int | str):
        raise InvalidInput("option", option, "give the option's number or a gift's sku")
    if isinstance(option, int):
        if not 0 <= option < len(options):
            raise InvalidInput("option", option, f"pick a number from 0 to {len(options) - 1}")
        return option
    for index, grant in enumerate(options):
        if isinstance(grant, Gift) and grant.sku == option:
            return index
    raise InvalidInput("option", option, "is not one of the choice's gifts")


def _label(grant: object) -> str:
    if isinstance(grant, Gift):
        return grant.title or grant.sku
    return getattr(grant, "title", None) or str(getattr(grant, "kind", "an option"))


def _choose(
    account: Account,
    request: Request | None,
    holding: Holding,
    index: int,
    shared: Shared,
    reason: str,
) -> HoldingChange:
    """Write the choice of option ``index`` (``request``: the member's; ``None``: made
    for them by the scheduled run, at the account's clock)."""
    program = account.program
    options = GRANTS.validate_json(holding.offer)
    occasion = Occasion(trigger=_CHOICE, occurrence=holding.key, at=holding.issued_at)
    bundle = Bundle()
    short = resolve(program, (options[index],), occasion, shared, holding.incentive, bundle)
    if short is not None:
        raise InvalidInput("option", index, short)
    for gift in bundle.gifts:
        if gift.stock is not None:
            stock = stock_of(holding.incentive, gift)
            claim = f"{len(account.member_id)}:{account.member_id}:choice:{holding.key}"
            if not shared.take(stock, 1, gift.stock, claim, clip=False):
                raise InvalidInput("option", index, f"{gift.sku} is out of stock")
    header = (
        request.fields(account, 0, reason, None)
        if request is not None
        else account.header(account.clock or holding.issued_at, 0, reason)
    )
    # Made at the deadline by a run that came later: valid as if made at the deadline.
    made = header["at"]
    if request is None and holding.valid_until is not None:
        made = min(made, holding.valid_until)
    issued = bundle_holdings(account, bundle, holding.incentive, holding.campaign, made, shared)
    change = HoldingChange(
        **header, holding=holding.key, change=Change.CHOOSE, choice=index, issued=issued
    )
    account._apply(change)
    if request is not None:
        credit_points(account, request, bundle, holding.title, None)
        return change
    for grant, points in bundle.points:  # made at the deadline, by the scheduled run
        expires = (
            grant.expires_after.after(made, program.tz)
            if grant.expires_after is not None
            else expiry_for(program, made)
        )
        account._apply(
            Earn(
                **account.header(header["at"], points, f"bonus: {holding.title}"),
                available_at=header["at"],
                expires_at=expires,
            )
        )
    if bundle.points:
        account.upgrade_tier(header["at"])
    return change


_CHOICE = TriggerKind.MANUAL  # a choice is made outside any trigger: the kind is unused


def revoke(
    account: Account,
    holding_key: str,
    *,
    at: datetime,
    key: str,
    reason: str,
    actor: str,
) -> HoldingChange:
    """Withdraw an open coupon or choice, by ``actor`` with ``reason`` (a coupon already
    used stays used; a cashback credit cannot be revoked by hand). The budget its grant
    took is not given back: a revoked grant still happened."""
    require_account(account)
    text(reason, "reason", required=True)
    text(actor, "actor", required=True)
    holding = _holding(account, holding_key)
    request = Request.begin(
        account, "revoke", at, key, holding=holding_key, reason=reason, actor=actor
    )
    if request.original is not None:
        return same(request.original, HoldingChange)
    if holding.kind is HoldingKind.CASHBACK:
        raise InvalidInput("holding", holding_key, "is cashback, which cannot be revoked")
    if holding.status is not HoldingStatus.OPEN:
        raise InvalidInput("holding", holding_key, f"is {holding.status.value}")
    with account._transaction():
        account.advance(request.at)
        change = HoldingChange(
            **request.fields(account, 0, f"revoked: {reason}", None),
            holding=holding_key,
            change=Change.REVOKE,
            actor=actor,
        )
        account._apply(change)
    return change


def settle_due(account: Account, at: datetime, shared: Shared) -> tuple[HoldingChange, ...]:
    """Expire or make what is due by ``at`` (see the module), oldest first."""
    require_account(account)
    instant = require_aware(at, "at")
    written: list[HoldingChange] = []
    with account._transaction():
        account.advance(instant)
        for holding in list(_due(account, instant)):
            when = max(instant, account.clock or instant)
            end = holding.valid_until
            late = end if holding.status is HoldingStatus.OPEN and end and end < when else None
            if holding.kind is HoldingKind.CHOICE:
                index = _fallback(account.program, holding, shared)
                if index is not None:
                    written.append(
                        _choose(account, None, holding, index, shared, "chosen at the deadline")
                    )
                    continue
            amount = holding.remaining if holding.kind is HoldingKind.CASHBACK else None
            what = f"{amount} cashback" if amount is not None else holding.title
            change = HoldingChange(
                **account.header(when, 0, f"expired: {what} ({holding.incentive})"),
                occurred_at=late,
                holding=holding.key,
                change=Change.EXPIRE,
                amount=amount,
            )
            account._apply(change)
            written.append(change)
    return tuple(written)


def _due(account: Account, at: datetime) -> Iterator[Holding]:
    """Open holdings past their end, and credits closed with money given back to them
    since (a void of a spend after the credit closed): that money lapses now."""
    for holding in account._holdings.values():
        cashback = holding.kind is HoldingKind.CASHBACK
        if cashback and not holding.remaining:
            continue
        if holding.status is HoldingStatus.OPEN:
            if holding.valid_until is not None and holding.valid_until <= at:
                yield holding
        elif cashback and holding.status in (HoldingStatus.EXPIRED, HoldingStatus.REVOKED):
            yield holding


def _fallback(program: Program, holding: Holding, shared: Shared) -> int | None:
    """The option worth most that can be given now (every gift of it in stock; the
    first on a tie), or ``None``: the choice lapses."""
    options = GRANTS.validate_json(holding.offer)
    occasion = Occasion(trigger=_CHOICE, occurrence=holding.key, at=holding.issued_at)
    best: int | None = None
    for index, grant in enumerate(options):
        if not available(program, grant, occasion, shared, holding.incentive):
            continue
        if best is None or value_of(grant) > value_of(options[best]):
            best = index
    return best


def _state(holding: Holding, at: datetime) -> str:
    if holding.status is not HoldingStatus.OPEN:
        return holding.status.value
    if at < holding.valid_from:
        return f"not valid before {holding.valid_from.isoformat()}"
    return f"expired at {holding.valid_until.isoformat() if holding.valid_until else '?'}"


@dataclass(frozen=True, slots=True)
class Wallet:
    """A member's cashback at one instant, in the program currency.

    ``credited - spent - expired == pending + available`` always (``expired`` counts
    credit revoked with a refunded order too): ``pending`` is
    credit whose window has not opened, ``available`` what can be spent now
    (``expiring`` of it: the soonest end, if any)."""

    credited: Money
    spent: Money
    expired: Money
    pending: Money
    available: Money
    next_expiry: datetime | None = None

    @property
    def balance(self) -> Money:
        """``pending + available``: the cashback the member still has."""
        return self.pending + self.available


def wallet(account: Account, at: datetime) -> Wallet:
    """The member's cashback as of ``at`` (credit past its end counts as expired, even
    before the scheduled run writes its entry)."""
    instant = require_aware(at, "at")
    zero = Money.zero(account.program.currency)
    credited = spent = expired = pending = available = zero
    soonest: datetime | None = None
    for holding in holdings(account, HoldingKind.CASHBACK):
        amount = holding.amount or zero
        left = holding.remaining or zero
        lapsed = holding.lapsed or zero
        credited += amount
        spent += amount - left - lapsed
        expired += lapsed
        if holding.status in (HoldingStatus.EXPIRED, HoldingStatus.REVOKED) or (
            holding.valid_until is not None and holding.valid_until <= instant
        ):
            expired += left
        elif holding.valid_from > instant:
            pending += left
        else:
            available += left
            if left and holding.valid_until is not None:
                soonest = (
                    holding.valid_until if soonest is None else min(soonest, holding.valid_until)
                )
    return Wallet(credited, spent, expired, pending, available, soonest)


def transfer(
    holder: Account, recipient: Account, holding: Holding, at: datetime, shared: Shared
) -> Grant:
    """Pass ``holder``'s transferable coupon ``holding`` to ``recipient``: the holder's
    journal marks it transferred (without naming the recipient), the recipient's
    receives it under the same code, and the code names the recipient from now on.
    Its cost stays with the holder's grant."""
    if not holding.transferable or holding.kind is not HoldingKind.COUPON:
        raise InvalidInput("code", holding.code, "is not a transferable coupon")
    when = max(at, holder.clock or at)
    with holder._transaction():
        holder.advance(when)
        holder._apply(
            HoldingChange(
                **holder.header(when, 0, f"transferred: {holding.title}"),
                holding=holding.key,
                change=Change.TRANSFER,
            )
        )
    arrived = max(at, recipient.clock or at)
    with recipient._transaction():
        recipient.advance(arrived)
        key = f"{recipient.next_seq}.0"
        grant = Grant(
            **recipient.header(arrived, 0, f"received: {holding.title}"),
            incentive=holding.incentive,
            campaign=holding.campaign,
            occurrence=f"transfer:{holding.code}",
            holdings=(replace(holding, key=key),),
        )
        recipient._apply(grant)
    shared.rows.put("code", holding.code or "", [recipient.member_id, key])
    return grant
