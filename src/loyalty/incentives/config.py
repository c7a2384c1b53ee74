"""The ``incentives`` section: what fires, for whom, and what it gives.

An incentive is a trigger, an audience, a bundle of grants, limits and a window:

```yaml
incentives:
  point_value: "0.01"                 # what a point costs the shop, for incentive costs
  codes: {length: 12}                 # coupon codes: Crockford base32, 60 bits
  referrals: {qualify_after: 30 days, per_referrer: 10, per: year}
  catalog:
    - id: club-welcome                # story 2: ONE incentive, four grants
      campaign: club
      trigger: {event: enrolled, channel: email}
      grants:
        - {kind: coupon, offer: {kind: amount_off, amount: "5.00"}, valid: {within: 30 days}}
        - {kind: free_shipping, valid: {within: 30 days}}
        - {kind: points, points: 50}
        - kind: one_of                # pick one free full-size item
          policy: member_picks
          deadline: 14 days
          grants:
            - {kind: gift, sku: SER-01, value: "24.00"}
            - {kind: gift, sku: CRM-02, value: "19.00"}
            - {kind: gift, sku: MSK-03, value: "15.00", stock: 200}
    - id: late-apology                # story 3
      trigger: {event: shipment_delayed}
      grants:
        - {kind: coupon, offer: {kind: amount_off, amount: "10.00"}, valid: {within: 60 days}}
        - {kind: free_shipping, valid: {within: 60 days}}
      limits: {budget: {money: "5000.00"}}
```

Triggers (``event``): ``order_completed`` (with ``first_order``, ``nth_order``,
``min_amount``, ``categories``), ``enrolled`` (``channel``, ``campaign_code``,
``referred``), ``referral_completed`` (the referrer's part), ``shipment_delayed``,
``birthday`` (a grant window and a rule for 29 February), ``schedule`` (an RFC 5545
``rrule``; ``rotate`` gives a different gift each occurrence) and ``manual``.

Grants (``kind``): ``points`` (a lot with its own expiry), ``coupon`` (an issued
instance of an offer, with its own validity, hurdles and uses), ``free_shipping``
and ``gift`` (coupons for the next order's shipping, or for one free unit of a
sku), ``cashback`` (money in a wallet, spendable only in its ``valid`` window),
``all_of`` and ``one_of`` (bundles and choices; they nest). Any grant may be
``optional``: if its stock or budget is short it is skipped with a reason, and the
rest is issued; otherwise the whole bundle is issued or none of it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, Literal

from dateutil.rrule import DAILY, rrulestr
from pydantic import Field, field_validator, model_validator

from loyalty.dates import Duration, Period
from loyalty.errors import Problem
from loyalty.hurdles import Condition
from loyalty.incentives.audience import Audience
from loyalty.incentives.codes import CodeFormat
from loyalty.incentives.windows import ActiveWindow, Validity
from loyalty.program.amounts import Amount, Count, Points
from loyalty.program.types import DurationText, Percent, Section, Selector
from loyalty.stacking.config import Stackable

__all__ = [
    "AllOf",
    "Budget",
    "Cashback",
    "ChoicePolicy",
    "Coupon",
    "FreeShippingGrant",
    "Gift",
    "Grant",
    "Incentive",
    "IncentivesConfig",
    "Limits",
    "OnBirthday",
    "OnDelay",
    "OnEnrol",
    "OnManual",
    "OnOrder",
    "OnReferral",
    "OnSchedule",
    "OneOf",
    "PointsGrant",
    "Referrals",
    "Trigger",
    "TriggerKind",
    "grants_of",
]

Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$", max_length=64)]
Title = Annotated[str, Field(min_length=1, max_length=200)]


class TriggerKind(StrEnum):
    """What makes an incentive fire: the ``event`` of its ``trigger``."""

    ORDER_COMPLETED = "order_completed"
    """A member completed an order (optionally their first, their nth, above an amount
    or with a line in some categories)."""
    ENROLLED = "enrolled"
    """A member enrolled (optionally through a channel, with a campaign code, or referred)."""
    REFERRAL_COMPLETED = "referral_completed"
    """A member this member referred completed a first order and its return window
    passed: the referrer's part."""
    SHIPMENT_DELAYED = "shipment_delayed"
    """An order's shipment is late (at most once per order)."""
    BIRTHDAY = "birthday"
    """The member's birthday, once a year."""
    SCHEDULE = "schedule"
    """A recurrence rule (monthly on the 1st...): the scheduled run issues each
    occurrence due."""
    MANUAL = "manual"
    """An operator grants it by hand, with a reason."""


# ------------------------------------------------------------------- triggers


class OnOrder(Section):
    """An order completed: ``first_order`` (the member's first), ``nth_order`` (exactly
    their nth), ``min_amount`` (net spend, program currency), ``categories`` (a line in
    one of them)."""

    event: Literal["order_completed"]
    first_order: bool = False
    nth_order: Count | None = None
    min_amount: Amount | None = None
    categories: tuple[str, ...] = ()


class OnEnrol(Section):
    """A member enrolled: through ``channel`` or with ``campaign_code`` if given;
    ``referred``: only (true) or never (false) members who came through a referral."""

    event: Literal["enrolled"]
    channel: str | None = None
    campaign_code: str | None = None
    referred: bool | None = None


class OnReferral(Section):
    """The referrer's part: a member they referred completed a first order and its
    return window passed (``incentives.referrals``)."""

    event: Literal["referral_completed"]


class OnDelay(Section):
    """A shipment is late: at most once per order, whatever the deliveries."""

    event: Literal["shipment_delayed"]


class OnBirthday(Section):
    """The member's birthday, once a year: issued on the day, or from ``days_before``
    the day to ``days_after`` it, or any day of the ``month``. 29 February is
    ``leap_day`` (28 February or 1 March) in other years."""

    event: Literal["birthday"]
    grant_window: Literal["day", "month"] = "day"
    days_before: Annotated[int, Field(ge=0, le=31)] = 0
    days_after: Annotated[int, Field(ge=0, le=31)] = 0
    leap_day: Literal["02-28", "03-01"] = "02-28"


class OnSchedule(Section):
    """An RFC 5545 recurrence (``FREQ=MONTHLY;BYMONTHDAY=1``) from ``starts`` (a local
    date), issued by the scheduled run to every member in the audience. Occurrence n
    (from 0) gives the incentive's grants plus ``rotate[n % len(rotate)]``. A run
    issues the occurrences of the last ``catch_up`` it has not issued: a missed run
    is made up, a replayed one gives nothing twice."""

    event: Literal["schedule"]
    rrule: Annotated[str, Field(min_length=1, max_length=500)]
    starts: date
    rotate: tuple[Grant, ...] = ()
    catch_up: DurationText = Field(default_factory=lambda: _duration("7 days"))

    @field_validator("rrule")
    @classmethod
    def _rule(cls, value: str) -> str:
        if "DTSTART" in value.upper() or "\n" in value:
            raise ValueError("give the rule alone (FREQ=...); the start is 'starts'")
        try:
            rule = rrulestr(value, dtstart=None)
        except (ValueError, TypeError) as error:
            raise ValueError(f"{value!r} is not an RFC 5545 recurrence rule: {error}") from None
        if getattr(rule, "_freq", DAILY) > DAILY:  # HOURLY, MINUTELY, SECONDLY
            raise ValueError(f"{value!r} recurs more often than daily; a schedule is daily at most")
        return value

    @model_validator(mode="after")
    def _occurs(self) -> OnSchedule:
        start = datetime.combine(self.starts, time())
        rule = rrulestr(self.rrule, dtstart=start)
        if rule.between(start, start + timedelta(days=4 * 366), inc=True, count=1) == []:
            raise ValueError(f"{self.rrule!r} never occurs in the four years from {self.starts}")
        return self


class OnManual(Section):
    """Issued by an operator, with a reason."""

    event: Literal["manual"]


Trigger = Annotated[
    OnOrder | OnEnrol | OnReferral | OnDelay | OnBirthday | OnSchedule | OnManual,
    Field(discriminator="event"),
]


# --------------------------------------------------------------------- grants


class _Grant(Section):
    title: Title | None = None
    optional: bool = False
    """Skipped, with a stated reason, when its stock or budget is short; otherwise a
    short grant refuses the whole bundle."""


class PointsGrant(_Grant):
    """Bonus points: a lot available at once, expiring ``expires_after`` its issue (the
    program's expiry if omitted)."""

    kind: Literal["points"]
    points: Points
    expires_after: DurationText | None = None


class AmountOffer(Section):
    kind: Literal["amount_off"]
    amount: Amount


class PercentOffer(Section):
    kind: Literal["percent_off"]
    percent: Percent
    products: Selector | None = None
    max_amount: Amount | None = None


class ShippingOffer(Section):
    kind: Literal["free_shipping"]
    max_amount: Amount | None = None


class ProductOffer(Section):
    kind: Literal["free_product"]
    choices: tuple[Annotated[str, Field(min_length=1)], ...] = Field(min_length=1)


Offer = Annotated[
    AmountOffer | PercentOffer | ShippingOffer | ProductOffer, Field(discriminator="kind")
]


class _CouponLike(_Grant, Stackable):
    valid: Validity = Field(default_factory=Validity)
    hurdles: Condition | None = None
    uses: Count = 1
    transferable: bool = False
    """Anyone holding the code may use it (otherwise only its member)."""


class Coupon(_CouponLike):
    """An issued instance of an offer, with a code of its own."""

    kind: Literal["coupon"]
    offer: Offer
    value: Amount | None = None
    """What it is worth, for its cost (default: the amount off; required for percent
    and free product offers to count their cost)."""


class FreeShippingGrant(_CouponLike):
    """Free shipping on the next order (``uses``) within ``valid``."""

    kind: Literal["free_shipping"]
    max_amount: Amount | None = None
    value: Amount | None = None


class Gift(_CouponLike):
    """One free unit of ``sku`` (it must be in the cart), worth ``value``; ``stock``
    units for all members together."""

    kind: Literal["gift"]
    sku: Annotated[str, Field(min_length=1, max_length=100)]
    value: Amount
    stock: Count | None = None


class Cashback(_Grant):
    """Money in the member's wallet: ``amount``, or ``percent`` of the order (order
    triggers; at most ``max_amount``). It is pending until ``valid`` opens, is spent
    as money off (a tender, after every discount) only within it, and what is left
    when it closes expires with an entry."""

    kind: Literal["cashback"]
    amount: Amount | None = None
    percent: Percent | None = None
    max_amount: Amount | None = None
    valid: Validity = Field(default_factory=Validity)

    @model_validator(mode="after")
    def _one(self) -> Cashback:
        if (self.amount is None) == (self.percent is None):
            raise ValueError("give exactly one of amount or percent")
        return self


class ChoicePolicy(StrEnum):
    MEMBER_PICKS = "member_picks"
    """The member picks by the ``deadline``; then the highest value in stock is chosen."""
    HIGHEST_VALUE_IN_STOCK = "highest_value_in_stock"


class AllOf(_Grant):
    """Every grant of ``grants``."""

    kind: Literal["all_of"]
    grants: tuple[Grant, ...] = Field(min_length=1)


class OneOf(_Grant):
    """One grant of ``grants``: the member's pick (``member_picks``, within
    ``deadline``), or the one worth most that is in stock."""

    kind: Literal["one_of"]
    grants: tuple[Grant, ...] = Field(min_length=2)
    policy: ChoicePolicy = ChoicePolicy.MEMBER_PICKS
    deadline: DurationText = Field(default_factory=lambda: _duration("14 days"))


Grant = Annotated[
    PointsGrant | Coupon | FreeShippingGrant | Gift | Cashback | AllOf | OneOf,
    Field(discriminator="kind"),
]


# ----------------------------------------------------------- limits, incentive


class Exhausted(StrEnum):
    REJECT = "reject"
    """Issue nothing (the default for a count)."""
    CLIP = "clip"
    """Issue what is left (the default for money and points), recording what was
    wanted and what was granted."""


class Budget(Section):
    """A global budget, shared by every member: how many bundles (``count``), points
    or money they may issue in all."""

    count: Count | None = None
    points: Points | None = None
    money: Amount | None = None
    on_exhausted: Exhausted | None = None

    @model_validator(mode="after")
    def _something(self) -> Budget:
        if self.count is None and self.points is None and self.money is None:
            raise ValueError("give at least one of count, points or money")
        return self


class Limits(Section):
    """``per_member`` times per ``per`` (a local day, month, quarter, year, or the
    member's lifetime); ``per_order``: this incentive's coupons usable on one order;
    a global ``budget``."""

    per_member: Count | None = None
    per: Period | Literal["lifetime"] = "lifetime"
    per_order: Count | None = None
    budget: Budget | None = None


class Incentive(Section):
    """One incentive of the catalog: when it fires (``trigger``), for whom
    (``audience``) and when (``window``), what each occurrence gives (``grants``) and
    how often and how much in all (``limits``). Its cost counts toward its
    ``campaign``."""

    id: Id
    title: Title | None = None
    campaign: Id | None = None
    """The campaign its cost counts toward (its id if omitted)."""
    priority: int = 0
    """Incentives on one trigger run by priority (highest first), then id."""
    trigger: Trigger
    audience: Audience | None = None
    window: ActiveWindow | None = None
    grants: tuple[Grant, ...] = ()
    """What every occurrence gives (a schedule may give only its ``rotate``)."""
    limits: Limits = Field(default_factory=lambda: Limits())

    @property
    def label(self) -> str:
        """Its ``title``, or its ``id`` when it has none."""
        return self.title or self.id

    @property
    def campaign_id(self) -> str:
        """The campaign its cost counts toward: ``campaign``, or its own ``id``."""
        return self.campaign or self.id


class Referrals(Section):
    """Double-sided referrals: the referee's bundle is an ``enrolled`` incentive with
    ``referred: true``, the referrer's a ``referral_completed`` one. The referrer's part
    is granted once the referee's first order has passed ``qualify_after`` (the
    program's return window if omitted) without being refunded in full; at most
    ``per_referrer`` referrals a ``per``."""

    qualify_after: DurationText | None = None
    per_referrer: Count | None = None
    per: Period = Period.YEAR


class RefundPolicy(StrEnum):
    KEEP = "keep"
    """A coupon used on an order that is refunded stays used."""
    RESTORE = "restore"
    """It is usable again (within its validity), once the order is refunded in full."""


class IncentivesConfig(Section):
    """The ``incentives`` section: the ``catalog`` of incentives (coupons, free
    shipping, gifts, cashback and points that fire on events or a schedule), the
    format of coupon ``codes``, the rules of ``referrals``, what a full refund does to
    a coupon used on the order (``coupon_refund``), and what one point granted costs
    the shop (``point_value``)."""

    point_value: Amount | None = None
    """What one point costs the shop, in the program currency (for grant costs)."""
    codes: CodeFormat = Field(default_factory=lambda: CodeFormat())
    referrals: Referrals = Field(default_factory=lambda: Referrals())
    coupon_refund: RefundPolicy = RefundPolicy.KEEP
    catalog: tuple[Incentive, ...] = ()

    def problems(self) -> list[Problem]:
        """What is wrong across the catalog (an id used twice, an incentive that grants
        nothing, an audience no member can be in, contradictory triggers...), each
        with its path."""
        found = [
            Problem(f"codes.{problem.path}", problem.message, problem.value)
            for problem in self.codes.problems()
        ]
        seen: set[str] = set()
        for index, incentive in enumerate(self.catalog):
            if incentive.id in seen:
                found.append(
                    Problem(f"catalog[{index}].id", f"{incentive.id!r} is used twice", incentive.id)
                )
            seen.add(incentive.id)
            trigger = incentive.trigger
            rotates = isinstance(trigger, OnSchedule) and bool(trigger.rotate)
            if not incentive.grants and not rotates:
                found.append(
                    Problem(f"catalog[{index}].grants", "give at least one grant", incentive.grants)
                )
            audience = incentive.audience
            if (
                audience is not None
                and audience.min_orders is not None
                and audience.max_orders is not None
                and audience.min_orders > audience.max_orders
            ):
                found.append(
                    Problem(
                        f"catalog[{index}].audience.max_orders",
                        f"is below min_orders {audience.min_orders}: no member can be in it",
                        audience.max_orders,
                    )
                )
            if isinstance(trigger, OnOrder) and trigger.first_order and trigger.nth_order:
                found.append(
                    Problem(
                        f"catalog[{index}].trigger",
                        "give first_order or nth_order, not both",
                        trigger.nth_order,
                    )
                )
            for path in _picked_percents(incentive.grants, f"catalog[{index}].grants"):
                found.append(
                    Problem(
                        f"{path}.percent",
                        "a percent of the order in a choice the member makes later has no "
                        "order to take it of; give an amount",
                        "percent",
                    )
                )
            for path, grant in grants_of(incentive, f"catalog[{index}]"):
                if (
                    isinstance(grant, Cashback)
                    and grant.percent is not None
                    and not isinstance(trigger, OnOrder)
                ):
                    found.append(
                        Problem(
                            f"{path}.percent",
                            "a percent of the order needs an order_completed trigger",
                            grant.percent,
                        )
                    )
        return found

    def get(self, incentive_id: str) -> Incentive | None:
        """The incentive ``incentive_id`` of the catalog, or ``None``."""
        return next((item for item in self.catalog if item.id == incentive_id), None)


def grants_of(incentive: Incentive, path: str) -> list[tuple[str, Grant]]:
    """Every grant of ``incentive`` (at ``path``), nested ones and a schedule's
    rotation included, each with its path."""
    found = _grants(incentive.grants, f"{path}.grants")
    if isinstance(incentive.trigger, OnSchedule):
        found += _grants(incentive.trigger.rotate, f"{path}.trigger.rotate")
    return found


def _picked_percents(grants: tuple[Grant, ...], path: str, picked: bool = False) -> list[str]:
    """The paths of percent cashback grants inside a choice the member makes later."""
    found = []
    for index, grant in enumerate(grants):
        here = f"{path}[{index}]"
        if isinstance(grant, Cashback) and grant.percent is not None and picked:
            found.append(here)
        elif isinstance(grant, AllOf | OneOf):
            later = picked or (
                isinstance(grant, OneOf) and grant.policy is ChoicePolicy.MEMBER_PICKS
            )
            found += _picked_percents(grant.grants, f"{here}.grants", later)
    return found


def _grants(grants: tuple[Grant, ...], path: str) -> list[tuple[str, Grant]]:
    """Every grant, nested ones included, with its path."""
    found: list[tuple[str, Grant]] = []
    for index, grant in enumerate(grants):
        here = f"{path}[{index}]"
        found.append((here, grant))
        if isinstance(grant, AllOf | OneOf):
            found.extend(_grants(grant.grants, f"{here}.grants"))
    return found


def _duration(text: str) -> Duration:
    return Duration.parse(text)


AllOf.model_rebuild()
OneOf.model_rebuild()
OnSchedule.model_rebuild()
