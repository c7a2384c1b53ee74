"""The store's statements: SQLAlchemy constructs, compiled once per store (see
:mod:`loyalty.store.sql.prepared`).

On SQLite ``save`` is one ``UPDATE`` of the member row (the optimistic version check),
one multi-row ``INSERT`` of the entries, one of their idempotency keys, one upsert of
the state items and one of the outbox rows; on PostgreSQL it is one statement doing all
of that (``transaction._PG_SAVE``). On PostgreSQL ``member(lock=True)`` and a
registry's ``get(lock=True)`` are ``SELECT ... FOR UPDATE``.
The upserts (``INSERT ... ON CONFLICT``) are spelled per database: :class:`_Upserts`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Final

from sqlalchemy import (
    Integer,
    String,
    and_,
    bindparam,
    cast,
    delete,
    false,
    func,
    literal_column,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import BindParameter

from loyalty.store.parts import HOT_PARTS
from loyalty.store.sql.schema import entries, keys, members, outbox, registry, state_items
from loyalty.store.sql.schema import stock as stock_table
from loyalty.store.sql.schema import stock_claims as claims_table

_P: BindParameter[Any] = bindparam("p_program")
_M: BindParameter[Any] = bindparam("p_member")
_R: BindParameter[Any] = bindparam("p_reward")


def _member_is(table: Any) -> Any:
    return and_(table.c.program_id == _P, table.c.member_id == _M)


def _insert(table: Any, *names: str) -> Any:
    """An INSERT of the named columns, bound by the same names."""
    return table.insert().values(
        {name: bindparam(name, type_=table.c[name].type) for name in names}
    )


_SELECT_MEMBER: Final = select(
    members.c.enrolled_at,
    members.c.birthday,
    members.c.segments,
    members.c.erased,
    members.c.version,
    members.c.state,
    members.c.incarnation,
).where(_member_is(members))
_LOCK_MEMBER: Final = _SELECT_MEMBER.with_for_update()
# SQLite: the member with one idempotency key, in one statement (the write lock is held
# from BEGIN IMMEDIATE, so nothing can change between the two).
_SELECT_MEMBER_AND_KEY: Final = _SELECT_MEMBER.add_columns(
    keys.c.fingerprint, keys.c.seq
).select_from(
    members.outerjoin(
        keys,
        and_(
            keys.c.program_id == members.c.program_id,
            keys.c.member_id == members.c.member_id,
            keys.c.key == bindparam("p_key"),
        ),
    )
)
_PROFILE: Final = ("enrolled_at", "birthday", "segments", "erased")
_SAVE: Final = (
    update(members)
    .where(_member_is(members), members.c.version == bindparam("p_version"))
    .values(version=bindparam("p_new"), state=bindparam("state"))
)
_SAVE_PROFILE: Final = _SAVE.values({name: bindparam(name) for name in _PROFILE})
_SAVE_RENEWED: Final = _SAVE.values(incarnation=bindparam("p_incarnation", type_=String()))
_INSERT_MEMBER: Final = _insert(
    members, "program_id", "member_id", *_PROFILE, "version", "state", "incarnation"
)
_INSERT_ENTRIES: Final = _insert(
    entries, "program_id", "member_id", "seq", "at", "kind", "source", "key", "payload"
)
_KEY_COLUMNS: Final = ("program_id", "member_id", "key", "fingerprint", "seq")
_ITEM_COLUMNS: Final = ("program_id", "member_id", "part", "key", "payload")
_ITEMS: Final = select(state_items.c.part, state_items.c.key, state_items.c.payload).where(
    _member_is(state_items)
)
_MEMBER_IDS: Final = (
    select(members.c.member_id)
    .where(members.c.program_id == _P, members.c.member_id > bindparam("p_after"))
    .order_by(members.c.member_id)
    .limit(bindparam("p_limit"))
)
_FIRST_MEMBER_IDS: Final = (
    select(members.c.member_id)
    .where(members.c.program_id == _P)
    .order_by(members.c.member_id)
    .limit(bindparam("p_limit"))
)

_ENTRIES_FROM: Final = (
    select(entries.c.seq, entries.c.payload)
    .where(
        _member_is(entries),
        entries.c.seq >= bindparam("p_start"),
        entries.c.seq <= bindparam("p_length"),
    )
    .order_by(entries.c.seq)
    .limit(bindparam("p_limit"))
)
_ENTRIES_SINCE: Final = _ENTRIES_FROM.where(entries.c.at >= bindparam("p_at"))
_KEY: Final = select(keys.c.fingerprint, keys.c.seq).where(
    _member_is(keys), keys.c.key == bindparam("p_key"), keys.c.seq <= bindparam("p_length")
)
_KEY_ANY_LENGTH: Final = select(keys.c.fingerprint, keys.c.seq).where(
    _member_is(keys), keys.c.key == bindparam("p_key")
)
_FIRST_KEYS: Final = (
    select(keys.c.key, keys.c.fingerprint, keys.c.seq)
    .where(_member_is(keys), keys.c.seq <= bindparam("p_length"))
    .order_by(keys.c.key)
    .limit(bindparam("p_limit"))
)
_KEYS_AFTER: Final = _FIRST_KEYS.where(keys.c.key > bindparam("p_after"))

_STOCK_CLAIMED: Final = select(stock_table.c.claimed).where(
    stock_table.c.program_id == _P, stock_table.c.reward_id == _R
)
_DELETE_CLAIM: Final = delete(claims_table).where(
    claims_table.c.program_id == _P,
    claims_table.c.reward_id == _R,
    claims_table.c.claim == bindparam("p_claim"),
)
_GIVE_BACK: Final = (
    update(stock_table)
    .where(stock_table.c.program_id == _P, stock_table.c.reward_id == _R)
    .values(claimed=stock_table.c.claimed - 1)
)

# -- the registry (loyalty.store.sql.registry): rows by program, space and key

_ROW_COLUMNS: Final = ("program_id", "space", "key", "value")


def _row_is() -> Any:
    return and_(
        registry.c.program_id == _P,
        registry.c.space == bindparam("p_space"),
        registry.c.key == bindparam("p_key"),
    )


_REGISTRY_GET: Final = select(registry.c.value).where(_row_is())
# PostgreSQL: the row held until the transaction ends. SQLite writers hold the write lock
# from BEGIN IMMEDIATE; its compiler writes no FOR UPDATE.
_REGISTRY_LOCK: Final = _REGISTRY_GET.with_for_update()
_REGISTRY_DELETE: Final = delete(registry).where(_row_is())


def _scan(after: bool, until: bool) -> Any:
    """A page of a space's rows in key order, after and up to the bounds given."""
    where = [registry.c.program_id == _P, registry.c.space == bindparam("p_space")]
    if after:
        where.append(registry.c.key > bindparam("p_after"))
    if until:
        where.append(registry.c.key <= bindparam("p_until"))
    return (
        select(registry.c.key, registry.c.value)
        .where(*where)
        .order_by(registry.c.key)
        .limit(bindparam("p_limit"))
    )


_REGISTRY_SCANS: Final = {
    (after, until): _scan(after, until) for after in (False, True) for until in (False, True)
}
"""The scans by which bounds they have: ``(after, until)``."""

_OUTBOX: Final = (
    select(outbox.c.id, outbox.c.payload)
    .where(outbox.c.program_id == _P, outbox.c.acknowledged == false())
    .order_by(outbox.c.id)
    .limit(bindparam("p_limit"))
)
_OUTBOX_COLUMNS: Final = ("program_id", "member_id", "dedupe", "kind", "at", "payload")
_ACKNOWLEDGE: Final = (
    update(outbox)
    .where(outbox.c.program_id == _P, outbox.c.id == bindparam("p_id"))
    .values(acknowledged=true())
)

_PSEUDONYM: BindParameter[Any] = bindparam("p_pseudonym")
_ERASE_MEMBER: Final = (
    update(members)
    .where(_member_is(members))
    .values(
        member_id=_PSEUDONYM,
        birthday=None,
        segments=bindparam("p_segments"),
        erased=true(),
        incarnation=bindparam("p_incarnation", type_=String()),
    )
)
_MOVE_ENTRIES: Final = update(entries).where(_member_is(entries)).values(member_id=_PSEUDONYM)
_MOVE_KEYS: Final = update(keys).where(_member_is(keys)).values(member_id=_PSEUDONYM)
_MOVE_ITEMS: Final = (
    update(state_items).where(_member_is(state_items)).values(member_id=_PSEUDONYM)
)
# Claims begin with claim_prefix(member_id) (checkout/stock.py): those of the member move.
_MOVE_CLAIMS: Final = (
    update(claims_table)
    .where(
        claims_table.c.program_id == _P,
        func.substr(claims_table.c.claim, 1, bindparam("p_prefix_length", type_=Integer()))
        == bindparam("p_prefix", type_=String()),
    )
    .values(
        claim=bindparam("p_new_prefix", type_=String())
        + func.substr(claims_table.c.claim, bindparam("p_rest", type_=Integer()), type_=String())
    )
)
_DROP_NOTIFICATIONS: Final = delete(outbox).where(_member_is(outbox))


class _Upserts:
    """The statements spelled differently per database."""

    def __init__(self, name: str) -> None:
        insert = postgresql.insert if name == "postgresql" else sqlite.insert
        self.insert_keys = (
            insert(keys)
            .values({name: bindparam(name, type_=keys.c[name].type) for name in _KEY_COLUMNS})
            .on_conflict_do_nothing(
                index_elements=[keys.c.program_id, keys.c.member_id, keys.c.key]
            )
        )
        # A state item is written whole: a newer one replaces the stored one.
        put_items = insert(state_items).values(
            {name: bindparam(name, type_=state_items.c[name].type) for name in _ITEM_COLUMNS}
        )
        self.put_items = put_items.on_conflict_do_update(
            index_elements=[
                state_items.c.program_id,
                state_items.c.member_id,
                state_items.c.part,
                state_items.c.key,
            ],
            set_={"payload": put_items.excluded.payload},
        )
        self.emit = (
            insert(outbox)
            .values({name: bindparam(name, type_=outbox.c[name].type) for name in _OUTBOX_COLUMNS})
            .on_conflict_do_nothing(index_elements=[outbox.c.program_id, outbox.c.dedupe])
        )
        self.insert_claim = (
            insert(claims_table)
            .values(program_id=_P, reward_id=_R, claim=bindparam("p_claim"))
            .on_conflict_do_nothing(
                index_elements=[
                    claims_table.c.program_id,
                    claims_table.c.reward_id,
                    claims_table.c.claim,
                ]
            )
        )
        # A registry row: added unless one exists (the count says whether), or put whole.
        row = {name: bindparam(name, type_=registry.c[name].type) for name in _ROW_COLUMNS}
        row_key = [registry.c.program_id, registry.c.space, registry.c.key]
        self.add_row = insert(registry).values(row).on_conflict_do_nothing(index_elements=row_key)
        put_row = insert(registry).values(row)
        self.put_row = put_row.on_conflict_do_update(
            index_elements=row_key, set_={"value": put_row.excluded.value}
        )
        # Take one unit: create the counter at 1, or add 1 while under the limit. The row
        # lock (PostgreSQL) or the write lock (SQLite) serialises concurrent claims.
        self.take = (
            insert(stock_table)
            .values(program_id=_P, reward_id=_R, claimed=1)
            .on_conflict_do_update(
                index_elements=[stock_table.c.program_id, stock_table.c.reward_id],
                set_={"claimed": stock_table.c.claimed + 1},
                where=stock_table.c.claimed < bindparam("p_limit"),
            )
        )


_UPSERTS: Final = {name: _Upserts(name) for name in ("sqlite", "postgresql")}


# -- the state's items read on demand (see loyalty.store.parts: the hot ones load with
# the member, the others are read when the account names them)

_ITEM: Final = select(state_items.c.payload).where(
    _member_is(state_items),
    state_items.c.part == bindparam("p_part"),
    state_items.c.key == bindparam("p_key"),
)
_REDEEMED: Final[Any] = literal_column("'redeem'")  # a literal: the partial index names it
_REDEMPTIONS_ON: Final = (
    # The caller bounds and orders by seq. SQLite runs _REDEMPTIONS_ON_SQLITE instead.
    select(entries.c.seq, state_items.c.payload)
    .select_from(
        entries.join(
            state_items,
            and_(
                state_items.c.program_id == entries.c.program_id,
                state_items.c.member_id == entries.c.member_id,
                state_items.c.part == literal_column("'redemptions'"),
                state_items.c.key == cast(entries.c.seq, String()),
            ),
        )
    )
    .where(
        _member_is(entries),
        entries.c.source == bindparam("p_source", type_=String()),
        entries.c.kind == _REDEEMED,
    )
)


_REDEMPTIONS_ON_SQLITE: Final = text(
    f"SELECT e.seq, i.payload FROM {entries.name} AS e INDEXED BY loyalty_entries_redeemed_on "
    f"JOIN {state_items.name} AS i ON i.program_id = e.program_id "
    "AND i.member_id = e.member_id AND i.part = 'redemptions' AND i.key = CAST(e.seq AS TEXT) "
    "WHERE e.program_id = :p_program AND e.member_id = :p_member AND e.source = :p_source "
    "AND e.kind = 'redeem'"
).columns(seq=Integer(), payload=state_items.c.payload.type)
""":data:`_REDEMPTIONS_ON` on SQLite, which without statistics walks the member's
journal by primary key instead of taking the partial index, unless it is named."""


@lru_cache(maxsize=64)
def _hot_items(lots: int) -> Any:
    """The hot items of a member: the parts loaded whole (:data:`HOT_PARTS`) and ``lots``
    open lots (by key: bound as ``p_lot0``... in the order given)."""
    hot: Any = state_items.c.part.in_([literal_column(f"'{part}'") for part in HOT_PARTS])
    if lots:
        keys = [bindparam(f"p_lot{index}", type_=String()) for index in range(lots)]
        lot = and_(state_items.c.part == literal_column("'lots'"), state_items.c.key.in_(keys))
        hot = or_(hot, lot)
    return select(state_items.c.part, state_items.c.key, state_items.c.payload).where(
        _member_is(state_items), hot
    )
