"""The page as Markdown: descriptions, table cells and links escaped, and the blocks
written out in order."""

from __future__ import annotations

import re
from typing import Final

from loyalty.program.reference.builder import Reference
from loyalty.program.reference.page import Block, Row, anchor_of
from loyalty.program.reference.schema_nodes import markdown_of

# ------------------------------------------------------------------ text for Markdown

def _escape_plain(text: str) -> str:
    """Escape Markdown in text outside code spans (``<``, ``*``, ``_`` at word edges...)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("\\", "\\\\").replace("*", "\\*").replace("|", "\\|")
    text = re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", text)
    return text.replace("[", "\\[").replace("]", "\\]")


def _inline(text: str, cell: bool) -> str:
    """Markdown text with code spans kept; in a table cell, paragraphs are joined
    with line breaks and ``|`` is escaped everywhere."""
    out: list[str] = []
    for index, part in enumerate(re.split(r"(`[^`]*`)", text)):
        if index % 2 == 1:
            out.append(part.replace("|", "\\|") if cell else part)
        else:
            out.append(_escape_links(part))
    joined = "".join(out)
    return joined.replace("\n\n", "<br><br>") if cell else joined


_LINK: Final = re.compile(r"(\[[^\]]+\]\(#[a-z0-9_-]+\))")


def _escape_links(text: str) -> str:
    """Escape plain text, keeping the in-page links this module writes."""
    parts = _LINK.split(text)
    return "".join(p if i % 2 == 1 else _escape_plain(p) for i, p in enumerate(parts))


def _cell_code(text: str) -> str:
    """A code span in a table cell, safe whatever it holds."""
    ticks = "``" if "`" in text else "`"
    pad = " " if ticks == "``" else ""
    return f"{ticks}{pad}{text.replace('|', chr(92) + '|')}{pad}{ticks}"


_INTRO: Final = """\
# Configuration keys

Every key of a program file, generated from the program's JSON Schema
(`docs/program.schema.json`) by `make schema`; a test fails when this page is stale.
The guide to writing a program is [Configuration files](../configuration.md).

**Paths.** A key is named by its full path from the top of the file:

- `earning.rate` is the key `rate` inside `earning`;
- `[]` is an item of a list: `earning.rules[].multiplier` is the `multiplier` of each rule;
- `*` is a key the program chooses: in `earning.actions.*.points`, `*` is an action's name;
- `[kind=amount_off]` selects one kind of a choice of kinds:
  `rewards.catalog[kind=amount_off].amount` is the `amount` of each reward whose `kind` is
  `amount_off`; `expiry[policy=fixed].after` is `after` when `expiry.policy` is `fixed`;
- a path that starts with a capitalised name (`Audience.tiers`) belongs to a
  [shared type](#section-shared-types), described once; the keys that hold one link to it.

Each key has an anchor made from its path: `#earning-rules-multiplier`,
`#rewards-catalog-amount_off-cost` (a kind's value takes its place, `*` is `name`).

**Columns.** *Type* says what the value is, with its bounds; *default* is `required`, the
value a missing key takes, "not set" (no value) or "optional"; *example* is a value that
loads, taken from the example programs in `examples/programs/` (the file is named) where
the key is used there, else from the schema, its default, or built from the type.
"""


def reference_markdown(reference: Reference) -> str:
    """The page's Markdown text."""
    lines = [_INTRO]
    said = {"money": "Money", "duration": "Durations"}
    for kind, text in sorted(reference.value_types.items()):
        lines.append(f"**{said.get(kind, kind)}.** {_inline(markdown_of(text), cell=False)}\n")
    for block in reference.blocks:
        _write_block(lines, block)
    return "\n".join(lines).rstrip("\n") + "\n"


def _write_block(lines: list[str], block: Block) -> None:
    hashes = "#" * block.level
    lines.append(f"{hashes} {block.title} {{#{block.anchor}}}")
    lines.append("")
    if block.intro:
        lines.append(_inline(block.intro, cell=False))
        lines.append("")
    for note in block.notes:
        lines.append(_inline(note, cell=False))
        lines.append("")
    if block.used_at:
        sites = ", ".join(f"[`{s}`](#{anchor_of(s)})" for s in block.used_at)
        lines.append(f"Held by: {sites}.")
        lines.append("")
    if block.rows:
        lines.append("| key | type | default | description | example |")
        lines.append("|---|---|---|---|---|")
        for row in block.rows:
            lines.append(_row_line(row))
        lines.append("")
    for child in block.children:
        _write_block(lines, child)


def _row_line(row: Row) -> str:
    key = f'<a id="{row.anchor}"></a>{_cell_code(row.path)}'
    description = _inline(row.description, cell=True) if row.description else ""
    if row.example is None:
        example = ""
    else:
        example = _cell_code(row.example.text)
        if row.example.source not in ("schema", "default", "built"):
            example += f" ({_escape_plain(row.example.source)})"
    default = row.default_text
    default = _cell_code(default[1:-1]) if default.startswith("`") else default
    cells = [key, _inline(row.type_text, cell=True), default, description, example]
    return "| " + " | ".join(cells) + " |"
