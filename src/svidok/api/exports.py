"""Packages through the JSON API: the same export as ``svidok export``, sent as a zip."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Literal
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from svidok.api.deps import ActorDep, ApiState, State
from svidok.api.errors import ERROR_RESPONSES, ApiError
from svidok.cases.access import Actor
from svidok.export.bag import ExportError

router = APIRouter(responses=ERROR_RESPONSES, tags=["exports"])


class ExportRequest(BaseModel):
    """What to hand over, to whom and why (all three are recorded in the ledger)."""

    recipient: str = Field(min_length=1, max_length=500)
    purpose: str = Field(min_length=1, max_length=2000)
    items: list[UUID] = Field(default_factory=list, max_length=100_000)
    incident: UUID | None = None
    query: str | None = Field(default=None, max_length=200)
    include_protected: bool = False
    derivatives: list[Literal["thumbnail", "preview", "keyframes", "waveform", "all"]] = Field(
        default_factory=list, max_length=5,
        description="Kinds of derivatives (previews) to include beside the originals")


def build_zip(state: ApiState, actor: Actor, case: str, body: ExportRequest) -> tuple[Path, str]:
    """Export into a private temporary folder; (the zip, its download name) back. The
    caller removes the folder (``path.parent``) once it is sent."""
    from svidok.export.package import Selection, export_case

    folder = Path(tempfile.mkdtemp(prefix="svidok-export-", dir=state.staging_dir))
    try:
        selection = Selection(
            items=tuple(str(i) for i in body.items),
            incident=str(body.incident) if body.incident else None,
            query=body.query or None,
        )
        result = export_case(
            state.home, state.work, actor, case, selection, folder / "package.zip",
            recipient=body.recipient, purpose=body.purpose,
            include_protected=body.include_protected, derivatives=tuple(body.derivatives),
        )
    except ExportError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise ApiError(422, str(exc)) from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    name = "".join(c if c.isalnum() or c in "-_" else "_" for c in result.case)[:60]
    return result.path, f"svidok-{name}-{result.export[:8]}.zip"


@router.post(
    "/cases/{case}/exports",
    response_model=None,
    responses={200: {"description": "The package: a zipped BagIt bag",
                     "content": {"application/zip": {}}}},
)
async def export_package(
    state: State, actor: ActorDep, case: UUID, body: ExportRequest
) -> FileResponse:
    """Export items of the case as a court-ready package (a zipped BagIt bag; see
    docs/formats.md, "Packages"). Owners and investigators only; protected values only when
    asked for by someone who may read them. The export is recorded in the ledger first."""
    path, name = await run_in_threadpool(build_zip, state, actor, str(case), body)
    cleanup = BackgroundTask(shutil.rmtree, path.parent, ignore_errors=True)
    return FileResponse(path, media_type="application/zip", filename=name, background=cleanup)
