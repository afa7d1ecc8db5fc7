"""Alert pipeline: services, escalation policies, integrations, incidents, alerts, pages.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 12:59:15.409716
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


PRINCIPAL_KINDS_BEFORE = ("user", "api_key", "system", "anonymous")
PRINCIPAL_KINDS_AFTER = (*PRINCIPAL_KINDS_BEFORE, "integration")


def _principal_kind_check(kinds: tuple[str, ...]) -> None:
    op.drop_constraint(op.f("ck_audit_event_principal_kind"), "audit_event", type_="check")
    op.create_check_constraint(
        op.f("ck_audit_event_principal_kind"),
        "audit_event",
        sa.column("actor_kind").in_(kinds),
    )


def upgrade() -> None:
    # Incident numbers (#1234) come from one sequence: short, digits only, never reused.
    op.execute(sa.schema.CreateSequence(sa.Sequence("incident_number_seq")))
    op.create_table(
        "escalation_policy",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("team_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("repeat_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "repeat_count BETWEEN 0 AND 9", name=op.f("ck_escalation_policy_repeat_count_range")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
            name=op.f("fk_escalation_policy_team_id_team"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_policy")),
    )
    op.create_index(
        op.f("ix_escalation_policy_team_id"), "escalation_policy", ["team_id"], unique=False
    )
    op.create_index(
        "uq_escalation_policy_team_id_name_lower",
        "escalation_policy",
        ["team_id", sa.literal_column("lower(name)")],
        unique=True,
    )
    op.create_table(
        "escalation_level",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("policy_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("delay_minutes", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "delay_minutes BETWEEN 1 AND 1440", name=op.f("ck_escalation_level_delay_range")
        ),
        sa.CheckConstraint(
            "position BETWEEN 1 AND 20", name=op.f("ck_escalation_level_position_range")
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["escalation_policy.id"],
            name=op.f("fk_escalation_level_policy_id_escalation_policy"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_level")),
        sa.UniqueConstraint(
            "policy_id", "position", name=op.f("uq_escalation_level_policy_id_position")
        ),
    )
    op.create_table(
        "service",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("team_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("escalation_policy_id", sa.UUID(), nullable=True),
        sa.Column(
            "urgency_rule",
            sa.Enum(
                "high",
                "low",
                "severity",
                name="urgency_rule",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("ack_timeout_minutes", sa.Integer(), nullable=True),
        sa.Column("auto_resolve_hours", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "ack_timeout_minutes IS NULL OR ack_timeout_minutes BETWEEN 1 AND 10080",
            name=op.f("ck_service_ack_timeout_range"),
        ),
        sa.CheckConstraint(
            "auto_resolve_hours IS NULL OR auto_resolve_hours BETWEEN 1 AND 8760",
            name=op.f("ck_service_auto_resolve_range"),
        ),
        sa.ForeignKeyConstraint(
            ["escalation_policy_id"],
            ["escalation_policy.id"],
            name=op.f("fk_service_escalation_policy_id_escalation_policy"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_service_team_id_team"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service")),
    )
    op.create_index(
        op.f("ix_service_escalation_policy_id"), "service", ["escalation_policy_id"], unique=False
    )
    op.create_index(op.f("ix_service_team_id"), "service", ["team_id"], unique=False)
    op.create_index(
        "uq_service_name_lower", "service", [sa.literal_column("lower(name)")], unique=True
    )
    op.create_table(
        "escalation_target",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("level_id", sa.UUID(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "user",
                "schedule",
                "team",
                name="target_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("user_id", sa.UUID(), nullable=True),
        sa.Column("schedule_id", sa.UUID(), nullable=True),
        sa.Column("team_id", sa.UUID(), nullable=True),
        sa.CheckConstraint(
            "(kind = 'user' AND user_id IS NOT NULL AND schedule_id IS NULL AND team_id IS NULL)"
            " OR (kind = 'schedule' AND schedule_id IS NOT NULL AND user_id IS NULL"
            " AND team_id IS NULL)"
            " OR (kind = 'team' AND team_id IS NOT NULL AND user_id IS NULL"
            " AND schedule_id IS NULL)",
            name=op.f("ck_escalation_target_one_target"),
        ),
        sa.ForeignKeyConstraint(
            ["level_id"],
            ["escalation_level.id"],
            name=op.f("fk_escalation_target_level_id_escalation_level"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedule.id"],
            name=op.f("fk_escalation_target_schedule_id_schedule"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
            name=op.f("fk_escalation_target_team_id_team"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_escalation_target_user_id_user_account"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_target")),
    )
    op.create_index(
        op.f("ix_escalation_target_level_id"), "escalation_target", ["level_id"], unique=False
    )
    op.create_index(
        op.f("ix_escalation_target_schedule_id"), "escalation_target", ["schedule_id"], unique=False
    )
    op.create_index(
        op.f("ix_escalation_target_team_id"), "escalation_target", ["team_id"], unique=False
    )
    op.create_index(
        op.f("ix_escalation_target_user_id"), "escalation_target", ["user_id"], unique=False
    )
    op.create_table(
        "incident",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column(
            "number",
            sa.BigInteger(),
            server_default=sa.text("nextval('incident_number_seq')"),
            nullable=False,
        ),
        sa.Column("service_id", sa.UUID(), nullable=False),
        sa.Column("team_id", sa.UUID(), nullable=False),
        sa.Column("title", sa.String(length=1024), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "severity",
            sa.Enum(
                "critical",
                "error",
                "warning",
                "info",
                name="severity",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "urgency",
            sa.Enum("high", "low", name="urgency", native_enum=False, create_constraint=True),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "triggered",
                "acknowledged",
                "resolved",
                name="incident_status",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=320), nullable=True),
        sa.Column("acknowledged_by_user_id", sa.UUID(), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=320), nullable=True),
        sa.Column("resolved_by_user_id", sa.UUID(), nullable=True),
        sa.Column("reopen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("group_key", sa.String(length=64), nullable=True),
        sa.Column("group_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("alert_count", sa.Integer(), nullable=False),
        sa.Column("last_alert_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalation_policy_id", sa.UUID(), nullable=True),
        sa.Column("escalation_snapshot", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        sa.Column("escalation_loop", sa.Integer(), nullable=False),
        sa.Column("escalation_token", sa.Integer(), nullable=False),
        sa.Column("next_escalation_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalation_exhausted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("held_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status = 'acknowledged' OR reopen_at IS NULL",
            name=op.f("ck_incident_only_acked_reopens"),
        ),
        sa.CheckConstraint(
            "status = 'triggered' OR next_escalation_at IS NULL",
            name=op.f("ck_incident_only_triggered_escalates"),
        ),
        sa.ForeignKeyConstraint(
            ["escalation_policy_id"],
            ["escalation_policy.id"],
            name=op.f("fk_incident_escalation_policy_id_escalation_policy"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_incident_service_id_service"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["team.id"], name=op.f("fk_incident_team_id_team"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident")),
        sa.UniqueConstraint("number", name=op.f("uq_incident_number")),
    )
    op.create_index(op.f("ix_incident_created_at"), "incident", ["created_at"], unique=False)
    op.create_index(
        "ix_incident_escalation_due",
        "incident",
        ["next_escalation_at"],
        unique=False,
        postgresql_where=sa.text("next_escalation_at IS NOT NULL"),
    )
    op.create_index(
        "ix_incident_open_group",
        "incident",
        ["service_id", "group_key"],
        unique=False,
        postgresql_where=sa.text("status <> 'resolved' AND group_key IS NOT NULL"),
    )
    op.create_index(
        "ix_incident_open_last_alert",
        "incident",
        ["last_alert_at"],
        unique=False,
        postgresql_where=sa.text("status <> 'resolved'"),
    )
    op.create_index(
        "ix_incident_reopen_due",
        "incident",
        ["reopen_at"],
        unique=False,
        postgresql_where=sa.text("reopen_at IS NOT NULL"),
    )
    op.create_index(
        "ix_incident_service_status", "incident", ["service_id", "status"], unique=False
    )
    op.create_index(op.f("ix_incident_team_id"), "incident", ["team_id"], unique=False)
    op.create_table(
        "integration",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "pagerduty_events_v2",
                "alertmanager",
                "grafana",
                "opsgenie",
                "datadog",
                "newrelic",
                "generic",
                "heartbeat",
                name="integration_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("key_prefix", sa.String(length=16), nullable=False),
        sa.Column("service_id", sa.UUID(), nullable=True),
        sa.Column("fallback_service_id", sa.UUID(), nullable=True),
        sa.Column("grouping_fields", postgresql.ARRAY(sa.String(length=100)), nullable=False),
        sa.Column("grouping_window_minutes", sa.Integer(), nullable=True),
        sa.Column("signing_secret_encrypted", sa.Text(), nullable=True),
        sa.Column("heartbeat_interval_minutes", sa.Integer(), nullable=True),
        sa.Column("heartbeat_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "heartbeat_state",
            sa.Enum(
                "waiting",
                "ok",
                "missed",
                name="heartbeat_state",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("is_enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(kind = 'heartbeat') = (heartbeat_interval_minutes IS NOT NULL)",
            name=op.f("ck_integration_heartbeat_interval"),
        ),
        sa.CheckConstraint(
            "(service_id IS NOT NULL) <> (fallback_service_id IS NOT NULL)",
            name=op.f("ck_integration_service_or_fallback"),
        ),
        sa.CheckConstraint(
            "grouping_window_minutes IS NULL OR grouping_window_minutes BETWEEN 1 AND 10080",
            name=op.f("ck_integration_grouping_window_range"),
        ),
        sa.ForeignKeyConstraint(
            ["fallback_service_id"],
            ["service.id"],
            name=op.f("fk_integration_fallback_service_id_service"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_integration_service_id_service"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_integration_key_hash")),
    )
    op.create_index(
        op.f("ix_integration_fallback_service_id"),
        "integration",
        ["fallback_service_id"],
        unique=False,
    )
    op.create_index(
        "ix_integration_heartbeat_due",
        "integration",
        ["heartbeat_expires_at"],
        unique=False,
        postgresql_where=sa.text("kind = 'heartbeat' AND heartbeat_state = 'ok'"),
    )
    op.create_index(op.f("ix_integration_service_id"), "integration", ["service_id"], unique=False)
    op.create_index(
        "uq_integration_name_lower", "integration", [sa.literal_column("lower(name)")], unique=True
    )
    op.create_table(
        "maintenance_window",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("service_id", sa.UUID(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recurrence", sa.String(length=500), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "ends_at > starts_at", name=op.f("ck_maintenance_window_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_maintenance_window_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_window")),
    )
    op.create_index(
        op.f("ix_maintenance_window_service_id"), "maintenance_window", ["service_id"], unique=False
    )
    op.create_table(
        "alert",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("integration_id", sa.UUID(), nullable=True),
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("dedup_key", sa.String(length=512), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "firing", "resolved", name="alert_status", native_enum=False, create_constraint=True
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=1024), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "severity",
            sa.Enum(
                "critical",
                "error",
                "warning",
                "info",
                name="severity",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=1024), nullable=False),
        sa.Column("labels", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("links", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_alert_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integration.id"],
            name=op.f("fk_alert_integration_id_integration"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
    )
    op.create_index(op.f("ix_alert_incident_id"), "alert", ["incident_id"], unique=False)
    op.create_index(
        "uq_alert_open_identity",
        "alert",
        ["integration_id", "dedup_key"],
        unique=True,
        postgresql_where=sa.text("status = 'firing'"),
    )
    op.create_table(
        "change_event",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("service_id", sa.UUID(), nullable=False),
        sa.Column("integration_id", sa.UUID(), nullable=True),
        sa.Column("summary", sa.String(length=1024), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("links", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integration.id"],
            name=op.f("fk_change_event_integration_id_integration"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_change_event_service_id_service"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_event")),
    )
    op.create_index(
        "ix_change_event_service_time", "change_event", ["service_id", "occurred_at"], unique=False
    )
    op.create_table(
        "inbound_event",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("integration_id", sa.UUID(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "applied",
                "ignored",
                "rejected",
                name="event_outcome",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("http_status", sa.SmallInteger(), nullable=False),
        sa.Column("detail", sa.String(length=2000), nullable=False),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integration.id"],
            name=op.f("fk_inbound_event_integration_id_integration"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_event")),
    )
    op.create_index(
        "ix_inbound_event_integration_time",
        "inbound_event",
        ["integration_id", "received_at"],
        unique=False,
    )
    op.create_index(
        "uq_inbound_event_applied_key",
        "inbound_event",
        ["integration_id", "idempotency_key"],
        unique=True,
        postgresql_where=sa.text("outcome = 'applied' AND idempotency_key IS NOT NULL"),
    )
    op.create_table(
        "page",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("user_id", sa.UUID(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("loop", sa.Integer(), nullable=False),
        sa.Column("step_token", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_page_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_page_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_page")),
        sa.UniqueConstraint(
            "incident_id",
            "step_token",
            "user_id",
            name=op.f("uq_page_incident_id_step_token_user_id"),
        ),
    )
    op.create_index(op.f("ix_page_incident_id"), "page", ["incident_id"], unique=False)
    op.create_index(op.f("ix_page_user_id"), "page", ["user_id"], unique=False)
    op.create_table(
        "routing_rule",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("integration_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.UUID(), nullable=False),
        sa.Column("conditions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integration.id"],
            name=op.f("fk_routing_rule_integration_id_integration"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["service.id"],
            name=op.f("fk_routing_rule_service_id_service"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_rule")),
        sa.UniqueConstraint(
            "integration_id", "position", name=op.f("uq_routing_rule_integration_id_position")
        ),
    )
    op.create_index(
        op.f("ix_routing_rule_service_id"), "routing_rule", ["service_id"], unique=False
    )
    # Targets keep the order they were written in (added after the first draft of 0003).
    op.add_column("escalation_target", sa.Column("position", sa.Integer(), nullable=False))
    op.create_unique_constraint(
        op.f("uq_escalation_target_level_id_position"),
        "escalation_target",
        ["level_id", "position"],
    )
    # Integrations become audit actors ("resolved by Alertmanager").
    op.alter_column(
        "audit_event", "actor_kind", existing_type=sa.String(length=9), type_=sa.String(length=11)
    )
    _principal_kind_check(PRINCIPAL_KINDS_AFTER)


def downgrade() -> None:
    # The audit trail is append-only: a downgrade refuses to run (the CHECK fails) while
    # events attributed to integrations exist, rather than rewrite history.
    _principal_kind_check(PRINCIPAL_KINDS_BEFORE)
    op.alter_column(
        "audit_event", "actor_kind", existing_type=sa.String(length=11), type_=sa.String(length=9)
    )
    op.drop_index(op.f("ix_routing_rule_service_id"), table_name="routing_rule")
    op.drop_table("routing_rule")
    op.drop_index(op.f("ix_page_user_id"), table_name="page")
    op.drop_index(op.f("ix_page_incident_id"), table_name="page")
    op.drop_table("page")
    op.drop_index(
        "uq_inbound_event_applied_key",
        table_name="inbound_event",
        postgresql_where=sa.text("outcome = 'applied' AND idempotency_key IS NOT NULL"),
    )
    op.drop_index("ix_inbound_event_integration_time", table_name="inbound_event")
    op.drop_table("inbound_event")
    op.drop_index("ix_change_event_service_time", table_name="change_event")
    op.drop_table("change_event")
    op.drop_index(
        "uq_alert_open_identity", table_name="alert", postgresql_where=sa.text("status = 'firing'")
    )
    op.drop_index(op.f("ix_alert_incident_id"), table_name="alert")
    op.drop_table("alert")
    op.drop_index(op.f("ix_maintenance_window_service_id"), table_name="maintenance_window")
    op.drop_table("maintenance_window")
    op.drop_index("uq_integration_name_lower", table_name="integration")
    op.drop_index(op.f("ix_integration_service_id"), table_name="integration")
    op.drop_index(
        "ix_integration_heartbeat_due",
        table_name="integration",
        postgresql_where=sa.text("kind = 'heartbeat' AND heartbeat_state = 'ok'"),
    )
    op.drop_index(op.f("ix_integration_fallback_service_id"), table_name="integration")
    op.drop_table("integration")
    op.drop_index(op.f("ix_incident_team_id"), table_name="incident")
    op.drop_index("ix_incident_service_status", table_name="incident")
    op.drop_index(
        "ix_incident_reopen_due",
        table_name="incident",
        postgresql_where=sa.text("reopen_at IS NOT NULL"),
    )
    op.drop_index(
        "ix_incident_open_last_alert",
        table_name="incident",
        postgresql_where=sa.text("status <> 'resolved'"),
    )
    op.drop_index(
        "ix_incident_open_group",
        table_name="incident",
        postgresql_where=sa.text("status <> 'resolved' AND group_key IS NOT NULL"),
    )
    op.drop_index(
        "ix_incident_escalation_due",
        table_name="incident",
        postgresql_where=sa.text("next_escalation_at IS NOT NULL"),
    )
    op.drop_index(op.f("ix_incident_created_at"), table_name="incident")
    op.drop_table("incident")
    op.drop_index(op.f("ix_escalation_target_user_id"), table_name="escalation_target")
    op.drop_index(op.f("ix_escalation_target_team_id"), table_name="escalation_target")
    op.drop_index(op.f("ix_escalation_target_schedule_id"), table_name="escalation_target")
    op.drop_index(op.f("ix_escalation_target_level_id"), table_name="escalation_target")
    op.drop_table("escalation_target")
    op.drop_index("uq_service_name_lower", table_name="service")
    op.drop_index(op.f("ix_service_team_id"), table_name="service")
    op.drop_index(op.f("ix_service_escalation_policy_id"), table_name="service")
    op.drop_table("service")
    op.drop_table("escalation_level")
    op.drop_index("uq_escalation_policy_team_id_name_lower", table_name="escalation_policy")
    op.drop_index(op.f("ix_escalation_policy_team_id"), table_name="escalation_policy")
    op.drop_table("escalation_policy")
    op.execute(sa.schema.DropSequence(sa.Sequence("incident_number_seq")))
