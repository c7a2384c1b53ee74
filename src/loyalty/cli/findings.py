"""A program's problems as a compiler reports them: ``FILE:LINE: error: PATH: MESSAGE``.

Editors and CI annotators jump to ``FILE:LINE``. The line comes from the reader's
own message when it names one (a YAML or JSON syntax error, a key given twice, a
byte that is not UTF-8), else from the path (see :mod:`loyalty.program.locate`);
a TOML file, or a problem of the whole file, has none: ``FILE: error: MESSAGE``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from loyalty.errors import Problem
from loyalty.program.locate import Locator, file_locator, message_line

__all__ = ["Finding", "Severity", "findings"]

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem of one file, with its line when known."""

    file: str
    line: int | None
    severity: Severity
    path: str
    message: str
    value: Any = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        what = f"{self.path}: {self.message}" if self.path else self.message
        return f"{where}: {self.severity}: {what}"


def findings(
    problems: Iterable[Problem],
    file: Path,
    severity: Severity,
    locator: Locator | None = None,
) -> list[Finding]:
    """``problems`` of ``file``, each with its line, in the order of their lines (those
    without one last). ``locator``: the file's, if the caller has it already."""
    found = []
    for problem in problems:
        line = message_line(problem.message)
        if line is None and problem.path:
            if locator is None:
                locator = file_locator(file)
            line = locator.line(problem.path)
        found.append(
            Finding(str(file), line, severity, problem.path, problem.message, problem.value)
        )
    return sorted(found, key=lambda f: (f.line is None, f.line or 0))
