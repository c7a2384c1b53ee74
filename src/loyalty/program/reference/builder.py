"""The walk of the schema and the example programs that builds the page's data: every
key's row, the shared types, and an example for each key."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Final

from loyalty.program.reference.page import Block, Example, Row, anchor_of, block_rows
from loyalty.program.reference.schema_nodes import (
    SchemaView,
    bounds_of,
    code_span,
    flow_text,
    is_dates,
    is_decimal,
    is_duration,
    is_money,
    markdown_of,
)

_LONG_EXAMPLE: Final = 90
"""A sample value longer than this (as written) gives way to a shorter built one."""
_LONG_DEFAULT: Final = 60
_TEXT_CANDIDATES: Final = ("example", "EUR", "EXAMPLE", "01-01", "x")
"""Texts tried, in order, for a key with a pattern and no example."""

# ------------------------------------------------------------------ the walk

_At = tuple[str, tuple[Any, ...]]
"""A sample's name, and where a value is in it: keys and list indexes."""


class Builder:
    def __init__(self, schema: Mapping[str, Any], samples: Sequence[tuple[str, Any]]) -> None:
        self.s = SchemaView(schema)
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
        self.locations.setdefault((path, at[0], flow_text(value)), at[1])

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
        program = Block("Program", "section-program", 2, markdown_of(root.get("description", "")))
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
            description=markdown_of(self._description(node, resolved)),
            example=None,  # filled in once every key's node is known
            shared=self.s.shared[shared] if shared else None,
        )
        shorts = self.short_forms.get(path)
        if shorts and "properties" in resolved:
            source, raw = sorted(shorts, key=lambda sv: (len(flow_text(sv[1])), sv[0]))[0]
            said = f"Also written in a short form: `{flow_text(raw)}` ({source})."
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
                title, f"kind-{anchor_of(vpath)}", level, markdown_of(schema.get("description", ""))
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
            values = ", ".join(code_span(v) for v, _, _ in self.s.variants(node))
            block.intro = f"One of these kinds, chosen by `{disc}`: {values}."
            self.nodes[display] = node
            shorts = self.short_forms.get(display)
            if shorts:
                source, raw = sorted(shorts, key=lambda sv: (len(flow_text(sv[1])), sv[0]))[0]
                ((short, inner),) = raw.items()
                variants = self.s.variants(node)
                body = self._expand_short(short, inner, variants, disc)
                full = {disc: short, **body} if isinstance(body, dict) else None
                block.notes.append(
                    f"The example programs also write a {display.lower()} in a short form: "
                    "its kind as the only key, holding the kind's keys, or the value of its "
                    f"one key other than `{disc}`. `{flow_text(raw)}` ({source})"
                    + (f" is `{flow_text(full)}`." if full is not None else ".")
                )
            for value, _, schema in self.s.variants(node):
                vpath = f"{display}[{disc}={value}]"
                child = Block(
                    f"`{display}` when `{disc}` is `{value}`",
                    f"kind-{anchor_of(vpath)}",
                    4,
                    markdown_of(schema.get("description", "")),
                )
                block.children.append(child)
                self.nodes[vpath] = dict(schema)
                self._object(child, vpath, schema, disc)
        else:
            node = self.s.defs[key]
            block.intro = markdown_of(node.get("description", ""))
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
            values = ", ".join(code_span(v) for v, _, _ in self.s.variants(resolved))
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
            bounds = [b for b in bounds_of(resolved) if "item" in b]
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
                return "one of " + ", ".join(code_span(v) for v in inner["enum"])
            words = ["a name"]
            if isinstance(patterns, dict) and patterns:
                words.append(f"matching `{next(iter(patterns))}`")
            if "maxLength" in inner:
                words.append(f"at most {inner['maxLength']} characters")
            if inner.get("description"):
                said = markdown_of(str(inner["description"])).rstrip(".")
                said = said[:1].lower() + said[1:]
                return f"{said} ({', '.join(words[1:])})" if len(words) > 1 else said
            return ", ".join(words)
        if isinstance(patterns, dict) and patterns:
            return f"a name matching `{next(iter(patterns))}`"
        return "a name"

    def _scalar_text(self, node: Mapping[str, Any]) -> str:
        if "const" in node:
            return f"always {code_span(node['const'])}"
        choices = _choices(node, self.s)
        if choices:
            return "one of: " + ", ".join(code_span(v) for v in choices)
        if "enum" in node:
            return "one of: " + ", ".join(code_span(v) for v in node["enum"])
        if is_money(node):
            return (
                'money: a decimal string such as `"10.50"` (or a whole number), '
                "in the program currency"
            )
        if is_decimal(node):
            number = next(b for b in node["anyOf"] if b.get("type") == "number")
            bounds = bounds_of(number)
            words = 'a decimal: a number or a string of digits such as `"1.5"`'
            return words + (f"; {', '.join(bounds)}" if bounds else "")
        if is_dates(node):
            formats = [b.get("format") for b in node["anyOf"]]
            if formats == ["date"]:
                return "a date such as `2026-11-11`"
            return "a date such as `2026-11-11`, or a date and time with its offset"
        if is_duration(node):
            return (
                "a duration such as `30 days`, `6 months`, `1 year 6 months`, `48 hours` or `P1Y6M`"
            )
        kind = node.get("type")
        bounds = bounds_of(node)
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
        text = flow_text(default)
        if isinstance(default, dict) and (len(text) > _LONG_DEFAULT or None in default.values()):
            return "the defaults of its keys"
        return code_span(text)

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
            source, value = sorted(seen, key=lambda sv: (len(flow_text(sv[1])), sv[0]))[0]
            where = self.locations[(path, source, flow_text(value))]
            real = Example(value, flow_text(value), source, where)
            if len(real.text) <= _LONG_EXAMPLE:
                return real
            items = self.samples.get(f"{path}[]", [])
            node = self.nodes.get(path, {})
            few = int(self.s.resolve(node)[0].get("minItems", 0)) <= 1
            if isinstance(value, list) and items and few:
                # a list too long to show: the shortest item the samples give, alone
                source, item = sorted(items, key=lambda sv: (len(flow_text(sv[1])), sv[0]))[0]
                where = self.locations[(f"{path}[]", source, flow_text(item))]
                one = Example([item], flow_text([item]), source, where[:-1])
                if len(one.text) < len(real.text):
                    return one
        if node is None:
            return real
        resolved, _, _ = self.s.resolve(node)
        examples = resolved.get("examples")
        if isinstance(examples, list) and examples:
            return Example(examples[0], flow_text(examples[0]), "schema")
        default = resolved.get("default")
        scalar = default is not None and not isinstance(default, dict | list)
        plain_list = isinstance(default, list) and default and not isinstance(default[0], dict)
        if ((scalar and default != "") or plain_list) and _fits(resolved, default):
            return Example(default, flow_text(default), "default")
        built = self._built(path, resolved)
        if built is not None and (real is None or len(flow_text(built)) < len(real.text)):
            return Example(built, flow_text(built), "built")
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
    if is_money(node):
        return "10.00"
    if is_decimal(node):
        number = next(b for b in node["anyOf"] if b.get("type") == "number")
        top = number.get("maximum", 10)
        return 10 if top == 100 else "1.5" if top >= 2 else str(top)
    if is_dates(node):
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


def _choices(node: Mapping[str, Any], schema: SchemaView) -> list[Any]:
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


@dataclass
class Reference:
    """The page as data: its blocks in order, every row, and the schema node of each
    path (for tests that build a program around a key)."""

    blocks: list[Block]
    nodes: dict[str, dict[str, Any]]
    shared_sites: dict[str, list[str]]
    builder: Builder = field(repr=False)
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
            yield from block_rows(block)
