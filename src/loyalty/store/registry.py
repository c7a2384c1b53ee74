"""What every store checks of a registry row before writing it (see
:class:`~loyalty.store.port.Registry`), so that the stores refuse the same rows.

A space and a key are text of at most :data:`LONGEST` characters that every store can
keep and orders as Python orders ``str``: no NUL (PostgreSQL's text cannot hold it) and
no lone surrogate (not UTF-8). A value is JSON-safe: ``None``, ``bool``, ``int``, a
finite ``float``, ``str``, lists of values and dicts of values under ``str`` keys, its
strings under the same rule as names. Tuples, sets, other keys and other types are
refused rather than written as something else (a tuple would come back a list).
"""

from __future__ import annotations

import math
from typing import Any, Final

__all__ = ["LONGEST", "check_name", "check_value"]

LONGEST: Final = 200
"""The most characters of a space or a key."""


def check_name(what: str, name: object) -> str:
    """``name`` (a space or a key, called ``what`` in errors), if a store can keep it."""
    if not isinstance(name, str):
        raise TypeError(f"a registry {what} is text, not {type(name).__name__}")
    if len(name) > LONGEST:
        raise ValueError(f"a registry {what} has at most {LONGEST} characters: {name[:40]!r}...")
    _check_text(what, name)
    return name


def check_value(value: Any) -> None:
    """Raise unless ``value`` is JSON-safe (see the module's docstring)."""
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, str):
        _check_text("value", value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a registry value is JSON: {value!r} is not")
    elif isinstance(value, list):
        for item in value:
            check_value(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"a registry value's keys are text, not {type(key).__name__}")
            _check_text("value", key)
            check_value(item)
    else:
        raise TypeError(f"a registry value is JSON, not {type(value).__name__}")


def _check_text(what: str, text: str) -> None:
    if "\x00" in text:
        raise ValueError(f"a registry {what} cannot hold NUL: {text[:40]!r}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"a registry {what} is not UTF-8: {text[:40]!r}") from None
