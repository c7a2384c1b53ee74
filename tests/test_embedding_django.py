"""The Django embedding example (examples/embedding/django_shop), in-process: the schema
step, the order webhook and its transaction boundary, the quote view, the error statuses
and the nightly management command that docs/embedding/django.md shows.

Django is set up once, by the first test that needs it, with the example's settings
module and its database in a temporary directory; no other test module uses Django.
Each test has its own members and orders, since they share that one database."""

from __future__ import annotations

import io
import os
import re
import runpy
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import loyalty
from tests.conftest import postgres_url

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ROOT / "examples" / "embedding" / "django_shop"
SETTINGS = "django_shop.settings"


class Refused(Exception):
    """The shop's own code refusing an order after its row was written."""


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Django set up with the example's settings on a new SQLite file, the shop's tables
    and the loyalty tables made by the two commands of a deploy."""
    import django
    from django.conf import settings

    if settings.configured and os.environ.get("DJANGO_SETTINGS_MODULE") != SETTINGS:
        pytest.fail("Django was configured by something else in this process")
    path = tmp_path_factory.mktemp("django") / "shop.sqlite3"
    overrides = {
        "DJANGO_SETTINGS_MODULE": SETTINGS,
        "SHOP_DATABASE": str(path),
        # A writer gives up fast, so the Busy test takes a fraction of a second.
        "LOYALTY_ATTEMPTS": "2",
        "LOYALTY_BUSY_TIMEOUT": "0.05",
    }
    saved = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    sys.path.insert(0, str(PROJECT))
    try:
        django.setup()  # reads the settings module now; the environment is restored below
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    from django.core.management import call_command
    from django.db import connections
    from storefront.services import loyalty_service

    call_command("migrate", verbosity=0)
    out = io.StringIO()
    call_command("loyalty_migrate", stdout=out)
    assert out.getvalue() == "loyalty tables are at the latest revision\n"
    yield path
    loyalty_service().store.close()
    connections.close_all()


@pytest.fixture
def service(database: Path) -> loyalty.LoyaltyService:
    from storefront.services import loyalty_service

    return loyalty_service()


@pytest.fixture
def client(database: Path) -> Any:
    from django.test import Client

    return Client()


def enrol(service: loyalty.LoyaltyService, member: str) -> None:
    service.enrol(member, at=datetime(2026, 2, 1, 10, tzinfo=UTC))


def order(member: str, order_id: str, *lines: tuple[str, str, int]) -> dict[str, Any]:
    """An order webhook's body: the event without its key (the Webhook-Id header is)."""
    return {
        "type": "order_completed",
        "member_id": member,
        "at": "2026-03-01T10:05:00+00:00",
        "cart": {
            "id": order_id,
            "member_id": member,
            "currency": "USD",
            "lines": [{"sku": s, "unit_price": p, "quantity": q} for s, p, q in lines],
        },
    }


def deliver(client: Any, webhook_id: str, body: dict[str, Any]) -> Any:
    return client.post(
        "/webhooks/orders", body, content_type="application/json", HTTP_WEBHOOK_ID=webhook_id
    )


def orders(order_id: str) -> int:
    from storefront.models import Order

    return int(Order.objects.filter(order_id=order_id).count())


def test_the_loyalty_tables_share_the_projects_database(database: Path) -> None:
    from django.core.management import call_command

    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    connection.close()
    assert {"storefront_order", "django_migrations"} <= tables
    assert {"loyalty_members", "loyalty_entries", "loyalty_alembic_version"} <= tables
    out = io.StringIO()
    call_command("loyalty_migrate", stdout=out)  # a second deploy: nothing to do
    assert out.getvalue() == "loyalty tables are at the latest revision\n"


def settings_with(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    """The example's settings module run afresh with ``env`` (Django's state is untouched)."""
    for name in ("SHOP_POSTGRES_URL", "SHOP_DATABASE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(PROJECT / "django_shop" / "settings.py"))


def test_the_loyalty_url_names_the_projects_database(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.exceptions import ImproperlyConfigured
    from storefront.services import loyalty_url

    sqlite = settings_with(monkeypatch, SHOP_DATABASE="/srv/shop/shop.sqlite3")["DATABASES"]
    assert loyalty_url(sqlite["default"]) == "sqlite:////srv/shop/shop.sqlite3"
    url = "postgresql://shop:p%40ss@127.0.0.1:5433/shop"
    postgres = settings_with(monkeypatch, SHOP_POSTGRES_URL=url)["DATABASES"]["default"]
    assert postgres == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "USER": "shop",
        "PASSWORD": "p@ss",
        "HOST": "127.0.0.1",
        "PORT": "5433",
    }
    assert loyalty_url(postgres) == "postgresql+psycopg://shop:p%40ss@127.0.0.1:5433/shop"
    with pytest.raises(ImproperlyConfigured, match="mysql"):
        loyalty_url({"ENGINE": "django.db.backends.mysql", "NAME": "shop"})


def test_on_postgresql_the_loyalty_tables_are_in_djangos_database(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The URL made from Django's DATABASES entry reaches the database Django connects to:
    a member enrolled through it is a row that a connection made from the same entry
    reads."""
    import psycopg
    from storefront.services import loyalty_url

    from loyalty.store.sql import SQLStore

    entry = settings_with(monkeypatch, SHOP_POSTGRES_URL=postgres_url())["DATABASES"]["default"]
    program = loyalty.load_program(ROOT / "examples" / "programs" / "cosmetics-club.yaml")
    service = loyalty.LoyaltyService(program, SQLStore(loyalty_url(entry)))
    member = f"django-{uuid.uuid4().hex}"
    try:
        enrol(service, member)
    finally:
        service.store.close()
    with psycopg.connect(
        dbname=entry["NAME"],
        user=entry["USER"],
        password=entry["PASSWORD"] or None,
        host=entry["HOST"],
        port=entry["PORT"],
    ) as connection:
        found = connection.execute(
            "SELECT program_id FROM loyalty_members WHERE member_id = %s", (member,)
        ).fetchall()
    assert found == [("cosmetics-club",)]


def test_a_webhook_saves_the_order_and_a_redelivery_credits_once(
    client: Any, service: loyalty.LoyaltyService
) -> None:
    enrol(service, "ada")
    body = order("ada", "A-1", ("SERUM-50ML", "60.00", 2))
    first = deliver(client, "wh-a1", body)
    again = deliver(client, "wh-a1", body)
    assert (first.status_code, first.json()) == (200, {"order": "A-1", "points": 120})
    assert (again.status_code, again.json()) == (200, {"order": "A-1", "points": 120})
    assert orders("A-1") == 1
    assert service.balance("ada").earned == 120
    assert [entry.kind for entry in service.journal("ada")] == ["order", "earn"]


def test_a_rolled_back_transaction_credits_nothing_and_a_committed_one_credits_once(
    client: Any, service: loyalty.LoyaltyService
) -> None:
    from django.db import transaction
    from storefront.views import record_order

    enrol(service, "bea")
    body = order("bea", "B-1", ("SERUM-50ML", "60.00", 2))
    event = loyalty.load_event({**body, "key": "webhook:wh-b1"})
    assert isinstance(event, loyalty.OrderCompleted)

    registered: list[Any] = []

    def refused_after_writing_the_row() -> None:
        with transaction.atomic():
            registered.append(record_order(event, "wh-b1"))
            assert orders("B-1") == 1  # the row is written, inside the shop's transaction
            raise Refused

    with pytest.raises(Refused):
        refused_after_writing_the_row()
    assert registered[0].result is None
    assert orders("B-1") == 0
    assert service.balance("bea").earned == 0
    assert service.journal("bea") == ()

    with transaction.atomic():
        credit = record_order(event, "wh-b1")
        assert credit.result is None  # not before the outermost block commits
        assert service.balance("bea").earned == 0
    assert credit.result is not None
    assert credit.result.earn is not None
    assert credit.result.earn.points == 120
    assert service.balance("bea").earned == 120

    redelivered = deliver(client, "wh-b1", body)
    assert (redelivered.status_code, redelivered.json()) == (200, {"order": "B-1", "points": 120})
    assert orders("B-1") == 1
    assert service.balance("bea").earned == 120


def test_an_order_committed_whose_credit_was_busy_is_credited_by_the_redelivery(
    database: Path, client: Any, service: loyalty.LoyaltyService
) -> None:
    from django.db import transaction
    from storefront.views import record_order

    enrol(service, "cid")
    body = order("cid", "C-1", ("LIPSTICK", "12.00", 1))
    event = loyalty.load_event({**body, "key": "webhook:wh-c1"})
    assert isinstance(event, loyalty.OrderCompleted)
    other_writer = sqlite3.connect(database, isolation_level=None)
    try:

        def commit_while_another_writer_holds_the_lock() -> None:
            with transaction.atomic():
                # Once the shop's row commits, another writer takes the file's write lock.
                transaction.on_commit(lambda: other_writer.execute("BEGIN IMMEDIATE"))
                record_order(event, "wh-c1")

        with pytest.raises(loyalty.Busy):
            commit_while_another_writer_holds_the_lock()
        assert orders("C-1") == 1
        assert service.balance("cid").earned == 0
        busy = deliver(client, "wh-c1", body)  # the row exists: only the credit is retried
        assert busy.status_code == 503
        assert busy["Retry-After"] == "1"
        assert busy.json()["error"] == "Busy"
        other_writer.execute("ROLLBACK")
        credited = deliver(client, "wh-c1", body)
        assert (credited.status_code, credited.json()) == (200, {"order": "C-1", "points": 12})
    finally:
        other_writer.close()
    assert orders("C-1") == 1
    assert service.balance("cid").earned == 12


def test_under_atomic_requests_the_view_answers_202_and_credits_after_the_commit(
    client: Any, service: loyalty.LoyaltyService
) -> None:
    from django.db import connections

    enrol(service, "fay")
    connection = connections["default"]
    connection.settings_dict["ATOMIC_REQUESTS"] = True
    try:
        response = deliver(client, "wh-f1", order("fay", "F-1", ("SERUM-50ML", "60.00", 2)))
    finally:
        connection.settings_dict["ATOMIC_REQUESTS"] = False
    assert (response.status_code, response.json()) == (202, {"order": "F-1", "points": None})
    assert orders("F-1") == 1
    assert service.balance("fay").earned == 120


def test_calling_the_service_inside_the_shops_atomic_block_is_busy_on_sqlite(
    service: loyalty.LoyaltyService,
) -> None:
    """What the guide warns against: once the shop's transaction has written its row, it
    holds the SQLite file's write lock, and the service's own transaction waits for it
    until it gives up."""
    from django.db import transaction
    from storefront.models import Order

    enrol(service, "gus")
    body = order("gus", "G-1", ("LIPSTICK", "12.00", 1))
    event = loyalty.load_event({**body, "key": "webhook:wh-g1"})

    def credit_inside_the_block() -> None:
        with transaction.atomic():
            Order.objects.create(
                order_id="G-1", member_id="gus", webhook_id="wh-g1", placed_at=event.at
            )
            service.handle(event)

    with pytest.raises(loyalty.Busy):
        credit_inside_the_block()
    assert orders("G-1") == 0
    assert service.balance("gus").earned == 0


def test_the_nightly_command_releases_points_and_the_quote_sees_them(
    client: Any, service: loyalty.LoyaltyService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.management import call_command
    from storefront import services

    enrol(service, "dee")
    deliver(client, "wh-d1", order("dee", "D-1", ("SERUM-50ML", "60.00", 2)))
    cart = {
        "id": "D-2",
        "member_id": "dee",
        "currency": "USD",
        "lines": [
            {"sku": "LIPSTICK", "unit_price": "12.00", "quantity": 1},
            {"sku": "MASCARA", "unit_price": "8.00", "quantity": 2},
        ],
    }
    monkeypatch.setattr(services, "clock", lambda: datetime(2026, 3, 5, 9, tzinfo=UTC))
    before = client.post("/members/dee/quote", {"cart": cart}, content_type="application/json")
    assert before.status_code == 200
    assert before.json() == {
        "earn": 28,
        "available": 0,
        "best": None,
        "rewards": [
            {
                "reward": "five-off",
                "eligible": False,
                "points": 100,
                "unmet": ["earn 100 more points"],
            }
        ],
    }

    out = io.StringIO()
    call_command("loyalty_advance", "--at", "2026-04-01T02:00:00+00:00", stdout=out)
    assert re.fullmatch(
        r"advanced to 2026-04-01T02:00:00\+00:00: \d+ members, \d+ entries, "
        r"\d+ notifications, 0 failed\n",
        out.getvalue(),
    ), out.getvalue()
    assert service.balance("dee").available == 120

    monkeypatch.setattr(services, "clock", lambda: datetime(2026, 4, 10, 9, tzinfo=UTC))
    after = client.post("/members/dee/quote", {"cart": cart}, content_type="application/json")
    assert (after.json()["earn"], after.json()["available"], after.json()["best"]) == (
        28,
        120,
        "five-off",
    )
    assert after.json()["rewards"][0]["unmet"] == []


def test_the_nightly_command_refuses_an_instant_without_an_offset(database: Path) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--at"):
        call_command("loyalty_advance", "--at", "2026-04-01T02:00")


def test_bad_requests_are_400s_naming_the_field_and_unknown_members_404s(
    client: Any, service: loyalty.LoyaltyService
) -> None:
    enrol(service, "eve")
    body = order("eve", "E-1", ("LIPSTICK", "12.00", 1))
    no_id = client.post("/webhooks/orders", body, content_type="application/json")
    assert (no_id.status_code, no_id.json()["field"]) == (400, "Webhook-Id")
    not_json = client.post(
        "/webhooks/orders", "{'type':", content_type="application/json", HTTP_WEBHOOK_ID="e"
    )
    assert (not_json.status_code, not_json.json()["field"]) == (400, "body")
    naive = deliver(client, "wh-e1", {**body, "at": "2026-03-01T10:05:00"})
    assert naive.status_code == 400
    assert [problem["field"] for problem in naive.json()["problems"]] == ["at"]
    refund = {"type": "order_refunded", "member_id": "eve", "at": body["at"], "order_id": "E-1"}
    wrong_type = deliver(client, "wh-e2", refund)
    assert (wrong_type.status_code, wrong_type.json()["field"]) == (400, "type")
    no_cart = client.post("/members/eve/quote", {}, content_type="application/json")
    assert (no_cart.status_code, no_cart.json()["field"]) == (400, "cart")
    stranger = order("zed", "Z-1", ("LIPSTICK", "12.00", 1))
    unknown = deliver(client, "wh-z1", stranger)
    assert (unknown.status_code, unknown.json()["error"]) == (404, "UnknownMember")
    get = client.get("/members/eve/quote")
    assert get.status_code == 405
    assert orders("E-1") == 0
    assert service.journal("eve") == ()


def test_the_documented_deploy_and_cron_commands_run(tmp_path: Path) -> None:
    """``manage.py loyalty_migrate`` (the deploy step) and the cron line's ``manage.py
    loyalty_advance``, as the guide gives them, on a new database (``manage.py migrate``
    is Django's own: the module's fixture runs it in-process)."""
    from loyalty.store.sql import SQLStore

    database = tmp_path / "shop.sqlite3"
    env = {**os.environ, "SHOP_DATABASE": str(database)}
    env.pop("DJANGO_SETTINGS_MODULE", None)

    def manage(*command: str) -> str:
        ran = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=PROJECT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert ran.returncode == 0, ran.stderr
        return ran.stdout

    assert manage("loyalty_migrate") == "loyalty tables are at the latest revision\n"
    # One member with 120 points pending, written by another process on the same file.
    program = loyalty.load_program(ROOT / "examples" / "programs" / "cosmetics-club.yaml")
    other = loyalty.LoyaltyService(program, SQLStore(f"sqlite:///{database}", migrate=False))
    enrol(other, "hal")
    other.handle(
        {**order("hal", "H-1", ("SERUM-50ML", "60.00", 2)), "key": "webhook:wh-h1"}
    )
    assert other.balance("hal").pending == 120
    ran = manage("loyalty_advance", "--at", "2026-04-01T02:00:00+00:00")
    assert ran == (
        "advanced to 2026-04-01T02:00:00+00:00: 1 members, 0 entries, 1 notifications, "
        "0 failed\n"
    )
    assert other.balance("hal").available == 120
    other.store.close()


# Bodies a client may send that are not JSON the shop takes: each is a 400 naming body.
BAD_BODIES = {
    "nested past the parser's recursion limit": b"[" * 100_000 + b"]" * 100_000,
    "nested 33 levels": b'{"a":' * 33 + b"1" + b"}" * 33,
    "NaN": b'{"type": "order_completed", "member_id": "ivy", "at": NaN}',
    "Infinity": b'{"cart": {"id": "I-1", "shipping": Infinity}}',
    "a key twice": b'{"type": "order_completed", "type": "order_refunded"}',
    "not UTF-8": b'{"member_id": "\xff\xfe"}',
    "an integer of 5000 digits": b'{"cart": ' + b"9" * 5000 + b"}",
    "not JSON": b"{'type':",
    "empty": b"",
}


@pytest.mark.parametrize("route", ["/webhooks/orders", "/members/ivy/quote"])
@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_a_body_that_is_not_json_the_shop_takes_is_a_400_naming_body(
    client: Any, service: loyalty.LoyaltyService, route: str, name: str
) -> None:
    if not member_exists(service, "ivy"):
        enrol(service, "ivy")
    response = client.post(
        route, BAD_BODIES[name], content_type="application/json", HTTP_WEBHOOK_ID="wh-i1"
    )
    assert response.status_code == 400, response.content[:200]
    assert (response.json()["error"], response.json()["field"]) == ("InvalidInput", "body")
    assert service.journal("ivy") == ()


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
    route=st.sampled_from(["/webhooks/orders", "/members/ivy/quote"]),
)
def test_no_body_is_a_500(client: Any, body: bytes, route: str) -> None:
    response = client.post(route, body, content_type="application/json", HTTP_WEBHOOK_ID="wh-i")
    assert response.status_code in (400, 404, 409, 422), response.content[:300]
    assert isinstance(response.json()["error"], str)


def member_exists(service: loyalty.LoyaltyService, member_id: str) -> bool:
    try:
        service.balance(member_id)
    except loyalty.UnknownMember:
        return False
    return True


def test_nesting_of_32_levels_is_read_and_left_to_the_library(
    client: Any, service: loyalty.LoyaltyService
) -> None:
    """The body reader's limit is the library's (load_event_json): 32 levels pass it (the
    body, its cart and 30 arrays), and the library then refuses the cart's id."""
    enrol(service, "ned")
    deep = "[" * 30 + "]" * 30
    response = client.post(
        "/members/ned/quote", f'{{"cart": {{"id": {deep}}}}}', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "InvalidCart"
    assert "id" in [problem["field"] for problem in response.json()["problems"]]


def test_a_quote_cart_without_member_id_is_the_urls_members_and_another_members_is_refused(
    client: Any, service: loyalty.LoyaltyService
) -> None:
    enrol(service, "jon")
    enrol(service, "kit")
    cart = {
        "id": "J-1",
        "currency": "USD",
        "lines": [{"sku": "LIPSTICK", "unit_price": "12.00", "quantity": 1}],
    }
    quoted = client.post("/members/jon/quote", {"cart": cart}, content_type="application/json")
    assert (quoted.status_code, quoted.json()["earn"]) == (200, 12)
    theirs = {**cart, "member_id": "kit"}
    refused = client.post("/members/jon/quote", {"cart": theirs}, content_type="application/json")
    assert refused.status_code == 400
    assert (refused.json()["error"], refused.json()["field"]) == ("InvalidInput", "cart.member_id")
    listed = client.post("/members/jon/quote", {"cart": ["J-1"]}, content_type="application/json")
    assert (listed.status_code, listed.json()["field"]) == (400, "cart")


def test_a_json_number_with_a_fraction_is_read_as_an_exact_decimal(
    client: Any, service: loyalty.LoyaltyService
) -> None:
    """The library refuses a float amount; the body reader gives it a Decimal, so 12.5
    is exactly 12.5 (and 0.1 three times is 0.30, where a float is 0.30000000000000004)."""
    enrol(service, "lia")
    raw = (
        b'{"type": "order_completed", "member_id": "lia", "at": "2026-03-01T10:05:00+00:00",'
        b' "cart": {"id": "L-1", "currency": "USD", "member_id": "lia", "lines": ['
        b'{"sku": "LIPSTICK", "unit_price": 12.5, "quantity": 2},'
        b'{"sku": "MASCARA", "unit_price": 0.1, "quantity": 3},'
        b'{"sku": "SERUM-50ML", "unit_price": 6.99E1, "quantity": 1}]}}'
    )
    credited = client.post(
        "/webhooks/orders", raw, content_type="application/json", HTTP_WEBHOOK_ID="wh-l1"
    )
    assert (credited.status_code, credited.json()) == (200, {"order": "L-1", "points": 95})
    (order_entry,) = [entry for entry in service.journal("lia") if entry.kind == "order"]
    assert isinstance(order_entry, loyalty.Order)
    assert order_entry.amount == loyalty.Money(Decimal("95.20"), "USD")


def test_a_webhook_id_that_cannot_be_a_key_is_a_400_naming_webhook_id(
    client: Any, service: loyalty.LoyaltyService
) -> None:
    enrol(service, "max")
    body = order("max", "M-1", ("LIPSTICK", "12.00", 1))
    long_id = "w" * 493  # with "webhook:", 501 characters: one over the library's limit
    for webhook_id, reason in [(long_id, "is too long"), ("wh\x01", "not printable (U+0001)")]:
        refused = deliver(client, webhook_id, body)
        assert refused.status_code == 400
        assert (refused.json()["error"], refused.json()["field"]) == ("InvalidInput", "Webhook-Id")
        assert reason in refused.json()["message"]
    assert orders("M-1") == 0
    assert service.journal("max") == ()
    taken = deliver(client, "w" * 492, body)  # 500 characters: taken
    assert (taken.status_code, taken.json()) == (200, {"order": "M-1", "points": 12})


def test_the_page_installs_this_project_from_its_source_and_says_how_amounts_are_read() -> None:
    """The name ``loyalty`` on the public index is another package: every ``pip install``
    on the page names this project by a path (the clone's root, or another path)."""
    page = (ROOT / "docs" / "embedding" / "django.md").read_text(encoding="utf-8")
    targets = re.findall(r"pip install (\S+)", page)
    assert len(targets) >= 3
    assert [target for target in targets if not target.startswith(("'.[", "'/"))] == []
    assert "`12.5` in a body is accepted as exactly 12.5" in page
