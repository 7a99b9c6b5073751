"""Near-duplicate pairs of items in a case, and the decisions people take on them.

:class:`Duplicates` keeps an in-memory index of the stored hashes (pictures: a
:class:`~svidok.analysis.index.HashIndex` of each original's PDQ hash; videos: one of every
sampled frame), built from the catalog and brought up to date from it before each use
(only the rows added since are read). A picture is compared by its eight dihedral hashes,
so a rotated or mirrored copy is found; a match needs distance <= 31 and both qualities
>= 50. Videos are compared by vPDQ's rule (:func:`svidok.analysis.pdq.video_match`).

Pairs are only ever shown within one case, between items (records of kind ``item``) the
actor may read; a decision (``confirmed`` or ``rejected``, with a note) is one
``duplicate.decision`` ledger entry and can be changed later by another; the newest counts.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

from sqlalchemy import Connection, select

from svidok.analysis.index import HashIndex
from svidok.analysis.pdq import (
    IMAGE_ALGORITHM,
    MIN_QUALITY,
    VIDEO_ALGORITHM,
    Frame,
    video_match,
)
from svidok.analysis.projection import DECISION
from svidok.cases._base import Base, CaseworkError, NotFound
from svidok.cases.access import Actor, Permission
from svidok.catalog import schema as s
from svidok.catalog.casework import find_case_id

Decision = Literal["confirmed", "rejected"]
_Decided = tuple[str, str | None, str | None]  # decision, note, by whom
DECISIONS: Final = ("confirmed", "rejected")
MAX_NOTE: Final = 2000


@dataclass(frozen=True)
class StoredHash:
    """The current hash of one original (its newest ``perceptual_hash`` entry)."""

    entry: int
    object: str
    algorithm: str
    version: str
    status: str
    hash: str | None
    quality: int | None
    dihedral: tuple[str, ...]
    frames: tuple[Frame, ...]
    reason: str | None


@dataclass(frozen=True)
class Pair:
    """Two items of a case that look alike, or that someone decided about."""

    a: str  # item record ids, a < b
    b: str
    a_label: str
    b_label: str
    algorithm: str  # pdq, vpdq, or "" when the hashes no longer match
    distance: int | None  # pictures: Hamming distance (dihedral minimum)
    percent: float | None  # videos: the smaller share of frames matched
    status: str  # possible, confirmed, rejected
    note: str | None
    decided_by: str | None

    def to_json(self) -> dict[str, object]:
        return {"a": self.a, "b": self.b, "a_label": self.a_label, "b_label": self.b_label,
                "algorithm": self.algorithm, "distance": self.distance,
                "percent": self.percent, "status": self.status, "note": self.note,
                "decided_by": self.decided_by}


@dataclass(frozen=True)
class _Item:
    id: str
    label: str
    object: str


class Duplicates:
    """Near-duplicates over one data home's casework (see the module docstring)."""

    def __init__(self, casework: Base) -> None:
        self.cw = casework
        self._lock = threading.Lock()
        self._seen = -1  # newest perceptual_hashes entry read
        self._hashes: dict[str, StoredHash] = {}
        self._images = HashIndex()
        self._frames = HashIndex()
        self._numbers: dict[str, int] = {}  # object -> key in the indexes
        self._objects: list[str] = []
        self._similar: dict[str, dict[str, tuple[int | None, float | None]]] = {}  # cache
        self._generation = 0  # hashes added so far (a cached search is of one generation)

    # ------------------------------------------------------------------ the index
    def refresh(self) -> None:
        """Read the hashes recorded since the last call into the indexes."""
        h = s.perceptual_hashes.c
        with self._lock, self.cw.home.catalog.engine.connect() as conn:
            rows = conn.execute(select(s.perceptual_hashes).where(h.entry > self._seen)
                                .order_by(h.entry)).all()
            for r in rows:
                self._seen = int(r.entry)
                stored = StoredHash(
                    int(r.entry), str(r.object_id), str(r.algorithm), str(r.version),
                    str(r.status), r.hash, r.quality, tuple(json.loads(r.dihedral)),
                    tuple(Frame(str(f[0]), int(f[1]), float(f[2]))
                          for f in json.loads(r.frames)), r.reason)
                old = self._hashes.get(stored.object)
                if stored.status != "hashed" and old is not None and old.status == "hashed":
                    continue  # a failed retry does not hide a hash that was made
                self._hashes[stored.object] = stored
                if stored.status == "hashed" and (old is None or old.status != "hashed"):
                    self._add(stored)
                    self._similar.clear()  # a new hash may match anything cached
                    self._generation += 1

    def _add(self, stored: StoredHash) -> None:
        key = self._numbers.setdefault(stored.object, len(self._objects))
        if key == len(self._objects):
            self._objects.append(stored.object)
        if stored.algorithm == IMAGE_ALGORITHM and stored.hash is not None:
            if (stored.quality or 0) >= MIN_QUALITY:
                self._images.add([stored.hash], [key])
        elif stored.algorithm == VIDEO_ALGORITHM:
            usable = sorted({f.hash for f in stored.frames if f.quality >= MIN_QUALITY})
            self._frames.add(usable, [key] * len(usable))

    def hash_of(self, obj: str) -> StoredHash | None:
        self.refresh()
        return self._hashes.get(obj)

    def similar(self, obj: str) -> dict[str, tuple[int | None, float | None]]:
        """Objects that match ``obj``: object -> (distance, percent) (kept until the next
        new hash, so a view shown again is not searched again)."""
        self.refresh()
        return self._match(obj)

    def _match(self, obj: str) -> dict[str, tuple[int | None, float | None]]:
        """:meth:`similar` without reading new hashes first."""
        stored = self._hashes.get(obj)
        cached = self._similar.get(obj)
        if cached is not None:
            return cached
        generation = self._generation
        found = self._search(obj, stored)
        with self._lock:
            if generation == self._generation:
                self._similar[obj] = found
        return found

    def _search(self, obj: str,
                stored: StoredHash | None) -> dict[str, tuple[int | None, float | None]]:
        found: dict[str, tuple[int | None, float | None]] = {}
        if stored is None or stored.status != "hashed":
            return found
        if stored.algorithm == IMAGE_ALGORITHM and stored.hash is not None:
            if (stored.quality or 0) < MIN_QUALITY:
                return found
            for key, d in self._images.search([stored.hash, *stored.dihedral]).items():
                other = self._objects[key]
                if other != obj:
                    found[other] = (d, None)
        elif stored.algorithm == VIDEO_ALGORITHM:
            usable = sorted({f.hash for f in stored.frames if f.quality >= MIN_QUALITY})
            for key in self._frames.search(usable):
                other = self._objects[key]
                theirs = self._hashes.get(other)
                if other == obj or theirs is None:
                    continue
                match = video_match(stored.frames, theirs.frames)
                if match.is_match:
                    found[other] = (None, min(match.query_percent, match.other_percent))
        return found

    # ------------------------------------------------------------------ casework
    def _case(self, conn: Connection, actor: Actor, case: str,
              *needed: Permission) -> str:
        case_id = find_case_id(conn, case)
        if case_id is None:
            raise NotFound("no such case, or no access to it")
        self.cw._require(conn, actor, case_id, *needed)
        return case_id

    @staticmethod
    def _items(conn: Connection, case_id: str, objects: Iterable[str] | None = None,
               ids: Iterable[str] | None = None) -> list[_Item]:
        r = s.records.c
        query = select(r.id, r.label, r.object_id).where(
            r.case_id == case_id, r.kind == "item", r.object_id.is_not(None))
        if objects is not None:
            query = query.where(r.object_id.in_(sorted(set(objects))))
        if ids is not None:
            query = query.where(r.id.in_(sorted(set(ids))))
        return [_Item(str(x.id), str(x.label), str(x.object_id))
                for x in conn.execute(query.order_by(r.created_entry))]

    @staticmethod
    def _decisions(conn: Connection, case_id: str) -> dict[tuple[str, str], _Decided]:
        d = s.duplicate_decisions.c
        out: dict[tuple[str, str], _Decided] = {}
        for row in conn.execute(select(d.a_id, d.b_id, d.decision, d.note, d.actor)
                                .where(d.case_id == case_id).order_by(d.entry)):
            out[(str(row.a_id), str(row.b_id))] = (str(row.decision), row.note, str(row.actor))
        return out

    def _prefetch(self, objects: Iterable[str]) -> None:
        """Search the pictures among ``objects`` not yet searched, all at once (the index
        probes them together), and keep the answers with the cached ones."""
        todo = []
        for obj in sorted(set(objects)):
            stored = self._hashes.get(obj)
            if (obj not in self._similar and stored is not None and stored.status == "hashed"
                    and stored.algorithm == IMAGE_ALGORITHM and stored.hash is not None
                    and (stored.quality or 0) >= MIN_QUALITY):
                todo.append((obj, [stored.hash, *stored.dihedral]))
        if len(todo) < 2:
            return
        generation = self._generation
        answers = self._images.search_many([hashes for _, hashes in todo])
        with self._lock:
            if generation != self._generation:
                return
            for (obj, _), answer in zip(todo, answers, strict=True):
                self._similar[obj] = {self._objects[key]: (d, None)
                                      for key, d in answer.items() if self._objects[key] != obj}

    def _pairs(self, conn: Connection, case_id: str, items: list[_Item],
               only: str | None) -> list[Pair]:
        by_object: dict[str, list[_Item]] = {}
        for item in self._items(conn, case_id):
            by_object.setdefault(item.object, []).append(item)
        r = s.records.c
        labels = {str(x.id): str(x.label) for x in conn.execute(
            select(r.id, r.label).where(r.case_id == case_id, r.kind == "item"))}
        decided = self._decisions(conn, case_id)
        self._prefetch(item.object for item in items)
        found: dict[tuple[str, str], Pair] = {}
        for item in items:
            stored = self._hashes.get(item.object)
            algorithm = stored.algorithm if stored is not None else ""
            matches = self._match(item.object)
            same = {i.object: (0, 100.0) for i in by_object.get(item.object, [])
                    if i.id != item.id}  # the same bytes in two items
            for other, (dist, pct) in {**matches, **same}.items():
                for twin in by_object.get(other, []):
                    if twin.id == item.id:
                        continue
                    a, b = sorted((item.id, twin.id))
                    status, note, who = decided.get((a, b), ("possible", None, None))
                    exact = other == item.object
                    found[(a, b)] = Pair(a, b, labels[a], labels[b], algorithm,
                                         0 if exact and algorithm != VIDEO_ALGORITHM else dist,
                                         100.0 if exact and algorithm == VIDEO_ALGORITHM
                                         else pct, status, note, who)
        for (a, b), (status, note, who) in decided.items():
            if (a, b) in found or a not in labels or b not in labels:
                continue
            if only is not None and only not in (a, b):
                continue
            found[(a, b)] = Pair(a, b, labels[a], labels[b], "", None, None, status, note, who)
        return sorted(found.values(), key=lambda p: (
            p.status != "possible", p.distance if p.distance is not None else 99,
            -(p.percent or 0), p.a, p.b))

    def for_item(self, actor: Actor, case: str, item: str) -> list[Pair]:
        """The possible (and decided) duplicates of one item of the case."""
        self.refresh()
        with self.cw.home.catalog.engine.connect() as conn:
            case_id = self._case(conn, actor, case)
            items = self._items(conn, case_id, ids=[item])
            if not items:  # no file: only the decisions naming it
                row = self.cw._row(conn, case_id, item)  # NotFound unless a record of it
                if row.kind != "item":
                    raise NotFound("no such item in this case")
            return self._pairs(conn, case_id, items, item)

    def for_case(self, actor: Actor, case: str) -> list[Pair]:
        """Every possible (and decided) pair of items in the case."""
        self.refresh()
        with self.cw.home.catalog.engine.connect() as conn:
            case_id = self._case(conn, actor, case)
            return self._pairs(conn, case_id, self._items(conn, case_id), None)

    def decide(self, actor: Actor, case: str, a: str, b: str, decision: str,
               note: str = "") -> Pair:
        """Record that items ``a`` and ``b`` are (``confirmed``) or are not (``rejected``)
        near-duplicates; needs the annotate permission on the case."""
        if decision not in DECISIONS:
            raise CaseworkError(f"a decision is one of {', '.join(DECISIONS)}, not {decision!r}")
        if a == b:
            raise CaseworkError("an item is not a duplicate of itself: name two items")
        if len(note) > MAX_NOTE:
            raise CaseworkError(f"the note is longer than {MAX_NOTE} characters")
        a, b = sorted((a, b))
        with self.cw.home.writing(), self.cw._reading() as conn:
            case_id = self._case(conn, actor, case, Permission.ANNOTATE)
            r = s.records.c
            found = set(conn.execute(select(r.id).where(
                r.case_id == case_id, r.kind == "item", r.id.in_([a, b]))).scalars())
            for ref in (a, b):
                if ref not in found:
                    raise NotFound(f"{ref} is not an item of this case")
            data: dict[str, object] = {"case": case_id, "a": a, "b": b, "decision": decision,
                                       "note": note.strip() or None}
            self.cw._write([self.cw._draft(DECISION, actor, data)])
        pairs = self.for_item(actor, case_id, a)
        for pair in pairs:
            if (pair.a, pair.b) == (a, b):
                return pair
        raise CaseworkError(  # recorded, but not visible in the case any more (never a 500)
            "the decision is recorded, but the pair could not be shown again; reload the page")


_shared: weakref.WeakKeyDictionary[Base, Duplicates] = weakref.WeakKeyDictionary()
_shared_lock = threading.Lock()


def shared(casework: Base) -> Duplicates:
    """The one :class:`Duplicates` of a casework API (its index kept between requests)."""
    with _shared_lock:
        found = _shared.get(casework)
        if found is None:
            found = _shared[casework] = Duplicates(casework)
        return found
