"""Step 4 of the flow: every returned file and what was read from it, kept for good.

:class:`~campaign315.store.base.Store` is the interface the rest of c315 uses; it owns its
:class:`~campaign315.store.base.Archive` (the exact bytes of each file, by key). The embedded
backend is SQLite under a workspace's ``.c315/`` (:mod:`.sqlite`); ``verify`` checks any backend
against its archive. Nothing outside this package speaks SQL or knows how the archive is laid out.
"""

from __future__ import annotations

from pathlib import Path

from campaign315.store.base import Archive, Store
from campaign315.store.records import ArchiveRecord, NewReturn, ReturnRows, StoredReturn, rows_of


def open_store(directory: Path) -> Store:
    """The store kept in ``directory`` (a workspace's ``.c315/``), created on first use."""
    from campaign315.store.sqlite import SQLiteStore

    return SQLiteStore(Path(directory))


__all__ = ["Archive", "ArchiveRecord", "NewReturn", "ReturnRows", "Store", "StoredReturn", "open_store", "rows_of"]
