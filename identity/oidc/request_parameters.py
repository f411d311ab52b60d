"""Request parameters as sent, and the rule that none is sent twice (RFC 6749 §3.1, §3.2:
"Request and response parameters MUST NOT be included more than once").

:func:`split_repeated` is the one place that finds a repeated name; each endpoint decides
what a repetition costs: the token endpoint's ``invalid_request``
(:func:`identity.oidc.token_endpoint.single_values`), the authorization endpoint's refusal
(:mod:`identity.oidc.authorization_request`), RP-Initiated Logout's
(:mod:`identity.http.end_session`, :mod:`identity.http.pages.logout`) and the consent form's
(:mod:`identity.http.pages.consent`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

__all__ = ["split_repeated"]

V = TypeVar("V")


def split_repeated(pairs: Iterable[tuple[str, V]]) -> tuple[dict[str, V], tuple[str, ...]]:
    """The parameters as a dict (a repeated name keeps its last value) and the names sent
    more than once, each once, in the order in which their second occurrence came."""
    values: dict[str, V] = {}
    repeated: dict[str, None] = {}
    for name, value in pairs:
        if name in values:
            repeated[name] = None
        values[name] = value
    return values, tuple(repeated)
