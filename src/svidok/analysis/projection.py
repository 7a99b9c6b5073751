"""How the near-duplicate entries become catalog rows (called by
:func:`svidok.catalog.projection.apply`, so the live catalog and a rebuild agree)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from sqlalchemy import Connection, insert

from svidok.catalog import schema as s
from svidok.ledger.entries import Entry, canonical_json

HASH: Final = "perceptual_hash"
DECISION: Final = "duplicate.decision"
TYPES: Final = frozenset({HASH, DECISION})


def scope(e: Entry) -> tuple[str | None, str | None]:
    """(case, record) an entry belongs to, for the entries table."""
    if e.type == DECISION:
        return str(e.data["case"]), None
    return None, None


def _opt_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def apply(conn: Connection, batch: Sequence[Entry]) -> None:
    """Insert the rows of the near-duplicate entries in ``batch`` (after their parents)."""
    hashes: list[dict[str, Any]] = []
    decisions: list[dict[str, Any]] = []
    for e in batch:
        d = e.data
        if e.type == HASH:
            hashes.append({
                "entry": e.index, "object_id": str(d["object"]),
                "algorithm": str(d["algorithm"]), "version": str(d["version"]),
                "status": str(d["status"]),
                "hash": None if d.get("hash") is None else str(d["hash"]),
                "quality": _opt_int(d.get("quality")),
                "dihedral": canonical_json(d.get("dihedral", [])).decode(),
                "frames": canonical_json(d.get("frames", [])).decode(),
                "reason": None if d.get("reason") is None else str(d["reason"]),
            })
        elif e.type == DECISION:
            decisions.append({
                "entry": e.index, "case_id": str(d["case"]), "a_id": str(d["a"]),
                "b_id": str(d["b"]), "decision": str(d["decision"]),
                "note": None if d.get("note") is None else str(d["note"]),
                "actor": e.actor, "actor_id": None if d.get("by") is None else str(d["by"]),
                "time": e.time,
            })
    if hashes:
        conn.execute(insert(s.perceptual_hashes), hashes)
    if decisions:
        conn.execute(insert(s.duplicate_decisions), decisions)
