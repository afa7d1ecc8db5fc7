"""The two statements on intake's hot path, written as SQL on purpose.

Every alert that arrives is either a repeat of a firing alert (count it) or a new one
(open an incident). Each of those is one round trip here: a data-modifying CTE that
changes the alert, the incident and the audit trail together. Built through the ORM, the
same work took a dozen statements and about ten times the CPU, which a 2-core machine
cannot afford at a thousand alerts a second (see docs/benchmarks.md). The statements are
constants run with ``db.driver.execute`` on the psycopg connection under the
session's transaction; psycopg prepares each on a connection after a few uses.

They keep the rules of ``actions.alerts``: counting only touches a *firing* alert (a
compare-and-set on its status), and the audit events land in the same transaction as the
change they describe.
"""

from __future__ import annotations

from typing import LiteralString

# Count a repeat of a firing alert: keep its latest payload, note the alert time on its
# incident (auto-resolve measures from it), and write the timeline event.
COUNT_REPEAT: LiteralString = """
    WITH counted AS (
        UPDATE alert
        SET count = count + 1,
            last_seen_at = %(now)s,
            title = %(title)s,
            description = %(description)s,
            severity = %(severity)s,
            source = %(source)s,
            labels = CAST(%(labels)s AS jsonb),
            details = CAST(%(details)s AS jsonb),
            links = CAST(%(links)s AS jsonb),
            occurred_at = %(occurred_at)s
        WHERE integration_id = %(integration_id)s
          AND dedup_key = %(dedup_key)s
          AND status = 'firing'
        RETURNING id, incident_id, count
    ), touched AS (
        UPDATE incident SET last_alert_at = %(now)s
        FROM counted
        WHERE incident.id = counted.incident_id
        RETURNING incident.id, incident.number, incident.team_id
    ), logged AS (
        INSERT INTO audit_event (
            occurred_at, actor_kind, actor_id, actor_label, action, resource_type,
            resource_id, team_id, details, ip_address
        )
        SELECT %(now)s, %(actor_kind)s, %(actor_id)s, %(actor_label)s, 'alert.deduplicated',
               'incident',
               touched.id::text, touched.team_id,
               jsonb_build_object(
                   'alert_id', counted.id::text, 'dedup_key', %(dedup_key)s, 'count', counted.count
               ),
               %(ip_address)s
        FROM counted JOIN touched ON touched.id = counted.incident_id
    )
    SELECT counted.id, counted.incident_id, counted.count, touched.number
    FROM counted JOIN touched ON touched.id = counted.incident_id
    """

# Open an incident with its first alert: the incident (due for escalation at once when
# its service has a policy; the engine freezes the policy at the first step), the alert,
# both timeline events, and a NOTIFY that wakes the engines when this commits.
OPEN_WITH_ALERT: LiteralString = """
    WITH created AS (
        INSERT INTO incident (
            id, service_id, team_id, title, description, severity, urgency, status,
            created_at, updated_at, group_key, group_until, alert_count, last_alert_at,
            escalation_policy_id, escalation_level, escalation_loop, escalation_token,
            next_escalation_at
        )
        VALUES (
            %(incident_id)s, %(service_id)s, %(team_id)s, %(incident_title)s,
            %(incident_description)s, %(severity)s, %(urgency)s, 'triggered', %(now)s, %(now)s,
            %(group_key)s, %(group_until)s, 1, %(now)s, %(policy_id)s, 0, 0, 0,
            %(next_escalation_at)s
        )
        RETURNING id, number, team_id
    ), alerted AS (
        INSERT INTO alert (
            id, integration_id, incident_id, dedup_key, status, title, description, severity,
            source, labels, details, links, count, first_seen_at, last_seen_at, occurred_at
        )
        SELECT %(alert_id)s, %(integration_id)s, created.id, %(dedup_key)s, 'firing', %(title)s,
               %(description)s, %(severity)s, %(source)s, CAST(%(labels)s AS jsonb),
               CAST(%(details)s AS jsonb), CAST(%(links)s AS jsonb), 1, %(now)s, %(now)s,
               %(occurred_at)s
        FROM created
    ), logged AS (
        INSERT INTO audit_event (
            occurred_at, actor_kind, actor_id, actor_label, action, resource_type,
            resource_id, team_id, details, ip_address
        )
        SELECT %(now)s, %(actor_kind)s, %(actor_id)s, %(actor_label)s, event.action, 'incident',
               created.id::text, created.team_id, event.details, %(ip_address)s
        FROM created
        CROSS JOIN LATERAL (
            VALUES
                (1, 'incident.triggered',
                 CAST(%(triggered_details)s AS jsonb)
                     || jsonb_build_object('number', created.number)),
                (2, 'alert.received', CAST(%(received_details)s AS jsonb))
        ) AS event(position, action, details)
        ORDER BY event.position
    ), woken AS (
        -- The payload names the engine modules with new work: only their lanes wake. A
        -- new incident is paged; the follow-up lane wakes only when its service posts
        -- incidents somewhere (a lane tick per alert would cost every service).
        SELECT pg_notify(
            'tocsin_engine',
            CASE WHEN EXISTS (
                SELECT 1 FROM post_target
                WHERE (post_target.service_id = %(service_id)s
                       OR post_target.team_id = %(team_id)s)
                  AND post_target.broken_at IS NULL
            ) THEN 'escalations,follow_ups' ELSE 'escalations' END
        ) AS sent
    )
    SELECT created.id, created.number FROM created, woken
    """

# Join the open incident of the same service and group key whose window has not closed:
# lock it (FOR NO KEY UPDATE: the new alert's foreign key check needs KEY SHARE on it), count
# the alert on it, slide its window, add the alert and the timeline event.
JOIN_GROUP: LiteralString = """
    WITH joined AS (
        SELECT id FROM incident
        WHERE service_id = %(service_id)s
          AND group_key = %(group_key)s
          AND status <> 'resolved'
          AND group_until >= %(now)s
        ORDER BY created_at DESC
        LIMIT 1
        FOR NO KEY UPDATE
    ), updated AS (
        UPDATE incident
        SET alert_count = alert_count + 1, last_alert_at = %(now)s, group_until = %(group_until)s
        FROM joined
        WHERE incident.id = joined.id
        RETURNING incident.id, incident.number, incident.team_id
    ), alerted AS (
        INSERT INTO alert (
            id, integration_id, incident_id, dedup_key, status, title, description, severity,
            source, labels, details, links, count, first_seen_at, last_seen_at, occurred_at
        )
        SELECT %(alert_id)s, %(integration_id)s, updated.id, %(dedup_key)s, 'firing', %(title)s,
               %(description)s, %(severity)s, %(source)s, CAST(%(labels)s AS jsonb),
               CAST(%(details)s AS jsonb), CAST(%(links)s AS jsonb), 1, %(now)s, %(now)s,
               %(occurred_at)s
        FROM updated
    ), logged AS (
        INSERT INTO audit_event (
            occurred_at, actor_kind, actor_id, actor_label, action, resource_type,
            resource_id, team_id, details, ip_address
        )
        SELECT %(now)s, %(actor_kind)s, %(actor_id)s, %(actor_label)s, 'alert.grouped',
               'incident', updated.id::text, updated.team_id,
               CAST(%(received_details)s AS jsonb), %(ip_address)s
        FROM updated
    )
    SELECT id, number FROM updated
"""

LOCK: LiteralString = "SELECT pg_advisory_xact_lock(hashtextextended(%(name)s, 0))"
