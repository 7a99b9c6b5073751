"""What can be done to any record from its page: assess it (two-person rule), link it."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from svidok.cases._records import LINK_KINDS
from svidok.cases.service import CaseworkError
from svidok.cases.views import RecordView
from svidok.web.common import actor_of, case_of, records_of_kind, see_other, text
from svidok.web.router import router
from svidok.web.session import checked_form, require_viewer, safe_next, state_of

#: the kinds of record a record of each kind can be linked to
LINKABLE = {
    kind: sorted(
        {b for a, b in LINK_KINDS.values() if a == kind}
        | {a for a, b in LINK_KINDS.values() if b == kind}
    )
    for kind in ("item", "incident", "person")
}


def link_targets(state: Any, actor: Any, case_id: str, kind: str) -> list[RecordView]:
    """Records that a record of ``kind`` may be linked to (at most 500 of each kind)."""
    out: list[RecordView] = []
    for other in LINKABLE.get(kind, []):
        out.extend(records_of_kind(state, actor, case_id, other))
    return out


def link_kind(a: str, b: str) -> tuple[str, bool]:
    """The link kind between records of kinds ``a`` and ``b``, and whether ``a`` is its
    "from" end. CaseworkError when they cannot be linked."""
    for name, (first, second) in LINK_KINDS.items():
        if (first, second) == (a, b):
            return name, True
        if (first, second) == (b, a):
            return name, False
    raise CaseworkError(f"a {a} cannot be linked to a {b}")


def _back(form: Any, fallback: str, anchor: str = "") -> Response:
    target = safe_next(form.get("next")) if form.get("next") else fallback
    return see_other(target + anchor)


@router.post("/cases/{key}/records/{record}/assess")
async def assess(request: Request, key: str, record: str) -> Response:
    viewer = require_viewer(request)
    form = await checked_form(request, viewer)
    state = state_of(request)
    case = case_of(request, viewer, key)
    to, rationale = text(form, "to", limit=32), text(form, "rationale", limit=5000)

    def run() -> None:
        with state.writing():
            state.work.assess(actor_of(request, viewer), case.id, record, to, rationale)

    await run_in_threadpool(run)
    return _back(form, f"/cases/{case.reference}")


@router.post("/cases/{key}/records/{record}/links")
async def add_link(request: Request, key: str, record: str) -> Response:
    viewer = require_viewer(request)
    form = await checked_form(request, viewer)
    state = state_of(request)
    case = case_of(request, viewer, key)
    actor = actor_of(request, viewer)
    other, role = text(form, "other", limit=64), text(form, "role", limit=2000)

    def run() -> None:
        this = state.work.get(actor, case.id, record)
        that = state.work.get(actor, case.id, other)
        kind, forward = link_kind(this.kind, that.kind)
        ends = (record, other) if forward else (other, record)
        with state.writing():
            state.work.link(actor, case.id, kind, ends[0], ends[1], role)

    await run_in_threadpool(run)
    return _back(form, f"/cases/{case.reference}")
