"""Splitting a history by member, and finding its period, in one pass over the lines.

A line goes to the partition of its member (a stable hash of the member id, the same
in every process and on every machine); a line that names no member (``advance``)
goes to every partition. The lines are not parsed: the member id and the time are
read off the raw text, which is why the split is cheap enough to precede any run.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from loyalty.dates import instant_fault

__all__ = ["Period", "Split", "owner_of", "partition_of", "split_history"]

_MEMBER = re.compile(rb'"member_id"\s*:\s*"((?:[^"\\]|\\.)*)"')
_AT = re.compile(rb'"at"\s*:\s*"([^"]{10,40})"')
_CROSS = re.compile(rb'"type"\s*:\s*"referral"|"referral_code"\s*:\s*"')


def partition_of(member_id: str, partitions: int) -> int:
    """The partition of a member: the same in every process and on every machine."""
    return zlib.crc32(member_id.encode("utf-8", "surrogatepass")) % partitions


def _partition_of_raw(member_id: bytes, partitions: int) -> int:
    """The partition of a member id as the history writes it (JSON-escaped)."""
    if b"\\" in member_id:
        try:
            return partition_of(json.loads(b'"' + member_id + b'"'), partitions)
        except ValueError:
            return 0  # not a string JSON reads: the step's own validation names it
    return zlib.crc32(member_id) % partitions


def owner_of(line: bytes, partitions: int) -> int:
    """The one partition that answers for ``line`` (a line naming several members goes to
    each of their partitions, one naming none to all): its first partition."""
    found = [_partition_of_raw(member, partitions) for member in _MEMBER.findall(line)]
    return min(found, default=0)


@dataclass(slots=True)
class Period:
    """The first and last instants of a history's steps."""

    first: datetime | None = None
    last: datetime | None = None

    def see(self, line: bytes) -> None:
        match = _AT.search(line)
        if match is None:
            return
        try:
            at = datetime.fromisoformat(match.group(1).decode())
        except ValueError:
            return  # the step's own validation names it
        if at.tzinfo is None or at.utcoffset() is None or instant_fault(at) is not None:
            return  # no instant taken (the step's own validation names it)
        if self.first is None or at < self.first:
            self.first = at
        if self.last is None or at > self.last:
            self.last = at


@dataclass(frozen=True, slots=True)
class Split:
    """A history split in ``files`` (one per partition), its period, and whether a step
    links members (a referral): then the members cannot be simulated apart."""

    files: tuple[Path, ...]
    period: Period
    steps: int
    linked: bool


def split_history(lines: Iterable[bytes], partitions: int, directory: Path) -> Split:
    """Write each of ``lines`` to the file of its partition in ``directory``."""
    period = Period()
    files = tuple(directory / f"part-{number:04d}.jsonl" for number in range(partitions))
    steps = 0
    linked = False
    with ExitStack() as stack:
        outs: list[BinaryIO] = [stack.enter_context(path.open("wb")) for path in files]
        for line in _lines(lines):
            steps += 1
            period.see(line)
            if not linked and _CROSS.search(line):
                linked = True
            members = {_partition_of_raw(found, partitions) for found in _MEMBER.findall(line)}
            for number in members or range(partitions):
                outs[number].write(line)
    return Split(files, period, steps, linked)


def _lines(lines: Iterable[bytes]) -> Iterator[bytes]:
    for line in lines:
        if not line.strip():
            continue
        yield line if line.endswith(b"\n") else line + b"\n"
