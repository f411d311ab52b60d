"""Bounded ZLIB inflation (RFC 1950, DEFLATE RFC 1951) of a Token Status List's ``lst``
(draft-ietf-oauth-status-list §4.1).

Decompression stops one byte past the bound, so a few kilobytes of crafted input cannot
expand into gigabytes (a "zip bomb", §11.1); the input must be one complete ZLIB stream
(not raw DEFLATE, not gzip) with nothing after it. Used by this SDK
(:mod:`identity.relying_party.status_list`) and by the issuer's own decoder
(:mod:`identity.credentials.status_list_token`), each naming the failure its own way.
"""

from __future__ import annotations

import zlib
from enum import Enum

__all__ = ["InflateFailure", "NotOneZlibStream", "inflate_bounded"]


class InflateFailure(Enum):
    """Why bytes are not one complete ZLIB stream within the bound."""

    NOT_ZLIB = "not a ZLIB stream"
    TOO_LARGE = "inflates past the bound"
    TRUNCATED = "a truncated ZLIB stream"
    TRAILING_DATA = "data after the ZLIB stream"


class NotOneZlibStream(ValueError):
    """The input is not one complete ZLIB stream of at most the bound; ``failure`` says
    how."""

    def __init__(self, failure: InflateFailure) -> None:
        super().__init__(failure.value)
        self.failure = failure


def inflate_bounded(compressed: bytes, max_bytes: int) -> bytes:
    """The bytes of one complete ZLIB stream, at most ``max_bytes`` of them.

    Raises:
        NotOneZlibStream: not ZLIB, more than ``max_bytes`` once inflated, truncated, or
            followed by more data (checked in that order).
    """
    inflater = zlib.decompressobj()  # wbits=15: the ZLIB format only, not raw or gzip
    try:
        data = inflater.decompress(compressed, max_bytes + 1)
    except zlib.error:
        raise NotOneZlibStream(InflateFailure.NOT_ZLIB) from None
    if len(data) > max_bytes:
        raise NotOneZlibStream(InflateFailure.TOO_LARGE)
    if not inflater.eof:
        raise NotOneZlibStream(InflateFailure.TRUNCATED)
    if inflater.unused_data:
        raise NotOneZlibStream(InflateFailure.TRAILING_DATA)
    return data
