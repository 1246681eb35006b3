"""The shared store: one PostgreSQL database for the city and its districts, reached by a libpq
URL (``postgresql://user@host:port/dbname``, ``postgresql:///c315?host=/run/postgresql``). The
archive is in the database too (``archive_files``, by SHA-256), so a machine that runs c315
against it keeps nothing of its own and every machine sees the same store.

- The password is never in what c315 prints: a store is named by host, port, database and user
  (:func:`describe`); give the password the libpq way (``PGPASSWORD``, ``~/.pgpass``).
- The schema is created and upgraded by ``c315 store migrate`` alone — a shared database changes
  when its keeper says so, not when some district's newer c315 first touches it.
- Several c315 processes on several machines ingest at once: a file is recorded once per campaign
  (the unique key, ``INSERT … ON CONFLICT DO NOTHING``), a transaction the server could not
  serialise is tried again, and a summary reads one ``REPEATABLE READ`` snapshot.
- A lost connection ends the run between two files: the return being written is in whole or not
  at all (one transaction), and ingest names the files not recorded.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
from dataclasses import dataclass

from sqlalchemy import create_engine, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from campaign315.common.errors import StoreProblem, UsageError
from campaign315.store.archive import ContentKeys
from campaign315.store.migrate import current_revision, known_revisions, run_migrations, version_name
from campaign315.store.schema import SCHEMA_REVISION, archive_files
from campaign315.store.sql import RETRIES, SQLStore

# What goes wrong is said once, in Chinese (StoreProblem); the libraries' own log lines about it
# (a pipeline or a pooled connection found broken) are not for the collector's console.
for _library in ("psycopg", "sqlalchemy"):
    logging.getLogger(_library).addHandler(logging.NullHandler())

CONNECT_TIMEOUT = 10
"""Seconds to wait for the server to answer, unless the URL says otherwise."""

MIGRATION_LOCK = 315_2020
"""The advisory lock two ``c315 store migrate`` runs take, so one waits for the other."""

AS_DURABLE_AS_SQLITE = (
    "DO $$ BEGIN IF (SELECT source FROM pg_settings WHERE name = 'synchronous_commit')"
    " IN ('default', 'configuration file') THEN SET synchronous_commit = off; END IF; END $$")
"""A commit does not wait for the server's disk — the embedded store's promise (SQLite in WAL mode,
``synchronous=NORMAL``): after a crash of the server the last few commits (well under a second's)
may be gone, the database is never half-written, and running the same ingest again records them.
Unless the database's keeper chose otherwise for the c315 database or role (``ALTER DATABASE c315 SET
synchronous_commit = on``): that choice is kept."""

_RETRY_STATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected
_LOST_STATES = {"57P01", "57P02", "57P03"}  # the server ended the session (shut down, terminated)


@dataclass(frozen=True)
class Server:
    """Where a PostgreSQL store is, as a person names it — never with its password."""

    host: str
    port: str
    dbname: str
    user: str
    password: str = ""

    def __str__(self) -> str:
        return f"PostgreSQL 数据库 {self.dbname}（主机 {self.host}，端口 {self.port}，用户 {self.user}）"

    def scrub(self, text: str) -> str:
        """``text`` with the password (if one was given in the URL) blotted out."""
        return text.replace(self.password, "***") if self.password else text


def describe(url: str) -> Server:
    """Host, port, database and user of a libpq URL, as libpq would fill them in from the
    environment and its defaults. A URL libpq cannot read is a usage error (shown without it)."""
    import psycopg

    try:
        params = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        raise UsageError("--store 的 PostgreSQL 地址无法识别。请写成 postgresql://用户@主机:端口/数据库名，"
                         "或 postgresql:///数据库名?host=/套接字目录。") from None
    env = os.environ
    host = str(params.get("host") or params.get("hostaddr") or env.get("PGHOST") or "本机默认 Unix 套接字")
    port = str(params.get("port") or env.get("PGPORT") or 5432)
    user = str(params.get("user") or env.get("PGUSER") or _login())
    dbname = str(params.get("dbname") or env.get("PGDATABASE") or user)
    return Server(host, port, dbname, user, str(params.get("password") or ""))


def _login() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "?"


def _connector(url: str, settings: tuple[str, ...] = ()):
    """A function that opens one psycopg connection to ``url`` (the URL goes to libpq as given), in
    autocommit mode: a lone read is one round trip, and a transaction is begun by c315 itself
    (``BEGIN …``), which says what kind it is. ``settings``: ``SET`` statements for the session."""
    import psycopg

    def connect():
        extra = {"application_name": "c315"}
        if "connect_timeout" not in url and "PGCONNECT_TIMEOUT" not in os.environ:
            extra["connect_timeout"] = CONNECT_TIMEOUT
        conn = psycopg.connect(url, autocommit=True, **extra)
        for setting in settings:
            conn.execute(setting)
        return conn

    return connect


def _engine(url: str, settings: tuple[str, ...] = ()) -> Engine:
    engine = create_engine("postgresql+psycopg://", creator=_connector(url, settings))
    # A return's 18 lines as one multi-row INSERT (compiled once per row count, then cached), not
    # 18 statements: a round trip per return instead of one per row.
    engine.dialect.use_insertmanyvalues_wo_returning = True
    return engine


class _Refused(Exception):
    """A row of a batch the schema refused, in pipeline mode: the batch is written again without it."""


class PostgresStore(SQLStore):
    """The store in the PostgreSQL database ``url`` names, its archive in the same database."""

    _read_begin = ""  # a lone read: autocommit
    _write_begin = "BEGIN"
    _snapshot_begin = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"

    def __init__(self, url: str, *, migrating: bool = False):
        self.server = describe(url)
        self.archive = DatabaseArchive(url, self.server)
        self._is_connected = False
        engine = _engine(url, (AS_DURABLE_AS_SQLITE,))
        try:
            with self._medium():
                self._connected(engine)
            self._is_connected = True
            if not migrating:
                self._check_schema()
        except BaseException:
            self.close()
            raise

    @property
    def where(self) -> str:
        return str(self.server)

    def close(self) -> None:
        self.archive.close()
        if hasattr(self, "conn"):
            with contextlib.suppress(SQLAlchemyError):
                if getattr(self.conn.connection.driver_connection, "broken", False):
                    self.conn.invalidate()  # a lost connection is dropped, not reset
            super().close()
        elif hasattr(self, "engine"):
            self.engine.dispose()

    def _dialect_insert(self, table):
        return pg_insert(table)

    def record_rows(self, batch):
        """As :meth:`SQLStore.record_rows`: one transaction per batch (retried whole on a
        serialization failure), each file under its savepoint — not in pipeline mode, where a
        savepoint's rollback loses psycopg's prepared statements and a refused row cannot be told
        apart from the file after it."""
        self._plain = True
        try:
            return super().record_rows(batch)
        finally:
            self._plain = False

    _refusable = _was_refused = _plain = False

    def _exec(self, driver, sql: str) -> None:
        driver.execute(sql, prepare=False)  # never a prepared statement: a savepoint's rollback would lose it

    def _refused(self, driver) -> None:
        if not self._plain:
            self._was_refused = True  # leaving the aborted pipeline may raise another error instead
            raise _Refused

    def _write_records(self, work):
        """One transaction of returns in psycopg's pipeline mode: ``BEGIN`` goes with the first
        ``INSERT`` and a return's lines with the ``COMMIT`` — two round trips a return instead of
        five. Tried again whole when the server could not serialise it, as :meth:`_write` does."""
        import psycopg

        if self._plain:
            return self._write(work)
        driver = self.conn.connection.driver_connection
        for attempt in range(RETRIES):
            try:
                try:
                    with driver.pipeline():
                        driver.execute("BEGIN")
                        result = work(self.conn)
                        driver.execute("COMMIT")
                    return result
                except psycopg.Error as exc:
                    if self._refusable and (self._was_refused or isinstance(exc, psycopg.errors.IntegrityError)):
                        raise _Refused from exc  # rolled back below, written again without the pipeline
                    raise DBAPIError.instance("COMMIT", None, exc, psycopg.Error, dialect=self.engine.dialect) from exc
                except BaseException:
                    with contextlib.suppress(psycopg.Error):
                        driver.rollback()
                    raise
            except DBAPIError as exc:
                with contextlib.suppress(psycopg.Error):
                    driver.rollback()
                if attempt + 1 < RETRIES and self._worth_retrying(exc):
                    self._retried += 1
                    continue
                raise self._failure(exc) from None
        raise AssertionError("unreachable")

    # --- the schema ---

    def _check_schema(self) -> None:
        with self._reading() as conn:
            revision = current_revision(conn)
        if revision == SCHEMA_REVISION:
            return
        if revision is None:
            raise StoreProblem(f"{self.where} 里还没有 c315 的数据表。请先运行：c315 store migrate --store <同一地址>")
        if revision in known_revisions():
            raise StoreProblem(f"{self.where} 的数据格式是旧版（{version_name(revision)}），需要升级。请数据库管理员先运行："
                               f"c315 store migrate --store <同一地址>（升级前请先备份）。")
        raise StoreProblem(f"{self.where} 是更新版本的 c315 建的（数据格式 {revision}，本程序只认到 {SCHEMA_REVISION}）。"
                           f"为免损坏，本程序不会改动它。请升级 c315。")

    def migrate(self) -> tuple[str | None, str]:
        """Create or upgrade the schema in one transaction (PostgreSQL's DDL is transactional);
        two runs at once queue on an advisory lock. (revision before, revision after)."""
        def work(conn):
            conn.execute(select(func.pg_advisory_xact_lock(MIGRATION_LOCK)))
            before = current_revision(conn)
            if before is not None and before not in known_revisions():
                raise StoreProblem(f"{self.where} 是更新版本的 c315 建的（数据格式 {before}），本程序不会改动它。请升级 c315。")
            run_migrations(conn)
            return (version_name(before) if before else None), version_name(current_revision(conn))

        return self._write(work)

    def integrity_check(self) -> list[str]:
        """PostgreSQL keeps its own pages sound (checksums, WAL); what c315 can check is that every
        archive entry still holds the bytes its key names — ``c315 verify`` does that."""
        return []

    # --- faults, said plainly ---

    def _worth_retrying(self, exc: DBAPIError) -> bool:
        return getattr(exc.orig, "sqlstate", None) in _RETRY_STATES

    def _failure(self, exc: DBAPIError) -> StoreProblem:
        return failure(self.server, exc.orig, connected=self._is_connected,
                       invalidated=getattr(exc, "connection_invalidated", False))

    def _lost(self, detail: str) -> StoreProblem:
        return _connection_lost(self.server)


def failure(server: Server, error: BaseException | None, connected: bool, invalidated: bool = False) -> StoreProblem:
    """A psycopg error as one message for the collector: what happened, at which server, what to do."""
    state = getattr(error, "sqlstate", None) or ""
    detail = server.scrub(str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__)
    if not connected:
        return _cannot_connect(server, detail, state)
    if invalidated or state.startswith("08") or state in _LOST_STATES or (not state and "closed" in detail):
        return _connection_lost(server)
    if state == "53100":
        return StoreProblem(f"{server} 所在服务器的磁盘已满，无法写入。{_NOT_WRITTEN}请数据库管理员腾出空间后重新运行同一命令。")
    if state in ("42501", "25006"):
        return StoreProblem(f"用户 {server.user} 没有写入 {server} 的权限（或连到的是只读的备用服务器）。{_NOT_WRITTEN}"
                            f"请数据库管理员授权后重新运行同一命令。")
    if state == "42P01":
        return StoreProblem(f"{server} 里缺少 c315 的数据表。请先运行：c315 store migrate --store <同一地址>")
    return StoreProblem(f"{server} 操作失败（{detail}）。{_NOT_WRITTEN}请重新运行同一命令；如仍失败，请联系数据库管理员。")


_NOT_WRITTEN = "正在写入的那一批报表没有入库（每份报表要么整份入库，要么完全不入库），已入库的都完好。"


def _connection_lost(server: Server) -> StoreProblem:
    return StoreProblem(f"与 {server} 的连接中断了。{_NOT_WRITTEN}请确认服务器和网络恢复后重新运行同一命令"
                        f"（已收过的文件会自动跳过）。")


def _cannot_connect(server: Server, detail: str, state: str) -> StoreProblem:
    where = f"PostgreSQL 服务器（主机 {server.host}，端口 {server.port}）"
    lowered = detail.lower()
    if state in ("28P01", "28000") or "password" in lowered or "authentication" in lowered:
        return StoreProblem(f"{where}拒绝了用户 {server.user} 的登录（密码不对、没有提供密码，或没有被允许从这台机器连接）。"
                            f"密码请用 PGPASSWORD 环境变量或 ~/.pgpass 文件提供，不要写在 --store 地址里。")
    if state == "3D000" or "does not exist" in lowered:
        return StoreProblem(f"{where}上没有数据库 {server.dbname}。请先创建它（见 README「与市局共用一个数据库」），"
                            f"再运行 c315 store migrate --store <同一地址>。")
    if "refused" in lowered:
        reason = "连接被拒绝，服务器没有在这个端口上运行"
    elif "no such file" in lowered:
        reason = "找不到服务器的套接字，服务器没有运行或套接字目录不对"
    elif "timeout" in lowered or "timed out" in lowered:
        reason = "连接超时"
    elif "translate host name" in lowered or "name or service not known" in lowered:
        reason = "主机名无法解析"
    else:
        reason = detail
    return StoreProblem(f"无法连接 {where}：{reason}。请确认服务器已启动、主机和端口写对了、这台机器能连到它；"
                        f"或用 --store 改用其他数据库。")


class DatabaseArchive(ContentKeys):
    """The exact bytes of every received file, in the shared database's ``archive_files``, keyed
    as a folder archive keys them (``archive/ab/abcd….xlsx``), so a store copied between the two
    kinds keeps its keys. Picklable (it is only its URL): each process — an ingest's pool workers
    too — opens its own connection when it first needs one."""

    def __init__(self, url: str, server: Server):
        self.url, self.server = url, server
        self._engine: Engine | None = None
        self._pid = 0

    def __getstate__(self) -> dict:
        return {"url": self.url, "server": self.server}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["url"], state["server"])

    def close(self) -> None:
        if self._engine is not None and self._pid == os.getpid():
            self._engine.dispose()
        self._engine = None

    def _connection(self):
        if self._engine is None or self._pid != os.getpid():
            if self._engine is not None:
                _INHERITED.append(self._engine)  # the parent's: never used, never closed from here
            # Each statement commits on its own, without waiting for the disk: safe, because the
            # return that names an entry commits after it, and that commit flushes the log up to
            # and past this insert. One round trip per file.
            self._engine, self._pid = _engine(self.url, ("SET synchronous_commit = off",)), os.getpid()
        return self._engine

    def _run(self, work):
        try:
            with self._connection().connect() as conn:
                return work(conn)
        except DBAPIError as exc:
            raise failure(self.server, exc.orig, connected=not _is_connect_error(exc),
                          invalidated=exc.connection_invalidated) from None
        except SQLAlchemyError:
            raise _connection_lost(self.server) from None

    def put(self, data: bytes, sha256: str, suffix: str = "") -> str:
        """Keep ``data`` under its key, once (a second put of the same content does nothing)."""
        from campaign315.common import faults

        key = self.key_for(sha256, suffix)
        statement = pg_insert(archive_files).values(
            key=key, sha256=sha256, size=len(data), data=data,
            stored_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds")).on_conflict_do_nothing()
        self._run(lambda conn: conn.execute(statement))
        faults.reached("archive-written")
        return key

    def read(self, key: str) -> bytes:
        data = self._run(lambda conn: conn.execute(select(archive_files.c.data).where(archive_files.c.key == key)).scalar())
        if data is None:
            raise FileNotFoundError(2, "not in the archive", key)
        return bytes(data)

    def keys(self) -> set[str]:
        return set(self._run(lambda conn: conn.execute(select(archive_files.c.key)).scalars().all()))

    def digest(self, key: str) -> str:
        """The SHA-256 of what ``key`` holds now, computed by the server; "" when it is not there."""
        query = select(func.encode(func.sha256(archive_files.c.data), "hex")).where(archive_files.c.key == key)
        return self._run(lambda conn: conn.execute(query).scalar()) or ""

    def is_temporary(self, key: str) -> bool:
        return False  # a row is written whole or not at all


_INHERITED: list[Engine] = []


def _is_connect_error(exc: DBAPIError) -> bool:
    import psycopg

    return isinstance(exc.orig, psycopg.OperationalError) and not getattr(exc.orig, "sqlstate", None) \
        and "connection to server" in str(exc.orig)


__all__ = ["DatabaseArchive", "PostgresStore", "Server", "describe", "run_migrations"]
