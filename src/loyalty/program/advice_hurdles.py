"""Advice on one set of hurdles: conditions that are always met, never met, or that
contradict each other or the dates of what they guard.

What the hurdles guard is a :class:`Holder`: a reward (its ``hurdles``), an offer
(its ``conditions``) or an incentive's coupon (its ``hurdles``), with the points
a member surely holds when it applies (a reward's cost) and the dates it opens
and closes on. Only what is certain is said:

* a condition is *always met* when the holder itself implies it (``min_points``
  at most the reward's cost; ``min_tier`` naming the entry tier), and *never met*
  under a ``not`` then;
* conditions that must all hold (the ``all_of`` lists, a ``not`` of an ``any_of``)
  contradict each other when one asks for at least what another keeps below
  (``min_basket: 50`` beside ``not: {min_basket: 40}``), or asks for what another
  excludes (``segment: vip`` beside ``not: {segment: vip}``);
* the dates never meet when the latest opening (``valid.starts``, a ``window``
  hurdle's ``starts``, an incentive's first issue) is at or after the earliest
  closing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from loyalty.errors import Problem
from loyalty.hurdles import (
    AllOf,
    AnyOf,
    Condition,
    DateWindow,
    MinBasket,
    MinItems,
    MinPoints,
    MinTier,
    MinUnits,
    Not,
    RepeatOrder,
)
from loyalty.money import Money

__all__ = ["Bound", "Holder", "Leaf", "hurdle_advice", "leaves"]


@dataclass(frozen=True, slots=True)
class Bound:
    """An instant a holder opens or closes on, the key that says so and how to say it:
    ``what`` reads before the date ("ends on", "its valid dates open on"). ``shown``:
    the date to show, when ``at`` is a bound on it (an opening no later, a closing no
    earlier)."""

    at: datetime
    path: str
    what: str
    shown: str | None = None

    def said(self, tz: ZoneInfo) -> str:
        return self.shown or day(self.at, tz)


@dataclass(frozen=True, slots=True)
class Holder:
    """What a set of hurdles guards, as the advice needs it."""

    path: str
    """Its path: ``rewards.catalog[0]``."""
    never: str
    """What it means for it that the hurdles are never met: "nobody can redeem reward 'x'"."""
    hurdles: Condition | None
    key: str = "hurdles"
    """The key its hurdles are under: ``hurdles`` or ``conditions``."""
    need: int = 0
    """The points a member surely holds when it applies (a reward's cost), or 0."""
    need_what: str = ""
    """Those points, said as a noun: "the reward's cost of 100 points"."""
    opens: tuple[Bound, ...] = ()
    closes: tuple[Bound, ...] = ()


@dataclass(frozen=True, slots=True)
class Leaf:
    """A condition that is not ``all_of``, ``any_of`` or ``not``, where it stands.

    ``negated``: under an odd number of ``not``. ``must``: it holds (or, negated, fails)
    whenever the whole does. ``choice``: the path of the nearest ``any_of`` (or negated
    ``all_of``) it is one option of, if any."""

    path: str
    condition: Condition
    negated: bool = False
    must: bool = True
    choice: str | None = None


def leaves(
    condition: Condition,
    path: str,
    negated: bool = False,
    must: bool = True,
    choice: str | None = None,
) -> Iterator[Leaf]:
    """Every leaf of ``condition``, with its path as :func:`loyalty.hurdles.walk` says it."""
    here = f"{path}.{condition.kind}"
    if isinstance(condition, AllOf | AnyOf):
        every = isinstance(condition, AllOf) != negated or len(condition.conditions) == 1
        for index, child in enumerate(condition.conditions):
            yield from leaves(
                child, f"{here}[{index}]", negated, must and every, choice if every else here
            )
    elif isinstance(condition, Not):
        yield from leaves(condition.condition, here, not negated, must, choice)
    else:
        yield Leaf(here, condition, negated, must, choice)


def hurdle_advice(
    holder: Holder, ladder: tuple[str, ...], currency: str, tz: ZoneInfo
) -> list[Problem]:
    """Every certain advice about ``holder``'s hurdles and dates (see the module)."""
    found: list[Problem] = []
    every = (
        list(leaves(holder.hurdles, f"{holder.path}.{holder.key}"))
        if holder.hurdles is not None
        else []
    )
    for leaf in every:
        problem = _fixed(leaf, holder, ladder)
        if problem is not None:
            found.append(problem)
    must = [leaf for leaf in every if leaf.must]
    found.extend(_contradictions(must, holder, ladder, currency))
    found.extend(_dates(must, holder, tz))
    return found


# ------------------------------------------------------------- always met


def _fixed(leaf: Leaf, holder: Holder, ladder: tuple[str, ...]) -> Problem | None:
    """A leaf whose outcome the holder decides: always met (never, under a ``not``)."""
    condition = leaf.condition
    if isinstance(condition, MinPoints) and holder.need and condition.points <= holder.need:
        value: object = condition.points
        if leaf.negated:
            why = f"a member it applies to holds at least {holder.need} points ({holder.need_what})"
        elif condition.points == holder.need:
            why = f"repeats {holder.need_what}: redeeming already takes them"
        else:
            why = f"asks for {condition.points} points, fewer than {holder.need_what}"
    elif isinstance(condition, MinTier) and ladder and condition.tier == ladder[0]:
        value = condition.tier
        why = f"names the entry tier {condition.tier!r}, which every member is in"
    else:
        return None
    if leaf.negated:
        tail = f": {holder.never}" if leaf.must else ""
        return Problem(leaf.path, f"is never met under its 'not': {why}{tail}", value)
    if leaf.must:
        tail = "remove it"
    else:
        around = _relative(leaf.choice, holder)
        tail = f"and so is the {_last_kind(leaf.choice)} around it ({around})"
    return Problem(leaf.path, f"{why}, so it is always met; {tail}", value)


def _last_kind(path: str | None) -> str:
    return (path or "").rsplit(".", 1)[-1].split("[")[0]


def _relative(path: str | None, holder: Holder) -> str:
    text = path or ""
    prefix = f"{holder.path}."
    return text[len(prefix):] if text.startswith(prefix) else text


# ----------------------------------------------------------- contradictions


def _measure(
    leaf: Leaf, ladder: tuple[str, ...], currency: str
) -> tuple[tuple[object, ...], Decimal, str, str] | None:
    """A numeric condition's key, value, and how to say "at least" and "below" it."""
    c = leaf.condition
    if isinstance(c, MinPoints):
        return ("points",), Decimal(c.points), f"at least {c.points} points", (
            f"fewer than {c.points} points"
        )
    if isinstance(c, RepeatOrder):
        n = c.orders_before
        return ("orders",), Decimal(n), f"at least {n} completed order(s) before this one", (
            f"fewer than {n} completed order(s) before this one"
        )
    if isinstance(c, MinBasket):
        money = Money(c.amount, currency)
        what = "basket" if c.basis.value == "merchandise" else c.basis.value
        when = "" if c.discounts == "after" else " before discounts"
        return ("basket", c.basis, c.discounts), c.amount, f"a {what}{when} of at least {money}", (
            f"a {what}{when} below {money}"
        )
    if isinstance(c, MinUnits | MinItems):
        count = c.units if isinstance(c, MinUnits) else c.items
        noun = "units" if isinstance(c, MinUnits) else "different products"
        of = f" of {c.products.describe()}" if c.products is not None else ""
        return (c.kind, c.products), Decimal(count), f"at least {count} {noun}{of}", (
            f"fewer than {count} {noun}{of}"
        )
    if isinstance(c, MinTier) and c.tier in ladder:
        return ("tier",), Decimal(ladder.index(c.tier)), f"tier {c.tier} or above", (
            f"a tier below {c.tier}"
        )
    return None


def _contradictions(
    must: list[Leaf], holder: Holder, ladder: tuple[str, ...], currency: str
) -> list[Problem]:
    """Conditions that must all hold and cannot: one at least what another keeps below,
    or one the very condition another excludes."""
    lows: dict[tuple[object, ...], tuple[Decimal, Leaf, str]] = {}
    highs: dict[tuple[object, ...], tuple[Decimal, Leaf, str]] = {}
    for leaf in must:
        measured = _measure(leaf, ladder, currency)
        if measured is None:
            continue
        key, value, least, below = measured
        if leaf.negated:
            if key not in highs or value < highs[key][0]:
                highs[key] = (value, leaf, below)
        elif key not in lows or value > lows[key][0]:
            lows[key] = (value, leaf, least)
    found = []
    for key, (low, leaf, least) in lows.items():
        if key in highs and low >= highs[key][0]:
            _, cap, below = highs[key]
            message = (
                f"asks for {least}, but {_relative(cap.path, holder)} asks for {below}: "
                f"no order has both, so {holder.never}"
            )
            found.append(Problem(leaf.path, message, written(leaf.condition)))
    for leaf in must:
        if leaf.negated or _measure(leaf, ladder, currency) is not None:
            continue
        for other in must:
            if other.negated and other.condition == leaf.condition:
                message = (
                    f"is asked for here and excluded by {_relative(other.path, holder)}: "
                    f"no order meets both, so {holder.never}"
                )
                found.append(Problem(leaf.path, message, written(leaf.condition)))
                break
    return found


def written(condition: Condition) -> object:
    """A condition's value as its short form writes it (``min_basket: "50.00"``)."""
    fields = condition.model_dump(mode="json", exclude_defaults=True)
    return next(iter(fields.values())) if len(fields) == 1 else fields


# --------------------------------------------------------------------- dates


def _dates(must: list[Leaf], holder: Holder, tz: ZoneInfo) -> list[Problem]:
    """The latest opening at or after the earliest closing: the dates never meet."""
    opens, closes = list(holder.opens), list(holder.closes)
    for leaf in must:
        window = leaf.condition
        if not isinstance(window, DateWindow) or leaf.negated:
            continue
        start, end = window.start(tz), window.end(tz)
        where = _relative(leaf.path, holder)
        if start is not None:
            opens.append(Bound(start, f"{leaf.path}.starts", f"its window ({where}) opens on"))
        if end is not None:
            closes.append(Bound(end, f"{leaf.path}.ends", "ends on"))
    if not opens or not closes:
        return []
    opening = max(opens, key=lambda bound: bound.at)
    closing = min(closes, key=lambda bound: bound.at)
    if opening.at < closing.at:
        return []
    message = f"{closing.what} {closing.said(tz)}, before {opening.what} {opening.said(tz)}: "
    return [Problem(closing.path, message + holder.never, closing.said(tz))]


def day(at: datetime, tz: ZoneInfo) -> str:
    """An instant as a reader of the program writes it: the local date, with the time
    of day unless it is midnight."""
    local = at.astimezone(tz)
    if local.time() == time():
        return local.date().isoformat()
    return local.strftime("%Y-%m-%d %H:%M")
