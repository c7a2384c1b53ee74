"""What a refund undoes of an order's incentives and of what was used on it.

A full refund (:func:`settle_refund`) gives back the cashback spent on the order (while
its credit is open), restores the coupons used on it by the program's
``coupon_refund``, and unwinds what the order's own incentives granted, grant by
grant (:func:`unwind_grant`, also used for a referral's clawback). A partial refund
scales the order's own cashback down (:func:`scale_cashback`).
"""

from __future__ import annotations

from loyalty.checkout.coupons import CLOSED
from loyalty.incentives.config import OnOrder, RefundPolicy
from loyalty.incentives.issue import grant_key
from loyalty.ledger.account import Account
from loyalty.ledger.entries import (
    Change,
    Earn,
    Grant,
    HoldingChange,
    HoldingKind,
    HoldingStatus,
)
from loyalty.ledger.operations import take_back
from loyalty.ledger.records import OrderRecord
from loyalty.ledger.requests import Request
from loyalty.money import Money, Rounding

__all__ = ["scale_cashback", "settle_refund", "unwind_grant"]


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
        closed = holding is None or holding.status in CLOSED
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
