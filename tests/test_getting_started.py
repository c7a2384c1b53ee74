"""The getting-started pages hold: every ``$ loyalty ...`` command they show runs, exits 0
and prints the lines shown. (Their Python runs in tests/test_page_examples.py.)"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.cli_support import cli

ROOT = Path(__file__).resolve().parents[1]
PAGES = ROOT / "docs" / "getting-started"


def shown_commands(page: Path) -> list[tuple[list[str], list[str]]]:
    """Each ``$ loyalty ...`` line of the page's console blocks, with the lines shown
    after it (up to the next command or the block's end; ``...`` elides)."""
    found: list[tuple[list[str], list[str]]] = []
    for block in re.findall(r"```console\n(.*?)```", page.read_text(encoding="utf-8"), re.DOTALL):
        for line in block.splitlines():
            if line.startswith("$ "):
                words = shlex.split(line[2:])
                assert words[0] == "loyalty", f"{page.name}: {line!r} is not a loyalty command"
                found.append((words[1:], []))
            elif found and line.strip() not in ("", "..."):
                found[-1][1].append(line)
    return found


@pytest.mark.parametrize("page", ["first-program.md", "quickstart.md"])
def test_the_commands_shown_run_and_print_what_is_shown(
    page: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COLUMNS", "200")
    commands = shown_commands(PAGES / page)
    assert commands, f"{page} shows a loyalty command"
    for args, shown in commands:
        ran = cli(*args)
        assert ran.code == 0, (args, ran.stdout, ran.stderr)
        for line in shown:
            assert line in ran.stdout, (args, line)


def test_a_mistake_in_the_program_is_reported_as_the_page_shows(tmp_path: Path) -> None:
    text = (ROOT / "examples" / "programs" / "tea-house.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "tea-house.yaml"
    broken.write_text(text.replace("metrics: [points]", "metrics: [points_earned]"), "utf-8")
    page = (PAGES / "first-program.md").read_text(encoding="utf-8")
    shown = re.search(r"```text\n(.*?)\n```", page, re.DOTALL)
    assert shown is not None
    ran = cli("validate", "--strict", broken)
    assert ran.code == 1
    expected = shown.group(1).replace("examples/programs/tea-house.yaml", str(broken))
    assert expected in ran.stdout
