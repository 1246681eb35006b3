"""The store's interface: what every backend (the embedded SQLite one, the shared PostgreSQL one)
offers the rest of c315. Readers, validators and reports know this and nothing below it."""

from __future__ import annotations

import contextlib
import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Protocol

from campaign315.spec.forms import RosterEntry, StatsLine
from campaign315.store.records import (
    ArchiveRecord,
    NewReturn,
    ReturnRows,
    Review,
    StoredReturn,
    by_file,
    new_from_rows,
)


class Archive(Protocol):
    """The exact bytes of every received file, by key (see :mod:`campaign315.store.archive`)."""

    def put(self, data: bytes, sha256: str, suffix: str = "") -> str: ...
    def read(self, key: str) -> bytes: ...
    def keys(self) -> set[str]: ...
    def digest(self, key: str) -> str: ...
    def is_key_of(self, key: str, sha256: str) -> bool: ...
    def named_sha256(self, key: str) -> str | None: ...
    def is_temporary(self, key: str) -> bool: ...


class Store(ABC):
    """Every returned file and what was read from it, kept for good, with its archive.

    Failures of the medium (a full disk, a folder that cannot be written, a database held by another
    program, a store from a newer c315) are raised as :class:`~campaign315.common.errors.StoreProblem`
    with a message for the collector."""

    SCHEMA_VERSION = 5
    """1: the first release (locations as text); 2: locations as columns; 3: a file is unique per
    campaign (several campaigns share one store) and the archive may live in the database; 4:
    several returns per file (a return's ``place`` in its file; one SHA-256 may have several per
    campaign); 5: the collector's reviews. The migrations (``store/migrations``, Alembic revisions
    ``0002``–``0005``) build
    and upgrade it."""

    archive: Archive

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def knows(self, sha256: str, campaign: str | None = None) -> bool:
        """Was the identical file recorded before for ``campaign`` (None: for any campaign)?"""

    @abstractmethod
    def record_returns(self, returns: Sequence[NewReturn]) -> list[int] | None:
        """Record the returns read from one file (all with its SHA-256) and everything read from
        them, all or nothing; their ids, or None when the same file was recorded already (by this
        run or a concurrent one)."""

    def record(self, new: NewReturn) -> int | None:
        """Record a file holding one return; its id, or None when the same file was recorded
        already for its campaign (by this run or a concurrent one)."""
        ids = self.record_returns([new])
        return ids[0] if ids else None

    def record_many(self, batch: Sequence[NewReturn]) -> list[int | None]:
        """Record several returns in one transaction where the backend can (all or none of them);
        each one's id or None, as :meth:`record` says."""
        return [self.record(new) for new in batch]

    def snapshot(self) -> contextlib.AbstractContextManager[None]:
        """Reads inside the ``with`` block see one consistent state of the store."""
        return contextlib.nullcontext()

    @abstractmethod
    def campaigns(self) -> dict[str, int]:
        """Every campaign the store holds returns of, and how many."""

    @abstractmethod
    def copy_in(self, stored: StoredReturn, lines: list[StatsLine], entries: list[RosterEntry]) -> int | None:
        """Record a return another store kept, as it was kept (``c315 store copy``); its new id, or
        None when this store has it already."""

    def record_rows(self, batch: list[ReturnRows]) -> list[int | None]:
        """Record the returns of several files, each file (its returns: consecutive rows with one
        SHA-256) all or nothing, as :meth:`record_returns` does one; their ids (None for the
        returns of a file recorded already, this batch included). A backend that can writes the
        batch in one transaction; this one records a file at a time.

        Fault points (:mod:`~campaign315.common.faults`): ``in-transaction`` is reached once per
        return, its rows written and its transaction not yet committed; ``return-recorded`` once
        per return, after the transaction that holds it committed."""
        ids: list[int | None] = []
        for group in by_file(batch):
            found = self.record_returns([new_from_rows(one) for one in group])
            ids.extend(found if found is not None else [None] * len(group))
        return ids

    @abstractmethod
    def returns(self, campaign: str, unit: str | None = None, with_problems: bool = True) -> list[StoredReturn]:
        """Every return of the campaign (optionally one unit's), oldest first."""

    @abstractmethod
    def latest_returns(self, campaign: str, cutoff: dt.datetime | None) -> list[StoredReturn]:
        """Per unit × attachment, only the returns that can decide its standing at ``cutoff``."""

    @abstractmethod
    def attach_problems(self, returns: list[StoredReturn]) -> None:
        """Load the problems of these returns (only)."""

    @abstractmethod
    def attach_reviews(self, returns: list[StoredReturn]) -> None:
        """Load the reviews of these returns (``returns`` and ``latest_returns`` do it themselves)."""

    @abstractmethod
    def add_review(self, return_id: int, review: Review) -> None:
        """Record the collector's review of one stored return."""

    @abstractmethod
    def merge_reviews(self, stored: StoredReturn) -> int:
        """Add the reviews of a return another store kept (same campaign, SHA-256 and place) that
        this store lacks; how many were added (``c315 store copy``)."""

    @abstractmethod
    def stats_lines(self, return_ids: Iterable[int]) -> dict[int, list[StatsLine]]: ...

    @abstractmethod
    def roster_entries(self, return_ids: Iterable[int]) -> dict[int, list[RosterEntry]]: ...

    @abstractmethod
    def integrity_check(self) -> list[str]:
        """What the database finds wrong with itself; empty when it is sound."""

    @abstractmethod
    def archive_records(self) -> list[ArchiveRecord]:
        """Every record's archive key, of every campaign, for ``c315 verify``."""

    @property
    @abstractmethod
    def where(self) -> str:
        """The store as a person names it (a folder, a server), for messages."""
