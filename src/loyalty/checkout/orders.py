"""Orders: complete one (record it and earn its points), refund some or all of it.

``complete_order`` writes, under one idempotency key, an
:class:`~loyalty.ledger.entries.Order` (its lines and net spend, for tiers and
the repeat-order hurdle) and an :class:`~loyalty.ledger.entries.Earn` whose
points are attributed to the lines, computed on what the customer actually
paid: after the shop's discounts and the rewards redeemed on this cart (the
cart's id is the order's id).

``refund_order`` refunds units of lines, an amount of money off the whole order
(a goodwill gesture), or everything left, and in one transaction writes the
:class:`~loyalty.ledger.entries.Refund`, reverses the share of the earn the
lines no longer keep and gives back, as a new lot, the same share of the points
spent on the order (:mod:`loyalty.checkout.shares` works the shares out). Every
share is cumulative and rounds what is *kept*: refunding units one at a time, or
money in pieces, never leaves the member more than refunding them together, and
a full refund takes back, and gives back, exactly everything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from loyalty.cart import Cart, load_cart, with_segments
from loyalty.checkout.cashback import fit_tenders
from loyalty.checkout.context import earn_context, member_context
from loyalty.checkout.restack import restack, write_offers
from loyalty.checkout.shares import earn_taken, points_returned, units_money
from loyalty.checkout.stacked import brings_back, coupons_aside, offers_written
from loyalty.checkout.unwinding import scale_cashback, settle_refund
from loyalty.earning.calculate import EarnQuote, order_earn
from loyalty.errors import CurrencyMismatch, InvalidInput, InvalidMoney, UnknownOrder
from loyalty.ledger.account import Account
from loyalty.ledger.entries import (
    Earn,
    Entry,
    Grant,
    Order,
    OrderLine,
    Refund,
    RefundLine,
    Return,
    Reverse,
    TierCause,
    TierChange,
)
from loyalty.ledger.operations import take_back
from loyalty.ledger.records import RedemptionRecord
from loyalty.ledger.requests import (
    Request,
    expiry_for,
    require_account,
    require_flag,
    text,
    unit_counts,
)
from loyalty.money import Money
from loyalty.tiers.tracker import OrderRecord

__all__ = ["OrderResult", "RefundResult", "complete_order", "refund_order"]


@dataclass(frozen=True, slots=True)
class OrderResult:
    """What completing an order wrote: the order, its earn (if it earned), a tier change."""

    order: Order
    earn: Earn | None
    tier_change: TierChange | None = None
    grants: tuple[Grant, ...] = ()
    """What the incentives the order fired granted (through the service)."""


@dataclass(frozen=True, slots=True)
class RefundResult:
    """What a refund wrote: the refund, the points taken back, the points given back."""

    refund: Refund
    reversal: Reverse | None
    returns: tuple[Return, ...] = ()


def complete_order(
    account: Account,
    cart: Cart | Mapping[str, Any],
    *,
    at: datetime,
    key: str,
    segments: Iterable[str] = (),
) -> OrderResult:
    """Record ``cart`` as a completed order and credit the points it earns.

    The program's offers that apply to the cart are written first, unless a
    redemption or :func:`~loyalty.apply_offers` wrote them at checkout (they are not
    changed then), so the order earns on what the customer pays after them. When
    the cart's stack puts a coupon set aside on it back, the whole stack is written
    (a restack, as a checkout would), as the cart's quote showed. The
    cart is the order as the shop priced it, before any loyalty discount.

    ``segments`` are the member's known segments, used when the cart's customer
    names none (the service passes the ones stored with the member). They are not
    part of the request's idempotency fingerprint: a redelivered order is the same
    request after the member's segments changed, and returns the original result.

    Raises :class:`~loyalty.errors.UnsupportedCurrency` for a currency the program
    does not accept, and :class:`InvalidInput` for an order already recorded.
    """
    require_account(account)
    cart = load_cart(cart)
    request = Request.begin(account, "complete_order", at, key, cart=cart)
    if request.original is not None:
        return _order_result(account, key)
    cart = with_segments(cart, segments)
    if account.order(cart.id) is not None:
        raise InvalidInput("cart.id", cart.id, "is already recorded as an order of this member")
    program = account.program
    with account._transaction():
        account.advance(request.at)
        aside = coupons_aside(account, cart.id, request.occurred)
        if aside or (program.offers.catalog and not offers_written(account, cart.id)):
            member = member_context(account, cart, request.occurred)
            assert member.stack is not None
            if aside and brings_back(member.stack):
                restack(account, request, cart, member.stack.base)
            elif program.offers.catalog and not offers_written(account, cart.id):
                write_offers(account, request, cart, member.stack.base)
                fit_tenders(account, request, cart)
        context = earn_context(account, cart, request.occurred)
        earned = order_earn(program, cart, request.occurred, context)
        lines = tuple(
            OrderLine(line.line, line.quantity, Money(0, program.currency) if gift else line.basis)
            for line, gift in zip(earned.lines, (ln.gift_card for ln in cart.lines), strict=True)
        )
        amount = sum((line.amount for line in lines), Money.zero(program.currency))
        order = Order(
            **request.fields(account, 0, f"order {cart.id}: {amount}", cart.id),
            amount=amount,
            lines=lines,
        )
        account._apply(order)
        earn = None
        if earned.points:
            earn = Earn(
                **request.fields(account, earned.points, _earn_reason(cart, earned), cart.id),
                available_at=request.available(program),
                expires_at=request.expires(program),
                basis=earned.basis,
                lines=earned.line_points(),
                shipping_points=earned.shipping_points,
            )
            account._apply(earn)
            request.settle(account)
        upgrade = request.upgrade_tier(account)
    return OrderResult(order, earn, upgrade)


def refund_order(
    account: Account,
    order_id: str,
    *,
    at: datetime,
    key: str,
    lines: Mapping[str, int] | None = None,
    amount: Money | Decimal | str | int | None = None,
    shipping: bool = False,
    reason: str | None = None,
) -> RefundResult:
    """Refund ``lines`` (units per line id) of a completed order, or ``amount`` of its
    money, or (given neither) all that is left.

    ``amount`` (:class:`Money`, or a ``Decimal``, ``str`` or ``int`` in the order's
    currency) is money off the whole order: every line keeps the same share less, and
    so do its points (see :mod:`loyalty.checkout.shares`). All that is left of the
    order is a full refund. ``shipping`` refunds the shipping too (a full refund always
    does). Raises :class:`UnknownOrder` for an order that was not completed, and
    :class:`InvalidInput` for a line it does not have, more units than are left, both
    ``lines`` and ``amount``, or an amount that is not more than zero or is more than
    is left (:class:`~loyalty.errors.InvalidMoney`, naming ``amount``).
    """
    require_account(account)
    text(order_id, "order_id", required=True)
    text(reason, "reason", required=False)
    unit_counts(lines, "lines")
    require_flag(shipping, "shipping")
    money = _refund_amount(amount, lines, account.program.currency)
    order = account.order(order_id)
    request = Request.begin(
        account,
        "refund_order",
        at,
        key,
        order_id=order_id,
        lines=dict(lines) if lines is not None else None,
        shipping=shipping,
        reason=reason,
        # Only a refund by amount names it: a refund by units keeps its fingerprint.
        **({"amount": money} if money is not None else {}),
    )
    if request.original is not None:
        return _refund_result(account.request_entries(key))
    if order is None:
        raise UnknownOrder(account.member_id, order_id)
    left = order.amount - order.refunded
    if money is not None:
        if money > left:
            raise InvalidMoney(
                "amount", amount, f"is more than the {left} left to refund on order {order_id!r}"
            )
        everything = money == left  # all that is left: a full refund
        units = _units(order, None) if everything else {}
    else:
        units = _units(order, lines)
        everything = all(
            order.units_refunded(line.line) + units.get(line.line, 0) == line.quantity
            for line in order.lines
        )
    shipping = shipping or everything
    nothing = money is None and not units and (not shipping or order.shipping_refunded)
    if order.fully_refunded:
        raise InvalidInput(
            "order_id", order_id, "has nothing left to refund: it is cancelled or refunded in full"
        )
    if nothing:
        raise InvalidInput("lines", lines, f"names nothing to refund of order {order_id!r}")
    with account._transaction():
        account.advance(request.at)
        if money is not None:
            refunded = money
        elif order.lines:
            refunded = units_money(order, units)
        else:  # recorded with record_order: refund what is left of it
            refunded = left
        default = f"refund of {refunded} on order {order_id}"
        account._apply(
            Refund(
                **request.fields(account, 0, reason or default, order_id),
                order_id=order_id,
                amount=refunded,
                lines=tuple(RefundLine(ref, count) for ref, count in units.items()),
                shipping=shipping and not order.shipping_refunded,
            )
        )
        after = account.order(order_id) or order
        earn = account.entry(order.earn_id) if order.earn_id is not None else None
        if isinstance(earn, Earn):
            taken = earn_taken(account, earn, order, after)
            if taken:
                why = f"reversed {taken} points: refund on order {order_id}"
                take_back(account, request, earn.id, taken, None, why, order_id)
        for record in account.redemptions(order_id):
            given = points_returned(account, record, after)
            if given:
                _give_back(account, request, record, given, order_id)
        if after.fully_refunded:
            settle_refund(account, request, order_id)
        else:
            scale_cashback(account, request, after, order_id)
    return _refund_result(account.request_entries(key))


# ------------------------------------------------------------------- helpers


def _earn_reason(cart: Cart, earned: EarnQuote) -> str:
    applied = ", ".join(rule.rule for rule in earned.rules if rule.rule != "base" and rule.points)
    return f"earned on order {cart.id}" + (f" ({applied})" if applied else "")


def _units(order: OrderRecord, lines: Mapping[str, int] | None) -> dict[str, int]:
    if lines is not None and not order.lines:
        raise InvalidInput("lines", lines, "the order was recorded without lines; refund it all")
    left = {line.line: line.quantity - order.units_refunded(line.line) for line in order.lines}
    if lines is None:
        return {ref: count for ref, count in left.items() if count}
    if not isinstance(lines, Mapping):
        raise InvalidInput("lines", lines, "must map line ids to units refunded")
    for ref, count in lines.items():
        if ref not in left:
            raise InvalidInput(f"lines.{ref}", count, f"order has no line {ref!r}")
        if isinstance(count, bool) or not isinstance(count, int) or count <= 0:
            raise InvalidInput(f"lines.{ref}", count, "must be a positive whole number of units")
        if count > left[ref]:
            raise InvalidInput(f"lines.{ref}", count, f"only {left[ref]} unit(s) left to refund")
    return dict(lines)


def _refund_amount(
    amount: object, lines: Mapping[str, int] | None, currency: str
) -> Money | None:
    """``amount`` as money in ``currency`` (``None`` for a refund by units): more than
    zero, and not given with ``lines``."""
    if amount is None:
        return None
    if lines is not None:
        raise InvalidInput("amount", amount, "give lines or an amount to refund, not both")
    money = amount if isinstance(amount, Money) else Money(amount, currency)  # type: ignore[arg-type]
    if money.currency != currency:
        raise CurrencyMismatch(currency, money.currency, "amount")
    if money.amount <= 0:
        raise InvalidMoney("amount", amount, "must be more than zero")
    return money


def _give_back(
    account: Account, request: Request, record: RedemptionRecord, points: int, order_id: str
) -> Return:
    program = account.program
    after = program.rewards.returned_points_expire_after
    if after is not None:
        expires: datetime | None = after.after(request.at, program.tz)
    else:
        expires = expiry_for(program, request.at)
    entry = Return(
        **request.fields(
            account, points, f"points back: order {order_id} refunded", order_id
        ),
        available_at=request.at,
        expires_at=expires,
        redeem_id=record.id,
    )
    account._apply(entry)
    return entry


def _order_result(account: Account, key: str) -> OrderResult:
    """What the request with ``key`` wrote: its order, earn and upgrade (the upgrade
    carries the request's key). Journals written before upgrades carried it: the
    keyless upgrade right after the order, at the order's own instant."""
    entries = account.request_entries(key)
    order = next(entry for entry in entries if isinstance(entry, Order))
    earn = next((entry for entry in entries if isinstance(entry, Earn)), None)
    upgrade = next((entry for entry in entries if isinstance(entry, TierChange)), None)
    if upgrade is None and entries[-1].seq < account.next_seq - 1:
        following = account.entry(f"{account.member_id}:{entries[-1].seq + 1}")
        if (
            isinstance(following, TierChange)
            and following.key is None
            and following.cause is TierCause.UPGRADE
            and following.at == order.at
        ):
            upgrade = following
    return OrderResult(order, earn, upgrade)


def _refund_result(entries: tuple[Entry, ...]) -> RefundResult:
    refund = next(entry for entry in entries if isinstance(entry, Refund))
    reversal = next((entry for entry in entries if isinstance(entry, Reverse)), None)
    returns = tuple(entry for entry in entries if isinstance(entry, Return))
    return RefundResult(refund, reversal, returns)
