"""``apply_offers``: write the offers a cart's stack applies, when the checkout uses
no reward or coupon (redeeming one writes them too)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from loyalty.cart import Cart, load_cart, with_segments
from loyalty.checkout.context import member_context
from loyalty.checkout.redemption import Redemption, _redemption
from loyalty.checkout.restack import restack
from loyalty.errors import InvalidInput
from loyalty.ledger.account import Account
from loyalty.ledger.entries import Redeem
from loyalty.ledger.requests import Request, require_account

__all__ = ["apply_offers"]


def apply_offers(
    account: Account, cart: Cart | Mapping[str, Any], *, at: datetime, key: str,
    segments: Iterable[str] = (),
) -> tuple[Redemption, ...]:
    """Write the offers the cart's stack applies (for a checkout that uses no reward or
    coupon; redeeming one writes them too), so the order earns on what the customer
    pays after them. Returns every offer now on the cart; the same ``key`` again
    returns them without writing. Writes nothing when they are already on it."""
    require_account(account)
    cart = load_cart(cart)
    request = Request.begin(account, "apply_offers", at, key, cart=cart)
    if request.original is None:
        cart = with_segments(cart, segments)
        if account.order(cart.id) is not None:
            raise InvalidInput("cart.id", cart.id, "is an order already completed")
        with account._transaction():
            account.advance(request.at)
            member = member_context(account, cart, request.at)
            assert member.stack is not None
            restack(account, request, cart, member.stack.base)
    return tuple(
        _redemption(_entry(account, record.id))
        for record in account.redemptions(cart.id)
        if record.in_use and record.offer is not None
    )


def _entry(account: Account, entry_id: str) -> Redeem:
    entry = account.entry(entry_id)
    assert isinstance(entry, Redeem)
    return entry
