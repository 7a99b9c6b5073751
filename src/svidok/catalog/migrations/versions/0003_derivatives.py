"""Derivatives: previews made from an object, each stored as its own object.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "derivatives",
        sa.Column("entry", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("object_id", sa.String(length=80), nullable=False),
        sa.Column("source_id", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("media_type", sa.String(length=255), nullable=False),
        sa.Column("algorithm", sa.Text(), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["entry"], ["entries.idx"]),
        sa.ForeignKeyConstraint(["object_id"], ["objects.id"]),
        sa.ForeignKeyConstraint(["source_id"], ["objects.id"]),
        sa.PrimaryKeyConstraint("entry"),
    )
    op.create_index("ix_derivatives_object_id", "derivatives", ["object_id"])
    op.create_index("ix_derivatives_source_id", "derivatives", ["source_id"])


def downgrade() -> None:
    op.drop_index("ix_derivatives_source_id", table_name="derivatives")
    op.drop_index("ix_derivatives_object_id", table_name="derivatives")
    op.drop_table("derivatives")
