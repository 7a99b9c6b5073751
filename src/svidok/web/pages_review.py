"""A case's review queue: records awaiting a decision, and unverified ones that can be put
into review, each with a form that posts to the record's assess action (two-person rule
said plainly where it applies)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from svidok.cases._records import TRANSITIONS
from svidok.cases.access import Permission
from svidok.cases.views import Page, RecordFilter, RecordView
from svidok.web.common import PAGE_SIZE, case_page, may
from svidok.web.render import render
from svidok.web.router import router

#: where each kind of record has its own page (others: the generic record page)
KIND_PATHS = {"item": "items", "incident": "incidents", "person": "people"}


@dataclass(frozen=True)
class QueueRow:
    """One record of the queue: the record, who put it in review and when (if it is in
    review), the statuses the viewer may move it to, and whether the two-person rule
    keeps the viewer from verifying it."""

    record: RecordView
    href: str
    submitted_by: str
    submitted_at: str
    statuses: list[str]
    second_reviewer_needed: bool


def record_href(reference: str, record: RecordView) -> str:
    return f"/cases/{reference}/{KIND_PATHS.get(record.kind, 'records')}/{record.id}"


def _offset(request: Request, name: str) -> int:
    try:
        return max(0, min(int(request.query_params.get(name, "0")), 10**9))
    except ValueError:
        return 0


def _rows(
    state: Any, actor: Any, case: Any, page: Page[RecordView], assessing: bool
) -> list[QueueRow]:
    rows = []
    for record in page.items:
        by = at = ""
        if record.assessment.value == "in review":
            for entry in reversed(state.work.assessments(actor, case.id, record.id)):
                if entry["to"] == "in review":
                    by, at = str(entry["by"]), str(entry["time"])
                    break
        statuses = sorted(TRANSITIONS.get(record.assessment.value, frozenset()))
        blocked = False
        if assessing and "verified" in statuses:
            blocked = state.work.needs_second_reviewer(actor, case.id, record.id)
            if blocked:
                statuses.remove("verified")
        rows.append(
            QueueRow(record, record_href(case.reference, record), by, at, statuses, blocked)
        )
    return rows


@router.get("/cases/{key}/review")
def review_page(request: Request, key: str) -> Response:
    viewer, case, state, actor = case_page(request, key)
    assessing = may(case, Permission.ASSESS)
    waiting = state.work.find(
        actor,
        case.id,
        RecordFilter(assessment="in review"),
        limit=PAGE_SIZE,
        offset=_offset(request, "offset"),
    )
    unverified = state.work.find(
        actor,
        case.id,
        RecordFilter(assessment="unverified"),
        limit=PAGE_SIZE,
        offset=_offset(request, "uoffset"),
    )
    return render(
        request,
        "review.html",
        viewer,
        {
            "case": case,
            "section": "review",
            "waiting": waiting,
            "waiting_rows": _rows(state, actor, case, waiting, assessing),
            "unverified": unverified,
            "unverified_rows": _rows(state, actor, case, unverified, assessing),
            "may_assess": assessing,
            "back": request.url.path + ("?" + request.url.query if request.url.query else ""),
        },
    )
