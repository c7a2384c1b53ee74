"""The program: the root of a configuration, one field per section.

Adding a section is local: write its model in a module of its own and add one
field here. Checks that need the whole section (a ladder's thresholds must
increase) go in the section's ``problems()`` method, and advice in its
``warnings()``; the loader calls them with every section's path.
"""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import Field

from loyalty.dates import zone
from loyalty.earning.config import EarningPolicy
from loyalty.incentives.config import IncentivesConfig
from loyalty.money import Rounding
from loyalty.offers.config import OffersConfig
from loyalty.program.policies import (
    Clawback,
    ExpiryPolicy,
    NoExpiry,
    PendingPolicy,
)
from loyalty.program.types import CurrencyCode, Section, TimezoneName
from loyalty.rewards.config import RewardsConfig
from loyalty.stacking.config import StackingConfig
from loyalty.tiers.config import TiersConfig

__all__ = ["Program"]

ProgramId = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$",
        max_length=64,
        description="A stable identifier: letters, digits, '_', '.', ':' and '-'.",
    ),
]


class Program(Section):
    """A loyalty program's configuration. Load one with :func:`loyalty.load_program`."""

    id: ProgramId
    name: Annotated[str, Field(min_length=1, max_length=200)]
    """A display name for people: simulation reports and their charts label a variant with it."""
    currency: CurrencyCode = Field(description="The program currency (ISO 4217).")
    timezone: TimezoneName = Field(
        description="IANA timezone for calendar boundaries (end of day, month, year)."
    )
    rounding: Rounding = Field(
        default=Rounding.FLOOR, description="How money converts to whole points."
    )
    earning: EarningPolicy = EarningPolicy()
    """How orders and actions become points: the base ``rate`` and its ``basis``, ``rules``,
    ``caps``, other ``currencies`` and ``actions``. One point per unit of the program currency if
    omitted."""
    pending: PendingPolicy = PendingPolicy()
    """How long earned points stay pending (locked, not yet spendable) so a return can take them
    back; none if omitted."""
    expiry: ExpiryPolicy = Field(default=NoExpiry(), description="When points expire.")
    clawback: Clawback = Field(
        default=Clawback.NEGATIVE_BALANCE,
        description="What reversing already-spent points does: a debt, or a write-off.",
    )
    tiers: TiersConfig | None = Field(default=None, description="The tier ladder, if any.")
    rewards: RewardsConfig = Field(
        default=RewardsConfig(), description="The rewards catalog: what points buy."
    )
    incentives: IncentivesConfig = Field(
        default_factory=IncentivesConfig,
        description="Incentives: triggers, audiences, grant bundles, limits and windows.",
    )
    offers: OffersConfig = Field(
        default_factory=OffersConfig,
        description="Offers: discounts that cost no points and apply by themselves.",
    )
    stacking: StackingConfig = Field(
        default_factory=StackingConfig,
        description="How discounts combine: groups, per-order caps, application order.",
    )

    def __repr__(self) -> str:
        tiers = len(self.tiers.ladder) if self.tiers else 0
        return (
            f"<Program {self.id}: {self.currency}, {self.timezone}, "
            f"{_count(len(self.earning.rules), 'earning rule')}, {_count(tiers, 'tier')}, "
            f"{_count(len(self.rewards.catalog), 'reward')}>"
        )

    __str__ = __repr__

    @property
    def tz(self) -> ZoneInfo:
        """The program's timezone."""
        return zone(self.timezone)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'s' * (number != 1)}"
