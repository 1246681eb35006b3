"""The Windows code paths, proven here on Linux where they can be: the ingest and generate pools
with workers started by ``spawn`` (Windows has no fork), a file held open by Excel or WPS (a
sharing violation: ``PermissionError`` at open), a legacy GBK console, nothing POSIX-only without a
Windows branch, and folders with Chinese names and spaces throughout."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import CADRE, FormMaker
from fill import codes

import campaign315.common.pool as pools
import campaign315.generate.forms as generation
from campaign315.common.errors import IN_USE
from campaign315.common.files import shipped
from campaign315.intake.ingest import PARALLEL_FROM, ingest
from campaign315.spec.campaign import load_campaign
from campaign315.spec.problems import Code
from campaign315.store import open_store

SRC = Path(__file__).resolve().parents[1] / "src" / "campaign315"
SAMPLES = shipped("data") / "samples"


@pytest.fixture(scope="module")
def campaign():
    return load_campaign(shipped("data") / "campaign.toml")


@pytest.fixture(scope="module")
def many_returns(tmp_path_factory, campaign) -> list[Path]:
    """More returns than PARALLEL_FROM, so ingest uses its pool: every unit's 附件2 (.xlsx) and 附件1
    (.docx), filled with the unit's own figures, and re-saved copies of them (another zip
    comment: the same form, other bytes), in a folder whose name has Chinese and spaces."""
    forms = FormMaker(tmp_path_factory.mktemp("filled"))
    folder = tmp_path_factory.mktemp("office") / "收到的 报表 (3月)"
    folder.mkdir()
    originals = []
    for n, unit in enumerate(campaign.units):
        originals.append(forms.stats("xlsx", {"1.1": n, "2.1": n + 1}, unit=unit.name))
        people = [{"name": f"值班员{n}", "position": "科员", "mobile": f"136{n:08d}"}, CADRE]
        originals.append(forms.roster("docx", people, unit=unit.name))
    copies = -(-PARALLEL_FROM // len(originals))  # enough rounds to pass the pool's threshold
    files = []
    for round_ in range(copies):
        for n, original in enumerate(originals):
            target = folder / f"{round_}-{n:02d} {original.stem}{original.suffix}"
            shutil.copyfile(original, target)
            if round_:
                with zipfile.ZipFile(target, "a") as resaved:
                    resaved.comment = f"re-saved {round_}".encode()
            files.append(target)
    assert len(files) >= PARALLEL_FROM
    return files


@pytest.fixture
def spawned(monkeypatch) -> list[str]:
    """Pools start their workers as on Windows; the list collects each pool's start method."""
    monkeypatch.setenv(pools.ENVIRONMENT, "spawn")
    used: list[str] = []
    real = pools.pool_context

    def recording():
        context = real()
        used.append(context.get_start_method())
        return context

    monkeypatch.setattr(pools, "pool_context", recording)
    monkeypatch.setattr(generation, "pool_context", recording)
    return used


# --- pools with spawn ----------------------------------------------------------------------------


def test_ingest_through_a_spawned_pool_gives_what_one_process_gives(many_returns, campaign, tmp_path, spawned):
    when = dt.datetime(2020, 3, 12, 9, 0, tzinfo=campaign.tz)

    def run(label: str, workers: int | None):
        with open_store(tmp_path / label) as store:
            results = ingest(many_returns, campaign, store, when, workers=workers)
            stored = store.returns(campaign.id)
            lines = store.stats_lines([r.id for r in stored])
            quantities = sorted((r.unit, line.key, line.quantity) for r in stored for line in lines.get(r.id, [])
                                if line.key in ("1.1", "2.1"))
            archived = all(store.archive.digest(r.archive_key) == r.sha256 for r in stored)
        outcome = [(Path(r.file).name, r.sha256, r.outcome, r.unit, r.attachment, sorted(map(str, codes(r.problems))))
                   for r in results]
        return outcome, quantities, archived

    one = run("one", 1)  # one worker process (a reader that crashes costs its file, not the run)
    assert spawned == ["spawn"]
    pooled = run("pool", None)  # as c315 ingest calls it: one worker per core, from PARALLEL_FROM files on
    assert spawned == ["spawn", "spawn"]
    assert pooled == one
    outcome, quantities, archived = pooled
    assert archived
    assert {o[2] for o in outcome} == {"accepted"}
    assert len({o[1] for o in outcome}) == len(many_returns)
    units = {unit.name: n for n, unit in enumerate(campaign.units)}
    assert set(quantities) == {(name, "1.1", n) for name, n in units.items()} | {(name, "2.1", n + 1) for name, n in units.items()}


def test_the_installed_entry_point_ingests_through_a_spawned_pool(many_returns, tmp_path):
    """The console script (``c315.exe`` on Windows) re-imported as ``__mp_main__`` by each spawned
    worker must not run the command again."""
    c315 = Path(sys.executable).with_name("c315")
    env = {**os.environ, pools.ENVIRONMENT: "spawn", "C315_WORKSPACE": str(tmp_path / "工作 目录"), "COLUMNS": "200"}
    (tmp_path / "工作 目录").mkdir()
    done = subprocess.run([c315, "ingest", "--json", "--received-at", "2020-03-12T09:00", many_returns[0].parent],
                          env=env, capture_output=True, text=True, encoding="utf-8", timeout=600)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert len(results) == len(many_returns)
    assert {r["outcome"] for r in results} == {"accepted"}
    assert "Traceback" not in done.stderr


def test_generate_through_a_spawned_pool_writes_what_one_process_writes(campaign, tmp_path, spawned, monkeypatch):
    """The blank renders reach a spawned worker as its initializer's argument."""
    def run(label: str) -> dict:
        planned = [form for copy in range(3)
                   for form in generation.plan_forms(campaign, campaign.units, ("xlsx", "docx"), tmp_path / label / f"第 {copy} 份")]
        written = generation.generate_forms(campaign, planned, shipped("templates"))
        return {path.relative_to(tmp_path / label): zipfile.ZipFile(path).read("docProps/custom.xml") for path in written}

    pooled = run("pool")
    assert len(pooled) >= generation.PARALLEL_FROM
    assert spawned == ["spawn"]
    monkeypatch.setattr(generation, "PARALLEL_FROM", 10_000)
    assert run("serial") == pooled
    for path, custom in pooled.items():
        assert f">{path.parts[1]}</vt:lpwstr>".encode() in custom


def test_the_start_method_is_fork_on_linux_unless_told(monkeypatch):
    monkeypatch.delenv(pools.ENVIRONMENT, raising=False)
    assert pools.start_method() == ("fork" if sys.platform.startswith("linux") else "spawn")
    monkeypatch.setenv(pools.ENVIRONMENT, "spawn")
    assert pools.start_method() == "spawn"
    monkeypatch.setenv(pools.ENVIRONMENT, "thread")  # not a start method: ignored
    assert pools.start_method() == ("fork" if sys.platform.startswith("linux") else "spawn")


# --- a file held open by Excel or WPS --------------------------------------------------------------


def _held_open(monkeypatch, held: Path, call: str = "open") -> None:
    """Opening ``held`` fails as Windows fails it while Excel has the file open."""
    real = getattr(os, call)

    def refuse(path, *args, **kwargs):
        if Path(path).name == held.name:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, call, refuse)


def test_a_return_open_in_excel_is_reported_and_taken_once_closed(forms, returned, ingest_json, monkeypatch):
    open_one = forms.stats("xlsx", {"1.1": 7}, unit="办公室")
    shutil.copy2(open_one, returned / "办公室 附件2.xlsx")
    shutil.copy2(forms.roster("xlsx"), returned / "劝业场所 附件1.xlsx")
    with monkeypatch.context() as excel:
        _held_open(excel, returned / "办公室 附件2.xlsx")
        status, results = ingest_json(returned)
    assert status == 1
    by_name = {Path(r["file"]).name: r for r in results}
    held = by_name["办公室 附件2.xlsx"]
    assert (held["outcome"], codes(held["problems"])) == ("rejected", [Code.FILE_UNREADABLE])
    assert IN_USE in held["problems"][0]["message"]
    assert by_name["劝业场所 附件1.xlsx"]["outcome"] == "accepted"
    # closed in Excel, the same command again: nothing of it was recorded, so it is taken now
    status, results = ingest_json(returned)
    outcomes = {Path(r["file"]).name: r["outcome"] for r in results}
    assert outcomes == {"办公室 附件2.xlsx": "accepted", "劝业场所 附件1.xlsx": "duplicate"}


def test_a_summary_open_in_excel_is_one_message_not_a_traceback(c315, workspace, tmp_path, monkeypatch):
    out = tmp_path / "汇总 结果"
    first = c315("summary", "--deadline", "2020-03-19", "--out", out)
    assert first.exit_code == 0, first.output
    (workbook,) = [p for p in out.iterdir() if p.suffix == ".xlsx" and "明细" in p.name]
    real = os.replace

    def refuse(source, target, *args, **kwargs):  # Windows cannot replace a file Excel holds
        if Path(target).name == workbook.name:
            raise PermissionError(13, "Permission denied", str(source), None, str(target))
        return real(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "replace", refuse)
    again = c315("summary", "--deadline", "2020-03-19", "--out", out)
    assert again.exit_code == 1
    assert isinstance(again.exception, SystemExit)
    assert "Traceback" not in again.output
    message = again.stderr.strip()
    assert message.startswith("错误：读写文件失败") and IN_USE in message and workbook.name in message
    assert not [p for p in out.iterdir() if p.name.startswith(".c315-")]  # no temporary file left behind


# --- a legacy GBK console --------------------------------------------------------------------------


def test_a_gbk_console_shows_every_command_without_an_encoding_error(tmp_path):
    """``PYTHONIOENCODING=gbk`` as a Chinese Windows console or a redirect to a file has it: the
    title's • (not in GBK) shows as ·, tables print, nothing fails."""
    workspace = tmp_path / "工作 目录"
    workspace.mkdir()
    env = {**os.environ, "PYTHONIOENCODING": "gbk", "C315_WORKSPACE": str(workspace), "COLUMNS": "160"}
    env.pop("PYTHONUTF8", None)

    def run(*args: object, expect: int = 0) -> str:
        done = subprocess.run([sys.executable, "-m", "campaign315", *map(str, args)], env=env, capture_output=True, timeout=300)
        stdout, stderr = done.stdout.decode("gbk"), done.stderr.decode("gbk")
        assert done.returncode == expect, stderr
        assert "Traceback" not in stderr and "UnicodeEncodeError" not in stderr
        return stdout

    assert "generate-forms" in run("--help")
    ingested = run("ingest", "--received-at", "2020-03-12T16:40", SAMPLES / "returned", expect=1)
    assert "3·15" in ingested or "退回" in ingested
    status = run("status")
    assert "五大道市场监管所" in status
    summary = run("summary", "--deadline", "2020-03-19", "--out", tmp_path / "汇总")
    assert "2020年3·15活动工作情况统计表" in summary
    assert "UnicodeEncodeError" not in run("history")


def test_the_stand_in_keeps_a_utf8_stream_as_it_is():
    import io

    from campaign315.common.terminal import tolerate_narrow_streams

    stream = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    tolerate_narrow_streams(stream)
    assert stream.errors == "strict"
    stream.write("3•15")
    stream.flush()
    assert stream.buffer.getvalue().decode("utf-8") == "3•15"


# --- nothing POSIX-only without a Windows branch -------------------------------------------------

POSIX_ONLY = re.compile(
    r"/proc\b|prctl|PDEATHSIG|\bfcntl\b|\bimport resource\b|\bresource\.|"
    r"signal\.(SIGKILL|SIGALRM|SIGHUP|SIGUSR[12]|SIGCHLD|SIGPIPE|SIGQUIT|SIGSTOP|SIGCONT|pause|alarm|setitimer)\b|"
    r"os\.(fork|forkpty|getuid|geteuid|getgid|killpg|setsid|getpgid|sync|O_NOFOLLOW|O_NONBLOCK)\b|"
    r"get_context\(\"fork\"\)")
WINDOWS_BRANCHES = {
    ("common/faults.py", "signal.pause"): "_wait_for_a_signal: hasattr(signal, 'pause'), else short sleeps",
    ("intake/ingest.py", "prctl"): "_end_with returns before it unless sys.platform is Linux",
    ("intake/ingest.py", "PDEATHSIG"): "the same (the comment and the call)",
    ("intake/ingest.py", "signal.SIGKILL"): "the same: the signal prctl asks for",
    ("intake/ingest.py", "os.O_NONBLOCK"): "getattr(os, 'O_NONBLOCK', 0): 0 on Windows",
}
"""Every POSIX-only name in src/, with where its Windows branch is. A new one fails the test below
until it has a branch and a line here."""


def test_nothing_posix_only_without_a_windows_branch():
    found = set()
    for path in sorted(SRC.rglob("*.py")):
        for match in POSIX_ONLY.finditer(path.read_text(encoding="utf-8")):
            found.add((path.relative_to(SRC).as_posix(), match.group(0)))
    unexplained = found - set(WINDOWS_BRANCHES)
    assert not unexplained, f"POSIX-only without a Windows branch named in WINDOWS_BRANCHES: {sorted(unexplained)}"


_AS_ON_WINDOWS = """
import os, pkgutil, signal, sys, importlib
for name in ("SIGKILL", "SIGALRM", "SIGHUP", "SIGUSR1", "SIGUSR2", "SIGCHLD", "SIGPIPE", "SIGQUIT", "pause", "alarm", "setitimer"):
    if hasattr(signal, name):
        delattr(signal, name)
for name in ("fork", "forkpty", "getuid", "geteuid", "killpg", "setsid", "getpgid", "sync", "O_NONBLOCK", "O_NOFOLLOW"):
    if hasattr(os, name):
        delattr(os, name)
for name in ("fcntl", "resource", "termios", "pwd", "grp"):
    sys.modules[name] = None   # "import fcntl" now fails, as on Windows
import campaign315
names = [m.name for m in pkgutil.walk_packages(campaign315.__path__, "campaign315.") if m.name != "campaign315.__main__"]
for name in names:
    importlib.import_module(name)
from campaign315.common import faults
assert faults._KILL == signal.SIGTERM
print(len(names))
"""


def test_every_module_imports_without_posix_only_names():
    """Every module of c315 imports where signal has no SIGKILL or pause, os no fork and there is no
    fcntl or resource — as on Windows — and the fault points' kill falls back to SIGTERM there."""
    done = subprocess.run([sys.executable, "-c", _AS_ON_WINDOWS], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 40


def test_a_sharing_violation_is_said_as_the_file_being_open_and_nothing_else():
    from campaign315.common.errors import refused_reason

    violation = PermissionError(13, "Permission denied")
    violation.winerror = 32  # ERROR_SHARING_VIOLATION, as Windows' own calls report it
    assert refused_reason(violation) == IN_USE
    plain = PermissionError(13, "Permission denied")
    assert refused_reason(plain).startswith(IN_USE) and refused_reason(plain).endswith("没有读取权限")
    assert refused_reason(plain, writing=True).endswith("没有写入权限")
