"""Capture a web page into a case from the browser.

The capture runs within the request (in a worker thread), bounded by the home's
``capture.timeout``: the page answers when everything is stored, with what was made, or
with the form and the reason it failed (nothing stored then). Who may upload evidence to
the case (the edit permission) may capture.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from svidok.api.captures import CaptureRequest, run_capture
from svidok.api.errors import ApiError
from svidok.cases.access import Permission
from svidok.cases.views import CaseView
from svidok.errors import CaptureError
from svidok.web.common import actor_of, case_of, require, text
from svidok.web.i18n import N_
from svidok.web.render import Viewer, render
from svidok.web.router import router
from svidok.web.session import checked_form, require_viewer, state_of

_ROLES = {
    "wacz": N_("Web archive (WACZ)"),
    "source": N_("HTML source as served"),
    "rendered": N_("Rendered page (DOM)"),
    "screenshot": N_("Full-page screenshot"),
    "text": N_("Page text"),
    "media": N_("Embedded media"),
    "resource": N_("Captured file"),
}


def _page(
    request: Request,
    viewer: Viewer,
    case: CaseView,
    values: dict[str, str],
    *,
    error: str = "",
    result: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "capture.html",
        viewer,
        {
            "case": case,
            "section": "capture",
            "values": values,
            "error": error,
            "result": result,
            "roles": _ROLES,
            "timeout": state_of(request).home.config.capture_timeout,
        },
        status=status,
    )


@router.get("/cases/{key}/capture")
def capture_page(request: Request, key: str) -> Response:
    viewer = require_viewer(request)
    case = case_of(request, viewer, key)
    require(case, Permission.EDIT)
    return _page(request, viewer, case, {})


@router.post("/cases/{key}/capture")
async def capture_submit(request: Request, key: str) -> Response:
    viewer = require_viewer(request)
    form = await checked_form(request, viewer)
    case = case_of(request, viewer, key)
    require(case, Permission.EDIT)
    values = {
        "url": text(form, "url", limit=8192),
        "note": text(form, "note", limit=5000),
        "allow_untrusted": "yes" if text(form, "allow_untrusted", limit=10) == "yes" else "",
    }
    body = CaptureRequest.model_construct(
        url=values["url"],
        note=values["note"] or None,
        timeout=None,
        max_bytes=None,
        allow_untrusted=bool(values["allow_untrusted"]),
    )
    state = state_of(request)
    try:
        result = await run_in_threadpool(
            run_capture, state, actor_of(request, viewer), case.id, body
        )
    except (CaptureError, ApiError) as exc:
        message = exc.message if isinstance(exc, ApiError) else str(exc)
        return _page(request, viewer, case, values, error=message, status=422)
    return _page(request, viewer, case, {}, result=result, status=201)
