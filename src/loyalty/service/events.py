"""Events a shop backend sends the service, from its order and shipment webhooks.

Each event names its ``type``, the ``member_id``, an idempotency ``key`` (a
webhook delivered twice carries the same key and credits once) and the instant
``at``; ``program``, if given, must be the service's. :func:`load_event`
validates a mapping (a webhook's JSON) and reports every problem at once, each
with its path.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
)

from loyalty.boundary import problems_from
from loyalty.errors import InvalidEvent, Problem

__all__ = [
    "ActionCompleted",
    "Birthday",
    "Event",
    "OrderCancelled",
    "OrderCompleted",
    "OrderRefunded",
    "Referral",
    "ShipmentDelayed",
    "load_event",
]

Text = Annotated[str, Field(min_length=1, max_length=500)]


def _instant(value: object) -> object:
    """An ISO 8601 text or a datetime; a bare number is not taken as a timestamp."""
    if not isinstance(value, str | datetime):
        raise ValueError(f"{value!r} is not an ISO 8601 date and time with an offset")
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_instant)]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    program: Text | None = None
    member_id: Text
    key: Text
    at: Instant


class OrderCompleted(_Event):
    """An order was paid or shipped: record it and earn its points. ``cart`` is the
    order as :func:`~loyalty.load_cart` takes it; its ``id`` is the order id."""

    type: Literal["order_completed"] = "order_completed"
    cart: dict[str, Any]


class OrderRefunded(_Event):
    """Units of an order's lines were refunded (``lines``: line ref -> units; all that
    is left if omitted), and its shipping if ``shipping``."""

    type: Literal["order_refunded"] = "order_refunded"
    order_id: Text
    lines: dict[str, Annotated[StrictInt, Field(gt=0)]] | None = None
    shipping: StrictBool = False


class OrderCancelled(_Event):
    """The whole order was cancelled: everything left of it is refunded, shipping too."""

    type: Literal["order_cancelled"] = "order_cancelled"
    order_id: Text


class ShipmentDelayed(_Event):
    """A shipment is late: the program's ``shipment_delayed`` bonus action is awarded,
    once per order, if the program configures one."""

    type: Literal["shipment_delayed"] = "shipment_delayed"
    order_id: Text


class Referral(_Event):
    """``member_id`` referred ``referred``, who joined: the ``referral`` bonus action."""

    type: Literal["referral"] = "referral"
    referred: Text


class Birthday(_Event):
    """The member's birthday: the ``birthday`` bonus action (plus the tier's bonus)."""

    type: Literal["birthday"] = "birthday"


class ActionCompleted(_Event):
    """Any other bonus action (a review, a survey...), by name."""

    type: Literal["action"] = "action"
    action: Text
    source: Text | None = None


Event = Annotated[
    OrderCompleted
    | OrderRefunded
    | OrderCancelled
    | ShipmentDelayed
    | Referral
    | Birthday
    | ActionCompleted,
    Field(discriminator="type"),
]

_TYPES: dict[str, type[_Event]] = {
    kind.model_fields["type"].default: kind
    for kind in (
        OrderCompleted,
        OrderRefunded,
        OrderCancelled,
        ShipmentDelayed,
        Referral,
        Birthday,
        ActionCompleted,
    )
}


def load_event(data: Mapping[str, Any] | _Event) -> Event:
    """Validate an event from a mapping; raises :class:`InvalidEvent` with every problem."""
    if isinstance(data, _Event):
        return data  # type: ignore[return-value]
    if not isinstance(data, Mapping):
        raise InvalidEvent([Problem("", "an event is a mapping of keys", data)])
    kind = _TYPES.get(data.get("type"))  # type: ignore[arg-type]
    if kind is None:
        known = ", ".join(_TYPES)
        raise InvalidEvent([Problem("type", f"must be one of {known}", data.get("type"))])
    try:
        return kind.model_validate(dict(data))  # type: ignore[return-value]
    except ValidationError as error:
        raise InvalidEvent(problems_from(error, data, kind)) from None
