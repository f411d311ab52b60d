"""The holder's side of SD-JWT (RFC 9901 §7.2) for the tests: a credential like Jati's,
choosing Disclosures, and the Key Binding JWT (§4.3), forgeable in every field; and the
verifier's: a ``TokenVerifier`` with fake status lists, and :func:`refused`."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import pytest

from identity.credentials.sd_jwt import Disclosable, IssuedSdJwt, issue
from identity.oidc.tokens import JwsSigner
from identity.relying_party import InvalidToken, Reason, TokenVerifier
from tests.token_helpers import ISSUER, NOW, Key, b64

VCT = ISSUER + "/vct/identity/v1"
AUDIENCE = "https://layanan.jakarta.go.id/verifier"  # the verifier's own identifier
NONCE = "k1SGq3Vq0Jk3t4lT"
STATUS_URI = ISSUER + "/statuslists/3"
STATUS_IDX = 4711


def signer_for(key: Key) -> JwsSigner:
    return JwsSigner(key.kid, key.alg, key.private)


def holder_jwk(holder: Key) -> dict[str, Any]:
    """The holder's public key as a wallet puts it in its proof: no kid, alg or use."""
    return {k: v for k, v in holder.jwk.items() if k in ("kty", "crv", "x", "y")}


def signed_claims(holder: Key, **overrides: Any) -> dict[str, Any]:
    """What every credential here carries in the clear: ``iss``, ``iat``, ``exp`` a day on,
    ``vct`` and the holder's key in ``cnf``; ``overrides`` replace or add claims, and
    ``None`` in them drops one."""
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "iat": int(NOW),
        "exp": int(NOW) + 86_400,
        "vct": VCT,
        "cnf": {"jwk": holder_jwk(holder)},
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def credential_claims(holder: Key, **overrides: Any) -> dict[str, Any]:
    """Claims shaped like Jati's identity credential; ``None`` in ``overrides`` drops one."""
    jati: dict[str, Any] = {
        "status": {"status_list": {"idx": STATUS_IDX, "uri": STATUS_URI}},
        "given_name": Disclosable("Siti"),
        "family_name": Disclosable("Rahayu"),
        "birthdate": Disclosable("1990-08-17"),
        "address": Disclosable(
            {"locality": Disclosable("Jakarta Pusat"), "country": Disclosable("ID")}
        ),
        "age_equal_or_over": {
            "18": Disclosable(True),
            "21": Disclosable(True),
            "65": Disclosable(False),
        },
        "nationalities": [Disclosable("ID")],
    }
    return signed_claims(holder, **{**jati, **overrides})


def issue_credential(issuer: Key, holder: Key, **overrides: Any) -> IssuedSdJwt:
    return issue(signer_for(issuer), credential_claims(holder, **overrides))


def decode(disclosure: str) -> list[Any]:
    padded = disclosure + "=" * (-len(disclosure) % 4)
    value: list[Any] = json.loads(base64.urlsafe_b64decode(padded))
    return value


def split(compact: str) -> tuple[str, list[str]]:
    """(issuer-signed JWT, Disclosures) of an SD-JWT without KB-JWT."""
    jwt, *disclosures, last = compact.split("~")
    assert last == "", "an issued SD-JWT ends with '~'"
    return jwt, disclosures


def select(compact: str, names: Collection[str]) -> list[str]:
    """The Disclosures of claims named in ``names`` (array elements: by their value)."""
    _, disclosures = split(compact)
    chosen = []
    for disclosure in disclosures:
        key = decode(disclosure)[1]  # the claim name, or an array element's value
        if isinstance(key, str) and key in names:
            chosen.append(disclosure)
    return chosen


def sd_jwt(jwt: str, disclosures: Collection[str]) -> str:
    """``<jwt>~<d1>~...~<dn>~``: what ``sd_hash`` covers (RFC 9901 §4.3.1)."""
    return jwt + "~" + "".join(d + "~" for d in disclosures)


def sd_hash(signed_part: str) -> str:
    return b64(hashlib.sha256(signed_part.encode("ascii")).digest())


def kb_jwt(
    holder: Key,
    signed_part: str,
    *,
    aud: Any = AUDIENCE,
    nonce: Any = NONCE,
    iat: Any = None,
    hash_: Any = None,
    header: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    sign_with: Key | None = None,
) -> str:
    """A Key Binding JWT over ``signed_part``; any field can be replaced (None drops it)."""
    fields = {"alg": holder.alg, "typ": "kb+jwt"}
    fields.update(header or {})
    claims = {
        "iat": int(NOW) if iat is None else iat,
        "aud": aud,
        "nonce": nonce,
        "sd_hash": sd_hash(signed_part) if hash_ is None else hash_,
        **(extra or {}),
    }
    header_b64 = b64(json.dumps({k: v for k, v in fields.items() if v is not None}).encode())
    claims_b64 = b64(json.dumps({k: v for k, v in claims.items() if v is not None}).encode())
    signing_input = f"{header_b64}.{claims_b64}"
    signature = (sign_with or holder).sign(signing_input.encode())
    return f"{signing_input}.{b64(signature)}"


def sd_jwt_kb(holder: Key, jwt: str, disclosures: Collection[str], **kb: Any) -> str:
    """``<jwt>~<d1>~...~<dn>~<kb-jwt>``: the SD-JWT+KB (RFC 9901 §4) of ``jwt`` and
    ``disclosures``, with a KB-JWT over exactly them (``kb`` as for :func:`kb_jwt`)."""
    signed_part = sd_jwt(jwt, disclosures)
    return signed_part + kb_jwt(holder, signed_part, **kb)


def present(
    compact: str, holder: Key, names: Collection[str], *, key_binding: bool = True, **kb: Any
) -> str:
    """The SD-JWT+KB a wallet sends: the chosen Disclosures and a KB-JWT over them."""
    jwt, _ = split(compact)
    chosen = select(compact, names)
    return sd_jwt_kb(holder, jwt, chosen, **kb) if key_binding else sd_jwt(jwt, chosen)


#: The claims a typical presentation discloses: given name, city, "over 18".
SHOWN = ("given_name", "address", "locality", "age_equal_or_over", "18")


@dataclass
class FakeStatusLists:
    """Stands in for ``StatusListCache``: a status per (uri, idx), 0 unless set."""

    statuses: dict[tuple[str, int], int] = field(default_factory=dict)
    asked: list[tuple[str, int]] = field(default_factory=list)

    @classmethod
    def credential_at(cls, value: int) -> FakeStatusLists:
        """The credential's entry (:data:`STATUS_URI`, :data:`STATUS_IDX`) at ``value``."""
        return cls({(STATUS_URI, STATUS_IDX): value})

    def status(self, uri: str, idx: int) -> int:
        self.asked.append((uri, idx))
        return self.statuses.get((uri, idx), 0)


def presentation_verifier(
    *issuer_keys: Key, clock: float = NOW, statuses: FakeStatusLists | None = None, **options: Any
) -> TokenVerifier:
    verifier = TokenVerifier(
        issuer=ISSUER,
        audience="not-used-for-presentations",
        jwks={"keys": [k.jwk for k in issuer_keys]},
        clock=lambda: clock,
        **options,
    )
    verifier.status_lists = statuses if statuses is not None else FakeStatusLists()
    return verifier


def refused(verifier: TokenVerifier, presentation: str, reason: Reason, **kw: Any) -> None:
    """``verifier.verify_presentation`` refuses ``presentation`` with ``reason``; ``kw`` are
    its arguments (``audience`` :data:`AUDIENCE` and ``nonce`` :data:`NONCE` unless given)."""
    kw.setdefault("audience", AUDIENCE)
    kw.setdefault("nonce", NONCE)
    with pytest.raises(InvalidToken) as caught:
        verifier.verify_presentation(presentation, **kw)
    assert caught.value.reason is reason, caught.value
