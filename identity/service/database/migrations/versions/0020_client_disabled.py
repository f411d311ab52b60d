"""A relying app can be disabled by an operator (issue 20, the console's apps).

Revision ID: 0020_client_disabled
Revises: 0019_audit_query_columns
Create Date: 2026-12-08

``identity_client.disabled_at``: when an operator took the app out of service (NULL while it
is in service). A disabled app is unknown to every protocol path; its registration, purposes
and consents stay. See ``identity/oidc/client_registry.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_client_disabled"
down_revision = "0019_audit_query_columns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("identity_client", sa.Column("disabled_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN on both (SQLite 3.35+): no copy of the table, whose
    # purposes refer to it by foreign key
    op.drop_column("identity_client", "disabled_at")
