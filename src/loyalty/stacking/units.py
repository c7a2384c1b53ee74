"""A cart as units, each knowing what is left of its price and which discounts took it.

Units of one line at one price are kept together as a :class:`Slot` (a line of
10^9 units is one slot, not 10^9 objects); a discount on some of them splits the
slot. Prices are whole minor units; a slot's ``initial`` and ``left`` are totals
over its units, so they split exactly (the first part gets its share rounded
down, the rest the remainder).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction
from typing import Any

from loyalty.cart import Cart, Line
from loyalty.currencies import MINOR_UNITS

__all__ = ["Slot", "Units", "allocate", "minor", "unit_count"]


def minor(amount: Decimal, currency: str) -> int:
    """``amount`` in whole minor units of ``currency``, rounded down."""
    return int(amount.scaleb(MINOR_UNITS[currency]).to_integral_value(rounding=ROUND_FLOOR))


@dataclass(slots=True, eq=False)
class Slot:
    """``count`` like units of one line: their price before loyalty discounts
    (``initial``) and what is left of it (``left``), both totals in minor units, and
    the line discounts that consumed them. Not changed once shared: a pass replaces
    the slots it takes from."""

    line: Line
    position: int
    """The line's place in the cart (ties in price go to the earlier line)."""
    count: int
    initial: int
    left: int
    taken_by: tuple[Any, ...] = ()
    """The line discounts (candidates) that consumed them."""

    def unit_price(self) -> Fraction:
        return Fraction(self.initial, self.count)

    def split(self, units: int) -> tuple[Slot, Slot]:
        """The first ``units`` of this slot (0 < units < count), and the rest."""
        initial = self.initial * units // self.count
        left = self.left * units // self.count
        first = Slot(self.line, self.position, units, initial, left, self.taken_by)
        rest = Slot(
            self.line,
            self.position,
            self.count - units,
            self.initial - initial,
            self.left - left,
            self.taken_by,
        )
        return first, rest


class Units:
    """Every discountable unit of a cart (gift cards are never discounted) and the
    shipping left to pay, as the discounts of one stack apply."""

    __slots__ = ("currency", "shipping", "slots")

    def __init__(self, slots: list[Slot], shipping: int, currency: str) -> None:
        self.slots = slots
        self.shipping = shipping
        self.currency = currency

    @classmethod
    def of(cls, cart: Cart, shipping_off: Decimal = Decimal(0)) -> Units:
        currency = cart.currency
        slots = [
            Slot(line, index, line.quantity, net, net)
            for index, line in enumerate(cart.lines)
            if not line.gift_card and (net := minor(line.net, currency)) >= 0
        ]
        shipping = max(minor(cart.shipping - shipping_off, currency), 0)
        return cls(slots, shipping, currency)

    def copy(self) -> Units:
        """Another pass over the same units (slots are never changed once made: a
        discount replaces those it takes from, a split the one it divides)."""
        return Units(list(self.slots), self.shipping, self.currency)

    def left(self) -> int:
        return sum(slot.left for slot in self.slots)

    def initial(self) -> int:
        return sum(slot.initial for slot in self.slots)

    def reductions(self) -> dict[str, Decimal]:
        """What the loyalty discounts took off each line so far, in the cart currency."""
        taken: dict[str, int] = {}
        for slot in self.slots:
            if slot.initial != slot.left:
                ref = slot.line.ref
                taken[ref] = taken.get(ref, 0) + slot.initial - slot.left
        digits = MINOR_UNITS[self.currency]
        return {ref: Decimal(amount).scaleb(-digits) for ref, amount in taken.items()}

    def pick(self, eligible: Sequence[Slot], units: int, *, dearest: bool = False) -> list[Slot]:
        """The ``units`` cheapest (or dearest) of ``eligible`` (slots of this cart),
        splitting the slot at the boundary; fewer if there are not so many."""
        ranked = sorted(
            eligible,
            key=lambda s: (-s.unit_price() if dearest else s.unit_price(), s.position),
        )
        chosen: list[Slot] = []
        for slot in ranked:
            if units <= 0:
                break
            if slot.count > units:
                first, rest = slot.split(units)
                at = self.slots.index(slot)
                self.slots[at : at + 1] = [first, rest]
                slot = first
            chosen.append(slot)
            units -= slot.count
        return chosen


def allocate(total: int, rooms: Sequence[int]) -> list[int]:
    """``total`` (at most the sum of ``rooms``) in proportion to ``rooms``, by largest
    remainder: each share rounded down, then one minor unit more to the shares with
    the largest remainders (ties to the later one), none above its room."""
    capacity = sum(rooms)
    if total <= 0 or capacity <= 0:
        return [0] * len(rooms)
    total = min(total, capacity)
    shares = [total * room // capacity for room in rooms]
    left = total - sum(shares)
    order = sorted(
        range(len(rooms)), key=lambda i: (total * rooms[i] % capacity, i), reverse=True
    )
    for index in order:
        if not left:
            break
        if shares[index] < rooms[index]:
            shares[index] += 1
            left -= 1
    for index in range(len(rooms) - 1, -1, -1):  # rooms too full for one each
        if not left:
            break
        extra = min(left, rooms[index] - shares[index])
        shares[index] += extra
        left -= extra
    return shares


def unit_count(slots: Iterable[Slot]) -> int:
    return sum(slot.count for slot in slots)
