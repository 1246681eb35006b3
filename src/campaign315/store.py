"""Step 5 of the flow: every returned file and what was read from it, kept for good.

All database access lives here, behind :class:`Store` — a later step adds a shared PostgreSQL
store for city-level operators beside this embedded SQLite one. The file's exact bytes go into
an archive keyed by SHA-256 before anything parses them; each return is one transaction.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from campaign315.files import write_atomically
from campaign315.forms import ActivityStats, DutyRoster, FilledForm, RosterEntry, StatsLine
from campaign315.problems import Problem

SCHEMA = """
CREATE TABLE IF NOT EXISTS returns (
    id INTEGER PRIMARY KEY,
    campaign TEXT NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    filename TEXT NOT NULL,
    source_path TEXT NOT NULL,
    archive_path TEXT NOT NULL,
    unit TEXT,
    attachment TEXT CHECK (attachment IN ('roster', 'stats')),
    outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'rejected')),
    received_at TEXT NOT NULL,
    received_ts REAL NOT NULL,
    document_modified TEXT,
    filler TEXT NOT NULL DEFAULT '',
    filler_phone TEXT NOT NULL DEFAULT '',
    errors INTEGER NOT NULL,
    warnings INTEGER NOT NULL,
    ingested_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS returns_by_unit ON returns (campaign, unit, attachment, received_ts);
CREATE TABLE IF NOT EXISTS problems (
    return_id INTEGER NOT NULL REFERENCES returns (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    severity TEXT NOT NULL, code TEXT NOT NULL, location TEXT NOT NULL, value TEXT NOT NULL, message TEXT NOT NULL,
    PRIMARY KEY (return_id, seq)
);
CREATE TABLE IF NOT EXISTS stats_lines (
    return_id INTEGER NOT NULL REFERENCES returns (id) ON DELETE CASCADE,
    item_key TEXT NOT NULL,
    quantity INTEGER CHECK (quantity IS NULL OR quantity >= 0),
    remark TEXT NOT NULL, label TEXT NOT NULL, cell TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (return_id, item_key)
);
CREATE TABLE IF NOT EXISTS roster_entries (
    return_id INTEGER NOT NULL REFERENCES returns (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    date TEXT, name TEXT NOT NULL, position TEXT NOT NULL, landline TEXT NOT NULL, mobile TEXT NOT NULL,
    PRIMARY KEY (return_id, seq)
);
"""


@dataclass(kw_only=True)
class _Received:
    """What is known of every received file, new or stored."""

    campaign: str
    sha256: str
    filename: str
    source_path: str
    archive_path: str
    unit: str | None
    attachment: str | None
    outcome: str
    received_at: dt.datetime


@dataclass(kw_only=True)
class StoredReturn(_Received):
    """One received file as the store keeps it (problems loaded on demand)."""

    id: int
    document_modified: str | None
    filler: str
    filler_phone: str
    errors: int
    warnings: int
    problems: list[Problem] = field(default_factory=list)


@dataclass(kw_only=True)
class NewReturn(_Received):
    """What ingest hands the store for one file."""

    document_modified: dt.datetime | None
    problems: list[Problem]
    form: FilledForm | None


def archive_bytes(directory: Path, data: bytes, sha256: str, suffix: str) -> str:
    """Keep the exact bytes under ``directory/archive``, once per content, written atomically
    (safe from several processes at once: the same content always lands at the same name).
    Returns the path relative to ``directory``."""
    relative = Path("archive") / sha256[:2] / f"{sha256}{suffix.lower()}"
    target = Path(directory) / relative
    if not target.exists():
        write_atomically(target, data)
    return relative.as_posix()


class Store:
    """The embedded store under a workspace's ``.c315/``: ``c315.sqlite`` and ``archive/``."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.archive_dir = self.directory / "archive"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.directory / "c315.sqlite", timeout=60, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.execute("PRAGMA busy_timeout=60000")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- the archive ---

    def archive(self, data: bytes, sha256: str, suffix: str) -> str:
        return archive_bytes(self.directory, data, sha256, suffix)

    # --- checks ---

    def integrity_check(self) -> list[str]:
        """What SQLite finds wrong with the database file; empty when it is sound."""
        rows = [str(row[0]) for row in self.db.execute("PRAGMA integrity_check").fetchall()]
        return [] if rows == ["ok"] else rows

    def archive_records(self) -> list[tuple[int, str, str, str]]:
        """(id, sha256, filename, archive_path) of every return of every campaign, for ``verify``."""
        return self.db.execute("SELECT id, sha256, filename, archive_path FROM returns ORDER BY id").fetchall()

    # --- returns ---

    def knows(self, sha256: str) -> bool:
        return self.db.execute("SELECT 1 FROM returns WHERE sha256 = ?", (sha256,)).fetchone() is not None

    def record(self, new: NewReturn) -> int | None:
        """Record one return and everything read from it in one transaction. None when the same
        file was recorded already (by this run or a concurrent one)."""
        errors = sum(p.severity == "error" for p in new.problems)
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        form = new.form
        try:
            self.db.execute("BEGIN IMMEDIATE")
            cursor = self.db.execute(
                "INSERT INTO returns (campaign, sha256, filename, source_path, archive_path, unit, attachment, outcome,"
                " received_at, received_ts, document_modified, filler, filler_phone, errors, warnings, ingested_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    new.campaign, new.sha256, new.filename, new.source_path, new.archive_path, new.unit, new.attachment,
                    new.outcome, new.received_at.isoformat(), new.received_at.timestamp(),
                    new.document_modified.isoformat() if new.document_modified else None,
                    form.filler if form else "", form.filler_phone if form else "",
                    errors, len(new.problems) - errors, now,
                ),
            )
            return_id = cursor.lastrowid
            self.db.executemany(
                "INSERT INTO problems VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(return_id, n, p.severity, p.code, p.location, p.value, p.message) for n, p in enumerate(new.problems)],
            )
            if isinstance(form, ActivityStats):
                self.db.executemany(
                    "INSERT INTO stats_lines VALUES (?, ?, ?, ?, ?, ?)",
                    [(return_id, line.key, line.quantity, line.remark, line.label, line.cell) for line in form.lines],
                )
            elif isinstance(form, DutyRoster):
                self.db.executemany(
                    "INSERT INTO roster_entries VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (return_id, n, e.date.isoformat() if e.date else None, e.name, e.position, e.landline, e.mobile)
                        for n, e in enumerate(form.entries)
                    ],
                )
            self.db.execute("COMMIT")
            return return_id
        except sqlite3.IntegrityError:
            self.db.execute("ROLLBACK")
            return None
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    def returns(self, campaign: str, unit: str | None = None, with_problems: bool = True) -> list[StoredReturn]:
        """Every return received for the campaign (optionally one unit's), oldest first, with
        their problems unless ``with_problems`` is False (see :meth:`attach_problems`)."""
        sql = "SELECT * FROM returns WHERE campaign = ?" + (" AND unit = ?" if unit else "") + " ORDER BY received_ts, id"
        return self._returns(self.db.execute(sql, (campaign, unit) if unit else (campaign,)), with_problems)

    def latest_returns(self, campaign: str, cutoff: dt.datetime | None) -> list[StoredReturn]:
        """Per unit × attachment, only the returns that can decide its standing at ``cutoff``:
        the latest accepted and the latest rejected, before and after the cut-off (at most
        four each). A summary over 100,000 stored returns reads a few dozen rows."""
        sql = """
            SELECT * FROM (
                SELECT *, ROW_NUMBER() OVER (
                    PARTITION BY unit, attachment, outcome, received_ts <= ?
                    ORDER BY received_ts DESC, id DESC) AS rank_in_group
                FROM returns WHERE campaign = ?)
            WHERE rank_in_group = 1 ORDER BY received_ts, id"""
        limit = cutoff.timestamp() if cutoff else float("inf")
        return self._returns(self.db.execute(sql, (limit, campaign)), with_problems=True, drop=("rank_in_group",))

    def _returns(self, cursor: sqlite3.Cursor, with_problems: bool, drop: tuple[str, ...] = ()) -> list[StoredReturn]:
        names = [d[0] for d in cursor.description]
        found = []
        for row in cursor.fetchall():
            record = dict(zip(names, row, strict=True))
            for column in ("received_ts", "ingested_at", *drop):
                record.pop(column)
            record["received_at"] = dt.datetime.fromisoformat(record["received_at"])
            found.append(StoredReturn(**record))
        if with_problems:
            self.attach_problems(found)
        return found

    def attach_problems(self, returns: list[StoredReturn]) -> None:
        """Load the problems of these returns (only): a summary over 100,000 returns needs
        the problems of the few that count."""
        by_id = {r.id: r for r in returns}
        for r in returns:
            r.problems = []
        for return_id, severity, code, location, value, message in self._in("SELECT return_id, severity, code, location, value, message FROM problems", by_id, "ORDER BY return_id, seq"):
            by_id[return_id].problems.append(Problem(severity, code, location, value, message))

    def stats_lines(self, return_ids: Iterable[int]) -> dict[int, list[StatsLine]]:
        result: dict[int, list[StatsLine]] = {rid: [] for rid in return_ids}
        for return_id, key, quantity, remark, label, cell in self._in("SELECT return_id, item_key, quantity, remark, label, cell FROM stats_lines", result):
            result[return_id].append(StatsLine(key=key, quantity=quantity, remark=remark, label=label, cell=cell))
        return result

    def roster_entries(self, return_ids: Iterable[int]) -> dict[int, list[RosterEntry]]:
        result: dict[int, list[RosterEntry]] = {rid: [] for rid in return_ids}
        rows = self._in("SELECT return_id, date, name, position, landline, mobile FROM roster_entries", result, "ORDER BY return_id, seq")
        for return_id, date, name, position, landline, mobile in rows:
            result[return_id].append(RosterEntry(date=dt.date.fromisoformat(date) if date else None, name=name,
                                                 position=position, landline=landline, mobile=mobile))
        return result

    def _in(self, select: str, ids, tail: str = "") -> list[tuple]:
        ids = list(ids)
        if not ids:
            return []
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (id INTEGER PRIMARY KEY)")
        self.db.execute("DELETE FROM wanted")
        self.db.executemany("INSERT OR IGNORE INTO wanted VALUES (?)", [(i,) for i in ids])
        return self.db.execute(f"{select} WHERE return_id IN (SELECT id FROM wanted) {tail}").fetchall()
