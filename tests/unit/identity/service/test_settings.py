"""Settings and the production refusals (issue: foundation)."""

from __future__ import annotations

from pathlib import Path

import pytest

from identity.errors import ConfigurationError
from identity.keys.master_key import decode_master_key, generate_master_key, load_master_key
from identity.service.settings import Settings

STRONG = generate_master_key()


def production(**values: object) -> Settings:
    base: dict[str, object] = {
        "env": "production",
        "master_key": STRONG,
        "issuer": "https://id.example.go.id",
        "database_url": "postgresql+psycopg://jati@db/jati",
    }
    base.update(values)
    return Settings(**base)  # type: ignore[arg-type]


def test_development_defaults_need_no_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("JATI_ENV", "JATI_DATABASE_URL", "JATI_MASTER_KEY", "JATI_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.env == "development"
    assert settings.resolved_database_url.startswith("sqlite:///")
    assert settings.resolved_database_url.endswith("jati-data/jati.db")
    settings.check_production()  # development: nothing refused


def test_settings_come_from_jati_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JATI_LOG_LEVEL", "debug")
    monkeypatch.setenv("JATI_ISSUER", "https://id.example.go.id/")
    settings = Settings()
    assert settings.log_level == "DEBUG"
    assert settings.issuer == "https://id.example.go.id"


def test_complete_production_settings_are_accepted() -> None:
    production().check_production()


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        ({"master_key": None}, "JATI_MASTER_KEY is not set"),
        ({"master_key": "changeme"}, "placeholder"),
        ({"master_key": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, "placeholder"),
        ({"master_key": "c2hvcnQ"}, "placeholder"),
        ({"issuer": None}, "JATI_ISSUER is not set"),
        ({"issuer": "http://id.example.go.id"}, "must be an https URL"),
        ({"issuer": "https://id.example.go.id?x=1"}, "query or fragment"),
        ({"database_url": None}, "JATI_DATABASE_URL is not set"),
    ],
)
def test_production_refuses_unsafe_settings(values: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        production(**values).check_production()
    assert any(needle in problem for problem in caught.value.problems)
    assert len(caught.value.problems) == 1


def test_production_lists_every_problem_at_once() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings(env="production").check_production()
    text = str(caught.value)
    for name in ("JATI_MASTER_KEY", "JATI_ISSUER", "JATI_DATABASE_URL"):
        assert name in text


def test_generated_master_key_file_is_private_and_stable(tmp_path: Path) -> None:
    key, generated = load_master_key(configured=None, data_dir=tmp_path / "d")
    assert generated and len(key) == 32
    path = tmp_path / "d" / "master.key"
    assert path.stat().st_mode & 0o777 == 0o600
    again, _ = load_master_key(configured=None, data_dir=tmp_path / "d")
    assert again == key


def test_master_key_must_be_32_bytes_of_base64url() -> None:
    assert len(decode_master_key(STRONG)) == 32
    for bad in ("", "not base64!", "c2hvcnQ"):
        with pytest.raises(ValueError):
            decode_master_key(bad)


def test_no_proxy_is_trusted_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JATI_FORWARDED_ALLOW_IPS", raising=False)
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")  # uvicorn's variable is not Jati's
    assert Settings().forwarded_allow_ips is None


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("127.0.0.1", "127.0.0.1"),
        (" 10.0.0.0/8 , ::1 ", "10.0.0.0/8,::1"),
        ("*", "*"),
        ("", None),
        (" , ", None),
    ],
)
def test_trusted_proxies_are_addresses_or_networks(
    monkeypatch: pytest.MonkeyPatch, given: str, kept: str | None
) -> None:
    monkeypatch.setenv("JATI_FORWARDED_ALLOW_IPS", given)
    assert Settings().forwarded_allow_ips == kept


@pytest.mark.parametrize("given", ["localhost", "10.0.0.5/8", "*,10.0.0.1", "300.1.1.1"])
def test_a_trusted_proxy_that_is_not_an_address_is_refused(given: str) -> None:
    """uvicorn would compare such an entry as text and silently trust nothing (or the wrong
    peer); a network with host bits set is refused rather than widened."""
    with pytest.raises(ValueError, match="not an IP address or network"):
        Settings(forwarded_allow_ips=given)
