"""Writing a cart's stack: what a redemption changes on the cart besides itself.

Adding a reward or coupon can change what the discounts already on the cart take
(one that applies before them leaves them less) and which offers apply. Within
the redemption's transaction, every redemption on the cart whose lines the new
stack changes is voided (its points and its coupon use come back) and written
again as the stack has it, naming the entry it ``replaces``; one the stack now
leaves out stays off (a coupon is set aside: it comes back when a later restack
makes it part of the best set, see :mod:`loyalty.checkout.stacked`). The offers
the stack applies are written as redemptions of no points naming the ``offer``,
so the order earns on what the customer pays after them and a refund unwinds
them like any discount. Cashback tendered on the cart is then fitted to what is
left to pay (:func:`~loyalty.checkout.cashback.fit_tenders`).
"""

from __future__ import annotations

from collections.abc import Callable

from loyalty.cart import Cart
from loyalty.checkout.cashback import fit_tenders
from loyalty.checkout.stock import RewardStock, claim_prefix
from loyalty.ledger.account import Account
from loyalty.ledger.entries import Redeem, Void
from loyalty.ledger.operations import spend
from loyalty.ledger.records import RedemptionRecord
from loyalty.ledger.requests import Request
from loyalty.stacking.choose import Stack
from loyalty.stacking.engine import Applied

__all__ = ["aside_reason", "restack", "settle_aside", "settle_stack", "write_offers"]


def settle_stack(
    account: Account,
    request: Request,
    cart: Cart,
    result: Stack,
    new_id: str,
    write_new: Callable[[Applied], Redeem],
    stock: RewardStock | None = None,
) -> Redeem:
    """Make the cart's redemptions match ``result``, writing the new one (``new_id``)
    with ``write_new`` first (the request's first entry is what it returns when
    replayed); return its entry. Call inside the account's transaction."""
    entry = write_new(next(item for item in result.applied if item.id == new_id))
    restack(account, request, cart, result, entry, stock)
    return entry


def settle_aside(
    account: Account,
    request: Request,
    cart: Cart,
    result: Stack,
    write_new: Callable[[], Redeem],
    stock: RewardStock | None = None,
    why: str = "",
) -> Redeem:
    """Like :func:`settle_stack`, for a coupon ``result`` leaves out though it could
    apply alone: written with ``write_new`` (no lines), set aside at once (it comes
    back when a restack gives it room; the void's reason ends with ``why``, see
    :func:`aside_reason`), and the cart made to match ``result``."""
    entry = write_new()
    record = account.redemption(entry.id)
    assert record is not None
    _void(account, request, record, cart, True, f"{_ASIDE_PREFIX}{cart.id}: {why}")
    restack(account, request, cart, result, entry, stock)
    return entry


def restack(
    account: Account,
    request: Request,
    cart: Cart,
    result: Stack,
    new: Redeem | None = None,
    stock: RewardStock | None = None,
) -> None:
    """Make the cart's redemptions (but ``new``, just written) match ``result``; a
    reward the stack leaves out gives its shared ``stock`` unit back."""
    applied = {item.id: item for item in result.applied}
    stale: list[RedemptionRecord] = []
    rewrite: list[Applied] = []
    kept_offers: set[str] = set()
    for record in account.redemptions(cart.id):
        if not record.in_use or record.tender is not None:
            continue
        if new is not None and record.id == new.id:
            continue
        found = applied.get(_candidate_id(record))
        if found is not None and _same(record, found):
            if record.offer is not None:
                kept_offers.add(found.id)
            continue
        if found is None and record.offer is None and _candidate_id(record) not in _ids(result):
            continue  # not restacked (its reward left the program): it keeps its lines
        stale.append(record)
        if found is not None and record.offer is None:
            rewrite.append(found)
    kept = {item.candidate.id for item in rewrite}
    for record in stale:
        aside = record.coupon is not None and _candidate_id(record) not in kept
        claim = _void(account, request, record, cart, aside)
        if stock is not None and record.reward is not None and _candidate_id(record) not in kept:
            stock.release(record.reward, claim_prefix(account.member_id) + claim)
    for item in result.applied:
        if item in rewrite or _back(item):
            _again(account, request, cart, item)
        elif item.candidate.source == "offer" and item.id not in kept_offers:
            _offer(account, request, cart, item)
    fit_tenders(account, request, cart)


def _back(item: Applied) -> bool:
    """Is ``item`` a coupon a restack had set aside, applying again?"""
    record = item.candidate.reference
    return isinstance(record, RedemptionRecord) and not record.in_use


def _ids(result: Stack) -> set[str]:
    return {item.id for item in result.applied} | {item.id for item in result.skipped}


def _candidate_id(record: RedemptionRecord) -> str:
    if record.offer is not None:
        return f"offer:{record.offer}"
    if record.coupon is not None:
        return f"coupon:{record.coupon}"
    return f"reward:{record.id}"


def _same(record: RedemptionRecord, item: Applied) -> bool:
    return record.discounts == item.lines and record.shipping_discount == item.shipping


_ASIDE_PREFIX = "set aside on order "


def aside_reason(void: Void) -> str | None:
    """Why a coupon was set aside when entered, from the ``void`` that set it aside
    (None for a void that does not say)."""
    prefix = f"{_ASIDE_PREFIX}{void.source}: "
    if not void.restacked or not void.reason.startswith(prefix):
        return None
    return void.reason[len(prefix):]


def _void(
    account: Account,
    request: Request,
    record: RedemptionRecord,
    cart: Cart,
    aside: bool,
    reason: str | None = None,
) -> str:
    """Void ``record`` (``aside``: a coupon the stack leaves out, which may come back);
    return the key of the stock claim it held."""
    redeemed = account.entry(record.id)
    assert isinstance(redeemed, Redeem)
    account._apply(
        Void(
            **request.fields(
                account, record.points,
                reason or f"restacked on order {cart.id}: {redeemed.reason}",
                cart.id,
            ),
            redeem_id=record.id,
            allocation=redeemed.allocation,
            restacked=aside,
        )
    )
    return redeemed.claim or redeemed.key or ""


def _again(account: Account, request: Request, cart: Cart, item: Applied) -> None:
    """A redemption already on the cart, written again with the lines the stack gives it."""
    record = item.candidate.reference
    assert isinstance(record, RedemptionRecord)
    redeemed = account.entry(record.id)
    assert isinstance(redeemed, Redeem)
    points = record.points
    account._apply(
        Redeem(
            **request.fields(account, -points, redeemed.reason, cart.id),
            allocation=spend(account, points, request.at) if points else (),
            reward=redeemed.reward,
            discounts=item.lines,
            shipping_discount=item.shipping,
            coupon=redeemed.coupon,
            units=redeemed.units,
            claim=redeemed.claim or redeemed.key,
            replaces=redeemed.id,
            terms=redeemed.terms,
            choice=redeemed.choice,
        )
    )


def _offer(account: Account, request: Request, cart: Cart, item: Applied) -> None:
    candidate = item.candidate
    account._apply(
        Redeem(
            **request.fields(account, 0, f"offer {candidate.label} on order {cart.id}", cart.id),
            allocation=(),
            discounts=item.lines,
            shipping_discount=item.shipping,
            offer=candidate.name,
        )
    )



def write_offers(account: Account, request: Request, cart: Cart, result: Stack) -> None:
    """Write the offers ``result`` applies, and nothing else (an order completing on a
    cart whose offers were never written)."""
    for item in result.applied:
        if item.candidate.source == "offer":
            _offer(account, request, cart, item)
