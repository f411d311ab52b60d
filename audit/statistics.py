"""The log in numbers, for the auditors' charts (issue 20, part 4): per local day, the apps'
accesses to citizens' data, the releases the consent gate refused, and the withdrawals of
consent. A core: the counting query is the store's (:mod:`audit.storage.daily_counts`).

What each series counts, from the query columns that ``jati audit verify`` checks against
every entry:

- an *access*: an app (actor ``relying_app``) reading or receiving a citizen's data
  (``read``, ``disclose``) with outcome ``success``;
- a *refusal*: the same with outcome ``denied``, which is how the consent gate's refusals
  are recorded (:mod:`identity.oidc.claims_release`: no consent under the current notice,
  withdrawn, expired, or processing restricted, UU PDP Art. 20(2), 22, 41);
- a *withdrawal*: a ``consent_withdrawn`` entry (Art. 9, 40).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

__all__ = ["ACCESS_ACTIONS", "COUNTED_ACTIONS", "DailyCount", "LogActivity", "log_activity"]

ACCESS_ACTIONS = ("read", "disclose")
COUNTED_ACTIONS = (*ACCESS_ACTIONS, "consent_withdrawn")


@dataclass(frozen=True, slots=True)
class DailyCount:
    """How many entries of one actor, action and outcome fell on one local day."""

    day: date
    actor_kind: str
    actor_id: str
    action: str
    outcome: str | None
    count: int


@dataclass(frozen=True, slots=True)
class LogActivity:
    """The three series, each as {day: {actor id: count}} (withdrawals under one key, ``""``:
    the citizen withdraws, no app acts)."""

    days: tuple[date, ...]
    accesses: dict[date, dict[str, int]]
    refusals: dict[date, dict[str, int]]
    withdrawals: dict[date, dict[str, int]]


def log_activity(days: Iterable[date], counts: Iterable[DailyCount]) -> LogActivity:
    """Sort ``counts`` into the three series over ``days`` (every day present, zeros too)."""
    window = tuple(sorted(days))
    series: dict[str, dict[date, dict[str, int]]] = {
        name: {day: {} for day in window} for name in ("accesses", "refusals", "withdrawals")
    }
    for c in counts:
        if c.day not in series["accesses"]:
            continue
        if c.action == "consent_withdrawn":
            name, key = "withdrawals", ""
        elif c.actor_kind == "relying_app" and c.action in ACCESS_ACTIONS:
            name, key = ("accesses" if c.outcome == "success" else "refusals"), c.actor_id
            if c.outcome not in ("success", "denied"):
                continue  # an error of Jati's is neither
        else:
            continue
        bucket = series[name][c.day]
        bucket[key] = bucket.get(key, 0) + c.count
    return LogActivity(window, series["accesses"], series["refusals"], series["withdrawals"])
