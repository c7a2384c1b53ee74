"""``loyalty quote``: a cart's points and rewards for a member built from a history,
a state or anew, as Rich tables or JSON; bad inputs are one message, never a
traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from loyalty.cli import app as cli_app
from loyalty.cli.app import app

ROOT = Path(__file__).resolve().parents[1]
CLUB = str(ROOT / "examples" / "programs" / "cosmetics-club.yaml")
OFFERS = str(ROOT / "examples" / "programs" / "stacked-offers.yaml")
runner = CliRunner()


def command(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m loyalty ARGS`` in a fresh process, on a wide terminal."""
    return subprocess.run(
        [sys.executable, "-m", "loyalty", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "200"},
        timeout=120,
        check=False,
    )


def cart(
    price: str = "25.00", at: str | None = "2026-03-01T10:00:00+00:00", **more: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "C-2",
        "member_id": "m-1",
        "currency": "USD",
        "lines": [{"sku": "LIP-01", "unit_price": price, "quantity": 1}],
        **more,
    }
    if at is not None:
        data["at"] = at
    return data


def write(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


def steps_file(tmp_path: Path, *steps: dict[str, Any] | str) -> str:
    lines = [step if isinstance(step, str) else json.dumps(step) for step in steps]
    return write(tmp_path, "events.jsonl", "\n".join(lines) + "\n")


ENROL = {"type": "enrol", "member_id": "m-1", "at": "2026-01-05T10:00:00+00:00"}
FIRST_ORDER = {
    "type": "order_completed",
    "member_id": "m-1",
    "key": "o-1",
    "at": "2026-01-10T10:00:00+00:00",
    "cart": {
        "id": "O-1",
        "member_id": "m-1",
        "currency": "USD",
        "lines": [{"sku": "SERUM", "unit_price": "120.00", "quantity": 1}],
    },
}


def quote_json(*args: str) -> dict[str, Any]:
    done = runner.invoke(app, ["quote", *args, "--json"])
    assert done.exit_code == 0, done.stdout
    result: dict[str, Any] = json.loads(done.stdout)
    return result


# ------------------------------------------------------------------ the cosmetics club


def test_the_100_point_reward_is_refused_on_a_first_order_with_the_exact_reasons(
    tmp_path: Path,
) -> None:
    quote = quote_json(CLUB, "--cart", write(tmp_path, "cart.json", cart("8.00")))
    (five_off,) = quote["rewards"]
    assert five_off["reward"] == "five-off"
    assert five_off["eligible"] is False
    assert five_off["reasons"] == [
        "earn 100 more points",
        "available from your second order",
        "add 2.00 USD to your basket",
    ]
    assert five_off["unmet"] == [
        {"condition": "cost", "reason": "earn 100 more points", "shortfall": 100},
        {"condition": "repeat_order", "reason": "available from your second order", "shortfall": 1},
        {
            "condition": "min_basket",
            "reason": "add 2.00 USD to your basket",
            "shortfall": {"amount": "2.00", "currency": "USD"},
        },
    ]
    assert quote["best"] is None
    assert quote["available_points"] == 0
    assert quote["at"] == "2026-03-01T10:00:00+00:00"  # the cart's own time


def test_the_reward_is_accepted_after_an_order_whose_points_are_available(
    tmp_path: Path,
) -> None:
    events = steps_file(tmp_path, ENROL, FIRST_ORDER)
    quote = quote_json(CLUB, "--cart", write(tmp_path, "cart.json", cart()), "--events", events)
    (five_off,) = quote["rewards"]
    assert five_off["eligible"] is True
    assert five_off["reasons"] == []
    assert five_off["value"] == {"amount": "5.00", "currency": "USD"}
    assert quote["available_points"] == 120
    assert quote["best"] == {
        "reward": "five-off",
        "title": "$5 off your order",
        "value": {"amount": "5.00", "currency": "USD"},
        "points": 100,
    }


def test_points_still_pending_do_not_pay_for_the_reward(tmp_path: Path) -> None:
    events = steps_file(tmp_path, ENROL, FIRST_ORDER)
    before_unlock = cart(at="2026-01-20T10:00:00+00:00")
    quote = quote_json(
        CLUB, "--cart", write(tmp_path, "cart.json", before_unlock), "--events", events
    )
    assert quote["available_points"] == 0
    assert quote["rewards"][0]["reasons"] == ["earn 100 more points"]


def test_the_tables_show_points_reasons_and_the_best(tmp_path: Path) -> None:
    refused = command("quote", CLUB, "--cart", write(tmp_path, "first.json", cart("8.00")))
    assert refused.returncode == 0, refused.stderr
    text = refused.stdout
    assert "Cart C-2 for member m-1 at 2026-03-01T05:00:00-05:00: 0 points available" in text
    assert "Earns 8 points on 8.00 USD" in text
    assert "earn 100 more points" in text
    assert "available from your second order (short by 1 completed order(s))" in text
    assert "add 2.00 USD to your basket" in text
    assert "Best reward: none is eligible on this cart" in text

    events = steps_file(tmp_path, ENROL, FIRST_ORDER)
    accepted = command(
        "quote", CLUB, "--cart", write(tmp_path, "c.json", cart()), "--events", events
    )
    assert accepted.returncode == 0, accepted.stderr
    assert (
        "Best reward: five-off ($5 off your order): 5.00 USD off for 100 points" in accepted.stdout
    )
    assert "120 points available" in accepted.stdout


def test_json_has_the_earn_by_line_and_rule(tmp_path: Path) -> None:
    quote = quote_json(CLUB, "--cart", write(tmp_path, "cart.json", cart("12.99")))
    earn = quote["earn"]
    assert earn["points"] == 12  # floor rounding
    assert earn["basis"] == {"amount": "12.99", "currency": "USD"}
    assert [(line["line"], line["points"]) for line in earn["lines"]] == [("LIP-01", 12)]
    assert [(rule["rule"], rule["points"]) for rule in earn["rules"]] == [("base", 12)]
    for key in ("coupons", "entered", "choices", "wallet", "wallet_payable", "stack", "offers"):
        assert key in quote


# ------------------------------------------------------------------ a member state


def test_a_member_state_gives_points_and_completed_orders(tmp_path: Path) -> None:
    state = {
        "enrolled_at": "2025-06-01T10:00:00+00:00",
        "segments": ["newsletter"],
        "completed_orders": 1,
        "balance": {"available": 150},
    }
    cart_file = write(tmp_path, "cart.json", cart())
    quote = quote_json(CLUB, "--cart", cart_file, "--member", write(tmp_path, "m.json", state))
    assert quote["available_points"] == 150
    assert quote["rewards"][0]["eligible"] is True

    state["completed_orders"] = 0
    quote = quote_json(CLUB, "--cart", cart_file, "--member", write(tmp_path, "m.json", state))
    assert quote["rewards"][0]["reasons"] == ["available from your second order"]


def test_a_bad_member_state_lists_its_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cart_file = write(tmp_path, "cart.json", cart())
    state = write(tmp_path, "m.json", {"balance": {"available": -5}, "tier": "Gold", "pending": 3})
    assert cli_app.run(["quote", CLUB, "--cart", cart_file, "--member", state]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{state}: not a valid member state (3 problem(s)):")
    assert "enrolled_at: is required" in err
    assert "balance.available:" in err
    assert "pending: unknown key" in err
    assert "Traceback" not in err


# ------------------------------------------------------------------ the instant


def test_at_defaults_to_the_last_event_time(tmp_path: Path) -> None:
    events = steps_file(
        tmp_path, ENROL, FIRST_ORDER, {"type": "advance", "at": "2026-02-20T00:00:00+00:00"}
    )
    quote = quote_json(CLUB, "--cart", write(tmp_path, "c.json", cart(at=None)), "--events", events)
    assert quote["at"] == "2026-02-20T00:00:00+00:00"
    assert quote["available_points"] == 120


def test_at_given_wins_and_a_date_is_midnight_in_the_program_zone(tmp_path: Path) -> None:
    quote = quote_json(CLUB, "--cart", write(tmp_path, "c.json", cart()), "--at", "2026-04-02")
    assert quote["at"] == "2026-04-02T04:00:00+00:00"  # midnight in New York (EDT)


def test_without_any_time_at_is_required(tmp_path: Path) -> None:
    done = command("quote", CLUB, "--cart", write(tmp_path, "c.json", cart(at=None)))
    assert done.returncode == 1
    assert done.stderr.startswith("--at is required")
    assert "Traceback" not in done.stderr


# ------------------------------------------------------------------ offers and codes


def test_offers_applied_and_skipped(tmp_path: Path) -> None:
    data = {
        "id": "C-9",
        "member_id": "m-9",
        "currency": "USD",
        "at": "2026-07-05T12:00:00+00:00",
        "customer": {"segments": ["newsletter"]},
        "lines": [
            {"sku": "SOAP", "unit_price": "6.00", "quantity": 3, "categories": ["soap"]},
            {"sku": "CREAM", "unit_price": "30.00", "quantity": 1},
        ],
        "shipping": "4.90",
    }
    cart_file = write(tmp_path, "c.json", data)
    quote = quote_json(OFFERS, "--cart", cart_file, "--code", "NOPE-1234")
    applied = {item["name"]: item["amount"]["amount"] for item in quote["offers"]["applied"]}
    assert applied == {"soap-3-for-2": "6.00", "ten-from-4": "4.20", "newsletter-shipping": "4.90"}
    skipped = {item["name"]: item["reason"] for item in quote["offers"]["skipped"]}
    assert set(skipped) == {"five-from-2", "summer-sale"}
    assert "10% off from 4 items is the better one" in skipped["five-from-2"]
    assert [entry["code"] for entry in quote["entered"]] == ["NOPE-1234"]
    assert quote["entered"][0]["coupon"] is None

    tables = command("quote", OFFERS, "--cart", cart_file)
    assert tables.returncode == 0, tables.stderr
    assert "Offers" in tables.stdout
    assert "Soap, 3 for 2" in tables.stdout
    assert "shipping 4.90 USD" in tables.stdout


# ------------------------------------------------------------------ bad inputs


def run_failing(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert cli_app.run(["quote", *args]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Traceback" not in captured.err
    return captured.err.strip()


def test_bad_cart_files_are_one_message(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    duplicate = write(tmp_path, "dup.json", '{"id": "C", "id": "D", "member_id": "m", "lines": []}')
    assert run_failing(capsys, CLUB, "--cart", duplicate) == (
        f"{duplicate}: not a valid cart: id: is given twice in one object"
    )
    cents = write(
        tmp_path,
        "cents.json",
        '{"id": "C", "member_id": "m", "currency": "USD", '
        '"lines": [{"sku": "A", "unit_price": 12.505, "quantity": 1}], "at": "2026-03-01"}',
    )
    message = run_failing(capsys, CLUB, "--cart", cents)
    assert message.startswith(f"{cents}: not a valid cart: lines[0].unit_price: ")
    assert "more decimals than USD allows" in message
    missing = str(tmp_path / "none.json")
    assert run_failing(capsys, CLUB, "--cart", missing) == f"{missing}: no such file"
    listed = write(tmp_path, "list.json", "[1, 2]")
    assert run_failing(capsys, CLUB, "--cart", listed) == (
        f"{listed}: not a valid cart: a cart is a JSON object, not [1, 2]"
    )
    broken = write(tmp_path, "broken.json", '{"id": ')
    assert run_failing(capsys, CLUB, "--cart", broken).startswith(f"{broken}: not a valid cart: ")
    bad_at = write(tmp_path, "at.json", cart(at="tomorrow"))
    assert "is not a date" in run_failing(capsys, CLUB, "--cart", bad_at)


def test_a_json_number_amount_is_read_exactly(tmp_path: Path) -> None:
    text = (
        '{"id": "C", "member_id": "m", "currency": "USD", "at": "2026-03-01T10:00:00Z", '
        '"lines": [{"sku": "A", "unit_price": 12.10, "quantity": 3}]}'
    )
    quote = quote_json(CLUB, "--cart", write(tmp_path, "c.json", text))
    assert quote["earn"]["basis"] == {"amount": "36.30", "currency": "USD"}
    assert quote["earn"]["points"] == 36


def test_a_bad_event_line_names_its_line_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cart_file = write(tmp_path, "c.json", cart())
    events = steps_file(tmp_path, ENROL, "", '{"type": "order_complete", "member_id": "m-1"}')
    message = run_failing(capsys, CLUB, "--cart", cart_file, "--events", events)
    assert message.startswith(f"{events}:3: type: 'order_complete': must be one of ")
    assert "(did you mean 'order_completed'?)" in message

    events = steps_file(tmp_path, ENROL, "{not json")
    assert run_failing(capsys, CLUB, "--cart", cart_file, "--events", events).startswith(
        f"{events}:2: is not JSON"
    )


def test_a_refused_step_names_its_line_number(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    redeem = {
        "type": "redeem",
        "member_id": "m-1",
        "key": "r-1",
        "reward": "five-off",
        "at": "2026-01-06T10:00:00+00:00",
        "cart": {k: v for k, v in cart().items() if k != "at"},
    }
    events = steps_file(tmp_path, ENROL, redeem)
    message = run_failing(
        capsys, CLUB, "--cart", write(tmp_path, "c.json", cart()), "--events", events
    )
    assert message == (
        f"{events}:2: member 'm-1' cannot redeem 'five-off': earn 100 more points; "
        "available from your second order"
    )


def test_member_and_events_together_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cart_file = write(tmp_path, "c.json", cart())
    state = write(tmp_path, "m.json", {"enrolled_at": "2026-01-01T00:00:00Z"})
    events = steps_file(tmp_path, ENROL)
    message = run_failing(capsys, CLUB, "--cart", cart_file, "--member", state, "--events", events)
    assert message == "give --member or --events, not both"


def test_an_unknown_member_of_the_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cart_file = write(tmp_path, "c.json", {k: v for k, v in cart().items() if k != "member_id"})
    events = steps_file(tmp_path, ENROL)
    message = run_failing(capsys, CLUB, "--cart", cart_file, "--events", events, "--member-id", "x")
    assert message.startswith(f"{events}: the history does not name member 'x'")
    assert message.endswith("it names 'm-1'")


def test_an_invalid_program_lists_its_problems_with_lines(tmp_path: Path) -> None:
    program = write(
        tmp_path,
        "club.yaml",
        "id: club\nname: Club\ncurrency: USD\ntimezone: UTC\nearning:\n  rate: 1\n  rait: 2\n",
    )
    done = command("quote", program, "--cart", write(tmp_path, "c.json", cart()))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"{program}: not a valid program (1 problem(s)):",
        f"{program}:7: error: earning.rait: unknown key (did you mean 'rate'?)",
    ]
