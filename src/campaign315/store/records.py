"""What the store keeps of each return — each form found in a received file — as the rest of c315 sees it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from campaign315.spec.forms import FilledForm
from campaign315.spec.problems import Problem


@dataclass(kw_only=True)
class _Received:
    """What is known of every received file, new or stored."""

    campaign: str
    sha256: str
    filename: str
    source_path: str
    archive_key: str
    """Where the archive keeps the exact bytes; only the store's archive knows what it means."""
    unit: str | None
    attachment: str | None
    outcome: str
    received_at: dt.datetime
    place: str = ""
    """Where in the file the return's form is, as a person reads it (a sheet's name, ``表2`` in a
    document); "" for a file that holds none, and for returns stored before a file could hold
    several. One file gives one return per form it holds."""


@dataclass(kw_only=True)
class StoredReturn(_Received):
    """One return as the store keeps it (problems loaded on demand)."""

    id: int
    document_modified: str | None
    filler: str
    filler_phone: str
    errors: int
    warnings: int
    ingested_at: str = ""
    """When c315 recorded it (UTC, ISO 8601); kept as it was by ``c315 store copy``."""
    problems: list[Problem] = field(default_factory=list)


@dataclass(kw_only=True)
class NewReturn(_Received):
    """What ingest hands the store for one return (one form of a file)."""

    document_modified: dt.datetime | None
    problems: list[Problem]
    form: FilledForm | None


@dataclass(frozen=True)
class ArchiveRecord:
    """What ``c315 verify`` compares with the archive: a record and the key it names."""

    id: int
    sha256: str
    filename: str
    archive_key: str
