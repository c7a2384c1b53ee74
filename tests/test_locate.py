"""The line of a problem's path in its YAML or JSON file (loyalty.program.locate)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given
from hypothesis import strategies as st

from loyalty.program.locate import Locator, file_locator, message_line

# ---------------------------------------------------------------- a YAML writer that
# knows where it writes: every key and item of a random document, with its line.

Lines = dict[str, int]


def _scalar(value: Any) -> str:
    return json.dumps(value)  # a JSON scalar is a YAML flow scalar


def _key(key: str) -> str:
    """``key`` as written: plain, unless YAML would read it as something else (``no``)."""
    plain = yaml.safe_load(f"{key}: 1")
    return key if plain == {key: 1} else json.dumps(key)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _emit(
    value: Any, path: str, indent: int, out: list[str], lines: Lines, lead: str | None = None
) -> None:
    """Write the collection ``value`` in block style below ``path``, recording the line
    (1-based) where each key and item starts. A collection in a list is written compact
    (``- id: x``, ``- - 1``), as people write it: its first line is ``lead``'s."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for number, (key, item) in enumerate(items):
        pad = lead if number == 0 and lead is not None else " " * indent
        here = _join(path, key) if isinstance(value, dict) else f"{path}[{key}]"
        lines[here] = len(out) + 1
        head = f"{pad}{_key(key)}:" if isinstance(value, dict) else f"{pad}- "
        if isinstance(item, dict | list) and item:
            if isinstance(value, dict):
                out.append(head)
                _emit(item, here, indent + 2, out, lines)
            else:
                _emit(item, here, indent + 2, out, lines, lead=head)
        elif isinstance(item, dict | list):
            out.append(f"{head.rstrip()} {'{}' if isinstance(item, dict) else '[]'}")
        else:
            out.append(f"{head.rstrip()} {_scalar(item)}")


keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-1000, 1000)
    | st.text(alphabet="abc xyz:#-[]{},.", max_size=10)
)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=25,
).filter(lambda document: isinstance(document, dict) and bool(document))


@given(documents, st.integers(0, 3))
def test_every_key_and_item_is_found_on_the_line_where_it_starts(
    document: dict[str, Any], blank_lines: int
) -> None:
    out: list[str] = ["# a comment"] + [""] * blank_lines
    lines: Lines = {}
    _emit(document, "", 0, out, lines)
    text = "\n".join(out) + "\n"
    assert yaml.safe_load(text) == document  # the writer writes the document
    locator = Locator.of_text(text)
    for path, line in lines.items():
        assert locator.line(path) == line, (path, "\n".join(out))


@given(documents)
def test_a_missing_key_points_at_its_parent(document: dict[str, Any]) -> None:
    out: list[str] = []
    lines: Lines = {}
    _emit(document, "", 0, out, lines)
    locator = Locator.of_text("\n".join(out) + "\n")
    for path, line in lines.items():
        assert locator.line(f"{path}.not_a_key_here") == line
        assert locator.line(f"{path}[99]") == line


def test_a_deep_path_in_a_yaml_file() -> None:
    text = """\
# cosmetics
id: club
rewards:
  catalog:
    - id: one
      cost: 100
    - id: two
      hurdles:
        all_of:
          - min_points: 100
          - min_basket: "ten"
"""
    locator = Locator.of_text(text)
    assert locator.line("rewards.catalog[1].hurdles.all_of[1].min_basket") == 11
    assert locator.line("rewards.catalog[1].hurdles.all_of[1]") == 11
    assert locator.line("rewards.catalog[0].cost") == 6
    assert locator.line("rewards.catalog[1]") == 7
    # missing: the deepest part that is there
    assert locator.line("rewards.catalog[1].cost") == 7
    assert locator.line("rewards.catalog[5]") == 4
    assert locator.line("currency") == 2  # the document's first line
    assert locator.line("") == 2


def test_flow_collections_and_json() -> None:
    text = (
        '{\n\t"id": "x",\n\t"rewards": {"catalog": [\n'
        '\t\t{"id": "a"},\n\t\t{"id": "b",\n\t\t "cots": 1}\n\t]}\n}\n'
    )
    locator = Locator.of_text(text, json=True)
    assert locator.line("rewards.catalog[1].cots") == 6
    assert locator.line("rewards.catalog[0].id") == 4
    assert locator.line("id") == 2
    # YAML refuses tabs that indent: read as YAML, the JSON has no lines
    assert Locator.of_text(text).line("id") is None


def test_keys_with_dots_and_brackets_are_matched_as_written() -> None:
    text = 'a:\n  b: 1\n"a.b":\n  c: 2\nrates:\n  "x[0]": 3\n'
    locator = Locator.of_text(text)
    assert locator.line("a.b") == 2
    assert locator.line("a.b.c") == 4
    assert locator.line("rates.x[0]") == 6


def test_merge_keys_point_where_the_anchor_defines_them() -> None:
    text = "base: &base\n  cost: 100\n  kind: x\nreward:\n  <<: *base\n  kind: y\n"
    locator = Locator.of_text(text)
    assert locator.line("reward.cost") == 2
    assert locator.line("reward.kind") == 6  # its own key wins over the merged one
    selfish = Locator.of_text("a: &x\n  <<: *x\n  b: 1\n")
    assert selfish.line("a.c") == 1  # an alias to itself does not loop


def test_text_that_is_not_one_document_has_no_lines() -> None:
    assert Locator.of_text("a: [1,\n").line("a") is None
    assert Locator.of_text("a: 1\n---\nb: 2\n").line("a") is None
    assert Locator.of_text("").line("a") is None
    deep = "a: " + "[" * 200 + "]" * 200 + "\n"
    assert Locator.of_text(deep).line("a") is None


def test_file_locator_reads_yaml_and_json_only(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text("x: 1\ny: 2\n")
    (tmp_path / "p.json").write_text('{\n"x": 1,\n"y": 2}\n')
    (tmp_path / "p.toml").write_text("x = 1\ny = 2\n")
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe")
    assert file_locator(tmp_path / "p.yaml").line("y") == 2
    assert file_locator(tmp_path / "p.json").line("y") == 3
    assert file_locator(tmp_path / "p.toml").line("y") is None
    assert file_locator(tmp_path / "bin.yaml").line("y") is None
    assert file_locator(tmp_path / "missing.yaml").line("y") is None
    assert file_locator(tmp_path).line("y") is None


def test_message_line_takes_the_line_a_reader_names() -> None:
    assert message_line("not valid YAML: found x (line 3, column 5)") == 3
    assert message_line("is given twice (line 2 and line 7); keep one") == 7
    assert message_line("not UTF-8 text: byte 0xff at line 4, column 1; save it") == 4
    assert message_line("expands to more than 100,000 values (aliases expanded; line 9)") == 9
    assert message_line("'ten' is not a plain decimal number") is None
    assert message_line("a cart line 2 ...") is None
