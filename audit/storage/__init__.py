"""SQLAlchemy adapter of the audit log (the only place in `audit` that imports SQLAlchemy)."""
