"""A reader that crashes costs one file, not the run.

python-calamine and lxml run in ingest's worker processes. When one of them dies on a file — an
abort, a panic that escapes, a memory blow-up past the worker's limit — that file is rejected with
``reader-crashed`` (its bytes archived, its record kept), the worker is replaced, and every other
file is read, validated and recorded as if nothing happened.

The crash is real, not mocked: the test-only fault plan ``reading:<file name>:abort`` makes the
worker call ``os.abort()`` just where it would parse that file, and ``…:exhaust`` makes it take
memory until its ``RLIMIT_AS`` refuses, then abort as Rust does when an allocation fails
(:mod:`campaign315.common.faults`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_crash import HANG, c315_environment, integrity, make_returns, recorded, sha256, still_running

from campaign315.store import open_store

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="workers are forked and limited on Linux")


def run_c315_json(workspace: Path, *paths: Path, fault: str | None = None) -> tuple[int, list[dict], str]:
    """``c315 ingest --json`` in its own process (a fault plan is read when c315 starts): its exit
    status, the parsed results and its stderr."""
    done = subprocess.run([sys.executable, "-m", "campaign315", "ingest", "--json", "--workspace", str(workspace),
                           *map(str, paths)], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          errors="replace", timeout=10 * HANG, env=c315_environment(fault), start_new_session=True)
    return done.returncode, json.loads(done.stdout), done.stderr


@pytest.fixture(scope="module")
def returns(tmp_path_factory) -> list[Path]:
    """Forty clean returns (.xlsx and .docx): enough for a worker per core."""
    return make_returns(tmp_path_factory.mktemp("reader-crash"), 40)


@pytest.mark.parametrize("action", ["abort", "exhaust"])
@pytest.mark.parametrize("victim", [0, 7, -1], ids=["first", "middle", "last"])
def test_a_reader_crash_rejects_that_file_and_the_run_finishes(returns, tmp_path, action, victim):
    crashing = returns[victim]
    workspace = tmp_path / "workspace"
    status, results, stderr = run_c315_json(workspace, *returns, fault=f"reading:{crashing.name}:{action}")

    assert status == 1, stderr  # one file rejected
    assert "Traceback" not in stderr
    assert still_running(workspace) == [], "a worker outlived the ingest"
    by_file = {Path(r["file"]).name: r for r in results}
    assert sorted(by_file) == sorted(path.name for path in returns)  # every file has its result
    crashed = by_file.pop(crashing.name)
    assert crashed["outcome"] == "rejected"
    ((found),) = crashed["problems"]
    assert (found["code"], found["severity"], found["location"]) == ("reader-crashed", "error", crashing.name)
    assert "SIGABRT" in found["message"] and "其他文件照常收取" in found["message"]
    assert {r["outcome"] for r in by_file.values()} == {"accepted"}

    # Nothing lost: the crashed file is archived and on record, the others recorded whole, once.
    assert set(recorded(workspace).values()) == {1}
    assert set(recorded(workspace)) == {sha256(path) for path in returns}
    assert integrity(workspace) == []
    with open_store(workspace / ".c315") as store:
        (record,) = [r for r in store.returns("heping-2020-315") if r.sha256 == sha256(crashing)]
        assert (record.outcome, [p.code for p in record.problems]) == ("rejected", ["reader-crashed"])
        assert store.archive.read(record.archive_key) == crashing.read_bytes()


def test_a_file_the_reader_crashed_on_is_a_duplicate_next_time(returns, tmp_path):
    """Running the same command again records nothing twice, the crashed file included."""
    workspace = tmp_path / "workspace"
    crashing = returns[3]
    run_c315_json(workspace, *returns, fault=f"reading:{crashing.name}:abort")
    status, results, stderr = run_c315_json(workspace, *returns)
    assert status == 0, stderr
    assert {r["outcome"] for r in results} == {"duplicate"}


def test_without_a_crash_the_same_run_accepts_every_file(returns, tmp_path):
    """The control: these files are clean, so the rejection above is the crash's alone."""
    status, results, stderr = run_c315_json(tmp_path / "workspace", *returns)
    assert status == 0, stderr
    assert [r["outcome"] for r in results] == ["accepted"] * len(returns)
