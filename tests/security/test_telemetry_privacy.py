"""No request path or query reaches OpenTelemetry: FastAPI's native telemetry records raw
``url.path`` and ``url.query`` in its spans as soon as a tracer provider is configured in the
process (as ``opentelemetry-instrument`` does), and an authorization request may carry a NIK
as ``login_hint``."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry import trace

from tests.oidc_helpers import OidcWorld
from tests.personal_data import SAMPLE


class RecordingTracer(trace.Tracer):
    def __init__(self, spans: list[dict[str, Any]]) -> None:
        self.spans = spans

    def start_span(self, name: str, *args: Any, **kwargs: Any) -> trace.Span:
        self.spans.append({"name": name, **dict(kwargs.get("attributes") or {})})
        return trace.NonRecordingSpan(trace.INVALID_SPAN_CONTEXT)

    def start_as_current_span(self, name: str, *args: Any, **kwargs: Any) -> Any:
        self.spans.append({"name": name, **dict(kwargs.get("attributes") or {})})
        return trace.use_span(trace.NonRecordingSpan(trace.INVALID_SPAN_CONTEXT))


class RecordingProvider(trace.TracerProvider):
    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        return RecordingTracer(self.spans)


def test_a_configured_tracer_provider_records_no_request_of_jati(
    world: OidcWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = RecordingProvider()
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    # The control: a bare FastAPI app under the same provider records the request, so the
    # provider is really the one consulted and an empty record below means something.
    bare = FastAPI()

    @bare.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    with TestClient(bare) as client:
        assert client.get("/ping", params={"login_hint": "x"}).status_code == 200
    assert provider.spans, "the configured tracer provider was not consulted"
    provider.spans.clear()

    rp = world.register_app()
    response = world.authorize(rp, login_hint=SAMPLE["nik"])
    assert response.status_code in (302, 303)
    assert world.client.get("/healthz").status_code == 200
    assert provider.spans == []
