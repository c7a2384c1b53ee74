"""Every Python example of the documentation site runs: a page with ``>>>`` is
doctested as it stands, and no page holds a Python block that nothing runs (a block is
either a doctest or only ``--8<--`` lines that include a file the tests run)."""

from __future__ import annotations

import doctest
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
PYTHON = ("python", "pycon", "py")


def page_id(page: Path) -> str:
    return page.relative_to(DOCS).as_posix()


def python_blocks(text: str) -> list[tuple[int, list[str]]]:
    """Each fenced ``python`` or ``pycon`` block of a page: the line number of its
    opening fence and its lines."""
    blocks: list[tuple[int, list[str]]] = []
    fence: tuple[int, str, list[str]] | None = None  # line, language, lines so far
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if fence is None:
            if stripped.startswith("```"):
                fence = (number, stripped[3:].strip().split(" ")[0], [])
        elif stripped.startswith("```"):
            if fence[1] in PYTHON:
                blocks.append((fence[0], fence[2]))
            fence = None
        else:
            fence[2].append(line)
    assert fence is None, f"a block opened on line {fence[0]} is never closed"
    return blocks


def unrun_blocks(text: str) -> list[int]:
    """The line numbers of the Python blocks that are neither a doctest nor only
    ``--8<--`` include lines."""
    unrun = []
    for number, lines in python_blocks(text):
        written = [line.strip() for line in lines if line.strip()]
        doctest_ = any(line.startswith(">>>") for line in written)
        includes = bool(written) and all(line.startswith("--8<--") for line in written)
        if not (doctest_ or includes):
            unrun.append(number)
    return unrun


DOCTESTED = [page for page in PAGES if ">>>" in page.read_text(encoding="utf-8")]


def test_the_pages_with_examples_are_found() -> None:
    """The glob sees the pages: a moved docs directory cannot make the doctests
    silently run nothing."""
    assert {"cart.md", "ledger.md", "getting-started/first-program.md"} <= {
        page_id(page) for page in DOCTESTED
    }


@pytest.mark.parametrize("page", DOCTESTED, ids=page_id)
def test_the_page_examples_hold(
    page: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(ROOT)  # the pages load programs from examples/
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # what a page's mkdtemp() makes
    failures, tried = doctest.testfile(
        str(page), module_relative=False, optionflags=doctest.ELLIPSIS
    )
    assert tried > 0, f"{page_id(page)} has no example"
    assert failures == 0, f"{page_id(page)}: {failures} example(s) failed"


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_python_block_runs(page: Path) -> None:
    """A ``python`` or ``pycon`` block is a doctest (the test above runs it) or only
    includes files (``--8<-- "examples/x.py"``, which the tests run)."""
    unrun = unrun_blocks(page.read_text(encoding="utf-8"))
    assert not unrun, (
        f"{page_id(page)}: the Python block(s) opened on line(s) {unrun} run nowhere; "
        "write them as a doctest (>>>) or include a file the tests run (--8<--)"
    )


def test_an_unrun_block_is_found() -> None:
    """The checker itself: a sketch is caught, a doctest and an include are not."""
    text = (
        "# Page\n\n```python\nservice.advance(now)\n```\n\n"
        "```pycon\n>>> 1 + 1\n2\n\n```\n\n"
        '```python\n--8<-- "examples/service.py"\n```\n\n'
        "```yaml\nid: x\n```\n"
    )
    blocks = python_blocks(text)
    assert [number for number, _ in blocks] == [3, 7, 13]
    assert blocks[0][1] == ["service.advance(now)"]
    assert unrun_blocks(text) == [3]
    assert unrun_blocks("```python\n\n```\n") == [1]  # an empty block runs nothing
