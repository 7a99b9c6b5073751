"""Ledger entries: one RFC 8785 canonical JSON document per entry, one entry per line.

Every entry is a JSON object with exactly these members::

    {"svidok": 1,                 format version of the entry
     "index": 41,                 position in the log (leaf index), from 0
     "type": "acquisition",       what happened (see ENTRY_TYPES)
     "time": "2026-...Z",         when it was appended, UTC, RFC 3339 with microseconds
     "actor": "Olena K.",         who acted (the collector, or the operating-system user)
     "tool": "svidok 0.1.0",      the software and version that wrote it
     "host": "laptop-7",          the machine it was written on
     "data": {...}}               the event itself, by type (docs/formats.md)

The bytes of a line (without its final newline) are the RFC 9162 leaf: leaf hash =
SHA-256(0x00 || line).

Entries are readable by anyone holding the ledger. Witness identities, contact details and
secrets are never written into them in clear; what intake records (case, collector, source,
note, paths, host, file owner ids, extracted metadata such as GPS or camera serials) is
provenance that investigators need to show, and is written as given.
"""

from __future__ import annotations

import json
import math
import platform
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeAlias

import msgspec
import orjson
import rfc8785

from svidok import TOOL_NAME, __version__
from svidok.errors import LedgerCorruptError

JSONValue: TypeAlias = str | int | float | bool | list["JSONValue"] | dict[str, "JSONValue"] | None

ENTRY_FORMAT = 1
ENTRY_TYPES = frozenset(
    {
        "init",  # a new data home: origin, public key, store layout
        "key",  # key events (so far only "created": the home signing key)
        "acquisition",  # original bytes received from a source into an object
        "extraction",  # the result of a metadata extraction on an object
        "derivative",  # a preview made from an object, stored as an object of its own
        "derivative.failed",  # previews of an object could not (all) be made, and why
        "text.failed",  # the text of an original could not be extracted (search), and why
        "search.read",  # a search showed text extracted from originals: which, why (search)
        "intake.skip",  # something found during intake that was not preserved, and why
        "verification",  # a verification run and its result
        # casework (docs/formats.md, "Casework entries")
        "user.create",  # a user account (never a password or any secret)
        "user.update",
        "case.create",
        "case.update",
        "member.grant",  # a user's role on a case
        "member.revoke",
        "record.create",  # an item, incident, person, place or source in a case
        "record.update",
        "link.add",  # item-incident, person-incident or item-person
        "link.remove",
        "assessment",  # a change of verification status, with rationale
        "access",  # evidence content viewed or downloaded
        "token.create",  # an API token issued (its secret never)
        "token.revoke",
        "export",  # items handed over in a package: to whom, why
        "capture",  # a web page captured: URL, status, TLS, tools, and the objects it made
        "perceptual_hash",  # PDQ / vPDQ hashes of an original, or why it could not be hashed
        "duplicate.decision",  # a pair of items confirmed or rejected as near-duplicates
    }
)
_MEMBERS = frozenset({"svidok", "index", "type", "time", "actor", "tool", "host", "data"})
_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z\Z")
MAX_ENTRY_BYTES = 1 << 20
_HOST = platform.node()


def tool_id() -> str:
    """The software name and version written into every entry."""
    return f"{TOOL_NAME} {__version__}"


def utc_now() -> str:
    """The current time as written in entries: UTC, microseconds, ``Z``."""
    return format_time(datetime.now(UTC))


def format_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# The fast encoders give exactly the RFC 8785 form unless the value holds floats (number
# formatting differs), integers beyond 2^53 (JCS numbers are doubles) or object keys
# outside the Basic Multilingual Plane (JCS sorts keys by UTF-16 code units).
_SAFE_INT = 2**53
_EXACT, _FLOATS, _REFERENCE = 0, 1, 2


def _fast_form(value: Any) -> int:
    """How ``value`` can be encoded: ``_EXACT`` when the fast encoder's sorted output is its
    RFC 8785 form; ``_FLOATS`` when only floats need the reference number formatting;
    ``_REFERENCE`` for integers beyond 2^53 or object keys outside the BMP (JCS sorts keys
    by UTF-16 code units)."""
    stack = [value]
    found = _EXACT
    while stack:
        v = stack.pop()
        t = type(v)
        if t is dict:
            for k in v:
                if not k.isascii() and max(k) > "\ud7ff":
                    return _REFERENCE
            stack.extend(v.values())
        elif t is list:
            stack.extend(v)
        elif t is float:
            found = _FLOATS
        elif t is int and not -_SAFE_INT < v < _SAFE_INT:
            return _REFERENCE
    return found


def _fast_form_is_exact(value: Any) -> bool:
    return _fast_form(value) == _EXACT


def es6_number(value: float) -> bytes:
    """A float as RFC 8785 writes it (ECMAScript Number::toString, RFC 8785 §3.2.2.3).

    Python's ``repr`` gives the shortest digits that round-trip, as ECMAScript requires;
    only the layout differs. Checked against the ``rfc8785`` reference by property tests.
    """
    if value != value or value in (math.inf, -math.inf):
        raise ValueError("NaN and infinities cannot go into JSON")
    if value == 0:
        return b"0"
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    if fraction == "0":
        fraction = ""
    raw = whole + fraction
    stripped = raw.lstrip("0")
    point = len(whole) - (len(raw) - len(stripped)) + (int(exponent) if exponent else 0)
    digits = stripped.rstrip("0")
    k = len(digits)
    if k <= point <= 21:
        text = digits + "0" * (point - k)
    elif 0 < point <= 21:
        text = f"{digits[:point]}.{digits[point:]}"
    elif -6 < point <= 0:
        text = "0." + "0" * -point + digits
    else:
        power = point - 1
        text = (
            digits[0]
            + (f".{digits[1:]}" if k > 1 else "")
            + f"e{'+' if power >= 0 else '-'}{abs(power)}"
        )
    return ("-" + text if value < 0 else text).encode("ascii")


def _swap_floats(value: Any, token: str, floats: list[float]) -> Any:
    """A copy of ``value`` with every float replaced by ``token`` + its position."""
    t = type(value)
    if t is float:
        floats.append(value)
        return f"{token}{len(floats) - 1}"
    if t is dict:
        return {k: _swap_floats(v, token, floats) for k, v in value.items()}
    if t is list:
        return [_swap_floats(v, token, floats) for v in value]
    return value


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) canonical form of a JSON value, as UTF-8 bytes.

    ``orjson`` writes the structure and strings (its sorted output is the JCS form when
    there are no floats, no integers beyond 2^53 and no keys outside the BMP; property
    tests check this against the ``rfc8785`` reference); floats are written by the
    ``rfc8785`` package's number formatting, each in its place; anything else goes to the
    ``rfc8785`` package whole. Raises ``ValueError`` for values JSON cannot carry exactly
    (NaN, infinities, lone surrogates, integers beyond 2^53, keys that are not strings).
    """
    form = _fast_form(value)
    try:
        if form == _EXACT:
            return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        if form == _FLOATS:
            token = f"\x00jcs-{secrets.token_hex(8)}-"  # unpredictable: cannot be forged
            floats: list[float] = []
            text = orjson.dumps(_swap_floats(value, token, floats), option=orjson.OPT_SORT_KEYS)
            numbers = [es6_number(f) for f in floats]
            first, *rest = text.split(orjson.dumps(token)[:-1])  # '"' + token, escaped
            out = [first]
            for part in rest:  # each part starts with '<position>"'
                end = part.index(b'"')
                out += (numbers[int(part[:end])], part[end + 1 :])
            return b"".join(out)
    except orjson.JSONEncodeError as exc:
        raise ValueError(f"value cannot be put into JSON: {exc}") from exc
    except (rfc8785.CanonicalizationError, TypeError) as exc:
        raise ValueError(f"value cannot be canonicalised: {exc}") from exc
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError, TypeError) as exc:
        raise ValueError(f"value cannot be canonicalised: {exc}") from exc


def _jcs_number(text: str) -> int | float:
    number = int(text)
    return number if -(2**53) < number < 2**53 else float(number)


class _NotCanonicalNumber(Exception):
    """Raised by the checking decoder at a number not written as RFC 8785 writes it."""


_decoding = threading.local()  # .floats: the text being decoded holds a float


def _checked_float(text: str) -> orjson.Fragment:
    """Decoder hook for every JSON number with a fraction or exponent: it must be exactly
    the ECMAScript form of its value; kept as written, so re-encoding gives it back."""
    try:
        same = es6_number(float(text)) == text.encode("ascii")
    except ValueError:  # beyond the range of a double
        same = False
    if not same:
        raise _NotCanonicalNumber
    _decoding.floats = True
    return orjson.Fragment(text)


class EntryFields(msgspec.Struct, forbid_unknown_fields=True):
    """An entry's members, typed (decoding checks them)."""

    actor: str
    data: dict[str, Any]
    host: str
    index: Annotated[int, msgspec.Meta(ge=0)]
    svidok: Literal[1]
    time: Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z\Z")]
    tool: str
    type: str


_CHECKING = msgspec.json.Decoder(float_hook=_checked_float)
_CHECKING_ENTRY = msgspec.json.Decoder(EntryFields, float_hook=_checked_float)
_PLAIN = msgspec.json.Decoder()
# The fast path is exact unless the text holds a character outside the BMP (JCS sorts keys
# by UTF-16 code units) or an integer beyond 2^53 (JCS numbers are doubles), which the
# encoder refuses (OPT_STRICT_INTEGER): those lines are checked the exact way.
_NON_BMP = re.compile(rb"[\xf0-\xf4]")
_FAST_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER


def _fast_path(raw: bytes) -> bool:
    return raw.isascii() or _NON_BMP.search(raw) is None


def _encodes_to(value: Any, raw: bytes) -> bool | None:
    """Whether ``value`` (floats kept as written) encodes exactly to ``raw``; None when
    the fast encoder cannot tell (an integer beyond 2^53, a lone surrogate)."""
    try:
        return orjson.dumps(value, option=_FAST_OPTIONS) == raw
    except orjson.JSONEncodeError:
        return None


def _decode_checking(decoder: msgspec.json.Decoder[Any], raw: bytes) -> tuple[Any, bool]:
    """Decode with every float checked; also whether the text held a float."""
    _decoding.floats = False
    value = decoder.decode(raw)
    return value, _decoding.floats


def _reference_parse(raw: bytes) -> Any:
    """The exact check: parse (numbers as JCS reads them), write canonically, compare."""
    try:
        # JSON numbers are IEEE doubles in JCS: integers beyond 2^53 are read as such
        value = json.loads(raw, parse_int=_jcs_number)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"not valid JSON: {exc}") from exc
    try:
        same = canonical_json(value) == raw
    except ValueError:
        same = False
    if not same:
        raise ValueError("not in RFC 8785 canonical form")
    return value


def parse_canonical(raw: bytes) -> Any:
    """Parse JSON text and check that ``raw`` is exactly its RFC 8785 form.

    Fast path (no character outside the BMP, no integer of 16 digits or more): decode,
    checking every float's text against its ECMAScript form and keeping it as written,
    re-encode with sorted keys and compare. Anything else is checked the exact way.
    Property tests hold both to the ``rfc8785`` reference. Raises ``ValueError`` when it
    is not JSON or not canonical.
    """
    if not _fast_path(raw):
        return _reference_parse(raw)
    try:
        value, floats = _decode_checking(_CHECKING, raw)
    except _NotCanonicalNumber:
        raise ValueError("not in RFC 8785 canonical form") from None
    except msgspec.DecodeError as exc:
        raise ValueError(f"not valid JSON: {exc}") from exc
    same = _encodes_to(value, raw)
    if same is None:
        return _reference_parse(raw)
    if not same:
        raise ValueError("not in RFC 8785 canonical form")
    return _PLAIN.decode(raw) if floats else value


def check_document(doc: Any, expected_index: int | None = None) -> str | None:
    """What is wrong with a parsed entry's structure, in words; None when it is sound."""
    if not isinstance(doc, dict) or doc.keys() != _MEMBERS:
        return f"does not have exactly the members {sorted(_MEMBERS)}"
    index = doc["index"]
    if not (
        type(doc["svidok"]) is int
        and doc["svidok"] == ENTRY_FORMAT
        and type(index) is int
        and index >= 0
        and doc["type"] in ENTRY_TYPES
        and isinstance(doc["time"], str)
        and _TIME_RE.match(doc["time"]) is not None
        and isinstance(doc["actor"], str)
        and isinstance(doc["tool"], str)
        and isinstance(doc["host"], str)
        and isinstance(doc["data"], dict)
    ):
        return "has a member of the wrong type or value"
    if expected_index is not None and index != expected_index:
        return f"says it is entry {index}"
    return None


def _entry_problem(raw: bytes, expected_index: int | None) -> str:
    """Why ``raw`` is not an entry, in words (the slow path, for lines that are not)."""
    try:
        doc = parse_canonical(raw)
    except ValueError as exc:
        return f"is {exc}"
    return check_document(doc, expected_index) or "has a member of the wrong type or value"


def entry_fields(raw: bytes, expected_index: int | None = None) -> EntryFields:
    """Parse and check one stored line (without its newline); ``ValueError`` in words
    (completing "the line ...") when it is not a canonical, well-formed entry.

    Checks: valid UTF-8 JSON object, exactly the known members with the right types,
    canonical form (the bytes are exactly the RFC 8785 encoding of the value), and the
    index when one is expected. The fast path decodes straight into the typed fields.
    """
    exact = not _fast_path(raw)
    if not exact:
        _decoding.floats = False
        try:
            fields: EntryFields = _CHECKING_ENTRY.decode(raw)
        except (_NotCanonicalNumber, msgspec.DecodeError):
            pass  # explained by the slow path below
        else:
            doc = {
                "actor": fields.actor,
                "data": fields.data,
                "host": fields.host,
                "index": fields.index,
                "svidok": fields.svidok,
                "time": fields.time,
                "tool": fields.tool,
                "type": fields.type,
            }
            same = _encodes_to(doc, raw)
            exact = same is None
            if (
                same
                and fields.type in ENTRY_TYPES
                and (expected_index is None or fields.index == expected_index)
            ):
                if _decoding.floats:
                    fields.data = _PLAIN.decode(raw)["data"]
                return fields
    if exact:
        try:
            doc = _reference_parse(raw)
        except ValueError:
            pass
        else:
            if check_document(doc, expected_index) is None:
                return EntryFields(**doc)
    raise ValueError(_entry_problem(raw, expected_index))


def read_entry(raw: bytes, expected_index: int | None = None) -> Entry:
    """:func:`entry_fields` as an :class:`Entry`."""
    f = entry_fields(raw, expected_index)
    return Entry(f.index, f.type, f.time, f.actor, f.tool, f.host, f.data, raw)


@dataclass(frozen=True)
class Draft:
    """An entry before the log gives it an index and a time."""

    type: str
    actor: str
    data: dict[str, JSONValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.type not in ENTRY_TYPES:
            raise ValueError(f"unknown ledger entry type {self.type!r}")


@dataclass(frozen=True)
class Entry:
    """An entry as stored: the parsed document and its exact bytes."""

    index: int
    type: str
    time: str
    actor: str
    tool: str
    host: str
    data: Mapping[str, JSONValue]
    raw: bytes

    @classmethod
    def create(cls, draft: Draft, index: int, time: str | None = None) -> Entry:
        doc: dict[str, JSONValue] = {
            "svidok": ENTRY_FORMAT,
            "index": index,
            "type": draft.type,
            "time": time or utc_now(),
            "actor": draft.actor,
            "tool": tool_id(),
            "host": _HOST,
            "data": draft.data,
        }
        raw = canonical_json(doc)
        if len(raw) > MAX_ENTRY_BYTES:
            raise ValueError(f"ledger entry of {len(raw)} bytes exceeds {MAX_ENTRY_BYTES}")
        return cls._from_doc(doc, raw)

    @classmethod
    def _from_doc(cls, doc: Mapping[str, Any], raw: bytes) -> Entry:
        return cls(
            index=doc["index"],
            type=doc["type"],
            time=doc["time"],
            actor=doc["actor"],
            tool=doc["tool"],
            host=doc["host"],
            data=doc["data"],
            raw=raw,
        )

    @classmethod
    def parse(cls, raw: bytes, expected_index: int | None = None) -> Entry:
        """Parse and check one stored line (without its newline).

        Checks: valid UTF-8 JSON object, exactly the known members with the right types,
        canonical form (the bytes are exactly the RFC 8785 encoding of the value), and the
        index when one is expected. Raises ``LedgerCorruptError`` in plain words.
        """
        try:
            return read_entry(raw, expected_index)
        except ValueError as exc:
            where = f"entry {expected_index}" if expected_index is not None else "entry"
            raise LedgerCorruptError(f"{where} {exc}") from exc
