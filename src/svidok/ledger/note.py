"""Signed notes (c2sp.org/signed-note) with Ed25519 keys.

A signed note is a UTF-8 text that ends in a newline, then a blank line, then one or
more signature lines::

    If you think cryptography is the answer to your problem,
    then you don't know what your problem is.

    — PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgY[...]RyyBwJnAM=

Each signature line is an em dash (U+2014), a space, the key name, a space and the
base64 of ``key ID (4 bytes, big-endian) || signature``. The signature covers the note
text including its final newline but not the blank separator line. The text is split
from the signatures at the *last* blank line of the note.

Keys
    Only Ed25519 (signature type ``0x01``) is implemented. The key ID is
    ``SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4]``.

    * verifier key ("vkey"): ``<name>+<hex8 key ID>+<base64(0x01 || public key)>``
    * signer key ("skey"), as in golang.org/x/mod/sumdb/note:
      ``PRIVATE+KEY+<name>+<hex8 key ID>+<base64(0x01 || 32-byte seed)>``

    A key name is non-empty and contains no plus sign, no Unicode White_Space character
    and (because it is written into notes) no ASCII control character.

Rules applied when opening a note (:func:`open_note`)
    * at most :data:`MAX_NOTE_BYTES` bytes of valid UTF-8 with no ASCII control character
      other than newline (so no CR, no tab, no NUL);
    * the signature block is not empty, ends in a newline and every line in it is a
      well-formed signature line; at most :data:`MAX_SIGNATURES` of them (the Go
      implementation's limit; the specification requires accepting at least 16);
    * base64 must be the canonical standard encoding with padding (this is stricter than
      Go, which tolerates non-zero padding bits);
    * a signature whose key name and key ID are both those of a known verifier MUST
      verify, or the whole note is rejected (:class:`SignatureError`). Go's implementation
      verifies only the first signature of a key and skips repeats; here every one is
      checked;
    * signatures by unknown keys are kept in :attr:`Note.signatures` but not checked;
    * if no known key signed the note, it is rejected (:class:`SignatureError`).

Errors: :class:`~svidok.errors.FormatError` for bad syntax,
:class:`~svidok.errors.SignatureError` for missing, unknown or bad signatures.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from svidok.errors import FormatError, SignatureError

__all__ = [
    "ALG_ED25519",
    "MAX_NOTE_BYTES",
    "MAX_SIGNATURES",
    "Note",
    "NoteSignature",
    "Signer",
    "Verifier",
    "check_key_name",
    "check_note_text",
    "key_id",
    "open_note",
    "parse_note_unverified",
    "sign_note",
]

ALG_ED25519 = 0x01
"""Signature type byte of Ed25519 note signatures."""

MAX_SIGNATURES = 100
"""Most signature lines accepted in one note (as in golang.org/x/mod/sumdb/note)."""

MAX_NOTE_BYTES = 1 << 20
"""Largest signed note accepted, in bytes of UTF-8."""

_KEY_ID_LEN = 4
_ED25519_KEY_LEN = 32
_ED25519_SIG_LEN = 64
_SIG_PREFIX = "\u2014 "  # em dash, space

# Unicode White_Space property (what Go's unicode.IsSpace tests): no key name may hold one.
_WHITE_SPACE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
_CONTROL_RE = re.compile(r"[\x00-\x09\x0b-\x1f]")
_HEX8_RE = re.compile(r"[0-9a-f]{8}")


def _b64decode(text: str, what: str) -> bytes:
    """Decode canonical standard base64 (RFC 4648 section 4, padded) or raise FormatError."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        raise FormatError(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise FormatError(f"{what} is not in canonical base64 form")
    return raw


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def check_key_name(name: str) -> None:
    """Raise FormatError unless ``name`` is a valid key name.

    A key name is non-empty and holds no plus sign (U+002B), no Unicode White_Space
    character and no ASCII control character.
    """
    if not isinstance(name, str) or not name:
        raise FormatError("a key name must not be empty")
    for ch in name:
        if ch == "+":
            raise FormatError(f"key name {name!r} must not contain a plus sign")
        if ch in _WHITE_SPACE:
            raise FormatError(f"key name {name!r} must not contain spaces")
        if ch < " ":
            raise FormatError(f"key name {name!r} must not contain control characters")
        if "\ud800" <= ch <= "\udfff":
            raise FormatError(f"key name {name!r} is not valid Unicode text")


def key_id(name: str, public_key: bytes) -> bytes:
    """The 4-byte ID of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || public key)[:4]."""
    check_key_name(name)
    if len(public_key) != _ED25519_KEY_LEN:
        raise FormatError(
            f"an Ed25519 public key is {_ED25519_KEY_LEN} bytes, not {len(public_key)}"
        )
    digest = hashlib.sha256(
        name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + bytes(public_key)
    ).digest()
    return digest[:_KEY_ID_LEN]


@dataclass(frozen=True)
class Verifier:
    """A public Ed25519 key with its name and key ID, able to check signatures."""

    name: str
    key_id: bytes
    public_key: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.public_key) != _ED25519_KEY_LEN:
            raise FormatError(
                f"an Ed25519 public key is {_ED25519_KEY_LEN} bytes, not {len(self.public_key)}"
            )
        if self.key_id != key_id(self.name, self.public_key):
            raise FormatError(f"the key ID does not belong to key {self.name!r}")

    @classmethod
    def from_public_key(cls, name: str, public_key: bytes) -> Verifier:
        """Build a verifier from a name and a raw 32-byte Ed25519 public key."""
        return cls(name, key_id(name, public_key), bytes(public_key))

    def to_vkey(self) -> str:
        """Encode as ``<name>+<hex8 key ID>+<base64(0x01 || public key)>``."""
        blob = _b64encode(bytes([ALG_ED25519]) + self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{blob}"

    @classmethod
    def from_vkey(cls, vkey: str) -> Verifier:
        """Decode a verifier key; FormatError if it is malformed or inconsistent."""
        if not isinstance(vkey, str):
            raise FormatError("a verifier key must be text")
        parts = vkey.split("+", 2)
        if len(parts) != 3:
            raise FormatError("a verifier key has the form <name>+<key ID>+<key>")
        name, hex_id, blob = parts
        check_key_name(name)
        if not _HEX8_RE.fullmatch(hex_id):
            raise FormatError("the key ID in a verifier key must be 8 lowercase hex digits")
        raw = _b64decode(blob, "the key in the verifier key")
        if not raw:
            raise FormatError("the verifier key holds no key")
        if raw[0] != ALG_ED25519:
            raise FormatError(f"unsupported signature type {raw[0]:#04x} in the verifier key")
        public_key = raw[1:]
        if len(public_key) != _ED25519_KEY_LEN:
            raise FormatError(
                f"an Ed25519 public key is {_ED25519_KEY_LEN} bytes, not {len(public_key)}"
            )
        if bytes.fromhex(hex_id) != key_id(name, public_key):
            raise FormatError("the key ID in the verifier key does not match its key")
        return cls(name, bytes.fromhex(hex_id), public_key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True when ``signature`` (64 raw bytes, no key ID) is this key's over ``message``."""
        if len(signature) != _ED25519_SIG_LEN:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(
                bytes(signature), bytes(message)
            )
        except (InvalidSignature, ValueError):
            return False
        return True


class Signer:
    """An Ed25519 private key with its name and key ID. Keep it secret.

    ``repr`` never shows the key; :meth:`to_skey` does, so store its output safely.
    """

    __slots__ = ("_private", "_public", "key_id", "name")

    name: str
    key_id: bytes

    def __init__(self, name: str, seed: bytes) -> None:
        check_key_name(name)
        if len(seed) != _ED25519_KEY_LEN:
            raise FormatError(f"an Ed25519 seed is {_ED25519_KEY_LEN} bytes, not {len(seed)}")
        self._private = Ed25519PrivateKey.from_private_bytes(bytes(seed))
        self._public = self._private.public_key().public_bytes_raw()
        self.name = name
        self.key_id = key_id(name, self._public)

    @classmethod
    def generate(cls, name: str) -> Signer:
        """A new random key named ``name``."""
        check_key_name(name)
        return cls(name, Ed25519PrivateKey.generate().private_bytes_raw())

    @classmethod
    def from_skey(cls, skey: str) -> Signer:
        """Decode ``PRIVATE+KEY+<name>+<hex8 key ID>+<base64(0x01 || seed)>``."""
        if not isinstance(skey, str):
            raise FormatError("a signer key must be text")
        parts = skey.split("+", 4)
        if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
            raise FormatError("a signer key has the form PRIVATE+KEY+<name>+<key ID>+<key>")
        _, _, name, hex_id, blob = parts
        check_key_name(name)
        if not _HEX8_RE.fullmatch(hex_id):
            raise FormatError("the key ID in a signer key must be 8 lowercase hex digits")
        raw = _b64decode(blob, "the key in the signer key")
        if not raw:
            raise FormatError("the signer key holds no key")
        if raw[0] != ALG_ED25519:
            raise FormatError(f"unsupported signature type {raw[0]:#04x} in the signer key")
        if len(raw) != 1 + _ED25519_KEY_LEN:
            raise FormatError(f"an Ed25519 seed is {_ED25519_KEY_LEN} bytes, not {len(raw) - 1}")
        signer = cls(name, raw[1:])
        if signer.key_id != bytes.fromhex(hex_id):
            raise FormatError("the key ID in the signer key does not match its key")
        return signer

    def to_skey(self) -> str:
        """Encode as ``PRIVATE+KEY+<name>+<hex8 key ID>+<base64(0x01 || seed)>``."""
        blob = _b64encode(bytes([ALG_ED25519]) + self._private.private_bytes_raw())
        return f"PRIVATE+KEY+{self.name}+{self.key_id.hex()}+{blob}"

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte Ed25519 public key."""
        return self._public

    def verifier(self) -> Verifier:
        """The matching public key."""
        return Verifier(self.name, self.key_id, self._public)

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message`` (without the key ID)."""
        return self._private.sign(bytes(message))

    def __repr__(self) -> str:
        return f"Signer(name={self.name!r}, key_id={self.key_id.hex()!r})"


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, 4-byte key ID and the signature proper."""

    name: str
    key_id: bytes
    signature: bytes

    def to_line(self) -> str:
        """The signature line, with its final newline."""
        return f"{_SIG_PREFIX}{self.name} {_b64encode(self.key_id + self.signature)}\n"


@dataclass(frozen=True)
class Note:
    """An opened note: its text, every distinct signature, and those that verified."""

    text: str
    signatures: tuple[NoteSignature, ...]
    verified: tuple[NoteSignature, ...]


def _check_size_and_chars(data: str | bytes, limit: int, what: str) -> str:
    """Decode ``data`` and check size, UTF-8 and control characters; return the text."""
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        if len(raw) > limit:
            raise FormatError(f"{what} is larger than {limit} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise FormatError(f"{what} is not valid UTF-8") from None
    elif isinstance(data, str):
        text = data
        if len(text) > limit:  # every character is at least one byte
            raise FormatError(f"{what} is larger than {limit} bytes")
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError:
            raise FormatError(f"{what} is not valid Unicode text") from None
        if size > limit:
            raise FormatError(f"{what} is larger than {limit} bytes")
    else:
        raise FormatError(f"{what} must be text or bytes")
    match = _CONTROL_RE.search(text)
    if match:
        raise FormatError(
            f"{what} contains the control character {match.group()!r}; only newlines may appear"
        )
    return text


def check_note_text(text: str) -> None:
    """Raise FormatError unless ``text`` can be the text of a signed note.

    It must end in a newline, be valid Unicode without control characters other than
    newline, and leave room for signatures within :data:`MAX_NOTE_BYTES`.
    """
    checked = _check_size_and_chars(text, MAX_NOTE_BYTES, "the note text")
    if not checked.endswith("\n"):
        raise FormatError("the note text must end with a newline")


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(_SIG_PREFIX):
        raise FormatError(f"signature line {line[:80]!r} does not start with an em dash and space")
    name, sep, blob = line[len(_SIG_PREFIX) :].partition(" ")
    if not sep or not blob:
        raise FormatError(f"signature line {line[:80]!r} has no signature after the key name")
    check_key_name(name)
    raw = _b64decode(blob, f"the signature by {name!r}")
    if len(raw) <= _KEY_ID_LEN:
        raise FormatError(f"the signature by {name!r} is too short")
    return NoteSignature(name, raw[:_KEY_ID_LEN], raw[_KEY_ID_LEN:])


def parse_note_unverified(data: str | bytes) -> tuple[str, tuple[NoteSignature, ...]]:
    """Split a signed note into text and signatures, checking syntax only.

    Nothing is verified: the text MUST NOT be trusted. Use :func:`open_note` for that.
    Repeated identical signature lines are kept once. Raises FormatError.
    """
    message = _check_size_and_chars(data, MAX_NOTE_BYTES, "the note")
    split = message.rfind("\n\n")
    if split < 0:
        raise FormatError("the note has no blank line before its signatures")
    text, block = message[: split + 1], message[split + 2 :]
    if not block:
        raise FormatError("the note has no signatures")
    if not block.endswith("\n"):
        raise FormatError("the note does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise FormatError(f"the note has more than {MAX_SIGNATURES} signatures")
    signatures: list[NoteSignature] = []
    for line in lines:
        sig = _parse_signature_line(line)
        if sig not in signatures:
            signatures.append(sig)
    return text, tuple(signatures)


def open_note(data: str | bytes, verifiers: Iterable[Verifier]) -> Note:
    """Parse a signed note and check its signatures against the known ``verifiers``.

    Every signature whose key name and key ID match a known verifier must verify;
    signatures by other keys are ignored. At least one known key must have signed.
    Raises FormatError for bad syntax and SignatureError for signature problems.
    """
    known: dict[tuple[str, bytes], Verifier] = {}
    for verifier in verifiers:
        if not isinstance(verifier, Verifier):
            raise TypeError("verifiers must be Verifier objects")
        slot = (verifier.name, verifier.key_id)
        other = known.get(slot)
        if other is not None and other != verifier:
            # Two different public keys with one name and ID: the key list is unsafe.
            raise SignatureError(
                f"two different known keys share the name {verifier.name!r} "
                f"and key ID {verifier.key_id.hex()}"
            )
        known[slot] = verifier

    text, signatures = parse_note_unverified(data)
    message = text.encode("utf-8")
    verified: list[NoteSignature] = []
    for sig in signatures:
        key = known.get((sig.name, sig.key_id))
        if key is None:
            continue
        if not key.verify(message, sig.signature):
            raise SignatureError(
                f"the signature by key {sig.name}+{sig.key_id.hex()} does not verify"
            )
        if all((v.name, v.key_id) != (sig.name, sig.key_id) for v in verified):
            verified.append(sig)
    if not verified:
        names = ", ".join(sorted({f"{v.name}+{v.key_id.hex()}" for v in known.values()}))
        raise SignatureError(
            "the note is not signed by any known key"
            + (f" (known: {names})" if names else " (no keys were given)")
        )
    return Note(text, signatures, tuple(verified))


def sign_note(text: str, *signers: Signer) -> str:
    """Sign ``text`` (which must end in a newline) with each signer; return the note."""
    check_note_text(text)
    if not signers:
        raise SignatureError("a signed note needs at least one signer")
    if len(signers) > MAX_SIGNATURES:
        raise SignatureError(f"a note can carry at most {MAX_SIGNATURES} signatures")
    message = text.encode("utf-8")
    lines: list[str] = []
    seen: dict[tuple[str, bytes], bytes] = {}
    for signer in signers:
        if not isinstance(signer, Signer):
            raise TypeError("signers must be Signer objects")
        slot = (signer.name, signer.key_id)
        if slot in seen:
            if seen[slot] != signer.public_key:
                raise SignatureError(
                    f"two different signing keys share the name {signer.name!r} "
                    f"and key ID {signer.key_id.hex()}"
                )
            continue
        seen[slot] = signer.public_key
        lines.append(NoteSignature(signer.name, signer.key_id, signer.sign(message)).to_line())
    note = text + "\n" + "".join(lines)
    if len(note.encode("utf-8")) > MAX_NOTE_BYTES:
        raise FormatError(f"the signed note would be larger than {MAX_NOTE_BYTES} bytes")
    return note
