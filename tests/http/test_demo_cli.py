"""``jati demo`` (issue 15), without a browser: its data is created once and its printed
credentials work; it is refused in production and off loopback; it serves Jati and the
example app and stops both on SIGTERM. ``tests/browser/test_demo.py`` signs in through it."""

from __future__ import annotations

import signal
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from consent.notices import NoticeContent
from consent.storage.ledger import ConsentNotice, ConsentPurpose
from identity.citizens.nik import check_birthdate, parse_nik
from identity.citizens.passwords import PasswordService
from identity.keys.master_key import decode_master_key
from identity.oidc.claims_release import CLAIM_FIELDS
from identity.oidc.client_metadata import parse_scopes
from identity.oidc.client_registry import ClientRegistry
from identity.oidc.clients import claims_for_scopes
from identity.service.demo import (
    DEMO_BIRTHDATE,
    DEMO_EMAIL,
    DEMO_NAME,
    DEMO_NIK,
    DEMO_PASSWORD,
    DEMO_SCOPE,
    DemoRefused,
    demo_client_id,
    demo_client_secret,
    demo_notice,
    demo_purpose,
)
from identity.service.factories import build_audit_log, build_citizen_service
from identity.service.settings import Settings
from identity.storage.citizens import IdentityCitizen
from identity.storage.clients import IdentityClient, SqlClientStore
from identity.storage.database import Database
from tests.conftest import TEST_MASTER_KEY
from tests.helpers import (
    clean_env,
    demo_printed,
    http_get,
    row_counts,
    run_jati,
    running_demo,
)
from tests.personal_data import seeded

seeded(DEMO_NIK, DEMO_NAME, DEMO_EMAIL)


def _row_counts(database_url: str) -> dict[str, int]:
    database = Database(database_url, pool_size=1)
    try:
        return row_counts(database)
    finally:
        database.dispose()


# ---------------------------------------------------------------- the demo's values


def test_the_demo_nik_is_valid_and_encodes_the_birth_date() -> None:
    info = parse_nik(DEMO_NIK, today=datetime.now(UTC).date())
    check_birthdate(info, DEMO_BIRTHDATE)
    assert info.birth_date == DEMO_BIRTHDATE and info.sex == "F"


def test_the_purpose_covers_every_claim_the_app_may_receive() -> None:
    claims = claims_for_scopes(parse_scopes(DEMO_SCOPE))
    released = {CLAIM_FIELDS[c] for c in claims if c in CLAIM_FIELDS}
    purpose = demo_purpose("jati-demo-8001")
    assert released == {"name", "birthdate", "email"} and purpose.covers(released)
    assert purpose.needs_consent


def test_the_notice_has_the_art_21_items_in_both_languages() -> None:
    notice = demo_notice()
    assert NoticeContent.from_json(notice.to_json()) == notice
    assert all(text.id and text.en for text in notice.items.values())
    assert isinstance(notice.to_json()["controller"], str)


def test_client_ids_name_the_example_origin_and_secrets_are_derived() -> None:
    assert demo_client_id("127.0.0.1", 8001) == "jati-demo-8001"
    assert demo_client_id("0.0.0.0", 8001) == "jati-demo-8001"
    assert demo_client_id("localhost", 9001) == "jati-demo-localhost-9001"
    assert demo_client_id("::1", 8001) == "jati-demo-ipv6-8001"
    with pytest.raises(DemoRefused, match="loopback"):
        demo_client_id("192.0.2.10", 8001)
    key = decode_master_key(TEST_MASTER_KEY)
    secret = demo_client_secret(key, "jati-demo-8001")
    assert secret == demo_client_secret(key, "jati-demo-8001") and len(secret) == 43
    assert secret != demo_client_secret(key, "jati-demo-9001")
    assert secret != demo_client_secret(bytes(reversed(key)), "jati-demo-8001")


# ---------------------------------------------------------------- the command


def test_setup_twice_creates_one_app_one_citizen_and_prints_the_same(
    tmp_path: Path, database_url: str
) -> None:
    env = clean_env(JATI_DATABASE_URL=database_url, JATI_PASSWORD_PROFILE="test-only-cheapest")
    ports = ("--port", "18000", "--app-port", "18001")
    first = run_jati("demo", "--setup-only", *ports, cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    rows = _row_counts(database_url)
    second = run_jati("demo", "--setup-only", *ports, cwd=tmp_path, env=env)
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    assert _row_counts(database_url) == rows  # nothing added, not even an audit entry
    printed = demo_printed(first.stdout)
    assert printed["NIK"] == DEMO_NIK and printed["password"] == DEMO_PASSWORD
    assert printed["client_id"] == "jati-demo-18001"
    assert printed["example app"] == "http://127.0.0.1:18001"
    assert printed["who used my data"] == "http://127.0.0.1:18000/account#access-log"
    assert printed["redirect_uri"] == "http://127.0.0.1:18001/callback"
    assert "GENERATED" in first.stderr  # ./jati-data with its key, as `jati serve` makes it
    assert (tmp_path / "jati-data" / "master.key").stat().st_mode & 0o777 == 0o600
    for value in (DEMO_NIK, DEMO_PASSWORD, printed["client_secret"]):
        assert value not in first.stderr + second.stderr  # printed on stdout, never logged

    settings = Settings(
        data_dir=tmp_path / "jati-data",
        database_url=database_url,
        password_profile="test-only-cheapest",
    )
    master_key, _ = settings.load_master_key(create=False)
    database = Database(database_url, pool_size=1)
    try:
        with database.read() as session:
            assert session.scalar(select(func.count()).select_from(IdentityClient)) == 1
            assert session.scalar(select(func.count()).select_from(IdentityCitizen)) == 1
            assert session.scalar(select(func.count()).select_from(ConsentPurpose)) == 1
            assert session.scalar(select(func.count()).select_from(ConsentNotice)) == 1
        # the printed credentials are the ones Jati checks
        passwords = PasswordService(profile="test-only-cheapest")
        registry = ClientRegistry(
            store=SqlClientStore(database=database),
            passwords=passwords,
            clock=lambda: datetime.now(UTC),
        )
        app = registry.authenticate_secret(printed["client_id"], printed["client_secret"])
        assert app.redirect_uris == (printed["redirect_uri"],)
        assert printed["client_secret"] == demo_client_secret(master_key, app.client_id)
        _, pseudonymizer = build_audit_log(settings, database, master_key)
        citizens = build_citizen_service(
            settings, database, master_key, pseudonymizer=pseudonymizer
        )
        login = citizens.authenticate(DEMO_NIK, DEMO_PASSWORD, address="127.0.0.1")
        assert login.citizen_id == citizens.find_by_nik(DEMO_NIK)
    finally:
        database.dispose()


def test_refused_in_production_in_one_line(tmp_path: Path) -> None:
    result = run_jati("demo", cwd=tmp_path, env=clean_env(JATI_ENV="production"))
    assert result.returncode != 0
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("jati: error:")
    assert "development only" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "jati-data").exists()


def test_refused_off_loopback_and_on_one_port(tmp_path: Path) -> None:
    off = run_jati("demo", "--host", "192.0.2.10", cwd=tmp_path, env=clean_env())
    assert off.returncode != 0 and "loopback" in off.stderr and off.stderr.count("\n") == 1
    same = run_jati("demo", "--port", "18000", "--app-port", "18000", cwd=tmp_path)
    assert same.returncode != 0 and "must differ" in same.stderr
    assert not (tmp_path / "jati-data").exists()


@pytest.mark.slow
def test_serves_jati_and_the_example_then_stops_both_on_sigterm(
    tmp_path: Path, database_url: str
) -> None:
    env = clean_env(
        JATI_DATABASE_URL=database_url,
        JATI_MASTER_KEY=TEST_MASTER_KEY,
        JATI_PASSWORD_PROFILE="test-only-cheapest",
    )
    with running_demo(cwd=tmp_path, env=env) as (process, printed, head):
        jati, example = printed["Jati"], printed["example app"]
        _, page = http_get(example + "/")
        assert "Masuk dengan Jati" in page.decode()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    out, err = process.communicate()
    assert DEMO_NIK in head + out and "Traceback" not in err
    for url in (jati + "/healthz", example + "/"):
        with pytest.raises(OSError):
            http_get(url, timeout=0.5)
