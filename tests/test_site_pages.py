"""The site's errors and operations pages hold: the errors page names every error the
library defines, where it sits in the tree, and only attributes its instances have; the
operations page shows only real commands. (The pages' doctests run in
tests/test_page_examples.py.)"""

from __future__ import annotations

import inspect
import re
import shlex
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import loyalty.errors
import loyalty.report
from loyalty.errors import LoyaltyError, Problem
from loyalty.hurdles import Check
from loyalty.testing.scenarios.loader import ScenarioError
from tests.cli_support import cli

ROOT = Path(__file__).resolve().parents[1]
ERRORS_PAGE = ROOT / "docs" / "errors.md"


# ------------------------------------------------------------------ the errors page


def defined_errors() -> dict[str, type[LoyaltyError]]:
    """Every LoyaltyError defined in loyalty.errors and loyalty.report (and the scenario
    loader's, which the page lists too)."""
    found: dict[str, type[LoyaltyError]] = {}
    for module in (loyalty.errors, *_report_modules()):
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, LoyaltyError)
                and value.__module__ == module.__name__
            ):
                found[name] = value
    found["ScenarioError"] = ScenarioError
    return found


def _report_modules() -> list[ModuleType]:
    import loyalty.report.document
    import loyalty.report.svg

    return [loyalty.report, loyalty.report.document, loyalty.report.svg]


def page_tree() -> dict[str, str | None]:
    """Each error of the page's tree with its parent (None for the root)."""
    text = ERRORS_PAGE.read_text(encoding="utf-8")
    block = re.search(r"## The tree\n\n```text\n(.*?)```", text, re.DOTALL)
    assert block, "the errors page has the tree as a text block"
    return tree_of(block.group(1))


def tree_of(drawing: str) -> dict[str, str | None]:
    """Each class of a drawn tree (``├── Name``) with its parent (None for the root)."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in drawing.splitlines():
        match = re.match(r"^([│ ]*(?:├── |└── )?)([A-Z]\w+)", line)
        if match is None:
            continue  # a comment continued on the next line
        depth, name = len(match.group(1)), match.group(2)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[name] = stack[-1][1] if stack else None
        stack.append((depth, name))
    return parents


def page_rows() -> dict[str, tuple[str, str]]:
    """Per error of the tables under "What raises each error": (carries, HTTP)."""
    text = ERRORS_PAGE.read_text(encoding="utf-8")
    section = text.split("## What raises each error and what it carries", 1)[1]
    section = section.split("\n## ", 1)[0]
    rows: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        name = re.fullmatch(r"`(\w+)`", cells[0]) if len(cells) == 4 else None
        if name:
            assert name.group(1) not in rows, f"{name.group(1)} has two rows"
            rows[name.group(1)] = (cells[2], cells[3])
    return rows


def test_the_tree_is_the_class_hierarchy() -> None:
    errors = defined_errors()
    tree = page_tree()
    assert set(tree) == set(errors), (
        f"missing from the tree: {sorted(set(errors) - set(tree))}; "
        f"not errors: {sorted(set(tree) - set(errors))}"
    )
    for name, parent in tree.items():
        base = next((b for b in errors[name].__bases__ if issubclass(b, LoyaltyError)), None)
        assert (base.__name__ if base is not None else None) == parent, name


def test_the_errors_module_draws_its_own_hierarchy() -> None:
    """The tree in ``loyalty.errors``' docstring (what ``help(loyalty.errors)`` shows)
    lists every error the module defines, under its parent."""
    assert loyalty.errors.__doc__ is not None
    drawing = loyalty.errors.__doc__.split("::", 1)[1].split("\n\n", 2)[1]
    tree = tree_of(drawing)
    defined = {
        name: value
        for name, value in vars(loyalty.errors).items()
        if inspect.isclass(value) and issubclass(value, LoyaltyError)
    }
    assert set(tree) == set(defined), sorted(set(tree) ^ set(defined))
    for name, parent in tree.items():
        base = next((b for b in defined[name].__bases__ if issubclass(b, LoyaltyError)), None)
        assert (base.__name__ if base is not None else None) == parent, name


def test_every_error_has_a_row_with_its_status() -> None:
    rows = page_rows()
    errors = defined_errors()
    assert set(rows) == set(errors) - {"LoyaltyError"}, (
        f"without a row: {sorted(set(errors) - set(rows) - {'LoyaltyError'})}; "
        f"rows of no error: {sorted(set(rows) - set(errors))}"
    )
    statuses = status_table()
    for name, (_, status) in rows.items():
        if status == "—":
            assert all(name not in listed for listed in statuses.values()), name
            continue
        code = int(status)
        assert errors[name].http_status == code, f"{name}.http_status is not the page's {code}"
        named = statuses[code]
        # Named in its status's row, or covered there by its base (InvalidInput's subclasses).
        assert name in named or (
            code == 400 and issubclass(errors[name], loyalty.errors.InvalidInput)
        ), f"{name}: {status} is not what the status table says"
        for other, listed in statuses.items():
            if other != code:
                assert name not in listed, f"{name} is listed under {other} and {code}"


def status_table() -> dict[int, set[str]]:
    text = ERRORS_PAGE.read_text(encoding="utf-8")
    section = text.split("## HTTP statuses", 1)[1].split("\n## ", 1)[0]
    table: dict[int, set[str]] = {}
    for line in section.splitlines():
        match = re.match(r"\| (\d{3}) [^|]*\| ([^|]*)\|", line)
        if match:
            table[int(match.group(1))] = set(re.findall(r"`(\w+)`", match.group(2)))
    assert set(table) == {400, 404, 409, 422, 500, 503}
    return table


AT = datetime(2026, 3, 1, tzinfo=UTC)
PROBLEM = Problem("lines[0].quantity", "must be at least 1", 0)
FACTORIES: dict[str, Callable[[], LoyaltyError]] = {
    "ConfigurationError": lambda: loyalty.errors.ConfigurationError([PROBLEM], "club.yaml"),
    "InvalidInput": lambda: loyalty.errors.InvalidInput("key", "", "is blank"),
    "InvalidMoney": lambda: loyalty.errors.InvalidMoney("amount", 1.5, "is a float"),
    "UnknownCurrency": lambda: loyalty.errors.UnknownCurrency("currency", "XYZ", "is not ISO"),
    "UnsupportedCurrency": lambda: loyalty.errors.UnsupportedCurrency("currency", "JPY", "no"),
    "NaiveDatetime": lambda: loyalty.errors.NaiveDatetime("at", AT.replace(tzinfo=None)),
    "InvalidPoints": lambda: loyalty.errors.InvalidPoints("points", -1, "is negative"),
    "InvalidDuration": lambda: loyalty.errors.InvalidDuration("after", "soon", "is not one"),
    "UnknownReward": lambda: loyalty.errors.UnknownReward("reward_id", "x", "is unknown"),
    "UnknownAction": lambda: loyalty.errors.UnknownAction("action", "x", "is unknown"),
    "UnknownMember": lambda: loyalty.errors.UnknownMember("member_id", "m", "is not enrolled"),
    "WrongProgram": lambda: loyalty.errors.WrongProgram("program", "other", "is not this"),
    "InvalidDocument": lambda: loyalty.report.InvalidDocument.absent("variants"),
    "InvalidCart": lambda: loyalty.errors.InvalidCart([PROBLEM]),
    "InvalidEvent": lambda: loyalty.errors.InvalidEvent([PROBLEM]),
    "CurrencyMismatch": lambda: loyalty.errors.CurrencyMismatch("USD", "EUR", "amount"),
    "InsufficientPoints": lambda: loyalty.errors.InsufficientPoints("m", 100, 40),
    "IdempotencyConflict": lambda: loyalty.errors.IdempotencyConflict("m", "k", "redeem"),
    "RedemptionVoided": lambda: loyalty.errors.RedemptionVoided("m", "k", "m:5", "m:6"),
    "MemberExists": lambda: loyalty.errors.MemberExists("m"),
    "UnknownEntry": lambda: loyalty.errors.UnknownEntry("m", "m:3"),
    "ReversalExceedsEarn": lambda: loyalty.errors.ReversalExceedsEarn("m", "m:2", 50, 40),
    "UnknownOrder": lambda: loyalty.errors.UnknownOrder("m", "B-1"),
    "RefundExceedsOrder": lambda: loyalty.errors.RefundExceedsOrder("m", "B-1", 50, 40),
    "NoTiers": lambda: loyalty.errors.NoTiers("club"),
    "RedemptionRefused": lambda: loyalty.errors.RedemptionRefused(
        "m", "five-off", [Check("min_points", False, "earn 20 more points", 20)]
    ),
    "ActionLimitReached": lambda: loyalty.errors.ActionLimitReached("m", "review", 1, "month"),
    "CouponRefused": lambda: loyalty.errors.CouponRefused("m", "no coupon 'X'"),
    "CouponUsed": lambda: loyalty.errors.CouponUsed("m", "ABCD-EFGH", AT, "B-1"),
    "ReferralRefused": lambda: loyalty.errors.ReferralRefused("m", "self-referral"),
    "IncentiveRefused": lambda: loyalty.errors.IncentiveRefused("m", "apology", "budget spent"),
    "Busy": lambda: loyalty.errors.Busy("m", 10),
    "CodeSpaceExhausted": lambda: loyalty.errors.CodeSpaceExhausted(100, 8.0),
    "CorruptJournal": lambda: loyalty.errors.CorruptJournal("m", 4, "out of sequence"),
    "Unprocessed": lambda: loyalty.errors.Unprocessed("event", 3, RuntimeError("boom")),
    "ReportUnavailable": lambda: loyalty.report.ReportUnavailable("matplotlib"),
    "ScenarioError": lambda: ScenarioError([]),
}


def test_every_attribute_the_page_names_exists_on_the_error() -> None:
    rows = page_rows()
    assert set(FACTORIES) == set(rows), "a factory per error of the page"
    for name, (carries, _) in rows.items():
        error = FACTORIES[name]()
        assert type(error).__name__ == name
        # The names in backticks before any parenthesis are the error's attributes;
        # what a parenthesis says is about an attribute's items or values.
        named = re.findall(r"`(\w+)`", re.sub(r"\([^()]*(\([^()]*\)[^()]*)*\)", "", carries))
        assert named, f"{name}: the page says what it carries"
        for attribute in named:
            if attribute == "None":
                continue
            assert hasattr(error, attribute), f"{name} has no attribute {attribute!r}"


def test_the_unmet_checks_carry_what_the_page_says() -> None:
    """RedemptionRefused's row names the fields of each unmet check."""
    check = Check("min_points", False, "earn 20 more points", 20)
    refused = loyalty.errors.RedemptionRefused("m", "five-off", [check])
    for field in ("condition", "reason", "shortfall"):
        assert hasattr(refused.unmet[0], field)
    assert "`condition`, `reason` and `shortfall`" in ERRORS_PAGE.read_text(encoding="utf-8")


# ------------------------------------------------------------ the operations page


def shown_commands(page: Path) -> list[list[str]]:
    """The words of each ``loyalty ...`` command in the page's shell and plain blocks
    (a cron line or a systemd ``ExecStart`` included) and in its prose's code spans,
    from ``loyalty`` to the end of the command."""
    found: list[list[str]] = []
    language: str | None = None  # of the block the line is in; None: outside blocks
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            language = line[3:].strip() if language is None else None
            continue
        if language is None:  # prose: its `loyalty ...` code spans
            found += [shlex.split(span) for span in re.findall(r"`loyalty ([^`]+)`", line)]
            continue
        if language not in ("", "sh", "ini"):
            continue
        line = line.split("#", 1)[0].split(">>", 1)[0]
        match = re.search(r"(?:^|[\s/=])loyalty (\S.*)$", line)
        if match:
            found.append(shlex.split(match.group(1)))
    return found


def test_every_command_the_operations_page_shows_is_real() -> None:
    """Each command names a real subcommand, and each option it uses is one that
    subcommand's help lists."""
    commands = shown_commands(ROOT / "docs" / "operations.md")
    assert len(commands) >= 5
    for words in commands:
        path = [words[0], words[1]] if words[0] == "db" else [words[0]]
        ran = cli(*path, "--help")
        assert ran.code == 0, f"loyalty {' '.join(path)}: {ran.stderr}"
        for option in (word.strip("[]") for word in words if word.lstrip("[").startswith("--")):
            assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", ran.stdout), (
                f"loyalty {' '.join(path)} has no option {option}"
            )
