"""Crash safety and concurrency: ``c315 ingest`` over a few hundred returns, killed with SIGKILL at
named points (``C315_FAULT``, :mod:`campaign315.common.faults`) — in a pool worker just after it
archived a file, inside a return's transaction, just after a return was committed — then run
again; two ingests over overlapping files at once; and ``verify_store`` saying plainly what is
wrong when the archive and the records disagree.

No kill is timed: each lands at a point the code names, so what the store holds afterwards is
known. After a kill: the database is sound, every return recorded is whole, ``verify`` finds at
most files archived but not yet recorded and half-written temporaries, no worker is left
running, and a re-run records each return exactly once.

Everything is read back through the :class:`~campaign315.store.base.Store` interface.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import GOOD_QUANTITIES, GOOD_REMARKS
from fill import blank, fill_stats
from zipkit import read_parts, rezip

from campaign315.common.files import shipped
from campaign315.intake.ingest import PARALLEL_FROM, ingest_file
from campaign315.spec.campaign import load_campaign
from campaign315.store import NewReturn, Store, open_store
from campaign315.store.verify import verify_store

RETURNS = 240
FILLER = {"filler": "张涛", "phone": "13682055679"}
CAMPAIGN = load_campaign(shipped("data") / "campaign.toml")
STATS_ITEMS = len(CAMPAIGN.attachments.stats.items)
AFTER_A_CRASH = {"archive-unrecorded", "archive-temporary"}
"""What a kill may leave: files archived but not yet recorded, and half-written temporaries."""
HANG = 120
"""Seconds after which a process that should have ended is called hung (never reached when well)."""
WORKERS = (os.cpu_count() or 1) if RETURNS >= PARALLEL_FROM else 1
"""The pool ``c315 ingest`` starts for RETURNS files on this machine."""


# --- a few hundred returns --------------------------------------------------------------------


def make_returns(root: Path, count: int) -> list[Path]:
    """``count`` distinct, clean 附件2 returns of 办公室 (half .xlsx, half .docx) in ``root/returned``."""
    folder = root / "returned"
    folder.mkdir(parents=True)
    for fmt in ("xlsx", "docx"):
        filled = fill_stats(blank(root / fmt, "办公室", "stats", fmt), GOOD_QUANTITIES, remarks=GOOD_REMARKS, **FILLER)
        parts = read_parts(filled)
        app = parts["docProps/app.xml"]
        for n in range(count // 2 if fmt == "xlsx" else count - count // 2):
            parts["docProps/app.xml"] = app.replace(b"</Properties>", f"<Company>{n}</Company></Properties>".encode())
            (folder / f"{n:03d}-办公室.{fmt}").write_bytes(rezip(parts))
    return sorted(folder.iterdir())


@pytest.fixture(scope="module")
def returned(tmp_path_factory) -> list[Path]:
    """RETURNS distinct filled returns (.xlsx and .docx), in one folder."""
    return make_returns(tmp_path_factory.mktemp("crash"), RETURNS)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- running c315 and watching what it leaves -------------------------------------------------


def c315_environment(fault: str | None = None, **extra: str) -> dict[str, str]:
    """This environment without any fault plan, C315 setting or terminal; ``fault`` as C315_FAULT."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("C315_")}
    env.update({"COLUMNS": "200", "NO_COLOR": "1", "PYTHONDONTWRITEBYTECODE": "1", **extra})
    if fault:
        env["C315_FAULT"] = fault
    return env


def start_c315(*args: object, fault: str | None = None, log: Path | None = None, stderr=None,
               **extra: str) -> subprocess.Popen:
    """``c315 ARGS`` in a new session (no signal of ours or the terminal's reaches it, none of its
    reaches us); its stdout and stderr to ``log`` (else discarded), or stderr as given."""
    command = [sys.executable, "-m", "campaign315", *map(str, args)]
    output = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 — closed once the child has it
    try:
        return subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output,
                                stderr=stderr if stderr is not None else subprocess.STDOUT if log else subprocess.DEVNULL,
                                env=c315_environment(fault, **extra), start_new_session=True,
                                preexec_fn=_ctrl_c_as_in_a_terminal)
    finally:
        if log:
            output.close()


def _ctrl_c_as_in_a_terminal() -> None:
    """In the child before c315 starts: SIGINT back to its default, so Python answers it with
    KeyboardInterrupt as it does in a terminal — even when the suite itself runs in the background
    (a shell starts background jobs with SIGINT ignored, and children inherit that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_ingest(workspace: Path, *paths: Path, fault: str | None = None, log: Path | None = None) -> subprocess.Popen:
    return start_c315("ingest", "--workspace", workspace, *paths, fault=fault, log=log)


def processes_for(marker: Path) -> list[int]:
    """Live processes (not zombies) whose command line names ``marker``: an ingest into that
    workspace and the pool workers it forked."""
    needle = str(marker).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if needle in (entry / "cmdline").read_bytes():
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state not in ("Z", "X"):
                    found.append(int(entry.name))
    return found


def still_running(marker: Path, within: float = HANG) -> list[int]:
    """Wait for every process of an ended ingest to end too; those still running after ``within``
    seconds (a hang, not slowness) are killed — they are ours — and returned."""
    ends = time.monotonic() + within
    while (left := processes_for(marker)) and time.monotonic() < ends:
        time.sleep(0.05)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return left


def recorded(workspace: Path) -> Counter[str]:
    """How many records each SHA-256 has in the workspace's store."""
    with open_store(workspace / ".c315") as store:
        return Counter(r.sha256 for r in store.returns(CAMPAIGN.id, with_problems=False))


def incomplete(workspace: Path) -> list[str]:
    """Recorded returns that are not whole: every return here is a clean 附件2 with every item."""
    with open_store(workspace / ".c315") as store:
        returns = store.returns(CAMPAIGN.id)
        lines = store.stats_lines([r.id for r in returns])
    return [r.filename for r in returns
            if r.outcome != "accepted" or r.problems or len(lines[r.id]) != STATS_ITEMS]


def integrity(workspace: Path) -> list[str]:
    with open_store(workspace / ".c315") as store:
        return store.integrity_check()


def problems_of(workspace: Path) -> set[tuple[str, str]]:
    with open_store(workspace / ".c315") as store:
        return {(str(p.code), str(p.location)) for p in verify_store(store)}


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:] if log.exists() else ""


# --- SIGKILL at named points -------------------------------------------------------------------

LATE_WRITE = max(1, RETURNS // WORKERS)
"""An archive write some worker always reaches: RETURNS files shared by WORKERS workers."""

KILLS = [
    # (the plan, the fewest and the most returns recorded when it fires). Returns are recorded in
    # batches, one transaction each (ingest.BATCH_FILES returns or BATCH_SECONDS): a kill inside a
    # transaction loses that whole batch and keeps the batches before; a kill after a commit keeps
    # every return of the committed batch, so at least as many as the point counted.
    ("archive-written:1:kill", 0, 0),  # no worker has finished a file: nothing can be recorded
    ("archive-written:2:kill", 0, RETURNS - 1),
    (f"archive-written:{LATE_WRITE}:kill", 0, RETURNS - 1),
    ("in-transaction:1:kill", 0, 0),
    ("in-transaction:2:kill", 0, 1),
    (f"in-transaction:{RETURNS // 2}:kill", 0, RETURNS // 2 - 1),
    (f"in-transaction:{RETURNS}:kill", 0, RETURNS - 1),
    ("return-recorded:1:kill", 1, RETURNS),
    (f"return-recorded:{RETURNS // 2}:kill", RETURNS // 2, RETURNS),
    (f"return-recorded:{RETURNS - 1}:kill", RETURNS - 1, RETURNS),
    (f"return-recorded:{RETURNS}:kill", RETURNS, RETURNS),
]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="finds leftover workers through /proc")
@pytest.mark.parametrize(("fault", "fewest", "most"), KILLS, ids=[fault for fault, *_ in KILLS])
def test_killed_at_a_named_point_a_rerun_records_every_return_once(returned, tmp_path, fault, fewest, most):
    distinct = {sha256(path) for path in returned}
    assert len(distinct) == RETURNS
    folder = returned[0].parent
    workspace, log = tmp_path / "workspace", tmp_path / "killed.log"

    process = start_ingest(workspace, folder, fault=fault, log=log)
    assert process.wait(timeout=HANG) == -signal.SIGKILL, f"{fault} never fired:\n{tail(log)}"
    assert still_running(workspace) == [], f"{fault}: workers outlived the killed ingest"

    assert integrity(workspace) == []
    before = recorded(workspace)
    assert set(before) <= distinct and set(before.values()) <= {1}
    assert fewest <= sum(before.values()) <= most, fault
    assert incomplete(workspace) == [], f"{fault}: a return recorded in part"
    left = problems_of(workspace)
    assert {code for code, _ in left} <= AFTER_A_CRASH, f"{fault}: {sorted(left)[:5]}"

    rerun_log = tmp_path / "rerun.log"
    rerun = start_ingest(workspace, folder, log=rerun_log)
    assert rerun.wait(timeout=10 * HANG) == 0, f"{fault}: the re-run failed:\n{tail(rerun_log)}"
    assert still_running(workspace) == []
    after = recorded(workspace)
    assert set(after.values()) == {1}, f"{fault}: a return recorded twice"
    assert set(after) == distinct, f"{fault}: {len(distinct - set(after))} returns lost"
    assert incomplete(workspace) == []
    assert integrity(workspace) == []
    assert {code for code, _ in problems_of(workspace)} <= {"archive-temporary"}, fault


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
    codes = [process.wait(timeout=10 * HANG) for process in processes]
    outputs = [tail(log) for log in logs]
    assert codes == [0, 0], outputs
    for output in outputs:
        assert "locked" not in output and "Traceback" not in output
    assert still_running(workspace) == []
    counts = recorded(workspace)
    assert set(counts.values()) == {1}
    assert set(counts) == {sha256(path) for path in returned}
    assert incomplete(workspace) == []
    assert integrity(workspace) == []
    assert problems_of(workspace) == set()


# --- verify_store --------------------------------------------------------------------------------
# The archive's layout is the store's business: these tests find an archived file by its bytes,
# and add files to the archive only beside one found so, or through the archive's own ``put``.


@pytest.fixture
def kept_store(returned, tmp_path):
    """A store holding four returns, as ingest leaves it."""
    store = open_store(tmp_path / "store")
    for path in returned[:2] + returned[-2:]:
        assert [r.outcome for r in ingest_file(path, CAMPAIGN, store)] == ["accepted"]
    yield store
    store.close()


def files_under(store: Store) -> dict[Path, str]:
    """Every file under the store's folder (database included), with the SHA-256 of its bytes."""
    return {path: sha256(path) for path in sorted(Path(store.where).rglob("*")) if path.is_file()}


def archived(store: Store) -> list[Path]:
    """The files holding the bytes of a recorded return, in the order of their records."""
    found = {digest: path for path, digest in files_under(store).items()}
    return [found[record.sha256] for record in store.archive_records()]


def key_of(store: Store, path: Path) -> str:
    """How verify names a file of the store: its path below the store's folder."""
    return path.relative_to(store.where).as_posix()


def test_a_store_as_ingest_leaves_it_verifies_clean(kept_store):
    files = archived(kept_store)
    assert len(set(files)) == 4
    assert [key_of(kept_store, path) for path in files] == [r.archive_key for r in kept_store.archive_records()]
    assert verify_store(kept_store) == []


def test_an_altered_archive_file_is_named(kept_store):
    victim = archived(kept_store)[1]
    data = bytearray(victim.read_bytes())
    data[100] ^= 0xFF
    victim.write_bytes(bytes(data))
    (found,) = verify_store(kept_store)
    assert (found.severity, found.code, str(found.location)) == ("error", "archive-altered", key_of(kept_store, victim))
    assert "SHA-256" in found.message


def test_a_deleted_archive_file_is_named_with_its_record(kept_store):
    record = kept_store.archive_records()[2]
    victim = archived(kept_store)[2]
    victim.unlink()
    (found,) = verify_store(kept_store)
    assert (found.code, str(found.location)) == ("archive-missing", key_of(kept_store, victim))
    assert f"#{record.id}" in found.message and record.filename in found.message


def test_stray_unrecorded_and_temporary_files_are_told_apart(kept_store, returned):
    beside = archived(kept_store)[0].parent  # one of the archive's folders
    stray = beside / "notes.txt"
    stray.write_text("not c315's")
    misnamed = beside / ("0" * 64 + ".xlsx")  # named like an entry, but not for what it holds
    misnamed.write_bytes(returned[5].read_bytes())
    unrecorded_key = kept_store.archive.put(returned[6].read_bytes(), sha256(returned[6]), ".xlsx")
    temporary = beside / ".c315-k2j4h.part"
    temporary.write_bytes(returned[7].read_bytes()[:1000])

    found = {(str(p.code), str(p.location), p.severity) for p in verify_store(kept_store)}
    assert found == {
        ("archive-stray", key_of(kept_store, stray), "error"),
        ("archive-stray", key_of(kept_store, misnamed), "error"),
        ("archive-unrecorded", unrecorded_key, "warning"),
        ("archive-temporary", key_of(kept_store, temporary), "warning"),
    }
    (unrecorded,) = [path for path, digest in files_under(kept_store).items() if digest == sha256(returned[6])]
    assert key_of(kept_store, unrecorded) == unrecorded_key


def record_at(store: Store, path: Path, archive_key: str) -> int:
    """Record ``path`` as a return whose bytes are said to be kept at ``archive_key``."""
    from campaign315.spec.location import Location
    from campaign315.spec.problems import Code, problem

    record_id = store.record(NewReturn(
        campaign=CAMPAIGN.id, sha256=sha256(path), filename=path.name, source_path=str(path), archive_key=archive_key,
        unit=None, attachment=None, outcome="rejected", received_at=CAMPAIGN.due_at("stats"), document_modified=None,
        problems=[problem(Code.NOT_A_FORM, Location.file(path.name))], form=None))
    assert record_id is not None
    return record_id


def test_a_record_pointing_outside_the_archive_is_named(kept_store, returned):
    real_key = kept_store.archive.put(returned[8].read_bytes(), sha256(returned[8]), ".xlsx")
    record_id = record_at(kept_store, returned[8], "archive/../../etc/passwd")
    found = {(str(p.code), str(p.location)) for p in verify_store(kept_store)}
    assert found == {
        ("archive-misplaced", "archive/../../etc/passwd"),
        ("archive-missing", "archive/../../etc/passwd"),
        ("archive-unrecorded", real_key),  # its real file, without a record that names it
    }
    (misplaced,) = [p for p in verify_store(kept_store) if p.code == "archive-misplaced"]
    assert f"#{record_id}" in misplaced.message and returned[8].name in misplaced.message


def test_a_record_pointing_at_another_files_entry_is_named(kept_store, returned):
    other = kept_store.archive_records()[0]
    real_key = kept_store.archive.put(returned[9].read_bytes(), sha256(returned[9]), ".xlsx")
    record_at(kept_store, returned[9], other.archive_key)
    found = {(str(p.code), str(p.location)) for p in verify_store(kept_store)}
    assert found == {
        ("archive-misplaced", other.archive_key),
        ("archive-altered", other.archive_key),  # what is there is not what this record received
        ("archive-unrecorded", real_key),
    }


# --- verify_store on PostgreSQL --------------------------------------------------------------------
# The archive is rows of the database there: damage is done to them from outside, with psycopg.


class Kept:
    """A PostgreSQL store holding four returns, as ingest leaves it, and a way to damage its
    archive (rows of ``archive_files``) from outside."""

    def __init__(self, store: Store, url: str):
        self.store, self.url = store, url

    def keys(self) -> list[str]:
        return sorted(self.store.archive.keys())

    def _sql(self, statement: str, *params):
        import psycopg

        with psycopg.connect(self.url) as conn:
            cursor = conn.execute(statement.replace("?", "%s"), params)
            return cursor.fetchall() if statement.startswith("SELECT") else None

    def alter(self, key: str) -> None:
        data = bytearray(self.store.archive.read(key))
        data[100] ^= 0xFF
        self.put_raw(key, bytes(data))

    def delete(self, key: str) -> None:
        self._sql("DELETE FROM archive_files WHERE key = ?", key)

    def put_raw(self, key: str, data: bytes) -> None:
        self._sql("INSERT INTO archive_files (key, sha256, size, data, stored_at) VALUES (?, '', 0, ?, '')"
                  " ON CONFLICT (key) DO UPDATE SET data = excluded.data", key, data)

    def record(self, key: str) -> tuple[int, str]:
        ((record, filename),) = self._sql("SELECT id, filename FROM returns WHERE archive_key = ?", key)
        return record, filename

    def point(self, record: int, key: str) -> None:
        self._sql("UPDATE returns SET archive_key = ? WHERE id = ?", key, record)


@pytest.fixture
def pg_kept(returned, pg_url):
    store = open_store(pg_url)
    for path in returned[:2] + returned[-2:]:
        assert [r.outcome for r in ingest_file(path, CAMPAIGN, store)] == ["accepted"]
    yield Kept(store, pg_url)
    store.close()


def found_in(kept: Kept) -> set[tuple[str, str, str]]:
    return {(p.code, p.location.name, p.severity) for p in verify_store(kept.store)}


def test_on_postgresql_a_store_as_ingest_leaves_it_verifies_clean(pg_kept):
    assert len(pg_kept.keys()) == 4
    assert verify_store(pg_kept.store) == []


def test_on_postgresql_an_altered_archive_file_is_named(pg_kept):
    victim = pg_kept.keys()[1]
    pg_kept.alter(victim)
    (found,) = verify_store(pg_kept.store)
    assert (found.severity, found.code, found.location.name) == ("error", "archive-altered", victim)
    assert "SHA-256" in found.message


def test_on_postgresql_a_deleted_archive_file_is_named_with_its_record(pg_kept):
    victim = pg_kept.keys()[2]
    record, filename = pg_kept.record(victim)
    pg_kept.delete(victim)
    (found,) = verify_store(pg_kept.store)
    assert (found.code, found.location.name) == ("archive-missing", victim)
    assert f"#{record}" in found.message and filename in found.message


def test_on_postgresql_stray_and_unrecorded_entries_are_told_apart(pg_kept, returned):
    stray = "archive/ab/notes.txt"
    misnamed = "archive/00/" + "0" * 64 + ".xlsx"
    unrecorded_hash = sha256(returned[6])
    unrecorded = f"archive/{unrecorded_hash[:2]}/{unrecorded_hash}.xlsx"
    pg_kept.put_raw(stray, b"not c315's")
    pg_kept.put_raw(misnamed, returned[5].read_bytes())
    pg_kept.put_raw(unrecorded, returned[6].read_bytes())
    expected = {
        ("archive-stray", stray, "error"),
        ("archive-stray", misnamed, "error"),
        ("archive-unrecorded", unrecorded, "warning"),
    }
    assert found_in(pg_kept) == expected


def test_on_postgresql_a_record_pointing_at_the_wrong_place_is_named(pg_kept):
    key = pg_kept.keys()[0]
    record, _ = pg_kept.record(key)
    pg_kept.point(record, "archive/../../etc/passwd")
    found = {(code, where) for code, where, _ in found_in(pg_kept)}
    assert ("archive-misplaced", "archive/../../etc/passwd") in found
    assert ("archive-unrecorded", key) in found  # its real file, now without a record
