"""Offers: discounts that cost no points, applied automatically at checkout."""

from loyalty.offers.config import Offer, OffersConfig

__all__ = ["Offer", "OffersConfig"]
