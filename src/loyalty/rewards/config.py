"""The ``rewards`` section: the catalog of what points buy.

```yaml
rewards:
  returned_points_expire_after: 6 months   # points given back on a cancelled order
  catalog:
    - id: five-off
      kind: amount_off
      amount: "5.00"
      cost: 100
      hurdles: {all_of: [{repeat_order: 1}, {min_basket: "10.00"}]}
    - {id: twenty-pct-skincare, kind: percent_off, percent: 20,
       products: {categories: [skincare]}, max_amount: "15.00", cost: 250}
    - {id: free-shipping, kind: free_shipping, cost: 0,
       hurdles: {all_of: [{segment: vip}, {min_basket: "35.00"}]}}
    - {id: full-size-gift, kind: free_product, choices: [SER-01, CRM-02], cost: 400,
       stock: 500, valid: {ends: 2026-12-31}, tiers: [Gold]}
    - {id: pay-with-points, kind: pay_with_points, points: 100, value: "1.00", step: 100,
       hurdles: {max_points_share: {percent: 50}}}
```

Every reward also takes the stacking fields (``group``, ``priority``, ``basis``,
``combines_with``: see :mod:`loyalty.stacking.config`) and ``per_cart``: how
many times it can be redeemed on one cart (once, unless it says otherwise).

Every reward has a point ``cost`` (or, to pay with points, a conversion
``points`` = ``value`` and a ``step``), optional ``valid`` dates, a ``tiers``
restriction (only members of those tiers see it; a tier's ``benefits.rewards``
adds to it), an optional ``stock`` shared by all members, and ``hurdles``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from loyalty.errors import Problem
from loyalty.hurdles import Condition
from loyalty.incentives.audience import Audience
from loyalty.program.amounts import Amount, Count, Points, PointsOrZero
from loyalty.program.types import DateRange, DurationText, Percent, Section, Selector
from loyalty.stacking.config import Stackable

__all__ = [
    "AmountOff",
    "FreeProduct",
    "FreeShipping",
    "PayWithPoints",
    "PercentOff",
    "Reward",
    "RewardsConfig",
]

RewardId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", max_length=64)]


class _Reward(Stackable):
    id: RewardId
    """Identifies the reward: ``redeem`` and quotes name it by this id; unique in the catalog."""
    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    """What shoppers see: the reward's name in quotes and in the statement entry of a redemption
    (``Free serum on order 1001``); its ``id`` if omitted."""
    valid: DateRange | None = Field(default=None, description="When it can be redeemed.")
    tiers: tuple[str, ...] = Field(
        default=(), description="Only members in these tiers see it (all if empty)."
    )
    stock: Count | None = Field(
        default=None, description="How many can be redeemed in all, by all members together."
    )
    hurdles: Condition | None = None
    """Conditions the member and cart must meet to redeem it (``min_basket``, ``repeat_order``...),
    usually ``all_of`` a list; a quote lists each unmet one with its reason."""
    audience: Audience | None = Field(
        default=None, description="Who sees it: others do not see it at all (see audience)."
    )
    per_cart: Count = Field(default=1, description="How many times it applies on one cart.")

    @property
    def label(self) -> str:
        return self.title or self.id


class _Fixed(_Reward):
    cost: PointsOrZero = Field(description="Points it costs.")


class AmountOff(_Fixed):
    """A fixed amount off the merchandise (never more than it)."""

    kind: Literal["amount_off"]
    """``amount_off``: a fixed ``amount`` off the merchandise, for ``cost`` points."""
    amount: Amount = Field(description="In the program currency.")


class PercentOff(_Fixed):
    """A percentage off the merchandise, or off some products, up to ``max_amount``."""

    kind: Literal["percent_off"]
    """``percent_off``: ``percent`` off the merchandise (or off ``products``), up to ``max_amount``,
    for ``cost`` points."""
    percent: Percent
    """The percentage taken off the matching units."""
    products: Selector | None = None
    """The products it discounts; the whole merchandise if omitted."""
    max_amount: Amount | None = None
    """Most money it takes off one order, in the program currency; no limit if omitted."""
    max_items: Count | None = Field(
        default=None, description="At most this many units get the rate (never a higher rate)."
    )
    pick: Literal["cheapest", "dearest"] = "cheapest"
    """Which units get the rate when ``max_items`` limits them: the ``cheapest`` or the ``dearest``
    matching units."""


class FreeShipping(_Fixed):
    """The order's shipping, up to ``max_amount``."""

    kind: Literal["free_shipping"]
    """``free_shipping``: the order's shipping, up to ``max_amount``, for ``cost`` points."""
    max_amount: Amount | None = None
    """Most shipping it pays, in the program currency; all of it if omitted."""


class FreeProduct(_Fixed):
    """``units`` units of a product the member picks from ``choices`` (it must be in
    the cart) for each ``cost``: "2 free units per 3 points". A member may ask for
    more units at once: ``n`` units cost ``ceil(n / units) * cost``."""

    kind: Literal["free_product"]
    """``free_product``: ``units`` units of a product the member picks from ``choices``, for each
    ``cost`` points."""
    choices: tuple[Annotated[str, Field(min_length=1)], ...] = Field(min_length=1)
    """Skus the member may pick the free product from; the chosen one must be in the cart."""
    units: Count = Field(default=1, description="Units given for each cost.")

    def cost_of(self, units: int) -> int:
        """The points ``units`` free units cost."""
        return -(-units // self.units) * self.cost


class PayWithPoints(_Reward):
    """Points as money: ``points`` points are worth ``value``; the member picks how many
    points to use, in multiples of ``step``."""

    kind: Literal["pay_with_points"]
    """``pay_with_points``: points as money, ``points`` points worth ``value``; applied last, as a
    tender, on what is left to pay."""
    points: Points
    """How many points are worth ``value``: ``points: 100, value: '1.00'`` makes each point worth
    0.01."""
    value: Amount
    """What ``points`` points are worth, in the program currency."""
    step: Count = 1
    """The member uses points in multiples of this; other amounts are refused."""
    min_points: PointsOrZero = 0
    """Fewest points one payment may use; a multiple of ``step``."""


Reward = Annotated[
    AmountOff | PercentOff | FreeShipping | FreeProduct | PayWithPoints,
    Field(discriminator="kind"),
]
"""One entry of the rewards catalog, bought with points: an :class:`AmountOff`,
:class:`PercentOff`, :class:`FreeShipping`, :class:`FreeProduct` or
:class:`PayWithPoints`, told apart by its ``kind`` (``amount_off``, ``percent_off``,
``free_shipping``, ``free_product``, ``pay_with_points``). An unknown ``kind`` is
refused, naming the ones there are."""


class RewardsConfig(Section):
    """The catalog, and what happens to points given back when an order is refunded."""

    returned_points_expire_after: DurationText | None = Field(
        default=None,
        description="How long points given back on a refunded order stay usable; "
        "if omitted, they expire like freshly earned points.",
    )
    catalog: tuple[Reward, ...] = ()
    """The rewards members can buy with points, each told apart by its ``kind``; ids are unique."""

    def problems(self) -> list[Problem]:
        """What is wrong across the catalog (an id used twice, a ``min_points`` that is not
        a multiple of ``step``), each with its path."""
        found = []
        ids = [reward.id for reward in self.catalog]
        for index, reward_id in enumerate(ids):
            if reward_id in ids[:index]:
                found.append(
                    Problem(f"catalog[{index}].id", f"{reward_id!r} is used twice", reward_id)
                )
        for index, reward in enumerate(self.catalog):
            if isinstance(reward, PayWithPoints) and reward.min_points % reward.step:
                found.append(
                    Problem(
                        f"catalog[{index}].min_points",
                        f"{reward.min_points} is not a multiple of step {reward.step}",
                        reward.min_points,
                    )
                )
        return found

    def get(self, reward_id: str) -> Reward | None:
        """The reward ``reward_id`` of the catalog, or ``None``."""
        return next((reward for reward in self.catalog if reward.id == reward_id), None)
