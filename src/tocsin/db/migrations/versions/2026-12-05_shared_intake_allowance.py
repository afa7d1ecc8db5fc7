"""Intake rate limits shared by every process: a token bucket row per integration.

Each ``tocsin serve`` process kept its own bucket, so N processes let an integration send
N times its limit. The bucket now lives here; processes take tokens from it a few at a
time (``actions.intake.allowances``). A row is created by the first event an integration
sends after this revision; none exist before, so nothing is backfilled.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "intake_allowance",
        sa.Column("integration_id", sa.Uuid(), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("refilled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("granted", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integration.id"],
            name=op.f("fk_intake_allowance_integration_id_integration"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("integration_id", name=op.f("pk_intake_allowance")),
    )


def downgrade() -> None:
    op.drop_table("intake_allowance")
