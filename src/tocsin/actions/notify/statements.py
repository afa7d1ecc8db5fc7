"""The statements on the notification hot path, written as SQL on purpose.

Every page becomes deliveries and every delivery a mail: hundreds a second at the
targets of docs/benchmarks.md, on two cores. Done one row at a time through the ORM, that
cost about 14 ms per page dispatched and 8 ms per send prepared; here each step is one
statement for a whole batch of rows, and the statements are constants run with
``db.driver.execute`` on the session's own connection, so psycopg prepares each once per
connection and they commit or roll back with the session's other work. A batch of rows
travels as one JSON array (``records``, read by ``jsonb_to_recordset``): a column per
array parameter would cost psycopg's array adaptation per element, about four times the
CPU of one ``json.dumps``. Only the common cases are here; the rare ones (a method gone,
a rate limit, a failed send) stay with the ORM in ``actions.deliveries`` and
``actions.delivery_outcomes``.

They keep the rules the ORM versions kept: claims are ``FOR UPDATE SKIP LOCKED``, a page
is marked dispatched only while it is not, and an outcome is a compare-and-set on
(status ``sending``, attempt number).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, LiteralString


def records(rows: Iterable[Mapping[str, Any]]) -> str:
    """Rows as one JSON array for ``jsonb_to_recordset`` (ids and instants as text)."""
    return json.dumps(list(rows), default=str, separators=(",", ":"))


# Claim undispatched pages and mark them dispatched in one statement, with what the rules
# need: the incident's state and urgency, whether this is the person's first page for the
# incident (email threading), and how many pages they had for the service within the
# bundle window *before* this one (bundling; skipped when bundling is off). Before, in the
# order pages are dispatched (creation time, then id): pages dispatched in one batch must
# not count each other, or a storm would bundle its first pages too and delay them by the
# digest's wait. Counted up to the threshold only, which is all the rule needs: a storm of
# N pages then costs N short index reads, not N x N.
CLAIM_PAGES: LiteralString = """
    WITH due AS MATERIALIZED (
        SELECT id FROM page
        WHERE dispatched_at IS NULL AND created_at <= %(now)s
        ORDER BY created_at
        LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED
    ), marked AS (
        UPDATE page SET dispatched_at = %(now)s
        FROM due
        WHERE page.id = due.id AND page.dispatched_at IS NULL
        RETURNING page.id, page.incident_id, page.user_id, page.level, page.step_token,
                  page.created_at
    )
    SELECT marked.id, marked.incident_id, marked.user_id, marked.level, marked.created_at,
           incident.status, incident.urgency, incident.service_id, incident.team_id,
           NOT EXISTS (
               SELECT 1 FROM page AS earlier
               WHERE earlier.incident_id = marked.incident_id
                 AND earlier.user_id = marked.user_id
                 AND earlier.step_token < marked.step_token
           ) AS first_page,
           CASE WHEN %(bundling)s THEN (
               SELECT count(*) FROM (
                   SELECT 1 FROM page AS other
                   JOIN incident AS other_incident ON other_incident.id = other.incident_id
                   WHERE other.user_id = marked.user_id
                     AND other_incident.service_id = incident.service_id
                     AND other.created_at >= %(window_start)s
                     AND (other.created_at, other.id) < (marked.created_at, marked.id)
                   LIMIT %(bundle_threshold)s
               ) AS counted
           ) ELSE 0 END AS earlier_pages
    FROM marked
    JOIN incident ON incident.id = marked.incident_id
    ORDER BY marked.created_at, marked.id
    """

RULES_OF: LiteralString = """
    SELECT user_id, urgency, kind, delay_minutes FROM notification_rule
    WHERE user_id = ANY(%(user_ids)s)
    """

METHODS_OF: LiteralString = """
    SELECT id, user_id, kind, verified_at IS NOT NULL FROM contact_method
    WHERE user_id = ANY(%(user_ids)s) AND disabled_at IS NULL
    """

# A page has at most one delivery per contact method: a second dispatcher inserts nothing.
# New deliveries wake the engines' delivery modules when this commits (a NOTIFY naming
# them), so whichever engine sends them does so at once; unless ``wake`` is false: the
# dispatcher claims them itself in this transaction (``engine/dispatch.py``).
INSERT_DELIVERIES: LiteralString = """
    WITH inserted AS (
        INSERT INTO delivery (
            id, purpose, page_id, incident_id, user_id, contact_method_id, kind, tier, status,
            next_attempt_at, details, digest_id, attempts, created_at, updated_at
        )
        SELECT row.id, 'page', row.page_id, row.incident_id, row.user_id, row.method_id,
               row.kind, row.tier, row.status, row.due, row.details, row.digest_id, 0,
               %(now)s, %(now)s
        FROM jsonb_to_recordset(CAST(%(rows)s AS jsonb)) AS row(
            id uuid, page_id uuid, incident_id uuid, user_id uuid, method_id uuid, kind text,
            tier smallint, status text, due timestamptz, details jsonb, digest_id uuid
        )
        ON CONFLICT ON CONSTRAINT uq_delivery_page_id_contact_method_id DO NOTHING
        RETURNING 1
    )
    SELECT pg_notify('tocsin_engine', 'deliveries')
    WHERE %(wake)s AND EXISTS (SELECT 1 FROM inserted)
    """

# Claim due deliveries with everything the checks and the message need: the method, the
# recipient, the page's level, and the incident with its service and team names (the
# columns of ``notices.Claimed``, the incident's last, as ``notices.IncidentRow`` has them).
CLAIM_DELIVERIES: LiteralString = """
    WITH due AS MATERIALIZED (
        SELECT id FROM delivery
        WHERE next_attempt_at <= %(now)s AND status IN ('queued', 'held', 'unknown')
        ORDER BY next_attempt_at
        LIMIT %(limit)s
        FOR UPDATE SKIP LOCKED
    )
    SELECT delivery.id, delivery.purpose, delivery.kind, delivery.attempts,
           delivery.page_id, delivery.incident_id, delivery.user_id,
           delivery.contact_method_id, delivery.details,
           method.id IS NOT NULL AND method.disabled_at IS NULL, method.address,
           method.verified_at IS NOT NULL,
           account.name, account.time_zone, page.level, coalesce(method.details, '{}'),
           incident.id, incident.status, incident.service_id, incident.number, incident.title,
           incident.description, incident.severity, incident.urgency, incident.created_at,
           incident.alert_count, incident.next_escalation_at, service.name, team.name
    FROM due
    JOIN delivery ON delivery.id = due.id
    JOIN user_account AS account ON account.id = delivery.user_id
    LEFT JOIN contact_method AS method ON method.id = delivery.contact_method_id
    LEFT JOIN page ON page.id = delivery.page_id
    LEFT JOIN incident ON incident.id = delivery.incident_id
    LEFT JOIN service ON service.id = incident.service_id
    LEFT JOIN team ON team.id = incident.team_id
    ORDER BY delivery.next_attempt_at, delivery.id
    """

# When the delivery module next has work: the earliest due row, or the earliest lease of
# a send in flight to recover. Read in the claim's transaction, so that the engine can
# sleep without another one.
NEXT_DELIVERY_DUE: LiteralString = """
    SELECT least(
        (SELECT min(next_attempt_at) FROM delivery
         WHERE next_attempt_at IS NOT NULL AND status IN ('queued', 'held', 'unknown')),
        (SELECT min(lease_until) FROM delivery WHERE status = 'sending')
    )
    """

# When the dispatch module next has work (pages another engine holds, or that failed).
NEXT_PAGE_DUE: LiteralString = """
    SELECT min(created_at) FROM page WHERE dispatched_at IS NULL
    """

# The still-triggered incidents that digests carry, each once, by number.
DIGEST_MEMBERS: LiteralString = """
    SELECT DISTINCT member.digest_id, incident.id, incident.status, incident.service_id,
           incident.number, incident.title, incident.description, incident.severity,
           incident.urgency, incident.created_at, incident.alert_count,
           incident.next_escalation_at, service.name, team.name
    FROM delivery AS member
    JOIN incident ON incident.id = member.incident_id
    JOIN service ON service.id = incident.service_id
    JOIN team ON team.id = incident.team_id
    WHERE member.digest_id = ANY(%(digest_ids)s)
      AND member.status = 'bundled'
      AND incident.status = 'triggered'
    ORDER BY member.digest_id, incident.number
    """

# Commit "sending" and the lease before any provider is called: if the process dies
# during the call, the lease expires and recovery finds an attempt of unknown outcome.
MARK_SENDING: LiteralString = """
    UPDATE delivery
    SET status = 'sending', attempts = attempts + 1, next_attempt_at = NULL,
        lease_until = %(lease_until)s, first_attempt_at = COALESCE(first_attempt_at, %(now)s),
        last_attempt_at = %(now)s, updated_at = %(now)s
    WHERE id = ANY(%(ids)s)
    """

# A live worker extends the leases of its sends in flight. Matching the attempt too means
# a row recovered meanwhile (or sent again by someone else) is never claimed back. A row
# another transaction holds is being recorded or recovered at this moment: skipped, so a
# renewal never waits, nor makes an outcome's write wait for it.
RENEW_LEASES: LiteralString = """
    UPDATE delivery SET lease_until = %(lease_until)s
    WHERE id IN (
        SELECT delivery.id
        FROM delivery
        JOIN unnest(CAST(%(ids)s AS uuid[]), CAST(%(attempts)s AS integer[]))
            AS leased(id, attempt)
            ON delivery.id = leased.id AND delivery.attempts = leased.attempt
        WHERE delivery.status = 'sending'
        FOR NO KEY UPDATE OF delivery SKIP LOCKED
    )
    """

CANCEL: LiteralString = """
    UPDATE delivery
    SET status = 'cancelled', cancelled_at = %(now)s, next_attempt_at = NULL,
        updated_at = %(now)s
    WHERE id = ANY(%(ids)s)
    """

HOLD: LiteralString = """
    UPDATE delivery
    SET status = 'held', next_attempt_at = held.until, updated_at = %(now)s
    FROM jsonb_to_recordset(CAST(%(rows)s AS jsonb)) AS held(id uuid, until timestamptz)
    WHERE delivery.id = held.id
    """

# A row the batch could not handle (a bug, bad data) keeps its state and is due later.
LATER: LiteralString = """
    UPDATE delivery SET next_attempt_at = %(until)s, updated_at = %(now)s
    WHERE id = ANY(%(ids)s)
    """

INSERT_LINKS: LiteralString = """
    INSERT INTO magic_link (
        id, token_hash, action, user_id, incident_id, digest_id, delivery_id, created_at,
        expires_at
    )
    SELECT link.id, link.token_hash, link.action, link.user_id, link.incident_id,
           link.digest_id, link.delivery_id, %(now)s, link.expires_at
    FROM jsonb_to_recordset(CAST(%(rows)s AS jsonb)) AS link(
        id uuid, token_hash text, action text, user_id uuid, incident_id uuid,
        digest_id uuid, delivery_id uuid, expires_at timestamptz
    )
    """

# Record accepted sends: a compare-and-set on (sending, attempt) per row; a row that
# was recovered meanwhile (its lease expired) matches nothing and is left to recovery.
# A verification code is kept in plain text only until it is sent; a call reads it aloud
# when it is answered, later, and the call's status callback drops it then. An
# invitation's one-time sign-in link likewise leaves the row once it is sent.
RECORD_SENT: LiteralString = """
    UPDATE delivery
    SET status = CASE WHEN outcome.delivered THEN 'delivered' ELSE 'sent' END,
        details = CASE WHEN delivery.kind = 'voice' THEN delivery.details
                       ELSE delivery.details - 'code' - 'sign_in_url' END,
        sent_at = outcome.at,
        delivered_at = CASE WHEN outcome.delivered THEN outcome.at END,
        provider = outcome.provider,
        provider_message_id = left(outcome.message_id, 512),
        error_code = NULL, error_detail = NULL, lease_until = NULL, updated_at = outcome.at
    FROM jsonb_to_recordset(CAST(%(rows)s AS jsonb)) AS outcome(
        id uuid, attempt integer, provider text, message_id text, delivered boolean,
        at timestamptz
    )
    WHERE delivery.id = outcome.id
      AND delivery.status = 'sending'
      AND delivery.attempts = outcome.attempt
    RETURNING delivery.id, delivery.purpose, delivery.incident_id, delivery.user_id,
              delivery.kind, delivery.attempts, delivery.status, outcome.provider, outcome.at,
              (SELECT team_id FROM incident WHERE incident.id = delivery.incident_id)
    """

# A digest's outcome is its members' outcome.
RECORD_MEMBERS_SENT: LiteralString = """
    UPDATE delivery AS member
    SET status = sent.status, sent_at = sent.at,
        delivered_at = CASE WHEN sent.status = 'delivered' THEN sent.at END,
        updated_at = sent.at
    FROM jsonb_to_recordset(CAST(%(rows)s AS jsonb)) AS sent(
        digest_id uuid, status text, at timestamptz
    )
    WHERE member.digest_id = sent.digest_id AND member.status = 'bundled'
    RETURNING member.digest_id, member.incident_id,
              (SELECT team_id FROM incident WHERE incident.id = member.incident_id)
    """
