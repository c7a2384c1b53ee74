"""Text taken at a boundary: ids, keys, names and reasons.

Text reaches journals, stores and SQL drivers, so it must be encodable and
printable: a character that is a lone UTF-16 surrogate (``"\\ud800"``, which
UTF-8 cannot encode) or a control character other than tab, line feed and
carriage return (NUL, escape, DEL, the C1 controls...) is refused wherever text
is taken: member ids, keys, order ids, reasons, actors, reward ids, segment
names, skus, cart and event fields.
"""

from __future__ import annotations

import re
from typing import Final

from loyalty.errors import shown

__all__ = ["MAX_TEXT", "printable", "text_fault"]

MAX_TEXT: Final = 500
"""The longest text taken (ids, keys, reasons...), in characters."""

_WHITESPACE: Final = "\t\n\r"
_FORBIDDEN: Final = re.compile(
    "[" + "".join(
        f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))
        if chr(code) not in _WHITESPACE
    ) + "\ud800-\udfff]"
)


def text_fault(value: str) -> str | None:
    """Why ``value`` cannot be taken as text, or ``None`` if it can."""
    found = _FORBIDDEN.search(value)
    if found is None:
        return None
    code = ord(found.group())
    kind = "a lone surrogate" if 0xD800 <= code <= 0xDFFF else "a control character"
    return f"contains {kind} (U+{code:04X}) at position {found.start()}"


def printable(value: object) -> object:
    """A validator for text fields of boundary models (carts, events): text with a
    :func:`text_fault` raises ``ValueError`` naming it; anything else passes."""
    if isinstance(value, str):
        fault = text_fault(value)
        if fault is not None:
            raise ValueError(f"{shown(value)} {fault}")
    return value
