"""The in-memory store: everything in this process, for tests, simulations and
single-process shops that keep their books elsewhere.

Transactions are serialised by one lock (reads included) and undone on rollback,
so it behaves like the SQL stores under threads. Nothing survives the process.
"""

from __future__ import annotations

import heapq
import itertools
import json
import threading
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from loyalty.checkout.stock import claim_prefix
from loyalty.ledger.entries import Entry, entry_seq
from loyalty.ledger.records import KeyRecord, RedemptionRecord
from loyalty.ledger.state import Snapshot
from loyalty.notifications import Notification
from loyalty.store.codec import (
    decode_entry,
    decode_items,
    decode_snapshot,
    encode_entry,
    encode_items,
    encode_snapshot,
)
from loyalty.store.parts import HOT_PARTS, ItemReads, Items, hot_keys, join, merge, split
from loyalty.store.port import (
    MemberProfile,
    OutboxMessage,
    StoreConflict,
    StoredMember,
    new_incarnation,
)
from loyalty.store.registry import check_name, check_value

__all__ = ["MemoryStore"]

_ABSENT = object()


@dataclass(frozen=True, slots=True)
class _Member:
    """A stored member: the profile, the version, the state's head and its items."""

    profile: MemberProfile
    version: int
    head: Snapshot
    items: Items
    incarnation: str

    def stored(self) -> StoredMember:
        return StoredMember(
            self.profile,
            self.version,
            lambda: join(self.head, self.items),
            self.incarnation,
            self.hot,
        )

    def hot(self) -> Snapshot:
        keys = hot_keys(self.head)
        if keys is None:
            return join(self.head, self.items)
        lots = self.items.get("lots", {})
        hot: Items = {part: self.items.get(part, {}) for part in HOT_PARTS}
        hot["lots"] = {key: lots[key] for key in keys}
        return join(self.head, hot)


@dataclass(slots=True)
class _Program:
    members: dict[str, _Member] = field(default_factory=dict)
    journals: dict[str, list[Entry]] = field(default_factory=dict)
    keys: dict[str, dict[str, KeyRecord]] = field(default_factory=dict)
    claims: dict[str, set[str]] = field(default_factory=dict)
    outbox: dict[int, Notification] = field(default_factory=dict)
    dedupes: dict[str, str] = field(default_factory=dict)
    """Every fact announced (acknowledged or not), with the member it was about."""
    registry: dict[str, dict[str, str]] = field(default_factory=dict)
    """The registry's rows: per space, per key, the value as JSON text (so a value read
    or written is the caller's own copy, as from a SQL store)."""


@dataclass(frozen=True, slots=True)
class _History(ItemReads):
    entries_: list[Entry]
    keys_: dict[str, KeyRecord]
    length: int
    member: Callable[[], _Member | None] = lambda: None
    """The stored member (looked up at each call: a save replaces it)."""

    def _item(self, part: str, key: str) -> Any:
        member = self.member()
        return None if member is None else member.items.get(part, {}).get(key)

    def redemptions(self, source: str) -> Iterator[RedemptionRecord]:
        member = self.member()
        stored = member.items.get("redemptions", {}) if member is not None else {}
        found = [record for record in stored.values() if record.source == source]
        yield from sorted(found, key=lambda record: entry_seq(record.id))

    def state(self) -> Snapshot:
        member = self.member()
        if member is None:
            raise LookupError("the member is not stored")
        return join(member.head, member.items)

    def entries(self, start: int = 1) -> Iterator[Entry]:
        yield from self.entries_[start - 1 : self.length]

    def since(self, at: datetime) -> Iterator[Entry]:
        start = bisect_left(self.entries_, at, 0, self.length, key=lambda entry: entry.at)
        yield from self.entries_[start : self.length]

    def key(self, key: str) -> KeyRecord | None:
        record = self.keys_.get(key)
        return record if record is not None and record.seq <= self.length else None

    def keys(self) -> Iterator[tuple[str, KeyRecord]]:
        return ((key, record) for key, record in self.keys_.items() if record.seq <= self.length)


class _Stock:
    def __init__(self, transaction: _Transaction, limits: Mapping[str, int]) -> None:
        self._transaction = transaction
        self._limits = dict(limits)

    def left(self, reward_id: str) -> int | None:
        limit = self._limits.get(reward_id)
        if limit is None:
            return None
        return limit - len(self._transaction.data.claims.get(reward_id, ()))

    def claim(self, reward_id: str, claim: str) -> bool:
        limit = self._limits.get(reward_id)
        if limit is None:
            return True
        claims = self._transaction.data.claims.setdefault(reward_id, set())
        if claim in claims:
            return True
        if len(claims) >= limit:
            return False
        claims.add(claim)
        self._transaction.undo(lambda: claims.discard(claim))
        return True

    def release(self, reward_id: str, claim: str) -> None:
        claims = self._transaction.data.claims.get(reward_id, set())
        if claim in claims:
            claims.discard(claim)
            self._transaction.undo(lambda: claims.add(claim))


class _Registry:
    """The program's registry rows, written inside a transaction (undone on rollback).
    Transactions take turns on the store's lock: a row is never written by two at once,
    so ``lock`` has nothing more to hold."""

    def __init__(self, transaction: _Transaction) -> None:
        self._transaction = transaction

    def _rows(self, space: str, *, writing: bool = False) -> dict[str, str]:
        spaces = self._transaction.data.registry
        space = check_name("space", space)
        return spaces.setdefault(space, {}) if writing else spaces.get(space, {})

    def get(self, space: str, key: str, *, lock: bool = False) -> Any:
        if lock:
            self._transaction._writing()
        found = self._rows(space).get(check_name("key", key))
        return None if found is None else json.loads(found)

    def add(self, space: str, key: str, value: Any) -> bool:
        rows, key, stored = self._written(space, key, value)
        if key in rows:
            return False
        self._set(rows, key, stored)
        return True

    def put(self, space: str, key: str, value: Any) -> None:
        self._set(*self._written(space, key, value))

    def delete(self, space: str, key: str) -> bool:
        self._transaction._writing()
        rows = self._rows(space, writing=True)
        previous = rows.pop(check_name("key", key), None)
        if previous is None:
            return False
        self._undo(rows, key, previous)
        return True

    def scan(
        self, space: str, *, after: str | None = None, until: str | None = None, limit: int = 1000
    ) -> list[tuple[str, Any]]:
        if limit < 0:
            raise ValueError(f"a scan's limit is not negative: {limit}")
        rows = self._rows(space)
        keys = (
            key
            for key in rows
            if (after is None or key > after) and (until is None or key <= until)
        )
        return [(key, json.loads(rows[key])) for key in heapq.nsmallest(limit, keys)]

    def _written(self, space: str, key: str, value: Any) -> tuple[dict[str, str], str, str]:
        self._transaction._writing()
        check_value(value)
        return self._rows(space, writing=True), check_name("key", key), json.dumps(value)

    def _set(self, rows: dict[str, str], key: str, stored: str) -> None:
        previous = rows.get(key)
        rows[key] = stored
        self._undo(rows, key, previous)

    def _undo(self, rows: dict[str, str], key: str, previous: str | None) -> None:
        """On rollback, the row as it was (``None``: there was none)."""

        def restore() -> None:
            if previous is None:
                del rows[key]
            else:
                rows[key] = previous

        self._transaction.undo(restore)


class _Transaction:
    def __init__(self, store: MemoryStore, data: _Program, write: bool) -> None:
        self._store = store
        self.data = data
        self._write = write
        self._undo: list[Callable[[], None]] = []
        self.committed = False

    def undo(self, restore: Callable[[], None]) -> None:
        self._undo.append(restore)

    def rollback(self) -> None:
        for restore in reversed(self._undo):
            restore()
        self._undo.clear()

    def commit(self) -> None:
        self.committed = True
        # Nothing is undone now. The undo closures refer to this transaction: dropped
        # here, the transaction is freed as soon as it is done with, not by a later
        # garbage collection (with the state it replaced).
        self._undo.clear()

    def _writing(self) -> None:
        if not self._write:
            raise RuntimeError("a read-only transaction cannot write")

    def member(
        self, member_id: str, *, lock: bool = False, keys: Sequence[str] = ()
    ) -> StoredMember | None:
        found = self.data.members.get(member_id)
        return found.stored() if found is not None else None

    def history(self, member_id: str, length: int) -> _History:
        members = self.data.members
        return _History(
            self.data.journals.get(member_id, []),
            self.data.keys.get(member_id, {}),
            length,
            lambda: members.get(member_id),
        )

    def add_member(self, member: StoredMember) -> None:
        self._writing()
        member_id = member.profile.member_id
        if member_id in self.data.members:
            raise StoreConflict(f"member {member_id!r} exists")
        state = member.state
        head, items = split(state)
        self.data.members[member_id] = _Member(
            member.profile, member.version, head, items, new_incarnation()
        )
        self.data.journals[member_id] = []
        self.data.keys[member_id] = dict(state.keys)
        self.undo(lambda: self._forget(member_id))

    def _forget(self, member_id: str) -> None:
        del self.data.members[member_id]
        del self.data.journals[member_id]
        del self.data.keys[member_id]

    def save(
        self,
        member_id: str,
        version: int,
        entries: Sequence[Entry],
        state: Snapshot,
        profile: MemberProfile | None = None,
        incarnation: str | None = None,
    ) -> None:
        self._writing()
        stored = self.data.members.get(member_id)
        if stored is None or stored.version != version:
            raise StoreConflict(f"member {member_id!r} is not at version {version}")
        journal = self.data.journals[member_id]
        keys = self.data.keys[member_id]
        added = []
        for entry in entries:
            if entry.key is not None and entry.fingerprint is not None and entry.key not in keys:
                keys[entry.key] = KeyRecord(entry.fingerprint, entry.seq)
                added.append(entry.key)
        journal.extend(entries)
        head, changed = split(state)
        items = stored.items  # updated in place: only the changed items are touched
        replaced = [
            (part, key, items.get(part, {}).get(key, _ABSENT))
            for part, found in changed.items()
            for key in found
        ]
        merge(items, changed)
        self.data.members[member_id] = _Member(
            profile if profile is not None else stored.profile,
            version + len(entries),
            head,
            items,
            incarnation if incarnation is not None else stored.incarnation,
        )

        def restore() -> None:
            del journal[version:]
            for key in added:
                del keys[key]
            for part, key, previous in reversed(replaced):
                if previous is _ABSENT:
                    del items[part][key]
                else:
                    items[part][key] = previous
            self.data.members[member_id] = stored

        self.undo(restore)

    def member_ids(self, after: str | None = None, limit: int = 1000) -> list[str]:
        ids = sorted(self.data.members)
        start = 0 if after is None else bisect_left(ids, after)
        if after is not None and start < len(ids) and ids[start] == after:
            start += 1
        return ids[start : start + limit]

    def stock(self, limits: Mapping[str, int]) -> _Stock:
        return _Stock(self, limits)

    def registry(self) -> _Registry:
        return _Registry(self)

    def emit(self, notifications: Sequence[Notification]) -> None:
        self._writing()
        for notification in notifications:
            if notification.dedupe in self.data.dedupes:
                continue
            number = next(self._store.ids)
            self.data.outbox[number] = notification
            self.data.dedupes[notification.dedupe] = notification.member_id
            self.undo(self._unemit(number, notification.dedupe))

    def _unemit(self, number: int, dedupe: str) -> Callable[[], None]:
        def restore() -> None:
            del self.data.outbox[number]
            self.data.dedupes.pop(dedupe, None)

        return restore

    def erase(self, member_id: str, pseudonym: str) -> None:
        self._writing()
        stored = self.data.members.get(member_id)
        if stored is None:
            return
        data = self.data
        before = (
            stored,
            data.journals[member_id],
            data.keys[member_id],
            {reward: set(claims) for reward, claims in data.claims.items()},
            dict(data.outbox),
        )
        data.members[pseudonym] = _Member(
            replace(stored.profile, member_id=pseudonym, birthday=None, segments=(), erased=True),
            stored.version,
            decode_snapshot(encode_snapshot(stored.head, member_id), pseudonym),
            decode_items(encode_items(stored.items, member_id), pseudonym),
            new_incarnation(),
        )
        data.journals[pseudonym] = [
            decode_entry(encode_entry(entry), pseudonym) for entry in data.journals[member_id]
        ]
        data.keys[pseudonym] = data.keys[member_id]
        self._forget(member_id)
        prefix, moved = claim_prefix(member_id), claim_prefix(pseudonym)
        for claims in data.claims.values():
            for claim in [claim for claim in claims if claim.startswith(prefix)]:
                claims.discard(claim)
                claims.add(moved + claim[len(prefix) :])
        for number in [n for n, note in data.outbox.items() if note.member_id == member_id]:
            del data.outbox[number]
        dedupes = dict(data.dedupes)
        for dedupe in [d for d, member in dedupes.items() if member == member_id]:
            del data.dedupes[dedupe]

        def restore() -> None:
            self._forget(pseudonym)
            data.members[member_id], data.journals[member_id], data.keys[member_id] = before[:3]
            data.claims.clear()
            data.claims.update(before[3])
            data.outbox.clear()
            data.outbox.update(before[4])
            data.dedupes.clear()
            data.dedupes.update(dedupes)

        self.undo(restore)


class MemoryStore:
    """A store in this process's memory, safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._programs: dict[str, _Program] = {}
        self.ids = itertools.count(1)

    @contextmanager
    def transaction(self, program_id: str, *, write: bool = True) -> Iterator[_Transaction]:
        """A unit of work on ``program_id``, holding the store's one lock: writers (and
        readers) take turns. What is not committed is undone when the block ends."""
        with self._lock:
            transaction = _Transaction(
                self, self._programs.setdefault(program_id, _Program()), write
            )
            try:
                yield transaction
            finally:
                if not transaction.committed:
                    transaction.rollback()

    def outbox(self, program_id: str, limit: int = 100) -> list[OutboxMessage]:
        """At most ``limit`` notifications not yet acknowledged, oldest first."""
        with self._lock:
            data = self._programs.get(program_id)
            if data is None:
                return []
            numbers = sorted(data.outbox)[:limit]
            return [OutboxMessage(number, data.outbox[number]) for number in numbers]

    def acknowledge(self, program_id: str, ids: Sequence[int]) -> None:
        """Drop the notifications ``ids`` from the outbox (unknown ids are ignored)."""
        with self._lock:
            data = self._programs.get(program_id)
            for number in ids:
                if data is not None:
                    data.outbox.pop(number, None)

    def close(self) -> None:
        """Nothing to release."""

    def __repr__(self) -> str:
        # Counted without the lock: a repr never waits for a transaction.
        programs = list(self._programs.values())
        members = sum(len(program.members) for program in programs)
        return f"<MemoryStore ({_count(len(programs), 'program')}, {_count(members, 'member')})>"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
