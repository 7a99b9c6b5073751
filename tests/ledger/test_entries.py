"""Entries: canonical JSON must be exactly RFC 8785, checked against the reference package."""

from __future__ import annotations

import json

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from svidok.errors import LedgerCorruptError
from svidok.ledger.entries import Draft, Entry, canonical_json

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5)
    ),
    max_leaves=25,
)


def _valid_unicode(value: object) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


@settings(max_examples=400)
@given(json_values)
def test_canonical_json_equals_rfc8785_reference(value: object) -> None:
    if not _valid_unicode(value):
        with pytest.raises(ValueError):
            canonical_json(value)
        return
    assert canonical_json(value) == rfc8785.dumps(value)


def test_key_order_is_utf16_not_code_point() -> None:
    # RFC 8785 §3.2.3: keys sort by UTF-16 code units; U+1F600 (surrogates D83D..) sorts
    # before U+FF61 although its code point is larger.
    value = {"\U0001f600": 1, "\uff61": 2, "a": 3}
    assert canonical_json(value) == rfc8785.dumps(value)
    assert canonical_json(value).index("\U0001f600".encode()) < canonical_json(value).index(
        "\uff61".encode()
    )


def test_rfc8785_published_example() -> None:
    # The example of RFC 8785 §3.2.2 (numbers and string escapes), as published.
    value = json.loads(
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,'
        '1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_json(value) == expected.encode("utf-8")


def test_non_finite_and_surrogates_refused() -> None:
    for bad in (float("nan"), float("inf"), {"a": [float("-inf")]}, "\ud800"):
        with pytest.raises(ValueError):
            canonical_json(bad)


def test_entry_roundtrip_and_tamper() -> None:
    e = Entry.create(
        Draft(
            "acquisition", "Olena", {"object": "sha256:" + "0" * 64, "note": "line\nbreak \u202e"}
        ),
        7,
    )
    assert b"\n" not in e.raw
    assert Entry.parse(e.raw, expected_index=7).data == e.data
    with pytest.raises(LedgerCorruptError):
        Entry.parse(e.raw, expected_index=8)
    spaced = json.dumps(json.loads(e.raw), indent=1).encode()
    with pytest.raises(LedgerCorruptError, match="canonical"):
        Entry.parse(spaced)
    dup = e.raw.replace(b'{"actor"', b'{"actor":"x","actor"', 1)
    with pytest.raises(LedgerCorruptError):
        Entry.parse(dup)
    for junk in (b"", b"[]", b"{", b"\xff\xfe", b'{"svidok":1}', e.raw + b" "):
        with pytest.raises(LedgerCorruptError):
            Entry.parse(junk)


def test_unknown_type_refused() -> None:
    with pytest.raises(ValueError):
        Draft("made-up", "x", {})


@settings(max_examples=400)
@given(json_values)
def test_parse_canonical_accepts_exactly_the_reference_form(value: object) -> None:
    from svidok.ledger.entries import parse_canonical

    if not _valid_unicode(value):
        return
    reference = rfc8785.dumps(value)
    assert rfc8785.dumps(parse_canonical(reference)) == reference
    for other in (
        json.dumps(value).encode(),
        json.dumps(value, indent=1).encode(),
        json.dumps(value, sort_keys=True, separators=(",", ":")).encode(),
    ):
        if other != reference:
            with pytest.raises(ValueError):
                parse_canonical(other)


def test_float_forms_that_fast_encoders_print_differently() -> None:
    from svidok.ledger.entries import parse_canonical

    for value, jcs in ((100.0, b"100"), (1e21, b"1e+21"), (1e-7, b"1e-7"), (0.000001, b"0.000001")):
        assert canonical_json({"x": value}) == b'{"x":' + jcs + b"}"
        parse_canonical(b'{"x":' + jcs + b"}")
    for wrong in (b'{"x":100.0}', b'{"x":1e21}', b'{"x":1e-06}', b'{"x":9007199254740993}'):
        with pytest.raises(ValueError):
            parse_canonical(wrong)


@settings(max_examples=3000)
@given(
    st.floats(allow_nan=False, allow_infinity=False)
    | st.binary(min_size=8, max_size=8).map(lambda b: __import__("struct").unpack("<d", b)[0])
)
def test_es6_number_matches_reference(value: float) -> None:
    from svidok.ledger.entries import es6_number

    if value != value or value in (float("inf"), float("-inf")):
        with pytest.raises(ValueError):
            es6_number(value)
        return
    assert es6_number(value) == rfc8785.dumps(value)


def test_es6_number_published_examples() -> None:
    from svidok.ledger.entries import es6_number

    # RFC 8785 appendix B (IEEE-754 hex -> expected JSON text)
    cases = {
        "0000000000000000": "0",
        "8000000000000000": "0",
        "0000000000000001": "5e-324",
        "7fefffffffffffff": "1.7976931348623157e+308",
        "4340000000000000": "9007199254740992",
        "444b1ae4d6e2ef50": "1e+21",
        "3eb0c6f7a0b5ed8d": "0.000001",
        "3eb0c6f7a0b5ed8c": "9.999999999999997e-7",
        "41b3de4355555555": "333333333.3333333",
    }
    for hexbits, expected in cases.items():
        value = __import__("struct").unpack(">d", bytes.fromhex(hexbits))[0]
        assert es6_number(value) == expected.encode()


def _reference_accepts(raw: bytes) -> bool:
    """RFC 8785 by the reference package: the text is exactly the canonical form of what
    it says (JSON numbers are doubles, so integers are read as JCS reads them)."""
    from svidok.ledger.entries import _jcs_number

    try:
        value = json.loads(raw, parse_int=_jcs_number)
        return bool(rfc8785.dumps(value) == raw)
    except (ValueError, UnicodeDecodeError, rfc8785.CanonicalizationError, TypeError):
        return False


_TRICKY = [
    b"0",
    b"1",
    b"-",
    b".",
    b"e",
    b"E",
    b"+",
    b'"',
    b"\\",
    b",",
    b":",
    b"[",
    b"]",
    b"{",
    b"}",
    b" ",
    b"\n",
    b"1.0",
    b"1e21",
    b"1e+21",
    b"0.1",
    b"9007199254740993",
    b"-0",
    b"\\u00e9",
    b"\xc3\xa9",
    b"\xf0\x9f\x98\x80",
    b"\\ud83d\\ude00",
    b"\\ud800",
    b"\x7f",
    b"\\u001f",
    b"\\/",
    b"true",
    b"null",
]


@settings(max_examples=1500)
@given(json_values, st.data())
def test_parse_canonical_agrees_with_reference_on_mutated_text(
    value: object, data: st.DataObject
) -> None:
    """Byte edits of canonical text (numbers, escapes, keys, non-BMP characters...): the
    fast path accepts exactly what the reference accepts, and returns the same value."""
    from svidok.ledger.entries import parse_canonical

    if not _valid_unicode(value):
        return
    raw = rfc8785.dumps(value)
    for _ in range(data.draw(st.integers(0, 3), label="edits")):
        at = data.draw(st.integers(0, len(raw)), label="at")
        cut = data.draw(st.integers(0, 3), label="cut")
        piece = data.draw(st.sampled_from(_TRICKY) | st.binary(max_size=3), label="piece")
        raw = raw[:at] + piece + raw[at + cut :]
    if _reference_accepts(raw):
        assert rfc8785.dumps(parse_canonical(raw)) == raw
    else:
        with pytest.raises(ValueError):
            parse_canonical(raw)


_entry_data = st.dictionaries(st.text(max_size=8), json_values, max_size=4)


@settings(max_examples=800)
@given(_entry_data, st.data())
def test_entry_fast_path_agrees_with_the_slow_checks(data_value: dict, data: st.DataObject) -> None:
    """The typed fast path accepts exactly the lines the generic parse plus the structure
    check accept, with the same fields; mutations included."""
    from svidok.ledger.entries import check_document, entry_fields, parse_canonical

    if not _valid_unicode(data_value):
        return
    raw = Entry.create(Draft("extraction", "Olena", data_value), 3).raw
    for _ in range(data.draw(st.integers(0, 2), label="edits")):
        at = data.draw(st.integers(0, len(raw)), label="at")
        cut = data.draw(st.integers(0, 3), label="cut")
        piece = data.draw(st.sampled_from(_TRICKY) | st.binary(max_size=3), label="piece")
        raw = raw[:at] + piece + raw[at + cut :]
    try:
        doc = parse_canonical(raw)
    except ValueError:
        doc = None
    expected = data.draw(st.sampled_from([None, 3, 4]), label="expected")
    if doc is not None and check_document(doc, expected) is None:
        fields = entry_fields(raw, expected)
        assert (fields.index, fields.type, fields.time, fields.data) == (
            doc["index"],
            doc["type"],
            doc["time"],
            doc["data"],
        )
    else:
        with pytest.raises(ValueError):
            entry_fields(raw, expected)


def test_entry_time_must_end_the_string() -> None:
    e = Entry.create(Draft("acquisition", "Olena", {}), 0)
    bad = e.raw.replace(b'Z","tool"', b'Z\\n","tool"')
    assert bad != e.raw
    with pytest.raises(LedgerCorruptError, match="wrong type or value"):
        Entry.parse(bad)
