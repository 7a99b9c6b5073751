"""Evidence files: streamed upload, download of the original (recorded first), receipts."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, BinaryIO
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, StreamingResponse
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from svidok.api.deps import ActorDep, ApiState, State
from svidok.api.errors import ERROR_RESPONSES, ApiError
from svidok.api.records import record_of
from svidok.cases.access import Actor, Permission
from svidok.cases.fields import ItemKind
from svidok.cases.service import NotFound
from svidok.cases.views import EvidenceView, RecordView
from svidok.catalog import schema
from svidok.errors import IntakeError

router = APIRouter(responses=ERROR_RESPONSES, tags=["items"])

CHUNK = 1 << 20
_BINARY = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}


def safe_name(name: str) -> str:
    """A file name fit to stand for the upload: no folders, no control characters."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if name in {"", ".", ".."}:
        name = "upload"
    return name[:200]


def may_edit(state: ApiState, actor: Actor, case: str) -> None:
    """Refuse (403) unless ``actor`` may edit the case (shared with the resumable uploads)."""
    with state.home.catalog.engine.connect() as conn:
        granted = state.work.allowed(conn, actor, case)
    if not granted:
        raise ApiError(403, "no such case, or no access to it")
    if Permission.EDIT not in granted:
        raise ApiError(403, "your role on this case does not allow: edit")


def ingest_staged(
    state: ApiState,
    actor: Actor,
    case: str,
    staged: Path,
    digest: str,
    source: str = "JSON API upload",
) -> str:
    """Make the staged file durable through the intake machinery; its object id back,
    which must be ``sha256:<digest>`` (the digest taken while the bytes were received)."""
    from svidok.intake.ingest import IngestOptions, ingest

    options = IngestOptions(case=case, collector=actor.name, source=source)
    with state.writing():
        report = ingest(state.home, [str(staged)], options)
    outcome = report.outcomes[0] if len(report.outcomes) == 1 else None
    if outcome is None or not outcome.ok or outcome.object_id is None:
        reason = outcome.reason if outcome is not None else None
        raise IntakeError(f"the upload could not be preserved: {reason or 'unknown reason'}")
    if outcome.object_id != f"sha256:{digest}":
        raise IntakeError("the stored object does not match the bytes received")
    if state.previews is not None:
        state.previews.submit([outcome.object_id])
    return outcome.object_id


@router.post(
    "/cases/{case}/items/upload",
    status_code=201,
    openapi_extra={"requestBody": {"required": True, "content": _BINARY}},
)
async def upload_item(
    request: Request,
    state: State,
    actor: ActorDep,
    case: UUID,
    filename: Annotated[str, Query(min_length=1, max_length=1000)],
    title: Annotated[str, Query(min_length=1, max_length=500)] | None = None,
    item_kind: ItemKind = ItemKind.OTHER,
) -> RecordView:
    """Upload one file as the raw request body; it is hashed while it is received, preserved
    in the store, and a new item record names it. Larger than the limit: 413."""
    case_id = str(case)
    await run_in_threadpool(may_edit, state, actor, case_id)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > state.upload_limit:
        raise ApiError(413, f"the upload is larger than the limit of {state.upload_limit} bytes")
    name = safe_name(filename)
    folder = Path(tempfile.mkdtemp(prefix="svidok-upload-", dir=state.staging_dir))
    try:
        staged = folder / name
        digest = hashlib.sha256()
        size = 0
        with staged.open("xb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > state.upload_limit:
                    raise ApiError(
                        413, f"the upload is larger than the limit of {state.upload_limit} bytes"
                    )
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise ApiError(422, "the upload is empty")
        object_id = await run_in_threadpool(
            ingest_staged, state, actor, case_id, staged, digest.hexdigest()
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    fields = {"title": title or name, "object": object_id, "item_kind": item_kind.value}

    def create() -> RecordView:
        with state.writing():
            return state.work.create(actor, case_id, "item", fields)

    return await run_in_threadpool(create)


def _object_row(state: ApiState, object_id: str) -> tuple[str, str, int]:
    with state.home.catalog.engine.connect() as conn:
        row = conn.execute(
            select(
                schema.objects.c.media_type, schema.objects.c.logical_path, schema.objects.c.size
            ).where(schema.objects.c.id == object_id)
        ).first()
    if row is None:
        raise NotFound("this record holds no evidence file")
    return str(row.media_type), str(row.logical_path), int(row.size)


def chunks(handle: BinaryIO, length: int | None = None) -> Iterator[bytes]:
    """The file's bytes from where it stands (all, or ``length`` of them); closes it
    (shared with the web app's previews, which send one byte range)."""
    try:
        left = length
        while left is None or left > 0:
            chunk = handle.read(CHUNK if left is None else min(CHUNK, left))
            if not chunk:
                break
            if left is not None:
                left -= len(chunk)
            yield chunk
    finally:
        handle.close()


@router.get(
    "/cases/{case}/items/{record}/original",
    response_model=None,
    responses={200: {"description": "The original file, bit for bit", "content": _BINARY}},
)
def download_original(state: State, actor: ActorDep, case: UUID, record: UUID) -> StreamingResponse:
    """The original file. The download is recorded in the ledger (who, which item, which
    object) before the first byte is sent."""
    record_of(state, actor, case, "item", record)
    with state.writing():
        object_id = state.work.open_evidence(actor, str(case), str(record), action="download")
    media_type, logical_path, size = _object_row(state, object_id)
    handle = state.home.store.open_content(object_id, logical_path)
    digest = bytes.fromhex(object_id.removeprefix("sha256:"))
    headers = {
        "Content-Length": str(size),
        "Content-Disposition": f'attachment; filename="{logical_path}"',
        "Repr-Digest": f"sha-256=:{base64.b64encode(digest).decode('ascii')}:",
        "ETag": f'"{object_id}"',
        "X-Content-Type-Options": "nosniff",
    }
    return StreamingResponse(
        chunks(handle),
        media_type="application/octet-stream",
        headers={**headers, "X-Media-Type": media_type},
    )


@router.get("/cases/{case}/items/{record}/metadata")
def item_metadata(state: State, actor: ActorDep, case: UUID, record: UUID) -> EvidenceView:
    """The original's SHA-256, size and media type, how it was acquired for this case
    (provenance), and the metadata extracted from it. Reading it is not a view of the
    evidence's content, so it writes no ledger entry."""
    record_of(state, actor, case, "item", record)
    return state.work.evidence(actor, str(case), str(record))


@router.get(
    "/cases/{case}/items/{record}/receipt",
    response_model=None,
    responses={200: {"description": "A C2SP tlog-proof", "content": {"text/plain": {}}}},
)
def item_receipt(state: State, actor: ActorDep, case: UUID, record: UUID) -> PlainTextResponse:
    """The receipt (C2SP tlog-proof) of the entry that first stored the item's original, or
    of the entry that created the item if it has no file yet; checkable offline."""
    from svidok.receipts import receipt_for

    view = record_of(state, actor, case, "item", record)
    obj = view.fields.get("object")
    if obj is not None:
        target = str(obj)
    else:
        history = state.work.history(actor, str(case), str(record))
        target = str(history[0].index)
    rec = receipt_for(state.home, target)
    return PlainTextResponse(rec.to_text(), media_type="text/plain; charset=utf-8")
