"""Advice on who sees a reward or an offer, and on incentives for members who enrol.

* A reward's ``tiers`` (and the tiers whose ``benefits.rewards`` list it) that share
  no tier with its ``audience.tiers``; a ``min_tier`` above every tier that sees it;
  an audience whose ``min_orders`` is above its ``max_orders``; a ``repeat_order``
  above the audience's ``max_orders``; an audience of segments the hurdles exclude
  with ``not``.
* An ``enrolled`` incentive whose audience needs orders or spend (a member who is
  enrolling has neither: it never fires), or whose coupon asks for ``repeat_order``
  (it cannot be used on the first orders).
"""

from __future__ import annotations

from collections.abc import Iterable

from loyalty.errors import Problem
from loyalty.hurdles import Condition, InSegment, MinTier, RepeatOrder
from loyalty.incentives.audience import Audience
from loyalty.incentives.config import OnEnrol, grants_of
from loyalty.program.advice_hurdles import leaves
from loyalty.program.model import Program

__all__ = ["audience_advice", "enrolment_advice"]



def audience_advice(program: Program, ladder: tuple[str, ...]) -> list[Problem]:
    """Rewards and offers nobody sees, or nobody who sees can redeem."""
    listed: dict[str, set[str]] = {}
    for tier in program.tiers.ladder if program.tiers else ():
        for reward_id in tier.benefits.rewards:
            listed.setdefault(reward_id, set()).add(tier.name)
    found = []
    for index, reward in enumerate(program.rewards.catalog):
        path = f"rewards.catalog[{index}]"
        seen = set(reward.tiers) | listed.get(reward.id, set())
        never = f"nobody can redeem reward {reward.id!r}"
        found.extend(_audience(reward.audience, reward.hurdles, seen, path, "hurdles", never,
                               ladder))
    for index, offer in enumerate(program.offers.catalog):
        path = f"offers.catalog[{index}]"
        never = f"offer {offer.id!r} never applies"
        found.extend(_audience(offer.audience, offer.conditions, set(), path, "conditions",
                               never, ladder))
    return found


def _audience(
    audience: Audience | None,
    hurdles: Condition | None,
    seen: set[str],
    path: str,
    key: str,
    never: str,
    ladder: tuple[str, ...],
) -> list[Problem]:
    """The advice on one reward or offer at ``path``: ``seen`` are the tiers that see
    it (none: every tier), ``key`` the key of its ``hurdles``."""
    found = []
    audience = audience or Audience()
    if seen and audience.tiers and not seen & set(audience.tiers):
        found.append(Problem(
            f"{path}.audience.tiers",
            f"keeps it to tiers {_names(audience.tiers, ladder)}, but only tiers "
            f"{_names(seen, ladder)} see it (its tiers and the tiers' benefits.rewards): {never}",
            list(audience.tiers),
        ))
        return found
    if audience.min_orders is not None and audience.max_orders is not None and (
        audience.min_orders > audience.max_orders
    ):
        found.append(Problem(
            f"{path}.audience.max_orders",
            f"is below min_orders {audience.min_orders}: nobody is in the audience, so {never}",
            audience.max_orders,
        ))
    tiers = (seen & set(audience.tiers)) if seen and audience.tiers else (
        seen or set(audience.tiers)
    )
    if hurdles is None:
        return found
    for leaf in leaves(hurdles, f"{path}.{key}"):
        condition = leaf.condition
        if not leaf.must or leaf.negated:
            continue
        if isinstance(condition, MinTier) and tiers and condition.tier in ladder:
            need = ladder.index(condition.tier)
            if all(ladder.index(tier) < need for tier in tiers if tier in ladder):
                found.append(Problem(
                    leaf.path,
                    f"needs tier {condition.tier} or above, but only tiers "
                    f"{_names(tiers, ladder)} see it: {never}",
                    condition.tier,
                ))
        if isinstance(condition, RepeatOrder) and audience.max_orders is not None and (
            condition.orders_before > audience.max_orders
        ):
            found.append(Problem(
                leaf.path,
                f"needs {condition.orders_before} completed order(s) before this one, but its "
                f"audience keeps it to members with at most {audience.max_orders} "
                f"(audience.max_orders): {never}",
                condition.orders_before,
            ))
    excluded = {
        leaf.condition.segment
        for leaf in leaves(hurdles, f"{path}.{key}")
        if leaf.must and leaf.negated and isinstance(leaf.condition, InSegment)
    }
    if audience.segments and set(audience.segments) <= excluded:
        found.append(Problem(
            f"{path}.audience.segments",
            f"keeps it to segment(s) {', '.join(audience.segments)}, which its {key} exclude "
            f"with 'not': {never}",
            list(audience.segments),
        ))
    return found


def _names(tiers: Iterable[str], ladder: tuple[str, ...]) -> str:
    names = set(tiers)
    return ", ".join(repr(name) for name in ladder if name in names) or "none"


# ---------------------------------------------------------------- enrolment


def enrolment_advice(program: Program) -> list[Problem]:
    """Incentives on enrolment that ask for orders a member who just joined has not made."""
    found = []
    for index, incentive in enumerate(program.incentives.catalog):
        if not isinstance(incentive.trigger, OnEnrol):
            continue
        path = f"incentives.catalog[{index}]"
        audience = incentive.audience
        if audience is not None:
            for name, value in (("min_orders", audience.min_orders),
                                ("min_spend", audience.min_spend)):
                if value is not None:
                    found.append(Problem(
                        f"{path}.audience.{name}",
                        f"is {value}, but a member who is enrolling has no orders yet: "
                        f"incentive {incentive.id!r} never fires",
                        value,
                    ))
        for grant_path, grant in grants_of(incentive, path):
            hurdles = getattr(grant, "hurdles", None)
            if hurdles is None:
                continue
            for leaf in leaves(hurdles, f"{grant_path}.hurdles"):
                condition = leaf.condition
                if leaf.must and not leaf.negated and isinstance(condition, RepeatOrder):
                    n = condition.orders_before
                    found.append(Problem(
                        leaf.path,
                        f"asks for {n} completed order(s) before, on a coupon issued when a "
                        f"member enrols, with no orders: it cannot be used on their first "
                        f"{'order' if n == 1 else f'{n} orders'}",
                        n,
                    ))
    return found
