"""Export: hand items of a case over as a court-ready package, downloaded from the browser.

The package is the one ``svidok export`` and the JSON API make (built by
:func:`svidok.api.exports.build_zip`, recorded in the ledger first: who, what, to whom,
why). Owners and investigators only (the export permission); protected values only when
asked for by a role that may read them.
"""

from __future__ import annotations

import shutil
from typing import Any
from uuid import UUID

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from svidok.api.errors import ApiError
from svidok.api.exports import ExportRequest, build_zip
from svidok.cases.access import AccessDenied, Permission
from svidok.cases.service import CaseworkError, NotFound
from svidok.cases.views import CaseView
from svidok.web import i18n
from svidok.web.common import actor_of, case_of, may, records_of_kind, require, text
from svidok.web.i18n import N_
from svidok.web.records_kit import of_kind, query_values
from svidok.web.render import Viewer, render
from svidok.web.router import router
from svidok.web.session import checked_form, require_viewer, state_of

#: how the items are chosen: all of the case, those of an incident, a title, one item
SELECTIONS = ("all", "incident", "query", "item")
_INPUTS = ("recipient", "purpose", "selection", "incident", "query", "item")
_NAMED = N_("Name the recipient and the purpose: both are recorded in the ledger.")
_CHOOSE = N_("Choose an incident, or enter words of the titles.")
N_("the selection holds no items: nothing to export")  # the service's, shown translated


def _may_export(case: CaseView) -> None:
    require(case, Permission.EXPORT, what="export")


def _page(
    request: Request,
    viewer: Viewer,
    case: CaseView,
    values: dict[str, Any],
    error: str = "",
    status: int = 200,
) -> Response:
    state = state_of(request)
    actor = actor_of(request, viewer)
    incidents = records_of_kind(state, actor, case.id, "incident")
    item = None
    if values.get("item"):
        try:
            item = of_kind(state, actor, case, str(values["item"]), "item")
        except NotFound:
            values = {**values, "item": ""}
    if values.get("selection") == "item" and item is None:
        values = {**values, "selection": "all"}
    return render(
        request,
        "export.html",
        viewer,
        {
            "case": case,
            "section": "export",
            "values": values,
            "error": error,
            "incidents": incidents,
            "item": item,
            "may_read_protected": may(case, Permission.READ_PROTECTED),
            "vkey": state.home.verifier.to_vkey(),
        },
        status=status,
    )


@router.get("/cases/{key}/export")
def export_page(request: Request, key: str) -> Response:
    """The export form; ``?incident=ID`` or ``?item=ID`` chooses that selection."""
    viewer = require_viewer(request)
    case = case_of(request, viewer, key)
    _may_export(case)
    values: dict[str, Any] = {"selection": "all", **query_values(request, ("incident", "item"))}
    for choice in ("incident", "item"):
        if values.get(choice):
            values["selection"] = choice
    return _page(request, viewer, case, values)


def _request_of(values: dict[str, str], protected: bool, previews: bool = False) -> ExportRequest:
    """What the form asks for, as the JSON API's request (CaseworkError: in plain words)."""
    if not values["recipient"] or not values["purpose"]:
        raise CaseworkError(_NAMED)
    selection = values["selection"] if values["selection"] in SELECTIONS else "all"
    try:
        chosen = UUID(values[selection]) if selection in {"incident", "item"} else None
    except ValueError:
        raise CaseworkError(_CHOOSE) from None
    if selection == "query" and not values["query"]:
        raise CaseworkError(_CHOOSE)
    return ExportRequest(
        recipient=values["recipient"],
        purpose=values["purpose"],
        items=[chosen] if selection == "item" and chosen else [],
        incident=chosen if selection == "incident" else None,
        query=values["query"] if selection == "query" else None,
        include_protected=protected,
        derivatives=["all"] if previews else [],
    )


@router.post("/cases/{key}/export")
async def export_download(request: Request, key: str) -> Response:
    """Build the package (recorded in the ledger before it is written) and send it as a
    download; the form again, with the reason, when there is nothing to export."""
    viewer = require_viewer(request)
    form = await checked_form(request, viewer)
    case = case_of(request, viewer, key)
    _may_export(case)
    state = state_of(request)
    limits = {"recipient": 500, "purpose": 2000, "query": 200}
    values = {n: text(form, n, limit=limits.get(n, 100)) for n in _INPUTS}
    protected = text(form, "include_protected", limit=10) == "yes"
    previews = text(form, "include_previews", limit=10) == "yes"
    try:
        body = _request_of(values, protected, previews)
        path, name = await run_in_threadpool(
            build_zip, state, actor_of(request, viewer), case.id, body
        )
    except (CaseworkError, ApiError) as exc:
        if isinstance(exc, NotFound | AccessDenied):
            raise
        message = exc.message if isinstance(exc, ApiError) else str(exc)
        values["include_protected"] = "yes" if protected else ""
        values["include_previews"] = "yes" if previews else ""
        return _page(request, viewer, case, values, i18n.gettext_(message), 422)
    cleanup = BackgroundTask(shutil.rmtree, path.parent, ignore_errors=True)
    return FileResponse(
        path,
        media_type="application/zip",
        filename=name,
        background=cleanup,
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )
