"""API tokens: ``svidok_<token id>_<secret>``.

* token id: 12 characters of ``[a-z0-9]`` (about 62 random bits), stored in clear: it
  names the token in listings and revocations and finds its row;
* secret: 32 random bytes, base64url without padding (43 characters); only its SHA-256
  (hex, of the 43 ASCII characters) is stored, and it is compared in constant time.

Both parts have fixed lengths, so a token parses without ambiguity even though the
secret's alphabet contains ``_``. The ``svidok_`` prefix lets secret scanners find
leaked tokens. A slow hash is not needed: the secret has 256 random bits.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field

from svidok.errors import TokenFormatError

PREFIX = "svidok_"
ID_LENGTH = 12
SECRET_BYTES = 32
SECRET_LENGTH = 43
_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_TOKEN = re.compile(r"svidok_([a-z0-9]{12})_([A-Za-z0-9_-]{43})")
_FORMAT_MESSAGE = (
    "not a Svidok API token (expected svidok_ followed by a 12-character id, "
    "an underscore and a 43-character secret)"
)


@dataclass(frozen=True)
class ParsedToken:
    """A token split into its id and secret. The secret is left out of ``repr``."""

    token_id: str
    secret: str = field(repr=False)

    @property
    def text(self) -> str:
        return f"{PREFIX}{self.token_id}_{self.secret}"


def generate() -> ParsedToken:
    """A new random token."""
    token_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(ID_LENGTH))
    secret = secrets.token_urlsafe(SECRET_BYTES)
    assert len(secret) == SECRET_LENGTH
    return ParsedToken(token_id, secret)


def parse(text: str) -> ParsedToken:
    """Split a token; raises :class:`TokenFormatError` (without echoing it) if malformed."""
    match = _TOKEN.fullmatch(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise TokenFormatError(_FORMAT_MESSAGE)
    token_id, secret = match.groups()
    if secret[-1] not in "AEIMQUYcgkosw048":  # the last character holds 4 bits, then 00
        raise TokenFormatError(_FORMAT_MESSAGE)
    return ParsedToken(token_id, secret)


def hash_secret(secret: str) -> str:
    """SHA-256 (hex) of the secret's ASCII text: the only form that is stored."""
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented secret with a stored hash."""
    return hmac.compare_digest(hash_secret(secret).encode("ascii"), stored_hash.encode("ascii"))
