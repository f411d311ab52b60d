"""Times as citizens read them: in an Indonesian time zone, in the page's language.

Indonesia has three zones and no daylight saving time: WIB (UTC+7, Java, Sumatra, west and
central Kalimantan), WITA (UTC+8, Bali, Nusa Tenggara, Sulawesi, south, east and north
Kalimantan) and WIT (UTC+9, Maluku, Papua), fixed by Keputusan Presiden No. 41 Tahun 1987.
Pages show WIB unless told otherwise. Indonesian style writes the date with the month's
short Indonesian name and the time with a dot (``7 Des 2026, 14.33 WIB``, as PUEBI writes
times); English writes ``7 Dec 2026, 14:33 WIB``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

__all__ = ["DEFAULT_ZONE", "ZONES", "local_day", "local_time"]

#: Zone abbreviation -> its fixed offset (no daylight saving time in Indonesia).
ZONES = {
    "WIB": timezone(timedelta(hours=7), "WIB"),
    "WITA": timezone(timedelta(hours=8), "WITA"),
    "WIT": timezone(timedelta(hours=9), "WIT"),
}
DEFAULT_ZONE = "WIB"
_MONTHS = {
    "id": ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}


def local_time(value: datetime | str | None, lang: str, zone: str = DEFAULT_ZONE) -> str:
    """``value`` (a datetime, or an ISO 8601 string; naive means UTC) in ``zone``, written
    in ``lang``'s style; empty for None, and a string that is no time comes back as it is."""
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    else:
        moment = value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(ZONES.get(zone, ZONES[DEFAULT_ZONE]))
    month = _MONTHS.get(lang, _MONTHS["id"])[local.month - 1]
    separator = "." if lang == "id" else ":"
    return (
        f"{local.day} {month} {local.year}, "
        f"{local.hour:02d}{separator}{local.minute:02d} {local.tzname()}"
    )


def local_day(day: date, lang: str) -> str:
    """A calendar day, short, in ``lang``'s style: ``7 Des``."""
    return f"{day.day} {_MONTHS.get(lang, _MONTHS['id'])[day.month - 1]}"
