"""The API token format."""

from __future__ import annotations

import base64
import hashlib

import pytest

from svidok.auth import tokens
from svidok.errors import AuthenticationFailed, TokenFormatError


def test_generate_and_parse() -> None:
    for _ in range(200):
        made = tokens.generate()
        assert len(made.token_id) == 12 and made.token_id.isalnum()
        assert len(base64.urlsafe_b64decode(made.secret + "=")) == 32
        assert made.text == f"svidok_{made.token_id}_{made.secret}"
        assert tokens.parse(made.text) == made
        assert tokens.parse(f"  {made.text}\n") == made
        assert made.secret not in repr(made)


def test_hash_is_sha256_of_the_secret() -> None:
    made = tokens.generate()
    stored = tokens.hash_secret(made.secret)
    assert stored == hashlib.sha256(made.secret.encode()).hexdigest()
    assert tokens.secret_matches(made.secret, stored)
    assert not tokens.secret_matches(tokens.generate().secret, stored)


def test_secret_may_hold_underscores() -> None:
    text = "svidok_abcdefghijkl_" + "_" * 42 + "A"
    parsed = tokens.parse(text)
    assert parsed.token_id == "abcdefghijkl" and parsed.secret == "_" * 42 + "A"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "svidok_",
        "Bearer xyz",
        "svidok_ABCDEFGHIJKL_" + "A" * 43,  # id is lower case
        "svidok_abcdefghijk_" + "A" * 43,  # id too short
        "svidok_abcdefghijkl_" + "A" * 42,  # secret too short
        "svidok_abcdefghijkl_" + "A" * 44,  # secret too long
        "svidok_abcdefghijkl_" + "A" * 42 + "B",  # not 32 bytes exactly
        "svidok_abcdefghijkl_" + "A" * 42 + "=",
        "svidok-abcdefghijkl-" + "A" * 43,
        "ghp_" + "A" * 36,
    ],
)
def test_malformed(bad: str) -> None:
    with pytest.raises(TokenFormatError) as info:
        tokens.parse(bad)
    assert isinstance(info.value, AuthenticationFailed)
    assert "svidok_ followed by" in str(info.value)
    if len(bad) > 8:
        assert bad not in str(info.value)
