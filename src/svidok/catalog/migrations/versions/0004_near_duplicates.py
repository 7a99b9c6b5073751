"""Near-duplicates: perceptual hashes of originals and the decisions taken on pairs.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "perceptual_hashes",
        sa.Column("entry", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("object_id", sa.String(length=80), nullable=False),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=True),
        sa.Column("quality", sa.Integer(), nullable=True),
        sa.Column("dihedral", sa.Text(), nullable=False),
        sa.Column("frames", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["entry"], ["entries.idx"]),
        sa.ForeignKeyConstraint(["object_id"], ["objects.id"]),
        sa.PrimaryKeyConstraint("entry"),
    )
    op.create_index("ix_perceptual_hashes_object_id", "perceptual_hashes", ["object_id"])
    op.create_table(
        "duplicate_decisions",
        sa.Column("entry", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("a_id", sa.String(length=36), nullable=False),
        sa.Column("b_id", sa.String(length=36), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.String(length=36), nullable=True),
        sa.Column("time", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["entry"], ["entries.idx"]),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["a_id"], ["records.id"]),
        sa.ForeignKeyConstraint(["b_id"], ["records.id"]),
        sa.PrimaryKeyConstraint("entry"),
    )
    op.create_index("ix_duplicate_decisions_case_id", "duplicate_decisions", ["case_id"])
    op.create_index("ix_duplicate_decisions_pair", "duplicate_decisions",
                    ["case_id", "a_id", "b_id"])


def downgrade() -> None:
    op.drop_index("ix_duplicate_decisions_pair", table_name="duplicate_decisions")
    op.drop_index("ix_duplicate_decisions_case_id", table_name="duplicate_decisions")
    op.drop_table("duplicate_decisions")
    op.drop_index("ix_perceptual_hashes_object_id", table_name="perceptual_hashes")
    op.drop_table("perceptual_hashes")
