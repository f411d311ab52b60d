"""The database as a whole: every package's table metadata, Alembic migrations and the
PostgreSQL privileges of the application role. May import every storage package."""
