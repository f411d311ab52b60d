"""JSON application logs, one object per line, every line passed through redaction."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from typing import Any, TextIO

from identity.service.redaction import _RECORD_FIELDS, RedactionFilter

#: The id of the HTTP request being served, for every log line written while serving it.
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "jati_request_id", default=None
)


#: Extra fields that other libraries attach and that add nothing to a JSON line.
_DROPPED = frozenset({"color_message", "taskName"})


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object: time, level, logger, message, request id, extras."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            payload["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and key not in payload and key not in _DROPPED:
                payload[key] = value
        if record.exc_text:
            payload["exception"] = record.exc_text
        return json.dumps(payload, default=str, ensure_ascii=False)


def configure_logging(level: str = "INFO", *, stream: TextIO | None = None) -> None:
    """Send all logs (ours, uvicorn's, SQLAlchemy's) as redacted JSON lines to ``stream``."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactionFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # fido2 logs credential ids and client data at DEBUG: never ours to print.
    for name in ("alembic", "sqlalchemy", "fido2"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    # Access lines carry raw paths and query strings; Jati logs requests itself, by route.
    logging.getLogger("uvicorn.access").disabled = True


#: uvicorn's ``log_config``: keep the handlers configured by :func:`configure_logging`.
UVICORN_LOG_CONFIG: dict[str, Any] = {"version": 1, "disable_existing_loggers": False}
