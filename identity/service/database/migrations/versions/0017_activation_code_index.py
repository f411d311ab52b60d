"""The activation code's hash loses its unique index.

Revision ID: 0017_activation_code_index
Revises: 0016_session_devices
Create Date: 2027-02-15

``identity_activation`` is read by citizen (its primary key, from the NIK's blind index) and
the code's hash compared there (``WHERE citizen_id = ... AND code_hash = ...``); nothing
looks a code up by its hash alone. The unique index on ``code_hash`` served no query and cost
every issued code an index entry: a population import writes one per citizen. Two codes of
80 random bits never meet (a collision among a billion codes has odds about 2^-21). See
``identity/storage/activation.py``.
"""

from __future__ import annotations

from alembic import op

revision = "0017_activation_code_index"
down_revision = "0016_session_devices"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite drops a constraint by copying the table (Alembic's batch mode)
    with op.batch_alter_table("identity_activation") as batch:
        batch.drop_constraint("uq_identity_activation_code_hash", type_="unique")


def downgrade() -> None:
    with op.batch_alter_table("identity_activation") as batch:
        batch.create_unique_constraint("uq_identity_activation_code_hash", ["code_hash"])
