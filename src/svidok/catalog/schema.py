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

#: Tables compared by ``svidok verify`` (everything but ``meta``), with their sort keys.
PROJECTED = (entries, objects, acquisitions, extractions, skips, verifications, keys)
