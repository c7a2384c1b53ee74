"""Coupon codes: formats and their entropy, drawing codes, and reading back what a
customer typed (``loyalty.incentives.codes``)."""

from __future__ import annotations

import doctest
import math
from collections import Counter
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from loyalty.errors import CodeSpaceExhausted, InvalidInput, LoyaltyError
from loyalty.incentives import codes
from loyalty.incentives.codes import CROCKFORD, CodeFormat, display, new_code, normalise

UPPER_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

alphabets = st.one_of(
    st.just(CROCKFORD),
    st.sets(st.sampled_from(UPPER_ALNUM), min_size=2).map(lambda chars: "".join(sorted(chars))),
)
formats = st.builds(
    CodeFormat,
    alphabet=alphabets,
    length=st.integers(1, 64),
    prefix=st.from_regex(r"[A-Z0-9-]{0,16}", fullmatch=True),
    group=st.integers(0, 64),
)


@st.composite
def formats_and_codes(draw: st.DrawFn) -> tuple[CodeFormat, str]:
    """A format and a stored code of it, drawn by hypothesis (so failures shrink)."""
    fmt = draw(formats)
    body = draw(st.text(alphabet=fmt.alphabet, min_size=fmt.length, max_size=fmt.length))
    return fmt, fmt.prefix.replace("-", "") + body


# ------------------------------------------------------------------ the format


def test_the_default_format_is_12_crockford_characters_of_60_bits() -> None:
    fmt = CodeFormat()
    assert (fmt.alphabet, fmt.length, fmt.prefix, fmt.group) == (CROCKFORD, 12, "", 4)
    assert len(CROCKFORD) == len(set(CROCKFORD)) == 32
    assert not set("ILOU") & set(CROCKFORD)
    assert fmt.bits == 60
    assert fmt.problems() == []


def test_a_format_of_fewer_than_40_bits_is_a_problem() -> None:
    assert CodeFormat(length=8).problems() == []  # exactly 40 bits
    [problem] = CodeFormat(length=7).problems()
    assert problem.path == "length"
    assert problem.value == 7
    assert problem.message == (
        "codes carry only 35 bits; at least 40 are needed to be unguessable"
    )
    [problem] = CodeFormat(alphabet="0123456789", length=12).problems()
    assert "only 39.8 bits" in problem.message  # 12 * log2(10) = 39.86, never rounded up
    assert CodeFormat(alphabet="01", length=64).problems() == []


@given(formats)
def test_bits_is_length_times_log2_of_the_alphabet(fmt: CodeFormat) -> None:
    assert fmt.bits == pytest.approx(fmt.length * math.log2(len(fmt.alphabet)))
    assert (fmt.problems() == []) == (fmt.bits >= 40)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("alphabet", "A"),  # one character
        ("alphabet", ""),
        ("alphabet", "ABCA"),  # a duplicate
        ("alphabet", "abc"),  # lower case: a code is upper-cased when read back
        ("alphabet", "AB-C"),
        ("alphabet", "AB C"),
        ("alphabet", "AB\u00c9"),  # not ASCII
        ("alphabet", "A" * 100_000),
        ("length", 0),
        ("length", 65),
        ("prefix", "spring"),
        ("prefix", "SPRING_"),
        ("prefix", "A" * 17),
        ("group", -1),
        ("group", 65),
    ],
)
def test_a_malformed_format_is_refused(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        CodeFormat(**{field: value})
    assert [error["loc"] for error in caught.value.errors()] == [(field,)]


def test_a_format_is_a_frozen_section_that_refuses_unknown_keys() -> None:
    with pytest.raises(ValidationError):
        CodeFormat(size=12)  # type: ignore[call-arg]
    fmt = CodeFormat()
    with pytest.raises(ValidationError):
        fmt.length = 4  # type: ignore[misc]


# ------------------------------------------------------------------ drawing codes


def test_a_new_code_is_in_the_stored_form() -> None:
    fmt = CodeFormat(prefix="SPRING-", length=10)
    code = new_code(fmt)
    assert code.startswith("SPRING")
    assert len(code) == len("SPRING") + 10
    assert set(code[6:]) <= set(CROCKFORD)
    assert normalise(code, fmt) == code


def test_ten_thousand_codes_are_distinct_and_in_the_alphabet() -> None:
    fmt = CodeFormat()
    drawn = [new_code(fmt) for _ in range(10_000)]
    assert len(set(drawn)) == len(drawn)
    assert all(len(code) == 12 and set(code) <= set(CROCKFORD) for code in drawn)
    # Not a chi-square test: with 120,000 draws, a character of the 32 is expected
    # 3,750 times; missing one entirely, or seeing one under half that, means a broken draw.
    counts = Counter("".join(drawn))
    assert set(counts) == set(CROCKFORD)
    assert min(counts.values()) > 3750 / 2


def test_a_small_alphabet_is_drawn_whole() -> None:
    fmt = CodeFormat(alphabet="AB", length=64)
    assert {char for _ in range(10) for char in new_code(fmt)} == {"A", "B"}


def test_a_taken_code_is_drawn_again() -> None:
    fmt = CodeFormat()
    asked: list[str] = []

    def taken(code: str) -> bool:
        asked.append(code)
        return len(asked) < 3  # the first two are taken

    code = new_code(fmt, taken)
    assert len(asked) == 3
    assert code == asked[-1]
    assert len(set(asked)) == 3


def test_registering_through_taken_gives_distinct_codes() -> None:
    fmt = CodeFormat(alphabet="01", length=6)  # 64 codes: collisions are certain
    issued: set[str] = set()
    for _ in range(20):
        issued.add(new_code(fmt, issued.__contains__, attempts=1000))
    assert len(issued) == 20


def test_when_every_code_is_taken_it_gives_up_after_the_attempts() -> None:
    fmt = CodeFormat(length=7)
    asked: list[str] = []

    def taken(code: str) -> bool:
        asked.append(code)
        return True

    with pytest.raises(CodeSpaceExhausted) as caught:
        new_code(fmt, taken, attempts=5)
    assert len(asked) == 5
    error = caught.value
    assert issubclass(CodeSpaceExhausted, LoyaltyError)
    assert (error.attempts, error.bits) == (5, 35)
    assert "5 attempts" in str(error)
    assert "35.0 bits" in str(error)
    with pytest.raises(CodeSpaceExhausted):
        new_code(fmt, lambda code: True)  # 8 attempts by default


def test_a_full_code_space_is_exhausted() -> None:
    fmt = CodeFormat(alphabet="01", length=1)
    issued = {"0", "1"}
    with pytest.raises(CodeSpaceExhausted):
        new_code(fmt, issued.__contains__)


@pytest.mark.parametrize("attempts", [0, -1, True, 2.0, "8"])
def test_attempts_must_be_a_whole_number_of_at_least_one(attempts: Any) -> None:
    with pytest.raises(InvalidInput) as caught:
        new_code(CodeFormat(), attempts=attempts)
    assert caught.value.field == "attempts"


# ------------------------------------------------------------------ display and normalise


def test_display_groups_the_characters_after_the_prefix() -> None:
    assert display("K3Q9T7WM2XHR", CodeFormat()) == "K3Q9-T7WM-2XHR"
    assert display("K3Q9T7WM2XHR", CodeFormat(group=5)) == "K3Q9T-7WM2X-HR"
    assert display("K3Q9T7WM2XHR", CodeFormat(group=0)) == "K3Q9T7WM2XHR"
    assert display("K3Q9T7WM2XHR", CodeFormat(group=12)) == "K3Q9T7WM2XHR"
    spring = CodeFormat(prefix="SPRING-")
    assert display("SPRINGK3Q9T7WM2XHR", spring) == "SPRING-K3Q9-T7WM-2XHR"
    assert display("SUMMER24K3Q9T7WM2XHR", CodeFormat(prefix="SUMMER-24-")) == (
        "SUMMER-24-K3Q9-T7WM-2XHR"
    )


@pytest.mark.parametrize(
    "code", ["K3Q9T7WM2XH", "K3Q9T7WM2XHRR", "K3Q9T7WM2XHO", "k3q9t7wm2xhr", "K3Q9-T7WM-2XHR"]
)
def test_display_refuses_what_is_not_a_stored_code(code: str) -> None:
    with pytest.raises(InvalidInput):
        display(code, CodeFormat())


@given(formats_and_codes())
def test_a_displayed_code_normalises_to_itself(case: tuple[CodeFormat, str]) -> None:
    fmt, code = case
    shown = display(code, fmt)
    assert normalise(shown, fmt) == code
    assert normalise(code, fmt) == code
    assert normalise(f"  {shown.lower()}\t\n", fmt) == code
    if fmt.group:
        assert all(len(part) <= fmt.group for part in shown.removeprefix(fmt.prefix).split("-"))


@given(st.data())
def test_a_drawn_code_normalises_to_itself(data: st.DataObject) -> None:
    fmt = data.draw(formats)
    code = new_code(fmt)
    assert normalise(display(code, fmt), fmt) == code


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("k3q9-t7wm-2xhr", "K3Q9T7WM2XHR"),
        (" K3Q9 T7WM 2XHR ", "K3Q9T7WM2XHR"),
        ("K3Q9\u00a0T7WM\u20032XHR", "K3Q9T7WM2XHR"),  # no-break and em spaces
        ("K3Q9\u2013T7WM\u20102XHR", "K3Q9T7WM2XHR"),  # an en dash and a hyphen
        ("K3Q9--T7WM-2XHR-", "K3Q9T7WM2XHR"),
        ("oO1I-iLlA-BCDE", "0011111ABCDE"),  # O for 0; I and L for 1
        ("K3Q9T7WM2XHO", "K3Q9T7WM2XH0"),
    ],
)
def test_what_a_customer_types_is_normalised(typed: str, stored: str) -> None:
    assert normalise(typed, CodeFormat()) == stored


def test_the_prefix_is_required_and_read_without_confusables() -> None:
    fmt = CodeFormat(prefix="PROMO-", length=4)
    assert normalise("promo-abcd", fmt) == "PROMOABCD"
    assert normalise("PROMOABCD", fmt) == "PROMOABCD"
    assert normalise("PROMO-ABCO", fmt) == "PROMOABC0"
    assert normalise("PR0M0-ABCD", fmt) is None  # the prefix is taken literally
    assert normalise("ABCD", fmt) is None
    assert normalise("SALE-ABCD", fmt) is None


def test_confusables_are_read_only_where_the_alphabet_has_the_digit_and_not_the_letter() -> None:
    digits = CodeFormat(alphabet="0123456789", length=4)
    assert normalise("1O2l", digits) == "1021"
    full = CodeFormat(alphabet=UPPER_ALNUM, length=4)
    assert normalise("OIL0", full) == "OIL0"  # O, I and L are characters of their own
    letters = CodeFormat(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", length=4)
    assert normalise("0ABC", letters) is None  # no digit to read O as: 0 is not a character


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "----",
        "K3Q9-T7WM-2XH",  # one short
        "K3Q9-T7WM-2XHRR",  # one too many
        "K3Q9-T7WM-2XHU",  # U is not in Crockford base32
        "K3Q9-T7WM-2XH!",
        "K3Q9-T7WM-2XH\u0280",  # a small capital R
        "K3Q9-T7WM-2XH\uff32",  # a full-width R
        "K3Q9-T7WM-2XH\u0131",  # a dotless i, which upper-cases to I
        "K3Q9-T7WM-2X\u00df",  # sharp s, which upper-cases to SS
        "K3Q9-T7WM-2XH\x00",
        "K3Q9-T7WM-2XH\ud800",
        "K3Q9-T7WM-2XHR" + " " * 2000,
        "K" * 10**6,
    ],
)
def test_what_is_no_code_normalises_to_none(typed: str) -> None:
    assert normalise(typed, CodeFormat()) is None


@pytest.mark.parametrize("value", [None, 12, b"K3Q9T7WM2XHR", ["K3Q9T7WM2XHR"], object()])
def test_what_is_not_text_normalises_to_none(value: Any) -> None:
    assert normalise(value, CodeFormat()) is None


@given(st.text(), formats)
def test_normalise_never_raises(text: str, fmt: CodeFormat) -> None:
    found = normalise(text, fmt)
    if found is not None:
        assert normalise(found, fmt) == found
        assert display(found, fmt)


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=40))
def test_normalise_on_ascii_text_gives_a_code_or_none(text: str) -> None:
    found = normalise(text, CodeFormat(length=4, group=2))
    assert found is None or (len(found) == 4 and set(found) <= set(CROCKFORD))


def test_the_examples_in_the_docstrings_hold() -> None:
    failures, tried = doctest.testmod(codes, raise_on_error=False)
    assert tried > 0
    assert failures == 0


def test_an_alphabet_that_does_not_divide_256_draws_every_character_too() -> None:
    fmt = CodeFormat(alphabet="0123456789", length=16)  # 53 bits: drawn by secrets.choice
    codes = {new_code(fmt) for _ in range(2_000)}
    assert len(codes) == 2_000
    assert set("".join(codes)) == set(fmt.alphabet)
    assert all(len(code) == 16 for code in codes)
