"""The two statements on intake's hot path, written as SQL on purpose.

Every alert that arrives is either a repeat of a firing alert (count it) or a new one
(open an incident). Each of those is one round trip here: a data-modifying CTE that
changes the alert, the incident and the audit trail together. Built through the ORM, the
same work took a dozen statements and about ten times the CPU, which a 2-core machine
cannot afford at a thousand alerts a second (see docs/benchmarks.md). The statements are
constants, so SQLAlchemy compiles each once.

They keep the rules of ``actions.alerts``: counting only touches a *firing* alert (a
compare-and-set on its status), and the audit events land in the same transaction as the
change they describe.
"""

from __future__ import annotations

import sqlalchemy as sa

# Count a repeat of a firing alert: keep its latest payload, note the alert time on its
# incident (auto-resolve measures from it), and write the timeline event.
COUNT_REPEAT = sa.text(
    """
    WITH counted AS (
        UPDATE alert
        SET count = count + 1,
            last_seen_at = :now,
            title = :title,
            description = :description,
            severity = :severity,
            source = :source,
            labels = CAST(:labels AS jsonb),
            details = CAST(:details AS jsonb),
            links = CAST(:links AS jsonb),
            occurred_at = :occurred_at
        WHERE integration_id = :integration_id AND dedup_key = :dedup_key AND status = 'firing'
        RETURNING id, incident_id, count
    ), touched AS (
        UPDATE incident SET last_alert_at = :now
        FROM counted
        WHERE incident.id = counted.incident_id
        RETURNING incident.id, incident.number, incident.team_id
    ), logged AS (
        INSERT INTO audit_event (
            occurred_at, actor_kind, actor_id, actor_label, action, resource_type,
            resource_id, team_id, details, ip_address
        )
        SELECT :now, :actor_kind, :actor_id, :actor_label, 'alert.deduplicated', 'incident',
               touched.id::text, touched.team_id,
               jsonb_build_object(
                   'alert_id', counted.id::text, 'dedup_key', :dedup_key, 'count', counted.count
               ),
               :ip_address
        FROM counted JOIN touched ON touched.id = counted.incident_id
    )
    SELECT counted.id, counted.incident_id, counted.count, touched.number
    FROM counted JOIN touched ON touched.id = counted.incident_id
    """
)

# Open an incident with its first alert: the incident (due for escalation at once when
# its service has a policy; the engine freezes the policy at the first step), the alert,
# both timeline events, and a NOTIFY that wakes the engines when this commits.
OPEN_WITH_ALERT = sa.text(
    """
    WITH created AS (
        INSERT INTO incident (
            id, service_id, team_id, title, description, severity, urgency, status,
            created_at, updated_at, group_key, group_until, alert_count, last_alert_at,
            escalation_policy_id, escalation_level, escalation_loop, escalation_token,
            next_escalation_at
        )
        VALUES (
            :incident_id, :service_id, :team_id, :incident_title, :incident_description,
            :severity, :urgency, 'triggered', :now, :now, :group_key, :group_until, 1, :now,
            :policy_id, 0, 0, 0, :next_escalation_at
        )
        RETURNING id, number, team_id
    ), alerted AS (
        INSERT INTO alert (
            id, integration_id, incident_id, dedup_key, status, title, description, severity,
            source, labels, details, links, count, first_seen_at, last_seen_at, occurred_at
        )
        SELECT :alert_id, :integration_id, created.id, :dedup_key, 'firing', :title,
               :description, :severity, :source, CAST(:labels AS jsonb),
               CAST(:details AS jsonb), CAST(:links AS jsonb), 1, :now, :now, :occurred_at
        FROM created
    ), logged AS (
        INSERT INTO audit_event (
            occurred_at, actor_kind, actor_id, actor_label, action, resource_type,
            resource_id, team_id, details, ip_address
        )
        SELECT :now, :actor_kind, :actor_id, :actor_label, event.action, 'incident',
               created.id::text, created.team_id, event.details, :ip_address
        FROM created
        CROSS JOIN LATERAL (
            VALUES
                (1, 'incident.triggered',
                 CAST(:triggered_details AS jsonb) || jsonb_build_object('number', created.number)),
                (2, 'alert.received', CAST(:received_details AS jsonb))
        ) AS event(position, action, details)
        ORDER BY event.position
    ), woken AS (
        SELECT pg_notify('tocsin_engine', '') AS sent
    )
    SELECT created.id, created.number FROM created, woken
    """
)
