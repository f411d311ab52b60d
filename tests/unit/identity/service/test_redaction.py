"""DESIGN.md §3: application logs never contain personal data or tokens."""

from __future__ import annotations

import io
import json
import logging

import pytest

from identity.service.logging_setup import JsonFormatter
from identity.service.redaction import RedactionFilter, redact

NIK = "3171011708450001"
EMAIL = "siti.rahayu@example.co.id"
PHONES = ("081234567890", "+62 812-3456-7890", "0812 3456 7890", "+6281234567890")
BEARER = "Bearer eyJhbGciOiJFZERTQSIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
OPAQUE_BEARER = "Bearer 2YotnFZFEjr1zCsicMWpAA"


@pytest.fixture
def capture() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactionFilter())
    logger = logging.getLogger(f"test.redaction.{id(stream)}")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    return logger, stream


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


@pytest.mark.parametrize(
    "secret", [NIK, "3171 0117 0845 0001", EMAIL, *PHONES, BEARER, OPAQUE_BEARER]
)
def test_message_arguments_and_extras_are_redacted(
    capture: tuple[logging.Logger, io.StringIO], secret: str
) -> None:
    logger, stream = capture
    logger.info("value in message %s", secret)
    logger.info("plain " + secret)
    logger.warning("in extra", extra={"detail": {"nested": [secret]}, "header": secret})
    try:
        raise ValueError(f"failed for {secret}")
    except ValueError:
        logger.exception("with traceback")
    text = stream.getvalue()
    core = secret.removeprefix("Bearer ")
    assert core not in text
    assert "[REDACTED:" in text
    assert len(_lines(stream)) == 4


def test_integers_that_are_niks_are_redacted(capture: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = capture
    logger.info("nik %d", int(NIK), extra={"n": int(NIK)})
    assert NIK not in stream.getvalue()


def test_ordinary_operational_values_survive() -> None:
    text = (
        "GET /audit/proof/inclusion 200 in 12.5 ms at 2026-11-28 from 127.0.0.1:8000, size 123456"
    )
    assert redact(text) == text


def test_json_lines_carry_level_logger_and_request_id(
    capture: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = capture
    logger.info("hello", extra={"request_id": "abcdef0123456789"})
    (line,) = _lines(stream)
    assert line["level"] == "INFO" and line["message"] == "hello"
    assert line["request_id"] == "abcdef0123456789"


def test_quoted_secret_values_are_redacted_whole() -> None:
    text = redact('{"password": "my secret pass", "client_secret": "a b c"}')
    assert "secret pass" not in text and "a b c" not in text
    assert text.count("[REDACTED:secret]") == 2
