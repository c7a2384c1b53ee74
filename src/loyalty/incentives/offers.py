"""What a coupon offers, as the reward the checkout engine already knows how to apply.

A coupon's offer is stored with the holding as the JSON of a reward (cost 0, the
coupon's hurdles), so a coupon issued under one version of the program keeps its
terms when the program file changes.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import TypeAdapter

from loyalty.incentives.config import (
    AmountOffer,
    Coupon,
    FreeShippingGrant,
    Gift,
    PercentOffer,
    ProductOffer,
    ShippingOffer,
)
from loyalty.rewards.config import (
    AmountOff,
    FreeProduct,
    FreeShipping,
    PercentOff,
    Reward,
)

__all__ = ["CouponGrant", "as_reward", "describe", "offer_of", "stored_offer"]

CouponGrant = Coupon | FreeShippingGrant | Gift
_REWARD: TypeAdapter[Reward] = TypeAdapter(Reward)


def as_reward(grant: CouponGrant, reward_id: str) -> Reward:
    """The reward ``grant``'s coupon applies, named ``reward_id``."""
    common = {
        "id": reward_id,
        "title": grant.title,
        "cost": 0,
        "hurdles": grant.hurdles,
        "group": grant.group,
        "priority": grant.priority,
        "basis": grant.basis,
        "combines_with": grant.combines_with,
    }
    if isinstance(grant, Gift):
        return FreeProduct(kind="free_product", choices=(grant.sku,), **common)
    if isinstance(grant, FreeShippingGrant):
        return FreeShipping(kind="free_shipping", max_amount=grant.max_amount, **common)
    offer = grant.offer
    if isinstance(offer, AmountOffer):
        return AmountOff(kind="amount_off", amount=offer.amount, **common)
    if isinstance(offer, PercentOffer):
        return PercentOff(
            kind="percent_off",
            percent=offer.percent,
            products=offer.products,
            max_amount=offer.max_amount,
            **common,
        )
    if isinstance(offer, ShippingOffer):
        return FreeShipping(kind="free_shipping", max_amount=offer.max_amount, **common)
    assert isinstance(offer, ProductOffer)
    return FreeProduct(kind="free_product", choices=offer.choices, **common)


def describe(grant: CouponGrant, currency: str) -> str:
    """What a coupon grant offers, as a member reads it: "5.00 USD off", "10% off",
    "a free SER-01", "free shipping"."""
    reward = as_reward(grant, "coupon")
    if isinstance(reward, AmountOff):
        return f"{reward.amount} {currency} off"
    if isinstance(reward, PercentOff):
        return f"{reward.percent}% off"
    if isinstance(reward, FreeProduct):
        return f"a free {', '.join(reward.choices)}"
    return "free shipping"


def stored_offer(reward: Reward) -> str:
    return reward.model_dump_json(exclude_none=True)


@lru_cache(maxsize=4096)
def offer_of(stored: str) -> Reward:
    """The reward a holding's stored offer describes (parsed once per text)."""
    return _REWARD.validate_json(stored)
