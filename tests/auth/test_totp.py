"""RFC 6238 TOTP: the RFC's own test vectors, windows, replay and provisioning URIs."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from svidok.auth import totp
from svidok.errors import TotpError

# RFC 6238 Appendix B, SHA-1 column: the seed is the 20 ASCII bytes "1234567890" twice.
RFC_SEED = base64.b32encode(b"12345678901234567890").decode()
RFC_VECTORS = [
    (59, 0x0000001, "94287082"),
    (1111111109, 0x23523EC, "07081804"),
    (1111111111, 0x23523ED, "14050471"),
    (1234567890, 0x273EF07, "89005924"),
    (2000000000, 0x3F940AA, "69279037"),
    (20000000000, 0x27BC86AA, "65353130"),
]


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@pytest.mark.parametrize(("seconds", "step", "code"), RFC_VECTORS)
def test_rfc6238_appendix_b(seconds: int, step: int, code: str) -> None:
    assert totp.step_at(_at(seconds)) == step
    assert totp.code_at(RFC_SEED, _at(seconds), digits=8) == code
    # six digits are the low six of the same truncated value
    assert totp.code_at(RFC_SEED, _at(seconds)) == code[-6:]
    assert totp.verify(RFC_SEED, code[-6:], now=_at(seconds), last_step=None) == step


def test_new_secret_is_160_bits_base32() -> None:
    secret = totp.new_secret()
    assert len(secret) == 32 and "=" not in secret
    assert len(base64.b32decode(secret)) == 20
    assert secret != totp.new_secret()


def test_window_is_one_step_each_side() -> None:
    now = _at(1_700_000_000)
    step = totp.step_at(now)
    for delta in (-1, 0, 1):
        code = totp.code_for_step(RFC_SEED, step + delta)
        assert totp.verify(RFC_SEED, code, now=now, last_step=None) == step + delta
    for delta in (-2, 2, 10):
        code = totp.code_for_step(RFC_SEED, step + delta)
        if code not in {totp.code_for_step(RFC_SEED, step + d) for d in (-1, 0, 1)}:
            assert totp.verify(RFC_SEED, code, now=now, last_step=None) is None


def test_replay_refused() -> None:
    now = _at(1_700_000_000)
    step = totp.step_at(now)
    code = totp.code_at(RFC_SEED, now)
    assert totp.verify(RFC_SEED, code, now=now, last_step=step - 1) == step
    assert totp.verify(RFC_SEED, code, now=now, last_step=step) is None
    assert totp.verify(RFC_SEED, code, now=now + timedelta(seconds=30), last_step=step) is None
    earlier = totp.code_for_step(RFC_SEED, step - 1)
    assert totp.verify(RFC_SEED, earlier, now=now, last_step=step) is None
    later = totp.code_for_step(RFC_SEED, step + 1)
    assert totp.verify(RFC_SEED, later, now=now, last_step=step) == step + 1


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "１２３４５６", "12 34 5"])
def test_malformed_codes_do_not_match(code: str) -> None:
    assert totp.verify(RFC_SEED, code, now=_at(59), last_step=None) is None


def test_spaces_in_a_code_are_ignored() -> None:
    code = totp.code_at(RFC_SEED, _at(59))
    assert totp.verify(RFC_SEED, f"{code[:3]} {code[3:]}", now=_at(59), last_step=None) == 1


def test_naive_time_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        totp.step_at(datetime(2026, 1, 1))


def test_bad_secret() -> None:
    with pytest.raises(TotpError):
        totp.code_at("not base32!", _at(59))
    with pytest.raises(TotpError, match="128 bits"):
        totp.code_at(base64.b32encode(b"short").decode(), _at(59))


def test_provisioning_uri() -> None:
    secret = totp.new_secret()
    uri = totp.provisioning_uri(secret, account="olena.k", issuer="Svidok Kyiv")
    parts = urlsplit(uri)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert parts.path == "/Svidok%20Kyiv:olena.k"
    query = parse_qs(parts.query)
    assert query["secret"] == [secret]
    assert query["issuer"] == ["Svidok Kyiv"]
    assert query["algorithm"] == ["SHA1"]
    assert query["digits"] == ["6"]
    assert query["period"] == ["30"]
