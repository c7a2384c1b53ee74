"""The configuration reference (docs/reference/configuration.md): generated from the JSON
Schema by ``loyalty.program.reference``, committed, and checked here.

- the committed page is the generator's output (else: run ``make schema``); the schema
  file beside it is checked by ``test_the_json_schema_in_docs_is_up_to_date``;
- every property path of the schema is on the page, reached through the shared types'
  "Held by" links as a reader would;
- every key has a type and an example, and every example loads: it is placed at its
  path in a small program that ``load_program`` reads;
- anchors are unique and every in-page link lands;
- the output does not depend on hash seeds or on the order of the schema's ``$defs``.
"""

from __future__ import annotations

import difflib
import os
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Final

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty import load_program
from loyalty.errors import ConfigurationError
from loyalty.program.files import parse_file
from loyalty.program.reference import (
    Reference,
    anchor_of,
    build_reference,
    main,
    read_samples,
    reference_markdown,
)
from loyalty.program.schema import program_json_schema

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "reference" / "configuration.md"
SAMPLES = ROOT / "examples" / "programs"

_ROW = re.compile(r'^\| <a id="([^"]+)"></a>`([^`]+)` \|', re.MULTILINE)
_HEADING = re.compile(r"^#+ .* \{#([a-z0-9_-]+)\}$", re.MULTILINE)
_SHARED = re.compile(r"^### (\w+) \{#type-[a-z0-9_-]+\}\n(?:(?!^#).*\n)*?Held by: (.*)$", re.M)
_SITE = re.compile(r"\[`([^`]+)`\]\(#[a-z0-9_-]+\)")
_TOKEN = re.compile(r"\.?[A-Za-z0-9_*]+|\[\]|\[[A-Za-z_]+=[^\]]+\]")


@pytest.fixture(scope="module")
def reference() -> Reference:
    return build_reference(program_json_schema(), read_samples(SAMPLES))


@pytest.fixture(scope="module")
def page(reference: Reference) -> str:
    return reference_markdown(reference)


def test_the_committed_page_is_up_to_date(page: str) -> None:
    committed = PAGE.read_text(encoding="utf-8")
    if committed != page:
        diff = "".join(
            list(
                difflib.unified_diff(
                    committed.splitlines(keepends=True),
                    page.splitlines(keepends=True),
                    "committed",
                    "generated",
                    n=0,
                )
            )[:40]
        )
        pytest.fail(f"docs/reference/configuration.md is stale: run `make schema`\n{diff}")


# ------------------------------------------------------------------ every path is there


def _schema_paths(schema: dict[str, Any]) -> set[str]:
    """Every key path of the schema, in the page's notation, written out in full (a
    definition is not entered again inside itself)."""
    defs: dict[str, Any] = schema["$defs"]
    paths: set[str] = set()

    def resolve(node: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        name = None
        while True:
            if "$ref" in node:
                name = node["$ref"].rsplit("/", 1)[-1]
                node = defs[name]
                continue
            options = [o for o in node.get("anyOf", []) if o.get("type") != "null"]
            if "anyOf" in node and len(options) == 1:
                node = options[0]
                continue
            return node, name

    def walk(node: dict[str, Any], path: str, chain: tuple[str, ...]) -> None:
        node, name = resolve(node)
        if "discriminator" in node:
            prop = node["discriminator"]["propertyName"]
            for value, ref in node["discriminator"]["mapping"].items():
                target = ref.rsplit("/", 1)[-1]
                if target not in chain:
                    fields(defs[target], f"{path}[{prop}={value}]", (*chain, target))
        elif node.get("type") == "array":
            items, _ = resolve(node["items"])
            walk(node["items"], path if "discriminator" in items else f"{path}[]", chain)
        elif "properties" in node:
            if name not in chain:
                fields(node, path, (*chain, name) if name else chain)
        elif isinstance(node.get("patternProperties") or node.get("additionalProperties"), dict):
            values = node.get("patternProperties") or {"": node["additionalProperties"]}
            paths.add(f"{path}.*")
            walk(next(iter(values.values())), f"{path}.*", chain)

    def fields(node: dict[str, Any], path: str, chain: tuple[str, ...]) -> None:
        for prop, sub in node["properties"].items():
            here = f"{path}.{prop}" if path else prop
            paths.add(here)
            walk(sub, here, chain)

    fields(schema, "", ())
    return paths


def _page_paths(page: str) -> set[str]:
    return {path for _, path in _ROW.findall(page)}


def _shared_sites(page: str) -> dict[str, list[str]]:
    return {name: _SITE.findall(held) for name, held in _SHARED.findall(page)}


def _as_on_the_page(path: str, sites: dict[str, list[str]]) -> str:
    """A full path as the page names it: the part held by a shared type is named from
    the type (``rewards.catalog[kind=amount_off].audience.tiers`` is ``Audience.tiers``)."""
    for _ in range(50):
        best: tuple[int, str, str] | None = None
        for name, held in sites.items():
            for site in held:
                inside = path != site and path.startswith((f"{site}.", f"{site}["))
                if inside and (best is None or len(site) > best[0]):
                    best = (len(site), site, name)
        if best is None:
            return path
        path = best[2] + path[best[0] :]
    raise AssertionError(f"{path}: the shared types' sites go round in circles")


def test_every_property_path_of_the_schema_is_on_the_page(page: str) -> None:
    full = _schema_paths(program_json_schema())
    sites = _shared_sites(page)
    assert {"Audience", "Selector"} <= set(sites), "the shared types list the keys holding them"
    on_page = _page_paths(page)
    missing = sorted(p for p in full if _as_on_the_page(p, sites) not in on_page)
    assert len(full) > 500
    assert not missing, f"{len(missing)} path(s) not on the page, e.g. {missing[:10]}"


def test_the_page_names_the_keys_people_look_for(page: str) -> None:
    on_page = _page_paths(page)
    for path in (
        "earning.rules[].multiplier",
        "tiers.ladder[].benefits.earn_multiplier",
        "rewards.catalog[kind=amount_off].cost",
        "expiry[policy=fixed].after",
        "incentives.catalog[].trigger[event=schedule].rrule",
        "Condition[kind=min_basket].amount",
        "Grant[kind=coupon].offer[kind=amount_off].amount",
        "earning.actions.*.points",
        "stacking.caps.max_amount",
    ):
        assert path in on_page, path
    assert '<a id="earning-rules-multiplier"></a>' in page


def _type_words(schema: dict[str, Any]) -> set[str]:
    """The descriptions that a type of value carries (money, a duration): found on the
    members of an ``anyOf``, the items of a list and the values of a mapping."""
    found: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                visit(item)
        elif isinstance(node, dict):
            inner = list(node.get("anyOf", []))
            if node.get("type") == "array":
                inner.append(node.get("items"))
            if node.get("type") == "object":
                inner.append(node.get("additionalProperties"))
            for sub in inner:
                if isinstance(sub, dict) and isinstance(sub.get("description"), str):
                    found.add(sub["description"])
            for key, value in node.items():
                if key not in ("default", "examples"):
                    visit(value)

    visit(schema)
    return found


def test_every_key_of_the_schema_has_a_description_of_its_own() -> None:
    """Every key of every model (each ``properties`` mapping: the program's and each
    definition's) says what it does: editors show it on hover, and this page prints it.
    A key that only carries its type's words (the money or duration text said once at
    the top of the page) has none of its own. A ``code span`` stays on one line of the
    docstring, or the page shows its backticks."""
    schema = program_json_schema()
    generic = _type_words(schema)
    models = {"Program": schema, **schema["$defs"]}
    keys, missing, broken = 0, [], []
    for model, node in sorted(models.items()):
        for key, sub in node.get("properties", {}).items():
            keys += 1
            text = sub.get("description")
            if not isinstance(text, str) or not text.strip() or text in generic:
                missing.append(f"{model}.{key}")
            elif any(line.count("``") % 2 for line in text.splitlines()):
                broken.append(f"{model}.{key}")
    assert keys > 400
    assert "An amount of the program currency" in " ".join(generic), "the type words are found"
    assert not missing, (
        f"{len(missing)} key(s) without a description (write a docstring under the field): "
        + ", ".join(missing)
    )
    # A ``code span`` split over two lines of a docstring is not one on the page.
    assert not broken, f"a ``code span`` breaks across lines in: {', '.join(broken)}"


# ------------------------------------------------------------------ types and examples


def test_every_key_has_a_type_and_an_example(reference: Reference) -> None:
    rows = list(reference.rows())
    assert len(rows) > 300
    lacking = [r.path for r in rows if not r.type_text or r.example is None or not r.example.text]
    assert not lacking, f"keys without a type or an example: {lacking}"
    assert all(r.default_text for r in rows)


def test_examples_come_from_the_example_programs_where_a_key_is_used(
    reference: Reference,
) -> None:
    rows = {r.path: r for r in reference.rows()}
    amount = rows["rewards.catalog[kind=amount_off].amount"].example
    assert amount is not None
    assert (amount.value, amount.source) == ("5.00", "cosmetics-club.yaml")
    assert amount.text == "'5.00'"
    grace = rows["tiers.grace"].example
    assert grace is not None
    assert (grace.value, grace.source) == ("30 days", "beauty-tiers.yaml")
    files = {p.name for p in SAMPLES.iterdir()}
    sourced = [r for r in rows.values() if r.example and r.example.source in files]
    assert len(sourced) > 80
    others = {r.example.source for r in rows.values() if r.example} - files
    assert others <= {"schema", "default", "built"}


def _tokens(path: str) -> list[str]:
    tokens = _TOKEN.findall(path)
    assert "".join(tokens) == path, path
    return tokens


_NEEDS: Final[dict[str, tuple[dict[str, Any], set[str]]]] = {
    # What a mapping needs beside its required keys, which the schema cannot say (each a
    # rule of the model, refused with a message when broken), unless the key shown is
    # one of the alternatives.
    "earning.rules[]": ({"multiplier": 2}, {"bonus", "per_unit"}),
    "incentives.catalog[]": ({"grants": [{"kind": "points", "points": 10}]}, set()),
    "incentives.catalog[].limits.budget": ({"count": 100}, {"points", "money"}),
    "tiers.window": ({"kind": "rolling"}, set()),  # a length is for a rolling window only
    "Condition[kind=requires]": ({"skus": ["A-1"]}, {"categories", "tags"}),
    "Grant[kind=cashback]": ({"amount": "5.00"}, {"percent"}),
}
_NAMED: Final[dict[str, Any]] = {
    # Sections that define the names an example may refer to ("example"): a tier, a
    # reward, a stacking group. Added when the program has no such section.
    "tiers": {"metrics": ["orders"], "ladder": [{"name": "example"}]},
    "rewards": {"catalog": [{"id": "example", "kind": "free_shipping", "cost": 0}]},
    "stacking": {"groups": [{"id": "example"}, {"id": "volume"}]},  # volume: stacked-offers
}
_KNOWN: Final[frozenset[str]] = frozenset()
"""Built examples that a model rule refuses, for want of a sample in an example program
(none today; a key added here must be dropped once an example program supplies it)."""


def _from_the_top(reference: Reference, path: str) -> str:
    """A path that starts at a shared type, placed at a key that holds one."""
    for _ in range(20):
        head = re.match(r"[A-Z]\w*", path)
        if head is None:
            return path
        name = head.group(0)
        sites = [s for s in reference.shared_sites[name] if not s.startswith(name)]
        site = sorted(sites, key=lambda s: (s[0].isupper(), len(s), s))[0]
        path = site + path[len(name) :]
    raise AssertionError(path)


def _snippet(reference: Reference, path: str, value: Any) -> dict[str, Any]:
    """A program that holds ``value`` at ``path``; the mappings around it hold only
    their kind and required keys (and what ``_NEEDS`` says), beside ``_NAMED``."""
    tokens = _tokens(_from_the_top(reference, path))
    current = value
    for index in reversed(range(len(tokens))):
        token = tokens[index]
        parent = _as_on_the_page("".join(tokens[:index]), reference.shared_sites)
        if token == "[]":
            current = [current]
        elif token.startswith("["):
            node = reference.nodes.get(parent, {})
            listed = node.get("type") == "array" or any(
                b.get("type") == "array" for b in node.get("anyOf", [])
            )
            current = [current] if listed else current
        elif token == ".*":
            keys = reference.built(parent)
            current = {next(iter(keys)) if isinstance(keys, dict) and keys else "x": current}
        else:
            key = token.lstrip(".")
            needs, instead = _NEEDS.get(parent, ({}, set()))
            base = {**reference.minimal(parent), **({} if key in instead else needs)}
            if re.fullmatch(r"(offers|rewards)\.catalog\[kind=\w+\]", parent) and key != "id":
                base["id"] = "its-own-id"  # not "example", the name of the other one
            base[key] = current
            current = base
    assert isinstance(current, dict)
    named = dict(_NAMED)
    if path.endswith(".id"):  # the id shown is "example": no other may have it
        named.pop("rewards")
    elif "rewards" in current:  # then the name "example" is an offer's
        named["offers"] = {"catalog": [{"id": "example", "kind": "free_shipping"}]}
    return {**named, **current}


def test_examples_from_the_example_programs_are_where_the_page_says(
    reference: Reference,
) -> None:
    """A value taken from an example program is in that file, under the key the row
    names (or, written short, under its kind); and every example program loads."""
    files = {p.name: parse_file(p) for p in SAMPLES.iterdir()}
    for name in files:
        load_program(SAMPLES / name)
    checked = 0
    for row in reference.rows():
        example = row.example
        if example is None or example.source not in files:
            continue
        found: Any = files[example.source]
        for step in example.location:
            found = found[step]
        # a list too long to show is shown by one of its items
        alone = isinstance(found, list) and len(example.value) == 1 and example.value[0] in found
        assert found == example.value or alone, row.path
        last = _tokens(row.path)[-1]
        kinds = {m.group(1) for m in re.finditer(r"=([^\]]+)\]", row.path)}
        if last != ".*":
            assert example.location[-1] in {last.lstrip("."), *kinds}, (row.path, example)
        checked += 1
    assert checked > 80


def test_every_other_example_loads_in_a_program(reference: Reference) -> None:
    """An example from the schema, a default or built from the type, placed at its key
    in a small program (beside the names it may refer to), loads."""
    files = {p.name for p in SAMPLES.iterdir()}
    failures: list[str] = []
    rows = [r for r in reference.rows() if r.example and r.example.source not in files]
    assert len(rows) > 100
    for row in rows:
        assert row.example is not None
        try:
            load_program(_snippet(reference, row.path, row.example.value))
        except ConfigurationError as error:
            failures.append(f"{row.path} = {row.example.text}: {error}")
    shown = "\n".join(f for f in failures if f.split(" = ")[0] not in _KNOWN)
    assert not shown, f"example(s) that do not load:\n{shown}"
    assert {f.split(" = ")[0] for f in failures} == _KNOWN, "drop what loads from _KNOWN"


def test_a_wrong_example_would_be_caught(reference: Reference) -> None:
    """The check above can fail: a value out of bounds at a key's path is refused."""
    with pytest.raises(ConfigurationError, match="cost"):
        load_program(_snippet(reference, "rewards.catalog[kind=amount_off].cost", -1))
    with pytest.raises(ConfigurationError, match="amount"):
        load_program(_snippet(reference, "Condition[kind=min_basket].amount", 10.5))
    with pytest.raises(ConfigurationError, match="min_orders"):
        load_program(_snippet(reference, "Audience.min_orders", 0))


# ------------------------------------------------------------------ anchors and links


def test_anchors_are_unique_and_made_from_the_paths(page: str) -> None:
    rows = _ROW.findall(page)
    ids = [anchor for anchor, _ in rows] + _HEADING.findall(page)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    assert all(anchor == anchor_of(path) for anchor, path in rows)
    links = set(re.findall(r"\]\(#([^)]+)\)", page))
    assert links, "the shared types are linked"
    assert links <= set(ids), sorted(links - set(ids))


def test_links_from_other_pages_land_on_a_key(page: str) -> None:
    ids = {anchor for anchor, _ in _ROW.findall(page)} | set(_HEADING.findall(page))
    links = [
        (doc.name, anchor)
        for doc in (ROOT / "docs").rglob("*.md")
        for anchor in re.findall(r"reference/configuration\.md#([\w-]+)", doc.read_text("utf-8"))
    ]
    assert ("configuration.md", "pending-period") in links
    assert [link for link in links if link[1] not in ids] == []


def test_table_cells_do_not_break_the_tables(page: str) -> None:
    """Each row has exactly five cells: a ``|`` inside a cell is escaped."""
    for line in page.splitlines():
        if line.startswith("| <a id="):
            cells = re.split(r"(?<!\\)\|", line)
            assert len(cells) == 7, line


def test_descriptions_come_from_the_schema_however_they_are_written() -> None:
    """A docstring on a model becomes a description: on a key, or on a definition (a
    kind's or a shared type's). Several lines, paragraphs and Markdown characters are
    shown in one table cell without breaking the table."""
    schema = program_json_schema()
    schema["properties"]["name"]["description"] = (
        "The name members see,\nshown as is.\n\nAt most 200 characters | no *markup* <b>."
    )
    schema["$defs"]["Selector"]["description"] = "Products.\n\nBy ``sku`` or category."
    schema["$defs"]["MinPoints"]["description"] = "Holds at least\n``points`` points."
    page = reference_markdown(build_reference(schema, read_samples(SAMPLES)))
    row = next(line for line in page.splitlines() if line.startswith('| <a id="name">'))
    assert "The name members see, shown as is.<br><br>At most 200 characters" in row
    assert "\\| no \\*markup\\* &lt;b&gt;." in row
    assert len(re.split(r"(?<!\\)\|", row)) == 7
    assert "### Selector {#type-selector}\n\nProducts.\n\nBy `sku` or category.\n" in page
    assert "{#kind-condition-min_points}\n\nHolds at least `points` points.\n" in page


# ------------------------------------------------------------------ determinism


def test_the_output_is_the_same_under_another_hash_seed(tmp_path: Path, page: str) -> None:
    out = tmp_path / "configuration.md"
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT / "src")}
    subprocess.run(
        [sys.executable, "-m", "loyalty.program.reference", str(SAMPLES), str(out)],
        check=True,
        env=env,
        cwd=tmp_path,
    )
    assert out.read_text(encoding="utf-8") == page


def test_main_writes_the_page_and_says_how_to_call_it(
    tmp_path: Path, page: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "reference" / "configuration.md"
    assert main([str(SAMPLES), str(out)]) == 0
    assert out.read_text(encoding="utf-8") == page
    assert main([str(SAMPLES)]) == 2
    assert (
        "usage: python -m loyalty.program.reference EXAMPLES_DIR OUTPUT" in capsys.readouterr().err
    )
    assert main([str(tmp_path / "missing"), str(out)]) == 2
    assert "missing: is not a directory of example programs" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    assert main([str(SAMPLES), str(blocker / "configuration.md")]) == 1
    assert "cannot be written" in capsys.readouterr().err


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_the_order_of_the_definitions_does_not_matter(seed: int) -> None:
    schema = program_json_schema()
    names = list(schema["$defs"])
    random.Random(seed).shuffle(names)
    shuffled = {**schema, "$defs": {name: schema["$defs"][name] for name in names}}
    samples = read_samples(SAMPLES)
    assert reference_markdown(build_reference(shuffled, samples)) == reference_markdown(
        build_reference(program_json_schema(), samples)
    )
