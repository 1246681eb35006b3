"""Every query of the store, once, for both backends (SQLAlchemy Core over :mod:`.schema`).
:class:`SQLStore` holds one connection; the backends (:mod:`.sqlite`, :mod:`.postgres`) say how to
connect, how a write transaction begins, which failures are worth a retry, and how a failure of
the medium is said to the collector.

Transactions: each write (one file's returns, or a batch of them: :meth:`SQLStore.record_rows`,
:meth:`SQLStore.record_many`) is one transaction, retried whole when the database answers that it could not serialise it; reads run
in a transaction of their own, or inside :meth:`SQLStore.snapshot`, which gives a summary one
consistent view of the store while other processes write.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeVar

from sqlalchemy import and_, bindparam, case, event, func, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from campaign315.common import faults
from campaign315.common.errors import StoreProblem
from campaign315.spec.forms import ActivityStats, DutyRoster, RosterEntry, StatsLine
from campaign315.spec.location import Location
from campaign315.spec.problems import Code, Problem
from campaign315.store.base import Store
from campaign315.store.records import ArchiveRecord, NewReturn, ReturnRows, Review, StoredReturn, by_file
from campaign315.store.schema import (
    SCHEMA_REVISION,
    archive_files,
    problems,
    returns,
    reviews,
    roster_entries,
    stats_lines,
)

T = TypeVar("T")


class _RecordedAlready(Exception):
    """A file's returns met one already recorded: the transaction is rolled back whole."""

RETRIES = 8
"""How many times a write transaction is tried when the database could not serialise it."""

CHUNK = 900
"""Ids per ``IN (…)`` list (SQLite allows 32,766 bound values per statement)."""

_STORED = [c for c in returns.c if c.name != "received_ts"]
_KNOWN_ANYWHERE = select(returns.c.id).where(returns.c.sha256 == bindparam("sha256")).limit(1)
_KNOWN_IN_CAMPAIGN = _KNOWN_ANYWHERE.where(returns.c.campaign == bindparam("campaign"))
_INSERTS = {table: table.insert().values({c.name: bindparam(c.name) for c in table.c})
            for table in (problems, stats_lines, roster_entries)}
_LATEST_REVIEW = (select(reviews.c.state).where(reviews.c.return_id == returns.c.id)
                  .order_by(reviews.c.id.desc()).limit(1).scalar_subquery())
_USABLE = case((and_(returns.c.outcome == "accepted", func.coalesce(_LATEST_REVIEW, "") != "rejected"), "accepted"),
               else_="rejected")
"""A return's outcome as a standing sees it: rejected by ingest or sent back by the collector."""


class SQLStore(Store):
    """The store over one SQLAlchemy connection; a backend sets ``engine``, ``conn`` and
    ``archive`` and implements the hooks at the end of this class."""

    engine: Engine
    conn: Connection
    _begin_sql = ""

    def _connected(self, engine: Engine) -> None:
        """Take ``engine`` and open the one connection; every transaction begins with the
        statement the backend gives for its kind (read, write or snapshot)."""
        self.engine = engine
        event.listen(engine, "begin", self._begin)
        self.conn = engine.connect()

    def _begin(self, conn: Connection) -> None:
        if self._begin_sql:
            conn.exec_driver_sql(self._begin_sql)

    def close(self) -> None:
        with contextlib.suppress(SQLAlchemyError):
            self.conn.close()
        self.engine.dispose()

    # --- transactions ---

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """Every read inside sees the store as it was when the first one ran (a summary's
        figures and its lists agree, whatever other processes record meanwhile)."""
        if self.conn.in_transaction():
            yield
            return
        with self._medium():
            self._begin_sql = self._snapshot_begin
            with self.conn.begin():
                self._start_snapshot(self.conn)
                yield

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Connection]:
        """A read: inside the open snapshot, or a short transaction of its own."""
        with self._medium():
            if self.conn.in_transaction():
                yield self.conn
                return
            self._begin_sql = self._read_begin
            with self.conn.begin():
                yield self.conn

    def _write(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one write transaction, all or nothing; tried again from the start when
        the database says a concurrent transaction made it impossible to serialise."""
        for attempt in range(RETRIES):
            try:
                with self._medium_raw():
                    self._begin_sql = self._write_begin
                    with self.conn.begin():
                        return work(self.conn)
            except DBAPIError as exc:
                if attempt + 1 < RETRIES and self._worth_retrying(exc):
                    self._retried += 1
                    continue
                raise self._failure(exc) from None
        raise AssertionError("unreachable")

    def _write_records(self, work: Callable[[Connection], T]) -> T:
        """A write of returns (the per-file path): :meth:`_write`, unless a backend does it faster."""
        return self._write(work)

    _retried = 0
    """How many write transactions were tried again (for tests and the benchmark)."""

    @contextlib.contextmanager
    def _medium_raw(self) -> Iterator[None]:
        """Failures other than the driver's said plainly; the driver's are left to the caller."""
        try:
            yield
        except (DBAPIError, StoreProblem):
            raise
        except SQLAlchemyError as exc:
            raise self._lost(str(exc)) from None
        except OSError as exc:
            raise self._os_failure(exc) or exc from None

    @contextlib.contextmanager
    def _medium(self) -> Iterator[None]:
        """Any failure of the database or the disk as one :class:`StoreProblem`."""
        try:
            with self._medium_raw():
                yield
        except DBAPIError as exc:
            raise self._failure(exc) from None

    # --- writing ---

    def knows(self, sha256: str, campaign: str | None = None) -> bool:
        query = _KNOWN_ANYWHERE if campaign is None else _KNOWN_IN_CAMPAIGN
        with self._reading():
            return self._driver(query, {"sha256": sha256, "campaign": campaign}).fetchone() is not None

    # --- the hot path: once per file ---

    def _driver(self, statement, params: dict | list[dict]):
        """Run one of the store's own statements on the driver's connection, compiled by SQLAlchemy
        once for this backend. Ingest calls these for every file; SQLAlchemy's per-execution
        bookkeeping would double what the embedded store costs per file. Values are plain (text,
        numbers, bytes), so no SQLAlchemy type conversion is skipped. A list runs ``executemany``."""
        sql, names, fixed = self._compiled.get(statement) or self._compile(statement)
        if names is not None:
            def order(row):
                return [row[n] if n in row else fixed[n] for n in names]
        else:
            def order(row):
                return {**fixed, **row} if fixed else row
        driver = self.conn.connection.driver_connection
        dbapi = self.engine.dialect.loaded_dbapi
        try:
            if isinstance(params, list):
                cursor = driver.cursor()
                cursor.executemany(sql, [order(row) for row in params])
                return cursor
            return driver.execute(sql, order(params))
        except dbapi.Error as exc:  # as SQLAlchemy would have raised it: retried or said plainly above
            raise DBAPIError.instance(sql, None, exc, dbapi.Error, dialect=self.engine.dialect) from exc

    def _compile(self, statement) -> tuple[str, list[str] | None, dict]:
        """The statement's SQL for this backend, its parameters' order (a positional paramstyle)
        and the values SQLAlchemy bound itself (a ``LIMIT``)."""
        compiled = statement.compile(dialect=self.engine.dialect)
        names = list(compiled.positiontup) if compiled.positional else None
        fixed = {name: value for name, value in compiled.params.items() if value is not None}
        self._compiled[statement] = (str(compiled), names, fixed)
        return self._compiled[statement]

    @property
    def _compiled(self) -> dict:
        if "_compiled_statements" not in self.__dict__:
            self.__dict__["_compiled_statements"] = {}
        return self.__dict__["_compiled_statements"]

    def record(self, new: NewReturn) -> int | None:
        return self.record_many([new])[0]

    def record_returns(self, found: Sequence[NewReturn]) -> list[int] | None:
        """Record the returns read from one file in one transaction, all or nothing: their ids, or
        None when the file was recorded already for its campaign (nothing of it is written)."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        rows = [_return_row(new, now) for new in found]

        def work(conn: Connection) -> list[int]:
            ids: list[int] = []
            for new, row in zip(found, rows, strict=True):
                return_id = self._insert_return(conn, row)
                if return_id is None:
                    raise _RecordedAlready
                ids.append(return_id)
                self._insert_children(return_id, new.problems, *_form_rows(new))
            faults.reached("in-transaction")
            return ids

        try:
            ids = self._write_records(work)
        except _RecordedAlready:
            return None
        faults.reached("return-recorded")
        return ids

    def record_many(self, batch: Sequence[NewReturn]) -> list[int | None]:
        """Record several returns in one transaction (all or none of them): each one's id, or
        None where the same file was recorded already for its campaign."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        rows = [_return_row(new, now) for new in batch]

        def work(conn: Connection) -> list[int | None]:
            ids: list[int | None] = []
            for new, row in zip(batch, rows, strict=True):
                return_id = self._insert_return(conn, row)
                ids.append(return_id)
                if return_id is not None:
                    self._insert_children(return_id, new.problems, *_form_rows(new))
                    faults.reached("in-transaction")
            return ids

        return self._recorded(work)

    def record_rows(self, batch: list[ReturnRows]) -> list[int | None]:
        """The returns of several files in one transaction (retried whole when the database could
        not serialise it). Each file's returns (consecutive, one SHA-256) are written all or
        nothing, under a savepoint: a file recorded already for its campaign (by an earlier run, a
        concurrent one, or earlier in this batch) is left out, not an error — its ids are None."""
        if not batch:
            return []
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        groups = [[(rows, _rows_row(rows, now)) for rows in group] for group in by_file(batch)]

        def work(conn: Connection) -> list[int | None]:
            driver = conn.connection.driver_connection
            ids: list[int | None] = []
            for group in groups:
                first = group[0][0]
                # A file recorded before under another place (once rejected as a whole, say, when a
                # reader crashed on it) is the same file: nothing of it is recorded again.
                if self._driver(_KNOWN_IN_CAMPAIGN, {"sha256": first.sha256, "campaign": first.campaign}).fetchone():
                    ids.extend([None] * len(group))
                    continue
                self._exec(driver, "SAVEPOINT one_file")
                written: list[int | None] = []
                try:
                    for rows, row in group:
                        return_id = self._insert_return(conn, row)
                        if return_id is None:  # recorded already: nothing of this file is kept
                            break
                        written.append(return_id)
                        self._insert_child_rows(_rows_problems(rows, return_id), _rows_lines(rows, return_id),
                                                _rows_entries(rows, return_id))
                        faults.reached("in-transaction")
                except IntegrityError:  # a row the schema refuses: this file is left out, the rest kept
                    self._refused(driver)
                    written = []
                if len(written) < len(group):
                    self._exec(driver, "ROLLBACK TO SAVEPOINT one_file")
                    written = [None] * len(group)
                self._exec(driver, "RELEASE SAVEPOINT one_file")
                ids.extend(written)
            return ids

        return self._recorded(work)

    def _recorded(self, work: Callable[[Connection], list[int | None]]) -> list[int | None]:
        """Run a write of returns; once it committed, reach ``return-recorded`` for each return written."""
        ids = self._write_records(work)
        for return_id in ids:
            if return_id is not None:
                faults.reached("return-recorded")
        return ids

    def copy_in(self, stored: StoredReturn, lines: list[StatsLine], entries: list[RosterEntry]) -> int | None:
        """Record a return kept by another store, as it was kept there (``c315 store copy``);
        None when this store has it already."""
        row = {c.name: getattr(stored, c.name) for c in _STORED if c.name != "id"}
        row["received_at"] = stored.received_at.isoformat()
        row["received_ts"] = stored.received_at.timestamp()

        def work(conn: Connection) -> int | None:
            return_id = self._insert_return(conn, row)
            if return_id is not None:
                self._insert_children(return_id, stored.problems, [_line_row(line) for line in lines],
                                      [_entry_row(n, e) for n, e in enumerate(entries)])
                for review in stored.reviews:
                    conn.execute(reviews.insert().values(_review_row(return_id, review)))
            return return_id

        return self._write_records(work)

    def merge_reviews(self, stored: StoredReturn) -> int:
        """Add the reviews of a return another store kept that this store lacks (``c315 store
        copy`` run again after the collector reviewed more); how many were added."""
        if not stored.reviews:
            return 0

        def work(conn: Connection) -> int:
            found = conn.execute(select(returns.c.id).where(
                returns.c.campaign == stored.campaign, returns.c.sha256 == stored.sha256,
                returns.c.place == stored.place)).fetchone()
            if found is None:
                return 0
            have = {(state, note, reviewer, at) for state, note, reviewer, at in conn.execute(
                select(reviews.c.state, reviews.c.note, reviews.c.reviewer, reviews.c.reviewed_at)
                .where(reviews.c.return_id == found[0]))}
            added = 0
            for review in stored.reviews:
                row = _review_row(found[0], review)
                if (row["state"], row["note"], row["reviewer"], row["reviewed_at"]) not in have:
                    conn.execute(reviews.insert().values(row))
                    added += 1
            return added

        return self._write(work)

    def add_review(self, return_id: int, review: Review) -> None:
        """Record the collector's review of one return (in its own transaction)."""

        def work(conn: Connection) -> None:
            if conn.execute(select(returns.c.id).where(returns.c.id == return_id)).fetchone() is None:
                raise StoreProblem(f"数据库 {self.where} 里没有编号为 {return_id} 的报表。")
            conn.execute(reviews.insert().values(_review_row(return_id, review)))

        self._write(work)

    def _insert_return(self, conn: Connection, row: dict) -> int | None:
        """Insert one return row; None when (campaign, sha256, place) is there already — a concurrent
        insert of the same file waits for the other transaction and then does nothing."""
        if self._insert_statement is None:
            self._insert_statement = (self._dialect_insert(returns).values({c.name: bindparam(c.name) for c in returns.c
                                                                             if c.name != "id"})
                                      .on_conflict_do_nothing(index_elements=["campaign", "sha256", "place"]).returning(returns.c.id))
        found = self._driver(self._insert_statement, row).fetchone()
        return found[0] if found else None

    _insert_statement = None

    def _insert_children(self, return_id: int, found: list[Problem], lines: list[dict], entries: list[dict]) -> None:
        """A return's problems, lines and entries: one ``executemany`` per table."""
        rows = {
            problems: [dict(zip(("loc_kind", "loc_name", "loc_table", "loc_row", "loc_column"), p.location.columns(),
                                strict=True),
                            return_id=return_id, seq=n, severity=p.severity, code=str(p.code), value=p.value,
                            message=p.message)
                       for n, p in enumerate(found)],
            stats_lines: [dict(line, return_id=return_id) for line in lines],
            roster_entries: [dict(entry, return_id=return_id) for entry in entries],
        }
        self._insert_child_rows(rows[problems], rows[stats_lines], rows[roster_entries])

    def _insert_child_rows(self, problem_rows: list[dict], lines: list[dict], entries: list[dict]) -> None:
        """Rows of a return's problems, lines and entries, each naming its return: one ``executemany`` per table."""
        for table, values in ((problems, problem_rows), (stats_lines, lines), (roster_entries, entries)):
            if values:
                self._driver(_INSERTS[table], values)

    # --- reading ---

    def campaigns(self) -> dict[str, int]:
        """Every campaign the store holds returns of, with how many it holds."""
        with self._reading() as conn:
            rows = conn.execute(select(returns.c.campaign, func.count()).group_by(returns.c.campaign)
                                .order_by(returns.c.campaign)).all()
        return dict(rows)

    def returns(self, campaign: str, unit: str | None = None, with_problems: bool = True) -> list[StoredReturn]:
        query = select(*_STORED).where(returns.c.campaign == campaign)
        if unit:
            query = query.where(returns.c.unit == unit)
        with self._reading() as conn:
            found = _stored(conn.execute(query.order_by(returns.c.received_ts, returns.c.id)))
            if with_problems:
                self.attach_problems(found)
            self.attach_reviews(found)
        return found

    def latest_returns(self, campaign: str, cutoff: dt.datetime | None) -> list[StoredReturn]:
        """The latest usable and the latest rejected (by ingest or by the collector's hand), before
        and after the cut-off (at most four per unit × attachment): a summary over 100,000 stored
        returns reads a few dozen rows."""
        limit = cutoff.timestamp() if cutoff else float("inf")
        rank = func.row_number().over(
            partition_by=[returns.c.unit, returns.c.attachment, _USABLE, returns.c.received_ts <= limit],
            order_by=[returns.c.received_ts.desc(), returns.c.id.desc()],
        ).label("rank_in_group")
        ranked = select(*returns.c, rank).where(returns.c.campaign == campaign).subquery()
        query = (select(*(ranked.c[c.name] for c in _STORED)).where(ranked.c.rank_in_group == 1)
                 .order_by(ranked.c.received_ts, ranked.c.id))
        with self._reading() as conn:
            found = _stored(conn.execute(query))
            self.attach_problems(found)
            self.attach_reviews(found)
        return found

    def attach_reviews(self, found: list[StoredReturn]) -> None:
        by_id = {r.id: r for r in found}
        for r in found:
            r.reviews = []
        columns = [reviews.c.return_id, reviews.c.state, reviews.c.note, reviews.c.reviewer, reviews.c.reviewed_at]
        for return_id, state, note, reviewer, at in self._by_return(columns, reviews, by_id, (reviews.c.return_id, reviews.c.id)):
            by_id[return_id].reviews.append(
                Review(state=state, note=note, reviewer=reviewer, reviewed_at=dt.datetime.fromisoformat(at)))

    def attach_problems(self, found: list[StoredReturn]) -> None:
        by_id = {r.id: r for r in found}
        for r in found:
            r.problems = []
        columns = [problems.c.return_id, problems.c.severity, problems.c.code, problems.c.loc_kind, problems.c.loc_name,
                   problems.c.loc_table, problems.c.loc_row, problems.c.loc_column, problems.c.value, problems.c.message]
        rows = self._by_return(columns, problems, by_id, (problems.c.return_id, problems.c.seq))
        for return_id, severity, code, kind, name, table, row, column, value, message in rows:
            by_id[return_id].problems.append(
                Problem(severity, Code(code), Location(kind, name, table, row, column), value, message))

    def stats_lines(self, return_ids: Iterable[int]) -> dict[int, list[StatsLine]]:
        result: dict[int, list[StatsLine]] = {rid: [] for rid in return_ids}
        t = stats_lines.c
        columns = [t.return_id, t.item_key, t.quantity, t.remark, t.label, t.cell_kind, t.cell_name, t.cell_table,
                   t.cell_row, t.cell_column]
        for return_id, key, quantity, remark, label, kind, name, table, row, column in self._by_return(
                columns, stats_lines, result, (t.return_id,)):
            cell = Location(kind, name, table, row, column) if kind else None
            result[return_id].append(StatsLine(key=key, quantity=quantity, remark=remark, label=label, cell=cell))
        return result

    def roster_entries(self, return_ids: Iterable[int]) -> dict[int, list[RosterEntry]]:
        result: dict[int, list[RosterEntry]] = {rid: [] for rid in return_ids}
        t = roster_entries.c
        columns = [t.return_id, t.date, t.name, t.position, t.landline, t.mobile]
        for return_id, date, name, position, landline, mobile in self._by_return(
                columns, roster_entries, result, (t.return_id, t.seq)):
            result[return_id].append(RosterEntry(date=dt.date.fromisoformat(date) if date else None, name=name,
                                                 position=position, landline=landline, mobile=mobile))
        return result

    def _by_return(self, columns, table, ids, order) -> list[tuple]:
        """Rows of ``table`` for these return ids, a chunk of ids at a time, in ``order``."""
        wanted = sorted(ids)
        found: list[tuple] = []
        with self._reading() as conn:
            for start in range(0, len(wanted), CHUNK):
                chunk = wanted[start:start + CHUNK]
                found += conn.execute(select(*columns).where(table.c.return_id.in_(chunk)).order_by(*order)).all()
        return found

    def archive_records(self) -> list[ArchiveRecord]:
        query = select(returns.c.id, returns.c.sha256, returns.c.filename, returns.c.archive_key).order_by(returns.c.id)
        with self._reading() as conn:
            return [ArchiveRecord(*row) for row in conn.execute(query)]

    # --- what a backend provides ---

    _read_begin = "BEGIN"
    _write_begin = "BEGIN"
    _snapshot_begin = "BEGIN"

    def _start_snapshot(self, conn: Connection) -> None:
        """Make the transaction just begun a consistent, read-only view."""

    def _exec(self, driver, sql: str) -> None:
        """A statement of the store's own on the driver's connection (a savepoint)."""
        driver.execute(sql)

    def _refused(self, driver) -> None:
        """After a statement the schema refused, inside :meth:`record_rows`' transaction: make the
        connection ready for ``ROLLBACK TO SAVEPOINT`` (nothing to do on SQLite)."""

    def _dialect_insert(self, table):
        raise NotImplementedError

    def _worth_retrying(self, exc: DBAPIError) -> bool:
        return False

    def _failure(self, exc: DBAPIError) -> StoreProblem:
        raise NotImplementedError

    def _lost(self, detail: str) -> StoreProblem:
        return StoreProblem(f"数据库 {self.where} 无法使用（{detail}）。请运行 c315 verify 检查后重新运行同一命令。")

    def _os_failure(self, exc: OSError) -> StoreProblem | None:
        return None

    @property
    def schema_revision(self) -> str:
        return SCHEMA_REVISION


def _return_row(new: NewReturn, now: str) -> dict:
    form = new.form
    errors = sum(p.is_error for p in new.problems)
    return {
        "campaign": new.campaign, "sha256": new.sha256, "place": new.place, "filename": new.filename, "source_path": new.source_path,
        "archive_key": new.archive_key, "unit": new.unit, "attachment": new.attachment, "outcome": new.outcome,
        "received_at": new.received_at.isoformat(), "received_ts": new.received_at.timestamp(),
        "document_modified": new.document_modified.isoformat() if new.document_modified else None,
        "filler": form.filler if form else "", "filler_phone": form.filler_phone if form else "",
        "errors": errors, "warnings": len(new.problems) - errors, "ingested_at": now,
    }


def _rows_row(rows: ReturnRows, now: str) -> dict:
    errors = rows.errors
    return {
        "campaign": rows.campaign, "sha256": rows.sha256, "place": rows.place, "filename": rows.filename,
        "source_path": rows.source_path, "archive_key": rows.archive_key, "unit": rows.unit,
        "attachment": rows.attachment, "outcome": rows.outcome,
        "received_at": rows.received_at.isoformat(), "received_ts": rows.received_at.timestamp(),
        "document_modified": rows.document_modified.isoformat() if rows.document_modified else None,
        "filler": rows.filler, "filler_phone": rows.filler_phone,
        "errors": errors, "warnings": len(rows.problems) - errors, "ingested_at": now,
    }


_LINE_COLUMNS = ("item_key", "quantity", "remark", "label", "cell_kind", "cell_name", "cell_table", "cell_row",
                 "cell_column")


_PROBLEM_COLUMNS = ("severity", "code", "loc_kind", "loc_name", "loc_table", "loc_row", "loc_column", "value", "message")


def _rows_problems(rows: ReturnRows, return_id: int) -> list[dict]:
    """The problems' rows straight from their tuples (``ReturnRows.problems``: the columns' order)."""
    return [dict(zip(_PROBLEM_COLUMNS, found, strict=True), return_id=return_id, seq=n)
            for n, found in enumerate(rows.problems)]


def _rows_lines(rows: ReturnRows, return_id: int) -> list[dict]:
    return [dict(zip(_LINE_COLUMNS, line, strict=True), return_id=return_id) for line in rows.lines or ()]


def _rows_entries(rows: ReturnRows, return_id: int) -> list[dict]:
    return [{"return_id": return_id, "seq": n, "date": date.isoformat() if date else None, "name": name,
             "position": position, "landline": landline, "mobile": mobile}
            for n, (date, name, position, landline, mobile) in enumerate(rows.entries or ())]


def _form_rows(new: NewReturn) -> tuple[list[dict], list[dict]]:
    form = new.form
    if isinstance(form, ActivityStats):
        return [_line_row(line) for line in form.lines], []
    if isinstance(form, DutyRoster):
        return [], [_entry_row(n, e) for n, e in enumerate(form.entries)]
    return [], []


def _line_row(line: StatsLine) -> dict:
    kind, name, table, row, column = line.cell.columns() if line.cell else (None, "", 0, 0, 0)
    return {"item_key": line.key, "quantity": line.quantity, "remark": line.remark, "label": line.label,
            "cell_kind": kind, "cell_name": name, "cell_table": table, "cell_row": row, "cell_column": column}


def _review_row(return_id: int, review: Review) -> dict:
    return {"return_id": return_id, "state": review.state, "note": review.note, "reviewer": review.reviewer,
            "reviewed_at": review.reviewed_at.isoformat()}


def _entry_row(seq: int, entry: RosterEntry) -> dict:
    return {"seq": seq, "date": entry.date.isoformat() if entry.date else None, "name": entry.name,
            "position": entry.position, "landline": entry.landline, "mobile": entry.mobile}


def _stored(result) -> list[StoredReturn]:
    found = []
    for row in result.mappings():
        record = dict(row)
        record["received_at"] = dt.datetime.fromisoformat(record["received_at"])
        found.append(StoredReturn(**record))
    return found


__all__ = ["SQLStore", "archive_files"]
