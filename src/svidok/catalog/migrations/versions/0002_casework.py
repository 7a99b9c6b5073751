"""Casework: users, cases, members, records (items, incidents, people, places, sources),
tags, places of records, links, assessments, accesses, API tokens; entries gain the case
and record they concern.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("reference", sa.String(length=80), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.Column("created_entry", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("updated_entry", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_entry"],
            ["entries.idx"],
        ),
        sa.ForeignKeyConstraint(
            ["updated_entry"],
            ["entries.idx"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reference"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("admin", sa.Boolean(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_entry", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("updated_entry", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_entry"],
            ["entries.idx"],
        ),
        sa.ForeignKeyConstraint(
            ["updated_entry"],
            ["entries.idx"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "accesses",
        sa.Column("entry", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=True),
        sa.Column("object_id", sa.String(length=80), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["entry"],
            ["entries.idx"],
        ),
        sa.PrimaryKeyConstraint("entry"),
    )
    op.create_index(op.f("ix_accesses_case_id"), "accesses", ["case_id"], unique=False)
    op.create_index(op.f("ix_accesses_record_id"), "accesses", ["record_id"], unique=False)
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("cases", sa.Text(), nullable=True),
        sa.Column("expires", sa.String(length=32), nullable=False),
        sa.Column("created_entry", sa.BigInteger(), nullable=False),
        sa.Column("revoked_entry", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_entry"],
            ["entries.idx"],
        ),
        sa.ForeignKeyConstraint(
            ["revoked_entry"],
            ["entries.idx"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_api_tokens_user_id"), "api_tokens", ["user_id"], unique=False)
    op.create_table(
        "members",
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("granted_entry", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["granted_entry"],
            ["entries.idx"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
        ),
        sa.PrimaryKeyConstraint("case_id", "user_id"),
    )
    op.create_table(
        "records",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("subkind", sa.String(length=32), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("assessment", sa.String(length=16), nullable=False),
        sa.Column("time_start", sa.String(length=40), nullable=True),
        sa.Column("time_end", sa.String(length=40), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("object_id", sa.String(length=80), nullable=True),
        sa.Column("source_id", sa.String(length=36), nullable=True),
        sa.Column("grade", sa.String(length=4), nullable=True),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.Column("created_entry", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("updated_entry", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_entry"],
            ["entries.idx"],
        ),
        sa.ForeignKeyConstraint(
            ["updated_entry"],
            ["entries.idx"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_records_case_id"), "records", ["case_id"], unique=False)
    op.create_index("ix_records_case_kind", "records", ["case_id", "kind"], unique=False)
    op.create_index(op.f("ix_records_object_id"), "records", ["object_id"], unique=False)
    op.create_table(
        "assessments",
        sa.Column("entry", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.String(length=36), nullable=True),
        sa.Column("time", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["entry"],
            ["entries.idx"],
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
        ),
        sa.PrimaryKeyConstraint("entry"),
    )
    op.create_index(op.f("ix_assessments_record_id"), "assessments", ["record_id"], unique=False)
    op.create_table(
        "links",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("from_id", sa.String(length=36), nullable=False),
        sa.Column("to_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.Text(), nullable=True),
        sa.Column("created_entry", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("removed_entry", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
        ),
        sa.ForeignKeyConstraint(
            ["created_entry"],
            ["entries.idx"],
        ),
        sa.ForeignKeyConstraint(
            ["from_id"],
            ["records.id"],
        ),
        sa.ForeignKeyConstraint(
            ["removed_entry"],
            ["entries.idx"],
        ),
        sa.ForeignKeyConstraint(
            ["to_id"],
            ["records.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_links_case_id"), "links", ["case_id"], unique=False)
    op.create_index(op.f("ix_links_from_id"), "links", ["from_id"], unique=False)
    op.create_index(op.f("ix_links_to_id"), "links", ["to_id"], unique=False)
    op.create_table(
        "record_places",
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("place_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
        ),
        sa.PrimaryKeyConstraint("record_id", "place_id"),
    )
    op.create_index(op.f("ix_record_places_place_id"), "record_places", ["place_id"], unique=False)
    op.create_table(
        "record_tags",
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("tag", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["records.id"],
        ),
        sa.PrimaryKeyConstraint("record_id", "tag"),
    )
    op.create_index("ix_record_tags_tag", "record_tags", ["tag"], unique=False)
    with op.batch_alter_table("entries") as batch:
        batch.add_column(sa.Column("case_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("record_id", sa.String(length=36), nullable=True))
        batch.create_index("ix_entries_case_id", ["case_id"], unique=False)
        batch.create_index("ix_entries_record_id", ["record_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("entries") as batch:
        batch.drop_index("ix_entries_record_id")
        batch.drop_index("ix_entries_case_id")
        batch.drop_column("record_id")
        batch.drop_column("case_id")
    op.drop_index("ix_record_tags_tag", table_name="record_tags")
    op.drop_table("record_tags")
    op.drop_index(op.f("ix_record_places_place_id"), table_name="record_places")
    op.drop_table("record_places")
    op.drop_index(op.f("ix_links_to_id"), table_name="links")
    op.drop_index(op.f("ix_links_from_id"), table_name="links")
    op.drop_index(op.f("ix_links_case_id"), table_name="links")
    op.drop_table("links")
    op.drop_index(op.f("ix_assessments_record_id"), table_name="assessments")
    op.drop_table("assessments")
    op.drop_index(op.f("ix_records_object_id"), table_name="records")
    op.drop_index("ix_records_case_kind", table_name="records")
    op.drop_index(op.f("ix_records_case_id"), table_name="records")
    op.drop_table("records")
    op.drop_table("members")
    op.drop_index(op.f("ix_api_tokens_user_id"), table_name="api_tokens")
    op.drop_table("api_tokens")
    op.drop_index(op.f("ix_accesses_record_id"), table_name="accesses")
    op.drop_index(op.f("ix_accesses_case_id"), table_name="accesses")
    op.drop_table("accesses")
    op.drop_table("users")
    op.drop_table("cases")
