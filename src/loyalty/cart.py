"""The cart (or order) a shop asks about, validated at the boundary.

```python
cart = load_cart({
    "id": "C-1", "member_id": "m-42", "currency": "USD",
    "lines": [{"sku": "LIP-01", "unit_price": "12.50", "quantity": 2,
               "categories": ["makeup"], "discount": "2.00"}],
    "shipping": "4.90", "tax": "1.80",
    "customer": {"tier": "Gold", "segments": ["newsletter"], "completed_orders": 3},
})
cart.merchandise_subtotal   # Money('23.00', 'USD'): after line discounts, without gift cards
```

Amounts are given in the cart's currency as strings, ints or Decimals (or
``Money`` in that currency); a float, a negative quantity, more decimals than the
currency has, a line discount larger than its line or a ``Money`` in another
currency is refused, and so is an amount beyond 10^12 currency units, or a cart
whose lines, shipping and tax come to more. Every problem is reported at once,
each with its path, as one :class:`~loyalty.errors.InvalidCart`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_DOWN, Decimal
from functools import cached_property
from typing import Annotated, Any, Final

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
    model_validator,
)

from loyalty.boundary import problems_from
from loyalty.currencies import MINOR_UNITS
from loyalty.errors import InvalidCart, Problem, shown
from loyalty.money import MAX_AMOUNT, Money, amount_fault
from loyalty.program.types import CurrencyCode
from loyalty.text import printable

__all__ = ["MAX_COUNT", "Cart", "Customer", "Line", "load_cart", "with_segments"]

MAX_COUNT: Final = 10**9
"""The largest quantity of a line, and the largest count of completed orders."""


def _amount(value: Any, info: ValidationInfo) -> Any:
    """An amount in the cart's currency: no floats, no other currency, no extra decimals,
    nothing beyond the largest amount; ``-0`` is 0."""
    currency = (info.context or {}).get("currency")
    if isinstance(value, bool | float):
        raise ValueError(f"{value!r} is a {type(value).__name__}; give amounts as strings")
    if isinstance(value, Money):
        if currency is not None and value.currency != currency:
            raise ValueError(f"{value} is not in the cart currency {currency}")
        return value.amount
    if not isinstance(value, str | int | Decimal):
        return value  # pydantic reports it as not a number
    if isinstance(value, str) and len(value) > 100:
        raise ValueError(f"{shown(value)} is not an amount of money (too long)")
    if isinstance(value, int) and abs(value) > MAX_AMOUNT:
        raise ValueError(f"{shown(value)} {amount_fault(MAX_AMOUNT + 1)}")
    try:
        decimal = Decimal(value)
    except ArithmeticError:
        return value  # pydantic reports it as not a number
    fault = amount_fault(decimal)
    if fault is not None:
        raise ValueError(f"{shown(value)} {fault}")
    if isinstance(currency, str) and currency in MINOR_UNITS:
        exponent = Decimal(1).scaleb(-MINOR_UNITS[currency])
        if decimal != decimal.quantize(exponent, rounding=ROUND_DOWN):
            raise ValueError(f"{shown(value)} has more decimals than {currency} allows")
    return decimal if decimal else decimal.copy_abs()


Amount = Annotated[Decimal, BeforeValidator(_amount), Field(ge=0, allow_inf_nan=False)]
Label = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(printable)]
Count = Annotated[StrictInt, Field(le=MAX_COUNT)]


class _Boundary(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Line(_Boundary):
    """One line: a product, how many, at what unit price, and its discount (for the line).

    ``id`` names the line in refunds and discount lines; it defaults to the sku,
    so give ids when one sku is on two lines. ``tax`` is the line's tax, if the
    shop knows it; otherwise the cart's tax is spread over the lines.
    """

    id: Label | None = None
    sku: Label
    unit_price: Amount
    quantity: Annotated[Count, Field(ge=1)]
    discount: Amount = Decimal(0)
    categories: tuple[Label, ...] = ()
    tags: tuple[Label, ...] = ()
    gift_card: StrictBool = False
    tax: Amount | None = None

    @property
    def ref(self) -> str:
        """How refunds and discount lines name this line: its id, else its sku."""
        return self.id if self.id is not None else self.sku

    @model_validator(mode="after")
    def _discount_within_line(self) -> Line:
        if self.discount > self.gross:
            raise ValueError(f"the discount {self.discount} is more than the line's {self.gross}")
        return self

    @property
    def gross(self) -> Decimal:
        """Unit price times quantity, before the line discount."""
        return self.unit_price * self.quantity

    @property
    def net(self) -> Decimal:
        """After the line discount."""
        return self.gross - self.discount


class Customer(_Boundary):
    """What the engine needs to know about the member placing the order.

    ``tier`` and ``completed_orders`` left out (``None``) are taken from the
    member's account: its tier, and the orders recorded in its journal. A shop
    that knows better (orders placed before the member joined) gives them.
    """

    tier: Label | None = None
    segments: frozenset[Label] = frozenset()

    @field_serializer("segments")
    def _sorted(self, segments: frozenset[str]) -> list[str]:
        # A set iterates in an order that changes between processes; its dump must not
        # (a request's fingerprint is taken from it).
        return sorted(segments)
    completed_orders: Annotated[Count, Field(ge=0)] | None = Field(
        default=None, description="Completed orders before this one."
    )


class Cart(_Boundary):
    """A cart or an order: lines, shipping, tax and the customer context."""

    id: Label
    member_id: Label
    currency: CurrencyCode
    lines: tuple[Line, ...]
    shipping: Amount = Decimal(0)
    tax: Amount = Decimal(0)
    prices_include_tax: StrictBool = False
    customer: Customer = Customer()

    @field_validator("lines")
    @classmethod
    def _some_lines(cls, lines: tuple[Line, ...]) -> tuple[Line, ...]:
        if not lines:
            raise ValueError("a cart needs at least one line")
        seen: set[str] = set()
        for line in lines:
            if line.ref in seen:
                raise ValueError(
                    f"two lines are named {line.ref!r}; give each line its own id"
                )
            seen.add(line.ref)
        return lines

    @model_validator(mode="after")
    def _total_within_bound(self) -> Cart:
        gross = sum((line.gross for line in self.lines), Decimal(0)) + self.shipping + self.tax
        if gross > MAX_AMOUNT:
            raise ValueError(
                f"the cart's lines, shipping and tax come to {gross:,f}, beyond the largest "
                f"amount of money taken ({MAX_AMOUNT:,f})"
            )
        return self

    @model_validator(mode="after")
    def _included_tax_within_prices(self) -> Cart:
        """Tax included in the prices is part of them: never more than they come to."""
        if not self.prices_include_tax:
            return self
        for line in self.lines:
            if line.tax is not None and line.tax > line.net:
                raise ValueError(
                    f"line {line.ref!r}: its tax {line.tax} is included in its price, "
                    f"so it cannot be more than the line's {line.net}"
                )
        nets = sum((line.net for line in self.lines), Decimal(0))
        if not all(line.tax is not None for line in self.lines) and self.tax > nets:
            raise ValueError(
                f"the tax {self.tax} is included in the prices, so it cannot be more "
                f"than the lines come to ({nets})"
            )
        return self

    def line(self, ref: str) -> Line | None:
        """The line named ``ref`` (its id, else its sku), if any."""
        return next((line for line in self.lines if line.ref == ref), None)

    def money(self, amount: Decimal) -> Money:
        """``amount`` as Money in the cart's currency."""
        return Money.rounded(amount, self.currency)

    @cached_property
    def subtotal(self) -> Money:
        """Every line after its discount, gift cards included."""
        return self.money(sum((line.net for line in self.lines), Decimal(0)))

    @cached_property
    def merchandise_subtotal(self) -> Money:
        """Lines after their discounts, without gift-card purchases (what usually earns)."""
        return self.money(sum((line.net for line in self.lines if not line.gift_card), Decimal(0)))

    @cached_property
    def total(self) -> Money:
        """What the customer pays: lines, shipping and, unless prices include it, tax."""
        tax = Decimal(0) if self.prices_include_tax else self.tax
        return self.money(self.subtotal.amount + self.shipping + tax)


def load_cart(data: Mapping[str, Any] | Cart) -> Cart:
    """Validate a cart from a mapping (e.g. a shop's JSON); every problem at once.

    Raises :class:`~loyalty.errors.InvalidCart` listing each problem with its path.
    """
    if isinstance(data, Cart):
        return data
    if not isinstance(data, Mapping):
        raise InvalidCart([Problem("", "a cart is a mapping of keys", data)])
    currency = data.get("currency")
    try:
        return Cart.model_validate(dict(data), context={"currency": currency})
    except ValidationError as error:
        raise InvalidCart(problems_from(error, data, Cart)) from None


def with_segments(cart: Cart, segments: Iterable[str]) -> Cart:
    """``cart`` with the member's ``segments`` when its customer names none."""
    tags = frozenset(segments)
    if cart.customer.segments or not tags:
        return cart
    customer = cart.customer.model_copy(update={"segments": tags})
    return cart.model_copy(update={"customer": customer})
