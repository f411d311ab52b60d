"""Citizens' sessions as devices: a short browser summary and the restricted flag.

Revision ID: 0016_session_devices
Revises: 0015_passkeys
Create Date: 2027-02-08

``identity_session`` gains ``user_agent`` (nullable: a short summary such as "Firefox on
Windows", never the raw ``User-Agent`` header, UU PDP Art. 16(2)(a) data minimisation) and
``restricted`` (a recovery-code sign-in that opens only the account page; false for every
existing session, through the server default). See ``identity/storage/sessions.py``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_session_devices"
down_revision = "0015_passkeys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("identity_session", sa.Column("user_agent", sa.String(120), nullable=True))
    op.add_column(
        "identity_session",
        sa.Column("restricted", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    # SQLite drops columns by copying the table (Alembic's batch mode, indexes kept)
    with op.batch_alter_table("identity_session") as batch:
        batch.drop_column("restricted")
        batch.drop_column("user_agent")
