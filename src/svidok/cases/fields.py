"""What investigators record about cases, items, incidents, people, places and sources.

One pydantic model per kind of record gives the fields a record may hold and checks them;
the same models validate the JSON API's bodies and the ledger's ``record.*`` entries
(docs/formats.md). Every model refuses unknown fields, so a typo never passes silently.
Times are ISO 8601 text with an explicit precision; coordinates are WGS 84 degrees.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from svidok.catalog.casework import sort_key as sort_key  # re-exported

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
_UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
Ref = Annotated[str, Field(pattern=_UUID)]  # another record of the same case, by UUID
ObjectId = Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")]
Language = Annotated[str, Field(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]  # BCP 47


class _Fields(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
    kind: ClassVar[str]
    #: fields that hold witness identities or contact details: stored encrypted
    protected: ClassVar[frozenset[str]] = frozenset()
    tags: list[Tag] = Field(default_factory=list, max_length=100)


class Precision(StrEnum):
    """How exactly a time is known."""

    SECOND = "second"
    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"
    YEAR = "year"
    APPROXIMATE = "approximate"


_INSTANT = re.compile(
    r"^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


def _check_instant(value: str) -> str:
    """An ISO 8601 date or date-time, possibly partial (``2022``, ``2022-03``)."""
    if not _INSTANT.match(value):
        raise ValueError("must be an ISO 8601 date or date-time, e.g. 2022-03-30T14:05:00+03:00")
    try:
        if len(value) == 10:
            date.fromisoformat(value)
        elif len(value) > 10:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        elif len(value) == 7:
            date.fromisoformat(value + "-01")
    except ValueError as exc:
        raise ValueError(f"not a real date or time: {exc}") from None
    return value


Instant = Annotated[str, Field(max_length=40)]


class TimeSpan(BaseModel):
    """An instant (``start`` only) or a range, with how precisely it is known."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    start: Instant
    end: Instant | None = None
    precision: Precision = Precision.SECOND

    @field_validator("start", "end")
    @classmethod
    def _instant(cls, value: str | None) -> str | None:
        return None if value is None else _check_instant(value)

    @model_validator(mode="after")
    def _ordered(self) -> TimeSpan:
        if self.end is not None and sort_key(self.end) < sort_key(self.start):
            raise ValueError("the end of a time range is before its start")
        return self


class Location(BaseModel):
    """A point (WGS 84), how far from it the truth may be, and the place it is in."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    precision_m: int = Field(default=0, ge=0, le=20_000_000)
    place: Ref | None = None


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    ARCHIVED = "archived"


class CaseFields(_Fields):
    kind: ClassVar[str] = "case"
    reference: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,79}$")]
    title: Title
    description: Text = ""
    status: CaseStatus = CaseStatus.OPEN


class ItemKind(StrEnum):
    PHOTO = "photo"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"
    TESTIMONY = "testimony"
    WEB_CAPTURE = "web capture"
    REPORT = "report"
    OTHER = "other"


# Admiralty code: 1 confirmed by other sources ... 6 truth cannot be judged
Credibility = Annotated[int, Field(ge=1, le=6)]


class ItemFields(_Fields):
    kind: ClassVar[str] = "item"
    object: ObjectId | None = None  # the original in the store (None: not yet received)
    title: Title
    description: Text = ""
    item_kind: ItemKind = ItemKind.OTHER
    captured: TimeSpan | None = None
    location: Location | None = None
    source: Ref | None = None
    credibility: Credibility | None = None
    language: Language | None = None


class IncidentStatus(StrEnum):
    REPORTED = "reported"
    UNDER_INVESTIGATION = "under investigation"
    CORROBORATED = "corroborated"
    CLOSED = "closed"


class IncidentFields(_Fields):
    kind: ClassVar[str] = "incident"
    title: Title
    description: Text = ""
    time: TimeSpan | None = None
    places: list[Ref] = Field(default_factory=list, max_length=100)
    categories: list[Short] = Field(default_factory=list, max_length=50)  # taxonomy codes
    status: IncidentStatus = IncidentStatus.REPORTED


class Script(StrEnum):
    """ISO 15924 codes of the scripts names are written in."""

    CYRILLIC = "Cyrl"
    LATIN = "Latn"
    ARABIC = "Arab"
    OTHER = "Zyyy"


class PersonName(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    value: Short
    script: Script = Script.OTHER
    language: Language | None = None
    kind: Literal["primary", "variant", "transliteration", "pseudonym"] = "primary"


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class PersonStatus(StrEnum):
    ALIVE = "alive"
    MISSING = "missing"
    DECEASED = "deceased"
    INJURED = "injured"
    DETAINED = "detained"
    DISPLACED = "displaced"
    UNKNOWN = "unknown"


class PersonFields(_Fields):
    """A victim, witness, alleged perpetrator or official. Names here are the ones that may
    be shown to everyone on the case (for a witness, usually a pseudonym); the witness's
    identity and contact details go into the protected fields."""

    kind: ClassVar[str] = "person"
    protected: ClassVar[frozenset[str]] = frozenset(
        {"legal_name", "contact", "address", "identity_document", "protected_notes"}
    )
    names: list[PersonName] = Field(min_length=1, max_length=50)
    sex: Sex = Sex.UNKNOWN
    age: int | None = Field(default=None, ge=0, le=130)
    birth_date: Instant | None = None
    status: PersonStatus = PersonStatus.UNKNOWN
    description: Text = ""
    legal_name: Short | None = None
    contact: Text | None = None
    address: Text | None = None
    identity_document: Short | None = None
    protected_notes: Text | None = None

    @field_validator("birth_date")
    @classmethod
    def _date(cls, value: str | None) -> str | None:
        return None if value is None else _check_instant(value)


class PlaceName(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    value: Short
    script: Script = Script.OTHER
    language: Language | None = None


class PlaceFields(_Fields):
    kind: ClassVar[str] = "place"
    name: Short
    variants: list[PlaceName] = Field(default_factory=list, max_length=50)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    admin_area: Short | None = None  # e.g. "Kyiv Oblast, Bucha Raion"
    description: Text = ""

    @model_validator(mode="after")
    def _both_or_neither(self) -> PlaceFields:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        return self


class SourceType(StrEnum):
    ORGANISATION = "organisation"
    PERSON = "person"
    PUBLICATION = "publication"


Reliability = Literal["A", "B", "C", "D", "E", "F"]  # Admiralty code for the source


class SourceFields(_Fields):
    kind: ClassVar[str] = "source"
    protected: ClassVar[frozenset[str]] = frozenset({"contact"})
    name: Short
    source_type: SourceType
    reliability: Reliability = "F"
    description: Text = ""
    url: Annotated[str, Field(max_length=2000)] | None = None
    contact: Text | None = None


_MODELS = (CaseFields, ItemFields, IncidentFields, PersonFields, PlaceFields, SourceFields)
KINDS: dict[str, type[_Fields]] = {m.kind: m for m in _MODELS}
RECORD_KINDS = frozenset(KINDS) - {"case"}  # kinds that live inside a case


def fields_model(kind: str) -> type[_Fields]:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown kind of record {kind!r}") from None


def to_json(fields: BaseModel) -> dict[str, Any]:
    """The fields as they go into the ledger: JSON types, unset optional values left out."""
    return fields.model_dump(mode="json", exclude_none=True)
