"""Members get an incarnation: new at each enrolment and erasure.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02

A service keeps accounts between requests and reuses one only for the stored member
it was kept for: the same version and the same incarnation. Rows stored before this
revision get the empty incarnation; the next enrolment or erasure gives a new one.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "loyalty_members",
        sa.Column("incarnation", sa.String(), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_column("loyalty_members", "incarnation")
