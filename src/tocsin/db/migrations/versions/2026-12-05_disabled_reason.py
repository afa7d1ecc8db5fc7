"""Why a contact method was disabled: the provider's word, for its owner to read.

A method is disabled when its provider says it is gone (a revoked Slack token, a push
subscription answered 410, an SMS STOP). Before this revision nothing disabled methods
that way, so no existing row needs a reason.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "contact_method", sa.Column("disabled_reason", sa.String(length=300), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("contact_method", "disabled_reason")
