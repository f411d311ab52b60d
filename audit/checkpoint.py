"""C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint): the log's signed tree head.

A checkpoint is a signed note whose text is at least three non-empty lines::

    <origin>
    <tree size, decimal, no leading zeroes>
    <base64 root hash>
    [<extension line>...]

:meth:`Checkpoint.parse` accepts exactly that and nothing else (no signs, spaces, leading
zeroes or sizes above 2**64-1; canonical standard base64 only), so one tree head has one
text and one signature. Parsing alone proves nothing: use :func:`open_checkpoint`, which
first checks the log's signature (C2SP signed-note) and then the expected origin.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from audit.errors import MalformedNote, UnverifiedNote
from audit.merkle.tree_hash import HASH_SIZE, MAX_TREE_SIZE
from audit.note import Signer, Verifier, b64decode_canonical, open_note, sign_note

__all__ = ["Checkpoint", "open_checkpoint", "sign_checkpoint"]

_SIZE = re.compile("0|[1-9][0-9]*")
_FORBIDDEN_CONTROL = re.compile("[\x00-\x1f]")


def _check_line(what: str, line: str) -> None:
    if not line:
        raise ValueError(f"checkpoint {what} must not be empty")
    if _FORBIDDEN_CONTROL.search(line):
        raise ValueError(f"checkpoint {what} must not contain newlines or control characters")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A log tree head: ``size`` leaves under ``root_hash``, for the log named ``origin``.

    ``root_hash`` may have any non-zero length here (the format does not fix one);
    :func:`open_checkpoint` requires the 32 bytes of this log's SHA-256 tree.
    """

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line("origin", self.origin)
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise ValueError(f"checkpoint size must be in [0, 2**64-1], got {self.size}")
        if not self.root_hash:
            raise ValueError("checkpoint root hash must not be empty")
        for extension in self.extensions:
            _check_line("extension line", extension)

    def body(self) -> str:
        """The note text: origin, size, base64 root and extension lines, each + newline."""
        root = base64.b64encode(self.root_hash).decode("ascii")
        lines = [self.origin, str(self.size), root, *self.extensions]
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """Parse a checkpoint note text (C2SP tlog-checkpoint, "Note text").

        Raises:
            MalformedNote: fewer than three lines, an empty line, no final newline, a size
                that is not canonical decimal in [0, 2**64-1], or a root that is not
                canonical standard base64.
        """
        if not body.endswith("\n"):
            raise MalformedNote("checkpoint must end with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedNote("checkpoint needs an origin, a size and a root hash line")
        origin, size_text, root_text, *extensions = lines
        if not _SIZE.fullmatch(size_text):
            raise MalformedNote("checkpoint size must be a decimal number without leading zeros")
        size = int(size_text)
        if size > MAX_TREE_SIZE:
            raise MalformedNote("checkpoint size exceeds 2**64-1")
        try:
            root_hash = b64decode_canonical(root_text)
        except ValueError as exc:  # "not base64" or "not canonical base64"
            raise MalformedNote(f"checkpoint root hash is {exc}") from exc
        try:
            return cls(origin, size, root_hash, tuple(extensions))
        except ValueError as exc:
            raise MalformedNote(str(exc)) from exc


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> str:
    """The checkpoint as a note signed by the log's key."""
    return sign_note(checkpoint.body(), [signer])


def open_checkpoint(note: str | bytes, verifier: Verifier, *, origin: str) -> Checkpoint:
    """Verify a signed checkpoint from the log ``origin`` and return it.

    Checks, in order: the note's syntax and the log key's signature (signatures by other
    keys, such as witnesses, are ignored); the checkpoint syntax; the origin line; a
    32-byte root hash.

    Raises:
        MalformedNote: bad note or checkpoint syntax, or a root hash of the wrong length.
        UnverifiedNote: no valid signature by ``verifier``, or another origin.
    """
    text, _ = open_note(note, [verifier])
    checkpoint = Checkpoint.parse(text)
    if checkpoint.origin != origin:
        raise UnverifiedNote(f"checkpoint is for origin {checkpoint.origin!r}, expected {origin!r}")
    if len(checkpoint.root_hash) != HASH_SIZE:
        raise MalformedNote(f"checkpoint root hash must be {HASH_SIZE} bytes")
    return checkpoint
