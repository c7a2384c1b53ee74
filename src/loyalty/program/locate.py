"""Where a problem is in its file: the line of a path such as
``rewards.catalog[2].hurdles.min_basket``.

A YAML file (and a JSON file: JSON is YAML) is composed into nodes, which keep
their lines, and the path is walked key by key and item by item::

    locator = Locator.of_text(text)
    locator.line("rewards.catalog[0].cost")      # 21: where ``cost:`` is written

The line of a path is where its key (or its list item) starts. Where the path
leaves the file (a key that is required but missing, a ``kind`` left out), it is
the line of the deepest part that is there: a missing key points at its parent
mapping. A key that holds a dot or a bracket (``"A.1": ...``) is matched as
written. Keys brought in by a merge key (``<<: *base``) point where the anchor
defines them. TOML files have no locator: their problems name the file only.

Pure: the text is given; :func:`file_locator` reads a file for the caller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from loyalty.program.documents import MAX_DEPTH

__all__ = ["Locator", "file_locator", "message_line"]

_MERGE: Final = "tag:yaml.org,2002:merge"
_INDEX: Final = re.compile(r"\[(\d+)\]")
_MESSAGE_LINE: Final = re.compile(r"(?:\(|; |and |at )line (\d+)\b")
_LOCATED: Final = (".yaml", ".yml", ".json")


class _TooDeep(Exception):
    pass


class _Composer(yaml.SafeLoader):
    """A SafeLoader that only composes, and refuses to go deeper than a program may."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.depth >= MAX_DEPTH:
            raise _TooDeep
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


@dataclass(frozen=True, slots=True)
class _Found:
    line: int
    """1-based."""
    consumed: int
    """How much of the path was found in the document."""


class Locator:
    """The lines of the keys and items of one YAML or JSON document (see the module)."""

    __slots__ = ("root",)

    def __init__(self, root: Node | None) -> None:
        self.root = root
        """The composed document; ``None`` when there is none (TOML, unreadable text)."""

    @classmethod
    def of_text(cls, text: str, *, json: bool = False) -> Locator:
        """The locator of a YAML document (``json``: a JSON one). Text that cannot be
        composed (not YAML, several documents, too deep) gives a locator that knows no
        line: the caller reports the problem without one."""
        if json:
            # A raw tab is never inside a valid JSON string, and YAML refuses tabs that
            # indent: as spaces, the lines and columns stay where they were.
            text = text.replace("\t", " ")
        composer = _Composer(text)
        try:
            return cls(composer.get_single_node())
        except (yaml.YAMLError, _TooDeep, RecursionError):
            return cls(None)
        finally:
            composer.dispose()

    def line(self, path: str) -> int | None:
        """The 1-based line of ``path`` (see the module); ``None`` if there is no document."""
        if self.root is None:
            return None
        found = _walk(self.root, path, 0, _line(self.root))
        return found.line

    def __repr__(self) -> str:
        return f"<Locator {'empty' if self.root is None else 'of a document'}>"


def file_locator(path: Path) -> Locator:
    """The locator of a YAML or JSON program file (chosen by its extension, as
    :func:`~loyalty.program.files.parse_file` does); of any other file, or one that
    cannot be read as UTF-8 text, an empty one."""
    suffix = path.suffix.lower()
    if suffix not in _LOCATED:
        return Locator(None)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, ValueError):  # missing, a directory, not UTF-8, a NUL in the path
        return Locator(None)
    return Locator.of_text(text, json=suffix == ".json")


def message_line(message: str) -> int | None:
    """The line a reader's message names (``not valid YAML: ... (line 3, column 5)``,
    ``is given twice (line 2 and line 7)``: the last, where the mistake is), if any."""
    found = _MESSAGE_LINE.findall(message)
    return int(found[-1]) if found else None


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _walk(node: Node, path: str, at: int, line: int) -> _Found:
    """The deepest match of ``path[at:]`` below ``node`` (whose own line is ``line``)."""
    if at >= len(path):
        return _Found(line, at)
    if isinstance(node, SequenceNode):
        index = _INDEX.match(path, at)
        if index is None or int(index.group(1)) >= len(node.value):
            return _Found(line, at)
        item = node.value[int(index.group(1))]
        return _walk(item, path, _next(path, index.end()), _line(item))
    if not isinstance(node, MappingNode):
        return _Found(line, at)
    best = _Found(line, at)
    for key, value in _pairs(node):
        name = str(key.value)
        end = at + len(name)
        if not path.startswith(name, at) or (end < len(path) and path[end] not in ".["):
            continue
        found = _walk(value, path, _next(path, end), _line(key))
        if found.consumed >= len(path):
            return found
        if found.consumed > best.consumed:
            best = found
    return best


def _next(path: str, end: int) -> int:
    """Past the dot that follows a key or an index (a bracket starts the next part)."""
    return end + 1 if end < len(path) and path[end] == "." else end


def _pairs(node: MappingNode, seen: frozenset[int] = frozenset()) -> list[tuple[ScalarNode, Node]]:
    """The mapping's keys with their values, its own first, then those it merges in
    (``seen``: the mappings being merged, so that an alias to itself ends)."""
    seen = seen | {id(node)}
    own: list[tuple[ScalarNode, Node]] = []
    merged: list[tuple[ScalarNode, Node]] = []
    for key, value in node.value:
        if not isinstance(key, ScalarNode):
            continue
        if key.tag != _MERGE:
            own.append((key, value))
            continue
        sources = value.value if isinstance(value, SequenceNode) else [value]
        for source in sources:
            if isinstance(source, MappingNode) and id(source) not in seen:
                merged.extend(_pairs(source, seen))
    return own + merged
