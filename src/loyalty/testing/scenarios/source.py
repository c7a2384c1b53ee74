"""Reading a scenario file's YAML with the line of every value.

The document is composed into PyYAML nodes (safely: no Python objects), then built
into plain data by hand so that each value's path (``scenarios[0].steps[2].order``,
written as the boundary's problems write it) keeps the line it was written on.
Scalars are read for a test file: a number with a fraction is a ``Decimal`` (never a
float), and a date or time stays text for the format to read in the program's
timezone. A key given twice, and nesting or aliases beyond sane bounds, are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = ["Located", "Source", "SourceError", "read_source"]

MAX_DEPTH: Final = 64
MAX_NODES: Final = 200_000
_MERGE = "tag:yaml.org,2002:merge"


@dataclass(frozen=True, slots=True)
class Located:
    """One problem of a scenario file: where (file, line, path) and what is wrong."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.path or '(top level)'}: {self.message}"


class SourceError(Exception):
    """The YAML itself cannot be read."""

    def __init__(self, problem: Located) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass(slots=True)
class Source:
    """A file's data, and the line of each path in it."""

    file: str
    data: Any
    lines: dict[str, int] = field(default_factory=dict)

    def line(self, path: str) -> int | None:
        """The line of ``path``, or of the nearest value that holds it."""
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            cut = max(path.rfind("."), path.rfind("["))
            path = path[: max(cut, 0)]

    def locate(self, path: str, message: str) -> Located:
        return Located(self.file, self.line(path), path, message)


def read_source(text: str, file: str) -> Source:
    """The data of ``text`` (a YAML document) with its lines; raises :class:`SourceError`."""
    source = Source(file, None)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        raise SourceError(Located(file, line, "", f"is not valid YAML: {_said(error)}")) from None
    except yaml.YAMLError as error:
        raise SourceError(Located(file, None, "", f"is not valid YAML: {error}")) from None
    if node is None:
        raise SourceError(Located(file, 1, "", "is empty; a scenario file is a mapping"))
    builder = _Builder(source)
    source.data = builder.build(node, "", 0)
    return source


def _said(error: yaml.MarkedYAMLError) -> str:
    """PyYAML's words for a mistake, its context and its problem, each with its line
    ("found duplicate anchor 'B'; first occurrence (line 3), second occurrence (line 7)")."""
    parts = []
    for said, mark in ((error.context, error.context_mark), (error.problem, error.problem_mark)):
        if said:
            parts.append(f"{said} (line {mark.line + 1})" if mark is not None else said)
    return ", ".join(parts) or "it cannot be read"


def _join(path: str, key: object) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


class _Builder:
    def __init__(self, source: Source) -> None:
        self.source = source
        self.count = 0

    def fail(self, node: Node, path: str, message: str) -> SourceError:
        return SourceError(Located(self.source.file, node.start_mark.line + 1, path, message))

    def build(self, node: Node, path: str, depth: int) -> Any:
        self.count += 1
        if depth > MAX_DEPTH:
            raise self.fail(node, path, f"is nested more than {MAX_DEPTH} levels deep")
        if self.count > MAX_NODES:
            raise self.fail(node, path, f"holds more than {MAX_NODES} values (aliases count)")
        self.source.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, MappingNode):
            return self.mapping(node, path, depth)
        if isinstance(node, SequenceNode):
            return [
                self.build(item, _join(path, index), depth + 1)
                for index, item in enumerate(node.value)
            ]
        assert isinstance(node, ScalarNode)
        return _scalar(node)

    def mapping(self, node: MappingNode, path: str, depth: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                for source in _merged(value_node):
                    for key, value in self.mapping(source, path, depth + 1).items():
                        merged.setdefault(key, value)
                continue
            if not isinstance(key_node, ScalarNode):
                raise self.fail(key_node, path, "a key must be text")
            key = _scalar(key_node)
            if not isinstance(key, str | int) or isinstance(key, bool):
                key = key_node.value
            if key in result:
                raise self.fail(key_node, _join(path, key), "is given twice in one mapping")
            here = _join(path, key)
            self.source.lines[here] = key_node.start_mark.line + 1
            result[key] = self.build(value_node, here, depth + 1)
        for key, value in merged.items():
            result.setdefault(key, value)
        return result


def _merged(node: Node) -> list[MappingNode]:
    if isinstance(node, MappingNode):
        return [node]
    if isinstance(node, SequenceNode):
        return [item for item in node.value if isinstance(item, MappingNode)]
    return []


def _scalar(node: ScalarNode) -> Any:
    """A scalar as a test file means it: null, a bool, an int, a Decimal or text."""
    tag = node.tag  # the composer resolved a plain scalar's tag as YAML 1.1 does
    value = str(node.value)
    if node.style:  # quoted, or a block of text
        return value
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:bool":
        return value.lower() in ("true", "yes", "on", "y")
    if tag == "tag:yaml.org,2002:int":
        digits = value.replace("_", "")
        try:
            return int(digits, 0) if not digits.lstrip("+-").isdigit() else int(digits)
        except ValueError:
            return value
    if tag == "tag:yaml.org,2002:float":
        try:
            number = Decimal(value.replace("_", ""))
        except InvalidOperation:
            return value  # .inf, .nan: text, which no amount takes
        return number if number.is_finite() else value
    return value
