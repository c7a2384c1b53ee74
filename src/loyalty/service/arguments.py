"""The service's argument checks: each refuses a bad argument with an
:class:`~loyalty.errors.InvalidInput` naming it, before anything is loaded or
written; and the namespace of the service's own idempotency keys."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Final

from loyalty.dates import require_aware
from loyalty.errors import InvalidInput
from loyalty.ledger.requests import positive_points, text

__all__ = [
    "INTERNAL_KEY_PREFIX",
    "MOST_MESSAGES",
    "birthday",
    "caller_key",
    "collection",
    "count",
    "internal_key",
    "member_ids",
    "message_ids",
    "read_arguments",
    "redeem_arguments",
    "segments",
]

_FIRST_BIRTHDAY: Final = date(1900, 1, 1)
_LATEST_BIRTHDAY: Final = date(2200, 1, 1)
MOST_MESSAGES: Final = 10_000
_MOST_MESSAGE_ID: Final = 2**63 - 1

INTERNAL_KEY_PREFIX = "::"
"""Idempotency keys the service writes for itself (the signup award) start with this;
a caller's key may not, so no key a shop sends can collide with one of them."""


def internal_key(name: str) -> str:
    return INTERNAL_KEY_PREFIX + name


def caller_key(key: object) -> str:
    """A caller's idempotency key: any text but the service's own namespace."""
    text(key, "key", required=True)
    assert isinstance(key, str)
    if key.startswith(INTERNAL_KEY_PREFIX):
        raise InvalidInput(
            "key", key, f"keys starting with {INTERNAL_KEY_PREFIX!r} are reserved for the service"
        )
    return key


def count(value: object, field: str, least: int, *, most: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise InvalidInput(field, value, f"must be a whole number of at least {least}")
    if most is not None and value > most:
        raise InvalidInput(field, value, f"must be at most {most:,}")
    return value


def birthday(value: object) -> date | None:
    if value is not None and (isinstance(value, datetime) or not isinstance(value, date)):
        raise InvalidInput("birthday", value, "must be a date")
    if value is not None and not _FIRST_BIRTHDAY <= value < _LATEST_BIRTHDAY:
        raise InvalidInput("birthday", value, "must lie from 1900-01-01 to 2199-12-31")
    return value


def collection(value: object, field: str, what: str) -> None:
    """``value`` must be an iterable that is not text nor a mapping."""
    if isinstance(value, str | bytes | bytearray | Mapping) or not isinstance(value, Iterable):
        raise InvalidInput(field, value, f"must be {what}")


def member_ids(value: object) -> list[str]:
    """The member ids an advance names, each checked before anything is written."""
    collection(value, "member_ids", "a collection of member ids")
    assert isinstance(value, Iterable)
    ids = list(value)
    for member_id in ids:
        text(member_id, "member_ids", required=True)
    return ids


def message_ids(value: object) -> tuple[int, ...]:
    collection(value, "ids", "a collection of outbox message ids")
    assert isinstance(value, Iterable)
    ids = tuple(value)
    for number in ids:
        if (
            isinstance(number, bool)
            or not isinstance(number, int)
            or not 1 <= number <= _MOST_MESSAGE_ID
        ):
            raise InvalidInput("ids", number, "is not an outbox message id")
    return ids


def read_arguments(member_id: object, at: object) -> None:
    text(member_id, "member_id", required=True)
    if at is not None:
        require_aware(at, "at")


def write_arguments(member_id: object, at: object, key: object) -> None:
    """A write's member, time and caller key."""
    text(member_id, "member_id", required=True)
    require_aware(at, "at")
    caller_key(key)


def redeem_arguments(
    member_id: object, reward_id: object, at: object, key: object, points: object, choice: object
) -> None:
    write_arguments(member_id, at, key)
    text(reward_id, "reward_id", required=True)
    if points is not None:
        positive_points(points, "points")
    text(choice, "choice", required=False)


def segments(value: object) -> tuple[str, ...]:
    """Segment names, sorted, each once."""
    collection(value, "segments", "a collection of segment names")
    assert isinstance(value, Iterable)
    tags = list(value)
    for tag in tags:
        text(tag, "segments", required=True)
    return tuple(sorted(set(tags)))
