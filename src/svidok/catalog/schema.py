"""Catalog tables: a SQL projection of the ledger (SQLAlchemy Core).

Nothing here is evidence: every row is derived from ledger entries by ``projection.apply``
and can be rebuilt from the ledger at any time. Alembic migrations under ``migrations/``
create exactly these tables (a test compares them).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

entries = Table(
    "entries",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("type", String(32), nullable=False, index=True),
    Column("time", String(32), nullable=False),
    Column("actor", Text, nullable=False),
    Column("object_id", String(80), nullable=True, index=True),
    Column("case_id", String(36), nullable=True, index=True),  # casework entries
    Column("record_id", String(36), nullable=True, index=True),  # the record it changed
)

objects = Table(
    "objects",
    metadata,
    Column("id", String(80), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("media_type", String(255), nullable=False),
    Column("logical_path", Text, nullable=False),
    Column("first_entry", BigInteger, ForeignKey("entries.idx"), nullable=False),
)

acquisitions = Table(
    "acquisitions",
    metadata,
    Column("entry", BigInteger, ForeignKey("entries.idx"), primary_key=True, autoincrement=False),
    Column("object_id", String(80), ForeignKey("objects.id"), nullable=False, index=True),
    Column("case_name", Text, nullable=False),
    Column("collector", Text, nullable=False),
    Column("source", Text, nullable=True),
    Column("note", Text, nullable=True),
    Column("path", Text, nullable=False),  # the ledger's path value as canonical JSON
    Column("name", Text, nullable=False),  # display form of the file name
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", String(32), nullable=True),  # decimal: may exceed 64 bits
    Column("acquired_at", String(32), nullable=False),
    Column("new_object", Boolean, nullable=False),
    Index("ix_acquisitions_dedupe", "case_name", "object_id", "path", "mtime_ns"),
)

extractions = Table(
    "extractions",
    metadata,
    Column("entry", BigInteger, ForeignKey("entries.idx"), primary_key=True, autoincrement=False),
    Column("object_id", String(80), ForeignKey("objects.id"), nullable=False, index=True),
    Column("media_type", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("extractor", Text, nullable=False),
    Column("metadata", Text, nullable=False),  # canonical JSON
    Column("errors", Text, nullable=False),  # canonical JSON list
)

derivatives = Table(  # previews made from an object: each its own object (docs/formats.md)
    "derivatives",
    metadata,
    Column("entry", BigInteger, ForeignKey("entries.idx"), primary_key=True, autoincrement=False),
    Column("object_id", String(80), ForeignKey("objects.id"), nullable=False, index=True),
    Column("source_id", String(80), ForeignKey("objects.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),
    Column("media_type", String(255), nullable=False),
    Column("algorithm", Text, nullable=False),
    Column("params", Text, nullable=False),  # canonical JSON
)

skips = Table(
    "skips",
    metadata,
    Column("entry", BigInteger, ForeignKey("entries.idx"), primary_key=True, autoincrement=False),
    Column("case_name", Text, nullable=False),
    Column("path", Text, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("reason", Text, nullable=False),
)

verifications = Table(
    "verifications",
    metadata,
    Column("entry", BigInteger, ForeignKey("entries.idx"), primary_key=True, autoincrement=False),
    Column("result", String(16), nullable=False),
    Column("problems", Integer, nullable=False),
    Column("tree_size", BigInteger, nullable=False),
)

keys = Table(
    "keys",
    metadata,
    Column("entry", BigInteger, ForeignKey("entries.idx"), primary_key=True, autoincrement=False),
    Column("event", String(32), nullable=False),
    Column("vkey", Text, nullable=False),
)

# --------------------------------------------------------------------- casework
_UUID = String(36)


def _stamps() -> list[Column[object]]:
    """Who created and last changed a row, by ledger entry."""
    return [
        Column("created_entry", BigInteger, ForeignKey("entries.idx"), nullable=False),
        Column("created_at", String(32), nullable=False),
        Column("created_by", Text, nullable=False),
        Column("updated_entry", BigInteger, ForeignKey("entries.idx"), nullable=False),
        Column("updated_at", String(32), nullable=False),
        Column("updated_by", Text, nullable=False),
        Column("version", Integer, nullable=False),  # 1 at creation, +1 per change
    ]


users = Table(
    "users",
    metadata,
    Column("id", _UUID, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", Text, nullable=False),
    Column("admin", Boolean, nullable=False),
    Column("disabled", Boolean, nullable=False),
    *_stamps(),
)

cases = Table(
    "cases",
    metadata,
    Column("id", _UUID, primary_key=True),
    Column("reference", String(80), nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("doc", Text, nullable=False),  # the fields, canonical JSON
    *_stamps(),
)

members = Table(
    "members",
    metadata,
    Column("case_id", _UUID, ForeignKey("cases.id"), primary_key=True),
    Column("user_id", _UUID, ForeignKey("users.id"), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("granted_entry", BigInteger, ForeignKey("entries.idx"), nullable=False),
)

records = Table(
    "records",
    metadata,
    Column("id", _UUID, primary_key=True),
    Column("case_id", _UUID, ForeignKey("cases.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # item, incident, person, place, source
    Column("label", Text, nullable=False),  # title or name, for lists
    Column("subkind", String(32), nullable=True),  # item kind, source type
    Column("status", String(32), nullable=True),  # incident or person status
    Column("assessment", String(16), nullable=False),  # unverified ... verified
    Column("time_start", String(40), nullable=True),  # sortable (UTC when an offset is known)
    Column("time_end", String(40), nullable=True),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("object_id", String(80), nullable=True, index=True),
    Column("source_id", _UUID, nullable=True),
    Column("grade", String(4), nullable=True),  # Admiralty: reliability (source) / credibility
    Column("doc", Text, nullable=False),  # the fields as in the ledger, canonical JSON
    *_stamps(),
    Index("ix_records_case_kind", "case_id", "kind"),
)

record_tags = Table(
    "record_tags",
    metadata,
    Column("record_id", _UUID, ForeignKey("records.id"), primary_key=True),
    Column("tag", String(100), primary_key=True),
    Index("ix_record_tags_tag", "tag"),
)

record_places = Table(
    "record_places",
    metadata,
    Column("record_id", _UUID, ForeignKey("records.id"), primary_key=True),
    Column("place_id", _UUID, primary_key=True, index=True),
)

links = Table(
    "links",
    metadata,
    Column("id", _UUID, primary_key=True),
    Column("case_id", _UUID, ForeignKey("cases.id"), nullable=False, index=True),
    Column("kind", String(32), nullable=False),  # item-incident, person-incident, item-person
    Column("from_id", _UUID, ForeignKey("records.id"), nullable=False, index=True),
    Column("to_id", _UUID, ForeignKey("records.id"), nullable=False, index=True),
    Column("role", Text, nullable=True),  # what the item shows / the person's role
    Column("created_entry", BigInteger, ForeignKey("entries.idx"), nullable=False),
    Column("created_by", Text, nullable=False),
    Column("removed_entry", BigInteger, ForeignKey("entries.idx"), nullable=True),
)

assessments = Table(
    "assessments",
    metadata,
    Column("entry", BigInteger, ForeignKey("entries.idx"), primary_key=True, autoincrement=False),
    Column("case_id", _UUID, ForeignKey("cases.id"), nullable=False),
    Column("record_id", _UUID, ForeignKey("records.id"), nullable=False, index=True),
    Column("from_status", String(16), nullable=False),
    Column("to_status", String(16), nullable=False),
    Column("rationale", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("actor_id", _UUID, nullable=True),
    Column("time", String(32), nullable=False),
)

accesses = Table(
    "accesses",
    metadata,
    Column("entry", BigInteger, ForeignKey("entries.idx"), primary_key=True, autoincrement=False),
    Column("case_id", _UUID, ForeignKey("cases.id"), nullable=False, index=True),
    Column("record_id", _UUID, nullable=True, index=True),
    Column("object_id", String(80), nullable=True),
    Column("action", String(16), nullable=False),  # view, download, receipt
    Column("actor", Text, nullable=False),
    Column("actor_id", _UUID, nullable=True),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("user_id", _UUID, ForeignKey("users.id"), nullable=False, index=True),
    Column("cases", Text, nullable=True),  # canonical JSON list of case ids; NULL: all
    Column("expires", String(32), nullable=False),
    Column("created_entry", BigInteger, ForeignKey("entries.idx"), nullable=False),
    Column("revoked_entry", BigInteger, ForeignKey("entries.idx"), nullable=True),
)

# --------------------------------------------------------------------- search
# The full-text index (svidok.search): derived from the tables above and from the text
# derivatives in the store, never compared by ``svidok verify``, remade by ``svidok rebuild``.
search_docs = Table(  # one per record: its indexed terms and the text snippets come from
    "search_docs",
    metadata,
    Column("id", Integer, primary_key=True),  # FTS5 rowid (SQLite)
    Column("record_id", _UUID, nullable=False, unique=True),
    Column("case_id", _UUID, nullable=False, index=True),
    # the record's columns that searches filter on, copied here so that a search reads
    # one table (see records)
    Column("kind", String(16), nullable=False),
    Column("subkind", String(32), nullable=True),
    Column("status", String(32), nullable=True),
    Column("assessment", String(16), nullable=False),
    Column("grade", String(4), nullable=True),
    Column("time_start", String(40), nullable=True),
    Column("time_end", String(40), nullable=True),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("body", Text, nullable=False),  # the terms, space-separated (svidok.search)
    Column("display", Text, nullable=False),  # the text as written, for snippets
    Column("vec", Text, nullable=True),  # PostgreSQL: the terms as a tsvector literal
    Index("ix_search_docs_lat_lon", "lat", "lon"),
    Index("ix_search_docs_kind_lat_lon", "kind", "lat", "lon"),  # places near a point
)

search_texts = Table(  # text extracted from an original, by the text derivative's object id
    "search_texts",
    metadata,
    Column("object_id", String(80), primary_key=True),
    Column("text", Text, nullable=False),
)

#: SQLite's FTS5 table over ``search_docs`` and its shadow tables (made by migration 0005,
#: not described here: SQLAlchemy does not know virtual tables).
SEARCH_FTS_TABLES = (
    "search_fts",
    "search_fts_data",
    "search_fts_idx",
    "search_fts_docsize",
    "search_fts_config",
)
#: PostgreSQL's GIN index on ``search_docs.vec`` as a tsvector (an expression index, made by
#: migration 0005 and not described here).
SEARCH_PG_INDEX = "ix_search_docs_vec"

# ------------------------------------------------------------ near-duplicates
perceptual_hashes = Table(  # PDQ / vPDQ hashes of originals (svidok.analysis)
    "perceptual_hashes",
    metadata,
    Column("entry", BigInteger, ForeignKey("entries.idx"), primary_key=True, autoincrement=False),
    Column("object_id", String(80), ForeignKey("objects.id"), nullable=False, index=True),
    Column("algorithm", String(16), nullable=False),  # pdq, vpdq
    Column("version", Text, nullable=False),
    Column("status", String(16), nullable=False),  # hashed, failed
    Column("hash", String(64), nullable=True),  # pictures
    Column("quality", Integer, nullable=True),
    Column("dihedral", Text, nullable=False),  # canonical JSON list of hex hashes
    Column("frames", Text, nullable=False),  # canonical JSON [[hash, quality, seconds]...]
    Column("reason", Text, nullable=True),  # why it failed
)

duplicate_decisions = Table(  # a pair of items confirmed or rejected as near-duplicates
    "duplicate_decisions",
    metadata,
    Column("entry", BigInteger, ForeignKey("entries.idx"), primary_key=True, autoincrement=False),
    Column("case_id", _UUID, ForeignKey("cases.id"), nullable=False, index=True),
    Column("a_id", _UUID, ForeignKey("records.id"), nullable=False),
    Column("b_id", _UUID, ForeignKey("records.id"), nullable=False),
    Column("decision", String(16), nullable=False),  # confirmed, rejected
    Column("note", Text, nullable=True),
    Column("actor", Text, nullable=False),
    Column("actor_id", _UUID, nullable=True),
    Column("time", String(32), nullable=False),
    Index("ix_duplicate_decisions_pair", "case_id", "a_id", "b_id"),
)

#: Tables compared by ``svidok verify`` (everything but ``meta``), parents first.
PROJECTED = (
    entries,
    objects,
    acquisitions,
    extractions,
    derivatives,
    skips,
    verifications,
    keys,
    users,
    cases,
    members,
    records,
    record_tags,
    record_places,
    links,
    assessments,
    accesses,
    api_tokens,
    perceptual_hashes,
    duplicate_decisions,
)
#: Projected as a batch of inserts; the casework tables change row by row.
INTAKE = PROJECTED[:8]
