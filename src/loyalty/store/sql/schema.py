"""The tables of the SQL stores, in one :data:`metadata` a host can add to its own migrations.

Every table is prefixed ``loyalty_`` and every row carries its ``program_id``:
several programs share one database and see nothing of each other. The exact
values (entries, snapshots, notifications) live in JSON payloads written by
:mod:`loyalty.store.codec`, which never name the member; the other columns are
there to be queried. Datetimes are stored in UTC (SQLite keeps them as naive
UTC text, which compares in time order).

A host that manages its schema with its own Alembic environment lists both::

    target_metadata = [host_metadata, loyalty.store.sql.metadata]

Otherwise :func:`loyalty.store.sql.migrate` creates and upgrades these tables
(with its own version table, ``loyalty_alembic_version``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = [
    "VERSION_TABLE",
    "Id",
    "Payload",
    "UTCDateTime",
    "entries",
    "keys",
    "members",
    "metadata",
    "outbox",
    "registry",
    "stock",
    "stock_claims",
]

VERSION_TABLE = "loyalty_alembic_version"
"""The table where :func:`~loyalty.store.sql.migrate` records the schema revision."""


def Id() -> TypeEngine[str]:  # noqa: N802 - reads as a type in the table definitions
    """An identifier: compared byte by byte (code point order) on every database, so
    ordering and paging by id agree with Python's ``sorted``."""
    return String().with_variant(String(collation="C"), "postgresql")


def Payload() -> TypeEngine[Any]:  # noqa: N802
    """A JSON document (``JSONB`` on PostgreSQL)."""
    return JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime, bound in UTC and read back in UTC.

    Naive datetimes are refused: the library never guesses a timezone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware one")
        value = value.astimezone(UTC)
        # SQLite stores the text of the wall clock and would drop the offset anyway.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


_CLUSTERED: dict[str, Any] = {"sqlite_with_rowid": False}
"""Small rows stored in primary key order (SQLite ``WITHOUT ROWID``): one b-tree to write,
not two. Not for members, whose snapshots can be large."""

metadata = MetaData()
"""The loyalty tables; include it in a host's Alembic ``target_metadata``."""

members = Table(
    "loyalty_members",
    metadata,
    Column("program_id", Id(), primary_key=True),
    Column("member_id", Id(), primary_key=True),
    Column("enrolled_at", UTCDateTime(), nullable=False),
    Column("birthday", Date(), nullable=True),
    Column("segments", Payload(), nullable=False),
    Column("erased", Boolean(), nullable=False, server_default=false()),
    Column("version", Integer(), nullable=False),
    Column("state", Payload(), nullable=False),
    Column("incarnation", String(), nullable=False, server_default=""),
)
"""One row per member: the profile (the only personal data), how many entries are
stored (``version``, for optimistic locking), the head of the state after them
(``state``: the balance, the clock, the tier status) and the ``incarnation``, new at
each enrolment, erasure and save without entries (so a kept account is never
mistaken for the member enrolled again under the same id, or for a newer state)."""

state_items = Table(
    "loyalty_state_items",
    metadata,
    Column("program_id", Id(), primary_key=True),
    Column("member_id", Id(), primary_key=True),
    Column("part", Id(), primary_key=True),
    Column("key", Id(), primary_key=True),
    Column("payload", Payload(), nullable=False),
    **_CLUSTERED,
)
"""The rest of the state, one row per lot, order, redemption, bonus action and tier
day (see :mod:`loyalty.store.parts`): a write rewrites only the rows it changed."""

entries = Table(
    "loyalty_entries",
    metadata,
    Column("program_id", Id(), primary_key=True),
    Column("member_id", Id(), primary_key=True),
    Column("seq", Integer(), primary_key=True, autoincrement=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("kind", String(), nullable=False),
    Column("source", String(), nullable=True),
    Column("key", String(), nullable=True),
    Column("payload", Payload(), nullable=False),
    Index("loyalty_entries_at", "program_id", "member_id", "at"),
    Index(
        "loyalty_entries_redeemed_on",
        "program_id",
        "member_id",
        "source",
        sqlite_where=text("kind = 'redeem'"),
        postgresql_where=text("kind = 'redeem'"),
    ),
    **_CLUSTERED,
)
"""The journal: one row per entry, in ``seq`` order per member. Redemption entries
are indexed by their ``source`` (the order they were made on), read on demand."""

keys = Table(
    "loyalty_keys",
    metadata,
    Column("program_id", Id(), primary_key=True),
    Column("member_id", Id(), primary_key=True),
    Column("key", Id(), primary_key=True),
    Column("fingerprint", String(), nullable=False),
    Column("seq", Integer(), nullable=False),
    **_CLUSTERED,
)
"""Idempotency keys: the request fingerprint and the first entry each key wrote."""

stock = Table(
    "loyalty_stock",
    metadata,
    Column("program_id", Id(), primary_key=True),
    Column("reward_id", Id(), primary_key=True),
    Column("claimed", Integer(), nullable=False),
    **_CLUSTERED,
)
"""Units of a reward's shared stock claimed so far (the limit comes from the catalog)."""

stock_claims = Table(
    "loyalty_stock_claims",
    metadata,
    Column("program_id", Id(), primary_key=True),
    Column("reward_id", Id(), primary_key=True),
    Column("claim", Id(), primary_key=True),
    **_CLUSTERED,
)
"""Who holds a unit of stock: claiming again is a no-op, releasing gives it back."""

registry = Table(
    "loyalty_registry",
    metadata,
    Column("program_id", Id(), primary_key=True),
    Column("space", Id(), primary_key=True),
    Column("key", Id(), primary_key=True),
    Column("value", Payload(), nullable=False),
    **_CLUSTERED,
)
"""Rows shared by a program's members (see :class:`~loyalty.store.port.Registry`): a
JSON ``value`` per ``space`` and ``key``. Keys are :func:`Id` columns, so a scan in key
order is in Python's ``str`` order on both databases (``COLLATE "C"`` on PostgreSQL,
SQLite's byte order). Erasure leaves these rows alone: they are not the member's
personal data to the store, and a caller that keeps member ids in them moves them."""

outbox = Table(
    "loyalty_outbox",
    metadata,
    Column(
        "id",
        BigInteger().with_variant(Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    Column("program_id", Id(), nullable=False),
    Column("member_id", Id(), nullable=False),
    Column("dedupe", Id(), nullable=False),
    Column("kind", String(), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("payload", Payload(), nullable=False),
    Column("acknowledged", Boolean(), nullable=False, server_default=false()),
    UniqueConstraint("program_id", "dedupe", name="loyalty_outbox_dedupe"),
    Index("loyalty_outbox_pending", "program_id", "acknowledged", "id"),
)
"""Notifications for the host to forward, oldest first; ``dedupe`` names the fact."""
