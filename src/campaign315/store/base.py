"""The store's interface: what every backend (the embedded SQLite one here; a shared PostgreSQL one
next) offers the rest of c315. Readers, validators and reports know this and nothing below it."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Protocol

from campaign315.spec.forms import RosterEntry, StatsLine
from campaign315.store.records import (
    ArchiveRecord,
    NewReturn,
    ReturnRows,
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

    SCHEMA_VERSION = 3
    """1: the first release (locations as text); 2: locations as columns; 3: several returns per
    file (a return's ``place`` in its file; one SHA-256 may have several)."""

    archive: Archive

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def knows(self, sha256: str) -> bool:
        """Was the identical file recorded before (for any campaign)?"""

    @abstractmethod
    def record_returns(self, returns: Sequence[NewReturn]) -> list[int] | None:
        """Record the returns read from one file (all with its SHA-256) and everything read from
        them, all or nothing; their ids, or None when the same file was recorded already (by this
        run or a concurrent one)."""

    def record(self, new: NewReturn) -> int | None:
        """Record a file holding one return; its id, or None when the file was recorded already."""
        ids = self.record_returns([new])
        return ids[0] if ids else None

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
