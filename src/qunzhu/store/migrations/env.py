"""Alembic environment: runs against the connection handed in by qunzhu.store.migrate."""

from __future__ import annotations

from alembic import context

from qunzhu.store.library import include_name
from qunzhu.store.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `qunzhu db upgrade`, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_name=include_name,  # the library's search indexes are made by hand
)
with context.begin_transaction():
    context.run_migrations()
