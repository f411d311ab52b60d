"""Every package's table metadata, for Alembic (identity is the composition root)."""

from __future__ import annotations

from sqlalchemy import MetaData


def all_metadata() -> list[MetaData]:
    from audit.storage.tables import metadata as audit_metadata
    from identity.storage.tables import metadata as identity_metadata

    return [audit_metadata, identity_metadata]
