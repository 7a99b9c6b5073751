"""Integrity core: entries, objects, acquisitions, extractions, skips, verifications, keys.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "entries",
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("time", sa.String(32), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("object_id", sa.String(80), nullable=True),
    )
    op.create_index("ix_entries_type", "entries", ["type"])
    op.create_index("ix_entries_object_id", "entries", ["object_id"])
    op.create_table(
        "objects",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("media_type", sa.String(255), nullable=False),
        sa.Column("logical_path", sa.Text, nullable=False),
        sa.Column("first_entry", sa.BigInteger, sa.ForeignKey("entries.idx"), nullable=False),
    )
    op.create_table(
        "acquisitions",
        sa.Column(
            "entry",
            sa.BigInteger,
            sa.ForeignKey("entries.idx"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("object_id", sa.String(80), sa.ForeignKey("objects.id"), nullable=False),
        sa.Column("case_name", sa.Text, nullable=False),
        sa.Column("collector", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=True),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mtime_ns", sa.String(32), nullable=True),
        sa.Column("acquired_at", sa.String(32), nullable=False),
        sa.Column("new_object", sa.Boolean, nullable=False),
    )
    op.create_index("ix_acquisitions_object_id", "acquisitions", ["object_id"])
    op.create_index(
        "ix_acquisitions_dedupe", "acquisitions", ["case_name", "object_id", "path", "mtime_ns"]
    )
    op.create_table(
        "extractions",
        sa.Column(
            "entry",
            sa.BigInteger,
            sa.ForeignKey("entries.idx"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("object_id", sa.String(80), sa.ForeignKey("objects.id"), nullable=False),
        sa.Column("media_type", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("extractor", sa.Text, nullable=False),
        sa.Column("metadata", sa.Text, nullable=False),
        sa.Column("errors", sa.Text, nullable=False),
    )
    op.create_index("ix_extractions_object_id", "extractions", ["object_id"])
    op.create_table(
        "skips",
        sa.Column(
            "entry",
            sa.BigInteger,
            sa.ForeignKey("entries.idx"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("case_name", sa.Text, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )
    op.create_table(
        "verifications",
        sa.Column(
            "entry",
            sa.BigInteger,
            sa.ForeignKey("entries.idx"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("problems", sa.Integer, nullable=False),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "keys",
        sa.Column(
            "entry",
            sa.BigInteger,
            sa.ForeignKey("entries.idx"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("vkey", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "keys",
        "verifications",
        "skips",
        "extractions",
        "acquisitions",
        "objects",
        "entries",
        "meta",
    ):
        op.drop_table(table)
