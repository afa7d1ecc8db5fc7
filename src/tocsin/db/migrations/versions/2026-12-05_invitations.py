"""Invitations: a fifth delivery purpose.

A person created by an administrator is mailed a one-time sign-in link, queued as a
delivery like a contact method's verification, so it is sent, retried and recorded by
the same engine. The ``purpose`` CHECK constraint of ``delivery`` is recreated with
``invitation`` added; every existing row satisfies it (it only adds a value), and the
column's length (12) already holds it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 21:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("page", "digest", "status", "shift", "verification")
AFTER = (*BEFORE, "invitation")


def _constrain(purposes: tuple[str, ...]) -> None:
    listed = ", ".join(f"'{purpose}'" for purpose in purposes)
    name = op.f("ck_delivery_purpose")
    op.drop_constraint(name, "delivery", type_="check")
    op.create_check_constraint(name, "delivery", f"purpose IN ({listed})")


def upgrade() -> None:
    _constrain(AFTER)


def downgrade() -> None:
    op.execute("DELETE FROM delivery WHERE purpose = 'invitation'")
    _constrain(BEFORE)
