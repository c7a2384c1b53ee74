"""Events a shop backend sends the service, from its order and shipment webhooks.

Each event names its ``type``, the ``member_id``, an idempotency ``key`` (a
webhook delivered twice carries the same key and credits once) and the instant
``at``; ``program``, if given, must be the service's. :func:`load_event`
validates a mapping and reports every problem at once, each with its path;
:func:`load_event_json` takes a webhook's JSON text as it came (numbers with a
fraction become ``Decimal``, never ``float``).

Text fields take at most 500 characters, without control characters (but tab,
line feed and carriage return) or lone surrogates. ``at`` is an aware datetime,
or ISO 8601 text with an offset, from 1970-01-01 to 2200-01-01 UTC; a naive one
is refused as ``InvalidEvent`` with the problem "is a naive datetime" at ``at``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
)

from loyalty.boundary import problems_from
from loyalty.cart import MAX_COUNT, Amount
from loyalty.dates import instant_fault
from loyalty.errors import InvalidEvent, Problem, shown
from loyalty.jsontext import JSONRefused, parse_object
from loyalty.text import MAX_TEXT, printable

__all__ = [
    "EVENT_TYPES",
    "ActionCompleted",
    "Birthday",
    "Event",
    "OrderCancelled",
    "OrderCompleted",
    "OrderRefunded",
    "Referral",
    "ShipmentDelayed",
    "load_event",
    "load_event_json",
    "read_json",
]


Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT), AfterValidator(printable)]


def _instant(value: object) -> object:
    """An ISO 8601 text or a datetime; a bare number is not taken as a timestamp."""
    if not isinstance(value, str | datetime) or (isinstance(value, str) and len(value) > 64):
        raise ValueError(f"{shown(value)} is not an ISO 8601 date and time with an offset")
    return value


def _aware_in_range(given: object, parse: ValidatorFunctionWrapHandler) -> datetime:
    """Parse ``given`` and refuse a naive or out-of-range instant, showing the value as
    it was given (the text written, not the datetime parsed from it)."""
    value = parse(given)
    assert isinstance(value, datetime)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{shown(given)} is a naive datetime; give a UTC offset (e.g. '+00:00')"
        )
    fault = instant_fault(value)
    if fault is not None:
        raise ValueError(f"{shown(given)} {fault}")
    return value


Instant = Annotated[datetime, BeforeValidator(_instant), WrapValidator(_aware_in_range)]


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
    """Units of an order's lines were refunded (``lines``: line ref -> units), or an
    ``amount`` of its money (in the order's currency, more than zero; not with
    ``lines``), or all that is left if neither is given; and its shipping if
    ``shipping``."""

    type: Literal["order_refunded"] = "order_refunded"
    order_id: Text
    lines: dict[Text, Annotated[StrictInt, Field(gt=0, le=MAX_COUNT)]] | None = None
    amount: Annotated[Amount, Field(gt=0)] | None = None
    shipping: StrictBool = False

    @field_validator("amount")
    @classmethod
    def _amount_or_lines(cls, amount: Decimal | None, info: ValidationInfo) -> Decimal | None:
        if amount is not None and info.data.get("lines") is not None:
            raise ValueError("give lines or an amount to refund, not both")
        return amount


class OrderCancelled(_Event):
    """The whole order was cancelled: everything left of it is refunded, shipping too."""

    type: Literal["order_cancelled"] = "order_cancelled"
    order_id: Text


class ShipmentDelayed(_Event):
    """A shipment is late: the program's ``shipment_delayed`` incentives fire (the
    apology: at most once per order, whatever the deliveries), and its
    ``shipment_delayed`` bonus action is awarded, once per order, if it has one."""

    type: Literal["shipment_delayed"] = "shipment_delayed"
    order_id: Text


class Referral(_Event):
    """``member_id`` referred ``referred``, who joined: the ``referral`` bonus action."""

    type: Literal["referral"] = "referral"
    referred: Text


class Birthday(_Event):
    """The member's birthday: the ``birthday`` bonus action (plus the tier's bonus), if
    the program has one, and its ``birthday`` incentives whose grant window holds
    ``at`` (once a year; the scheduled run issues them too, from the stored birthday)."""

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
"""One event the shop sends to :meth:`LoyaltyService.handle <loyalty.LoyaltyService.handle>`:
:class:`OrderCompleted`, :class:`OrderRefunded`, :class:`OrderCancelled`,
:class:`ShipmentDelayed`, :class:`Referral`, :class:`Birthday` or
:class:`ActionCompleted`, told apart by its ``type`` (``order_completed``,
``order_refunded``, ``order_cancelled``, ``shipment_delayed``, ``referral``,
``birthday``, ``action``). Each carries a ``key``: the same key with the same content
is applied once; with other content it is an :class:`~loyalty.IdempotencyConflict`."""

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


EVENT_TYPES: tuple[str, ...] = tuple(_TYPES)
"""Every event's ``type``."""


def load_event(data: Mapping[str, Any] | _Event) -> Event:
    """Validate an event from a mapping; raises :class:`InvalidEvent` with every problem."""
    if isinstance(data, _Event):
        return data  # type: ignore[return-value]
    if not isinstance(data, Mapping):
        raise InvalidEvent([Problem("", "an event is a mapping of keys", data)])
    given = data.get("type")
    kind = _TYPES.get(given) if isinstance(given, str) else None
    if kind is None:
        known = ", ".join(_TYPES)
        raise InvalidEvent([Problem("type", f"{shown(given)}: must be one of {known}", given)])
    try:
        return kind.model_validate(dict(data))  # type: ignore[return-value]
    except ValidationError as error:
        raise InvalidEvent(problems_from(error, data, kind)) from None


def load_event_json(text: str | bytes) -> Event:
    """Validate an event from JSON text (a webhook's body, ``str`` or UTF-8 ``bytes``).

    Read by the rules of :func:`~loyalty.load_json` (:mod:`loyalty.jsontext`): numbers
    with a fraction or an exponent become ``Decimal`` (a float is refused in amounts);
    ``NaN`` and ``Infinity``, a key given twice in one object, and nesting deeper than
    32 levels are refused. Every refusal is an :class:`InvalidEvent`, like
    :func:`load_event`'s.
    """
    return load_event(read_json(text))


def read_json(text: str | bytes) -> dict[str, Any]:
    """One JSON object, parsed by the rules of :func:`load_event_json` (not yet
    validated as an event); a refusal is an :class:`InvalidEvent`."""
    try:
        return parse_object(text)
    except JSONRefused as refused:
        raise InvalidEvent([refused.problem]) from None
