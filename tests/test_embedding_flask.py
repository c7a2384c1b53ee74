"""The Flask embedding example (examples/embedding/flask_shop.py), through Flask's test
client and CLI runner: the routes, the error statuses and the nightly command that
docs/embedding/flask.md shows."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

import loyalty

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples" / "embedding"))
from flask_shop import Loyalty, create_app  # noqa: E402

FEB_1 = datetime(2026, 2, 1, 10, tzinfo=UTC)


class Clock:
    """The shop's clock, set by each test (the app reads it once per request)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def cart(cart_id: str, *lines: tuple[str, str, int], member: str = "member-7") -> dict[str, Any]:
    return {
        "id": cart_id,
        "member_id": member,
        "currency": "USD",
        "lines": [{"sku": s, "unit_price": p, "quantity": q} for s, p, q in lines],
    }


def order(cart_id: str, at: str, *lines: tuple[str, str, int]) -> dict[str, Any]:
    """An order webhook's body: the event without its key (the Webhook-Id header is)."""
    return {
        "type": "order_completed",
        "member_id": "member-7",
        "at": at,
        "cart": cart(cart_id, *lines),
    }


B1 = order("B-1", "2026-03-01T10:05:00+00:00", ("SERUM-50ML", "60.00", 2))
B3 = cart("B-3", ("LIPSTICK", "12.00", 1), ("MASCARA", "8.00", 2))


@pytest.fixture
def clock() -> Clock:
    return Clock(FEB_1)


@pytest.fixture
def app(tmp_path: Path, clock: Clock) -> Iterator[Flask]:
    app = create_app(f"sqlite:///{tmp_path / 'loyalty.db'}", clock=clock)
    yield app
    service(app).store.close()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    client = app.test_client()
    enrolled = client.post("/members", json={"member_id": "member-7"})
    assert enrolled.status_code == 201, enrolled.json
    return client


def service(app: Flask) -> loyalty.LoyaltyService:
    held = app.extensions["loyalty"]
    assert isinstance(held, Loyalty)
    return held.service


def webhook(client: FlaskClient, webhook_id: str, body: dict[str, Any]) -> Any:
    return client.post("/webhooks/orders", json=body, headers={"Webhook-Id": webhook_id})


def test_a_redelivered_webhook_credits_once_and_answers_as_the_first_time(
    app: Flask, client: FlaskClient
) -> None:
    first = webhook(client, "wh-1001", B1)
    again = webhook(client, "wh-1001", B1)
    assert (first.status_code, first.json) == (200, {"order": "B-1", "points": 120})
    assert (again.status_code, again.json) == (200, {"order": "B-1", "points": 120})
    balance = service(app).balance("member-7")
    assert (balance.pending, balance.available, balance.earned) == (120, 0, 120)
    assert [entry.kind for entry in service(app).journal("member-7")] == ["order", "earn"]


def test_a_webhook_id_reused_for_another_order_is_a_409_and_writes_nothing(
    app: Flask, client: FlaskClient
) -> None:
    webhook(client, "wh-1001", B1)
    other = order("B-2", "2026-03-02T10:00:00+00:00", ("LIPSTICK", "12.00", 1))
    response = webhook(client, "wh-1001", other)
    assert response.status_code == 409
    assert response.json["error"] == "IdempotencyConflict"
    assert service(app).balance("member-7").earned == 120


def test_quote_and_redeem_at_checkout_around_the_nightly_job(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    webhook(client, "wh-1001", B1)
    clock.now = datetime(2026, 3, 5, 9, tzinfo=UTC)  # the 120 points are still pending
    b2 = cart("B-2", ("LIPSTICK", "12.00", 1))
    quoted = client.post("/members/member-7/quote", json={"cart": b2})
    assert quoted.status_code == 200
    assert quoted.json["earn"] == 12
    assert quoted.json["available"] == 0
    assert quoted.json["best"] is None
    assert quoted.json["rewards"] == [
        {
            "reward": "five-off",
            "eligible": False,
            "points": 100,
            "value": "5.00 USD",
            "unmet": ["earn 100 more points"],
        }
    ]
    refused = client.post("/members/member-7/redeem", json={"reward": "five-off", "cart": b2})
    assert refused.status_code == 422
    assert refused.json["error"] == "RedemptionRefused"
    assert refused.json["unmet"] == [{"condition": "cost", "reason": "earn 100 more points"}]

    ran = app.test_cli_runner().invoke(args=["loyalty-advance", "--at", "2026-04-01T02:00+00:00"])
    assert ran.exit_code == 0, ran.output
    assert ran.output == (
        "advanced to 2026-04-01T02:00:00+00:00: 1 members, 0 entries, 1 notifications, 0 failed\n"
    )
    assert service(app).balance("member-7").available == 120

    clock.now = datetime(2026, 4, 10, 9, tzinfo=UTC)
    quoted = client.post("/members/member-7/quote", json={"cart": B3})
    assert (quoted.json["earn"], quoted.json["available"], quoted.json["best"]) == (
        28,
        120,
        "five-off",
    )
    body = {"reward": "five-off", "cart": B3}
    redeemed = client.post("/members/member-7/redeem", json=body)
    twice = client.post("/members/member-7/redeem", json=body)  # a double click
    assert redeemed.status_code == 200
    assert redeemed.json == twice.json
    assert {k: redeemed.json[k] for k in ("reward", "points", "discount", "lines")} == {
        "reward": "five-off",
        "points": 100,
        "discount": "5.00 USD",
        "lines": [
            {"sku": "LIPSTICK", "amount": "2.14 USD"},
            {"sku": "MASCARA", "amount": "2.86 USD"},
        ],
    }
    balance = service(app).balance("member-7")
    assert (balance.available, balance.redeemed) == (20, 100)


def test_bad_requests_are_400s_naming_the_field_and_write_nothing(
    app: Flask, client: FlaskClient
) -> None:
    not_json = client.post(
        "/webhooks/orders", data=b"{'type':", headers={"Webhook-Id": "wh-1"}
    )
    assert (not_json.status_code, not_json.json["field"]) == (400, "body")
    no_id = client.post("/webhooks/orders", json=B1)
    assert (no_id.status_code, no_id.json["field"]) == (400, "Webhook-Id")
    keyed = webhook(client, "wh-1", {**B1, "key": "mine"})
    assert (keyed.status_code, keyed.json["field"]) == (400, "key")
    naive = webhook(client, "wh-1", {**B1, "at": "2026-03-01T10:05:00"})
    assert naive.status_code == 400
    assert naive.json["error"] == "InvalidEvent"
    assert [problem["field"] for problem in naive.json["problems"]] == ["at"]
    unknown_reward = client.post(
        "/members/member-7/redeem", json={"reward": "ten-off", "cart": B3}
    )
    assert unknown_reward.status_code == 400
    assert (unknown_reward.json["error"], unknown_reward.json["field"]) == (
        "UnknownReward",
        "reward_id",
    )
    no_cart = client.post("/members/member-7/quote", json={})
    assert (no_cart.status_code, no_cart.json["field"]) == (400, "cart")
    assert service(app).journal("member-7") == ()


def test_refusals_by_the_program_are_422s_and_other_events_are_handled(
    app: Flask, client: FlaskClient
) -> None:
    refund = {"type": "order_refunded", "member_id": "member-7", "at": "2026-03-03T09:00:00+00:00"}
    unknown = webhook(client, "wh-3001", {**refund, "order_id": "B-9"})
    assert (unknown.status_code, unknown.json["error"]) == (422, "UnknownOrder")
    webhook(client, "wh-1001", B1)
    refunded = webhook(client, "wh-3002", {**refund, "order_id": "B-1"})
    assert (refunded.status_code, refunded.json) == (200, {"handled": "order_refunded"})
    balance = service(app).balance("member-7")
    assert (balance.earned, balance.reversed, balance.pending) == (120, 120, 0)
    again = client.post("/members", json={"member_id": "member-7", "segments": ["vip"]})
    assert (again.status_code, again.json["error"]) == (409, "MemberExists")


def test_an_unknown_member_is_a_404(client: FlaskClient) -> None:
    quoted = client.post("/members/member-8/quote", json={"cart": cart("C-1", member="member-8")})
    assert quoted.status_code == 404
    assert quoted.json["error"] == "UnknownMember"
    stranger = {**B1, "member_id": "member-8", "cart": cart("C-1", member="member-8")}
    credited = webhook(client, "wh-2001", stranger)
    assert credited.status_code == 404


def test_busy_is_a_503_with_retry_after_and_the_retry_credits_once(
    tmp_path: Path, clock: Clock
) -> None:
    database = tmp_path / "loyalty.db"
    app = create_app(f"sqlite:///{database}", clock=clock, attempts=2, busy_timeout=0.05)
    client = app.test_client()
    client.post("/members", json={"member_id": "member-7"})
    other_writer = sqlite3.connect(database, isolation_level=None)
    try:
        other_writer.execute("BEGIN IMMEDIATE")  # holds the file's write lock
        busy = webhook(client, "wh-1001", B1)
        assert busy.status_code == 503
        assert busy.headers["Retry-After"] == "1"
        assert busy.json["error"] == "Busy"
        other_writer.execute("ROLLBACK")
        retried = webhook(client, "wh-1001", B1)
        assert (retried.status_code, retried.json) == (200, {"order": "B-1", "points": 120})
        assert service(app).balance("member-7").earned == 120
    finally:
        other_writer.close()
        service(app).store.close()


def test_the_nightly_command_refuses_an_instant_without_an_offset(app: Flask) -> None:
    ran = app.test_cli_runner().invoke(args=["loyalty-advance", "--at", "2026-04-01T02:00"])
    assert ran.exit_code == 2
    assert "has no offset" in ran.output


def test_the_documented_flask_command_runs_the_nightly_job(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'loyalty.db'}"
    app = create_app(url, clock=Clock(FEB_1))
    client = app.test_client()
    client.post("/members", json={"member_id": "member-7"})
    webhook(client, "wh-1001", B1)
    service(app).store.close()
    command = [sys.executable, "-m", "flask", "--app", "examples/embedding/flask_shop.py"]
    ran = subprocess.run(
        [*command, "loyalty-advance", "--at", "2026-04-01T02:00:00+00:00"],
        cwd=ROOT,
        env={**os.environ, "LOYALTY_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("advanced to 2026-04-01T02:00:00+00:00: 1 members,")
    app = create_app(url)
    assert service(app).balance("member-7").available == 120
    service(app).store.close()
