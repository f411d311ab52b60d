"""Consent: the register of data-subject requests and the restriction flags.

Revision ID: 0006_consent_requests
Revises: 0005_relying_apps
Create Date: 2026-11-30

- ``consent_request``: one row per request by which a citizen exercises a right (UU PDP
  Art. 14): kind, received-at, the statutory due-by (72 hours where the law sets one), status,
  completed-at and the outcome. A correction keeps only the *names* of the corrected fields,
  never their values; the outcome names what was done and what was kept, with its basis.
- ``consent_restriction``: the subjects whose processing is restricted (Art. 11, 41); the
  consent gate reads it on every release.

Constraints are named as ``audit.storage.naming`` would name them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_consent_requests"
down_revision = "0005_relying_apps"
branch_labels = None
depends_on = None


def upgrade() -> None:
    tz = sa.DateTime(timezone=True)
    op.create_table(
        "consent_request",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("received_at", tz, nullable=False),
        sa.Column("due_by", tz, nullable=True),
        sa.Column("completed_at", tz, nullable=True),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_consent_request"),
        sa.CheckConstraint(
            "kind IN ('access', 'correction', 'erasure', 'restriction')",
            name="ck_consent_request_kind",
        ),
        sa.CheckConstraint(
            "status IN ('received', 'completed', 'refused')", name="ck_consent_request_status"
        ),
        sa.CheckConstraint(
            "(status = 'received') = (completed_at IS NULL)",
            name="ck_consent_request_completion",
        ),
        sa.CheckConstraint(
            "kind = 'erasure' OR due_by IS NOT NULL", name="ck_consent_request_deadline"
        ),
    )
    op.create_index(
        "ix_consent_request_subject_id_received_at",
        "consent_request",
        ["subject_id", "received_at"],
    )
    op.create_index("ix_consent_request_status_due_by", "consent_request", ["status", "due_by"])
    op.create_table(
        "consent_restriction",
        sa.Column("subject_id", sa.String(32), nullable=False),
        sa.Column("restricted_at", tz, nullable=False),
        sa.Column("request_id", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("subject_id", name="pk_consent_restriction"),
    )


def downgrade() -> None:
    op.drop_table("consent_restriction")
    op.drop_index("ix_consent_request_status_due_by", table_name="consent_request")
    op.drop_index("ix_consent_request_subject_id_received_at", table_name="consent_request")
    op.drop_table("consent_request")
