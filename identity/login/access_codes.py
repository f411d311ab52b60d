"""One-time access codes: the format the activation code and the recovery codes share.

**Format.** 16 symbols of Douglas Crockford's base32 alphabet (the digits and the letters
A-Z without I, L, O and U: no symbol is mistaken for another when read aloud, printed or
typed): one 80-bit draw of :func:`secrets.token_bytes`, cut into 16 groups of 5 bits, each
the index of a symbol. The alphabet has 32 = 2^5 symbols, so each symbol is uniform and
independent of the others, with no bias: 16 × 5 = 80 bits. Shown as four groups of
four joined by hyphens, ``7KQ2-M9XD-4HPA-T3VE``.

**Typed input** is read as Crockford's decoding rules read it (https://www.crockford.com/
base32.html): lower case is accepted, ``O`` counts as ``0``, ``I`` and ``L`` as ``1``, and
hyphens are ignored; so are spaces (people type the groups apart). Anything else (``U``,
punctuation, a character outside ASCII, whose upper case might otherwise land on a letter of
the alphabet, a wrong length) raises :class:`~identity.errors.MalformedAccessCode`.

**Storage.** Only the SHA-256 (hex) of the normalized code is stored, and a code is found by
that hash or compared with :func:`hmac.compare_digest`. NIST SP 800-63B §5.1.2.2 (look-up
secret verifiers): "Secrets having at least 64 bits of entropy MAY simply be hashed using an
approved hash function"; only secrets below 64 bits need a salt and a key derivation
function. At 80 bits, finding a code from a leaked hash means about 2^79 SHA-256
evaluations on average, out of reach, so no slow hash is needed (and a code's hash can be
its lookup key). §5.1.2.1 asks look-up secrets for 64 bits, or 20 when failed attempts are
throttled: these codes meet the first, and the pages that take them are throttled besides.

A code is never logged, never put in an exception's message or an audit entry.
"""

from __future__ import annotations

import hashlib
import secrets

from identity.errors import MalformedAccessCode

__all__ = [
    "ALPHABET",
    "CODE_BITS",
    "CODE_LENGTH",
    "code_hash",
    "format_code",
    "new_code",
    "normalize",
]

#: Crockford's base32 symbols, in value order.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16
CODE_BITS = CODE_LENGTH * 5
GROUP = 4
#: Longer input is refused before any work (a code with a separator after every symbol
#: is 31 characters).
MAX_TYPED = 64
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1", " ": None, "-": None, "\t": None})
_SYMBOLS = frozenset(ALPHABET)


def new_code() -> str:
    """A fresh code, normalized (16 symbols, no hyphens), from :mod:`secrets`."""
    bits = int.from_bytes(secrets.token_bytes(CODE_BITS // 8))
    return "".join([ALPHABET[bits >> shift & 31] for shift in range(0, CODE_BITS, 5)])


def format_code(code: str) -> str:
    """The code as shown to the citizen: four groups of four joined by hyphens."""
    plain = normalize(code)
    return "-".join(plain[i : i + GROUP] for i in range(0, CODE_LENGTH, GROUP))


def normalize(typed: str) -> str:
    """The 16 symbols of a code as typed: upper case, without spaces and hyphens, ``O`` read
    as ``0`` and ``I``/``L`` as ``1``.

    Raises:
        MalformedAccessCode: anything that is not a code once read so.
    """
    if len(typed) > MAX_TYPED or not typed.isascii():
        raise MalformedAccessCode()
    plain = typed.upper().translate(_READ_AS)
    if len(plain) != CODE_LENGTH or not _SYMBOLS.issuperset(plain):
        raise MalformedAccessCode()
    return plain


def code_hash(typed: str) -> str:
    """The SHA-256 (hex) of the normalized code: what is stored and looked up.

    Raises:
        MalformedAccessCode: ``typed`` is not a code.
    """
    return hashlib.sha256(normalize(typed).encode("ascii")).hexdigest()
