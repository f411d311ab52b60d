"""argon2id passwords: named RFC 9106 profiles, rehash on parameter change, unknown accounts."""

from __future__ import annotations

import asyncio
import base64

import pytest
from argon2 import PasswordHasher

from identity.citizens.passwords import TEST_PROFILE, PasswordService
from identity.errors import ConfigurationError


@pytest.fixture
def service() -> PasswordService:
    return PasswordService(profile=TEST_PROFILE)


def test_hash_is_argon2id_and_verifies(service: PasswordService) -> None:
    stored = service.hash("correct horse battery staple")
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored
    assert service.verify(stored, "correct horse battery staple").ok
    assert not service.verify(stored, "Correct horse battery staple").ok


def test_unknown_accounts_fail_like_wrong_passwords(service: PasswordService) -> None:
    assert service.verify(None, "anything") == service.verify(service.hash("x"), "anything")


def test_a_hash_made_with_other_parameters_is_replaced_on_login(service: PasswordService) -> None:
    old = PasswordHasher(time_cost=1, memory_cost=16, parallelism=1).hash("pw")
    result = service.verify(old, "pw")
    assert result.ok and result.new_hash is not None
    assert service.verify(result.new_hash, "pw").new_hash is None


def test_default_profile_is_rfc9106_low_memory() -> None:
    """RFC 9106 §4, the second recommended option: argon2id, t=3, p=4, m=2^16 KiB, a
    128-bit salt and a 256-bit tag. Read from the hash Jati stores, whatever the library's
    named profiles hold."""
    stored = PasswordService().hash("correct horse battery staple")
    _, variant, version, parameters, salt, tag = stored.split("$")
    assert (variant, version) == ("argon2id", "v=19")
    assert parameters == f"m={2**16},t=3,p=4"
    assert len(b64(salt)) == 16 and len(b64(tag)) == 32


def b64(text: str) -> bytes:
    """The PHC string's base64: standard alphabet, no padding."""
    return base64.b64decode(text + "=" * (-len(text) % 4))


def test_profiles_are_an_allow_list_and_the_test_profile_is_refused_in_production() -> None:
    with pytest.raises(ConfigurationError):
        PasswordService(profile="md5")
    with pytest.raises(ConfigurationError):
        PasswordService(profile=TEST_PROFILE, production=True)


def test_bad_passwords(service: PasswordService) -> None:
    with pytest.raises(ValueError):
        service.hash("")
    with pytest.raises(ValueError):
        service.hash("x" * 2000)
    assert not service.verify(service.hash("x"), "x" * 2000).ok


def test_verification_runs_off_the_event_loop(service: PasswordService) -> None:
    stored = service.hash("pw")

    async def main() -> bool:
        results = await asyncio.gather(*(service.verify_async(stored, "pw") for _ in range(4)))
        return all(r.ok for r in results)

    assert asyncio.run(main())
