"""ntfy: a seventh channel kind, and rules for it.

* The four ``channel_kind`` CHECK constraints (``contact_method``, ``notification_rule``,
  ``delivery``, ``post_target``) are recreated with ``ntfy`` added. Every existing row
  satisfies the new constraint (it only adds a value); the column's length (5) already
  holds it.
* Each existing person gets an ntfy rule beside each of their push rules, with the same
  urgency and delay: ntfy is the self-hosted form of the same thing, and a person who
  adds an ntfy topic expects it to ring as push does. New people get them from the
  default rules. Rules for a kind with no method reach nobody, so this pages no one
  until someone adds a topic.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 18:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("contact_method", "notification_rule", "delivery", "post_target")
BEFORE = ("email", "push", "slack", "teams", "sms", "voice")
AFTER = (*BEFORE, "ntfy")


def _constrain(kinds: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{kind}'" for kind in kinds)
    for table in TABLES:
        name = op.f(f"ck_{table}_channel_kind")
        op.drop_constraint(name, table, type_="check")
        op.create_check_constraint(name, table, f"kind IN ({listed})")


def upgrade() -> None:
    _constrain(AFTER)
    op.execute(
        """
        INSERT INTO notification_rule (id, user_id, urgency, kind, delay_minutes, created_at)
        SELECT gen_random_uuid(), user_id, urgency, 'ntfy', delay_minutes, now()
        FROM notification_rule
        WHERE kind = 'push'
        ON CONFLICT (user_id, urgency, kind) DO NOTHING
        """
    )


def downgrade() -> None:
    for table in ("delivery", "contact_method", "notification_rule", "post_target"):
        op.execute(f"DELETE FROM {table} WHERE kind = 'ntfy'")  # noqa: S608 - fixed names
    _constrain(BEFORE)
