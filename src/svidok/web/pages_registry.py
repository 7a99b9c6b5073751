"""Places and sources (lists with a create form) and a page for a record of any kind."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from svidok.cases.access import Permission
from svidok.cases.fields import (
    Script,
    SourceType,
)
from svidok.cases.service import CaseworkError
from svidok.cases.views import AssessmentStatus, CaseView, RecordFilter
from svidok.web.common import (
    PAGE_SIZE,
    actor_of,
    case_of,
    case_page,
    may,
    page_offset,
    see_other,
    text,
)
from svidok.web.pages_geo import (
    place_point,
    record_url,
    tiles_of,
)
from svidok.web.records_kit import (
    GRADES,
    SOURCE_PROTECTED,
    query_values,
    record_context,
    tags_of,
    write,
)
from svidok.web.render import Viewer, render
from svidok.web.router import router
from svidok.web.session import checked_form, require_viewer, state_of

# ---------------------------------------------------------------- places and sources
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_LATIN = re.compile(r"[A-Za-z]")


def script_of(value: str) -> str:
    """The script a name is written in, as far as its letters tell."""
    if _CYRILLIC.search(value):
        return Script.CYRILLIC.value
    if _ARABIC.search(value):
        return Script.ARABIC.value
    if _LATIN.search(value):
        return Script.LATIN.value
    return Script.OTHER.value


def _number(form: FormData, name: str) -> float | None:
    value = text(form, name, limit=40).replace(",", ".")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise CaseworkError(f"{name}: not a number") from None


def _place_fields(form: FormData, case: CaseView) -> dict[str, Any]:
    variants = [
        {"value": line.strip()[:200], "script": script_of(line)}
        for line in text(form, "variants").splitlines()
        if line.strip()
    ][:50]
    return {
        "name": text(form, "name", limit=200),
        "variants": variants,
        "lat": _number(form, "lat"),
        "lon": _number(form, "lon"),
        "admin_area": text(form, "admin_area", limit=200) or None,
        "description": text(form, "description"),
        "tags": tags_of(text(form, "tags", limit=10_000)),
    }


def _source_fields(form: FormData, case: CaseView) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "name": text(form, "name", limit=200),
        "source_type": text(form, "source_type", limit=40),
        "reliability": text(form, "reliability", limit=1) or "F",
        "url": text(form, "url", limit=2000) or None,
        "description": text(form, "description"),
        "tags": tags_of(text(form, "tags", limit=10_000)),
    }
    if may(case, Permission.READ_PROTECTED):
        fields["contact"] = text(form, "contact") or None
    return fields


LISTS = {"places": ("place", _place_fields), "sources": ("source", _source_fields)}
_LIST_INPUTS = tuple(
    [
        "name",
        "variants",
        "lat",
        "lon",
        "admin_area",
        "description",
        "tags",
        "source_type",
        "reliability",
        "url",
        "contact",
    ]
)


def _list_page(
    request: Request,
    viewer: Viewer,
    case: CaseView,
    collection: str,
    values: dict[str, str] | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    state = state_of(request)
    actor = actor_of(request, viewer)
    kind = LISTS[collection][0]
    filters = query_values(request, ("q",))
    where = RecordFilter(kind=kind, text=filters.get("q"))
    page = state.work.find(actor, case.id, where, limit=PAGE_SIZE, offset=page_offset(request))
    return render(
        request,
        "records.html",
        viewer,
        {
            "case": case,
            "section": collection,
            "collection": collection,
            "kind": kind,
            "page": page,
            "filters": filters,
            "query": urlencode(filters),
            "values": values or {},
            "error": error,
            "source_types": [t.value for t in SourceType],
            "grades": GRADES,
            "may_edit": may(case, Permission.EDIT),
            "show_protected": may(case, Permission.READ_PROTECTED),
        },
        status=status,
    )


@router.get("/cases/{key}/places")
def places_page(request: Request, key: str) -> Response:
    viewer = require_viewer(request)
    return _list_page(request, viewer, case_of(request, viewer, key), "places")


@router.get("/cases/{key}/sources")
def sources_page(request: Request, key: str) -> Response:
    viewer = require_viewer(request)
    return _list_page(request, viewer, case_of(request, viewer, key), "sources")


async def _create_listed(request: Request, key: str, collection: str) -> Response:
    viewer = require_viewer(request)
    form = await checked_form(request, viewer)
    case = case_of(request, viewer, key)
    state = state_of(request)
    actor = actor_of(request, viewer)
    kind, fields_of = LISTS[collection]

    def run() -> str:
        fields = {k: v for k, v in fields_of(form, case).items() if v is not None}
        return str(write(request, lambda: state.work.create(actor, case.id, kind, fields)).id)

    try:
        record = await run_in_threadpool(run)
    except CaseworkError as exc:
        values = {n: text(form, n) for n in _LIST_INPUTS}
        if not may(case, Permission.READ_PROTECTED):
            values.pop("contact", None)
        return _list_page(request, viewer, case, collection, values, str(exc), 422)
    return see_other(f"/cases/{case.reference}/records/{record}")


@router.post("/cases/{key}/places")
async def create_place(request: Request, key: str) -> Response:
    return await _create_listed(request, key, "places")


@router.post("/cases/{key}/sources")
async def create_source(request: Request, key: str) -> Response:
    return await _create_listed(request, key, "sources")


# --------------------------------------------------------------- any record's page
def _safe_link(url: Any) -> str:
    """A URL that may be a link: http or https only (never javascript: or data:)."""
    value = str(url or "")
    return value if re.match(r"^https?://[^\s]+$", value, re.IGNORECASE) else ""


@router.get("/cases/{key}/records/{record}")
def record_page(request: Request, key: str, record: str) -> Response:
    viewer, case, state, actor = case_page(request, key)
    view = state.work.get(actor, case.id, record)
    if view.kind in {"item", "incident", "person"}:
        return see_other(record_url(case.reference, view))
    if view.kind == "place":
        uses = state.work.find(actor, case.id, RecordFilter(place=record), limit=200)
    else:
        uses = state.work.find(actor, case.id, RecordFilter(source=record), limit=200)
    point = place_point(case.reference, view) if view.kind == "place" else None
    tiles, attribution = tiles_of(request)
    protected = SOURCE_PROTECTED if view.kind == "source" else []
    return render(
        request,
        "rec_record.html",
        viewer,
        {
            "case": case,
            "section": "places" if view.kind == "place" else "sources",
            "record": view,
            "uses": uses,
            "points": [point] if point else [],
            "tiles": tiles,
            "attribution": attribution,
            "url_link": _safe_link(view.fields.get("url")),
            "protected_fields": protected,
            "record_url": lambda r: record_url(case.reference, r),
            "statuses": [s.value for s in AssessmentStatus],
            **record_context(request, actor, case, view),
        },
    )
