"""Pages by person and time: bundling counts a person's pages of the last minutes.

The dispatcher asks, for every page, how many earlier pages the same person had within the
bundle window; an index on ``user_id`` alone made that read all of the person's pages ever.
The new index leads with ``user_id``, so it also serves what the old one did (the foreign
key's cascade, a person's pages).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 17:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_page_user_id_created_at", "page", ["user_id", "created_at"])
    op.drop_index("ix_page_user_id", table_name="page")


def downgrade() -> None:
    op.create_index("ix_page_user_id", "page", ["user_id"])
    op.drop_index("ix_page_user_id_created_at", table_name="page")
