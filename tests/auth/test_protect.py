"""Field encryption: format, context binding, tampering, keys and their files."""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from svidok.errors import FieldKeyError, ProtectedDataError
from svidok.protect import FieldCipher, is_encrypted

CONTACT = "Mykola Witness, +380 44 123 4567, вул. Яблунська 1"
CTX = "person:6f1c2b0e-3f7a-4c59-9d1e-2a7b8c9d0e1f:contact"


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_round_trip_and_format() -> None:
    key = os.urandom(32)
    cipher = FieldCipher(key)
    token = cipher.encrypt(CONTACT, CTX)
    assert token.isascii()
    prefix, version, key_id, payload = token.split(":")
    assert (prefix, version) == ("svidok-enc", "1")
    assert key_id == hashlib.sha256(key).hexdigest()[:16] == cipher.key_id
    assert "=" not in payload
    assert cipher.decrypt(token, CTX) == CONTACT
    # anyone with the key opens it with plain AES-GCM: nonce || ciphertext, AAD = context
    raw = _unb64(payload)
    assert AESGCM(key).decrypt(raw[:12], raw[12:], CTX.encode()) == CONTACT.encode()
    assert CONTACT not in token


def test_fresh_nonce_each_time() -> None:
    cipher = FieldCipher.generate()
    tokens = {cipher.encrypt("same", CTX) for _ in range(50)}
    assert len(tokens) == 50
    nonces = {_unb64(t.split(":")[3])[:12] for t in tokens}
    assert len(nonces) == 50


def test_empty_text_round_trips() -> None:
    cipher = FieldCipher.generate()
    assert cipher.decrypt(cipher.encrypt("", CTX), CTX) == ""


def test_other_context_fails() -> None:
    cipher = FieldCipher.generate()
    token = cipher.encrypt(CONTACT, CTX)
    for other in (CTX.replace("contact", "name"), "person:other:contact", CTX + " "):
        with pytest.raises(ProtectedDataError) as info:
            cipher.decrypt(token, other)
        assert token not in str(info.value) and CONTACT not in str(info.value)
    with pytest.raises(ProtectedDataError):
        cipher.encrypt(CONTACT, "")


def test_wrong_key_fails() -> None:
    token = FieldCipher.generate().encrypt(CONTACT, CTX)
    other = FieldCipher.generate()
    with pytest.raises(ProtectedDataError, match=r"another key|not with this key") as info:
        other.decrypt(token, CTX)
    assert token.split(":")[3] not in str(info.value)
    # the same token relabelled with the other key's id still does not open
    relabelled = token.replace(token.split(":")[2], other.key_id)
    with pytest.raises(ProtectedDataError):
        other.decrypt(relabelled, CTX)


@pytest.mark.parametrize("where", [0, 5, 12, 20, -1])
def test_tampered_bytes_fail(where: int) -> None:
    cipher = FieldCipher.generate()
    token = cipher.encrypt(CONTACT, CTX)
    head, payload = token.rsplit(":", 1)
    raw = bytearray(_unb64(payload))
    raw[where] ^= 0x01
    forged = head + ":" + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(ProtectedDataError) as info:
        cipher.decrypt(forged, CTX)
    assert payload not in str(info.value)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "plain text",
        "svidok-enc:2:0123456789abcdef:AAAA",
        "svidok-enc:1:0123456789ABCDEF:AAAA",
        "svidok-enc:1:0123:AAAA",
        "svidok-enc:1:{kid}:",
        "svidok-enc:1:{kid}:AAAA",  # shorter than nonce and tag
        "svidok-enc:1:{kid}:A",  # not base64
        "svidok-enc:1:{kid}:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=",
    ],
)
def test_malformed_tokens_fail_without_echo(bad: str) -> None:
    cipher = FieldCipher.generate()
    bad = bad.replace("{kid}", cipher.key_id)
    with pytest.raises(ProtectedDataError) as info:
        cipher.decrypt(bad, CTX)
    if bad:
        assert bad not in str(info.value)


def test_is_encrypted() -> None:
    cipher = FieldCipher.generate()
    assert is_encrypted(cipher.encrypt("x", CTX))
    assert not is_encrypted("x")
    assert not is_encrypted(None)
    assert not is_encrypted(b"svidok-enc:1:")


def test_key_of_wrong_size_refused() -> None:
    with pytest.raises(FieldKeyError):
        FieldCipher(b"\x00" * 16)


def test_repr_hides_key() -> None:
    key = os.urandom(32)
    cipher = FieldCipher(key)
    assert key.hex() not in repr(cipher)
    assert cipher.key_id in repr(cipher)


def test_blind_index_is_keyed_and_stable() -> None:
    a, b = FieldCipher.generate(), FieldCipher.generate()
    assert a.blind("203.0.113.7", "auth:client") == a.blind("203.0.113.7", "auth:client")
    assert a.blind("203.0.113.7", "auth:client") != b.blind("203.0.113.7", "auth:client")
    assert a.blind("203.0.113.7", "auth:client") != a.blind("203.0.113.7", "other")
    assert "203.0.113.7" not in a.blind("203.0.113.7", "auth:client")


# -- key files --------------------------------------------------------------------------


def test_load_or_create_makes_a_private_key_once(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "fields.key"
    first = FieldCipher.load_or_create(path)
    st = path.stat()
    assert st.st_size == 32
    assert st.st_mode & 0o777 == 0o600
    assert first.key_id == hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    again = FieldCipher.load_or_create(path)
    assert again.key_id == first.key_id
    assert again.decrypt(first.encrypt(CONTACT, CTX), CTX) == CONTACT
    assert [p.name for p in path.parent.iterdir()] == ["fields.key"]  # no temporary left


def test_parallel_creation_agrees_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "fields.key"
    ids: list[str] = []
    barrier = threading.Barrier(8)

    def create() -> None:
        barrier.wait()
        ids.append(FieldCipher.load_or_create(path).key_id)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == 8 and len(set(ids)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["fields.key"]


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644, 0o602])
def test_key_readable_by_others_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "fields.key"
    path.write_bytes(os.urandom(32))
    path.chmod(mode)
    with pytest.raises(FieldKeyError, match="0600"):
        FieldCipher.load_or_create(path)


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_key_of_wrong_size_in_file_refused(tmp_path: Path, size: int) -> None:
    path = tmp_path / "fields.key"
    path.write_bytes(os.urandom(size))
    path.chmod(0o600)
    with pytest.raises(FieldKeyError, match="32 bytes") as info:
        FieldCipher.load_or_create(path)
    assert path.read_bytes().hex() not in str(info.value) or size == 0
    assert path.stat().st_size == size  # never replaced


def test_key_symlink_and_folder_refused(tmp_path: Path) -> None:
    real = tmp_path / "real.key"
    real.write_bytes(os.urandom(32))
    real.chmod(0o600)
    link = tmp_path / "link.key"
    link.symlink_to(real)
    with pytest.raises(FieldKeyError):
        FieldCipher.load_or_create(link)
    folder = tmp_path / "folder.key"
    folder.mkdir(mode=0o700)
    with pytest.raises(FieldKeyError):
        FieldCipher.load_or_create(folder)
