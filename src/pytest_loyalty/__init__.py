"""The pytest plugin: scenario files (``*.loyalty.yaml``) are tests, with no glue code.

Installed with the package (the ``pytest11`` entry point ``loyalty``), it collects
every ``*.loyalty.yaml`` file pytest walks past: one test per scenario, named after
it (``pytest -k "partial refund"`` picks one). A failing step reports like a failing
assertion: the file and line of the step, expected against actual, and the
engine's explanation. A file with mistakes is a collection error listing each with
its file, line and path. Turn the plugin off with ``-p no:loyalty``.

It lives outside the ``loyalty`` package and imports nothing of it until it meets a
scenario file: importing ``loyalty`` takes about half a second, which a test suite
without scenario files (any suite in an environment where ``loyalty`` is installed)
should not pay.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from loyalty.testing.scenarios import Scenario, ScenarioResult

__all__ = ["ScenarioFailed", "ScenarioFileCollector", "ScenarioItem", "pytest_collect_file"]

SUFFIX = ".loyalty.yaml"


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """A ``*.loyalty.yaml`` file is a collector of its scenarios."""
    if file_path.name.endswith(SUFFIX):
        collector: ScenarioFileCollector = ScenarioFileCollector.from_parent(
            parent, path=file_path
        )
        return collector
    return None


class ScenarioFailed(AssertionError):
    """A scenario's step failed; :attr:`result` says where and why."""

    def __init__(self, result: ScenarioResult) -> None:
        super().__init__(result.report())
        self.result = result


class ScenarioFileCollector(pytest.File):
    """One scenario file: checked when collected, one item per scenario."""

    def collect(self) -> Iterator[ScenarioItem]:
        from loyalty.testing.scenarios import ScenarioError, load_file

        try:
            loaded = load_file(self.path)
        except ScenarioError as error:
            raise self.CollectError(str(error)) from None
        seen: dict[str, int] = {}
        for scenario in loaded.scenarios:
            count = seen[scenario.name] = seen.get(scenario.name, 0) + 1
            name = scenario.name if count == 1 else f"{scenario.name} ({count})"
            item: ScenarioItem = ScenarioItem.from_parent(self, name=name, scenario=scenario)
            yield item


class ScenarioItem(pytest.Item):
    """One scenario, run on a fresh in-memory store."""

    def __init__(self, *, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario

    def runtest(self) -> None:
        from loyalty.testing.scenarios import run_scenario

        result = run_scenario(self.scenario)
        if not result.passed:
            raise ScenarioFailed(result)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> Any:
        """A failing step as its report; anything else (a bug) as pytest shows it."""
        if isinstance(excinfo.value, ScenarioFailed):
            return excinfo.value.result.report()
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        line = self.scenario.line - 1 if self.scenario.line is not None else None
        return self.path, line, f"scenario: {self.scenario.name}"
