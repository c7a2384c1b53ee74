"""The ``loyalty`` command fed what a hostile or careless user gives it: endless and
huge files, instants out of range, ids with control characters, a cart in another
currency, options given twice, store URLs that are garbage. Every case is one clear
message naming what was wrong, a non-zero exit that is not 70 (a bug), and with
``--json`` a stdout that still parses."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from loyalty.cli import app as cli_app
from loyalty.cli.common import Failure, database_error, failure_of, open_store
from loyalty.cli.lines import MAX_LINE
from tests.cli_support import (
    COSMETICS,
    Ran,
    cli,
    command,
    enrol,
    environment,
    order,
    write_steps,
)

T0 = "2026-01-05T10:00:00+00:00"
CART: dict[str, Any] = {
    "id": "C-1",
    "member_id": "m-1",
    "currency": "USD",
    "at": "2026-03-01T10:00:00+00:00",
    "lines": [{"sku": "LIP", "unit_price": "12.00", "quantity": 1}],
}


def write(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def refused(ran: Ran, code: int = 1) -> str:
    """The one message of a command that failed as a user's error (never a bug)."""
    assert ran.code == code, (ran.code, ran.stdout, ran.stderr)
    assert "Traceback" not in ran.stderr
    assert "internal error" not in ran.stderr
    return ran.stderr.strip()


# ------------------------------------------------------------------- endless input

needs_dev_zero = pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")


@needs_dev_zero
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cart", "/dev/zero"], "/dev/zero: is larger than 16,777,216 bytes; is it a cart?"),
        (["--member", "/dev/zero"], "/dev/zero: is larger than 16,777,216 bytes"),
        (["--events", "/dev/zero"], "/dev/zero:1: a line of more than 67,108,864 bytes"),
    ],
)
def test_quote_refuses_an_endless_file_without_reading_it_whole(
    tmp_path: Path, args: list[str], message: str
) -> None:
    cart = write(tmp_path, "cart.json", CART)
    given = args if args[0] == "--cart" else ["--cart", str(cart), *args]
    assert refused(cli("quote", COSMETICS, *given)).startswith(message)


@needs_dev_zero
def test_replay_refuses_an_endless_line_without_reading_it_whole() -> None:
    message = refused(cli("replay", COSMETICS, "/dev/zero"))
    assert message == (
        "/dev/zero:1: a line of more than 67,108,864 bytes: this is not a file of steps "
        "(one JSON object a line)"
    )


def test_a_line_too_long_is_rejected_and_the_replay_goes_on(tmp_path: Path) -> None:
    long_step = json.dumps({**enrol("zed", T0), "channel": "x" * (10 * MAX_LINE)})
    steps = write_steps(tmp_path / "steps.jsonl", [long_step, enrol("ann", T0)])
    ran = cli("replay", COSMETICS, steps, "--json")
    assert ran.code == 1
    assert ran.stderr.strip() == (
        f"{steps}:1: the line is longer than 1,048,576 bytes; a step is one JSON object on one line"
    )
    assert ran.json()["summary"] == {
        "steps": 2,
        "applied": 1,
        "replayed": 0,
        "rejected": 1,
        "stopped_at_line": None,
    }


# ----------------------------------------------------------------- quote --events


def test_quote_reads_a_history_as_replay_does_comments_and_byte_order_mark(
    tmp_path: Path,
) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(
        b"\xef\xbb\xbf# the member's history\n"
        + json.dumps(enrol("m-1", T0)).encode()
        + b"\n   # an order\n"
        + json.dumps(order("m-1", "A-1", "120.00", "2026-01-06T10:00:00+00:00")).encode()
        + b"\n"
    )
    cart = write(tmp_path, "cart.json", CART)
    ran = cli("quote", COSMETICS, "--cart", cart, "--events", events, "--json")
    assert ran.code == 0, ran.stderr
    assert ran.json()["member_id"] == "m-1"


def test_quote_refuses_a_utf16_history_at_once(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes((json.dumps(enrol("m-1", T0)) + "\n").encode("utf-16"))
    cart = write(tmp_path, "cart.json", CART)
    message = refused(cli("quote", COSMETICS, "--cart", cart, "--events", events))
    assert message == f"{events}: is UTF-16 or UTF-32 text; a file of steps is UTF-8"


def test_quote_refuses_an_instant_before_the_end_of_the_history(tmp_path: Path) -> None:
    events = write_steps(
        tmp_path / "events.jsonl",
        [enrol("m-1", T0), order("m-1", "A-1", "120.00", "2026-04-01T10:00:00+00:00")],
    )
    cart = write(tmp_path, "cart.json", CART)  # at 2026-03-01: before the order
    message = refused(cli("quote", COSMETICS, "--cart", cart, "--events", events))
    assert message == (
        "the quote's instant 2026-03-01T10:00:00+00:00 is before the end of the history "
        f"({events}:2 is at 2026-04-01T10:00:00+00:00); give a later --at"
    )


# ----------------------------------------------------------------------- instants


@pytest.mark.parametrize("given", ["9999-01-01", "0001-01-01T00:00Z", "1969-12-31"])
def test_an_instant_out_of_range_names_the_option(tmp_path: Path, given: str) -> None:
    cart = write(tmp_path, "cart.json", CART)
    steps = write_steps(tmp_path / "steps.jsonl", [enrol("ann", T0)])
    database = tmp_path / "club.db"
    assert cli("replay", COSMETICS, steps, "--store", f"sqlite:///{database}").code == 0
    expected = (
        f"--at: {given!r} lies outside the instants taken (from 1970-01-01 to 2200-01-01 UTC)"
    )
    for args in (
        ["quote", COSMETICS, "--cart", cart, "--at", given],
        ["replay", COSMETICS, steps, "--at", given],
        ["member", COSMETICS, "ann", "--store", f"sqlite:///{database}", "--at", given],
        ["advance", COSMETICS, "--store", f"sqlite:///{database}", "--at", given],
    ):
        assert refused(cli(*args)) == expected, args


def test_a_carts_instant_out_of_range_names_the_cart_file(tmp_path: Path) -> None:
    cart = write(tmp_path, "cart.json", {**CART, "at": "9999-12-31T23:59:59Z"})
    assert refused(cli("quote", COSMETICS, "--cart", cart)) == (
        f"{cart}: at: '9999-12-31T23:59:59Z' lies outside the instants taken "
        "(from 1970-01-01 to 2200-01-01 UTC)"
    )


# ---------------------------------------------------------------- ids and carts


@pytest.mark.parametrize(
    ("member_id", "message"),
    [
        ("a\x01b", "--member-id: 'a\\x01b' contains a control character (U+0001) at position 1"),
        ("", "--member-id: '' is not a member id (a non-empty text)"),
        ("x" * 501, "is longer than 500 characters"),
    ],
)
def test_a_member_id_that_cannot_be_taken_names_the_option(
    tmp_path: Path, member_id: str, message: str
) -> None:
    cart = write(tmp_path, "cart.json", CART)
    got = refused(cli("quote", COSMETICS, "--cart", cart, "--member-id", member_id))
    assert got.startswith("--member-id: ")
    assert message in got


def test_a_carts_member_id_that_cannot_be_taken_names_the_cart(tmp_path: Path) -> None:
    cart = write(tmp_path, "cart.json", {**CART, "member_id": "m\x1b[31m"})
    assert refused(cli("quote", COSMETICS, "--cart", cart)) == (
        f"{cart}: member_id: 'm\\x1b[31m' contains a control character (U+001B) at position 1"
    )


def test_a_cart_in_another_currency_names_the_cart_file(tmp_path: Path) -> None:
    cart = write(tmp_path, "cart.json", {**CART, "currency": "EUR"})
    assert refused(cli("quote", COSMETICS, "--cart", cart)) == (
        f"{cart}: not a valid cart: currency: 'EUR' is not accepted (accepted: USD)"
    )


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_non_number_in_a_cart_speaks_of_the_cart(tmp_path: Path, constant: str) -> None:
    text = json.dumps(CART).replace('"12.00"', constant)
    cart = write(tmp_path, "cart.json", text)
    assert refused(cli("quote", COSMETICS, "--cart", cart)) == (
        f"{cart}: not a valid cart: holds {constant}, which is not a number"
    )


def test_an_empty_cart_file_says_so(tmp_path: Path) -> None:
    cart = write(tmp_path, "cart.json", "  \n")
    assert refused(cli("quote", COSMETICS, "--cart", cart)) == (
        f"{cart}: is empty; a cart is a JSON object"
    )


def test_an_empty_code_is_refused(tmp_path: Path) -> None:
    cart = write(tmp_path, "cart.json", CART)
    assert refused(cli("quote", COSMETICS, "--cart", cart, "--code", " ")) == (
        "--code: is empty; give the code the customer typed"
    )


def test_a_line_that_is_not_an_object_speaks_of_a_step(tmp_path: Path) -> None:
    steps = write_steps(tmp_path / "steps.jsonl", ["[1, 2]", '{"type": "enrol", "at": NaN}'])
    ran = cli("replay", COSMETICS, steps)
    assert ran.code == 1
    assert ran.stderr.splitlines() == [
        f"{steps}:1: invalid step: a step is a JSON object",
        f"{steps}:2: invalid step: holds NaN, which is not a number",
    ]


# ------------------------------------------------------------------ unreadable files


def test_a_file_the_parser_would_call_unreadable_is_read_by_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parser's own readability check (``os.access``) is not made: the command
    reads the file and reports what it finds, so ``validate`` checks every file."""
    program = tmp_path / "club.yaml"
    program.write_text(COSMETICS.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)
    ran = cli("validate", program, COSMETICS)
    assert ran.code == 0, ran.stderr
    assert "2 file(s) checked: 2 valid" in ran.stdout


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_program_is_an_error_of_that_file_only(tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("id: x\n", encoding="utf-8")
    secret.chmod(0)
    ran = cli("validate", secret, COSMETICS, "--json")
    assert ran.code == 1
    files = ran.json()["files"]
    assert [file["valid"] for file in files] == [False, True]
    assert "Permission denied" in files[0]["errors"][0]["message"]


# --------------------------------------------------------------- options given twice


@pytest.mark.parametrize(
    "args",
    [
        ["quote", str(COSMETICS), "--cart", "c.json", "--at", "2026-03-01", "--at", "2026-03-02"],
        ["quote", str(COSMETICS), "--cart", "c.json", "--at=2026-03-01", "--at", "2026-03-02"],
        ["replay", str(COSMETICS), "s.jsonl", "--store", "memory", "--store", "sqlite:///x.db"],
        ["outbox", str(COSMETICS), "--limit", "5", "--limit=6", "--store", "sqlite:///x.db"],
    ],
)
def test_an_option_given_twice_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    message = refused(cli(*args), code=2)
    assert "is given twice" in message
    assert message.endswith("give it once.")
    assert not (tmp_path / "x.db").exists()


def test_flags_and_options_that_take_several_values_may_repeat(tmp_path: Path) -> None:
    cart = write(tmp_path, "cart.json", CART)
    ran = cli("quote", COSMETICS, "--cart", cart, "--code", "A", "--code", "B", "--json", "--json")
    assert ran.code == 0, ran.stderr
    assert [entered["code"] for entered in ran.json()["entered"]] == ["A", "B"]


# ---------------------------------------------------------------- --json on errors


def test_json_output_parses_even_when_the_command_fails(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    ran = cli("member", COSMETICS, "ann", "--store", f"sqlite:///{missing}", "--json")
    assert ran.code == 1
    assert ran.json() == {
        "error": {
            "kind": "input",
            "message": f"--store: {missing}: no such database file "
            "(loyalty replay --store or loyalty db upgrade creates one)",
            "exit_code": 1,
        }
    }
    usage = cli("outbox", COSMETICS, "--store", f"sqlite:///{missing}", "--limit", "0", "--json")
    assert usage.code == 2
    assert usage.json()["error"]["kind"] == "usage"
    assert "'--limit'" in usage.json()["error"]["message"]
    assert "Usage: loyalty outbox" in usage.stderr


def test_json_output_is_one_document_when_the_command_wrote_its_own(tmp_path: Path) -> None:
    steps = write_steps(tmp_path / "steps.jsonl", [enrol("ann", T0), "{not json"])
    ran = cli("replay", COSMETICS, steps, "--json")
    assert ran.code == 1
    assert "error" not in ran.json()  # the replay's own document, and nothing after it
    assert ran.json()["summary"]["rejected"] == 1


def test_json_output_parses_after_a_bug_too(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = typer.Typer()

    @broken.callback()
    def options() -> None:
        """Options."""

    @broken.command()
    def boom(as_json: bool = typer.Option(False, "--json")) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(cli_app, "app", broken)
    ran = cli("boom", "--json")
    assert ran.code == cli_app.INTERNAL
    assert ran.json()["error"] == {
        "kind": "internal",
        "message": "internal error: ZeroDivisionError: division by zero",
        "exit_code": cli_app.INTERNAL,
    }


def test_json_error_document_through_the_real_entry_point(tmp_path: Path) -> None:
    done = command("quote", COSMETICS, "--cart", tmp_path / "none.json", "--json")
    assert done.returncode == 1
    assert json.loads(done.stdout)["error"]["message"] == f"{tmp_path / 'none.json'}: no such file"
    assert done.stderr.strip() == f"{tmp_path / 'none.json'}: no such file"


# ---------------------------------------------------------------------- store URLs


def test_a_url_that_is_not_a_store_masks_its_password() -> None:
    with pytest.raises(Failure) as refused_url:
        open_store("mysql://shop:s3cret@db/loyalty")
    assert refused_url.value.message == (
        "--store: 'mysql://shop:***@db/loyalty' is not a store URL; give 'memory', "
        "'sqlite:///file.db' or 'postgresql://user@host/db'"
    )
    ran = cli("db", "current", "mysql://shop:s3cret@db/loyalty")
    assert "s3cret" not in refused(ran)


def test_postgresql_without_its_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in sys.modules if name.split(".")[0] == "psycopg"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` fails
    for args in (
        ["replay", COSMETICS, "-", "--store", "postgresql://shop:s3cret@127.0.0.1:1/db"],
        ["db", "current", "postgresql://shop:s3cret@127.0.0.1:1/db"],
    ):
        message = refused(cli(*args, input=""))
        assert message.endswith(
            "PostgreSQL needs the postgres extra: pip install 'loyalty[postgres]'"
        ), message
        assert "s3cret" not in message


def test_a_sqlite_file_in_a_missing_directory_is_one_line(tmp_path: Path) -> None:
    steps = write_steps(tmp_path / "steps.jsonl", [enrol("ann", T0)])
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'x.db'}"
    message = refused(cli("replay", COSMETICS, steps, "--store", url))
    assert message == (
        f"--store: cannot open {url}: unable to open database file "
        "(does its directory exist, and may you write there?)"
    )


def test_a_database_that_refuses_a_write_is_one_message_not_a_bug(tmp_path: Path) -> None:
    steps = write_steps(tmp_path / "steps.jsonl", [enrol("ann", T0)])
    database = tmp_path / "club.db"
    assert cli("replay", COSMETICS, steps, "--store", f"sqlite:///{database}").code == 0
    more = write_steps(tmp_path / "more.jsonl", [enrol("bob", T0)])
    url = f"sqlite:///file:{database}?mode=ro&uri=true"  # opened read-only
    message = refused(cli("replay", COSMETICS, more, "--store", url))
    assert message == (
        "the store's database refused: attempt to write a readonly database (the file, "
        "or its directory, is read-only: the store writes)"
    )


def test_a_file_that_is_not_a_database_says_so(tmp_path: Path) -> None:
    junk = write(tmp_path, "junk.db", "not a database, but long enough to have a header " * 4)
    message = refused(cli("db", "upgrade", f"sqlite:///{junk}"))
    assert message == (
        "URL: cannot read the database: file is not a database (is it a SQLite database?)"
    )


def test_a_database_that_fails_during_a_command_is_not_a_bug() -> None:
    from sqlalchemy.exc import OperationalError

    error = OperationalError(
        "INSERT INTO x", {}, sqlite3.OperationalError("database or disk is full")
    )
    failure = failure_of(error)
    assert failure is not None
    assert failure.message == "the store's database refused: database or disk is full"
    assert database_error(error) == "database or disk is full"


# ------------------------------------------------------------------------- help


def test_every_commands_usage_names_its_arguments_in_capitals() -> None:
    for name in ("validate", "quote", "replay", "statement", "member", "erase", "advance"):
        ran = cli(name, "--help")
        assert ran.code == 0
        usage = ran.stdout.splitlines()[0]
        assert "{PROGRAM}" in usage, usage
        assert "{program}" not in usage
        assert "PROGRAM...}" not in usage


# ----------------------------------------------------------------- the terminal


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_a_stdout_that_is_not_utf8_still_gets_json_that_parses_and_tables(
    tmp_path: Path, encoding: str
) -> None:
    steps = write_steps(tmp_path / "steps.jsonl", [enrol("zoé", T0), enrol("李", T0)])
    for args in (["--json"], []):
        done = subprocess.run(
            [sys.executable, "-m", "loyalty", "replay", str(COSMETICS), str(steps), *args],
            capture_output=True,
            cwd=tmp_path,
            env=environment(PYTHONIOENCODING=encoding),
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        if args:
            document = json.loads(done.stdout.decode("ascii"))
            assert [member["member_id"] for member in document["members"]] == ["zoé", "李"]
        else:
            assert "\\u674e" in done.stdout.decode(encoding)  # 李, escaped


def test_debug_may_follow_the_command(tmp_path: Path) -> None:
    missing = tmp_path / "none.jsonl"
    ran = cli("replay", COSMETICS, missing, "--debug")
    assert ran.code == 1
    assert "Traceback (most recent call last)" in ran.stderr
    assert ran.stderr.strip().endswith(f"{missing}: no such file")


def test_a_carts_member_that_is_not_the_member_quoted_names_the_cart(tmp_path: Path) -> None:
    cart = write(tmp_path, "cart.json", CART)  # member_id m-1
    assert refused(cli("quote", COSMETICS, "--cart", cart, "--member-id", "ann")) == (
        f"{cart}: member_id: 'm-1' is not the member quoted, 'ann' (--member-id, else the "
        "member state's); leave it out of the cart, or make them the same"
    )


def test_erase_asks_on_stderr_and_writes_nothing_on_stdout_without_an_answer(
    tmp_path: Path,
) -> None:
    steps = write_steps(tmp_path / "steps.jsonl", [enrol("ann", T0)])
    url = f"sqlite:///{tmp_path / 'club.db'}"
    assert cli("replay", COSMETICS, steps, "--store", url).code == 0
    unanswered = cli("erase", COSMETICS, "ann", "--store", url, input="")
    assert unanswered.code == 1
    assert unanswered.stdout == ""  # the prompt is on stderr, all of it
    assert "Erase the personal data of member 'ann'? " in unanswered.stderr
    assert "not erased" in unanswered.stderr
    answered = cli("erase", COSMETICS, "ann", "--store", url, "--json", input="yes\n")
    assert answered.code == 0, answered.stderr
    assert answered.json()["member_id"] == "ann"
