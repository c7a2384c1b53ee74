"""``loyalty replay``: a file of steps applied to a store, each member's state as of the
replay's end, one message per bad line, and the counts of what applied, what was a
duplicate and what was rejected."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from loyalty.service.steps import STEP_TYPES
from tests.cli_support import COSMETICS, ROOT, cli, command, enrol, environment, order, write_steps

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)


def at(days: float) -> str:
    return (T0 + timedelta(days=days)).isoformat()


def members(ran: Any) -> dict[str, dict[str, Any]]:
    return {member["member_id"]: member for member in ran.json()["members"]}


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """Two members: ann's order on day 1 (its 30-day return window closes on day 31);
    bob's on day 60, the last step."""
    return write_steps(
        tmp_path / "history.jsonl",
        [
            enrol("ann", at(0)),
            enrol("bob", at(0)),
            order("ann", "A-1", "120.00", at(1)),
            order("bob", "B-1", "50.00", at(60)),
        ],
    )


def test_the_state_is_read_at_the_replays_end_not_at_each_members_last_entry(
    history: Path,
) -> None:
    ran = cli("replay", COSMETICS, history, "--json")
    assert ran.code == 0, ran.stderr
    state = members(ran)
    # ann's last entry is day 1, when her 120 points were pending; at the end (day 60)
    # her return window has closed: read without an instant, she would show 120 pending.
    assert (state["ann"]["pending"], state["ann"]["available"]) == (0, 120)
    assert (state["bob"]["pending"], state["bob"]["available"]) == (50, 0)
    assert ran.json()["at"] == at(60)
    assert [lot["status"] for lot in state["ann"]["lots"]] == ["available"]


def test_at_moves_the_instant_the_state_is_read_at(history: Path) -> None:
    state = members(cli("replay", COSMETICS, history, "--json", "--at", "2026-01-20"))
    assert (state["ann"]["pending"], state["ann"]["available"]) == (120, 0)
    assert state["bob"]["pending"] == 0  # his order comes later
    assert state["ann"]["at"] == "2026-01-20T00:00:00-05:00"  # midnight in New York


def test_the_table_shows_each_member_and_the_summary(history: Path) -> None:
    ran = cli("replay", COSMETICS, history)
    assert ran.code == 0
    rows = {line.split("│")[1].strip(): line for line in ran.stdout.splitlines() if "│" in line}
    assert [cell.strip() for cell in rows["ann"].split("│")[2:4]] == ["0", "120"]
    assert [cell.strip() for cell in rows["bob"].split("│")[2:4]] == ["50", "0"]
    assert "4 steps: 4 applied, 0 replayed (duplicate keys), 0 rejected" in ran.stdout
    assert "state as of 2026-03-02 07:00 (America/New_York)" in ran.stdout
    assert ran.stderr == ""


def test_duplicate_keys_are_counted_as_replayed_and_credit_once(tmp_path: Path) -> None:
    first = order("ann", "A-1", "120.00", at(1))
    steps = write_steps(
        tmp_path / "twice.jsonl",
        [
            enrol("ann", at(0)),
            enrol("ann", at(0)),  # the same enrolment again
            first,
            first,
            {**first, "at": at(2)},  # a redelivery, later: still the same request
            order("ann", "A-2", "10.00", at(3)),
        ],
    )
    ran = cli("replay", COSMETICS, steps, "--json")
    assert ran.code == 0
    assert ran.json()["summary"] == {
        "steps": 6,
        "applied": 3,
        "replayed": 3,
        "rejected": 0,
        "stopped_at_line": None,
    }
    assert members(ran)["ann"]["pending"] == 130


def test_a_replay_into_a_store_that_has_it_all_applies_nothing(
    history: Path, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path / 'loyalty.db'}"
    assert cli("replay", COSMETICS, history, "--store", store).code == 0
    again = cli("replay", COSMETICS, history, "--store", store, "--json")
    assert again.code == 0
    summary = again.json()["summary"]
    assert (summary["applied"], summary["replayed"]) == (0, 4)
    assert members(again)["ann"]["available"] == 120


def test_the_state_shows_the_members_the_file_names_that_are_still_enrolled(
    history: Path, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path / 'loyalty.db'}"
    assert cli("replay", COSMETICS, history, "--store", store).code == 0
    more = write_steps(
        tmp_path / "more.jsonl", [enrol("cat", at(70)), {"type": "erase", "member_id": "ann"}]
    )
    ran = cli("replay", COSMETICS, more, "--store", store, "--json")
    assert ran.code == 0
    assert list(members(ran)) == ["cat"]  # not bob (another file's), not ann (erased)


def test_blank_lines_and_comments_are_skipped_and_lines_keep_their_numbers(
    tmp_path: Path,
) -> None:
    steps = write_steps(
        tmp_path / "commented.jsonl",
        ["# two members", "", enrol("ann", at(0)), "   ", "# then a typo", '{"type": "enrl"}'],
    )
    ran = cli("replay", COSMETICS, steps, "--json")
    assert ran.code == 1
    assert ran.json()["summary"]["steps"] == 2
    assert ran.json()["rejected"][0]["line"] == 6
    assert f"{steps}:6: invalid step: type: 'enrl'" in ran.stderr
    assert "did you mean 'enrol'?" in ran.stderr


@pytest.fixture
def bad_lines(tmp_path: Path) -> Path:
    return write_steps(
        tmp_path / "bad.jsonl",
        [
            enrol("ann", at(0)),
            '{"type": "enrol", "member_id": "bob", ',  # line 2: cut short
            {"type": "enrol", "member_id": "cat", "at": "2026-01-01T12:00:00"},  # 3: naive
            {  # 4: the engine refuses it
                "type": "redeem",
                "member_id": "ann",
                "key": "checkout:A-9",
                "at": at(2),
                "reward": "five-off",
                "cart": order("ann", "A-9", "30.00", at(2))["cart"],
            },
            order("ann", "A-1", "120.00", at(3)),
        ],
    )


def test_each_bad_line_is_one_message_with_its_line_and_the_replay_goes_on(
    bad_lines: Path,
) -> None:
    ran = cli("replay", COSMETICS, bad_lines, "--json")
    assert ran.code == 1
    messages = ran.stderr.strip().splitlines()
    assert len(messages) == 3
    assert messages[0].startswith(f"{bad_lines}:2: invalid step: is not JSON")
    assert messages[1].startswith(f"{bad_lines}:3: invalid step: at: ")
    assert "naive datetime" in messages[1]
    assert messages[2] == (
        f"{bad_lines}:4: redeem 'checkout:A-9' refused: member 'ann' cannot redeem "
        "'five-off': earn 100 more points; available from your second order"
    )
    assert "Traceback" not in ran.stderr
    body = ran.json()  # stdout holds only the JSON, rejected lines or not
    assert body["summary"]["applied"] == 2
    assert [r["line"] for r in body["rejected"]] == [2, 3, 4]
    assert members(ran)["ann"]["pending"] == 120


def test_stop_on_error_stops_at_the_first_bad_line(bad_lines: Path) -> None:
    ran = cli("replay", COSMETICS, bad_lines, "--json", "--stop-on-error")
    assert ran.code == 1
    assert len(ran.stderr.strip().splitlines()) == 1
    summary = ran.json()["summary"]
    assert (summary["applied"], summary["rejected"], summary["stopped_at_line"]) == (1, 1, 2)
    assert members(ran)["ann"]["lots"] == []  # line 5's order was not applied


def test_a_line_that_is_not_utf8_is_rejected_by_its_number(tmp_path: Path) -> None:
    steps = tmp_path / "latin1.jsonl"
    steps.write_bytes(
        json.dumps(enrol("ann", at(0))).encode() + b"\n" + b'{"member_id": "Jos\xe9"}\n'
    )
    ran = cli("replay", COSMETICS, steps)
    assert ran.code == 1
    assert ran.stderr.strip() == f"{steps}:2: not UTF-8 (byte 19 of the line)"


def test_dash_reads_the_steps_from_standard_input(history: Path) -> None:
    ran = cli("replay", COSMETICS, "-", "--json", input=history.read_text() + "{oops}\n")
    assert ran.code == 1
    assert ran.json()["summary"]["applied"] == 4
    assert ran.stderr.startswith("stdin:5: invalid step: is not JSON")


def test_a_utf8_byte_order_mark_is_read_past(tmp_path: Path) -> None:
    steps = tmp_path / "bom.jsonl"
    steps.write_bytes(b"\xef\xbb\xbf" + json.dumps(enrol("ann", at(0))).encode() + b"\n")
    assert cli("replay", COSMETICS, steps).code == 0


def test_advance_runs_the_scheduled_job_at_the_end(history: Path) -> None:
    ran = cli("replay", COSMETICS, history, "--json", "--advance")
    assert ran.code == 0
    report = ran.json()["advance"]
    assert (report["members"], report["failed"]) == (2, [])
    assert members(ran)["ann"]["available"] == 120


def test_an_empty_file_applies_nothing(tmp_path: Path) -> None:
    ran = cli("replay", COSMETICS, write_steps(tmp_path / "empty.jsonl", []), "--json")
    assert ran.code == 0
    assert ran.json()["summary"]["steps"] == 0
    assert ran.json()["members"] == []
    assert ran.json()["at"] is None
    table = cli("replay", COSMETICS, write_steps(tmp_path / "empty.jsonl", []))
    assert table.code == 0
    assert table.stdout.strip() == "0 steps: 0 applied, 0 replayed (duplicate keys), 0 rejected"


def test_a_refused_steps_time_does_not_move_the_instant_of_the_state(tmp_path: Path) -> None:
    """ann's order on day 1 is pending for the 30-day return window; a refused step
    dated day 90 must not read her state on day 90 (it would show them available)."""
    refused = {"type": "order_refunded", "member_id": "ann", "key": "r", "at": at(90),
               "order_id": "NO-SUCH-ORDER"}
    steps = write_steps(
        tmp_path / "h.jsonl", [enrol("ann", at(0)), order("ann", "A-1", "40.00", at(1)), refused]
    )
    ran = cli("replay", COSMETICS, steps, "--json")
    assert ran.code == 1
    body = ran.json()
    assert body["summary"]["rejected"] == 1
    assert body["at"] == datetime.fromisoformat(at(1)).isoformat()
    (ann,) = body["members"]
    assert (ann["pending"], ann["available"]) == (40, 0)


def test_advance_with_no_step_taken_needs_at(tmp_path: Path) -> None:
    empty = write_steps(tmp_path / "empty.jsonl", [])
    ran = cli("replay", COSMETICS, empty, "--advance")
    assert ran.code == 2
    assert "--advance needs --at" in ran.stderr
    assert cli("replay", COSMETICS, empty, "--advance", "--at", "2026-03-01").code == 0


# --------------------------------------------------------------- the real command


def test_files_that_cannot_be_read_get_one_message_and_exit_1(
    tmp_path: Path, history: Path
) -> None:
    utf16 = tmp_path / "utf16.jsonl"
    utf16.write_text(json.dumps(enrol("ann", at(0))), encoding="utf-16")
    cases = [
        (("replay", COSMETICS, tmp_path / "missing.jsonl"), "missing.jsonl: no such file"),
        (("replay", COSMETICS, tmp_path), "is a directory, not a file"),
        (("replay", COSMETICS, utf16), "utf16.jsonl: is UTF-16 or UTF-32 text"),
        (("replay", COSMETICS, history, "--at", "soon"), "--at: 'soon' is not a date"),
    ]
    for args, message in cases:
        ran = cli(*args)
        assert ran.code == 1, ran.stderr
        assert message in ran.stderr
        assert len(ran.stderr.strip().splitlines()) == 1, ran.stderr
        assert ran.stdout == ""
    done = command(*cases[0][0])  # through the real entry point too
    assert done.returncode == 1
    assert done.stderr.strip().endswith("missing.jsonl: no such file")
    program = command("replay", tmp_path / "none.yaml", history)
    assert program.returncode == 1
    assert "none.yaml" in program.stderr
    assert "no such file" in program.stderr.lower()
    assert "Traceback" not in program.stderr


def test_a_bad_json_line_through_the_real_command(tmp_path: Path) -> None:
    steps = write_steps(tmp_path / "e.jsonl", [enrol("ann", at(0)), "{oops}", enrol("bob", at(0))])
    done = command("replay", COSMETICS, steps, "--json")
    assert done.returncode == 1
    assert done.stderr.startswith(f"{steps}:2: invalid step: is not JSON")
    assert "Traceback" not in done.stderr
    assert json.loads(done.stdout)["summary"]["applied"] == 2


MEMBERS, ORDERS = 500, 19


def ten_thousand(path: Path) -> Path:
    """500 enrolments, then 19 weekly orders of each member: 10,000 lines."""
    with path.open("w") as handle:
        for m in range(MEMBERS):
            handle.write(json.dumps(enrol(f"m{m:03d}", at(m / 1440))) + "\n")
        for week in range(ORDERS):
            for m in range(MEMBERS):
                when = at(1 + 7 * week + m / 1440)
                step = order(f"m{m:03d}", f"O-{m}-{week}", "12.50", when, 1 + (m + week) % 3)
                handle.write(json.dumps(step) + "\n")
    return path


def expected(member: int) -> tuple[int, int]:
    """(pending, available) of member ``member`` at the last order."""
    end = T0 + timedelta(days=1 + 7 * (ORDERS - 1), minutes=MEMBERS - 1)
    pending = available = 0
    for week in range(ORDERS):
        points = int(12.5 * (1 + (member + week) % 3))  # float-ok: a test's exact halves
        placed = T0 + timedelta(days=1 + 7 * week, minutes=member)
        if placed + timedelta(days=30) <= end:
            available += points
        else:
            pending += points
    return pending, available


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ten_thousand(tmp_path_factory.mktemp("replay") / "orders.jsonl")


def test_ten_thousand_events_without_a_terminal_show_no_progress_bar(big_file: Path) -> None:
    done = command("replay", COSMETICS, big_file, "--json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    body = json.loads(done.stdout)
    assert body["summary"]["applied"] == 10_000
    state = {member["member_id"]: member for member in body["members"]}
    assert len(state) == MEMBERS
    for m in (0, 1, 2, 499):
        member = state[f"m{m:03d}"]
        assert (member["pending"], member["available"]) == expected(m)


def with_a_terminal(*args: str | Path) -> tuple[int, str]:
    """``python -m loyalty ARGS`` with stderr on a pseudo-terminal: exit code, stderr."""
    parent, child = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "loyalty", *map(str, args)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=child,
        cwd=ROOT,
        env=environment(TERM="xterm-256color", COLUMNS="120"),
    )
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(parent, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(parent)
    return process.wait(timeout=300), b"".join(chunks).decode("utf-8", "replace")


def test_ten_thousand_events_on_a_terminal_show_a_progress_bar(big_file: Path) -> None:
    code, stderr = with_a_terminal("replay", COSMETICS, big_file)
    assert code == 0
    assert "replaying orders.jsonl" in stderr
    assert "10000/10000" in stderr


def test_a_short_file_on_a_terminal_shows_no_progress_bar(history: Path) -> None:
    code, stderr = with_a_terminal("replay", COSMETICS, history)
    assert code == 0
    assert "replaying" not in stderr


# ------------------------------------------------------------- the documented example

EXAMPLE = ROOT / "examples" / "replay"


def test_the_documented_example_uses_every_step_type_and_replays_clean() -> None:
    history = EXAMPLE / "corner-shop.jsonl"
    lines = [line for line in history.read_text().splitlines() if line.startswith("{")]
    assert {json.loads(line)["type"] for line in lines} == set(STEP_TYPES)
    ran = cli("replay", EXAMPLE / "corner-shop.yaml", history, "--json")
    assert ran.code == 0, ran.stderr
    assert ran.json()["summary"] == {
        "steps": 25,
        "applied": 24,
        "replayed": 1,
        "rejected": 0,
        "stopped_at_line": None,
    }
    state = members(ran)
    assert list(state) == ["ann", "bob"]
    assert (state["ann"]["pending"], state["ann"]["available"]) == (50, 329)
    assert (state["bob"]["pending"], state["bob"]["available"]) == (225, 25)
    assert state["bob"]["cashback"]["available"]["amount"] == "2.50"


def test_the_docs_show_the_example_files_as_they_are() -> None:
    pages = "\n".join(page.read_text() for page in sorted((ROOT / "docs").glob("*.md")))
    for name, fence in (("corner-shop.yaml", "yaml"), ("corner-shop.jsonl", "jsonl")):
        assert f"```{fence}\n{(EXAMPLE / name).read_text()}```" in pages, name
