"""The ``tiers`` section: a ladder of tiers, how members qualify, and how they keep them.

```yaml
tiers:
  metrics: [net_spend, orders]   # points | net_spend | orders | balance, one or more
  match: any                     # any: one threshold is enough; all: every threshold
  window: calendar_year          # lifetime | calendar_year | anniversary | {rolling: 12 months}
  count_pending_points: true     # do points still in the return window count?
  retention: 1                   # completed periods whose qualification keeps a tier at review
  grace: 30 days                 # a downgrade decided at review takes effect this much later
  downgrade: one_step            # one_step | to_qualified
  downgrade_mode: at_review      # at_review | automatic | never
  qualify_on: net                # net: refunds lower the figures; gross: they do not
  ladder:
    - name: Member               # the entry tier: no threshold
    - name: Gold
      threshold: {net_spend: 500, orders: 10}
      benefits: {earn_multiplier: 1.5, free_shipping: true}
```
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator, model_validator

from loyalty.dates import Duration
from loyalty.errors import Problem
from loyalty.program.amounts import AmountOrZero, PointsOrZero, Threshold
from loyalty.program.types import DurationText, PositiveDecimal, Section

__all__ = [
    "Benefits",
    "Downgrade",
    "DowngradeMode",
    "Match",
    "QualifyOn",
    "Tier",
    "TierMetric",
    "TiersConfig",
    "Window",
    "WindowKind",
]


class TierMetric(StrEnum):
    """What a member's status is measured by."""

    POINTS = "points"
    """Qualifying points: points earned minus points reversed (manual credits do not count)."""
    NET_SPEND = "net_spend"
    """Order value minus refunds, in the program currency."""
    ORDERS = "orders"
    """Completed orders; an order refunded in full no longer counts."""
    BALANCE = "balance"
    """The points the member holds now: available (and pending, when pending points
    count) less any debt. It has no window: it is read as it stands."""


class Match(StrEnum):
    """How a tier's thresholds combine, when it has more than one metric."""

    ANY = "any"
    """A tier is reached when any one of its thresholds is met ("500 spend or 10 orders")."""
    ALL = "all"
    """A tier is reached only when every threshold is met."""


class WindowKind(StrEnum):
    """The span of time whose facts a member qualifies on: the ``kind`` of the tiers'
    ``window``."""

    LIFETIME = "lifetime"
    """Everything since enrolment; reviewed every 1 January."""
    CALENDAR_YEAR = "calendar_year"
    """The current calendar year in the program's time zone; reviewed every 1 January."""
    ANNIVERSARY = "anniversary"
    """The current membership year, from the enrolment date; reviewed at each anniversary."""
    ROLLING = "rolling"
    """The last ``length`` (whole days or months) up to now; reviewed on the first of
    every month."""


class Downgrade(StrEnum):
    """How far a review moves a member down (``downgrade_mode: at_review`` only)."""

    ONE_STEP = "one_step"
    """At each review a member drops at most one tier."""
    TO_QUALIFIED = "to_qualified"
    """At review a member drops straight to the tier they qualify for."""


class DowngradeMode(StrEnum):
    """When a member moves down."""

    AT_REVIEW = "at_review"
    """Only at a review (each period end), by ``downgrade`` and ``grace``."""
    AUTOMATIC = "automatic"
    """On any change of the figures, straight to the tier they reach (up or down)."""
    NEVER = "never"
    """A tier once reached is kept."""


class QualifyOn(StrEnum):
    """Which figures a member qualifies on."""

    NET = "net"
    """Refunds (and the points they reverse) lower the figures."""
    GROSS = "gross"
    """Refunds and reversals leave the figures as they were."""


def _window(value: Any) -> Any:
    if isinstance(value, str):
        return {"kind": value}
    if isinstance(value, dict) and set(value) == {"rolling"}:
        return {"kind": "rolling", "length": value["rolling"]}
    return value


class Window(Section):
    """Which facts count: all of them, this calendar year, this membership year, or a rolling span.

    Reviews happen at the end of each period: every 1 January (calendar year and
    lifetime), every enrolment anniversary, or every first of the month (rolling).
    """

    kind: WindowKind
    """``lifetime`` (everything since enrolment), ``calendar_year``, ``anniversary`` (the membership
    year) or ``rolling`` (the last ``length``). Written as the kind alone
    (``window: calendar_year``) or ``{rolling: 12 months}``."""
    length: DurationText | None = Field(
        default=None, description="The rolling span, e.g. '12 months' (rolling windows only)."
    )

    @model_validator(mode="after")
    def _length_only_for_rolling(self) -> Window:
        if self.kind is WindowKind.ROLLING and (
            self.length is None or self.length.hours or not (self.length.months or self.length.days)
        ):
            raise ValueError(
                "a rolling window needs a length in whole days or months, e.g. {rolling: 12 months}"
            )
        if self.kind is not WindowKind.ROLLING and self.length is not None:
            raise ValueError(f"a {self.kind} window takes no length")
        return self


class Benefits(Section):
    """What a tier gives. Earning and rewards read these."""

    earn_multiplier: PositiveDecimal = Decimal(1)
    """Multiplies the points members of this tier earn on orders, combined with the rules'
    multipliers as ``earning.combine`` says; off when ``earning.tier_multipliers`` is false."""
    free_shipping: bool = False
    """Members of this tier pay no shipping on any order. A ``free_shipping_above`` amount limits it
    to orders at least that large (and gives it even without this key)."""
    free_shipping_above: AmountOrZero | None = Field(
        default=None, description="Free shipping only on orders at least this large."
    )
    rewards: tuple[str, ...] = Field(default=(), description="Ids of rewards only this tier sees.")
    birthday_bonus: PointsOrZero = 0
    """Points given on top of the ``birthday`` action's points to members of this tier; nothing
    without an ``earning.actions.birthday``."""


class Tier(Section):
    """One rung of the ladder: its ``name``, the ``threshold`` that reaches it (a value
    for each of the tier metrics; none for the entry tier, the first) and the
    ``benefits`` it gives."""

    name: Annotated[str, Field(min_length=1, max_length=80)]
    """Names the tier where the program refers to it (``min_tier``, the ``tiers`` of rules, rewards
    and audiences) and in members' tier changes; unique on the ladder."""
    threshold: dict[TierMetric, Threshold] = Field(
        default_factory=dict,
        description="What reaching this tier takes, per metric (none for the entry tier).",
    )
    benefits: Benefits = Benefits()
    """What members of this tier get: an earn multiplier, free shipping, tier-only rewards, a
    birthday bonus. None if omitted."""


class TiersConfig(Section):
    """The ``tiers`` section: a ladder of tiers from the entry tier up, the metrics
    members qualify on and how thresholds combine (``match``), the ``window`` of facts
    that counts, and how members keep or lose a tier (``retention``, ``grace``,
    ``downgrade``, ``downgrade_mode``, ``qualify_on``). Thresholds must increase up the
    ladder."""

    metrics: tuple[TierMetric, ...] = Field(min_length=1)
    """What members qualify on: ``points``, ``net_spend``, ``orders`` or ``balance``, one or more;
    every tier above the entry tier gives a threshold for each."""
    match: Match = Match.ANY
    """With several metrics: ``any`` (one threshold met is enough) or ``all`` (every threshold must
    be met)."""
    window: Annotated[Window, BeforeValidator(_window)] = Window(kind=WindowKind.LIFETIME)
    """The span of facts members qualify on, and when reviews happen: ``lifetime`` and
    ``calendar_year`` each 1 January, ``anniversary`` at each enrolment anniversary,
    ``{rolling: 12 months}`` on the first of every month."""
    count_pending_points: bool = True
    """Whether points still pending (in the return window) count toward the ``points`` and
    ``balance`` metrics as soon as they are earned; if false, they count once they become
    available."""
    retention: Annotated[int, Field(ge=0, le=10)] = 1
    """At a review, a member keeps the best tier they reached in this many completed periods; 0
    moves everyone above the entry tier down (``downgrade_mode: at_review`` only)."""
    grace: DurationText = Duration()
    """How long after a review a downgrade it decides takes effect; the member keeps the tier if
    they requalify meanwhile. None if omitted (``downgrade_mode: at_review`` only)."""
    downgrade: Downgrade = Downgrade.ONE_STEP
    """How far a review moves a member down: ``one_step`` (one tier at most) or ``to_qualified``
    (straight to the tier they qualify for); ``downgrade_mode: at_review`` only."""
    downgrade_mode: DowngradeMode = Field(
        default=DowngradeMode.AT_REVIEW,
        description="When members move down: at review, automatically on any change, or never.",
    )
    qualify_on: QualifyOn = Field(
        default=QualifyOn.NET,
        description="Net: refunds lower the qualifying figures; gross: they do not.",
    )
    ladder: tuple[Tier, ...] = Field(min_length=1)
    """The tiers from the entry tier (the first, without a threshold) up; thresholds must increase
    up the ladder."""

    @field_validator("metrics")
    @classmethod
    def _distinct(cls, metrics: tuple[TierMetric, ...]) -> tuple[TierMetric, ...]:
        if len(set(metrics)) != len(metrics):
            raise ValueError(f"{[str(m) for m in metrics]!r} lists a metric twice")
        return metrics

    def problems(self) -> list[Problem]:
        """What is wrong with the ladder, each with its path (checked after parsing)."""
        found = []
        names = [tier.name for tier in self.ladder]
        for index, name in enumerate(names):
            if name in names[:index]:
                found.append(Problem(f"ladder[{index}].name", f"{name!r} is used twice", name))
        if self.ladder[0].threshold:
            found.append(Problem("ladder[0].threshold", "the entry tier takes no threshold"))
        for index, tier in enumerate(self.ladder[1:], start=1):
            where = f"ladder[{index}].threshold"
            missing = [metric for metric in self.metrics if metric not in tier.threshold]
            extra = [metric for metric in tier.threshold if metric not in self.metrics]
            for metric in missing:
                found.append(
                    Problem(f"{where}.{metric}", f"is required: {metric} is a tier metric")
                )
            for metric in extra:
                found.append(
                    Problem(f"{where}.{metric}", f"{metric} is not one of the tier metrics")
                )
            below = self.ladder[index - 1].threshold
            for metric, value in tier.threshold.items():
                if metric is not TierMetric.NET_SPEND and value % 1:
                    found.append(
                        Problem(f"{where}.{metric}", f"{value} is not a whole number", value)
                    )
                if metric in below and value <= below[metric]:
                    found.append(
                        Problem(
                            f"{where}.{metric}",
                            f"{value} is not above {below[metric]} ({names[index - 1]!r}): "
                            "thresholds must increase up the ladder",
                            value,
                        )
                    )
        return found + self._mode_problems()

    def _mode_problems(self) -> list[Problem]:
        """Combinations of metric, window and modes that contradict each other."""
        found = []
        mode = self.downgrade_mode
        if TierMetric.BALANCE in self.metrics:
            if self.window.kind is not WindowKind.LIFETIME:
                found.append(
                    Problem(
                        "window",
                        f"the balance metric takes no window ({self.window.kind}): it is "
                        "the points held now; use window: lifetime",
                    )
                )
            if mode is DowngradeMode.AT_REVIEW:
                found.append(
                    Problem(
                        "downgrade_mode",
                        "at_review does not work with the balance metric: a balance has no "
                        "figures per period for a review to assess; use automatic or never",
                        str(mode),
                    )
                )
            if self.qualify_on is QualifyOn.GROSS and len(self.metrics) == 1:
                found.append(
                    Problem(
                        "qualify_on",
                        "gross does not apply to the balance metric: a refund takes back "
                        "the points it reverses whatever the figures",
                        "gross",
                    )
                )
        if mode is not DowngradeMode.AT_REVIEW:
            moves = (
                "moves straight to the tier the figures reach"
                if mode is DowngradeMode.AUTOMATIC
                else "never moves a member down"
            )
            given = self.model_fields_set
            review_only: list[str] = [n for n in ("downgrade", "retention") if n in given]
            if not self.grace.is_zero:
                review_only.append("grace")
            for name in review_only:
                found.append(
                    Problem(
                        name,
                        f"only applies at review, and downgrade_mode {mode} {moves}",
                        str(getattr(self, name)),
                    )
                )
        return found

    @property
    def follows(self) -> bool:
        """Is the tier checked after every change of the figures (automatic mode, or
        the balance metric, which any spend or expiry moves), not only after orders
        and earns?"""
        return (
            self.downgrade_mode is DowngradeMode.AUTOMATIC or TierMetric.BALANCE in self.metrics
        )

    def warnings(self) -> list[Problem]:
        """Tiers nobody can hold: below a tier that needs nothing."""
        found = []
        for index, tier in enumerate(self.ladder[1:], start=1):
            free = [m for m, v in tier.threshold.items() if v == 0]
            if (self.match is Match.ANY and free) or (free and len(free) == len(tier.threshold)):
                for lower in self.ladder[:index]:
                    found.append(
                        Problem(
                            f"ladder[{self.ladder.index(lower)}]",
                            f"nobody can stay in tier {lower.name!r}: {tier.name!r} above it "
                            f"needs {', '.join(free)} of 0",
                        )
                    )
        return found

    def get(self, name: str | None) -> Tier | None:
        """Tier ``name`` of the ladder, or ``None`` (no such tier: one a program version
        dropped, or no tier at all)."""
        return next((tier for tier in self.ladder if tier.name == name), None)

    def index_of(self, name: str) -> int:
        """The position of tier ``name`` in the ladder (0 is the entry tier)."""
        for index, tier in enumerate(self.ladder):
            if tier.name == name:
                return index
        raise KeyError(name)
