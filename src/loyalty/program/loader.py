"""Load a program from a YAML, TOML or JSON file, or from a mapping.

Every problem is reported at once, each with its dotted path and the value
found, as one :class:`~loyalty.errors.ConfigurationError`::

    expiry.after: '13 moths' is not a duration (e.g. '30 days', '6 months', ...)
    currencyy: unknown key (did you mean 'currency'?)
"""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from loyalty.boundary import problems_from
from loyalty.errors import ConfigurationError, Problem
from loyalty.program.advice import program_advice
from loyalty.program.crosscheck import cross_problems, cross_warnings
from loyalty.program.documents import TooLarge, document_problems
from loyalty.program.files import parse_file
from loyalty.program.model import Program

__all__ = ["load_program", "parse_file", "program_warnings"]


def load_program(source: str | PathLike[str] | Mapping[str, Any]) -> Program:
    """Load and validate a program from a file path or a mapping.

    Raises :class:`~loyalty.errors.ConfigurationError` listing every problem;
    nothing else, whatever the file holds (see ``docs/configuration.md`` for the
    bounds on a file's size, depth and values).
    """
    if isinstance(source, Mapping):
        return _validate(source, origin=None)
    if not isinstance(source, str | PathLike):
        problem = Problem("", "give a file path or a mapping of keys", source)
        raise ConfigurationError([problem])
    try:
        path = Path(source)
    except TypeError:
        raise ConfigurationError([Problem("", "give a file path or a mapping of keys")]) from None
    return _validate(parse_file(path), origin=str(path))


def _validate(data: Any, origin: str | None) -> Program:
    if not isinstance(data, Mapping):
        found = "nothing" if data is None else f"a {type(data).__name__}"
        raise ConfigurationError(
            [Problem("", f"the program must be a mapping of keys, not {found}", data)], origin
        )
    try:
        shape, keys_are_text = document_problems(data)
    except TooLarge as refused:
        raise ConfigurationError([refused.problem], origin) from None
    if not keys_are_text:
        raise ConfigurationError(shape, origin)
    context = {"currency": data.get("currency")}
    try:
        program = Program.model_validate(dict(data), context=context)
    except ValidationError as error:
        shown = {problem.path for problem in shape}
        problems = shape + [p for p in problems_from(error, data, Program) if p.path not in shown]
        broken = {problem.path.split(".")[0].split("[")[0] for problem in problems}
        problems.extend(_section_problems(data, broken, context))
        raise ConfigurationError(problems, origin) from None
    if shape:
        raise ConfigurationError(shape, origin)
    problems = section_checks(program, "problems") + cross_problems(program)
    if problems:
        raise ConfigurationError(problems, origin)
    return program


def program_warnings(program: Program, previous: Program | None = None) -> list[Problem]:
    """Advice about a valid program (e.g. a tier nobody can hold), each with its path.

    With ``previous``, the version it replaces: also each tier of the previous
    ladder that this one drops or renames. Members who hold one are placed on the
    new ladder by their figures at their next scheduled run (see ``docs/tiers.md``).
    """
    found = section_checks(program, "warnings") + cross_warnings(program) + program_advice(program)
    if previous is not None:
        found.extend(_ladder_changes(program, previous))
    return found


def _ladder_changes(program: Program, previous: Program) -> list[Problem]:
    old = [tier.name for tier in previous.tiers.ladder] if previous.tiers else []
    new = [tier.name for tier in program.tiers.ladder] if program.tiers else []
    found = []
    for position, name in enumerate(old):
        if name in new:
            continue
        added = [tier for tier in new if tier not in old]
        renamed = new[position] if position < len(new) and new[position] in added else None
        what = (
            f"looks renamed to {renamed!r}, which members holding it do not become"
            if renamed
            else "is dropped"
        )
        rule = (
            "members who hold it (or have it as a floor or a scheduled downgrade) are "
            "placed on the new ladder by their figures at their next scheduled run"
            if new
            else "the new program has no tiers"
        )
        message = f"tier {name!r} of the previous version {what}; {rule}"
        found.append(Problem("tiers.ladder", message, name))
    return found


def section_checks(program: Program, check: str) -> list[Problem]:
    """Run each section's ``problems()`` or ``warnings()``, with paths from the program root."""
    found = []
    for name in Program.model_fields:
        found.extend(_prefixed(name, getattr(program, name), check))
    return found


def _section_problems(
    data: Mapping[str, Any], broken: set[str], context: dict[str, Any]
) -> list[Problem]:
    """The checks of the sections that parsed, when others did not: every problem at once."""
    found = []
    for name, field in Program.model_fields.items():
        if name in broken or name not in data or field.annotation is None:
            continue
        try:
            section = TypeAdapter(field.annotation).validate_python(data[name], context=context)
        except ValidationError:
            continue
        found.extend(_prefixed(name, section, "problems"))
    return found


def _prefixed(name: str, section: Any, check: str) -> list[Problem]:
    method = getattr(section, check, None)
    if not callable(method):
        return []
    return [
        Problem(f"{name}.{problem.path}" if problem.path else name, problem.message, problem.value)
        for problem in method()
    ]
