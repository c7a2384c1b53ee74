"""A registry of rows shared by a program's members.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

Coupon codes, global budgets and referral links are rows of a program, not of a
member: ``loyalty_registry`` keeps a JSON value per space and key, read and written
inside the store's transactions (see ``Registry`` in ``loyalty.store.port``). Its
columns are identifiers (``COLLATE "C"`` on PostgreSQL), so rows are scanned in
Python's ``str`` order of their keys. Written out in full (not imported from
``schema.py``), as 0001 is. No stored row changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.types.TypeEngine[str]:
    return sa.String().with_variant(sa.String(collation="C"), "postgresql")


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "loyalty_registry",
        sa.Column("program_id", _id(), primary_key=True),
        sa.Column("space", _id(), primary_key=True),
        sa.Column("key", _id(), primary_key=True),
        sa.Column("value", _json(), nullable=False),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("loyalty_registry")
