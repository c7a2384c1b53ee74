"""A store transaction: one unit of work on one program (the store port's transaction)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from loyalty.checkout.stock import claim_prefix
from loyalty.ledger.entries import Entry
from loyalty.ledger.records import KeyRecord
from loyalty.ledger.state import Snapshot
from loyalty.notifications import Notification
from loyalty.store.codec import (
    decode_items,
    decode_snapshot,
    encode_entry,
    encode_items,
    encode_snapshot,
)
from loyalty.store.parts import Items, hot_keys, join, split
from loyalty.store.port import MemberProfile, StoreConflict, StoredMember, new_incarnation
from loyalty.store.sql import schema
from loyalty.store.sql.history import _History
from loyalty.store.sql.registry import SQLRegistry
from loyalty.store.sql.runner import _log, _Runner
from loyalty.store.sql.statements import (
    _DROP_NOTIFICATIONS,
    _ERASE_MEMBER,
    _FIRST_MEMBER_IDS,
    _INSERT_ENTRIES,
    _INSERT_MEMBER,
    _ITEMS,
    _KEY_ANY_LENGTH,
    _LOCK_MEMBER,
    _MEMBER_IDS,
    _MOVE_CLAIMS,
    _MOVE_ENTRIES,
    _MOVE_ITEMS,
    _MOVE_KEYS,
    _SAVE,
    _SAVE_PROFILE,
    _SAVE_RENEWED,
    _SELECT_MEMBER,
    _SELECT_MEMBER_AND_KEY,
    _hot_items,
)
from loyalty.store.sql.stock import SQLStock

__all__ = ["SQLTransaction"]


def _json(value: Any) -> str:
    return json.dumps(value)


def _utc(value: datetime) -> str:
    """An aware datetime as ISO 8601 text in UTC (what PostgreSQL reads as a timestamptz)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: pass a timezone-aware one")
    return value.astimezone(UTC).isoformat()


_PG_SAVE: Final = f"""\
WITH saved AS (
  UPDATE {schema.members.name} SET version = %(p_new)s, state = %(p_state)s::jsonb
  WHERE program_id = %(p_program)s AND member_id = %(p_member)s AND version = %(p_version)s
  RETURNING 1
), added AS (
  INSERT INTO {schema.entries.name} (program_id, member_id, seq, at, kind, source, key, payload)
  SELECT %(p_program)s, %(p_member)s, e.seq, e.at, e.kind, e.source, e.key, e.payload
  FROM jsonb_to_recordset(%(p_entries)s::jsonb)
    AS e(seq integer, at timestamptz, kind text, source text, key text, payload jsonb)
), keyed AS (
  INSERT INTO {schema.keys.name} (program_id, member_id, key, fingerprint, seq)
  SELECT %(p_program)s, %(p_member)s, k.key, k.fingerprint, k.seq
  FROM jsonb_to_recordset(%(p_keys)s::jsonb) AS k(key text, fingerprint text, seq integer)
  ON CONFLICT (program_id, member_id, key) DO NOTHING
), put AS (
  INSERT INTO {schema.state_items.name} (program_id, member_id, part, key, payload)
  SELECT %(p_program)s, %(p_member)s, i.part, i.key, i.payload
  FROM jsonb_to_recordset(%(p_items)s::jsonb) AS i(part text, key text, payload jsonb)
  ON CONFLICT (program_id, member_id, part, key) DO UPDATE SET payload = excluded.payload
), emitted AS (
  INSERT INTO {schema.outbox.name} (program_id, member_id, dedupe, kind, at, payload)
  SELECT %(p_program)s, o.member_id, o.dedupe, o.kind, o.at, o.payload
  FROM jsonb_to_recordset(%(p_outbox)s::jsonb)
    AS o(member_id text, dedupe text, kind text, at timestamptz, payload jsonb)
  ON CONFLICT (program_id, dedupe) DO NOTHING
)
SELECT count(*) FROM saved"""
"""A save on PostgreSQL as one statement: the version check (which the caller's count
reads) and the inserts, the rows of each table passed as one JSON array (psycopg's cost
is per statement and per parameter; its arrays of text are slow to adapt). The CTEs
run on one snapshot; a member moved on by another transaction fails the check (or an
insert, as a unique violation), and the transaction is rolled back and run again."""


_MOST_LOTS_BY_KEY: Final = 30_000
"""Open lots read by key in one statement at most (SQLite takes 32,766 parameters)."""


class SQLTransaction(_Runner):
    """One unit of work on one program, on one pooled connection; rolled back unless
    committed. Made by :meth:`SQLStore.transaction`."""

    def _ids(self, member_id: str) -> dict[str, Any]:
        return {"p_program": self.program_id, "p_member": member_id}

    # -- the port

    def member(
        self, member_id: str, *, lock: bool = False, keys: Sequence[str] = ()
    ) -> StoredMember | None:
        if lock:
            self._writing()
        ids = self._ids(member_id)
        if len(keys) == 1 and self._store._sqlite:
            # One statement: SQLite has no round trips, but each statement costs its call.
            rows = self._rows(_SELECT_MEMBER_AND_KEY, {**ids, "p_key": keys[0]})
            found = [rows, [row[7:] for row in rows if row[8] is not None]]
        else:
            reads = [(_LOCK_MEMBER if lock else _SELECT_MEMBER, ids)]
            reads += [(_KEY_ANY_LENGTH, {**ids, "p_key": key}) for key in keys]
            found = self._rows_together(reads)  # one round trip, the member locked first
            rows = found[0]
        if not rows:
            return None
        enrolled_at, birthday, segments, erased, version, head, incarnation = rows[0][:7]
        profile = MemberProfile(member_id, enrolled_at, birthday, tuple(segments), bool(erased))
        if keys:
            # Read after the member (and its lock): no key of a later entry can be stored.
            self._known_keys[member_id] = (
                version,
                {
                    key: KeyRecord(*match[0]) if match and match[0][1] <= version else None
                    for key, match in zip(keys, found[1:], strict=True)
                },
            )

        def state() -> Snapshot:
            items = decode_items(self._rows(_ITEMS, ids), member_id)
            return join(decode_snapshot(head, member_id), items)

        def hot() -> Snapshot:
            decoded = decode_snapshot(head, member_id)
            lots = hot_keys(decoded)
            if lots is None or len(lots) > _MOST_LOTS_BY_KEY:
                # Stored by an earlier version, or too many open lots to name in one
                # statement (a database bounds its parameters): every item.
                return join(
                    decoded, decode_items(self._rows(_ITEMS, self._ids(member_id)), member_id)
                )
            params = self._ids(member_id)
            params.update((f"p_lot{index}", key) for index, key in enumerate(lots))
            return join(decoded, decode_items(self._rows(_hot_items(len(lots)), params), member_id))

        return StoredMember(profile, version, state, incarnation, hot)

    def history(self, member_id: str, length: int) -> _History:
        known = self._known_keys.get(member_id)
        return _History(
            self, member_id, length, known[1] if known is not None and known[0] == length else None
        )

    def add_member(self, member: StoredMember) -> None:
        self._writing()
        profile, state = member.profile, member.state
        member_id = profile.member_id
        head, items = split(state)
        self._run(
            _INSERT_MEMBER,
            {
                "program_id": self.program_id,
                "member_id": member_id,
                "enrolled_at": profile.enrolled_at,
                "birthday": profile.birthday,
                "segments": list(profile.segments),
                "erased": profile.erased,
                "version": member.version,
                "state": encode_snapshot(head, member_id),
                "incarnation": new_incarnation(),
            },
        )
        self._put_items(member_id, items)
        if state.keys:  # keys are kept in their rows, not in the snapshot
            self._run_many(
                self._upserts.insert_keys,
                [
                    {
                        "program_id": self.program_id,
                        "member_id": member_id,
                        "key": key,
                        "fingerprint": record.fingerprint,
                        "seq": record.seq,
                    }
                    for key, record in state.keys
                ],
            )

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
        program_id = self.program_id
        head, changed = split(state)
        rows: list[dict[str, Any]] = []
        key_rows: dict[str, dict[str, Any]] = {}
        for seq, entry in enumerate(entries, version + 1):
            if entry.seq != seq or entry.member_id != member_id:
                raise ValueError(f"entry {entry.id!r} is not entry {seq} of {member_id!r}")
            key = entry.key
            rows.append(
                {
                    "program_id": program_id,
                    "member_id": member_id,
                    "seq": seq,
                    "at": entry.at,
                    "kind": entry.kind.value,
                    "source": entry.source,
                    "key": key,
                    "payload": encode_entry(entry),
                }
            )
            if key is not None and entry.fingerprint is not None and key not in key_rows:
                key_rows[key] = {
                    "program_id": program_id,
                    "member_id": member_id,
                    "key": key,
                    "fingerprint": entry.fingerprint,
                    "seq": seq,
                }
        params: dict[str, Any] = {
            "p_program": program_id,
            "p_member": member_id,
            "p_version": version,
            "p_new": version + len(rows),
            "state": encode_snapshot(head, member_id),
        }
        statement = _SAVE
        if incarnation is not None:
            if profile is not None:
                raise ValueError("a save renews the incarnation or changes the profile, not both")
            statement = _SAVE_RENEWED
            params["p_incarnation"] = incarnation
        if profile is not None:
            if profile.member_id != member_id:
                raise ValueError(f"profile of {profile.member_id!r} saved for {member_id!r}")
            statement = _SAVE_PROFILE
            params.update(
                enrolled_at=profile.enrolled_at,
                birthday=profile.birthday,
                segments=list(profile.segments),
                erased=profile.erased,
            )
        self._known_keys.pop(member_id, None)
        if statement is _SAVE and not self._store._sqlite:
            self._save_in_one(params, rows, list(key_rows.values()), member_id, changed)
            return
        # One round trip on PostgreSQL, with the notifications emitted so far. The version
        # check comes first: it takes the member's row lock before anything is written.
        with self._batch() as counts:
            updated = self._run(statement, params)
            if rows:
                self._run_many(_INSERT_ENTRIES, rows)
            if key_rows:
                # A key stored before (a retried request) keeps its first entry.
                self._run_many(self._upserts.insert_keys, list(key_rows.values()))
            self._put_items(member_id, changed)
            self._flush_outbox()
        if (counts[0] if counts else updated) != 1:
            raise StoreConflict(f"member {member_id!r} is no longer at version {version}")

    def _save_in_one(
        self,
        params: dict[str, Any],
        rows: list[dict[str, Any]],
        key_rows: list[dict[str, Any]],
        member_id: str,
        changed: Items,
    ) -> None:
        """PostgreSQL: the save as one statement (:data:`_PG_SAVE`: the version check and
        the inserts as data-modifying CTEs, rows passed as arrays), with the outbox rows
        emitted so far: psycopg's cost is per statement and per row, not per value."""
        items = encode_items(changed, member_id)
        outbox, self._outbox = self._outbox, []
        values = {
            "p_program": params["p_program"],
            "p_member": params["p_member"],
            "p_version": params["p_version"],
            "p_new": params["p_new"],
            "p_state": _json(params["state"]),
            "p_entries": _json(
                [
                    {
                        "seq": row["seq"],
                        "at": _utc(row["at"]),
                        "kind": row["kind"],
                        "source": row["source"],
                        "key": row["key"],
                        "payload": row["payload"],
                    }
                    for row in rows
                ]
            ),
            "p_keys": _json(
                [
                    {"key": row["key"], "fingerprint": row["fingerprint"], "seq": row["seq"]}
                    for row in key_rows
                ]
            ),
            "p_items": _json(
                [{"part": part, "key": key, "payload": stored} for part, key, stored in items]
            ),
            "p_outbox": _json(
                [
                    {
                        "member_id": row["member_id"],
                        "dedupe": row["dedupe"],
                        "kind": row["kind"],
                        "at": _utc(row["at"]),
                        "payload": row["payload"],
                    }
                    for row in outbox
                ]
            ),
        }
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug("%s %r", _PG_SAVE, values)
        if not self.open:
            raise RuntimeError("the transaction is over")
        cursor = self._connection.cursor()
        try:
            self._start(cursor)
            cursor.execute(_PG_SAVE, values)
            found = cursor.fetchall()
        except self._store._errors as error:
            self._store._lost(self._pooled, error)
            raise
        finally:
            cursor.close()
        if found[0][0] != 1:
            version = params["p_version"]
            raise StoreConflict(f"member {member_id!r} is no longer at version {version}")

    def _put_items(self, member_id: str, items: Items) -> None:
        rows = [
            {
                "program_id": self.program_id,
                "member_id": member_id,
                "part": part,
                "key": key,
                "payload": stored,
            }
            for part, key, stored in encode_items(items, member_id)
        ]
        if rows:
            self._run_many(self._upserts.put_items, rows)

    def member_ids(self, after: str | None = None, limit: int = 1000) -> list[str]:
        params = {"p_program": self.program_id, "p_after": after, "p_limit": limit}
        rows = self._rows(_FIRST_MEMBER_IDS if after is None else _MEMBER_IDS, params)
        return [row[0] for row in rows]

    def stock(self, limits: Mapping[str, int]) -> SQLStock:
        return SQLStock(self, limits)

    def registry(self) -> SQLRegistry:
        """The program's registry rows; an erase leaves them as they are."""
        return SQLRegistry(self)

    def emit(self, notifications: Sequence[Notification]) -> None:
        """Queue the notifications: they are written with the next save's statements (one
        round trip on PostgreSQL), or before an erase or the commit."""
        self._writing()
        self._outbox.extend(
            {
                "program_id": self.program_id,
                "member_id": notification.member_id,
                "dedupe": notification.dedupe,
                "kind": str(notification.kind),
                "at": notification.at,
                "payload": notification.data(),
            }
            for notification in notifications
        )

    def _flush_outbox(self) -> None:
        if self._outbox:
            queued, self._outbox = self._outbox, []
            self._run_many(self._upserts.emit, queued)

    def erase(self, member_id: str, pseudonym: str) -> None:
        self._writing()
        self._flush_outbox()  # the member's notifications are dropped below
        self._known_keys.pop(member_id, None)
        params = {
            **self._ids(member_id),
            "p_pseudonym": pseudonym,
            "p_incarnation": new_incarnation(),
            "p_segments": [],
            "p_prefix": claim_prefix(member_id),
            "p_prefix_length": len(claim_prefix(member_id)),
            "p_rest": len(claim_prefix(member_id)) + 1,
            "p_new_prefix": claim_prefix(pseudonym),
        }
        if not self._run(_ERASE_MEMBER, params):
            return  # no such member: nothing to erase
        moves = (_MOVE_ENTRIES, _MOVE_KEYS, _MOVE_ITEMS, _MOVE_CLAIMS, _DROP_NOTIFICATIONS)
        for statement in moves:
            self._run(statement, params)
        self._erased = True

    def commit(self) -> None:
        if not self.open:
            raise RuntimeError("the transaction is over")
        self._flush_outbox()
        try:
            self._connection.commit()
        except self._store._errors as error:
            self._store._lost(self._pooled, error)
            raise
        self.committed = True
        self.open = False
        if self._erased and self._store.dialect == "sqlite":
            self._checkpoint()

    def _checkpoint(self) -> None:
        """After an erase on SQLite: copy the WAL into the database file and empty it,
        so the pages that held the member's personal data (zeroed by ``secure_delete``
        in the file) leave no copy in the ``-wal`` file. It waits for readers up to
        the busy timeout; if one still holds an old snapshot, a warning is logged and
        the next checkpoint (SQLite's automatic one included) completes the job."""
        try:
            busy, _, _ = self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except self._store._errors as error:
            busy, reason = 1, str(error)
        else:
            reason = "a reader holds an older snapshot"
        if busy:
            _log.warning("the WAL was not emptied after an erase (%s)", reason)
