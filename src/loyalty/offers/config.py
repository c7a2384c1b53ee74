"""The ``offers`` section: discounts that cost no points and apply by themselves.

```yaml
offers:
  catalog:
  - {id: skincare-20, kind: percent_off, percent: 20,
     products: {categories: [skincare]}, max_items: 1, max_amount: "15.00"}
  - {id: three-for-two, kind: buy_x_get_y, buy: {units: 2}, get: {units: 1},
     products: {skus: [SOAP-01]}, limit: 5}           # of every 3 units, 1 is free
  - {id: lip-with-cream, kind: buy_x_get_y, buy: {units: 2, products: {skus: [CRM-02]}},
     get: {units: 1, products: {skus: [LIP-01]}, percent: 50}}
  - {id: tote-above-50, kind: free_product, sku: TOTE-01,
     conditions: {min_basket: "50.00"}}
  - {id: ship-free-35, kind: free_shipping, conditions: {min_basket: "35.00"},
     audience: {segments: [newsletter]}}
  - {id: five-from-2, kind: percent_off, percent: 5, group: volume,
     conditions: {min_units: 2}}
```

Each offer may give ``valid`` dates and an ``audience`` (a member outside either
does not see it), ``conditions`` (any hurdle; checked on the cart as the
discounts applied before it left it, so "add 4.50 USD for free shipping" counts
what the customer will pay), and the stacking fields of
:class:`~loyalty.stacking.config.Stackable`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from loyalty.errors import Problem
from loyalty.hurdles import Condition
from loyalty.incentives.audience import Audience
from loyalty.program.amounts import Amount, Count
from loyalty.program.types import DateRange, Percent, Section, Selector
from loyalty.stacking.config import AmountAllocation, Stackable

__all__ = [
    "AmountOffer",
    "BuyXGetY",
    "FreeProductOffer",
    "FreeShippingOffer",
    "Offer",
    "OffersConfig",
    "PercentOffer",
]

OfferId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", max_length=64)]
Pick = Literal["cheapest", "dearest"]


class _Offer(Stackable):
    id: OfferId
    """Identifies the offer in quotes and in the discounts applied to an order; unique in the
    catalog."""
    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    """What shoppers see: the offer's name in quotes, beside what it took off or why it did not
    apply; its ``id`` if omitted."""
    valid: DateRange | None = Field(default=None, description="When it applies.")
    audience: Audience | None = Field(default=None, description="Who sees it.")
    conditions: Condition | None = Field(
        default=None, description="Hurdles the cart must meet, after the discounts before it."
    )

    @property
    def label(self) -> str:
        return self.title or self.id


class PercentOffer(_Offer):
    """A percentage off the cart, or off selected products."""

    kind: Literal["percent_off"]
    """``percent_off``: ``percent`` off the merchandise, or off ``products``, up to
    ``max_amount``."""
    percent: Percent
    """The percentage taken off the matching units."""
    products: Selector | None = None
    """The products it discounts; the whole merchandise if omitted."""
    max_amount: Amount | None = Field(default=None, description="A cap in money.")
    max_items: Count | None = Field(
        default=None, description="At most this many units get the rate (never a higher rate)."
    )
    pick: Pick = Field(default="cheapest", description="Which units, under max_items.")


class AmountOffer(_Offer):
    """A fixed amount off the cart or selected products: spread ``across`` them, off
    ``each`` unit, or off the ``cheapest_once``."""

    kind: Literal["amount_off"]
    """``amount_off``: a fixed ``amount`` off the merchandise or off ``products``, spread as
    ``allocation`` says."""
    amount: Amount
    """The money off, in the program currency: in all, or per unit with ``allocation: each``."""
    products: Selector | None = None
    """The products it discounts; the whole merchandise if omitted."""
    allocation: AmountAllocation = AmountAllocation.ACROSS
    """How the amount spreads: ``across`` the units in proportion to their price, off ``each`` unit,
    or off the ``cheapest_once``."""
    max_items: Count | None = None
    """At most this many units are discounted, chosen by ``pick``; all matching units if omitted."""
    pick: Pick = "cheapest"
    """Which units get the discount when ``max_items`` limits them: the ``cheapest`` or the
    ``dearest``."""


class Units(Section):
    units: Count
    """How many units of the products."""
    products: Selector | None = None
    """Which products these units are of. If omitted: for ``buy``, the offer's ``products`` (any
    product if it names none); for ``get``, the same products as ``buy``."""


class GetUnits(Units):
    percent: Percent = Field(default=Decimal(100), description="Off each unit got (100: free).")


class BuyXGetY(_Offer):
    """Buy ``buy.units``, get ``get.units`` at ``get.percent`` off; repeated while the
    cart allows, at most ``limit`` times. Units got are the cheapest eligible."""

    kind: Literal["buy_x_get_y"]
    """``buy_x_get_y``: buy ``buy.units``, get ``get.units`` at ``get.percent`` off, repeated while
    the cart allows, at most ``limit`` times."""
    buy: Units
    """The units to buy for each round: ``{units: 2}``, or of some products:
    ``{units: 2, products: {skus: [CRM-02]}}``."""
    get: GetUnits
    """The units got each round, and the ``percent`` off them (100, free, if omitted)."""
    products: Selector | None = Field(
        default=None, description="Both sides' products when they name none."
    )
    limit: Count | None = None
    """Most rounds on one cart; as many as the cart allows if omitted."""
    free: Pick = Field(default="cheapest", description="Which eligible units are got.")


class FreeProductOffer(_Offer):
    """``units`` units of ``sku`` free (a gift above a threshold: with ``conditions``).
    The gift must be in the cart; a quote says to add it."""

    kind: Literal["free_product"]
    """``free_product``: ``units`` units of ``sku`` free; the product must be in the cart (a quote
    says to add it)."""
    sku: Annotated[str, Field(min_length=1, max_length=100)]
    """The free product's sku."""
    units: Count = 1
    """How many units of ``sku`` are free."""


class FreeShippingOffer(_Offer):
    """The order's shipping free, or cheaper by at most ``max_amount`` (usually with
    ``conditions`` such as a minimum basket)."""

    kind: Literal["free_shipping"]
    """``free_shipping``: the order's shipping free, or cheaper by at most ``max_amount``."""
    max_amount: Amount | None = None
    """Most shipping it pays, in the program currency; all of it if omitted."""


Offer = Annotated[
    PercentOffer | AmountOffer | BuyXGetY | FreeProductOffer | FreeShippingOffer,
    Field(discriminator="kind"),
]
"""One entry of the ``offers`` catalog: a :class:`PercentOffer`, :class:`AmountOffer`,
:class:`BuyXGetY`, :class:`FreeProductOffer` or :class:`FreeShippingOffer`, told apart by
its ``kind`` (``percent_off``, ``amount_off``, ``buy_x_get_y``, ``free_product``,
``free_shipping``). An unknown ``kind`` is refused, naming the ones there are."""


class OffersConfig(Section):
    """Discounts that cost no points and apply by themselves to every cart they fit:
    the ``catalog`` of offers, each with a unique ``id``. Each may be limited by dates,
    an audience and hurdles, and stacks with the rest by its group and priority."""

    catalog: tuple[Offer, ...] = ()
    """The offers that apply by themselves to every cart they fit, each told apart by its ``kind``;
    ids are unique."""

    def problems(self) -> list[Problem]:
        """What is wrong across the catalog (an id used twice), each with its path."""
        found = []
        seen: set[str] = set()
        for index, offer in enumerate(self.catalog):
            if offer.id in seen:
                found.append(Problem(f"catalog[{index}].id", f"{offer.id!r} is used twice",
                                     offer.id))
            seen.add(offer.id)
        return found
