"""The constraint naming convention shared by every Jati table.

It lives in the lowest layer so that `consent` and `identity` tables can use it without an
upward import. Named constraints make Alembic migrations reproducible across SQLite and
PostgreSQL (https://alembic.sqlalchemy.org/en/latest/naming.html).
"""

from __future__ import annotations

from sqlalchemy import MetaData

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    """A MetaData with Jati's naming convention (one per package)."""
    return MetaData(naming_convention=NAMING_CONVENTION)
