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
    """``order_completed``: fires when a member completes an order that meets the keys beside it."""
    first_order: bool = False
    """Only on the member's first order (not with ``nth_order``)."""
    nth_order: Count | None = None
    """Only on the member's order with this number: 3 is their third."""
    min_amount: Amount | None = None
    """Only on orders whose net amount, in the program currency, is at least this."""
    categories: tuple[str, ...] = ()
    """Only on orders with a line in at least one of these categories; any order if empty."""


class OnEnrol(Section):
    """A member enrolled: through ``channel`` or with ``campaign_code`` if given;
    ``referred``: only (true) or never (false) members who came through a referral."""

    event: Literal["enrolled"]
    """``enrolled``: fires when a member enrols, through ``channel`` or with ``campaign_code`` if
    given."""
    channel: str | None = None
    """Only for members who enrolled through this channel (the ``channel`` the shop passes to
    ``enrol``)."""
    campaign_code: str | None = None
    """Only for members who enrolled with this campaign code (the ``campaign_code`` passed to
    ``enrol``)."""
    referred: bool | None = None
    """``true``: only members who came through a referral (the referee's part of ``referrals``);
    ``false``: only those who did not; either if omitted."""


class OnReferral(Section):
    """The referrer's part: a member they referred completed a first order and its
    return window passed (``incentives.referrals``)."""

    event: Literal["referral_completed"]
    """``referral_completed``: the referrer's part, fired once a member they referred has a first
    order past ``referrals.qualify_after``."""


class OnDelay(Section):
    """A shipment is late: at most once per order, whatever the deliveries."""

    event: Literal["shipment_delayed"]
    """``shipment_delayed``: fires when the shop reports an order's shipment late, at most once per
    order."""


class OnBirthday(Section):
    """The member's birthday, once a year: issued on the day, or from ``days_before``
    the day to ``days_after`` it, or any day of the ``month``. 29 February is
    ``leap_day`` (28 February or 1 March) in other years."""

    event: Literal["birthday"]
    """``birthday``: fires once a year, on or around the member's birthday as ``grant_window``
    says."""
    grant_window: Literal["day", "month"] = "day"
    """``day``: on the birthday (widened by ``days_before`` and ``days_after``); ``month``: any day
    of the birthday's month."""
    days_before: Annotated[int, Field(ge=0, le=31)] = 0
    """Days before the birthday from which it may be given (``grant_window: day`` only)."""
    days_after: Annotated[int, Field(ge=0, le=31)] = 0
    """Days after the birthday until which it may be given (``grant_window: day`` only)."""
    leap_day: Literal["02-28", "03-01"] = "02-28"
    """The day a 29 February birthday is kept in other years: ``02-28`` or ``03-01``."""


class OnSchedule(Section):
    """An RFC 5545 recurrence (``FREQ=MONTHLY;BYMONTHDAY=1``) from ``starts`` (a local
    date), issued by the scheduled run to every member in the audience. Occurrence n
    (from 0) gives the incentive's grants plus ``rotate[n % len(rotate)]``. A run
    issues the occurrences of the last ``catch_up`` it has not issued: a missed run
    is made up, a replayed one gives nothing twice."""

    event: Literal["schedule"]
    """``schedule``: the scheduled run issues each occurrence of ``rrule`` to every member in the
    audience."""
    rrule: Annotated[str, Field(min_length=1, max_length=500)]
    """An RFC 5545 recurrence rule without its start (``FREQ=MONTHLY;BYMONTHDAY=1``); daily at
    most."""
    starts: date
    """The local date of the first possible occurrence."""
    rotate: tuple[Grant, ...] = ()
    """Grants given in turn, one per occurrence, beside the incentive's ``grants``: occurrence n
    gives ``rotate[n % len(rotate)]``."""
    catch_up: DurationText = Field(default_factory=lambda: _duration("7 days"))
    """How far back a run issues occurrences it has not issued yet: a missed run is made up within
    it; older occurrences are skipped."""

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
    """``manual``: never fires by itself; an operator issues it to a member with ``grant``, giving a
    reason."""


Trigger = Annotated[
    OnOrder | OnEnrol | OnReferral | OnDelay | OnBirthday | OnSchedule | OnManual,
    Field(discriminator="event"),
]


# --------------------------------------------------------------------- grants


class _Grant(Section):
    title: Title | None = None
    """What the member sees for it in the wallet and on quotes; a name built from the grant if
    omitted."""
    optional: bool = False
    """Skipped, with a stated reason, when its stock or budget is short; otherwise a
    short grant refuses the whole bundle."""


class PointsGrant(_Grant):
    """Bonus points: a lot available at once, expiring ``expires_after`` its issue (the
    program's expiry if omitted)."""

    kind: Literal["points"]
    """``points``: bonus points, available at once, in a lot of their own."""
    points: Points
    """The points given."""
    expires_after: DurationText | None = None
    """How long after issue the points expire; the program's ``expiry`` if omitted."""


class AmountOffer(Section):
    kind: Literal["amount_off"]
    """``amount_off``: a fixed ``amount`` off the merchandise (never more than it)."""
    amount: Amount
    """The money off, in the program currency."""


class PercentOffer(Section):
    kind: Literal["percent_off"]
    """``percent_off``: ``percent`` off the merchandise, or off ``products``, up to
    ``max_amount``."""
    percent: Percent
    """The percentage taken off the matching units."""
    products: Selector | None = None
    """The products it discounts; the whole merchandise if omitted."""
    max_amount: Amount | None = None
    """Most money it takes off one order, in the program currency; no limit if omitted."""


class ShippingOffer(Section):
    kind: Literal["free_shipping"]
    """``free_shipping``: the order's shipping, up to ``max_amount``."""
    max_amount: Amount | None = None
    """Most shipping it pays, in the program currency; all of it if omitted."""


class ProductOffer(Section):
    kind: Literal["free_product"]
    """``free_product``: one unit of a product the member picks from ``choices``."""
    choices: tuple[Annotated[str, Field(min_length=1)], ...] = Field(min_length=1)
    """Skus the free product may be picked from; it must be in the cart."""


Offer = Annotated[
    AmountOffer | PercentOffer | ShippingOffer | ProductOffer, Field(discriminator="kind")
]


class _CouponLike(_Grant, Stackable):
    valid: Validity = Field(default_factory=Validity)
    """When it can be used: ``within`` a time of its issue, a ``yearly`` window, fixed
    ``starts``/``ends``, or several (the narrowest holds). Never expires if omitted."""
    hurdles: Condition | None = None
    """Conditions the cart and member must meet to use it (``min_basket``...); a quote says which
    are unmet."""
    uses: Count = 1
    """How many orders it can be used on."""
    transferable: bool = False
    """Anyone holding the code may use it (otherwise only its member)."""


class Coupon(_CouponLike):
    """An issued instance of an offer, with a code of its own."""

    kind: Literal["coupon"]
    """``coupon``: an issued instance of ``offer``, with a code of its own, its validity, hurdles
    and uses."""
    offer: Offer
    """What the coupon takes off: ``amount_off``, ``percent_off``, ``free_shipping`` or
    ``free_product``."""
    value: Amount | None = None
    """What it is worth, for its cost (default: the amount off; required for percent
    and free product offers to count their cost)."""


class FreeShippingGrant(_CouponLike):
    """Free shipping on the next order (``uses``) within ``valid``."""

    kind: Literal["free_shipping"]
    """``free_shipping``: a coupon for the shipping of the next order(s) (``uses``) within
    ``valid``."""
    max_amount: Amount | None = None
    """Most shipping it pays, in the program currency; all of it if omitted."""
    value: Amount | None = None
    """What it is worth, in the program currency, for its cost and to pick the best grant of a
    ``one_of``; 0 if omitted."""


class Gift(_CouponLike):
    """One free unit of ``sku`` (it must be in the cart), worth ``value``; ``stock``
    units for all members together."""

    kind: Literal["gift"]
    """``gift``: a coupon for one free unit of ``sku`` on an order that has it in the cart."""
    sku: Annotated[str, Field(min_length=1, max_length=100)]
    """The product given free."""
    value: Amount
    """What the gift is worth, in the program currency: its cost, and how a ``one_of`` picks the
    best."""
    stock: Count | None = None
    """Units for all members together; when none are left it is short (skipped if ``optional``, else
    the bundle is not issued). Unlimited if omitted."""


class Cashback(_Grant):
    """Money in the member's wallet: ``amount``, or ``percent`` of the order (order
    triggers; at most ``max_amount``). It is pending until ``valid`` opens, is spent
    as money off (a tender, after every discount) only within it, and what is left
    when it closes expires with an entry."""

    kind: Literal["cashback"]
    """``cashback``: money in the member's wallet, spendable as money off within ``valid``."""
    amount: Amount | None = None
    """A fixed amount, in the program currency. Give ``amount`` or ``percent``, not both."""
    percent: Percent | None = None
    """A percentage of the order's net amount (``order_completed`` triggers only), rounded down.
    Give ``amount`` or ``percent``, not both."""
    max_amount: Amount | None = None
    """Most cashback a ``percent`` gives, in the program currency."""
    valid: Validity = Field(default_factory=Validity)
    """When it can be spent: pending until it opens, and what is left when it closes expires. Never
    expires if omitted."""

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
    """``all_of``: every grant of ``grants``, as one bundle."""
    grants: tuple[Grant, ...] = Field(min_length=1)
    """The grants given together."""


class OneOf(_Grant):
    """One grant of ``grants``: the member's pick (``member_picks``, within
    ``deadline``), or the one worth most that is in stock."""

    kind: Literal["one_of"]
    """``one_of``: one grant of ``grants``, picked as ``policy`` says."""
    grants: tuple[Grant, ...] = Field(min_length=2)
    """The grants to choose from."""
    policy: ChoicePolicy = ChoicePolicy.MEMBER_PICKS
    """``member_picks``: the member chooses by ``deadline``, else the highest value in stock is
    chosen; ``highest_value_in_stock``: chosen at once."""
    deadline: DurationText = Field(default_factory=lambda: _duration("14 days"))
    """How long the member has to pick (``member_picks`` only)."""


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
    """Most times the incentive may fire in all (bundles issued)."""
    points: Points | None = None
    """Most points its grants may give in all."""
    money: Amount | None = None
    """Most money, in the program currency, its grants may be worth in all."""
    on_exhausted: Exhausted | None = None
    """When a grant would go past the budget: ``reject`` issues nothing, ``clip`` issues what is
    left (of points, or of cashback money). If omitted: ``reject`` for ``count``, ``clip`` for
    ``points`` and ``money``."""

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
    """Most times one member gets it in each ``per``; unlimited if omitted."""
    per: Period | Literal["lifetime"] = "lifetime"
    """The period ``per_member`` counts in: ``lifetime``, or a local day, month, quarter or year."""
    per_order: Count | None = None
    """Most of this incentive's coupons one order can use; unlimited if omitted."""
    budget: Budget | None = None
    """A budget shared by every member: bundles, points or money in all."""


class Incentive(Section):
    """One incentive of the catalog: when it fires (``trigger``), for whom
    (``audience``) and when (``window``), what each occurrence gives (``grants``) and
    how often and how much in all (``limits``). Its cost counts toward its
    ``campaign``."""

    id: Id
    """Identifies the incentive: what it issued, its stock and budget are kept under it, and its
    costs count toward it when it names no ``campaign``; unique in the catalog."""
    title: Title | None = None
    """Names the incentive to members, in the reason of what it issued; its ``id`` if omitted."""
    campaign: Id | None = None
    """The campaign its cost counts toward (its id if omitted)."""
    priority: int = 0
    """Incentives on one trigger run by priority (highest first), then id."""
    trigger: Trigger
    """What makes it fire: an ``event`` (``order_completed``, ``enrolled``, ``referral_completed``,
    ``shipment_delayed``, ``birthday``, ``schedule``, ``manual``) and that event's conditions."""
    audience: Audience | None = None
    """Who it fires for: a member outside the audience gets nothing. Every member if omitted."""
    window: ActiveWindow | None = None
    """When it can fire: fixed ``starts``/``ends``, ``yearly``, or both, in the program's timezone.
    Always if omitted."""
    grants: tuple[Grant, ...] = ()
    """What every occurrence gives (a schedule may give only its ``rotate``)."""
    limits: Limits = Field(default_factory=lambda: Limits())
    """How often it fires per member, how many of its coupons one order can use, and a global
    budget. Unlimited if omitted."""

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
    """How long the referee's first order must stand, not refunded in full, before the referrer's
    part is granted; the program's pending period if omitted."""
    per_referrer: Count | None = None
    """Most referrals one referrer can make in each ``per``: a referral past it is refused
    (``ReferralRefused``). Unlimited if omitted."""
    per: Period = Period.YEAR
    """The calendar period ``per_referrer`` counts in, in the program's timezone."""


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
    """The format of issued coupon codes: alphabet, length, prefix and grouping."""
    referrals: Referrals = Field(default_factory=lambda: Referrals())
    """The rules of double-sided referrals: when the referrer's part is granted, and how many per
    period."""
    coupon_refund: RefundPolicy = RefundPolicy.KEEP
    """What a full refund does to a coupon used on the order: ``keep`` (it stays used) or
    ``restore`` (usable again within its validity)."""
    catalog: tuple[Incentive, ...] = ()
    """The incentives: what fires, for whom, and what it gives; ids are unique."""

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
