"""Alembic, driven from code: ``cityhub db upgrade`` and ``serve`` both call ``upgrade``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from cityhub.store import dialects

if TYPE_CHECKING:
    from cityhub.store.database import Store

MIGRATIONS = Path(__file__).with_name("migrations")


def _config(store: Store) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["store"] = store
    return config


def upgrade(store: Store, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` in one transaction."""
    config = _config(store)
    with store.write_engine.connect() as connection:
        if store.backend == "postgresql":
            with connection.begin():
                dialects.ensure_postgis(connection)
        with connection.begin():
            config.attributes["connection"] = connection
            command.upgrade(config, revision)


def current_revision(store: Store) -> str | None:
    with store.read_engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(store: Store) -> str | None:
    return ScriptDirectory.from_config(_config(store)).get_current_head()
