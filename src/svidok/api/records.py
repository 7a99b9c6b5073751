"""Records of a case, one set of routes per kind: items, incidents, people, places and
sources (list with filters, create, read, change, history, assessments); and links."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from svidok.api.deps import ActorDep, ApiState, State
from svidok.api.errors import ERROR_RESPONSES
from svidok.api.models import AssessmentCreate, AssessmentView, Changes, Limit, LinkCreate, Offset
from svidok.cases.access import Actor
from svidok.cases.fields import KINDS
from svidok.cases.service import CaseworkError, NotFound
from svidok.cases.views import HistoryEntry, LinkView, Page, RecordFilter, RecordView
from svidok.catalog import schema

#: URL segment -> kind of record
COLLECTIONS = {
    "items": "item",
    "incidents": "incident",
    "people": "person",
    "places": "place",
    "sources": "source",
}

_Q = Annotated[str, Field(max_length=500)]


class ListFilter(BaseModel):
    """Conditions on a list (all that are given must hold)."""

    model_config = ConfigDict(extra="forbid")
    subkind: _Q | None = None
    status: _Q | None = None
    assessment: _Q | None = None
    grade: _Q | None = None
    source: _Q | None = None
    object: _Q | None = None
    tag: _Q | None = None
    place: _Q | None = None
    time_from: Annotated[str, Field(max_length=40)] | None = None
    time_to: Annotated[str, Field(max_length=40)] | None = None
    text: _Q | None = None


router = APIRouter(responses=ERROR_RESPONSES)


def record_of(state: ApiState, actor: Actor, case: UUID, kind: str, record: UUID) -> RecordView:
    """The record if it is of ``kind`` (else not found: URLs name a kind)."""
    view = state.work.get(actor, str(case), str(record))
    if view.kind != kind:
        raise NotFound("no such record in this case")
    return view


def check_object(state: ApiState, case: str, fields: Mapping[str, Any]) -> None:
    """An item may name only an object received for its own case (through an upload)."""
    obj = fields.get("object")
    if obj is None:
        return
    with state.home.catalog.engine.connect() as conn:
        found = conn.execute(
            select(schema.acquisitions.c.entry)
            .where(
                schema.acquisitions.c.object_id == str(obj),
                schema.acquisitions.c.case_name == case,
            )
            .limit(1)
        ).first()
    if found is None:
        raise CaseworkError("an item's object is set by uploading its file to this case")


def _add_kind(segment: str, kind: str) -> None:
    body_model = KINDS[kind]
    base = f"/cases/{{case}}/{segment}"
    tags = [segment]

    def list_records(
        state: State,
        actor: ActorDep,
        case: UUID,
        where: Annotated[ListFilter, Query()],
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Page[RecordView]:
        conditions = RecordFilter(kind=kind, **where.model_dump())
        return state.work.find(actor, str(case), conditions, limit=limit, offset=offset)

    def create_record(state: State, actor: ActorDep, case: UUID, body: Any) -> RecordView:
        fields = body.model_dump(mode="json", exclude_none=True)
        if kind == "item":
            check_object(state, str(case), fields)
        with state.writing():
            return state.work.create(actor, str(case), kind, fields)

    create_record.__annotations__["body"] = body_model

    def get_record(state: State, actor: ActorDep, case: UUID, record: UUID) -> RecordView:
        return record_of(state, actor, case, kind, record)

    def update_record(
        state: State, actor: ActorDep, case: UUID, record: UUID, body: Changes
    ) -> RecordView:
        record_of(state, actor, case, kind, record)
        if kind == "item" and "object" in body.changes:
            check_object(state, str(case), body.changes)
        with state.writing():
            return state.work.update(
                actor, str(case), str(record), body.changes, version=body.version
            )

    def record_history(
        state: State,
        actor: ActorDep,
        case: UUID,
        record: UUID,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[HistoryEntry]:
        """Who changed what, when: the record's ledger entries, oldest first, a page of
        them (``limit`` from ``offset``)."""
        record_of(state, actor, case, kind, record)
        return state.work.history(actor, str(case), str(record), limit=limit, offset=offset)

    def list_assessments(
        state: State,
        actor: ActorDep,
        case: UUID,
        record: UUID,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Page[AssessmentView]:
        record_of(state, actor, case, kind, record)
        rows = state.work.assessments(actor, str(case), str(record))
        items = [AssessmentView.model_validate(r) for r in rows[offset : offset + limit]]
        return Page(items=items, total=len(rows), limit=limit, offset=offset)

    def assess_record(
        state: State, actor: ActorDep, case: UUID, record: UUID, body: AssessmentCreate
    ) -> RecordView:
        record_of(state, actor, case, kind, record)
        with state.writing():
            return state.work.assess(actor, str(case), str(record), body.to, body.rationale)

    routes: list[tuple[str, str, Callable[..., Any], int]] = [
        ("GET", base, list_records, 200),
        ("POST", base, create_record, 201),
        ("GET", base + "/{record}", get_record, 200),
        ("PATCH", base + "/{record}", update_record, 200),
        ("GET", base + "/{record}/history", record_history, 200),
        ("GET", base + "/{record}/assessments", list_assessments, 200),
        ("POST", base + "/{record}/assessments", assess_record, 201),
    ]
    for method, path, func, status in routes:
        name = f"{func.__name__}_{segment}"
        router.add_api_route(
            path,
            func,
            methods=[method],
            status_code=status,
            name=name,
            operation_id=name,
            tags=list(tags),
        )


for _segment, _kind in COLLECTIONS.items():
    _add_kind(_segment, _kind)


@router.get("/cases/{case}/links", tags=["links"])
def list_links(
    state: State,
    actor: ActorDep,
    case: UUID,
    record: UUID | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[LinkView]:
    """Live links of the case (or of one record)."""
    links = state.work.links(actor, str(case), None if record is None else str(record))
    return Page(items=links[offset : offset + limit], total=len(links), limit=limit, offset=offset)


@router.post("/cases/{case}/links", status_code=201, tags=["links"])
def create_link(state: State, actor: ActorDep, case: UUID, body: LinkCreate) -> LinkView:
    with state.writing():
        return state.work.link(actor, str(case), body.kind, body.from_id, body.to_id, body.role)


@router.delete("/cases/{case}/links/{link}", status_code=204, tags=["links"])
def delete_link(
    state: State,
    actor: ActorDep,
    case: UUID,
    link: UUID,
    reason: Annotated[str, Query(max_length=2000)] = "",
) -> Response:
    with state.writing():
        state.work.unlink(actor, str(case), str(link), reason)
    return Response(status_code=204)
