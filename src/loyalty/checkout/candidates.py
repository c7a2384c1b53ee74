"""Rewards, coupons and offers as stacking candidates: their effect in minor units of
the cart's currency (amounts configured in the program currency are converted at
the cart's rate and rounded down), their group, priority and order."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from loyalty.ledger.entries import Holding, holding_order
from loyalty.money import Money, Rounding
from loyalty.offers.config import (
    AmountOffer,
    BuyXGetY,
    FreeProductOffer,
    FreeShippingOffer,
    Offer,
    PercentOffer,
)
from loyalty.program.compiled import compiled
from loyalty.program.model import Program
from loyalty.rewards.config import (
    AmountOff,
    FreeProduct,
    FreeShipping,
    PayWithPoints,
    PercentOff,
    Reward,
)
from loyalty.stacking.config import Stackable, StackingConfig
from loyalty.stacking.effects import (
    AmountOff as AmountEffect,
)
from loyalty.stacking.effects import (
    BuyGet,
    Effect,
    FreeUnits,
    ShippingOff,
)
from loyalty.stacking.effects import (
    PercentOff as PercentEffect,
)
from loyalty.stacking.engine import Candidate

__all__ = [
    "Converter",
    "coupon_candidate",
    "offer_candidate",
    "reward_candidate",
    "reward_terms",
]

_OFFER, _REWARD, _COUPON = 0, 1, 2


def reward_terms(program: Program, reward_id: str) -> str | None:
    """A digest of reward ``reward_id``'s terms in ``program`` (``None``: no such reward):
    a redemption keeps it, so a restack rebuilds the reward only on the same terms."""
    return compiled(program, _terms).get(reward_id)


def _terms(program: Program) -> dict[str, str]:
    return {
        reward.id: hashlib.sha256(reward.model_dump_json().encode()).hexdigest()[:16]
        for reward in program.rewards.catalog
    }


class Converter:
    """Program-currency amounts as whole minor units of the cart's currency."""

    __slots__ = ("currency", "rate")

    def __init__(self, currency: str, rate: Decimal) -> None:
        self.currency = currency
        self.rate = rate

    def __call__(self, amount: Decimal) -> int:
        return Money.rounded(amount / self.rate, self.currency, Rounding.FLOOR).minor_units

    def optional(self, amount: Decimal | None) -> int | None:
        return None if amount is None else self(amount)


def _candidate(
    item: Stackable,
    stacking: StackingConfig,
    *,
    id: str,
    name: str,
    label: str,
    source: str,
    kind: str,
    effect: Effect,
    rank: tuple[Any, ...],
    conditions: Any = None,
    points: int = 0,
    reference: Any = None,
) -> Candidate:
    group = stacking.group(item.group)
    priority = item.priority if item.priority is not None else group.priority
    return Candidate(
        id=id,
        name=name,
        label=label,
        source=source,
        kind=kind,
        effect=effect,
        group=group.id,
        mode=group.mode,
        priority=priority,
        rank=rank,
        combines_with=frozenset(item.combines_with),
        conditions=conditions,
        points=points,
        reference=reference,
    )


def reward_effect(
    reward: Reward,
    convert: Converter,
    *,
    points: int | None = None,
    choice: str | None = None,
    units: int | None = None,
) -> Effect:
    """What ``reward`` takes off (``points`` to pay with, the free product's ``choice``
    and ``units``, as the member asks)."""
    if isinstance(reward, PayWithPoints):
        worth = Decimal(points or 0) * reward.value / reward.points
        return AmountEffect(convert(worth), tender=True)
    if isinstance(reward, AmountOff):
        return AmountEffect(convert(reward.amount))
    if isinstance(reward, PercentOff):
        return _percent(reward, convert)
    if isinstance(reward, FreeShipping):
        return ShippingOff(convert.optional(reward.max_amount))
    assert isinstance(reward, FreeProduct)
    return FreeUnits(choice or reward.choices[0], units or reward.units, basis=reward.basis)


def reward_candidate(
    reward: Reward,
    convert: Converter,
    stacking: StackingConfig,
    *,
    id: str,
    sequence: int = 0,
    points: int = 0,
    choice: str | None = None,
    units: int | None = None,
    reference: Any = None,
) -> Candidate:
    """``reward`` as its ``sequence``-th use on the cart (0: the first)."""
    return _candidate(
        reward,
        stacking,
        id=id,
        name=reward.id,
        label=reward.label,
        source="reward",
        kind=reward.kind,
        effect=reward_effect(reward, convert, points=points, choice=choice, units=units),
        rank=(_REWARD, reward.id, sequence),
        points=points,
        reference=reference,
    )


def coupon_candidate(
    holding: Holding,
    reward: Reward,
    convert: Converter,
    stacking: StackingConfig,
    *,
    id: str,
    choice: str | None = None,
    reference: Any = None,
) -> Candidate:
    """The coupon ``holding``, whose offer is ``reward``; coupons of one class and
    priority apply in the order they were issued. Its hurdles are checked where it
    applies, on the cart as the discounts before it left it, so a restack that puts
    a discount before it can leave it out."""
    return _candidate(
        reward,
        stacking,
        id=id,
        name=reward.id,
        label=f"coupon {holding.title}",
        source="coupon",
        kind=reward.kind,
        effect=reward_effect(reward, convert, choice=choice),
        rank=(_COUPON, *holding_order(holding.key)),
        conditions=reward.hurdles,
        reference=reference,
    )


def offer_candidate(
    offer: Offer, convert: Converter, stacking: StackingConfig, *, reference: Any = None
) -> Candidate:
    return _candidate(
        offer,
        stacking,
        id=f"offer:{offer.id}",
        name=offer.id,
        label=offer.label,
        source="offer",
        kind=offer.kind,
        effect=offer_effect(offer, convert),
        rank=(_OFFER, offer.id),
        conditions=offer.conditions,
        reference=reference,
    )


def _percent(item: PercentOff | PercentOffer, convert: Converter) -> PercentEffect:
    """A percent-off reward's or offer's effect (they have the same terms)."""
    return PercentEffect(
        item.percent,
        item.products,
        convert.optional(item.max_amount),
        item.max_items,
        item.pick == "dearest",
        item.basis,
    )


def offer_effect(offer: Offer, convert: Converter) -> Effect:
    if isinstance(offer, PercentOffer):
        return _percent(offer, convert)
    if isinstance(offer, AmountOffer):
        return AmountEffect(
            convert(offer.amount),
            offer.products,
            offer.allocation,
            offer.max_items,
            offer.pick == "dearest",
        )
    if isinstance(offer, BuyXGetY):
        return BuyGet(
            offer.buy.units,
            offer.get.units,
            offer.buy.products or offer.products,
            offer.get.products,
            offer.get.percent,
            offer.limit,
            offer.basis,
            offer.free == "dearest",
        )
    if isinstance(offer, FreeProductOffer):
        return FreeUnits(offer.sku, offer.units, basis=offer.basis)
    assert isinstance(offer, FreeShippingOffer)
    return ShippingOff(convert.optional(offer.max_amount))
