"""The master key: wraps every per-citizen data key and every private signing key.

From ``JATI_MASTER_KEY`` (32 random bytes, base64url) or, in development only, from a key
file generated on first run in the data directory (mode 0600) with a loud warning.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import secrets
from pathlib import Path

from identity.errors import ConfigurationError
from identity.keys.base64url import b64url_encode

KEY_BYTES = 32
KEY_FILE_NAME = "master.key"

log = logging.getLogger(__name__)


def generate_master_key() -> str:
    """A fresh master key as base64url without padding (43 characters)."""
    return b64url_encode(secrets.token_bytes(KEY_BYTES))


def decode_master_key(value: str) -> bytes:
    """Decode a base64url (padding optional) master key; ValueError unless exactly 32 bytes."""
    text = value.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("the master key is not valid base64url") from exc
    if len(raw) != KEY_BYTES:
        raise ValueError(f"the master key must decode to {KEY_BYTES} bytes, not {len(raw)}")
    return raw


def load_master_key(
    *, configured: str | None, data_dir: Path, create: bool = True
) -> tuple[bytes, bool]:
    """Return the master key and whether it came from a generated key file.

    ``configured`` is ``JATI_MASTER_KEY``; without it, ``<data_dir>/master.key`` is read, or
    created (mode 0600) on first run. The file is written with ``O_EXCL`` so that concurrent
    first starts agree on one key. With ``create=False`` (every command but ``jati serve``)
    a missing key is an error: a new key would make existing data unreadable.
    """
    if configured is not None:
        return decode_master_key(configured), False
    path = data_dir / KEY_FILE_NAME
    if not path.exists():
        if not create:
            raise ConfigurationError(
                [
                    f"no master key: JATI_MASTER_KEY is not set and {path} does not exist. "
                    "Set JATI_MASTER_KEY, or point JATI_DATA_DIR at the data directory of "
                    "`jati serve`."
                ]
            )
        _create_key_file(path)
    return decode_master_key(path.read_text()), True


def _create_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as handle:
        handle.write(generate_master_key() + "\n")
    log.warning(
        "GENERATED A NEW MASTER KEY at %s. It protects every citizen's personal data: "
        "back it up, never commit it, and never use a generated key in production "
        "(set JATI_MASTER_KEY instead).",
        path,
    )
