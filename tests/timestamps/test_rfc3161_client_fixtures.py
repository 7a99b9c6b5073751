"""rfc3161-client's own test fixtures (vectors_rfc3161_client.py), through both of Svidok's
token checks: the TSA's (svidok.timestamps, on rfc3161-client) that `svidok verify` uses, and
the standalone one shipped in export packages (svidok.export.timestamp_token). Real TSAs'
tokens, made by other software than the OpenSSL TSA of the other tests."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from svidok.config import TsaSetting
from svidok.export import timestamp_token as tt
from svidok.timestamps import Authority, TimestampError
from svidok.timestamps._tsa import parse

from . import vectors_rfc3161_client as v


@dataclass(frozen=True)
class Fixture:
    name: str  # upstream's file under test/fixtures/
    der: bytes
    data: bytes  # what it time-stamps
    pem: bytes  # its TSA's certificates, as upstream's tests give them
    time: dt.datetime  # genTime, as `openssl ts -reply -text` shows it
    serial: int
    digest: str  # SHA-256 of data, the token's message imprint


def _utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


HELLO_SHA256 = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
VALID = [
    Fixture("sigstage/response-sha256.tsr", v.SIGSTAGE_RESPONSE_SHA256, v.SIGSTAGE_DATA,
            v.SIGSTAGE_CHAIN_PEM, _utc(2025, 5, 9, 11, 58, 55),
            0x784B4C5E57AAA63B570F15CBA4DF95251668AE9E, HELLO_SHA256),
    Fixture("sigstage/response-no-embedded-cert.tsr", v.SIGSTAGE_RESPONSE_NO_EMBEDDED_CERT,
            v.SIGSTAGE_DATA, v.SIGSTAGE_CHAIN_PEM, _utc(2025, 6, 18, 8, 13, 2),
            0x64B3984296E790704AC275D89F3F7315C39597F4, HELLO_SHA256),
    # Its serial number is the DER INTEGER DE AD BE EF: negative, as DER integers are signed.
    Fixture("sigstore.mock/response-expired.tsr", v.SIGSTORE_MOCK_RESPONSE_EXPIRED,
            v.SIGSTORE_MOCK_PAYLOAD, v.SIGSTORE_MOCK_CHAIN_PEM, _utc(2023, 2, 1), -0x21524111,
            "9b72f4419437d16d5c1a06199442839370a4bb5eb16ce72e93a7f303679b5036"),
]
BY_NAME = {f.name: f for f in VALID}


def _authority(tmp_path: Path, pem: bytes) -> Authority:
    """The TSA as svidok.toml would configure it: its certificates in a PEM file."""
    (tmp_path / "upstream.pem").write_bytes(pem)
    setting = TsaSetting("upstream", "https://tsa.invalid/", "upstream.pem")
    return Authority(setting, tmp_path, timeout=5.0)


def _root_only(pem: bytes) -> bytes:
    return x509.load_pem_x509_certificates(pem)[-1].public_bytes(Encoding.PEM)


def _one_byte_changed(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0x01])


@pytest.mark.parametrize("fx", VALID, ids=lambda f: f.name)
def test_upstream_valid_responses_verify_with_both_checks(fx: Fixture, tmp_path: Path) -> None:
    stamp = _authority(tmp_path, fx.pem).check(fx.der, fx.data, fx.name)
    assert (stamp.time, stamp.serial, stamp.tsa, stamp.der) == (
        fx.time, fx.serial, "upstream", fx.der)
    assert tt.check(fx.der, fx.data, fx.pem) == (fx.time, fx.serial)
    imprint = parse(fx.der, fx.name).tst_info.message_imprint
    assert imprint.message.hex() == fx.digest == hashlib.sha256(fx.data).hexdigest()


def test_a_token_is_judged_at_its_own_time_not_today(tmp_path: Path) -> None:
    fx = BY_NAME["sigstore.mock/response-expired.tsr"]
    certs = x509.load_pem_x509_certificates(fx.pem)
    assert all(c.not_valid_after_utc < dt.datetime.now(dt.UTC) for c in certs)  # expired now
    assert all(c.not_valid_before_utc <= fx.time <= c.not_valid_after_utc for c in certs)
    assert _authority(tmp_path, fx.pem).check(fx.der, fx.data, fx.name).time == fx.time
    assert tt.check(fx.der, fx.data, fx.pem)[0] == fx.time


def test_upstream_invalid_signature_is_rejected_by_both(tmp_path: Path) -> None:
    bad, good = v.SIGSTAGE_RESPONSE_INVALID_SIGNATURE, v.SIGSTAGE_RESPONSE_SHA256
    # As upstream says: the valid response with bytes of its signature changed, nothing else.
    assert len(bad) == len(good) and bad != good
    assert parse(bad, "bad").tst_info.message_imprint.message == hashlib.sha256(b"hello").digest()
    with pytest.raises(TimestampError, match="is not signed by TSA 'upstream'"):
        _authority(tmp_path, v.SIGSTAGE_CHAIN_PEM).check(bad, v.SIGSTAGE_DATA, "bad")
    with pytest.raises(ValueError, match=r"^the token's signature does not verify$"):
        tt.check(bad, v.SIGSTAGE_DATA, v.SIGSTAGE_CHAIN_PEM)


@pytest.mark.parametrize("fx", VALID, ids=lambda f: f.name)
def test_a_valid_response_over_other_data_is_rejected_by_both(
    fx: Fixture, tmp_path: Path
) -> None:
    other = _one_byte_changed(fx.data)
    assert len(other) == len(fx.data) and other != fx.data
    with pytest.raises(TimestampError, match=r"is over other data, not this checkpoint$"):
        _authority(tmp_path, fx.pem).check(fx.der, other, fx.name)
    with pytest.raises(ValueError, match=r"^the token is over other data, not this checkpoint$"):
        tt.check(fx.der, other, fx.pem)


@pytest.mark.parametrize("fx", VALID, ids=lambda f: f.name)
def test_a_valid_response_with_another_tsas_certificates_is_rejected_by_both(
    fx: Fixture, tmp_path: Path
) -> None:
    pem = v.SIGSTORE_MOCK_CHAIN_PEM if fx.pem == v.SIGSTAGE_CHAIN_PEM else v.SIGSTAGE_CHAIN_PEM
    with pytest.raises(TimestampError, match="is not signed by TSA 'upstream'"):
        _authority(tmp_path, pem).check(fx.der, fx.data, fx.name)
    with pytest.raises(ValueError, match=r"^the (TSA's certificate does not chain|signer's cert)"):
        tt.check(fx.der, fx.data, pem)


def test_the_root_alone_suffices_when_the_token_carries_its_certificate(tmp_path: Path) -> None:
    fx = BY_NAME["sigstage/response-sha256.tsr"]
    root = _root_only(fx.pem)
    assert _authority(tmp_path, root).check(fx.der, fx.data, fx.name).time == fx.time
    assert tt.check(fx.der, fx.data, root)[0] == fx.time


@pytest.mark.parametrize(
    "name", ["sigstage/response-no-embedded-cert.tsr", "sigstore.mock/response-expired.tsr"])
def test_a_token_without_its_certificate_needs_the_tsas_certificate(
    name: str, tmp_path: Path
) -> None:
    fx = BY_NAME[name]
    root = _root_only(fx.pem)
    with pytest.raises(TimestampError, match="is not signed by TSA 'upstream'"):
        _authority(tmp_path, root).check(fx.der, fx.data, fx.name)
    with pytest.raises(ValueError, match=r"^the signer's certificate is neither in the token"):
        tt.check(fx.der, fx.data, root)
