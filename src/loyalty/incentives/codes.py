"""Coupon codes nobody can guess: their format, drawing a new one, and reading one back.

A code is drawn with :mod:`secrets`, one character at a time from the format's
``alphabet``, so a code of ``length`` characters carries ``length * log2(len(alphabet))``
bits (:attr:`CodeFormat.bits`); the default, 12 characters of Crockford base32, carries 60,
and a format of fewer than 40 is a problem. A code has two spellings:

* the *stored* form, what :func:`new_code` returns and what a registry keeps: the
  prefix without its dashes, then the characters (``SPRINGK3Q9T7WM2XHR``);
* the *displayed* form, what a customer reads (:func:`display`): the prefix as
  written, then the characters in groups of ``group`` joined by ``-``
  (``SPRING-K3Q9-T7WM-2XHR``).

:func:`normalise` turns what a customer typed back into the stored form, or ``None``:
whitespace and dashes go, letters are upper-cased, and a letter read for a digit
(``O`` for ``0``; ``I`` and ``L`` for ``1``) is taken as the digit when the alphabet has
the digit and not the letter, as Crockford base32 does.

>>> spring = CodeFormat(prefix="SPRING-")
>>> display("SPRINGK3Q9T7WM2XHR", spring)
'SPRING-K3Q9-T7WM-2XHR'
>>> normalise(" spring-k3q9-t7wm-2xhr ", spring)
'SPRINGK3Q9T7WM2XHR'
>>> normalise("SPRING-K3Q9-T7WM-2XHO", spring)  # an O for a 0
'SPRINGK3Q9T7WM2XH0'
>>> normalise("K3Q9-T7WM-2XHR", spring) is None  # no prefix
True
"""

from __future__ import annotations

import math
import secrets
from collections import Counter
from collections.abc import Callable
from functools import cache, lru_cache
from typing import Final

from pydantic import Field, field_validator

from loyalty.errors import CodeSpaceExhausted, InvalidInput, Problem
from loyalty.program.types import Section

__all__ = [
    "CROCKFORD",
    "CodeFormat",
    "display",
    "new_code",
    "normalise",
    "shown_code",
]

CROCKFORD: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford base32: digits and upper-case letters without I, L, O and U."""

MIN_BITS: Final = 40
"""A format whose codes carry fewer bits than this is a problem (:meth:`CodeFormat.problems`)."""

_CHARACTERS: Final = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_CONFUSABLE: Final = (("O", "0"), ("I", "1"), ("L", "1"))
"""A letter a customer may type for a digit, and the digit."""

_DASHES: Final = str.maketrans("", "", "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212")
"""The hyphen and its look-alikes, as text pasted from an e-mail may have them."""

_LONGEST_INPUT: Final = 1024
"""Longer text is no code of any format (at most 16 + 64 + 63 characters displayed)."""


class CodeFormat(Section):
    """How codes look: drawn from ``alphabet``, ``length`` characters after ``prefix``,
    displayed in groups of ``group`` (0: in one piece)."""

    alphabet: str = Field(
        default=CROCKFORD,
        description="The characters of a code: upper-case ASCII letters and digits, each once.",
    )
    length: int = Field(
        default=12, ge=1, le=64, description="Characters drawn for each code, after the prefix."
    )
    prefix: str = Field(
        default="",
        max_length=16,
        pattern=r"^[A-Z0-9-]*$",
        description="Written before every code as displayed (upper-case ASCII letters, digits "
        "and '-'); stored without its dashes.",
    )
    group: int = Field(
        default=4, ge=0, le=64, description="Display a '-' every this many characters; 0: none."
    )

    @field_validator("alphabet")
    @classmethod
    def _alphabet(cls, alphabet: str) -> str:
        wrong = sorted(set(alphabet) - _CHARACTERS)
        if wrong:
            raise ValueError(
                f"has {''.join(wrong[:10])!r}: only upper-case ASCII letters and digits "
                "(a code is upper-cased when it is read back)"
            )
        twice = sorted(char for char, times in Counter(alphabet).items() if times > 1)
        if twice:
            raise ValueError(f"lists {''.join(twice)!r} more than once")
        if len(alphabet) < 2:
            raise ValueError("needs at least 2 characters")
        return alphabet

    @property
    def bits(self) -> float:  # float-ok: entropy in bits, not money
        """How many bits of chance a code carries: ``length * log2(len(alphabet))``."""
        return self.length * math.log2(len(self.alphabet))

    def problems(self) -> list[Problem]:
        """Codes too easy to guess: fewer than 40 bits."""
        bits = self.bits
        if bits >= MIN_BITS:
            return []
        shown = f"{math.floor(bits * 10) / 10:g}"
        return [
            Problem(
                "length",
                f"codes carry only {shown} bits; at least {MIN_BITS} are needed to be unguessable",
                self.length,
            )
        ]


def new_code(fmt: CodeFormat, taken: Callable[[str], bool] | None = None, attempts: int = 8) -> str:
    """A new code in its stored form (the prefix without dashes, then the characters).

    The characters come from :mod:`secrets`: for an alphabet whose size divides 256
    (Crockford's 32, 16, 64...) one read of random bytes, each byte mapped to a
    character (every character equally likely); for any other, each character drawn
    with :func:`secrets.choice`. If ``taken(code)`` says the code exists, another is
    drawn, ``attempts`` times in all; then :class:`~loyalty.errors.CodeSpaceExhausted`
    is raised."""
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        raise InvalidInput("attempts", attempts, "is not a whole number of at least 1")
    prefix = _stored_prefix(fmt.prefix)
    draw = _drawing(fmt.alphabet)
    for _ in range(attempts):
        code = prefix + draw(fmt.length)
        if taken is None or not taken(code):
            return code
    raise CodeSpaceExhausted(attempts, fmt.bits)


@lru_cache(maxsize=64)
def _drawing(alphabet: str) -> Callable[[int], str]:
    """How to draw ``n`` characters of ``alphabet`` uniformly at random."""
    if 256 % len(alphabet):
        return lambda n: "".join([secrets.choice(alphabet) for _ in range(n)])
    table = bytes.maketrans(bytes(range(256)), (alphabet * (256 // len(alphabet))).encode())
    return lambda n: secrets.token_bytes(n).translate(table).decode()


def shown_code(code: str | None, fmt: CodeFormat) -> str:
    """A stored code as the customer reads it (:func:`display`), or as stored if the
    program's code format changed since it was issued."""
    try:
        return display(code or "", fmt)
    except InvalidInput:
        return code or ""


def normalise(text: object, fmt: CodeFormat) -> str | None:
    """What a customer typed, in the stored form; ``None`` if it is no code of ``fmt``.

    Whitespace and dashes are dropped anywhere, letters upper-cased, and ``O``, ``I``
    and ``L`` after the prefix are read as ``0``, ``1`` and ``1`` when the alphabet has
    the digit but not the letter. Anything else is ``None``: the wrong length, a
    character outside the alphabet or outside ASCII, a missing prefix, text of over
    1,024 characters, or something that is not a ``str``. Never raises."""
    if not isinstance(text, str) or len(text) > _LONGEST_INPUT:
        return None
    compact = "".join(text.split()).translate(_DASHES)
    if not compact.isascii():
        return None
    compact = compact.upper()
    prefix = _stored_prefix(fmt.prefix)
    if not compact.startswith(prefix):
        return None
    characters, readings = _alphabet(fmt.alphabet)
    body = compact[len(prefix) :].translate(readings)
    if len(body) != fmt.length or not characters.issuperset(body):
        return None
    return prefix + body


def display(code: str, fmt: CodeFormat) -> str:
    """A stored code as a customer reads it: the prefix as written, then the characters
    in groups of ``group`` joined by ``-``. Raises :class:`~loyalty.errors.InvalidInput`
    if ``code`` is not a stored code of ``fmt``."""
    prefix = _stored_prefix(fmt.prefix)
    characters, _ = _alphabet(fmt.alphabet)
    if not (
        isinstance(code, str)
        and len(code) == len(prefix) + fmt.length
        and code.startswith(prefix)
        and characters.issuperset(code[len(prefix) :])
    ):
        raise InvalidInput("code", code, "is not a stored code of this format")
    body = code[len(prefix) :]
    size = fmt.group or len(body)
    return fmt.prefix + "-".join(body[start : start + size] for start in range(0, len(body), size))


def _stored_prefix(prefix: str) -> str:
    return prefix.replace("-", "")


@cache
def _alphabet(alphabet: str) -> tuple[frozenset[str], dict[int, int]]:
    """The characters of ``alphabet``, and the table reading a confusable letter it lacks
    as the digit it has."""
    readings = {
        ord(letter): ord(digit)
        for letter, digit in _CONFUSABLE
        if letter not in alphabet and digit in alphabet
    }
    return frozenset(alphabet), readings
