"""A quote as one JSON document (``loyalty quote --json``).

Every part of :class:`~loyalty.checkout.quote.Quote`: the earn by line and by rule,
each reward with its whole check tree and, flattened, the unmet conditions with
their reasons and shortfalls, the ``best`` reward, coupons, choices, cashback, the
codes entered, and the cart's stack (every discount applied, in order, with its
lines, or skipped, with why), with the program's ``offers`` among them apart.
Amounts are ``{"amount": "5.00", "currency": "USD"}``; times ISO 8601.
"""

from __future__ import annotations

from typing import Any

from loyalty.checkout.held import CouponOption
from loyalty.checkout.options import RewardOption
from loyalty.checkout.quote import Quote
from loyalty.cli.output import to_json
from loyalty.hurdles import Check
from loyalty.stacking.choose import Stack
from loyalty.stacking.engine import Applied, Candidate, Skipped

__all__ = ["quote_document"]


def quote_document(quote: Quote) -> dict[str, Any]:
    """The JSON values of ``quote`` (see the module)."""
    best = quote.best
    offers = quote.offers
    document = {
        "member_id": quote.member_id,
        "cart_id": quote.cart_id,
        "at": quote.at,
        "available_points": quote.available_points,
        "earn": quote.earn,
        "rewards": [_reward(option) for option in quote.rewards],
        "best": None if best is None else _best(best),
        "shipping_benefit": quote.shipping_benefit,
        "offers": {
            "applied": [_applied(item) for item in offers if isinstance(item, Applied)],
            "skipped": [_skipped(item) for item in offers if isinstance(item, Skipped)],
        },
        "stack": _stack(quote.stack),
        "coupons": [_coupon(coupon) for coupon in quote.coupons],
        "entered": [
            {
                "code": code.code,
                "answer": code.answer,
                "coupon": None if code.option is None else _coupon(code.option),
            }
            for code in quote.entered
        ],
        "choices": quote.choices,
        "wallet": quote.wallet,
        "wallet_payable": quote.wallet_payable,
    }
    result: dict[str, Any] = to_json(document)
    return result


def _unmet(check: Check) -> list[dict[str, Any]]:
    return [
        {"condition": item.condition, "reason": item.reason, "shortfall": item.shortfall}
        for item in check.unmet()
    ]


def _reward(option: RewardOption) -> dict[str, Any]:
    return {
        "reward": option.reward,
        "title": option.title,
        "kind": option.kind,
        "eligible": option.eligible,
        "points": option.points,
        "value": option.value,
        "reasons": list(option.check.reasons()),
        "unmet": _unmet(option.check),
        "check": option.check,
        "lines": option.lines,
        "shipping": option.shipping,
        "choices": option.choices,
        "units": option.units,
        "choice": option.choice,
    }


def _best(option: RewardOption) -> dict[str, Any]:
    return {
        "reward": option.reward,
        "title": option.title,
        "value": option.value,
        "points": option.points,
    }


def _candidate(candidate: Candidate) -> dict[str, Any]:
    return {
        "id": candidate.id,
        "name": candidate.name,
        "label": candidate.label,
        "source": candidate.source,
        "kind": candidate.kind,
        "group": candidate.group,
        "points": candidate.points,
    }


def _applied(item: Applied) -> dict[str, Any]:
    return {
        **_candidate(item.candidate),
        "amount": item.amount,
        "wanted": item.wanted,
        "note": item.note,
        "lines": item.lines,
        "shipping": item.shipping,
    }


def _skipped(item: Skipped) -> dict[str, Any]:
    return {
        **_candidate(item.candidate),
        "reason": item.reason,
        "unmet": _unmet(item.check) if item.check is not None else [],
    }


def _stack(stack: Stack | None) -> dict[str, Any]:
    if stack is None:
        return {"applied": [], "skipped": []}
    return {
        "applied": [_applied(item) for item in stack.applied],
        "skipped": [_skipped(item) for item in stack.skipped],
    }


def _coupon(coupon: CouponOption) -> dict[str, Any]:
    return {
        "code": coupon.code,
        "holding": coupon.holding,
        "title": coupon.title,
        "kind": coupon.kind,
        "value": coupon.value,
        "eligible": coupon.eligible,
        "applied": coupon.applied,
        "takes_off": coupon.takes_off,
        "reasons": list(coupon.check.reasons()),
        "unmet": _unmet(coupon.check),
        "ends_at": coupon.ends_at,
        "ends_in": coupon.ends_in,
    }
