"""Step 4 of the flow: every returned file and what was read from it, kept for good.

:class:`~campaign315.store.base.Store` is the interface the rest of c315 uses; it owns its
:class:`~campaign315.store.base.Archive` (the exact bytes of each file, by key). Two backends,
chosen by the store's location (``--store URL`` / ``C315_STORE``):

- SQLite (:mod:`.sqlite`): a workspace's ``.c315/`` by default, or ``sqlite:///path/to/c315.sqlite``;
  the archive is the ``archive/`` folder beside the database;
- PostgreSQL (:mod:`.postgres`): ``postgresql://user@host:port/dbname`` (any libpq URL), shared by
  the city and its districts; the archive is in the database.

Both run the same queries (:mod:`.sql`) over one schema (:mod:`.schema`), built and upgraded by
the migrations (:mod:`.migrate`, ``c315 store migrate``). ``verify`` checks any backend against
its archive; ``copy`` copies one store into another. Nothing outside this package speaks SQL or
knows how the archive is laid out.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from campaign315.common.errors import UsageError
from campaign315.store.base import Archive, Store
from campaign315.store.records import (
    REVIEW_STATES,
    ArchiveRecord,
    NewReturn,
    ReturnRows,
    Review,
    StoredReturn,
    rows_of,
)

POSTGRES_SCHEMES = ("postgresql", "postgres")


def open_store(location: Path | str, *, migrating: bool = False) -> Store:
    """The store at ``location``: a folder (a workspace's ``.c315/``, SQLite, created on first use),
    ``sqlite:///path/to/file.sqlite``, or a PostgreSQL URL (its schema made by ``c315 store
    migrate``; ``migrating`` opens it for that)."""
    kind, where = parse_location(location)
    if kind == "postgresql":
        from campaign315.store.postgres import PostgresStore

        return PostgresStore(where, migrating=migrating)
    from campaign315.store.sqlite import DATABASE, SQLiteStore

    path = Path(where)
    if kind == "folder":
        return SQLiteStore(path, migrating=migrating)
    return SQLiteStore(path.parent, path.name or DATABASE, migrating=migrating)


def parse_location(location: Path | str) -> tuple[str, str]:
    """(``folder`` | ``sqlite`` | ``postgresql``, what the backend opens). A usage error names the
    schemes c315 knows — never the location itself, which may carry a password.

    >>> parse_location("sqlite:///srv/c315/c315.sqlite"), parse_location(Path(".c315"))
    (('sqlite', '/srv/c315/c315.sqlite'), ('folder', '.c315'))
    >>> parse_location("postgresql:///c315?host=/run/postgresql")[0]
    'postgresql'
    """
    if isinstance(location, Path):
        return "folder", str(location)
    text = location.strip()
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme in POSTGRES_SCHEMES:
        return "postgresql", text
    if scheme == "sqlite":
        path = unquote(urlsplit(text).path)
        if not path or path.endswith("/"):
            raise UsageError("--store 的 SQLite 地址要写到数据库文件，例如 sqlite:///srv/c315/c315.sqlite。")
        return "sqlite", path
    if scheme:
        raise UsageError("--store 只认两种地址：sqlite:///路径/c315.sqlite，或 postgresql://用户@主机:端口/数据库名。")
    return "folder", text


def password_in(location: Path | str) -> bool:
    """Does a PostgreSQL location carry a password (which then shows in shell history and ``ps``)?"""
    kind, where = parse_location(location)
    if kind != "postgresql":
        return False
    from campaign315.store.postgres import describe

    return bool(describe(where).password)


def describe_location(location: Path | str) -> str:
    """A store's location as it may be printed: a path, or a PostgreSQL server without its password."""
    kind, where = parse_location(location)
    if kind == "postgresql":
        from campaign315.store.postgres import describe

        return str(describe(where))
    return where


__all__ = ["REVIEW_STATES", "Archive", "ArchiveRecord", "NewReturn", "ReturnRows", "Review", "Store", "StoredReturn", "describe_location",
           "open_store", "parse_location", "password_in", "rows_of"]
