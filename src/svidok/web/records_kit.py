"""What the pages of incidents, people, places and sources share: query values, paging,
labels of linked records, form values, the context of the shared record fragments, and
editing a record from its form.

Protected fields (a witness's identity and contact details) reach only roles that may read
them: never rendered, never put into a form for the others, and never sent to the service
in a change made by them, so such a change cannot clear what it could not see. A value
hidden even from a role that may read protected fields (``RecordView.hidden``: no key to
decrypt it) is never sent either: an edit sends only the fields whose value it changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import func, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from svidok.cases.access import Permission
from svidok.cases.fields import (
    PersonFields,
    SourceFields,
)
from svidok.cases.service import TRANSITIONS, CaseworkError, Conflict, NotFound
from svidok.cases.taxonomy import Category, Taxonomy
from svidok.cases.views import CaseView, HistoryEntry, LinkView, Page, RecordFilter, RecordView
from svidok.catalog import schema
from svidok.web.common import (
    PAGE_SIZE,
    actor_of,
    case_of,
    may,
    other_end,
    page_offset,
    require,
    see_other,
    text,
)
from svidok.web.i18n import N_
from svidok.web.pages_actions import link_targets
from svidok.web.pages_geo import (
    MAX_SCAN,
    iterate,
    record_url,
)
from svidok.web.render import Viewer
from svidok.web.session import checked_form, require_viewer, state_of

_FIRST = ("legal_name", "identity_document", "contact", "address", "protected_notes")
PERSON_PROTECTED = [n for n in _FIRST if n in PersonFields.protected] + sorted(
    PersonFields.protected - set(_FIRST)
)
SOURCE_PROTECTED = sorted(SourceFields.protected)
NAME_KINDS = ["primary", "variant", "transliteration", "pseudonym"]
GRADES = ["A", "B", "C", "D", "E", "F"]
#: most entries of a record's custody history shown on its page (the newest)
HISTORY_SHOWN = 200
FIELD_NAMES = {
    "legal_name": N_("Legal name"),
    "contact": N_("Contact"),
    "address": N_("Address"),
    "identity_document": N_("Identity document"),
    "protected_notes": N_("Protected notes"),
}


# ------------------------------------------------------------------------- helpers
def query_values(request: Request, names: tuple[str, ...]) -> dict[str, str]:
    values = {}
    for name in names:
        value = request.query_params.get(name, "").strip()[:200]
        if value:
            values[name] = value
    return values


def page_of(records: list[RecordView], offset: int) -> Page[RecordView]:
    return Page(
        items=records[offset : offset + PAGE_SIZE],
        total=len(records),
        limit=PAGE_SIZE,
        offset=offset,
    )


def list_page(
    request: Request,
    state: Any,
    actor: Any,
    case_id: str,
    where: RecordFilter,
    keep: Callable[[RecordView], bool] | None = None,
) -> Page[RecordView]:
    """The page (``offset`` in the query) of the records matching ``where``; with ``keep``,
    of those among the first MAX_SCAN of them that ``keep`` also keeps (a filter the
    service does not have)."""
    offset = page_offset(request)
    if keep is None:
        page: Page[RecordView] = state.work.find(
            actor, case_id, where, limit=PAGE_SIZE, offset=offset
        )
        return page
    return page_of([r for r in iterate(state, actor, case_id, where, MAX_SCAN) if keep(r)], offset)


def linked(
    links: list[LinkView], record: str, related: dict[str, RecordView], kind: str = ""
) -> list[tuple[RecordView, str | None]]:
    """The records at the other ends of ``links`` from ``record`` that ``related`` holds (of
    ``kind``, when given), each with its link's role."""
    return [
        (related[o], link.role)
        for link in links
        for o in [other_end(link, record)]
        if o in related and (not kind or related[o].kind == kind)
    ]


def labels(state: Any, actor: Any, case_id: str, ids: set[str]) -> dict[str, RecordView]:
    """The records of the case among ``ids`` (the first 500 of them), by id, in one read."""
    found: dict[str, RecordView] = state.work.get_many(actor, case_id, sorted(ids)[:500])
    return found


def of_kind(state: Any, actor: Any, case: CaseView, record: str, kind: str) -> RecordView:
    view: RecordView = state.work.get(actor, case.id, record)
    if view.kind != kind:
        raise NotFound("no such record in this case")
    return view


def tags_of(value: str) -> list[str]:
    out: list[str] = []
    for tag in value.replace("\n", ",").split(","):
        tag = tag.strip()[:100]
        if tag and tag not in out:
            out.append(tag)
    return out[:100]


def choices(form: FormData, name: str, limit: int) -> list[str]:
    out: list[str] = []
    for value in form.getlist(name)[:limit]:
        if isinstance(value, str) and value.strip() and value.strip() not in out:
            out.append(value.strip()[:200])
    return out


def taxonomy_groups(taxonomy: Taxonomy) -> list[tuple[str, list[Category]]]:
    """Categories grouped by their article without its last part (``8(2)(b)(iv)`` under
    ``8(2)(b)``), in the taxonomy's order."""
    groups: dict[str, list[Category]] = {}
    for category in taxonomy.categories:
        head = re.sub(r"\([^()]*\)$", "", category.article) if category.article else ""
        groups.setdefault(head, []).append(category)
    return list(groups.items())


def next_statuses(current: str) -> list[str]:
    return sorted(TRANSITIONS.get(current, frozenset()))


def custody_history(
    state: Any, actor: Any, case_id: str, record: str, also: Iterable[int] = ()
) -> tuple[list[HistoryEntry], int]:
    """The newest entries about the record (at most HISTORY_SHOWN), with the ledger entries
    ``also`` (an item's acquisitions: where its custody begins), oldest first; and how many
    entries there are in all."""
    e = schema.entries.c
    with state.home.catalog.engine.connect() as conn:
        total = conn.execute(
            select(func.count()).where(e.case_id == case_id, e.record_id == record)
        ).scalar_one()
    newest = state.work.history(
        actor, case_id, record, limit=HISTORY_SHOWN, offset=max(0, total - HISTORY_SHOWN)
    )
    shown = {h.index for h in newest}
    for index in sorted(set(also) - shown):
        entry = state.home.ledger.entry(index)
        newest.append(
            HistoryEntry(
                index=entry.index, type=entry.type, time=entry.time, actor=entry.actor, data={}
            )
        )
        total += 1
    return sorted(newest, key=lambda h: h.index), total


def record_context(
    request: Request,
    actor: Any,
    case: CaseView,
    record: RecordView,
    also: Iterable[int] = (),
) -> dict[str, Any]:
    """What the shared fragments (assessments, history, link form) need; ``also``: ledger
    entries to show in the history too (an item's acquisitions)."""
    state = state_of(request)
    history, history_total = custody_history(state, actor, case.id, record.id, also)
    return {
        "target": record,
        "history": history,
        "history_total": history_total,
        "assessments": state.work.assessments(actor, case.id, record.id),
        "may_assess": may(case, Permission.ASSESS),
        "may_edit": may(case, Permission.EDIT),
        "may_annotate": may(case, Permission.ANNOTATE),
        "next_statuses": next_statuses(record.assessment.value),
        "link_targets": link_targets(state, actor, case.id, record.kind)
        if may(case, Permission.ANNOTATE) and record.kind in {"item", "incident", "person"}
        else [],
    }


def _same(new: Any, old: Any) -> bool:
    """Whether a form's value leaves the stored one as it is (empty and absent alike)."""
    return new == old or (new in (None, "", []) and old in (None, "", []))


def changed_fields(changes: dict[str, Any], current: RecordView) -> dict[str, Any]:
    """The fields of ``changes`` that would change ``current`` as its viewer sees it, never
    one hidden from the viewer (``current.hidden``): the form could not show it, so its
    empty value there is no wish to clear it."""
    return {
        name: value
        for name, value in changes.items()
        if name not in current.hidden and not _same(value, current.fields.get(name))
    }


def write(request: Request, work: Callable[[], Any]) -> Any:
    with state_of(request).writing():
        return work()


def form_version(form: FormData) -> int | None:
    try:
        return int(text(form, "version", limit=20))
    except ValueError:
        return None


async def edit_record(
    request: Request,
    key: str,
    record: str,
    kind: str,
    changes_of: Callable[[FormData, CaseView], dict[str, Any]],
    again: Callable[[Viewer, CaseView, RecordView, FormData, str, int], Response],
) -> Response:
    """Change a record from its edit form: only the fields the viewer may change are sent
    (tags alone for a role that may only annotate; protected fields only for a role that
    may read them), and of those only the ones whose value the form changes (never one
    hidden from the viewer), against the version the form was made from."""
    viewer = require_viewer(request)
    form = await checked_form(request, viewer)
    case = case_of(request, viewer, key)
    state = state_of(request)
    actor = actor_of(request, viewer)
    current = of_kind(state, actor, case, record, kind)
    require(case, Permission.EDIT, Permission.ANNOTATE)

    def run() -> None:
        if may(case, Permission.EDIT):
            changes = changed_fields(changes_of(form, case), current)
        else:
            changes = {"tags": tags_of(text(form, "tags", limit=10_000))}
        write(
            request, lambda: state.work.update(actor, case.id, record, changes, form_version(form))
        )

    try:
        await run_in_threadpool(run)
    except Conflict as exc:
        return again(viewer, case, current, form, str(exc), 409)
    except CaseworkError as exc:
        if isinstance(exc, NotFound):
            raise
        return again(viewer, case, current, form, str(exc), 422)
    return see_other(record_url(case.reference, current))


async def create_record(
    request: Request,
    key: str,
    kind: str,
    fields_of: Callable[[FormData, CaseView], dict[str, Any]],
    again: Callable[[Viewer, CaseView, FormData, str], Response],
) -> Response:
    """Create a record of ``kind`` from its form (``fields_of``; None values left out), then
    show its page; the form again with the service's message when it refuses."""
    viewer = require_viewer(request)
    form = await checked_form(request, viewer)
    case = case_of(request, viewer, key)
    state = state_of(request)
    actor = actor_of(request, viewer)

    def run() -> RecordView:
        fields = {k: v for k, v in fields_of(form, case).items() if v is not None}
        made: RecordView = write(request, lambda: state.work.create(actor, case.id, kind, fields))
        return made

    try:
        record = await run_in_threadpool(run)
    except CaseworkError as exc:
        return again(viewer, case, form, str(exc))
    return see_other(record_url(case.reference, record))
