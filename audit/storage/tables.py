"""The audit log's tables (SQLAlchemy 2.0 typed mappings)."""

from __future__ import annotations

from audit.storage.naming import new_metadata

metadata = new_metadata()
