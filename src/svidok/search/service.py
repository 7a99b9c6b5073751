"""Searching: a query (:mod:`.query`) and filters over the records the actor may read,
ranked (BM25 in SQLite's FTS5, ``ts_rank_cd`` in PostgreSQL) and highlighted.

Both databases match the same terms in the same way (see :mod:`.normalise`), so they return
the same records; only the order among equally good matches may differ. Places within a
radius are found with a bounding box on latitude and longitude, then the haversine distance.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    cast,
    column,
    exists,
    func,
    literal_column,
    or_,
    select,
    table,
    union,
)
from sqlalchemy.dialects.postgresql import TSQUERY, TSVECTOR

from svidok.cases.access import AccessDenied, Actor
from svidok.catalog import schema as s
from svidok.catalog.casework import find_case_id, sort_key
from svidok.errors import SearchError
from svidok.search.query import parse
from svidok.search.snippet import Segment, snippet

MAX_LIMIT = 200
#: Most matches ranked for one query: the newest (last indexed) when more match.
WINDOW = 1000
EARTH_KM = 6371.0088
MAX_RADIUS_KM = 20_000.0
_INSTANT = re.compile(
    r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)
KINDS = frozenset({"item", "incident", "person", "place", "source"})


@dataclass(frozen=True)
class Filters:
    """What a result must also be. ``kind``: a kind of record or an item's kind (photo,
    video, document...); ``status``: a verification status or an incident's or person's
    status; ``grade``: a source's reliability (A-F) or an item's credibility (1-6)."""

    case: str | None = None  # reference or UUID
    kind: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    near: tuple[float, float] | None = None  # latitude, longitude (WGS 84 degrees)
    radius_km: float | None = None
    status: str | None = None
    tag: str | None = None
    grade: str | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in vars(self).values())


@dataclass(frozen=True)
class Hit:
    record: str
    case: str
    case_reference: str
    kind: str
    subkind: str | None
    label: str
    status: str | None
    assessment: str
    time_start: str | None
    lat: float | None
    lon: float | None
    score: float
    snippet: tuple[Segment, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "record": self.record, "case": self.case, "case_reference": self.case_reference,
            "kind": self.kind, "subkind": self.subkind, "label": self.label,
            "status": self.status, "assessment": self.assessment,
            "time_start": self.time_start, "lat": self.lat, "lon": self.lon,
            "score": self.score, "snippet": [seg.to_json() for seg in self.snippet],
        }


@dataclass(frozen=True)
class Results:
    query: str
    hits: tuple[Hit, ...]
    total: int  # at most WINDOW
    more: bool  # more than WINDOW records match: the newest WINDOW were ranked
    limit: int
    offset: int

    def to_json(self) -> dict[str, Any]:
        return {"query": self.query, "total": self.total, "more": self.more,
                "limit": self.limit, "offset": self.offset,
                "hits": [h.to_json() for h in self.hits]}


def _instant(value: str, what: str) -> str:
    if not _INSTANT.match(value):
        raise SearchError(f"{what} must be an ISO 8601 date, e.g. 2022-03-30 or 2022-03")
    return sort_key(value)


def check_filters(f: Filters) -> None:
    """``SearchError`` for a filter that cannot be right (the message says which)."""
    if f.kind is not None and not f.kind.strip():
        raise SearchError("kind must not be empty")
    if f.near is not None:
        lat, lon = f.near
        if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90
                and -180 <= lon <= 180):
            raise SearchError("near must be a latitude (-90..90) and longitude (-180..180)")
        if f.radius_km is None:
            raise SearchError("near needs a radius in kilometres")
    if f.radius_km is not None:
        if f.near is None:
            raise SearchError("a radius needs near (a latitude and longitude)")
        if not (math.isfinite(f.radius_km) and 0 < f.radius_km <= MAX_RADIUS_KM):
            raise SearchError(f"the radius must be more than 0 and at most {MAX_RADIUS_KM:g} km")
    for value, what in ((f.date_from, "from"), (f.date_to, "to")):
        if value is not None:
            _instant(value, what)
    if f.date_from and f.date_to and sort_key(f.date_to) + "~" < sort_key(f.date_from):
        raise SearchError("the date range ends before it starts")


def parse_near(value: str) -> tuple[float, float]:
    """``LAT,LON`` as two numbers; ``SearchError`` otherwise."""
    parts = value.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise SearchError("near must be LAT,LON in degrees, e.g. 50.54,30.22") from None
    return lat, lon


def visible_cases(conn: Connection, actor: Actor) -> list[str] | None:
    """The cases the actor may read (None: every case, for the local operator)."""
    if actor.local:
        return None
    if actor.user_id is None:
        return []
    mine = [str(c) for c in conn.execute(
        select(s.members.c.case_id).where(s.members.c.user_id == actor.user_id)).scalars()]
    return sorted(c for c in mine if actor.may_reach(c))


def _where(conn: Connection, actor: Actor, f: Filters) -> list[ColumnElement[bool]]:
    """The conditions of every filter but the radius (see :func:`_within`)."""
    sd = s.search_docs.c
    clauses: list[ColumnElement[bool]] = []
    cases = visible_cases(conn, actor)
    if f.case is not None:
        case_id = find_case_id(conn, f.case.strip())
        if case_id is None or (cases is not None and case_id not in cases):
            raise AccessDenied("no such case, or no access to it")
        clauses.append(sd.case_id == case_id)
    elif cases is not None:
        clauses.append(sd.case_id.in_(cases))
    if f.kind is not None:
        kind = f.kind.strip().lower()
        clauses.append(sd.kind == kind if kind in KINDS else sd.subkind == kind)
    if f.status is not None:
        status = f.status.strip().lower()
        clauses.append(or_(sd.status == status, sd.assessment == status))
    if f.grade is not None:
        clauses.append(sd.grade == f.grade.strip().upper())
    if f.tag is not None:
        t = s.record_tags.c
        clauses.append(exists().where(t.record_id == sd.record_id, t.tag == f.tag.strip()))
    if f.date_from is not None:
        clauses.append(sd.time_end >= _instant(f.date_from, "from"))
    if f.date_to is not None:
        clauses.append(sd.time_start <= _instant(f.date_to, "to") + "~")
    return clauses


def _circle(lat: Any, lon: Any, near: tuple[float, float], km: float) -> ColumnElement[bool]:
    """``(lat, lon)`` within ``km`` of ``near``: a bounding box (plain comparisons that an
    index can serve), then the haversine distance."""
    lat0, lon0 = near
    dlat = math.degrees(km / EARTH_KM)
    box: list[ColumnElement[bool]] = [lat.between(lat0 - dlat, lat0 + dlat)]
    coslat = math.cos(math.radians(min(89.999, abs(lat0) + dlat)))
    if abs(lat0) + dlat < 90 and coslat > 0:
        dlon = math.degrees(km / (EARTH_KM * coslat))
        if dlon < 180 and lon0 - dlon >= -180 and lon0 + dlon <= 180:
            box.append(lon.between(lon0 - dlon, lon0 + dlon))
    hav = (func.power(func.sin(func.radians(lat - lat0) / 2), 2)
           + math.cos(math.radians(lat0)) * func.cos(func.radians(lat))
           * func.power(func.sin(func.radians(lon - lon0) / 2), 2))
    limit = math.sin(min(math.pi / 2, km / EARTH_KM / 2)) ** 2
    return and_(*box, hav <= limit)


def _within(near: tuple[float, float], km: float) -> ColumnElement[bool]:
    """Checked on each text match: the record's own point in the circle, or one of the
    places it names (an incident's places, an item's place; a place's point is read from
    its own index row)."""
    sd, rp = s.search_docs.c, s.record_places.c
    place = s.search_docs.alias("near_place")
    named = (
        select(rp.record_id)
        .join(place, place.c.record_id == rp.place_id)
        .where(rp.record_id == sd.record_id, place.c.kind == "place",
               _circle(place.c.lat, place.c.lon, near, km))
    )
    return or_(_circle(sd.lat, sd.lon, near, km), exists(named))


def _nearby(near: tuple[float, float], km: float) -> list[ColumnElement[bool]]:
    """Without words: the two ways a record can be in the circle, each searched through
    the latitude index (the results are the union of both)."""
    sd, rp = s.search_docs.c, s.record_places.c
    place = s.search_docs.alias("near_place")
    inside = select(place.c.record_id).where(
        place.c.kind == "place", _circle(place.c.lat, place.c.lon, near, km))
    named = select(rp.record_id).where(rp.place_id.in_(inside))
    return [_circle(sd.lat, sd.lon, near, km), sd.record_id.in_(named)]


def search(conn: Connection, actor: Actor, query: str, filters: Filters = Filters(),
           *, limit: int = 20, offset: int = 0) -> Results:
    """The records matching ``query`` and ``filters`` that the actor may read, best first
    (of the newest :data:`WINDOW` matches when more match: ``Results.more``). An empty query
    lists the records matching the filters, newest first (at least one filter is needed)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise SearchError(f"limit must be between 1 and {MAX_LIMIT}")
    if not 0 <= offset < WINDOW:
        raise SearchError(f"offset must be between 0 and {WINDOW - 1}")
    parsed = parse(query)
    check_filters(filters)
    if not parsed and not filters:
        raise SearchError("type a word to search for, or choose a filter")
    r, sd, c = s.records.c, s.search_docs.c, s.cases.c
    clauses = _where(conn, actor, filters)
    source: Any = s.search_docs
    score: ColumnElement[Any] = literal_column("0.0")
    newest: ColumnElement[Any] = sd.id.desc()
    params: dict[str, str] = {}
    if parsed:
        if conn.dialect.name == "sqlite":
            fts = table("search_fts", column("rowid"))
            source = fts.join(s.search_docs, sd.id == fts.c.rowid)
            clauses.append(literal_column("search_fts").bool_op("MATCH")(bindparam("match")))
            params["match"] = parsed.fts5()
            score = -func.bm25(literal_column("search_fts"))
            newest = fts.c.rowid.desc()
        else:
            vec = cast(sd.vec, TSVECTOR)
            tsq = cast(bindparam("match"), TSQUERY)
            clauses.append(vec.bool_op("@@")(tsq))
            params["match"] = parsed.tsquery()
            score = func.ts_rank_cd(vec, tsq)
    # The newest WINDOW matches (one more, to know there are more), ranked here: the cost
    # of a query stays bounded however many records match. Without words: newest first.
    columns = (sd.id, sd.record_id, score.label("score"))
    near, km = filters.near, filters.radius_km
    if near is not None and km is not None and not parsed:
        both = union(*(select(*columns).where(*clauses, way) for way in _nearby(near, km)))
        inner = both.subquery()
        statement = select(inner).order_by(inner.c.id.desc())
    else:
        if near is not None and km is not None:
            clauses.append(_within(near, km))
        statement = select(*columns).select_from(source).where(*clauses).order_by(newest)
    window = [
        (int(row.id), str(row.record_id), float(row.score or 0.0))
        for row in conn.execute(statement.limit(WINDOW + 1), params)
    ]
    more = len(window) > WINDOW
    window = window[:WINDOW]
    if parsed:
        window.sort(key=lambda w: (-w[2], w[1]))
    page = window[offset : offset + limit]
    rows = {
        int(row.doc): row
        for row in conn.execute(
            select(sd.id.label("doc"), r.id, r.case_id, c.reference, r.kind, r.subkind,
                   r.label, r.status, r.assessment, r.time_start, r.lat, r.lon, sd.display)
            .select_from(s.search_docs.join(s.records, r.id == sd.record_id)
                         .join(s.cases, c.id == r.case_id))
            .where(sd.id.in_([w[0] for w in page]))
        )
    } if page else {}
    matchers = parsed.matchers()
    hits = tuple(
        Hit(record=str(row.id), case=str(row.case_id), case_reference=str(row.reference),
            kind=str(row.kind), subkind=row.subkind, label=str(row.label), status=row.status,
            assessment=str(row.assessment), time_start=row.time_start,
            lat=row.lat, lon=row.lon, score=round(w[2], 6),
            snippet=snippet(str(row.display), matchers))
        for w in page
        if (row := rows.get(w[0])) is not None
    )
    return Results(query=query, hits=hits, total=len(window), more=more, limit=limit,
                   offset=offset)

