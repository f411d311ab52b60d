"""The signing algorithms are declared once (identity/keys/jws_algorithms.py) and every list that
names them agrees: the setting, the key store, the client registry and the SDK."""

from __future__ import annotations

import typing

from identity.keys import jws_algorithms
from identity.keys.signing_keys import SUPPORTED_ALGORITHMS, generate_private_key, key_matches
from identity.relying_party import keys as sdk_keys
from identity.service.settings import Settings


def test_the_setting_offers_exactly_the_service_algorithms() -> None:
    annotation = Settings.model_fields["token_signing_alg"].annotation
    assert typing.get_args(annotation) == jws_algorithms.SERVICE_ALGORITHMS


def test_rs256_is_for_id_tokens_only_and_has_keys() -> None:
    assert "RS256" not in jws_algorithms.SERVICE_ALGORITHMS
    assert "RS256" in jws_algorithms.ID_TOKEN_ALGORITHMS
    assert set(SUPPORTED_ALGORITHMS) == set(jws_algorithms.ID_TOKEN_ALGORITHMS)


def test_the_sdk_verifies_everything_jati_signs_and_holders_never_use_rsa() -> None:
    assert set(jws_algorithms.SIGNING_ALGORITHMS) <= sdk_keys.SUPPORTED_ALGORITHMS
    assert "RS256" not in sdk_keys.HOLDER_ALGORITHMS
    assert not {"none", "HS256", "PS256", "RS384"} & sdk_keys.SUPPORTED_ALGORITHMS


def test_each_algorithm_gets_a_key_of_its_own_type_and_no_other() -> None:
    made = {alg: generate_private_key(alg) for alg in SUPPORTED_ALGORITHMS}
    for alg in SUPPORTED_ALGORITHMS:
        for other, key in made.items():
            same_type = {alg, other} <= {"EdDSA", "Ed25519"} or alg == other
            assert key_matches(alg, key) is same_type, (alg, other)
