"""The page as data: sections (blocks) of rows, one row a key, each with its example."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

_SELECTOR: Final = re.compile(r"\[([A-Za-z_]+)=([^\]]+)\]")


# ------------------------------------------------------------------ the model of the page


@dataclass(frozen=True)
class Example:
    """An example value: ``value`` as data, ``text`` as written on the page, and where it
    came from (``source``: a sample's name, or ``schema``, ``default``, ``built``)."""

    value: Any
    text: str
    source: str
    location: tuple[Any, ...] = ()
    """Where a sample's value is in its file: keys and list indexes."""


@dataclass(frozen=True)
class Row:
    """One key: its path, anchor, type in words, ``required`` or its default, its
    description, and an example. ``shared`` names the shared type it holds, if any."""

    path: str
    anchor: str
    type_text: str
    default_text: str
    description: str
    example: Example | None
    shared: str | None = None


@dataclass
class Block:
    """A heading and its table: a section of the program, one kind of a union, or a
    shared type (``used_at``: the paths that hold it)."""

    title: str
    anchor: str
    level: int
    intro: str = ""
    rows: list[Row] = field(default_factory=list)
    children: list[Block] = field(default_factory=list)
    used_at: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)





def block_rows(block: Block) -> Iterator[Row]:
    yield from block.rows
    for child in block.children:
        yield from block_rows(child)


def anchor_of(path: str) -> str:
    """The anchor of a key: ``rewards.catalog[kind=amount_off].cost`` gives
    ``rewards-catalog-amount_off-cost``; ``*`` is ``name``."""
    text = _SELECTOR.sub(lambda m: f".{m.group(2)}", path)
    text = text.replace("[]", "").replace("*", "name").lower()
    text = re.sub(r"[^a-z0-9_]+", "-", text)
    return text.strip("-")
