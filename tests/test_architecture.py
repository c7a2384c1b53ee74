"""The package's layers, checked on its source: which module may import which.

See ``docs/architecture.md`` for the layers and why. Every ``import`` and
``from ... import`` of a ``loyalty`` module is read with :mod:`ast`, wherever it is
written: at the top of a module, inside a function (a lazy import), or under
``if TYPE_CHECKING:``.

- The **layer rules count type-only imports**: a type-only import still couples two
  modules (mypy, a reader and a refactoring follow it), and a lower layer that
  names a higher one in its annotations is the first step of a cycle.
- The **cycle rule** counts what runs: module-level and function-level imports,
  and the packages an import loads (``import loyalty.ledger.entries`` first runs
  ``loyalty/ledger/__init__.py``). In the core it counts type-only imports too; in
  the store (an adapter) a type-only cycle fails nothing and is left alone.
  The root ``loyalty/__init__.py`` is the public façade over every layer: it
  imports from all of them and nothing in the package imports it (a rule below),
  so the packages an import loads stop below it.

Imports made by name at run time (``importlib.import_module``) are not seen; the
package makes none.

Each failure lists the offending imports as ``module (path:line): statement``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src"

FOUNDATION = (
    "loyalty.errors",
    "loyalty.text",
    "loyalty.currencies",
    "loyalty.money",
    "loyalty.dates",
)
"""The bottom layer: every other module may import these; they import only each other."""

CONFIGURATION_LAYERS: tuple[tuple[str, ...], ...] = (
    FOUNDATION,
    # shared field types of the configuration, and the boundary models built on them
    ("loyalty.boundary", "loyalty.program.types", "loyalty.program.amounts", "loyalty.cart"),
    # one configuration section each, and the incentives' shared parts (windows as
    # rules, audiences, coupon codes, offers)
    (
        "loyalty.program.policies",
        "loyalty.earning.config",
        "loyalty.rewards.config",
        "loyalty.tiers.config",
        "loyalty.hurdles",
        "loyalty.hurdle_cart",
        "loyalty.incentives.windows",
        "loyalty.incentives.audience",
        "loyalty.incentives.codes",
        "loyalty.incentives.config",
        "loyalty.incentives.offers",
        "loyalty.incentives.shared",
        "loyalty.stacking.config",
        "loyalty.offers.config",
    ),
    # the program: the root model, its schema, the loader and the files it reads
    ("loyalty.program",),
)
"""Bottom first. A module of a layer imports only modules of its own layer or of the
layers below; everything not listed here (ledger, tiers, checkout...) sits above."""

APPLICATION = ("loyalty.service", "loyalty.store")
ENTRY_POINTS = (
    "loyalty.cli",
    "loyalty.__main__",
    "loyalty.report",
    "loyalty.simulation",
    "loyalty.testing",
)
FACADE = "loyalty"


def within(module: str, groups: Iterable[str]) -> bool:
    """Is ``module`` one of ``groups`` or inside one of them (a package)?"""
    return any(module == group or module.startswith(f"{group}.") for group in groups)


def in_core(module: str) -> bool:
    """The core: everything but the façade, the service, the stores and the entry points."""
    return module != FACADE and not within(module, APPLICATION + ENTRY_POINTS)


class Kind(Enum):
    MODULE = "module level"
    FUNCTION = "in a function"
    TYPE_ONLY = "under TYPE_CHECKING"


@dataclass(frozen=True)
class Import:
    """One import of a package module by a package module."""

    module: str
    path: Path
    line: int
    target: str
    statement: str
    kind: Kind

    def __str__(self) -> str:
        where = self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path
        return f"{self.module} ({where}:{self.line}): {self.statement}  [{self.kind.value}]"


def module_name(path: Path, source: Path) -> str:
    parts = list(path.relative_to(source).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(
    module: str, tree: ast.Module, path: Path, modules: frozenset[str], package: bool = False
) -> Iterator[Import]:
    """Every import of a module in ``modules`` made by ``module`` (whose syntax tree is
    ``tree``), with how it is made. ``package`` says whether ``module`` is a package
    (an ``__init__.py``), for relative imports."""

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    def found(node: ast.Import | ast.ImportFrom, kind: Kind) -> Iterator[Import]:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                here = module.split(".") if package else module.split(".")[:-1]
                here = here[: len(here) - (node.level - 1)]
                base = ".".join([*here, *([base] if base else [])])
            # `from loyalty.tiers import tracker` imports the module loyalty.tiers.tracker
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                     for alias in node.names]
        statement = ast.unparse(node)
        for target in dict.fromkeys(filter(None, map(resolve, names))):
            yield Import(module, path, node.lineno, target, statement, kind)

    def walk(nodes: Iterable[ast.AST], kind: Kind) -> Iterator[Import]:
        for node in nodes:
            if isinstance(node, ast.Import | ast.ImportFrom):
                yield from found(node, kind)
            elif isinstance(node, ast.If) and _is_type_checking(node.test):
                yield from walk(node.body, Kind.TYPE_ONLY)
                yield from walk(node.orelse, kind)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = Kind.FUNCTION if kind is Kind.MODULE else kind
                yield from walk(ast.iter_child_nodes(node), inner)
            else:
                yield from walk(ast.iter_child_nodes(node), kind)

    yield from walk(tree.body, Kind.MODULE)


def package_imports(source: Path = SOURCE) -> list[Import]:
    """Every import of a ``loyalty`` module by a ``loyalty`` module under ``source``."""
    paths = {module_name(path, source): path for path in sorted((source / "loyalty").rglob("*.py"))}
    modules = frozenset(paths)
    found: list[Import] = []
    for module, path in paths.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        package = path.name == "__init__.py"
        found.extend(
            i for i in imports_of(module, tree, path, modules, package) if i.target != module
        )
    return found


IMPORTS = package_imports()


def forbid(imports: list[Import]) -> None:
    """Fail, listing each import, if there is any."""
    if imports:
        pytest.fail("\n".join(["forbidden imports:", *(f"  {i}" for i in imports)]), pytrace=False)


# --- the collector itself ----------------------------------------------------------


def test_every_kind_of_import_is_seen() -> None:
    code = """
from typing import TYPE_CHECKING
import loyalty.money
from loyalty.tiers import tracker
from loyalty.dates import Duration, end_of
if TYPE_CHECKING:
    from loyalty.cart import Cart
def late():
    from loyalty.ledger.entries import Earn
class C:
    def method(self):
        import loyalty.text as text
"""
    modules = frozenset({
        "loyalty", "loyalty.money", "loyalty.tiers", "loyalty.tiers.tracker", "loyalty.dates",
        "loyalty.cart", "loyalty.ledger", "loyalty.ledger.entries", "loyalty.text",
    })
    seen = list(imports_of("loyalty.x", ast.parse(code), Path("x.py"), modules))
    assert [(i.target, i.kind) for i in seen] == [
        ("loyalty.money", Kind.MODULE),
        ("loyalty.tiers.tracker", Kind.MODULE),
        ("loyalty.dates", Kind.MODULE),
        ("loyalty.cart", Kind.TYPE_ONLY),
        ("loyalty.ledger.entries", Kind.FUNCTION),
        ("loyalty.text", Kind.FUNCTION),
    ]


def test_the_source_is_found() -> None:
    assert any(i.module == "loyalty.program.model" and i.target == "loyalty.tiers.config"
               for i in IMPORTS)


# --- layers -------------------------------------------------------------------------


def test_errors_imports_nothing_of_the_package() -> None:
    """Every module may raise; so ``loyalty.errors`` sits below everything and
    imports no other module of the package (not even ``loyalty.text``, which imports it)."""
    bad = [i for i in IMPORTS if i.module == "loyalty.errors"]
    forbid(bad)


def layer_of(module: str) -> int | None:
    """The configuration layer of ``module`` (0 at the bottom), or None if above them."""
    for index, layer in enumerate(CONFIGURATION_LAYERS):
        if within(module, layer):
            return index
    return None


def test_the_configuration_layers_import_only_downwards() -> None:
    """Foundation, then shared config types, then the sections, then the program;
    type-only imports count."""
    bad = []
    for i in IMPORTS:
        here = layer_of(i.module)
        if here is None:
            continue
        there = layer_of(i.target)
        if there is None or there > here:
            bad.append(i)
    forbid(bad)


def test_the_ledger_does_not_import_the_tiers() -> None:
    """The ledger is below the tiers: tier figures follow the journal through a
    protocol the ledger defines and the tiers implement."""
    bad = [i for i in IMPORTS if within(i.module, ["loyalty.ledger"])
           and within(i.target, ["loyalty.tiers"])]
    forbid(bad)


def test_the_core_imports_no_service_store_or_entry_point() -> None:
    forbidden = APPLICATION + ENTRY_POINTS
    bad = [i for i in IMPORTS if in_core(i.module) and within(i.target, forbidden)]
    forbid(bad)


def test_the_stores_do_not_import_the_service_or_an_entry_point() -> None:
    forbidden = ("loyalty.service", *ENTRY_POINTS)
    bad = [i for i in IMPORTS if within(i.module, ["loyalty.store"])
           and within(i.target, forbidden)]
    forbid(bad)


def test_nothing_imports_the_cli() -> None:
    """Only the CLI itself and ``python -m loyalty`` (``loyalty/__main__.py``) do."""
    bad = [i for i in IMPORTS if within(i.target, ["loyalty.cli"])
           and not within(i.module, ["loyalty.cli", "loyalty.__main__"])]
    forbid(bad)


def test_nothing_imports_the_facade() -> None:
    """``loyalty/__init__.py`` gathers the public names of every layer; a module that
    imports it (``from loyalty import Money``) would import every layer."""
    bad = [i for i in IMPORTS if i.target == FACADE]
    forbid(bad)


# --- cycles -------------------------------------------------------------------------


def counts_for_cycles(i: Import) -> bool:
    """Runtime imports everywhere; type-only imports too in the core."""
    return i.kind is not Kind.TYPE_ONLY or in_core(i.module)


def loaded(i: Import) -> Iterator[str]:
    """The modules an import runs: the target and the packages above it that the
    importing module is not already inside (the façade excepted, see the docstring)."""
    parts = i.target.split(".")
    for end in range(2, len(parts) + 1):
        name = ".".join(parts[:end])
        if name != i.module and not i.module.startswith(f"{name}."):
            yield name


def cycles(imports: Iterable[Import]) -> list[tuple[list[str], list[Import]]]:
    """The strongly connected components of more than one module (Tarjan), each with
    the imports between its modules."""
    imports = list(imports)
    graph: dict[str, set[str]] = {}
    for i in imports:
        graph.setdefault(i.module, set()).update(loaded(i))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [
        (component, [i for i in imports if i.module in component
                     and any(name in component for name in loaded(i))])
        for component in components
    ]


def shortest_cycle(component: list[str], edges: list[Import]) -> list[str]:
    """One shortest way round the cycle, from and back to the component's first module."""
    start = component[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for i in edges:
            if i.module != node:
                continue
            for name in loaded(i):
                if name == start:
                    return [*paths[node], start]
                if name in component and name not in paths:
                    paths[name] = [*paths[node], name]
                    queue.append(name)
    return component


def describe(found: list[tuple[list[str], list[Import]]]) -> str:
    lines = []
    for component, edges in found:
        lines.append(f"a cycle of {len(component)} modules: {', '.join(component)}")
        lines.append(f"  for one: {' -> '.join(shortest_cycle(component, edges))}")
        lines.append("  the imports between them:")
        lines.extend(f"    {i}" for i in edges)
    return "\n".join(lines)


def test_no_import_cycles() -> None:
    """The modules import each other without a cycle (the ledger and the tiers
    included: tier figures follow the journal through the ledger's listener)."""
    found = cycles(i for i in IMPORTS if counts_for_cycles(i))
    if found:
        pytest.fail(describe(found), pytrace=False)
