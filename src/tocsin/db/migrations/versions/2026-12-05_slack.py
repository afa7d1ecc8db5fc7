"""Slack: workspaces tocsin is installed in, OAuth install states, seen requests.

Three new, empty tables; nothing existing changes. A Slack contact method is an ordinary
``contact_method`` row of kind ``slack`` (the kind existed from the start).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 16:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slack_workspace",
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("team_name", sa.String(length=200), nullable=False),
        sa.Column("bot_user_id", sa.String(length=32), nullable=False),
        sa.Column("bot_token_encrypted", sa.Text(), nullable=False),
        sa.Column("refresh_token_encrypted", sa.Text(), nullable=True),
        sa.Column("token_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("installed_by_user_id", sa.UUID(), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_reason", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["installed_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_slack_workspace_installed_by_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_slack_workspace")),
    )
    op.create_table(
        "slack_install_state",
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_slack_install_state_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("state_hash", name=op.f("pk_slack_install_state")),
    )
    op.create_table(
        "slack_seen_request",
        sa.Column("signature", sa.String(length=80), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("signature", name=op.f("pk_slack_seen_request")),
    )
    op.create_index(
        op.f("ix_slack_seen_request_seen_at"), "slack_seen_request", ["seen_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_slack_seen_request_seen_at"), table_name="slack_seen_request")
    op.drop_table("slack_seen_request")
    op.drop_table("slack_install_state")
    op.drop_table("slack_workspace")
