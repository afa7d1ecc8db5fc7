"""Schedules: layers and their participants, overrides and swaps, calendar feeds.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 12:49:39.969892
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "schedule",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("team_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_schedule_team_id_team"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule")),
    )
    op.create_index(
        "uq_schedule_team_id_name_lower",
        "schedule",
        ["team_id", sa.literal_column("lower(name)")],
        unique=True,
    )
    op.create_table(
        "schedule_layer",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("schedule_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        # Local wall-clock times in the schedule's zone: deliberately without time zone.
        sa.Column("start_local", sa.DateTime(), nullable=False),
        sa.Column("end_local", sa.DateTime(), nullable=True),
        sa.Column(
            "length_unit",
            sa.Enum("hours", "days", name="length_unit", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column("length_count", sa.Integer(), nullable=False),
        sa.Column("phase", sa.Integer(), nullable=False),
        sa.Column("restrictions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "end_local IS NULL OR end_local > start_local",
            name=op.f("ck_schedule_layer_ends_after_start"),
        ),
        sa.CheckConstraint("length_count >= 1", name=op.f("ck_schedule_layer_length_positive")),
        sa.CheckConstraint("position >= 0", name=op.f("ck_schedule_layer_position_not_negative")),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedule.id"],
            name=op.f("fk_schedule_layer_schedule_id_schedule"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_layer")),
    )
    op.create_index(
        op.f("ix_schedule_layer_schedule_id"), "schedule_layer", ["schedule_id"], unique=False
    )
    op.create_table(
        "schedule_layer_participant",
        sa.Column("layer_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["layer_id"],
            ["schedule_layer.id"],
            name=op.f("fk_schedule_layer_participant_layer_id_schedule_layer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_schedule_layer_participant_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("layer_id", "position", name=op.f("pk_schedule_layer_participant")),
    )
    op.create_index(
        op.f("ix_schedule_layer_participant_user_id"),
        "schedule_layer_participant",
        ["user_id"],
        unique=False,
    )
    op.create_table(
        "schedule_override",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("schedule_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("replaces_user_id", sa.UUID(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "override", "swap", name="override_kind", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("swap_id", sa.UUID(), nullable=True),
        sa.Column("created_by_user_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "ends_at > starts_at", name=op.f("ck_schedule_override_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["user_account.id"],
            name=op.f("fk_schedule_override_created_by_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["replaces_user_id"],
            ["user_account.id"],
            name=op.f("fk_schedule_override_replaces_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedule.id"],
            name=op.f("fk_schedule_override_schedule_id_schedule"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_schedule_override_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_override")),
    )
    # "Overrides of this schedule still in force after T": the on-call query's lookup.
    op.create_index(
        "ix_schedule_override_schedule_id_ends_at",
        "schedule_override",
        ["schedule_id", "ends_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_schedule_override_swap_id"), "schedule_override", ["swap_id"], unique=False
    )
    op.create_index(
        op.f("ix_schedule_override_user_id"), "schedule_override", ["user_id"], unique=False
    )
    op.create_table(
        "calendar_feed",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("display_prefix", sa.String(length=16), nullable=False),
        sa.Column("owner_user_id", sa.UUID(), nullable=False),
        sa.Column("schedule_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_user_id"],
            ["user_account.id"],
            name=op.f("fk_calendar_feed_owner_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedule.id"],
            name=op.f("fk_calendar_feed_schedule_id_schedule"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feed")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feed_token_hash")),
    )
    op.create_index(
        op.f("ix_calendar_feed_owner_user_id"), "calendar_feed", ["owner_user_id"], unique=False
    )
    op.create_index(
        op.f("ix_calendar_feed_schedule_id"), "calendar_feed", ["schedule_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("calendar_feed")
    op.drop_table("schedule_override")
    op.drop_table("schedule_layer_participant")
    op.drop_table("schedule_layer")
    op.drop_table("schedule")
