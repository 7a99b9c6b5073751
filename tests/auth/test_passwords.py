"""Argon2id hashing and the password policy."""

from __future__ import annotations

import argon2
import pytest

from svidok.auth import passwords
from svidok.errors import PasswordPolicyError

GOOD = "correct horse battery staple"


def test_hash_is_argon2id_with_the_documented_parameters() -> None:
    hashed = passwords.hash_password(GOOD)
    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    params = argon2.extract_parameters(hashed)
    assert params.type is argon2.Type.ID
    assert (params.time_cost, params.memory_cost, params.parallelism) == (3, 65536, 4)
    assert (params.hash_len, params.salt_len) == (32, 16)
    assert params == argon2.profiles.RFC_9106_LOW_MEMORY
    assert GOOD not in hashed


def test_salted() -> None:
    assert passwords.hash_password(GOOD) != passwords.hash_password(GOOD)


def test_verify() -> None:
    hashed = passwords.hash_password(GOOD)
    assert passwords.verify_password(hashed, GOOD)
    assert not passwords.verify_password(hashed, GOOD + "!")
    assert not passwords.verify_password(hashed, "")
    assert not passwords.needs_rehash(hashed)


@pytest.mark.parametrize(
    "bad_hash",
    [
        "",
        "not a hash",
        "$argon2id$v=19$m=65536,t=3,p=4$",
        "$argon2id$v=19$m=65536,t=3,p=4$!!!!$????",
        "$2b$12$abcdefghijklmnopqrstuu5TgJLrpM7i0nW3lEF9b7XfPZrT6wNFm",
    ],
)
def test_malformed_hash_is_no_match_and_needs_rehash(bad_hash: str) -> None:
    assert passwords.verify_password(bad_hash, GOOD) is False
    assert passwords.needs_rehash(bad_hash) is True


def test_weaker_hash_still_verifies_but_needs_rehash() -> None:
    weak = argon2.PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(GOOD)
    assert passwords.verify_password(weak, GOOD)
    assert passwords.needs_rehash(weak)
    argon2i = argon2.PasswordHasher(type=argon2.Type.I).hash(GOOD)
    assert passwords.needs_rehash(argon2i)


def test_unicode_is_normalised() -> None:
    hashed = passwords.hash_password("ﬁnest Київ пароль")  # U+FB01 ligature
    assert passwords.verify_password(hashed, "finest Київ пароль")
    decomposed = "Ки\u0456\u0308в-пароль-довгий"  # і + combining diaeresis = ї
    assert passwords.verify_password(passwords.hash_password(decomposed), "Київ-пароль-довгий")


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "at least 12"),
        ("elevenchars", "at least 12"),
        ("a" * 12, "single character"),
        ("ж" * 40, "single character"),
        ("x" * 1025, "at most 1024"),
    ],
)
def test_policy(password: str, reason: str) -> None:
    with pytest.raises(PasswordPolicyError, match=reason) as info:
        passwords.hash_password(password)
    assert password not in str(info.value)


def test_policy_limits_are_inclusive() -> None:
    passwords.check_policy("abcdefghijkl")
    passwords.check_policy("ab" * 512)


def test_overlong_password_never_verifies() -> None:
    hashed = passwords.hash_password(GOOD)
    assert not passwords.verify_password(hashed, GOOD + "x" * 2000)
