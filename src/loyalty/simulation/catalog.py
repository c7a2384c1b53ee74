"""The built-in catalog of a generated order history, and the baskets drawn from it.

Sixty-one products of a cosmetics shop over seven categories, each with a fixed price
(``Decimal``, written in the history's currency with its decimals: ``"24.00"`` in
USD, ``"24"`` in JPY, ``"24.000"`` in KWD); gift sets carry two categories. A basket
is 1 to 6 lines of different products, mostly 1 or 2, quantities mostly 1; a line is
of one of the member's two favourite categories more often than not.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal
from itertools import accumulate
from random import Random
from typing import Any, Final

from loyalty.currencies import MINOR_UNITS

__all__ = ["CATALOG", "CATEGORIES", "Catalog", "Product"]


@dataclass(frozen=True, slots=True)
class Product:
    """A product of the catalog: its sku, price and categories."""

    sku: str
    price: Decimal
    categories: tuple[str, ...]


_PRICES: Final = (
    # category, sku prefix, share of the lines, prices of its products (the first sell most)
    ("skincare", "SKN", 28, "24.00 38.00 52.00 18.50 65.00 29.00 85.00 12.00 44.00 33.00 72.00"),
    ("makeup", "MKP", 24, "22.00 18.00 36.00 14.50 28.00 9.50 42.00 26.00 16.00 48.00 8.00"),
    ("fragrance", "FRG", 12, "68.00 95.00 120.00 54.00 82.00 35.00 110.00 46.00"),
    ("hair", "HAR", 12, "18.00 24.00 9.00 32.00 14.00 27.00 6.00 38.00"),
    ("body", "BDY", 12, "12.00 16.00 22.00 8.50 28.00 6.00 19.00 32.00"),
    ("tools", "TLS", 6, "15.00 28.00 9.00 45.00 19.50 34.00 12.00"),
    ("gifts", "GFT", 6, "45.00 65.00 95.00 30.00 58.00 79.00 20.00 110.00"),
)
_GIFT_SETS: Final = ("skincare", "fragrance", "makeup", "body", "skincare", "fragrance")

CATEGORIES: Final = tuple(category for category, _, _, _ in _PRICES)
"""The categories, in the catalog's order."""


def _products() -> tuple[tuple[Product, ...], ...]:
    """The products of each category, in :data:`CATEGORIES` order."""
    shelves = []
    for category, prefix, _, prices in _PRICES:
        shelf = []
        for number, price in enumerate(prices.split(), 1):
            also = (_GIFT_SETS[(number - 1) % len(_GIFT_SETS)],) if category == "gifts" else ()
            shelf.append(Product(f"{prefix}-{number:03d}", Decimal(price), (category, *also)))
        shelves.append(tuple(shelf))
    return tuple(shelves)


CATALOG: Final = _products()
"""The products of each category (a tuple per category, in :data:`CATEGORIES` order)."""

_LINES: Final = tuple(accumulate((46, 30, 13, 6, 3, 2)))
"""Cumulative weights of a basket's number of lines, 1 to 6 (mean 1.96)."""
_UNITS: Final = tuple(accumulate((84, 12, 4)))
"""Cumulative weights of a line's quantity, 1 to 3."""
_CATEGORY: Final = tuple(accumulate(share for _, _, share, _ in _PRICES))
FAVOURITE: Final = 0.65  # float-ok
"""The share of lines of one of the member's two favourite categories."""


def _popularity(count: int) -> tuple[float, ...]:
    """Cumulative weights of a shelf's products: the first sell most."""
    return tuple(accumulate(1 / (1 + index / 3) for index in range(count)))  # float-ok


class Catalog:
    """The catalog in a currency: draws favourite categories and baskets, as cart
    lines (``sku``, ``unit_price``, ``quantity``, ``categories``)."""

    def __init__(self, currency: str) -> None:
        places = MINOR_UNITS[currency]
        step = Decimal(1).scaleb(-places)
        self._prices = tuple(
            tuple(format(product.price.quantize(step), "f") for product in shelf)
            for shelf in CATALOG
        )
        self._weights = tuple(_popularity(len(shelf)) for shelf in CATALOG)

    def favourites(self, rng: Random) -> tuple[int, int]:
        """Two different favourite categories (by index), drawn by their share."""
        first = self._category(rng)
        second = first
        while second == first:
            second = self._category(rng)
        return first, second

    def basket(self, rng: Random, favourites: tuple[int, int]) -> list[dict[str, Any]]:
        """The lines of an order: 1 to 6 different products."""
        count = bisect_right(_LINES, rng.random() * _LINES[-1]) + 1  # float-ok: a draw
        chosen: dict[tuple[int, int], int] = {}
        while len(chosen) < count:
            if rng.random() < FAVOURITE:  # float-ok: a draw
                category = favourites[0] if rng.random() < 0.5 else favourites[1]  # float-ok
            else:
                category = self._category(rng)
            weights = self._weights[category]
            product = bisect_right(weights, rng.random() * weights[-1])  # float-ok: a draw
            if (category, product) not in chosen:
                chosen[category, product] = bisect_right(_UNITS, rng.random() * _UNITS[-1]) + 1
        return [
            {
                "sku": CATALOG[category][product].sku,
                "unit_price": self._prices[category][product],
                "quantity": quantity,
                "categories": list(CATALOG[category][product].categories),
            }
            for (category, product), quantity in chosen.items()
        ]

    @staticmethod
    def _category(rng: Random) -> int:
        return bisect_right(_CATEGORY, rng.random() * _CATEGORY[-1])  # float-ok: a draw
