"""Tests of svidok.ledger.note: C2SP signed notes with Ed25519 keys.

Known-answer vectors are quoted from public sources named next to them; the test logic
is ours.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import string
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from svidok.errors import FormatError, SignatureError
from svidok.ledger.note import (
    MAX_NOTE_BYTES,
    MAX_SIGNATURES,
    Note,
    NoteSignature,
    Signer,
    Verifier,
    check_key_name,
    key_id,
    open_note,
    parse_note_unverified,
    sign_note,
)

# ---------------------------------------------------------------------------------------
# Vectors from golang.org/x/mod/sumdb/note, files note_test.go and example_test.go
# (github.com/golang/mod, commit fe2ec04f7c3c3aa6fad97631aafcff6e49e2d1db).

PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
# example_test.go makes the EnochRoot key with GenerateKey reading from a reader of zero
# bytes, so its Ed25519 seed is 32 zero bytes.
ENOCH_SEED = bytes(32)

TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG_B64 = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)
ENOCH_SIG_B64 = (
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ="
)
PETER_SIG = f"— PeterNeumann {PETER_SIG_B64}\n"
ENOCH_SIG = f"— EnochRoot {ENOCH_SIG_B64}\n"
# note_test.go: the EnochRoot signature with "ABCD" inserted at byte 60 of its line.
ENOCH_ABCD_B64 = (
    "rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n"
    + "ABCD"
    + "2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ="
)
# note_test.go TestNewVerifier: a wrong-length key and an unknown algorithm, each with a
# key hash adjusted to match.
BAD_VKEYS_GO = (
    "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
    "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
)

# ---------------------------------------------------------------------------------------
# The example of c2sp.org/signed-note (github.com/C2SP/C2SP signed-note.md, commit
# 5ba5ee830903e91240fc6f9f3a7a9293d49e69c9).

C2SP_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
C2SP_NOTE = (
    "This is an example message.\n"
    "\n"
    "— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3m"
    "FXmRKuwHjG1Yu72IneyaQM=\n"
)
# Its first example, signed by a key the document does not publish.
C2SP_QUASIMODO_NOTE = (
    "Ognuno sta solo sul cuor della terra\n"
    "trafitto da un raggio di sole:\n"
    "\n"
    "ed è subito sera.\n"
    "\n"
    "— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONr"
    "MouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
)

# ---------------------------------------------------------------------------------------
# Key pairs from github.com/transparency-dev/formats log/note_test.go (commit
# 0b850f1a7b4a5b70deeacac6535e4b8023809d21), made with the Go note package.

GO_KEY_PAIRS = (
    (
        "Log+2271c621+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs",
        "PRIVATE+KEY+Log+2271c621+AdEIq9FLRQni54Wg68T96VJO+iayOaulswav2DUMKgvQ",
    ),
    (
        "Known+451c786d+AXAQ0T7lbwuY4ABJ9/MYY9bWV3hmSyOGVt2x42NkmdUH",
        "PRIVATE+KEY+Known+451c786d+AQPRoE2+Z+Ed1HaHBA9F/FfracvcZ2rDU39kCecMEoci",
    ),
    (
        "KnownAgain+4893b26c+AQ+LR7BFF/F/dkpIBjBpSvT0crkteizuUkavAoGeaYMj",
        "PRIVATE+KEY+KnownAgain+4893b26c+ARhZda/l25zjGZswYLDZsLNRzNpmv5wYTN9IoTr1OJ2+",
    ),
    (
        "Unknown+fdbb2e08+AWgRIYZ+8x1Vl+1Q+sR8zciNHiYI1SdlBjNw+RV0rots",
        "PRIVATE+KEY+Unknown+fdbb2e08+Aav2knTC6orbhXX8pMWuNiWgO+Wwk2DB+h1eU2Q1W1nU",
    ),
)


@pytest.fixture(scope="module")
def peter() -> Verifier:
    return Verifier.from_vkey(PETER_VKEY)


@pytest.fixture(scope="module")
def enoch() -> Verifier:
    return Verifier.from_vkey(ENOCH_VKEY)


@pytest.fixture(scope="module")
def peter_signer() -> Signer:
    return Signer.from_skey(PETER_SKEY)


def _sig(name: str, hash_hex: str, b64: str) -> NoteSignature:
    raw = base64.b64decode(b64)
    assert raw[:4] == bytes.fromhex(hash_hex)
    return NoteSignature(name, raw[:4], raw[4:])


PETER = _sig("PeterNeumann", "c74f20a3", PETER_SIG_B64)
ENOCH = _sig("EnochRoot", "af0cfe78", ENOCH_SIG_B64)
ENOCH_ABCD = _sig("EnochRoot", "af0cfe78", ENOCH_ABCD_B64)


# ----------------------------------------------------------------------------- keys


def test_go_verifier_key_decodes(peter: Verifier) -> None:
    assert peter.name == "PeterNeumann"
    assert peter.key_id == bytes.fromhex("c74f20a3")
    assert peter.public_key == base64.b64decode("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")[1:]
    assert peter.to_vkey() == PETER_VKEY


def test_go_signer_key_matches_its_verifier_key(peter: Verifier, peter_signer: Signer) -> None:
    assert peter_signer.name == "PeterNeumann"
    assert peter_signer.key_id == bytes.fromhex("c74f20a3")
    assert peter_signer.verifier() == peter
    assert peter_signer.to_skey() == PETER_SKEY


def test_zero_seed_key_is_go_example_enoch_root(enoch: Verifier) -> None:
    signer = Signer("EnochRoot", ENOCH_SEED)
    assert signer.verifier() == enoch
    assert signer.verifier().to_vkey() == ENOCH_VKEY
    assert Signer.from_skey(signer.to_skey()).verifier() == enoch


@pytest.mark.parametrize(("vkey", "skey"), GO_KEY_PAIRS)
def test_transparency_dev_key_pairs(vkey: str, skey: str) -> None:
    signer = Signer.from_skey(skey)
    assert signer.verifier().to_vkey() == vkey
    assert Verifier.from_vkey(vkey) == signer.verifier()
    assert signer.to_skey() == skey


def test_key_id_is_truncated_sha256_with_type_byte(peter: Verifier) -> None:
    expected = hashlib.sha256(b"PeterNeumann\n\x01" + peter.public_key).digest()[:4]
    assert key_id("PeterNeumann", peter.public_key) == expected == bytes.fromhex("c74f20a3")
    # The type byte is part of the hash: without it the ID would differ.
    assert hashlib.sha256(b"PeterNeumann\n" + peter.public_key).digest()[:4] != expected


def test_key_id_rejects_wrong_key_length() -> None:
    with pytest.raises(FormatError):
        key_id("name", bytes(31))


@pytest.mark.parametrize("bad", BAD_VKEYS_GO)
def test_go_bad_verifier_keys(bad: str) -> None:
    with pytest.raises(FormatError):
        Verifier.from_vkey(bad)


def _manglings(key: str) -> list[str]:
    """Every proper substring and every one-byte increment, as Go's tests try."""
    out: set[str] = set()
    raw = key.encode()
    for i in range(len(raw) + 1):
        for j in range(i + 1, len(raw) + 1):
            if (i, j) != (0, len(raw)):
                out.add(raw[i:j].decode("latin-1"))
    for i in range(len(raw)):
        changed = bytearray(raw)
        changed[i] = (changed[i] + 1) % 256
        out.add(bytes(changed).decode("latin-1"))
    out.discard(key)
    return sorted(out)


def test_go_verifier_key_manglings_rejected() -> None:
    # golang.org/x/mod/sumdb/note TestNewVerifier
    for bad in _manglings(PETER_VKEY):
        with pytest.raises(FormatError):
            Verifier.from_vkey(bad)


def test_go_signer_key_manglings_rejected() -> None:
    # golang.org/x/mod/sumdb/note TestNewSigner
    for bad in _manglings(PETER_SKEY):
        with pytest.raises(FormatError):
            Signer.from_skey(bad)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "PeterNeumann",
        "PeterNeumann+c74f20a3",
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # upper-case hex
        "PeterNeumann+0xc74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n",
        " PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TX",  # other key
        "PeterNeumann+c74f20a3+",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        PETER_SKEY,
    ],
)
def test_malformed_verifier_keys(bad: str) -> None:
    with pytest.raises(FormatError):
        Verifier.from_vkey(bad)


@pytest.mark.parametrize(
    "bad",
    [
        PETER_VKEY,
        "PRIVATE+KEY+PeterNeumann+c74f20a3",
        "private+key+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        # the right seed under another name: the key ID no longer matches
        "PRIVATE+KEY+PeterNeumanm+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        # a seed of 31 bytes
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKA==",
    ],
)
def test_malformed_signer_keys(bad: str) -> None:
    with pytest.raises(FormatError):
        Signer.from_skey(bad)


def test_verifier_constructor_checks_consistency(peter: Verifier) -> None:
    with pytest.raises(FormatError):
        Verifier("PeterNeumann", bytes(4), peter.public_key)
    with pytest.raises(FormatError):
        Verifier("PeterNeumanm", peter.key_id, peter.public_key)
    with pytest.raises(FormatError):
        Verifier("PeterNeumann", peter.key_id, peter.public_key[:31])
    assert Verifier.from_public_key("PeterNeumann", peter.public_key) == peter


@pytest.mark.parametrize(
    "name",
    ["example.com/log", "Señor-1", "a—b", "x", "PeterNeumann", "svidok.local/0f3a\x7f"],
)
def test_valid_key_names(name: str) -> None:
    check_key_name(name)
    Signer.generate(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "a+b",
        "+",
        "a b",
        "a\tb",
        "a\nb",
        "a\rb",
        "a\x00b",
        "a\x1fb",
        "a\x85b",
        "a\u00a0b",
        "a\u1680b",
        "a\u2003b",
        "a\u2028b",
        "a\u202fb",
        "a\u3000b",
        "a\ud800b",
    ],
)
def test_invalid_key_names(name: str) -> None:
    with pytest.raises(FormatError):
        check_key_name(name)
    with pytest.raises(FormatError):
        Signer.generate(name)


def test_generated_keys_round_trip_and_hide_the_seed() -> None:
    signer = Signer.generate("svidok.local/test")
    again = Signer.from_skey(signer.to_skey())
    assert again.verifier() == signer.verifier()
    assert signer.public_key == signer.verifier().public_key
    assert Verifier.from_vkey(signer.verifier().to_vkey()) == signer.verifier()
    assert signer.to_skey().startswith("PRIVATE+KEY+svidok.local/test+")
    # <key ID>+<base64 seed>; base64 may itself hold "+", so split at the first one only
    seed_b64 = signer.to_skey().removeprefix("PRIVATE+KEY+svidok.local/test+").split("+", 1)[1]
    assert seed_b64 not in repr(signer)
    assert Signer.generate("x").verifier() != Signer.generate("x").verifier()


def test_signer_signatures_verify_with_cryptography_directly() -> None:
    signer = Signer.generate("example.com/direct")
    message = b"hello, court\n"
    signature = signer.sign(message)
    assert len(signature) == 64
    public = Ed25519PublicKey.from_public_bytes(signer.verifier().public_key)
    public.verify(signature, message)  # raises InvalidSignature if wrong
    assert signer.verifier().verify(message, signature)
    assert not signer.verifier().verify(message + b"x", signature)
    bad = bytearray(signature)
    bad[0] ^= 1
    assert not signer.verifier().verify(message, bytes(bad))
    assert not signer.verifier().verify(message, signature[:63])
    assert not signer.verifier().verify(message, b"")


def test_signed_note_line_verifies_with_cryptography_directly() -> None:
    signer = Signer.generate("example.com/direct")
    text = "line one\nline two\n"
    note = sign_note(text, signer)
    assert note.startswith(text + "\n— example.com/direct ")
    raw = base64.b64decode(note.splitlines()[-1].split(" ")[2], validate=True)
    pub = signer.verifier().public_key
    assert raw[:4] == hashlib.sha256(b"example.com/direct\n\x01" + pub).digest()[:4]
    Ed25519PublicKey.from_public_bytes(pub).verify(raw[4:], text.encode())


def test_go_signer_and_verifier_behave() -> None:
    # The checks of note_test.go testSignerAndVerifier.
    signer = Signer.generate("EnochRoot")
    verifier = signer.verifier()
    assert signer.name == verifier.name == "EnochRoot"
    assert signer.key_id == verifier.key_id
    sig = bytearray(signer.sign(b"hi"))
    assert verifier.verify(b"hi", bytes(sig))
    sig[0] = (sig[0] + 1) % 256
    assert not verifier.verify(b"hi", bytes(sig))
    sig[0] = (sig[0] - 1) % 256
    assert not verifier.verify(b"ii", bytes(sig))


# ---------------------------------------------------------------------------- signing


def test_sign_matches_go_output(peter_signer: Signer) -> None:
    assert sign_note(TEXT, peter_signer) == TEXT + "\n" + PETER_SIG


def test_sign_with_two_keys_matches_go_example(peter_signer: Signer) -> None:
    # example_test.go ExampleSign_add_signatures
    enoch = Signer("EnochRoot", ENOCH_SEED)
    assert sign_note(TEXT, peter_signer, enoch) == TEXT + "\n" + PETER_SIG + ENOCH_SIG


def test_sign_same_key_twice_writes_one_line(peter_signer: Signer) -> None:
    assert sign_note(TEXT, peter_signer, peter_signer) == TEXT + "\n" + PETER_SIG


@pytest.mark.parametrize(
    "text",
    ["abc", "", "\n\x01\n", "tab\there\n", "cr\r\n", "ok\nno newline", "bad \ud800\n"],
)
def test_sign_rejects_bad_text(text: str, peter_signer: Signer) -> None:
    with pytest.raises(FormatError):
        sign_note(text, peter_signer)


def test_sign_refuses_two_keys_sharing_name_and_id() -> None:
    # Only a 32-bit collision makes this happen; simulate one.
    first, second = Signer.generate("example.com/k"), Signer.generate("example.com/k")
    second.key_id = first.key_id
    with pytest.raises(SignatureError, match="share the name"):
        sign_note(TEXT, first, second)


def test_sign_needs_a_signer() -> None:
    with pytest.raises(SignatureError):
        sign_note(TEXT)


def test_sign_rejects_huge_text(peter_signer: Signer) -> None:
    with pytest.raises(FormatError):
        sign_note("a" * MAX_NOTE_BYTES + "\n", peter_signer)
    with pytest.raises(FormatError):  # fits as text, not with its signature
        sign_note("a" * (MAX_NOTE_BYTES - 10) + "\n", peter_signer)


# ---------------------------------------------------------------------------- opening


def test_c2sp_example_note_verifies() -> None:
    verifier = Verifier.from_vkey(C2SP_VKEY)
    note = open_note(C2SP_NOTE, [verifier])
    assert note.text == "This is an example message.\n"
    assert [s.name for s in note.verified] == ["example.com/foo"]
    assert note.verified[0].key_id == bytes.fromhex("530d903a")


def test_c2sp_note_with_blank_lines_splits_at_last_blank_line() -> None:
    text, sigs = parse_note_unverified(C2SP_QUASIMODO_NOTE)
    assert text.endswith(":\n\ned è subito sera.\n")
    assert [s.name for s in sigs] == ["quasimodo.example/salvatore"]
    with pytest.raises(SignatureError):
        open_note(C2SP_QUASIMODO_NOTE, [Verifier.from_vkey(C2SP_VKEY)])


def test_go_open_one_verified_one_not(peter: Verifier) -> None:
    note = open_note((TEXT + "\n" + PETER_SIG + ENOCH_SIG).encode(), [peter])
    assert note == Note(TEXT, (PETER, ENOCH), (PETER,))


def test_go_open_both_verified(peter: Verifier, enoch: Verifier) -> None:
    note = open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [peter, enoch])
    assert note.text == TEXT
    assert note.verified == (PETER, ENOCH)


def test_go_open_no_known_key(peter: Verifier) -> None:
    with pytest.raises(SignatureError, match="not signed by any known key"):
        open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, [])
    with pytest.raises(SignatureError):
        open_note(TEXT + "\n" + ENOCH_SIG, [peter])


def test_go_open_duplicated_verifier_in_list(peter: Verifier, enoch: Verifier) -> None:
    # The same key given twice is harmless.
    note = open_note(TEXT + "\n" + ENOCH_SIG, [enoch, peter, enoch])
    assert note.verified == (ENOCH,)
    note = open_note(TEXT + "\n" + PETER_SIG, [enoch, peter, enoch])
    assert note.verified == (PETER,)


def test_colliding_known_keys_are_refused(enoch: Verifier) -> None:
    # Two different public keys under one name and ID cannot be made honestly (a 32-bit
    # collision); simulate one to check that the key list is refused, as Go does.
    impostor = Verifier.from_public_key("EnochRoot", Signer.generate("x").verifier().public_key)
    object.__setattr__(impostor, "key_id", enoch.key_id)
    with pytest.raises(SignatureError, match="share the name"):
        open_note(TEXT + "\n" + ENOCH_SIG, [enoch, impostor])


def test_go_open_too_many_signatures(peter: Verifier) -> None:
    with pytest.raises(FormatError, match="more than 100"):
        open_note(TEXT + "\n" + PETER_SIG * 101, [peter])
    with pytest.raises(FormatError, match="more than 100"):
        open_note(TEXT + "\n" + PETER_SIG * 101, [])


def test_go_open_invalid_signature(peter: Verifier) -> None:
    raw = (TEXT + "\n" + PETER_SIG).encode()
    cut = len(TEXT.encode()) + 1 + 60  # Go slices peterSig at byte 60
    bad = raw[:cut] + b"ABCD" + raw[cut:]
    with pytest.raises(SignatureError, match=r"PeterNeumann\+c74f20a3 does not verify"):
        open_note(bad, [peter])


def test_go_open_duplicated_signatures(peter: Verifier) -> None:
    enoch_line = ENOCH_SIG.encode()
    enoch_abcd = (enoch_line[:60] + b"ABCD" + enoch_line[60:]).decode()
    note = open_note(
        TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + enoch_abcd, [peter]
    )
    assert note.verified == (PETER,)
    assert note.signatures == (PETER, ENOCH, ENOCH_ABCD)


GO_BAD_MESSAGES = [
    TEXT.encode(),
    (TEXT + "\n").encode(),
    (TEXT + "\n" + PETER_SIG[:-1]).encode(),
    ("\x01" + TEXT + "\n" + PETER_SIG).encode(),
    b"\xff" + (TEXT + "\n" + PETER_SIG).encode(),
    (
        TEXT
        + "\n"
        + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngot"
        "pRZb6KE6RyyBwJnAM="
    ).encode(),
    (TEXT + "\n" + PETER_SIG + "Unexpected line.\n").encode(),
]


@pytest.mark.parametrize("message", GO_BAD_MESSAGES)
def test_go_malformed_notes(message: bytes, peter: Verifier) -> None:
    with pytest.raises(FormatError):
        open_note(message, [peter])
    if b"\xff" not in message:
        with pytest.raises(FormatError):
            open_note(message.decode(), [peter])


def test_go_misnamed_and_rehashed_signatures_are_unknown(peter: Verifier) -> None:
    # note_test.go's misnamedSig and wrongHash: with only one of name and key ID matching
    # a known key, the signature is not that key's; here that leaves no known signature.
    misnamed = PETER_SIG.replace("PeterNeumann", "CarmenSandiego")
    wrong_hash = PETER_SIG.replace("x08g", "xxxx")
    for sig in (misnamed, wrong_hash):
        with pytest.raises(SignatureError, match="not signed by any known key"):
            open_note(TEXT + "\n" + sig, [peter])


def test_unknown_key_with_known_name_is_ignored(peter: Verifier, peter_signer: Signer) -> None:
    other = Signer.generate("PeterNeumann")  # same name, different key and ID
    note = open_note(sign_note(TEXT, other, peter_signer), [peter])
    assert note.verified == (PETER,)
    assert len(note.signatures) == 2


def test_bad_signature_by_known_key_rejects_the_note_even_with_a_good_one(
    peter: Verifier, enoch: Verifier
) -> None:
    enoch_line = ENOCH_SIG.encode()
    enoch_abcd = (enoch_line[:60] + b"ABCD" + enoch_line[60:]).decode()
    with pytest.raises(SignatureError, match="EnochRoot"):
        open_note(TEXT + "\n" + PETER_SIG + enoch_abcd, [peter, enoch])
    # A second, bad signature by the same key is checked too (Go skips repeats).
    peter_line = PETER_SIG.encode()
    peter_abcd = (peter_line[:60] + b"ABCD" + peter_line[60:]).decode()
    with pytest.raises(SignatureError):
        open_note(TEXT + "\n" + PETER_SIG + peter_abcd, [peter])


def test_signature_count_limits(peter: Verifier, peter_signer: Signer) -> None:
    others = [Signer.generate(f"witness{i}.example") for i in range(MAX_SIGNATURES)]
    # The specification's floor: 16 signatures must be accepted.
    note = sign_note(TEXT, peter_signer, *others[:15])
    assert open_note(note, [peter]).verified == (PETER,)
    note = sign_note(TEXT, peter_signer, *others[: MAX_SIGNATURES - 1])
    opened = open_note(note, [peter, *(o.verifier() for o in others[:3])])
    assert len(opened.signatures) == MAX_SIGNATURES
    assert len(opened.verified) == 4
    too_many = note + sign_note(TEXT, others[-1]).split("\n\n")[-1]
    assert too_many.count("\n— ") == MAX_SIGNATURES + 1
    with pytest.raises(FormatError, match="more than"):
        open_note(too_many, [peter])
    with pytest.raises(SignatureError):
        sign_note(TEXT, peter_signer, *others)


def test_signature_order_does_not_matter(peter: Verifier, enoch: Verifier) -> None:
    note = open_note(TEXT + "\n" + ENOCH_SIG + PETER_SIG, [peter, enoch])
    assert note.verified == (ENOCH, PETER)


# --------------------------------------------------------------------------- tampering


def _signed(peter_signer: Signer) -> str:
    return sign_note(TEXT, peter_signer)


TAMPERINGS: dict[str, Callable[[str], str]] = {
    "changed word": lambda n: n.replace("cryptography", "cryptograhpy", 1),
    "changed letter case": lambda n: n.replace("If", "if", 1),
    "text lines swapped": lambda n: "\n".join(
        [n.split("\n")[1], n.split("\n")[0], *n.split("\n")[2:]]
    ),
    "trailing space in text": lambda n: n.replace("problem,\n", "problem, \n", 1),
    "leading space": lambda n: " " + n,
    "text line added": lambda n: "Hello.\n" + n,
    "text line removed": lambda n: n.split("\n", 1)[1],
    "byte-order mark": lambda n: "\ufeff" + n,
    # The last blank line splits text from signatures: the first signature joins the text.
    "blank line among signatures": lambda n: n + "\n" + PETER_SIG,
    # A shorter signature that is still well-formed base64.
    "signature cut short": lambda n: n.replace("AM=\n", "A==\n"),
}

MALFORMINGS: dict[str, Callable[[str], str]] = {
    "missing final newline": lambda n: n[:-1],
    "extra final newline": lambda n: n + "\n",
    "CRLF line ends": lambda n: n.replace("\n", "\r\n"),
    "CR inside the text": lambda n: n.replace("problem,", "problem,\r", 1),
    "tab inside the text": lambda n: n.replace("you ", "you\t", 1),
    "NUL byte": lambda n: n.replace("is.", "is.\x00", 1),
    "no blank line": lambda n: n.replace("\n\n", "\n", 1),
    "space after signature": lambda n: n[:-1] + " \n",
    "two spaces before signature": lambda n: n.replace("PeterNeumann ", "PeterNeumann  ", 1),
    "hyphen instead of em dash": lambda n: n.replace("—", "-", 1),
    "en dash instead of em dash": lambda n: n.replace("—", "–", 1),
    "no space after dash": lambda n: n.replace("— ", "—", 1),
    "signature not base64": lambda n: n.replace("x08go", "x08g!"),
    "signature without padding": lambda n: n.replace("=\n", "\n"),
    "non-canonical base64 padding bits": lambda n: n.replace("AM=\n", "AN=\n"),
    "signature before text": lambda n: n.split("\n\n")[1] + "\n" + n.split("\n\n")[0] + "\n",
    "empty signature": lambda n: n.split("\n\n")[0] + "\n\n— PeterNeumann \n",
    "signature only key ID": lambda n: n.split("\n\n")[0] + "\n\n— PeterNeumann x08gow==\n",
}


@pytest.mark.parametrize("name", sorted(TAMPERINGS))
def test_tampered_text_is_rejected(name: str, peter: Verifier, peter_signer: Signer) -> None:
    note = _signed(peter_signer)
    tampered = TAMPERINGS[name](note)
    assert tampered != note
    with pytest.raises(SignatureError):
        open_note(tampered, [peter])


@pytest.mark.parametrize("name", sorted(MALFORMINGS))
def test_malformed_note_is_rejected(name: str, peter: Verifier, peter_signer: Signer) -> None:
    note = _signed(peter_signer)
    bad = MALFORMINGS[name](note)
    assert bad != note
    with pytest.raises(FormatError):
        open_note(bad, [peter])
    with pytest.raises(FormatError):
        open_note(bad.encode(), [peter])


def test_changed_signature_bits_are_rejected(peter: Verifier, peter_signer: Signer) -> None:
    note = _signed(peter_signer)
    text, sig_line = note.split("\n\n")
    raw = base64.b64decode(sig_line.split(" ")[2])
    for i in range(len(raw)):
        for bit in (0x01, 0x80):
            changed = bytearray(raw)
            changed[i] ^= bit
            bad = f"{text}\n\n— PeterNeumann {base64.b64encode(changed).decode()}\n"
            # A changed key ID makes the signature unknown; a changed signature fails.
            with pytest.raises(SignatureError):
                open_note(bad, [peter])


@pytest.mark.parametrize(
    "data",
    [
        b"\xc0\xaf\n\n" + PETER_SIG.encode(),  # overlong encoding
        b"\xed\xa0\x80\n\n" + PETER_SIG.encode(),  # encoded surrogate
        TEXT.encode() + b"\n\xe2\x80 PeterNeumann x08go\n",  # broken em dash
        b"\x80" * 10,
    ],
)
def test_non_utf8_is_rejected(data: bytes, peter: Verifier) -> None:
    with pytest.raises(FormatError, match="UTF-8"):
        open_note(data, [peter])


def test_lone_surrogate_text_is_rejected(peter: Verifier) -> None:
    with pytest.raises(FormatError):
        open_note("\ud800" + TEXT + "\n" + PETER_SIG, [peter])


def test_huge_input_is_rejected_before_parsing(peter: Verifier) -> None:
    big = "a\n" * (MAX_NOTE_BYTES // 2) + "\n" + PETER_SIG
    with pytest.raises(FormatError, match="larger than"):
        open_note(big, [peter])
    with pytest.raises(FormatError, match="larger than"):
        open_note(big.encode(), [peter])
    # Multi-byte characters count as bytes.
    wide = "é" * (MAX_NOTE_BYTES // 2) + "\n\n" + PETER_SIG
    with pytest.raises(FormatError, match="larger than"):
        open_note(wide, [peter])


def test_wrong_input_type_is_a_format_error(peter: Verifier) -> None:
    with pytest.raises(FormatError):
        open_note(12345, [peter])  # type: ignore[arg-type]


def test_del_character_is_allowed_like_go(peter_signer: Signer) -> None:
    text = "delete \x7f me\n"
    assert open_note(sign_note(text, peter_signer), [peter_signer.verifier()]).text == text


def test_note_text_with_blank_lines_round_trips(peter: Verifier, peter_signer: Signer) -> None:
    for text in ("\n", "\n\n", "a\n\nb\n", "a\n\n\n", "— PeterNeumann fake\n"):
        assert open_note(sign_note(text, peter_signer), [peter]).text == text


# ---------------------------------------------------------------------------- fuzzing

NOTE_ALPHABET = string.ascii_letters + string.digits + "+/= \n—–-\r\t\x00é\u2003"


def _mutations(draw: Callable[[st.SearchStrategy[Any]], Any], base: str) -> str:
    chars = list(base)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        pos = draw(st.integers(0, len(chars)))
        ch = draw(st.sampled_from(NOTE_ALPHABET))
        if op == "insert":
            chars.insert(pos, ch)
        elif chars and pos < len(chars):
            if op == "delete":
                del chars[pos]
            else:
                chars[pos] = ch
    return "".join(chars)


@st.composite
def mutated_notes(draw: st.DrawFn) -> str:
    base = draw(st.sampled_from([TEXT + "\n" + PETER_SIG + ENOCH_SIG, C2SP_NOTE]))
    return _mutations(draw, base)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet=NOTE_ALPHABET), mutated_notes()))
def test_fuzz_open_note_text(data: str) -> None:
    verifiers = [Verifier.from_vkey(PETER_VKEY), Verifier.from_vkey(C2SP_VKEY)]
    try:
        note = open_note(data, verifiers)
    except (FormatError, SignatureError):
        return
    # Whatever opens must carry a genuine signature by a given key over its text.
    assert note.verified
    assert note.text in (TEXT, "This is an example message.\n")


@settings(max_examples=200, deadline=None)
@given(st.binary())
def test_fuzz_open_note_bytes(data: bytes) -> None:
    with pytest.raises((FormatError, SignatureError)):
        open_note(data, [Verifier.from_vkey(PETER_VKEY)])


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet=NOTE_ALPHABET)))
def test_fuzz_parse_note_unverified(data: str) -> None:
    try:
        text, sigs = parse_note_unverified(data)
    except FormatError:
        return
    assert text.endswith("\n")
    assert sigs


@st.composite
def mutated_keys(draw: st.DrawFn) -> str:
    return _mutations(draw, draw(st.sampled_from([PETER_VKEY, PETER_SKEY, ENOCH_VKEY])))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), mutated_keys()))
def test_fuzz_key_decoding(data: str) -> None:
    try:
        verifier = Verifier.from_vkey(data)
    except FormatError:
        pass
    else:
        assert verifier.to_vkey() == data
    try:
        signer = Signer.from_skey(data)
    except FormatError:
        pass
    else:
        assert signer.to_skey() == data


NOTE_TEXT = st.text(
    alphabet=st.characters(
        exclude_categories=["Cs"],
        exclude_characters=[chr(c) for c in range(0x20) if c != 0x0A],
    ),
    max_size=200,
).map(lambda s: s + "\n")


@settings(max_examples=100, deadline=None)
@given(NOTE_TEXT, st.integers(1, 3))
def test_sign_open_round_trip(text: str, count: int) -> None:
    signers = [Signer("example.com/k" + str(i), bytes([i]) * 32) for i in range(count)]
    note = sign_note(text, *signers)
    opened = open_note(note, [signers[0].verifier()])
    assert opened.text == text
    assert [s.name for s in opened.signatures] == [s.name for s in signers]
    assert opened.verified == opened.signatures[:1]
    assert open_note(note.encode(), [s.verifier() for s in signers]).verified == opened.signatures


@settings(max_examples=100, deadline=None)
@given(NOTE_TEXT, st.data())
def test_single_edit_of_signed_note_never_verifies(text: str, data: st.DataObject) -> None:
    signer = Signer("example.com/k", bytes(32))
    note = sign_note(text, signer)
    mutated = _mutations(data.draw, note)
    assume(mutated != note)
    try:
        opened = open_note(mutated, [signer.verifier()])
    except (FormatError, SignatureError):
        return
    # The only edits that can survive are ones that leave text and signature alone,
    # such as duplicating the signature line.
    assert opened.text == text


def test_note_signature_line_round_trip() -> None:
    assert PETER.to_line() == PETER_SIG
    assert dataclasses.replace(PETER, name="X").to_line().startswith("— X ")
