"""The FastAPI shop backend (examples/shop_backend/), tested through HTTP.

Requests go through httpx's ASGI transport to the app, over a SQLite file in tmp_path
and, when LOYALTY_POSTGRES_URL is set, over PostgreSQL. The program is the cosmetics
club: 1 point per USD (rounded down), points pending 30 days, expiring 12 months after
the order at the end of that month (America/New_York), and ``five-off`` ($5 off for 100
points, from the second order, on a basket of at least $10.00).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from examples.shop_backend import outbox
from examples.shop_backend.api import create_app
from examples.shop_backend.errors import api_error
from examples.shop_backend.outbox import HttpSender
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty import (
    ActionLimitReached,
    CorruptJournal,
    InsufficientPoints,
    LoyaltyService,
    MemoryStore,
    load_program,
)
from loyalty.store.port import OutboxMessage, StoreConflict, Transaction
from tests.conftest import clear_postgres, postgres_url
from tests.test_site_pages import FACTORIES

PROGRAM = Path(__file__).resolve().parents[1] / "examples" / "programs" / "cosmetics-club.yaml"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


class Receiver:
    """A notification service: records what it is sent; refuses while ``down``."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.down = False

    def __call__(self, message: dict[str, Any]) -> None:
        if self.down:
            raise ConnectionError("notification service unreachable")
        self.received.append(message)


class Shop:
    """The app, a clock the test sets, and sync HTTP calls to it (one event loop per
    call, so calls from several threads run at once; the app runs its endpoints in
    its thread pool)."""

    def __init__(self, database_url: str | None = None, service: LoyaltyService | None = None):
        self.now = at("2026-04-10T13:00:00+00:00")
        self.receiver = Receiver()
        self.app = create_app(
            PROGRAM, database_url, service=service, clock=lambda: self.now, sender=self.receiver
        )
        self.service: LoyaltyService = self.app.state.service

    def call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://shop") as client:
                return await client.request(method, url, **kwargs)

        return asyncio.run(send())

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.call("POST", url, **kwargs)

    def get(self, url: str) -> httpx.Response:
        return self.call("GET", url)

    def enrol(self, member_id: str = "member-7") -> None:
        body = {"member_id": member_id, "enrolled_at": "2026-02-01T10:00:00Z"}
        assert self.post("/members", json=body).status_code == 201

    def statement(self, member_id: str = "member-7") -> dict[str, Any]:
        response = self.get(f"/members/{member_id}/statement")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def order(delivery: str, order_id: str, when: str, *lines: tuple[str, str, int]) -> dict[str, Any]:
    """An order-completed webhook: its delivery id, when the order happened, the order."""
    return {
        "id": delivery,
        "occurred_at": when,
        "order": {
            "id": order_id,
            "member_id": "member-7",
            "currency": "USD",
            "lines": [{"sku": s, "unit_price": p, "quantity": q} for s, p, q in lines],
        },
    }


def cart(cart_id: str, *lines: tuple[str, str, int]) -> dict[str, Any]:
    return {
        "id": cart_id,
        "currency": "USD",
        "lines": [{"sku": s, "unit_price": p, "quantity": q} for s, p, q in lines],
    }


@pytest.fixture(params=["sqlite", "postgres"])
def shop(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Shop]:
    """The backend over a SQLite file, then over PostgreSQL (emptied first)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shop.db'}"
    else:
        url = postgres_url()
        clear_postgres(request.getfixturevalue("postgres_engine"))
    made = Shop(url)
    yield made
    made.service.store.close()


@pytest.fixture
def sqlite_shop(tmp_path: Path) -> Iterator[Shop]:
    made = Shop(f"sqlite:///{tmp_path / 'shop.db'}")
    yield made
    made.service.store.close()


# ----------------------------------------------------------------- webhooks


def test_a_webhook_delivered_twice_credits_once_and_answers_the_same(shop: Shop) -> None:
    shop.enrol()
    webhook = order("dlv-1001", "B-1", "2026-03-01T15:05:00Z", ("SERUM-50ML", "60.00", 2))

    first = shop.post("/webhooks/order-completed", json=webhook)
    again = shop.post("/webhooks/order-completed", json=webhook)

    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    # 2 x 60.00 USD at 1 point per USD; pending 30 days from 10:05 EST on 1 March (the
    # clocks go forward on 8 March: 10:05 EDT on 31 March is 14:05 UTC); expiring at the
    # end of March 2027 in New York (midnight EDT, 04:00 UTC).
    assert first.json() | {"grants": []} == {
        "order_id": "B-1",
        "member_id": "member-7",
        "amount": {"amount": "120.00", "currency": "USD"},
        "occurred_at": "2026-03-01T15:05:00+00:00",
        "recorded_at": "2026-03-01T15:05:00+00:00",
        "late": False,
        "points": 120,
        "available_at": "2026-03-31T14:05:00+00:00",
        "expires_at": "2027-04-01T04:00:00+00:00",
        "tier": None,
        "grants": [],
    }
    statement = shop.statement()
    assert [(line["kind"], line["points"]) for line in statement["lines"]] == [
        ("order", 0),
        ("earn", 120),
    ]
    assert statement["balance"]["pending"] == 120
    assert statement["balance"]["earned"] == 120
    (waiting,) = shop.service.outbox()  # one message, though the order came twice
    assert shop.post("/outbox/relay").json() == {"sent": [waiting.id], "failed": None}
    assert [m["kind"] for m in shop.receiver.received] == ["points_earned"]

    # The same delivery id with other content is not a redelivery: 409, nothing written.
    other = order("dlv-1001", "B-1", "2026-03-01T15:05:00Z", ("SERUM-50ML", "60.00", 3))
    conflict = shop.post("/webhooks/order-completed", json=other)
    assert conflict.status_code == 409
    assert conflict.json()["error"] == "idempotency_conflict"
    assert conflict.json()["field"] == "id"
    assert shop.statement()["balance"]["earned"] == 120


def test_a_late_webhook_keeps_its_own_time(shop: Shop) -> None:
    shop.enrol()
    # B-2 happened on 2 April and is delivered first; B-1 happened on 28 March and its
    # webhook arrives after B-2's.
    b2 = order("dlv-2", "B-2", "2026-04-02T14:00:00Z", ("SERUM-50ML", "60.00", 1))
    b1 = order("dlv-1", "B-1", "2026-03-28T14:00:00Z", ("LIPSTICK", "30.00", 1))
    assert shop.post("/webhooks/order-completed", json=b2).status_code == 200
    late = shop.post("/webhooks/order-completed", json=b1)

    assert late.status_code == 200
    body = late.json()
    assert body["late"] is True
    assert body["occurred_at"] == "2026-03-28T14:00:00+00:00"
    assert body["recorded_at"] == "2026-04-02T14:00:00+00:00"  # written at the member's clock
    assert body["points"] == 30
    # Its own date rules: pending 30 days from 28 March (not from 2 April), expiring at
    # the end of March 2027 (not of April 2027, as B-2's points do).
    assert body["available_at"] == "2026-04-27T14:00:00+00:00"
    assert body["expires_at"] == "2027-04-01T04:00:00+00:00"
    b2_earn = shop.statement()["lines"][1]
    assert (b2_earn["kind"], b2_earn["points"]) == ("earn", 60)

    # On 28 April B-1's 30 points are available; B-2's 60 wait until 2 May.
    shop.now = at("2026-04-28T12:00:00+00:00")
    quote = shop.post("/members/member-7/quote", json=cart("C-9", ("LIPSTICK", "12.00", 1)))
    assert quote.status_code == 200
    assert quote.json()["available_points"] == 30
    lines = shop.statement()["lines"]
    assert [(line["kind"], line["points"], line["occurred_at"]) for line in lines] == [
        ("order", 0, None),
        ("earn", 60, None),
        ("order", 0, "2026-03-28T10:00:00-04:00"),
        ("earn", 30, "2026-03-28T10:00:00-04:00"),
    ]


def test_a_refund_webhook_reverses_its_share_and_a_delay_is_answered(shop: Shop) -> None:
    shop.enrol()
    webhook = order(
        "dlv-1", "B-1", "2026-03-01T15:05:00Z", ("SERUM-50ML", "60.00", 2), ("LIPSTICK", "9.99", 1)
    )
    assert shop.post("/webhooks/order-completed", json=webhook).json()["points"] == 129
    refund = {
        "id": "dlv-2",
        "occurred_at": "2026-03-03T12:00:00Z",
        "member_id": "member-7",
        "order_id": "B-1",
        "lines": {"SERUM-50ML": 1},
    }
    first = shop.post("/webhooks/order-refunded", json=refund)
    assert first.status_code == 200
    # The earn kept each line's points: 120 for the two serums, 9 for the lipstick (129.99
    # USD earns 129). One serum of the two comes back: 60 points are reversed.
    assert first.json()["points_reversed"] == 60
    assert shop.post("/webhooks/order-refunded", json=refund).json() == first.json()
    assert shop.statement()["balance"]["pending"] == 129 - 60

    delay = {
        "id": "dlv-3",
        "occurred_at": "2026-03-04T12:00:00Z",
        "member_id": "member-7",
        "order_id": "B-1",
    }
    delayed = shop.post("/webhooks/shipment-delayed", json=delay)
    assert delayed.status_code == 200
    # The cosmetics club pays no apology for a delay: nothing is written.
    assert delayed.json()["points"] == 0
    assert len(shop.statement()["lines"]) == 4


# ----------------------------------------------------------------- checkout


def test_concurrent_checkouts_on_one_member_redeem_once(shop: Shop) -> None:
    shop.enrol()
    webhook = order("dlv-1", "B-1", "2026-03-01T15:05:00Z", ("SERUM-50ML", "150.00", 1))
    assert shop.post("/webhooks/order-completed", json=webhook).status_code == 200
    # On 10 April the 150 points are available: enough for one five-off (100), not two.
    threads = 6
    start = threading.Barrier(threads)
    responses: list[httpx.Response] = []
    spans: list[tuple[float, float]] = []

    def checkout(n: int) -> None:
        body = {"reward_id": "five-off", "cart": cart(f"C-{n}", ("LIPSTICK", "20.00", 1))}
        start.wait()
        began = time.monotonic()
        responses.append(shop.post("/members/member-7/redemptions", json=body))
        spans.append((began, time.monotonic()))

    workers = [threading.Thread(target=checkout, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    # The requests were in flight together (the store, not the test, serialised them).
    assert any(a[0] < b[1] and b[0] < a[1] for a in spans for b in spans if a is not b)
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [422] * (threads - 1)
    for refused in (r for r in responses if r.status_code == 422):
        assert refused.json()["error"] == "redemption_refused"
        assert refused.json()["unmet"] == [
            {"condition": "cost", "reason": "earn 50 more points", "shortfall": 50}
        ]
    statement = shop.statement()
    assert statement["balance"]["available"] == 50
    assert statement["balance"]["redeemed"] == 100
    running = [line["balance"] for line in statement["lines"]]
    assert min(running) >= 0
    assert [line["kind"] for line in statement["lines"]].count("redeem") == 1


def test_quote_redeem_retry_and_void(shop: Shop) -> None:
    shop.enrol()
    webhook = order("dlv-1", "B-1", "2026-03-01T15:05:00Z", ("SERUM-50ML", "60.00", 2))
    shop.post("/webhooks/order-completed", json=webhook)

    small = shop.post("/members/member-7/quote", json=cart("C-1", ("LIPSTICK", "9.50", 1)))
    assert small.status_code == 200
    assert small.json()["available_points"] == 120
    assert small.json()["earn"]["points"] == 9
    assert small.json()["best"] is None
    (option,) = small.json()["rewards"]
    assert option["eligible"] is False
    assert option["unmet"] == [
        {
            "condition": "min_basket",
            "reason": "add 0.50 USD to your basket",
            "shortfall": {"amount": "0.50", "currency": "USD"},
        }
    ]

    basket = cart("C-2", ("LIPSTICK", "12.00", 1), ("MASCARA", "8.00", 2))
    quoted = shop.post("/members/member-7/quote", json=basket).json()
    assert (quoted["best"], quoted["earn"]["points"]) == ("five-off", 28)

    checkout = {"reward_id": "five-off", "cart": basket}
    redeemed = shop.post("/members/member-7/redemptions", json=checkout)
    assert redeemed.status_code == 201
    # $5 split over the lines by amount: 12.00 / 28.00 of it is 2.14, the rest 2.86.
    assert redeemed.json() == {
        "redemption_id": "member-7:3",
        "reward_id": "five-off",
        "cart_id": "C-2",
        "points": 100,
        "discount": {"amount": "5.00", "currency": "USD"},
        "lines": [
            {"line": "LIPSTICK", "amount": {"amount": "2.14", "currency": "USD"}},
            {"line": "MASCARA", "amount": {"amount": "2.86", "currency": "USD"}},
        ],
        "shipping": None,
    }
    shop.now = at("2026-04-10T13:01:00+00:00")  # the browser retries a minute later
    retried = shop.post("/members/member-7/redemptions", json=checkout)
    assert (retried.status_code, retried.json()) == (201, redeemed.json())
    assert shop.statement()["balance"]["available"] == 20

    voided = shop.call("DELETE", "/members/member-7/redemptions/member-7:3")
    assert voided.status_code == 200
    assert voided.json()["points_returned"] == 100
    again = shop.call("DELETE", "/members/member-7/redemptions/member-7:3")
    assert again.json() == voided.json()
    assert shop.statement()["balance"]["available"] == 120

    # The voided checkout sent again must not give its 5.00 off for no points.
    repeated = shop.post("/members/member-7/redemptions", json=checkout)
    assert repeated.status_code == 409
    assert (repeated.json()["error"], repeated.json()["field"]) == ("redemption_voided", "cart.id")
    assert shop.statement()["balance"]["available"] == 120
    fresh = shop.post(
        "/members/member-7/redemptions", json={**checkout, "cart": {**basket, "id": "C-3"}}
    )
    assert (fresh.status_code, fresh.json()["points"]) == (201, 100)


def test_a_void_names_the_redemption_id_it_was_given(shop: Shop) -> None:
    shop.enrol()
    bad = shop.call("DELETE", "/members/member-7/redemptions/a%01b")
    assert bad.status_code == 400
    assert (bad.json()["field"], bad.json()["value"]) == ("redemption_id", "a\x01b")


# ------------------------------------------------------------ bad requests


def test_a_malformed_body_is_a_400_naming_the_field_and_writes_nothing(shop: Shop) -> None:
    shop.enrol()
    good = order("dlv-1", "B-1", "2026-03-01T15:05:00Z", ("SERUM-50ML", "60.00", 2))
    raw = {"content-type": "application/json"}
    nan = json.dumps(good).replace('"60.00"', "NaN").encode()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"content": b'{"id": "dlv-1", ', "headers": raw}, "body"),
        ({"content": b"[1, 2]", "headers": raw}, "body"),
        ({"json": {**good, "id": 1001}}, "id"),
        ({"json": {k: v for k, v in good.items() if k != "occurred_at"}}, "occurred_at"),
        ({"json": {**good, "occurred_at": "2026-03-01T15:05:00"}}, "occurred_at"),
        ({"json": {**good, "occurred_at": "next tuesday"}}, "occurred_at"),
        ({"json": {**good, "shiping": True}}, "shiping"),
        ({"json": {**good, "order": {**good["order"], "member_id": 7}}}, "order.member_id"),
        ({"content": nan, "headers": raw}, "order.lines[0].unit_price"),
        (
            {
                "json": {
                    **good,
                    "order": {
                        **good["order"],
                        "lines": [{"sku": "X", "unit_price": 12.5, "quantity": 1}],
                    },
                }
            },
            "order.lines[0].unit_price",
        ),
        ({"json": {**good, "order": {**good["order"], "currency": "XXZ"}}}, "order.currency"),
    ]
    for request, field in cases:
        response = shop.post("/webhooks/order-completed", **request)
        assert response.status_code == 400, (request, response.text)
        body = response.json()
        assert body["field"] == field, body
        assert set(body) >= {"error", "message", "field", "value", "problems"}
        assert body["problems"], body
    assert shop.statement()["lines"] == []
    assert shop.service.outbox() == []
    # The refused deliveries did not take the delivery id: the good one is applied.
    assert shop.post("/webhooks/order-completed", json=good).json()["points"] == 120


def test_each_error_status(sqlite_shop: Shop) -> None:
    shop = sqlite_shop
    shop.enrol()
    shop.post(
        "/webhooks/order-completed",
        json=order("dlv-1", "B-1", "2026-03-01T15:05:00Z", ("SERUM-50ML", "60.00", 2)),
    )
    basket = cart("C-1", ("LIPSTICK", "20.00", 1))

    unknown_reward = shop.post(
        "/members/member-7/redemptions", json={"reward_id": "ten-off", "cart": basket}
    )
    assert unknown_reward.status_code == 400
    assert (unknown_reward.json()["field"], unknown_reward.json()["value"]) == (
        "reward_id",
        "ten-off",
    )
    bad_birthday = shop.post("/members", json={"member_id": "m-8", "birthday": "1990-13-01"})
    assert (bad_birthday.status_code, bad_birthday.json()["field"]) == (400, "birthday")
    other_members_cart = shop.post("/members/member-7/quote", json={**basket, "member_id": "x"})
    assert other_members_cart.status_code == 400
    assert other_members_cart.json()["field"] == "cart.member_id"
    bad_limit = shop.post("/outbox/relay?limit=many")
    assert (bad_limit.status_code, bad_limit.json()["field"]) == (400, "limit")

    for url in ("/members/nobody/statement", "/members/nobody"):
        missing = shop.get(url)
        assert missing.status_code == 404
        assert (missing.json()["error"], missing.json()["field"]) == ("unknown_member", "member_id")
    ghost = order("dlv-9", "B-9", "2026-03-02T10:00:00Z", ("LIPSTICK", "20.00", 1))
    ghost["order"]["member_id"] = "nobody"
    assert shop.post("/webhooks/order-completed", json=ghost).json()["field"] == "order.member_id"
    refund = {
        "id": "dlv-2",
        "occurred_at": "2026-03-02T10:00:00Z",
        "member_id": "member-7",
        "order_id": "B-404",
    }
    unknown_order = shop.post("/webhooks/order-refunded", json=refund)
    # The order's webhook may still come: 422, and the platform delivers the refund again.
    assert (unknown_order.status_code, unknown_order.json()["field"]) == (422, "order_id")
    too_much = {**refund, "id": "dlv-3", "order_id": "B-1", "lines": {"SERUM-50ML": 3}}
    exceeds = shop.post("/webhooks/order-refunded", json=too_much)
    assert exceeds.status_code == 400  # two serums were ordered
    assert exceeds.json()["field"] == "lines.SERUM-50ML"
    huge = shop.post("/webhooks/order-refunded", json={**refund, "id": "x" * 100_000})
    assert (huge.status_code, huge.json()["field"]) == (400, "id")
    assert len(huge.text) < 2_000  # the value is cut, not echoed back whole
    no_such = shop.call("DELETE", "/members/member-7/redemptions/member-7:99")
    assert (no_such.status_code, no_such.json()["field"]) == (422, "redemption_id")

    other = shop.post(
        "/members", json={"member_id": "member-7", "enrolled_at": "2026-02-02T10:00Z"}
    )
    assert (other.status_code, other.json()["error"]) == (409, "member_exists")
    shop.post("/members/member-7/redemptions", json={"reward_id": "five-off", "cart": basket})
    changed = {**basket, "lines": [{"sku": "LIPSTICK", "unit_price": "25.00", "quantity": 1}]}
    reused = shop.post(
        "/members/member-7/redemptions", json={"reward_id": "five-off", "cart": changed}
    )
    assert (reused.status_code, reused.json()["field"]) == (409, "cart.id")

    refused = shop.post(
        "/members/member-7/redemptions",
        json={"reward_id": "five-off", "cart": cart("C-2", ("LIPSTICK", "9.00", 1))},
    )
    assert refused.status_code == 422
    assert refused.json()["error"] == "redemption_refused"
    assert refused.json()["unmet"] == [
        {"condition": "cost", "reason": "earn 80 more points", "shortfall": 80},
        {
            "condition": "min_basket",
            "reason": "add 1.00 USD to your basket",
            "shortfall": {"amount": "1.00", "currency": "USD"},
        },
    ]
    assert shop.statement()["balance"]["available"] == 20


def test_other_refusals_are_422_naming_the_field_they_carry() -> None:
    error = api_error(ActionLimitReached("member-7", "review", 1, "lifetime"))
    assert (error.status, error.error, error.field, error.value) == (
        422,
        "action_limit_reached",
        "action",
        "review",
    )


def test_insufficient_points_maps_to_422_with_the_figures() -> None:
    error = api_error(InsufficientPoints("member-7", 100, 40))
    assert error.status == 422
    assert error.body() == {
        "error": "insufficient_points",
        "message": "member 'member-7' has 40 points available, 100 requested",
        "field": "points",
        "value": 100,
        "problems": [],
        "requested": 100,
        "available": 40,
    }


class ContendedStore(MemoryStore):
    """A store whose writes always lose a race, as under heavy contention."""

    def transaction(
        self, program_id: str, *, write: bool = True
    ) -> AbstractContextManager[Transaction]:
        if write:
            raise StoreConflict("could not serialize access")
        return super().transaction(program_id, write=write)

    def outbox(self, program_id: str, limit: int = 100) -> list[OutboxMessage]:
        raise StoreConflict("the database is down")


def test_busy_is_a_503_with_retry_after() -> None:
    service = LoyaltyService(load_program(PROGRAM), ContendedStore(), attempts=2)
    shop = Shop(service=service)
    webhook = order("dlv-1", "B-1", "2026-03-01T15:05:00Z", ("SERUM-50ML", "60.00", 2))
    busy = shop.post("/webhooks/order-completed", json=webhook)
    assert busy.status_code == 503
    assert busy.headers["retry-after"] == "1"
    assert busy.json()["error"] == "busy"
    assert busy.json()["field"] == "order.member_id"  # where the webhook names the member
    assert busy.json()["retry_after"] == 1
    relay = shop.post("/outbox/relay")
    assert (relay.status_code, relay.headers["retry-after"]) == (503, "1")


def test_an_operators_problem_is_a_500_that_tells_the_client_nothing_more() -> None:
    error = api_error(CorruptJournal("member-7", 4, "out of sequence"))
    assert (error.status, error.error, error.field) == (500, "corrupt_journal", None)
    assert "out of sequence" not in error.message


# ------------------------------------------------------------------ outbox


def test_the_relay_keeps_what_the_sender_refused_and_sends_it_once_later(shop: Shop) -> None:
    shop.enrol()
    for n, when in ((1, "2026-03-01T15:05:00Z"), (2, "2026-03-02T15:05:00Z")):
        webhook = order(f"dlv-{n}", f"B-{n}", when, ("SERUM-50ML", "60.00", 1))
        shop.post("/webhooks/order-completed", json=webhook)

    first, second = (message.id for message in shop.service.outbox())

    shop.receiver.down = True
    failed = shop.post("/outbox/relay")
    assert failed.status_code == 502
    assert failed.json()["error"] == "sender_failed"
    assert (failed.json()["sent"], failed.json()["failed"]) == ([], first)
    assert [m.id for m in shop.service.outbox()] == [first, second]

    shop.receiver.down = False
    assert shop.post("/outbox/relay?limit=1").json() == {"sent": [first], "failed": None}
    assert shop.post("/outbox/relay").json() == {"sent": [second], "failed": None}
    assert shop.post("/outbox/relay").json() == {"sent": [], "failed": None}
    received = shop.receiver.received
    assert [(m["id"], m["kind"], m["points"], m["balance"]) for m in received] == [
        (first, "points_earned", 60, 60),
        (second, "points_earned", 60, 120),
    ]


def test_the_relay_stops_at_the_first_failure_to_keep_the_order(sqlite_shop: Shop) -> None:
    shop = sqlite_shop
    shop.enrol()
    for n in (1, 2, 3):
        webhook = order(f"dlv-{n}", f"B-{n}", f"2026-03-0{n}T15:05:00Z", ("LIPSTICK", "10.00", 1))
        shop.post("/webhooks/order-completed", json=webhook)
    calls = 0

    def second_fails(message: dict[str, Any]) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise TimeoutError("timed out")
        shop.receiver(message)

    # The sender is fixed when the app is made: a second app over the same service.
    shop.app = create_app(PROGRAM, service=shop.service, sender=second_fails)
    report = shop.post("/outbox/relay")
    assert report.status_code == 502
    assert (report.json()["sent"], report.json()["failed"]) == ([1], 2)
    assert report.json()["message"] == "TimeoutError: timed out"
    assert [m.id for m in shop.service.outbox()] == [2, 3]


def test_the_http_sender_posts_each_message_with_its_dedupe_key(sqlite_shop: Shop) -> None:
    shop = sqlite_shop
    shop.enrol()
    webhook = order("dlv-1", "B-1", "2026-03-01T15:05:00Z", ("SERUM-50ML", "60.00", 1))
    shop.post("/webhooks/order-completed", json=webhook)
    seen: list[httpx.Request] = []
    status = 500

    def notification_service(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status)

    client = httpx.Client(transport=httpx.MockTransport(notification_service))
    sender = HttpSender("http://127.0.0.1:8025/messages", client=client)
    shop.app = create_app(PROGRAM, service=shop.service, sender=sender)

    assert shop.post("/outbox/relay").status_code == 502  # the service answered 500
    status = 202
    assert shop.post("/outbox/relay").json() == {"sent": [1], "failed": None}
    assert len(seen) == 2
    last = seen[-1]
    assert last.headers["idempotency-key"] == "earned:10:member-7:2"
    assert json.loads(last.content) | {"at": None} == {
        "id": 1,
        "kind": "points_earned",
        "member_id": "member-7",
        "at": None,
        "dedupe": "earned:10:member-7:2",
        "points": 60,
        "balance": 60,
        "source": "B-1",
        "available_at": "2026-03-31T14:05:00+00:00",
        "expires_at": "2027-04-01T04:00:00+00:00",
    }


# ------------------------------------------------------- never a 500 for bad input

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
GOOD = order("dlv-1", "B-1", "2026-03-01T15:05:00Z", ("SERUM-50ML", "60.00", 2))
PATHS = [
    ("id",),
    ("occurred_at",),
    ("order",),
    ("order", "id"),
    ("order", "member_id"),
    ("order", "currency"),
    ("order", "lines"),
    ("order", "lines", 0),
    ("order", "lines", 0, "unit_price"),
    ("order", "lines", 0, "quantity"),
    ("order", "extra"),
]


def replaced(document: Any, path: tuple[str | int, ...], value: Any) -> Any:
    if not path:
        return value
    head, *rest = path
    if isinstance(document, dict):
        return {**document, head: replaced(document.get(head), tuple(rest), value)}
    if isinstance(document, list) and isinstance(head, int) and head < len(document):
        copy = list(document)
        copy[head] = replaced(copy[head], tuple(rest), value)
        return copy
    return value


_memory_shop: list[Shop] = []


def memory_shop() -> Shop:
    """One app over a memory store for the whole property. A mangled order that is still
    valid is recorded; the same delivery id again is then a 409, which is allowed."""
    if not _memory_shop:
        shop = Shop(service=LoyaltyService(load_program(PROGRAM), MemoryStore()))
        shop.enrol()
        _memory_shop.append(shop)
    return _memory_shop[0]


@settings(max_examples=60, deadline=None)
@given(path=st.sampled_from(PATHS), value=JSON)
def test_no_mangled_webhook_or_cart_is_answered_with_a_500(
    path: tuple[str | int, ...], value: Any
) -> None:
    shop = memory_shop()
    body = replaced(GOOD, path, value)
    webhook = shop.post("/webhooks/order-completed", json=body)
    quote = shop.post(
        "/members/member-7/quote",
        json=body["order"] if isinstance(body.get("order"), dict) else value,
    )
    for response in (webhook, quote):
        # A 500 would raise here: the transport re-raises what the app did not handle.
        assert response.status_code in (200, 400, 404, 409, 422), response.text
        if response.status_code >= 400:
            assert set(response.json()) >= {"error", "message", "field", "value", "problems"}


def test_the_relay_drains_the_outbox_in_batches_up_to_its_limit(
    sqlite_shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = sqlite_shop
    shop.enrol()
    for n in (1, 2, 3, 4, 5):
        webhook = order(f"dlv-{n}", f"B-{n}", f"2026-03-0{n}T15:05:00Z", ("LIPSTICK", "10.00", 1))
        shop.post("/webhooks/order-completed", json=webhook)
    monkeypatch.setattr(outbox, "BATCH", 2)
    ids = [message.id for message in shop.service.outbox()]
    assert len(ids) == 5

    assert shop.post("/outbox/relay?limit=3").json() == {"sent": ids[:3], "failed": None}
    assert shop.post("/outbox/relay").json() == {"sent": ids[3:], "failed": None}
    assert [m["id"] for m in shop.receiver.received] == ids
    assert [m["balance"] for m in shop.receiver.received] == [10, 20, 30, 40, 50]


def test_the_nightly_job_announces_expiring_points_then_expires_them(shop: Shop) -> None:
    shop.enrol()
    webhook = order("dlv-1", "B-1", "2026-03-01T15:05:00Z", ("SERUM-50ML", "60.00", 2))
    shop.post("/webhooks/order-completed", json=webhook)
    shop.post("/outbox/relay")
    shop.receiver.received.clear()

    # 10 March 2027: the 120 points expire at the end of March, within 30 days.
    shop.now = at("2027-03-10T12:00:00+00:00")
    run = shop.post("/jobs/nightly")
    assert run.status_code == 200
    assert (run.json()["members"], run.json()["failed"]) == (1, [])
    shop.post("/outbox/relay")
    expiring = [m for m in shop.receiver.received if m["kind"] == "points_expiring"]
    assert [(m["points"], m["expires_at"], m["balance"]) for m in expiring] == [
        (120, "2027-04-01T04:00:00+00:00", 120)
    ]
    # A second run the same night announces nothing new: the outbox keeps a fact once.
    assert shop.post("/jobs/nightly").status_code == 200
    assert shop.post("/outbox/relay").json() == {"sent": [], "failed": None}

    shop.now = at("2027-04-02T07:00:00+00:00")
    assert shop.post("/jobs/nightly").json()["entries"] == 1
    statement = shop.statement()
    assert (statement["lines"][-1]["kind"], statement["lines"][-1]["points"]) == ("expire", -120)
    assert (statement["balance"]["expired"], statement["balance"]["net"]) == (120, 0)


@pytest.mark.parametrize("name", sorted(FACTORIES))
def test_every_error_is_answered_with_the_status_its_class_carries(name: str) -> None:
    """The app's mapping adds the fields; the status is the error's own ``http_status``,
    the one the errors page lists (tests/test_site_pages.py holds the page to it)."""
    error = FACTORIES[name]()
    assert api_error(error).status == error.http_status


# --------------------------------------------- what a reviewer found as a new user


def test_a_webhook_dated_in_the_future_is_refused_and_moves_no_clock(shop: Shop) -> None:
    shop.enrol()
    # The shop's clock reads 2026-04-10 13:00 UTC; the platform's may be a little ahead.
    ahead = order("dlv-1", "B-1", "2026-04-10T13:05:00Z", ("SERUM-50ML", "60.00", 1))
    assert shop.post("/webhooks/order-completed", json=ahead).status_code == 200

    future = order("dlv-2", "B-2", "2031-01-15T10:00:00Z", ("SERUM-50ML", "60.00", 1))
    refused = shop.post("/webhooks/order-completed", json=future)
    assert refused.status_code == 400
    body = refused.json()
    assert (body["error"], body["field"], body["value"]) == (
        "invalid_event",
        "occurred_at",
        "2031-01-15T10:00:00Z",
    )
    reason = (
        "'2031-01-15T10:00:00Z' is later than now (2026-04-10T13:00:00+00:00) plus the 5 "
        "minutes allowed for clock skew: an event dated in the future would move the "
        "member's clock ahead"
    )
    assert body["message"] == f"invalid event: occurred_at: {reason}"
    assert body["problems"] == [
        {"path": "occurred_at", "message": reason, "value": "2031-01-15T10:00:00Z"}
    ]
    # One second past the allowance is refused too, for every webhook.
    just_past = order("dlv-3", "B-3", "2026-04-10T13:05:01Z", ("LIPSTICK", "10.00", 1))
    assert shop.post("/webhooks/order-completed", json=just_past).status_code == 400
    refund = {
        "id": "dlv-4",
        "occurred_at": "2030-01-01T00:00:00+00:00",
        "member_id": "member-7",
        "order_id": "B-1",
    }
    for url in ("/webhooks/order-refunded", "/webhooks/shipment-delayed"):
        response = shop.post(url, json=refund)
        assert (response.status_code, response.json()["field"]) == (400, "occurred_at")

    # Nothing was written, so a real webhook after it is on time, not late.
    assert len(shop.statement()["lines"]) == 2
    real = order("dlv-5", "B-5", "2026-04-10T12:00:00Z", ("LIPSTICK", "10.00", 1))
    assert shop.post("/webhooks/order-completed", json=real).json()["recorded_at"] == (
        "2026-04-10T13:05:00+00:00"  # B-1's time, 5 minutes ahead: no more
    )
    # Once the time has come, the platform's retry of the refused webhook is applied.
    shop.now = at("2031-01-15T10:00:00+00:00")
    again = shop.post("/webhooks/order-completed", json=future)
    assert (again.status_code, again.json()["late"]) == (200, False)


def test_an_order_recorded_under_another_webhook_id_names_order_id(shop: Shop) -> None:
    shop.enrol()
    first = order("dlv-1", "B-1", "2026-03-01T15:05:00Z", ("SERUM-50ML", "60.00", 1))
    assert shop.post("/webhooks/order-completed", json=first).status_code == 200
    second = shop.post("/webhooks/order-completed", json={**first, "id": "dlv-2"})
    assert second.status_code == 400
    assert second.json() == {
        "error": "invalid_input",
        "message": "order.id: 'B-1' is already recorded as an order of this member",
        "field": "order.id",
        "value": "B-1",
        "problems": [],
    }
    assert len(shop.statement()["lines"]) == 2


def test_webhook_ids_are_keys_of_one_member(sqlite_shop: Shop) -> None:
    """The same webhook id for two members is two keys: each order is applied."""
    shop = sqlite_shop
    shop.enrol("member-7")
    shop.enrol("member-8")
    for member in ("member-7", "member-8"):
        webhook = order("dlv-1", f"B-{member}", "2026-03-01T15:05:00Z", ("LIPSTICK", "10.00", 1))
        webhook["order"]["member_id"] = member
        response = shop.post("/webhooks/order-completed", json=webhook)
        assert (response.status_code, response.json()["points"]) == (200, 10)
    assert shop.statement("member-8")["balance"]["earned"] == 10


def test_a_currency_the_program_does_not_take_names_the_requests_field(
    sqlite_shop: Shop,
) -> None:
    shop = sqlite_shop
    shop.enrol()
    euros = order("dlv-1", "B-1", "2026-03-01T15:05:00Z", ("SERUM-50ML", "60.00", 1))
    euros["order"]["currency"] = "EUR"
    basket = {**cart("C-1", ("LIPSTICK", "20.00", 1)), "currency": "EUR"}
    for url, body, field in (
        ("/webhooks/order-completed", euros, "order.currency"),
        ("/members/member-7/quote", basket, "cart.currency"),
        (
            "/members/member-7/redemptions",
            {"reward_id": "five-off", "cart": basket},
            "cart.currency",
        ),
    ):
        response = shop.post(url, json=body)
        assert response.status_code == 400, url
        assert response.json() == {
            "error": "unsupported_currency",
            "message": f"{field}: 'EUR' is not accepted (accepted: USD)",
            "field": field,
            "value": "EUR",
            "problems": [],
        }
    assert shop.statement()["lines"] == []


def test_a_message_lists_each_problem_once_in_the_requests_names(sqlite_shop: Shop) -> None:
    shop = sqlite_shop
    shop.enrol()
    webhook = order("dlv-1", "B-1", "2026-03-01T15:05:00Z", ("LIPSTICK", "10.00", 1))
    webhook["order"]["lines"] = [
        {"sku": "LIPSTICK", "unit_price": 12.5, "quantity": 1},
        {"sku": "MASCARA", "unit_price": "8.00", "quantity": 0},
    ]
    two = shop.post("/webhooks/order-completed", json=webhook).json()
    assert [p["path"] for p in two["problems"]] == [
        "order.lines[0].unit_price",
        "order.lines[1].quantity",
    ]
    assert two["message"] == "invalid cart: " + " | ".join(
        f"{p['path']}: {p['message']}" for p in two["problems"]
    )
    ancient = {
        "id": "dlv-2",
        "occurred_at": "1800-03-01T10:00:00Z",
        "member_id": "member-7",
        "order_id": "B-1",
    }
    event = shop.post("/webhooks/order-refunded", json=ancient).json()
    assert event["message"] == (
        "invalid event: occurred_at: '1800-03-01T10:00:00Z' lies outside the instants "
        "taken (from 1970-01-01 to 2200-01-01 UTC)"
    )
    whole = shop.post("/members/member-7/quote", json={"id": "C-1", "currency": "USD"}).json()
    assert whole["error"] == "invalid_cart"
    assert whole["message"] == "invalid cart: " + " | ".join(
        f"{p['path']}: {p['message']}" for p in whole["problems"]
    )
    assert all(p["path"].startswith("cart") for p in whole["problems"])


def test_the_error_modules_example_is_what_the_app_answers(sqlite_shop: Shop) -> None:
    from examples.shop_backend import errors

    shown = re.search(r'"message": ("[^"]*"),', errors.__doc__ or "")
    assert shown is not None
    shop = sqlite_shop
    shop.enrol()
    webhook = order("dlv-1", "B-1", "2026-03-01T15:05:00Z", ("LIPSTICK", "10.00", 1))
    webhook["order"]["lines"][0]["unit_price"] = 12.5
    response = shop.post("/webhooks/order-completed", json=webhook)
    assert response.json()["message"] == json.loads(shown.group(1))


def test_what_fastapi_and_starlette_refuse_has_the_apps_shape(sqlite_shop: Shop) -> None:
    shop = sqlite_shop
    raw = {"content-type": "application/json"}
    unreadable = {
        b'{"id": "\xff"}': "invalid request: (body): is not UTF-8 text",
        b'{"id": ' + b"9" * 5000 + b"}": "invalid request: (body): could not be read as JSON: "
        "Exceeds the limit (4300 digits) for integer string conversion: value has 5000 digits",
        b"[" * 100_000 + b"]" * 100_000: "invalid request: (body): is nested too deeply to read",
    }
    for content, message in unreadable.items():
        response = shop.post("/webhooks/order-completed", content=content, headers=raw)
        assert response.status_code == 400
        body = response.json()
        assert (body["error"], body["message"], body["field"]) == (
            "invalid_request",
            message,
            "body",
        )
        assert body["problems"] == [
            {"path": "", "message": message.split(": ", 2)[2], "value": None}
        ]

    missing = shop.get("/loyalty/members")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": "not_found",
        "message": "no route /loyalty/members",
        "field": "path",
        "value": "/loyalty/members",
        "problems": [],
    }
    wrong = shop.call("PUT", "/members")
    assert wrong.status_code == 405
    assert wrong.headers["allow"] == "POST"
    assert wrong.json() == {
        "error": "method_not_allowed",
        "message": "PUT is not allowed on /members (allowed: POST)",
        "field": "method",
        "value": "PUT",
        "problems": [],
    }


def test_a_member_id_a_url_cannot_carry_is_refused_at_enrolment(sqlite_shop: Shop) -> None:
    shop = sqlite_shop
    for member_id in ("shop/7", "/7", ".", ".."):
        body = {"member_id": member_id, "enrolled_at": "2026-02-01T10:00:00Z"}
        response = shop.post("/members", json=body)
        assert response.status_code == 400, member_id
        assert (response.json()["field"], response.json()["value"]) == ("member_id", member_id)
        assert "URL path segment" in response.json()["message"]
    assert shop.post("/jobs/nightly").json()["members"] == 0  # no one was enrolled


@settings(max_examples=60, deadline=None)
@given(member_id=st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=12))
def test_every_member_id_that_enrols_is_reachable_at_its_url(member_id: str) -> None:
    shop = Shop(service=LoyaltyService(load_program(PROGRAM), MemoryStore()))
    enrolled = shop.post(
        "/members", json={"member_id": member_id, "enrolled_at": "2026-02-01T10:00:00Z"}
    )
    if enrolled.status_code != 201:
        assert (enrolled.status_code, enrolled.json()["field"]) == (400, "member_id")
        return
    path = urllib.parse.quote(member_id, safe="")
    for url in (f"/members/{path}", f"/members/{path}/statement"):
        response = shop.get(url)
        assert response.status_code == 200, (url, response.text)
        assert response.json()["member_id"] == member_id
