"""C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys.

A note is UTF-8 text ending in a newline, a blank line, then one or more signature lines
``— <key name> base64(4-byte key ID || signature)``. This module follows
golang.org/x/mod/sumdb/note: the same key formats (``vkey`` and ``PRIVATE+KEY`` ``skey``
strings), the same key ID rule and the same :func:`open_note` decisions:

1. the whole note is valid UTF-8 without ASCII control characters other than newline;
2. the text is everything up to the *last* blank line, and ends with a newline;
3. every signature line is well formed, with a valid key name, and there are at most
   :data:`MAX_SIGNATURES` of them;
4. signatures by unknown keys (name and key ID not both known) are ignored;
5. a signature by a known key must verify, otherwise the whole note is rejected;
6. at least one signature by a known key is required.

Only signature type ``0x01`` (Ed25519, RFC 8032) is accepted: :data:`SIGNATURE_TYPES` is the
allow-list. Signing is deterministic, so a given key and text always give the same note.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from audit.errors import MalformedNote, UnverifiedNote

__all__ = [
    "ED25519",
    "MAX_SIGNATURES",
    "SIGNATURE_TYPES",
    "NoteSigner",
    "NoteVerifier",
    "Signer",
    "Verifier",
    "b64decode_canonical",
    "is_valid_key_name",
    "key_id",
    "open_note",
    "sign_note",
]

ED25519 = 0x01
"""Signature type byte of Ed25519 note signatures (C2SP signed-note, "Signature types")."""

SIGNATURE_TYPES = frozenset({ED25519})
"""The signature types this module accepts in keys."""

MAX_SIGNATURES = 100
"""Notes with more signature lines are rejected unread (the Go implementation's limit)."""

_ED25519_PUBLIC_KEY_SIZE = 32
_ED25519_SIGNATURE_SIZE = 64
_KEY_ID_SIZE = 4
_SIGNATURE_PREFIX = "— "  # U+2014 EM DASH, U+0020 SPACE
_FORBIDDEN_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")
_HEX_KEY_ID = re.compile("[0-9a-f]{8}")


# --------------------------------------------------------------------------------------
# Names, key IDs and base64


def is_valid_key_name(name: str) -> bool:
    """A key name is non-empty UTF-8 without Unicode spaces, ``+`` or control characters."""
    if not name or "+" in name or _FORBIDDEN_CONTROL.search(name):
        return False
    if any(c.isspace() for c in name):  # Unicode spaces, newline included
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_key_name(name: str) -> None:
    if not is_valid_key_name(name):
        raise MalformedNote(f"invalid key name {name!r}")


def key_id(name: str, public_key: bytes) -> bytes:
    """SHA-256(name || 0x0A || 0x01 || 32-byte Ed25519 public key)[:4] (C2SP signed-note)."""
    if len(public_key) != _ED25519_PUBLIC_KEY_SIZE:
        raise ValueError(f"Ed25519 public key must be 32 bytes, got {len(public_key)}")
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ED25519]) + public_key)
    return digest.digest()[:_KEY_ID_SIZE]


def b64decode_canonical(text: str) -> bytes:
    """Standard base64 with padding, canonical only (RFC 4648 §4).

    Raises:
        ValueError: ``not base64`` or ``not canonical base64``.
    """
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise ValueError("not base64") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("not canonical base64")
    return raw


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _key_bytes(kind: str, name: str, hex_id: str, b64_key: str) -> bytes:
    """The checks that a ``vkey`` and an ``skey`` string share, in order: the key name, a
    key ID of 8 lowercase hex digits, canonical base64; returns the decoded key bytes.
    ``kind`` (``verifier``, ``signer``) names the key in the errors."""
    _check_key_name(name)
    if not _HEX_KEY_ID.fullmatch(hex_id):
        raise MalformedNote(f"{kind} key ID must be 8 lowercase hex digits")
    try:
        return b64decode_canonical(b64_key)
    except ValueError as exc:
        raise MalformedNote(f"{kind} key is not canonical base64") from exc


# --------------------------------------------------------------------------------------
# Keys


class Signer(Protocol):
    """What :func:`sign_note` needs from a key: its name, its 4-byte ID, and signing."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def sign(self, message: bytes) -> bytes: ...


class Verifier(Protocol):
    """What :func:`open_note` needs from a key: its name, its 4-byte ID, and verifying."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def verify(self, message: bytes, signature: bytes) -> bool: ...


@dataclass(frozen=True, slots=True, eq=False)
class NoteVerifier:
    """An Ed25519 note verifier key: ``name`` and public key; ``key_id`` is derived."""

    name: str
    public_key: Ed25519PublicKey = field(repr=False)
    key_id: bytes = field(init=False, repr=False)
    _raw: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        _check_key_name(self.name)
        raw = _raw_public_key(self.public_key)
        object.__setattr__(self, "_raw", raw)
        object.__setattr__(self, "key_id", key_id(self.name, raw))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, NoteVerifier):
            return NotImplemented
        return self.name == other.name and self._raw == other._raw

    def __hash__(self) -> int:
        return hash((self.name, self._raw))

    def __repr__(self) -> str:
        return f"NoteVerifier({self.vkey()!r})"

    @property
    def public_key_bytes(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        return self._raw

    @classmethod
    def from_vkey(cls, vkey: str) -> NoteVerifier:
        """Parse ``<name>+<8 lowercase hex key ID>+<base64(0x01 || 32-byte key)>``.

        Raises:
            MalformedNote: anything else, including a key ID that does not match the key.
        """
        parts = vkey.split("+", 2)
        if len(parts) != 3:
            raise MalformedNote("verifier key must be <name>+<hex key id>+<base64 key>")
        name, hex_id, b64_key = parts
        raw = _key_bytes("verifier", name, hex_id, b64_key)
        if len(raw) != 1 + _ED25519_PUBLIC_KEY_SIZE or raw[0] not in SIGNATURE_TYPES:
            raise MalformedNote("verifier key must be 0x01 followed by a 32-byte Ed25519 key")
        public = raw[1:]
        if key_id(name, public).hex() != hex_id:
            raise MalformedNote("verifier key ID does not match the key")
        try:
            key = Ed25519PublicKey.from_public_bytes(public)
        except ValueError as exc:
            raise MalformedNote("invalid Ed25519 public key") from exc
        return cls(name, key)

    def vkey(self) -> str:
        """The ``<name>+<hex key ID>+<base64 key>`` string to publish."""
        return f"{self.name}+{self.key_id.hex()}+{_b64encode(bytes([ED25519]) + self._raw)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is a valid Ed25519 signature of ``message`` by this key."""
        if len(signature) != _ED25519_SIGNATURE_SIZE:
            return False
        try:
            self.public_key.verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True, slots=True)
class NoteSigner:
    """An Ed25519 note signer key. Keep it secret: its ``skey`` signs as the log.

    The private key is excluded from ``repr`` and comparisons.
    """

    name: str
    private_key: Ed25519PrivateKey = field(repr=False, compare=False)
    key_id: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        _check_key_name(self.name)
        raw = _raw_public_key(self.private_key.public_key())
        object.__setattr__(self, "key_id", key_id(self.name, raw))

    def __repr__(self) -> str:
        return f"NoteSigner(name={self.name!r}, key_id={self.key_id.hex()!r})"

    @classmethod
    def generate(cls, name: str) -> NoteSigner:
        """A new random key named ``name``."""
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_skey(cls, skey: str) -> NoteSigner:
        """Parse ``PRIVATE+KEY+<name>+<hex key ID>+<base64(0x01 || 32-byte seed)>``.

        Raises:
            MalformedNote: anything else, including a key ID that does not match the key.
        """
        parts = skey.split("+", 4)
        if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
            raise MalformedNote("signer key must be PRIVATE+KEY+<name>+<hex key id>+<base64 seed>")
        _, _, name, hex_id, b64_seed = parts
        raw = _key_bytes("signer", name, hex_id, b64_seed)
        if len(raw) != 33 or raw[0] not in SIGNATURE_TYPES:
            raise MalformedNote("signer key must be 0x01 followed by a 32-byte Ed25519 seed")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if signer.key_id.hex() != hex_id:
            raise MalformedNote("signer key ID does not match the key")
        return signer

    def to_skey(self) -> str:
        """The secret ``PRIVATE+KEY+...`` string (Go ``note.GenerateKey`` format)."""
        seed = self.private_key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{_b64encode(bytes([ED25519]) + seed)}"

    def verifier(self) -> NoteVerifier:
        """The matching public verifier key."""
        return NoteVerifier(self.name, self.private_key.public_key())

    def vkey(self) -> str:
        """The matching public ``vkey`` string to publish."""
        return self.verifier().vkey()

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message`` (RFC 8032, deterministic)."""
        return self.private_key.sign(message)


# --------------------------------------------------------------------------------------
# Notes


def _check_note_characters(text: str) -> bytes:
    """UTF-8 encode, refusing control characters other than newline (and lone surrogates)."""
    if _FORBIDDEN_CONTROL.search(text):
        raise MalformedNote("note contains an ASCII control character")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MalformedNote("note is not valid UTF-8") from exc


def sign_note(text: str, signers: Sequence[Signer]) -> str:
    """Sign ``text`` with every signer (in order) and return the encoded note.

    ``text`` must end with a newline; it may contain empty lines (the last blank line of a
    note separates text from signatures).

    Raises:
        MalformedNote: text without a final newline or with control characters, an invalid
            signer name, or no or too many signers.
    """
    if not text.endswith("\n"):
        raise MalformedNote("note text must end with a newline")
    message = _check_note_characters(text)
    if not signers:
        raise MalformedNote("a note needs at least one signer")
    if len(signers) > MAX_SIGNATURES:
        raise MalformedNote(f"a note takes at most {MAX_SIGNATURES} signatures")
    lines = [text, "\n"]
    for signer in signers:
        _check_key_name(signer.name)
        if len(signer.key_id) != _KEY_ID_SIZE:
            raise MalformedNote("a key ID is 4 bytes")
        signature = signer.sign(message)
        lines.append(f"{_SIGNATURE_PREFIX}{signer.name} {_b64encode(signer.key_id + signature)}\n")
    return "".join(lines)


def open_note(note: str | bytes, verifiers: Sequence[Verifier]) -> tuple[str, list[str]]:
    """Parse ``note`` and check its signatures; return its text and the verified key names.

    Follows the checklist of this module's docstring (golang.org/x/mod/sumdb/note ``Open``).
    Repeated signatures by one known key are checked once. The text is returned exactly as
    signed, with its final newline.

    Raises:
        MalformedNote: bad syntax, non-UTF-8, control characters, too many signatures.
        UnverifiedNote: a known key's signature does not verify, or no known key signed.
        ValueError: two different verifiers share a name and key ID.
    """
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedNote("note is not valid UTF-8") from exc
    # 1. Valid UTF-8, no control characters but newline.
    _check_note_characters(note)
    # 2. The text ends at the last blank line; a signature block follows it.
    split = note.rfind("\n\n")
    if split < 0:
        raise MalformedNote("note has no blank line before its signatures")
    text = note[: split + 1]
    signature_block = note[split + 2 :]
    if not signature_block or not signature_block.endswith("\n"):
        raise MalformedNote("note's signature block must end with a newline")
    message = text.encode("utf-8")

    known: dict[tuple[str, bytes], Verifier] = {}
    for verifier in verifiers:
        slot = (verifier.name, bytes(verifier.key_id))
        if slot in known and known[slot] != verifier:
            raise ValueError(f"ambiguous verifiers for {verifier.name}+{verifier.key_id.hex()}")
        known[slot] = verifier

    # 3. Parse every signature line; 4-6. verify the ones from known keys.
    lines = signature_block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNote(f"note has more than {MAX_SIGNATURES} signatures")
    parsed: list[tuple[str, bytes, bytes]] = []
    for line in lines:
        if not line.startswith(_SIGNATURE_PREFIX):
            raise MalformedNote("signature line must start with an em dash and a space")
        name, space, b64 = line[len(_SIGNATURE_PREFIX) :].partition(" ")
        if not space or not b64 or not is_valid_key_name(name):
            raise MalformedNote("signature line must be '— <key name> <base64>'")
        try:
            raw = b64decode_canonical(b64)
        except ValueError as exc:
            raise MalformedNote("signature is not canonical base64") from exc
        if len(raw) < _KEY_ID_SIZE + 1:
            raise MalformedNote("signature is too short")
        parsed.append((name, raw[:_KEY_ID_SIZE], raw[_KEY_ID_SIZE:]))

    verified: list[str] = []
    seen: set[tuple[str, bytes]] = set()
    for name, sig_key_id, signature in parsed:
        known_key = known.get((name, sig_key_id))
        if known_key is None or (name, sig_key_id) in seen:
            continue
        seen.add((name, sig_key_id))
        if not known_key.verify(message, signature):
            raise UnverifiedNote(f"invalid signature by known key {name}+{sig_key_id.hex()}")
        verified.append(name)
    if not verified:
        raise UnverifiedNote("note has no valid signature by a known key")
    return text, verified
