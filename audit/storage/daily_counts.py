"""The counting query behind :mod:`audit.statistics`: integrated entries of the counted
actions in a window, grouped by local day, actor, action and outcome, in the database (one
range scan of the ``event_at`` index and an aggregate; nothing is decoded)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine, Row, Table, func, select

from audit.statistics import COUNTED_ACTIONS, DailyCount
from audit.storage.tables import AuditLeaf

__all__ = ["daily_counts"]

_leaf = cast(Table, AuditLeaf.__table__)


def daily_counts(engine: Engine, *, since: datetime, until: datetime, utc_offset: timedelta
                 ) -> list[DailyCount]:  # fmt: skip
    """Counts per local day (``utc_offset`` from UTC: WIB is 7 hours; Indonesia keeps no
    daylight saving) of entries in [``since``, ``until``)."""
    column = _leaf.c.event_at
    if engine.dialect.name == "postgresql":
        day = func.date(func.timezone("UTC", column) + utc_offset)
    else:  # SQLite keeps UTC as text: its date() shifts and cuts it
        day = func.date(column, f"{int(utc_offset.total_seconds() // 3600):+d} hours")
    query = (
        select(day.label("day"), _leaf.c.actor_kind, _leaf.c.actor_id, _leaf.c.action,
               _leaf.c.outcome, func.count().label("n"))
        .where(column >= since, column < until, _leaf.c.action.in_(COUNTED_ACTIONS))
        .group_by(day, _leaf.c.actor_kind, _leaf.c.actor_id, _leaf.c.action, _leaf.c.outcome)
    )  # fmt: skip
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [_count(row) for row in rows]


def _count(row: Row[Any]) -> DailyCount:
    day = row.day if isinstance(row.day, date) else date.fromisoformat(str(row.day))
    return DailyCount(day, row.actor_kind, row.actor_id, row.action, row.outcome, int(row.n))
