"""Advice over time: tiers nobody can reach or keep, a tier's birthday bonus with no
birthday to give it on, points that expire before they can be spent, and rewards
nobody can afford before their points expire.

Durations are calendar durations, so a comparison is only said when it holds
whatever the start: a month is 28 to 31 days, a year 365 or 366, and a clock
change moves an instant by a few hours (:func:`hours`).

The most points a member can earn in a span is bounded only when every source of
points is: orders by ``earning.caps`` (``per_day`` or ``per_period``; a
``per_order`` cap alone bounds nothing, orders are not counted), bonus actions by
their ``times`` per ``per`` (the ``shipment_delayed`` apology is once per order:
unbounded), a tier's ``birthday_bonus`` through the ``birthday`` action. An
incentive's points grant (on any trigger) leaves it unbounded, and so nothing is
said. Manual credits and points given back by a refund are not earnings, and
points a shop credits through the ledger's own ``earn`` (outside orders and the
program's rules) are not the program's to bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from loyalty.dates import Duration, Period
from loyalty.errors import Problem
from loyalty.hurdles import MinPoints
from loyalty.incentives.config import PointsGrant, grants_of
from loyalty.program.advice_hurdles import leaves
from loyalty.program.model import Program
from loyalty.program.policies import FixedExpiry
from loyalty.rewards.config import PayWithPoints, Reward
from loyalty.tiers.config import Downgrade, DowngradeMode, Match, TierMetric, WindowKind

__all__ = ["Earnable", "days", "expiry_advice", "hours", "most_earned", "tier_advice", "touched"]

_SLACK = 26
"""Hours a clock change can move one instant against another, at most."""
_LEAST_DAYS = (0, 28, 59, 89, 120, 150, 181, 212, 242, 273, 303, 334)
_MOST_DAYS = (0, 31, 62, 92, 123, 153, 184, 215, 245, 276, 306, 337)
"""The fewest and the most days 0 to 11 months span (a year spans 365 or 366)."""
_PERIOD = {
    Period.DAY: Duration(days=1),
    Period.MONTH: Duration(months=1),
    Period.QUARTER: Duration(months=3),
    Period.YEAR: Duration(months=12),
}
_EACH = {Period.DAY: "a day", Period.MONTH: "a month", Period.QUARTER: "a quarter",
         Period.YEAR: "a year"}
_DELAY_ACTION = "shipment_delayed"
"""The bonus action credited once per delayed order (``loyalty.checkout.actions``)."""


def days(duration: Duration) -> tuple[int, int]:
    """The fewest and the most local days the calendar part of ``duration`` (its
    months and days, not its hours) can span, from any start."""
    years, months = divmod(duration.months, 12)
    return (
        365 * years + _LEAST_DAYS[months] + duration.days,
        366 * years + _MOST_DAYS[months] + duration.days,
    )


def hours(duration: Duration) -> tuple[int, int]:
    """The fewest and the most hours ``duration`` can last, from any start."""
    low, high = days(duration)
    return max(low * 24 + duration.hours - _SLACK, 0), high * 24 + duration.hours + _SLACK


def _plus(duration: Duration, other: Duration) -> Duration:
    return Duration(
        duration.months + other.months, duration.days + other.days, duration.hours + other.hours
    )


def touched(span: Duration, period: Period, aligned: bool = False) -> int:
    """How many calendar ``period`` a span of ``span`` can touch, at most. ``aligned``:
    the span is a calendar year (then a year holds 366 days, 12 months, 4 quarters)."""
    if aligned:
        return {Period.DAY: 366, Period.MONTH: 12, Period.QUARTER: 4, Period.YEAR: 1}[period]
    extra = span.days + ceil(span.hours / 24)
    months = span.months + ceil(extra / 28)
    if period is Period.DAY:
        return days(Duration(months=span.months))[1] + extra + 1
    per = {Period.MONTH: 1, Period.QUARTER: 3, Period.YEAR: 12}[period]
    return ceil(months / per) + 1


@dataclass(frozen=True, slots=True)
class Earnable:
    """The most points a member can earn in a span, and where they come from."""

    most: int
    parts: tuple[str, ...]

    def __str__(self) -> str:
        return "; ".join(self.parts)


def most_earned(program: Program, span: Duration, aligned: bool = False) -> Earnable | None:
    """The most points a member can earn in ``span`` (see the module), or ``None``:
    there is no bound."""
    caps = program.earning.caps
    options: list[tuple[int, str]] = []
    if caps.per_day is not None:
        options.append((caps.per_day * touched(span, Period.DAY, aligned),
                        f"orders at most {caps.per_day} a day by earning.caps.per_day"))
    if caps.per_period is not None:
        cap = caps.per_period
        options.append((cap.points * touched(span, cap.period, aligned),
                        f"orders at most {cap.points} {_EACH[cap.period]} "
                        "by earning.caps.per_period"))
    if not options or _grants_points(program):
        return None
    most, said = min(options)
    parts = [said]
    bonus = 0
    for name, action in program.earning.actions.items():
        if name == _DELAY_ACTION:
            return None
        points = action.points
        if name == "birthday" and program.tiers is not None:
            points += max(tier.benefits.birthday_bonus for tier in program.tiers.ladder)
        times = action.times if action.per == "lifetime" else (
            action.times * touched(span, Period(action.per), aligned)
        )
        bonus += points * times
    if bonus:
        parts.append(f"bonus actions at most {bonus}")
    return Earnable(most + bonus, tuple(parts))


def _grants_points(program: Program) -> bool:
    return any(
        isinstance(grant, PointsGrant)
        for index, incentive in enumerate(program.incentives.catalog)
        for _, grant in grants_of(incentive, f"incentives.catalog[{index}]")
    )


# ---------------------------------------------------------------------- tiers


def tier_advice(program: Program) -> list[Problem]:
    """A tier's ``birthday_bonus`` without a ``birthday`` action to ride on, a tier
    nobody can keep past a review (``retention: 0``), and a ``points`` threshold above
    the most points a member can earn in the window."""
    tiers = program.tiers
    if tiers is None:
        return []
    found = _birthday_advice(program)
    if len(tiers.ladder) < 2:
        return found
    entry = tiers.ladder[0].name
    if tiers.retention == 0 and tiers.downgrade_mode is DowngradeMode.AT_REVIEW:
        step = "one tier" if tiers.downgrade is Downgrade.ONE_STEP else f"to {entry!r}"
        found.append(Problem(
            "tiers.retention",
            f"is 0: at every review each member above {entry!r} moves down {step} whatever "
            "their figures, so nobody keeps a tier past a review",
            0,
        ))
    window = tiers.window
    if TierMetric.POINTS not in tiers.metrics or window.kind is WindowKind.LIFETIME:
        return found
    span = window.length if window.length is not None else Duration(months=12)
    aligned = window.kind is WindowKind.CALENDAR_YEAR and (
        tiers.count_pending_points or program.pending.period.is_zero
    )
    earnable = most_earned(program, span, aligned)
    if earnable is None:
        return found
    within = {WindowKind.CALENDAR_YEAR: "a calendar year",
              WindowKind.ANNIVERSARY: "a membership year"}.get(window.kind, str(span))
    for index, tier in enumerate(tiers.ladder[1:], start=1):
        need = tier.threshold.get(TierMetric.POINTS)
        if need is None or need <= earnable.most:
            continue
        others = [metric for metric in tier.threshold if metric is not TierMetric.POINTS]
        if tiers.match is Match.ANY and others:
            continue  # reachable by another metric
        found.append(Problem(
            f"tiers.ladder[{index}].threshold.points",
            f"needs {need} points in {within}, but a member earns at most {earnable.most} in "
            f"one ({earnable}): nobody can reach {tier.name!r}",
            int(need),
        ))
    return found


def _birthday_advice(program: Program) -> list[Problem]:
    """A tier's ``birthday_bonus`` is given on top of the ``birthday`` bonus action's
    points (``loyalty.checkout.actions``): without the action, never."""
    if program.tiers is None or "birthday" in program.earning.actions:
        return []
    return [
        Problem(
            f"tiers.ladder[{index}].benefits.birthday_bonus",
            f"is {tier.benefits.birthday_bonus} points on top of the 'birthday' bonus action, "
            f"but earning.actions has no 'birthday': members of {tier.name!r} never get it "
            "(add the action, even of few points, or give the gift as a birthday incentive)",
            tier.benefits.birthday_bonus,
        )
        for index, tier in enumerate(program.tiers.ladder)
        if tier.benefits.birthday_bonus
    ]


# ------------------------------------------------------------------- expiry


def expiry_advice(program: Program) -> list[Problem]:
    """Points that expire before they leave pending, and rewards that cost more than
    a member can earn before their points expire."""
    expiry = program.expiry
    if not isinstance(expiry, FixedExpiry):
        return []
    found = []
    pending = program.pending.period
    life = expiry.after
    rounded = ""
    if expiry.round_up_to is not None:
        rounded = f", rounded up to the end of the {expiry.round_up_to.value}"
        life = _plus(life, _PERIOD[expiry.round_up_to])
    if _at_least(pending, expiry.after, expiry.round_up_to):
        found.append(Problem(
            "expiry.after",
            f"points expire {expiry.after} after they are earned{rounded}, but stay pending "
            f"for {pending} (pending.period): points earned on orders expire before they can "
            "be spent",
            str(expiry.after),
        ))
    earnable = most_earned(program, life)
    if earnable is None:
        return found
    for index, reward in enumerate(program.rewards.catalog):
        path = f"rewards.catalog[{index}]"
        need, where = _need(reward, path)
        if need > earnable.most:
            found.append(Problem(
                where,
                f"is {need} points, but points expire {expiry.after} after they are earned"
                f"{rounded} and a member earns at most {earnable.most} in that time ({earnable}): "
                f"nobody can afford reward {reward.id!r}",
                need,
            ))
    return found


def _at_least(duration: Duration, other: Duration, rounded: Period | None) -> bool:
    """Does ``duration`` from any instant end at or after ``other`` from it, rounded up
    to the end of its ``rounded`` period? Calendar parts move the local wall time, so
    a later local day is a later instant (a clock change moves it by hours)."""
    if rounded is None and (
        duration.months >= other.months
        and duration.days >= other.days
        and duration.hours >= other.hours
    ):
        return True
    most = days(other)[1] + (days(_PERIOD[rounded])[1] if rounded is not None else 0)
    if not duration.hours and not other.hours:
        return days(duration)[0] >= most
    return hours(duration)[0] >= most * 24 + other.hours + _SLACK


def _need(reward: Reward, path: str) -> tuple[int, str]:
    """The points redeeming ``reward`` needs a member to hold, and the key that says so."""
    if isinstance(reward, PayWithPoints):
        need = max(reward.min_points, reward.step)
        where = f"{path}.{'min_points' if need > reward.step else 'step'}"
    else:
        need, where = reward.cost, f"{path}.cost"
    if reward.hurdles is not None:
        for leaf in leaves(reward.hurdles, f"{path}.hurdles"):
            condition = leaf.condition
            if (
                leaf.must
                and not leaf.negated
                and isinstance(condition, MinPoints)
                and condition.points > need
            ):
                need, where = condition.points, leaf.path
    return need, where
