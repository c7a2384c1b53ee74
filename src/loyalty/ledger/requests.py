"""What every write operation does first: validate, check idempotency, place in time.

``Request.begin`` validates the common fields, fingerprints the request content
(``at`` excluded, so a retried webhook is the same request) and returns the
entry an earlier request with the same key wrote, if any; ``Request.fields``
gives a new entry its id, place, time, key and fingerprint.

A request dated before the account's clock (a late webhook) is not refused: it
is written at the clock (:attr:`Request.at`, so the journal never goes back) and
keeps its own time as :attr:`Request.occurred`, which the operations use for
what depends on when the fact happened. Its entries carry it as ``occurred_at``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, TypeVar

from pydantic import BaseModel

from loyalty.dates import require_aware
from loyalty.errors import (
    CurrencyMismatch,
    InvalidInput,
    InvalidMoney,
    InvalidPoints,
)
from loyalty.ledger.account import Account
from loyalty.ledger.calendar import calendar
from loyalty.ledger.entries import Entry, TierChange
from loyalty.money import MAX_POINTS, Money
from loyalty.program.model import Program
from loyalty.text import MAX_TEXT, text_fault

__all__ = [
    "MAX_POINTS",
    "Request",
    "expiry_for",
    "money_amount",
    "nonzero_points",
    "positive_points",
    "positive_units",
    "require_account",
    "require_flag",
    "same",
    "text",
    "unit_counts",
]


_E = TypeVar("_E", bound=Entry)


@dataclass(frozen=True, slots=True)
class Request:
    at: datetime
    """When the request is written: its own time, or the account's clock if that is later."""
    key: str
    fingerprint: str
    original: Entry | None
    occurred: datetime
    """The request's own time (before :attr:`at` only for a late request)."""

    @property
    def late(self) -> bool:
        return self.occurred < self.at

    @classmethod
    def begin(
        cls, account: Account, operation: str, at: datetime, key: str, **content: Any
    ) -> Request:
        instant = require_aware(at, "at")
        text(key, "key", required=True)
        for name in ("source", "reason", "actor"):
            text(content.get(name), name, required=False)
        fingerprint = _fingerprint(operation, content)
        original = account.replayed(
            key, fingerprint, operation, legacy=lambda: _legacy_fingerprint(operation, content)
        )
        clock = account.clock
        written = clock if clock is not None and instant < clock else instant
        return cls(written, key, fingerprint, original, instant)

    def expires(self, program: Program) -> datetime | None:
        """When points this request credits expire: per the program's policy from its own
        time, but never before it is written (late points already due expire at once)."""
        expires = calendar(program).expires(self.occurred)
        return expires if expires is None or expires >= self.at else self.at

    def settle(self, account: Account) -> None:
        """After a late request credited points: expire at once what was already due."""
        if self.late:
            account.advance(self.at)

    def upgrade_tier(self, account: Account) -> TierChange | None:
        """The upgrade this request's facts call for, written under its key, so that a
        replay of the request returns it and never a later, keyless change."""
        return account.upgrade_tier(self.at, key=self.key, fingerprint=self.fingerprint)

    def available(self, program: Program) -> datetime:
        """When points this request earns leave pending: the return window counts from
        its own time (for a late request it may already have passed)."""
        return calendar(program).available(self.occurred)

    def fields(
        self, account: Account, points: int, reason: str, source: str | None
    ) -> dict[str, Any]:
        return {
            **account.header(self.at, points, reason),
            "source": source,
            "key": self.key,
            "fingerprint": self.fingerprint,
            "occurred_at": self.occurred if self.late else None,
        }


FINGERPRINT_VERSION: Final = "c1:"
"""Fingerprints carry their scheme; one without (32 hex digits) is of the first scheme."""


def _fingerprint(operation: str, content: Mapping[str, Any]) -> str:
    """A hash of the operation and, field by field in name order, the canonical form of
    what the caller sent (:func:`canonical`; a model is hashed as its JSON form)."""
    digest = hashlib.sha256(operation.encode())
    for name in sorted(content):
        form = canonical(content[name])
        digest.update(b"\0" + name.encode() + b"=")
        digest.update(form if isinstance(form, bytes) else repr(form).encode())
    return FINGERPRINT_VERSION + digest.hexdigest()[:32]


def _legacy_fingerprint(operation: str, content: Mapping[str, Any]) -> str:
    """The first scheme (a JSON dump), to recognise a key stored before the current one."""
    plain = {
        name: value.model_dump(mode="json") if isinstance(value, BaseModel) else value
        for name, value in content.items()
    }
    dumped = json.dumps({"operation": operation, **plain}, sort_keys=True, default=str)
    return hashlib.sha256(dumped.encode()).hexdigest()[:32]


def canonical(value: object) -> object:
    """``value`` as nested tuples of plain values that compare, and ``repr``, the same in
    every process: a model as bytes (its class name and JSON form: every field, in
    order), sets sorted, mappings sorted by key, amounts and times as text."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is Decimal:
        return str(value)
    if isinstance(value, BaseModel):
        # The model's own JSON: every field in order, in Rust. Models that hold sets
        # serialise them sorted (see Customer.segments), so it is the same everywhere.
        dumped = value.__pydantic_serializer__.to_json(value)
        return type(value).__name__.encode() + b":" + dumped
    if isinstance(value, tuple | list):
        return tuple(map(canonical, value))
    if isinstance(value, str | int):  # enumerations
        return str(value)
    if isinstance(value, Decimal | datetime | Money):
        return str(value)
    if isinstance(value, frozenset | set):
        if all(type(item) is str for item in value):
            return ("set", *sorted(value))
        return ("set", *sorted(map(canonical, value), key=repr))
    if isinstance(value, Mapping):
        return ("map", *sorted((str(name), canonical(item)) for name, item in value.items()))
    raise TypeError(f"cannot fingerprint a {kind.__name__}")


def same(entry: Entry, kind: type[_E]) -> _E:
    """The entry a replayed key returned, as the kind the operation writes."""
    if not isinstance(entry, kind):  # pragma: no cover - the fingerprint names the operation
        raise TypeError(f"idempotency key belongs to a {entry.kind} entry")
    return entry


def require_account(account: object) -> Account:
    """``account`` must be an :class:`~loyalty.Account` (from ``open_account``/``restore``)."""
    if not isinstance(account, Account):
        raise InvalidInput("account", account, "is not an Account; open one with open_account()")
    return account


def require_flag(value: object, field: str) -> bool:
    """``value`` must be ``True`` or ``False``."""
    if not isinstance(value, bool):
        raise InvalidInput(field, value, "must be true or false")
    return value


def unit_counts(value: object, field: str) -> None:
    """``value`` must be ``None`` or map line ids (text) to positive whole numbers of units
    (at most :data:`MAX_POINTS`)."""
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise InvalidInput(field, value, "must map line ids to units")
    for ref, count in value.items():
        text(ref, field, required=True)
        positive_units(count, f"{field}.{ref}")


def positive_units(value: object, field: str) -> None:
    """``value`` must be a whole number of units from 1 to :data:`MAX_POINTS`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_POINTS:
        raise InvalidInput(field, value, "must be a positive whole number of units")


def positive_points(points: object, field: str) -> None:
    """``points`` must be a whole number from 1 to :data:`MAX_POINTS`."""
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise InvalidPoints(field, points, "must be a positive whole number")
    if points > MAX_POINTS:
        raise InvalidPoints(field, points, f"is more than the most points allowed ({MAX_POINTS:,})")


def nonzero_points(points: object, field: str) -> None:
    """``points`` must be a whole number, not zero, of at most :data:`MAX_POINTS` either way."""
    if isinstance(points, bool) or not isinstance(points, int) or points == 0:
        raise InvalidPoints(field, points, "must be a non-zero whole number")
    if abs(points) > MAX_POINTS:
        raise InvalidPoints(field, points, f"is beyond the most points allowed (±{MAX_POINTS:,})")


def money_amount(
    amount: object, currency: str | None, field: str, *, positive: bool = False
) -> None:
    """``amount`` must be Money (in ``currency``, if given), not negative (nor zero if
    ``positive``)."""
    if not isinstance(amount, Money):
        raise InvalidMoney(field, amount, "is not Money; build one with Money('12.50', 'USD')")
    if currency is not None and amount.currency != currency:
        raise CurrencyMismatch(currency, amount.currency, field)
    if amount.amount < 0:
        raise InvalidMoney(field, amount, "must not be negative")
    if positive and not amount:
        raise InvalidMoney(field, amount, "must be more than zero")


def text(value: object, field: str, *, required: bool) -> None:
    """``value`` must be a non-blank string of at most 500 characters, without control
    characters (but tab, line feed and carriage return) or lone surrogates; ``None`` is
    taken when not ``required``."""
    if value is None and not required:
        return
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise InvalidInput(
            field, value, f"must be a non-empty string of at most {MAX_TEXT} characters"
        )
    fault = text_fault(value)
    if fault is not None:
        raise InvalidInput(field, value, fault)


def expiry_for(program: Program, earned_at: datetime) -> datetime | None:
    """When a lot earned at ``earned_at`` expires under the program's fixed expiry, if any."""
    return calendar(program).expires(require_aware(earned_at, "earned_at"))
