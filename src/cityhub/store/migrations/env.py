"""Alembic environment: the connection comes from the store, never from a URL in a file."""

from alembic import context

from cityhub.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
context.run_migrations()
