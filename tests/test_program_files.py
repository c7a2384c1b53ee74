"""Program files and mappings that are hostile or wrong: each is a ConfigurationError.

Whatever a program file holds (deep nesting, an alias bomb, a key given twice,
bytes that are not UTF-8, a number too long for ``int``, a timezone that is a
directory), ``load_program`` raises :class:`ConfigurationError` naming the file,
the path and the line where they are known, and nothing else.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty import ConfigurationError, Program, load_program
from loyalty.program.amounts import MAX_AMOUNT
from loyalty.program.documents import MAX_DEPTH
from loyalty.program.files import MAX_FILE_BYTES
from tests.builders import BASE, SPEND_LADDER, ladder

ROOT = Path(__file__).resolve().parents[1]
HEAD = "id: club\nname: Club\ncurrency: USD\ntimezone: UTC\n"


def refused(source: Any) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as caught:
        load_program(source)
    return caught.value


def by_path(source: Any) -> dict[str, str]:
    return {problem.path: problem.message for problem in refused(source).problems}


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def reward(**fields: Any) -> dict[str, Any]:
    return {**BASE, "rewards": {"catalog": [{"id": "r", "cost": 1, **fields}]}}


# ------------------------------------------------------------------ 1. depth


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deep.yaml", HEAD + "x: " + "[" * 100_000 + "]" * 100_000),
        ("deep.json", '{"x": ' + "[" * 100_000 + "]" * 100_000 + "}"),
        ("deep.toml", "x = " + "[" * 100_000 + "]" * 100_000),
        ("deep-objects.json", '{"x": ' + '{"a": ' * 100_000 + "1" + "}" * 100_000 + "}"),
        ("deep-tables.toml", "x = " + "{a = " * 100_000 + "1" + "}" * 100_000),
    ],
)
def test_a_document_nested_100k_deep_is_refused_naming_the_bound(
    tmp_path: Path, name: str, text: str
) -> None:
    error = refused(write(tmp_path, name, text))
    assert error.source == str(tmp_path / name)
    assert f"nested more than {MAX_DEPTH} levels deep" in str(error)


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".toml"])
def test_a_document_just_past_the_depth_bound_is_refused_in_every_format(
    tmp_path: Path, suffix: str
) -> None:
    nested: Any = 1
    for _ in range(MAX_DEPTH + 1):
        nested = [nested]
    text = json.dumps({**BASE, "x": nested})
    if suffix == ".toml":
        text = f"x = {json.dumps(nested)}\n"
    assert "levels deep" in str(refused(write(tmp_path, f"club{suffix}", text)))


def test_a_deeply_nested_mapping_is_refused_too() -> None:
    nested: Any = {}
    for _ in range(5_000):
        nested = {"a": nested}
    found = by_path({**BASE, "x": nested})
    assert any("levels deep" in message for message in found.values())


def test_a_mapping_that_contains_itself_is_refused() -> None:
    looped: dict[str, Any] = {**BASE}
    looped["x"] = looped
    assert "levels deep" in str(refused(looped))


# ------------------------------------------------------------------ 2. bytes and numbers


def test_a_latin_1_file_is_refused_naming_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "club.yaml", (HEAD + "# Café\n").encode("latin-1"))
    error = refused(path)
    assert error.source == str(path)
    assert "not UTF-8 text: byte 0xe9 at line 5, column 6" in str(error)


def test_a_binary_file_is_refused(tmp_path: Path) -> None:
    assert "not UTF-8" in str(refused(write(tmp_path, "club.json", bytes(range(256)))))


def test_a_utf8_file_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    path = write(tmp_path, "club.yaml", "\ufeff" + HEAD.replace("Club\n", "Café\n"))
    assert load_program(path).name == "Café"


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        (
            "club.yaml",
            HEAD
            + "rewards: {catalog: [{id: r, kind: amount_off, cost: 1, amount: "
            + "9" * 5000
            + "}]}\n",
            "rewards.catalog[0].amount",
        ),
        ("club.yaml", HEAD + "pending: {period: " + "9" * 5000 + "}\n", "pending.period"),
        (
            "club.json",
            json.dumps(reward(kind="free_shipping", stock=1)).replace(
                '"stock": 1', '"stock": ' + "9" * 5000
            ),
            "rewards.catalog[0].stock",
        ),
        ("club.toml", 'id = "club"\nstock = ' + "9" * 5000 + "\n", ""),
    ],
)
def test_an_integer_of_5000_digits_is_refused_with_its_path(
    tmp_path: Path, name: str, text: str, where: str
) -> None:
    error = refused(write(tmp_path, name, text))
    paths = {problem.path for problem in error.problems}
    assert where in paths
    if name.endswith(".toml"):
        assert "a number is too long (line 2)" in str(error)
    assert len(str(error)) < 1000, "the message does not repeat 5000 digits"


def test_an_impossible_yaml_date_is_refused_at_its_path(tmp_path: Path) -> None:
    text = (
        HEAD
        + "rewards: {catalog: [{id: r, kind: free_shipping, cost: 0,\n"
        + "  valid: {starts: 2026-02-30}}]}\n"
    )
    found = by_path(write(tmp_path, "club.yaml", text))
    assert list(found) == ["rewards.catalog[0].valid.starts"]


def test_dates_outside_1970_to_2200_are_refused() -> None:
    found = by_path(
        reward(kind="free_shipping", valid={"ends": datetime(9999, 12, 31, tzinfo=UTC)})
    )
    assert found == {
        "rewards.catalog[0].valid.ends": "9999-12-31T00:00:00+00:00 is outside "
        "the years 1970 to 2200"
    }


# ------------------------------------------------------------------ 3. timezones


@pytest.mark.parametrize(
    "name",
    [
        "America",
        "x" * 5000,
        "localtime",
        "posixrules",
        "Factory",
        "posix/Europe/Paris",
        "right/UTC",
        "../zoneinfo/UTC",
        "/etc/localtime",
        "",
    ],
)
def test_only_iana_zone_names_are_timezones(name: str) -> None:
    found = by_path({**BASE, "timezone": name})
    assert list(found) == ["timezone"]
    assert "is not an IANA timezone" in found["timezone"]
    assert len(found["timezone"]) < 150


@pytest.mark.parametrize("name", ["UTC", "Europe/Paris", "America/Argentina/Buenos_Aires"])
def test_iana_zone_names_load(name: str) -> None:
    assert load_program({**BASE, "timezone": name}).tz.key == name


# ------------------------------------------------------------------ 4. keys given twice


def test_a_yaml_key_given_twice_is_refused_with_its_path_and_lines(tmp_path: Path) -> None:
    text = (
        HEAD
        + "currency: EUR\nrewards:\n  catalog:\n"
        + "    - {id: r, kind: free_shipping, cost: 0, cost: 5}\n"
    )
    found = by_path(write(tmp_path, "club.yaml", text))
    assert found == {
        "currency": "is given twice (line 3 and line 5); keep one",
        "rewards.catalog[0].cost": "is given twice (line 8 and line 8); keep one",
    }


def test_a_json_key_given_twice_is_refused_with_its_path_and_lines(tmp_path: Path) -> None:
    text = '{"id": "club", "name": "Club",\n "currency": "USD",\n "timezone": "UTC",\n'
    text += ' "currency": "EUR",\n "pending": {"period": "1 day",\n  "period": "2 days"}}'
    found = by_path(write(tmp_path, "club.json", text))
    assert found == {
        "currency": "is given twice (line 2 and line 4); keep one",
        "pending.period": "is given twice (line 5 and line 6); keep one",
    }


def test_a_toml_key_given_twice_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "club.toml", 'id = "a"\nid = "b"\n')
    assert "not valid TOML" in str(refused(path))


# ------------------------------------------------------------------ 5. aliases


def test_a_yaml_alias_bomb_in_hurdles_is_refused(tmp_path: Path) -> None:
    levels = ["    - &l0 {any_of: [" + ", ".join(["{segment: x}"] * 10) + "]}"]
    for level in range(1, 9):
        aliases = ", ".join([f"*l{level - 1}"] * 10)
        levels.append(f"    - &l{level} {{any_of: [{aliases}]}}")
    text = HEAD + (
        "rewards:\n  catalog:\n  - id: r\n    kind: free_shipping\n    cost: 0\n"
        "    hurdles:\n     any_of:\n" + "\n".join(" " + line for line in levels) + "\n"
    )
    assert len(text.encode()) < 1500
    error = refused(write(tmp_path, "bomb.yaml", text))
    assert "expands to more than 100,000 values (aliases expanded" in str(error)


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "loop.yaml", HEAD + "x: &a [1, *a]\n")
    assert "refers to the node that contains it" in str(refused(path))


def test_plain_anchors_aliases_and_merge_keys_still_work(tmp_path: Path) -> None:
    text = (
        HEAD
        + """
rewards:
  catalog:
    - {id: a, kind: amount_off, amount: "5.00", cost: 100,
       hurdles: &repeat {all_of: [{min_basket: "10.00"}, {repeat_order: 1}]}}
    - {id: b, kind: amount_off, amount: "6.00", cost: 120, hurdles: *repeat}
    - &ship {id: c, kind: free_shipping, cost: 0}
    - {<<: *ship, id: d}
"""
    )
    club = load_program(write(tmp_path, "club.yaml", text))
    first, second, _, fourth = club.rewards.catalog
    assert first.hurdles == second.hurdles
    assert (fourth.id, fourth.kind) == ("d", "free_shipping")


# ------------------------------------------------------------------ 6. syntax errors


def test_a_yaml_syntax_error_names_the_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "club.yaml", "id: [unclosed")
    error = refused(path)
    assert error.source == str(path)
    assert str(path) in str(error)
    assert "not valid YAML: expected ',' or ']'" in str(error)
    assert "(line 1, column 14)" in str(error)
    assert "<unicode string>" not in str(error)


def test_a_json_syntax_error_names_the_line_and_column(tmp_path: Path) -> None:
    error = refused(write(tmp_path, "club.json", '{"id": "club",\n "name" "x"}'))
    assert "not valid JSON: Expecting ':' delimiter (line 2, column 9)" in str(error)


# ------------------------------------------------------------------ 7. money and points

MONEY_FIELDS = [
    ("rewards.catalog[0].amount", lambda v: reward(kind="amount_off", amount=v)),
    ("rewards.catalog[0].max_amount", lambda v: reward(kind="free_shipping", max_amount=v)),
    (
        "rewards.catalog[0].max_amount",
        lambda v: reward(kind="percent_off", percent=10, max_amount=v),
    ),
    (
        "rewards.catalog[0].value",
        lambda v: (
            reward(kind="pay_with_points", points=100, value=v)
            | {
                "rewards": {
                    "catalog": [{"id": "r", "kind": "pay_with_points", "points": 100, "value": v}]
                }
            }
        ),
    ),
    (
        "rewards.catalog[0].hurdles.min_basket",
        lambda v: reward(kind="free_shipping", hurdles={"min_basket": v}),
    ),
    (
        "rewards.catalog[0].hurdles.max_points_share.amount",
        lambda v: reward(kind="free_shipping", hurdles={"max_points_share": {"amount": v}}),
    ),
    ("earning.min_subtotal", lambda v: {**BASE, "earning": {"min_subtotal": v}}),
    (
        "tiers.ladder[0].benefits.free_shipping_above",
        lambda v: {
            **BASE,
            "tiers": {
                "metrics": ["orders"],
                "ladder": [{"name": "Member", "benefits": {"free_shipping_above": v}}],
            },
        },
    ),
    (
        "tiers.ladder[1].threshold.net_spend",
        lambda v: {
            **BASE,
            "tiers": {
                "metrics": ["net_spend"],
                "ladder": [{"name": "Member"}, {"name": "Gold", "threshold": {"net_spend": v}}],
            },
        },
    ),
]


@pytest.mark.parametrize(("path", "make"), MONEY_FIELDS, ids=[p for p, _ in MONEY_FIELDS])
@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (10.5, "is a float"),
        (30.0, "is a float"),
        (float("nan"), "is a float"),
        ("1e1", "is not a plain decimal number"),
        ("1e400", "is not a plain decimal number"),
        ("NaN", "is not a plain decimal number"),
        ("Infinity", "is not a plain decimal number"),
        ("5.555", "has more decimals than USD allows (2)"),
        ("10.005", "has more decimals than USD allows (2)"),
        (Decimal("Infinity"), "is not a finite amount"),
        (str(MAX_AMOUNT + 1), "is above the largest amount, 10^12"),
        (True, "is not a number"),
        ([1], "is not a number"),
    ],
)
def test_money_in_the_configuration_is_validated_like_money_in_a_cart(
    path: str, make: Any, value: object, reason: str
) -> None:
    found = by_path(make(value))
    assert path in found
    assert reason in found[path]


@pytest.mark.parametrize(("path", "make"), MONEY_FIELDS, ids=[p for p, _ in MONEY_FIELDS])
@pytest.mark.parametrize("value", ["12.50", 12, "1000000000000", Decimal("7.10")])
def test_money_as_a_string_or_an_integer_loads(path: str, make: Any, value: object) -> None:
    assert isinstance(load_program(make(value)), Program)


def test_money_follows_the_program_currency_decimals() -> None:
    jpy = {**reward(kind="amount_off", amount="500.5"), "currency": "JPY"}
    assert by_path(jpy) == {
        "rewards.catalog[0].amount": "'500.5' has more decimals than JPY allows (0)"
    }
    kwd = {**reward(kind="amount_off", amount="1.125"), "currency": "KWD"}
    assert load_program(kwd).rewards.catalog[0].amount == Decimal("1.125")  # type: ignore[union-attr]


def test_yaml_floats_in_money_are_refused_from_a_file(tmp_path: Path) -> None:
    text = HEAD + (
        "rewards:\n  catalog:\n"
        "    - {id: a, kind: amount_off, amount: 10.5, cost: 1}\n"
        "    - {id: b, kind: free_shipping, cost: 0, hurdles: {min_basket: 30.0}}\n"
        "    - {id: c, kind: amount_off, amount: 1e1, cost: 1}\n"
    )
    found = by_path(write(tmp_path, "club.yaml", text))
    assert set(found) == {
        "rewards.catalog[0].amount",
        "rewards.catalog[1].hurdles.min_basket",
        "rewards.catalog[2].amount",
    }


POINT_FIELDS = [
    (
        "rewards.catalog[0].cost",
        lambda v: (
            reward(kind="free_shipping")
            | {"rewards": {"catalog": [{"id": "r", "kind": "free_shipping", "cost": v}]}}
        ),
    ),
    ("rewards.catalog[0].stock", lambda v: reward(kind="free_shipping", stock=v)),
    (
        "rewards.catalog[0].hurdles.min_points",
        lambda v: reward(kind="free_shipping", hurdles={"min_points": v}),
    ),
    (
        "earning.rules[0].bonus",
        lambda v: {**BASE, "earning": {"rules": [{"name": "b", "bonus": v}]}},
    ),
    ("earning.caps.per_order", lambda v: {**BASE, "earning": {"caps": {"per_order": v}}}),
    (
        "earning.actions.signup.points",
        lambda v: {**BASE, "earning": {"actions": {"signup": {"points": v}}}},
    ),
    (
        "tiers.ladder[0].benefits.birthday_bonus",
        lambda v: {
            **BASE,
            "tiers": {
                "metrics": ["orders"],
                "ladder": [{"name": "Member", "benefits": {"birthday_bonus": v}}],
            },
        },
    ),
]


@pytest.mark.parametrize(("path", "make"), POINT_FIELDS, ids=[p for p, _ in POINT_FIELDS])
@pytest.mark.parametrize("value", [True, 5.0, "5", 10**12 + 1, Decimal(5)])
def test_points_in_the_configuration_are_integers_up_to_10_to_the_12(
    path: str, make: Any, value: object
) -> None:
    assert path in by_path(make(value))


@pytest.mark.parametrize(
    ("section", "path"),
    [
        ({"earning": {"rate": "1e-30"}}, "earning.rate"),
        ({"earning": {"rate": "1e30"}}, "earning.rate"),
        ({"earning": {"currencies": {"EUR": "NaN"}}}, "earning.currencies.EUR"),
        (
            {"earning": {"rules": [{"name": "m", "multiplier": float("inf")}]}},
            "earning.rules[0].multiplier",
        ),
    ],
)
def test_rates_and_multipliers_are_bounded(section: dict[str, Any], path: str) -> None:
    assert path in by_path({**BASE, **section})


# ------------------------------------------------------------------ 8. messages


def test_an_unknown_key_gets_a_suggestion_from_the_keys_valid_at_its_path() -> None:
    found = by_path(
        {**BASE, "earning": {"rules": [{"name": "a", "multiplier": 2, "segment": ["x"]}]}}
    )
    assert found == {"earning.rules[0].segment": "unknown key (did you mean 'segments'?)"}
    assert by_path({**BASE, "tierz": {}}) == {"tierz": "unknown key (did you mean 'tiers'?)"}


def test_a_suggestion_is_never_the_key_itself() -> None:
    found = by_path(
        reward(kind="free_shipping", hurdles={"segment": {"segment": "x", "segmen": 1}})
    )
    assert found == {
        "rewards.catalog[0].hurdles.segment.segmen": "unknown key (did you mean 'segment'?)"
    }


def test_a_typo_in_a_condition_name_names_the_key_and_suggests_the_condition() -> None:
    found = by_path(reward(kind="free_shipping", hurdles={"all_of": [{"min_baskt": "10.00"}]}))
    assert found == {
        "rewards.catalog[0].hurdles.all_of[0].min_baskt": "unknown condition "
        "(did you mean 'min_basket'?)"
    }


def test_a_typo_in_a_reward_kind_is_one_line_without_the_reward() -> None:
    config = reward(
        kind="amount_of", amount="5", valid={"starts": datetime(2026, 1, 1, tzinfo=UTC)}
    )
    error = refused(config)
    assert {p.path: p.message for p in error.problems} == {
        "rewards.catalog[0].kind": "unknown kind 'amount_of' (did you mean 'amount_off'?)"
    }
    assert "datetime" not in str(error)


def test_an_unknown_kind_without_a_close_match_lists_the_kinds() -> None:
    found = by_path(reward(kind="cashback"))
    message = found["rewards.catalog[0].kind"]
    assert message.startswith("unknown kind 'cashback' (one of 'amount_off', ")


def test_a_wrong_value_is_shown_short() -> None:
    found = by_path({**BASE, "rounding": "x" * 5000})
    assert len(found["rounding"]) < 200


# ------------------------------------------------------------------ 9. repr


def test_a_program_prints_as_a_short_summary() -> None:
    club = load_program(ROOT / "examples" / "programs" / "cosmetics-club.yaml")
    text = repr(club)
    assert text.startswith("<Program cosmetics-club: USD, America/New_York, ")
    assert text.endswith(", 1 reward>")
    assert str(club) == text
    tiered = load_program(
        {
            **BASE,
            "tiers": ladder(*SPEND_LADDER),
            "earning": {"rules": [{"name": "a", "multiplier": 2}]},
        }
    )
    assert repr(tiered) == "<Program club: USD, UTC, 1 earning rule, 4 tiers, 0 rewards>"


# ------------------------------------------------------------------ what else a file may be


def test_an_empty_file_and_a_top_level_list_are_refused(tmp_path: Path) -> None:
    assert "must be a mapping of keys, not nothing" in str(refused(write(tmp_path, "e.yaml", "")))
    assert "not a list" in str(refused(write(tmp_path, "l.yaml", "- 1\n")))
    assert "not a str" in str(refused(write(tmp_path, "s.json", '"club"')))


def test_a_directory_a_missing_file_and_a_bad_path_are_refused(tmp_path: Path) -> None:
    (tmp_path / "dir.yaml").mkdir()
    assert "not a regular file" in str(refused(tmp_path / "dir.yaml"))
    assert "cannot read the file" in str(refused(tmp_path / "missing.yaml"))
    assert "cannot read the file" in str(refused(str(tmp_path / "a\x00b.yaml")))
    assert "cannot read the file" in str(refused(str(tmp_path / "\ud800.yaml")))
    assert "cannot read the file" in str(refused("x" * 5000 + ".yaml"))


def test_a_file_above_the_size_bound_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "big.yaml", HEAD + "# " + "x" * MAX_FILE_BYTES + "\n")
    assert "larger than 2,097,152 bytes" in str(refused(path))


def test_keys_that_are_not_text_are_refused(tmp_path: Path) -> None:
    text = HEAD + "2: a\non: b\n2020-01-01: c\n"
    found = by_path(write(tmp_path, "club.yaml", text))
    assert found == {
        "2": "the key 2 is a int, not text; quote it",
        "True": "the key True is a bool, not text; quote it",
        "datetime.date(2020, 1, 1)": "the key datetime.date(2020, 1, 1) is a date, not text; "
        "quote it",
    }


def test_text_with_a_nul_or_a_lone_surrogate_is_refused(tmp_path: Path) -> None:
    found = by_path(
        {
            **BASE,
            "name": "a\x00b",
            "rewards": {
                "catalog": [{"id": "r", "kind": "free_shipping", "cost": 0, "tiers": ["\ud800"]}]
            },
        }
    )
    assert "holds a NUL character" in found["name"]
    assert "holds a lone surrogate" in found["rewards.catalog[0].tiers[0]"]
    path = write(tmp_path, "club.json", json.dumps({**BASE, "name": "\ud800"}))
    assert "lone surrogate" in by_path(path)["name"]


# ------------------------------------------------------------------ property

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.decimals()
    | st.text(max_size=12)
    | st.sampled_from(["", "5.00", "1e400", "UTC", "x" * 300, "\x00"])
    | st.dates()
    | st.datetimes(timezones=st.none() | st.just(UTC))
    | st.integers(min_value=10**20, max_value=10**40)
)
KEYS = st.sampled_from(
    [
        "id",
        "name",
        "currency",
        "timezone",
        "kind",
        "amount",
        "cost",
        "catalog",
        "rewards",
        "hurdles",
        "all_of",
        "min_basket",
        "tiers",
        "ladder",
        "metrics",
        "rules",
        "earning",
        "threshold",
        "policy",
        "after",
        "valid",
        "starts",
    ]
) | st.text(max_size=6)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=25,
)
VALID: dict[str, Any] = {
    **BASE,
    "earning": {"rate": 1, "min_subtotal": "5.00", "rules": [{"name": "x", "multiplier": 2}]},
    "expiry": {"policy": "fixed", "after": "12 months"},
    "tiers": {
        "metrics": ["net_spend"],
        "ladder": [{"name": "Member"}, {"name": "Gold", "threshold": {"net_spend": 500}}],
    },
    "rewards": {
        "catalog": [
            {
                "id": "five-off",
                "kind": "amount_off",
                "amount": "5.00",
                "cost": 100,
                "hurdles": {"all_of": [{"min_points": 100}, {"min_basket": "10.00"}]},
            },
            {"id": "pwp", "kind": "pay_with_points", "points": 100, "value": "1.00"},
        ]
    },
}


def _places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_places(item, (*path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_places(item, (*path, index)))
    return found


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy: Any = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replaced(value[path[0]], path[1:], new)
    return copy


def loads_or_refuses(source: Any) -> None:
    """Loads a Program, or raises a ConfigurationError of short problems; nothing else."""
    refusal: ConfigurationError | None = None
    try:
        loaded = load_program(source)
    except ConfigurationError as error:
        refusal = error
    else:
        assert isinstance(loaded, Program)
    if refusal is not None:
        assert refusal.problems
        assert all(len(str(problem)) < 400 for problem in refusal.problems)


@given(DOCUMENTS)
def test_any_document_loads_or_is_a_configuration_error(document: Any) -> None:
    loads_or_refuses(document if isinstance(document, dict) else {"x": document})
    loads_or_refuses({**BASE, "rewards": document})


@given(st.sampled_from(_places(VALID)[1:]), DOCUMENTS)
def test_any_mutation_of_a_valid_program_loads_or_is_a_configuration_error(
    place: tuple[Any, ...], value: Any
) -> None:
    loads_or_refuses(_replaced(VALID, place, value))


@given(
    st.sampled_from([".yaml", ".json", ".toml"]),
    st.integers(min_value=0, max_value=400),
    st.text(max_size=8)
    | st.sampled_from(["&a [*a]", "*x", "{", "- ", ":", "\t", "!!python/name:os.system"]),
)
def test_any_edit_of_a_valid_file_loads_or_is_a_configuration_error(
    suffix: str, position: int, insert: str
) -> None:
    text = json.dumps(VALID, indent=1) if suffix != ".toml" else 'id = "club"\nname = "C"\n'
    edited = text[:position] + insert + text[position:]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"club{suffix}"
        path.write_bytes(edited.encode("utf-8", "surrogatepass"))
        loads_or_refuses(path)
