"""An index of the redemption entries by the order they were made on.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-09

Loading a member reads only the hot part of its state (the open lots, bonus actions
and tier days); a redemption is read when something names it. Completing or refunding
an order asks for the redemptions made on it: this partial index (redemption entries
only, so other entries cost nothing more to write) finds them without reading the
member's journal. The stored rows do not change.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHERE = sa.text("kind = 'redeem'")


def upgrade() -> None:
    op.create_index(
        "loyalty_entries_redeemed_on",
        "loyalty_entries",
        ["program_id", "member_id", "source"],
        sqlite_where=_WHERE,
        postgresql_where=_WHERE,
    )


def downgrade() -> None:
    op.drop_index("loyalty_entries_redeemed_on", table_name="loyalty_entries")
