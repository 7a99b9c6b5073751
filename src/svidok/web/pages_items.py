"""Items: the filtered list with thumbnails, an item's page, its preview, and upload."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from svidok.api.items import chunks
from svidok.cases.access import Permission
from svidok.cases.fields import ItemKind
from svidok.cases.service import NotFound
from svidok.cases.views import AssessmentStatus, RecordFilter
from svidok.web import evidence
from svidok.web.common import (
    PAGE_SIZE,
    actor_of,
    case_of,
    case_page,
    may,
    other_end,
    page_offset,
    records_of_kind,
)
from svidok.web.records_kit import GRADES, labels, linked, query_values, record_context
from svidok.web.render import render
from svidok.web.router import router
from svidok.web.session import require_viewer, state_of

FILTERS = ("q", "item_kind", "time_from", "time_to", "place", "status", "tag", "source_grade")


def _record_filter(values: dict[str, str]) -> RecordFilter:
    status = values.get("status")
    kind = values.get("item_kind")
    grade = values.get("source_grade")
    return RecordFilter(
        kind="item",
        subkind=kind if kind in {k.value for k in ItemKind} else None,
        assessment=status if status in {s.value for s in AssessmentStatus} else None,
        source_grade=grade if grade in GRADES else None,
        tag=values.get("tag"),
        place=values.get("place"),
        time_from=values.get("time_from"),
        time_to=values.get("time_to"),
        text=values.get("q"),
    )


def _query_without_offset(values: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(values)


@router.get("/cases/{key}/items")
def items_page(request: Request, key: str) -> Response:
    viewer, case, state, actor = case_page(request, key)
    values = query_values(request, FILTERS)
    offset = page_offset(request)
    page = state.work.find(actor, case.id, _record_filter(values), limit=PAGE_SIZE, offset=offset)
    places = records_of_kind(state, actor, case.id, "place")
    return render(
        request,
        "items.html",
        viewer,
        {
            "case": case,
            "section": "items",
            "page": page,
            "filters": values,
            "query": _query_without_offset(values),
            "item_kinds": [k.value for k in ItemKind],
            "statuses": [s.value for s in AssessmentStatus],
            "grades": GRADES,
            "places": places,
            "may_edit": may(case, Permission.EDIT),
            "with_thumbnail": evidence.has_thumbnails(
                state, [str(i.fields["object"]) for i in page.items if i.fields.get("object")]
            ),
        },
    )


@router.get("/cases/{key}/items/{record}")
def item_page(request: Request, key: str, record: str) -> Response:
    viewer, case, state, actor = case_page(request, key)
    item = state.work.get(actor, case.id, record)
    if item.kind != "item":
        raise NotFound("no such item")
    try:
        found = state.work.evidence(actor, case.id, record)
    except NotFound:
        found = None
    links = state.work.links(actor, case.id, record)
    others = {other_end(link, record) for link in links}
    if item.fields.get("source"):
        others.add(str(item.fields["source"]))
    if (item.fields.get("location") or {}).get("place"):
        others.add(str(item.fields["location"]["place"]))
    related = labels(state, actor, case.id, others)
    media = found.media_type if found is not None else ""
    if media.startswith("text/"):
        preview_kind = "text"
    elif media in evidence.INLINE:
        preview_kind = media.split("/")[0] if media != "application/pdf" else "pdf"
    else:
        preview_kind = ""
    return render(
        request,
        "item.html",
        viewer,
        {
            "case": case,
            "section": "items",
            "item": item,
            "evidence": found,
            "links": links,
            "related": related,
            "linked": linked(links, record, related),
            "preview_kind": preview_kind,
            "previews": (
                evidence.preview_state(state, found.object, found.media_type) if found else None
            ),
            **record_context(
                request,
                actor,
                case,
                item,
                [a.entry for a in found.acquisitions] if found is not None else [],
            ),
        },
    )


@router.get("/cases/{key}/items/{record}/thumbnail")
def item_thumbnail(request: Request, key: str, record: str) -> Response:
    viewer = require_viewer(request)
    case = case_of(request, viewer, key)
    data = evidence.thumbnail(state_of(request), actor_of(request, viewer), case.id, record)
    if data is None:
        return Response(status_code=204)
    return Response(
        data,
        media_type="image/jpeg",
        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/cases/{key}/items/{record}/preview")
def item_preview(request: Request, key: str, record: str) -> Response:
    """The original inline, for the browser's own viewer, if its type is one that shows
    without running anything: whole, or the one byte range asked for (206; 416 past the
    end), so that a long video can seek. Recorded as a view before a byte is sent, by the
    rule of evidence.view_is_recorded: whenever the response begins at the first byte,
    and for a later range only when no view of the item by the same user was recorded in
    the last minutes."""
    viewer, case, state, actor = case_page(request, key)
    found = state.work.evidence(actor, case.id, record)
    if found.media_type not in evidence.INLINE:
        raise NotFound("this original cannot be shown in the browser; download it instead")
    size, tag = found.size, f'"{found.sha256}"'
    headers = {"Accept-Ranges": "bytes", "ETag": tag, "Cache-Control": "private, no-store"}
    if_range = request.headers.get("if-range")
    try:  # a Range for another version of the file (If-Range) is answered with all of it
        wanted = evidence.byte_range(request.headers.get("range"), size)
        wanted = None if if_range is not None and if_range.strip() != tag else wanted
    except evidence.Unsatisfiable:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    first, last = wanted if wanted is not None else (0, size - 1)
    if evidence.view_is_recorded(request.app.state.web_views, viewer.user.id, record, first):
        with state.writing():
            state.work.open_evidence(actor, case.id, record, action="view")
    handle = state.home.store.open_content(found.object, found.logical_path)
    handle.seek(first)
    policy = "default-src 'none'; img-src 'self'; media-src 'self'; object-src 'self'"
    if found.media_type != "application/pdf":  # Chromium's PDF viewer refuses a sandboxed frame
        policy = "sandbox; " + policy
    headers |= {
        "Content-Length": str(last - first + 1),
        "Content-Disposition": "inline",
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
    }
    if wanted is not None:
        headers["Content-Range"] = f"bytes {first}-{last}/{size}"
    return StreamingResponse(
        chunks(handle, last - first + 1),
        status_code=206 if wanted is not None else 200,
        media_type=found.media_type,
        headers=headers,
    )


@router.get("/cases/{key}/items/{record}/text")
def item_text(request: Request, key: str, record: str) -> Response:
    """The beginning of a text original, escaped into a page fragment (htmx)."""
    viewer, case, state, actor = case_page(request, key)
    found = state.work.evidence(actor, case.id, record)
    if not found.media_type.startswith("text/"):
        raise NotFound("this original is not text")
    content, cut = evidence.text_preview(state, actor, case.id, record, found)
    return render(request, "fragments/text_preview.html", viewer, {"text": content, "cut": cut})


@router.get("/cases/{key}/upload")
def upload_page(request: Request, key: str) -> Response:
    viewer = require_viewer(request)
    case = case_of(request, viewer, key)
    state = state_of(request)
    return render(
        request,
        "upload.html",
        viewer,
        {
            "case": case,
            "section": "upload",
            "may_edit": may(case, Permission.EDIT),
            "limit": state.upload_limit,
            "item_kinds": [k.value for k in ItemKind],
        },
    )
