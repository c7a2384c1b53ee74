"""The configuration reference: every key of a program, as Markdown, from the JSON Schema.

``docs/reference/configuration.md`` is this module's output (``make schema`` writes it,
and a test fails when the committed page differs)::

    text = reference_markdown(program_json_schema(), samples)

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

import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Final

import yaml

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

_LONG_EXAMPLE: Final = 90
"""A sample value longer than this (as written) gives way to a shorter built one."""
_LONG_DEFAULT: Final = 60
_TEXT_CANDIDATES: Final = ("example", "EUR", "EXAMPLE", "01-01", "x")
"""Texts tried, in order, for a key with a pattern and no example."""
_DURATION: Final = re.compile(
    r"^(\d+ (hours?|days?|weeks?|months?|years?)( \d+ (hours?|days?|weeks?|months?|years?))*"
    r"|P[0-9YMWDTHS]+)$"
)
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


@dataclass
class Reference:
    """The page as data: its blocks in order, every row, and the schema node of each
    path (for tests that build a program around a key)."""

    blocks: list[Block]
    nodes: dict[str, dict[str, Any]]
    shared_sites: dict[str, list[str]]
    builder: _Builder = field(repr=False)
    value_types: dict[str, str] = field(default_factory=dict)
    """What the schema says of money and of durations wherever they are used."""

    def built(self, path: str) -> Any:
        """A value for the key or kind at ``path`` (``rewards.catalog[kind=amount_off]``),
        made of its required keys' examples."""
        return self.builder.built_at(path)

    def minimal(self, path: str) -> dict[str, Any]:
        """The least mapping at ``path`` (a mapping key, a list's ``[]`` or a kind):
        its kind and its required keys, with their examples."""
        return self.builder.minimal_at(path)

    def rows(self) -> Iterator[Row]:
        """Every row, in page order."""
        for block in self.blocks:
            yield from _block_rows(block)


def _block_rows(block: Block) -> Iterator[Row]:
    yield from block.rows
    for child in block.children:
        yield from _block_rows(child)


def anchor_of(path: str) -> str:
    """The anchor of a key: ``rewards.catalog[kind=amount_off].cost`` gives
    ``rewards-catalog-amount_off-cost``; ``*`` is ``name``."""
    text = _SELECTOR.sub(lambda m: f".{m.group(2)}", path)
    text = text.replace("[]", "").replace("*", "name").lower()
    text = re.sub(r"[^a-z0-9_]+", "-", text)
    return text.strip("-")


# ------------------------------------------------------------------ schema helpers


class _Schema:
    """The schema with its ``$defs``, and which of them are shared."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.root: dict[str, Any] = dict(schema)
        self.defs: dict[str, dict[str, Any]] = dict(schema.get("$defs", {}))
        self.shared: dict[str, str] = {}  # the key of a def or union -> its display name
        self._find_shared()
        self.type_words: dict[str, str] = self._type_words()
        """The descriptions that a type of value carries wherever it is used (money, a
        duration), by text, each with the type's name: said once at the top."""

    def _type_words(self) -> dict[str, str]:
        counts: dict[tuple[str, str], int] = {}

        def visit(node: Any) -> None:
            if isinstance(node, list):
                for item in node:
                    visit(item)
            elif isinstance(node, dict):
                text = node.get("description")
                if isinstance(text, str):
                    kind = "money" if _is_money(node) else "duration" if _is_duration(node) else ""
                    if kind:
                        counts[(text, kind)] = counts.get((text, kind), 0) + 1
                for key, value in node.items():
                    if key not in ("default", "examples"):
                        visit(value)

        visit(self.root)
        return {text: kind for (text, kind), n in sorted(counts.items()) if n >= 3}

    def resolve(self, node: Mapping[str, Any]) -> tuple[dict[str, Any], bool, str | None]:
        """The node with ``$ref`` followed and ``null`` dropped from an ``anyOf``:
        (node, nullable, def name). Keys beside a ``$ref`` (description, default)
        override the definition's."""
        current = dict(node)
        nullable = False
        name: str | None = None
        for _ in range(16):
            if "$ref" in current:
                ref = str(current.pop("$ref"))
                name = ref.rsplit("/", 1)[-1]
                target = dict(self.defs.get(name, {}))
                target.update(current)
                current = target
                continue
            branches = current.get("anyOf")
            if isinstance(branches, list):
                kept = [
                    b for b in branches if not (isinstance(b, dict) and b.get("type") == "null")
                ]
                if len(kept) < len(branches):
                    nullable = True
                if len(kept) == 1 and isinstance(kept[0], dict):
                    merged = {k: v for k, v in current.items() if k != "anyOf"}
                    inner = dict(kept[0])
                    inner.update({k: v for k, v in merged.items() if k not in ("title",)})
                    current = inner
                    continue
                if len(kept) < len(branches):
                    current = {**current, "anyOf": kept}
            break
        return current, nullable, name

    def union_key(self, node: Mapping[str, Any]) -> str | None:
        """A union's key (its discriminator and variant defs), or None if not a union."""
        disc = node.get("discriminator")
        if not isinstance(disc, dict) or not isinstance(node.get("oneOf"), list):
            return None
        names = sorted(str(ref).rsplit("/", 1)[-1] for ref in disc.get("mapping", {}).values())
        return f"union:{disc.get('propertyName')}:{','.join(names)}"

    def variants(self, node: Mapping[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
        """A union's variants in the schema's order: (discriminator value, def, schema)."""
        disc = node["discriminator"]
        by_ref = {str(ref): str(value) for value, ref in disc.get("mapping", {}).items()}
        out: list[tuple[str, str, dict[str, Any]]] = []
        for option in node["oneOf"]:
            ref = str(option.get("$ref", ""))
            name = ref.rsplit("/", 1)[-1]
            out.append((by_ref.get(ref, name), name, dict(self.defs.get(name, {}))))
        return out

    def discriminator(self, node: Mapping[str, Any]) -> str:
        return str(node["discriminator"]["propertyName"])

    # -------------------------------------------------------------- sharing

    def _find_shared(self) -> None:
        sites: dict[str, set[str]] = {}
        names: dict[str, dict[str, int]] = {}
        recursive: set[str] = set()

        def visit(node: Any, site: str, chain: tuple[str, ...]) -> None:
            if isinstance(node, list):
                for item in node:
                    visit(item, site, chain)
                return
            if not isinstance(node, dict):
                return
            union = self.union_key(node)
            if union is not None:
                sites.setdefault(union, set()).add(site)
                prop = site.rsplit(".", 1)[-1]
                names.setdefault(union, {}).setdefault(prop, 0)
                names[union][prop] += 1
                if union in chain:
                    recursive.add(union)
                    return
                for option in node["oneOf"]:
                    ref = str(option.get("$ref", "")).rsplit("/", 1)[-1]
                    visit(self.defs.get(ref, {}), ref, (*chain, union))
                return
            if "$ref" in node:
                ref = str(node["$ref"]).rsplit("/", 1)[-1]
                target = self.defs.get(ref, {})
                if "properties" in target:
                    sites.setdefault(ref, set()).add(site)
                    if ref in chain:
                        recursive.add(ref)
                        return
                    visit(target, ref, (*chain, ref))
                return
            for key, value in node.items():
                if key == "properties" and isinstance(value, dict):
                    for prop, sub in value.items():
                        visit(sub, f"{site}.{prop}", chain)
                elif key not in ("$defs", "default", "examples", "discriminator"):
                    visit(value, site, chain)

        visit({k: v for k, v in self.root.items() if k != "$defs"}, "", ())
        taken: set[str] = set()
        for key in sorted(sites):
            if len(sites[key]) < 2 and key not in recursive:
                continue
            if key.startswith("union:"):
                counts = names.get(key, {})
                prop = sorted(counts, key=lambda p: (-counts[p], p))[0] if counts else "kind"
                base = prop[:-1] if prop.endswith("s") and len(prop) > 3 else prop
                display = "".join(part.capitalize() for part in base.split("_"))
            else:
                display = str(self.defs[key].get("title") or key.rsplit("__", 1)[-1])
            while display in taken:
                display += "_"
            taken.add(display)
            self.shared[key] = display


def _is_duration(node: Mapping[str, Any]) -> bool:
    examples = node.get("examples")
    return (
        node.get("type") == "string"
        and isinstance(examples, list)
        and bool(examples)
        and all(isinstance(e, str) and _DURATION.match(e) for e in examples)
    )


def _is_money(node: Mapping[str, Any]) -> bool:
    branches = node.get("anyOf")
    if not isinstance(branches, list) or len(branches) != 2:
        return False
    types = sorted(str(b.get("type")) for b in branches if isinstance(b, dict))
    has_pattern = any(isinstance(b, dict) and "pattern" in b for b in branches)
    return types == ["integer", "string"] and has_pattern


def _is_decimal(node: Mapping[str, Any]) -> bool:
    branches = node.get("anyOf")
    if not isinstance(branches, list) or len(branches) != 2:
        return False
    types = sorted(str(b.get("type")) for b in branches if isinstance(b, dict))
    return types == ["number", "string"]


def _is_dates(node: Mapping[str, Any]) -> bool:
    branches = node.get("anyOf")
    if not isinstance(branches, list) or not branches:
        return False
    return all(isinstance(b, dict) and b.get("format") in ("date", "date-time") for b in branches)


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 10**6:
        exponent = len(str(value)) - 1
        if value == 10**exponent:
            return f"10^{exponent}"
    return str(value)


def _bounds(node: Mapping[str, Any]) -> list[str]:
    parts: list[str] = []
    if "exclusiveMinimum" in node:
        parts.append(f"above {_number(node['exclusiveMinimum'])}")
    if "minimum" in node:
        parts.append(f"at least {_number(node['minimum'])}")
    if "maximum" in node:
        parts.append(f"at most {_number(node['maximum'])}")
    if "exclusiveMaximum" in node:
        parts.append(f"below {_number(node['exclusiveMaximum'])}")
    if "minLength" in node and node["minLength"] > 0:
        parts.append(f"at least {node['minLength']} character(s)")
    if "maxLength" in node:
        parts.append(f"at most {node['maxLength']} characters")
    if "pattern" in node:
        parts.append(f"matching `{node['pattern']}`")
    if "minItems" in node and node["minItems"] > 0:
        parts.append(f"at least {node['minItems']} item(s)")
    if "maxItems" in node:
        parts.append(f"at most {node['maxItems']} item(s)")
    return parts


def _code(value: Any) -> str:
    return f"`{value}`"


# ------------------------------------------------------------------ examples from samples


def _flow(value: Any) -> str:
    """A value as YAML flow text, on one line: ``'5.00'``, ``{units: 2}``, ``[soap]``."""
    text = yaml.safe_dump(
        value, default_flow_style=True, sort_keys=False, width=10**6, allow_unicode=True
    )
    text = text.strip()
    if text.endswith("\n..."):
        text = text[: -len("\n...")]
    elif text.endswith("..."):
        text = text[:-3].rstrip()
    return text.replace("\n", " ")


# ------------------------------------------------------------------ the walk

_At = tuple[str, tuple[Any, ...]]
"""A sample's name, and where a value is in it: keys and list indexes."""


class _Builder:
    def __init__(self, schema: Mapping[str, Any], samples: Sequence[tuple[str, Any]]) -> None:
        self.s = _Schema(schema)
        self.samples: dict[str, list[tuple[str, Any]]] = {}
        self.locations: dict[tuple[str, str, str], tuple[Any, ...]] = {}
        self.short_forms: dict[str, list[tuple[str, Any]]] = {}
        self.nodes: dict[str, dict[str, Any]] = {}
        self.required: dict[str, bool] = {}
        self.shared_sites: dict[str, list[str]] = {}
        self.shared_blocks: dict[str, Block] = {}
        self.example_cache: dict[str, Example | None] = {}
        for name, data in samples:
            self._collect(data, self.s.root, "", (name, ()))
        self.nodes[""] = self.s.root

    # -------------------------------------------------------------- samples

    def _record(self, path: str, at: _At, value: Any) -> None:
        self.samples.setdefault(path, []).append((at[0], value))
        self.locations.setdefault((path, at[0], _flow(value)), at[1])

    def _collect(self, raw: Any, node: Mapping[str, Any], path: str, at: _At) -> None:
        """Walk a sample's raw data along the schema, recording each value at its path
        (``at``: the sample's name and where the value is in it)."""
        resolved, _, name = self.s.resolve(node)
        union = self.s.union_key(resolved)
        key = union if union is not None else name
        if key is not None and key in self.s.shared and path != self.s.shared[key]:
            self._collect(raw, resolved, self.s.shared[key], at)
            return
        if union is not None:
            if not isinstance(raw, dict):
                return
            disc = self.s.discriminator(resolved)
            variants = self.s.variants(resolved)
            value = raw.get(disc)
            body: Any = raw
            inside = at
            if value is None and len(raw) == 1:
                ((short, inner),) = raw.items()
                if any(v == short for v, _, _ in variants):
                    value = short
                    body = self._expand_short(short, inner, variants, disc)
                    self.short_forms.setdefault(path, []).append((at[0], raw))
                    inside = (at[0], (*at[1], short))
                    if not isinstance(inner, dict) and isinstance(body, dict):
                        ((prop, item),) = body.items()
                        sub = f"{path}[{disc}={value}].{prop}"
                        for v, _, schema in variants:
                            if v == value:
                                self._record(sub, inside, item)
                                self._collect(item, schema["properties"][prop], sub, inside)
                        return
            for v, _, schema in variants:
                if v == value and isinstance(body, dict):
                    self._collect_object(body, schema, f"{path}[{disc}={v}]", inside)
            return
        if resolved.get("type") == "array" and isinstance(resolved.get("items"), dict):
            if isinstance(raw, list):
                items = resolved["items"]
                inner, _, _ = self.s.resolve(items)
                listed = path if self.s.union_key(inner) is not None else f"{path}[]"
                for index, item in enumerate(raw):
                    where = (at[0], (*at[1], index))
                    self._record(f"{path}[]", where, item)
                    self._collect(item, items, listed, where)
            return
        if "properties" in resolved:
            if isinstance(raw, dict):
                self._collect_object(raw, resolved, path, at)
            else:
                self.short_forms.setdefault(path, []).append((at[0], raw))
            return
        values = self._map_values(resolved)
        if values is not None and isinstance(raw, dict):
            for name_, item in raw.items():
                where = (at[0], (*at[1], name_))
                self._record(f"{path}.*", where, item)
                self._collect(item, values, f"{path}.*", where)

    def _collect_object(
        self, raw: Mapping[str, Any], node: Mapping[str, Any], path: str, at: _At
    ) -> None:
        props = node.get("properties", {})
        for prop, value in raw.items():
            if prop in props:
                sub = f"{path}.{prop}" if path else prop
                where = (at[0], (*at[1], prop))
                self._record(sub, where, value)
                self._collect(value, props[prop], sub, where)

    def _expand_short(
        self, kind: str, inner: Any, variants: list[tuple[str, str, dict[str, Any]]], disc: str
    ) -> Any:
        """``{min_points: 100}``: the body is the kind's keys, or the value of its one key."""
        if isinstance(inner, dict):
            return inner
        for value, _, schema in variants:
            if value != kind:
                continue
            props = [p for p in schema.get("properties", {}) if p != disc]
            required = [p for p in schema.get("required", []) if p != disc]
            if len(required) == 1:
                return {required[0]: inner}
            if len(props) == 1:
                return {props[0]: inner}
        return None

    def _map_values(self, node: Mapping[str, Any]) -> dict[str, Any] | None:
        if node.get("type") != "object" or "properties" in node:
            return None
        patterns = node.get("patternProperties")
        if isinstance(patterns, dict) and patterns:
            return dict(next(iter(patterns.values())))
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            return dict(extra)
        return None

    def _shared_key(self, node: Mapping[str, Any]) -> str | None:
        resolved, _, name = self.s.resolve(node)
        union = self.s.union_key(resolved)
        key = union if union is not None else name
        return key if key is not None and key in self.s.shared else None

    # -------------------------------------------------------------- the page

    def build(self) -> Reference:
        blocks: list[Block] = []
        root = self.s.root
        props: dict[str, Any] = root.get("properties", {})
        required = set(root.get("required", []))
        program = Block("Program", "section-program", 2, _text(root.get("description", "")))
        blocks.append(program)
        later: list[tuple[str, dict[str, Any]]] = []
        for prop, node in props.items():
            resolved, _, _ = self.s.resolve(node)
            if self._structured(resolved):
                later.append((prop, node))
            else:
                self._key(program, prop, node, prop in required)
        for prop, node in later:
            resolved, _, _ = self.s.resolve(node)
            title = prop.replace("_", " ").capitalize()
            block = Block(title, f"section-{anchor_of(prop)}", 2)
            blocks.append(block)
            self._key(block, prop, node, prop in required)
        if self.shared_blocks:
            types = Block(
                "Shared types",
                "section-shared-types",
                2,
                "Types that several keys hold, or that hold themselves, described once. "
                "Each lists the keys that hold it; their paths continue here.",
            )
            types.children.extend(sorted(self.shared_blocks.values(), key=lambda b: b.title))
            blocks.append(types)
        for display, sites in self.shared_sites.items():
            self.shared_sites[display] = sorted(set(sites))
        for block in self.shared_blocks.values():
            block.used_at = self.shared_sites.get(block.title, [])
        for block in blocks:
            self._fill_examples(block)
        words = {kind: text for text, kind in self.s.type_words.items()}
        return Reference(blocks, self.nodes, self.shared_sites, self, words)

    def _fill_examples(self, block: Block) -> None:
        block.rows = [replace(row, example=self.example(row.path)) for row in block.rows]
        for child in block.children:
            self._fill_examples(child)

    def _structured(self, node: Mapping[str, Any]) -> bool:
        return (
            "properties" in node
            or self.s.union_key(node) is not None
            or self._map_values(node) is not None
        )

    def _key(self, block: Block, path: str, node: Mapping[str, Any], required: bool) -> None:
        """The row of the key at ``path``, then the rows and blocks of what it holds."""
        resolved, nullable, _ = self.s.resolve(node)
        self.nodes[path] = dict(node)
        self.required[path] = required
        shared = self._shared_key(node)
        items = resolved.get("items") if resolved.get("type") == "array" else None
        item_shared = self._shared_key(items) if isinstance(items, dict) else None
        row = Row(
            path=path,
            anchor=anchor_of(path),
            type_text=self._type_text(node),
            default_text=self._default_text(resolved, required, nullable),
            description=_text(self._description(node, resolved)),
            example=None,  # filled in once every key's node is known
            shared=self.s.shared[shared] if shared else None,
        )
        shorts = self.short_forms.get(path)
        if shorts and "properties" in resolved:
            source, raw = sorted(shorts, key=lambda sv: (len(_flow(sv[1])), sv[0]))[0]
            said = f"Also written in a short form: `{_flow(raw)}` ({source})."
            text = f"{row.description}\n\n{said}" if row.description else said
            row = replace(row, description=text)
        block.rows.append(row)
        if shared is not None:
            self._share(shared, path)
            return
        if isinstance(items, dict):
            if item_shared is not None:
                inner, _, _ = self.s.resolve(items)
                site = path if self.s.union_key(inner) is not None else f"{path}[]"
                self._share(item_shared, site)
                return
            inner, _, _ = self.s.resolve(items)
            if self.s.union_key(inner) is not None:
                self._union(block, path, inner)
            elif "properties" in inner:
                self.nodes[f"{path}[]"] = dict(items)
                self._object(block, f"{path}[]", inner)
            return
        if self.s.union_key(resolved) is not None:
            self._union(block, path, resolved)
            return
        if "properties" in resolved:
            self._object(block, path, resolved)
            return
        values = self._map_values(resolved)
        if values is not None:
            self._key(block, f"{path}.*", values, False)

    def _object(
        self, block: Block, path: str, node: Mapping[str, Any], disc: str | None = None
    ) -> None:
        required = set(node.get("required", []))
        for prop, sub in _ordered(node, disc):
            self._key(block, f"{path}.{prop}" if path else prop, sub, prop in required)

    def _union(self, block: Block, path: str, node: Mapping[str, Any]) -> None:
        disc = self.s.discriminator(node)
        level = min(block.level + 1, 6)
        for value, _, schema in self.s.variants(node):
            vpath = f"{path}[{disc}={value}]"
            title = f"`{path}` when `{disc}` is `{value}`"
            child = Block(
                title, f"kind-{anchor_of(vpath)}", level, _text(schema.get("description", ""))
            )
            block.children.append(child)
            self.nodes[vpath] = dict(schema)
            self._object(child, vpath, schema, disc)

    def _share(self, key: str, site: str) -> None:
        display = self.s.shared[key]
        self.shared_sites.setdefault(display, []).append(site)
        if key in self.shared_blocks:
            return
        block = Block(display, f"type-{anchor_of(display)}", 3)
        self.shared_blocks[key] = block
        if key.startswith("union:"):
            # the node of a union is any of its sites; take the first definition found
            node = self._union_node(key)
            disc = self.s.discriminator(node)
            values = ", ".join(_code(v) for v, _, _ in self.s.variants(node))
            block.intro = f"One of these kinds, chosen by `{disc}`: {values}."
            self.nodes[display] = node
            shorts = self.short_forms.get(display)
            if shorts:
                source, raw = sorted(shorts, key=lambda sv: (len(_flow(sv[1])), sv[0]))[0]
                ((short, inner),) = raw.items()
                variants = self.s.variants(node)
                body = self._expand_short(short, inner, variants, disc)
                full = {disc: short, **body} if isinstance(body, dict) else None
                block.notes.append(
                    f"The example programs also write a {display.lower()} in a short form: "
                    "its kind as the only key, holding the kind's keys, or the value of its "
                    f"one key other than `{disc}`. `{_flow(raw)}` ({source})"
                    + (f" is `{_flow(full)}`." if full is not None else ".")
                )
            for value, _, schema in self.s.variants(node):
                vpath = f"{display}[{disc}={value}]"
                child = Block(
                    f"`{display}` when `{disc}` is `{value}`",
                    f"kind-{anchor_of(vpath)}",
                    4,
                    _text(schema.get("description", "")),
                )
                block.children.append(child)
                self.nodes[vpath] = dict(schema)
                self._object(child, vpath, schema, disc)
        else:
            node = self.s.defs[key]
            block.intro = _text(node.get("description", ""))
            self.nodes[display] = dict(node)
            self._object(block, display, node)

    def _union_node(self, key: str) -> dict[str, Any]:
        found: dict[str, Any] = {}

        def visit(node: Any) -> bool:
            nonlocal found
            if isinstance(node, list):
                return any(visit(item) for item in node)
            if not isinstance(node, dict):
                return False
            if self.s.union_key(node) == key:
                found = {k: v for k, v in node.items() if k in ("discriminator", "oneOf")}
                return True
            return any(visit(v) for k, v in node.items() if k not in ("default", "examples"))

        visit(self.s.root)
        return found

    # -------------------------------------------------------------- words

    def _description(self, node: Mapping[str, Any], resolved: Mapping[str, Any]) -> str:
        """The key's own description, else its type's (unless the type is shared and
        described on its own, or is money or a duration, described at the top)."""
        own = node.get("description")
        if isinstance(own, str) and own and own not in self.s.type_words:
            return own
        if self._shared_key(node) is not None:
            return ""
        text = resolved.get("description")
        if not isinstance(text, str) or text in self.s.type_words:
            return ""
        return text

    def _type_text(self, node: Mapping[str, Any]) -> str:
        resolved, _, _ = self.s.resolve(node)
        shared = self._shared_key(node)
        if shared is not None:
            display = self.s.shared[shared]
            link = f"[{display}](#type-{anchor_of(display)})"
            article = "an" if display[:1].lower() in "aeiou" else "a"
            if shared.startswith("union:"):
                return f"{article} {link}: a mapping of one of its kinds"
            return f"{article} {link} mapping"
        union = self.s.union_key(resolved)
        if union is not None:
            disc = self.s.discriminator(resolved)
            values = ", ".join(_code(v) for v, _, _ in self.s.variants(resolved))
            return f"a mapping whose `{disc}` is one of: {values} (the keys of each kind below)"
        kind = resolved.get("type")
        if kind == "array":
            items = resolved.get("items", {})
            inner = _strip_article(self._type_text(items))
            if inner.startswith("mapping"):
                inner = "mappings" + inner[len("mapping") :]
            elif ";" in inner:
                head, _, tail = inner.partition("; ")
                inner = f"{head} (each {tail})"
            words = f"a list of {inner}"
            bounds = [b for b in _bounds(resolved) if "item" in b]
            return words + (f"; {', '.join(bounds)}" if bounds else "")
        mapped = self._map_values(resolved)
        if mapped is not None:
            key_words = self._key_words(resolved)
            value_words = _strip_article(self._type_text(mapped))
            return f"a mapping; each key is {key_words}; each value is {value_words}"
        if "properties" in resolved:
            return "a mapping (its keys below)"
        return self._scalar_text(resolved)

    def _key_words(self, node: Mapping[str, Any]) -> str:
        names = node.get("propertyNames")
        patterns = node.get("patternProperties")
        if isinstance(names, dict):
            inner, _, _ = self.s.resolve(names)
            if "enum" in inner:
                return "one of " + ", ".join(_code(v) for v in inner["enum"])
            words = ["a name"]
            if isinstance(patterns, dict) and patterns:
                words.append(f"matching `{next(iter(patterns))}`")
            if "maxLength" in inner:
                words.append(f"at most {inner['maxLength']} characters")
            if inner.get("description"):
                said = _text(str(inner["description"])).rstrip(".")
                said = said[:1].lower() + said[1:]
                return f"{said} ({', '.join(words[1:])})" if len(words) > 1 else said
            return ", ".join(words)
        if isinstance(patterns, dict) and patterns:
            return f"a name matching `{next(iter(patterns))}`"
        return "a name"

    def _scalar_text(self, node: Mapping[str, Any]) -> str:
        if "const" in node:
            return f"always {_code(node['const'])}"
        choices = _choices(node, self.s)
        if choices:
            return "one of: " + ", ".join(_code(v) for v in choices)
        if "enum" in node:
            return "one of: " + ", ".join(_code(v) for v in node["enum"])
        if _is_money(node):
            return (
                'money: a decimal string such as `"10.50"` (or a whole number), '
                "in the program currency"
            )
        if _is_decimal(node):
            number = next(b for b in node["anyOf"] if b.get("type") == "number")
            bounds = _bounds(number)
            words = 'a decimal: a number or a string of digits such as `"1.5"`'
            return words + (f"; {', '.join(bounds)}" if bounds else "")
        if _is_dates(node):
            formats = [b.get("format") for b in node["anyOf"]]
            if formats == ["date"]:
                return "a date such as `2026-11-11`"
            return "a date such as `2026-11-11`, or a date and time with its offset"
        if _is_duration(node):
            return (
                "a duration such as `30 days`, `6 months`, `1 year 6 months`, `48 hours` or `P1Y6M`"
            )
        kind = node.get("type")
        bounds = _bounds(node)
        if kind == "string":
            if node.get("format") == "date":
                words = "a date such as `2026-11-11`"
            elif node.get("format") == "date-time":
                words = "a date and time with its offset"
            else:
                words = "text"
        elif kind == "integer":
            words = "a whole number"
        elif kind == "number":
            words = "a number"
        elif kind == "boolean":
            words = "`true` or `false`"
        elif isinstance(node.get("anyOf"), list):
            parts = [self._type_text(b) for b in node["anyOf"] if isinstance(b, dict)]
            return " or ".join(parts)
        else:
            words = "any value"
        return words + (f"; {', '.join(bounds)}" if bounds else "")

    def _default_text(self, node: Mapping[str, Any], required: bool, nullable: bool) -> str:
        if required:
            return "required"
        if "default" not in node:
            return "optional"
        default = node["default"]
        if default is None:
            return "not set"
        if default == [] or default == {}:
            return "empty"
        text = _flow(default)
        if isinstance(default, dict) and (len(text) > _LONG_DEFAULT or None in default.values()):
            return "the defaults of its keys"
        return _code(text)

    # -------------------------------------------------------------- examples

    def example(self, path: str) -> Example | None:
        if path in self.example_cache:
            return self.example_cache[path]
        self.example_cache[path] = None  # a guard against a type that holds itself
        found = self._example(path)
        self.example_cache[path] = found
        return found

    def _example(self, path: str) -> Example | None:
        node = self.nodes.get(path)
        seen = self.samples.get(path, [])
        real: Example | None = None
        if seen:
            source, value = sorted(seen, key=lambda sv: (len(_flow(sv[1])), sv[0]))[0]
            where = self.locations[(path, source, _flow(value))]
            real = Example(value, _flow(value), source, where)
            if len(real.text) <= _LONG_EXAMPLE:
                return real
            items = self.samples.get(f"{path}[]", [])
            node = self.nodes.get(path, {})
            few = int(self.s.resolve(node)[0].get("minItems", 0)) <= 1
            if isinstance(value, list) and items and few:
                # a list too long to show: the shortest item the samples give, alone
                source, item = sorted(items, key=lambda sv: (len(_flow(sv[1])), sv[0]))[0]
                where = self.locations[(f"{path}[]", source, _flow(item))]
                one = Example([item], _flow([item]), source, where[:-1])
                if len(one.text) < len(real.text):
                    return one
        if node is None:
            return real
        resolved, _, _ = self.s.resolve(node)
        examples = resolved.get("examples")
        if isinstance(examples, list) and examples:
            return Example(examples[0], _flow(examples[0]), "schema")
        default = resolved.get("default")
        scalar = default is not None and not isinstance(default, dict | list)
        plain_list = isinstance(default, list) and default and not isinstance(default[0], dict)
        if ((scalar and default != "") or plain_list) and _fits(resolved, default):
            return Example(default, _flow(default), "default")
        built = self._built(path, resolved)
        if built is not None and (real is None or len(_flow(built)) < len(real.text)):
            return Example(built, _flow(built), "built")
        return real

    def _built(self, path: str, node: Mapping[str, Any]) -> Any:
        """A value of ``node`` made from its type, or from its keys' examples."""
        shared = self._shared_key(node)
        if shared is not None:
            display = self.s.shared[shared]
            found = self.example(display) if display != path else None
            return found.value if found is not None else self._from_type(display, node)
        return self._from_type(path, node)

    def minimal_at(self, path: str) -> dict[str, Any]:
        node, _, _ = self.s.resolve(self.nodes[path])
        out: dict[str, Any] = {}
        match = re.search(r"\[([A-Za-z_]+)=([^\]]+)\]$", path)
        if match is not None:
            out[match.group(1)] = match.group(2)
        for prop in node.get("required", []):
            if prop not in out:
                sub = f"{path}.{prop}" if path else prop
                found = self.example(sub)
                out[prop] = found.value if found is not None else None
        return out

    def built_at(self, path: str) -> Any:
        """A value for ``path``: a kind of a union (``...[kind=x]``) or a key."""
        node = self.nodes[path]
        match = re.search(r"\[([A-Za-z_]+)=([^\]]+)\]$", path)
        if match is not None and "properties" in node:
            return self._object_value(path, node, {match.group(1): match.group(2)})
        return self._built(path, node)

    def _from_type(self, path: str, node: Mapping[str, Any]) -> Any:
        resolved, _, _ = self.s.resolve(node)
        if "const" in resolved:
            return resolved["const"]
        if "enum" in resolved:
            return resolved["enum"][0]
        union = self.s.union_key(resolved)
        if union is not None:
            disc = self.s.discriminator(resolved)
            variants = self.s.variants(resolved)
            # the kind with the fewest required keys, which the samples use if any
            ordered = sorted(
                variants,
                key=lambda v: (
                    f"{path}[{disc}={v[0]}].{disc}" not in self.samples,
                    len(v[2].get("required", [])),
                ),
            )
            value, _, schema = ordered[0]
            return self._object_value(f"{path}[{disc}={value}]", schema, {disc: value})
        if "properties" in resolved:
            return self._object_value(path, resolved, {})
        kind = resolved.get("type")
        if kind == "array":
            items = resolved.get("items", {})
            inner, _, _ = self.s.resolve(items)
            item_path = path if self.s.union_key(inner) is not None else f"{path}[]"
            item = self._built(item_path, items)
            count = max(1, int(resolved.get("minItems", 1)))
            return [item] * count if item is not None else None
        mapped = self._map_values(resolved)
        if mapped is not None:
            name = self._name_for(resolved)
            found = self.example(f"{path}.*") if f"{path}.*" in self.nodes else None
            inner_value = found.value if found is not None else self._built(f"{path}.*", mapped)
            return {name: inner_value} if name is not None and inner_value is not None else None
        return _scalar_value(resolved)

    def _object_value(self, path: str, node: Mapping[str, Any], start: dict[str, Any]) -> Any:
        out = dict(start)
        wanted = [p for p in node.get("required", []) if p not in out]
        if not wanted:
            # nothing required: show the first key the samples use, else the first key
            props = [p for p, _ in _ordered(node, None) if p not in out]
            used = [p for p in props if (f"{path}.{p}" if path else p) in self.samples]
            wanted = (used or props)[:1]
        for prop in wanted:
            if prop in out:
                continue
            sub = f"{path}.{prop}" if path else prop
            found = self.example(sub) if sub in self.nodes else None
            value = found.value if found is not None else self._built(sub, node["properties"][prop])
            if value is None:
                return None
            out[prop] = value
        return out

    def _name_for(self, node: Mapping[str, Any]) -> str | None:
        names = node.get("propertyNames")
        if isinstance(names, dict):
            inner, _, _ = self.s.resolve(names)
            if "enum" in inner:
                return str(inner["enum"][0])
        patterns = node.get("patternProperties")
        if isinstance(patterns, dict) and patterns:
            pattern = next(iter(patterns))
            return next((t for t in _TEXT_CANDIDATES if re.search(pattern, t)), None)
        return "example"


def _ordered(node: Mapping[str, Any], disc: str | None) -> list[tuple[str, Any]]:
    """A mapping's keys: the discriminator, then the required ones, then the others,
    each group in the schema's order."""
    props: dict[str, Any] = dict(node.get("properties", {}))
    required = set(node.get("required", []))
    first = [(k, v) for k, v in props.items() if k == disc]
    needed = [(k, v) for k, v in props.items() if k != disc and k in required]
    rest = [(k, v) for k, v in props.items() if k != disc and k not in required]
    return first + needed + rest


def _fits(node: Mapping[str, Any], value: Any) -> bool:
    kind = node.get("type")
    if kind == "string":
        return isinstance(value, str)
    if kind in ("integer", "number"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return True


def _scalar_value(node: Mapping[str, Any]) -> Any:
    if _is_money(node):
        return "10.00"
    if _is_decimal(node):
        number = next(b for b in node["anyOf"] if b.get("type") == "number")
        top = number.get("maximum", 10)
        return 10 if top == 100 else "1.5" if top >= 2 else str(top)
    if _is_dates(node):
        return date(2026, 11, 11)
    kind = node.get("type")
    if kind == "boolean":
        return True
    if kind == "integer":
        low = node.get(
            "minimum", node.get("exclusiveMinimum", 0) + 1 if "exclusiveMinimum" in node else 1
        )
        value = max(int(low), 1)
        top = node.get("maximum")
        return value if top is None or value <= top else int(low)
    if kind == "number":
        return 1
    if kind == "string":
        if node.get("format") == "date":
            return date(2026, 11, 11)
        if node.get("format") == "date-time":
            return "2026-11-11T09:00:00+00:00"
        pattern = node.get("pattern")
        if pattern is None:
            return "example"
        return next((t for t in _TEXT_CANDIDATES if re.search(str(pattern), t)), None)
    return None


def _choices(node: Mapping[str, Any], schema: _Schema) -> list[Any]:
    """The values of an ``anyOf`` of enums and constants (``per``: a period or
    ``lifetime``), or nothing."""
    branches = node.get("anyOf")
    if not isinstance(branches, list) or not branches:
        return []
    values: list[Any] = []
    for branch in branches:
        inner, _, _ = schema.resolve(branch)
        if "const" in inner:
            values.append(inner["const"])
        elif "enum" in inner:
            values.extend(inner["enum"])
        else:
            return []
    return values


def _strip_article(text: str) -> str:
    for article in ("a ", "an "):
        if text.startswith(article):
            return text[len(article) :]
    return text


# ------------------------------------------------------------------ text for Markdown

_ROLE: Final = re.compile(r":[a-z]+:`~?([^`]+)`")
_DOUBLE: Final = re.compile(r"``(.+?)``")


def _text(description: str) -> str:
    """A docstring-style description as Markdown: ``code`` becomes `code`, roles such
    as :func:`x` become `x`, lines join into paragraphs (kept apart by a blank line)."""
    text = _ROLE.sub(lambda m: f"`{m.group(1)}`", description)
    text = _DOUBLE.sub(lambda m: f"`{m.group(1)}`", text)
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip())]
    return "\n\n".join(p for p in paragraphs if p)


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
        lines.append(f"**{said.get(kind, kind)}.** {_inline(_text(text), cell=False)}\n")
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
    return _Builder(schema, samples).build()


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m loyalty.program.reference EXAMPLES_DIR OUTPUT``: write the page."""
    from loyalty.program.schema import program_json_schema

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m loyalty.program.reference EXAMPLES_DIR OUTPUT", file=sys.stderr)
        return 2
    reference = build_reference(program_json_schema(), read_samples(Path(args[0])))
    Path(args[1]).parent.mkdir(parents=True, exist_ok=True)
    Path(args[1]).write_text(reference_markdown(reference), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
