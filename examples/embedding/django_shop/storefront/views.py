"""The order webhook and the cart page's quote."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

import loyalty
from storefront import services
from storefront.bodies import idempotency_key, json_body
from storefront.models import Order
from storefront.services import loyalty_service


# --8<-- [start:record]
class Credit:
    """Credits an order's points. ``transaction.on_commit`` runs it once the shop's order
    row is committed; after a rollback it never runs."""

    def __init__(self, event: loyalty.OrderCompleted) -> None:
        self.event = event
        self.result: loyalty.OrderResult | None = None

    def __call__(self) -> None:
        # Its own transaction, on the service's own connection: committed when it returns.
        self.result = loyalty_service().handle(self.event)


def record_order(event: loyalty.OrderCompleted, webhook_id: str) -> Credit:
    """Save the shop's order row, and credit the points once that row is committed."""
    credit = Credit(event)
    cart = loyalty.load_cart(event.cart)  # an invalid cart is refused before any write
    with transaction.atomic():
        Order.objects.get_or_create(
            order_id=cart.id,
            defaults={
                "member_id": event.member_id,
                "webhook_id": webhook_id,
                "placed_at": event.at,
            },
        )
        # Registered even when the row was already there: a delivery that committed the
        # row and then failed to credit (Busy, a crash) is credited by the redelivery.
        transaction.on_commit(credit)
    return credit
# --8<-- [end:record]


# --8<-- [start:webhook]
@require_POST
def order_webhook(request: HttpRequest) -> JsonResponse:
    """An order_completed webhook. The platform redelivers it until it gets a 2xx, with
    the same ``Webhook-Id``: that id is the idempotency key, so points are credited once.
    (A project with CsrfViewMiddleware marks this view ``@csrf_exempt``.)"""
    webhook_id = request.headers.get("Webhook-Id", "")
    if not webhook_id:
        raise loyalty.InvalidInput("Webhook-Id", webhook_id, "is required (a header)")
    key = idempotency_key("webhook", **{"Webhook-Id": webhook_id})
    body = json_body(request.body)
    if "key" in body:
        raise loyalty.InvalidInput("key", body["key"], "comes from the Webhook-Id header")
    event = loyalty.load_event({**body, "key": key})
    if not isinstance(event, loyalty.OrderCompleted):
        raise loyalty.InvalidInput("type", body.get("type"), "is not order_completed")
    credit = record_order(event, webhook_id)
    if credit.result is None:  # inside an outer transaction (ATOMIC_REQUESTS): not yet
        return JsonResponse({"order": event.cart.get("id"), "points": None}, status=202)
    result = credit.result
    points = result.earn.points if result.earn else 0
    return JsonResponse({"order": result.order.source, "points": points})
# --8<-- [end:webhook]


# --8<-- [start:quote]
@require_POST
def cart_quote(request: HttpRequest, member_id: str) -> JsonResponse:
    """The cart page: what the cart earns and which rewards it can use. Writes nothing."""
    body = json_body(request.body)
    if "cart" not in body:
        raise loyalty.InvalidInput("cart", None, "is required")
    if not isinstance(body["cart"], dict):
        raise loyalty.InvalidInput("cart", body["cart"], "is not a JSON object")
    # The cart may leave out whose it is; one naming another member is refused by the
    # library (400, cart.member_id).
    cart = {"member_id": member_id, **body["cart"]}
    quote = loyalty_service().quote(member_id, cart, at=services.clock())
    return JsonResponse(
        {
            "earn": quote.earn.points,
            "available": quote.available_points,
            "best": quote.best.reward if quote.best else None,
            "rewards": [
                {
                    "reward": option.reward,
                    "eligible": option.eligible,
                    "points": option.points,
                    "unmet": list(option.check.reasons()),
                }
                for option in quote.rewards
            ],
        }
    )
# --8<-- [end:quote]
