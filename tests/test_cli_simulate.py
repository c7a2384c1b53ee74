"""``loyalty simulate``: the summary table and sentence, the files it writes, the
document on stdout with ``--json -``, and the exit codes of bad options and files."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from loyalty import load_program
from loyalty.simulation import Policy, Variant, simulate
from tests.cli_support import COSMETICS, ROOT, cli
from tests.simulation_history import history, write

LATE = ROOT / "examples" / "programs" / "late-apology.yaml"


@pytest.fixture(scope="module")
def orders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(
        tmp_path_factory.mktemp("simulate") / "orders.jsonl",
        history(12, seed=17, months=3, delays=0.3),
    )


@pytest.fixture(scope="module")
def cheaper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """cosmetics-club with its reward for 50 points instead of 100."""
    text = COSMETICS.read_text(encoding="utf-8")
    assert "      cost: 100 " in text
    path = tmp_path_factory.mktemp("programs") / "cheaper.yaml"
    path.write_text(text.replace("      cost: 100 ", "      cost: 50 "), encoding="utf-8")
    return path


def expected(
    *programs: Path, orders: Path, point_value: Decimal | None = None, **policy: Any
) -> str:
    """The document ``simulate`` makes in this process, one partition."""
    variants = [
        Variant(name, load_program(path), str(path))
        for name, path in zip("AB", programs, strict=False)
    ]
    return simulate(variants, orders, policy=Policy(**policy), point_value=point_value).to_json()


def figure(figures: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        figures = figures[part]
    return figures


def shown(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{Decimal(value):,}"


def test_the_summary_table_and_sentence_and_the_json_file(orders: Path, tmp_path: Path) -> None:
    """On every core (the default), the figures are those of a run in this process."""
    out = tmp_path / "figures.json"
    ran = cli("simulate", COSMETICS, orders, "--json", out)
    assert ran.code == 0, ran.stderr
    assert out.read_text(encoding="utf-8") == expected(COSMETICS, orders=orders)
    document = json.loads(out.read_text(encoding="utf-8"))
    total = document["variants"][0]["total"]
    history_figures = document["history"]
    assert (
        f"Simulated {history_figures['orders']:,} orders "
        f"({history_figures['first']} to {history_figures['last']})"
    ) in ran.stdout
    assert "A: cosmetics-club" in ran.stdout
    for label, path in [
        ("points issued", "points.issued"),
        ("points redeemed", "points.redeemed"),
        ("orders with a reward", "orders_with_reward"),
        ("liability at the end", "liability.total"),
        ("loyalty cost", "cost.total"),
        ("net revenue", "sales.net"),
    ]:
        row = next(line for line in ran.stdout.splitlines() if f" {label} " in line)
        assert shown(figure(total, path)) in row, label
    assert document["summary"] in ran.stdout
    assert document["summary"].startswith("A issues ")
    assert f"figures: {out}" in ran.stdout
    assert "note:" not in ran.stdout


def test_compare_writes_the_difference_and_months_csv(
    orders: Path, cheaper: Path, tmp_path: Path
) -> None:
    ran = cli(
        "simulate", COSMETICS, orders, "--compare", cheaper, "--csv", tmp_path / "csv",
        "--workers", "1",
    )  # fmt: skip
    assert ran.code == 0, ran.stderr
    document = json.loads(expected(COSMETICS, cheaper, orders=orders))
    assert "B - A" in ran.stdout
    gap = document["difference"]["total"]["orders_with_reward"]
    assert gap > 0
    row = next(line for line in ran.stdout.splitlines() if " orders with a reward " in line)
    assert f"+{gap:,}" in row
    assert document["summary"].startswith("B costs ")
    assert document["summary"] in ran.stdout
    months = tmp_path / "csv" / "months.csv"
    assert f"csv: {months}" in ran.stdout
    with months.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["variant"] for row in rows] == ["A"] * 4 + ["B"] * 4 + ["B-A"] * 4
    assert rows[-1]["orders_with_reward"] == str(gap)


def test_json_dash_writes_exactly_the_document_and_nothing_else(
    orders: Path, tmp_path: Path
) -> None:
    ran = cli(
        "simulate", COSMETICS, orders, "--json", "-", "--workers", "1", "--seed", "4",
        "--redeem", "0.25", "--coupons", "0", "--cashback", "0.5", "--point-value", "0.10",
        "--csv", tmp_path,
    )  # fmt: skip
    assert ran.code == 0, ran.stderr
    policy = {"seed": 4, "redeem": Decimal("0.25"), "coupons": 0, "cashback": Decimal("0.5")}
    assert ran.stdout == expected(COSMETICS, orders=orders, point_value=Decimal("0.10"), **policy)
    document = json.loads(ran.stdout)
    assert document["policy"] == {"seed": 4, "redeem": "0.25", "coupons": "0", "cashback": "0.5"}
    assert document["point_value"] == "0.10"
    for figures in document["variants"][0]["months"]:
        points = Decimal(figures["points"]["outstanding"]) * Decimal("0.10")
        assert figures["liability"]["points"] == f"{points:.2f}"
    # --csv still writes its file, and says so on stderr, not in the document
    assert (tmp_path / "months.csv").is_file()
    assert f"csv: {tmp_path / 'months.csv'}" in ran.stderr


def test_json_dash_is_the_document_of_the_same_run_in_this_process(orders: Path) -> None:
    ran = cli("simulate", COSMETICS, orders, "--json", "-", "--seed", "2", "--redeem", "1")
    assert ran.code == 0, ran.stderr
    assert ran.stdout == expected(COSMETICS, orders=orders, seed=2, redeem=Decimal(1))


def test_a_program_without_a_point_value_gets_a_note(orders: Path) -> None:
    ran = cli("simulate", LATE, orders, "--workers", "1")
    assert ran.code == 0, ran.stderr
    assert "note: points liability not valued" in ran.stdout
    assert "give one with --point-value" in ran.stdout


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--redeem", "1.5", "--redeem: '1.5' is not a number between 0 and 1"),
        ("--redeem", "half", "--redeem: 'half' is not a number between 0 and 1"),
        ("--coupons", "-0.2", "--coupons: '-0.2' is not a number between 0 and 1"),
        ("--cashback", "nan", "--cashback: 'nan' is not a number between 0 and 1"),
        ("--point-value", "0", "--point-value: '0' is not an amount of money above 0"),
        ("--point-value", "-1", "--point-value: '-1' is not an amount of money above 0"),
        ("--point-value", "lots", "--point-value: 'lots' is not an amount of money above 0"),
        ("--point-value", "inf", "--point-value: 'inf' is not an amount of money above 0"),
        ("--point-value", "1e400", "--point-value: '1e400' is beyond the largest amount"),
    ],
)
def test_a_bad_chance_or_point_value_exits_2_naming_it(
    orders: Path, tmp_path: Path, option: str, value: str, message: str
) -> None:
    out = tmp_path / "figures.json"
    ran = cli("simulate", COSMETICS, orders, option, value, "--workers", "1", "--json", out)
    assert ran.code == 2
    assert message in ran.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("option", "value"), [("--workers", "0"), ("--seed", "-1"), ("--seed", str(1 << 63))]
)
def test_workers_and_seeds_out_of_range_are_usage_errors(
    orders: Path, option: str, value: str
) -> None:
    ran = cli("simulate", COSMETICS, orders, option, value)
    assert ran.code == 2
    assert f"Invalid value for '{option}'" in ran.stderr


def test_a_missing_history_exits_1(tmp_path: Path) -> None:
    ran = cli("simulate", COSMETICS, tmp_path / "nowhere.jsonl")
    assert ran.code == 1
    assert f"{tmp_path / 'nowhere.jsonl'}: no such file" in ran.stderr


@pytest.mark.parametrize("form", [["--json", "{file}"], ["--json={file}"]])
def test_a_failure_with_a_json_file_writes_no_json_on_stdout(
    tmp_path: Path, form: list[str]
) -> None:
    """``--json FILE`` asks for a file, not for JSON on stdout: an error is a message on
    stderr, as without it; with ``--json -`` stdout holds the error as JSON."""
    out = tmp_path / "figures.json"
    words = [word.format(file=out) for word in form]
    ran = cli("simulate", COSMETICS, tmp_path / "nowhere.jsonl", *words)
    assert (ran.code, ran.stdout) == (1, "")
    assert "no such file" in ran.stderr
    assert not out.exists()
    ran = cli("simulate", COSMETICS, tmp_path / "nowhere.jsonl", "--json", "-")
    assert ran.code == 1
    assert json.loads(ran.stdout)["error"]["exit_code"] == 1


def test_an_invalid_program_exits_1_listing_its_problems(orders: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: bad\nname: Bad\ncurrency: USD\ntimezone: Mars/Olympus\nearning:\n  rate: -1\n",
        encoding="utf-8",
    )
    ran = cli("simulate", COSMETICS, orders, "--compare", bad, "--workers", "1")
    assert ran.code == 1
    lines = ran.stderr.strip().splitlines()
    assert lines[0].startswith(f"--compare: {bad}: not a valid program (2 problem(s)):")
    assert any("timezone" in line for line in lines[1:])
    assert any("earning.rate" in line for line in lines[1:])
    assert ran.stdout == ""


def test_programs_of_two_currencies_exit_1_naming_the_field(orders: Path, tmp_path: Path) -> None:
    euros = tmp_path / "euros.yaml"
    euros.write_text(
        COSMETICS.read_text(encoding="utf-8").replace("currency: USD", "currency: EUR"),
        encoding="utf-8",
    )
    ran = cli("simulate", COSMETICS, orders, "--compare", euros, "--workers", "1")
    assert ran.code == 1
    assert "currency: 'EUR' differs from A's USD" in ran.stderr


def test_the_report_is_written_from_the_document(orders: Path, tmp_path: Path) -> None:
    try:
        import loyalty.report  # noqa: F401
    except ImportError as error:
        pytest.skip(f"the loyalty.report package is not there yet: {error}")
    report = tmp_path / "report.html"
    ran = cli("simulate", COSMETICS, orders, "--report", report, "--workers", "1")
    assert ran.code == 0, ran.stderr
    assert f"report: {report}" in ran.stdout
    assert "<html" in report.read_text(encoding="utf-8").lower()


def test_a_history_with_no_valid_step_exits_1_saying_so(tmp_path: Path) -> None:
    junk = tmp_path / "junk.jsonl"
    junk.write_bytes(b"not json\n\x00\x01\n" + b'{"type": "order_completed"}\n')
    out = tmp_path / "figures.json"
    ran = cli("simulate", COSMETICS, junk, "--workers", "1", "--json", out)
    assert ran.code == 1
    assert f"{junk}: no valid step to simulate (3 line(s) that are not steps" in ran.stderr
    assert not out.exists()


def test_steps_a_variant_refuses_are_told_on_the_console(tmp_path: Path) -> None:
    """A history in euros under a program in dollars: every order is refused, and the
    console says so rather than showing zeros with no reason."""
    steps = history(3, seed=5, months=1, delays=0)
    euros = [
        {**step, "cart": {**step["cart"], "currency": "EUR"}} if "cart" in step else step
        for step in steps
    ]
    orders = sum(1 for step in steps if step["type"] == "order_completed")
    assert orders
    path = write(tmp_path / "euros.jsonl", euros)
    ran = cli("simulate", COSMETICS, path, "--workers", "1")
    assert ran.code == 0
    note = next(line for line in ran.stdout.splitlines() if line.startswith("note: A refused"))
    assert f"note: A refused {orders:,} steps: " in note


def test_more_workers_than_cores_run_on_as_many_processes_as_cores(
    orders: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``workers=16`` on a machine of fewer cores: 16 parts, at most a process a core,
    and the same document."""
    import loyalty.simulation.run as run_module

    sizes: list[int] = []
    pool = run_module.ProcessPoolExecutor

    def recording(max_workers: int, **options: Any) -> Any:
        sizes.append(max_workers)
        return pool(max_workers=max_workers, **options)

    monkeypatch.setattr(run_module, "ProcessPoolExecutor", recording)
    program = load_program(COSMETICS)
    many = simulate([program], orders, workers=16)
    assert sizes == [min(16, run_module.usable_cores())]
    assert many.to_json() == simulate([program], orders).to_json()
