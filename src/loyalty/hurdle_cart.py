"""What the hurdles measure of a cart: its amount on a basis, and its units and
different products among selected lines.

These are plain functions of the cart (and of the loyalty discounts already on it),
kept apart from the conditions in :mod:`loyalty.hurdles` so that other rules that
measure a cart the same way (offers) count exactly as the hurdles do.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from loyalty.money import Money
from loyalty.program.types import Selector

if TYPE_CHECKING:
    from loyalty.cart import Cart, Line

__all__ = ["Basis", "counted_lines", "items_in", "measure", "units_in"]

_ZERO = Decimal(0)


class Basis(StrEnum):
    """Which amount of the cart a basket threshold or a share is measured on."""

    MERCHANDISE = "merchandise"
    """Lines after their discounts, without gift cards."""
    SUBTOTAL = "subtotal"
    """Every line after its discount."""
    TOTAL = "total"
    """What the customer pays, shipping and tax included."""


def measure(
    cart: Cart, basis: Basis, reductions: Mapping[str, Decimal], shipping_off: Decimal
) -> Money:
    """The cart's amount on ``basis``, after the loyalty discounts already on it
    (``reductions`` per line ref, ``shipping_off`` on the shipping; cart currency)."""
    if not reductions and not shipping_off:
        if basis is Basis.MERCHANDISE:
            return cart.merchandise_subtotal
        return cart.subtotal if basis is Basis.SUBTOTAL else cart.total
    amount = sum(
        (
            max(line.net - reductions.get(line.ref, _ZERO), _ZERO)
            for line in cart.lines
            if basis is not Basis.MERCHANDISE or not line.gift_card
        ),
        _ZERO,
    )
    if basis is Basis.TOTAL:
        amount += max(cart.shipping - shipping_off, _ZERO)
        amount += _ZERO if cart.prices_include_tax else cart.tax
    return cart.money(amount)


def counted_lines(cart: Cart, products: Selector | None = None) -> Iterator[Line]:
    """The lines a quantity condition counts: those ``products`` selects (every line if
    ``None``), never a gift card (it is not merchandise). Lines as given: a loyalty
    discount on a unit does not take it out of the count."""
    if products is None:
        return (line for line in cart.lines if not line.gift_card)
    matches = products.matches
    return (
        line
        for line in cart.lines
        if not line.gift_card and matches(line.sku, line.categories, line.tags)
    )


def units_in(cart: Cart, products: Selector | None = None) -> int:
    """How many units of ``products`` the cart holds (see :func:`counted_lines`)."""
    return sum(line.quantity for line in counted_lines(cart, products))


def items_in(cart: Cart, products: Selector | None = None) -> int:
    """How many different products (skus) of ``products`` the cart holds: two lines of
    one sku are one product."""
    return len({line.sku for line in counted_lines(cart, products)})
