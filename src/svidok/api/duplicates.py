"""Near-duplicates of a case: the possible and decided pairs of items, an item's own, its
perceptual hash, and decisions (thin layer over :mod:`svidok.analysis.duplicates`)."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from svidok.analysis.duplicates import Pair, shared
from svidok.api.deps import ActorDep, State
from svidok.api.errors import ERROR_RESPONSES

router = APIRouter(responses=ERROR_RESPONSES, tags=["duplicates"])


class PairView(BaseModel):
    a: str
    b: str
    a_label: str
    b_label: str
    algorithm: str  # pdq, vpdq, or "" when only a decision links them
    distance: int | None
    percent: float | None
    status: Literal["possible", "confirmed", "rejected"]
    note: str | None
    decided_by: str | None

    @classmethod
    def of(cls, pair: Pair) -> PairView:
        return cls.model_validate(pair.to_json())


class HashView(BaseModel):
    object: str
    algorithm: str
    version: str
    status: str
    hash: str | None
    quality: int | None
    frames: int  # a video's sampled frames
    reason: str | None


class ItemDuplicates(BaseModel):
    hash: HashView | None
    pairs: list[PairView]


class DecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    a: UUID
    b: UUID
    decision: Literal["confirmed", "rejected"]
    note: Annotated[str, Field(max_length=2000)] = ""


@router.get("/cases/{case}/duplicates")
def list_pairs(state: State, actor: ActorDep, case: UUID) -> list[PairView]:
    """Every possible and decided pair of items of the case."""
    return [PairView.of(p) for p in shared(state.work).for_case(actor, str(case))]


@router.get("/cases/{case}/items/{record}/duplicates")
def item_duplicates(state: State, actor: ActorDep, case: UUID, record: UUID) -> ItemDuplicates:
    """An item's possible and decided duplicates, and the perceptual hash of its file."""
    dups = shared(state.work)
    pairs = dups.for_item(actor, str(case), str(record))  # refuses unless it may be read
    view = state.work.get(actor, str(case), str(record))
    obj = view.fields.get("object")
    stored = dups.hash_of(str(obj)) if obj else None
    hash_view = None if stored is None else HashView(
        object=stored.object, algorithm=stored.algorithm, version=stored.version,
        status=stored.status, hash=stored.hash, quality=stored.quality,
        frames=len(stored.frames), reason=stored.reason)
    return ItemDuplicates(hash=hash_view, pairs=[PairView.of(p) for p in pairs])


@router.post("/cases/{case}/duplicates/decisions", status_code=201)
def decide(state: State, actor: ActorDep, case: UUID, body: DecisionCreate) -> PairView:
    """Confirm or reject a pair of items as near-duplicates (a ledger entry)."""
    with state.writing():
        pair = shared(state.work).decide(actor, str(case), str(body.a), str(body.b),
                                         body.decision, body.note)
    return PairView.of(pair)
