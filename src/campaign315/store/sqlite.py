"""The embedded store: SQLite in WAL mode under a workspace's ``.c315/`` (``c315.sqlite``), with its
archive beside it (``archive/``). The only module of c315 that speaks SQL or imports ``sqlite3``.

Returns are written in batches, one transaction each, every return in it whole or not at all;
the file's bytes are archived before anything parses them. The
database carries its schema version (``PRAGMA user_version``): a store from the previous release is
upgraded in place when opened, one from a newer c315 is refused with a message.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from campaign315.common import faults
from campaign315.common.errors import NOTHING_LOST, RERUN, StoreProblem
from campaign315.spec.forms import RosterEntry, StatsLine
from campaign315.spec.location import Location
from campaign315.spec.problems import Code, Problem
from campaign315.store.archive import FolderArchive, os_failure
from campaign315.store.base import Store
from campaign315.store.records import ArchiveRecord, NewReturn, ReturnRows, StoredReturn, by_file, rows_of

DATABASE = "c315.sqlite"
LOCK_WAIT = "C315_LOCK_WAIT"
"""Seconds to wait for a database another process holds (default 60)."""
FULL_BELOW = 1 << 20
"""Free bytes below which an I/O error of the database is taken for a full disk."""

RETURNS_TABLE = """
CREATE TABLE IF NOT EXISTS {name} (
    id INTEGER PRIMARY KEY,
    campaign TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    place TEXT NOT NULL DEFAULT '',
    filename TEXT NOT NULL,
    source_path TEXT NOT NULL,
    archive_key TEXT NOT NULL,
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
    ingested_at TEXT NOT NULL,
    UNIQUE (sha256, place)
)"""
"""One row per return: a file holding both forms has one row per form, told apart by ``place``."""

SCHEMA = RETURNS_TABLE.format(name="returns") + """;
CREATE INDEX IF NOT EXISTS returns_by_unit ON returns (campaign, unit, attachment, received_ts);
CREATE TABLE IF NOT EXISTS problems (
    return_id INTEGER NOT NULL REFERENCES returns (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    severity TEXT NOT NULL, code TEXT NOT NULL,
    loc_kind TEXT NOT NULL, loc_name TEXT NOT NULL, loc_table INTEGER NOT NULL, loc_row INTEGER NOT NULL,
    loc_column INTEGER NOT NULL,
    value TEXT NOT NULL, message TEXT NOT NULL,
    PRIMARY KEY (return_id, seq)
);
CREATE TABLE IF NOT EXISTS stats_lines (
    return_id INTEGER NOT NULL REFERENCES returns (id) ON DELETE CASCADE,
    item_key TEXT NOT NULL,
    quantity INTEGER CHECK (quantity IS NULL OR quantity >= 0),
    remark TEXT NOT NULL, label TEXT NOT NULL,
    cell_kind TEXT, cell_name TEXT NOT NULL DEFAULT '', cell_table INTEGER NOT NULL DEFAULT 0,
    cell_row INTEGER NOT NULL DEFAULT 0, cell_column INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (return_id, item_key)
);
CREATE TABLE IF NOT EXISTS roster_entries (
    return_id INTEGER NOT NULL REFERENCES returns (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    date TEXT, name TEXT NOT NULL, position TEXT NOT NULL, landline TEXT NOT NULL, mobile TEXT NOT NULL,
    PRIMARY KEY (return_id, seq)
);
"""


def _create_tables(db: sqlite3.Connection) -> None:
    """The schema's statements one by one, inside the caller's transaction (``executescript``
    would commit it first)."""
    for statement in SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)


class SQLiteStore(Store):
    """The store under ``directory`` (a workspace's ``.c315/``): ``c315.sqlite`` and ``archive/``."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.archive = FolderArchive(self.directory / "archive")
        wait = float(os.environ.get(LOCK_WAIT) or 60)
        self._wait = wait
        with self._medium():
            self.directory.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.directory / DATABASE, timeout=wait, isolation_level=None)
            try:
                self.db.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                self.db.execute("PRAGMA foreign_keys=ON")
                self._prepare_schema()
            except BaseException:
                self.db.close()
                raise

    @property
    def where(self) -> str:
        return str(self.directory)

    def close(self) -> None:
        self.db.close()

    # --- the schema ---

    def _prepare_schema(self) -> None:
        version = self.db.execute("PRAGMA user_version").fetchone()[0]
        if version > self.SCHEMA_VERSION:
            raise StoreProblem(
                f"数据库 {self.directory / DATABASE} 是更新版本的 c315 写的（数据格式第 {version} 版，本程序只认到第 "
                f"{self.SCHEMA_VERSION} 版）。为免损坏，本程序不会改动它。请升级 c315 后再用这个工作目录。")
        if version == self.SCHEMA_VERSION:
            return
        # Rebuilding the returns table must not cascade to the rows that refer to it; the switch
        # has no effect inside a transaction, so it is thrown before one starts.
        self.db.execute("PRAGMA foreign_keys=OFF")
        self.db.execute("BEGIN IMMEDIATE")
        try:
            version = self.db.execute("PRAGMA user_version").fetchone()[0]  # another process may have done it
            tables = {row[0] for row in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "returns" in tables and version < 2:
                _upgrade_from_first_release(self.db)
            if "returns" in tables and version < 3:
                _upgrade_to_several_returns_per_file(self.db)
            _create_tables(self.db)
            if self.db.execute("PRAGMA foreign_key_check").fetchone() is not None:
                raise StoreProblem(f"数据库 {self.directory / DATABASE} 升级时发现记录对不上，已放弃升级，数据库未改动。"
                                   "请运行 c315 verify 检查。")
            self.db.execute(f"PRAGMA user_version = {self.SCHEMA_VERSION}")
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        finally:
            self.db.execute("PRAGMA foreign_keys=ON")

    # --- faults of the medium, said plainly ---

    @contextlib.contextmanager
    def _medium(self) -> Iterator[None]:
        """Turn a full disk, a read-only folder or a database held by another program into one
        :class:`StoreProblem` that says what happened and that nothing received was lost."""
        try:
            yield
        except sqlite3.DatabaseError as exc:  # OperationalError included
            raise self._failure(str(exc), getattr(exc, "sqlite_errorname", "")) or StoreProblem(
                f"数据库 {self.directory / DATABASE} 无法使用（{exc}）。收到的原件都在存档里，没有丢失。"
                f"请运行 c315 verify 检查；如数据库已损坏，请用备份恢复。") from None
        except OSError as exc:
            raise os_failure(exc, f"工作目录的数据文件夹 {self.directory}") or exc from None

    def _failure(self, text: str, name: str = "") -> StoreProblem | None:
        database = self.directory / DATABASE
        text = text.lower()
        if "full" in text or (name.startswith("SQLITE_IOERR") and self._disk_full()):
            return StoreProblem(f"磁盘已满，无法写入数据库 {database}。{NOTHING_LOST}。请腾出磁盘空间后{RERUN}。")
        if "locked" in text or "busy" in text:
            return StoreProblem(
                f"数据库 {database} 正被另一个程序占用（另一个 c315 正在收表，或有人用其他软件打开了它），"
                f"等了 {self._wait:g} 秒仍未释放。{NOTHING_LOST}。请等它结束或关闭那个程序后{RERUN}。")
        if "readonly" in text or "read-only" in text or "unable to open" in text:
            return StoreProblem(
                f"没有权限写入数据库 {database}（文件夹只读或属于其他用户）。{NOTHING_LOST}。"
                f"请换一个可写的工作目录（--workspace），或请管理员开放写权限后{RERUN}。")
        return None

    def _disk_full(self) -> bool:
        """Is the disk under the store (nearly) full? SQLite says "disk I/O error", not "full",
        when it cannot grow its shared-memory file (``-shm``) on a full disk."""
        try:
            return shutil.disk_usage(self.directory).free < FULL_BELOW
        except OSError:
            return False

    # --- checks ---

    def integrity_check(self) -> list[str]:
        with self._medium():
            rows = [str(row[0]) for row in self.db.execute("PRAGMA integrity_check").fetchall()]
        return [] if rows == ["ok"] else rows

    def archive_records(self) -> list[ArchiveRecord]:
        with self._medium():
            rows = self.db.execute("SELECT id, sha256, filename, archive_key FROM returns ORDER BY id").fetchall()
        return [ArchiveRecord(*row) for row in rows]

    # --- returns ---

    def knows(self, sha256: str) -> bool:
        with self._medium():
            return self.db.execute("SELECT 1 FROM returns WHERE sha256 = ?", (sha256,)).fetchone() is not None

    def record(self, new: NewReturn) -> int | None:
        return self.record_rows([rows_of(new)])[0]

    def record_returns(self, returns: Sequence[NewReturn]) -> list[int] | None:
        ids = self.record_rows([rows_of(new) for new in returns])
        return None if not ids or any(i is None for i in ids) else ids  # type: ignore[return-value]

    def record_rows(self, batch: list[ReturnRows]) -> list[int | None]:
        """The whole batch in one transaction. The returns of one file (its SHA-256, consecutive in
        the batch) are written all or nothing; a file recorded already (by an earlier run, a
        concurrent one, or earlier in this batch) is skipped, not an error, and so is a file with a
        row the schema refuses — only that file is left out."""
        if not batch:
            return []
        with self._medium():
            ids = self._write(batch)
        for return_id in ids:
            if return_id is not None:
                faults.reached("return-recorded")
        return ids

    def _write(self, batch: list[ReturnRows]) -> list[int | None]:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        db, ids = self.db, []
        try:
            db.execute("BEGIN IMMEDIATE")
            for group in by_file(batch):
                if db.execute("SELECT 1 FROM returns WHERE sha256 = ? LIMIT 1", (group[0].sha256,)).fetchone():
                    ids.extend([None] * len(group))  # recorded already
                    continue
                db.execute("SAVEPOINT one_file")
                try:
                    written = [self._insert(rows, now) for rows in group]
                except sqlite3.IntegrityError:
                    # A row the schema refuses: this file is left out, the rest of the batch kept.
                    db.execute("ROLLBACK TO one_file")
                    written = [None] * len(group)
                db.execute("RELEASE one_file")
                ids.extend(written)
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return ids

    def _insert(self, rows: ReturnRows, now: str) -> int:
        """One return's rows, inside the caller's transaction."""
        db, errors = self.db, rows.errors
        cursor = db.execute(
            "INSERT INTO returns (campaign, sha256, place, filename, source_path, archive_key, unit, attachment, outcome,"
            " received_at, received_ts, document_modified, filler, filler_phone, errors, warnings, ingested_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                rows.campaign, rows.sha256, rows.place, rows.filename, rows.source_path, rows.archive_key, rows.unit,
                rows.attachment, rows.outcome, rows.received_at.isoformat(), rows.received_at.timestamp(),
                rows.document_modified.isoformat() if rows.document_modified else None,
                rows.filler, rows.filler_phone, errors, len(rows.problems) - errors, now,
            ),
        )
        return_id = cursor.lastrowid
        db.executemany("INSERT INTO problems VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [(return_id, n, *p) for n, p in enumerate(rows.problems)])
        if rows.lines:
            db.executemany("INSERT INTO stats_lines VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           [(return_id, *line) for line in rows.lines])
        if rows.entries:
            db.executemany("INSERT INTO roster_entries VALUES (?, ?, ?, ?, ?, ?, ?)",
                           [(return_id, n, date.isoformat() if date else None, *rest)
                            for n, (date, *rest) in enumerate(rows.entries)])
        faults.reached("in-transaction")
        return return_id

    def returns(self, campaign: str, unit: str | None = None, with_problems: bool = True) -> list[StoredReturn]:
        sql = "SELECT * FROM returns WHERE campaign = ?" + (" AND unit = ?" if unit else "") + " ORDER BY received_ts, id"
        with self._medium():
            return self._returns(self.db.execute(sql, (campaign, unit) if unit else (campaign,)), with_problems)

    def latest_returns(self, campaign: str, cutoff: dt.datetime | None) -> list[StoredReturn]:
        """The latest accepted and the latest rejected, before and after the cut-off (at most four
        per unit × attachment): a summary over 100,000 stored returns reads a few dozen rows."""
        sql = """
            SELECT * FROM (
                SELECT *, ROW_NUMBER() OVER (
                    PARTITION BY unit, attachment, outcome, received_ts <= ?
                    ORDER BY received_ts DESC, id DESC) AS rank_in_group
                FROM returns WHERE campaign = ?)
            WHERE rank_in_group = 1 ORDER BY received_ts, id"""
        limit = cutoff.timestamp() if cutoff else float("inf")
        with self._medium():
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
        by_id = {r.id: r for r in returns}
        for r in returns:
            r.problems = []
        select = "SELECT return_id, severity, code, loc_kind, loc_name, loc_table, loc_row, loc_column, value, message FROM problems"
        with self._medium():
            rows = self._in(select, by_id, "ORDER BY return_id, seq")
        for return_id, severity, code, kind, name, table, row, column, value, message in rows:
            by_id[return_id].problems.append(
                Problem(severity, Code(code), Location(kind, name, table, row, column), value, message))

    def stats_lines(self, return_ids: Iterable[int]) -> dict[int, list[StatsLine]]:
        result: dict[int, list[StatsLine]] = {rid: [] for rid in return_ids}
        select = ("SELECT return_id, item_key, quantity, remark, label, cell_kind, cell_name, cell_table, cell_row,"
                  " cell_column FROM stats_lines")
        with self._medium():
            rows = self._in(select, result)
        for return_id, key, quantity, remark, label, kind, name, table, row, column in rows:
            cell = Location(kind, name, table, row, column) if kind else None
            result[return_id].append(StatsLine(key=key, quantity=quantity, remark=remark, label=label, cell=cell))
        return result

    def roster_entries(self, return_ids: Iterable[int]) -> dict[int, list[RosterEntry]]:
        result: dict[int, list[RosterEntry]] = {rid: [] for rid in return_ids}
        select = "SELECT return_id, date, name, position, landline, mobile FROM roster_entries"
        with self._medium():
            rows = self._in(select, result, "ORDER BY return_id, seq")
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


# --- the previous release's store ------------------------------------------------------------------
# The first release kept a location as the text a person reads. This upgrade is the one place that
# reads such text back, once, to turn it into columns; nothing else parses a location.

_LEGACY_CELL = re.compile(r"^(?P<sheet>.+)!(?P<letters>[A-Z]{1,3})(?P<row>[1-9][0-9]{0,6})$")
_LEGACY_TABLE_CELL = re.compile(r"^表(?P<table>[1-9][0-9]*) 第(?P<row>[1-9][0-9]*)行第(?P<column>[1-9][0-9]*)列$")
_LEGACY_PARAGRAPH = re.compile(r"^正文第(?P<number>[1-9][0-9]*)段$")


def _legacy_location(text: str) -> Location:
    """A first-release location text as a :class:`Location`."""
    if match := _LEGACY_TABLE_CELL.match(text):
        return Location.table_cell(int(match["table"]), int(match["row"]), int(match["column"]))
    if match := _LEGACY_PARAGRAPH.match(text):
        return Location.paragraph(int(match["number"]))
    if match := _LEGACY_CELL.match(text):
        column = 0
        for letter in match["letters"]:
            column = column * 26 + ord(letter) - 64
        return Location.cell(match["sheet"], int(match["row"]), column)
    return Location.file(text) if "." in text or "/" in text else Location.sheet(text)


def _upgrade_from_first_release(db: sqlite3.Connection) -> None:
    """Schema 1 → 2, inside the caller's transaction: locations become columns, and the archive
    path of a return becomes its archive key (the same text)."""
    db.execute("ALTER TABLE returns RENAME COLUMN archive_path TO archive_key")
    db.execute("ALTER TABLE problems RENAME TO problems_v1")
    db.execute("ALTER TABLE stats_lines RENAME TO stats_lines_v1")
    _create_tables(db)
    problems = db.execute("SELECT return_id, seq, severity, code, location, value, message FROM problems_v1").fetchall()
    db.executemany("INSERT INTO problems VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [(rid, seq, severity, code, *_legacy_location(location).columns(), value, message)
                    for rid, seq, severity, code, location, value, message in problems])
    lines = db.execute("SELECT return_id, item_key, quantity, remark, label, cell FROM stats_lines_v1").fetchall()
    db.executemany("INSERT INTO stats_lines VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [(rid, key, quantity, remark, label, *(_legacy_location(cell).columns() if cell else (None, "", 0, 0, 0)))
                    for rid, key, quantity, remark, label, cell in lines])
    db.execute("DROP TABLE problems_v1")
    db.execute("DROP TABLE stats_lines_v1")


# --- several returns per file ---------------------------------------------------------------------


def _upgrade_to_several_returns_per_file(db: sqlite3.Connection) -> None:
    """Schema 2 → 3, inside the caller's transaction (foreign keys off): a return gains its
    ``place`` in its file, and a SHA-256 is unique per place instead of per row — a file holding
    both forms is two returns. SQLite cannot drop a UNIQUE constraint, so the table is rebuilt as
    its documentation prescribes, every id kept; each earlier return is its file's only one, at
    place ''."""
    kept = {row[1] for row in db.execute("PRAGMA table_info(returns)")}
    db.execute(RETURNS_TABLE.format(name="returns_v3"))
    columns = ", ".join(row[1] for row in db.execute("PRAGMA table_info(returns_v3)") if row[1] in kept)
    db.execute(f"INSERT INTO returns_v3 ({columns}) SELECT {columns} FROM returns")
    db.execute("DROP TABLE returns")
    db.execute("ALTER TABLE returns_v3 RENAME TO returns")
