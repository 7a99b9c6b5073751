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
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeAlias

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
        "intake.skip",  # something found during intake that was not preserved, and why
        "verification",  # a verification run and its result
    }
)
_MEMBERS = frozenset({"svidok", "index", "type", "time", "actor", "tool", "host", "data"})
_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
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


def _fast_safe(value: object) -> bool:
    """True when ``json.dumps(sort_keys=True)`` gives exactly the RFC 8785 form of ``value``.

    That holds for strings, integers in the IEEE-754 safe range, booleans, null, lists and
    objects whose keys are all in the Basic Multilingual Plane below the surrogates (so code
    point order equals UTF-16 order). Floats always go through the reference encoder.
    """
    if isinstance(value, str):
        return True
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int):
        return -(2**53) < value < 2**53
    if isinstance(value, list):
        return all(_fast_safe(v) for v in value)
    if isinstance(value, dict):
        return all(
            isinstance(k, str) and (k.isascii() or max(map(ord, k)) < 0xD800) and _fast_safe(v)
            for k, v in value.items()
        )
    return False


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JCS) canonical form of a JSON value, as UTF-8 bytes.

    Uses the standard-library encoder when its output is provably identical (see
    ``_fast_safe``; a property test checks this against the ``rfc8785`` reference) and the
    ``rfc8785`` package otherwise. Raises ``ValueError`` for values JSON cannot carry
    (NaN, infinities, lone surrogates, non-string keys).
    """
    if _fast_safe(value):
        try:
            text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            return text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueError(f"text that is not valid Unicode cannot go into JSON: {exc}") from exc
    _reject_non_finite(value)
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError, TypeError) as exc:
        raise ValueError(f"value cannot be canonicalised: {exc}") from exc


def _reject_non_finite(value: object) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("NaN and infinities cannot go into JSON")
    if isinstance(value, list):
        for v in value:
            _reject_non_finite(v)
    elif isinstance(value, dict):
        for v in value.values():
            _reject_non_finite(v)


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
        where = f"entry {expected_index}" if expected_index is not None else "entry"
        try:
            doc = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise LedgerCorruptError(f"{where} is not valid JSON: {exc}") from exc
        if not isinstance(doc, dict) or set(doc) != _MEMBERS:
            raise LedgerCorruptError(
                f"{where} does not have exactly the members {sorted(_MEMBERS)}"
            )
        checks = (
            type(doc["svidok"]) is int and doc["svidok"] == ENTRY_FORMAT,
            type(doc["index"]) is int and doc["index"] >= 0,
            doc["type"] in ENTRY_TYPES,
            isinstance(doc["time"], str) and _TIME_RE.match(doc["time"]) is not None,
            isinstance(doc["actor"], str),
            isinstance(doc["tool"], str),
            isinstance(doc["host"], str),
            isinstance(doc["data"], dict),
        )
        if not all(checks):
            raise LedgerCorruptError(f"{where} has a member of the wrong type or value")
        if expected_index is not None and doc["index"] != expected_index:
            raise LedgerCorruptError(f"{where} says it is entry {doc['index']}")
        try:
            canonical = canonical_json(doc)
        except ValueError as exc:
            raise LedgerCorruptError(f"{where} cannot be canonicalised: {exc}") from exc
        if canonical != raw:
            raise LedgerCorruptError(f"{where} is not in RFC 8785 canonical form")
        return cls._from_doc(doc, raw)
