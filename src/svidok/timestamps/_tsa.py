"""One time-stamping authority: its trusted certificates, a request over HTTP, and the
checks of a response (rfc3161-client does the ASN.1 and CMS work)."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    TimestampRequestBuilder,
    TimeStampResponse,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

from svidok.config import TsaSetting
from svidok.errors import SvidokError

#: The largest response read from a TSA or from a token file (real ones are a few KiB).
MAX_RESPONSE = 256 << 10
_SHA256 = x509.ObjectIdentifier("2.16.840.1.101.3.4.2.1")
_MAX_CERT_FILE = 1 << 20


class TimestampError(SvidokError):
    """A TSA cannot be asked, or a time-stamp token does not check out."""


class TsaUnreachable(TimestampError):
    """The TSA did not answer in time, or answered with an HTTP error: try again later."""


@dataclass(frozen=True)
class Stamp:
    """A checked time-stamp response: its DER bytes and what it says."""

    der: bytes
    time: datetime
    serial: int
    tsa: str


class Authority:
    """A configured TSA with its trusted certificates loaded."""

    def __init__(self, setting: TsaSetting, home: Path, timeout: float) -> None:
        self.name = setting.name
        self.url = setting.url
        self.timeout = timeout
        self.certificates_path = home / setting.certificates
        self._roots: list[x509.Certificate] | None = None

    @property
    def roots(self) -> list[x509.Certificate]:
        """The certificates to trust for this TSA (TimestampError if the file is unusable)."""
        if self._roots is None:
            path = self.certificates_path
            try:
                with path.open("rb") as fh:
                    data = fh.read(_MAX_CERT_FILE + 1)
                if len(data) > _MAX_CERT_FILE:
                    raise ValueError("larger than 1 MiB")
                roots = x509.load_pem_x509_certificates(data)
            except (OSError, ValueError) as exc:
                raise TimestampError(
                    f"TSA {self.name!r}: cannot read its certificates from {path}: {exc}"
                ) from None
            self._roots = roots
        return self._roots

    def pem(self) -> bytes:
        from cryptography.hazmat.primitives.serialization import Encoding

        return b"".join(c.public_bytes(Encoding.PEM) for c in self.roots)

    def request(self, message: bytes) -> Stamp:
        """Ask the TSA to time-stamp SHA-256(``message``); check the answer completely."""
        roots = self.roots  # a broken certificate file fails before any request goes out
        req = (
            TimestampRequestBuilder()
            .data(message)
            .hash_algorithm(HashAlgorithm.SHA256)
            .nonce(nonce=True)
            .cert_request(cert_request=True)
            .build()
        )
        body = self._post(req.as_bytes())
        what = f"the answer of TSA {self.name!r}"
        resp = parse(body, what)
        check_imprint(resp, message, what)
        if req.nonce is None or resp.tst_info.nonce != req.nonce:
            raise TimestampError(f"TSA {self.name!r} answered with another nonce than asked for")
        return self._check(resp, body, message, roots)

    def check(self, der: bytes, message: bytes, what: str) -> Stamp:
        """A stored response: parses, is over SHA-256(``message``), signed by this TSA."""
        return self._check(parse(der, what), der, message, self.roots, what)

    def _check(
        self,
        resp: TimeStampResponse,
        der: bytes,
        message: bytes,
        roots: list[x509.Certificate],
        what: str | None = None,
    ) -> Stamp:
        what = what or f"the answer of TSA {self.name!r}"
        check_imprint(resp, message, what)
        builder = VerifierBuilder()
        for cert in roots:
            builder = builder.add_root_certificate(cert)
        signer = _configured_signer(resp, roots)
        if signer is not None:
            builder = builder.tsa_certificate(signer)
        try:
            builder.build().verify(resp, hashlib.sha256(message).digest())
        except (VerificationError, ValueError) as exc:
            raise TimestampError(
                f"{what} is not signed by TSA {self.name!r} as its certificates say "
                f"({_brief(exc)})"
            ) from None
        info = resp.tst_info
        return Stamp(der, info.gen_time, info.serial_number, self.name)

    def _post(self, query: bytes) -> bytes:
        req = urllib.request.Request(  # noqa: S310 - the URL is checked to be http(s)
            self.url,
            data=query,
            method="POST",
            headers={
                "Content-Type": "application/timestamp-query",
                "Accept": "application/timestamp-reply",
                "User-Agent": "svidok",
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as answer:  # noqa: S310
                body: bytes = answer.read(MAX_RESPONSE + 1)
        except urllib.error.HTTPError as exc:
            raise TsaUnreachable(f"TSA {self.name!r} answered HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TsaUnreachable(f"TSA {self.name!r} cannot be reached: {reason}") from None
        if len(body) > MAX_RESPONSE:
            raise TimestampError(f"TSA {self.name!r} answered with more than 256 KiB")
        return body


def parse(der: bytes, what: str) -> TimeStampResponse:
    """A DER TimeStampResp that grants a token (TimestampError otherwise)."""
    if len(der) > MAX_RESPONSE:
        raise TimestampError(f"{what} is larger than 256 KiB: not a time-stamp response")
    try:
        resp = decode_timestamp_response(der)
        status = resp.status
        if status not in (0, 1):  # granted, granted with modifications
            text = "; ".join(resp.status_string) or "no reason given"
            raise TimestampError(f"{what} refuses the time-stamp (status {status}: {text})")
        resp.tst_info.message_imprint  # noqa: B018 - parse the token now, not later
    except TimestampError:
        raise
    except Exception as exc:  # the Rust parser raises ValueError and others on bad DER
        raise TimestampError(
            f"{what} is not a valid time-stamp response ({_brief(exc)})"
        ) from None
    return resp


def check_imprint(resp: TimeStampResponse, message: bytes, what: str) -> None:
    imprint = resp.tst_info.message_imprint
    if imprint.hash_algorithm != _SHA256:
        raise TimestampError(f"{what} is not over a SHA-256 digest")
    if imprint.message != hashlib.sha256(message).digest():
        raise TimestampError(f"{what} is over other data, not this checkpoint")


def _configured_signer(
    resp: TimeStampResponse, roots: list[x509.Certificate]
) -> x509.Certificate | None:
    """The TSA's own certificate among ``roots``, for a token that carries no certificate.

    A TSA asked without certReq (RFC 3161 §2.4.1) leaves its certificate out of the token:
    rfc3161-client then needs it named, so the one the SignerInfo names (issuer and serial
    number) is taken from the configured certificates, if they hold it."""
    signer_infos = list(resp.signed_data.signer_infos)
    if resp.signed_data.certificates or len(signer_infos) != 1:
        return None
    sid = signer_infos[0]
    return next(
        (c for c in roots if c.issuer == sid.issuer and c.serial_number == sid.serial_number),
        None,
    )


def _brief(exc: BaseException) -> str:
    """The gist of an rfc3161-client or OpenSSL error, on one short line."""
    text = " ".join(str(exc).split())
    if 'data: "' in text:  # OpenSSL's error stack: its data says what failed
        text = text.split('data: "', 1)[1].split('"', 1)[0]
    else:
        text = text.split(" { ", 1)[0].split("ErrorStack", 1)[0].rstrip(" :(")
    return text[:160] or type(exc).__name__
