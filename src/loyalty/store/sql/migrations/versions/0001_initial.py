"""The loyalty tables: members, entries, keys, stock, stock claims, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-05-09

Written out in full (not imported from ``schema.py``): a revision stays what it
was when later revisions change the tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from loyalty.store.sql.schema import UTCDateTime

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.types.TypeEngine[str]:
    return sa.String().with_variant(sa.String(collation="C"), "postgresql")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "loyalty_members",
        sa.Column("program_id", _id(), primary_key=True),
        sa.Column("member_id", _id(), primary_key=True),
        sa.Column("enrolled_at", UTCDateTime(), nullable=False),
        sa.Column("birthday", sa.Date(), nullable=True),
        sa.Column("segments", _json(), nullable=False),
        sa.Column("erased", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", _json(), nullable=False),
    )
    op.create_table(
        "loyalty_state_items",
        sa.Column("program_id", _id(), primary_key=True),
        sa.Column("member_id", _id(), primary_key=True),
        sa.Column("part", _id(), primary_key=True),
        sa.Column("key", _id(), primary_key=True),
        sa.Column("payload", _json(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "loyalty_entries",
        sa.Column("program_id", _id(), primary_key=True),
        sa.Column("member_id", _id(), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("source", sa.String(), nullable=True),
        sa.Column("key", sa.String(), nullable=True),
        sa.Column("payload", _json(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("loyalty_entries_at", "loyalty_entries", ["program_id", "member_id", "at"])
    op.create_table(
        "loyalty_keys",
        sa.Column("program_id", _id(), primary_key=True),
        sa.Column("member_id", _id(), primary_key=True),
        sa.Column("key", _id(), primary_key=True),
        sa.Column("fingerprint", sa.String(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "loyalty_stock",
        sa.Column("program_id", _id(), primary_key=True),
        sa.Column("reward_id", _id(), primary_key=True),
        sa.Column("claimed", sa.Integer(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "loyalty_stock_claims",
        sa.Column("program_id", _id(), primary_key=True),
        sa.Column("reward_id", _id(), primary_key=True),
        sa.Column("claim", _id(), primary_key=True),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "loyalty_outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("program_id", _id(), nullable=False),
        sa.Column("member_id", _id(), nullable=False),
        sa.Column("dedupe", _id(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("payload", _json(), nullable=False),
        sa.Column("acknowledged", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.UniqueConstraint("program_id", "dedupe", name="loyalty_outbox_dedupe"),
    )
    op.create_index(
        "loyalty_outbox_pending", "loyalty_outbox", ["program_id", "acknowledged", "id"]
    )


def downgrade() -> None:
    op.drop_index("loyalty_outbox_pending", table_name="loyalty_outbox")
    op.drop_table("loyalty_outbox")
    op.drop_table("loyalty_stock_claims")
    op.drop_table("loyalty_stock")
    op.drop_table("loyalty_keys")
    op.drop_index("loyalty_entries_at", table_name="loyalty_entries")
    op.drop_table("loyalty_entries")
    op.drop_table("loyalty_state_items")
    op.drop_table("loyalty_members")
