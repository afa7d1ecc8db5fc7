"""Team post targets: a team names shared places too, where every one of its services'
incidents is posted (in addition to each service's own places).

* ``post_target.team_id``: the team whose places these are, or NULL for a service's own.
* ``post_target.service_id`` may now be NULL (a team's place); exactly one of the two is
  set (``ck_post_target_one_owner``). Every existing row names its service, so the check
  holds for them as they are.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 21:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("post_target", sa.Column("team_id", sa.UUID(), nullable=True))
    op.create_foreign_key(
        op.f("fk_post_target_team_id_team"),
        "post_target",
        "team",
        ["team_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index(op.f("ix_post_target_team_id"), "post_target", ["team_id"], unique=False)
    op.alter_column("post_target", "service_id", existing_type=sa.UUID(), nullable=True)
    op.create_check_constraint(
        op.f("ck_post_target_one_owner"), "post_target", "num_nonnulls(service_id, team_id) = 1"
    )


def downgrade() -> None:
    # A team's places have no service to belong to: they go with the column.
    op.execute("DELETE FROM post_target WHERE service_id IS NULL")
    op.drop_constraint(op.f("ck_post_target_one_owner"), "post_target", type_="check")
    op.alter_column("post_target", "service_id", existing_type=sa.UUID(), nullable=False)
    op.drop_index(op.f("ix_post_target_team_id"), table_name="post_target")
    op.drop_constraint(op.f("fk_post_target_team_id_team"), "post_target", type_="foreignkey")
    op.drop_column("post_target", "team_id")
