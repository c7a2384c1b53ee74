"""The ``loyalty`` command as a whole: the entry points, the extra, what becomes of
an error, and the helpers every command shares (inputs, stores, JSON output)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from pathlib import Path

import pytest
import typer

from loyalty import InvalidInput, Money
from loyalty.cli import MISSING_EXTRA, main
from loyalty.cli import app as cli_app
from loyalty.cli.common import Failure, failure_of, open_store, parse_at, read_json_file
from loyalty.cli.output import to_json
from loyalty.store.memory import MemoryStore

ROOT = Path(__file__).resolve().parents[1]


def command(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m loyalty ARGS`` in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "loyalty", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src"), **(env or {})},
        timeout=120,
        check=False,
    )


def test_import_loyalty_imports_no_cli_typer_or_rich() -> None:
    code = (
        "import sys, loyalty; "
        "print(sorted(m for m in ('typer', 'rich', 'click', 'loyalty.cli') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        check=True,
    )
    assert done.stdout.strip() == "[]"


def test_python_dash_m_loyalty_runs_the_command() -> None:
    done = command("--help")
    assert done.returncode == 0, done.stderr
    assert "validate" in done.stdout
    assert "Usage: loyalty" in done.stdout


def test_the_console_script_is_installed_with_the_package() -> None:
    script = Path(sys.executable).parent / "loyalty"
    assert script.exists(), "pip install -e '.[dev]' installs the loyalty script"
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert "Usage: loyalty" in done.stdout


def test_without_the_cli_extra_the_command_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "typer", None)  # `import typer` raises ImportError
    assert main(["--help"]) == 1
    assert capsys.readouterr().err.strip() == MISSING_EXTRA
    assert "pip install 'loyalty[cli]'" in MISSING_EXTRA


def _failing_app(error: Exception) -> typer.Typer:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def options(debug: bool = typer.Option(False, "--debug")) -> None:
        """Options."""

    @app.command()
    def boom() -> None:
        raise error

    return app


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (InvalidInput("cart.id", "", "is required"), "cart.id"),
        (Failure("--at: 'soon' is not a date"), "--at: 'soon' is not a date"),
        (FileNotFoundError(2, "No such file or directory", "orders.jsonl"), "orders.jsonl"),
        (PermissionError(13, "Permission denied", "secret.yaml"), "Permission denied"),
    ],
)
def test_a_users_error_is_one_message_and_exit_1(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    error: Exception,
    message: str,
) -> None:
    monkeypatch.setattr(cli_app, "app", _failing_app(error))
    assert cli_app.run(["boom"]) == 1
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_a_bug_is_reported_as_one_and_debug_shows_its_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli_app, "app", _failing_app(ZeroDivisionError("division by zero")))
    assert cli_app.run(["boom"]) == cli_app.INTERNAL
    plain = capsys.readouterr().err
    assert "internal error: ZeroDivisionError: division by zero" in plain
    assert "--debug" in plain
    assert "Traceback" not in plain

    assert cli_app.run(["--debug", "boom"]) == cli_app.INTERNAL
    debugged = capsys.readouterr().err
    assert "Traceback (most recent call last)" in debugged
    assert "ZeroDivisionError" in debugged


def test_a_usage_error_exits_2_without_a_traceback() -> None:
    done = command("no-such-command")
    assert done.returncode == 2
    assert "No such command" in done.stderr
    assert "Traceback" not in done.stderr


def test_failure_of_leaves_bugs_alone() -> None:
    assert failure_of(KeyError("x")) is None
    assert failure_of(TypeError("x")) is None
    directory = failure_of(IsADirectoryError(21, "Is a directory", "programs"))
    assert directory is not None
    assert directory.message == "programs: is a directory, not a file"


def test_parse_at_takes_offsets_and_dates_in_the_programs_timezone() -> None:
    assert parse_at("2026-03-01T10:00:00+01:00", "UTC") == datetime(
        2026, 3, 1, 9, tzinfo=UTC
    )
    assert parse_at("2026-03-01T10:00:00Z", "UTC") == datetime(2026, 3, 1, 10, tzinfo=UTC)
    midnight = parse_at("2026-03-01", "America/New_York")
    assert midnight is not None
    assert midnight.utcoffset() == timedelta(hours=-5)
    assert (midnight.year, midnight.month, midnight.day, midnight.hour) == (2026, 3, 1, 0)
    assert parse_at(None, "UTC") is None


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("2026-03-01T10:00", "has no UTC offset"),
        ("soon", "is not a date"),
        ("2026-13-01", "is not a date"),
    ],
)
def test_parse_at_refuses_what_it_cannot_place(text: str, fragment: str) -> None:
    with pytest.raises(Failure, match=fragment) as refused:
        parse_at(text, "UTC", "--until")
    assert refused.value.message.startswith("--until: ")


def test_open_store_opens_memory_and_sqlite_and_refuses_other_urls(tmp_path: Path) -> None:
    assert isinstance(open_store(None), MemoryStore)
    assert isinstance(open_store("memory"), MemoryStore)
    store = open_store(f"sqlite:///{tmp_path / 'loyalty.db'}")
    assert getattr(store, "dialect", None) == "sqlite"
    assert (tmp_path / "loyalty.db").exists()
    with pytest.raises(Failure, match="is not a store URL"):
        open_store("mysql://shop@db/loyalty")


def test_open_store_names_an_unreachable_database_without_its_password() -> None:
    with pytest.raises(Failure) as refused:
        open_store("postgresql://shop:s3cret@127.0.0.1:1/loyalty")
    assert "cannot open" in refused.value.message
    assert "s3cret" not in refused.value.message
    assert "shop:***@127.0.0.1:1/loyalty" in refused.value.message


def test_read_json_file_keeps_amounts_exact_and_names_the_file(tmp_path: Path) -> None:
    cart = tmp_path / "cart.json"
    cart.write_text('{"id": "A-1", "total": 10.10}')
    assert read_json_file(cart, "cart") == {"id": "A-1", "total": Decimal("10.10")}
    cart.write_text('{"id": "A-1", "id": "A-2"}')
    with pytest.raises(Failure, match=r"cart\.json: not a valid cart: .*given twice"):
        read_json_file(cart, "cart")
    cart.write_text("[1, 2]")
    with pytest.raises(Failure, match="not a valid cart"):
        read_json_file(cart, "cart")


class _Colour(Enum):
    GOLD = "gold"


@dataclass(frozen=True)
class _Row:
    price: Money
    at: datetime
    colour: _Colour
    tags: frozenset[str]
    _hidden: int = 0


def test_to_json_loses_no_digit_and_no_offset() -> None:
    row = _Row(
        Money("12.50", "USD"),
        datetime(2026, 3, 1, 10, tzinfo=timezone(timedelta(hours=1))),
        _Colour.GOLD,
        frozenset({"b", "a"}),
    )
    assert to_json(row) == {
        "price": {"amount": "12.50", "currency": "USD"},
        "at": "2026-03-01T10:00:00+01:00",
        "colour": "gold",
        "tags": ["a", "b"],
    }
    assert to_json({"d": date(2026, 1, 2), "n": (Decimal("0.10"), 3)}) == {
        "d": "2026-01-02",
        "n": ["0.10", 3],
    }
    assert json.loads(json.dumps(to_json(row)))["price"]["amount"] == "12.50"
