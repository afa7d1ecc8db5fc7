"""The escalation step as one statement, on purpose.

An engine tick applies hundreds of steps; each moves the incident to its next level (a
compare-and-set on ``escalation_token``), writes one page per recipient, the timeline event
and a NOTIFY for the dispatchers. As separate ORM statements that was about six ms of CPU
per step; as one data-modifying CTE on the raw connection (``db/driver.py``) it is a
fraction of that. If the compare-and-set matches no row (the incident was acknowledged, or
another engine applied the step), nothing else in the statement happens either: every
other part selects ``FROM moved``.
"""

from __future__ import annotations

from typing import LiteralString

STEP: LiteralString = """
    WITH moved AS (
        UPDATE incident
        SET escalation_level = %(level)s,
            escalation_loop = %(loop)s,
            escalation_token = %(token)s,
            next_escalation_at = %(next_due)s,
            escalation_exhausted_at = NULL,
            -- Never earlier than the version written (db/models/incidents.kept_version).
            updated_at = GREATEST(%(now)s, incident.updated_at)
        WHERE id = %(incident_id)s
          AND escalation_token = %(expected_token)s
          AND status = 'triggered'
        RETURNING id, team_id
    ), paged AS (
        INSERT INTO page (id, incident_id, user_id, level, loop, step_token, reason, created_at)
        SELECT gen_random_uuid(), moved.id, recipient.user_id, %(level)s, %(loop)s, %(token)s,
               left(recipient.reason, 500), %(now)s
        FROM moved
        CROSS JOIN jsonb_to_recordset(CAST(%(recipients)s AS jsonb))
            AS recipient(user_id uuid, reason text)
        ON CONFLICT ON CONSTRAINT uq_page_incident_id_step_token_user_id DO NOTHING
        RETURNING 1
    ), logged AS (
        INSERT INTO audit_event (
            occurred_at, actor_kind, actor_id, actor_label, action, resource_type,
            resource_id, team_id, details, ip_address, user_agent
        )
        SELECT %(now)s, %(actor_kind)s, %(actor_id)s, %(actor_label)s, %(action)s, 'incident',
               moved.id::text, moved.team_id, CAST(%(details)s AS jsonb), %(ip_address)s,
               %(user_agent)s
        FROM moved
    ), woken AS (
        -- Pages are the dispatch module's work: only its lane wakes.
        SELECT pg_notify('tocsin_engine', 'dispatch') FROM moved WHERE %(wake)s
    )
    SELECT (SELECT count(*) FROM moved), (SELECT count(*) FROM paged), (SELECT count(*) FROM woken)
"""
