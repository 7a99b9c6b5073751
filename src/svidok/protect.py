"""Encryption of protected person fields (witness identity, contact details) at rest.

The key is 32 random bytes in a file of its own, outside every database (mode 0600).
Values are sealed with AES-256-GCM (``cryptography``), a fresh random 96-bit nonce each
time, and a *context* as associated data — for example ``person:<uuid>:contact`` — so
that a ciphertext copied to another record or field does not decrypt. A sealed value is
ASCII text::

    svidok-enc:1:<key id>:<base64url(nonce || ciphertext || tag), no padding>

where ``<key id>`` is the first 16 hex digits of SHA-256 of the key: it tells which key
sealed a value (for rotation) and reveals nothing usable about the key. The associated
data is the context's UTF-8 bytes exactly, so any AES-GCM library can open a value.

The same key also gives *blind indexes* (:meth:`FieldCipher.blind`): a keyed HMAC of a
value, for looking up or counting equal values (a client address, say) without storing
them in clear.

Errors never echo a value, sealed or clear.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from svidok._fs import fsync_dir
from svidok.errors import FieldKeyError, ProtectedDataError

KEY_SIZE = 32
NONCE_SIZE = 12
_TAG_SIZE = 16
PREFIX = "svidok-enc:"
VERSION = "1"
_TOKEN = re.compile(r"svidok-enc:1:([0-9a-f]{16}):([A-Za-z0-9_-]+)")
_BLIND_INFO = b"svidok blind index v1"


def is_encrypted(value: object) -> bool:
    """True when ``value`` is text in the sealed form (of any version or key)."""
    return isinstance(value, str) and value.startswith(PREFIX)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64encode(data) != text:  # one spelling per value: no stray bits, no padding
        raise ValueError("non-canonical base64url")
    return data


class FieldCipher:
    """Seals and opens protected values with one 256-bit key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_SIZE:
            raise FieldKeyError(f"a field key is {KEY_SIZE} bytes, not {len(key)}")
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(key).hexdigest()[:16]
        self._blind_key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=_BLIND_INFO
        ).derive(key)

    def __repr__(self) -> str:
        return f"FieldCipher(key_id={self.key_id!r})"

    @classmethod
    def generate(cls) -> FieldCipher:
        """A cipher with a new random key held only in memory (for scratch stores)."""
        return cls(secrets.token_bytes(KEY_SIZE))

    @classmethod
    def load_or_create(cls, path: Path) -> FieldCipher:
        """Load the key at ``path``, or create it there (mode 0600, atomically) if absent;
        its folder is made too (mode 0700), but no folder above that.

        Two processes racing to create it end up with the same key: the file appears
        whole under its name or not at all, and is never replaced once there. A key file
        of the wrong size, not a regular file, or readable or writable by group or
        others is refused.
        """
        try:
            return cls(_read_key(path))
        except FileNotFoundError:
            pass
        try:
            path.parent.mkdir(exist_ok=True, mode=0o700)
        except FileNotFoundError:
            raise FieldKeyError(f"cannot create field key {path}: no folder above it") from None
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_bytes(KEY_SIZE))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # unlike rename, never replaces a key made meanwhile
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
        fsync_dir(path.parent)
        try:
            return cls(_read_key(path))
        except FileNotFoundError:
            raise FieldKeyError(f"field key {path} vanished while being created") from None

    def encrypt(self, plaintext: str, context: str) -> str:
        """Seal ``plaintext`` for the given context (e.g. ``person:<uuid>:contact``)."""
        nonce = secrets.token_bytes(NONCE_SIZE)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), _context(context))
        return f"{PREFIX}{VERSION}:{self.key_id}:{_b64encode(nonce + sealed)}"

    def decrypt(self, token: str, context: str) -> str:
        """Open a sealed value; raises :class:`ProtectedDataError` if it was sealed with
        another key or context, or altered."""
        aad = _context(context)
        match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
        if match is None:
            raise ProtectedDataError("not a protected value of a supported format")
        key_id, payload = match.groups()
        if key_id != self.key_id:
            raise ProtectedDataError(
                f"protected value was sealed with key {key_id}, not with this key {self.key_id}"
            )
        try:
            raw = _b64decode(payload)
        except (ValueError, binascii.Error):
            raise ProtectedDataError("protected value is damaged (bad encoding)") from None
        if len(raw) < NONCE_SIZE + _TAG_SIZE:
            raise ProtectedDataError("protected value is damaged (too short)")
        try:
            clear = self._aead.decrypt(raw[:NONCE_SIZE], raw[NONCE_SIZE:], aad)
        except InvalidTag:
            raise ProtectedDataError(
                "protected value does not open: it belongs to another record or field, "
                "or was altered"
            ) from None
        try:
            return clear.decode("utf-8")
        except UnicodeDecodeError:  # pragma: no cover - only if sealed by other software
            raise ProtectedDataError("protected value is not UTF-8 text") from None

    def blind(self, value: str, context: str) -> str:
        """A keyed HMAC-SHA-256 (hex) of ``value`` within ``context``: equal inputs give
        equal outputs, but without the key the input cannot be guessed from it."""
        msg = _context(context) + b"\x00" + value.encode("utf-8")
        return hmac.new(self._blind_key, msg, hashlib.sha256).hexdigest()


def _context(context: str) -> bytes:
    if not context:
        raise ProtectedDataError("a protected value needs a non-empty context")
    return context.encode("utf-8")


def _read_key(path: Path) -> bytes:
    """Read a key file, refusing anything but a private regular file of 32 bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise FieldKeyError(f"cannot open field key {path}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FieldKeyError(f"field key {path} is not a regular file")
        if st.st_mode & 0o077:
            raise FieldKeyError(
                f"field key {path} is accessible by group or others "
                f"(mode {stat.S_IMODE(st.st_mode):04o}); make it 0600"
            )
        if st.st_size != KEY_SIZE:
            raise FieldKeyError(
                f"field key {path} is {st.st_size} bytes; a field key is {KEY_SIZE} bytes"
            )
        data = b""
        while len(data) < KEY_SIZE + 1:
            chunk = os.read(fd, KEY_SIZE + 1 - len(data))
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
    if len(data) != KEY_SIZE:
        raise FieldKeyError(f"field key {path} is not {KEY_SIZE} bytes")
    return data
