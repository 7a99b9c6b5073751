"""The custody ledger: the latest signed checkpoint (also as a file to publish), the log's
public key, the last verification, and how anyone checks a receipt offline. Any signed-in
user may see it: it names no case."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from svidok.api.errors import ApiError
from svidok.api.ledger import latest_checkpoint, verify_status
from svidok.catalog import schema
from svidok.web.common import actor_of
from svidok.web.render import render
from svidok.web.router import router
from svidok.web.session import require_viewer, state_of


def _verification(state: Any, actor: Any) -> dict[str, Any]:
    """The last recorded verification in plain words: never verified, intact, or problems
    found; when; and how much of the ledger it covered."""
    status = verify_status(state, actor)
    when = ""
    if status.entry is not None:
        with state.home.catalog.engine.connect() as conn:
            when = (
                conn.execute(
                    select(schema.entries.c.time).where(schema.entries.c.idx == status.entry)
                ).scalar_one_or_none()
                or ""
            )
    if not status.verified:
        verdict = "never"
    elif status.result == "intact" and not status.problems:
        verdict = "intact"
    else:
        verdict = "problems"
    return {"status": status, "verdict": verdict, "when": str(when)}


@router.get("/ledger")
def ledger_page(request: Request) -> Response:
    viewer = require_viewer(request)
    state = state_of(request)
    actor = actor_of(request, viewer)
    try:
        checkpoint = latest_checkpoint(state, actor)
    except ApiError:  # none signed yet
        checkpoint = None
    verifier = state.home.verifier
    return render(
        request,
        "ledger.html",
        viewer,
        {
            "section": "ledger",
            "checkpoint": checkpoint,
            "vkey": verifier.to_vkey(),
            "key_id": verifier.key_id.hex(),
            "verification": _verification(state, actor),
        },
    )


@router.get("/ledger/checkpoint.txt")
def checkpoint_file(request: Request) -> Response:
    """The latest signed checkpoint as a text file, for publishing."""
    viewer = require_viewer(request)
    state = state_of(request)
    checkpoint = latest_checkpoint(state, actor_of(request, viewer))  # 404 if none yet
    size = checkpoint.size
    return PlainTextResponse(
        checkpoint.note,
        media_type="text/plain; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="checkpoint-{size}.txt"',
            "Cache-Control": "no-store",
        },
    )
