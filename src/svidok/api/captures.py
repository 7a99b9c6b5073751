"""Web captures through the JSON API: ``POST /cases/{case}/captures``.

The capture runs within the request (in a worker thread), bounded by the home's
``capture.timeout``; the answer comes when everything is stored. Who may upload evidence to
the case may capture (the edit permission).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from svidok.api.deps import ActorDep, ApiState, State
from svidok.api.errors import ERROR_RESPONSES, ApiError
from svidok.api.items import may_edit
from svidok.cases.access import Actor

router = APIRouter(responses=ERROR_RESPONSES, tags=["captures"])


class CaptureRequest(BaseModel):
    """What to capture, and optionally tighter limits than the home's settings."""

    url: str = Field(min_length=1, max_length=8192)
    note: str | None = Field(default=None, max_length=5000)
    timeout: float | None = Field(default=None, gt=0, le=3600)
    max_bytes: int | None = Field(default=None, gt=0)
    allow_untrusted: bool = False


def run_capture(
    state: ApiState, actor: Actor, case: str, body: CaptureRequest
) -> dict[str, Any]:
    """Capture for ``actor`` within the server's limits (shared with the web page)."""
    from svidok.capture import capture, options_for

    may_edit(state, actor, case)
    cfg = state.home.config
    if body.timeout is not None and body.timeout > cfg.capture_timeout:
        raise ApiError(422, f"the timeout may be at most {cfg.capture_timeout:g} s here")
    if body.max_bytes is not None and body.max_bytes > cfg.capture_max_bytes:
        raise ApiError(422, f"max_bytes may be at most {cfg.capture_max_bytes} here")
    options = options_for(
        cfg,
        case=case,
        collector=actor.name,
        note=body.note,
        timeout=body.timeout,
        max_bytes=body.max_bytes,
        allow_untrusted=body.allow_untrusted,
    )
    report = capture(state.home, body.url, options, actor, state.work, storing=state.writing)
    if state.previews is not None:
        state.previews.submit(sorted({o.object_id for o in report.objects}))
    return report.to_json()


@router.post("/cases/{case}/captures", status_code=201)
async def create_capture(
    state: State, actor: ActorDep, case: UUID, body: CaptureRequest
) -> dict[str, Any]:
    """Capture a web page into the case (headless Chromium; a WACZ, the HTML, the rendered
    DOM, a screenshot, the text and the embedded media, each an item; one ``capture``
    ledger entry). A refused URL, a timeout, a redirect loop or a limit: 422, nothing
    stored."""
    return await run_in_threadpool(run_capture, state, actor, str(case), body)
