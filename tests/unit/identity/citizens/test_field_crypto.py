"""Personal fields sealed per citizen; data keys wrapped; crypto-shredding; blind index."""

from __future__ import annotations

import pytest

from identity.citizens.field_crypto import FieldCipher, new_data_key
from identity.errors import UnreadableField

MASTER = bytes(range(32))
NIK = "3171011708450001"


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher(MASTER)


def test_fields_round_trip_and_hide_the_plaintext(cipher: FieldCipher) -> None:
    key = new_data_key()
    sealed = cipher.seal(key, "citizen-1", "nik", NIK)
    assert NIK.encode() not in sealed
    assert cipher.open(key, "citizen-1", "nik", sealed) == NIK
    assert cipher.seal(key, "citizen-1", "nik", NIK) != sealed  # fresh nonce each time


def test_fields_sealed_together_open_alone_each_bound_to_its_field(cipher: FieldCipher) -> None:
    key = new_data_key()
    values = {"nik": NIK, "name": "Siti Rahayu", "email": "siti@example.go.id"}
    sealed = cipher.seal_fields(key, "citizen-1", values)
    assert {f: cipher.open(key, "citizen-1", f, v) for f, v in sealed.items()} == values
    assert len({v[1:13] for v in sealed.values()}) == 3  # a nonce of its own each
    with pytest.raises(UnreadableField):
        cipher.open(key, "citizen-1", "name", sealed["nik"])
    with pytest.raises(ValueError, match="NUL"):
        cipher.seal_fields(key, "citizen-1", {"ni\x00k": NIK})


@pytest.mark.parametrize(
    ("subject", "field"), [("citizen-2", "nik"), ("citizen-1", "name"), ("citizen-1", "nik\x01")]
)
def test_a_value_moved_to_another_citizen_or_field_does_not_open(
    cipher: FieldCipher, subject: str, field: str
) -> None:
    key = new_data_key()
    sealed = cipher.seal(key, "citizen-1", "nik", NIK)
    with pytest.raises(UnreadableField):
        cipher.open(key, subject, field, sealed)


def test_a_flipped_bit_does_not_open(cipher: FieldCipher) -> None:
    key = new_data_key()
    sealed = bytearray(cipher.seal(key, "citizen-1", "name", "Siti Rahayu"))
    for position in (0, 5, len(sealed) - 1):
        tampered = bytearray(sealed)
        tampered[position] ^= 0x01
        with pytest.raises(UnreadableField):
            cipher.open(key, "citizen-1", "name", bytes(tampered))


def test_data_keys_are_wrapped_per_citizen(cipher: FieldCipher) -> None:
    key = new_data_key()
    wrapped = cipher.wrap_data_key("citizen-1", key)
    assert key not in wrapped
    assert cipher.unwrap_data_key("citizen-1", wrapped) == key
    with pytest.raises(UnreadableField):
        cipher.unwrap_data_key("citizen-2", wrapped)
    with pytest.raises(UnreadableField):
        FieldCipher(bytes(32)).unwrap_data_key("citizen-1", wrapped)  # another master key


def test_shredding_the_data_key_makes_every_field_unreadable(cipher: FieldCipher) -> None:
    key = new_data_key()
    sealed = cipher.seal(key, "citizen-1", "email", "siti@example.go.id")
    del key  # erasure deletes the wrapped key; any other key fails
    with pytest.raises(UnreadableField):
        cipher.open(new_data_key(), "citizen-1", "email", sealed)


def test_nik_blind_index_is_keyed_stable_and_not_a_plain_hash(cipher: FieldCipher) -> None:
    import hashlib

    index = cipher.nik_index(NIK)
    assert index == FieldCipher(MASTER).nik_index(NIK)
    assert index != FieldCipher(bytes(32)).nik_index(NIK)
    assert index != hashlib.sha256(NIK.encode()).digest()
    assert cipher.nik_index("3171015708450001") != index
    assert repr(cipher) == "FieldCipher(<keys hidden>)"
