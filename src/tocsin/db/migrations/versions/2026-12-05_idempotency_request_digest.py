"""Idempotency compares requests: the SHA-256 of what an event with a key asked.

An idempotency key already applied answered any later request with the stored result,
whatever that request said: an Idempotency-Key or Standard Webhooks ``webhook-id`` reused
for another alert dropped that alert without a word. The stored body cannot tell a retry
from another event (it is cut at 64 KiB and stored with unstorable characters replaced),
so each event with a key now keeps the digest of its request, and a different request
under the same key is refused.

Events applied before this revision have no digest: a key of theirs sent again is
answered with the stored result, as before (a sender's retry window is minutes).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable, no default: adding it rewrites nothing, whatever the table's size.
    op.add_column("inbound_event", sa.Column("request_sha256", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column("inbound_event", "request_sha256")
