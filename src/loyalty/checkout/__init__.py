"""Checkout: what a shop calls on a cart view, at checkout and from order webhooks.

:func:`quote` (pure), :func:`redeem_reward`, :func:`apply_offers`, :func:`complete_order`,
:func:`refund_order` and :func:`award_action`.
"""

from loyalty.checkout.actions import award_action
from loyalty.checkout.offers import apply_offers
from loyalty.checkout.options import RewardOption
from loyalty.checkout.orders import OrderResult, RefundResult, complete_order, refund_order
from loyalty.checkout.quote import Quote, quote
from loyalty.checkout.redemption import Redemption, redeem_reward, void_redemption
from loyalty.checkout.stock import MemoryStock, RewardStock

__all__ = [
    "MemoryStock",
    "OrderResult",
    "Quote",
    "Redemption",
    "RefundResult",
    "RewardOption",
    "RewardStock",
    "apply_offers",
    "award_action",
    "complete_order",
    "quote",
    "redeem_reward",
    "refund_order",
    "void_redemption",
]
