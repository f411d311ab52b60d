"""The session-wide watch for personal data in log lines (tests/personal_data.py) catches
what it must, so that a clean run means something."""

from __future__ import annotations

import logging

from tests.personal_data import SAMPLE, LogWatch, seeded


def test_the_watch_catches_a_name_and_an_email_that_reach_a_log_line() -> None:
    watch = LogWatch()
    logger = logging.getLogger("tests.watch")
    logger.addHandler(watch)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        logger.info("registered %s", SAMPLE["name"])
        (email,) = seeded("budi.santoso@contoh.go.id")
        logger.info("sent mail", extra={"to": email})
        logger.info("nik %s", SAMPLE["nik"])  # redacted by the service's filter: no leak
        logger.info("nothing personal here")
    finally:
        logger.removeHandler(watch)
    assert watch.lines == 4
    assert len(watch.leaks) == 1  # the name; the email and the NIK were redacted
    assert SAMPLE["name"] in watch.leaks[0]
