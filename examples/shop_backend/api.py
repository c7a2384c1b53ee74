"""The shop backend's HTTP API: ``create_app(program, database_url)`` builds it.

One ``LoyaltyService`` serves every request; each service call is one store
transaction. The endpoints are plain ``def`` functions: FastAPI runs them in its
thread pool, so requests run side by side, and the store serialises what must be.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse

from loyalty import (
    Earn,
    Fired,
    LoyaltyError,
    LoyaltyService,
    OrderResult,
    Problem,
    Program,
    RefundResult,
    load_program,
)
from loyalty.service import Outcome
from loyalty.store.sql import SQLStore

from .errors import SHOWN, ApiError, api_error, install_error_handlers, jsonable
from .models import (
    Checkout,
    Enrolment,
    OrderCompletedWebhook,
    OrderRefundedWebhook,
    ShipmentDelayedWebhook,
    delay_view,
    member_view,
    order_view,
    quote_view,
    redemption_view,
    refund_view,
    statement_view,
    void_view,
)
from .outbox import LogSender, Sender, relay

__all__ = ["CLOCK_SKEW", "Clock", "create_app", "utc_now"]

Clock = Callable[[], datetime]

CLOCK_SKEW = timedelta(minutes=5)
"""How far past the shop's "now" a webhook's ``occurred_at`` may be: the platform's
clock and the shop's are not quite the same. A later one is refused (400)."""


def utc_now() -> datetime:
    """The one place the backend reads the clock: at its HTTP edge, once per request
    that needs "now" (an enrolment without ``enrolled_at``, a quote, a redemption, a
    void, the nightly run, and a webhook, to refuse one dated in the future). The
    library never reads it; a webhook carries its own time, which the library uses."""
    return datetime.now(UTC)


# --8<-- [start:factory]
def create_app(
    program: Program | str | Path,
    database_url: str | None = None,
    *,
    service: LoyaltyService | None = None,
    clock: Clock = utc_now,
    sender: Sender | None = None,
) -> FastAPI:
    """The backend for ``program`` over the database at ``database_url`` (a SQLite
    file if omitted: ``sqlite:///loyalty-shop.db``; or ``postgresql+psycopg://...``).

    ``service`` replaces the one built from the database (the app then does not close
    its store); ``clock`` gives "now"; ``sender`` forwards the outbox's messages."""
    if service is None:
        loaded = program if isinstance(program, Program) else load_program(program)
        # SQLStore creates the tables, or migrates them, when it opens the database.
        store = SQLStore(database_url or "sqlite:///loyalty-shop.db")
        service = LoyaltyService(loaded, store)
        owned = True
    else:
        owned = False
    shared: LoyaltyService = service

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned:
            shared.store.close()

    app = FastAPI(title=f"{shared.program.name} backend", lifespan=lifespan)
    app.state.service = shared
    install_error_handlers(app)
    _routes(app, shared, clock, sender or LogSender())
    return app


# --8<-- [end:factory]


def _webhook_key(webhook_id: str) -> str:
    """The idempotency key of a webhook: the webhook's id, which the platform repeats on
    every retry of the same notification. Keys are the member's: the same id for
    another member is another key."""
    return f"webhook:{webhook_id}"


# --8<-- [start:apply]
def _apply(
    service: LoyaltyService,
    webhook_id: str,
    event: dict[str, Any],
    names: Mapping[str, str],
    now: datetime,
) -> Outcome:
    """Apply a webhook's event in one transaction; a refusal names the webhook's own
    fields (``occurred_at``, ``order.lines[0].unit_price``), not the event's.

    An ``occurred_at`` later than ``now`` plus ``CLOCK_SKEW`` is refused: the library
    would take the member's clock to that time, so that every real webhook after it
    would be late and points would expire early. The platform's retry of it, once
    the time has come, is applied."""
    _not_ahead(event["at"], now)
    try:
        return service.handle(event)
    except LoyaltyError as error:
        names = {"at": "occurred_at", "key": "id", **names}
        raise api_error(error).renamed(names, cart="order", key=webhook_id) from error


# --8<-- [end:apply]


def _routes(app: FastAPI, service: LoyaltyService, clock: Clock, sender: Sender) -> None:
    # --8<-- [start:members]
    @app.post("/members", status_code=201)
    def enrol(body: Enrolment) -> dict[str, Any]:
        """Enrol a customer. The same enrolment sent again returns the same member;
        one with other details is a 409. A member id that a URL path cannot carry
        (with a "/", or "." or "..") is a 400: the member's routes could not reach it."""
        _routable(body.member_id)
        at = _instant(body.enrolled_at, "enrolled_at") if body.enrolled_at else clock()
        birthday = _date(body.birthday, "birthday") if body.birthday else None
        try:
            member = service.enrol(body.member_id, at=at, birthday=birthday, segments=body.segments)
        except LoyaltyError as error:
            raise api_error(error).renamed({"at": "enrolled_at"}) from error
        return member_view(member)

    @app.get("/members/{member_id}")
    def member(member_id: str) -> dict[str, Any]:
        return member_view(service.member(member_id, at=clock()))

    @app.get("/members/{member_id}/statement")
    def statement(member_id: str) -> dict[str, Any]:
        return statement_view(service.statement(member_id))

    # --8<-- [end:members]

    # --8<-- [start:webhooks]
    @app.post("/webhooks/order-completed")
    def order_completed(body: OrderCompletedWebhook) -> dict[str, Any]:
        member_id = body.order.get("member_id")
        event = {
            "type": "order_completed",
            "member_id": member_id,
            "key": _webhook_key(body.id),
            "at": body.occurred_at,  # the time of the order, not of the delivery
            "cart": body.order,
        }
        # The library names the order "cart" ("cart.id", "currency"): the webhook, "order".
        names = {"member_id": "order.member_id", "cart": "order", "currency": "order.currency"}
        result = _apply(service, body.id, event, names, clock())
        assert isinstance(result, OrderResult)
        return order_view(result)

    @app.post("/webhooks/order-refunded")
    def order_refunded(body: OrderRefundedWebhook) -> dict[str, Any]:
        event = {
            "type": "order_refunded",
            "member_id": body.member_id,
            "key": _webhook_key(body.id),
            "at": body.occurred_at,
            "order_id": body.order_id,
            "lines": body.lines,
            "amount": body.amount,
            "shipping": body.shipping,
        }
        result = _apply(service, body.id, event, {}, clock())
        assert isinstance(result, RefundResult)
        return refund_view(result)

    @app.post("/webhooks/shipment-delayed")
    def shipment_delayed(body: ShipmentDelayedWebhook) -> dict[str, Any]:
        event = {
            "type": "shipment_delayed",
            "member_id": body.member_id,
            "key": _webhook_key(body.id),
            "at": body.occurred_at,
            "order_id": body.order_id,
        }
        result = _apply(service, body.id, event, {}, clock())
        assert isinstance(result, Earn | Fired)
        return delay_view(body.order_id, body.member_id, result)

    # --8<-- [end:webhooks]

    # --8<-- [start:checkout]
    @app.post("/members/{member_id}/quote")
    def quote(member_id: str, cart: dict[str, Any]) -> dict[str, Any]:
        """What the cart earns and which rewards apply (or why not). Writes nothing."""
        cart = {"member_id": member_id, **cart}  # the cart may leave out whose it is
        try:
            return quote_view(service.quote(member_id, cart, at=clock()))
        except LoyaltyError as error:
            raise api_error(error).renamed({"currency": "cart.currency"}, cart="cart") from error

    @app.post("/members/{member_id}/redemptions", status_code=201)
    def redeem(member_id: str, body: Checkout) -> dict[str, Any]:
        """Redeem a reward on the checkout's cart. The key is the cart and the reward:
        the checkout retried returns the same redemption; the same cart id with other
        content is a 409."""
        cart = {"member_id": member_id, **body.cart}
        key = f"checkout:{cart.get('id')}:{body.reward_id}"
        try:
            redemption = service.redeem(member_id, body.reward_id, cart, at=clock(), key=key)
        except LoyaltyError as error:
            names = {"key": "cart.id", "currency": "cart.currency"}
            named = api_error(error).renamed(names, cart="cart", key=cart.get("id"))
            raise named from error
        return redemption_view(redemption)

    @app.delete("/members/{member_id}/redemptions/{redemption_id}")
    def void(member_id: str, redemption_id: str) -> dict[str, Any]:
        """Undo a redemption whose order did not complete (an abandoned checkout)."""
        key = f"void:{redemption_id}"
        try:
            void = service.void_redemption(member_id, redemption_id, at=clock(), key=key)
        except LoyaltyError as error:  # the key is made of the id: name the id
            named = api_error(error).renamed({"key": "redemption_id"}, key=redemption_id)
            raise named from error
        return void_view(void)

    # --8<-- [end:checkout]

    # --8<-- [start:outbox]
    @app.post("/outbox/relay")
    def relay_outbox(limit: int = Query(1000, ge=1, le=100_000)) -> JSONResponse:
        """Forward up to ``limit`` notifications; 502 if the sender failed (what was
        sent before the failure is acknowledged; the rest waits for the next run)."""
        report = relay(service, sender, limit)
        body = {"sent": list(report.sent), "failed": report.failed}
        if report.failed is None:
            return JSONResponse(body)
        error = report.error or "the sender failed"
        raise ApiError(502, "sender_failed", error, "outbox", report.failed, extra=body)

    # --8<-- [end:outbox]

    # --8<-- [start:nightly]
    @app.post("/jobs/nightly")
    def nightly() -> dict[str, Any]:
        """The scheduled run, to now: pending points released, lots expired, tiers
        reviewed, expiring points announced. A member whose run failed wrote nothing
        and is listed; the others went on."""
        now = clock()
        report = service.advance(now)
        failed = [
            {"member_id": member_id, **api_error(error).body()}
            for member_id, error in report.failed
        ]
        return {
            "at": now.isoformat(),
            "members": report.members,
            "entries": report.entries,
            "notifications": report.notifications,
            "failed": failed,
        }

    # --8<-- [end:nightly]


def _not_ahead(occurred_at: object, now: datetime) -> None:
    """A 400 naming ``occurred_at`` if it is later than ``now`` plus ``CLOCK_SKEW``.
    Text that is not an aware ISO 8601 instant is left to the library, which lists
    what is wrong with it."""
    try:
        when = datetime.fromisoformat(occurred_at) if isinstance(occurred_at, str) else None
    except ValueError:
        return
    if when is None or when.utcoffset() is None or when <= now + CLOCK_SKEW:
        return
    minutes = int(CLOCK_SKEW.total_seconds() // 60)
    reason = (
        f"{jsonable(repr(occurred_at), SHOWN)} is later than now ({now.isoformat()}) plus the "
        f"{minutes} minutes allowed for clock skew: an event dated in the future would move "
        "the member's clock ahead"
    )
    raise ApiError.listing(
        400, "invalid_event", "invalid event", [Problem("occurred_at", reason, occurred_at)]
    )


def _routable(member_id: str) -> None:
    """A 400 naming ``member_id`` for an id that ``/members/{member_id}`` cannot carry: a
    "/" (even sent as %2F) splits the path, and clients drop "." and ".." segments."""
    if "/" in member_id or member_id in (".", ".."):
        reason = 'cannot be a URL path segment (no "/", and not "." or ".."): '
        reason += "the member's routes, /members/{member_id}/..., could not reach it"
        raise ApiError(
            400,
            "invalid_input",
            f"member_id: {jsonable(repr(member_id), SHOWN)} {reason}",
            "member_id",
            member_id,
        )


def _instant(text: str, field: str) -> datetime:
    """An aware instant from ISO 8601 text, or a 400 naming ``field``."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
    if value is None or value.utcoffset() is None:
        reason = "is not an ISO 8601 date and time with a UTC offset"
        raise ApiError(400, "invalid_input", f"{field}: {text!r} {reason}", field, text)
    return value


def _date(text: str, field: str) -> date:
    """A date from ISO 8601 text (``1990-05-17``), or a 400 naming ``field``."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        reason = "is not a date (YYYY-MM-DD)"
        raise ApiError(400, "invalid_input", f"{field}: {text!r} {reason}", field, text) from None
