"""What an app asks of the citizen's authentication, and whether a session meets it
(OIDC Core §3.1.2.1 ``acr_values``, §5.5 the ``claims`` parameter, §5.5.1.1 the ``acr``
claim), framework-free.

Jati asserts two authentication context classes (:mod:`identity.oidc.tokens`), **ordered**:
``urn:jati:acr:password`` (a password) below ``urn:jati:acr:mfa`` (a password and a TOTP
code, RFC 6238). A stronger class meets a request for a weaker one: a multi-factor login
checked the password too.

An app asks for a class in two ways:

- ``acr_values`` (voluntary), in its order of preference. Jati aims for the first class it
  knows: when the session is weaker and the citizen has a second factor, the citizen is
  asked for a code (a step-up) before anything is issued; a citizen without one gets the
  session's class (§5.5.1.1: "SHOULD return the session's current acr"). Unknown values are
  ignored.
- ``claims={"id_token": {"acr": {"essential": true, "values": [...]}}}`` (or ``"value"``):
  essential. Jati steps up as above; a session that still meets none of the values ends the
  request with ``unmet_authentication_requirements`` (OIDC Core 1.0 errata set 2,
  §3.1.2.6), never with a code. Essential values Jati does not know at all are refused at
  once. The ID token then carries one of the requested values (§5.5.1.1: "MUST return an
  acr value that matches one of the requested values"): the session's class when it was
  requested, else the strongest requested class the session includes (``amr`` still names
  every method used).

An ``acr`` request without ``values`` takes those of ``acr_values``. Of the ``claims``
parameter only ``id_token.acr`` is acted on; every other claim request is ignored (the
claims released follow the scopes and the consent gate, never this parameter; §5.5 lets an
OP leave out claims). A ``claims`` value that is not a JSON object, or whose members do not
have the shapes of §5.5 and §5.5.1, is ``invalid_request``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from identity.errors import AuthorizationError
from identity.oidc.tokens import ACR_MULTI_FACTOR, ACR_PASSWORD

__all__ = ["ACR_LEVELS", "AcrRequest", "acr_level", "acr_request"]

#: The classes Jati asserts, weakest first (what discovery's ``acr_values_supported`` lists).
ACR_LEVELS: Mapping[str, int] = {ACR_PASSWORD: 1, ACR_MULTI_FACTOR: 2}
#: The members of the ``claims`` parameter that hold claim requests (OIDC Core §5.5).
_CLAIM_REQUEST_MEMBERS = ("id_token", "userinfo")


def acr_level(acr: str) -> int:
    """How strong a class is; 0 for one Jati does not know."""
    return ACR_LEVELS.get(acr, 0)


@dataclass(frozen=True, slots=True)
class AcrRequest:
    """The classes an authorization request asks for.

    ``values``: the requested classes Jati knows, in the app's order of preference (empty:
    nothing asked); ``essential``: the app asked for one of them as an essential claim
    (never true without ``values``).
    """

    values: tuple[str, ...] = ()
    essential: bool = False

    def __post_init__(self) -> None:
        if self.essential and not self.values:
            raise ValueError("an essential acr request names the classes it accepts")

    def wants_more_than(self, acr: str) -> bool:
        """The preferred class is stronger than ``acr``: worth a step-up if one is possible."""
        return bool(self.values) and acr_level(self.values[0]) > acr_level(acr)

    def met_by(self, acr: str) -> bool:
        """A session of class ``acr`` may be answered with a code (a voluntary request is
        always met; an essential one by a requested class or a stronger one)."""
        if not self.essential:
            return True
        return any(acr_level(acr) >= acr_level(v) for v in self.values)

    def asserted(self, acr: str) -> str:
        """The ``acr`` claim for a session of class ``acr`` (call after :meth:`met_by`)."""
        if not self.essential or acr in self.values:
            return acr
        included = [v for v in self.values if acr_level(v) <= acr_level(acr)]
        return max(included, key=acr_level) if included else acr


def _invalid(description: str) -> AuthorizationError:
    return AuthorizationError("invalid_request", description)


def _acr_member(claims: str) -> Mapping[str, Any] | None:
    """The ``id_token.acr`` member of a ``claims`` parameter (None when absent or null),
    after checking the parameter's shape."""
    try:
        body = json.loads(claims)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser
        raise _invalid("claims is not valid JSON") from None
    if not isinstance(body, dict):
        raise _invalid("claims is not a JSON object")
    for member in _CLAIM_REQUEST_MEMBERS:
        requests = body.get(member)
        if member not in body:
            continue
        if not isinstance(requests, dict):
            raise _invalid(f"claims.{member} is not a JSON object")
        if any(r is not None and not isinstance(r, dict) for r in requests.values()):
            raise _invalid(f"each claim requested in claims.{member} is null or an object")
    id_token = body.get("id_token")
    acr = id_token.get("acr") if isinstance(id_token, dict) else None
    return acr if isinstance(acr, dict) else None


def acr_request(acr_values: str | None, claims: str | None) -> AcrRequest:
    """The classes asked for by an authorization request's ``acr_values`` and ``claims``
    parameters (see the module docstring).

    Raises:
        AuthorizationError: (redirectable) ``invalid_request`` for a malformed ``claims``;
            ``unmet_authentication_requirements`` when every essential value is unknown.
    """
    values = [v for v in (acr_values or "").split(" ") if v]
    essential = False
    acr = _acr_member(claims) if claims else None
    if acr is not None:
        flag = acr.get("essential", False)
        one = acr.get("value")
        many = acr.get("values")
        if not isinstance(flag, bool):
            raise _invalid("claims: essential is true or false")
        if one is not None and not isinstance(one, str):
            raise _invalid("claims: the acr value is a string")
        if many is not None and (
            not isinstance(many, list) or not all(isinstance(v, str) for v in many)
        ):
            raise _invalid("claims: the acr values are an array of strings")
        asked = ([one] if one is not None else []) + (many or [])
        if asked:
            values = asked
        essential = flag
    known = tuple(dict.fromkeys(v for v in values if v in ACR_LEVELS))
    if essential and values and not known:
        raise AuthorizationError(
            "unmet_authentication_requirements",
            "none of the essential acr values is supported (see acr_values_supported)",
        )
    return AcrRequest(known, essential=essential and bool(known))
