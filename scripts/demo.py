"""The whole journey on the shipped campaign and sample returns, printed as a transcript
(``make demo``; README shows its output).

In a fresh workspace ``demo/`` at the top of the checkout (deleted first; git-ignored):

1. ``c315 generate-forms --out forms`` — every unit's blank forms;
2. the sample returns in ``data/samples/returned/`` are copied to ``demo/returned/`` (as if saved
   from 新OA) and ingested batch by batch — one ``c315 ingest … --received-at`` per distinct time in
   ``data/samples/received.toml``, in time order. The first batch is shown in full; later batches
   show only the problems of a rejected file and the closing count (``c315 status`` follows);
3. ``c315 status``;
4. ``c315 summary --deadline 2020-03-19 --out summary``, when this c315 has that command;
5. ``c315 feedback --out feedback``: marked copies and letters for units with problems, 催报 texts.

Each command runs as ``python -m campaign315`` with this interpreter and is echoed after ``$ ``.
An ingest that rejects a file exits 1, which is expected; any other failure stops the demo with
that command's exit status.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"
DEMO = ROOT / "demo"
WIDTH = 120
FULL_BATCHES = 1    # how many ingest batches are shown with every problem of every file


def environment() -> dict[str, str]:
    env = dict(os.environ, COLUMNS=str(WIDTH), PYTHONIOENCODING="utf-8", PYTHONUTF8="1")
    env.pop("C315_WORKSPACE", None)   # the demo's workspace is demo/, whatever the caller uses
    env.pop("FORCE_COLOR", None)
    return env


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


def run(args: list[str], *, allowed: tuple[int, ...] = (0,), show=lambda out: out) -> subprocess.CompletedProcess:
    """Run ``c315 args`` in demo/, print what it printed (through ``show``), stop on a failure."""
    echo(args)
    done = subprocess.run(
        [sys.executable, "-m", "campaign315", *args], cwd=DEMO, env=environment(),
        capture_output=True, text=True, encoding="utf-8", errors="replace",
    )
    output = show(done.stdout) if done.returncode in allowed else done.stdout
    if output.strip():
        print(output.rstrip("\n"))
    if done.stderr.strip():
        print(done.stderr.rstrip("\n"))
    if done.returncode not in allowed:
        print(f"\n演示中止：c315 {args[0]} 退出码 {done.returncode}。", flush=True)
        sys.exit(done.returncode or 1)
    if done.returncode:
        print(f"（退出码 {done.returncode}：有文件被退回，这在演示中是预期的。）")
    print(flush=True)
    return done


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


def batches() -> list[tuple[str, list[str]]]:
    """(received_at, files) per distinct receiving time, in time order, files as listed."""
    entries = tomllib.loads((SAMPLES / "received.toml").read_text(encoding="utf-8"))["received"]
    grouped: dict[str, list[str]] = {}
    for entry in entries:
        grouped.setdefault(str(entry["received_at"]), []).append(entry["file"])
    return sorted(grouped.items(), key=lambda item: dt.datetime.fromisoformat(item[0]))


def has_summary() -> bool:
    probe = subprocess.run(
        [sys.executable, "-m", "campaign315", "summary", "--help"], cwd=DEMO, env=environment(),
        capture_output=True, text=True, encoding="utf-8", errors="replace",
    )
    return probe.returncode == 0


def main() -> None:
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8", errors="replace")
    shutil.rmtree(DEMO, ignore_errors=True)
    DEMO.mkdir()
    print(f"# 工作目录：{DEMO.relative_to(ROOT)}/（全新）。活动配置：data/campaign.toml。\n")

    run(["generate-forms", "--out", "forms"])

    groups = batches()
    returned = DEMO / "returned"
    returned.mkdir()
    for when, files in groups:
        moment = dt.datetime.fromisoformat(when).timestamp()
        for name in files:
            target = returned / name
            shutil.copyfile(SAMPLES / "returned" / name, target)
            os.utime(target, (moment, moment))
    count = sum(len(files) for _, files in groups)
    print(f"# 各部门从新OA报回的 {count} 个文件已保存到 returned/，按下载时间分 {len(groups)} 批收表。\n")

    for number, (when, files) in enumerate(groups):
        args = ["ingest", "--received-at", when, *(f"returned/{name}" for name in files)]
        run(args, allowed=(0, 1), show=(lambda out: out) if number < FULL_BATCHES else brief)

    run(["status"])

    if has_summary():
        run(["summary", "--deadline", "2020-03-19", "--out", "summary"])
    else:
        print("# 这一版 c315 还没有 summary 命令，跳过汇总。\n")

    run(["feedback", "--out", "feedback"])

    where = ["空白表 demo/forms/", "报回文件 demo/returned/", "数据库和原件存档 demo/.c315/"]
    if (DEMO / "summary").is_dir():
        where.append("汇总和 HTML 报告 demo/summary/")
    where.append("修改意见、标注副本和催报短信 demo/feedback/")
    print("演示完成。" + "；".join(where) + "。")


if __name__ == "__main__":
    main()
