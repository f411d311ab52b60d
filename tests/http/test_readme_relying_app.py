"""The README's FastAPI relying app, run as printed, against an issuer serving discovery and
a JWKS over HTTP: a user copying it gets an app that accepts good tokens and refuses others."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.token_helpers import FakeIssuer, Key, access_claims, forge

README = Path(__file__).resolve().parents[2] / "README.md"
AUDIENCE = "layanan-kependudukan"


def _example() -> str:
    text = README.read_text()
    match = re.search(r"<!-- relying-app-example -->\n```python\n(.*?)```", text, re.S)
    assert match, "the README lost its relying-app example"
    return match.group(1)


def test_readme_relying_app_accepts_jati_tokens_and_refuses_others() -> None:
    key = Key.new("EdDSA")
    fake = FakeIssuer()
    fake.keys = [key.jwk]
    with fake.running() as base:
        code = _example().replace("https://id.jakarta.go.id", base)
        namespace: dict[str, Any] = {"__name__": "readme_example"}
        exec(compile(code, "README.md", "exec"), namespace)
        client = TestClient(namespace["app"])

        def call(token: str | None) -> Any:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            return client.get("/permohonan", headers=headers)

        import time

        now = int(time.time())
        claims = access_claims(iss=base, aud=AUDIENCE, iat=now, exp=now + 600)
        good = call(forge(key, claims=claims))
        assert good.status_code == 200 and good.json()["citizen"] == "pairwise-subject"

        assert call(None).status_code == 401
        other_app = call(forge(key, claims={**claims, "aud": "another-app"}))
        assert other_app.status_code == 401
        assert other_app.headers["www-authenticate"] == 'Bearer error="invalid_token"'
        expired = call(forge(key, claims={**claims, "exp": now - 120, "iat": now - 720}))
        assert expired.status_code == 401
        no_scope = call(forge(key, claims={**claims, "scope": "openid"}))
        assert no_scope.status_code == 403
        assert fake.requests.count("/jwks.json") == 1  # cached across requests
