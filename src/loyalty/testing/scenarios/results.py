"""What running a scenario found: each step passed, failed or not run, and why."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["Mismatch", "ScenarioResult", "Status", "StepResult"]


class Status(StrEnum):
    """How a step ended."""

    PASSED = "passed"
    """It ran, and every expectation held."""
    FAILED = "failed"
    """It raised where it should not (or did not raise where it should), or an
    expectation did not hold: the mismatches say which."""
    SKIPPED = "not run"
    """After a failing step: the steps that follow depend on it, so they do not run."""


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One expectation that does not hold (or a step that failed or did not fail):
    ``what`` was checked, the ``expected`` and ``actual`` values as text, the
    ``line`` it is written on, and the engine's own ``explanation``."""

    what: str
    expected: str
    actual: str
    line: int | None = None
    explanation: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Its fields as JSON-ready values (as ``loyalty test --json`` prints them)."""
        return {
            "what": self.what,
            "expected": self.expected,
            "actual": self.actual,
            "line": self.line,
            "explanation": self.explanation,
        }


@dataclass(frozen=True, slots=True)
class StepResult:
    """One step: its number (from 1), kind, line, the clock it ran at, and its status."""

    number: int
    kind: str
    line: int | None
    status: Status
    at: str | None = None
    mismatches: tuple[Mismatch, ...] = ()

    @property
    def passed(self) -> bool:
        """Did the step run with every expectation met?"""
        return self.status is Status.PASSED

    def to_dict(self) -> dict[str, Any]:
        """Its fields as JSON-ready values, with its mismatches."""
        return {
            "number": self.number,
            "kind": self.kind,
            "line": self.line,
            "status": str(self.status),
            "at": self.at,
            "mismatches": [mismatch.to_dict() for mismatch in self.mismatches],
        }


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """A scenario's run: its name, file and line, and every step's result."""

    name: str
    file: str
    line: int | None
    steps: tuple[StepResult, ...] = field(default=())

    @property
    def passed(self) -> bool:
        """Did no step fail (a skipped step does not fail the scenario)?"""
        return all(step.status is not Status.FAILED for step in self.steps)

    @property
    def failed_step(self) -> StepResult | None:
        """The step that failed, if one did (the steps after it did not run)."""
        return next((step for step in self.steps if step.status is Status.FAILED), None)

    def to_dict(self) -> dict[str, Any]:
        """Its fields as JSON-ready values, with every step's."""
        return {
            "name": self.name,
            "file": self.file,
            "line": self.line,
            "passed": self.passed,
            "steps": [step.to_dict() for step in self.steps],
        }

    def report(self) -> str:
        """The failure in words: where, expected against actual, and why (empty if it passed)."""
        step = self.failed_step
        if step is None:
            return ""
        where = f"{self.file}:{step.line}" if step.line is not None else self.file
        lines = [
            f"scenario {self.name!r} failed at step {step.number} ({step.kind}) {where}"
            + (f", at {step.at}" if step.at else "")
        ]
        told: set[str] = set()
        for mismatch in sorted(step.mismatches, key=lambda found: found.line or 0):
            line = f"{self.file}:{mismatch.line}" if mismatch.line is not None else where
            lines.append(f"  {line}: {mismatch.what}")
            lines.append(f"    expected: {mismatch.expected}")
            lines.append(f"    actual:   {mismatch.actual}")
            why = mismatch.explanation
            if why and why in told:
                lines.append("    why: as above")
            elif why:
                told.add(why)
                lines.append("    why:")
                lines.extend(f"      {text}" for text in why.splitlines())
        return "\n".join(lines)
