"""Crash safety and concurrency: ``c315 ingest`` over a few hundred returns, killed with SIGKILL
at random moments, then run again; two ingests over overlapping files at once; and
``verify_store`` saying plainly what is wrong when the archive and the records disagree.

After a kill: the database passes ``PRAGMA integrity_check``, every archive file holds the bytes
its name promises, no temporary file passes for an archive entry, no worker is left running, and
a re-run records each return exactly once.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import GOOD_QUANTITIES, GOOD_REMARKS
from fill import blank, fill_stats
from zipkit import read_parts, rezip

from campaign315.common.files import shipped
from campaign315.intake.ingest import ingest_file
from campaign315.spec.campaign import load_campaign
from campaign315.store import Store, open_store
from campaign315.store.verify import verify_store

RETURNS = 240
TRIALS = 5
FILLER = {"filler": "张涛", "phone": "13682055679"}
AFTER_A_CRASH = {"archive-unrecorded", "archive-temporary"}
"""What a kill may leave: files archived but not yet recorded, and half-written temporaries."""


# --- a few hundred returns --------------------------------------------------------------------


@pytest.fixture(scope="module")
def returned(tmp_path_factory) -> list[Path]:
    """RETURNS distinct filled returns (.xlsx and .docx), in one folder."""
    root = tmp_path_factory.mktemp("crash")
    folder = root / "returned"
    folder.mkdir()
    for fmt in ("xlsx", "docx"):
        filled = fill_stats(blank(root / fmt, "办公室", "stats", fmt), GOOD_QUANTITIES, remarks=GOOD_REMARKS, **FILLER)
        parts = read_parts(filled)
        app = parts["docProps/app.xml"]
        for n in range(RETURNS // 2):
            parts["docProps/app.xml"] = app.replace(b"</Properties>", f"<Company>{n}</Company></Properties>".encode())
            (folder / f"{n:03d}-办公室.{fmt}").write_bytes(rezip(parts))
    return sorted(folder.iterdir())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def start_ingest(workspace: Path, *paths: Path, log: Path | None = None) -> subprocess.Popen:
    command = [sys.executable, "-m", "campaign315", "ingest", "--workspace", str(workspace), *map(str, paths)]
    output = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 — closed with the process
    try:
        return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT if log else subprocess.DEVNULL)
    finally:
        if log:
            output.close()


def recorded(workspace: Path) -> dict[str, int]:
    """{sha256: how many rows record it}. (Not opened read-only: after a kill, the first reader
    replays the write-ahead log, which needs write access.)"""
    database = workspace / ".c315" / "c315.sqlite"
    if not database.exists():
        return {}
    with contextlib.closing(sqlite3.connect(database, timeout=30)) as db:
        try:
            return dict(db.execute("SELECT sha256, count(*) FROM returns GROUP BY sha256").fetchall())
        except sqlite3.OperationalError:  # "no such table": created, but the schema not yet written
            return {}


def integrity(workspace: Path) -> list[tuple]:
    with contextlib.closing(sqlite3.connect(workspace / ".c315" / "c315.sqlite", timeout=30)) as db:
        return db.execute("PRAGMA integrity_check").fetchall()


def processes_for(workspace: Path) -> list[int]:
    """Live processes whose command line names ``workspace`` (the ingest and its workers)."""
    marker = str(workspace).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if marker in (entry / "cmdline").read_bytes() and " Z " not in (entry / "stat").read_text():
                found.append(int(entry.name))
    return found


def no_workers_left(workspace: Path, within: float = 5.0) -> list[int]:
    """Wait for every process of the killed ingest to end; those still running after ``within``
    seconds are killed (they are ours) and returned."""
    ends = time.monotonic() + within
    while (left := processes_for(workspace)) and time.monotonic() < ends:
        time.sleep(0.05)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return left


def problems_of(workspace: Path) -> set[tuple[str, str]]:
    with open_store(workspace / ".c315") as store:
        return {(p.code, p.location.name) for p in verify_store(store)}


# --- SIGKILL at random moments -----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="finds leftover workers through /proc")
def test_killed_at_random_moments_a_rerun_records_every_return_once(returned, tmp_path):
    distinct = {sha256(path) for path in returned}
    assert len(distinct) == RETURNS
    folder = returned[0].parent

    # A whole run first, watched: when the first return is recorded and when the last is, so the
    # kills land where they mean something on any machine — one while files are only read and
    # archived, the others spread over the recording.
    first, last = calibrate(tmp_path / "whole", folder)
    assert set(recorded(tmp_path / "whole").values()) == {1} and len(recorded(tmp_path / "whole")) == RETURNS
    rng = random.Random(315)
    moments = [rng.uniform(0.2, 0.9) * first] + [
        first + (k + rng.random()) / (TRIALS - 1) * (last - first) for k in range(TRIALS - 1)]

    midway = 0
    for trial, moment in enumerate(moments):
        workspace = tmp_path / f"trial-{trial}"
        process = start_ingest(workspace, folder)
        time.sleep(moment)
        was_running = process.poll() is None
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        assert no_workers_left(workspace) == [], f"trial {trial}: workers outlived the killed ingest"

        before = recorded(workspace)
        midway += was_running and 0 < len(before) < RETURNS
        assert set(before.values()) <= {1}
        if before:
            assert integrity(workspace) == [("ok",)]
            left = problems_of(workspace)
            assert {code for code, _ in left} <= AFTER_A_CRASH, f"trial {trial}: {sorted(left)[:5]}"

        rerun = start_ingest(workspace, folder)
        assert rerun.wait(timeout=300) == 0, f"trial {trial}: the re-run failed"
        after = recorded(workspace)
        assert set(after.values()) == {1}, f"trial {trial}: a return recorded twice"
        assert set(after) == distinct, f"trial {trial}: {len(distinct - set(after))} returns lost"
        assert integrity(workspace) == [("ok",)]
        assert {code for code, _ in problems_of(workspace)} <= {"archive-temporary"}, f"trial {trial}"
    assert midway >= TRIALS - 2, f"only {midway} of {TRIALS} kills landed while returns were being recorded"


def calibrate(workspace: Path, folder: Path) -> tuple[float, float]:
    """Seconds from the start of a whole ingest to its first recorded return and to its last."""
    started = time.monotonic()
    process = start_ingest(workspace, folder)
    first = last = None
    while process.poll() is None and last is None:
        count = len(recorded(workspace))
        first = first or (time.monotonic() - started if count else None)
        last = time.monotonic() - started if count == RETURNS else None
        time.sleep(0.02)
    assert process.wait(timeout=300) == 0
    whole = time.monotonic() - started
    return first or whole / 3, last or whole * 2 / 3


# --- two ingests at once ------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("round_", [1, 2])
def test_two_ingests_at_once_record_each_return_once(returned, tmp_path, round_):
    """Overlapping halves, started together on a store neither has created yet; both use their
    pool of workers (100 files or more each)."""
    first, second = returned[: RETURNS * 2 // 3], returned[RETURNS // 3:]
    workspace = tmp_path / "shared"
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    processes = [start_ingest(workspace, *first, log=logs[0]), start_ingest(workspace, *second, log=logs[1])]
    codes = [process.wait(timeout=300) for process in processes]
    outputs = [log.read_text(errors="replace") for log in logs]
    assert codes == [0, 0], outputs
    for output in outputs:
        assert "locked" not in output and "Traceback" not in output
    counts = recorded(workspace)
    assert set(counts.values()) == {1}
    assert set(counts) == {sha256(path) for path in returned}
    assert integrity(workspace) == [("ok",)]
    assert problems_of(workspace) == set()


# --- verify_store, on both backends ----------------------------------------------------------------


class Kept:
    """A store holding four returns, as ingest leaves it, and a way to damage it from outside
    (files in a folder archive; rows in a database archive)."""

    def __init__(self, store: Store, url: str | None):
        self.store, self.url = store, url

    def keys(self) -> list[str]:
        return sorted(self.store.archive.keys())

    def _sql(self, statement: str, *params):
        if self.url:
            import psycopg

            with psycopg.connect(self.url) as conn:
                return conn.execute(statement.replace("?", "%s"), params).fetchall() if statement.startswith("SELECT") \
                    else conn.execute(statement.replace("?", "%s"), params)
        with contextlib.closing(sqlite3.connect(self.store.path)) as db, db:
            return db.execute(statement, params).fetchall()

    def alter(self, key: str) -> None:
        data = bytearray(self.store.archive.read(key))
        data[100] ^= 0xFF
        self.put_raw(key, bytes(data))

    def delete(self, key: str) -> None:
        if self.url:
            self._sql("DELETE FROM archive_files WHERE key = ?", key)
        else:
            (self.store.archive.folder.parent / key).unlink()

    def put_raw(self, key: str, data: bytes) -> None:
        if self.url:
            self._sql("INSERT INTO archive_files (key, sha256, size, data, stored_at) VALUES (?, '', 0, ?, '')"
                      " ON CONFLICT (key) DO UPDATE SET data = excluded.data", key, data)
        else:
            path = self.store.archive.folder.parent / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

    def record(self, key: str) -> tuple[int, str]:
        ((record, filename),) = self._sql("SELECT id, filename FROM returns WHERE archive_key = ?", key)
        return record, filename

    def point(self, record: int, key: str) -> None:
        self._sql("UPDATE returns SET archive_key = ? WHERE id = ?", key, record)


@pytest.fixture(params=["sqlite", "postgresql"])
def kept_store(request, returned, tmp_path):
    campaign = load_campaign(shipped("data") / "campaign.toml")
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    store = open_store(url or tmp_path / "store")
    for path in returned[:2] + returned[-2:]:
        assert ingest_file(path, campaign, store).outcome == "accepted"
    yield Kept(store, url)
    store.close()


def found_in(kept: Kept) -> set[tuple[str, str, str]]:
    return {(p.code, p.location.name, p.severity) for p in verify_store(kept.store)}


def test_a_store_as_ingest_leaves_it_verifies_clean(kept_store):
    assert len(kept_store.keys()) == 4
    assert verify_store(kept_store.store) == []


def test_an_altered_archive_file_is_named(kept_store):
    victim = kept_store.keys()[1]
    kept_store.alter(victim)
    (found,) = verify_store(kept_store.store)
    assert (found.severity, found.code, found.location.name) == ("error", "archive-altered", victim)
    assert "SHA-256" in found.message


def test_a_deleted_archive_file_is_named_with_its_record(kept_store):
    victim = kept_store.keys()[2]
    record, filename = kept_store.record(victim)
    kept_store.delete(victim)
    (found,) = verify_store(kept_store.store)
    assert (found.code, found.location.name) == ("archive-missing", victim)
    assert f"#{record}" in found.message and filename in found.message


def test_stray_and_unrecorded_entries_are_told_apart(kept_store, returned):
    stray = "archive/ab/notes.txt"
    misnamed = "archive/00/" + "0" * 64 + ".xlsx"
    unrecorded_hash = sha256(returned[6])
    unrecorded = f"archive/{unrecorded_hash[:2]}/{unrecorded_hash}.xlsx"
    kept_store.put_raw(stray, b"not c315's")
    kept_store.put_raw(misnamed, returned[5].read_bytes())
    kept_store.put_raw(unrecorded, returned[6].read_bytes())
    expected = {
        ("archive-stray", stray, "error"),
        ("archive-stray", misnamed, "error"),
        ("archive-unrecorded", unrecorded, "warning"),
    }
    if kept_store.url is None:  # only a folder can hold a half-written file
        temporary = kept_store.store.archive.folder / unrecorded_hash[:2] / ".c315-k2j4h.part"
        temporary.write_bytes(returned[7].read_bytes()[:1000])
        expected.add(("archive-temporary", f"archive/{unrecorded_hash[:2]}/.c315-k2j4h.part", "warning"))
    assert found_in(kept_store) == expected


def test_a_record_pointing_at_the_wrong_place_is_named(kept_store):
    key = kept_store.keys()[0]
    record, _ = kept_store.record(key)
    kept_store.point(record, "archive/../../etc/passwd")
    found = {(code, where) for code, where, _ in found_in(kept_store)}
    assert ("archive-misplaced", "archive/../../etc/passwd") in found
    assert ("archive-unrecorded", key) in found  # its real file, now without a record
