"""Reading a file of steps (JSON lines) as ``replay`` and ``quote --events`` do, with
memory bounded whatever the file holds.

A line is at most :data:`MAX_LINE` bytes: a longer one (a 10 MB line, ``/dev/zero``)
is never held whole; it comes out as :data:`TOO_LONG` and the rest of it is skipped,
up to :data:`MAX_SKIPPED` bytes, after which the file is refused (it is not a file of
steps). A UTF-8 byte order mark is dropped; a UTF-16 or UTF-32 file is refused at
once (every line of it would be rejected).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import IO, Final

from loyalty.cli.common import Failure

__all__ = [
    "MAX_LINE",
    "MAX_SKIPPED",
    "TOO_LONG",
    "check_encoding",
    "is_skipped",
    "numbered_lines",
    "too_long",
]

MAX_LINE: Final = 1 << 20
"""The longest line read, in bytes (1 MiB: a step with a cart of thousands of lines)."""

MAX_SKIPPED: Final = 64 << 20
"""The most bytes of one line skipped before the file is refused."""

TOO_LONG: Final = b""
"""What :func:`numbered_lines` gives for a line longer than :data:`MAX_LINE`
(told apart from a blank line, which is never empty: it holds its newline)."""


def too_long() -> str:
    """The message of a line longer than :data:`MAX_LINE`."""
    return f"the line is longer than {MAX_LINE:,} bytes; a step is one JSON object on one line"


def check_encoding(shown: str, handle: IO[bytes]) -> None:
    """Refuse a UTF-16 or UTF-32 file (``shown``: its name in the message)."""
    if handle.seekable():
        head = handle.read(4)
        handle.seek(0)
    elif isinstance(handle, io.BufferedReader):
        head = handle.peek(4)[:4]
    else:  # pragma: no cover - standard input is buffered
        return
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or head == b"\x00\x00\xfe\xff":
        raise Failure(f"{shown}: is UTF-16 or UTF-32 text; a file of steps is UTF-8")


def numbered_lines(handle: IO[bytes], shown: str) -> Iterator[tuple[int, bytes]]:
    """The lines of ``handle``, numbered from 1, each with its newline (a UTF-8 byte
    order mark dropped); :data:`TOO_LONG` for a line longer than :data:`MAX_LINE`."""
    number = 0
    while raw := handle.readline(MAX_LINE + 1):
        number += 1
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:] or b"\n"
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            _skip_rest(handle, shown, number)
            yield number, TOO_LONG
            continue
        yield number, raw


def _skip_rest(handle: IO[bytes], shown: str, number: int) -> None:
    skipped = 0
    while chunk := handle.readline(MAX_LINE):
        if chunk.endswith(b"\n"):
            return
        skipped += len(chunk)
        if skipped > MAX_SKIPPED:
            raise Failure(
                f"{shown}:{number}: a line of more than {MAX_SKIPPED:,} bytes: "
                "this is not a file of steps (one JSON object a line)"
            )


def is_skipped(raw: bytes) -> bool:
    """Whether a line is blank or a comment (its first character, after spaces, ``#``)."""
    text = raw.strip()
    return not text or text.startswith(b"#")
