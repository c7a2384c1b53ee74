"""Coupons at checkout (cashback is in :mod:`loyalty.checkout.cashback`, what a
refund undoes in :mod:`loyalty.checkout.unwinding`).

``redeem_coupon`` uses one of the member's coupons on a cart: one
:class:`~loyalty.ledger.entries.Redeem` entry (no points) naming the coupon, with
the discount lines the shop applies. Like a reward's redemption it is undone by
:func:`~loyalty.void_redemption` (the coupon is usable again), and the order's
points are earned on what the customer pays after it.

**One application order.** The coupons on a cart apply in the stack's order,
whatever order the customer entered them in (:mod:`loyalty.stacking`): line
discounts (free products, percent off selected products), then percent off the
cart, then amount off the cart, then shipping; within a class by priority, then
coupons in the order they were issued. A coupon entered after one that sorts
later changes what that one takes: it is voided and written again after this one
(:mod:`loyalty.checkout.restack`), in the same transaction. Of coupons that
cannot all take what they would alone (two line discounts after the same units,
groups, caps), the set that takes the most off stays
(:func:`~loyalty.stacking.choose.stack`); the others are **set aside**, not lost:
a coupon entered that is not in that set is kept on the cart unused (the returned
redemption has no lines and says why in ``aside``), and one on the cart that a
new one leaves out goes back to the member; while open, a set-aside coupon comes
back on the cart when a restack makes it part of the best set. Only a coupon that
takes nothing off the cart even alone is refused. So the cart's total depends only
on which coupons were entered, never on their order.

**Refusals never leak.** An unknown code, another member's code, an expired or a
revoked coupon all raise the same :class:`~loyalty.errors.CouponRefused` ("this
code cannot be applied"), with the real reason in its ``audit``. A coupon of the
member's own that has no use left raises :class:`~loyalty.errors.CouponUsed`,
naming the code and when it was used. Hurdles that fail (a minimum basket) raise
:class:`~loyalty.errors.RedemptionRefused` with each reason and shortfall.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from loyalty.cart import Cart, load_cart, with_segments
from loyalty.checkout.candidates import Converter, coupon_candidate
from loyalty.checkout.context import member_context
from loyalty.checkout.options import Builder, evaluate
from loyalty.checkout.redemption import Redemption, _dropped, _redemption, live_entry
from loyalty.checkout.restack import aside_reason, settle_aside, settle_stack
from loyalty.checkout.stacked import set_aside
from loyalty.checkout.stock import RewardStock
from loyalty.checkout.voided import not_voided
from loyalty.errors import CouponRefused, CouponUsed, InvalidInput, RedemptionRefused
from loyalty.hurdles import Check
from loyalty.incentives.codes import shown_code
from loyalty.incentives.holdings import find_code
from loyalty.incentives.offers import offer_of
from loyalty.ledger.account import Account
from loyalty.ledger.entries import (
    Entry,
    Holding,
    HoldingKind,
    HoldingStatus,
    Redeem,
    Void,
)
from loyalty.ledger.records import RedemptionRecord
from loyalty.ledger.requests import Request, require_account
from loyalty.program.model import Program
from loyalty.rewards.config import Reward
from loyalty.stacking.engine import Applied, Candidate, Context, Skipped, run

__all__ = [
    "CLOSED",
    "last_use",
    "per_order_check",
    "redeem_coupon",
]


CLOSED = (HoldingStatus.REVOKED, HoldingStatus.EXPIRED, HoldingStatus.TRANSFERRED)
"""A coupon in one of these is no longer the member's to use, nor to be given back."""


def redeem_coupon(
    account: Account,
    code: str,
    cart: Cart | Mapping[str, Any],
    *,
    at: datetime,
    key: str,
    segments: Iterable[str] = (),
    stock: RewardStock | None = None,
) -> Redemption:
    """Use the member's coupon ``code`` (as the customer typed it) on ``cart`` (see the
    module). Using it again on the same cart returns the same redemption (entering
    a coupon set aside on it again tries it again). ``stock``
    takes back the unit of a reward with a shared stock that the coupon's restack
    takes off the cart."""
    require_account(account)
    cart = load_cart(cart)
    if not isinstance(code, str):
        raise InvalidInput("code", code, "is not text")
    holding = find_code(account, code)
    request = Request.begin(
        account,
        "redeem_coupon",
        at,
        key,
        code=holding.code if holding is not None else code[:200],
        cart=cart,
    )
    if request.original is not None:
        assert holding is not None  # the same request found it the first time
        return _of_request(account, key, holding.key)
    member_id = account.member_id
    if holding is None or holding.kind is not HoldingKind.COUPON:
        raise CouponRefused(member_id, f"no coupon {code!r} among the member's")
    shown = shown_code(holding.code, account.program.incentives.codes)
    if holding.status in CLOSED:
        raise CouponRefused(member_id, f"coupon {shown} is {holding.status.value}")
    for record in account.redemptions(cart.id):
        if record.coupon == holding.key and record.in_use:
            return _redemption(_redeem_entry(account, record))  # its reservation
    if holding.status is HoldingStatus.USED or holding.uses <= 0:
        last = last_use(account, holding.key)
        used_at = last.at if last is not None else holding.issued_at
        raise CouponUsed(member_id, shown, used_at, last.source if last is not None else None)
    if not holding.usable(request.occurred):
        raise CouponRefused(
            member_id, f"coupon {shown} is valid from {holding.valid_from} to {holding.valid_until}"
        )
    cart = with_segments(cart, segments)
    if account.order(cart.id) is not None:
        done = Check("order", False, f"order {cart.id} is already completed")
        raise RedemptionRefused(member_id, f"coupon {shown}", (done,))
    _per_order(account, holding, cart, shown, request.at)
    with account._transaction():
        account.advance(request.at)
        entry, dropped, aside = _apply(account, request, holding, cart, shown, stock)
    return replace(_redemption(entry, dropped), aside=aside)


def _apply(
    account: Account,
    request: Request,
    holding: Holding,
    cart: Cart,
    shown: str,
    stock: RewardStock | None,
) -> tuple[Redeem, tuple[Skipped, ...], str | None]:
    program = account.program
    reward = offer_of(holding.offer)
    member = member_context(account, cart, request.at)
    option = evaluate(
        program, reward, cart, request.at, member, uses=0,
        candidate=coupon_builder(holding, reward, cart, member.rate, program),
    )
    result = option.stack
    assert member.stack is not None  # member_context builds it
    aside = option.aside
    applies = option.eligible and option.applied is not None
    if result is None or not (
        applies or (aside is not None and _applies_alone(aside.candidate, member.stack.context))
    ):
        raise RedemptionRefused(account.member_id, f"coupon {shown}", option.unmet)

    def write(applied: Applied | None) -> Redeem:
        entry = Redeem(
            **request.fields(account, 0, f"coupon {holding.title} on order {cart.id}", cart.id),
            allocation=(),
            discounts=applied.lines if applied is not None else (),
            shipping_discount=applied.shipping if applied is not None else None,
            coupon=holding.key,
            choice=option.choice if applied is None else None,
        )
        account._apply(entry)
        return entry

    new_id = f"coupon:{holding.key}"
    dropped = tuple(item for item in _dropped(result, new_id) if _was_on_cart(item))
    if option.applied is None:
        assert aside is not None
        entry = settle_aside(
            account, request, cart, result, lambda: write(None), stock, aside.reason
        )
        return entry, dropped, aside.reason
    entry = settle_stack(account, request, cart, result, new_id, write, stock)
    return entry, dropped, None


def _was_on_cart(item: Skipped) -> bool:
    """Was ``item`` on the cart (not a coupon set aside there, staying aside)?"""
    record = item.candidate.reference
    return isinstance(record, RedemptionRecord) and record.in_use


def _applies_alone(candidate: Candidate, context: Context) -> bool:
    """Does ``candidate`` take something off the cart with no other discount?"""
    return bool(run([candidate], context).taken)


def coupon_builder(
    holding: Holding, reward: Reward, cart: Cart, rate: Decimal, program: Program
) -> Builder:
    """Builds coupon ``holding`` as a stacking candidate, for :func:`evaluate`."""
    convert = Converter(cart.currency, rate)

    def build(points: int, choice: str | None, units: int | None) -> Candidate:
        return coupon_candidate(
            holding, reward, convert, program.stacking, id=f"coupon:{holding.key}", choice=choice
        )

    return build


def _per_order(
    account: Account, holding: Holding, cart: Cart, shown: str, at: datetime
) -> None:
    limit = per_order_check(account, holding, cart, at)
    if limit is not None:
        raise RedemptionRefused(account.member_id, f"coupon {shown}", (limit,))


def per_order_check(
    account: Account, holding: Holding, cart: Cart, at: datetime
) -> Check | None:
    """The failed check of the incentive's ``per_order`` limit, if ``holding`` would go
    past it on ``cart`` at ``at`` (coupons of the same incentive in use on it or set
    aside there, which may come back; cashback tenders are not coupons)."""
    incentive = account.program.incentives.get(holding.incentive)
    most = incentive.limits.per_order if incentive is not None else None
    if most is None:
        return None
    aside = {record.id for record in set_aside(account, cart.id, at)}
    used = sum(
        1
        for record in account.redemptions(cart.id)
        if (record.in_use or record.id in aside)
        and record.tender is None
        and record.coupon is not None
        and record.coupon != holding.key
        and (other := account._holdings.get(record.coupon)) is not None
        and other.incentive == holding.incentive
    )
    if used < most:
        return None
    return Check("per_order", False, f"at most {most} of these coupons per order", most)


def last_use(account: Account, holding_key: str) -> RedemptionRecord | None:
    """The latest redemption still using coupon ``holding_key`` (a voided one gave
    its use back)."""
    if account._holdings[holding_key].status is HoldingStatus.OPEN:
        return None  # not used up: no need to read its redemptions
    uses = [
        record for record in account.redemptions() if record.coupon == holding_key and record.in_use
    ]
    return uses[-1] if uses else None


def _redeem_entry(account: Account, record: RedemptionRecord) -> Redeem:
    entry = account.entry(record.id)
    assert isinstance(entry, Redeem)
    return entry


_ASIDE = "set aside: the discounts on the cart take more off without it"
"""What a replay says of a coupon set aside by a request that did not write why."""


def _of_request(account: Account, key: str, holding_key: str) -> Redemption:
    """What the request with ``key`` returned: its redemption of coupon ``holding_key``
    (for one set aside when entered, the same ``aside`` reason, unless it is back on
    the cart since)."""
    entries: tuple[Entry, ...] = account.request_entries(key)
    for entry in entries:
        if isinstance(entry, Redeem) and entry.coupon == holding_key:
            set_aside = next(
                (
                    other for other in entries
                    if isinstance(other, Void) and other.redeem_id == entry.id and other.restacked
                ),
                None,
            )
            standing = live_entry(account, entry)
            if set_aside is not None and not entry.discounts and entry.shipping_discount is None:
                why = aside_reason(set_aside) or _ASIDE  # set aside: it gives nothing
                return replace(_redemption(standing), aside=why if standing is entry else None)
            return _redemption(not_voided(account, standing, key))
    raise AssertionError(f"request {key!r} redeemed no coupon {holding_key!r}")
