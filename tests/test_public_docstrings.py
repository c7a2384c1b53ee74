"""Every public name has a docstring of its own, and the API reference shows it.

The public names are the ``__all__`` of :mod:`loyalty` and of the packages a shop uses
beside it (the testing kit, its scenario runner, the simulation and its report).
Classes and functions are inspected at run time (a docstring of their own: not one
inherited from ``Enum``, ``BaseModel`` or ``object``, nor the signature a dataclass
writes when it has none). Type aliases and constants have no run-time docstring:
Griffe, which the reference page is built with, reads the string after the
assignment, so they (and the values of enums) are checked through Griffe, loaded
from ``src`` as the site loads it.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import importlib
import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import griffe
import pydantic
import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "reference" / "api.md"
PACKAGES = (
    "loyalty",
    "loyalty.testing",
    "loyalty.testing.scenarios",
    "loyalty.simulation",
    "loyalty.report",
)
# Shown on the page beside the public names: the SQL store lives in its own module
# (it needs the ``sql`` extra), and ``loyalty.store.sql`` is its public path.
ALSO_ON_THE_PAGE = {"loyalty.store.sql.SQLStore"}


def public_names(package: str) -> list[str]:
    names = importlib.import_module(package).__all__
    return [f"{package}.{name}" for name in names]


ALL_PUBLIC = [path for package in PACKAGES for path in public_names(package)]


@functools.cache
def griffe_package() -> griffe.Module:
    loaded = griffe.load(
        "loyalty", search_paths=[str(ROOT / "src")], resolve_aliases=True,
        resolve_external=False,
    )
    assert isinstance(loaded, griffe.Module)
    return loaded


def griffe_object(path: str) -> griffe.Object:
    found = griffe_package()[path.removeprefix("loyalty.")] if path != "loyalty" else None
    assert found is not None, path
    return found.final_target if isinstance(found, griffe.Alias) else found


def runtime_object(path: str) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


def own_docstring(obj: Any) -> str:
    """The docstring ``obj`` was written with, or ``""``."""
    if inspect.isclass(obj):
        doc = vars(obj).get("__doc__") or ""
        if dataclasses.is_dataclass(obj) and doc.startswith(f"{obj.__name__}("):
            return ""  # the signature a dataclass writes for itself
        if doc in (pydantic.BaseModel.__doc__, enum.Enum.__doc__, object.__doc__):
            return ""
        return doc.strip()
    return (getattr(obj, "__doc__", None) or "").strip()


def undocumented(path: str) -> str | None:
    """Why ``path`` fails, or ``None``."""
    obj = runtime_object(path)
    if inspect.isclass(obj) or inspect.isfunction(obj):
        return None if own_docstring(obj) else f"{path}: no docstring of its own"
    # A type alias or a constant: its docstring is the string after its assignment.
    target = griffe_object(path)
    if target.docstring is None or not target.docstring.value.strip():
        return f"{path}: no docstring (a string right after the assignment)"
    return None


def members(cls: type) -> Iterator[tuple[str, Any]]:
    """The public methods and properties ``cls`` defines itself."""
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        described = property | functools.cached_property | classmethod | staticmethod
        if isinstance(value, described) or inspect.isfunction(value):
            yield name, value


def undocumented_members(path: str) -> list[str]:
    cls = runtime_object(path)
    if not inspect.isclass(cls):
        return []
    missing = [
        f"{path}.{name}" for name, value in members(cls) if not member_docstring(value)
    ]
    if issubclass(cls, enum.Enum):
        documented = griffe_object(path).members
        for name in cls.__members__:
            found = documented.get(name)
            if found is None or found.docstring is None or not found.docstring.value.strip():
                missing.append(f"{path}.{name} (an enum value: say what it means)")
    return missing


def member_docstring(value: Any) -> str:
    if isinstance(value, property):
        return (value.__doc__ or "").strip()
    if isinstance(value, functools.cached_property):
        return (value.func.__doc__ or "").strip()
    if isinstance(value, classmethod | staticmethod):
        value = value.__func__
    return (value.__doc__ or "").strip()


def test_the_public_packages_export_names() -> None:
    for package in PACKAGES:
        assert public_names(package), package
    assert len(public_names("loyalty")) > 200


def test_every_public_name_has_a_docstring_of_its_own() -> None:
    failures = [reason for path in ALL_PUBLIC if (reason := undocumented(path))]
    assert not failures, "\n".join(failures)


def test_every_public_method_property_and_enum_value_has_a_docstring() -> None:
    failures = [name for path in ALL_PUBLIC for name in undocumented_members(path)]
    assert not failures, "\n".join(failures)


def test_the_checks_catch_what_they_look_for() -> None:
    """Each kind of missing docstring is caught: the checks are not vacuous."""

    @dataclasses.dataclass
    class Bare:
        x: int

    class Model(pydantic.BaseModel):
        x: int

    class Kind(enum.StrEnum):
        A = "a"

    class Documented:
        """Has one."""

        def method(self) -> None:
            pass

        @property
        def value(self) -> int:
            return 1

        @functools.cached_property
        def cached(self) -> int:
            return 1

        def told(self) -> None:
            """Has one."""

    for cls in (Bare, Model, Kind):
        assert own_docstring(cls) == "", cls
    assert own_docstring(Documented) == "Has one."
    undocumented_here = [name for name, value in members(Documented) if not member_docstring(value)]
    assert undocumented_here == ["method", "value", "cached"]


def directives() -> list[str]:
    """Every object the page renders: ``::: path`` lines, and the names a grouped
    directive lists under ``members:``."""
    text = PAGE.read_text(encoding="utf-8")
    found: list[str] = []
    for match in re.finditer(r"^::: (\S+)\n((?:[ \t]+.*\n?)*)", text, re.MULTILINE):
        path, options = match.group(1), match.group(2)
        found.append(path)
        listed = re.search(r"^\s+members:\s*\n((?:\s+- .*\n?)+)", options, re.MULTILINE)
        if listed:
            found += [f"{path}.{m}" for m in re.findall(r"- (\S+)", listed.group(1))]
        inline = re.search(r"^\s+members:\s*\[(.*)\]", options, re.MULTILINE)
        if inline:
            found += [f"{path}.{m.strip()}" for m in inline.group(1).split(",") if m.strip()]
    return found


def test_the_api_page_shows_every_public_name() -> None:
    shown = set(directives())
    missing = [path for path in ALL_PUBLIC if path not in shown]
    assert not missing, "not on docs/reference/api.md:\n" + "\n".join(missing)


def test_the_api_page_shows_only_public_paths_and_each_once() -> None:
    listed = directives()
    private = sorted(set(listed) - set(ALL_PUBLIC) - ALSO_ON_THE_PAGE)
    assert not private, f"directives that are not public paths: {private}"
    twice = sorted({path for path in listed if listed.count(path) > 1})
    assert not twice, f"shown twice: {twice}"


@pytest.mark.parametrize("path", sorted(ALSO_ON_THE_PAGE))
def test_what_else_the_page_shows_is_documented(path: str) -> None:
    pytest.importorskip("sqlalchemy")  # the sql extra
    assert own_docstring(runtime_object(path)), path
    assert undocumented_members(path) == [], path
