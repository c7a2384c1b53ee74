"""The ``stacking`` section: how discounts combine on one order.

```yaml
stacking:
  order: [line, cart_percent, cart_amount, shipping]   # the default application order
  groups:
    - {id: summer-sale, mode: exclusive}     # nothing else applies with one of these
    - {id: volume, mode: best_of}            # only the best one of these applies
    - {id: default, mode: stackable}         # every one may apply (the group by default)
  caps: {max_amount: "30.00", max_percent: 30, max_discounts: 3}
```

Every reward, coupon and offer names its ``group`` (``default`` if it names none)
and may give a ``priority`` (higher first within its class; then by id), a
``basis`` (``discounted``: it sees the cart after the discounts applied before
it; ``initial``: a percentage of the prices before them) and the ids it
``combines_with`` (line discounts only: units one consumed are closed to another
unless either names the other). Tenders (points as payment) apply last and do
not count toward the caps.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, field_validator

from loyalty.errors import Problem
from loyalty.program.amounts import Amount, Count
from loyalty.program.types import Percent, Section

__all__ = [
    "DEFAULT_GROUP",
    "AmountAllocation",
    "Basis",
    "Caps",
    "Group",
    "GroupMode",
    "Stackable",
    "StackingConfig",
    "Stage",
]

DEFAULT_GROUP = "default"
GroupId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", max_length=64)]


class Stage(StrEnum):
    """The classes of discount, applied one class after another."""

    LINE = "line"
    """On units of selected products: percent or amount off them, free units, buy X get Y."""
    CART_PERCENT = "cart_percent"
    """A percentage off the whole cart."""
    CART_AMOUNT = "cart_amount"
    """A fixed amount off the whole cart."""
    SHIPPING = "shipping"
    """Free or cheaper shipping."""
    TENDER = "tender"
    """Points as payment: always last, on what is left to pay."""


class GroupMode(StrEnum):
    """How the discounts of one stacking group combine with each other and with the rest."""

    STACKABLE = "stackable"
    """Its members apply with each other and with other groups."""
    EXCLUSIVE = "exclusive"
    """One of its members applies alone: nothing else applies with it."""
    BEST_OF = "best_of"
    """At most one of its members applies: the one worth most on the cart."""


class Basis(StrEnum):
    DISCOUNTED = "discounted"
    """A percentage of what is left after the discounts applied before it."""
    INITIAL = "initial"
    """A percentage of the prices before any loyalty discount (still never more than is left)."""


class AmountAllocation(StrEnum):
    """How a fixed amount off spreads over the units it covers."""

    ACROSS = "across"
    """The amount spread over the units, in proportion to what is left of each
    (largest remainder: the minor units left after rounding down go one each to the
    largest remainders, ties to the later unit)."""
    EACH = "each"
    """The amount off each unit."""
    CHEAPEST_ONCE = "cheapest_once"
    """The amount off the cheapest unit, once."""


class Group(Section):
    """A stacking group that rewards, coupons and offers name with ``group``: its ``mode``
    says whether its members apply together (``stackable``), alone (``exclusive``) or
    only the best one (``best_of``). One that names no group is in ``default``
    (stackable unless listed here); naming a group that is not listed is refused."""

    id: GroupId
    """The name rewards, coupons and offers give in their ``group``; unique among the groups.
    Listing ``default`` changes the group of those that name none."""
    mode: GroupMode = GroupMode.STACKABLE
    """How its members combine: ``stackable`` (with each other and with other groups), ``exclusive``
    (one member applies alone, nothing else with it) or ``best_of`` (only the member worth most on
    the cart applies)."""
    priority: int = Field(
        default=0, ge=-1000, le=1000, description="The priority of its members that give none."
    )


class Caps(Section):
    """Per-order caps on the discounts together (tenders excluded), shipping included."""

    max_amount: Amount | None = Field(default=None, description="In the program currency.")
    max_percent: Percent | None = Field(
        default=None, description="Of the merchandise subtotal (before loyalty discounts)."
    )
    max_discounts: Count | None = Field(default=None, description="Discounts applied at most.")


_DEFAULT = Group(id=DEFAULT_GROUP)
_DEFAULT_ORDER = (Stage.LINE, Stage.CART_PERCENT, Stage.CART_AMOUNT, Stage.SHIPPING)


class StackingConfig(Section):
    """How discounts combine on one order: the ``order`` the classes of discount apply
    in (each class once; tenders always last), the ``groups`` and their modes, and
    per-order ``caps`` on all discounts together. Without it every discount stacks in
    the default order, uncapped."""

    order: tuple[Stage, ...] = Field(
        default=_DEFAULT_ORDER,
        description="The application order of the classes of discount (tenders come last).",
    )
    groups: tuple[Group, ...] = ()
    """The stacking groups and their modes; a reward, coupon or offer naming a group not listed here
    (other than ``default``) is refused."""
    caps: Caps = Caps()
    """Caps per order on all discounts together (tenders aside, shipping included); uncapped if
    omitted."""

    @field_validator("order")
    @classmethod
    def _every_class_once(cls, order: tuple[Stage, ...]) -> tuple[Stage, ...]:
        wanted = set(_DEFAULT_ORDER)
        if Stage.TENDER in order:
            raise ValueError("tenders always apply last; leave 'tender' out")
        if len(order) != len(set(order)) or set(order) != wanted:
            raise ValueError(
                "name each of line, cart_percent, cart_amount and shipping exactly once"
            )
        return order

    def problems(self) -> list[Problem]:
        """What is wrong across the groups (an id used twice), each with its path."""
        found = []
        seen: set[str] = set()
        for index, group in enumerate(self.groups):
            if group.id in seen:
                found.append(
                    Problem(f"groups[{index}].id", f"{group.id!r} is used twice", group.id)
                )
            seen.add(group.id)
        return found

    def group(self, group_id: str) -> Group:
        """The group ``group_id`` (``default`` and unknown ones are stackable, priority 0)."""
        for group in self.groups:
            if group.id == group_id:
                return group
        return _DEFAULT if group_id == DEFAULT_GROUP else Group(id=group_id)

    def known(self, group_id: str) -> bool:
        """Is ``group_id`` ``default`` or one of the ``groups``?"""
        return group_id == DEFAULT_GROUP or any(g.id == group_id for g in self.groups)


class Stackable(Section):
    """What every reward, coupon offer and offer says about combining with others."""

    group: GroupId = Field(default=DEFAULT_GROUP, description="Its stacking group.")
    priority: int | None = Field(
        default=None, ge=-1000, le=1000,
        description="Higher applies first within its class (its group's if not given).",
    )
    basis: Basis = Basis.DISCOUNTED
    """What a percentage is taken of: ``discounted`` (what is left after the discounts applied
    before it) or ``initial`` (the prices before any loyalty discount, still never more than is
    left). Fixed amounts ignore it."""
    combines_with: tuple[GroupId, ...] = Field(
        default=(),
        description="Line discounts whose units this one may discount again (either naming "
        "the other is enough).",
    )
