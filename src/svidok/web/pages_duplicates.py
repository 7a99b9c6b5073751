"""Near-duplicates in the web app: a case's pairs of items that look alike (PDQ, vPDQ),
an item's own (a fragment on its page, with its perceptual hash), and confirming or
rejecting a pair (a ledger entry). Thin layer over :mod:`svidok.analysis.duplicates`;
shown only to those who may read the case, decided by those who may annotate it."""

from __future__ import annotations

from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from svidok.analysis.duplicates import Pair, shared
from svidok.api.deps import ApiState
from svidok.cases.access import Permission
from svidok.cases.service import NotFound
from svidok.catalog import schema as s
from svidok.web import evidence
from svidok.web.common import actor_of, case_of, case_page, may, require, see_other, text
from svidok.web.render import render
from svidok.web.router import router
from svidok.web.session import checked_form, require_viewer, safe_next, state_of

MAX_SHOWN = 500


def _objects(state: ApiState, case_id: str, pairs: list[Pair]) -> dict[str, str]:
    """Item -> object, for the items of ``pairs`` (to know which have thumbnails)."""
    ids = sorted({p.a for p in pairs} | {p.b for p in pairs})
    r = s.records.c
    with state.home.catalog.engine.connect() as conn:
        rows = conn.execute(select(r.id, r.object_id).where(
            r.case_id == case_id, r.id.in_(ids), r.object_id.is_not(None))).all()
    return {str(x.id): str(x.object_id) for x in rows}


def _thumbnails(state: ApiState, case_id: str, pairs: list[Pair]) -> set[str]:
    """The items of ``pairs`` whose file has a stored thumbnail."""
    objects = _objects(state, case_id, pairs)
    have = evidence.has_thumbnails(state, sorted(set(objects.values())))
    return {item for item, obj in objects.items() if obj in have}


@router.get("/cases/{key}/duplicates")
def duplicates_page(request: Request, key: str) -> Response:
    viewer, case, state, actor = case_page(request, key)
    pairs = shared(state.work).for_case(actor, case.id)
    shown = pairs[:MAX_SHOWN]
    return render(request, "duplicates.html", viewer, {
        "case": case, "section": "duplicates", "pairs": shown, "total": len(pairs),
        "may_decide": may(case, Permission.ANNOTATE),
        "back": f"/cases/{case.reference}/duplicates",
        "with_thumbnail": _thumbnails(state, case.id, shown),
    })


@router.get("/cases/{key}/items/{record}/duplicates")
def item_duplicates(request: Request, key: str, record: str) -> Response:
    """The "Possible duplicates" section of an item's page (htmx fragment)."""
    viewer, case, state, actor = case_page(request, key)
    item = state.work.get(actor, case.id, record)
    if item.kind != "item":
        raise NotFound("no such item")
    dups = shared(state.work)
    pairs = dups.for_item(actor, case.id, record)
    obj = item.fields.get("object")
    return render(request, "fragments/duplicates_item.html", viewer, {
        "case": case, "item": item, "pairs": pairs,
        "stored": dups.hash_of(str(obj)) if obj else None,
        "may_decide": may(case, Permission.ANNOTATE),
        "back": f"/cases/{case.reference}/items/{record}",
        "with_thumbnail": _thumbnails(state, case.id, pairs),
    })


@router.post("/cases/{key}/duplicates/decide")
async def decide(request: Request, key: str) -> Response:
    viewer = require_viewer(request)
    form = await checked_form(request, viewer)
    state = state_of(request)
    case = case_of(request, viewer, key)
    require(case, Permission.ANNOTATE, what="annotate")
    actor = actor_of(request, viewer)
    a, b = text(form, "a", limit=64), text(form, "b", limit=64)
    decision, note = text(form, "decision", limit=16), text(form, "note", limit=2000)

    def run() -> None:
        with state.writing():
            shared(state.work).decide(actor, case.id, a, b, decision, note)

    await run_in_threadpool(run)
    target = safe_next(form.get("next")) if form.get("next") else None
    return see_other(target or f"/cases/{case.reference}/duplicates")
