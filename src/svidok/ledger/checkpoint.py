"""Checkpoints (c2sp.org/tlog-checkpoint) and receipts (c2sp.org/tlog-proof).

Checkpoint
    The text of a signed note (see :mod:`svidok.ledger.note`), every line ending in a
    newline::

        <origin>                 non-empty, identifies the log
        <tree size>              ASCII decimal, no leading zeros, below 2**64
        <root hash>              base64 of the 32-byte RFC 6962 / RFC 9162 SHA-256 root
        [<extension line>...]    optional, each non-empty, opaque

    Origin and key name: the specification says the log's key name SHOULD match the
    origin line and that clients must be told which origin to accept. Svidok logs always
    sign with a key named after their origin, so :func:`sign_checkpoint` refuses a key
    whose name differs from the origin, and :func:`open_checkpoint` by default requires
    ``origin == verifier.name``. A caller checking a foreign log whose origin differs
    from its key name (``sum.golang.org`` signs ``go.sum database tree``) passes the
    expected ``origin=`` explicitly. The signature is always verified before the text is
    parsed, as the signed-note specification demands.

Receipt
    A receipt is a c2sp.org/tlog-proof v1 file, unchanged::

        c2sp.org/tlog-proof@v1
        extra <base64 of the entry bytes>
        index <leaf index, ASCII decimal, no leading zeros>
        <base64 inclusion-proof hash, leaf's sibling first>    zero or more lines
        <empty line>
        <the log's signed checkpoint note, verbatim, with every (co)signature>

    tlog-proof's only place for application data is the optional ``extra`` line:
    "opaque extra data with application-specific meaning", unauthenticated, meant for
    "additional data necessary to reconstruct the record hash". It can carry any bytes.
    So that a court can check a receipt offline from the file alone plus the log's public
    key, **a Svidok receipt puts the exact leaf bytes in ``extra``**: the ledger entry's
    RFC 8785 canonical-JSON line, without its final newline (see
    :mod:`svidok.ledger.entries`). The leaf hash is then ``SHA-256(0x00 || extra)``.

    That the extra data is unauthenticated does no harm here: it is never trusted by
    itself. The verifier hashes it into the leaf, and the inclusion proof binds that
    leaf hash to the root hash the log signed, so any change to it fails the proof. No
    field, line or encoding outside the standard is added: any tlog-proof reader can
    parse a Svidok receipt, and a verifier that knows the entry from elsewhere can
    ignore ``extra`` and pass the entry in (:func:`verify_receipt` then requires the two
    to be equal when both are present).

    Example (entry 1 of a 3-entry ledger; ``extra`` decodes to
    ``{"actor":"Olena K.","data":{},...,"index":1,...,"type":"init"}``)::

        c2sp.org/tlog-proof@v1
        extra eyJhY3RvciI6Ik9sZW5hIEsuIiwiZGF0YSI6e30sImhvc3QiOiJsYXB0b3AtNyIsImluZGV4Ijo[...]
        index 1
        MqvZEV7x1wY3yT60brlOm0usjssFwItLFHJ98TLXCuA=
        axfL+FIe8rU7n8rXUc3d+e8zBRQfX2PEaxYY6MNmWxQ=

        svidok.local/3f2a9c
        3
        vA/c8XofwFrx1XRO8aQTmf/q84vOPZk6LHO/nWvLafQ=

        — svidok.local/3f2a9c zUnrEzLj6QoZMLhZa6mGDWxZXOnIn8Y9FXfotNEs0hpJuTqkBZPkm22g1F[...]

    checked offline with nothing but that file and the log's verifier key
    ``svidok.local/3f2a9c+cd49eb13+AZhZsNN8yw/+R77BLTY6c/ZnYV/1JN2KLPpOojjW2zwJ``.

    Interoperability note: the Go reader in github.com/transparency-dev/formats
    (``proof.TLogProof``) reads lines with a 64 KiB buffer, so it cannot read a receipt
    whose entry is larger than about 48 KiB; Svidok reads entries up to the ledger's
    1 MiB limit.

    Rules when parsing (stricter than the Go reference reader, never looser): at most
    :data:`MAX_RECEIPT_BYTES` of UTF-8 without control characters other than newline;
    base64 must be canonical and padded; every proof hash is 32 bytes; at most 64 proof
    hashes (a tree of fewer than 2**64 leaves needs no more); index below 2**64 - 1; the
    checkpoint part must be a well-formed signed note ending in a newline. ``extra `` with
    nothing after it (what the Go writer emits for empty, non-nil extra data) reads as
    ``b""``.

Errors: :class:`~svidok.errors.FormatError` for bad syntax,
:class:`~svidok.errors.SignatureError` when the checkpoint is not signed by the
expected log key (or names another origin), :class:`~svidok.errors.ProofError` when
the inclusion proof does not verify.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from svidok.errors import FormatError, ProofError, SignatureError
from svidok.ledger.merkle import HASH_SIZE, leaf_hash, verify_inclusion
from svidok.ledger.note import (
    MAX_NOTE_BYTES,
    Signer,
    Verifier,
    _b64decode,
    _b64encode,
    _check_size_and_chars,
    open_note,
    parse_note_unverified,
    sign_note,
)

__all__ = [
    "HASH_SIZE",
    "MAX_PROOF_HASHES",
    "MAX_RECEIPT_BYTES",
    "MAX_TREE_SIZE",
    "RECEIPT_HEADER",
    "Checkpoint",
    "Receipt",
    "open_checkpoint",
    "sign_checkpoint",
    "verify_receipt",
]

MAX_TREE_SIZE = (1 << 64) - 1
"""Largest tree size (and, minus one, leaf index) accepted: an unsigned 64-bit integer."""

MAX_PROOF_HASHES = 64
"""Most hashes an inclusion proof in a tree of at most 2**64 - 1 leaves can need."""

MAX_RECEIPT_BYTES = 4 << 20
"""Largest receipt accepted, in bytes: room for a 1 MiB entry in base64 and a full note."""

RECEIPT_HEADER = "c2sp.org/tlog-proof@v1"
"""First line of every tlog-proof v1 file."""

_DECIMAL_RE = re.compile(r"0|[1-9][0-9]*")


def _parse_uint64(text: str, what: str) -> int:
    if not _DECIMAL_RE.fullmatch(text):
        raise FormatError(
            f"{what} must be a decimal number without sign, spaces or leading zeros, "
            f"not {text[:40]!r}"
        )
    if len(text) > 20 or int(text) > MAX_TREE_SIZE:
        raise FormatError(f"{what} is larger than 2**64 - 1")
    return int(text)


def _check_line(line: object, what: str) -> None:
    if not isinstance(line, str):
        raise FormatError(f"{what} must be text")
    if not line:
        raise FormatError(f"{what} must not be empty")
    if "\n" in line:
        raise FormatError(f"{what} must be a single line")
    _check_size_and_chars(line, MAX_NOTE_BYTES, what)


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head: origin, tree size, root hash and optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "the checkpoint origin")
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise FormatError("the tree size must be an integer")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise FormatError("the tree size must be between 0 and 2**64 - 1")
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != HASH_SIZE:
            raise FormatError(f"the root hash must be {HASH_SIZE} bytes")
        if isinstance(self.extensions, str):
            raise FormatError("the extension lines must be a sequence of lines")
        object.__setattr__(self, "extensions", tuple(self.extensions))
        for line in self.extensions:
            _check_line(line, "a checkpoint extension line")

    def to_text(self) -> str:
        """The note text: origin, size, base64 root hash and extensions, one per line."""
        lines = [self.origin, str(self.size), _b64encode(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse checkpoint note text (not a signed note). Raises FormatError."""
        if not isinstance(text, str):
            raise FormatError("a checkpoint must be text")
        text = _check_size_and_chars(text, MAX_NOTE_BYTES, "the checkpoint")
        if not text.endswith("\n"):
            raise FormatError("the checkpoint must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise FormatError("a checkpoint has at least three lines: origin, size, root hash")
        origin, size_text, root_text, *extensions = lines
        if not origin:
            raise FormatError("the checkpoint origin line is empty")
        size = _parse_uint64(size_text, "the tree size")
        root_hash = _b64decode(root_text, "the root hash")
        if len(root_hash) != HASH_SIZE:
            raise FormatError(f"the root hash is {len(root_hash)} bytes, not {HASH_SIZE}")
        if any(not line for line in extensions):
            raise FormatError("the checkpoint has an empty line after the root hash")
        return cls(origin, size, root_hash, tuple(extensions))


def sign_checkpoint(cp: Checkpoint, signer: Signer) -> str:
    """Sign ``cp`` as a note. The signer's key name must equal the checkpoint origin."""
    if signer.name != cp.origin:
        raise SignatureError(
            f"the key {signer.name!r} cannot sign checkpoints of the log {cp.origin!r}: "
            "the key name must be the origin"
        )
    return sign_note(cp.to_text(), signer)


def open_checkpoint(
    note_text: str | bytes, verifier: Verifier, *, origin: str | None = None
) -> Checkpoint:
    """Verify a signed checkpoint with the log key ``verifier`` and parse it.

    The note must carry a valid signature by ``verifier``; other signatures (witness
    cosignatures, old keys) are ignored. The origin line must equal ``origin``, which
    defaults to the verifier's key name. Raises FormatError or SignatureError.
    """
    note = open_note(note_text, [verifier])
    cp = Checkpoint.parse(note.text)
    expected = verifier.name if origin is None else origin
    if cp.origin != expected:
        raise SignatureError(
            f"the checkpoint is for the log {cp.origin!r}, not the expected {expected!r}"
        )
    return cp


@dataclass(frozen=True)
class Receipt:
    """A c2sp.org/tlog-proof: leaf index, inclusion proof, signed checkpoint, extra data.

    For Svidok receipts ``extra`` holds the exact entry bytes (see the module notes).
    """

    index: int
    proof: tuple[bytes, ...]
    checkpoint_note: str
    extra: bytes | None = None

    def __post_init__(self) -> None:
        if isinstance(self.index, bool) or not isinstance(self.index, int):
            raise FormatError("the receipt index must be an integer")
        if not 0 <= self.index < MAX_TREE_SIZE:
            raise FormatError("the receipt index must be between 0 and 2**64 - 2")
        if isinstance(self.proof, bytes | str):
            raise FormatError("the proof must be a sequence of hashes")
        object.__setattr__(self, "proof", tuple(self.proof))
        if len(self.proof) > MAX_PROOF_HASHES:
            raise FormatError(f"the proof has more than {MAX_PROOF_HASHES} hashes")
        for node in self.proof:
            if not isinstance(node, bytes) or len(node) != HASH_SIZE:
                raise FormatError(f"every proof hash must be {HASH_SIZE} bytes")
        if self.extra is not None and not isinstance(self.extra, bytes):
            raise FormatError("the extra data must be bytes")
        if not isinstance(self.checkpoint_note, str):
            raise FormatError("the checkpoint note must be text")
        parse_note_unverified(self.checkpoint_note)
        size = (
            len(RECEIPT_HEADER)
            + 1
            + (0 if self.extra is None else len("extra \n") + 4 * ((len(self.extra) + 2) // 3))
            + len(f"index {self.index}\n")
            + (4 * ((HASH_SIZE + 2) // 3) + 1) * len(self.proof)
            + 1
            + len(self.checkpoint_note.encode("utf-8"))
        )
        if size > MAX_RECEIPT_BYTES:
            raise FormatError(f"the receipt would be larger than {MAX_RECEIPT_BYTES} bytes")

    def to_text(self) -> str:
        """The tlog-proof file text."""
        lines = [RECEIPT_HEADER]
        if self.extra is not None:
            lines.append("extra " + _b64encode(self.extra))
        lines.append(f"index {self.index}")
        lines.extend(_b64encode(node) for node in self.proof)
        return "".join(line + "\n" for line in lines) + "\n" + self.checkpoint_note

    @classmethod
    def parse(cls, text: str | bytes) -> Receipt:
        """Parse a tlog-proof file (syntax only; see :func:`verify_receipt`)."""
        data = _check_size_and_chars(text, MAX_RECEIPT_BYTES, "the receipt")
        if not data.startswith(RECEIPT_HEADER + "\n"):
            raise FormatError(f"a receipt must start with the line {RECEIPT_HEADER!r}")
        split = data.find("\n\n")
        if split < 0:
            raise FormatError("the receipt has no blank line before its checkpoint")
        lines = data[:split].split("\n")[1:]
        checkpoint_note = data[split + 2 :]
        if not checkpoint_note:
            raise FormatError("the receipt holds no checkpoint")

        extra: bytes | None = None
        if lines and lines[0].startswith("extra "):
            extra = _b64decode(lines.pop(0)[len("extra ") :], "the extra data")
        if not lines or not lines[0].startswith("index "):
            raise FormatError("the receipt has no 'index' line")
        index = _parse_uint64(lines.pop(0)[len("index ") :], "the receipt index")
        if index == MAX_TREE_SIZE:
            raise FormatError("the receipt index is too large")
        if len(lines) > MAX_PROOF_HASHES:
            raise FormatError(f"the proof has more than {MAX_PROOF_HASHES} hashes")
        proof: list[bytes] = []
        for number, line in enumerate(lines, start=1):
            node = _b64decode(line, f"proof hash {number}")
            if len(node) != HASH_SIZE:
                raise FormatError(f"proof hash {number} is {len(node)} bytes, not {HASH_SIZE}")
            proof.append(node)
        return cls(index, tuple(proof), checkpoint_note, extra)


def verify_receipt(
    receipt: Receipt,
    verifier: Verifier,
    entry: bytes | None = None,
    *,
    origin: str | None = None,
) -> Checkpoint:
    """Check that ``entry`` (or, if None, the entry in ``receipt.extra``) is in the log.

    Steps: open the checkpoint with the log key ``verifier`` (origin as in
    :func:`open_checkpoint`), hash the entry as an RFC 9162 leaf, and check the
    inclusion proof against the signed root. Returns the verified checkpoint.
    Raises FormatError, SignatureError or ProofError.
    """
    if entry is None:
        if receipt.extra is None:
            raise FormatError("the receipt carries no entry and none was given to check")
        entry = receipt.extra
    elif receipt.extra is not None and bytes(entry) != receipt.extra:
        raise ProofError("the entry given differs from the entry carried in the receipt")
    cp = open_checkpoint(receipt.checkpoint_note, verifier, origin=origin)
    if receipt.index >= cp.size:
        raise ProofError(f"entry {receipt.index} cannot be in a log of {cp.size} entries")
    verify_inclusion(leaf_hash(bytes(entry)), receipt.index, cp.size, receipt.proof, cp.root_hash)
    return cp
