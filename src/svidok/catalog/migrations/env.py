"""Alembic environment: Svidok runs migrations programmatically on a given connection."""

from __future__ import annotations

from alembic import context

from svidok.catalog.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only programmatic use is supported
    raise RuntimeError("Svidok's migrations run through svidok.catalog.db.Catalog.migrate")
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
