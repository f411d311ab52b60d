"""The bare FastAPI baseline of the OIDC benchmarks, served like Jati (uvicorn, 2 workers,
TCP_NODELAY on accepted sockets): ``GET /bare`` answers a small JSON object; ``POST /sign``
signs a JWT of the same shape as Jati's access tokens (EdDSA, json + base64url by hand),
which is what the refresh grant must at least do.

Run: ``python -m bench.bare_app PORT``.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time

import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from starlette.responses import JSONResponse
from uvicorn.supervisors import Multiprocess

app = FastAPI()
_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
_HEADER = base64.urlsafe_b64encode(b'{"alg":"EdDSA","kid":"bench","typ":"at+jwt"}').rstrip(b"=")


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


@app.get("/bare")
async def bare() -> JSONResponse:
    return JSONResponse({"ok": True})


@app.post("/sign")
async def sign() -> JSONResponse:
    now = int(time.time())
    claims = {
        "iss": "http://127.0.0.1", "sub": "T00MM6feEJwf_F76EgbT1h9Ryw9Bj_zJ2VZpq2IZhr8",
        "aud": "layanan", "exp": now + 600, "iat": now, "jti": _b64(os.urandom(16)).decode(),
        "client_id": "layanan", "scope": "openid profile",
    }  # fmt: skip
    signing_input = _HEADER + b"." + _b64(json.dumps(claims, separators=(",", ":")).encode())
    token = (signing_input + b"." + _b64(_KEY.sign(signing_input))).decode()
    return JSONResponse(
        {"access_token": token, "token_type": "Bearer", "expires_in": 600},
        headers={"Cache-Control": "no-store"},
    )


def main() -> None:
    config = uvicorn.Config(
        "bench.bare_app:app", port=int(sys.argv[1]), workers=2, log_level="warning"
    )
    Multiprocess(config, sockets=[config.bind_socket()]).run()


if __name__ == "__main__":
    main()
