"""The custody ledger: latest checkpoint, receipts for entries, last verification."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import PlainTextResponse
from sqlalchemy import select

from svidok.api.deps import ActorDep, State
from svidok.api.errors import ERROR_RESPONSES, ApiError
from svidok.api.models import CheckpointView, VerifyStatus
from svidok.catalog import schema

router = APIRouter(responses=ERROR_RESPONSES, tags=["ledger"])


@router.get("/ledger/checkpoint")
def latest_checkpoint(state: State, _actor: ActorDep) -> CheckpointView:
    """The newest signed checkpoint (C2SP tlog-checkpoint in a signed note)."""
    latest = state.home.latest_checkpoint()
    if latest is None:
        raise ApiError(404, "no checkpoint has been signed yet")
    cp = latest.checkpoint
    return CheckpointView(
        origin=cp.origin,
        size=cp.size,
        root_hash=base64.b64encode(cp.root_hash).decode("ascii"),
        note=latest.note,
    )


@router.get(
    "/ledger/entries/{index}/receipt",
    response_model=None,
    responses={200: {"description": "A C2SP tlog-proof", "content": {"text/plain": {}}}},
)
def entry_receipt(
    state: State, actor: ActorDep, index: Annotated[int, Path(ge=0, le=2**62)]
) -> PlainTextResponse:
    """The receipt of one entry. An entry of a case: to those who may read the case; any
    other entry (intake, users, keys): to system administrators only."""
    from svidok.receipts import receipt_for

    with state.home.catalog.engine.connect() as conn:
        row = conn.execute(
            select(schema.entries.c.case_id).where(schema.entries.c.idx == index)
        ).first()
    if row is None:
        raise ApiError(404, "no such entry")
    if row.case_id is not None:
        view = state.work.case(actor, str(row.case_id))  # AccessDenied unless reachable
        if "read" not in view.permissions:
            raise ApiError(403, "your role on this case does not allow: read")
    elif not actor.admin:
        raise ApiError(403, "only a system administrator may have receipts of this entry")
    rec = receipt_for(state.home, str(index))
    return PlainTextResponse(rec.to_text(), media_type="text/plain; charset=utf-8")


@router.get("/ledger/verify")
def verify_status(state: State, _actor: ActorDep) -> VerifyStatus:
    """The result of the last recorded verification (``svidok verify``)."""
    v = schema.verifications.c
    state.home.ledger.catch_up()  # entries written by the command line since the last look
    with state.home.catalog.engine.connect() as conn:
        row = conn.execute(select(schema.verifications).order_by(v.entry.desc()).limit(1)).first()
    size = state.home.ledger.size
    if row is None:
        return VerifyStatus(verified=False, ledger_size=size)
    return VerifyStatus(
        verified=True,
        entry=int(row.entry),
        result=str(row.result),
        problems=int(row.problems),
        tree_size=int(row.tree_size),
        ledger_size=size,
    )
