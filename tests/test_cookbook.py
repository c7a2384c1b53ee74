"""The cookbook (docs/cookbook/) shows only code that runs in the tests.

A page may hold two kinds of code block, and nothing else:

* snippet includes (``--8<-- "path"`` or ``--8<-- "path:section"``) of files these tests
  run: an example script (run here, its output compared with the page's output file),
  a program file (loaded here), a scenario file (run here, every scenario passing), or
  an output file (compared here with what its example or commands print);
* ``console`` or ``bash`` blocks of ``loyalty`` commands, which these tests run in
  order, in a scratch folder that sees ``examples/``.

Coupon codes and referral ids are drawn at random, so before comparing, each one is
named by its order of first appearance: ``[code 1]``, ``[referral 1]``.

``LOYALTY_UPDATE_COOKBOOK=1`` rewrites the output files from what the examples print
(the tests that wrote one are skipped, never passed).
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from loyalty import load_program
from loyalty.testing.scenarios import run_file

ROOT = Path(__file__).resolve().parents[1]
COOKBOOK = ROOT / "docs" / "cookbook"
OUTPUT = "docs/cookbook/output"

STORIES: dict[str, str] = {
    # page -> the example script it tells; its output is docs/cookbook/output/<page>.txt
    "hurdles": "examples/checkout.py",
    "layered-incentives": "examples/club_welcome.py",
    "apology": "examples/late_apology.py",
    "tiers": "examples/tiers.py",
    "flash-sale": "examples/flash_sale.py",
    "monthly-gift": "examples/monthly_gift.py",
    "festival-cashback": "examples/festival_cashback.py",
    "segment-threshold": "examples/segment_threshold.py",
    "peak-days": "examples/peak_day.py",
    "test-and-learn": "examples/test_and_learn.py",
}
COMMAND_OUTPUTS: dict[str, str] = {
    # page -> the file holding what the commands of a console block print, each command's
    # stdout then stderr; the page shows it in the block right after that console block
    "test-and-learn": f"{OUTPUT}/test-and-learn-commands.txt",
}
PAGES_WITHOUT_A_STORY = {"index"}

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*)$")
SNIPPET = re.compile(r'^[ \t]*--8<--[ \t]+"(?P<target>[^"]+)"[ \t]*$')
SECTION = re.compile(r"^(?P<path>[^:]+)(?::(?P<section>[a-z][-_0-9a-z]*))?$")
SHELL = {"console", "bash", "sh", "shell"}
CODE = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}\b")
REFERRAL = re.compile(r"(?<='referral': ')[0-9a-f]{16}(?=')")


@dataclass
class Block:
    """A fenced block of a page: where it starts, its info string and its lines."""

    page: str
    line: int
    info: str
    lines: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line} (```{self.info})"


@dataclass
class Page:
    """What a page holds: its blocks, the files it includes, its commands, and every
    way it breaks the rule (each naming the page, the line and the block)."""

    name: str
    blocks: list[Block] = field(default_factory=list)
    includes: list[tuple[str, str | None]] = field(default_factory=list)
    shells: list[tuple[Block, list[str]]] = field(default_factory=list)
    """Each console block and its commands, in page order."""
    shown_after: dict[int, str] = field(default_factory=dict)
    """A console block's line -> the commands' output file the next block includes."""
    problems: list[str] = field(default_factory=list)

    @property
    def commands(self) -> list[str]:
        return [command for _, commands in self.shells for command in commands]


def blocks_of(text: str, page: str) -> tuple[list[Block], list[tuple[int, str]]]:
    """The fenced blocks of ``text``, and the lines outside them (numbered from 1)."""
    blocks: list[Block] = []
    outside: list[tuple[int, str]] = []
    current: Block | None = None
    closing = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if current is None:
            opened = FENCE.match(line)
            if opened:
                closing = opened["fence"]
                current = Block(page, number, opened["info"].strip().split(" ")[0])
            else:
                outside.append((number, line))
        elif line.strip().startswith(closing) and not line.strip().strip(closing[0]):
            blocks.append(current)
            current = None
        else:
            current.lines.append(line)
    if current is not None:
        blocks.append(current)  # an unclosed fence: still a block, still checked
    return blocks, outside


def runs(path: str) -> str | None:
    """Which test runs the file at ``path`` (relative to the root), or None."""
    if path in STORIES.values():
        return "its output is compared"
    if path in {f"{OUTPUT}/{page}.txt" for page in STORIES} | set(COMMAND_OUTPUTS.values()):
        return "compared with what it shows"
    if re.fullmatch(r"examples/(programs|simulation)/[-\w]+\.(yaml|yml|toml|json)", path):
        return "loaded"
    if re.fullmatch(r"examples/scenarios/[-\w]+\.loyalty\.yaml", path):
        return "run"
    return None


def check_include(page: Page, block: Block, target: str) -> None:
    parsed = SECTION.match(target)
    if parsed is None:
        page.problems.append(
            f"{block.where}: includes {target!r}: a whole file or a named section only "
            "(line numbers drift)"
        )
        return
    path, section = parsed["path"], parsed["section"]
    if not (ROOT / path).is_file():
        page.problems.append(f"{block.where}: includes {path}, which does not exist")
        return
    if runs(path) is None:
        page.problems.append(f"{block.where}: includes {path}, which no test here runs")
        return
    if section is not None:
        text = (ROOT / path).read_text(encoding="utf-8")
        for edge in ("start", "end"):
            if f"--8<-- [{edge}:{section}]" not in text:
                page.problems.append(
                    f"{block.where}: includes section {section!r} of {path}, "
                    f"which has no '--8<-- [{edge}:{section}]' marker"
                )
    page.includes.append((path, section))


def check_shell(page: Page, block: Block) -> None:
    commands: list[str] = []
    page.shells.append((block, commands))
    command = ""
    for offset, raw in enumerate(block.lines, start=1):
        line = raw.strip()
        if not line and not command:
            continue
        if not command:
            if block.info == "console":
                if not line.startswith("$ "):
                    page.problems.append(
                        f"{block.where}, line {block.line + offset}: {line!r} is output "
                        f"written in the page; include it from {OUTPUT}/ instead"
                    )
                    continue
                line = line[2:]
            if not line.startswith("loyalty "):
                page.problems.append(
                    f"{block.where}, line {block.line + offset}: {line!r} is not a "
                    "`loyalty` command (the only commands these tests run)"
                )
                continue
        command += line.removesuffix("\\").strip() + " "
        if not line.endswith("\\"):
            commands.append(command.strip())
            command = ""
    if command:
        page.problems.append(f"{block.where}: the command {command.strip()!r} does not end")


def read_page(path: Path) -> Page:
    """Check one page against the rule of this module."""
    name = f"docs/cookbook/{path.name}"
    page = Page(name)
    page.blocks, outside = blocks_of(path.read_text(encoding="utf-8"), name)
    for number, line in outside:
        if "8<" in line:
            page.problems.append(f"{name}:{number}: a snippet outside a code block: {line!r}")
        if re.search(r"<(pre|code)\b", line):
            page.problems.append(f"{name}:{number}: HTML code written in the page: {line!r}")
        if line.startswith(("    ", "\t")) and line.strip() and not _nested(outside, number):
            page.problems.append(f"{name}:{number}: an indented code block: {line!r}")
    for number, block in enumerate(page.blocks):
        body = [line for line in block.lines if line.strip()]
        if block.info in SHELL:
            check_shell(page, block)
            after = page.blocks[number + 1].lines if number + 1 < len(page.blocks) else []
            shown = [SNIPPET.match(line) for line in after if line.strip()]
            if len(shown) == 1 and shown[0] and shown[0]["target"] in COMMAND_OUTPUTS.values():
                page.shown_after[block.line] = shown[0]["target"]
        elif not body:
            page.problems.append(f"{block.where}: an empty block")
        else:
            for line in body:
                snippet = SNIPPET.match(line)
                if snippet is None:
                    page.problems.append(
                        f"{block.where}: code written in the page ({line.strip()!r}); "
                        "include a file the tests run instead"
                    )
                    break
                check_include(page, block, snippet["target"])
    return page


def _nested(outside: list[tuple[int, str]], number: int) -> bool:
    """Whether an indented line continues a list item, an admonition, a tab or a
    definition (Markdown then is not a code block)."""
    lines = dict(outside)
    for previous in range(number - 1, 0, -1):
        line = lines.get(previous)
        if line is None or not line.strip() or line.startswith((" ", "\t")):
            continue
        return bool(re.match(r"(\d+\.|[-*+]|!!!|\?\?\?|===|:)\s", line))
    return False


def pages() -> list[Path]:
    return sorted(COOKBOOK.glob("*.md"))


def included(kind: str) -> list[str]:
    """Every file of ``kind`` ("loaded", "run") that some page includes."""
    found = {path for page in map(read_page, pages()) for path, _ in page.includes}
    return sorted(path for path in found if runs(path) == kind)


def masked(text: str) -> str:
    """``text`` with each random code and referral id named by its first appearance."""
    for kind, pattern in (("code", CODE), ("referral", REFERRAL)):
        names: dict[str, str] = {}

        def name(match: re.Match[str], kind: str = kind, names: dict[str, str] = names) -> str:
            if match.group() not in names:
                names[match.group()] = f"[{kind} {len(names) + 1}]"
            return names[match.group()]

        text = pattern.sub(name, text)
    return text


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "100"}


def compare(expected_file: str, actual: str, what: str) -> None:
    path = ROOT / expected_file
    if os.environ.get("LOYALTY_UPDATE_COOKBOOK") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        pytest.skip(f"wrote {expected_file}")
    assert path.is_file(), f"{expected_file} is missing ({what})"
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                expected_file,
                what,
            )
        )
        pytest.fail(f"{expected_file} is not what {what} prints now:\n{diff}")


# ---------------------------------------------------------------------- the pages


def test_every_story_has_its_page_and_every_page_its_story() -> None:
    names = {path.stem for path in pages()}
    assert names - PAGES_WITHOUT_A_STORY == set(STORIES)
    assert names >= PAGES_WITHOUT_A_STORY


@pytest.mark.parametrize("path", pages(), ids=lambda path: path.name)
def test_a_page_holds_only_code_the_tests_run(path: Path) -> None:
    problems = read_page(path).problems
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("story", sorted(STORIES))
def test_a_story_page_shows_its_program_script_scenarios_and_output(story: str) -> None:
    page = read_page(COOKBOOK / f"{story}.md")
    paths = {path for path, _ in page.includes}
    assert any(runs(path) == "loaded" for path in paths), f"{page.name} shows no program file"
    assert STORIES[story] in paths, f"{page.name} does not include {STORIES[story]}"
    assert f"{OUTPUT}/{story}.txt" in paths, f"{page.name} does not show {OUTPUT}/{story}.txt"
    if story in COMMAND_OUTPUTS:
        assert COMMAND_OUTPUTS[story] in page.shown_after.values(), (
            f"{page.name} does not show {COMMAND_OUTPUTS[story]} right after its commands"
        )


def test_the_check_names_the_page_and_the_block(tmp_path: Path) -> None:
    bad = tmp_path / "bad.md"
    bad.write_text(
        "# A page\n\n"
        "```python\nprint('hello')\n```\n\n"
        '```yaml\n--8<-- "examples/nowhere.yaml"\n```\n\n'
        '```text\n--8<-- "README.md"\n```\n\n'
        '```python\n--8<-- "examples/peak_day.py:nowhere"\n```\n\n'
        "```console\n$ rm -rf build\n$ loyalty validate x.yaml\nx.yaml: ok\n```\n\n"
        '--8<-- "examples/peak_day.py"\n\n'
        "Some text.\n\n    indented = code\n",
        encoding="utf-8",
    )
    page = read_page(bad)
    assert page.problems == [
        "docs/cookbook/bad.md:25: a snippet outside a code block: "
        "'--8<-- \"examples/peak_day.py\"'",
        "docs/cookbook/bad.md:29: an indented code block: '    indented = code'",
        "docs/cookbook/bad.md:3 (```python): code written in the page (\"print('hello')\"); "
        "include a file the tests run instead",
        "docs/cookbook/bad.md:7 (```yaml): includes examples/nowhere.yaml, which does not exist",
        "docs/cookbook/bad.md:11 (```text): includes README.md, which no test here runs",
        "docs/cookbook/bad.md:15 (```python): includes section 'nowhere' of "
        "examples/peak_day.py, which has no '--8<-- [start:nowhere]' marker",
        "docs/cookbook/bad.md:15 (```python): includes section 'nowhere' of "
        "examples/peak_day.py, which has no '--8<-- [end:nowhere]' marker",
        "docs/cookbook/bad.md:19 (```console), line 20: 'rm -rf build' is not a `loyalty` "
        "command (the only commands these tests run)",
        "docs/cookbook/bad.md:19 (```console), line 22: 'x.yaml: ok' is output written in "
        "the page; include it from docs/cookbook/output/ instead",
    ]
    assert page.commands == ["loyalty validate x.yaml"]


def test_a_list_item_continued_is_not_a_code_block(tmp_path: Path) -> None:
    fine = tmp_path / "fine.md"
    fine.write_text("- a knob\n    that wraps\n\n!!! note\n    Indented text.\n", encoding="utf-8")
    assert read_page(fine).problems == []


def test_masking_names_codes_by_first_appearance() -> None:
    text = "code AB12-CD34-EF56, then GH78-JK90-MN12, again AB12-CD34-EF56; SERUM-50ML\n"
    assert masked(text) == "code [code 1], then [code 2], again [code 1]; SERUM-50ML\n"
    assert masked("{'referral': '427c5b6b931a9baa'}") == "{'referral': '[referral 1]'}"


# ------------------------------------------------------- what the pages include runs


@pytest.mark.parametrize("story", sorted(STORIES))
def test_the_example_prints_what_its_page_shows(story: str) -> None:
    script = STORIES[story]
    done = subprocess.run(
        [sys.executable, str(ROOT / script)],
        capture_output=True,
        text=True,
        env=environment(),
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert not done.stderr, done.stderr
    compare(f"{OUTPUT}/{story}.txt", masked(done.stdout), f"{script} (docs/cookbook/{story}.md)")


@pytest.mark.parametrize("program", included("loaded"))
def test_an_included_program_loads(program: str) -> None:
    assert load_program(ROOT / program).id


@pytest.mark.parametrize("scenarios", included("run"))
def test_an_included_scenario_file_passes(scenarios: str) -> None:
    results = run_file(ROOT / scenarios)
    assert results, f"{scenarios} holds no scenario"
    failed = [result.report() for result in results if not result.passed]
    assert not failed, "\n".join(failed)


@pytest.mark.parametrize(
    "path", [path for path in pages() if read_page(path).commands], ids=lambda path: path.name
)
def test_the_commands_of_a_page_run(path: Path, tmp_path: Path) -> None:
    """Each command runs in order in one scratch folder that sees examples/; each must
    succeed, and a page that shows their output shows exactly it."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    page = read_page(path)
    for block, commands in page.shells:
        printed = []
        for command in commands:
            program, *arguments = shlex.split(command)
            assert program == "loyalty", command
            done = subprocess.run(
                [sys.executable, "-m", "loyalty", *arguments],
                capture_output=True,
                text=True,
                env=environment(),
                cwd=tmp_path,
                check=False,
            )
            assert done.returncode == 0, (
                f"{block.where}: `{command}` failed:\n{done.stdout}{done.stderr}"
            )
            printed.append(done.stdout + done.stderr)
        if block.line in page.shown_after:
            shown = page.shown_after[block.line]
            compare(shown, "".join(printed), f"the commands of {block.where}")
