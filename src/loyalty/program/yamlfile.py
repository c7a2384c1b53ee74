"""Reading YAML safely: a bounded SafeLoader.

On top of PyYAML's safe loading (no Python objects), the loader refuses a
document nested deeper than :data:`~loyalty.program.documents.MAX_DEPTH`, one
whose aliases expand to more than :data:`~loyalty.program.documents.MAX_NODES`
values (an "alias bomb") or refer to the node that contains them, and a key
given twice in one mapping. Plain anchors, aliases and merge keys (``<<: *base``)
work. Every problem names the file, the path and the line.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from loyalty.errors import ConfigurationError, Problem
from loyalty.program.documents import MAX_DEPTH, MAX_NODES

__all__ = ["read_yaml"]

_MERGE = "tag:yaml.org,2002:merge"


class _Refused(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


class _Loader(yaml.SafeLoader):
    """A SafeLoader that bounds depth while composing."""

    def __init__(self, text: str, name: str) -> None:
        super().__init__(text)
        self.name = name  # marks (and so messages) name the file, not "<unicode string>"
        self.depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.depth >= MAX_DEPTH:
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise _Refused(
                Problem("", f"is nested more than {MAX_DEPTH} levels deep (line {mark.line + 1})")
            )
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_yaml_int(self, node: ScalarNode) -> Any:
        try:
            return super().construct_yaml_int(node)
        except ValueError:
            # Longer than Python reads as an int: a Decimal, which every bound then refuses.
            digits = str(node.value).replace("_", "")
            if digits.lstrip("+-").isdigit():
                return Decimal(digits)
            raise yaml.constructor.ConstructorError(
                None, None, f"{digits[:40]!r} is not a number", node.start_mark
            ) from None

    def construct_yaml_timestamp(self, node: ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            return node.value  # not a real date (2026-02-30): the field says so, with its path


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def read_yaml(text: str, origin: str) -> Any:
    """The data of a YAML document; raises :class:`ConfigurationError` naming ``origin``."""
    try:
        loader = _Loader(text, origin)  # checks the characters first
    except yaml.YAMLError as error:
        raise ConfigurationError([Problem("", _describe(error, text))], origin) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        problems = _node_problems(node)
        if problems:
            raise ConfigurationError(problems, origin)
        return loader.construct_document(node)
    except _Refused as refused:
        raise ConfigurationError([refused.problem], origin) from None
    except yaml.YAMLError as error:
        raise ConfigurationError([Problem("", _describe(error, text))], origin) from None
    finally:
        loader.dispose()


def _describe(error: yaml.YAMLError, text: str) -> str:
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        what = error.problem or error.context or "invalid"
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        return f"not valid YAML: {what}{where}"
    if isinstance(error, yaml.reader.ReaderError):
        line = text.count("\n", 0, error.position) + 1
        return f"not valid YAML: the character U+{error.character:04X} is not allowed (line {line})"
    return f"not valid YAML: {error}"


def _node_problems(root: Node) -> list[Problem]:
    """Keys given twice, aliases that contain themselves, and the size with aliases expanded."""
    found: list[Problem] = []
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Node, str, bool]] = [(root, "", False)]
    while stack:
        node, path, done = stack.pop()
        key = id(node)
        children = _children(node, path)
        if done:
            open_nodes.discard(key)
            sizes[key] = min(MAX_NODES + 1, 1 + sum(sizes[id(child)] for child, _ in children))
            if sizes[key] > MAX_NODES:
                raise _Refused(
                    Problem(
                        path,
                        f"expands to more than {MAX_NODES:,} values (aliases expanded; "
                        f"line {node.start_mark.line + 1})",
                    )
                )
            continue
        if key in sizes:
            continue
        if key in open_nodes:
            raise _Refused(
                Problem(
                    path,
                    "an alias refers to the node that contains it "
                    f"(line {node.start_mark.line + 1})",
                )
            )
        open_nodes.add(key)
        if isinstance(node, MappingNode):
            found.extend(_repeated(node, path))
        stack.append((node, path, True))
        stack.extend((child, where, False) for child, where in reversed(children))
    return found


def _children(node: Node, path: str) -> list[tuple[Node, str]]:
    if isinstance(node, SequenceNode):
        return [(child, f"{path}[{index}]") for index, child in enumerate(node.value)]
    if isinstance(node, MappingNode):
        pairs = []
        for key, value in node.value:
            name = str(key.value) if isinstance(key, ScalarNode) else "?"
            pairs.append((key, path))
            pairs.append((value, f"{path}.{name}" if path else name))
        return pairs
    return []


def _repeated(node: MappingNode, path: str) -> list[Problem]:
    seen: dict[tuple[str, str], int] = {}
    found = []
    for key, _ in node.value:
        if not isinstance(key, ScalarNode) or key.tag == _MERGE:
            continue
        line, ident = key.start_mark.line + 1, (key.tag, str(key.value))
        if ident not in seen:
            seen[ident] = line
            continue
        where = f"{path}.{key.value}" if path else str(key.value)
        found.append(
            Problem(
                where, f"is given twice (line {seen[ident]} and line {line}); keep one", key.value
            )
        )
    return found
