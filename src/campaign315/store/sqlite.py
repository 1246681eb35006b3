"""The embedded store: SQLite in WAL mode under a workspace's ``.c315/`` (``c315.sqlite``), with its
archive beside it (``archive/``). The only module of c315 that imports ``sqlite3``; the queries
are :mod:`.sql`'s, shared with PostgreSQL.

Returns are written in batches, one transaction each (``BEGIN IMMEDIATE``: writers queue for the
lock, readers go on), every file in it whole or not at all; the file's bytes are archived before anything parses them. The database carries its schema
version twice: Alembic's revision (``alembic_version``) and ``PRAGMA user_version``, which every
release of c315 reads — so a store from the previous release is upgraded in place when opened
(one written by the first release is converted first), and one from a newer c315 is refused.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool

from campaign315.common.errors import NOTHING_LOST, RERUN, StoreProblem
from campaign315.spec.location import Location
from campaign315.store.archive import FolderArchive, os_failure
from campaign315.store.migrate import run_migrations, version_name
from campaign315.store.sql import SQLStore

DATABASE = "c315.sqlite"
LOCK_WAIT = "C315_LOCK_WAIT"
"""Seconds to wait for a database another process holds (default 60)."""
FULL_BELOW = 1 << 20
"""Free bytes below which an I/O error of the database is taken for a full disk."""


class SQLiteStore(SQLStore):
    """The store in ``directory`` (a workspace's ``.c315/``): ``database`` and ``archive/``."""

    _read_begin = ""  # a lone read: its own implicit transaction, as sqlite3 runs it
    _write_begin = "BEGIN IMMEDIATE"
    _snapshot_begin = "BEGIN"

    def __init__(self, directory: Path, database: str = DATABASE, *, migrating: bool = False):
        self.directory = Path(directory)
        self.path = self.directory / database
        self.archive = FolderArchive(self.directory / "archive")
        self._wait = float(os.environ.get(LOCK_WAIT) or 60)
        with self._medium():
            self.directory.mkdir(parents=True, exist_ok=True)
            engine = create_engine("sqlite://", creator=self._connect, poolclass=StaticPool)
            try:
                self._connected(engine)
                self._prepare_schema(upgrade=not migrating)
            except BaseException:
                engine.dispose()
                raise

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=self._wait, isolation_level=None, check_same_thread=False)
        db.execute(f"PRAGMA busy_timeout={int(self._wait * 1000)}")
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        return db

    @property
    def where(self) -> str:
        return str(self.directory)

    def _dialect_insert(self, table):
        return sqlite_insert(table)

    # --- the schema ---

    def _user_version(self) -> int:
        return self.conn.connection.driver_connection.execute("PRAGMA user_version").fetchone()[0]

    def _prepare_schema(self, upgrade: bool = True) -> None:
        version = self._user_version()
        if version > self.SCHEMA_VERSION:
            raise StoreProblem(
                f"数据库 {self.path} 是更新版本的 c315 写的（数据格式第 {version} 版，本程序只认到第 "
                f"{self.SCHEMA_VERSION} 版）。为免损坏，本程序不会改动它。请升级 c315 后再用这个工作目录。")
        if version < self.SCHEMA_VERSION and upgrade:
            self.migrate()

    def migrate(self) -> tuple[str | None, str]:
        """Create or upgrade the schema, in one transaction that holds the write lock (a second
        process waits, then finds it done). (version before — None for a new store —, after)."""
        raw = self.conn.connection.driver_connection
        with self._medium():
            raw.execute("PRAGMA foreign_keys=OFF")  # a table is rebuilt: its children must not follow it
            try:
                self._begin_sql = "BEGIN IMMEDIATE"
                with self.conn.begin():
                    before = self._user_version()
                    tables = {row[0] for row in self.conn.exec_driver_sql(
                        "SELECT name FROM sqlite_master WHERE type = 'table'")}
                    was = version_name(max(before, 1)) if "returns" in tables else None
                    if before < self.SCHEMA_VERSION:
                        stamp = None
                        if "alembic_version" not in tables and "returns" in tables:
                            if before < 2:
                                _upgrade_from_first_release(self.conn)
                            stamp = "0002"
                        run_migrations(self.conn, stamp=stamp)
                        if self.conn.exec_driver_sql("PRAGMA foreign_key_check").fetchone() is not None:
                            raise StoreProblem(f"数据库 {self.path} 升级时发现记录对不上，已放弃升级，数据库未改动。"
                                               "请运行 c315 verify 检查。")
                        self.conn.exec_driver_sql(f"PRAGMA user_version = {self.SCHEMA_VERSION}")
            finally:
                raw.execute("PRAGMA foreign_keys=ON")
        return was, version_name(self.SCHEMA_VERSION)

    # --- checks ---

    def integrity_check(self) -> list[str]:
        with self._reading() as conn:
            rows = [str(row[0]) for row in conn.exec_driver_sql("PRAGMA integrity_check")]
        return [] if rows == ["ok"] else rows

    # --- faults of the medium, said plainly ---

    def _failure(self, exc: DBAPIError) -> StoreProblem:
        text = str(exc.orig)
        return self._said(text, getattr(exc.orig, "sqlite_errorname", "")) or StoreProblem(
            f"数据库 {self.path} 无法使用（{text}）。收到的原件都在存档里，没有丢失。"
            f"请运行 c315 verify 检查；如数据库已损坏，请用备份恢复。")

    def _lost(self, detail: str) -> StoreProblem:
        return self._said(detail) or super()._lost(detail)

    def _os_failure(self, exc: OSError) -> StoreProblem | None:
        return os_failure(exc, f"工作目录的数据文件夹 {self.directory}")

    def _said(self, text: str, name: str = "") -> StoreProblem | None:
        database = self.path
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


_RELEASE_2_CHILDREN = """
CREATE TABLE problems (
    return_id INTEGER NOT NULL REFERENCES returns (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    severity TEXT NOT NULL, code TEXT NOT NULL,
    loc_kind TEXT NOT NULL, loc_name TEXT NOT NULL, loc_table INTEGER NOT NULL, loc_row INTEGER NOT NULL,
    loc_column INTEGER NOT NULL,
    value TEXT NOT NULL, message TEXT NOT NULL,
    PRIMARY KEY (return_id, seq)
);
CREATE TABLE stats_lines (
    return_id INTEGER NOT NULL REFERENCES returns (id) ON DELETE CASCADE,
    item_key TEXT NOT NULL,
    quantity INTEGER CHECK (quantity IS NULL OR quantity >= 0),
    remark TEXT NOT NULL, label TEXT NOT NULL,
    cell_kind TEXT, cell_name TEXT NOT NULL DEFAULT '', cell_table INTEGER NOT NULL DEFAULT 0,
    cell_row INTEGER NOT NULL DEFAULT 0, cell_column INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (return_id, item_key)
)
"""
"""The two tables the second release changed, as it wrote them (the first release's ``returns`` and
``roster_entries`` were already the second's, but for one column's name)."""


def _upgrade_from_first_release(conn: Connection) -> None:
    """Schema 1 → 2, inside the caller's transaction: locations become columns, and the archive
    path of a return becomes its archive key (the same text). Migration ``0003`` takes it on."""
    db = conn.connection.driver_connection
    db.execute("ALTER TABLE returns RENAME COLUMN archive_path TO archive_key")
    db.execute("ALTER TABLE problems RENAME TO problems_v1")
    db.execute("ALTER TABLE stats_lines RENAME TO stats_lines_v1")
    for statement in _RELEASE_2_CHILDREN.split(";"):
        db.execute(statement)
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

