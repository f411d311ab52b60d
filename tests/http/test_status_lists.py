"""``GET /statuslists/{id}`` (draft-ietf-oauth-status-list §8.1, §8.2, §13.7): the media
type, the token's ``typ``/``sub``/``ttl``, HTTP caching with ``ETag``/304, 404 for unknown
lists, and a revocation seen on the very next request, read back through the SDK."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from identity.credentials.status_list_token import Status
from identity.credentials.status_registry import StatusLists, StatusReference
from identity.keys.signing_keys import SUPPORTED_ALGORITHMS
from identity.relying_party import InvalidToken, Reason
from identity.relying_party.key_cache import KeyCache
from identity.relying_party.keys import key_set
from identity.relying_party.status_list import StatusListCache
from identity.service.app import create_app
from identity.service.settings import Settings
from identity.storage.database import Database

ISSUER = "http://testserver"
MEDIA_TYPE = "application/statuslist+jwt"


@pytest.fixture
def make_client(
    make_settings: Callable[..., Settings], database: Database
) -> Callable[..., TestClient]:
    def factory(**settings: Any) -> TestClient:
        app = create_app(
            make_settings(status_list_size=1024, **settings),
            database=database,
            run_background=False,
        )
        app.state.services.key_store.ensure(SUPPORTED_ALGORITHMS, now=datetime.now(UTC))
        return TestClient(app)

    return factory


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


def lists_of(client: TestClient) -> StatusLists:
    lists: StatusLists = client.app.state.services.status_lists  # type: ignore[attr-defined]
    return lists


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    def decode(segment: str) -> dict[str, Any]:
        return dict(json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))))

    header, payload, _ = token.split(".")
    return decode(header), decode(payload)


def sdk_reading(client: TestClient, serve: dict[str, str] | None = None) -> StatusListCache:
    """The relying-party SDK, fetching through the test client and verifying with the
    published JWK Set; ``serve`` maps a URI to the one actually fetched (a swap)."""

    def load(uri: str) -> tuple[str, float | None]:
        path = urlsplit((serve or {}).get(uri, uri)).path
        response = client.get(path, headers={"Accept": MEDIA_TYPE})
        if response.headers["content-type"] != MEDIA_TYPE:
            raise ValueError(f"{response.status_code} {response.headers['content-type']}")
        return response.text, None

    keys = KeyCache(None, keys=key_set(client.get("/jwks.json").json()))
    return StatusListCache(issuer=ISSUER, keys=keys, loader=load)


def path_of(ref: StatusReference) -> str:
    return urlsplit(ref.uri).path


def test_the_list_is_served_as_a_signed_statuslist_jwt(client: TestClient) -> None:
    ref = lists_of(client).allocate()
    assert ref.uri == f"{ISSUER}/statuslists/{ref.list_id}"
    response = client.get(path_of(ref), headers={"Accept": MEDIA_TYPE})
    assert response.status_code == 200
    assert response.headers["content-type"] == MEDIA_TYPE
    header, claims = parts(response.text)
    assert header["typ"] == "statuslist+jwt" and header["alg"] == "EdDSA"
    assert claims["sub"] == ref.uri and claims["iss"] == ISSUER
    assert claims["ttl"] == 300 and claims["exp"] - claims["iat"] == 86_400
    assert claims["status_list"]["bits"] == 2
    assert sdk_reading(client).status(ref.uri, ref.idx) == Status.VALID


def test_caching_headers_and_conditional_requests(client: TestClient) -> None:
    ref = lists_of(client).allocate()
    first = client.get(path_of(ref))
    assert first.headers["cache-control"] == "public, max-age=300"
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    for validator in (etag, "W/" + etag, f'"other", {etag}', "*"):
        again = client.get(path_of(ref), headers={"If-None-Match": validator})
        assert again.status_code == 304, validator
        assert again.content == b""
        assert again.headers["etag"] == etag
        assert again.headers["cache-control"] == "public, max-age=300"
    assert client.get(path_of(ref), headers={"If-None-Match": '"other"'}).status_code == 200


def test_max_age_follows_the_ttl_setting(make_client: Callable[..., TestClient]) -> None:
    client = make_client(status_list_ttl=60)
    ref = lists_of(client).allocate()
    response = client.get(path_of(ref))
    assert response.headers["cache-control"] == "public, max-age=60"
    assert parts(response.text)[1]["ttl"] == 60


def test_a_revocation_is_served_on_the_next_request(client: TestClient) -> None:
    lists = lists_of(client)
    ref = lists.allocate()
    before = client.get(path_of(ref))
    lists.set_status(ref, Status.INVALID)
    after = client.get(path_of(ref), headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200  # the old validator no longer matches
    assert after.headers["etag"] != before.headers["etag"]
    sdk = sdk_reading(client)
    assert sdk.status(ref.uri, ref.idx) == Status.INVALID
    other = lists.allocate()
    lists.set_status(other, Status.SUSPENDED)
    assert sdk_reading(client).status(other.uri, other.idx) == Status.SUSPENDED


@pytest.mark.parametrize(
    "list_id",
    [
        "AAAAAAAAAAAAAAAAAAAAAA",  # well formed, never created
        "1",
        "A" * 23,
        "AAAAAAAAAAAAAAAAAAAA..",
        "%2E%2E%2Fjwks.json",
    ],
)
def test_an_unknown_or_malformed_list_is_a_404_problem(client: TestClient, list_id: str) -> None:
    response = client.get("/statuslists/" + list_id, headers={"Accept": MEDIA_TYPE})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404
    assert response.headers.get("etag") is None


@pytest.mark.parametrize(
    ("accept", "status"),
    [
        ("application/statuslist+cwt", 406),
        ("application/statuslist+jwt;q=0, application/json", 406),
        ("application/statuslist+cwt, application/statuslist+jwt;q=0.5", 200),
        ("*/*", 200),
        ("application/*", 200),
    ],
)
def test_content_negotiation(client: TestClient, accept: str, status: int) -> None:
    ref = lists_of(client).allocate()
    response = client.get(path_of(ref), headers={"Accept": accept})
    assert response.status_code == status
    if status == 406:
        assert response.headers["content-type"] == "application/problem+json"


def test_another_list_served_in_place_of_the_referenced_one_is_refused(
    client: TestClient,
) -> None:
    """Each token names its own URI (``sub``): a cache or a proxy answering with another
    of the issuer's lists (validly signed) does not pass for the one referenced."""
    lists = lists_of(client)
    ref, other = lists.allocate(), lists.allocate()
    lists.set_status(ref, Status.INVALID)
    other_list = lists.allocate() if other.list_id == ref.list_id else other
    while other_list.list_id == ref.list_id:  # a quarter of 1024 entries: a second list
        other_list = lists.allocate()
    sdk = sdk_reading(client, serve={ref.uri: other_list.uri})
    with pytest.raises(InvalidToken) as caught:
        sdk.status(ref.uri, ref.idx)
    assert caught.value.reason is Reason.STATUS_UNAVAILABLE
    assert "sub is not the uri" in str(caught.value)
