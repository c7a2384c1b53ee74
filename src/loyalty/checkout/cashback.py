"""Cashback at checkout: a tender, applied after every discount.

``spend_cashback`` pays part of the cart with the member's spendable cashback: it
lowers neither the points the order earns nor any hurdle's basis. It spends the
credits that close soonest first, one ``Redeem`` entry (with its ``tender``) per
credit, and never more than is left to pay: a discount added after a tender cuts the
tender to fit (:func:`fit_tenders`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from loyalty.cart import Cart, load_cart
from loyalty.checkout.voided import not_voided
from loyalty.errors import InvalidInput
from loyalty.ledger.account import Account
from loyalty.ledger.entries import (
    HoldingKind,
    HoldingStatus,
    Redeem,
    Void,
    holding_order,
)
from loyalty.ledger.records import RedemptionRecord
from loyalty.ledger.requests import Request, money_amount, require_account
from loyalty.money import Money

__all__ = ["fit_tenders", "left_to_pay", "spend_cashback", "taken"]


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
        return tuple(
            not_voided(account, e, key)
            for e in account.request_entries(key)
            if isinstance(e, Redeem)
        )
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
    off = sum((taken(r) for r in account.redemptions(cart.id) if r.in_use), Decimal(0))
    return cart.money(max(cart.total.amount - off, Decimal(0)))


def fit_tenders(account: Account, request: Request, cart: Cart) -> None:
    """After a discount, the cashback tendered on ``cart`` may come to more than is
    left to pay: give the excess back (the latest tenders first), so a tender never
    pays more than the cart costs."""
    records = [r for r in account.redemptions(cart.id) if r.in_use]
    off = sum((taken(record) for record in records), Decimal(0))
    excess = cart.money(off - cart.total.amount)
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


def taken(record: RedemptionRecord) -> Decimal:
    """What a redemption takes off what is paid: its discount lines, shipping, tender."""
    off = sum((line.amount.amount for line in record.discounts), Decimal(0))
    if record.shipping_discount is not None:
        off += record.shipping_discount.amount
    if record.tender is not None:
        off += record.tender.amount
    return off
