"""Checks across sections: every tier, reward and currency a section names must exist.

A reward's ``tiers``, an earning rule's ``tiers``, a ``min_tier`` hurdle (of a
reward or a coupon) and an audience's ``tiers`` (of a reward or an incentive) name
tiers of the ladder; a tier's ``benefits.rewards`` name rewards of the
catalog; ``earning.currencies`` lists currencies other than the program's.

Every reward, offer and coupon names a stacking ``group`` of ``stacking.groups``
(or ``default``), and ``combines_with`` names rewards or offers; a
``combines_with`` that only one side says is advice (:func:`cross_warnings`):
it combines both ways.
"""

from __future__ import annotations

from collections.abc import Iterator

from loyalty.errors import Problem
from loyalty.hurdles import Condition, MinTier, walk
from loyalty.incentives.audience import Audience
from loyalty.incentives.config import grants_of
from loyalty.program.model import Program
from loyalty.stacking.config import Stackable

__all__ = ["cross_problems", "cross_warnings"]


def cross_problems(program: Program) -> list[Problem]:
    """Every reference from one section to another that does not resolve, with its path."""
    found = []
    tiers = [tier.name for tier in program.tiers.ladder] if program.tiers else []
    for path, name in _tier_references(program):
        if name not in tiers:
            known = f"the ladder has {', '.join(map(repr, tiers))}" if tiers else "no tiers"
            found.append(Problem(path, f"{name!r} is not a tier ({known})", name))
    rewards = {reward.id for reward in program.rewards.catalog}
    for index, tier in enumerate(program.tiers.ladder if program.tiers else ()):
        for position, reward_id in enumerate(tier.benefits.rewards):
            if reward_id not in rewards:
                found.append(
                    Problem(
                        f"tiers.ladder[{index}].benefits.rewards[{position}]",
                        f"{reward_id!r} is not a reward of the catalog",
                        reward_id,
                    )
                )
    found.extend(_stacking_problems(program))
    if program.currency in program.earning.currencies:
        found.append(
            Problem(
                f"earning.currencies.{program.currency}",
                "is the program currency; list only other currencies",
                program.currency,
            )
        )
    return found


def _tier_references(program: Program) -> Iterator[tuple[str, str]]:
    for index, rule in enumerate(program.earning.rules):
        for position, name in enumerate(rule.tiers):
            yield f"earning.rules[{index}].tiers[{position}]", name
    for index, reward in enumerate(program.rewards.catalog):
        where = f"rewards.catalog[{index}]"
        for position, name in enumerate(reward.tiers):
            yield f"{where}.tiers[{position}]", name
        yield from _hurdle_tiers(reward.hurdles, f"{where}.hurdles")
        yield from _audience_tiers(reward.audience, f"{where}.audience")
    for index, incentive in enumerate(program.incentives.catalog):
        where = f"incentives.catalog[{index}]"
        yield from _audience_tiers(incentive.audience, f"{where}.audience")
        for path, grant in grants_of(incentive, where):
            yield from _hurdle_tiers(getattr(grant, "hurdles", None), f"{path}.hurdles")


def _hurdle_tiers(hurdles: Condition | None, where: str) -> Iterator[tuple[str, str]]:
    if hurdles is not None:
        for path, condition in walk(hurdles, where):
            if isinstance(condition, MinTier):
                yield path, condition.tier


def _audience_tiers(audience: Audience | None, where: str) -> Iterator[tuple[str, str]]:
    for position, name in enumerate(audience.tiers if audience is not None else ()):
        yield f"{where}.tiers[{position}]", name


def _stackables(program: Program) -> Iterator[tuple[str, Stackable]]:
    """Every reward, offer and coupon offer, with its path."""
    for index, reward in enumerate(program.rewards.catalog):
        yield f"rewards.catalog[{index}]", reward
    for index, offer in enumerate(program.offers.catalog):
        yield f"offers.catalog[{index}]", offer
    for index, incentive in enumerate(program.incentives.catalog):
        for path, grant in grants_of(incentive, f"incentives.catalog[{index}]"):
            if isinstance(grant, Stackable):
                yield path, grant


def _stacking_problems(program: Program) -> list[Problem]:
    found = []
    rewards = {reward.id for reward in program.rewards.catalog}
    for index, offer in enumerate(program.offers.catalog):
        if offer.id in rewards:
            found.append(Problem(f"offers.catalog[{index}].id",
                                 f"{offer.id!r} is a reward's id too; combines_with and the "
                                 "quote name both by it", offer.id))
    stacking = program.stacking
    groups = ", ".join(repr(group.id) for group in stacking.groups) or "none but 'default'"
    names = _names(program)
    for path, item in _stackables(program):
        if not stacking.known(item.group):
            found.append(Problem(f"{path}.group", f"{item.group!r} is not a stacking group "
                                 f"(stacking.groups has {groups})", item.group))
        for position, other in enumerate(item.combines_with):
            if other not in names:
                found.append(Problem(f"{path}.combines_with[{position}]",
                                     f"{other!r} is not a reward or an offer", other))
    return found


def _names(program: Program) -> set[str]:
    return {r.id for r in program.rewards.catalog} | {o.id for o in program.offers.catalog}


def cross_warnings(program: Program) -> list[Problem]:
    """Advice across sections: a ``combines_with`` only one side says, or on a
    discount that is not on lines (only line discounts close units to others)."""
    said = {
        getattr(item, "id", ""): (path, set(item.combines_with))
        for path, item in _stackables(program)
        if path.startswith(("rewards", "offers"))
    }
    found = []
    for path, item in _stackables(program):
        if item.combines_with and not _on_lines(item):
            found.append(Problem(f"{path}.combines_with",
                                 "has no effect: only discounts on selected products' units "
                                 "(line discounts) close units to others", item.combines_with))
    for name, (path, others) in said.items():
        for other in sorted(others):
            if other in said and name not in said[other][1]:
                found.append(Problem(
                    f"{path}.combines_with",
                    f"names {other!r}, which does not name {name!r}; they combine both ways",
                    other,
                ))
    return found


def _on_lines(item: Stackable) -> bool:
    """Is ``item`` a line discount (on units of selected products, free units, buy X
    get Y, an item cap)?"""
    kind = getattr(item, "kind", None)
    if kind in ("free_product", "buy_x_get_y", "gift"):
        return True
    if kind in ("percent_off", "amount_off"):
        return bool(
            getattr(item, "products", None) or getattr(item, "max_items", None)
            or getattr(item, "allocation", "across") != "across"
        )
    return False
