"""The configuration reference: every key of a program, as Markdown, from the JSON Schema.

``docs/reference/configuration.md`` is this package's output (``make schema`` writes it,
and a test fails when the committed page differs)::

    text = reference_markdown(build_reference(program_json_schema(), samples))

Its modules: ``schema_nodes`` reads the schema (shared types, what a node is, in
words); ``builder`` walks it and the samples into the page's data (``page``: blocks of
rows, each with an example); ``markdown`` writes that data out.

Everything on the page comes from the schema (keys, types, bounds, defaults,
descriptions) and from ``samples``, the raw data of example programs (each with the
name of its file), which give real example values. Nothing is written by hand per
key, so a new field, or a new docstring on a model, shows on the page once it is
regenerated.

How the schema becomes a page:

- A key is named by its full path: ``earning.rules[].multiplier``; ``[]`` is an item
  of a list, ``*`` a key the program chooses (an action's name, a currency code), and
  ``[kind=amount_off]`` the keys of one kind of a choice of kinds (a discriminated
  union).
- A type that is used in several places (an audience, a product selector, a hurdle)
  is described once, under its name (``Audience.tiers``), and every key that holds one
  links to it. So are types that contain themselves (``all_of`` of hurdles).
- Each key has an anchor made from its path (``#earning-rules-multiplier``).
- An example is, in this order of preference: the shortest value the key has in the
  samples (the file is named; a list too long to show is shown by its shortest item),
  the schema's ``examples``, its ``default``, or a value built from the type (for a
  mapping: its required keys' examples, or its first key's if none is required).
- A sample may write a mapping in a short form the schema does not describe (a tier
  ``window: calendar_year``, a hurdle ``{min_basket: "10.00"}`` for ``{kind: min_basket,
  amount: "10.00"}``): the page says so where it is seen.
- Descriptions are the schema's (from the models' docstrings and field descriptions),
  joined into paragraphs; the descriptions that money and durations carry everywhere
  are said once, at the top.

The output is the same bytes for the same schema and samples: nothing depends on set
order or hash seeds.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from loyalty.program.reference.builder import Builder, Reference
from loyalty.program.reference.markdown import reference_markdown
from loyalty.program.reference.page import Block, Example, Row, anchor_of

__all__ = [
    "Block",
    "Example",
    "Reference",
    "Row",
    "anchor_of",
    "build_reference",
    "main",
    "read_samples",
    "reference_markdown",
]

# ------------------------------------------------------------------ entry points


def read_samples(directory: Path) -> list[tuple[str, Any]]:
    """The raw data of every program file in ``directory``, named by file, in name order."""
    from loyalty.program.files import parse_file

    files = sorted(
        p for p in directory.iterdir() if p.suffix.lower() in (".yaml", ".yml", ".toml", ".json")
    )
    return [(p.name, parse_file(p)) for p in files]


def build_reference(schema: Mapping[str, Any], samples: Sequence[tuple[str, Any]]) -> Reference:
    """The page as data, from a JSON Schema and the raw data of example programs."""
    return Builder(schema, samples).build()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m loyalty.program.reference EXAMPLES_DIR OUTPUT``: write the page."""
    from loyalty.program.schema import program_json_schema

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m loyalty.program.reference EXAMPLES_DIR OUTPUT", file=sys.stderr)
        return 2
    samples, out = Path(args[0]), Path(args[1])
    if not samples.is_dir():
        print(f"{samples}: is not a directory of example programs", file=sys.stderr)
        return 2
    reference = build_reference(program_json_schema(), read_samples(samples))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(reference_markdown(reference), encoding="utf-8")
    except OSError as error:
        print(f"{out}: cannot be written ({error.strerror or error})", file=sys.stderr)
        return 1
    return 0
