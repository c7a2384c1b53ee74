"""Finding what a step names by its incentive: codes and holding keys are drawn at
random, so a scenario names a coupon or a choice by the incentive that gave it.

The program's side (:func:`coupon_grants`, :func:`choices`) checks a file before it
runs; the member's side (:func:`coupon_of`, :func:`choice_of`) picks the holding when
the step runs: the oldest one usable now or, if none is, the newest whatever its state,
so that the engine refuses it in its own words (a coupon used, expired, revoked).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence

from loyalty.incentives.config import (
    AllOf,
    ChoicePolicy,
    Coupon,
    FreeShippingGrant,
    Gift,
    Incentive,
    OneOf,
)
from loyalty.incentives.holdings import choice_of, coupon_of
from loyalty.ledger.entries import Holding

__all__ = ["choice_of", "choices", "coupon_grants", "coupon_of", "option_of", "option_problem"]


def _grants(grants: Sequence[object]) -> Iterator[object]:
    for grant in grants:
        yield grant
        if isinstance(grant, AllOf | OneOf):
            yield from _grants(grant.grants)


def coupon_grants(incentive: Incentive) -> bool:
    """Does ``incentive`` issue coupons (a coupon, free shipping or a gift, at any depth)?"""
    return any(
        isinstance(grant, Coupon | FreeShippingGrant | Gift) for grant in _grants(incentive.grants)
    )


def choices(incentive: Incentive) -> list[OneOf]:
    """The choices ``incentive`` leaves to the member (``one_of``, ``member_picks``)."""
    return [
        grant
        for grant in _grants(incentive.grants)
        if isinstance(grant, OneOf) and grant.policy is ChoicePolicy.MEMBER_PICKS
    ]


def option_problem(incentive: Incentive, option: int | str) -> str | None:
    """Why ``option`` names no option of the incentive's choices, if it does not."""
    found = choices(incentive)
    if not found:
        return f"incentive {incentive.id!r} leaves no choice to the member"
    if isinstance(option, int):
        most = max(len(choice.grants) for choice in found)
        if option < most:
            return None
        return f"option {option}: pick a number from 0 to {most - 1}"
    names = [
        name
        for choice in found
        for grant in choice.grants
        for name in (getattr(grant, "sku", None), getattr(grant, "title", None))
        if name
    ]
    if option in names:
        return None
    listed = ", ".join(names)
    return f"option {option!r} is none of the choice's (give a number, or one of: {listed})"


def option_of(holding: Holding | None, option: int | str) -> int | str:
    """``option`` as the engine takes it: a number or a gift's sku (a title is the
    number of the option with that title)."""
    if holding is None or isinstance(option, int):
        return option
    try:
        options = json.loads(holding.offer)
    except ValueError:
        return option
    if not isinstance(options, list):
        return option
    if any(isinstance(item, dict) and item.get("sku") == option for item in options):
        return option
    for index, item in enumerate(options):
        if isinstance(item, dict) and item.get("title") == option:
            return index
    return option
