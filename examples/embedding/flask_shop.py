"""A Flask shop that embeds loyalty: one service per process, created by the app factory.

The routes: enrol a customer, the order webhook (its idempotency key is the
webhook's id), a quote for the cart page, a redemption at checkout and its void. The
library's typed errors become HTTP statuses in one error handler. The nightly job is a
command of the Flask CLI::

    flask --app examples/embedding/flask_shop.py loyalty-advance

The loyalty tables live in ``LOYALTY_DATABASE_URL`` (a SQLite file, ``loyalty.db``
in the working directory, by default; a ``postgresql+psycopg://`` URL in production).
``tests/test_embedding_flask.py`` runs all of it. The guide is
``docs/embedding/flask.md``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from flask import Blueprint, Flask, current_app, jsonify, request
from flask.cli import with_appcontext
from flask.typing import ResponseReturnValue

import loyalty
from loyalty.store.sql import SQLStore

PROGRAM = Path(__file__).resolve().parents[1] / "programs" / "cosmetics-club.yaml"

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The shop's clock. The library never reads the time: the app reads it once per
    request, here at its HTTP edge, and passes it in as ``at=``."""
    return datetime.now(UTC)


# --8<-- [start:factory]
@dataclass(frozen=True)
class Loyalty:
    """What the app keeps in ``app.extensions["loyalty"]``: the one service of this
    process, and the clock the routes read ``at`` from."""

    service: loyalty.LoyaltyService
    clock: Clock


def create_app(
    database: str | None = None,
    *,
    program: str | Path = PROGRAM,
    clock: Clock = utc_now,
    attempts: int = 10,
    busy_timeout: float = 30.0,  # float-ok: seconds a SQLite writer waits for the lock
) -> Flask:
    """The app, with one LoyaltyService for the whole process (it is thread-safe and
    keeps a pool of connections and a cache of accounts: never make one per request)."""
    app = Flask(__name__)
    url = database or os.environ.get("LOYALTY_DATABASE_URL", "sqlite:///loyalty.db")
    # SQLStore creates or upgrades the loyalty tables when it opens (migrate=True).
    store = SQLStore(url, busy_timeout=busy_timeout)
    service = loyalty.LoyaltyService(loyalty.load_program(program), store, attempts=attempts)
    app.extensions["loyalty"] = Loyalty(service, clock)
    app.register_blueprint(shop)
    app.register_error_handler(loyalty.LoyaltyError, loyalty_error)
    app.cli.add_command(loyalty_advance)
    return app


def loyalty_app() -> Loyalty:
    """The current app's service and clock."""
    held = current_app.extensions["loyalty"]
    assert isinstance(held, Loyalty)
    return held
# --8<-- [end:factory]


# --8<-- [start:errors]
def loyalty_error(error: loyalty.LoyaltyError) -> ResponseReturnValue:
    """The library's typed errors as HTTP responses, with the status each error class
    carries (``http_status``). Every one of them wrote nothing."""
    body: dict[str, Any] = {"error": type(error).__name__, "message": str(error)}
    headers: dict[str, str] = {}
    if isinstance(error, loyalty.InvalidInput):  # 400, or 404 for UnknownMember
        body["field"] = error.field
    elif isinstance(error, loyalty.InvalidEvent | loyalty.InvalidCart):
        body["problems"] = [{"field": p.path, "message": p.message} for p in error.problems]
    elif isinstance(error, loyalty.RedemptionRefused):
        body["unmet"] = [
            {"condition": check.condition, "reason": check.reason} for check in error.unmet
        ]
    elif isinstance(error, loyalty.Busy):
        # Nothing was written: the client sends the same request (same key) again.
        headers["Retry-After"] = "1"
    return jsonify(body), error.http_status, headers
# --8<-- [end:errors]


# --8<-- [start:body]
MAX_KEY = 500
"""The longest idempotency key the library takes."""


def json_body() -> dict[str, Any]:
    """The request's JSON object, read by ``loyalty.load_json``: a number with a fraction
    is a Decimal (the library refuses a float amount), so ``12.5`` is exactly 12.5;
    ``NaN``, a key given twice and nesting deeper than 32 levels are refused, as an
    ``InvalidInput`` naming ``body`` (a 400, never a 500)."""
    return loyalty.load_json(request.get_data())


def idempotency_key(kind: str, **parts: Any) -> str:
    """The key of a request, made of its own fields (the Webhook-Id header, the cart id):
    a field that cannot be part of a key is a 400 naming that field, not ``key``."""
    for field, value in parts.items():
        if not isinstance(value, str) or not value:
            raise loyalty.InvalidInput(field, value, "is required (a non-empty string)")
        bad = next((char for char in value if not char.isprintable()), None)
        if bad is not None:
            reason = f"holds a character that is not printable (U+{ord(bad):04X})"
            raise loyalty.InvalidInput(field, value, reason)
    key = ":".join([kind, *parts.values()])
    if len(key) > MAX_KEY:
        field = max(parts, key=lambda name: len(parts[name]))
        reason = f"is too long: the key {kind}:... would have {len(key)} characters, over {MAX_KEY}"
        raise loyalty.InvalidInput(field, parts[field], reason)
    return key
# --8<-- [end:body]


def required(body: dict[str, Any], name: str) -> Any:
    """A field the request must carry (the library checks its type and value)."""
    if name not in body:
        raise loyalty.InvalidInput(name, None, "is required")
    return body[name]


def member_cart(body: dict[str, Any], member_id: str) -> dict[str, Any]:
    """The body's cart, for the member of the URL: a cart may leave out ``member_id``;
    one that names another member is refused by the library (400, ``cart.member_id``)."""
    cart = required(body, "cart")
    if not isinstance(cart, dict):
        raise loyalty.InvalidInput("cart", cart, "is not a JSON object")
    return {"member_id": member_id, **cart}


def body_instant(value: Any, field: str) -> datetime:
    """An ISO 8601 instant with an offset, from the body's ``field``."""
    if not isinstance(value, str):
        raise loyalty.InvalidInput(field, value, "is not an ISO 8601 date and time")
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise loyalty.InvalidInput(field, value, "is not an ISO 8601 date and time") from None
    if when.utcoffset() is None:
        raise loyalty.InvalidInput(field, value, "has no offset (+00:00)")
    return when


def money(amount: loyalty.Money | None) -> str | None:
    return None if amount is None else str(amount)


shop = Blueprint("shop", __name__)


# --8<-- [start:enrol]
@shop.post("/members")
def enrol() -> ResponseReturnValue:
    """Enrol a customer. Send ``enrolled_at`` (when they signed up): the same enrolment
    retried then answers as the first did. Without it the time is now, and a retry a
    second later has other details: a 409 ``MemberExists``."""
    body, app = json_body(), loyalty_app()
    given = body.get("enrolled_at")
    at = app.clock() if given is None else body_instant(given, "enrolled_at")
    try:
        member = app.service.enrol(
            required(body, "member_id"), at=at, segments=body.get("segments", ())
        )
    except loyalty.InvalidInput as error:
        if error.field != "at":
            raise
        raise loyalty.InvalidInput("enrolled_at", given, error.reason) from None
    return {
        "member_id": member.member_id,
        "enrolled_at": member.enrolled_at.isoformat(),
        "segments": list(member.segments),
    }, 201
# --8<-- [end:enrol]


# --8<-- [start:webhook]
@shop.post("/webhooks/orders")
def order_webhook() -> ResponseReturnValue:
    """An order event from the shop platform. The platform redelivers a webhook until
    it gets a 2xx, always with the same ``Webhook-Id``: that id is the idempotency
    key, so a redelivery credits nothing twice and answers as the first time did."""
    webhook_id = request.headers.get("Webhook-Id", "")
    if not webhook_id:
        raise loyalty.InvalidInput("Webhook-Id", webhook_id, "is required (a header)")
    key = idempotency_key("webhook", **{"Webhook-Id": webhook_id})
    event = json_body()
    if "key" in event:
        raise loyalty.InvalidInput("key", event["key"], "comes from the Webhook-Id header")
    outcome = loyalty_app().service.handle({**event, "key": key})
    if isinstance(outcome, loyalty.OrderResult):
        earned = outcome.earn.points if outcome.earn else 0
        return {"order": outcome.order.source, "points": earned}
    return {"handled": event.get("type")}
# --8<-- [end:webhook]


# --8<-- [start:checkout]
@shop.post("/members/<member_id>/quote")
def cart_quote(member_id: str) -> ResponseReturnValue:
    """The cart page: what the cart earns and which rewards it can use. Writes nothing."""
    app = loyalty_app()
    quote = app.service.quote(member_id, member_cart(json_body(), member_id), at=app.clock())
    return {
        "earn": quote.earn.points,
        "available": quote.available_points,
        "best": quote.best.reward if quote.best else None,
        "rewards": [
            {
                "reward": option.reward,
                "eligible": option.eligible,
                "points": option.points,
                "value": money(option.value),
                "unmet": list(option.check.reasons()),
            }
            for option in quote.rewards
        ],
    }


@shop.post("/members/<member_id>/redeem")
def redeem(member_id: str) -> ResponseReturnValue:
    """Checkout: redeem a reward on the cart. The key names the checkout, so a double
    click or a retried request redeems once."""
    body, app = json_body(), loyalty_app()
    cart, reward = member_cart(body, member_id), required(body, "reward")
    key = idempotency_key("checkout", **{"cart.id": cart.get("id"), "reward": reward})
    redemption = app.service.redeem(member_id, reward, cart, at=app.clock(), key=key)
    return {
        "reward": redemption.reward,
        "points": redemption.points,
        "discount": money(redemption.total),
        "lines": [{"sku": line.line, "amount": str(line.amount)} for line in redemption.lines],
        "redemption_id": redemption.entry.id,
    }


@shop.delete("/members/<member_id>/redemptions/<redemption_id>")
def void(member_id: str, redemption_id: str) -> ResponseReturnValue:
    """An abandoned checkout: the redemption's points go back, with their expiry. The
    key names the redemption, so a retried void returns the points once."""
    app = loyalty_app()
    key = idempotency_key("void", redemption_id=redemption_id)
    undone = app.service.void_redemption(member_id, redemption_id, at=app.clock(), key=key)
    return {"redemption_id": undone.redeem_id, "points_returned": undone.points}
# --8<-- [end:checkout]


# --8<-- [start:nightly]
@click.command("loyalty-advance")
@click.option("--at", "at", default=None, help="ISO 8601 instant with an offset (default: now)")
@with_appcontext
def loyalty_advance(at: str | None) -> None:
    """The nightly job: release pending points, expire lots, review tiers, announce
    points about to expire. Run it from cron after midnight in the program's timezone."""
    app = loyalty_app()
    when = app.clock() if at is None else instant(at)
    report = app.service.advance(when)
    click.echo(
        f"advanced to {when.isoformat()}: {report.members} members, {report.entries} "
        f"entries, {report.notifications} notifications, {len(report.failed)} failed"
    )
    for member_id, error in report.failed:
        click.echo(f"failed: {member_id}: {error}", err=True)
    if report.failed:
        raise SystemExit(1)  # so cron reports it


def instant(text: str) -> datetime:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not ISO 8601", param_hint="--at") from None
    if when.tzinfo is None:
        raise click.BadParameter(f"{text!r} has no offset (+00:00)", param_hint="--at")
    return when
# --8<-- [end:nightly]
