"""Alembic environment: always run with a connection given by
:mod:`identity.service.database.migrate`."""

from __future__ import annotations

from alembic import context

from identity.service.database.schema import all_metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - guarded by identity.service.database.migrate
    raise RuntimeError("run migrations through `jati db upgrade`")

context.configure(
    connection=connection,
    target_metadata=all_metadata(),
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
