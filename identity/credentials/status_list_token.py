"""Token Status List (draft-ietf-oauth-status-list): the bit-packed list and its JWT.

What the draft fixes, and where (section numbers of the -17 revision and later):

- §4.1 A Status List is a byte array of ``size * bits / 8`` bytes, ``bits`` one of 1, 2, 4
  or 8. Index ``i`` occupies the ``bits`` bits at bit offset ``(i * bits) % 8`` of byte
  ``(i * bits) // 8``, counted from the least significant bit ("0") up. The array is
  compressed with DEFLATE (RFC 1951) in the ZLIB format (RFC 1950), at the highest level.
- §4.2 In JSON it is ``{"bits": 1|2|4|8, "lst": base64url(compressed), ...}`` with an
  optional ``aggregation_uri``.
- §5.1 The Status List Token is a JWT with ``typ: statuslist+jwt``; claims ``sub`` (the
  list's URI, equal to the ``uri`` in the Referenced Token), ``iat``, ``exp`` and ``ttl``
  (both RECOMMENDED), ``status_list``. Jati also sets ``iss`` (its issuer): the draft allows
  other claims, and it names the signer to relying parties that expect it.
- §7 Status values: 0 VALID, 1 INVALID (revoked), 2 SUSPENDED, 3 application specific.

Jati uses 2 bits per entry so that SUSPENDED fits (§4.1 example 2).

Decoding is bounded (§11.1, RFC 8725 §3.1 spirit): the decompressed size may not exceed what
``max_size`` entries need, so a few kilobytes of crafted ``lst`` cannot expand into gigabytes
(a "zip bomb"); the input must be one complete ZLIB stream with nothing after it.
"""

from __future__ import annotations

import binascii
import zlib
from collections.abc import Iterable, Mapping
from enum import IntEnum
from typing import Any

from identity.errors import InvalidInput
from identity.keys.base64url import b64url_encode
from identity.oidc.tokens import JwsSigner
from identity.relying_party import inflate

__all__ = [
    "ALLOWED_BITS",
    "STATUS_LIST_MEDIA_TYPE",
    "STATUS_LIST_TYPE",
    "InvalidStatusList",
    "Status",
    "StatusList",
    "sign_status_list",
    "status_list_claims",
]

#: §4.1 item 1: the only bit sizes a status may have.
ALLOWED_BITS = (1, 2, 4, 8)
#: §5.1: the JOSE ``typ`` of a Status List Token.
STATUS_LIST_TYPE = "statuslist+jwt"
#: §8.1/§8.2, §14.7: the media type asked for and answered.
STATUS_LIST_MEDIA_TYPE = "application/statuslist+jwt"
#: The highest zlib level (§4.1 item 4: RECOMMENDED).
COMPRESSION_LEVEL = 9

_STANDARD = bytes.maketrans(b"-_", b"+/")


class Status(IntEnum):
    """Status Type values (§7.1; registry §14.5)."""

    VALID = 0
    INVALID = 1  # revoked, annulled, cancelled: final
    SUSPENDED = 2  # temporarily invalid
    APPLICATION_SPECIFIC = 3


class InvalidStatusList(InvalidInput):
    """A status list, index or status value that does not meet the draft's rules."""

    code = "invalid_status_list"


def _check_bits(bits: object) -> int:
    if type(bits) is not int or bits not in ALLOWED_BITS:
        raise InvalidStatusList(f"bits must be one of {ALLOWED_BITS}")
    return bits


def _b64url_decode(text: str) -> bytes:
    if not isinstance(text, str) or not text.isascii():
        raise InvalidStatusList("lst is not base64url")
    if "+" in text or "/" in text or "=" in text or len(text) % 4 == 1:
        raise InvalidStatusList("lst is not base64url")
    try:
        raw = text.encode("ascii").translate(_STANDARD) + b"=" * (-len(text) % 4)
        return binascii.a2b_base64(raw, strict_mode=True)
    except binascii.Error:
        raise InvalidStatusList("lst is not base64url") from None


def inflate_bounded(compressed: bytes, max_bytes: int) -> bytes:
    """The bytes of one complete ZLIB stream (RFC 1950), at most ``max_bytes`` of them
    (:func:`identity.relying_party.inflate.inflate_bounded`, the SDK's, shared).

    Raises:
        InvalidStatusList: not ZLIB, truncated, trailing data, or more than ``max_bytes``
            once inflated (decompression stops one byte past the bound).
    """
    try:
        return inflate.inflate_bounded(compressed, max_bytes)
    except inflate.NotOneZlibStream as exc:
        message = {
            inflate.InflateFailure.NOT_ZLIB: "lst is not a ZLIB stream",
            inflate.InflateFailure.TOO_LARGE: f"lst inflates to more than {max_bytes} bytes",
            inflate.InflateFailure.TRUNCATED: "lst is a truncated ZLIB stream",
            inflate.InflateFailure.TRAILING_DATA: "lst has data after its ZLIB stream",
        }[exc.failure]
        raise InvalidStatusList(message) from None


class StatusList:
    """A fixed-size list of ``size`` statuses of ``bits`` bits each (§4.1).

    ``get``/``set`` are O(1); :meth:`from_entries` builds a list from its non-zero entries
    in O(size/8 + k); :meth:`encode` is one ``zlib.compress`` and one base64 pass.
    """

    __slots__ = ("_data", "_mask", "bits", "size")

    def __init__(self, size: int, bits: int = 2, *, data: bytes | bytearray | None = None):
        self.bits = _check_bits(bits)
        if type(size) is not int or size <= 0:
            raise InvalidStatusList("size must be a positive integer")
        length = (size * bits + 7) // 8
        if data is None:
            self._data = bytearray(length)
        elif len(data) != length:
            raise InvalidStatusList(f"{size} entries of {bits} bits take {length} bytes")
        else:
            self._data = bytearray(data)
        self.size = size
        self._mask = (1 << bits) - 1

    @classmethod
    def from_entries(
        cls, size: int, bits: int, entries: Iterable[tuple[int, int]] | Mapping[int, int]
    ) -> StatusList:
        """A list whose entries are VALID (0) except ``entries`` (index, status)."""
        status_list = cls(size, bits)
        wanted = entries if isinstance(entries, Mapping) else dict(entries)  # the last wins
        if not wanted:
            return status_list
        indices, statuses = wanted.keys(), wanted.values()
        if min(indices) < 0 or max(indices) >= size:
            raise InvalidStatusList("index out of range")
        if min(statuses) < 0 or max(statuses) > status_list._mask:
            raise InvalidStatusList(f"a status does not fit in {bits} bits")
        # Checked once above, in C; the array is all zeros, so each entry is one OR.
        data = status_list._data
        for index, status in wanted.items():
            position = index * bits
            data[position >> 3] |= status << (position & 7)
        return status_list

    def __len__(self) -> int:
        return self.size

    def get(self, index: int) -> int:
        if type(index) is not int or not 0 <= index < self.size:
            raise InvalidStatusList("index out of range")
        position = index * self.bits
        return (self._data[position >> 3] >> (position & 7)) & self._mask

    def set(self, index: int, status: int) -> None:
        if type(index) is not int or not 0 <= index < self.size:
            raise InvalidStatusList("index out of range")
        if not 0 <= int(status) <= self._mask:
            raise InvalidStatusList(f"status {int(status)} does not fit in {self.bits} bits")
        position = index * self.bits
        shift = position & 7
        byte = position >> 3
        self._data[byte] = (self._data[byte] & ~(self._mask << shift)) | (int(status) << shift)

    def to_bytes(self) -> bytes:
        """The uncompressed byte array (§4.1 items 2-3)."""
        return bytes(self._data)

    def compress(self) -> bytes:
        """The ZLIB-compressed byte array (§4.1 item 4)."""
        return zlib.compress(self._data, COMPRESSION_LEVEL)

    def encode(self) -> str:
        """The ``lst`` value: base64url (no padding) of the compressed array (§4.2)."""
        return b64url_encode(self.compress())

    def to_json(self, *, aggregation_uri: str | None = None) -> dict[str, Any]:
        """The ``status_list`` object of §4.2."""
        value: dict[str, Any] = {"bits": self.bits, "lst": self.encode()}
        if aggregation_uri is not None:
            value["aggregation_uri"] = aggregation_uri
        return value

    @classmethod
    def decode(cls, lst: str, bits: int, max_size: int) -> StatusList:
        """The list of a ``lst`` value (§4.2), refusing one of more than ``max_size`` entries.

        The size is what the array holds: ``len(bytes) * 8 // bits`` (§4.1 item 2: the
        array may be longer than the number of tokens; unused entries read as VALID).
        """
        bits = _check_bits(bits)
        if type(max_size) is not int or max_size <= 0:
            raise InvalidStatusList("max_size must be a positive integer")
        data = inflate_bounded(_b64url_decode(lst), (max_size * bits + 7) // 8)
        if not data:
            raise InvalidStatusList("lst holds no entries")
        return cls(len(data) * 8 // bits, bits, data=data)


def status_list_claims(
    *,
    uri: str,
    status_list: StatusList,
    issued_at: int,
    expires_at: int | None,
    ttl: int | None,
    issuer: str | None = None,
    aggregation_uri: str | None = None,
) -> dict[str, Any]:
    """The JWT Claims Set of a Status List Token (§5.1)."""
    if not uri:
        raise InvalidStatusList("a status list needs its uri (the sub claim)")
    if expires_at is not None and expires_at <= issued_at:
        raise InvalidStatusList("exp must be after iat")
    if ttl is not None and ttl <= 0:
        raise InvalidStatusList("ttl must be a positive number (§5.1)")
    claims: dict[str, Any] = {}
    if issuer is not None:
        claims["iss"] = issuer
    claims["sub"] = uri
    claims["iat"] = issued_at
    if expires_at is not None:
        claims["exp"] = expires_at
    if ttl is not None:
        claims["ttl"] = ttl
    claims["status_list"] = status_list.to_json(aggregation_uri=aggregation_uri)
    return claims


def sign_status_list(signer: JwsSigner, claims: Mapping[str, Any]) -> str:
    """The compact JWS of a Status List Token, ``typ: statuslist+jwt`` (§5.1; RFC 8725
    §3.11: an explicit type, so that it is never taken for another kind of token)."""
    return signer.sign(claims, typ=STATUS_LIST_TYPE)
