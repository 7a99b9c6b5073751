"""Time-based one-time passwords, RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps.

Built on the HOTP of ``cryptography`` (RFC 4226), with the step counted here so that a
verifier learns *which* step matched: the caller stores it and passes it back as
``last_step``, and a code of that step or an earlier one is refused (no replay).
A code is accepted one step either side of now (±30 s) for clock drift.

Secrets are 160 random bits (the HMAC-SHA-1 block size RFC 4226 recommends), written in
base32 without padding (32 characters), as authenticator apps expect.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from datetime import datetime

from cryptography.hazmat.primitives.hashes import SHA1
from cryptography.hazmat.primitives.twofactor.hotp import HOTP
from cryptography.hazmat.primitives.twofactor.totp import TOTP

from svidok.errors import TotpError

DIGITS = 6
STEP_SECONDS = 30
WINDOW = 1
SECRET_BYTES = 20
ISSUER = "Svidok"


def new_secret() -> str:
    """A new random 160-bit secret, base32 (32 characters, no padding)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _key(secret: str) -> bytes:
    text = secret.strip().replace(" ", "").upper()
    try:
        key = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        raise TotpError("the TOTP secret is not valid base32") from None
    if len(key) < 16:
        raise TotpError("the TOTP secret is shorter than 128 bits")
    return key


def _sha1() -> SHA1:
    """HMAC-SHA-1, as RFC 6238 and every authenticator app use; safe as an HMAC."""
    return SHA1()  # noqa: S303


def step_at(when: datetime) -> int:
    """The RFC 6238 time step (T) that contains ``when`` (an aware datetime)."""
    if when.tzinfo is None:
        raise ValueError("a naive datetime has no defined time step; pass an aware one")
    return int(when.timestamp()) // STEP_SECONDS


def code_for_step(secret: str, step: int, *, digits: int = DIGITS) -> str:
    """The code of one time step (HOTP of the step counter)."""
    return HOTP(_key(secret), digits, _sha1()).generate(step).decode("ascii")


def code_at(secret: str, when: datetime, *, digits: int = DIGITS) -> str:
    """The code valid at ``when``."""
    return code_for_step(secret, step_at(when), digits=digits)


def verify(secret: str, code: str, *, now: datetime, last_step: int | None) -> int | None:
    """The step that ``code`` matches within ±1 step of ``now`` and later than
    ``last_step``, or None. Every candidate is computed and compared in constant time."""
    key = _key(secret)
    candidate = code.replace(" ", "") if isinstance(code, str) else ""
    well_formed = len(candidate) == DIGITS and candidate.isascii() and candidate.isdigit()
    given = candidate.encode("ascii") if well_formed else b"\x00" * DIGITS
    current = step_at(now)
    hotp = HOTP(key, DIGITS, _sha1())
    matched: int | None = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        fresh = last_step is None or step > last_step
        equal = hmac.compare_digest(hotp.generate(step), given)
        if equal and fresh and well_formed and matched is None:
            matched = step
    return matched


def provisioning_uri(secret: str, *, account: str, issuer: str = ISSUER) -> str:
    """The ``otpauth://totp/...`` URI for an authenticator app (usually shown as a QR)."""
    totp = TOTP(_key(secret), DIGITS, _sha1(), STEP_SECONDS)
    return totp.get_provisioning_uri(account, issuer)


__all__ = [
    "DIGITS",
    "STEP_SECONDS",
    "WINDOW",
    "code_at",
    "code_for_step",
    "new_secret",
    "provisioning_uri",
    "step_at",
    "verify",
]
