"""Password hashing with Argon2id (``argon2-cffi``) and the minimum password policy.

Parameters (RFC 9106 §4, the second recommended option, "low memory"): Argon2id, 3
passes, 64 MiB of memory, 4 lanes, 16-byte random salt, 32-byte tag. On a current server
one hash takes some 50–100 ms. They are written into every hash (PHC string format,
``$argon2id$v=19$m=65536,t=3,p=4$...``), so raising them later only makes
:func:`needs_rehash` true for older hashes, which are re-hashed at the next sign-in.

Passwords are normalised to Unicode NFKC before hashing and checking (NIST SP 800-63B
§5.1.1.2), so the same password typed on two keyboards or systems is the same password.
"""

from __future__ import annotations

import functools
import secrets
import unicodedata

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from svidok.errors import PasswordPolicyError

TIME_COST = 3
MEMORY_COST_KIB = 65536
PARALLELISM = 4
HASH_LEN = 32
SALT_LEN = 16

MIN_LENGTH = 12
MAX_LENGTH = 1024

_HASHER = PasswordHasher(
    time_cost=TIME_COST,
    memory_cost=MEMORY_COST_KIB,
    parallelism=PARALLELISM,
    hash_len=HASH_LEN,
    salt_len=SALT_LEN,
    encoding="utf-8",
    type=Type.ID,
)


def _normalise(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def check_policy(password: str) -> None:
    """Raise :class:`PasswordPolicyError` unless ``password`` meets the minimum policy:
    12 to 1024 characters (after NFKC normalisation), not all one character."""
    if not isinstance(password, str):
        raise PasswordPolicyError("a password must be text")
    password = _normalise(password)
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(f"a password must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(f"a password must have at most {MAX_LENGTH} characters")
    if len(set(password)) == 1:
        raise PasswordPolicyError("a password must not repeat a single character")


#: letters and digits that are hard to mistake for one another (no 0/o, 1/l/i)
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def generate_password(groups: int = 4, size: int = 5) -> str:
    """A random password for one use, e.g. ``k7mq2-x9p4t-hc3wz-8fbne``: four groups of
    five characters of a 31-letter alphabet, some 99 bits of entropy (``secrets``)."""
    return "-".join(
        "".join(secrets.choice(_ALPHABET) for _ in range(size)) for _ in range(groups)
    )


def hash_password(password: str) -> str:
    """Check the policy, then return the Argon2id hash (PHC string) of ``password``."""
    check_policy(password)
    return _HASHER.hash(_normalise(password))


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash``. Never raises: a malformed or
    foreign hash, or an over-long password, is simply no match. The comparison inside
    Argon2 is constant-time."""
    if not isinstance(password, str) or not isinstance(password_hash, str):
        return False
    password = _normalise(password)
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError, ValueError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when ``password_hash`` was made with other parameters (or cannot be read)."""
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True


def dummy_verify(password: str) -> None:
    """Spend the time of one verification, for unknown users (no timing oracle)."""
    verify_password(_dummy_hash(), password)


@functools.cache
def _dummy_hash() -> str:
    return _HASHER.hash(secrets.token_urlsafe(16))
