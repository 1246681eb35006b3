"""Alembic's entry point for c315's store. c315 runs the migrations itself (``c315 store migrate``,
or on opening a workspace's SQLite store) and hands over its open connection, inside the
transaction it began, so a migration is all or nothing and two processes never run one twice."""

from alembic import context

from campaign315.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata)
with context.begin_transaction():
    context.run_migrations()
