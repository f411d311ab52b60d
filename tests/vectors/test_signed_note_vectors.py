"""C2SP signed-note and tlog-checkpoint vectors, with mutated notes that must be rejected.

The notes come from golang.org/x/mod/sumdb/note and the C2SP spec; the checkpoint bodies
from transparency-dev/formats log/checkpoint_test.go.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from audit.errors import MalformedNote, NoteError, UnverifiedNote
from audit.merkle.tree_hash import EMPTY_ROOT
from audit.note import (
    MAX_SIGNATURES,
    NoteSigner,
    NoteVerifier,
    key_id,
    open_note,
    sign_note,
)
from tests.vectors import load_vectors

VECTORS: dict[str, Any] = load_vectors("signed_note_c2sp.json")
NOTES: list[dict[str, str]] = VECTORS["notes"]
SIGNED_NOTES = [n for n in NOTES if "skey" in n]
PETER = SIGNED_NOTES[0]


def _note_id(note: dict[str, str]) -> str:
    return note["vkey"].split("+")[0]


def _text_of(note: str) -> str:
    return note[: note.rindex("\n\n") + 1]


def _signature_line(note: str) -> str:
    return note[note.rindex("\n\n") + 2 :]


# --------------------------------------------------------------------------------------
# Vectors


@pytest.mark.parametrize("vector", NOTES, ids=_note_id)
def test_note_verifies_with_vkey(vector: dict[str, str]) -> None:
    verifier = NoteVerifier.from_vkey(vector["vkey"])
    text, names = open_note(vector["note"], [verifier])
    assert text == _text_of(vector["note"])
    assert names == [verifier.name]
    assert verifier.vkey() == vector["vkey"]


@pytest.mark.parametrize("vector", NOTES, ids=_note_id)
def test_note_verifies_as_bytes(vector: dict[str, str]) -> None:
    verifier = NoteVerifier.from_vkey(vector["vkey"])
    text, _ = open_note(vector["note"].encode("utf-8"), [verifier])
    assert text == _text_of(vector["note"])


@pytest.mark.parametrize("vector", SIGNED_NOTES, ids=_note_id)
def test_skey_signs_the_exact_note(vector: dict[str, str]) -> None:
    signer = NoteSigner.from_skey(vector["skey"])
    assert signer.to_skey() == vector["skey"]
    assert signer.vkey() == vector["vkey"]
    assert sign_note(_text_of(vector["note"]), [signer]) == vector["note"]


@pytest.mark.parametrize("vector", NOTES, ids=_note_id)
def test_key_id_rule(vector: dict[str, str]) -> None:
    assert "0x0A || 0x01" in VECTORS["key_id_rule"]
    name, hex_id, b64_key = vector["vkey"].split("+", 2)
    raw = base64.b64decode(b64_key)
    assert raw[0] == 0x01
    public = raw[1:]
    by_rule = hashlib.sha256(name.encode() + b"\x0a\x01" + public).digest()[:4]
    assert by_rule.hex() == hex_id
    assert key_id(name, public) == by_rule
    assert NoteVerifier.from_vkey(vector["vkey"]).key_id == by_rule


def test_generated_keys_round_trip() -> None:
    signer = NoteSigner.generate("jati.example.go.id/audit")
    again = NoteSigner.from_skey(signer.to_skey())
    assert again.key_id == signer.key_id
    assert again.vkey() == signer.vkey()
    assert NoteVerifier.from_vkey(signer.vkey()) == signer.verifier()
    assert "PRIVATE" not in repr(signer)


# --------------------------------------------------------------------------------------
# Mutated notes


def _flip_signature_bit(note: str, byte: int) -> str:
    text, line = _text_of(note), _signature_line(note)
    name, b64 = line[2:-1].split(" ")
    raw = bytearray(base64.b64decode(b64))
    raw[byte] ^= 0x01
    return f"{text}\n— {name} {base64.b64encode(bytes(raw)).decode()}\n"


@pytest.mark.parametrize("byte", [4, 20, 40, 67])
def test_flipped_signature_bit_rejected(byte: int) -> None:
    verifier = NoteVerifier.from_vkey(PETER["vkey"])
    with pytest.raises(UnverifiedNote):
        open_note(_flip_signature_bit(PETER["note"], byte), [verifier])


@pytest.mark.parametrize("byte", [0, 3])
def test_flipped_key_id_bit_means_unknown_key(byte: int) -> None:
    verifier = NoteVerifier.from_vkey(PETER["vkey"])
    with pytest.raises(UnverifiedNote, match="no valid signature"):
        open_note(_flip_signature_bit(PETER["note"], byte), [verifier])


@pytest.mark.parametrize(
    "change",
    [
        lambda t: t.replace("answer", "Answer"),
        lambda t: t.replace("is.\n", "is!\n"),
        lambda t: "x" + t,
        lambda t: t + "extra line\n",
        lambda t: t + "\n",
    ],
    ids=["word", "punctuation", "prefix", "extra-line", "extra-blank-line"],
)
def test_changed_text_rejected(change: Any) -> None:
    verifier = NoteVerifier.from_vkey(PETER["vkey"])
    note = PETER["note"]
    mutated = change(_text_of(note)) + "\n" + _signature_line(note)
    assert mutated != note
    with pytest.raises(UnverifiedNote):
        open_note(mutated, [verifier])


def test_wrong_key_rejected() -> None:
    other = NoteSigner.generate("PeterNeumann").verifier()
    with pytest.raises(UnverifiedNote, match="no valid signature"):
        open_note(PETER["note"], [other])
    with pytest.raises(UnverifiedNote):
        open_note(PETER["note"], [])


@dataclass(frozen=True)
class _CollidingVerifier:
    """Claims Peter's name and key ID but holds another public key."""

    name: str
    key_id: bytes
    inner: NoteVerifier

    def verify(self, message: bytes, signature: bytes) -> bool:
        return self.inner.verify(message, signature)


def test_known_name_and_id_with_wrong_key_rejected() -> None:
    peter = NoteVerifier.from_vkey(PETER["vkey"])
    colliding = _CollidingVerifier(
        peter.name, peter.key_id, NoteVerifier.from_vkey(NOTES[1]["vkey"])
    )
    # A signature from a known (name, key ID) must be checked and fail, never be skipped.
    with pytest.raises(UnverifiedNote, match="invalid signature"):
        open_note(PETER["note"], [colliding])


def test_ambiguous_verifiers_refused() -> None:
    peter = NoteVerifier.from_vkey(PETER["vkey"])
    colliding = _CollidingVerifier(
        peter.name, peter.key_id, NoteVerifier.from_vkey(NOTES[1]["vkey"])
    )
    with pytest.raises(ValueError, match="ambiguous"):
        open_note(PETER["note"], [peter, colliding])
    assert open_note(PETER["note"], [peter, NoteVerifier.from_vkey(PETER["vkey"])])[1] == [
        "PeterNeumann"
    ]


def test_unknown_signatures_are_ignored() -> None:
    verifier = NoteVerifier.from_vkey(PETER["vkey"])
    stranger = NoteSigner.generate("stranger.example")
    text = _text_of(PETER["note"])
    doubly = sign_note(text, [stranger]) + _signature_line(PETER["note"])
    assert open_note(doubly, [verifier]) == (text, ["PeterNeumann"])


def test_multiple_known_signers() -> None:
    a, b = NoteSigner.generate("a.example"), NoteSigner.generate("b.example")
    note = sign_note("hello\n", [a, b])
    assert open_note(note, [b.verifier(), a.verifier()]) == ("hello\n", ["a.example", "b.example"])


def test_text_may_contain_empty_lines() -> None:
    signer = NoteSigner.generate("poet.example")
    text = "Ognuno sta solo sul cuor della terra\n\ned è subito sera.\n"
    assert open_note(sign_note(text, [signer]), [signer.verifier()])[0] == text


def test_signature_limit() -> None:
    signer = NoteSigner.generate("log.example")
    strangers = [NoteSigner.generate(f"w{i}.example") for i in range(MAX_SIGNATURES)]
    note = sign_note("t\n", [signer, *strangers[: MAX_SIGNATURES - 1]])
    assert open_note(note, [signer.verifier()])[1] == ["log.example"]
    too_many = note + _signature_line(sign_note("t\n", [strangers[-1]]))
    with pytest.raises(MalformedNote):
        open_note(too_many, [signer.verifier()])
    with pytest.raises(MalformedNote):
        sign_note("t\n", [signer, *strangers])


SIG = _signature_line(PETER["note"])
TEXT = _text_of(PETER["note"])
B64 = SIG.split(" ")[2][:-1]


@pytest.mark.parametrize(
    "note",
    [
        pytest.param(TEXT + SIG, id="no-blank-line"),
        pytest.param(TEXT + "\n" + SIG[:-1], id="no-final-newline"),
        pytest.param(TEXT + "\n", id="no-signatures"),
        pytest.param(TEXT + "\n" + SIG.replace("—", "-"), id="hyphen-not-em-dash"),
        pytest.param(TEXT + "\n" + SIG.replace("— ", "—"), id="no-space-after-dash"),
        pytest.param(TEXT + "\n" + SIG.replace(" x08", "  x08"), id="double-space"),
        pytest.param(TEXT + "\n" + "— PeterNeumann\n", id="no-signature"),
        pytest.param(TEXT + "\n" + "— PeterNeumann \n", id="empty-signature"),
        pytest.param(TEXT + "\n" + f"— PeterNeumann {B64[:-1]}\n", id="bad-padding"),
        pytest.param(TEXT + "\n" + f"— PeterNeumann {B64[:-2]}!=\n", id="non-base64"),
        pytest.param(TEXT + "\n" + "— PeterNeumann AAAAAA==\n", id="signature-too-short"),
        pytest.param(TEXT + "\n" + SIG.replace("Peter", "Peter Neumann "), id="name-space"),
        pytest.param(TEXT + "\n" + SIG.replace("Peter", "Peter+"), id="name-plus"),
        pytest.param(TEXT + "\n" + SIG.replace("Peter", "Peter\u00a0"), id="name-nbsp"),
        pytest.param(TEXT + "\n" + SIG.replace("PeterNeumann", ""), id="empty-name"),
        pytest.param(TEXT.replace("answer", "answer\t") + "\n" + SIG, id="tab"),
        pytest.param(TEXT.replace("answer", "answer\r") + "\n" + SIG, id="carriage-return"),
        pytest.param(TEXT.replace("answer", "answer\x00") + "\n" + SIG, id="nul"),
        pytest.param(TEXT.replace("answer", "answer\ud800") + "\n" + SIG, id="lone-surrogate"),
        pytest.param("", id="empty"),
    ],
)
def test_malformed_note_rejected(note: str) -> None:
    verifier = NoteVerifier.from_vkey(PETER["vkey"])
    with pytest.raises(MalformedNote):
        open_note(note, [verifier])


def test_non_utf8_bytes_rejected() -> None:
    verifier = NoteVerifier.from_vkey(PETER["vkey"])
    raw = PETER["note"].encode("utf-8").replace(b"answer", b"answer\xff")
    with pytest.raises(MalformedNote):
        open_note(raw, [verifier])


@pytest.mark.parametrize(
    "text",
    ["no newline", "", "control\x07char\n", "surrogate\ud800\n"],
    ids=["no-newline", "empty", "control", "surrogate"],
)
def test_sign_note_rejects_bad_text(text: str) -> None:
    with pytest.raises(MalformedNote):
        sign_note(text, [NoteSigner.generate("k.example")])


def test_sign_note_needs_a_signer() -> None:
    with pytest.raises(MalformedNote):
        sign_note("text\n", [])


@pytest.mark.parametrize(
    "vkey",
    [
        PETER["vkey"].replace("c74f20a3", "c74f20a4"),
        PETER["vkey"].replace("c74f20a3", "C74F20A3"),
        PETER["vkey"].replace("c74f20a3", "c74f20a"),
        PETER["vkey"].replace("+ARpc", "+AhpC"),
        PETER["vkey"][:-4],
        PETER["vkey"] + "AAAA",
        PETER["vkey"].replace("W", "X"),
        "PeterNeumann+c74f20a3",
        "PeterNeumann",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        PETER["skey"],
    ],
    ids=[
        "wrong-id",
        "uppercase-id",
        "short-id",
        "wrong-algorithm",
        "short-key",
        "long-key",
        "other-key",
        "no-key",
        "name-only",
        "name-space",
        "empty-name",
        "skey",
    ],
)
def test_bad_vkey_rejected(vkey: str) -> None:
    with pytest.raises(MalformedNote):
        NoteVerifier.from_vkey(vkey)


@pytest.mark.parametrize(
    "skey",
    [
        PETER["skey"].replace("c74f20a3", "c74f20a4"),
        PETER["skey"].replace("PRIVATE+KEY", "PUBLIC+KEY"),
        PETER["skey"].replace("+AYEK", "+AoEK"),
        PETER["skey"][:-4],
        PETER["vkey"],
    ],
    ids=["wrong-id", "not-private", "wrong-algorithm", "short-seed", "vkey"],
)
def test_bad_skey_rejected(skey: str) -> None:
    with pytest.raises(MalformedNote):
        NoteSigner.from_skey(skey)


# --------------------------------------------------------------------------------------
# Checkpoints


@pytest.mark.parametrize("vector", VECTORS["checkpoint_bodies"], ids=lambda v: v["origin"])
def test_checkpoint_body_round_trip(vector: dict[str, Any]) -> None:
    checkpoint = Checkpoint.parse(vector["body"])
    assert checkpoint.origin == vector["origin"]
    assert checkpoint.size == vector["size"]
    assert checkpoint.root_hash == vector["root_raw_ascii"].encode("ascii")
    assert checkpoint.extensions == ()
    assert checkpoint.body() == vector["body"]
    assert Checkpoint(vector["origin"], vector["size"], checkpoint.root_hash) == checkpoint


def test_checkpoint_extensions_round_trip() -> None:
    body = "Log\n0\nYmFuYW5hcw==\nextension one\nextension two\n"
    checkpoint = Checkpoint.parse(body)
    assert checkpoint.extensions == ("extension one", "extension two")
    assert checkpoint.body() == body


@pytest.mark.parametrize("size", ["0", "1", "9944", str(2**64 - 1)])
def test_checkpoint_size_limits_accepted(size: str) -> None:
    assert Checkpoint.parse(f"Log\n{size}\nYmFuYW5hcw==\n").size == int(size)


ROOT = "YmFuYW5hcw=="

CHECKPOINT_MUST_REJECT = {
    "empty origin": [f"\n123\n{ROOT}\n"],
    "missing final newline": [f"Log\n123\n{ROOT}", f"Log\n123\n{ROOT}\next"],
    "non-numeric, negative or > 2^64-1 size": [
        f"Log\nabc\n{ROOT}\n",
        f"Log\n12a\n{ROOT}\n",
        f"Log\n\n{ROOT}\n",
        f"Log\n-1\n{ROOT}\n",
        f"Log\n+1\n{ROOT}\n",
        f"Log\n 1\n{ROOT}\n",
        f"Log\n1 \n{ROOT}\n",
        f"Log\n1_000\n{ROOT}\n",
        f"Log\n1.0\n{ROOT}\n",
        f"Log\n\u0661\u0662\n{ROOT}\n",
        f"Log\n0123\n{ROOT}\n",
        f"Log\n00\n{ROOT}\n",
        f"Log\n{2**64}\n{ROOT}\n",
        f"Log\n{10**30}\n{ROOT}\n",
    ],
    "non-base64 root": [
        "Log\n123\nbananas\n",
        "Log\n123\nYmFuYW5hcw\n",
        "Log\n123\nYmFuYW5hcw=\n",
        "Log\n123\nYmFuYW5hcx==\n",
        "Log\n123\nYmFu YW5hcw==\n",
        "Log\n123\nYmFuYW5hcw==!\n",
        "Log\n123\nYmFuYW5h-w==\n",
        "Log\n123\n\n",
    ],
    "fewer than 3 lines": ["", "\n", "Log\n", "Log\n123\n", f"Log\n{ROOT}\n"],
    "empty extension line": [f"Log\n123\n{ROOT}\n\n", f"Log\n123\n{ROOT}\n\next\n"],
    "control characters": [f"Log\t1\n123\n{ROOT}\n", f"Log\n123\n{ROOT}\next\x00\n"],
}


def test_every_listed_checkpoint_rejection_is_covered() -> None:
    assert set(VECTORS["checkpoint_must_reject"]) <= CHECKPOINT_MUST_REJECT.keys()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(body, id=f"{reason}:{i}")
        for reason, bodies in CHECKPOINT_MUST_REJECT.items()
        for i, body in enumerate(bodies)
    ],
)
def test_checkpoint_must_reject(body: str) -> None:
    with pytest.raises(MalformedNote):
        Checkpoint.parse(body)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"origin": "", "size": 1, "root_hash": EMPTY_ROOT},
        {"origin": "a\nb", "size": 1, "root_hash": EMPTY_ROOT},
        {"origin": "log", "size": -1, "root_hash": EMPTY_ROOT},
        {"origin": "log", "size": 2**64, "root_hash": EMPTY_ROOT},
        {"origin": "log", "size": 1, "root_hash": b""},
        {"origin": "log", "size": 1, "root_hash": EMPTY_ROOT, "extensions": ("",)},
        {"origin": "log", "size": 1, "root_hash": EMPTY_ROOT, "extensions": ("a\nb",)},
    ],
)
def test_checkpoint_constructor_validates(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Checkpoint(**kwargs)


ORIGIN = "jati.example.go.id/audit"


def test_signed_checkpoint_round_trip() -> None:
    signer = NoteSigner.generate(ORIGIN)
    checkpoint = Checkpoint(ORIGIN, 3, hashlib.sha256(b"root").digest())
    note = sign_checkpoint(checkpoint, signer)
    assert note.startswith(checkpoint.body() + "\n— " + ORIGIN + " ")
    assert open_checkpoint(note, signer.verifier(), origin=ORIGIN) == checkpoint


def test_open_checkpoint_rejects_wrong_origin_key_and_root_length() -> None:
    signer = NoteSigner.generate(ORIGIN)
    checkpoint = Checkpoint(ORIGIN, 3, hashlib.sha256(b"root").digest())
    note = sign_checkpoint(checkpoint, signer)
    with pytest.raises(UnverifiedNote):
        open_checkpoint(note, signer.verifier(), origin="other.example/log")
    with pytest.raises(UnverifiedNote):
        open_checkpoint(note, NoteSigner.generate(ORIGIN).verifier(), origin=ORIGIN)
    short = sign_checkpoint(Checkpoint(ORIGIN, 3, b"bananas"), signer)
    with pytest.raises(MalformedNote):
        open_checkpoint(short, signer.verifier(), origin=ORIGIN)
    with pytest.raises(NoteError):
        open_checkpoint(sign_note("just text\n", [signer]), signer.verifier(), origin=ORIGIN)


def test_ed25519_private_key_object_accepted() -> None:
    key = Ed25519PrivateKey.generate()
    signer = NoteSigner(ORIGIN, key)
    assert signer.verifier().public_key_bytes == NoteSigner(ORIGIN, key).verifier().public_key_bytes
