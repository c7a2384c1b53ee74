"""Hostile input at the simulation's boundaries: generate-orders and simulate."""

from __future__ import annotations

import importlib.util
import socket
import threading
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from loyalty import load_program
from loyalty.errors import InvalidInput
from loyalty.simulation import simulate
from loyalty.simulation.generate import HistorySettings, generate_history
from tests.cli_support import COSMETICS, cli


def test_a_history_over_a_day_the_timezone_skipped_is_drawn() -> None:
    # Pacific/Apia went from 29 December 2011 straight to 31 December: the 30th has no minute.
    settings = HistorySettings(
        members=200, months=1, seed=3, start=date(2011, 12, 29), timezone="Pacific/Apia"
    )
    steps = list(generate_history(settings))
    days = {datetime.fromisoformat(step["at"]).date() for step in steps}
    assert date(2011, 12, 30) not in days
    assert date(2011, 12, 29) in days
    assert date(2011, 12, 31) in days
    assert sum(step["type"] == "order_completed" for step in steps) > 0


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--timezone", "--timezone: '' is not an IANA timezone"),
        ("--currency", "--currency: '' is not an ISO 4217 code"),
    ],
)
def test_generate_orders_refuses_an_empty_timezone_or_currency(
    tmp_path: Path, option: str, message: str
) -> None:
    out = tmp_path / "orders.jsonl"
    ran = cli("generate-orders", "--members", "5", "--months", "1", "--seed", "1", "-o", out,
              option, "")
    assert ran.code == 1
    assert message in ran.stderr
    assert not out.exists()


def test_generate_orders_refuses_an_empty_currency_beside_a_program(tmp_path: Path) -> None:
    out = tmp_path / "orders.jsonl"
    ran = cli("generate-orders", "--members", "5", "--months", "1", "--seed", "1", "-o", out,
              "--program", COSMETICS, "--currency", "")
    assert ran.code == 2
    assert "--currency: the program gives it" in ran.stderr
    assert not out.exists()


ENROL = '{"type":"enrol","member_id":"m1","at":"2026-01-05T10:00:00+00:00"}'


@pytest.mark.parametrize("at", ["9999-12-31T23:59:00+00:00", "1900-01-01T00:00:00+00:00"])
@pytest.mark.parametrize("workers", [1, 2])
def test_a_line_at_an_instant_not_taken_leaves_the_period_alone(
    tmp_path: Path, at: str, workers: int
) -> None:
    orders = tmp_path / "orders.jsonl"
    order = ENROL.replace('"enrol"', '"order_completed"').replace(
        "2026-01-05T10:00:00+00:00", at
    )
    orders.write_text(f"{ENROL}\n{order}\n", encoding="utf-8")
    result = simulate([load_program(COSMETICS)], orders, workers=workers)
    history = result.document["history"]
    assert history["invalid_lines"] == 1
    assert (history["first"], history["last"]) == ("2026-01-05", "2026-01-05")
    assert [month["month"] for month in result.document["variants"][0]["months"]] == ["2026-01"]


@pytest.fixture
def babbler() -> Iterator[str]:
    """The address of a TCP server that answers anything with bytes no scheduler sends."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            with connection:
                connection.sendall(b"\xff" * 64)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    server.close()


def test_a_cluster_address_without_a_port_is_a_bad_option(tmp_path: Path) -> None:
    orders = tmp_path / "orders.jsonl"
    orders.write_text(f"{ENROL}\n", encoding="utf-8")
    ran = cli("simulate", COSMETICS, orders, "--cluster", "garbage")
    assert ran.code == 1
    assert ran.stderr.startswith("cluster: 'garbage' is not a Dask scheduler reached: ")


def test_a_server_that_is_not_a_scheduler_is_a_bad_option(tmp_path: Path, babbler: str) -> None:
    orders = tmp_path / "orders.jsonl"
    orders.write_text(f"{ENROL}\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as raised:
        simulate([load_program(COSMETICS)], orders, cluster=babbler)
    assert raised.value.field == "cluster"
    assert raised.value.value == babbler


@pytest.mark.parametrize(
    ("option", "where", "message"),
    [
        ("--report", "dir", "--report: {path}: is a directory, not a file"),
        ("--report", "missing/report.html", "the directory {tmp}/missing does not exist"),
        ("--json", "dir", "--json: {path}: is a directory, not a file"),
        ("--json", "missing/figures.json", "the directory {tmp}/missing does not exist"),
        ("--csv", "orders.jsonl", "--csv: {path}: is a file, not a directory"),
    ],
)
def test_where_the_results_go_is_refused_before_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: str, where: str, message: str
) -> None:
    orders = tmp_path / "orders.jsonl"
    orders.write_text(f"{ENROL}\n", encoding="utf-8")
    (tmp_path / "dir").mkdir()
    ran_simulation: list[object] = []
    monkeypatch.setattr("loyalty.cli.simulate.simulate", lambda *a, **k: ran_simulation.append(a))
    path = tmp_path / where
    ran = cli("simulate", COSMETICS, orders, option, path, "--workers", "1")
    assert ran.code == 1
    assert message.format(path=path, tmp=tmp_path) in ran.stderr
    assert ran_simulation == []


def test_a_directory_of_orders_is_named_a_directory(tmp_path: Path) -> None:
    ran = cli("simulate", COSMETICS, tmp_path)
    assert ran.code == 1
    assert f"{tmp_path}: is a directory, not a file" in ran.stderr


def test_a_report_without_matplotlib_is_refused_before_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    orders = tmp_path / "orders.jsonl"
    orders.write_text(f"{ENROL}\n", encoding="utf-8")
    found = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec",
        lambda name, *rest: None if name == "matplotlib" else found(name, *rest),
    )
    ran_simulation: list[object] = []
    monkeypatch.setattr("loyalty.cli.simulate.simulate", lambda *a, **k: ran_simulation.append(a))
    ran = cli("simulate", COSMETICS, orders, "--report", tmp_path / "r.html", "--workers", "1")
    assert ran.code == 1
    assert "pip install 'loyalty[report]'" in ran.stderr
    assert ran_simulation == []
    assert not (tmp_path / "r.html").exists()
