"""Alembic environment: runs on a connection handed over by `storage.migrate` (async engines included)."""

from __future__ import annotations

from alembic import context

from storage.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `tradebot migrate` (storage.migrate), which supplies the connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things in place
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
