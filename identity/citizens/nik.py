"""NIK (Nomor Induk Kependudukan) validation (PDP.md; Permendagri on population records).

Format ``PP RR SS DDMMYY NNNN``: province, regency/city and district of first
registration; day of birth (plus 40 for women), month, two-digit year; a serial from 0001.
There is no check digit, so validation checks structure and plausibility only.

A NIK reveals birth date, sex and region and is easy to enumerate: error messages here
name what is wrong, never the NIK itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from identity.errors import InvalidNik

#: Province codes (BPS / Kemendagri), including the Papua provinces created in 2022.
PROVINCE_CODES = frozenset(
    {
        *range(11, 20), 21, *range(31, 37), 51, 52, 53, *range(61, 66), *range(71, 77),
        81, 82, *range(91, 97),
    }
)  # fmt: skip
FEMALE_DAY_OFFSET = 40
#: Indonesia's easternmost time zone (WIT, UTC+9): "today" for a birth date is never later.
_LATEST_INDONESIAN_OFFSET = timedelta(hours=9)


@dataclass(frozen=True, slots=True)
class NikInfo:
    province: int
    regency: int
    district: int
    birth_date: date
    sex: Literal["M", "F"]
    serial: int


def today_in_indonesia(now: datetime) -> date:
    """The latest date anywhere in Indonesia at ``now`` (UTC): the ``today`` that a NIK's
    birth date and a declared birth date are checked against."""
    return (now + _LATEST_INDONESIAN_OFFSET).date()


def parse_nik(nik: str, *, today: date) -> NikInfo:
    """Validate ``nik`` and return what it encodes.

    The two-digit year is read as the latest year not after ``today`` (a NIK holder is
    born in the past).

    Raises:
        InvalidNik: with ``reason`` one of ``length``, ``digits``, ``province``,
            ``regency``, ``district``, ``day``, ``month``, ``date``, ``future``, ``serial``.
    """
    if len(nik) != 16:
        raise InvalidNik("length", f"a NIK has 16 digits, this has {len(nik)} characters")
    if not (nik.isascii() and nik.isdigit()):
        raise InvalidNik("digits", "a NIK has digits only")
    province, regency, district = int(nik[0:2]), int(nik[2:4]), int(nik[4:6])
    day, month, year2, serial = int(nik[6:8]), int(nik[8:10]), int(nik[10:12]), int(nik[12:16])
    if province not in PROVINCE_CODES:
        raise InvalidNik("province", "the first two digits are not a province code")
    if regency == 0:
        raise InvalidNik("regency", "digits 3-4 (regency or city) cannot be 00")
    if district == 0:
        raise InvalidNik("district", "digits 5-6 (district) cannot be 00")
    sex: Literal["M", "F"] = "M"
    if day > FEMALE_DAY_OFFSET:
        sex, day = "F", day - FEMALE_DAY_OFFSET
    if not 1 <= day <= 31:
        raise InvalidNik("day", "digits 7-8 are not a day of the month (or day + 40)")
    if not 1 <= month <= 12:
        raise InvalidNik("month", "digits 9-10 are not a month")
    year = 2000 + year2 if 2000 + year2 <= today.year else 1900 + year2
    try:
        birth = date(year, month, day)
    except ValueError:
        raise InvalidNik("date", "digits 7-12 are not a real date") from None
    if birth > today:
        raise InvalidNik("future", "the birth date in the NIK is in the future")
    if serial == 0:
        raise InvalidNik("serial", "the serial (last four digits) starts at 0001")
    return NikInfo(province, regency, district, birth, sex, serial)


def check_birthdate(info: NikInfo, birthdate: date) -> None:
    """The declared birth date must match the one the NIK encodes (day, month, 2-digit year)."""
    encoded = info.birth_date
    if (encoded.day, encoded.month, encoded.year % 100) != (
        birthdate.day,
        birthdate.month,
        birthdate.year % 100,
    ):
        raise InvalidNik("birthdate", "the birth date does not match the one in the NIK")
