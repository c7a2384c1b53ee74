"""The JSON Schema as the page reads it: ``$defs`` resolved, shared types found, what
a node is (money, a duration, a date) and its bounds in words, a value as YAML flow
text, and a description as Markdown."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import yaml

_DURATION: Final = re.compile(
    r"^(\d+ (hours?|days?|weeks?|months?|years?)( \d+ (hours?|days?|weeks?|months?|years?))*"
    r"|P[0-9YMWDTHS]+)$"
)

# ------------------------------------------------------------------ schema helpers


class SchemaView:
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
                    kind = "money" if is_money(node) else "duration" if is_duration(node) else ""
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


def is_duration(node: Mapping[str, Any]) -> bool:
    examples = node.get("examples")
    return (
        node.get("type") == "string"
        and isinstance(examples, list)
        and bool(examples)
        and all(isinstance(e, str) and _DURATION.match(e) for e in examples)
    )


def is_money(node: Mapping[str, Any]) -> bool:
    branches = node.get("anyOf")
    if not isinstance(branches, list) or len(branches) != 2:
        return False
    types = sorted(str(b.get("type")) for b in branches if isinstance(b, dict))
    has_pattern = any(isinstance(b, dict) and "pattern" in b for b in branches)
    return types == ["integer", "string"] and has_pattern


def is_decimal(node: Mapping[str, Any]) -> bool:
    branches = node.get("anyOf")
    if not isinstance(branches, list) or len(branches) != 2:
        return False
    types = sorted(str(b.get("type")) for b in branches if isinstance(b, dict))
    return types == ["number", "string"]


def is_dates(node: Mapping[str, Any]) -> bool:
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


def bounds_of(node: Mapping[str, Any]) -> list[str]:
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


def code_span(value: Any) -> str:
    return f"`{value}`"


# ------------------------------------------------------------------ examples from samples


def flow_text(value: Any) -> str:
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


# ------------------------------------------------------------------ descriptions as Markdown

_ROLE: Final = re.compile(r":[a-z]+:`~?([^`]+)`")
_DOUBLE: Final = re.compile(r"``(.+?)``")


def markdown_of(description: str) -> str:
    """A docstring-style description as Markdown: ``code`` becomes `code`, roles such
    as :func:`x` become `x`, lines join into paragraphs (kept apart by a blank line)."""
    text = _ROLE.sub(lambda m: f"`{m.group(1)}`", description)
    text = _DOUBLE.sub(lambda m: f"`{m.group(1)}`", text)
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", text.strip())]
    return "\n\n".join(p for p in paragraphs if p)
