"""Scenario files: a program's tests as data (``*.loyalty.yaml``).

:func:`load_file` reads and checks a file (:class:`ScenarioError` lists every mistake
with its file, line and path); :func:`run_file` runs its scenarios, each giving a
:class:`ScenarioResult` whose :meth:`~ScenarioResult.report` says where and why a
step failed. The format is in ``docs/testing.md``.
"""

from loyalty.testing.scenarios.loader import Scenario, ScenarioError, ScenarioFile, load_file
from loyalty.testing.scenarios.results import Mismatch, ScenarioResult, Status, StepResult
from loyalty.testing.scenarios.runner import find_files, run_file, run_scenario, run_scenarios
from loyalty.testing.scenarios.source import Located

__all__ = [
    "Located",
    "Mismatch",
    "Scenario",
    "ScenarioError",
    "ScenarioFile",
    "ScenarioResult",
    "Status",
    "StepResult",
    "find_files",
    "load_file",
    "run_file",
    "run_scenario",
    "run_scenarios",
]
