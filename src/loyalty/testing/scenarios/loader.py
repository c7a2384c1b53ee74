"""Loading a scenario file: its YAML, its format, its programs, and the names it uses.

:func:`load_file` refuses a file with mistakes before anything runs, listing every
problem with its file, line and path (:class:`ScenarioError`): YAML that cannot be
read, an unknown step or key, a wrong value, a cart the engine would refuse, a
program that does not load, and a reward, offer, incentive, tier, rule, bonus
action, notification kind or error type the program (or the package) does not have.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from loyalty.boundary import problems_from
from loyalty.dates import instant_fault
from loyalty.errors import ConfigurationError, LoyaltyError
from loyalty.program.loader import load_program
from loyalty.program.model import Program
from loyalty.testing.scenarios.compare import local_instant
from loyalty.testing.scenarios.model import (
    DEFAULT_MEMBER,
    ScenarioFileSpec,
    ScenarioSpec,
    StepSpec,
)
from loyalty.testing.scenarios.names import NameChecks, error_type, full_cart
from loyalty.testing.scenarios.source import Located, Source, SourceError, read_source

__all__ = [
    "Scenario",
    "ScenarioError",
    "ScenarioFile",
    "Step",
    "error_type",
    "full_cart",
    "load_file",
]

MAX_FILE_BYTES = 10_000_000


class ScenarioError(LoyaltyError):
    """A scenario file that cannot run: every problem, each with file, line and path."""

    def __init__(self, problems: Sequence[Located]) -> None:
        self.problems = tuple(problems)
        shown = "\n".join(f"  {problem}" for problem in self.problems[:30])
        more = f"\n  ... and {len(self.problems) - 30} more" if len(self.problems) > 30 else ""
        count = len(self.problems)
        super().__init__(f"invalid scenario file ({count} problem(s)):\n{shown}{more}")


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a scenario, where it is written, and the program it runs against
    (a ``program`` step's new version)."""

    spec: StepSpec
    number: int
    """From 1, in its scenario."""
    path: str
    line: int | None
    program: Program


@dataclass(frozen=True, slots=True)
class Scenario:
    """A scenario ready to run: its ``name`` and where it is written, the program it
    runs, the member it follows, its ``start`` and its checked ``steps``."""

    name: str
    file: str
    line: int | None
    program: Program
    member: str
    start: Any
    """The ``start`` as written (a date or a date and time; see :data:`model.When`)."""
    steps: tuple[Step, ...]
    source: Source

    @property
    def where(self) -> str:
        """``file:line`` of the scenario."""
        return f"{self.file}:{self.line}" if self.line is not None else self.file


@dataclass(frozen=True, slots=True)
class ScenarioFile:
    """A scenario file, checked: its scenarios, ready to run."""
    path: str
    scenarios: tuple[Scenario, ...]


def load_file(path: str | Path, program: Program | None = None) -> ScenarioFile:
    """Read and check the scenario file at ``path``; with ``program``, every scenario
    starts with it instead of the one the file names. Raises :class:`ScenarioError`."""
    file = str(path)
    try:
        raw = Path(path).read_bytes()
        if len(raw) > MAX_FILE_BYTES:
            raise ScenarioError([Located(file, None, "", f"is larger than {MAX_FILE_BYTES} bytes")])
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        problem = Located(file, None, "", f"is not UTF-8 (byte {error.start})")
        raise ScenarioError([problem]) from None
    except OSError as error:
        problem = Located(file, None, "", f"cannot be read: {error.strerror or error}")
        raise ScenarioError([problem]) from None
    return load_text(text, file, program, base=Path(path).parent)


def load_text(
    text: str, file: str, program: Program | None = None, *, base: Path | None = None
) -> ScenarioFile:
    """A scenario file's ``text``, named ``file``; program paths are relative to ``base``."""
    try:
        source = read_source(text, file)
    except SourceError as error:
        raise ScenarioError([error.problem]) from None
    if not isinstance(source.data, Mapping):
        message = "a scenario file is a mapping (program, scenarios)"
        raise ScenarioError([source.locate("", message)])
    try:
        spec = ScenarioFileSpec.model_validate(source.data)
    except ValidationError as error:
        found = problems_from(error, source.data, ScenarioFileSpec)
        problems = [source.locate(p.path, p.message) for p in found]
        checker = _Checker(source, base if base is not None else Path("."))
        checker.valid_steps(source.data, program)  # the names in the steps that are well formed
        ordered = sorted([*problems, *checker.problems], key=lambda p: p.line or 0)
        raise ScenarioError(ordered) from None
    checker = _Checker(source, base if base is not None else Path("."))
    scenarios = tuple(
        checker.scenario(spec, scenario, index, program)
        for index, scenario in enumerate(spec.scenarios)
    )
    if checker.problems:
        raise ScenarioError(sorted(checker.problems, key=lambda p: p.line or 0))
    return ScenarioFile(file, scenarios)

def _first_enrolled(steps: Sequence[Any]) -> str:
    """The default member of a scenario for which neither it nor its file gives
    ``member``: the member of its first enrol step that names one (``enrol: ana``),
    else ``member``."""
    for step in steps:
        if isinstance(step, Mapping) and "enrol" in step:
            named = step.get("member")
            if named is None and isinstance(step.get("enrol"), str):
                named = step["enrol"]
            return str(named) if isinstance(named, str) and named else DEFAULT_MEMBER
    return DEFAULT_MEMBER


class _Checker(NameChecks):
    """Resolves the programs and checks every name against the program in force."""

    def __init__(self, source: Source, base: Path) -> None:
        super().__init__(source)
        self.base = base
        self.programs: dict[str, Program | None] = {}

    def program(self, ref: str | dict[str, Any], path: str) -> Program | None:
        if isinstance(ref, str):
            file = (self.base / ref).resolve()
            if str(file) not in self.programs:
                try:
                    self.programs[str(file)] = load_program(file)
                except ConfigurationError as error:
                    self.programs[str(file)] = None
                    for found in error.problems:
                        said = str(found) if found.path else found.message
                        self.problem(path, f"the program {ref}: {said}")
            return self.programs[str(file)]
        try:
            return load_program(ref)
        except ConfigurationError as error:
            for found in error.problems:
                inner = f"{path}.{found.path}" if found.path else path
                self.problem(inner, found.message)
            return None

    def valid_steps(self, data: Mapping[str, Any], given: Program | None) -> None:
        """Check the names in each step that is well formed, in a file that is not: a
        file's mistakes are reported all at once."""
        scenarios = data.get("scenarios")
        for index, scenario in enumerate(scenarios if isinstance(scenarios, list) else []):
            if not isinstance(scenario, Mapping) or not isinstance(scenario.get("steps"), list):
                continue
            ref = scenario.get("program") or data.get("program")
            program = given
            if program is None and isinstance(ref, str | Mapping):
                where = f"scenarios[{index}].program" if scenario.get("program") else "program"
                program = self.program(ref if isinstance(ref, str) else dict(ref), where)
            member = scenario.get("member") or data.get("member") or _first_enrolled(
                scenario["steps"]
            )
            enrolled: set[str] = set()
            for number, raw in enumerate(scenario["steps"]):
                try:
                    step = StepSpec.model_validate(raw)
                except ValidationError:
                    continue  # said already
                if step.program is not None or program is None:
                    break  # the names after a new version are that version's
                where = f"scenarios[{index}].steps[{number}]"
                self.step(step, where, program, str(member), enrolled)

    def scenario(
        self, file: ScenarioFileSpec, spec: ScenarioSpec, index: int, given: Program | None
    ) -> Scenario:
        here = f"scenarios[{index}]"
        program = given
        if program is None:
            ref, at = (spec.program, f"{here}.program") if spec.program else (file.program,
                                                                                "program")
            if ref is None:
                self.problem(here, "no program: give 'program' (a path or the program inline)")
            else:
                program = self.program(ref, at)
        member = spec.member or (file.member if "member" in file.model_fields_set else None)
        if member is None:
            enrols = (step.member for step in spec.steps if step.kind == "enrol")
            member = next(enrols, None) or DEFAULT_MEMBER
        start, at = (spec.start, f"{here}.start") if spec.start is not None else (file.start,
                                                                                  "start")
        if program is not None:
            self.time(start, at, program)
        steps = []
        current = program
        enrolled: set[str] = set()
        for number, step in enumerate(spec.steps, start=1):
            path = f"{here}.steps[{number - 1}]"
            if step.program is not None:
                current = self._change(step.program, f"{path}.program", program, current)
            if current is not None:
                self.step(step, path, current, member, enrolled)
                self.times(step, path, current)
                steps.append(Step(step, number, path, self.source.line(path), current))
        return Scenario(
            spec.name,
            self.source.file,
            self.source.line(here),
            program,  # type: ignore[arg-type]  # a None program leaves a problem: nothing runs
            member,
            start,
            tuple(steps),
            self.source,
        )

    def times(self, step: StepSpec, path: str, program: Program) -> None:
        """The times a step names, each within the instants the engine takes."""
        if step.at is not None:
            self.time(step.at, f"{path}.at", program)
        if isinstance(step.wait, date):
            self.time(step.wait, f"{path}.wait", program)
        if step.advance is not None and isinstance(step.advance.to, date):
            self.time(step.advance.to, f"{path}.advance", program)

    def time(self, value: date | datetime, path: str, program: Program) -> None:
        """A time of the file that lies outside the instants events take is a mistake
        (said once, if the file's ``start`` serves several scenarios)."""
        try:
            fault = instant_fault(local_instant(value, program.tz))
        except (OverflowError, ValueError):  # pragma: no cover - instant_fault catches these
            fault = "lies outside the instants taken"
        written = value.isoformat()
        if isinstance(value, datetime) and not (value.second or value.microsecond):
            written = value.isoformat(timespec="minutes")
        located = self.source.locate(path, f"{written} {fault}")
        if fault is not None and located not in self.problems:
            self.problems.append(located)

    def _change(
        self,
        ref: str | dict[str, Any],
        path: str,
        first: Program | None,
        current: Program | None,
    ) -> Program | None:
        changed = self.program(ref, path)
        if changed is not None and first is not None and changed.id != first.id:
            self.problem(
                path,
                f"is program {changed.id!r}, not {first.id!r}: a new version keeps its id",
            )
            return current
        return changed if changed is not None else current
