"""The service layer: a program over a store, with transactions, idempotency and retries."""

from loyalty.service.events import (
    ActionCompleted,
    Birthday,
    Event,
    OrderCancelled,
    OrderCompleted,
    OrderRefunded,
    Referral,
    ShipmentDelayed,
    load_event,
    load_event_json,
)
from loyalty.service.service import AdvanceReport, ImportReport, LoyaltyService, Member, Outcome

__all__ = [
    "ActionCompleted",
    "AdvanceReport",
    "Birthday",
    "Event",
    "ImportReport",
    "LoyaltyService",
    "Member",
    "OrderCancelled",
    "OrderCompleted",
    "OrderRefunded",
    "Outcome",
    "Referral",
    "ShipmentDelayed",
    "load_event",
    "load_event_json",
]
