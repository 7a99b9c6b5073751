"""Alembic environment of the auth store: run programmatically, own version table."""

from __future__ import annotations

from alembic import context

from svidok.auth._schema import metadata

VERSION_TABLE = "auth_alembic_version"

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only programmatic use is supported
    raise RuntimeError("the auth store's migrations run through svidok.auth.AuthStore.migrate")
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
