"""``c315 demo [DIR]``: the whole journey on the shipped campaign and sample returns, printed as a
transcript (``make demo`` runs it; README shows its output). It needs no checkout: the sample
returns ship inside c315 (``data/samples/``).

In DIR (default ``demo/``), a fresh workspace:

1. ``c315 generate-forms --out forms`` — every unit's blank forms;
2. the sample returns are copied to ``DIR/returned/`` (as if saved from 新OA) and ingested batch
   by batch — one ``c315 ingest … --received-at`` per distinct time in ``samples/received.toml``,
   in time order. The first batch is shown in full; later batches show only the problems of a
   rejected file and the closing count (``c315 status`` follows);
3. ``c315 status``;
4. ``c315 review 市场网监科 附件2 --has-issues --note …``: the collector's comment on one return;
5. ``c315 summary --deadline 2020-03-19 --out summary``;
6. ``c315 feedback --out feedback``: marked copies and letters for units with problems (the comment
   in 市场网监科's), 催报 texts.

Each command runs as ``python -m campaign315`` with this interpreter in DIR and is echoed after
``$ ``. An ingest that rejects a file exits 1, which is expected; any other failure stops the demo
with that command's exit status.

DIR must be new, empty, or a folder an earlier ``c315 demo`` made (it holds :data:`MARKER`; it is
emptied and made again). Any other folder is refused: nothing of the user's is ever deleted.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
import subprocess
import sys
import tomllib
import unicodedata
from collections.abc import Callable
from pathlib import Path

from campaign315.common.errors import UsageError
from campaign315.common.files import shipped

WIDTH = 120
FULL_BATCHES = 1    # how many ingest batches are shown with every problem of every file
REVIEW_NOTE = "第1.1项场次比活动台账多2场，请核实后回复"
"""The collector's comment the demo writes on 市场网监科's 附件2 (it reaches that unit's letter)."""
MARKER = ".c315-demo"
"""The file that marks a folder as made by ``c315 demo`` (so the next run may empty it)."""
_CALLERS_SETTINGS = ("C315_WORKSPACE", "C315_STORE", "C315_CAMPAIGN", "FORCE_COLOR")
"""The caller's choices that must not reach the demo's commands: its workspace is DIR."""


def samples() -> Path:
    """The sample returns shipped with c315 and ``received.toml``, when each came off 新OA."""
    return shipped("data") / "samples"


def batches() -> list[tuple[str, list[str]]]:
    """(received_at, files) per distinct receiving time, in time order, files as listed."""
    entries = tomllib.loads((samples() / "received.toml").read_text(encoding="utf-8"))["received"]
    grouped: dict[str, list[str]] = {}
    for entry in entries:
        grouped.setdefault(str(entry["received_at"]), []).append(entry["file"])
    return sorted(grouped.items(), key=lambda item: dt.datetime.fromisoformat(item[0]))


def run_demo(folder: Path) -> int:
    """Run the whole journey in ``folder``, printing the transcript; the exit status (0: done).
    :class:`UsageError` when ``folder`` holds something that is not an earlier demo."""
    _prepare(folder)
    shown = str(folder).rstrip("/\\")
    demo = _Demo(folder)
    print(f"# 工作目录：{shown}{os.sep}（全新）。活动配置：data/campaign.toml。\n", flush=True)
    try:
        demo.run(["generate-forms", "--out", "forms"])

        groups = batches()
        returned = folder / "returned"
        returned.mkdir()
        for when, files in groups:
            moment = dt.datetime.fromisoformat(when).timestamp()
            for name in files:
                target = returned / name
                shutil.copyfile(samples() / "returned" / name, target)
                os.utime(target, (moment, moment))
        count = sum(len(files) for _, files in groups)
        print(f"# 各部门从新OA报回的 {count} 个文件已保存到 returned/，按下载时间分 {len(groups)} 批收表。\n", flush=True)

        for number, (when, files) in enumerate(groups):
            args = ["ingest", "--received-at", when, *(f"returned/{name}" for name in files)]
            demo.run(args, allowed=(0, 1), show=(lambda out: out) if number < FULL_BATCHES else brief)

        demo.run(["status"])
        demo.run(["review", "市场网监科", "附件2", "--has-issues", "--note", REVIEW_NOTE, "--by", "张涛"])
        demo.run(["summary", "--deadline", "2020-03-19", "--out", "summary"])
        demo.run(["feedback", "--out", "feedback"])
    except _Stopped as stop:
        return stop.status

    where = [("空白表", "forms"), ("报回文件", "returned"), ("数据库和原件存档", ".c315"),
             ("汇总和 HTML 报告", "summary"), ("修改意见、标注副本和催报短信", "feedback")]
    print("演示完成。" + "；".join(f"{what} {shown}{os.sep}{name}{os.sep}" for what, name in where) + "。", flush=True)
    return 0


def _prepare(folder: Path) -> None:
    """Make ``folder`` a fresh, marked, empty folder — refusing one that holds anything of the user's."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} 是一个文件，不是文件夹。请给演示另选一个文件夹，如：c315 demo 演示")
    if folder.is_dir() and any(folder.iterdir()):
        if not (folder / MARKER).is_file():
            raise UsageError(f"文件夹 {folder} 里已有文件，演示不会动它们。请给演示另选一个新文件夹，如：c315 demo 演示")
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("这个文件夹是 c315 demo 建立的演示；再次运行 c315 demo 会清空并重建它。\n", encoding="utf-8")


class _Stopped(Exception):
    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


class _Demo:
    def __init__(self, folder: Path):
        self.folder = folder
        self.env = dict(os.environ, COLUMNS=str(WIDTH), PYTHONIOENCODING="utf-8", PYTHONUTF8="1")
        for name in _CALLERS_SETTINGS:
            self.env.pop(name, None)

    def run(self, args: list[str], *, allowed: tuple[int, ...] = (0,), show: Callable[[str], str] = lambda out: out) -> None:
        """Run ``c315 args`` in the folder, print what it printed (through ``show``), stop on a failure."""
        echo(args)
        done = subprocess.run(
            [sys.executable, "-m", "campaign315", *args], cwd=self.folder, env=self.env,
            capture_output=True, text=True, encoding="utf-8", errors="replace",
        )
        output = show(done.stdout) if done.returncode in allowed else done.stdout
        if output.strip():
            print(output.rstrip("\n"))
        if done.stderr.strip():
            print(done.stderr.rstrip("\n"))
        if done.returncode not in allowed:
            print(f"\n演示中止：c315 {args[0]} 退出码 {done.returncode}。", flush=True)
            raise _Stopped(done.returncode or 1)
        if done.returncode:
            print(f"（退出码 {done.returncode}：有文件被退回，这在演示中是预期的。）")
        print(flush=True)


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def echo(args: list[str]) -> None:
    """``$ c315 …``, wrapped with `` \\`` continuations to fit the terminal width."""
    words = [shlex.quote(word) for word in ["c315", *args]]
    lines, line = [], "$"
    for word in words:
        if line != "$" and display_width(line) + 1 + display_width(word) > WIDTH - 2:
            lines.append(line + " \\")
            line = "   "
        line += " " + word
    lines.append(line)
    print("\n".join(lines), flush=True)


def brief(output: str) -> str:
    """An ingest report cut to what matters once the first batch has shown the full format: the
    problems of rejected files (tables whose title says 退回), the whole report of files that held
    several returns, and the closing lines."""
    blocks, current = [], []
    for line in output.rstrip("\n").splitlines():
        current.append(line)
        if line.startswith("└"):          # the bottom edge of a rich table
            blocks.append(current)
            current = []
    if not blocks:
        return output
    # A file that held several returns (both forms in one workbook, a zip) is shown in full.
    combined = [block for block in blocks[1:] if any(mark in block[0].split("（", 1)[0] for mark in (" · ", ".zip!"))]
    rejected = [block for block in blocks[1:] if "退回" in "".join(block[:3]) and block not in combined]
    overview = blocks[:1] if combined else []
    kept = [line for block in overview + combined + rejected for line in block]
    kept.append("（逐个文件的结果表和提醒明细从略；c315 history 可查每一份。）")
    return "\n".join(kept + current)   # after the last table: skipped files and the count
