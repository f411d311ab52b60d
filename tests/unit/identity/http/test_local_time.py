"""Times on the pages (issue 19): in an Indonesian zone (WIB by default), in the page's
language's style, never UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from identity.http.pages.local_time import local_time

MOMENT = datetime(2026, 12, 7, 7, 33, tzinfo=UTC)


@pytest.mark.parametrize(
    ("lang", "zone", "expected"),
    [
        ("id", "WIB", "7 Des 2026, 14.33 WIB"),
        ("en", "WIB", "7 Dec 2026, 14:33 WIB"),
        ("id", "WITA", "7 Des 2026, 15.33 WITA"),
        ("id", "WIT", "7 Des 2026, 16.33 WIT"),
        ("id", "PST", "7 Des 2026, 14.33 WIB"),  # an unknown zone: the default
    ],
)
def test_a_time_in_each_zone_and_language(lang: str, zone: str, expected: str) -> None:
    assert local_time(MOMENT, lang, zone) == expected


def test_the_date_is_the_local_one_across_midnight_and_the_year() -> None:
    late = datetime(2026, 12, 31, 17, 5, tzinfo=UTC)  # 00.05 on 1 January in Jakarta
    assert local_time(late, "id") == "1 Jan 2027, 00.05 WIB"
    assert local_time(datetime(2027, 8, 16, 23, 0, tzinfo=UTC), "id") == "17 Agu 2027, 06.00 WIB"


def test_other_inputs() -> None:
    jakarta = timezone(timedelta(hours=7))
    assert local_time(MOMENT.astimezone(jakarta), "en") == "7 Dec 2026, 14:33 WIB"
    assert local_time(datetime(2026, 12, 7, 7, 33), "id") == "7 Des 2026, 14.33 WIB"  # naive: UTC
    assert local_time("2026-12-07T07:33:00Z", "id") == "7 Des 2026, 14.33 WIB"
    assert local_time("2026-12-07T14:33:00+07:00", "en") == "7 Dec 2026, 14:33 WIB"
    assert local_time("not a time", "id") == "not a time"
    assert local_time(None, "id") == ""
