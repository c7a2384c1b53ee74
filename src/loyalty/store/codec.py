"""Journal entries and account snapshots as JSON-safe values, and back.

Datetimes and dates become ISO 8601 strings (datetimes with their offset),
``Decimal`` a string, :class:`~loyalty.money.Money` ``"12.50 USD"``, enums their
value, tuples lists and records dicts, without the fields that hold their
default ``None``, ``0``, ``False`` or ``()``. Nothing is normalised: decoding
gives values ``==`` the originals, with the same ``Decimal`` exponents.

Ids are member-relative. An entry's id is ``f"{member_id}:{seq}"``; it, and the
lot, earn and redemption ids that refer to entries, are stored as the number
``seq``, and ``member_id`` fields are dropped, so the encoded form never names
the member. Decoding takes the member id to rebuild them: under a pseudonym (a
member erased), it gives the same entries under the pseudonym. (Free text such
as ``reason``, ``source`` and idempotency keys, and request fingerprints, which
are hashes, are stored as given.)

Each record type's codec is compiled once, from its fields and type hints, into
an encoder and a decoder that handle its fields one by one.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Iterable, Mapping
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, Final, TypeAlias, Union, get_args, get_origin, get_type_hints

from loyalty.currencies import MINOR_UNITS
from loyalty.ledger.entries import (
    Adjust,
    Earn,
    Entry,
    Expire,
    Grant,
    HoldingChange,
    Order,
    Redeem,
    Refund,
    Return,
    Reverse,
    TierChange,
    Void,
)
from loyalty.ledger.state import Snapshot
from loyalty.money import Money
from loyalty.store.parts import PARTS, Items

__all__ = [
    "JSON",
    "Item",
    "decode_entry",
    "decode_items",
    "decode_snapshot",
    "encode_entry",
    "encode_items",
    "encode_snapshot",
]

JSON: TypeAlias = "str | int | bool | list[JSON] | dict[str, JSON] | None"
"""A JSON-safe value: what ``json.loads(json.dumps(value))`` gives back unchanged."""

Item: TypeAlias = "tuple[str, str, JSON]"
"""A stored state item: its part, its key and its stored form."""

Codec = Callable[[Any, str], Any]
"""Turns a value into its stored form, or back, given the member id; ``None``: as is."""

_IDS: Final = frozenset({"id", "lot_id", "earn_id", "redeem_id", "voided_by"})
_PLAIN: Final = (str, int, bool, type(None))
_OMITTED: Final = (*_PLAIN, tuple)  # a field at a default of these types is not stored
_QUANTA: Final = {code: Decimal(1).scaleb(-units) for code, units in MINOR_UNITS.items()}
_MONEY: Final[dict[str, Money]] = {}  # decoded amounts, shared (Money is immutable)


def _encode_id(value: str, member_id: str) -> int:
    owner, _, seq = value.rpartition(":")
    if owner != member_id or not (seq.isascii() and seq.isdigit()) or seq[:1] == "0" != seq:
        raise ValueError(f"id {value!r} is not of the form '{member_id}:<seq>'")
    return int(seq)


def _decode_id(value: int, member_id: str) -> str:
    if type(value) is not int or value < 0:
        raise ValueError(f"stored id {value!r} is not a sequence number")
    return f"{member_id}:{value}"


def _decode_money(value: str, _: str) -> Money:
    money = _MONEY.get(value)
    if money is None:
        amount, _, currency = value.partition(" ")
        currency = sys.intern(currency)  # one string per currency, not one per amount
        exact = Decimal(amount)
        quantum = _QUANTA.get(currency)
        if quantum is not None and exact.same_quantum(quantum):
            money = Money._exact(exact, currency)
        else:  # checks the currency, and refuses more decimals than it has
            money = Money(exact, currency)
        if len(_MONEY) >= 4096:
            _MONEY.clear()
        _MONEY[value] = money
    return money


def _shared(parse: Callable[[str], Any]) -> Codec:
    """A decoder that gives the same (immutable) object for the same stored text: the
    expiry at a month's end, or a tier day, is one object across lots and members."""
    found: dict[str, Any] = {}

    def decode(value: str, _: str) -> Any:
        item = found.get(value)
        if item is None:
            if len(found) >= 4096:
                found.clear()
            item = found[value] = parse(value)
        return item

    return decode


_SCALARS: Final[dict[Any, tuple[Codec, Codec]]] = {
    datetime: (lambda v, _: v.isoformat(), _shared(datetime.fromisoformat)),
    date: (lambda v, _: v.isoformat(), _shared(date.fromisoformat)),
    Decimal: (lambda v, _: str(v), lambda v, _: Decimal(v)),
    Money: (lambda v, _: f"{v.amount} {v.currency}", _decode_money),
}


def _optional(codec: Codec | None) -> Codec | None:
    return None if codec is None else (lambda v, m: None if v is None else codec(v, m))


def _same(value: Any, _: str) -> Any:
    return value


def _codecs(hint: Any, name: str) -> tuple[Codec | None, Codec | None]:
    """The encoder and decoder of a field named ``name`` of type ``hint`` (None: as is)."""
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        inner = [arg for arg in args if arg is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"cannot store {hint} (field {name!r})")
        encode, decode = _codecs(inner[0], name)
        return _optional(encode), _optional(decode)
    if name in _IDS and hint is str:
        return _encode_id, _decode_id
    if hint in _PLAIN:
        return None, None
    if hint in _SCALARS:
        return _SCALARS[hint]
    if isinstance(hint, type) and issubclass(hint, Enum):
        members = {member.value: member for member in hint}
        return (lambda v, _: v.value), (lambda v, _: members[v])
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        item_enc, item_dec = _codecs(args[0], name)
        enc, dec = item_enc or _same, item_dec or _same
        return (lambda v, m: [enc(x, m) for x in v]), (lambda v, m: tuple([dec(x, m) for x in v]))
    if origin is tuple:
        pairs = [_codecs(arg, name) for arg in args]
        encs, decs = [e or _same for e, _ in pairs], [d or _same for _, d in pairs]
        return (
            lambda v, m: [e(x, m) for e, x in zip(encs, v, strict=True)],
            lambda v, m: tuple([d(x, m) for d, x in zip(decs, v, strict=True)]),
        )
    if isinstance(hint, type) and hasattr(hint, "__dataclass_fields__"):
        return _record(hint)
    raise TypeError(f"cannot store {hint} (field {name!r})")


def _record(cls: type[Any], entry: bool = False) -> tuple[Codec, Codec]:
    """Compile the encoder and decoder of dataclass ``cls``: a dict of its fields but
    ``member_id`` and those at a default of the types in ``_OMITTED``. An entry's
    ``id`` is not stored either (it is rebuilt from ``seq``), but its ``kind`` is.
    The decoder refuses a dict with keys it does not know.
    """
    hints = get_type_hints(cls)
    skipped = {"member_id", "id"} if entry else {"member_id"}
    scope: dict[str, Any] = {"cls": cls, "decode_id": _decode_id, "unknown": _unknown}
    stored = [f"'kind': {cls.kind.value!r}"] if entry else []  # a dict display's items
    optional: list[str] = []  # statements storing the other fields, unless at their default
    names = {field.name for field in fields(cls)}
    arguments = ["member_id=m"] if "member_id" in names else []
    if entry:
        arguments.append("id=decode_id(d['seq'], m)")
    for field in fields(cls):
        name = field.name
        if name in skipped:
            continue
        encode, decode = _codecs(hints[name], name)
        scope[f"enc_{name}"], scope[f"dec_{name}"] = encode, decode
        scope[f"default_{name}"] = field.default
        loaded = f"dec_{name}(d[{name!r}], m)" if decode else f"d[{name!r}]"
        if isinstance(field.default, _OMITTED):
            optional += [
                f"    if (v := r.{name}) is not default_{name} and v != default_{name}:",
                f"        out[{name!r}] = {f'enc_{name}(v, m)' if encode else 'v'}",
            ]
            arguments.append(f"{name}={loaded} if {name!r} in d else default_{name}")
        else:
            stored.append(f"{name!r}: {f'enc_{name}(r.{name}, m)' if encode else f'r.{name}'}")
            arguments.append(f"{name}={loaded}")
    scope["keys"] = frozenset(names - skipped | ({"kind"} if entry else set()))
    source = "\n".join(
        [
            "def encode(r, m):",
            f"    out = {{{', '.join(stored)}}}",
            *optional,
            "    return out",
            "def decode(d, m):",
            "    if not d.keys() <= keys:",
            "        unknown(cls, d, keys)",
            f"    return cls({', '.join(arguments)})",
        ]
    )
    exec(compile(source, f"<codec of {cls.__name__}>", "exec"), scope)
    return scope["encode"], scope["decode"]


def _unknown(cls: type[Any], data: Mapping[str, Any], keys: frozenset[str]) -> None:
    raise ValueError(f"unknown {cls.__name__} fields: {', '.join(sorted(set(data) - keys))}")


_ENTRY_TYPES: Final = (
    Earn,
    Redeem,
    Return,
    Void,
    Expire,
    Reverse,
    Adjust,
    Order,
    Refund,
    TierChange,
    Grant,
    HoldingChange,
)
_ENTRIES: Final[dict[type[Entry], tuple[Codec, Codec]]] = {
    cls: _record(cls, entry=True) for cls in _ENTRY_TYPES
}
_KINDS: Final = {cls.kind.value: _ENTRIES[cls][1] for cls in _ENTRY_TYPES}
_SNAPSHOT: Final = _record(Snapshot)
_MALFORMED: Final = (ValueError, KeyError, TypeError, AttributeError, InvalidOperation)


def encode_entry(entry: Entry) -> dict[str, JSON]:
    """``entry`` as a JSON-safe dict that does not name its member."""
    codecs = _ENTRIES.get(type(entry))
    if codecs is None:
        raise ValueError(f"cannot store an entry of type {type(entry).__name__}")
    if entry.id != f"{entry.member_id}:{entry.seq}":
        raise ValueError(f"entry id {entry.id!r} is not '{entry.member_id}:{entry.seq}'")
    encoded: dict[str, JSON] = codecs[0](entry, entry.member_id)
    return encoded


def decode_entry(data: Mapping[str, JSON], member_id: str) -> Entry:
    """The entry :func:`encode_entry` stored as ``data``, as an entry of ``member_id``."""
    try:
        entry: Entry = _KINDS[data["kind"]](data, member_id)  # type: ignore[index]
    except _MALFORMED as error:
        raise ValueError(f"not a stored entry: {error!r}") from error
    return entry


def encode_snapshot(snapshot: Snapshot, member_id: str) -> dict[str, JSON]:
    """``snapshot`` of the account of ``member_id`` as a JSON-safe dict that does not name it."""
    encoded: dict[str, JSON] = _SNAPSHOT[0](snapshot, member_id)
    return encoded


def decode_snapshot(data: Mapping[str, JSON], member_id: str) -> Snapshot:
    """The snapshot :func:`encode_snapshot` stored as ``data``, for ``member_id``."""
    try:
        snapshot: Snapshot = _SNAPSHOT[1](data, member_id)
    except _MALFORMED as error:
        raise ValueError(f"not a stored snapshot: {error!r}") from error
    return snapshot


def _element(part: str) -> tuple[Codec, Codec]:
    """The codecs of one item of the snapshot's tuple ``part`` (see :mod:`loyalty.store.parts`)."""
    encode, decode = _codecs(get_args(get_type_hints(Snapshot)[part])[0], part)
    return encode or _same, decode or _same


_ELEMENTS: Final = {part: _element(part) for part in PARTS}


def encode_items(items: Mapping[str, Mapping[str, Any]], member_id: str) -> list[Item]:
    """State items (by part, then key) as ``(part, key, stored item)`` rows."""
    return [
        (part, key, _ELEMENTS[part][0](item, member_id))
        for part, found in items.items()
        for key, item in found.items()
    ]


def decode_items(rows: Iterable[Item], member_id: str) -> Items:
    """The items :func:`encode_items` stored as ``rows``, for ``member_id``."""
    items: Items = {part: {} for part in PARTS}
    try:
        for part, key, stored in rows:
            items[part][key] = _ELEMENTS[part][1](stored, member_id)
    except _MALFORMED as error:
        raise ValueError(f"not a stored state item: {error!r}") from error
    return items
