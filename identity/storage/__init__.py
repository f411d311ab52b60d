"""Storage for the whole service: one engine and session factory, Alembic migrations."""
