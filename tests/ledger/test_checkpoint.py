"""Tests of svidok.ledger.checkpoint: C2SP checkpoints and tlog-proof receipts.

Known-answer data is quoted from public sources named next to it; the test logic and the
small reference Merkle tree below (written from RFC 9162 section 2.1) are ours.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from svidok.errors import FormatError, ProofError, SignatureError
from svidok.ledger.checkpoint import (
    MAX_PROOF_HASHES,
    MAX_RECEIPT_BYTES,
    MAX_TREE_SIZE,
    RECEIPT_HEADER,
    Checkpoint,
    Receipt,
    open_checkpoint,
    sign_checkpoint,
    verify_receipt,
)
from svidok.ledger.note import Signer, Verifier, open_note, sign_note

# ---------------------------------------------------------------------------------------
# A real signed checkpoint of the Go checksum database and its key, as quoted in
# github.com/transparency-dev/formats log/note_test.go (TestSumDBNoteParsing), commit
# 0b850f1a7b4a5b70deeacac6535e4b8023809d21. Its origin differs from its key name.

SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_NOTE = (
    "go.sum database tree\n"
    "6476701\n"
    "mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n"
    "\n"
    "— sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu95949rj4nPRYf"
    "vimWEPWL+o3GeoWwOoAw=\n"
)

# Key pairs of the same file (made with golang.org/x/mod/sumdb/note).
TD_LOG = (
    "Log+2271c621+AemuH5ooBpEPcr+W8onrjA1NfuzBVHdezakU81Ekarvs",
    "PRIVATE+KEY+Log+2271c621+AdEIq9FLRQni54Wg68T96VJO+iayOaulswav2DUMKgvQ",
)
TD_KNOWN1 = (
    "Known+451c786d+AXAQ0T7lbwuY4ABJ9/MYY9bWV3hmSyOGVt2x42NkmdUH",
    "PRIVATE+KEY+Known+451c786d+AQPRoE2+Z+Ed1HaHBA9F/FfracvcZ2rDU39kCecMEoci",
)
TD_KNOWN2 = (
    "KnownAgain+4893b26c+AQ+LR7BFF/F/dkpIBjBpSvT0crkteizuUkavAoGeaYMj",
    "PRIVATE+KEY+KnownAgain+4893b26c+ARhZda/l25zjGZswYLDZsLNRzNpmv5wYTN9IoTr1OJ2+",
)
TD_UNKNOWN = (
    "Unknown+fdbb2e08+AWgRIYZ+8x1Vl+1Q+sR8zciNHiYI1SdlBjNw+RV0rots",
    "PRIVATE+KEY+Unknown+fdbb2e08+Aav2knTC6orbhXX8pMWuNiWgO+Wwk2DB+h1eU2Q1W1nU",
)

# Checkpoint bodies from the C2SP specifications (github.com/C2SP/C2SP, commit
# 5ba5ee830903e91240fc6f9f3a7a9293d49e69c9): tlog-checkpoint.md and tlog-proof.md.
C2SP_CHECKPOINT = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
)
C2SP_CHECKPOINT_NOTE = (
    C2SP_CHECKPOINT
    + "\n— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u"
    "5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)
# The tlog-proof.md example; its signatures are shortened with "[...]" in the document.
C2SP_PROOF_HEAD = (
    "c2sp.org/tlog-proof@v1\n"
    "extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\n"
    "index 73894\n"
    "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n"
    "B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n"
    "EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\n"
    "RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n"
    "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n"
    "\n"
)
C2SP_PROOF_CHECKPOINT = (
    "example.com/fancylog\n109482\nsFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n"
)
C2SP_PROOF = (
    C2SP_PROOF_HEAD
    + C2SP_PROOF_CHECKPOINT
    + "\n"
    + "— example.com/fancylog hI2DJw[...]1roloI=\n"
    + "— witness1.example mJirIklj[...]qY9v2B/5bg==\n"
    + "— witness2.example TnKKVHLX[...]xwYwrSjgow==\n"
    + "— witness3.example S4X82uH5[...]3oEcROGLFQ==\n"
)

# Checkpoint texts of github.com/transparency-dev/formats log/checkpoint_test.go
# (TestUnmarshalLogState, TestExtendCheckpoint). All are malformed for Svidok, which
# requires a 32-byte SHA-256 root hash and non-empty extension lines; the reason is noted.
TD_CHECKPOINT_TEXTS = {
    "valid one (7-byte hash)": "Log\n123\nYmFuYW5hcw==\n",
    "valid with different origin (37-byte hash)": (
        "Banana\n9944\ndGhlIHZpZXcgZnJvbSB0aGUgdHJlZSB0b3BzIGlzIGdyZWF0IQ==\n"
    ),
    "moon log (16-byte hash)": (
        "Moon Log\n4027504\naXQncyBhIHJvb3QgaGFzaA==\n6086d1a9\nWaxing gibbous\n"
    ),
    "valid with trailing newlines (empty extension lines)": (
        "Log\n9944\ndGhlIHZpZXcgZnJvbSB0aGUgdHJlZSB0b3BzIGlzIGdyZWF0IQ==\n\n\n\n"
    ),
    "invalid - insufficient lines": "Head\n9944\n",
    "invalid - empty header": ("\n9944\ndGhlIHZpZXcgZnJvbSB0aGUgdHJlZSB0b3BzIGlzIGdyZWF0IQ==\n"),
    "invalid - missing newline on roothash": "Log\n123\nYmFuYW5hcw==",
    "invalid size - not a number": (
        "Log\nbananas\ndGhlIHZpZXcgZnJvbSB0aGUgdHJlZSB0b3BzIGlzIGdyZWF0IQ==\n"
    ),
    "invalid size - negative": "Log\n-34\ndGhlIHZpZXcgZnJvbSB0aGUgdHJlZSB0b3BzIGlzIGdyZWF0IQ==\n",
    "invalid size - too large": (
        "Log\n3438945738945739845734895735\ndGhlIHZpZXcgZnJvbSB0aGUgdHJlZSB0b3BzIGlzIGdyZWF0IQ==\n"
    ),
    "invalid roothash - not base64": "Log\n123\nThisIsn'tBase64\n",
}
# Their layouts with extension lines, each with a 32-byte root hash put in (ours).
HASH32_B64 = base64.b64encode(bytes(range(32))).decode()
TD_EXTENDED_LAYOUTS = {
    "Log\n9944\n{h}\nHere's some associated data.\n": ("Here's some associated data.",),
    "Log\n9944\n{h}\nlots\nof\nlines\n": ("lots", "of", "lines"),
    "Moon Log\n4027504\n{h}\n6086d1a9\nWaxing gibbous\n": ("6086d1a9", "Waxing gibbous"),
}

# tlog-proof cases of github.com/transparency-dev/formats proof/tlog_proof_test.go
# (TestMarshal, TestUnmarshalErrors), same commit. Where they end in the placeholder
# "checkpoint\n" we put a real signed checkpoint, so that each case has one fault only.
TD_PROOF_ERRORS = {
    "missing header": ("wrong-header\nindex 0\n\n{cp}", "must start with"),
    "invalid extra data encoding": (
        "c2sp.org/tlog-proof@v1\nextra !!notbase64!!\nindex 0\n\n{cp}",
        "extra data is not valid base64",
    ),
    "missing index": ("c2sp.org/tlog-proof@v1\n\n\n{cp}", "no 'index' line"),
    "invalid index - not a number": (
        "c2sp.org/tlog-proof@v1\nindex notanumber\n\n{cp}",
        "index must be a decimal",
    ),
    "invalid index - negative": (
        "c2sp.org/tlog-proof@v1\nindex -5\n\n{cp}",
        "index must be a decimal",
    ),
    "invalid hash base64": (
        "c2sp.org/tlog-proof@v1\nindex 0\n!!notbase64!!\n\n{cp}",
        "proof hash 1 is not valid base64",
    ),
    "incorrect hash length": (
        "c2sp.org/tlog-proof@v1\nindex 0\n" + base64.b64encode(bytes(64)).decode() + "\n\n{cp}",
        "is 64 bytes, not 32",
    ),
    "buffer too large": (
        "c2sp.org/tlog-proof@v1\nindex 0\n" + "a" * 65 * 1024 + "\n\n{cp}",
        "is 49920 bytes, not 32",
    ),
}


# ------------------------------------------------------------------ reference Merkle tree
# Written from RFC 9162 section 2.1.1 (MTH) and 2.1.3.1 (PATH), independent of
# svidok.ledger.merkle.


def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def ref_root(entries: list[bytes]) -> bytes:
    if not entries:
        return hashlib.sha256(b"").digest()
    if len(entries) == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = _largest_power_of_two_below(len(entries))
    return hashlib.sha256(b"\x01" + ref_root(entries[:k]) + ref_root(entries[k:])).digest()


def ref_path(m: int, entries: list[bytes]) -> list[bytes]:
    if len(entries) == 1:
        return []
    k = _largest_power_of_two_below(len(entries))
    if m < k:
        return [*ref_path(m, entries[:k]), ref_root(entries[k:])]
    return [*ref_path(m - k, entries[k:]), ref_root(entries[:k])]


ORIGIN = "example.com/svidok-test"
LOG = Signer(ORIGIN, hashlib.sha256(b"svidok test log key").digest())
VERIFIER = LOG.verifier()
ENTRIES = [b'{"index":%d,"type":"test","data":{"n":"%d"}}' % (i, i * i) for i in range(13)]


def make_receipt(index: int, size: int, signer: Signer = LOG, with_extra: bool = True) -> Receipt:
    entries = ENTRIES[:size]
    cp = Checkpoint(signer.name, size, ref_root(entries))
    return Receipt(
        index=index,
        proof=tuple(ref_path(index, entries)),
        checkpoint_note=sign_checkpoint(cp, signer),
        extra=entries[index] if with_extra else None,
    )


SIGNED_CP = sign_checkpoint(Checkpoint(ORIGIN, 3, ref_root(ENTRIES[:3])), LOG)


# --------------------------------------------------------------------------- checkpoints


def test_c2sp_checkpoint_example_parses_and_round_trips() -> None:
    cp = Checkpoint.parse(C2SP_CHECKPOINT)
    assert cp.origin == "example.com/behind-the-sofa"
    assert cp.size == 20852163
    assert cp.root_hash == base64.b64decode("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
    assert cp.extensions == ()
    assert cp.to_text() == C2SP_CHECKPOINT
    assert Checkpoint.parse(C2SP_PROOF_CHECKPOINT).size == 109482


def test_c2sp_checkpoint_example_note_has_no_known_key() -> None:
    # The document publishes no key for it: it must be refused, never parsed blindly.
    with pytest.raises(SignatureError):
        open_checkpoint(C2SP_CHECKPOINT_NOTE, VERIFIER, origin="example.com/behind-the-sofa")


def test_sumdb_checkpoint_verifies_with_explicit_origin() -> None:
    verifier = Verifier.from_vkey(SUMDB_VKEY)
    cp = open_checkpoint(SUMDB_NOTE, verifier, origin="go.sum database tree")
    assert cp.origin == "go.sum database tree"
    assert cp.size == 6476701
    assert cp.root_hash == base64.b64decode("mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=")
    assert cp.to_text() == SUMDB_NOTE.split("\n\n")[0] + "\n"
    assert open_checkpoint(SUMDB_NOTE.encode(), verifier, origin="go.sum database tree") == cp


def test_sumdb_checkpoint_with_wrong_origin_is_refused() -> None:
    verifier = Verifier.from_vkey(SUMDB_VKEY)
    # By default the origin must be the key name, which sum.golang.org does not follow.
    with pytest.raises(SignatureError, match="not the expected"):
        open_checkpoint(SUMDB_NOTE, verifier)
    # transparency-dev's "wrong logID" case.
    with pytest.raises(SignatureError):
        open_checkpoint(SUMDB_NOTE, verifier, origin="Go rocks but I might have the wrong ID")


def test_sumdb_checkpoint_tampered_size_is_refused() -> None:
    verifier = Verifier.from_vkey(SUMDB_VKEY)
    with pytest.raises(SignatureError):
        open_checkpoint(
            SUMDB_NOTE.replace("6476701", "6476702"), verifier, origin="go.sum database tree"
        )


@pytest.mark.parametrize("name", sorted(TD_CHECKPOINT_TEXTS))
def test_transparency_dev_checkpoint_texts_are_refused(name: str) -> None:
    with pytest.raises(FormatError):
        Checkpoint.parse(TD_CHECKPOINT_TEXTS[name])


@pytest.mark.parametrize("layout", sorted(TD_EXTENDED_LAYOUTS))
def test_transparency_dev_extension_layouts(layout: str) -> None:
    text = layout.format(h=HASH32_B64)
    cp = Checkpoint.parse(text)
    assert cp.extensions == TD_EXTENDED_LAYOUTS[layout]
    assert cp.root_hash == bytes(range(32))
    assert cp.to_text() == text


def _cp_text(size: str = "5", root: str = HASH32_B64, origin: str = "o", tail: str = "") -> str:
    return f"{origin}\n{size}\n{root}\n{tail}"


@pytest.mark.parametrize(
    "text",
    [
        _cp_text(size="05"),
        _cp_text(size="00"),
        _cp_text(size="+5"),
        _cp_text(size=" 5"),
        _cp_text(size="5 "),
        _cp_text(size="1_000"),
        _cp_text(size="\u0663"),  # ARABIC-INDIC DIGIT THREE
        _cp_text(size="0x10"),
        _cp_text(size=""),
        _cp_text(size=str(MAX_TREE_SIZE + 1)),
        _cp_text(size="9" * 5000),
        _cp_text(root=base64.b64encode(bytes(31)).decode()),
        _cp_text(root=base64.b64encode(bytes(33)).decode()),
        _cp_text(root=HASH32_B64.rstrip("=")),
        _cp_text(root=HASH32_B64[:-2] + "9="),  # non-zero padding bits
        _cp_text(root=HASH32_B64 + " "),
        _cp_text(root=""),
        _cp_text(origin=""),
        _cp_text(tail="\n"),
        _cp_text(tail="ext\n\n"),
        _cp_text(tail="ext"),
        _cp_text().rstrip("\n"),
        _cp_text().replace("\n", "\r\n"),
        _cp_text(origin="o\tx"),
        _cp_text(tail="a\x00b\n"),
        "o\n5\n",
        "",
        "\n",
        "\n\n\n",
    ],
)
def test_malformed_checkpoints(text: str) -> None:
    with pytest.raises(FormatError):
        Checkpoint.parse(text)


def test_checkpoint_parse_edges() -> None:
    assert Checkpoint.parse(_cp_text(size="0")).size == 0
    assert Checkpoint.parse(_cp_text(size=str(MAX_TREE_SIZE))).size == MAX_TREE_SIZE
    spaced = "go.sum database tree"
    assert Checkpoint.parse(_cp_text(origin=spaced)).origin == spaced
    with pytest.raises(FormatError):
        Checkpoint.parse(b"o\n5\n" + HASH32_B64.encode() + b"\n")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"origin": ""},
        {"origin": "a\nb"},
        {"origin": "a\rb"},
        {"size": -1},
        {"size": MAX_TREE_SIZE + 1},
        {"size": True},
        {"size": 1.0},
        {"root_hash": bytes(31)},
        {"root_hash": "00" * 32},
        {"extensions": ("",)},
        {"extensions": ("a\nb",)},
        {"extensions": "abc"},
    ],
)
def test_checkpoint_constructor_validates(kwargs: dict[str, object]) -> None:
    fields: dict[str, object] = {"origin": "o", "size": 1, "root_hash": bytes(32)}
    fields.update(kwargs)
    with pytest.raises(FormatError):
        Checkpoint(**fields)  # type: ignore[arg-type]


def test_checkpoint_text_layout() -> None:
    cp = Checkpoint("example.com/log", 42, bytes(range(32)), ("ext one", "ext two"))
    assert cp.to_text() == f"example.com/log\n42\n{HASH32_B64}\next one\next two\n"


def test_sign_and_open_checkpoint() -> None:
    cp = Checkpoint(ORIGIN, 7, bytes(range(32)), ("x",))
    note = sign_checkpoint(cp, LOG)
    assert note.startswith(cp.to_text() + "\n— example.com/svidok-test ")
    assert open_checkpoint(note, VERIFIER) == cp
    assert open_note(note, [VERIFIER]).text == cp.to_text()


def test_sign_checkpoint_refuses_key_not_named_after_origin() -> None:
    with pytest.raises(SignatureError, match="origin"):
        sign_checkpoint(Checkpoint("another.example/log", 1, bytes(32)), LOG)


def test_open_checkpoint_verifies_before_parsing() -> None:
    stranger = Signer.generate(ORIGIN)
    with pytest.raises(SignatureError):
        open_checkpoint(sign_note("not a checkpoint\n", stranger), VERIFIER)
    with pytest.raises(FormatError):  # signed by the right key, but not a checkpoint
        open_checkpoint(sign_note("not a checkpoint\n", LOG), VERIFIER)


def test_open_checkpoint_ignores_cosignatures_and_wrong_keys() -> None:
    cp = Checkpoint(ORIGIN, 3, bytes(32))
    witness = Signer.generate("witness.example/w1")
    cosigned = sign_note(cp.to_text(), LOG, witness)
    assert open_checkpoint(cosigned, VERIFIER) == cp
    # The witness's key is not the log's: its name is not the origin.
    with pytest.raises(SignatureError, match="not the expected"):
        open_checkpoint(cosigned, witness.verifier())
    with pytest.raises(SignatureError):
        open_checkpoint(sign_checkpoint(cp, LOG), Signer.generate(ORIGIN).verifier())


TD_LOG_SIGNERS = {
    "log": Signer.from_skey(TD_LOG[1]),
    "k1": Signer.from_skey(TD_KNOWN1[1]),
    "k2": Signer.from_skey(TD_KNOWN2[1]),
    "unknown": Signer.from_skey(TD_UNKNOWN[1]),
}


@pytest.mark.parametrize(
    ("signers", "origin", "body_ok", "outcome", "known_sigs"),
    [
        # The table of TestParseCheckpoint in transparency-dev/formats log/note_test.go.
        (["log"], "TestParseCheckpoint", True, None, 1),
        (["log"], "TestParseCheckpoint", False, FormatError, 1),
        (["log", "k1"], "TestParseCheckpoint", True, None, 2),
        (["log", "k1", "unknown"], "TestParseCheckpoint", True, None, 2),
        (["log", "k1", "k2"], "TestParseCheckpoint", True, None, 3),
        (["log", "k1", "k1"], "TestParseCheckpoint", True, None, 2),
        (["k2", "log", "k1"], "TestParseCheckpoint", True, None, 3),
        (["log", "k1", "k2", "unknown"], "TestParseCheckpoint", True, None, 3),
        (["k1", "k2"], "TestParseCheckpoint", True, SignatureError, 2),
        (
            ["log", "k1", "k2", "unknown"],
            "this is not the logID you are looking for",
            True,
            SignatureError,
            3,
        ),
    ],
)
def test_transparency_dev_parse_checkpoint_table(
    signers: list[str],
    origin: str,
    body_ok: bool,
    outcome: type[Exception] | None,
    known_sigs: int,
) -> None:
    body = (
        Checkpoint("TestParseCheckpoint", 42, hashlib.sha256(b"abcdef").digest()).to_text()
        if body_ok
        else "if this is a valid checkpoint then I'll eat my hat\n"
    )
    note = sign_note(body, *(TD_LOG_SIGNERS[s] for s in signers))
    known = [Verifier.from_vkey(k) for k, _ in (TD_LOG, TD_KNOWN1, TD_KNOWN2)]
    assert len(open_note(note, known).verified) == known_sigs
    log_verifier = known[0]
    if outcome is None:
        cp = open_checkpoint(note, log_verifier, origin=origin)
        assert (cp.origin, cp.size) == ("TestParseCheckpoint", 42)
    else:
        with pytest.raises(outcome):
            open_checkpoint(note, log_verifier, origin=origin)


def test_checkpoint_without_signatures_is_refused() -> None:
    # transparency-dev "no sigs": an unsigned checkpoint is not a note at all.
    with pytest.raises(FormatError):
        open_checkpoint(Checkpoint(ORIGIN, 1, bytes(32)).to_text(), VERIFIER)


# ------------------------------------------------------------------------------ receipts


def test_receipt_layout_matches_transparency_dev_marshal() -> None:
    h1 = hashlib.sha256(b"hash1").digest()
    h2 = hashlib.sha256(b"hash2").digest()
    b1, b2 = (base64.b64encode(h).decode() for h in (h1, h2))
    extra_b64 = base64.b64encode(b"extra information").decode()
    cases = [
        (Receipt(5, (h1, h2), SIGNED_CP), f"c2sp.org/tlog-proof@v1\nindex 5\n{b1}\n{b2}\n\n"),
        (
            Receipt(10, (h1,), SIGNED_CP, b"extra information"),
            f"c2sp.org/tlog-proof@v1\nextra {extra_b64}\nindex 10\n{b1}\n\n",
        ),
        (Receipt(0, (), SIGNED_CP), "c2sp.org/tlog-proof@v1\nindex 0\n\n"),
    ]
    for receipt, head in cases:
        assert receipt.to_text() == head + SIGNED_CP
        assert Receipt.parse(receipt.to_text()) == receipt
        assert Receipt.parse(receipt.to_text().encode()) == receipt


@pytest.mark.parametrize("name", sorted(TD_PROOF_ERRORS))
def test_transparency_dev_receipt_errors(name: str) -> None:
    template, message = TD_PROOF_ERRORS[name]
    with pytest.raises(FormatError, match=message):
        Receipt.parse(template.replace("{cp}", SIGNED_CP))


def test_c2sp_proof_example() -> None:
    # As published, the signatures are elided with "[...]": not a valid note.
    with pytest.raises(FormatError, match="signature"):
        Receipt.parse(C2SP_PROOF)
    # With a well-formed note in its place, the proof part reads as the document says.
    receipt = Receipt.parse(C2SP_PROOF_HEAD + SIGNED_CP)
    assert receipt.index == 73894
    assert len(receipt.proof) == 5
    assert receipt.proof[0] == base64.b64decode("gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=")
    assert receipt.extra is not None
    assert receipt.extra.startswith(b"age-v1.2.1-darwin-arm64.tar.gz")
    assert receipt.to_text() == C2SP_PROOF_HEAD + SIGNED_CP


def test_empty_extra_line_reads_as_empty_bytes() -> None:
    receipt = Receipt.parse(f"{RECEIPT_HEADER}\nextra \nindex 0\n\n{SIGNED_CP}")
    assert receipt.extra == b""
    assert receipt.to_text() == f"{RECEIPT_HEADER}\nextra \nindex 0\n\n{SIGNED_CP}"


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, 8, 9, 13])
def test_every_receipt_of_small_trees_verifies(size: int) -> None:
    for index in range(size):
        receipt = make_receipt(index, size)
        cp = verify_receipt(receipt, VERIFIER)
        assert (cp.origin, cp.size, cp.root_hash) == (ORIGIN, size, ref_root(ENTRIES[:size]))
        assert verify_receipt(receipt, VERIFIER, ENTRIES[index]) == cp
        # A court's view: nothing but the file's text and the log's vkey.
        again = Receipt.parse(receipt.to_text().encode())
        assert again == receipt
        assert verify_receipt(again, Verifier.from_vkey(VERIFIER.to_vkey())) == cp


def test_receipt_example_layout() -> None:
    receipt = make_receipt(2, 5)
    lines = receipt.to_text().split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1"
    assert lines[1] == "extra " + base64.b64encode(ENTRIES[2]).decode()
    assert lines[2] == "index 2"
    assert [base64.b64decode(x) for x in lines[3:6]] == ref_path(2, ENTRIES[:5])
    assert lines[6] == ""
    assert "\n".join(lines[7:]) == receipt.checkpoint_note


def test_receipt_without_extra_needs_the_entry() -> None:
    receipt = make_receipt(3, 5, with_extra=False)
    assert "extra" not in receipt.to_text()
    assert verify_receipt(receipt, VERIFIER, ENTRIES[3]).size == 5
    with pytest.raises(FormatError, match="no entry"):
        verify_receipt(receipt, VERIFIER)
    with pytest.raises(ProofError):
        verify_receipt(receipt, VERIFIER, ENTRIES[4])


def test_receipt_entry_must_match_extra() -> None:
    receipt = make_receipt(3, 5)
    with pytest.raises(ProofError, match="differs"):
        verify_receipt(receipt, VERIFIER, ENTRIES[4])


def test_receipt_with_cosigned_checkpoint_verifies() -> None:
    receipt = make_receipt(1, 4)
    cp = Checkpoint.parse(open_note(receipt.checkpoint_note, [VERIFIER]).text)
    cosigned = sign_note(cp.to_text(), LOG, Signer.generate("witness.example/w"))
    assert verify_receipt(Receipt(1, receipt.proof, cosigned, receipt.extra), VERIFIER) == cp


# Corruptions of a good receipt (entry 2 of 5) at the level of its fields.
def _flip(data: bytes, i: int, bit: int = 1) -> bytes:
    out = bytearray(data)
    out[i] ^= bit
    return bytes(out)


def _field_corruptions() -> dict[str, tuple[Callable[[Receipt], Receipt], type[Exception]]]:
    other_log = Signer(ORIGIN, hashlib.sha256(b"an attacker's key").digest())
    cases: dict[str, tuple[Callable[[Receipt], Receipt], type[Exception]]] = {
        "index + 1": (
            lambda r: Receipt(r.index + 1, r.proof, r.checkpoint_note, r.extra),
            ProofError,
        ),
        "index - 1": (
            lambda r: Receipt(r.index - 1, r.proof, r.checkpoint_note, r.extra),
            ProofError,
        ),
        "index = size": (lambda r: Receipt(5, r.proof, r.checkpoint_note, r.extra), ProofError),
        "index far out": (
            lambda r: Receipt(2**63, r.proof, r.checkpoint_note, r.extra),
            ProofError,
        ),
        "proof hash dropped": (
            lambda r: Receipt(r.index, r.proof[:-1], r.checkpoint_note, r.extra),
            ProofError,
        ),
        "first proof hash dropped": (
            lambda r: Receipt(r.index, r.proof[1:], r.checkpoint_note, r.extra),
            ProofError,
        ),
        "proof hash added": (
            lambda r: Receipt(r.index, (*r.proof, bytes(32)), r.checkpoint_note, r.extra),
            ProofError,
        ),
        "proof hashes swapped": (
            lambda r: Receipt(
                r.index, (r.proof[1], r.proof[0], *r.proof[2:]), r.checkpoint_note, r.extra
            ),
            ProofError,
        ),
        "proof emptied": (lambda r: Receipt(r.index, (), r.checkpoint_note, r.extra), ProofError),
        "extra replaced by another entry": (
            lambda r: Receipt(r.index, r.proof, r.checkpoint_note, ENTRIES[3]),
            ProofError,
        ),
        "extra with a trailing newline": (
            lambda r: Receipt(r.index, r.proof, r.checkpoint_note, (r.extra or b"") + b"\n"),
            ProofError,
        ),
        "extra emptied": (lambda r: Receipt(r.index, r.proof, r.checkpoint_note, b""), ProofError),
        "extra removed": (
            lambda r: Receipt(r.index, r.proof, r.checkpoint_note, None),
            FormatError,
        ),
        "checkpoint of a smaller tree": (
            lambda r: Receipt(r.index, r.proof, make_receipt(0, 4).checkpoint_note, r.extra),
            ProofError,
        ),
        "checkpoint of a larger tree": (
            lambda r: Receipt(r.index, r.proof, make_receipt(0, 6).checkpoint_note, r.extra),
            ProofError,
        ),
        "checkpoint signed by another key": (
            lambda r: Receipt(
                r.index, r.proof, make_receipt(2, 5, other_log).checkpoint_note, r.extra
            ),
            SignatureError,
        ),
        "checkpoint root replaced, signature kept": (
            lambda r: Receipt(
                r.index,
                r.proof,
                r.checkpoint_note.replace(
                    base64.b64encode(ref_root(ENTRIES[:5])).decode(), HASH32_B64
                ),
                r.extra,
            ),
            SignatureError,
        ),
        "checkpoint size changed, signature kept": (
            lambda r: Receipt(
                r.index, r.proof, r.checkpoint_note.replace("\n5\n", "\n6\n"), r.extra
            ),
            SignatureError,
        ),
    }

    def flip_proof(i: int, byte: int) -> Callable[[Receipt], Receipt]:
        def corrupt(r: Receipt) -> Receipt:
            proof = tuple(_flip(h, byte) if j == i else h for j, h in enumerate(r.proof))
            return Receipt(r.index, proof, r.checkpoint_note, r.extra)

        return corrupt

    def flip_extra(byte: int) -> Callable[[Receipt], Receipt]:
        def corrupt(r: Receipt) -> Receipt:
            extra = _flip(r.extra or b"", byte, 0x20)
            return Receipt(r.index, r.proof, r.checkpoint_note, extra)

        return corrupt

    for i in range(3):
        for byte in (0, 17, 31):
            cases[f"proof hash {i} byte {byte} flipped"] = (flip_proof(i, byte), ProofError)
    for byte in range(len(ENTRIES[2])):
        cases[f"extra byte {byte} flipped"] = (flip_extra(byte), ProofError)
    return cases


FIELD_CORRUPTIONS = _field_corruptions()


@pytest.mark.parametrize("name", sorted(FIELD_CORRUPTIONS))
def test_receipt_field_corruption_is_rejected(name: str) -> None:
    good = make_receipt(2, 5)
    assert verify_receipt(good, VERIFIER)
    corrupt, error = FIELD_CORRUPTIONS[name]
    bad = corrupt(good)
    assert bad != good
    with pytest.raises(error):
        verify_receipt(bad, VERIFIER)
    # Through the file too.
    with pytest.raises(error):
        verify_receipt(Receipt.parse(bad.to_text()), VERIFIER)


def test_receipt_wrong_key_or_origin_is_rejected() -> None:
    good = make_receipt(2, 5)
    with pytest.raises(SignatureError):
        verify_receipt(good, Signer.generate(ORIGIN).verifier())
    with pytest.raises(SignatureError):
        verify_receipt(good, Verifier.from_vkey(TD_LOG[0]))
    with pytest.raises(SignatureError, match="not the expected"):
        verify_receipt(good, VERIFIER, origin="example.com/another-log")


def test_every_one_character_edit_of_a_receipt_is_rejected() -> None:
    good = make_receipt(2, 5).to_text()
    assert verify_receipt(Receipt.parse(good), VERIFIER)
    variants: set[str] = set()
    for i in range(len(good) + 1):
        for ch in ("A", "0", "\n", " ", "+"):
            variants.add(good[:i] + ch + good[i:])
        if i < len(good):
            variants.add(good[:i] + good[i + 1 :])
            for ch in ("A", "B", "\n", "="):
                variants.add(good[:i] + ch + good[i + 1 :])
    variants.discard(good)
    accepted = []
    for text in variants:
        try:
            verify_receipt(Receipt.parse(text), VERIFIER)
        except (FormatError, SignatureError, ProofError):
            continue
        accepted.append(text)
    assert accepted == []


def test_receipt_constructor_validates() -> None:
    with pytest.raises(FormatError):
        Receipt(-1, (), SIGNED_CP)
    with pytest.raises(FormatError):
        Receipt(MAX_TREE_SIZE, (), SIGNED_CP)
    with pytest.raises(FormatError):
        Receipt(True, (), SIGNED_CP)
    with pytest.raises(FormatError):
        Receipt(0, (bytes(31),), SIGNED_CP)
    with pytest.raises(FormatError):
        Receipt(0, bytes(32), SIGNED_CP)  # type: ignore[arg-type]
    with pytest.raises(FormatError):
        Receipt(0, (bytes(32),) * (MAX_PROOF_HASHES + 1), SIGNED_CP)
    with pytest.raises(FormatError):
        Receipt(0, (), "not a note\n")
    with pytest.raises(FormatError):
        Receipt(0, (), SIGNED_CP, "text")  # type: ignore[arg-type]
    with pytest.raises(FormatError):
        Receipt(0, (), SIGNED_CP, bytes(MAX_RECEIPT_BYTES))
    assert Receipt(0, (bytes(32),) * MAX_PROOF_HASHES, SIGNED_CP).proof[0] == bytes(32)


@pytest.mark.parametrize(
    "text",
    [
        "",
        RECEIPT_HEADER,
        RECEIPT_HEADER + "\n",
        RECEIPT_HEADER + "\nindex 0\n",
        RECEIPT_HEADER + "\nindex 0\n\n",
        "c2sp.org/tlog-proof@v2\nindex 0\n\n{cp}",
        " c2sp.org/tlog-proof@v1\nindex 0\n\n{cp}",
        RECEIPT_HEADER + "\nindex 00\n\n{cp}",
        RECEIPT_HEADER + "\nindex  0\n\n{cp}",
        RECEIPT_HEADER + "\nindex 0 \n\n{cp}",
        RECEIPT_HEADER + f"\nindex {MAX_TREE_SIZE}\n\n{{cp}}",
        RECEIPT_HEADER + f"\nindex {MAX_TREE_SIZE + 1}\n\n{{cp}}",
        RECEIPT_HEADER + "\nindex\n\n{cp}",
        RECEIPT_HEADER + "\nIndex 0\n\n{cp}",
        RECEIPT_HEADER + "\nindex 0\nextra AAAA\n\n{cp}",
        RECEIPT_HEADER + "\nextra AAAA\nextra AAAA\nindex 0\n\n{cp}",
        RECEIPT_HEADER + "\nextra AAA\nindex 0\n\n{cp}",
        RECEIPT_HEADER + "\nextra AAB=\nindex 0\n\n{cp}",
        RECEIPT_HEADER + "\nextraAAAA\nindex 0\n\n{cp}",
        RECEIPT_HEADER + "\nindex 0\n" + HASH32_B64.rstrip("=") + "\n\n{cp}",
        RECEIPT_HEADER + "\nindex 0\n" + (HASH32_B64 + "\n") * (MAX_PROOF_HASHES + 1) + "\n{cp}",
        RECEIPT_HEADER + "\r\nindex 0\r\n\r\n{cp}",
        RECEIPT_HEADER + "\nindex 0\n\n{cp}\n",
        RECEIPT_HEADER + "\nindex 0\n\n{cp}x",
        "{cp}",
    ],
)
def test_malformed_receipts(text: str) -> None:
    with pytest.raises(FormatError):
        Receipt.parse(text.replace("{cp}", SIGNED_CP))


def test_receipt_non_utf8_and_huge_inputs() -> None:
    good = make_receipt(1, 3).to_text().encode()
    with pytest.raises(FormatError, match="UTF-8"):
        Receipt.parse(good.replace(b"index", b"ind\xffex"))
    with pytest.raises(FormatError, match="larger than"):
        Receipt.parse(b"c2sp.org/tlog-proof@v1\nextra " + b"A" * MAX_RECEIPT_BYTES)
    with pytest.raises(FormatError, match="larger than"):
        Receipt.parse("c2sp.org/tlog-proof@v1\nextra " + "A" * MAX_RECEIPT_BYTES)
    with pytest.raises(FormatError):
        Receipt.parse(None)  # type: ignore[arg-type]


def test_receipt_with_a_large_entry_round_trips() -> None:
    entry = b"x" * (1 << 20)  # the ledger's largest entry
    size = 3
    entries = [entry, *ENTRIES[1:size]]
    cp = Checkpoint(ORIGIN, size, ref_root(entries))
    receipt = Receipt(0, tuple(ref_path(0, entries)), sign_checkpoint(cp, LOG), entry)
    assert verify_receipt(Receipt.parse(receipt.to_text()), VERIFIER) == cp


# ------------------------------------------------------------------------------ fuzzing

CP_ALPHABET = "0123456789abcAB+/=\n \r\x00é—-"


def _mutate(draw: Callable[[st.SearchStrategy[Any]], Any], base: str) -> str:
    chars = list(base)
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(chars)))
        ch = draw(st.sampled_from(CP_ALPHABET))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        if op == "insert":
            chars.insert(pos, ch)
        elif pos < len(chars):
            if op == "delete":
                del chars[pos]
            else:
                chars[pos] = ch
    return "".join(chars)


@st.composite
def mutated_checkpoints(draw: st.DrawFn) -> str:
    bases = [C2SP_CHECKPOINT, C2SP_PROOF_CHECKPOINT, *TD_CHECKPOINT_TEXTS.values()]
    base = draw(st.sampled_from(bases))
    return _mutate(draw, base)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet=CP_ALPHABET), mutated_checkpoints()))
def test_fuzz_checkpoint_parse(text: str) -> None:
    try:
        cp = Checkpoint.parse(text)
    except FormatError:
        return
    assert cp.to_text() == text  # whatever parses is in canonical form


GOOD_RECEIPTS = [make_receipt(2, 5).to_text(), make_receipt(0, 1, with_extra=False).to_text()]


@st.composite
def mutated_receipts(draw: st.DrawFn) -> str:
    return _mutate(draw, draw(st.sampled_from(GOOD_RECEIPTS)))


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), st.text(alphabet=CP_ALPHABET), mutated_receipts()))
def test_fuzz_receipt_parse_and_verify(text: str) -> None:
    try:
        receipt = Receipt.parse(text)
    except FormatError:
        return
    assert receipt.to_text() == text
    try:
        verify_receipt(receipt, VERIFIER, None if receipt.extra is not None else ENTRIES[0])
    except (FormatError, SignatureError, ProofError):
        return
    assert text in GOOD_RECEIPTS


@settings(max_examples=200, deadline=None)
@given(st.binary())
def test_fuzz_receipt_parse_bytes(data: bytes) -> None:
    try:
        Receipt.parse(data)
    except FormatError:
        return


LINE_TEXT = st.text(
    alphabet=st.characters(
        exclude_categories=["Cs"], exclude_characters=[chr(c) for c in range(0x20)]
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(
    LINE_TEXT,
    st.integers(0, MAX_TREE_SIZE),
    st.binary(min_size=32, max_size=32),
    st.lists(LINE_TEXT, max_size=3),
)
def test_checkpoint_round_trip(origin: str, size: int, root: bytes, ext: list[str]) -> None:
    cp = Checkpoint(origin, size, root, tuple(ext))
    assert Checkpoint.parse(cp.to_text()) == cp


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, MAX_TREE_SIZE - 1),
    st.lists(st.binary(min_size=32, max_size=32), max_size=MAX_PROOF_HASHES),
    st.one_of(st.none(), st.binary(max_size=300)),
)
def test_receipt_round_trip(index: int, proof: list[bytes], extra: bytes | None) -> None:
    receipt = Receipt(index, tuple(proof), SIGNED_CP, extra)
    assert Receipt.parse(receipt.to_text()) == receipt
    assert Receipt.parse(receipt.to_text().encode()) == receipt


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 40), st.data())
def test_receipts_of_random_trees_verify(size: int, data: st.DataObject) -> None:
    entries = [b"entry %d" % i for i in range(size)]
    index = data.draw(st.integers(0, size - 1))
    cp = Checkpoint(ORIGIN, size, ref_root(entries))
    receipt = Receipt(
        index, tuple(ref_path(index, entries)), sign_checkpoint(cp, LOG), entries[index]
    )
    assert verify_receipt(Receipt.parse(receipt.to_text()), VERIFIER) == cp
    other = data.draw(st.integers(0, size - 1))
    if other != index:
        with pytest.raises(ProofError):
            verify_receipt(receipt, VERIFIER, entries[other])
