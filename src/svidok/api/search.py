"""``GET /search``: full-text search over the records of the cases the caller may read
(a thin layer over :func:`svidok.search.service.search`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from svidok.api.deps import ActorDep, State
from svidok.api.errors import ERROR_RESPONSES
from svidok.search.reads import record_read
from svidok.search.service import MAX_LIMIT, Filters, parse_near, search

router = APIRouter(responses=ERROR_RESPONSES)
_Text = Annotated[str | None, Query(max_length=200)]


@router.get("/search", tags=["search"])
def search_records(
    state: State,
    actor: ActorDep,
    q: Annotated[str, Query(max_length=500, description='Words, "phrases", prefix*')] = "",
    case: _Text = None,
    kind: _Text = None,
    date_from: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    date_to: Annotated[str | None, Query(alias="to", max_length=40)] = None,
    near: Annotated[str | None, Query(max_length=60, description="LAT,LON")] = None,
    radius: Annotated[float | None, Query(description="Kilometres around near")] = None,
    status: _Text = None,
    tag: _Text = None,
    grade: _Text = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> dict[str, Any]:
    """Records matching the query and filters, best first, with highlighted snippets
    (segments marked ``match``); only cases the caller holds a role on. A response showing
    text extracted from originals is recorded first (a ``search.read`` entry)."""
    filters = Filters(case=case, kind=kind, date_from=date_from, date_to=date_to,
                      near=parse_near(near) if near is not None else None, radius_km=radius,
                      status=status, tag=tag, grade=grade)
    with state.home.catalog.engine.connect() as conn:
        results = search(conn, actor, q, filters, limit=limit, offset=offset)
    cipher = state.work.cipher
    record_read(state.home, actor, results, "api", cipher.blind if cipher is not None else None)
    return results.to_json()
