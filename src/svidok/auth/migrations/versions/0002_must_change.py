"""Credentials: ``must_change`` (a one-time password, to be replaced at the next sign-in).

Revision ID: auth0002
Revises: auth0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "auth0002"
down_revision = "auth0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("auth_credentials") as batch:
        batch.add_column(
            sa.Column("must_change", sa.Boolean, nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("auth_credentials") as batch:
        batch.drop_column("must_change")
