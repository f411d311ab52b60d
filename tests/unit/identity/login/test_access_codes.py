"""The access-code format shared by activation and recovery codes: 80 random bits in
Crockford's base32, shown in four groups of four, read back forgivingly (lower case, spaces,
O for 0, I and L for 1) and stored only as a SHA-256."""

from __future__ import annotations

import hashlib
import re
from collections import Counter

import pytest

from identity.errors import InvalidInput, MalformedAccessCode
from identity.login.access_codes import (
    ALPHABET,
    CODE_BITS,
    CODE_LENGTH,
    code_hash,
    format_code,
    new_code,
    normalize,
)

SHOWN = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}")


def test_the_alphabet_is_crockfords_and_a_code_carries_80_bits() -> None:
    assert len(ALPHABET) == len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)
    assert CODE_LENGTH == 16
    assert CODE_BITS == 80 >= 64  # NIST SP 800-63B §5.1.2.1: at least 64 bits, unthrottled


def test_new_codes_are_16_symbols_of_the_alphabet_and_differ() -> None:
    codes = [new_code() for _ in range(2000)]
    assert all(len(code) == CODE_LENGTH and set(code) <= set(ALPHABET) for code in codes)
    assert len(set(codes)) == len(codes)
    symbols = Counter("".join(codes))
    assert set(symbols) == set(ALPHABET)  # every symbol drawn (32 000 draws)
    assert max(symbols.values()) < 2 * min(symbols.values())  # roughly uniform


def test_a_code_is_one_80_bit_draw_cut_into_16_symbols(monkeypatch: pytest.MonkeyPatch) -> None:
    draws: list[int] = []
    bits = sum(n << (5 * n) for n in range(16))  # symbol n holds the value n

    def token_bytes(count: int) -> bytes:
        draws.append(count)
        return bits.to_bytes(count)

    monkeypatch.setattr("identity.login.access_codes.secrets.token_bytes", token_bytes)
    assert new_code() == ALPHABET[:16] and draws == [10]  # one draw of exactly 80 bits
    bits = (1 << 80) - 1
    assert new_code() == "Z" * 16


def test_a_code_is_shown_as_four_groups_of_four() -> None:
    code = new_code()
    shown = format_code(code)
    assert SHOWN.fullmatch(shown)
    assert shown.replace("-", "") == code
    assert format_code(shown) == shown


@pytest.mark.parametrize(
    "typed",
    [
        "5WZ8-R2NB-HQ4C-09TY",
        "5wz8-r2nb-hq4c-09ty",
        "5WZ8 R2NB HQ4C 09TY",
        " 5wz8r2nbhq4c09ty ",
        "5WZ8\tR2NB-HQ4C  09TY",
        "5-W-Z-8-R-2-N-B-H-Q-4-C-0-9-T-Y",
    ],
)
def test_typing_variants_read_as_the_same_code(typed: str) -> None:
    assert normalize(typed) == "5WZ8R2NBHQ4C09TY"
    assert code_hash(typed) == code_hash("5WZ8-R2NB-HQ4C-09TY")


def test_letters_mistaken_for_digits_are_read_as_the_digits() -> None:
    assert normalize("1O0o-IiLl-1111-0000") == "1000111111110000"
    assert code_hash("AB0C-1DEF-GH1J-K0MN") == code_hash("abOc-iDEF-ghlj-kOmn")


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "5WZ8-R2NB-HQ4C-09T",  # 15 symbols
        "5WZ8-R2NB-HQ4C-09TYY",  # 17
        "5WZ8-R2NB-HQ4C-09TU",  # U is not a symbol
        "5WZ8-R2NB-HQ4C-09T!",
        "5WZ8_R2NB_HQ4C_09TY",
        "5WZ8-R2NB-HQ4C-09Tı",  # dotless i: upper case is I, but it is not ASCII
        "５WZ8-R2NB-HQ4C-09TY",  # a full-width digit
        "5" + " " * 70 + "WZ8R2NBHQ4C09TY",  # too long to be typed
    ],
)
def test_anything_else_is_refused_with_a_typed_error_that_does_not_echo_it(typed: str) -> None:
    with pytest.raises(MalformedAccessCode) as caught:
        normalize(typed)
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.code == "malformed_access_code"
    assert "R2NB" not in str(caught.value)
    with pytest.raises(MalformedAccessCode):
        code_hash(typed)


def test_the_stored_hash_is_the_sha256_of_the_normalized_code_not_the_code() -> None:
    code = new_code()
    hashed = code_hash(format_code(code).lower())
    assert hashed == hashlib.sha256(code.encode("ascii")).hexdigest()
    assert len(hashed) == 64
    assert code not in hashed.upper()
    assert code_hash(new_code()) != hashed
