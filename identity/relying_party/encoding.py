"""Strict base64url (RFC 7515 §2, RFC 4648 §5) and JSON for JWS parsing.

Strict means: only the base64url alphabet, no padding, no length of 1 mod 4, and the unused
bits of the last character zero, so that every byte string has exactly one accepted
encoding (a token cannot be re-encoded into a second form that still verifies). JSON objects
with duplicate member names are refused (RFC 7515 §5.2 step 4 allows parsers to do so, and
RFC 8725 §3.1 warns of the ambiguity).
"""

from __future__ import annotations

import binascii
import json
from typing import Any

from identity.relying_party.errors import InvalidToken, Reason

__all__ = ["b64url_decode", "check_issuer", "json_object", "json_value"]

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_VALUE = {c: i for i, c in enumerate(_ALPHABET)}
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_PAD = (b"", None, b"==", b"=")  # by len % 4; None: impossible length
_LAST_MASK = (0, 0, 0x0F, 0x03)  # unused low bits of the last character, by len % 4


def b64url_decode(segment: str) -> bytes:
    """Decode canonical unpadded base64url; :class:`InvalidToken` (``malformed``) otherwise."""
    rem = len(segment) & 3
    pad = _PAD[rem]
    if pad is None or "+" in segment or "/" in segment or "=" in segment:
        raise InvalidToken(Reason.MALFORMED, "a segment is not base64url")
    if rem and _VALUE.get(segment[-1], 1) & _LAST_MASK[rem]:
        raise InvalidToken(Reason.MALFORMED, "a segment is not canonical base64url")
    try:
        data = segment.encode("ascii").translate(_TO_STANDARD) + pad
        # strict_mode refuses every character outside the alphabet, whitespace included
        return binascii.a2b_base64(data, strict_mode=True)
    except (UnicodeEncodeError, binascii.Error):
        raise InvalidToken(Reason.MALFORMED, "a segment is not base64url") from None


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise InvalidToken(Reason.MALFORMED, "duplicate member names in a JSON object")
    return obj


def _no_constants(name: str) -> Any:
    raise InvalidToken(Reason.MALFORMED, f"{name} is not JSON (RFC 8259)")


_decoder = json.JSONDecoder(object_pairs_hook=_unique_object, parse_constant=_no_constants)
_scan_once = _decoder.scan_once  # type: ignore[attr-defined]  # the C scanner, no wrapper


def json_value(data: bytes, what: str) -> Any:
    """A JSON value (RFC 8259) from UTF-8 ``data``, every object in it with unique member
    names; :class:`InvalidToken` (``malformed``) otherwise. ``what`` names it in the message."""
    try:
        text = data.decode("utf-8")
        value, end = _scan_once(text, 0)
        if end != len(text):  # surrounding whitespace is JSON too, rare in JWTs
            value = _decoder.decode(text)
    except RecursionError:  # deeply nested arrays: refused, never a crash
        raise InvalidToken(Reason.MALFORMED, f"the {what} is nested too deeply") from None
    except (UnicodeDecodeError, ValueError, StopIteration):
        try:  # leading whitespace makes the scanner stop at once; decode() skips it
            value = _decoder.decode(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise InvalidToken(Reason.MALFORMED, f"the {what} is not JSON") from None
    return value


def json_object(data: bytes, what: str) -> dict[str, Any]:
    """A JSON object (RFC 8259) from UTF-8 ``data`` with unique member names."""
    value = json_value(data, what)
    if type(value) is not dict:
        raise InvalidToken(Reason.MALFORMED, f"the {what} is not a JSON object")
    return value


def check_issuer(issuer: str) -> str:
    """``issuer`` if it can be compared with ``iss`` as it is: the exact issuer identifier
    (RFC 8414 §2, OpenID Connect Discovery §3), never empty and never with a trailing slash
    (OIDC Core §3.1.3.7 step 2 compares exactly, so a slash would fail every token)."""
    if not issuer or issuer.endswith("/"):
        raise ValueError("issuer is the exact iss value, without a trailing slash")
    return issuer
