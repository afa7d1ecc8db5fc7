"""Live pages: a NOTIFY on ``tocsin_live`` whenever an incident, its timeline or one of
its deliveries changes.

Triggers, not calls in the actions: incidents change through the ORM actions, the intake's
raw SQL, the engine's batch statements and the notification statements, and a page that
misses one of them is stale until reloaded. A trigger sees every path, and PostgreSQL
delivers the NOTIFY only when the transaction commits (never for a rollback), once per
distinct payload per transaction, so a batch touching one incident many times sends one.
This is plumbing for the pages, not a business rule: nothing the database decides depends
on it.

The payload is ``<incident id> <team id> <kind>``: the pages re-fetch what changed, and
the server decides from the team who may be told. ``kind`` is ``created``, the new status
(``triggered``, ``acknowledged``, ``resolved``), ``changed`` (escalated, reassigned, a
repeat alert), ``timeline`` (an audit event about the incident) or ``delivery`` (a
delivery's status). Only what a page shows notifies: a delivery's lease renewal or its
claim (``sending``) does not, nor an UPDATE that rewrites an incident row unchanged.
Repeats of a firing alert (``alert.deduplicated``, which only moves ``last_alert_at``) do
not either: they are the bulk of alert traffic and change nothing a responder acts on,
and every transaction that NOTIFYs takes PostgreSQL's global notify lock at commit, so
notifying them would serialise the commits of repeat-only intake batches.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 21:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTIONS = """
CREATE FUNCTION tocsin_live_incident() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    before incident;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        -- A repeat of a firing alert only moves last_alert_at: nothing a page shows.
        before := OLD;
        before.last_alert_at := NEW.last_alert_at;
        IF before IS NOT DISTINCT FROM NEW THEN
            RETURN NULL;
        END IF;
    END IF;
    PERFORM pg_notify('tocsin_live', NEW.id::text || ' ' || NEW.team_id::text || ' ' ||
        CASE
            WHEN TG_OP = 'INSERT' THEN 'created'
            WHEN OLD.status IS DISTINCT FROM NEW.status THEN NEW.status
            ELSE 'changed'
        END);
    RETURN NULL;
END $$;

CREATE FUNCTION tocsin_live_timeline() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    team uuid := NEW.team_id;
BEGIN
    -- An id that is not a uuid is skipped, never cast: this runs inside the transaction
    -- that acknowledges, and must not be able to fail it.
    IF team IS NULL
        AND NEW.resource_id ~ '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$' THEN
        SELECT team_id INTO team FROM incident WHERE id = NEW.resource_id::uuid;
    END IF;
    IF team IS NOT NULL THEN
        PERFORM pg_notify('tocsin_live', NEW.resource_id || ' ' || team::text || ' timeline');
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION tocsin_live_delivery() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tocsin_live', incident.id::text || ' ' || incident.team_id::text
        || ' delivery')
    FROM incident WHERE incident.id = NEW.incident_id;
    RETURN NULL;
END $$;
"""

# WHEN clauses are evaluated before the function is called: rows that do not concern a
# page (a lease renewal, an audit event about a schedule) cost no function call at all.
TRIGGERS = """
CREATE TRIGGER live_incident_created AFTER INSERT ON incident
    FOR EACH ROW EXECUTE FUNCTION tocsin_live_incident();
CREATE TRIGGER live_incident_changed AFTER UPDATE ON incident
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*)
    EXECUTE FUNCTION tocsin_live_incident();
CREATE TRIGGER live_timeline AFTER INSERT ON audit_event
    FOR EACH ROW WHEN (
        NEW.resource_type = 'incident' AND NEW.resource_id IS NOT NULL
        AND NEW.action <> 'alert.deduplicated'
    )
    EXECUTE FUNCTION tocsin_live_timeline();
CREATE TRIGGER live_delivery_created AFTER INSERT ON delivery
    FOR EACH ROW WHEN (NEW.incident_id IS NOT NULL)
    EXECUTE FUNCTION tocsin_live_delivery();
CREATE TRIGGER live_delivery_changed AFTER UPDATE OF status ON delivery
    FOR EACH ROW WHEN (
        NEW.incident_id IS NOT NULL AND OLD.status IS DISTINCT FROM NEW.status
        AND NEW.status <> 'sending'
    )
    EXECUTE FUNCTION tocsin_live_delivery();
"""


def upgrade() -> None:
    op.execute(FUNCTIONS)
    op.execute(TRIGGERS)


def downgrade() -> None:
    for trigger, table in (
        ("live_incident_created", "incident"),
        ("live_incident_changed", "incident"),
        ("live_timeline", "audit_event"),
        ("live_delivery_created", "delivery"),
        ("live_delivery_changed", "delivery"),
    ):
        op.execute(f"DROP TRIGGER {trigger} ON {table}")
    for function in ("tocsin_live_incident", "tocsin_live_timeline", "tocsin_live_delivery"):
        op.execute(f"DROP FUNCTION {function}()")
