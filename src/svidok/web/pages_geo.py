"""The case's map (Leaflet over a bundled country outline, tiles only when configured) and
its timeline (server-rendered SVG), with a claim set against the evidence's capture times.

Times are read as half-open UTC intervals ``[lo, hi)``: what a written instant covers at its
precision (``2022-03-30`` with precision "day" is the whole day). A time written without an
offset is read as UTC. "approximate" widens the written interval by one of its units on each
side. A claim's moment is an interval too (a date is its whole day), so an item known only
to the day of the claim can neither be put before nor after it: it is "uncertain".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response

from svidok.cases.fields import TimeSpan
from svidok.cases.service import NotFound
from svidok.cases.views import CaseView, RecordFilter, RecordView
from svidok.textsafe import escape_text
from svidok.web.common import actor_of, case_of, case_page, other_end
from svidok.web.render import render
from svidok.web.router import router
from svidok.web.session import require_viewer, state_of

#: most points the map shows, and most records looked through to find them
MAX_POINTS = 5000
MAX_SCAN = 20_000
#: most incidents drawn as bars, and items as ticks, on one timeline
MAX_BARS = 300
MAX_TICKS = 5000
MAP_KINDS = ("item", "incident", "place")

_UNITS = ("second", "minute", "hour", "day", "month", "year")
_ORDER = {u: i for i, u in enumerate(_UNITS)}
#: the first and last moments a datetime holds: arithmetic past them stops there
_FIRST = datetime.min.replace(tzinfo=UTC)
_LAST = datetime.max.replace(tzinfo=UTC)


# --------------------------------------------------------------------------- records
def iterate(
    state: Any, actor: Any, case_id: str, where: RecordFilter, cap: int
) -> Iterator[RecordView]:
    """Every record matching ``where`` (at most ``cap``), page after page."""
    offset = 0
    while offset < cap:
        page = state.work.find(actor, case_id, where, limit=500, offset=offset)
        yield from page.items[: cap - offset]
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return


def record_url(reference: str, record: RecordView) -> str:
    """The page of a record of any kind."""
    section = {"item": "items", "incident": "incidents", "person": "people"}.get(
        record.kind, "records"
    )
    return f"/cases/{reference}/{section}/{record.id}"


# ----------------------------------------------------------------------------- times
def _add(moment: datetime, unit: str, n: int = 1) -> datetime:
    """``n`` units after ``moment``; the first or last moment there is when that is out of
    range (a record dated in the year 9999 or 1 is valid and must not break a page)."""
    try:
        if unit == "year":
            return moment.replace(year=moment.year + n)
        if unit == "month":
            months = moment.year * 12 + moment.month - 1 + n
            return moment.replace(year=months // 12, month=months % 12 + 1)
        seconds = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}[unit]
        return moment + timedelta(seconds=seconds * n)
    except (ValueError, OverflowError):
        return _LAST if n > 0 else _FIRST


def _shift(moment: datetime, by: timedelta) -> datetime:
    """``moment + by``, stopping at the first or last moment there is."""
    try:
        return moment + by
    except OverflowError:
        return _LAST if by > timedelta(0) else _FIRST


def _floor(moment: datetime, unit: str) -> datetime:
    moment = moment.replace(microsecond=0)
    if unit == "second":
        return moment
    moment = moment.replace(second=0)
    if unit == "minute":
        return moment
    moment = moment.replace(minute=0)
    if unit == "hour":
        return moment
    moment = moment.replace(hour=0)
    if unit == "day":
        return moment
    moment = moment.replace(day=1)
    if unit == "month":
        return moment
    return moment.replace(month=1)


def _parse(value: str) -> tuple[datetime, str] | None:
    """A written instant as a UTC moment and the unit it is written to."""
    try:
        if len(value) == 4:
            return datetime(int(value), 1, 1, tzinfo=UTC), "year"
        if len(value) == 7:
            return datetime(int(value[:4]), int(value[5:7]), 1, tzinfo=UTC), "month"
        if len(value) == 10:
            return datetime.fromisoformat(value).replace(tzinfo=UTC), "day"
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (ValueError, OverflowError):  # not a time, or before the year 1 in UTC
        return None
    clock = value[11:].split("+")[0].split("Z")[0].split("-")[0]
    return moment, "second" if clock.count(":") >= 2 else "minute"


def interval(value: str, precision: str | None = None) -> tuple[datetime, datetime] | None:
    """What ``value`` covers at ``precision``, as a half-open UTC interval."""
    parsed = _parse(value)
    if parsed is None:
        return None
    moment, unit = parsed
    if precision in _ORDER and _ORDER[precision] > _ORDER[unit]:
        unit = str(precision)
    lo = _floor(moment, unit)
    hi = _add(lo, unit)
    if precision == "approximate":
        lo, hi = _add(lo, unit, -1), _add(hi, unit)
    return lo, hi


def span_interval(span: Any) -> tuple[datetime, datetime] | None:
    """What a stored time span (``start``, ``end``, ``precision``) covers."""
    if not isinstance(span, dict) or not isinstance(span.get("start"), str):
        return None
    precision = span.get("precision")
    first = interval(span["start"], precision)
    end = span.get("end")
    last = interval(end, precision) if isinstance(end, str) else first
    if first is None or last is None:
        return None
    return first[0], max(first[1], last[1])


def claim_interval(value: str) -> tuple[datetime, datetime] | None:
    """The moment a claim names (a date is its whole day), or None if it is not a time."""
    value = value.strip()
    if len(value) == 16:  # an <input type="datetime-local"> value has no seconds
        value += ":00"
    try:
        TimeSpan(start=value)
    except ValidationError:
        return None
    return interval(value)


def against(item: tuple[datetime, datetime], claim: tuple[datetime, datetime]) -> str:
    """Where an item's capture interval lies relative to a claim's moment."""
    if item[0] >= claim[1]:
        return "after"
    if item[1] <= claim[0]:
        return "before"
    return "uncertain"


# -------------------------------------------------------------------------- timeline
@dataclass
class Bar:
    label: str
    url: str
    when: str
    x: float
    y: float
    width: float
    instant: bool
    label_x: float = 0.0
    label_end: bool = False  # the label ends at label_x (left of the bar)
    label_inside: bool = False  # the label is drawn on the bar


@dataclass
class Tick:
    label: str
    url: str
    when: str
    x: float
    width: float
    position: str  # after, before, uncertain, or "" without a claim


@dataclass
class AxisTick:
    x: float
    label: str


@dataclass
class Timeline:
    width: int
    height: int
    left: int
    right: int
    lane_y: float  # the items' lane
    axis_y: float
    bars: list[Bar] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    axis: list[AxisTick] = field(default_factory=list)
    claim_x: float | None = None
    claim_width: float = 0.0
    start: str = ""
    end: str = ""


_AXIS_STEPS = [
    (u, n)
    for u, ns in (
        ("hour", (1, 3, 6, 12)),
        ("day", (1, 2, 7)),
        ("month", (1, 3, 6)),
        ("year", (1, 2, 5, 10, 25, 50, 100, 500)),
    )
    for n in ns
]
_LABELS = {"hour": "%Y-%m-%d %H:%M", "day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}


def _axis(t0: datetime, t1: datetime) -> tuple[str, int]:
    seconds = (t1 - t0).total_seconds()
    rough = {"hour": 3600, "day": 86400, "month": 30.44 * 86400, "year": 365.25 * 86400}
    for unit, n in _AXIS_STEPS:
        if seconds / (rough[unit] * n) <= 10:
            return unit, n
    return "year", 1000


def _when(interval_: tuple[datetime, datetime]) -> str:
    """An interval as text: whole days, months and years as dates, else times in UTC."""
    lo, hi = interval_
    midnight = lo == _floor(lo, "day") and hi == _floor(hi, "day")
    if midnight and lo.day == 1 and hi.day == 1:
        if hi == _add(lo, "year") and lo.month == 1:
            return lo.strftime("%Y")
        if hi == _add(lo, "month"):
            return lo.strftime("%Y-%m")
    if midnight:
        last = hi - timedelta(days=1)
        if last <= lo:
            return lo.strftime("%Y-%m-%d")
        return f"{lo.strftime('%Y-%m-%d')} – {last.strftime('%Y-%m-%d')}"
    short = "%Y-%m-%d %H:%M:%S"
    if hi - lo <= timedelta(seconds=1):
        return lo.strftime(short) + " UTC"
    return f"{lo.strftime(short)} – {hi.strftime(short)} UTC"


def layout(
    incidents: list[tuple[str, str, tuple[datetime, datetime]]],
    items: list[tuple[str, str, tuple[datetime, datetime]]],
    claim: tuple[datetime, datetime] | None = None,
    window: tuple[datetime | None, datetime | None] = (None, None),
    width: int = 960,
) -> Timeline | None:
    """Bars for incidents and ticks for items ``(label, url, interval)`` on one axis;
    None when there is nothing to draw."""
    moments = [m for _, _, span in incidents + items for m in span]
    if claim is not None:
        moments.extend(claim)
    if not moments:
        return None
    t0 = window[0] or min(moments)
    t1 = window[1] or max(moments)
    if t1 <= t0:
        t1 = _shift(t0, timedelta(hours=1))
        if t1 <= t0:  # the last moment there is
            t0 = _shift(t1, -timedelta(hours=1))
    pad = (t1 - t0) * 0.03
    if window[0] is None:
        t0 = _shift(t0, -pad)
    if window[1] is None:
        t1 = _shift(t1, pad)
    left, right, row = 12, 12, 22
    inner = width - left - right
    total = (t1 - t0).total_seconds()

    def x(moment: datetime) -> float:
        share = (moment - t0).total_seconds() / total
        return round(left + min(max(share, -0.01), 1.01) * inner, 1)

    def visible(span: tuple[datetime, datetime]) -> bool:
        return span[1] >= t0 and span[0] <= t1

    tl = Timeline(width=width, height=0, left=left, right=right, lane_y=0, axis_y=0)
    y = 10.0
    for label, url, span in incidents[:MAX_BARS]:
        if not visible(span):
            continue
        bar_x, end_x = x(span[0]), x(span[1])
        instant = end_x - bar_x < 3
        bar = Bar(label, url, _when(span), bar_x, y, max(end_x - bar_x, 3), instant)
        right_end = bar_x + (8 if instant else bar.width)
        if right_end + 4 < width - 220:
            bar.label_x = right_end + 4
        elif bar_x - 8 > 220:
            bar.label_x, bar.label_end = bar_x - (10 if instant else 4), True
        else:
            bar.label_x, bar.label_inside = max(bar_x, left) + 4, not instant
        tl.bars.append(bar)
        y += row
    tl.lane_y = y + 6
    for label, url, span in items[:MAX_TICKS]:
        if not visible(span):
            continue
        tick_x, end_x = x(span[0]), x(span[1])
        position = against(span, claim) if claim is not None else ""
        tl.ticks.append(Tick(label, url, _when(span), tick_x, max(end_x - tick_x, 1.5), position))
    tl.axis_y = tl.lane_y + 40
    unit, n = _axis(t0, t1)
    moment = _floor(t0, unit)
    if unit == "year":
        moment = moment.replace(year=max(1, moment.year - moment.year % n))
    while moment <= t1 and len(tl.axis) < 40:
        if moment >= t0:
            tl.axis.append(AxisTick(x(moment), moment.strftime(_LABELS[unit])))
        following = _add(moment, unit, n)
        if following <= moment:  # the last moment there is
            break
        moment = following
    if claim is not None and visible(claim):
        tl.claim_x = x(claim[0])
        tl.claim_width = max(x(claim[1]) - tl.claim_x, 0)
    tl.height = int(tl.axis_y + 30)
    tl.start, tl.end = t0.strftime("%Y-%m-%d %H:%M"), t1.strftime("%Y-%m-%d %H:%M")
    return tl


def _window_bound(value: str, upper: bool) -> datetime | None:
    if not value:
        return None
    found = claim_interval(value)
    if found is None:
        return None
    return found[1] if upper else found[0]


def _linked(state: Any, actor: Any, case_id: str, record: str, kind: str) -> list[RecordView]:
    """Records of ``kind`` linked to ``record`` (at most 2000)."""
    out = []
    for link in state.work.links(actor, case_id, record)[:2000]:
        try:
            view = state.work.get(actor, case_id, other_end(link, record))
        except NotFound:
            continue
        if view.kind == kind:
            out.append(view)
    return out


def _times(
    reference: str, records: list[RecordView], field: str
) -> list[tuple[str, str, tuple[datetime, datetime]]]:
    """The records whose ``field`` holds a time, each as its label, its page and that span,
    earliest first."""
    out = []
    for record in records:
        span = span_interval(record.fields.get(field))
        if span is not None:
            out.append((escape_text(record.label), record_url(reference, record), span))
    out.sort(key=lambda t: t[2])
    return out


def evidence_times(
    reference: str, records: list[RecordView]
) -> list[tuple[str, str, tuple[datetime, datetime]]]:
    return _times(reference, records, "captured")


def incident_times(
    reference: str, records: list[RecordView]
) -> list[tuple[str, str, tuple[datetime, datetime]]]:
    return _times(reference, records, "time")


@router.get("/cases/{key}/timeline")
def timeline_page(request: Request, key: str) -> Response:
    viewer, case, state, actor = case_page(request, key)
    params = {
        name: request.query_params.get(name, "").strip()[:40]
        for name in ("time_from", "time_to", "incident", "claim")
    }
    window = (_window_bound(params["time_from"], False), _window_bound(params["time_to"], True))
    time_filter = {"time_from": params["time_from"] or None, "time_to": params["time_to"] or None}
    if window[0] is None:
        time_filter["time_from"] = None
    if window[1] is None:
        time_filter["time_to"] = None
    all_incidents = list(iterate(state, actor, case.id, RecordFilter(kind="incident"), 2000))
    chosen = next((r for r in all_incidents if r.id == params["incident"]), None)
    if chosen is not None:
        incidents = [chosen]
        items = _linked(state, actor, case.id, chosen.id, "item")
    else:
        incidents = list(
            iterate(state, actor, case.id, RecordFilter(kind="incident", **time_filter), 2000)
        )
        items = list(
            iterate(state, actor, case.id, RecordFilter(kind="item", **time_filter), MAX_TICKS)
        )
    claim = claim_interval(params["claim"]) if params["claim"] else None
    bars = incident_times(case.reference, incidents)
    ticks = evidence_times(case.reference, items)
    tl = layout(bars, ticks, claim, window)
    positions: dict[str, list[tuple[str, str, str]]] = {"after": [], "before": [], "uncertain": []}
    if claim is not None:
        for label, url, span in ticks:
            positions[against(span, claim)].append((label, url, _when(span)))
    undated = sum(1 for r in items if span_interval(r.fields.get("captured")) is None)
    return render(
        request,
        "timeline.html",
        viewer,
        {
            "case": case,
            "section": "timeline",
            "tl": tl,
            "params": params,
            "incidents": all_incidents,
            "bars": [(label, url, _when(span)) for label, url, span in bars],
            "claim": claim,
            "claim_when": _when(claim) if claim is not None else "",
            "claim_invalid": bool(params["claim"]) and claim is None,
            "positions": positions,
            "undated": undated,
            "dated": len(ticks),
        },
    )


# ------------------------------------------------------------------------------- map
def _point(
    reference: str, record: RecordView, lat: Any, lon: Any, precision: Any = None
) -> dict[str, Any] | None:
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return {
        "kind": record.kind,
        "id": record.id,
        "label": escape_text(record.label),
        "lat": float(lat),
        "lon": float(lon),
        "precision_m": int(precision) if isinstance(precision, int) and precision > 0 else None,
        "url": record_url(reference, record),
    }


def item_point(reference: str, item: RecordView) -> dict[str, Any] | None:
    where = item.fields.get("location")
    if not isinstance(where, dict):
        return None
    return _point(reference, item, where.get("lat"), where.get("lon"), where.get("precision_m"))


def place_point(
    reference: str, place: RecordView, owner: RecordView | None = None
) -> dict[str, Any] | None:
    """A place's point; with ``owner`` (an incident), the point stands for the owner there."""
    point = _point(reference, owner or place, place.fields.get("lat"), place.fields.get("lon"))
    if point is not None and owner is not None:
        point["place"] = escape_text(place.label)
    return point


def map_points(
    state: Any, actor: Any, case: CaseView, kinds: set[str], limit: int = MAX_POINTS
) -> tuple[list[dict[str, Any]], bool]:
    """Points of the case's located records of ``kinds``; whether some were left out."""
    points: list[dict[str, Any]] = []
    ref = case.reference
    places = {p.id: p for p in iterate(state, actor, case.id, RecordFilter(kind="place"), MAX_SCAN)}
    if "place" in kinds:
        points.extend(p for p in (place_point(ref, v) for v in places.values()) if p)
    if "incident" in kinds:
        for incident in iterate(state, actor, case.id, RecordFilter(kind="incident"), MAX_SCAN):
            for place_id in incident.fields.get("places", []):
                if place_id in places:
                    point = place_point(ref, places[place_id], incident)
                    if point is not None:
                        points.append(point)
    if "item" in kinds:
        for item in iterate(state, actor, case.id, RecordFilter(kind="item"), MAX_SCAN):
            point = item_point(ref, item)
            if point is not None:
                points.append(point)
            if len(points) > limit:
                break
    return points[:limit], len(points) > limit


def json_for_script(data: Any) -> str:
    """JSON with ``<``, ``>``, ``&`` and ``'`` escaped and only ASCII: safe to serve and to
    embed, and never the raw text of a stored name."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
        text = text.replace(char, escaped)
    return text


def _kinds(request: Request) -> set[str]:
    asked: set[str] = set()
    for value in request.query_params.getlist("kinds"):
        asked |= {k.strip() for k in value.split(",")}
    chosen = asked & set(MAP_KINDS)
    return chosen or set(MAP_KINDS)


@router.get("/cases/{key}/map.json")
def map_json(request: Request, key: str) -> Response:
    viewer = require_viewer(request)
    case = case_of(request, viewer, key)
    points, truncated = map_points(
        state_of(request), actor_of(request, viewer), case, _kinds(request)
    )
    body = json_for_script({"points": points, "truncated": truncated, "limit": MAX_POINTS})
    return Response(
        body,
        media_type="application/json",
        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


def tiles_of(request: Request) -> tuple[str, str]:
    config = state_of(request).home.config
    return config.tiles or "", config.tiles_attribution or ""


@router.get("/cases/{key}/map")
def map_page(request: Request, key: str) -> Response:
    viewer = require_viewer(request)
    case = case_of(request, viewer, key)
    kinds = _kinds(request)
    points, truncated = map_points(state_of(request), actor_of(request, viewer), case, kinds)
    tiles, attribution = tiles_of(request)
    return render(
        request,
        "map.html",
        viewer,
        {
            "case": case,
            "section": "map",
            "points": points,
            "truncated": truncated,
            "limit": MAX_POINTS,
            "kinds": sorted(kinds),
            "all_kinds": MAP_KINDS,
            "tiles": tiles,
            "attribution": attribution,
            "data_url": f"/cases/{case.reference}/map.json?kinds={','.join(sorted(kinds))}",
        },
    )
