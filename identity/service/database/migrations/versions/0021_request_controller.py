"""A data-subject request may be addressed to the controller of a relying app (issue 20).

Revision ID: 0021_request_controller
Revises: 0020_client_disabled
Create Date: 2026-12-08

``consent_request.client_id``: the app whose controller is asked (UU PDP Art. 30, 32: an
access or a correction, within 72 hours); NULL for a request to Jati itself, carried out at
once as before. The index serves each data protection officer's list: their apps' requests
still received, the soonest due first. See ``consent/requests/controllers.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_request_controller"
down_revision = "0020_client_disabled"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("consent_request", sa.Column("client_id", sa.String(128), nullable=True))
    op.create_index(
        "ix_consent_request_client_id_status_due_by",
        "consent_request",
        ["client_id", "status", "due_by"],
    )


def downgrade() -> None:
    op.drop_index("ix_consent_request_client_id_status_due_by", table_name="consent_request")
    op.drop_column("consent_request", "client_id")
