"""The commands on a store that persists: ``member``, ``statement``, ``erase``,
``advance``, ``outbox`` and ``db upgrade|current``, on a SQLite file a replay wrote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loyalty.store.sql import migrate
from tests.cli_support import cli, command, enrol, order, write_steps
from tests.conftest import clear_postgres, postgres_url

CLUB = {
    "id": "club",
    "name": "Club",
    "currency": "USD",
    "timezone": "UTC",
    "earning": {"rate": 1},
    "pending": {"period": "30 days"},
    "expiry": {"policy": "fixed", "after": "12 months"},
    "tiers": {
        "metrics": ["net_spend"],
        "ladder": [{"name": "Member"}, {"name": "Gold", "threshold": {"net_spend": 100}}],
    },
    "incentives": {
        "catalog": [
            {
                "id": "goodwill",
                "trigger": {"event": "manual"},
                "grants": [
                    {
                        "kind": "coupon",
                        "title": "10.00 off",
                        "offer": {"kind": "amount_off", "amount": "10.00"},
                        "valid": {"within": "60 days"},
                    }
                ],
            },
            {
                "id": "credit",
                "trigger": {"event": "manual"},
                "grants": [{"kind": "cashback", "amount": "7.50"}],
            },
        ]
    },
}


def grant(incentive: str, key: str, at: str) -> dict[str, str]:
    return {
        "type": "grant",
        "member_id": "ann",
        "key": key,
        "at": at,
        "incentive": incentive,
        "actor": "ops-7",
        "reason": "late parcel",
    }


@pytest.fixture
def program(tmp_path: Path) -> Path:
    path = tmp_path / "club.json"
    path.write_text(json.dumps(CLUB))
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path, program: Path) -> str:
    """A store a replay wrote (a SQLite file, or the PostgreSQL test database): ann (an
    order of 120.00 on 2 January, a coupon and 7.50 of cashback on the 3rd) and bob
    (enrolled only)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'loyalty.db'}"
    else:
        clear_postgres(request.getfixturevalue("postgres_engine"))
        url = postgres_url()
    steps = write_steps(
        tmp_path / "history.jsonl",
        [
            enrol("ann", "2026-01-01T12:00:00Z"),
            enrol("bob", "2026-01-01T12:00:00Z"),
            order("ann", "A-1", "120.00", "2026-01-02T12:00:00Z"),
            grant("goodwill", "g-1", "2026-01-03T12:00:00Z"),
            grant("credit", "g-2", "2026-01-03T12:00:00Z"),
        ],
    )
    ran = cli("replay", program, steps, "--store", url)
    assert ran.code == 0, ran.stderr
    return url


# ---------------------------------------------------------------------- member


def test_member_reads_what_the_replay_stored(program: Path, store: str) -> None:
    ran = cli("member", program, "ann", "--store", store, "--at", "2026-01-10", "--json")
    assert ran.code == 0, ran.stderr
    ann = ran.json()
    assert (ann["tier"], ann["pending"], ann["available"], ann["debt"]) == ("Gold", 120, 0, 0)
    assert [(lot["points"], lot["status"]) for lot in ann["lots"]] == [(120, "pending")]
    (coupon,) = ann["coupons"]
    assert (coupon["title"], coupon["value"]["amount"], coupon["usable"]) == (
        "10.00 off",
        "10.00",
        True,
    )
    assert ann["cashback"]["available"] == {"amount": "7.50", "currency": "USD"}


def test_member_reads_as_of_at(program: Path, store: str) -> None:
    later = cli("member", program, "ann", "--store", store, "--at", "2026-02-05", "--json")
    assert (later.json()["pending"], later.json()["available"]) == (0, 120)
    assert later.json()["coupons"][0]["valid_until"] == "2026-03-04T12:00:00+00:00"
    past_the_coupon = cli(
        "member", program, "ann", "--store", store, "--at", "2026-03-05", "--json"
    )
    assert past_the_coupon.json()["coupons"] == []


def test_member_as_a_table(program: Path, store: str) -> None:
    ran = cli("member", program, "ann", "--store", store, "--at", "2026-01-10")
    assert ran.code == 0
    assert "Gold" in ran.stdout
    assert "Open lots" in ran.stdout
    assert "pending" in ran.stdout
    assert "10.00 off" in ran.stdout
    assert "7.50 USD" in ran.stdout


def test_an_unknown_member_is_one_message(program: Path, store: str) -> None:
    done = command("member", program, "zoe", "--store", store)
    assert done.returncode == 1
    assert done.stderr.strip() == "member_id: 'zoe' is not enrolled in program 'club'"
    assert done.stdout == ""


@pytest.mark.parametrize("name", ["member", "statement", "erase"])
def test_a_member_command_needs_a_store_that_persists(program: Path, name: str) -> None:
    for store in ((), ("--store", "memory")):
        ran = cli(name, program, "ann", *store)
        assert ran.code == 2
        assert ran.stderr.startswith(f"{name} needs --store URL")
        assert "a memory store starts empty" in ran.stderr


def test_a_sqlite_file_that_does_not_exist_is_not_created(program: Path, tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    ran = cli("member", program, "ann", "--store", f"sqlite:///{missing}")
    assert ran.code == 1
    assert f"{missing}: no such database file" in ran.stderr
    assert not missing.exists()


# ------------------------------------------------------------------- statement


def test_statement_lists_the_journal_and_the_balance_as_of_at(program: Path, store: str) -> None:
    ran = cli("statement", program, "ann", "--store", store, "--at", "2026-02-05", "--json")
    assert ran.code == 0, ran.stderr
    body = ran.json()
    kinds = [line["kind"] for line in body["lines"]]
    assert kinds[:2] == ["order", "earn"]
    assert body["lines"][1]["points"] == 120
    assert (body["balance"]["pending"], body["balance"]["available"]) == (0, 120)
    table = cli("statement", program, "ann", "--store", store, "--at", "2026-02-05")
    assert "Statement of ann (times in UTC)" in table.stdout
    assert "as of 2026-02-05 00:00: available 120, pending 0" in table.stdout


# ----------------------------------------------------------------------- erase


def test_erase_asks_first_and_keeps_the_journal_under_a_pseudonym(
    program: Path, store: str
) -> None:
    refused = cli("erase", program, "ann", "--store", store, input="n\n")
    assert refused.code == 1
    assert "Erase the personal data of member 'ann'?" in refused.stderr
    assert "not erased (pass --yes" in refused.stderr
    no_answer = cli("erase", program, "ann", "--store", store)
    assert no_answer.code == 1
    assert cli("member", program, "ann", "--store", store).code == 0

    erased = cli("erase", program, "ann", "--store", store, "--json", input="y\n")
    assert erased.code == 0, erased.stderr
    answer = erased.stdout.index("{")  # the runner echoes the answer typed, as a terminal would
    pseudonym = json.loads(erased.stdout[answer:])["pseudonym"]
    assert pseudonym.startswith("erased-")
    assert cli("member", program, "ann", "--store", store).code == 1
    kept = cli("member", program, pseudonym, "--store", store, "--at", "2026-02-05", "--json")
    assert kept.json()["available"] == 120


def test_erase_with_yes_does_not_ask(program: Path, store: str) -> None:
    ran = cli("erase", program, "bob", "--store", store, "--yes")
    assert ran.code == 0
    assert ran.stderr == ""
    assert ran.stdout.startswith("member 'bob' erased; their journal is kept as erased-")


def test_erasing_an_unknown_member_asks_nothing(program: Path, store: str) -> None:
    ran = cli("erase", program, "zoe", "--store", store, input="y\n")
    assert ran.code == 1
    assert ran.stderr.strip() == "member_id: 'zoe' is not enrolled in program 'club'"


# --------------------------------------------------------------------- advance


def test_advance_releases_pending_points_and_writes_the_outbox(program: Path, store: str) -> None:
    before = cli("outbox", program, "--store", store, "--json").json()
    ran = cli("advance", program, "--store", store, "--at", "2026-02-05T02:00:00Z", "--json")
    assert ran.code == 0, ran.stderr
    report = ran.json()
    assert (report["members"], report["failed"]) == (2, [])
    assert report["at"] == "2026-02-05T02:00:00+00:00"
    after = cli("outbox", program, "--store", store, "--json").json()
    assert len(after) == len(before) + report["notifications"]
    text = cli("advance", program, "--store", store, "--at", "2026-02-06")
    assert text.stdout.startswith("advanced to 2026-02-06 00:00 (UTC): 2 members")


def test_advance_needs_a_store(program: Path) -> None:
    ran = cli("advance", program, "--at", "2026-02-05")
    assert ran.code == 2
    assert "advance needs --store URL" in ran.stderr


# ---------------------------------------------------------------------- outbox


def test_outbox_lists_oldest_first_and_ack_acknowledges_what_it_listed(
    program: Path, store: str
) -> None:
    everything = cli("outbox", program, "--store", store, "--json").json()
    kinds = [message["kind"] for message in everything]
    assert kinds == ["points_earned", "tier_changed", "coupon_issued", "cashback_credited"]
    assert [m["id"] for m in everything] == sorted(m["id"] for m in everything)

    first = cli("outbox", program, "--store", store, "--limit", "1", "--ack", "--json")
    assert first.code == 0
    assert [m["id"] for m in first.json()] == [everything[0]["id"]]
    assert first.stderr.strip() == "acknowledged 1 messages"
    rest = cli("outbox", program, "--store", store, "--json").json()
    assert [m["id"] for m in rest] == [m["id"] for m in everything[1:]]

    table = cli("outbox", program, "--store", store)
    assert "Outbox: 3 messages" in table.stdout
    assert "coupon_issued" in table.stdout


def test_outbox_limit_is_checked(program: Path, store: str) -> None:
    ran = cli("outbox", program, "--store", store, "--limit", "0")
    assert ran.code == 2


# -------------------------------------------------------------------------- db


def test_db_upgrade_creates_the_tables_and_current_says_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    created = cli("db", "upgrade", url)
    assert created.code == 0, created.stderr
    assert created.stdout.startswith("upgraded from no tables to ")
    head = created.stdout.split(" to ")[1].split()[0]
    again = cli("db", "upgrade", url)
    assert again.stdout.strip() == f"already at revision {head} (head)"
    current = cli("db", "current", url, "--json", "--check")
    assert current.code == 0
    assert current.json() == {"current": head, "head": head, "up_to_date": True}


def test_db_current_of_an_old_database_says_to_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    migrate(url, "0002")
    current = cli("db", "current", url)
    assert current.code == 0
    assert current.stdout.startswith("revision 0002; head is ")
    assert "run loyalty db upgrade" in current.stdout
    assert cli("db", "current", url, "--check").code == 1
    upgraded = cli("db", "upgrade", url)
    assert upgraded.stdout.startswith("upgraded from 0002 to ")
    assert cli("db", "current", url, "--check").code == 0


def test_db_current_of_postgresql(postgres_engine: object) -> None:
    url = postgres_url().replace("postgresql+psycopg://", "postgresql://", 1)
    current = cli("db", "current", url, "--check")
    assert current.code == 0, current.stderr
    assert current.stdout.endswith("(head)\n")


def test_db_refuses_what_is_not_a_sql_database(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    ran = cli("db", "current", f"sqlite:///{missing}")
    assert ran.code == 1
    assert f"{missing}: no such database file" in ran.stderr
    assert not missing.exists()
    for url in ("memory", "mysql://shop@db/loyalty"):
        refused = command("db", "current", url)
        assert refused.returncode == 1
        assert "is not a SQL database URL" in refused.stderr
        assert "Traceback" not in refused.stderr


def test_db_names_a_database_it_cannot_open_without_its_password() -> None:
    for url in (
        "postgresql://shop:s3cret@127.0.0.1:1/loyalty",
        "postgresql+nodriver://shop:s3cret@h/x",
    ):
        ran = cli("db", "current", url)
        assert ran.code == 1
        assert ran.stderr.startswith("URL: cannot ")
        assert "s3cret" not in ran.stderr
