"""The discounts on one member's cart, as one stack.

The redemptions already on the cart (rewards and coupons, in the order they were
made) are required; the program's offers the member sees (their dates, their
audience) are optional, chosen by :func:`~loyalty.stacking.choose.stack` to give
the customer the most. A reward or coupon the customer asks for joins the
required ones. Quotes and redemptions build the same stack from the same
inputs, so a redemption takes exactly what its quote showed.

A redemption whose reward (or coupon offer) the program no longer has or has on
other terms, a free product whose line left the cart without the record naming
it, and the cashback spent on the cart (a tender, re-fitted after every change),
are not restacked: the former keep the lines they wrote, taken off before any
other. A coupon set aside (entered, or left out by a restack, when the best set
of the discounts on the cart does not include it) is a required candidate again
while it is open, so it comes back when the best set includes it (no more of one
incentive than its ``per_order`` limit allows beside those in use).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import Any

from loyalty.cart import Cart
from loyalty.checkout.candidates import (
    Converter,
    coupon_candidate,
    offer_candidate,
    reward_candidate,
    reward_terms,
)
from loyalty.hurdles import Check, Situation, window_check
from loyalty.incentives.audience import Facts
from loyalty.incentives.offers import offer_of
from loyalty.ledger.account import Account
from loyalty.ledger.entries import Void
from loyalty.ledger.records import RedemptionRecord
from loyalty.money import Money
from loyalty.program.model import Program
from loyalty.rewards.config import FreeProduct
from loyalty.stacking.choose import Stack, stack
from loyalty.stacking.engine import Applied, Candidate, Context
from loyalty.stacking.units import Units, minor

__all__ = [
    "CartStack",
    "brings_back",
    "cart_stack",
    "coupons_aside",
    "offers_written",
    "restacked",
    "set_aside",
    "shipping_of",
    "unwritten_offers",
    "with_lines",
]


@dataclass(frozen=True, slots=True)
class Standing:
    """The member's standing that offers' conditions are judged on."""

    at: datetime
    available_points: int
    tier: str | None
    orders_before: int
    rate: Decimal


class CartStack:
    """The stack of one cart: :attr:`base` (what is on it, with the offers), and
    :meth:`adding` a reward or coupon to it."""

    def __init__(
        self,
        context: Context,
        required: tuple[Candidate, ...],
        optional: tuple[Candidate, ...],
        fixed: Mapping[str, Decimal],
    ) -> None:
        self.context = context
        self.required = required
        self.optional = optional
        self.fixed = dict(fixed)

    @cached_property
    def base(self) -> Stack:
        return stack(self.required, self.optional, self.context)

    def adding(self, candidate: Candidate) -> Stack:
        """The stack with ``candidate`` required too (in place of a required one of
        the same id: a coupon set aside on the cart, entered again)."""
        required = tuple(c for c in self.required if c.id != candidate.id)
        return stack((*required, candidate), self.optional, self.context)

    def reductions(self) -> dict[str, Decimal]:
        """What the base stack and the fixed lines take off each line."""
        return with_lines(self.fixed, self.base.applied)

    def shipping(self) -> Decimal:
        """The shipping the base stack takes off."""
        return shipping_of(self.base.applied)


def offers_written(account: Account, cart_id: str) -> bool:
    """Were the offers of cart ``cart_id`` written (by a redemption, ``apply_offers`` or
    the order completing)?"""
    return any(r.in_use and r.offer is not None for r in account.redemptions(cart_id))


def unwritten_offers(account: Account, cart_id: str, stacked: CartStack) -> list[Applied]:
    """The offers ``stacked`` applies that completing the order will write (none were
    written yet)."""
    if offers_written(account, cart_id):
        return []
    return [a for a in stacked.base.applied if a.candidate.source == "offer"]


def brings_back(stacked: CartStack) -> bool:
    """Does ``stacked``'s base put a coupon set aside back on the cart? Completing the
    order then writes the whole stack (a restack), as a checkout would."""
    return any(
        isinstance(a.candidate.reference, RedemptionRecord) and not a.candidate.reference.in_use
        for a in stacked.base.applied
    )


def restacked(record: RedemptionRecord, result: Stack) -> bool:
    """Would writing ``result`` on the cart change or void ``record`` (one in use)? An
    offer or a redemption that is one of its candidates; not a tender, nor one kept
    with its own lines."""
    if record.tender is not None:
        return False
    if record.offer is not None:
        return True
    name = f"coupon:{record.coupon}" if record.coupon is not None else f"reward:{record.id}"
    return any(a.id == name for a in result.applied) or any(s.id == name for s in result.skipped)


def with_lines(taken: Mapping[str, Decimal], applied: Iterable[Applied]) -> dict[str, Decimal]:
    """``taken`` (per line ref) plus what the ``applied`` discounts take off each line."""
    found = dict(taken)
    for item in applied:
        for part in item.lines:
            found[part.line] = found.get(part.line, Decimal(0)) + part.amount.amount
    return found


def shipping_of(applied: Iterable[Applied]) -> Decimal:
    """The shipping the ``applied`` discounts take off."""
    return sum((a.shipping.amount for a in applied if a.shipping is not None), Decimal(0))


def cart_stack(
    account: Account,
    cart: Cart,
    standing: Standing,
    *,
    tier_shipping: Decimal,
    facts: Callable[[], Facts],
) -> CartStack:
    """The stack of ``cart`` for ``account``'s member."""
    program = account.program
    convert = Converter(cart.currency, standing.rate)
    required: list[Candidate] = []
    fixed: dict[str, Decimal] = {}
    uses: dict[str, int] = {}
    records = account.redemptions(cart.id)
    standing_now = [
        r for r in records if r.in_use and r.tender is None and r.offer is None
    ]
    for record in (*standing_now, *_set_aside(account, records, standing.at)):
        candidate = _rebuilt(account, record, cart, convert, uses)
        if candidate is None:
            for part in record.discounts:
                fixed[part.line] = fixed.get(part.line, Decimal(0)) + part.amount.amount
        else:
            required.append(candidate)
    optional = tuple(
        offer_candidate(offer, convert, program.stacking, reference=offer)
        for offer in program.offers.catalog
        if _sees(program, offer, standing.at, facts)
    )
    context = _context(program, cart, standing, tier_shipping, fixed)
    return CartStack(context, tuple(required), optional, fixed)


def _aside(account: Account, record: RedemptionRecord) -> bool:
    """Was ``record``, a coupon's, taken off by a restack (not by the customer)?"""
    if record.voided_by is None or record.coupon is None:
        return False
    void = account.entry(record.voided_by)
    return isinstance(void, Void) and void.restacked


def _set_aside(
    account: Account, records: tuple[RedemptionRecord, ...], at: datetime
) -> list[RedemptionRecord]:
    """The coupons set aside on this cart (entered, or taken off by a restack, when
    the stack left them out), still open and not on it again (the latest record of
    each): they are candidates again, so what the cart gets does not depend on the
    order they were entered in."""
    on_cart = {r.coupon for r in records if r.in_use and r.coupon is not None}
    replaced = {r.replaces for r in records if r.replaces is not None}
    latest: dict[str, RedemptionRecord] = {}
    for record in records:
        if record.coupon is None or record.coupon in on_cart or record.id in replaced:
            continue
        if record.tender is not None or not _aside(account, record):
            continue
        holding = account._holdings.get(record.coupon)
        if holding is None or holding.uses <= 0 or not holding.usable(at):
            continue
        latest[record.coupon] = record
    return _within_per_order(account, records, latest.values())


def _within_per_order(
    account: Account, records: tuple[RedemptionRecord, ...], aside: Iterable[RedemptionRecord]
) -> list[RedemptionRecord]:
    """Of the coupons set ``aside`` (first entered first), those that can come back
    within their incentive's ``per_order`` limit beside the coupons in use."""
    counts: dict[str, int] = {}
    for record in records:
        if record.in_use and record.tender is None and record.coupon is not None:
            holding = account._holdings.get(record.coupon)
            if holding is not None:
                counts[holding.incentive] = counts.get(holding.incentive, 0) + 1
    kept: list[RedemptionRecord] = []
    for record in aside:
        assert record.coupon is not None
        holding = account._holdings[record.coupon]
        incentive = account.program.incentives.get(holding.incentive)
        most = incentive.limits.per_order if incentive is not None else None
        if most is not None and counts.get(holding.incentive, 0) >= most:
            continue
        counts[holding.incentive] = counts.get(holding.incentive, 0) + 1
        kept.append(record)
    return kept


def set_aside(account: Account, cart_id: str, at: datetime) -> list[RedemptionRecord]:
    """The coupons set aside on cart ``cart_id`` at ``at`` that can come back (the
    latest record of each)."""
    return _set_aside(account, account.redemptions(cart_id), at)


def coupons_aside(account: Account, cart_id: str, at: datetime) -> bool:
    """Are coupons set aside on cart ``cart_id`` at ``at`` (they come back when a
    restack has room for them)?"""
    return bool(_set_aside(account, account.redemptions(cart_id), at))


def _sees(program: Program, offer: Any, at: datetime, facts: Callable[[], Facts]) -> bool:
    if offer.valid is not None and not window_check("valid", offer.valid, at, program.tz).met:
        return False
    return offer.audience is None or offer.audience.excludes(facts(), program.tz) is None


def _rebuilt(
    account: Account,
    record: RedemptionRecord,
    cart: Cart,
    convert: Converter,
    uses: dict[str, int],
) -> Candidate | None:
    program = account.program
    if record.coupon is not None:
        holding = account._holdings.get(record.coupon)
        if holding is None:
            return None
        return coupon_candidate(
            holding, offer_of(holding.offer), convert, program.stacking,
            id=f"coupon:{holding.key}", choice=record.choice or _sku(record, cart),
            reference=record,
        )
    reward = program.rewards.get(record.reward) if record.reward is not None else None
    if reward is None:
        return None
    if record.terms is not None and record.terms != reward_terms(program, reward.id):
        return None  # redeemed on other terms: it keeps the lines it wrote
    choice = record.choice or _sku(record, cart) if isinstance(reward, FreeProduct) else None
    if isinstance(reward, FreeProduct) and choice is None:
        return None  # its product left the cart, and the record does not name it
    sequence = uses.get(reward.id, 0)
    uses[reward.id] = sequence + 1
    return reward_candidate(
        reward, convert, program.stacking,
        id=f"reward:{record.id}",
        sequence=sequence,
        points=record.points,
        choice=choice,
        units=record.units,
        reference=record,
    )


def _sku(record: RedemptionRecord, cart: Cart) -> str | None:
    """The sku of the line a free product discounted."""
    line = cart.line(record.discounts[0].line) if record.discounts else None
    return line.sku if line is not None else None


def _context(
    program: Program,
    cart: Cart,
    standing: Standing,
    tier_shipping: Decimal,
    fixed: Mapping[str, Decimal],
) -> Context:
    caps = program.stacking.caps
    limits = []
    words = []
    convert = Converter(cart.currency, standing.rate)
    if caps.max_amount is not None:
        limits.append(convert(caps.max_amount))
        words.append(f"{Money.from_minor(limits[-1], cart.currency)}")
    if caps.max_percent is not None:
        subtotal = minor(cart.merchandise_subtotal.amount, cart.currency)
        limits.append(int(Decimal(subtotal) * caps.max_percent // 100))
        words.append(f"{caps.max_percent}%")
    units = Units.of(cart, tier_shipping)
    if fixed:
        for slot in units.slots:
            taken = minor(fixed.get(slot.line.ref, Decimal(0)), cart.currency)
            slot.left = max(slot.left - taken, 0)

    def judge(condition: Any, reductions: Mapping[str, Decimal], off: Decimal) -> Check:
        situation = Situation(
            cart,
            standing.at,
            standing.available_points,
            tier=standing.tier,
            orders_before=standing.orders_before,
            rate=standing.rate,
            reductions=reductions,
            shipping_reduction=off,
        )
        result: Check = condition.check(situation, program)
        return result

    return Context(
        cart=cart,
        order=program.stacking.order,
        judge=judge,
        shipping_off=tier_shipping,
        max_total=min(limits) if limits else None,
        cap_text=" and ".join(words),
        max_discounts=caps.max_discounts,
        units=units,
    )
