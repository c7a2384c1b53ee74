"""A store transaction: one unit of work on one program (the store port's transaction)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from loyalty.checkout.stock import claim_prefix
from loyalty.ledger.entries import Entry
from loyalty.ledger.state import KeyRecord, Snapshot
from loyalty.notifications import Notification
from loyalty.store.codec import (
    decode_items,
    decode_snapshot,
    encode_entry,
    encode_items,
    encode_snapshot,
)
from loyalty.store.parts import Items, join, split
from loyalty.store.port import MemberProfile, StoreConflict, StoredMember, new_incarnation
from loyalty.store.sql.history import _History
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
)
from loyalty.store.sql.stock import SQLStock

__all__ = ["SQLTransaction"]


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

        return StoredMember(profile, version, state, incarnation)

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
