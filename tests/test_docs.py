"""The code in the README runs, the docstring examples hold, and the page excerpts are
the files they name. (The pages' doctests run in tests/test_page_examples.py.)"""

import doctest
import re
from pathlib import Path

import pytest

import loyalty.dates
import loyalty.jsontext
import loyalty.money
from loyalty.earning import rounding

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    assert blocks, "the README has a Python example"
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})


@pytest.mark.parametrize("page", ["testing.md", "cli.md"])
def test_the_page_excerpts_are_the_files_they_name(page: str) -> None:
    """A YAML or JSON block whose first line names a file of the project
    (``# examples/...``) is a verbatim excerpt of it: the page cannot drift from a file
    the tests run."""
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    blocks = re.findall(r"```(?:yaml|json)\n# ((?:examples|docs)/\S+)\n(.*?)```", text, re.DOTALL)
    for name, excerpt in blocks:
        assert excerpt.strip() in (ROOT / name).read_text(encoding="utf-8"), name
    if page == "testing.md":
        assert blocks, "the page shows a scenario file"


@pytest.mark.parametrize(
    "module", [loyalty.money, loyalty.dates, loyalty.jsontext, rounding], ids=lambda m: m.__name__
)
def test_docstring_examples(module: object) -> None:
    failures, tried = doctest.testmod(module, raise_on_error=False)  # type: ignore[arg-type]
    assert tried > 0
    assert failures == 0
