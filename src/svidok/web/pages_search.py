"""The search page: full-text search over the records of every case the signed-in user
holds a role on (a thin layer over :func:`svidok.search.service.search`); a search box in
the main navigation leads here."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from svidok.cases.access import AccessDenied
from svidok.errors import SearchError
from svidok.search.reads import record_read
from svidok.search.service import Filters, Results, parse_near, search
from svidok.web.common import actor_of, page_offset
from svidok.web.render import render
from svidok.web.router import router
from svidok.web.session import require_viewer, state_of

PAGE = 20
_FIELDS = ("case", "kind", "from", "to", "near", "radius", "status", "tag", "grade")
_SECTIONS = {"item": "items", "incident": "incidents", "person": "people"}


def _param(request: Request, name: str) -> str | None:
    value = request.query_params.get(name, "").strip()[:200]
    return value or None


def _filters(request: Request) -> Filters:
    near, radius = _param(request, "near"), _param(request, "radius")
    try:
        km = float(radius) if radius is not None else None
    except ValueError:
        raise SearchError("the radius must be a number of kilometres") from None
    return Filters(case=_param(request, "case"), kind=_param(request, "kind"),
                   date_from=_param(request, "from"), date_to=_param(request, "to"),
                   near=parse_near(near) if near is not None else None, radius_km=km,
                   status=_param(request, "status"), tag=_param(request, "tag"),
                   grade=_param(request, "grade"))


@router.get("/search")
def search_page(request: Request) -> Response:
    viewer = require_viewer(request)
    state = state_of(request)
    query = request.query_params.get("q", "")[:600]
    values = {name: _param(request, name) or "" for name in _FIELDS}
    results: Results | None = None
    error = ""
    if query.strip() or any(values.values()):
        try:
            filters = _filters(request)
            actor = actor_of(request, viewer)
            with state.home.catalog.engine.connect() as conn:
                results = search(conn, actor, query, filters,
                                 limit=PAGE, offset=page_offset(request))
            cipher = state.work.cipher
            record_read(state.home, actor, results, "web",
                        cipher.blind if cipher is not None else None)
        except (SearchError, AccessDenied) as exc:
            error = str(exc)
    links = {}
    if results is not None:
        links = {hit.record: f"/cases/{hit.case_reference}/"
                 f"{_SECTIONS.get(hit.kind, 'records')}/{hit.record}" for hit in results.hits}
    return render(request, "search.html", viewer, {
        "section": "search", "q": query, "values": values, "results": results,
        "error": error, "links": links,
        "pager_query": urlencode([(k, v) for k, v in request.query_params.multi_items()
                                  if k != "offset"]),
    }, status=422 if error else 200)
