"""Receipts: a C2SP tlog-proof for one ledger entry, checkable offline with the log's key."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from sqlalchemy import select

from svidok.catalog import schema
from svidok.errors import FormatError, ProofError, SignatureError, SvidokError
from svidok.home import Home
from svidok.ledger.checkpoint import Receipt, verify_receipt
from svidok.ledger.entries import Entry, JSONValue
from svidok.ledger.note import Verifier

_HEX = re.compile(r"^(sha256:)?([0-9a-f]{64})$")


def receipt_for(home: Home, target: str) -> Receipt:
    """The receipt for entry ``target`` (a number) or for the acquisition that first stored
    object ``target`` (``sha256:<hex>`` or the bare hex digest)."""
    target = target.strip()
    if target.isdigit():
        index = int(target)
        if index >= home.ledger.size:
            raise SvidokError(f"the ledger has no entry {index} (it has {home.ledger.size})")
    else:
        m = _HEX.match(target.lower())
        if m is None:
            raise SvidokError(
                f"{target!r} is neither an entry number nor an object id (sha256:<64 hex digits>)"
            )
        object_id = f"sha256:{m.group(2)}"
        with home.catalog.engine.connect() as conn:
            row = conn.execute(
                select(schema.objects.c.first_entry).where(schema.objects.c.id == object_id)
            ).first()
        if row is None:
            raise SvidokError(f"no object {object_id} in this archive")
        index = int(row[0])
    rec = home.ledger.receipt(index)
    verify_receipt(rec, home.verifier)  # never hand out a receipt that does not verify
    return rec


@dataclass
class ReceiptCheck:
    ok: bool
    problems: list[str] = field(default_factory=list)
    origin: str | None = None
    tree_size: int | None = None
    index: int | None = None
    entry: dict[str, JSONValue] | None = None
    content_matches: bool | None = None

    def to_json(self) -> dict[str, JSONValue]:
        return {
            "ok": self.ok,
            "problems": list(self.problems),
            "origin": self.origin,
            "tree_size": self.tree_size,
            "index": self.index,
            "entry": self.entry,
            "content_matches": self.content_matches,
        }

    def summary(self) -> str:
        if not self.ok:
            return "RECEIPT INVALID: " + "; ".join(self.problems)
        entry = self.entry or {}
        data = entry.get("data")
        what = f"{entry.get('type')} entry {self.index}"
        if isinstance(data, dict) and data.get("object"):
            what += f" for object {data.get('object')}"
        lines = [
            f"RECEIPT VALID: {what} is in log {self.origin} "
            f"(checkpoint of {self.tree_size} entries, signature verified)"
        ]
        if self.content_matches:
            lines.append("The given file is exactly that object (SHA-256 matches).")
        return "\n".join(lines)


def check_receipt(
    data: bytes | str, verifier: Verifier, content_sha256: str | None = None
) -> ReceiptCheck:
    """Check a receipt file; never raises for a bad receipt, says what is wrong instead."""
    try:
        rec = Receipt.parse(data)
        cp = verify_receipt(rec, verifier)
    except (FormatError, SignatureError, ProofError) as exc:
        return ReceiptCheck(False, [str(exc)])
    result = ReceiptCheck(True, origin=cp.origin, tree_size=cp.size, index=rec.index)
    if rec.extra is not None:
        try:
            entry = Entry.parse(rec.extra, expected_index=rec.index)
            result.entry = json.loads(entry.raw)
        except SvidokError as exc:
            result.ok = False
            result.problems.append(f"the entry in the receipt is not a valid Svidok entry: {exc}")
            return result
        if content_sha256 is not None:
            obj = entry.data.get("object")
            result.content_matches = obj == f"sha256:{content_sha256}"
            if not result.content_matches:
                result.ok = False
                result.problems.append(
                    f"the given file (sha256:{content_sha256}) is not the object the entry "
                    f"names ({obj})"
                )
    elif content_sha256 is not None:
        result.ok = False
        result.problems.append("the receipt carries no entry to compare the file with")
    return result
