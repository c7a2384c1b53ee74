"""The shape of a program document, checked before its keys are validated.

Whatever it came from (a YAML, TOML or JSON file, or a mapping), a document
is refused when it is nested deeper than :data:`MAX_DEPTH` collections or has
more than :data:`MAX_NODES` values once YAML aliases are expanded; a key that
is not text, a key given twice and text holding a NUL character or a lone
surrogate are problems, each reported with its path.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from loyalty.boundary import brief
from loyalty.errors import Problem

__all__ = ["MAX_DEPTH", "MAX_NODES", "Keyed", "TooLarge", "document_problems"]

MAX_DEPTH: Final = 64
"""The deepest nesting of mappings and lists a program document may have."""
MAX_NODES: Final = 100_000
"""The most values (mappings, lists and scalars) a document may hold, aliases expanded."""
_MOST_PROBLEMS: Final = 50


class TooLarge(Exception):
    """A document too deep or too large to validate; carries its one problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class Keyed(dict[str, Any]):
    """A mapping read from a file that remembers the keys it was given twice, with lines."""

    repeated: tuple[tuple[str, int, int], ...] = ()
    """``(key, line, first line)`` of each key given again."""


def document_problems(data: Any) -> tuple[list[Problem], bool]:
    """The problems of ``data``'s shape, and whether its keys are all text (so that it can
    be validated); raises :class:`TooLarge` for a document too deep or too big."""
    found: list[Problem] = []
    keys_are_text = True
    for problem, bad_key in _walk(data):
        found.append(problem)
        keys_are_text = keys_are_text and not bad_key
        if len(found) >= _MOST_PROBLEMS:
            break
    return found, keys_are_text


def _walk(data: Any) -> Iterator[tuple[Problem, bool]]:
    stack: list[tuple[Any, str, int]] = [(data, "", 1)]
    nodes = 0
    while stack:
        value, path, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise TooLarge(
                Problem("", f"the document holds more than {MAX_NODES:,} values (aliases expanded)")
            )
        if isinstance(value, str):
            yield from ((problem, False) for problem in _text(path, value))
            continue
        if not isinstance(value, Mapping | list | tuple | set | frozenset):
            continue
        if depth > MAX_DEPTH:
            raise TooLarge(Problem(path, f"is nested more than {MAX_DEPTH} levels deep"))
        if isinstance(value, Mapping):
            for key, line, first in getattr(value, "repeated", ()):
                message = f"is given twice (line {first} and line {line}); keep one"
                yield Problem(_at(path, key), message, key), False
            children = []
            for key, item in value.items():
                if not isinstance(key, str):
                    message = f"the key {brief(key)} is a {type(key).__name__}, not text; quote it"
                    yield Problem(_at(path, brief(key)), message, key), True
                    continue
                yield from ((problem, True) for problem in _text(_at(path, key), key, "key"))
                children.append((item, _at(path, key), depth + 1))
            stack.extend(reversed(children))
        else:
            stack.extend(
                reversed([(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)])
            )


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _text(path: str, text: str, what: str = "text") -> Iterator[Problem]:
    if "\x00" in text:
        yield Problem(path, f"the {what} {brief(text)} holds a NUL character", text)
    elif any("\ud800" <= character <= "\udfff" for character in text):
        yield Problem(path, f"the {what} {brief(text)} holds a lone surrogate", text)
