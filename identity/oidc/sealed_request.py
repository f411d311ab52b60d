"""The ``req`` value: a pending authorization request sealed for the pages to carry
(framework-free).

**Nothing is stored for a pending request** (issue 17): the request travels sealed through
the login page, the second factor, the consent screen and ``/authorize/resume``
(:mod:`identity.oidc.authorize`), so any worker can resume it. :class:`RequestSealer` turns a
:class:`~identity.oidc.authorization_request.StoredRequest` into that value and back, with
AES-256-SIV (:class:`identity.keys.sealing.SivSealer`).
"""

from __future__ import annotations

import json
import re
import zlib
from datetime import UTC, datetime, timedelta
from typing import Any

from identity.keys.derived_keys import REQUEST_SEALING_KEY
from identity.keys.sealing import SivSealer
from identity.login.acr import AcrRequest
from identity.oidc.authorization_request import StoredRequest
from identity.relying_party.inflate import inflate_bounded

__all__ = ["MAX_SEALED_CHARS", "RequestSealer"]

#: The longest ``req`` value opened: the largest request Jati accepts seals to less.
MAX_SEALED_CHARS = 16384
_SEALED = re.compile(r"[A-Za-z0-9_-]+")
#: The decompressed plaintext of a sealed request is at most this long.
_MAX_SEALED_PLAINTEXT = 65536


class RequestSealer:
    """Seals a pending request into the ``req`` value the pages carry, and opens it.

    AES-256-SIV (RFC 5297, :class:`identity.keys.sealing.SivSealer`) under a key derived
    from the master key (:data:`identity.keys.derived_keys.REQUEST_SEALING_KEY`): confidential
    (the ``login_hint`` may be a NIK, the ``nonce`` and ``state`` are the app's) and
    tamper-evident, so the request the pages carry is the one ``/authorize`` validated. SIV
    needs no nonce to stay safe, however many requests an attacker makes an unauthenticated
    Jati seal (AES-GCM's random 96-bit nonces would cap the key at about 2^32 seals); two
    seals never repeat, since every plaintext holds its request's random 256-bit id.

    The plaintext is compact JSON compressed with zlib, so that a usual request seals to
    about 500 characters, and one padded to every limit (state, nonce, hint) to about the
    length of the query the app sent (at most a third more, base64's). Compression lets the
    length follow the content; every value but the id comes from the request the browser
    itself carried, so the length says nothing new.

    The expiry is inside the seal; :meth:`open` does not check it (the caller compares it
    with its clock).
    """

    __slots__ = ("_sealer",)

    def __init__(self, master_key: bytes) -> None:
        self._sealer = SivSealer(master_key, REQUEST_SEALING_KEY)

    def __repr__(self) -> str:
        return "RequestSealer(<key hidden>)"

    def seal(self, request: StoredRequest) -> str:
        fields = {
            "i": request.id,
            "c": request.client_id,
            "r": request.redirect_uri,
            "s": " ".join(request.scopes),
            "l": " ".join(request.claims),
            "p": " ".join(request.purpose_codes),
            "st": request.state,
            "n": request.nonce,
            "cc": request.code_challenge,
            "pr": " ".join(request.prompt),
            "ma": request.max_age,
            "h": request.login_hint,
            "u": " ".join(request.ui_locales),
            "t": _microseconds(request.created_at),
            "e": _microseconds(request.expires_at),
            "a": " ".join(request.acr.values),
            "ae": 1 if request.acr.essential else None,
        }
        plaintext = json.dumps(
            {k: v for k, v in fields.items() if v is not None and v != ""},
            separators=(",", ":"),
        ).encode("utf-8")
        return self._sealer.seal(zlib.compress(plaintext, 9))

    def open(self, value: str) -> StoredRequest | None:
        """The request sealed in ``value``, or None (malformed, altered, sealed under
        another key, or too long)."""
        if not value or len(value) > MAX_SEALED_CHARS or not _SEALED.fullmatch(value):
            return None
        compressed = self._sealer.open(value)
        if compressed is None:
            return None
        try:
            body = json.loads(inflate_bounded(compressed, _MAX_SEALED_PLAINTEXT))
            return StoredRequest(
                id=str(body["i"]),
                client_id=str(body["c"]),
                redirect_uri=str(body["r"]),
                scopes=_words(body.get("s")),
                claims=_words(body.get("l")),
                purpose_codes=_words(body.get("p")),
                state=_text_or_none(body.get("st")),
                nonce=_text_or_none(body.get("n")),
                code_challenge=str(body["cc"]),
                prompt=_words(body.get("pr")),
                max_age=int(body["ma"]) if "ma" in body else None,
                login_hint=_text_or_none(body.get("h")),
                ui_locales=_words(body.get("u")),
                created_at=_from_microseconds(body["t"]),
                expires_at=_from_microseconds(body["e"]),
                acr=AcrRequest(_words(body.get("a")), essential=body.get("ae") == 1),
            )
        except (ValueError, KeyError, TypeError, OverflowError):  # NotOneZlibStream: ValueError
            return None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _microseconds(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _from_microseconds(value: Any) -> datetime:
    if not isinstance(value, int):
        raise TypeError("a time is a whole number of microseconds")
    return _EPOCH + timedelta(microseconds=value)


def _words(value: Any) -> tuple[str, ...]:
    return tuple(str(value).split(" ")) if value else ()


def _text_or_none(value: Any) -> str | None:
    return str(value) if value is not None else None
