"""The Flask embedding example (examples/embedding/flask_shop.py), through Flask's test
client and CLI runner: the routes, the error statuses and the nightly command that
docs/embedding/flask.md shows."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


# Bodies a client may send that are not JSON the shop takes: each is a 400 naming body.
BAD_BODIES = {
    "nested past the parser's recursion limit": b"[" * 100_000 + b"]" * 100_000,
    "nested 33 levels": b'{"a":' * 33 + b"1" + b"}" * 33,
    "NaN": b'{"member_id": "member-9", "segments": NaN}',
    "Infinity": b'{"member_id": "member-9", "segments": -Infinity}',
    "a key twice": b'{"member_id": "member-9", "member_id": "member-10"}',
    "not UTF-8": b'{"member_id": "\xff\xfe"}',
    "an integer of 5000 digits": b'{"member_id": ' + b"9" * 5000 + b"}",
    "not JSON": b"{'member_id':",
    "empty": b"",
}
BODY_ROUTES = [
    "/members",
    "/webhooks/orders",
    "/members/member-7/quote",
    "/members/member-7/redeem",
]


@pytest.mark.parametrize("route", BODY_ROUTES)
@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_a_body_that_is_not_json_the_shop_takes_is_a_400_naming_body(
    app: Flask, client: FlaskClient, route: str, name: str
) -> None:
    response = client.post(
        route,
        data=BAD_BODIES[name],
        content_type="application/json",
        headers={"Webhook-Id": "wh-bad"},
    )
    assert response.status_code == 400, response.data[:200]
    assert response.json is not None
    assert (response.json["error"], response.json["field"]) == ("InvalidInput", "body")
    assert service(app).journal("member-7") == ()
    assert [member for member in ("member-9", "member-10") if exists(app, member)] == []


def test_a_key_given_twice_is_refused_as_the_page_shows(client: FlaskClient) -> None:
    response = client.post(
        "/members",
        data=b'{"member_id": "member-9", "member_id": "member-10"}',
        content_type="application/json",
    )
    assert (response.status_code, response.json) == (
        400,
        {
            "error": "InvalidInput",
            "field": "body",
            "message": "body: 'member_id' is given twice in one object",
        },
    )


def exists(app: Flask, member_id: str) -> bool:
    try:
        service(app).balance(member_id)
    except loyalty.UnknownMember:
        return False
    return True


def test_nesting_of_32_levels_is_read_and_left_to_the_library(client: FlaskClient) -> None:
    """The body reader's limit is the library's (load_event_json): 32 levels pass it, and
    the library then names the field that holds them."""
    deep = "[" * 31 + "]" * 31
    response = client.post(
        "/members",
        data=f'{{"member_id": "member-9", "segments": {deep}}}',
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json["field"] == "segments"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(
        st.binary(max_size=64),
        st.integers(0, 5000).map(lambda depth: b"[" * depth + b"]" * depth),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
            lambda inner: st.lists(inner, max_size=3)
            | st.dictionaries(st.text(max_size=8), inner, max_size=3),
            max_leaves=40,
        ).map(lambda value: repr(value).replace("'", '"').encode()),
    ),
    route=st.sampled_from(BODY_ROUTES),
)
def test_no_body_is_a_500(client: FlaskClient, body: bytes, route: str) -> None:
    response = client.post(
        route, data=body, content_type="application/json", headers={"Webhook-Id": "wh-any"}
    )
    assert response.status_code in (400, 404, 409, 422), response.data[:300]
    assert response.json is not None
    assert isinstance(response.json["error"], str)


def test_a_retried_enrolment_with_its_time_answers_as_the_first_while_the_clock_moves(
    app: Flask, clock: Clock
) -> None:
    client = app.test_client()
    signed_up = "2026-01-31T18:00:00-05:00"
    body = {"member_id": "member-8", "enrolled_at": signed_up, "segments": ["vip"]}
    first = client.post("/members", json=body)
    clock.now += timedelta(seconds=3)  # the retry comes a little later
    again = client.post("/members", json=body)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json == again.json == {
        "member_id": "member-8",
        "enrolled_at": "2026-01-31T23:00:00+00:00",
        "segments": ["vip"],
    }
    other = client.post("/members", json={**body, "enrolled_at": "2026-02-01T09:00:00+00:00"})
    assert (other.status_code, other.json["error"]) == (409, "MemberExists")

    # Without enrolled_at the time is the clock's, and a retry after it moved has other
    # details (what the page says: send enrolled_at).
    bare = {"member_id": "member-9"}
    assert client.post("/members", json=bare).json["enrolled_at"] == clock.now.isoformat()
    clock.now += timedelta(seconds=1)
    assert client.post("/members", json=bare).status_code == 409


@pytest.mark.parametrize(
    ("enrolled_at", "reason"),
    [
        ("2026-01-31T18:00:00", "has no offset"),
        ("last tuesday", "is not an ISO 8601"),
        (20260131, "is not an ISO 8601"),
        ("1900-01-01T00:00:00+00:00", "outside"),
    ],
)
def test_a_bad_enrolment_time_is_a_400_naming_enrolled_at(
    app: Flask, enrolled_at: object, reason: str
) -> None:
    client = app.test_client()
    response = client.post("/members", json={"member_id": "member-8", "enrolled_at": enrolled_at})
    assert response.status_code == 400
    assert response.json["field"] == "enrolled_at"
    assert reason in response.json["message"]
    assert not exists(app, "member-8")


def test_a_cart_without_member_id_is_the_urls_members_and_another_members_is_refused(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    webhook(client, "wh-1001", B1)
    app.test_cli_runner().invoke(args=["loyalty-advance", "--at", "2026-04-01T02:00+00:00"])
    clock.now = datetime(2026, 4, 10, 9, tzinfo=UTC)
    anonymous = {key: value for key, value in B3.items() if key != "member_id"}
    quoted = client.post("/members/member-7/quote", json={"cart": anonymous})
    assert (quoted.status_code, quoted.json["earn"], quoted.json["best"]) == (200, 28, "five-off")

    client.post("/members", json={"member_id": "member-8"})
    theirs = {**anonymous, "member_id": "member-8"}
    for route, body in [
        ("quote", {"cart": theirs}),
        ("redeem", {"cart": theirs, "reward": "five-off"}),
    ]:
        refused = client.post(f"/members/member-7/{route}", json=body)
        assert refused.status_code == 400, route
        assert (refused.json["error"], refused.json["field"]) == ("InvalidInput", "cart.member_id")
    listed = client.post("/members/member-7/quote", json={"cart": ["B-3"]})
    assert (listed.status_code, listed.json["field"]) == (400, "cart")

    checkout = {"cart": anonymous, "reward": "five-off"}
    redeemed = client.post("/members/member-7/redeem", json=checkout)
    assert (redeemed.status_code, redeemed.json["points"]) == (200, 100)
    assert service(app).balance("member-7").available == 20


def test_a_json_number_with_a_fraction_is_read_as_an_exact_decimal(
    app: Flask, client: FlaskClient
) -> None:
    """The library refuses a float amount; the body reader gives it a Decimal, so 12.5
    is exactly 12.5 (and 0.1 three times is 0.30, where a float is 0.30000000000000004)."""
    floated = {"sku": "LIPSTICK", "unit_price": 12.5, "quantity": 1}
    with pytest.raises(loyalty.InvalidCart):
        service(app).quote("member-7", {**cart("F-0"), "lines": [floated]}, at=FEB_1)
    raw = (
        b'{"type": "order_completed", "member_id": "member-7", "at": "2026-03-01T10:05:00+00:00",'
        b' "cart": {"id": "F-1", "currency": "USD", "member_id": "member-7", "lines": ['
        b'{"sku": "LIPSTICK", "unit_price": 12.5, "quantity": 2},'
        b'{"sku": "MASCARA", "unit_price": 0.1, "quantity": 3},'
        b'{"sku": "SERUM-50ML", "unit_price": 6.99E1, "quantity": 1}]}}'
    )
    credited = client.post(
        "/webhooks/orders", data=raw, content_type="application/json", headers={"Webhook-Id": "f1"}
    )
    assert (credited.status_code, credited.json) == (200, {"order": "F-1", "points": 95})
    (order_entry,) = [e for e in service(app).journal("member-7") if e.kind == "order"]
    assert isinstance(order_entry, loyalty.Order)
    assert order_entry.amount == loyalty.Money(Decimal("95.20"), "USD")


def test_a_key_made_of_a_bad_request_field_names_that_field(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    long_id = "w" * 493  # with "webhook:", 501 characters: one over the library's limit
    for webhook_id, reason in [(long_id, "is too long"), ("wh\x01", "not printable (U+0001)")]:
        refused = webhook(client, webhook_id, B1)
        assert refused.status_code == 400
        assert (refused.json["error"], refused.json["field"]) == ("InvalidInput", "Webhook-Id")
        assert reason in refused.json["message"]
    assert webhook(client, "w" * 492, B1).status_code == 200  # 500 characters: taken

    clock.now = datetime(2026, 4, 10, 9, tzinfo=UTC)
    app.test_cli_runner().invoke(args=["loyalty-advance", "--at", "2026-04-01T02:00+00:00"])
    long_cart = {**B3, "id": "C" * 490}
    checkout = {"reward": "five-off", "cart": long_cart}
    refused = client.post("/members/member-7/redeem", json=checkout)
    assert (refused.status_code, refused.json["field"]) == (400, "cart.id")

    for redemption_id, reason in [("r" * 496, "is too long"), ("r%01", "not printable")]:
        voided = client.delete(f"/members/member-7/redemptions/{redemption_id}")
        assert voided.status_code == 400
        assert (voided.json["error"], voided.json["field"]) == ("InvalidInput", "redemption_id")
        assert reason in voided.json["message"]
    assert [e.kind for e in service(app).journal("member-7")] == ["order", "earn"]


def test_a_void_returns_the_points_once_and_a_retry_answers_the_same(
    app: Flask, client: FlaskClient, clock: Clock
) -> None:
    webhook(client, "wh-1001", B1)
    app.test_cli_runner().invoke(args=["loyalty-advance", "--at", "2026-04-01T02:00+00:00"])
    clock.now = datetime(2026, 4, 10, 9, tzinfo=UTC)
    redeemed = client.post("/members/member-7/redeem", json={"reward": "five-off", "cart": B3})
    redemption_id = redeemed.json["redemption_id"]
    assert service(app).balance("member-7").available == 20
    voided = client.delete(f"/members/member-7/redemptions/{redemption_id}")
    clock.now += timedelta(minutes=1)
    again = client.delete(f"/members/member-7/redemptions/{redemption_id}")
    assert voided.status_code == again.status_code == 200
    assert voided.json == again.json == {"redemption_id": redemption_id, "points_returned": 100}
    assert service(app).balance("member-7").available == 120
    unknown = client.delete("/members/member-7/redemptions/no-such-entry")
    assert (unknown.status_code, unknown.json["error"]) == (422, "UnknownEntry")


def test_the_page_installs_this_project_from_its_source_and_says_how_amounts_are_read() -> None:
    """The name ``loyalty`` on the public index is another package: every ``pip install``
    on the page names this project by a path (the clone's root, or another path)."""
    page = (ROOT / "docs" / "embedding" / "flask.md").read_text(encoding="utf-8")
    targets = re.findall(r"pip install (\S+)", page)
    assert len(targets) >= 3
    assert [target for target in targets if not target.startswith(("'.[", "'/"))] == []
    assert "`12.5` in a body is accepted as exactly 12.5" in page
