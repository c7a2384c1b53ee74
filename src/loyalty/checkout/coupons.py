"""Coupons and cashback at checkout.

``redeem_coupon`` uses one of the member's coupons on a cart: one
:class:`~loyalty.ledger.entries.Redeem` entry (no points) naming the coupon, with
the discount lines the shop applies. Like a reward's redemption it is undone by
:func:`~loyalty.void_redemption` (the coupon is usable again), and the order's
points are earned on what the customer pays after it.

**One application order.** The coupons on a cart apply in a fixed order, whatever
order the customer entered them in: line discounts (free products, percent off
selected products), then percent off the cart, then amount off the cart, then
shipping; coupons of one kind in the order they were issued. A coupon entered
after one that sorts later voids that one and applies it again after itself, in
the same transaction, so the cart's total depends only on which coupons are on
it; one that has nothing left to take off after it (or whose hurdles it now
fails) stays off the cart, unused: the coupon entered is never refused for
another's sake. (Rewards bought with points are not reordered: they apply where
they were redeemed.)

**Refusals never leak.** An unknown code, another member's code, an expired or a
revoked coupon all raise the same :class:`~loyalty.errors.CouponRefused` ("this
code cannot be applied"), with the real reason in its ``audit``. A coupon of the
member's own that has no use left raises :class:`~loyalty.errors.CouponUsed`,
naming the code and when it was used. Hurdles that fail (a minimum basket) raise
:class:`~loyalty.errors.RedemptionRefused` with each reason and shortfall.

``spend_cashback`` pays part of the cart with the member's cashback: a tender,
applied after every discount (never more than what is left to pay), so it lowers
neither the points the order earns nor any hurdle's basis. It spends the credits
that close soonest first, one ``Redeem`` entry per credit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from loyalty.cart import Cart, load_cart, with_segments
from loyalty.checkout.context import member_context
from loyalty.checkout.options import evaluate
from loyalty.checkout.redemption import Redemption, _redemption
from loyalty.errors import CouponRefused, CouponUsed, InvalidInput, RedemptionRefused
from loyalty.hurdles import Check
from loyalty.incentives.codes import shown_code
from loyalty.incentives.config import OnOrder, RefundPolicy
from loyalty.incentives.holdings import find_code
from loyalty.incentives.issue import grant_key
from loyalty.incentives.offers import offer_of
from loyalty.ledger.account import Account
from loyalty.ledger.entries import (
    Change,
    Earn,
    Entry,
    Grant,
    Holding,
    HoldingChange,
    HoldingKind,
    HoldingStatus,
    Redeem,
    Void,
    holding_order,
)
from loyalty.ledger.operations import take_back
from loyalty.ledger.records import OrderRecord, RedemptionRecord
from loyalty.ledger.requests import Request, money_amount, require_account
from loyalty.money import Money, Rounding

__all__ = [
    "application_rank",
    "last_use",
    "left_to_pay",
    "per_order_check",
    "redeem_coupon",
    "scale_cashback",
    "settle_refund",
    "spend_cashback",
    "unwind_grant",
]


_CLOSED = (HoldingStatus.REVOKED, HoldingStatus.EXPIRED, HoldingStatus.TRANSFERRED)
"""A coupon in one of these is no longer the member's to use, nor to be given back."""


def application_rank(holding: Holding) -> tuple[int, int, int]:
    """Where a coupon applies among the coupons on a cart (lower first)."""
    reward = offer_of(holding.offer)
    kind = reward.kind
    if kind == "free_product" or (kind == "percent_off" and getattr(reward, "products", None)):
        rank = 0
    elif kind == "percent_off":
        rank = 1
    elif kind == "amount_off":
        rank = 2
    else:
        rank = 3
    return (rank, *holding_order(holding.key))


def redeem_coupon(
    account: Account,
    code: str,
    cart: Cart | Mapping[str, Any],
    *,
    at: datetime,
    key: str,
    segments: Iterable[str] = (),
) -> Redemption:
    """Use the member's coupon ``code`` (as the customer typed it) on ``cart`` (see the
    module). Using it again on the same cart returns the same redemption."""
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
    if holding.status in _CLOSED:
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
    _per_order(account, holding, cart, shown)
    with account._transaction():
        account.advance(request.at)
        later = _after(account, holding, cart)
        for record in later:  # they apply after this one: take them off, then on again
            account._apply(
                Void(
                    **request.fields(
                        account, 0, f"taken off to apply coupon {holding.title} first", cart.id
                    ),
                    redeem_id=record.id,
                    allocation=(),
                )
            )
        entry = _apply(account, request, holding, cart, shown)
        for record in later:
            again = account._holdings[record.coupon or ""]
            if not again.usable(request.occurred):
                continue  # lapsed since it was applied: it stays off
            try:
                _apply(account, request, again, cart, "")
            except RedemptionRefused:
                continue  # nothing left for it after this one: it stays off, unused
        _fit_tenders(account, request, cart)
    return _redemption(entry)


def _fit_tenders(account: Account, request: Request, cart: Cart) -> None:
    """After a discount, the cashback tendered on ``cart`` may come to more than is
    left to pay: give the excess back (the latest tenders first), so a tender never
    pays more than the cart costs."""
    records = [r for r in account.redemptions(cart.id) if r.in_use]
    taken = sum((_taken(record) for record in records), Decimal(0))
    excess = cart.money(taken - cart.total.amount)
    for record in reversed(records):
        if excess.amount <= 0:
            return
        if record.tender is None or record.coupon is None:
            continue
        account._apply(
            Void(
                **request.fields(account, 0, "cashback beyond what is left to pay", cart.id),
                redeem_id=record.id,
                allocation=(),
            )
        )
        kept = record.tender - min(record.tender, excess)
        excess -= record.tender - kept
        if kept:
            account._apply(
                Redeem(
                    **request.fields(account, 0, f"{kept} cashback on order {cart.id}", cart.id),
                    allocation=(),
                    coupon=record.coupon,
                    tender=kept,
                )
            )


def _taken(record: RedemptionRecord) -> Decimal:
    """What a redemption takes off what is paid: its discount lines, shipping, tender."""
    taken = sum((line.amount.amount for line in record.discounts), Decimal(0))
    if record.shipping_discount is not None:
        taken += record.shipping_discount.amount
    if record.tender is not None:
        taken += record.tender.amount
    return taken


def _apply(account: Account, request: Request, holding: Holding, cart: Cart, shown: str) -> Redeem:
    program = account.program
    reward = offer_of(holding.offer)
    member = member_context(account, cart, request.at)
    option = evaluate(program, reward, cart, request.at, member, uses=0)
    if not option.eligible or option.discount is None:
        raise RedemptionRefused(account.member_id, f"coupon {shown}", option.unmet)
    given = option.discount
    entry = Redeem(
        **request.fields(account, 0, f"coupon {holding.title} on order {cart.id}", cart.id),
        allocation=(),
        discounts=given.lines,
        shipping_discount=given.shipping,
        coupon=holding.key,
    )
    account._apply(entry)
    return entry


def _after(account: Account, holding: Holding, cart: Cart) -> list[RedemptionRecord]:
    """The coupons on the cart that apply after ``holding``, in application order."""
    rank = application_rank(holding)
    found = []
    for record in account.redemptions(cart.id):
        if record.coupon is None or record.tender is not None or not record.in_use:
            continue
        other = account._holdings.get(record.coupon)
        if other is not None and application_rank(other) > rank:
            found.append((application_rank(other), record))
    return [record for _, record in sorted(found, key=lambda pair: pair[0])]


def _per_order(account: Account, holding: Holding, cart: Cart, shown: str) -> None:
    limit = per_order_check(account, holding, cart)
    if limit is not None:
        raise RedemptionRefused(account.member_id, f"coupon {shown}", (limit,))


def per_order_check(account: Account, holding: Holding, cart: Cart) -> Check | None:
    """The failed check of the incentive's ``per_order`` limit, if ``holding`` would go
    past it on ``cart`` (coupons of the same incentive in use on it; cashback tenders
    are not coupons)."""
    incentive = account.program.incentives.get(holding.incentive)
    most = incentive.limits.per_order if incentive is not None else None
    if most is None:
        return None
    used = sum(
        1
        for record in account.redemptions(cart.id)
        if record.in_use
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


def _of_request(account: Account, key: str, holding_key: str) -> Redemption:
    """What the request with ``key`` returned: its redemption of coupon ``holding_key``."""
    entries: tuple[Entry, ...] = account.request_entries(key)
    for entry in entries:
        if isinstance(entry, Redeem) and entry.coupon == holding_key:
            return _redemption(entry)
    raise AssertionError(f"request {key!r} redeemed no coupon {holding_key!r}")


def spend_cashback(
    account: Account,
    cart: Cart | Mapping[str, Any],
    *,
    at: datetime,
    key: str,
    amount: Money | None = None,
) -> tuple[Redeem, ...]:
    """Pay ``amount`` of ``cart`` (all that is left to pay, within the wallet, if
    omitted) with the member's spendable cashback (see the module). Raises
    :class:`InvalidInput` when the wallet, or what is left to pay, is short."""
    require_account(account)
    cart = load_cart(cart)
    program = account.program
    if amount is not None:
        money_amount(amount, program.currency, "amount", positive=True)
    if cart.currency != program.currency:
        raise InvalidInput(
            "cart.currency", cart.currency, "cashback is spent in the program currency"
        )
    request = Request.begin(account, "spend_cashback", at, key, cart=cart, amount=amount)
    if request.original is not None:
        return tuple(e for e in account.request_entries(key) if isinstance(e, Redeem))
    if account.order(cart.id) is not None:
        raise InvalidInput("cart.id", cart.id, "is already a completed order")
    credits = sorted(
        (
            holding
            for holding in account._holdings.values()
            if holding.kind is HoldingKind.CASHBACK
            and holding.remaining
            and holding.usable(request.occurred)
        ),
        key=lambda h: (h.valid_until is None, h.valid_until or h.issued_at, holding_order(h.key)),
    )
    spendable = sum((h.remaining for h in credits if h.remaining), Money.zero(program.currency))
    left = left_to_pay(account, cart)
    wanted = amount if amount is not None else min(spendable, left)
    if not wanted:
        pending = sum(
            (
                h.remaining
                for h in account._holdings.values()
                if h.kind is HoldingKind.CASHBACK
                and h.remaining
                and h.status is HoldingStatus.OPEN
                and h.valid_from > request.occurred
            ),
            Money.zero(program.currency),
        )
        later = f" ({pending} becomes spendable later)" if pending else ""
        raise InvalidInput(
            "amount",
            amount,
            f"nothing to pay with: {spendable} spendable now{later}, {left} to pay",
        )
    if wanted > spendable:
        raise InvalidInput("amount", amount, f"is more than the {spendable} cashback spendable now")
    if wanted > left:
        raise InvalidInput("amount", amount, f"is more than the {left} left to pay")
    written: list[Redeem] = []
    with account._transaction():
        account.advance(request.at)
        for holding in credits:
            if not wanted:
                break
            part = min(wanted, holding.remaining or wanted)
            wanted -= part
            entry = Redeem(
                **request.fields(account, 0, f"{part} cashback on order {cart.id}", cart.id),
                allocation=(),
                coupon=holding.key,
                tender=part,
            )
            account._apply(entry)
            written.append(entry)
    return tuple(written)


def left_to_pay(account: Account, cart: Cart) -> Money:
    """What the customer still pays for ``cart``: its total after every loyalty
    discount and the cashback already tendered on it."""
    taken = sum((_taken(r) for r in account.redemptions(cart.id) if r.in_use), Decimal(0))
    return cart.money(max(cart.total.amount - taken, Decimal(0)))


def settle_refund(account: Account, request: Request, order_id: str) -> None:
    """An order was refunded in full: give back the cashback spent on it (while its
    credit is still open), restore the coupons used on it (if the program's
    ``coupon_refund`` is ``restore``), and unwind what the order's own incentives
    granted: open coupons and choices are revoked, unspent cashback revoked, points
    taken back (a coupon already used stays a recorded cost)."""
    program = account.program
    restore = program.incentives.coupon_refund is RefundPolicy.RESTORE
    for record in account.redemptions(order_id):
        holding = account._holdings.get(record.coupon or "")
        closed = holding is None or holding.status in _CLOSED
        if holding is None or closed or not record.in_use:
            continue
        if record.tender is not None or restore:
            account._apply(
                HoldingChange(
                    **request.fields(
                        account, 0, f"given back: order {order_id} refunded", order_id
                    ),
                    holding=holding.key,
                    change=Change.RESTORE,
                    amount=record.tender,
                )
            )
    for incentive in program.incentives.catalog:
        if isinstance(incentive.trigger, OnOrder):
            key = grant_key(incentive.id, f"order:{order_id}")
            unwind_grant(account, request, key, f"order {order_id} refunded", order_id)


def scale_cashback(account: Account, request: Request, order: OrderRecord, order_id: str) -> None:
    """A partial refund of ``order``: the cashback its own incentives credited follows
    what is left of it. Of a credit of ``A``, the member keeps at most ``A`` times the
    share of the order not refunded (rounded down); what is unspent beyond that lapses
    (a partial revocation: the credit stays open)."""
    if not order.amount:
        return
    share = (order.amount - order.refunded).amount / order.amount.amount
    for incentive in account.program.incentives.catalog:
        if not isinstance(incentive.trigger, OnOrder):
            continue
        for entry in account.request_entries(grant_key(incentive.id, f"order:{order_id}")):
            if not isinstance(entry, Grant):
                continue
            for issued in entry.holdings:
                credit = account._holdings[issued.key]
                if credit.kind is not HoldingKind.CASHBACK or credit.amount is None:
                    continue
                if credit.status is not HoldingStatus.OPEN or not credit.remaining:
                    continue
                zero = Money.zero(credit.amount.currency)
                keep = credit.amount.times(share, Rounding.FLOOR)
                spent = credit.amount - credit.remaining - (credit.lapsed or zero)
                allowed = max(keep - spent, zero)
                if credit.remaining > allowed:
                    account._apply(
                        HoldingChange(
                            **request.fields(
                                account,
                                0,
                                f"cashback reduced: order {order_id} partly refunded",
                                order_id,
                            ),
                            holding=issued.key,
                            change=Change.REVOKE,
                            amount=credit.remaining - allowed,
                        )
                    )


def unwind_grant(
    account: Account, request: Request, key: str, why: str, source: str | None
) -> None:
    """Unwind what the grant written under ``key`` issued, inside a transaction already
    advanced to the request's time: its open coupons, choices and cashback credits are
    revoked, and so is what a choice it gave became once made, and what is left of its
    points (and of a choice's points) is taken back (a coupon already used stays a
    recorded cost). Each entry gives ``why`` and names ``source``; a grant unwound
    before writes nothing more."""
    for entry in account.request_entries(key):
        if isinstance(entry, Grant):
            for issued in entry.holdings:
                if issued.kind is HoldingKind.CHOICE:
                    _unwind_choice(account, request, entry, issued.key, why, source)
                _revoke(account, request, issued.key, why, source)
        elif isinstance(entry, Earn):
            _take_back_rest(account, request, entry, why, source)


def _revoke(account: Account, request: Request, key: str, why: str, source: str | None) -> None:
    """Revoke holding ``key`` if it is open (or a spent credit: giving a spend back
    later must not revive it); a credit's unspent money lapses."""
    current = account._holdings[key]
    spent = current.kind is HoldingKind.CASHBACK and current.status is HoldingStatus.USED
    if current.status is HoldingStatus.OPEN or spent:
        account._apply(
            HoldingChange(
                **request.fields(account, 0, f"revoked: {why}", source),
                holding=key,
                change=Change.REVOKE,
                amount=current.remaining or None,
            )
        )


def _unwind_choice(
    account: Account, request: Request, grant: Grant, choice: str, why: str, source: str | None
) -> None:
    """Unwind what choice ``choice`` (of ``grant``) became, if it was made: the holdings
    the choice issued, and the points credited with it (they follow it at once)."""
    entries = account.entries_since(grant.at)
    for index, entry in enumerate(entries):
        if not (
            isinstance(entry, HoldingChange)
            and entry.holding == choice
            and entry.change is Change.CHOOSE
        ):
            continue
        for issued in entry.issued:
            _revoke(account, request, issued.key, why, source)
        for credited in entries[index + 1 :]:
            if (
                not isinstance(credited, Earn)
                or credited.key != entry.key
                or (entry.key is None and credited.at != entry.at)
            ):
                break
            _take_back_rest(account, request, credited, why, source)
        return


def _take_back_rest(
    account: Account, request: Request, earn: Earn, why: str, source: str | None
) -> None:
    """Take back what is left of ``earn``'s points."""
    lot = account.lot(earn.id)
    left = lot.points - lot.reversed
    if left:
        take_back(account, request, earn.id, left, None, f"reversed {left} points: {why}", source)
