"""Creating and upgrading the store's schema with Alembic (``c315 store migrate``; a workspace's
SQLite store also on first use). The revisions are in ``migrations/versions/``; c315 runs them
itself on a connection it holds, in the transaction it began, so nothing else needs configuring.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Connection

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _config(conn: Connection):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def run_migrations(conn: Connection, stamp: str | None = None) -> None:
    """Bring the schema on ``conn`` to the newest revision, inside the caller's transaction.
    ``stamp``: the revision a store made before c315 used Alembic is at (recorded first)."""
    from alembic import command

    config = _config(conn)
    if stamp:
        command.stamp(config, stamp)
    command.upgrade(config, "head")


def current_revision(conn: Connection) -> str | None:
    """The revision the schema on ``conn`` is at; None for a database without c315's tables."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def known_revisions() -> list[str]:
    """Every revision this c315 knows, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def version_name(version: int | str) -> str:
    """A schema version as the collector reads it: ``第 3 版`` (revision ``0003`` is version 3).

    >>> version_name("0003"), version_name(1)
    ('第 3 版', '第 1 版')
    """
    return f"第 {int(version)} 版"
