"""The personal fields: their names, which a citizen may correct, and the checks on the
values given at registration or in a correction.

:func:`parse_birthdate` reads a birth date given as text (the CLI, a population import).
The checks normalise (surrounding blanks removed) and refuse with :class:`InvalidField`,
whose message names the field that is wrong, never its value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from identity.citizens.nik import check_birthdate, parse_nik
from identity.citizens.passwords import MAX_PASSWORD_BYTES
from identity.errors import InvalidField

#: The personal fields, in a fixed order; each is sealed separately (AD binds its name).
PERSONAL_FIELDS = ("nik", "name", "birthdate", "email", "phone", "address")
#: What a citizen may correct themselves (UU PDP Art. 6, 30). The NIK and the birth date come
#: from population registration (Dukcapil, UU 24/2013) and the NIK encodes the birth date:
#: they are corrected there, then registered again.
CORRECTABLE_FIELDS = ("name", "email", "phone", "address")

MAX_NAME_CHARS = 200
MAX_ADDRESS_CHARS = 500
MAX_EMAIL_CHARS = 254  # RFC 5321 §4.5.3.1.3 path limit, less the brackets
MIN_PASSWORD_CHARS = 8  # NIST SP 800-63B §5.1.1.2
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: A lone surrogate (JSON's "\ud800" escape) has no UTF-8 form: it could be neither sealed
#: nor stored, and once failed a correction after its request was recorded.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(?:\.[^@\s.]+)+")
_PHONE = re.compile(r"\+?[0-9](?:[ -]?[0-9]){7,14}")


def validated_registration(
    *,
    nik: str,
    name: str,
    birthdate: date,
    email: str | None,
    phone: str | None,
    address: str | None,
    today: date,
) -> dict[str, str]:
    """The fields to seal, normalised (surrounding blanks removed), in PERSONAL_FIELDS order.

    Raises:
        InvalidNik: the NIK is not valid, or the birth date is not the NIK's.
        InvalidField: another field does not meet its format.
    """
    nik = nik.strip()
    info = parse_nik(nik, today=today)
    if birthdate > today:
        raise InvalidField("birthdate", "cannot be in the future")
    check_birthdate(info, birthdate)
    values = {"nik": nik, "name": _contact("name", name), "birthdate": birthdate.isoformat()}
    for field_name, value in (("email", email), ("phone", phone), ("address", address)):
        if value is not None:
            values[field_name] = _contact(field_name, value)
    return values


def parse_birthdate(value: str) -> date:
    """A birth date as typed or exported: ``YYYY-MM-DD`` exactly (the message never repeats
    the value: it is personal data).

    Raises:
        InvalidField: anything else.
    """
    try:
        if len(value) != 10 or value[4] != "-" or value[7] != "-":
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidField("birthdate", "use a real date as YYYY-MM-DD") from None


def validated_correction(fields: Mapping[str, str]) -> dict[str, str]:
    """The corrected values, normalised as at registration, in PERSONAL_FIELDS order.

    Only :data:`CORRECTABLE_FIELDS` may be corrected; a field name outside them is refused
    without being repeated (a name sent by a client could itself carry personal data).
    """
    if not fields or not set(fields) <= set(CORRECTABLE_FIELDS):
        raise InvalidField(
            "fields",
            f"choose one or more of {', '.join(CORRECTABLE_FIELDS)} (the NIK and the birth "
            "date are corrected through population registration, Dukcapil)",
        )
    return {name: _contact(name, fields[name]) for name in CORRECTABLE_FIELDS if name in fields}


def check_password(password: str) -> None:
    """A new password's length: at least :data:`MIN_PASSWORD_CHARS` characters, at most
    what the hash takes (:data:`identity.citizens.passwords.MAX_PASSWORD_BYTES`)."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise InvalidField("password", f"at least {MIN_PASSWORD_CHARS} characters")
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        raise InvalidField("password", f"at most {MAX_PASSWORD_BYTES} bytes")


def _contact(name: str, value: str) -> str:
    """A name, email, phone number or address, checked and stripped."""
    if not isinstance(value, str):
        raise InvalidField(name, "must be text")
    if name == "name":
        return _text("name", value, MAX_NAME_CHARS)
    if name == "address":
        return _text("address", value, MAX_ADDRESS_CHARS)
    if name == "email":
        email = _text("email", value, MAX_EMAIL_CHARS)
        if not _EMAIL.fullmatch(email):
            raise InvalidField("email", "not an email address (name@domain)")
        return email
    phone = _text("phone", value, 32)
    if not _PHONE.fullmatch(phone):
        raise InvalidField(
            "phone", "use 8 to 15 digits, optionally a leading + and spaces or dashes"
        )
    return phone


def _text(name: str, value: str, max_chars: int) -> str:
    value = value.strip()
    if not value:
        raise InvalidField(name, "cannot be empty")
    if len(value) > max_chars:
        raise InvalidField(name, f"at most {max_chars} characters")
    if _CONTROL.search(value):
        raise InvalidField(name, "cannot contain control characters")
    if _LONE_SURROGATE.search(value):
        raise InvalidField(name, "must be Unicode text (a lone surrogate is not)")
    return value
