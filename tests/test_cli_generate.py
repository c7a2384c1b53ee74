"""``loyalty generate-orders``: a synthetic order history written to a file or stdout, a
summary on stderr, the currency and timezone of a program, and bad options refused
with nothing written."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.cli_support import COSMETICS, cli

SMALL = ("--members", "30", "--months", "2", "--seed", "4")


def steps(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_writes_the_file_and_a_summary_of_it(tmp_path: Path) -> None:
    target = tmp_path / "orders.jsonl"
    ran = cli("generate-orders", *SMALL, "-o", target)
    assert ran.code == 0, ran.stderr
    assert ran.stdout == ""
    written = steps(target)
    kinds = Counter(step["type"] for step in written)
    assert kinds["enrol"] == 30
    assert ran.stderr == (
        f"{target}: {len(written):,} lines: 30 members, {kinds['order_completed']:,} orders, "
        f"{kinds['order_refunded']:,} refunds, {kinds['shipment_delayed']:,} shipment delays\n"
    )
    # The default start and timezone: 2026-01-01 in New York, in USD.
    assert written[0] == {
        "type": "enrol",
        "member_id": "m000001",
        "at": "2026-01-01T00:00:00-05:00",
    }
    assert all(step["at"] < "2026-03-01" for step in written)
    orders = [step for step in written if step["type"] == "order_completed"]
    assert {order["cart"]["currency"] for order in orders} == {"USD"}


def test_the_same_arguments_write_the_same_bytes_and_dash_writes_stdout(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    assert cli("generate-orders", *SMALL, "-o", first).code == 0
    assert cli("generate-orders", *SMALL, "--output", second).code == 0
    assert first.read_bytes() == second.read_bytes()
    ran = cli("generate-orders", *SMALL, "-o", "-")
    assert ran.code == 0
    assert ran.stdout.encode() == first.read_bytes()
    assert ran.stderr.startswith("stdout: ")
    other = cli("generate-orders", "--members", "30", "--months", "2", "--seed", "5", "-o", "-")
    assert other.stdout != ran.stdout


def test_start_currency_timezone_and_rate_are_taken(tmp_path: Path) -> None:
    target = tmp_path / "tokyo.jsonl"
    options = "--start 2026-11-01 --timezone Asia/Tokyo --currency JPY --orders-per-year 40"
    ran = cli("generate-orders", *SMALL, *options.split(), "-o", target)
    assert ran.code == 0, ran.stderr
    written = steps(target)
    assert written[0]["at"] == "2026-11-01T00:00:00+09:00"
    assert all(str(step["at"]).endswith("+09:00") for step in written)
    carts = [step["cart"] for step in written if step["type"] == "order_completed"]
    lines = [line for cart in carts for line in cart["lines"]]
    assert lines
    assert all("." not in line["unit_price"] for line in lines)  # yen have no decimals
    sparse = cli("generate-orders", *SMALL, "--start", "2026-11-01", "-o", "-")
    assert len(written) > len(sparse.stdout.splitlines())  # 40 orders a year, not 10


def test_a_start_with_an_offset_is_the_first_instant(tmp_path: Path) -> None:
    ran = cli("generate-orders", *SMALL, "--start", "2026-03-01T09:30+01:00", "-o", "-")
    assert ran.code == 0, ran.stderr
    first = json.loads(ran.stdout.splitlines()[0])
    assert first["at"] == "2026-03-01T03:30:00-05:00"  # that instant in New York


def test_the_currency_and_timezone_of_a_program(tmp_path: Path) -> None:
    program = tmp_path / "paris.yaml"
    program.write_text(
        COSMETICS.read_text(encoding="utf-8")
        .replace("currency: USD", "currency: EUR")
        .replace("timezone: America/New_York", "timezone: Europe/Paris"),
        encoding="utf-8",
    )
    target = tmp_path / "paris.jsonl"
    ran = cli("generate-orders", *SMALL, "--program", program, "-o", target)
    assert ran.code == 0, ran.stderr
    written = steps(target)
    assert written[0]["at"] == "2026-01-01T00:00:00+01:00"
    carts = [step["cart"] for step in written if step["type"] == "order_completed"]
    assert carts
    assert {cart["currency"] for cart in carts} == {"EUR"}
    replayed = cli("replay", program, target, "--json")
    assert replayed.code == 0, replayed.stderr
    assert replayed.json()["summary"]["rejected"] == 0


def test_a_generated_history_replays_with_no_line_rejected(tmp_path: Path) -> None:
    target = tmp_path / "orders.jsonl"
    options = ["--members", "60", "--months", "3", "--seed", "9", "--start", "2026-10-01"]
    assert cli("generate-orders", *options, "-o", target).code == 0
    ran = cli("replay", COSMETICS, target, "--json")
    assert ran.code == 0, ran.stderr
    summary = ran.json()["summary"]
    assert summary["rejected"] == 0
    assert summary["applied"] == summary["steps"] == len(steps(target))


@pytest.mark.parametrize(
    ("options", "code", "message"),
    [
        (["--members", "0"], 1, "--members: 0 must be from 1 to 10,000,000"),
        (["--months", "121"], 1, "--months: 121 must be from 1 to 120"),
        (["--seed", "-3"], 1, "--seed: -3 must be at least 0"),
        (["--timezone", "Mars/Olympus"], 1, "--timezone: 'Mars/Olympus' is not an IANA timezone"),
        (["--currency", "XYZ"], 1, "--currency: 'XYZ' is not an ISO 4217 code"),
        (["--start", "2026-02-30"], 1, "--start: '2026-02-30' is not a date"),
        (["--start", "2026-03-01T10:00"], 1, "--start: '2026-03-01T10:00' has no UTC offset"),
        (["--start", "2199-12-01"], 1, "--start: "),
        (["--orders-per-year", "0"], 1, "--orders-per-year: 0.0 must be more than 0"),
        (["--orders-per-year", "nan"], 1, "--orders-per-year: nan must be more than 0"),
        (["--members", "ten"], 2, "Invalid value for '--members'"),
        (["--seed", "2", "--seed", "3"], 2, "'--seed' is given twice"),
        (["--program", "missing.yaml"], 1, "missing.yaml"),
        (["--program", str(COSMETICS), "--currency", "USD"], 2, "--currency: the program"),
        (["--program", str(COSMETICS), "--timezone", "UTC"], 2, "--timezone: the program"),
    ],
)
def test_bad_options_are_refused_and_nothing_is_written(
    tmp_path: Path, options: list[str], code: int, message: str
) -> None:
    target = tmp_path / "orders.jsonl"
    base = {"--members": "5", "--months": "1", "--seed": "1"}
    for name in options[::2]:
        base.pop(name, None)
    ran = cli(
        "generate-orders", *[w for pair in base.items() for w in pair], *options, "-o", target
    )
    assert ran.code == code
    assert message in ran.stderr
    assert not target.exists()


def test_options_are_required_and_the_directory_must_exist(tmp_path: Path) -> None:
    missing = cli("generate-orders", "--members", "5", "--months", "1", "-o", "-")
    assert missing.code == 2
    assert "--seed" in missing.stderr
    nowhere = cli("generate-orders", *SMALL, "-o", tmp_path / "no" / "orders.jsonl")
    assert nowhere.code == 1
    assert "no such file" in nowhere.stderr


def test_a_failure_while_writing_leaves_the_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The history is written beside the file and moved over it only when whole."""
    import loyalty.cli.generate as command

    target = tmp_path / "orders.jsonl"
    target.write_text("last year's history\n", encoding="utf-8")

    def half_then_full_disk(settings: Any, stream: Any) -> Any:
        stream.write('{"type":"enrol"}\n')
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(command, "write_history", half_then_full_disk)
    ran = cli("generate-orders", *SMALL, "-o", target)
    assert ran.code == 1
    assert f"{target}: cannot write the history: No space left on device" in ran.stderr
    assert target.read_text(encoding="utf-8") == "last year's history\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["orders.jsonl"]


def test_a_pipe_is_written_to_and_stays_a_pipe(tmp_path: Path) -> None:
    """Only a regular file is written beside and replaced: a named pipe (or a device)
    is written to as it is, and is still a pipe afterwards."""
    import os
    import stat
    import threading

    pipe = tmp_path / "orders.fifo"
    os.mkfifo(pipe)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()), daemon=True)
    reader.start()
    ran = cli("generate-orders", *SMALL, "-o", pipe)
    reader.join(timeout=30)
    assert ran.code == 0, ran.stderr
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    assert received
    assert received[0].count(b"\n") > 0
    assert received[0].splitlines()[0].startswith(b'{"type":"enrol"')
    assert sorted(path.name for path in tmp_path.iterdir()) == ["orders.fifo"]
