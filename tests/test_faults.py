"""What the world does to an ingest, and what the collector is told: the disk fills up, the store's
folder cannot be written, another program holds the database, a file vanishes or cannot be read,
someone presses Ctrl-C, the folder holds nothing, the store comes from a newer c315.

Each is one plain Chinese message and an exit status — never a traceback — and nothing is lost:
every return recorded is whole, and running the same command again records the rest exactly once.
Where the machine allows (root, ``mount``), the disk is really full and the folder really
read-only, on a small tmpfs; the fault points of :mod:`campaign315.common.faults` make the same
failures on any machine, at a known moment. No test sleeps to a moment or measures time.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from guards import deadline
from test_crash import (
    AFTER_A_CRASH,
    HANG,
    WORKERS,
    c315_environment,
    incomplete,
    integrity,
    make_returns,
    problems_of,
    processes_for,
    recorded,
    sha256,
    start_c315,
    still_running,
)

from campaign315.common.errors import StoreProblem
from campaign315.common.faults import PAUSED
from campaign315.intake import ingest as ingest_module
from campaign315.intake.ingest import PARALLEL_FROM
from campaign315.store import Store, open_store

FULL = "磁盘已满"
READ_ONLY = "没有权限写入"
LOCKED = "正被另一个程序占用"
INTERRUPTED = "已中断"
NOTHING_FOUND = "没有找到任何文件"


@pytest.fixture(scope="module")
def few(tmp_path_factory) -> list[Path]:
    """Eight clean returns: ingested one after another by one worker."""
    return make_returns(tmp_path_factory.mktemp("few"), 8)


@pytest.fixture(scope="module")
def many(tmp_path_factory) -> list[Path]:
    """150 clean returns: enough for ingest's pool of workers."""
    made = make_returns(tmp_path_factory.mktemp("many"), 150)
    assert len(made) >= PARALLEL_FROM
    return made


def run_c315(*args: object, fault: str | None = None, **env: str) -> subprocess.CompletedProcess:
    """``c315 ARGS`` to its end, in a new session; stdout and stderr as text."""
    return subprocess.run([sys.executable, "-m", "campaign315", *map(str, args)], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, errors="replace", timeout=10 * HANG,
                          env=c315_environment(fault, **env), start_new_session=True)


def ingest(workspace: Path, *paths: Path, fault: str | None = None, **env: str) -> subprocess.CompletedProcess:
    return run_c315("ingest", "--workspace", workspace, *paths, fault=fault, **env)


def says(done: subprocess.CompletedProcess, words: str, status: int = 1) -> None:
    """It ended with ``status`` and ``words`` in its message, without a traceback."""
    assert done.returncode == status, done.stderr[-3000:]
    assert words in done.stderr, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]


def a_rerun_records_everything_once(workspace: Path, files: list[Path]) -> None:
    """Run the same command again: every file recorded once, the store sound and clean."""
    done = ingest(workspace, *files)
    assert done.returncode == 0, done.stderr[-3000:]
    assert still_running(workspace) == []
    counts = recorded(workspace)
    assert set(counts.values()) == {1}
    assert set(counts) == {sha256(path) for path in files}
    assert incomplete(workspace) == []
    assert integrity(workspace) == []
    assert {code for code, _ in problems_of(workspace)} <= {"archive-temporary"}
    verify = run_c315("verify", "--workspace", workspace)
    assert verify.returncode == 0, verify.stderr


def left_whole(workspace: Path) -> int:
    """After a run that stopped: the store is sound, what it recorded is whole, and the archive
    holds at most files not yet recorded. How many returns it recorded."""
    assert still_running(workspace) == [], "workers outlived the ingest"
    assert integrity(workspace) == []
    assert incomplete(workspace) == []
    assert {code for code, _ in problems_of(workspace)} <= AFTER_A_CRASH
    counts = recorded(workspace)
    assert set(counts.values()) <= {1}
    return sum(counts.values())


# --- mounts (root only) ----------------------------------------------------------------------


@contextlib.contextmanager
def tmpfs(mount_point: Path, size: str) -> Iterator[Path]:
    """A small tmpfs at ``mount_point`` (skips the test where this machine will not mount one)."""
    mount_point.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "c315-test", str(mount_point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        still_running(mount_point)
        if subprocess.run(["umount", str(mount_point)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def remount(mount_point: Path, options: str) -> None:
    done = subprocess.run(["mount", "-o", f"remount,{options}", str(mount_point)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot remount {options}: {done.stderr.strip()}")


def fill_disk(folder: Path, leave: int = 0) -> Path:
    """Fill the file system under ``folder`` until at most ``leave`` bytes are free."""
    filler = folder / "填满磁盘.bin"
    block = b"\0" * (1 << 16)
    with open(filler, "wb", buffering=0) as handle:
        try:
            while (free := shutil.disk_usage(folder).free) > leave:
                handle.write(block[: min(len(block), free - leave)])
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    assert shutil.disk_usage(folder).free <= leave + (1 << 16)
    return filler


# --- (a) a full disk ------------------------------------------------------------------------


@pytest.mark.parametrize("free_kb", [0, 100], ids=["full-before-the-run", "full-during-the-run"])
def test_a_disk_that_is_really_full_is_said_plainly_and_a_rerun_finishes(few, tmp_path, free_kb):
    """A 16 MB tmpfs as the workspace. Full before the run: the database cannot even grow its
    shared memory file. 100 KB free: some returns fit, then the disk fills under the run."""
    with tmpfs(tmp_path / "disk", "16m") as workspace:
        first = ingest(workspace, few[0])
        assert first.returncode == 0, first.stderr
        filler = fill_disk(workspace, leave=free_kb * 1024)

        done = ingest(workspace, *few)
        says(done, FULL)
        filler.unlink()  # before looking: on a full disk not even a reader can open the database
        assert left_whole(workspace) < len(few)

        a_rerun_records_everything_once(workspace, few)


@pytest.mark.parametrize("pool", [False, True], ids=["one-process", "pool"])
def test_a_full_disk_at_the_first_archive_write_is_said_plainly_and_a_rerun_finishes(few, many, tmp_path, pool):
    """The same on any machine: the first archive write of each process fails as on a full disk."""
    files = many if pool else few
    workspace = tmp_path / "workspace"
    done = ingest(workspace, *files, fault="archive-written:1:no-space")
    says(done, FULL)
    assert left_whole(workspace) == 0
    a_rerun_records_everything_once(workspace, files)


# --- (b) a store folder that cannot be written --------------------------------------------------


@contextlib.contextmanager
def read_only(workspace: Path) -> Iterator[None]:
    """``workspace`` (its own tmpfs when root) made read-only, and writable again afterwards."""
    if os.geteuid() == 0:  # permissions do not stop root: the file system has to refuse
        remount(workspace, "ro")
        try:
            yield
        finally:
            remount(workspace, "rw")
        return
    folders = [workspace, *(path for path in workspace.rglob("*") if path.is_dir())]
    files = [path for path in workspace.rglob("*") if path.is_file()]
    for path in files:
        path.chmod(0o444)
    for path in folders:
        path.chmod(0o555)
    try:
        yield
    finally:
        for path in folders:
            path.chmod(0o755)
        for path in files:
            path.chmod(0o644)


@contextlib.contextmanager
def own_workspace(tmp_path: Path) -> Iterator[Path]:
    """A workspace that can be made read-only: on its own tmpfs when root."""
    if os.geteuid() == 0:
        with tmpfs(tmp_path / "workspace", "32m") as workspace:
            yield workspace
    else:
        workspace = tmp_path / "workspace"
        workspace.mkdir()
        yield workspace


@pytest.mark.parametrize("store_exists", [True, False], ids=["store-exists", "no-store-yet"])
def test_a_store_folder_that_cannot_be_written_is_said_plainly(few, tmp_path, store_exists):
    with own_workspace(tmp_path) as workspace:
        if store_exists:
            assert ingest(workspace, few[0]).returncode == 0
        with read_only(workspace):
            done = ingest(workspace, *few)
            says(done, READ_ONLY)
            if store_exists:  # SQLite cannot open a WAL database where it cannot write its -shm file
                says(run_c315("status", "--workspace", workspace), READ_ONLY)
        if store_exists:
            assert left_whole(workspace) == 1
        a_rerun_records_everything_once(workspace, few)


# --- (c) a store another program holds ----------------------------------------------------------


def paused(*args: object, fault: str) -> subprocess.Popen:
    """``c315 ARGS`` started with a ``…:pause`` fault, returned once it says it has paused there."""
    process = start_c315(*args, fault=fault, stderr=subprocess.PIPE)
    said = []
    try:
        with deadline(HANG):
            for line in process.stderr:
                said.append(line.decode(errors="replace"))
                if said[-1].startswith(PAUSED):
                    return process
    except BaseException:
        process.kill()
        process.wait()
        raise
    process.wait(timeout=HANG)
    pytest.fail(f"never paused at {fault}: {''.join(said)[-3000:]}")


def finish(process: subprocess.Popen) -> tuple[int, str]:
    """Wait for a process started by :func:`paused`; its status and the rest of its stderr."""
    with deadline(HANG):
        rest = process.stderr.read().decode(errors="replace")
    process.stderr.close()
    return process.wait(timeout=HANG), rest


@pytest.mark.parametrize("release", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "killed"])
def test_a_store_held_by_another_program_is_said_plainly_and_a_rerun_finishes(few, many, tmp_path, release):
    """An ingest stopped inside its first return's transaction holds the database's write lock;
    a second ingest waits C315_LOCK_WAIT seconds for it, then says so."""
    workspace = tmp_path / "workspace"
    holder = paused("ingest", "--workspace", workspace, *few[:4], fault="in-transaction:1:pause")
    try:
        done = ingest(workspace, *few[4:], C315_LOCK_WAIT="1")
        says(done, LOCKED)
        assert "1 秒" in done.stderr
    finally:
        holder.send_signal(release)
        status, rest = finish(holder)
    assert status == (130 if release == signal.SIGINT else -signal.SIGKILL), rest
    if release == signal.SIGINT:
        assert INTERRUPTED in rest and "Traceback" not in rest
    assert left_whole(workspace) == 0
    a_rerun_records_everything_once(workspace, few)


# --- (d) a file that vanished or cannot be read -----------------------------------------------


def test_a_file_that_vanished_after_it_was_listed_is_rejected_where_it_was(few, tmp_path, c315, monkeypatch):
    folder = tmp_path / "returned"
    shutil.copytree(few[0].parent, folder)
    files = sorted(folder.iterdir())
    victim = files[3]
    read = ingest_module._read_return

    def moved_away_first(path: Path):
        if path == victim:
            victim.unlink()  # someone moved it away after the folder was listed
        return read(path)

    monkeypatch.setattr(ingest_module, "_read_return", moved_away_first)
    result = c315("ingest", "--json", folder)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    outcomes = {r["file"]: r for r in json.loads(result.stdout)}
    gone = outcomes.pop(str(victim))
    assert gone["outcome"] == "rejected"
    ((found),) = gone["problems"]
    assert (found["code"], found["location"]) == ("file-unreadable", str(victim))
    assert "文件不存在" in found["message"]
    assert {r["outcome"] for r in outcomes.values()} == {"accepted"} and len(outcomes) == len(files) - 1


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="reads /proc/self/mem to make a read fail")
def test_a_file_whose_read_fails_is_rejected_where_it_was(few, tmp_path, c315):
    """A read that fails (a bad disk, a USB stick pulled, a broken network share) — here for real,
    even as root: /proc/self/mem is a regular file whose first page cannot be read."""
    folder = tmp_path / "returned"
    shutil.copytree(few[0].parent, folder)
    broken = folder / "坏盘上的表.xlsx"
    broken.symlink_to("/proc/self/mem")
    result = c315("ingest", "--json", folder)
    assert result.exit_code == 1, result.output
    outcomes = {r["file"]: r for r in json.loads(result.stdout)}
    bad = outcomes.pop(str(broken))
    assert bad["outcome"] == "rejected"
    ((found),) = bad["problems"]
    assert (found["code"], found["location"]) == ("file-unreadable", str(broken))
    assert "文件无法读取" in found["message"] and "读取时出错" in found["message"]
    assert {r["outcome"] for r in outcomes.values()} == {"accepted"} and len(outcomes) == len(few)


@pytest.mark.skipif(os.geteuid() == 0, reason="permissions do not stop root from reading")
def test_a_file_without_read_permission_is_rejected_where_it_was(few, tmp_path, c315):
    folder = tmp_path / "returned"
    shutil.copytree(few[0].parent, folder)
    locked = sorted(folder.iterdir())[2]
    locked.chmod(0)
    try:
        result = c315("ingest", "--json", folder)
    finally:
        locked.chmod(0o644)
    assert result.exit_code == 1, result.output
    outcomes = {r["file"]: r for r in json.loads(result.stdout)}
    ((found),) = outcomes.pop(str(locked))["problems"]
    assert (found["code"], found["location"]) == ("file-unreadable", str(locked))
    assert "没有读取权限" in found["message"]
    assert {r["outcome"] for r in outcomes.values()} == {"accepted"}


# --- (e) Ctrl-C -------------------------------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="finds leftover workers through /proc")
def test_ctrl_c_stops_the_pool_and_a_rerun_finishes(many, tmp_path):
    """A real ingest with its pool of workers, stopped just after its 5th recorded return (the
    batch holding it committed); SIGINT
    to the main process alone, as a terminal's Ctrl-C reaches it (workers ignore it anyway)."""
    workspace = tmp_path / "workspace"
    process = paused("ingest", "--workspace", workspace, *many, fault="return-recorded:5:pause")
    try:
        if WORKERS > 1:
            assert len(processes_for(workspace)) > 1, "no pool of workers"
        process.send_signal(signal.SIGINT)
        status, rest = finish(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert status == 130, rest
    assert INTERRUPTED in rest and "Traceback" not in rest, rest
    assert left_whole(workspace) >= 5  # the whole batch holding the 5th return was committed
    a_rerun_records_everything_once(workspace, many)


# --- (f) nothing to ingest --------------------------------------------------------------------


@pytest.mark.parametrize("json_", [False, True], ids=["table", "json"])
@pytest.mark.parametrize("holding", [[], ["~$附件2.xlsx"], ["~$x.xlsx", "Thumbs.db", ".DS_Store"]],
                         ids=["empty", "lock-file", "only-litter"])
def test_a_folder_with_nothing_to_ingest_is_a_usage_error(tmp_path, c315, workspace, holding, json_):
    folder = tmp_path / "收到的表"
    folder.mkdir()
    for name in holding:
        (folder / name).write_bytes(b"\0" * 165)
    result = c315("ingest", *(["--json"] if json_ else []), folder)
    assert result.exit_code == 2, result.output
    assert NOTHING_FOUND in result.stderr and str(folder) in result.stderr
    if holding:
        assert f"只有 {len(holding)} 个临时文件或系统文件" in result.stderr
    assert "Traceback" not in result.output
    assert not (workspace / ".c315").exists(), "a store was made for nothing"


def test_an_empty_folder_through_the_console_script_is_a_usage_error(tmp_path):
    folder = tmp_path / "空文件夹"
    folder.mkdir()
    done = run_c315("ingest", "--json", "--workspace", tmp_path / "workspace", folder)
    says(done, NOTHING_FOUND, status=2)


# --- (g) a store from a newer c315 --------------------------------------------------------------

USER_VERSION = slice(60, 64)
"""Where an SQLite database file keeps ``PRAGMA user_version`` (https://www.sqlite.org/fileformat.html)."""


def from_a_newer_c315(database: Path, version: int) -> None:
    """Mark a closed store's database as written by a newer c315: its schema version, in the file's
    header, as that c315 would have set it."""
    data = bytearray(database.read_bytes())
    assert int.from_bytes(data[USER_VERSION], "big") == Store.SCHEMA_VERSION
    data[USER_VERSION] = version.to_bytes(4, "big")
    database.write_bytes(bytes(data))


def test_a_store_from_a_newer_c315_is_refused_and_left_as_it_is(few, tmp_path):
    workspace = tmp_path / "workspace"
    assert ingest(workspace, few[0]).returncode == 0
    database = workspace / ".c315" / "c315.sqlite"
    assert not database.with_name("c315.sqlite-wal").exists()  # closed: everything is in the file
    newer = Store.SCHEMA_VERSION + 1
    from_a_newer_c315(database, newer)
    before = {path: path.read_bytes() for path in (workspace / ".c315").rglob("*") if path.is_file()}

    for command in (["status"], ["ingest", *few[1:]], ["verify"]):
        done = run_c315(*command, "--workspace", workspace)
        says(done, "更新版本的 c315")
        assert f"第 {newer} 版" in done.stderr
    after = {path: path.read_bytes() for path in (workspace / ".c315").rglob("*") if path.is_file()}
    assert after == before, "a store from a newer c315 was changed"

    with pytest.raises(StoreProblem, match="请升级 c315"):
        open_store(workspace / ".c315")
