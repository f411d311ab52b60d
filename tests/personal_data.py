"""Personal values the tests seed, and a watch over every log line of the test run.

DESIGN.md §3: application logs never contain personal data. Tests register the NIKs, names,
emails and other personal values they use with :func:`seeded`; :class:`LogWatch`, installed
for the whole session by ``tests/conftest.py``, formats every log record exactly as the
service does (JSON lines through the redaction filter) and keeps any line that contains a
seeded value; the run fails if one does. :class:`ServiceLines` (the ``service_lines``
fixture) keeps the service's records as written, before redaction, for the tests that show
the service does not rely on it.
"""

from __future__ import annotations

import logging

from identity.service.logging_setup import JsonFormatter
from identity.service.redaction import RedactionFilter

SEEDED: set[str] = set()

#: A citizen whose values tests may use; registered at import.
SAMPLE = {
    "nik": "3171014101900003",
    "name": "Siti Nurhaliza Rahayu",
    "birthdate": "1990-01-01",
    "email": "siti.rahayu@contoh.go.id",
    "phone": "+6281234567890",
    "address": "Jl. Merdeka Barat No. 12, Jakarta Pusat",
}


def seeded(*values: str) -> tuple[str, ...]:
    """Register personal values a test is about to use; returns them."""
    SEEDED.update(v for v in values if len(v) >= 6)
    return values


def citizen(**values: str) -> dict[str, str]:
    """A citizen of a test (``nik``, ``name``, ``birthdate`` and any other field), every value
    but the birthdate registered with :func:`seeded`."""
    seeded(*(v for k, v in values.items() if k != "birthdate"))
    return values


citizen(**SAMPLE)


class LogWatch(logging.Handler):
    """Keeps the formatted log lines that contain a seeded personal value."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(JsonFormatter())
        self.addFilter(RedactionFilter())
        self.leaks: list[str] = []
        self.lines = 0

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # a broken record is not this watch's business
            return
        self.lines += 1
        if any(value in line for value in SEEDED):
            self.leaks.append(line)


#: The loggers (first name segment) whose lines reach the service's log. The test client's
#: own logger, which logs the URLs it sends, is none of them, whatever it is called.
SERVICE_LOGGERS = frozenset(
    {
        *("identity", "consent", "audit", "jati"),  # Jati's packages, its request and CLI logs
        *("uvicorn", "sqlalchemy", "alembic"),  # routed by identity.service.logging_setup
        *("fastapi", "starlette"),  # the framework serving the requests
    }
)


class ServiceLines(logging.Handler):
    """Each record of the service's loggers as written, (logger name, message and fields),
    taken *before* any redaction filter rewrites the record in place (installed ahead of the
    session's log watch, whose filter redacts): the service must not rely on redaction."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".", 1)[0] in SERVICE_LOGGERS:
            self.lines.append((record.name, f"{record.getMessage()} {vars(record)!r}"))
