"""Program files: read a YAML, TOML or JSON file into data, or say why not.

The file must be a regular file of at most :data:`MAX_FILE_BYTES`, in UTF-8
(a byte-order mark is allowed), with the extension of its format. Each format
is read by a bounded reader (:mod:`~loyalty.program.yamlfile`,
:mod:`~loyalty.program.jsonfile`, ``tomllib``); whatever goes wrong is a
:class:`~loyalty.errors.ConfigurationError` that names the file, and the line
when it is known.
"""

from __future__ import annotations

import re
import stat
import tomllib
from pathlib import Path
from typing import Any, Final

from loyalty.errors import ConfigurationError, Problem
from loyalty.program.documents import MAX_DEPTH
from loyalty.program.jsonfile import read_json
from loyalty.program.yamlfile import read_yaml

__all__ = ["MAX_FILE_BYTES", "parse_file"]

MAX_FILE_BYTES: Final = 2 * 1024 * 1024
"""The largest program file read: 2 MiB."""
_FORMATS: Final = {".yaml": "YAML", ".yml": "YAML", ".toml": "TOML", ".json": "JSON"}


def parse_file(path: Path) -> Any:
    """The raw data of a YAML, TOML or JSON file, chosen by its extension."""
    origin = str(path)
    suffix = path.suffix.lower()
    if suffix not in _FORMATS:
        raise ConfigurationError(
            [Problem("", f"unknown file type {suffix!r}; use .yaml, .yml, .toml or .json")], origin
        )
    text = _text(_bytes(path, origin), origin)
    if _FORMATS[suffix] == "YAML":
        return read_yaml(text, origin)
    if _FORMATS[suffix] == "JSON":
        return read_json(text, origin)
    return _read_toml(text, origin)


def _bytes(path: Path, origin: str) -> bytes:
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            problem = Problem("", "cannot read the file: not a regular file")
            raise ConfigurationError([problem], origin)
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise ConfigurationError([Problem("", f"cannot read the file: {reason}")], origin) from None
    except ValueError as error:  # a NUL or a lone surrogate in the path
        raise ConfigurationError([Problem("", f"cannot read the file: {error}")], origin) from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigurationError(
            [Problem("", f"the file is larger than {MAX_FILE_BYTES:,} bytes")], origin
        )
    return data


def _text(data: bytes, origin: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        byte = data[error.start : error.start + 1].hex()
        problem = Problem(
            "",
            f"not UTF-8 text: byte 0x{byte} at line {line}, column {column}; "
            "save the file as UTF-8",
        )
        raise ConfigurationError([problem], origin) from None


_LONG_NUMBER: Final = re.compile(r"[0-9][0-9_]{4000,}")


def _read_toml(text: str, origin: str) -> Any:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        problem = Problem("", f"not valid TOML: {error}")
    except RecursionError:
        problem = Problem("", f"is nested more than {MAX_DEPTH} levels deep")
    except ValueError:  # an integer longer than Python reads
        found = _LONG_NUMBER.search(text)
        line = f" (line {text.count(chr(10), 0, found.start()) + 1})" if found else ""
        problem = Problem("", f"not valid TOML: a number is too long{line}")
    raise ConfigurationError([problem], origin)
