"""The JSON the backend takes and gives.

Request bodies are pydantic models, so FastAPI checks their shape (a missing field, a
number where text belongs) and documents them. What they hold is then checked by the
library: a cart or order is passed on as it came, and ``load_cart`` reports each of its
problems with its path. Strict types: nothing is coerced (``"3"`` is not 3), and amounts
of money are text (``"12.50"``), never a JSON number, which would arrive as a float.

Responses are plain dicts built from the library's results. A webhook's response is
built from the result of ``service.handle`` only, never from the member's state now,
so a redelivery (which returns the original result) gets the original response.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from loyalty import (
    Balance,
    Earn,
    Fired,
    Grant,
    OrderResult,
    Quote,
    Redemption,
    RefundResult,
    RewardOption,
    Statement,
    Void,
)
from loyalty.service import Member

from .errors import jsonable

__all__ = [
    "Checkout",
    "Enrolment",
    "OrderCompletedWebhook",
    "OrderRefundedWebhook",
    "ShipmentDelayedWebhook",
]

Instant = Field(
    description="When it happened: ISO 8601 with a UTC offset", examples=["2026-03-01T10:05:00Z"]
)


class _Body(BaseModel):
    # A misspelt optional field ("shiping") is refused, not silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


# --8<-- [start:bodies]
class Enrolment(_Body):
    member_id: StrictStr
    enrolled_at: StrictStr | None = Field(
        None,
        description="When the customer signed up; now if omitted. Send it, so that a "
        "retried enrolment has the same details and is answered with the same member.",
    )
    birthday: StrictStr | None = Field(None, examples=["1990-05-17"])
    segments: list[StrictStr] = []


class OrderCompletedWebhook(_Body):
    id: StrictStr = Field(
        description="The webhook's id: the same on every retry of this notification"
    )
    occurred_at: StrictStr = Instant
    order: dict[str, Any] = Field(description="The order, as a cart (docs/cart.md)")


class OrderRefundedWebhook(_Body):
    id: StrictStr
    occurred_at: StrictStr = Instant
    member_id: StrictStr
    order_id: StrictStr
    lines: dict[str, StrictInt] | None = Field(None, description="line ref -> units refunded")
    amount: StrictStr | None = Field(None, description="money off the order", examples=["12.00"])
    shipping: StrictBool = False


class ShipmentDelayedWebhook(_Body):
    id: StrictStr
    occurred_at: StrictStr = Instant
    member_id: StrictStr
    order_id: StrictStr


class Checkout(_Body):
    reward_id: StrictStr
    cart: dict[str, Any]


# --8<-- [end:bodies]


def money(value: Any) -> Any:
    return jsonable(value)


def balance_view(balance: Balance) -> dict[str, Any]:
    return {
        "available": balance.available,
        "pending": balance.pending,
        "debt": balance.debt,
        "net": balance.net,
        "earned": balance.earned,
        "redeemed": balance.redeemed,
        "returned": balance.returned,
        "expired": balance.expired,
        "reversed": balance.reversed,
        "adjusted": balance.adjusted,
    }


def member_view(member: Member) -> dict[str, Any]:
    return {
        "member_id": member.member_id,
        "enrolled_at": member.enrolled_at.isoformat(),
        "birthday": member.birthday.isoformat() if member.birthday else None,
        "segments": list(member.segments),
        "tier": member.tier,
        "balance": balance_view(member.balance),
    }


def _earn(earn: Earn | None) -> dict[str, Any]:
    if earn is None:
        return {"points": 0, "available_at": None, "expires_at": None}
    return {
        "points": earn.points,
        "available_at": earn.available_at.isoformat(),
        "expires_at": earn.expires_at.isoformat() if earn.expires_at else None,
    }


def _grants(grants: tuple[Grant, ...]) -> list[dict[str, Any]]:
    return [{"incentive": grant.incentive, "reason": grant.reason} for grant in grants]


def order_view(result: OrderResult) -> dict[str, Any]:
    order = result.order
    return {
        "order_id": order.source,
        "member_id": order.member_id,
        "amount": money(order.amount),
        "occurred_at": order.when.isoformat(),
        "recorded_at": order.at.isoformat(),
        "late": order.occurred_at is not None,
        **_earn(result.earn),
        "tier": result.tier_change.tier_to if result.tier_change else None,
        "grants": _grants(result.grants),
    }


def refund_view(result: RefundResult) -> dict[str, Any]:
    refund = result.refund
    return {
        "order_id": refund.order_id,
        "member_id": refund.member_id,
        "amount": money(refund.amount),
        "occurred_at": refund.when.isoformat(),
        "points_reversed": -result.reversal.points if result.reversal else 0,
        "points_returned": sum(entry.points for entry in result.returns),
    }


def delay_view(order_id: str, member_id: str, outcome: Earn | Fired) -> dict[str, Any]:
    if isinstance(outcome, Earn):
        return {"order_id": order_id, "member_id": member_id, **_earn(outcome), "grants": []}
    grants = _grants(outcome.grants)
    return {"order_id": order_id, "member_id": member_id, **_earn(None), "grants": grants}


def _option(option: RewardOption) -> dict[str, Any]:
    return {
        "reward_id": option.reward,
        "title": option.title,
        "eligible": option.eligible,
        "points": option.points,
        "value": money(option.value),
        "unmet": [
            {
                "condition": check.condition,
                "reason": check.reason,
                "shortfall": jsonable(check.shortfall),
            }
            for check in option.check.unmet()
        ],
    }


def quote_view(quote: Quote) -> dict[str, Any]:
    best = quote.best
    return {
        "member_id": quote.member_id,
        "cart_id": quote.cart_id,
        "at": quote.at.isoformat(),
        "available_points": quote.available_points,
        "earn": {
            "points": quote.earn.points,
            "basis": money(quote.earn.basis),
            "lines": [{"line": line.line, "points": line.points} for line in quote.earn.lines],
        },
        "rewards": [_option(option) for option in quote.rewards],
        "best": best.reward if best else None,
    }


def redemption_view(redemption: Redemption) -> dict[str, Any]:
    return {
        "redemption_id": redemption.entry.id,
        "reward_id": redemption.reward,
        "cart_id": redemption.entry.source,
        "points": redemption.points,
        "discount": money(redemption.total),
        "lines": [{"line": line.line, "amount": money(line.amount)} for line in redemption.lines],
        "shipping": money(redemption.shipping),
    }


def void_view(void: Void) -> dict[str, Any]:
    return {
        "redemption_id": void.redeem_id,
        "void_id": void.id,
        "points_returned": void.points,
        "at": void.at.isoformat(),
    }


def statement_view(statement: Statement) -> dict[str, Any]:
    return {
        "member_id": statement.member_id,
        "timezone": statement.timezone,
        "balance": balance_view(statement.balance),
        "lines": [
            {
                "seq": line.seq,
                "at": line.at.isoformat(),
                "occurred_at": line.occurred_at.isoformat() if line.occurred_at else None,
                "kind": str(line.kind),
                "points": line.points,
                "balance": line.balance,
                "reason": line.reason,
                "source": line.source,
            }
            for line in statement.lines
        ],
    }
