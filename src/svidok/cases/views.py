"""What the casework API returns: typed views of catalog rows (also the JSON API's
response bodies), a page of results, and the filters a list accepts."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from svidok.cases.access import Permission, Role

T = TypeVar("T")


class AssessmentStatus(StrEnum):
    UNVERIFIED = "unverified"
    IN_REVIEW = "in review"
    VERIFIED = "verified"
    DISPUTED = "disputed"
    REJECTED = "rejected"


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class Stamps(_View):
    created_at: str
    created_by: str
    updated_at: str
    updated_by: str
    version: int


def _stamps(row: Any) -> dict[str, Any]:
    return {
        "created_at": row.created_at,
        "created_by": row.created_by,
        "updated_at": row.updated_at,
        "updated_by": row.updated_by,
        "version": row.version,
    }


class UserView(Stamps):
    id: str
    username: str
    display_name: str
    admin: bool
    disabled: bool

    @classmethod
    def from_row(cls, row: Any) -> UserView:
        return cls(
            id=row.id,
            username=row.username,
            display_name=row.display_name,
            admin=bool(row.admin),
            disabled=bool(row.disabled),
            **_stamps(row),
        )


class CaseView(Stamps):
    id: str
    reference: str
    title: str
    status: str
    fields: dict[str, Any]
    role: Role | None  # the viewer's role on the case
    permissions: list[Permission]

    @classmethod
    def from_row(
        cls, row: Any, *, role: Role | None, permissions: frozenset[Permission]
    ) -> CaseView:
        import json

        return cls(
            id=row.id,
            reference=row.reference,
            title=row.title,
            status=row.status,
            fields=json.loads(row.doc),
            role=role,
            permissions=sorted(permissions),
            **_stamps(row),
        )


class RecordView(Stamps):
    id: str
    case: str
    kind: str
    label: str
    assessment: AssessmentStatus
    fields: dict[str, Any]
    hidden: list[str]  # protected fields this viewer may not see

    @classmethod
    def from_row(cls, row: Any, fields: dict[str, Any], hidden: list[str]) -> RecordView:
        return cls(
            id=row.id,
            case=row.case_id,
            kind=row.kind,
            label=row.label,
            assessment=AssessmentStatus(row.assessment),
            fields=fields,
            hidden=hidden,
            **_stamps(row),
        )


class LinkView(_View):
    id: str
    case: str
    kind: str
    from_id: str
    to_id: str
    role: str | None
    created_by: str
    created_entry: int

    @classmethod
    def from_row(cls, row: Any) -> LinkView:
        return cls(
            id=row.id,
            case=row.case_id,
            kind=row.kind,
            from_id=row.from_id,
            to_id=row.to_id,
            role=row.role,
            created_by=row.created_by,
            created_entry=row.created_entry,
        )


class HistoryEntry(_View):
    """One ledger entry about a record: who changed what, when."""

    index: int
    type: str
    time: str
    actor: str
    data: dict[str, Any]


class Page(_View, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class RecordFilter(_View):
    """Conditions on a list of records; all that are given must hold."""

    kind: str | None = None
    subkind: str | None = None  # item kind or source type
    status: str | None = None
    assessment: str | None = None
    grade: str | None = None  # source reliability A-F or item credibility 1-6
    source: str | None = None
    source_grade: str | None = None  # the reliability (A-F) of the record's source
    object: str | None = None
    tag: str | None = None
    place: str | None = None
    time_from: str | None = None  # overlapping this range
    time_to: str | None = None
    text: str | None = None  # in the title or name


class Extraction(_View):
    status: str
    extractor: str
    media_type: str
    metadata: dict[str, Any]
    errors: list[str]


class Acquisition(_View):
    """One receipt of the bytes for this case: who, from where, when (the ledger entry)."""

    entry: int
    collector: str
    source: str | None
    note: str | None
    path: str  # display form of the original path (docs/formats.md, path values)
    name: str
    size: int
    acquired_at: str


class EvidenceView(_View):
    """What the store and the ledger say about an item's original."""

    object: str  # sha256:<hex>
    sha256: str
    size: int
    media_type: str
    logical_path: str
    first_entry: int  # the ledger entry that stored it
    acquisitions: list[Acquisition]  # those made for this case only
    extractions: list[Extraction]
