"""Notifications: contact methods and their verification, Slack and Teams links, personal
rules and opt-ins, deliveries (the send queue), magic links, provider circuit breakers, the
local mail outbox; the dispatch markers of pages.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 13:21:30.137704
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notify_cursor",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("position", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_notify_cursor")),
    )
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("message_id", sa.String(length=256), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=1000), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
    )
    op.create_index(
        op.f("ix_outbox_message_created_at"), "outbox_message", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_outbox_message_message_id"), "outbox_message", ["message_id"], unique=False
    )
    op.create_table(
        "provider_circuit",
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "closed",
                "open",
                "half_open",
                name="circuit_state",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("open_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("probe_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider", name=op.f("pk_provider_circuit")),
    )
    op.create_table(
        "contact_method",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "email",
                "push",
                "slack",
                "teams",
                "sms",
                "voice",
                name="channel_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=2048), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_contact_method_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_method")),
        sa.UniqueConstraint(
            "user_id", "kind", "address", name=op.f("uq_contact_method_user_id_kind_address")
        ),
    )
    op.create_index(op.f("ix_contact_method_user_id"), "contact_method", ["user_id"], unique=False)
    op.create_table(
        "notification_rule",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column(
            "urgency",
            sa.Enum("high", "low", name="urgency", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column(
            "kind",
            sa.Enum(
                "email",
                "push",
                "slack",
                "teams",
                "sms",
                "voice",
                name="channel_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("delay_minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "delay_minutes BETWEEN 0 AND 1440", name=op.f("ck_notification_rule_delay_range")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_notification_rule_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_rule")),
        sa.UniqueConstraint(
            "user_id", "urgency", "kind", name=op.f("uq_notification_rule_user_id_urgency_kind")
        ),
    )
    op.create_index(
        op.f("ix_notification_rule_user_id"), "notification_rule", ["user_id"], unique=False
    )
    op.create_table(
        "notification_setting",
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("on_status_change", sa.Boolean(), nullable=False),
        sa.Column("on_shift_start", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_notification_setting_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_setting")),
    )
    op.create_table(
        "slack_link",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("slack_user_id", sa.String(length=64), nullable=False),
        sa.Column("slack_team_id", sa.String(length=64), nullable=False),
        sa.Column("access_token_encrypted", sa.Text(), nullable=False),
        sa.Column("refresh_token_encrypted", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_slack_link_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slack_link")),
        sa.UniqueConstraint(
            "slack_team_id", "slack_user_id", name=op.f("uq_slack_link_slack_team_id_slack_user_id")
        ),
        sa.UniqueConstraint("user_id", name=op.f("uq_slack_link_user_id")),
    )
    op.create_table(
        "teams_link",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("teams_user_id", sa.String(length=64), nullable=False),
        sa.Column("tenant_id", sa.String(length=64), nullable=False),
        sa.Column("access_token_encrypted", sa.Text(), nullable=False),
        sa.Column("refresh_token_encrypted", sa.Text(), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_teams_link_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams_link")),
        sa.UniqueConstraint(
            "tenant_id", "teams_user_id", name=op.f("uq_teams_link_tenant_id_teams_user_id")
        ),
        sa.UniqueConstraint("user_id", name=op.f("uq_teams_link_user_id")),
    )
    op.create_table(
        "contact_verification",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("contact_method_id", sa.UUID(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "attempts BETWEEN 0 AND 5", name=op.f("ck_contact_verification_attempts_range")
        ),
        sa.ForeignKeyConstraint(
            ["contact_method_id"],
            ["contact_method.id"],
            name=op.f("fk_contact_verification_contact_method_id_contact_method"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_verification")),
        sa.UniqueConstraint(
            "contact_method_id", name=op.f("uq_contact_verification_contact_method_id")
        ),
    )
    op.create_table(
        "delivery",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum(
                "page",
                "digest",
                "status",
                "shift",
                "verification",
                name="purpose",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("page_id", sa.UUID(), nullable=True),
        sa.Column("incident_id", sa.UUID(), nullable=True),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("contact_method_id", sa.UUID(), nullable=True),
        sa.Column(
            "kind",
            sa.Enum(
                "email",
                "push",
                "slack",
                "teams",
                "sms",
                "voice",
                name="channel_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("tier", sa.SmallInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "sending",
                "sent",
                "delivered",
                "failed",
                "cancelled",
                "held",
                "unknown",
                "bundled",
                name="delivery_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("digest_id", sa.UUID(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider", sa.String(length=64), nullable=True),
        sa.Column("provider_message_id", sa.String(length=512), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_detail", sa.String(length=1000), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status = 'sending' OR lease_until IS NULL",
            name=op.f("ck_delivery_only_sending_has_lease"),
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_delivery_attempts_non_negative")),
        sa.ForeignKeyConstraint(
            ["contact_method_id"],
            ["contact_method.id"],
            name=op.f("fk_delivery_contact_method_id_contact_method"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["digest_id"],
            ["delivery.id"],
            name=op.f("fk_delivery_digest_id_delivery"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_delivery_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["page_id"], ["page.id"], name=op.f("fk_delivery_page_id_page"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_delivery_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_delivery_dedup_key")),
        sa.UniqueConstraint(
            "page_id", "contact_method_id", name=op.f("uq_delivery_page_id_contact_method_id")
        ),
    )
    op.create_index(
        op.f("ix_delivery_contact_method_id"), "delivery", ["contact_method_id"], unique=False
    )
    op.create_index(op.f("ix_delivery_digest_id"), "delivery", ["digest_id"], unique=False)
    op.create_index(
        "ix_delivery_due",
        "delivery",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("next_attempt_at IS NOT NULL"),
    )
    op.create_index(op.f("ix_delivery_incident_id"), "delivery", ["incident_id"], unique=False)
    op.create_index(
        "ix_delivery_lease",
        "delivery",
        ["lease_until"],
        unique=False,
        postgresql_where=sa.text("status = 'sending'"),
    )
    op.create_index(
        "ix_delivery_method_sent",
        "delivery",
        ["contact_method_id", "sent_at"],
        unique=False,
        postgresql_where=sa.text("sent_at IS NOT NULL"),
    )
    op.create_index(op.f("ix_delivery_user_id"), "delivery", ["user_id"], unique=False)
    op.create_table(
        "magic_link",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("incident_id", sa.UUID(), nullable=True),
        sa.Column("digest_id", sa.UUID(), nullable=True),
        sa.Column("delivery_id", sa.UUID(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "action IN ('acknowledge', 'resolve')", name=op.f("ck_magic_link_action_known")
        ),
        sa.CheckConstraint(
            "(incident_id IS NULL) <> (digest_id IS NULL)",
            name=op.f("ck_magic_link_one_incident_or_digest"),
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["delivery.id"],
            name=op.f("fk_magic_link_delivery_id_delivery"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["digest_id"],
            ["delivery.id"],
            name=op.f("fk_magic_link_digest_id_delivery"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_magic_link_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_magic_link_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_magic_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_magic_link_token_hash")),
    )
    op.create_index(op.f("ix_magic_link_digest_id"), "magic_link", ["digest_id"], unique=False)
    op.create_index(op.f("ix_magic_link_incident_id"), "magic_link", ["incident_id"], unique=False)
    op.add_column("page", sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("page", sa.Column("unreachable_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_page_undispatched",
        "page",
        ["created_at"],
        unique=False,
        postgresql_where=sa.text("dispatched_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_page_undispatched", table_name="page", postgresql_where=sa.text("dispatched_at IS NULL")
    )
    op.drop_column("page", "unreachable_at")
    op.drop_column("page", "dispatched_at")
    op.drop_index(op.f("ix_magic_link_incident_id"), table_name="magic_link")
    op.drop_index(op.f("ix_magic_link_digest_id"), table_name="magic_link")
    op.drop_table("magic_link")
    op.drop_index(op.f("ix_delivery_user_id"), table_name="delivery")
    op.drop_index(
        "ix_delivery_method_sent",
        table_name="delivery",
        postgresql_where=sa.text("sent_at IS NOT NULL"),
    )
    op.drop_index(
        "ix_delivery_lease", table_name="delivery", postgresql_where=sa.text("status = 'sending'")
    )
    op.drop_index(op.f("ix_delivery_incident_id"), table_name="delivery")
    op.drop_index(
        "ix_delivery_due",
        table_name="delivery",
        postgresql_where=sa.text("next_attempt_at IS NOT NULL"),
    )
    op.drop_index(op.f("ix_delivery_digest_id"), table_name="delivery")
    op.drop_index(op.f("ix_delivery_contact_method_id"), table_name="delivery")
    op.drop_table("delivery")
    op.drop_table("contact_verification")
    op.drop_table("teams_link")
    op.drop_table("slack_link")
    op.drop_table("notification_setting")
    op.drop_index(op.f("ix_notification_rule_user_id"), table_name="notification_rule")
    op.drop_table("notification_rule")
    op.drop_index(op.f("ix_contact_method_user_id"), table_name="contact_method")
    op.drop_table("contact_method")
    op.drop_table("provider_circuit")
    op.drop_index(op.f("ix_outbox_message_message_id"), table_name="outbox_message")
    op.drop_index(op.f("ix_outbox_message_created_at"), table_name="outbox_message")
    op.drop_table("outbox_message")
    op.drop_table("notify_cursor")
