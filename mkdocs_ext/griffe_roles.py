"""Sphinx-style roles in docstrings (:class:`~loyalty.Money`) as cross-references.

The library's docstrings name other objects with reStructuredText roles, which
Markdown shows as ``:class:`` followed by code. Once the package is loaded, each role
becomes a link when the site documents the object it names (the API reference), and
plain code when it does not (an internal module, the standard library): the link is
optional, so a role never fails the strict build.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?(?:class|meth|func|mod|data|attr|exc|obj|const):`([^`]+)`")
_EXPLICIT = re.compile(r"^(.*?)\s*<([^<>]+)>$")


class Roles(griffe.Extension):
    """Rewrites the roles of every docstring of a loaded package."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        for obj in _objects(pkg):
            docstring = obj.docstring
            if docstring is not None and ":`" in docstring.value:
                docstring.value = _rewrite(obj, docstring.value)


def _rewrite(obj: griffe.Object, text: str) -> str:
    return _ROLE.sub(lambda match: _link(obj, match.group(1)), text)


def _objects(obj: griffe.Object) -> Iterator[griffe.Object]:
    yield obj
    for member in obj.members.values():
        if isinstance(member, griffe.Object):  # an alias is rewritten where it is defined
            yield from _objects(member)


def _link(obj: griffe.Object, body: str) -> str:
    explicit = _EXPLICIT.match(body)
    if explicit:
        title, target = explicit.group(1), explicit.group(2)
    else:
        target = body.lstrip("~").removesuffix("()")
        title = target.rpartition(".")[2] if body.startswith("~") else body.lstrip("~")
    code = f"<code>{title}</code>"
    path = _resolve(obj, target.lstrip("~"))
    if path is None:
        return code
    return f'<autoref identifier="{path}" optional>{code}</autoref>'


def _resolve(obj: griffe.Object, target: str) -> str | None:
    """The full path ``target`` names, seen from ``obj`` (its scope, then its parents')."""
    first, _, rest = target.partition(".")
    scope: griffe.Object | None = obj
    while scope is not None:
        try:
            found = scope.resolve(first)
        except griffe.NameResolutionError:
            scope = scope.parent
            continue
        return f"{found}.{rest}" if rest else found
    return target if target.startswith("loyalty.") else None
