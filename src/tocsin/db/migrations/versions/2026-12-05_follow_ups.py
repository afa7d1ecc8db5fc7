"""Keeping what the chat and push channels posted in step with the incident.

* ``contact_method.disabled_reason``: why a method was disabled, in the provider's words,
  for its owner (a revoked Slack token, a push subscription answered 410, an SMS STOP).
  Nothing disabled methods that way before, so no row needs a reason.
* ``post_target`` and ``incident_post``: the shared places a service posts its incidents
  to (a Slack channel, a Teams Workflows webhook) and the one post per incident there.
  New tables, empty.
* ``delivery.refreshed_version``: the incident version a sent chat or push page last
  showed. NULL for every existing row, which the follow-up lane reads as "as sent".
* ``ix_incident_updated_at``: the lane's question is "which incidents changed lately".

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL_KINDS = ("email", "push", "slack", "teams", "sms", "voice")


def upgrade() -> None:
    op.add_column(
        "contact_method", sa.Column("disabled_reason", sa.String(length=300), nullable=True)
    )
    op.add_column(
        "delivery", sa.Column("refreshed_version", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index("ix_incident_updated_at", "incident", ["updated_at"], unique=False)
    op.create_table(
        "post_target",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("service_id", sa.UUID(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(*CHANNEL_KINDS, name="channel_kind", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("address_encrypted", sa.Text(), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("broken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("broken_reason", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_post_target_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_target")),
    )
    op.create_index(op.f("ix_post_target_service_id"), "post_target", ["service_id"])
    op.create_table(
        "incident_post",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("target_id", sa.UUID(), nullable=False),
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("reference", sa.String(length=512), nullable=True),
        sa.Column("synced_version", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_event_id", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error_detail", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_incident_post_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["target_id"],
            ["post_target.id"],
            name=op.f("fk_incident_post_target_id_post_target"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_post")),
        sa.UniqueConstraint(
            "target_id", "incident_id", name=op.f("uq_incident_post_target_id_incident_id")
        ),
    )
    op.create_index(op.f("ix_incident_post_incident_id"), "incident_post", ["incident_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_incident_post_incident_id"), table_name="incident_post")
    op.drop_table("incident_post")
    op.drop_index(op.f("ix_post_target_service_id"), table_name="post_target")
    op.drop_table("post_target")
    op.drop_index("ix_incident_updated_at", table_name="incident")
    op.drop_column("delivery", "refreshed_version")
    op.drop_column("contact_method", "disabled_reason")
