"""The migrations build exactly the schema the models declare (names included)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData

from identity.storage.database import Database
from identity.storage.schema import all_metadata


def test_migrated_schema_matches_the_models(database: Database) -> None:
    merged = MetaData()  # every package's tables, as one schema
    for metadata in all_metadata():
        for table in metadata.tables.values():
            table.to_metadata(merged)
    with database.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, merged)
    assert differences == []
