"""``loyalty.load_json``: a request's JSON body, read strictly (the rules events follow)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty import InvalidEvent, InvalidInput, load_event_json, load_json

SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=10)


def _containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)


VALUES = st.recursive(SCALARS | st.decimals(allow_nan=False, places=2), _containers, max_leaves=10)


def _plain(value: Any) -> Any:
    """``value`` as JSON would carry it: a Decimal as a JSON number."""
    if isinstance(value, Decimal):
        return float(value)  # float-ok: only to write the test's JSON text
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


@given(st.dictionaries(st.text(max_size=5), VALUES, max_size=4))
def test_an_object_reads_back_with_fractions_as_decimals(data: dict[str, Any]) -> None:
    text = json.dumps(data, default=str)
    assert load_json(text) == json.loads(text, parse_float=Decimal)
    assert load_json(text.encode("utf-8")) == load_json(text)


@pytest.mark.parametrize(
    ("text", "value", "reason"),
    [
        (b'{"id": 1, "id": 2}', "id", "is given twice in one object"),
        (b"[1, 2]", b"[1, 2]", "is not a JSON object"),
        (b'{"a": "\xff"}', b'{"a": "\xff"}', "is not UTF-8 (at byte 8)"),
        ('{"a": NaN}', '{"a": NaN}', "holds NaN, which is not a number"),
        ('{"a": -Infinity}', '{"a": -Infinity}', "holds -Infinity, which is not a number"),
        ("[" * 33 + "]" * 33, "[" * 33 + "]" * 33, "deeper than 32 levels"),
        ('{"n": ' + "9" * 5000 + "}", '{"n": ' + "9" * 5000 + "}", "more digits than"),
        ("{", "{", "is not JSON"),
        (5, 5, "is not text (str or bytes)"),
    ],
)
def test_a_body_refused_names_the_field_and_what_is_wrong(
    text: Any, value: Any, reason: str
) -> None:
    with pytest.raises(InvalidInput, match=re.escape(reason)) as refused:
        load_json(text, field="request body")
    assert refused.value.field == "request body"
    assert refused.value.value == value
    assert len(str(refused.value)) < 400  # a huge body is cut in the message


def test_nesting_of_a_hundred_thousand_levels_is_refused_before_parsing() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(InvalidInput, match="deeper than 32"):
        load_json(deep)
    with pytest.raises(InvalidEvent, match="deeper than 32"):
        load_event_json(deep)


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    text = json.dumps({"note": "[" * 100 + "{" * 100})
    assert load_json(text) == {"note": "[" * 100 + "{" * 100}


def test_an_event_s_refusal_is_still_an_invalid_event_with_the_key_s_path() -> None:
    with pytest.raises(InvalidEvent) as refused:
        load_event_json(b'{"type": "birthday", "type": "order_completed"}')
    (problem,) = refused.value.problems
    assert (problem.path, problem.message) == ("type", "is given twice in one object")
