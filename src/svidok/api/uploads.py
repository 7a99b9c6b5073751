"""Resumable uploads: the tus 1.0.0 protocol (core, creation, termination, expiration).

A tus client (the web app's tus-js-client, or any other) creates an upload on a case, sends
the bytes in one or more PATCH requests and, after a dropped connection, asks with HEAD how
much arrived and goes on from there. When the last byte arrives the file is hashed,
preserved through intake and named by a new item record, as with the one-shot upload.

Staging, kept across restarts (folders 0700, files 0600)::

    <staging>/<id>/info.json   owner, case, length, durable offset, metadata, times, record
    <staging>/<id>/data        the bytes received so far (removed once preserved)
    <staging>/<id>/lock        flock(2)ed by the one request writing to or removing it

``<staging>`` is ``<staging_dir>/svidok-uploads`` when the API is given a staging folder,
else ``<home>/work/uploads``: ``work/`` is the home's scratch space, and ``svidok verify``
and crash recovery look only at ``work/run-*`` there.

``info.json`` holds the *durable* offset: the data file is fsynced before a new offset is
written (every 16 MiB, at the end of a PATCH, and when the client goes away). Bytes past
it (left by a crash) are cut off by the next PATCH, so a resumed upload never holds bytes
the disk did not keep.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Annotated, Any, BinaryIO
from uuid import UUID

from fastapi import APIRouter, Header, Request, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from svidok._fs import atomic_write, fsync_dir
from svidok.api.deps import ActorDep, ApiState, State
from svidok.api.errors import ERROR_RESPONSES, ApiError
from svidok.api.items import ingest_staged, may_edit, safe_name
from svidok.cases.access import Actor
from svidok.cases.fields import ItemFields, ItemKind
from svidok.errors import IntakeError

router = APIRouter(responses=ERROR_RESPONSES, tags=["uploads"])

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination,expiration"
OFFSET_MEDIA_TYPE = "application/offset+octet-stream"
LIFETIME = timedelta(days=7)  # since the last bytes arrived; then removed lazily
MAX_OPEN = 32  # unfinished uploads per user
DURABLE_EVERY = 16 << 20  # bytes between fsyncs of a running PATCH
CHUNK = 1 << 20
ID_PATTERN = r"^[0-9a-f]{32}$"
_ID = re.compile(ID_PATTERN)
_METADATA_LIMIT = 8192
_SOURCE = "JSON API resumable upload (tus)"

_TUS = {"Tus-Resumable": TUS_VERSION}
_OFFSET_BODY = {OFFSET_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}}
_HEADER_DOCS = {  # response headers, for the OpenAPI document
    "Tus-Resumable": ("1.0.0", "string"),
    "Tus-Version": ("1.0.0", "string"),
    "Tus-Extension": (TUS_EXTENSIONS, "string"),
    "Tus-Max-Size": ("The largest upload accepted, in bytes", "integer"),
    "Location": ("The upload's URL", "string"),
    "Upload-Offset": ("Bytes received and kept", "integer"),
    "Upload-Length": ("The file's size in bytes", "integer"),
    "Upload-Expires": ("When the unfinished upload will be removed", "string"),
    "Svidok-Record": ("The item made of the finished upload", "string"),
}


def _documented(status: int, description: str, headers: str) -> dict[int | str, Any]:
    """A response's OpenAPI entry naming ``headers`` (separated by spaces)."""
    docs = {
        h: {"description": _HEADER_DOCS[h][0], "schema": {"type": _HEADER_DOCS[h][1]}}
        for h in headers.split()
    }
    return {status: {"description": description, "headers": docs}}


TusResumable = Annotated[
    str | None, Header(alias="Tus-Resumable", description="The protocol version: 1.0.0")
]
UploadId = Annotated[
    str, PathParam(pattern=ID_PATTERN, description="The upload's id (from Location)")
]


# ------------------------------------------------------------------------------- staging
@dataclass(frozen=True)
class UploadInfo:
    """What is known of one upload (``info.json``)."""

    id: str
    owner: str  # user id
    case: str
    length: int
    offset: int  # durable: every byte before it is on disk
    filename: str
    title: str | None
    item_kind: str
    created: str  # ISO 8601, UTC
    expires: str
    record: str | None = None  # the item, once finished
    object: str | None = None

    @property
    def finished(self) -> bool:
        return self.record is not None

    def expired(self, now: datetime) -> bool:
        return datetime.fromisoformat(self.expires) <= now

    @classmethod
    def from_json(cls, data: bytes) -> UploadInfo:
        doc = json.loads(data)
        if not isinstance(doc, dict):
            raise ValueError("not an object")
        return cls(**doc)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat()


def staging_root(home_work: Path, staging_dir: Path | None) -> Path:
    """Where uploads are staged: see the module's docstring."""
    return staging_dir / "svidok-uploads" if staging_dir is not None else home_work / "uploads"


class UploadStore:
    """The staged uploads under one folder. Ids are checked before any path is made."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def of(cls, state: ApiState) -> UploadStore:
        return cls(staging_root(state.home.work, state.staging_dir))

    def folder(self, upload_id: str) -> Path:
        if not _ID.fullmatch(upload_id):
            raise ValueError("not an upload id")
        return self.root / upload_id

    def data(self, upload_id: str) -> Path:
        return self.folder(upload_id) / "data"

    def load(self, upload_id: str) -> UploadInfo | None:
        folder = self.folder(upload_id)
        if folder.is_symlink():
            return None
        try:
            return UploadInfo.from_json((folder / "info.json").read_bytes())
        except (OSError, ValueError, TypeError):  # absent or unreadable: gone
            return None

    def save(self, info: UploadInfo, folder: Path | None = None) -> None:
        data = json.dumps(asdict(info), sort_keys=True).encode("utf-8")
        atomic_write((folder or self.folder(info.id)) / "info.json", data, mode=0o600)

    def create(
        self,
        owner: str,
        case: str,
        length: int,
        filename: str,
        title: str | None,
        item_kind: str,
        now: datetime,
    ) -> UploadInfo:
        """A new, empty upload; expired ones are removed first. Too many open: 429."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        if self.sweep(now, owner) >= MAX_OPEN:
            raise _fail(429, f"you have {MAX_OPEN} unfinished uploads; finish or delete some")
        info = UploadInfo(
            id=secrets.token_hex(16),
            owner=owner,
            case=case,
            length=length,
            offset=0,
            filename=filename,
            title=title,
            item_kind=item_kind,
            created=_iso(now),
            expires=_iso(now + LIFETIME),
        )
        new = self.root / f".new-{info.id}"  # never seen by sweep() until complete
        new.mkdir(mode=0o700)
        for name in ("data", "lock"):
            os.close(os.open(new / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        self.save(info, new)
        new.rename(self.folder(info.id))
        fsync_dir(self.root)
        return info

    def remove(self, upload_id: str) -> None:
        folder = self.folder(upload_id)
        if folder.is_symlink():
            folder.unlink()
        else:
            shutil.rmtree(folder, ignore_errors=True)

    @contextmanager
    def locked(self, upload_id: str) -> Iterator[bool]:
        """Hold the upload's lock if it is free: yields whether it was taken."""
        try:
            fd = os.open(self.folder(upload_id) / "lock", os.O_RDWR | os.O_NOFOLLOW)
        except OSError:
            yield False
            return
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # releases the lock

    def sweep(self, now: datetime, owner: str) -> int:
        """Remove expired uploads (not while a request holds one); ``owner``'s open ones."""
        count = 0
        for folder in self.root.iterdir():
            if not _ID.fullmatch(folder.name):
                continue
            info = self.load(folder.name)
            if info is None or info.expired(now):
                with self.locked(folder.name) as taken:
                    if taken:
                        self.remove(folder.name)
                continue
            if info.owner == owner and not info.finished:
                count += 1
        return count


# ------------------------------------------------------------------------ request checks
def _fail(status: int, message: str, code: str | None = None, **headers: str) -> ApiError:
    return ApiError(status, message, code, headers={**_TUS, **headers})


def _check_version(value: str | None) -> None:
    if value is None or value.strip() != TUS_VERSION:
        raise _fail(
            412,
            f"Tus-Resumable: {TUS_VERSION} is required (the only tus version served)",
            "precondition_failed",
            **{"Tus-Version": TUS_VERSION},
        )


def _number(value: str | None, header: str) -> int:
    if value is None:
        raise _fail(400, f"{header} is required")
    value = value.strip()
    if not (value.isascii() and value.isdigit() and len(value) <= 19):
        raise _fail(400, f"{header} must be a non-negative whole number of bytes")
    return int(value)


def parse_metadata(header: str | None) -> dict[str, str]:
    """Upload-Metadata: comma-separated pairs of a key and its base64-encoded value."""
    if header is None or not header.strip():
        return {}
    if len(header) > _METADATA_LIMIT:
        raise _fail(400, f"Upload-Metadata is longer than {_METADATA_LIMIT} characters")
    out: dict[str, str] = {}
    for pair in header.split(","):
        parts = pair.strip().split(" ")
        key = parts[0]
        if len(parts) > 2 or not key:
            raise _fail(400, "Upload-Metadata: each pair is a key, one space, a base64 value")
        if len(key) > 100 or not (key.isascii() and key.isprintable()):
            raise _fail(400, "Upload-Metadata: a key is not printable ASCII of at most 100")
        if key in out:
            raise _fail(400, f"Upload-Metadata: the key {key!r} is given twice")
        try:
            raw = base64.b64decode(parts[1] if len(parts) == 2 else "", validate=True)
            out[key] = raw.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise _fail(
                400, f"Upload-Metadata: the value of {key!r} is not base64-encoded UTF-8"
            ) from None
    return out


def _item_metadata(metadata: dict[str, str]) -> tuple[str, str | None, str]:
    """filename (required), title and item_kind (optional); unknown keys are ignored."""
    filename = metadata.get("filename", "").strip()
    if not filename:
        raise _fail(400, "Upload-Metadata must give the file's name as 'filename'")
    if len(filename) > 1000:
        raise _fail(400, "Upload-Metadata: 'filename' is longer than 1000 characters")
    title = metadata.get("title")
    kind = metadata.get("item_kind", ItemKind.OTHER.value)
    if kind not in {k.value for k in ItemKind}:
        allowed = ", ".join(k.value for k in ItemKind)
        raise _fail(400, f"Upload-Metadata: 'item_kind' must be one of: {allowed}")
    probe = {"title": title if title is not None else safe_name(filename), "item_kind": kind}
    try:
        ItemFields.model_validate(probe)  # refused now, not after gigabytes arrived
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise _fail(400, f"Upload-Metadata: {problems}") from None
    return filename, title, kind


def _owned(store: UploadStore, upload_id: str, actor: Actor, case: str) -> UploadInfo:
    """The caller's own upload on this case; anyone else's, or none: 404. Expired: 410."""
    info = store.load(upload_id)
    if info is None or info.owner != actor.user_id or info.case != case:
        raise _fail(404, "no such upload")
    if info.expired(datetime.now(UTC)):
        with store.locked(upload_id) as taken:
            if taken:
                store.remove(upload_id)
        raise _fail(410, "this upload has expired; start it again", "gone")
    return info


def _headers(info: UploadInfo) -> dict[str, str]:
    headers = {
        **_TUS,
        "Upload-Offset": str(info.offset),
        "Upload-Length": str(info.length),
        "Upload-Expires": format_datetime(datetime.fromisoformat(info.expires), usegmt=True),
        "Cache-Control": "no-store",
    }
    if info.record is not None:
        headers["Svidok-Record"] = info.record
    return headers


# --------------------------------------------------------------------- receiving bytes
def _persist(handle: BinaryIO, store: UploadStore, info: UploadInfo, offset: int) -> UploadInfo:
    """fsync the data, then record the new durable offset (and push the expiry back)."""
    handle.flush()
    os.fsync(handle.fileno())
    now = datetime.now(UTC)
    info = replace(info, offset=offset, expires=_iso(now + LIFETIME))
    store.save(info)
    return info


async def _receive(request: Request, store: UploadStore, info: UploadInfo) -> UploadInfo:
    """Append the request body to the data file, never beyond Upload-Length. What arrived
    before the client went away is kept; a body too long is refused as a whole (413)."""
    start = info.offset
    position = start
    overrun = gone = False
    with store.data(info.id).open("r+b") as handle:
        handle.truncate(start)  # bytes a crash left past the durable offset
        handle.seek(start)
        try:
            async for chunk in request.stream():
                if position + len(chunk) > info.length:
                    overrun = True
                    break
                handle.write(chunk)
                position += len(chunk)
                if position - info.offset >= DURABLE_EVERY:
                    info = await run_in_threadpool(_persist, handle, store, info, position)
        except ClientDisconnect:
            gone = True
        finally:
            if overrun:
                handle.truncate(start)
                position = start
            if position != info.offset:
                info = await run_in_threadpool(_persist, handle, store, info, position)
    if overrun:
        raise _fail(
            413,
            f"the body goes past Upload-Length ({info.length} bytes); nothing of it was kept",
            **{"Upload-Offset": str(info.offset)},
        )
    if gone:  # nobody reads this; the next HEAD tells the offset kept
        raise _fail(400, "the connection closed before the body was complete")
    return info


def _stage_and_hash(data: Path, staged: Path) -> tuple[str, int]:
    """Put the received bytes at ``staged`` (a hard link, or a copy if the folder is on
    another file system) and take their SHA-256, reading the bytes once."""
    digest = hashlib.sha256()
    size = 0
    copy: BinaryIO | None = None
    try:
        os.link(data, staged)
    except OSError:
        copy = os.fdopen(os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
    try:
        with data.open("rb") as source:
            while chunk := source.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                if copy is not None:
                    copy.write(chunk)
        if copy is not None:
            copy.flush()
            os.fsync(copy.fileno())
    finally:
        if copy is not None:
            copy.close()
    return digest.hexdigest(), size


def _finish(state: ApiState, actor: Actor, store: UploadStore, info: UploadInfo) -> UploadInfo:
    """Hash the complete upload, preserve it through intake, name it by a new item."""
    folder = Path(tempfile.mkdtemp(prefix="svidok-upload-", dir=state.staging_dir))
    try:
        name = safe_name(info.filename)
        staged = folder / name
        digest, size = _stage_and_hash(store.data(info.id), staged)
        if size != info.length:
            raise IntakeError("the staged upload is not as long as Upload-Length")
        object_id = ingest_staged(state, actor, info.case, staged, digest, source=_SOURCE)
        fields = {"title": info.title or name, "object": object_id, "item_kind": info.item_kind}
        with state.writing():
            record = state.work.create(actor, info.case, "item", fields)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    info = replace(info, record=record.id, object=object_id)
    store.save(info)
    store.data(info.id).unlink(missing_ok=True)
    return info


# ---------------------------------------------------------------------------- routes
class UploadStatus(BaseModel):
    """How far an upload is; ``record`` is the item made of it once finished."""

    id: str
    offset: int
    length: int
    finished: bool
    record: UUID | None
    expires: datetime


@router.options(
    "/uploads",
    status_code=204,
    response_class=Response,
    responses=_documented(
        204,
        "What this server serves of tus",
        "Tus-Resumable Tus-Version Tus-Extension Tus-Max-Size",
    ),
)
def upload_options(state: State, actor: ActorDep) -> Response:
    """tus discovery: the protocol version (1.0.0), the extensions served (creation,
    termination, expiration) and the largest upload accepted (Tus-Max-Size, bytes)."""
    headers = {
        **_TUS,
        "Tus-Version": TUS_VERSION,
        "Tus-Extension": TUS_EXTENSIONS,
        "Tus-Max-Size": str(state.upload_limit),
    }
    return Response(status_code=204, headers=headers)


@router.post(
    "/cases/{case}/uploads",
    status_code=201,
    response_class=Response,
    responses=_documented(
        201,
        "Created; send the bytes to Location with PATCH",
        "Location Tus-Resumable Upload-Expires",
    ),
)
def create_upload(
    request: Request,
    state: State,
    actor: ActorDep,
    case: UUID,
    tus_resumable: TusResumable = None,
    upload_length: Annotated[
        str | None, Header(alias="Upload-Length", description="The file's size in bytes")
    ] = None,
    upload_metadata: Annotated[
        str | None,
        Header(
            alias="Upload-Metadata",
            description="tus metadata: 'filename' (required), 'title', 'item_kind' "
            "(as for the one-shot upload), each value base64-encoded",
        ),
    ] = None,
    upload_defer_length: Annotated[str | None, Header(alias="Upload-Defer-Length")] = None,
) -> Response:
    """tus creation: start a resumable upload of one file into the case (the caller needs
    the edit permission). Needs Tus-Resumable: 1.0.0 (else 412), Upload-Length (at most the
    upload limit, else 413) and Upload-Metadata with the file's name (else 400); the bytes
    follow with PATCH. Only its creator can see, continue or delete it; unfinished, it is
    removed 7 days after its last bytes arrived. At most 32 unfinished uploads per user
    (429)."""
    _check_version(tus_resumable)
    case_id = str(case)
    may_edit(state, actor, case_id)
    if upload_defer_length is not None:
        raise _fail(400, "Upload-Defer-Length is not supported: give Upload-Length")
    length = _number(upload_length, "Upload-Length")
    if length > state.upload_limit:
        raise _fail(413, f"the upload is larger than the limit of {state.upload_limit} bytes")
    if length == 0:
        raise _fail(422, "the upload is empty")
    body = request.headers.get("content-length", "0").strip()
    if body != "0" or "transfer-encoding" in request.headers:
        raise _fail(400, "send the bytes with PATCH (creation-with-upload is not supported)")
    filename, title, kind = _item_metadata(parse_metadata(upload_metadata))
    assert actor.user_id is not None  # API callers are always users
    store = UploadStore.of(state)
    info = store.create(actor.user_id, case_id, length, filename, title, kind, datetime.now(UTC))
    headers = _headers(info)
    headers["Location"] = f"{request.url.path.rstrip('/')}/{info.id}"
    return Response(status_code=201, headers=headers)


@router.head(
    "/cases/{case}/uploads/{upload}",
    response_class=Response,
    responses=_documented(
        200,
        "The upload's offset (and its item, once finished)",
        "Tus-Resumable Upload-Offset Upload-Length Upload-Expires Svidok-Record",
    ),
)
def upload_head(
    state: State, actor: ActorDep, case: UUID, upload: UploadId, tus_resumable: TusResumable = None
) -> Response:
    """tus offset: how many bytes of the upload the server has kept (Upload-Offset), to
    resume from; once finished, Svidok-Record names the item made of it. Not cached."""
    _check_version(tus_resumable)
    may_edit(state, actor, str(case))
    info = _owned(UploadStore.of(state), upload, actor, str(case))
    return Response(status_code=200, headers=_headers(info))


@router.get("/cases/{case}/uploads/{upload}")
def upload_status(
    response: Response, state: State, actor: ActorDep, case: UUID, upload: UploadId
) -> UploadStatus:
    """The upload's progress as JSON (for the web page): bytes kept, length, whether it is
    finished and the item made of it."""
    may_edit(state, actor, str(case))
    info = _owned(UploadStore.of(state), upload, actor, str(case))
    response.headers["Cache-Control"] = "no-store"
    return UploadStatus(
        id=info.id,
        offset=info.offset,
        length=info.length,
        finished=info.finished,
        record=UUID(info.record) if info.record else None,
        expires=datetime.fromisoformat(info.expires),
    )


@router.patch(
    "/cases/{case}/uploads/{upload}",
    status_code=204,
    response_class=Response,
    openapi_extra={"requestBody": {"required": True, "content": _OFFSET_BODY}},
    responses=_documented(
        204,
        "Bytes kept; the upload is finished when the offset is its length",
        "Tus-Resumable Upload-Offset Upload-Expires Svidok-Record",
    ),
)
async def upload_patch(
    request: Request,
    state: State,
    actor: ActorDep,
    case: UUID,
    upload: UploadId,
    tus_resumable: TusResumable = None,
    upload_offset: Annotated[
        str | None, Header(alias="Upload-Offset", description="Where these bytes go")
    ] = None,
) -> Response:
    """tus core: append the body (Content-Type: application/offset+octet-stream, else 415)
    at Upload-Offset, which must be the offset the server holds (else 409; ask with HEAD).
    The body is streamed to disk, never past Upload-Length (413). If the connection drops,
    what arrived is kept. One PATCH at a time per upload (another one meanwhile: 423).
    With the last byte the file is hashed (SHA-256), preserved through intake and named by
    a new item record, given as Svidok-Record; finishing again makes no second item."""
    _check_version(tus_resumable)
    case_id = str(case)
    await run_in_threadpool(may_edit, state, actor, case_id)
    store = UploadStore.of(state)
    _owned(store, upload, actor, case_id)
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media != OFFSET_MEDIA_TYPE:
        raise _fail(415, f"Content-Type must be {OFFSET_MEDIA_TYPE}")
    offset = _number(upload_offset, "Upload-Offset")
    length_header = request.headers.get("content-length")
    declared = None if length_header is None else _number(length_header, "Content-Length")
    with store.locked(upload) as taken:
        if not taken:
            raise _fail(423, "another request is writing to this upload; retry shortly", "locked")
        info = store.load(upload)
        if info is None:
            raise _fail(404, "no such upload")
        if offset != info.offset:
            raise _fail(
                409,
                f"Upload-Offset is {offset} but the server holds {info.offset} bytes",
                **{"Upload-Offset": str(info.offset)},
            )
        if declared is not None and offset + declared > info.length:
            raise _fail(413, f"the body goes past Upload-Length ({info.length} bytes)")
        if not info.finished:
            info = await _receive(request, store, info)
            if info.offset == info.length:
                info = await run_in_threadpool(_finish, state, actor, store, info)
    return Response(status_code=204, headers=_headers(info))


@router.delete("/cases/{case}/uploads/{upload}", status_code=204, response_class=Response)
def upload_delete(
    state: State, actor: ActorDep, case: UUID, upload: UploadId, tus_resumable: TusResumable = None
) -> Response:
    """tus termination: stop the upload and remove what was received. A finished upload's
    item stays (only the upload's bookkeeping goes). While a PATCH runs: 423."""
    _check_version(tus_resumable)
    may_edit(state, actor, str(case))
    store = UploadStore.of(state)
    _owned(store, upload, actor, str(case))
    with store.locked(upload) as taken:
        if not taken:
            raise _fail(423, "a request is writing to this upload; retry shortly", "locked")
        store.remove(upload)
    with suppress(OSError):
        fsync_dir(store.root)
    return Response(status_code=204, headers=_TUS)
