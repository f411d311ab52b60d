"""Baseline: an empty schema under Alembic's control.

Revision ID: 0001_baseline
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

revision = "0001_baseline"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to create: later revisions add each package's tables."""


def downgrade() -> None:
    """Nothing to drop."""
