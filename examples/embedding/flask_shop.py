"""A Flask shop that embeds loyalty: one service per process, created by the app factory.

The routes: enrol a customer, the order webhook (its idempotency key is the
webhook's id), a quote for the cart page, a redemption at checkout. The library's
typed errors become HTTP statuses in one error handler. The nightly job is a
command of the Flask CLI::

    flask --app examples/embedding/flask_shop.py loyalty-advance

The loyalty tables live in ``LOYALTY_DATABASE_URL`` (a SQLite file, ``loyalty.db``
in the working directory, by default; a ``postgresql+psycopg://`` URL in production).
``tests/test_embedding_flask.py`` runs all of it. The guide is
``docs/embedding/flask.md``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
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


def json_body() -> dict[str, Any]:
    """The request's JSON object, numbers with a fraction as Decimal (money is never a
    float)."""
    try:
        data = json.loads(request.get_data(), parse_float=Decimal)
    except ValueError:
        raise loyalty.InvalidInput("body", request.get_data()[:200], "is not JSON") from None
    if not isinstance(data, dict):
        raise loyalty.InvalidInput("body", data, "is not a JSON object")
    return data


def required(body: dict[str, Any], name: str) -> Any:
    """A field the request must carry (the library checks its type and value)."""
    if name not in body:
        raise loyalty.InvalidInput(name, None, "is required")
    return body[name]


def money(amount: loyalty.Money | None) -> str | None:
    return None if amount is None else str(amount)


shop = Blueprint("shop", __name__)


@shop.post("/members")
def enrol() -> ResponseReturnValue:
    body, app = json_body(), loyalty_app()
    member = app.service.enrol(
        required(body, "member_id"), at=app.clock(), segments=body.get("segments", ())
    )
    return {"member_id": member.member_id, "segments": list(member.segments)}, 201


# --8<-- [start:webhook]
@shop.post("/webhooks/orders")
def order_webhook() -> ResponseReturnValue:
    """An order event from the shop platform. The platform redelivers a webhook until
    it gets a 2xx, always with the same ``Webhook-Id``: that id is the idempotency
    key, so a redelivery credits nothing twice and answers as the first time did."""
    webhook_id = request.headers.get("Webhook-Id", "")
    if not webhook_id:
        raise loyalty.InvalidInput("Webhook-Id", webhook_id, "is required (a header)")
    event = json_body()
    if "key" in event:
        raise loyalty.InvalidInput("key", event["key"], "comes from the Webhook-Id header")
    outcome = loyalty_app().service.handle({**event, "key": f"webhook:{webhook_id}"})
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
    quote = app.service.quote(member_id, required(json_body(), "cart"), at=app.clock())
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
    cart, reward = required(body, "cart"), required(body, "reward")
    cart_id = cart.get("id") if isinstance(cart, dict) else None
    redemption = app.service.redeem(
        member_id, reward, cart, at=app.clock(), key=f"checkout:{cart_id}:{reward}"
    )
    return {
        "reward": redemption.reward,
        "points": redemption.points,
        "discount": money(redemption.total),
        "lines": [{"sku": line.line, "amount": str(line.amount)} for line in redemption.lines],
        "redemption_id": redemption.entry.id,
    }
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
