"""Advice about a valid program: what is legal but probably wrong.

:func:`program_advice` is what ``program_warnings`` adds to the sections' own
warnings. Each piece of advice is a :class:`~loyalty.errors.Problem` whose path is
the key as written (``rewards.catalog[1].cost``) and whose message says, with the
numbers, what a member will see. Only what is certain is said: a rule that
depends on what members do (how much they spend, how often they order) says
nothing. The rules, each with an example, are listed in ``docs/configuration.md``
(Warnings):

* hurdles always met, never met, contradicting each other or the dates of what
  they guard (:mod:`loyalty.program.advice_hurdles`): a ``min_points`` that
  repeats a reward's cost, a ``min_tier`` naming the entry tier, ``min_basket``
  above the basket's own cap, a coupon that has expired before it is issued;
* who can see a reward or an offer: tiers that see it none of which its
  ``min_tier`` lets redeem it, an audience nobody is in, a ``repeat_order`` above
  the audience's ``max_orders``; an incentive on enrolment that asks for orders
  (its audience never fires, its coupon's ``repeat_order`` keeps it off the first
  orders) (:mod:`loyalty.program.advice_audience`);
* stacking caps that cut an incentive: an amount off above ``caps.max_amount``,
  coupons per order above ``caps.max_discounts``;
* tiers nobody can reach or keep, a tier's ``birthday_bonus`` without the
  ``birthday`` action it is given with, points that expire before they can be
  spent, rewards nobody can afford before their points expire
  (:mod:`loyalty.program.advice_time`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from loyalty.errors import InvalidInput, Problem
from loyalty.incentives.config import AllOf as AllOfGrants
from loyalty.incentives.config import (
    AmountOffer,
    Cashback,
    ChoicePolicy,
    Coupon,
    FreeShippingGrant,
    Gift,
    Grant,
    Incentive,
    OneOf,
    OnSchedule,
    grants_of,
)
from loyalty.incentives.windows import Validity
from loyalty.money import Money
from loyalty.offers.config import AmountOffer as AmountOfferConfig
from loyalty.program.advice_audience import audience_advice, enrolment_advice
from loyalty.program.advice_hurdles import Bound, Holder, day, hurdle_advice
from loyalty.program.advice_time import expiry_advice, hours, tier_advice
from loyalty.program.model import Program
from loyalty.program.types import DateRange
from loyalty.rewards.config import AmountOff, PayWithPoints, Reward

__all__ = ["program_advice"]


def program_advice(program: Program) -> list[Problem]:
    """Every piece of advice about ``program`` (see the module), each with its path."""
    ladder = tuple(tier.name for tier in program.tiers.ladder) if program.tiers else ()
    found: list[Problem] = []
    for holder in _holders(program):
        found.extend(hurdle_advice(holder, ladder, program.currency, program.tz))
    found.extend(audience_advice(program, ladder))
    found.extend(enrolment_advice(program))
    found.extend(_caps(program))
    found.extend(tier_advice(program))
    found.extend(expiry_advice(program))
    return found


# ------------------------------------------------------------------ holders


def _holders(program: Program) -> Iterator[Holder]:
    """Every reward, offer, coupon and cashback, as the hurdle advice reads them."""
    tz = program.tz
    for index, reward in enumerate(program.rewards.catalog):
        path = f"rewards.catalog[{index}]"
        need, need_what = _cost(reward)
        opens, closes = _valid(reward.valid, path, tz)
        yield Holder(path, f"nobody can redeem reward {reward.id!r}", reward.hurdles, "hurdles",
                     need, need_what, opens, closes)
    for index, offer in enumerate(program.offers.catalog):
        path = f"offers.catalog[{index}]"
        opens, closes = _valid(offer.valid, path, tz)
        yield Holder(path, f"offer {offer.id!r} never applies", offer.conditions, "conditions",
                     opens=opens, closes=closes)
    for index, incentive in enumerate(program.incentives.catalog):
        first, last = _issued(incentive, f"incentives.catalog[{index}]", tz)
        for path, grant, picked in _issues(incentive, f"incentives.catalog[{index}]"):
            if not isinstance(grant, Coupon | FreeShippingGrant | Gift | Cashback):
                continue
            opens, closes = _valid(grant.valid, path, tz)
            opens += first
            if not picked:  # a member's pick is issued when they make it, up to a deadline
                closes += _within(grant.valid, path, last, tz)
            noun = "this cashback" if isinstance(grant, Cashback) else "this coupon"
            hurdles = None if isinstance(grant, Cashback) else grant.hurdles
            yield Holder(path, f"{noun} can never be used", hurdles, "hurdles",
                         opens=opens, closes=closes)


def _issues(incentive: Incentive, path: str) -> Iterator[tuple[str, Grant, bool]]:
    """Every grant of ``incentive`` with its path, and whether it is an option of a
    choice the member makes later (``member_picks``)."""
    trigger = incentive.trigger
    rotate = trigger.rotate if isinstance(trigger, OnSchedule) else ()
    yield from _nested(incentive.grants, f"{path}.grants", False)
    yield from _nested(rotate, f"{path}.trigger.rotate", False)


def _nested(
    grants: tuple[Grant, ...], path: str, picked: bool
) -> Iterator[tuple[str, Grant, bool]]:
    for index, grant in enumerate(grants):
        here = f"{path}[{index}]"
        yield here, grant, picked
        if isinstance(grant, OneOf | AllOfGrants):
            later = picked or (
                isinstance(grant, OneOf) and grant.policy is ChoicePolicy.MEMBER_PICKS
            )
            yield from _nested(grant.grants, f"{here}.grants", later)


def _cost(reward: Reward) -> tuple[int, str]:
    """The points a member holds whenever ``reward`` can be redeemed, said as a noun."""
    if isinstance(reward, PayWithPoints):
        least = max(reward.min_points, reward.step)
        return least, f"the {least} points paying with it takes at least"
    return reward.cost, f"the reward's cost of {reward.cost} points"


def _valid(
    dates: DateRange | None, path: str, tz: ZoneInfo
) -> tuple[tuple[Bound, ...], tuple[Bound, ...]]:
    """The fixed dates a ``valid`` opens and closes on."""
    if dates is None:
        return (), ()
    start, end = dates.start(tz), dates.end(tz)
    opens = (Bound(start, f"{path}.valid.starts", "its valid dates open on"),) if start else ()
    closes = (Bound(end, f"{path}.valid.ends", "ends on"),) if end else ()
    return opens, closes


def _issued(
    incentive: Incentive, path: str, tz: ZoneInfo
) -> tuple[tuple[Bound, ...], datetime | None]:
    """When ``incentive`` first issues anything (a bound on it), and before when it
    last does (``None``: no end)."""
    first: list[Bound] = []
    window = incentive.window
    start = window.start(tz) if window is not None else None
    if start is not None:
        first.append(Bound(start, f"{path}.window.starts", "the incentive first issues it on"))
    trigger = incentive.trigger
    if isinstance(trigger, OnSchedule):
        begins = datetime.combine(trigger.starts, time(), tzinfo=tz)
        first.append(Bound(begins, f"{path}.trigger.starts", "its schedule starts on"))
    last = window.end(tz) if window is not None else None
    return tuple(first), last


def _within(
    valid: Validity, path: str, last: datetime | None, tz: ZoneInfo
) -> tuple[Bound, ...]:
    """A bound on when the last grant issued before ``last`` lapses by ``valid.within``."""
    if valid.within is None or last is None:
        return ()
    lapse = last + timedelta(hours=hours(valid.within)[1])
    try:
        shown = day(valid.within.after(last, tz), tz)
    except InvalidInput:  # past the instants taken
        shown = None
    what = (
        f"lasts {valid.within} from issue, and the last one is issued before {day(last, tz)} "
        "(the incentive's window.ends), so it ends by"
    )
    return (Bound(lapse, f"{path}.valid.within", what, shown),)


# --------------------------------------------------------------------- caps


def _caps(program: Program) -> list[Problem]:
    """Stacking caps that cut a discount: an amount off above ``caps.max_amount``,
    coupons usable on one order above ``caps.max_discounts``."""
    caps = program.stacking.caps
    found = []
    if caps.max_amount is not None:
        cap = Money(caps.max_amount, program.currency)
        for path, amount, cost in _amounts_off(program):
            if amount > caps.max_amount:
                paid = f", though it costs {cost} points" if cost else ""
                found.append(Problem(
                    path,
                    f"is {Money(amount, program.currency)}, above stacking.caps.max_amount "
                    f"{cap}: an order never gets more than {cap} off in all, so it never "
                    f"gives its full amount{paid}",
                    str(amount),
                ))
    if caps.max_discounts is not None:
        for index, incentive in enumerate(program.incentives.catalog):
            most = incentive.limits.per_order
            if most is not None and most > caps.max_discounts:
                found.append(Problem(
                    f"incentives.catalog[{index}].limits.per_order",
                    f"lets an order use {most} of its coupons, but stacking.caps.max_discounts "
                    f"applies at most {caps.max_discounts} discount(s) to an order",
                    most,
                ))
    return found


def _amounts_off(program: Program) -> Iterator[tuple[str, Decimal, int]]:
    """Every fixed amount off: its path, amount and point cost."""
    for index, reward in enumerate(program.rewards.catalog):
        if isinstance(reward, AmountOff):
            yield f"rewards.catalog[{index}].amount", reward.amount, reward.cost
    for index, offer in enumerate(program.offers.catalog):
        if isinstance(offer, AmountOfferConfig):
            yield f"offers.catalog[{index}].amount", offer.amount, 0
    for index, incentive in enumerate(program.incentives.catalog):
        for path, grant in grants_of(incentive, f"incentives.catalog[{index}]"):
            if isinstance(grant, Coupon) and isinstance(grant.offer, AmountOffer):
                yield f"{path}.offer.amount", grant.offer.amount, 0
