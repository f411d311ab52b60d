"""SQL adapters of the consent package (SQLAlchemy 2.0 typed mappings)."""
