"""HTML made safely: text is escaped unless it is :class:`Markup` (HTML built here).

Every string taken from the document (program, campaign, reward and tier names, notes)
reaches the page through :func:`el` or :func:`concat`, which escape it; only markup built
by these functions, and the charts' SVG, is inserted as it is.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Final

__all__ = ["Markup", "concat", "el", "escape"]

_VOID: Final = frozenset({"br", "col", "meta", "hr"})


class Markup(str):
    """Text that is already HTML, inserted as it is."""

    __slots__ = ()


def escape(text: str) -> Markup:
    """``text`` as HTML: escaped, unless it is already :class:`Markup`."""
    if isinstance(text, Markup):
        return text
    return Markup(html.escape(text, quote=True))


def concat(parts: Iterable[str | None]) -> Markup:
    """The parts one after the other, each escaped unless it is markup; ``None`` is skipped."""
    return Markup("".join(escape(part) for part in parts if part is not None))


def _attribute(name: str) -> str:
    """``class_`` is ``class``, ``aria_label`` is ``aria-label``, ``data_month`` is
    ``data-month``."""
    return name.rstrip("_").replace("_", "-")


def el(tag: str, *children: str | None, **attributes: str | int | None) -> Markup:
    """The element ``tag`` with its attributes (escaped; ``None`` leaves one out) and
    children (escaped unless markup)."""
    attrs = "".join(
        f' {_attribute(name)}="{html.escape(str(value), quote=True)}"'
        for name, value in attributes.items()
        if value is not None
    )
    if tag in _VOID:
        return Markup(f"<{tag}{attrs}>")
    return Markup(f"<{tag}{attrs}>{concat(children)}</{tag}>")
