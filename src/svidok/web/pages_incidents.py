"""Incidents: the list with filters, an incident's page (linked evidence and people, map,
timeline), and its create and edit forms."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from svidok.cases.access import Permission
from svidok.cases.fields import (
    IncidentStatus,
    Precision,
)
from svidok.cases.service import CaseworkError
from svidok.cases.views import CaseView, RecordFilter, RecordView
from svidok.web.common import (
    actor_of,
    case_of,
    case_page,
    may,
    other_end,
    records_of_kind,
    require,
    text,
)
from svidok.web.pages_geo import (
    evidence_times,
    incident_times,
    item_point,
    layout,
    place_point,
    tiles_of,
)
from svidok.web.records_kit import (
    choices,
    create_record,
    edit_record,
    labels,
    linked,
    list_page,
    of_kind,
    query_values,
    record_context,
    tags_of,
    taxonomy_groups,
)
from svidok.web.render import Viewer, render
from svidok.web.router import router
from svidok.web.session import require_viewer, state_of

# ------------------------------------------------------------------------ incidents
INCIDENT_FILTERS = ("q", "status", "category", "time_from", "time_to", "place")


@router.get("/cases/{key}/incidents")
def incidents_page(request: Request, key: str) -> Response:
    viewer, case, state, actor = case_page(request, key)
    values = query_values(request, INCIDENT_FILTERS)
    status = values.get("status")
    where = RecordFilter(
        kind="incident",
        status=status if status in {s.value for s in IncidentStatus} else None,
        place=values.get("place"),
        time_from=values.get("time_from"),
        time_to=values.get("time_to"),
        text=values.get("q"),
    )
    category = values.get("category")
    keep = (lambda r: category in r.fields.get("categories", [])) if category else None
    page = list_page(request, state, actor, case.id, where, keep)
    places = records_of_kind(state, actor, case.id, "place")
    taxonomy = state.work.taxonomy
    return render(
        request,
        "incidents.html",
        viewer,
        {
            "case": case,
            "section": "incidents",
            "page": page,
            "filters": values,
            "query": urlencode(values),
            "statuses": [s.value for s in IncidentStatus],
            "groups": taxonomy_groups(taxonomy),
            "category_labels": {c.code: c for c in taxonomy.categories},
            "places": places,
            "place_labels": {p.id: p.label for p in places},
            "may_edit": may(case, Permission.EDIT),
        },
    )


def _incident_fields(form: FormData) -> dict[str, Any]:
    """The incident's fields from its form; a cleared value is None."""
    start, end = text(form, "time_start", limit=40), text(form, "time_end", limit=40)
    time: dict[str, Any] | None = None
    if end and not start:
        raise CaseworkError("give the start of the time range too")
    if start:
        precision = text(form, "time_precision", limit=20) or "day"
        time = {"start": start, "precision": precision}
        if end:
            time["end"] = end
    return {
        "title": text(form, "title", limit=500),
        "description": text(form, "description"),
        "time": time,
        "places": choices(form, "places", 100),
        "categories": choices(form, "categories", 50),
        "status": text(form, "status", limit=40) or "reported",
        "tags": tags_of(text(form, "tags", limit=10_000)),
    }


def _incident_form(
    request: Request,
    viewer: Viewer,
    case: CaseView,
    record: RecordView | None,
    values: dict[str, Any],
    error: str = "",
    status: int = 200,
) -> Response:
    state = state_of(request)
    places = records_of_kind(state, actor_of(request, viewer), case.id, "place")
    return render(
        request,
        "incident_form.html",
        viewer,
        {
            "case": case,
            "section": "incidents",
            "record": record,
            "values": values,
            "error": error,
            "places": places,
            "groups": taxonomy_groups(state.work.taxonomy),
            "statuses": [s.value for s in IncidentStatus],
            "precisions": [p.value for p in Precision],
            "may_edit": may(case, Permission.EDIT),
        },
        status=status,
    )


def _incident_values(record: RecordView) -> dict[str, Any]:
    fields = dict(record.fields)
    time = fields.get("time") or {}
    return {
        "title": fields.get("title", ""),
        "description": fields.get("description", ""),
        "time_start": time.get("start", ""),
        "time_end": time.get("end", ""),
        "time_precision": time.get("precision", "day"),
        "places": fields.get("places", []),
        "categories": fields.get("categories", []),
        "status": fields.get("status", "reported"),
        "tags": ", ".join(fields.get("tags", [])),
        "version": record.version,
    }


def _form_values(form: FormData, names: tuple[str, ...]) -> dict[str, Any]:
    values: dict[str, Any] = {n: text(form, n) for n in names}
    for many in ("places", "categories"):
        values[many] = choices(form, many, 100)
    return values


_INCIDENT_INPUTS = tuple(
    [
        "title",
        "description",
        "time_start",
        "time_end",
        "time_precision",
        "status",
        "tags",
        "version",
    ]
)


@router.get("/cases/{key}/incidents/new")
def new_incident_page(request: Request, key: str) -> Response:
    viewer = require_viewer(request)
    case = case_of(request, viewer, key)
    require(case, Permission.EDIT)
    values = {"status": "reported", "time_precision": "day", "places": [], "categories": []}
    return _incident_form(request, viewer, case, None, values)


@router.post("/cases/{key}/incidents")
async def create_incident(request: Request, key: str) -> Response:
    def again(viewer: Viewer, case: CaseView, form: FormData, error: str) -> Response:
        values = _form_values(form, _INCIDENT_INPUTS)
        return _incident_form(request, viewer, case, None, values, error, 422)

    return await create_record(request, key, "incident", lambda f, c: _incident_fields(f), again)


@router.get("/cases/{key}/incidents/{record}")
def incident_page(request: Request, key: str, record: str) -> Response:
    viewer, case, state, actor = case_page(request, key)
    incident = of_kind(state, actor, case, record, "incident")
    links = state.work.links(actor, case.id, record)
    others = {other_end(link, record) for link in links}
    related = labels(state, actor, case.id, others | set(incident.fields.get("places", [])))
    evidence = linked(links, record, related, "item")
    people = linked(links, record, related, "person")
    places = [related[p] for p in incident.fields.get("places", []) if p in related]
    points = [p for p in (place_point(case.reference, pl, incident) for pl in places) if p]
    points += [p for p in (item_point(case.reference, item) for item, _ in evidence) if p]
    tl = layout(
        incident_times(case.reference, [incident]),
        evidence_times(case.reference, [item for item, _ in evidence]),
    )
    taxonomy = state.work.taxonomy
    tiles, attribution = tiles_of(request)
    return render(
        request,
        "incident.html",
        viewer,
        {
            "case": case,
            "section": "incidents",
            "incident": incident,
            "links": links,
            "evidence": evidence,
            "people": people,
            "places": places,
            "points": points,
            "tl": tl,
            "tiles": tiles,
            "attribution": attribution,
            "category_labels": {c.code: c for c in taxonomy.categories},
            **record_context(request, actor, case, incident),
        },
    )


@router.get("/cases/{key}/incidents/{record}/edit")
def edit_incident_page(request: Request, key: str, record: str) -> Response:
    viewer = require_viewer(request)
    case = case_of(request, viewer, key)
    require(case, Permission.EDIT, Permission.ANNOTATE)
    incident = of_kind(state_of(request), actor_of(request, viewer), case, record, "incident")
    return _incident_form(request, viewer, case, incident, _incident_values(incident))


@router.post("/cases/{key}/incidents/{record}/edit")
async def edit_incident(request: Request, key: str, record: str) -> Response:
    def again(
        viewer: Viewer, case: CaseView, current: RecordView, form: FormData, error: str, code: int
    ) -> Response:
        values = _form_values(form, _INCIDENT_INPUTS)
        values["version"] = current.version if code == 409 else values.get("version")
        return _incident_form(request, viewer, case, current, values, error, code)

    return await edit_record(
        request, key, record, "incident", lambda f, c: _incident_fields(f), again
    )
