"""Checks across sections: every tier, reward and currency a section names must exist.

A reward's ``tiers``, an earning rule's ``tiers`` and a ``min_tier`` hurdle
name tiers of the ladder; a tier's ``benefits.rewards`` name rewards of the
catalog; ``earning.currencies`` lists currencies other than the program's.
"""

from __future__ import annotations

from collections.abc import Iterator

from loyalty.errors import Problem
from loyalty.hurdles import MinTier, walk
from loyalty.program.model import Program

__all__ = ["cross_problems"]


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
        if reward.hurdles is not None:
            for path, condition in walk(reward.hurdles, f"{where}.hurdles"):
                if isinstance(condition, MinTier):
                    yield path, condition.tier
