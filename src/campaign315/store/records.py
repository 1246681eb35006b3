"""What the store keeps of each return — each form found in a received file — as the rest of c315 sees it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from campaign315.spec.forms import ActivityStats, DutyRoster, FilledForm, RosterEntry, StatsLine
from campaign315.spec.location import Location
from campaign315.spec.problems import Code, Problem


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


REVIEW_STATES = ("approved", "has_issues", "rejected")
"""What the collector may say of a received return: 已审核, 有问题, 退回 (see :mod:`campaign315.intake.review`)."""


@dataclass(frozen=True, kw_only=True)
class Review:
    """The collector's word on one return, with who said it and when. A return's reviews are only
    ever added; the latest is its state."""

    state: str
    """One of :data:`REVIEW_STATES`."""
    note: str
    """The comment (有问题) or the reason (退回) the department reads; may be empty on 已审核."""
    reviewer: str
    reviewed_at: dt.datetime

    def as_json(self) -> dict:
        """A review in ``c315 history --json`` and ``c315 review --json``."""
        return {"state": self.state, "note": self.note, "by": self.reviewer, "at": self.reviewed_at.isoformat()}


@dataclass(kw_only=True)
class StoredReturn(_Received):
    """One return as the store keeps it (problems loaded on demand, reviews always)."""

    id: int
    document_modified: str | None
    filler: str
    filler_phone: str
    errors: int
    warnings: int
    ingested_at: str = ""
    """When c315 recorded it (UTC, ISO 8601); kept as it was by ``c315 store copy``."""
    problems: list[Problem] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    """The collector's reviews, oldest first."""

    @property
    def review(self) -> Review | None:
        """The collector's latest word on this return, if any."""
        return self.reviews[-1] if self.reviews else None

    @property
    def sent_back(self) -> bool:
        """Rejected by the collector's hand (退回), whatever ingest decided."""
        return self.review is not None and self.review.state == "rejected"

    @property
    def usable(self) -> bool:
        """May its figures count: accepted by ingest and not sent back by hand."""
        return self.outcome == "accepted" and not self.sent_back


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


class ReturnRows(NamedTuple):
    """One return as the rows a store keeps, in plain values: what a worker process hands to the
    one that writes the store (a tuple of tuples pickles in microseconds; a validated form does
    not). :func:`rows_of` makes it from a :class:`NewReturn`; :func:`new_from_rows` goes back."""

    campaign: str
    sha256: str
    filename: str
    source_path: str
    archive_key: str
    unit: str | None
    attachment: str | None
    outcome: str
    received_at: dt.datetime
    document_modified: dt.datetime | None
    filler: str
    filler_phone: str
    problems: tuple[tuple, ...]
    """(severity, code, location kind, name, table, row, column, value, message) for each problem."""
    lines: tuple[tuple, ...] | None
    """附件2: (item key, quantity, remark, label, cell kind, name, table, row, column) for each line;
    None when the return holds no 附件2 form."""
    entries: tuple[tuple, ...] | None
    """附件1: (date, name, position, landline, mobile) for each person; None when the return holds
    no 附件1 form."""
    place: str = ""
    """Where in the file the return's form is (as :attr:`NewReturn.place`)."""

    @property
    def errors(self) -> int:
        return sum(p[0] == "error" for p in self.problems)

    def problem_records(self) -> list[Problem]:
        """The problems as :class:`Problem` records."""
        return [Problem(severity, Code(code), Location(kind, name, table, row, column), value, message)
                for severity, code, kind, name, table, row, column, value, message in self.problems]


def rows_of(new: NewReturn) -> ReturnRows:
    """A new return as the rows a store keeps."""
    form = new.form
    lines = entries = None
    if isinstance(form, ActivityStats):
        lines = tuple((line.key, line.quantity, line.remark, line.label, *(line.cell or _NO_CELL)) for line in form.lines)
    elif isinstance(form, DutyRoster):
        entries = tuple((e.date, e.name, e.position, e.landline, e.mobile) for e in form.entries)
    return ReturnRows(
        new.campaign, new.sha256, new.filename, new.source_path, new.archive_key, new.unit, new.attachment,
        new.outcome, new.received_at, new.document_modified, form.filler if form else "", form.filler_phone if form else "",
        tuple((p.severity, str(p.code), *p.location, p.value, p.message) for p in new.problems), lines, entries,
        new.place)


def by_file(batch: list[ReturnRows]) -> Iterator[list[ReturnRows]]:
    """The returns of a batch file by file: a file's returns are consecutive, share its SHA-256
    and each has its own place, so a place seen again starts the next file (the same bytes sent
    twice)."""
    group: list[ReturnRows] = []
    for rows in batch:
        if group and (rows.sha256 != group[0].sha256 or any(rows.place == other.place for other in group)):
            yield group
            group = []
        group.append(rows)
    if group:
        yield group


def new_from_rows(rows: ReturnRows) -> NewReturn:
    """The :class:`NewReturn` a set of rows was made from (a store that records one at a time)."""
    form: FilledForm | None = None
    if rows.entries is not None:
        form = DutyRoster(unit=rows.unit or "", filler=rows.filler, filler_phone=rows.filler_phone, entries=[
            RosterEntry(date=date, name=name, position=position, landline=landline, mobile=mobile)
            for date, name, position, landline, mobile in rows.entries])
    elif rows.lines is not None:
        form = ActivityStats(unit=rows.unit or "", filler=rows.filler, filler_phone=rows.filler_phone, lines=[
            StatsLine(key=key, quantity=quantity, remark=remark, label=label,
                      cell=Location(kind, name, table, row, column) if kind else None)
            for key, quantity, remark, label, kind, name, table, row, column in rows.lines])
    return NewReturn(campaign=rows.campaign, sha256=rows.sha256, filename=rows.filename, source_path=rows.source_path,
                     archive_key=rows.archive_key, unit=rows.unit, attachment=rows.attachment, outcome=rows.outcome,
                     received_at=rows.received_at, document_modified=rows.document_modified,
                     problems=rows.problem_records(), form=form, place=rows.place)


_NO_CELL = (None, "", 0, 0, 0)
