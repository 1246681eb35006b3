"""What the collector sees in the terminal: rich tables of ingest results, standings, history and the
summary. Part of the command line (it stands on every step's results); each function takes
results, prints, returns nothing. ``quiet`` leaves only the closing line (errors go to stderr
anyway, from the command line).

Text that came from a file — names, values, remarks, even file names — is printed through
:func:`plain`: never read as rich markup (a path may hold ``[/]``), and never as terminal control
codes (a cell may hold ``ESC[2J``).
"""

from __future__ import annotations

import json
import os
import re
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table
from rich.text import Text

from campaign315.common.words import ATTACHMENT_ZH, NONE_SHOWN, OUTCOME_ZH, REVIEW_ZH, SEVERITY_ZH, STATUS_ZH

if TYPE_CHECKING:  # results are only read here; importing their modules would load the readers
    from campaign315.intake.ingest import FileResult
    from campaign315.reports.standing import Received, Standing
    from campaign315.spec.campaign import Campaign


def make_console(stderr: bool = False) -> Console:
    """The terminal c315 prints to. Plain text — not one escape code — when ``NO_COLOR`` is set
    (https://no-color.org) or the stream is not a terminal (a pipe, a file)."""
    colourless = bool(os.environ.get("NO_COLOR"))
    return Console(stderr=stderr, highlight=False, soft_wrap=stderr, color_system=None if colourless else "auto")


OUTCOME_STYLE = {"accepted": "green", "rejected": "bold red", "duplicate": "dim"}
SEVERITY_STYLE = {"error": "red", "warning": "yellow"}
REVIEW_STYLE = {"approved": "green", "has_issues": "yellow", "rejected": "bold red"}
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(value: object, style: str = "") -> Text:
    """Untrusted text as inert terminal text: control characters shown as �, markup not parsed."""
    return Text(_CONTROL.sub("\ufffd", "" if value is None else str(value)), style=style)


def _outcome(outcome: str) -> str:
    return f"[{OUTCOME_STYLE[outcome]}]{OUTCOME_ZH[outcome]}[/]"


def _attachment(key: str | None) -> str:
    return ATTACHMENT_ZH.get(key or "", NONE_SHOWN)


STATUS_STYLE = {"on_time": "green", "late": "yellow", "after_cutoff": "yellow", "rejected": "bold red", "missing": "bold red"}


class IngestReport:
    """``c315 ingest``'s report, printed as the store commits each batch (:meth:`flush`, which
    ingest calls after each): a table with a row per return — a file holding several (a workbook
    with both sheets, a zip) shows where in it each one is —, a table of problems per return that
    has any, the files' ignored sheets; at the end the files skipped and the counts (``quiet``:
    the counts alone). It keeps the counts and one batch of results, so a run of ten thousand
    files takes no more memory than a run of ten."""

    def __init__(self, console: Console, dry_run: bool, quiet: bool = False):
        self.console, self.dry_run, self.quiet = console, dry_run, quiet
        self.counts = {"accepted": 0, "rejected": 0, "duplicate": 0}
        self.files = self.returns = 0
        self._last_file: str | None = None
        self._batch: list[FileResult] = []
        self._tables = 0

    def add(self, r: FileResult) -> None:
        from campaign315.intake.read.zipped import SEPARATOR as ZIP_SEPARATOR

        self.counts[r.outcome] += 1
        self.returns += 1
        sent = r.file.split(ZIP_SEPARATOR, 1)[0]  # the returns of one file (and a zip's members) come together
        if sent != self._last_file:
            self.files += 1
            self._last_file = sent
        if not self.quiet:
            self._batch.append(r)

    def flush(self) -> None:
        """Show the results gathered since the last flush (a batch the store committed)."""
        results, self._batch = self._batch, []
        if not results:
            return
        several = _several([r.file for r in results])
        title = ("收表结果" + ("（试运行，未入库）" if self.dry_run else "")) if not self._tables else None
        self._tables += 1
        table = Table(title=title, show_lines=False)
        for column in ("文件", "部门", "表格", "结果", SEVERITY_ZH["error"], SEVERITY_ZH["warning"]):
            table.add_column(column, overflow="fold")
        for r in results:
            table.add_row(plain(_named(r.file, r.place, several)), plain(r.unit or "—"), _attachment(r.attachment),
                          _outcome(r.outcome), _count(r.errors, "red"), _count(r.warnings, "yellow"))
        self.console.print(table)
        for r in results:
            if not r.problems:
                continue
            heading = plain(f"{_named(r.file, r.place, several)}（{r.unit or '部门不明'} · {_attachment(r.attachment)} · ")
            heading.append_text(Text.from_markup(_outcome(r.outcome)))
            heading.append("）")
            problems = Table(title=heading, title_justify="left", show_lines=False, expand=False)
            for column in ("位置", "代码", "填写内容", "说明"):
                problems.add_column(column, overflow="fold")
            for p in r.problems:
                problems.add_row(plain(p.location), plain(p.code, SEVERITY_STYLE[p.severity]), plain(p.value), plain(p.message))
            self.console.print(problems)
        told: set[str] = set()
        for r in results:
            if r.ignored and r.file not in told:
                told.add(r.file)
                places = "、".join(f"「{place}」" for place in r.ignored)
                self.console.print(plain(f"提示：{r.file} 中的 {places} 不是报表，已略过。", "dim"))

    @property
    def rejected(self) -> int:
        return self.counts["rejected"]

    def finish(self, skipped) -> None:
        """The last results, the files skipped, and the counts."""
        if not self.quiet:
            self.flush()
            skipped_report(self.console, skipped)
        counts = self.counts
        what = f"共 {self.files} 个文件" + (f"、{self.returns} 份报表" if self.returns != self.files else "")
        self.console.print(
            f"{what}：接收 {counts['accepted']}，退回 {counts['rejected']}，重复 {counts['duplicate']}"
            + (f"，跳过 {len(skipped)}" if skipped else "") + "。"
            + ("（试运行：没有写入数据库）" if self.dry_run else ""), markup=False)


def _named(file: str, place, several: set[str]) -> str:
    """A return's file, with where in it the return is when the file holds several."""
    return f"{file} · {place}" if place and file in several else file


class IngestJson:
    """``c315 ingest --json``: the documented array, one object per return, written as the results
    come (and closed whatever happens, so what was printed is always valid JSON)."""

    def __init__(self, out):
        self.out, self.first, self.rejected = out, True, 0
        out.write("[")

    def add(self, r: FileResult) -> None:
        self.rejected += r.outcome == "rejected"
        self.out.write(("\n" if self.first else ",\n") + json.dumps(r.as_json(), ensure_ascii=False, indent=2))
        self.first = False

    def close(self) -> None:
        self.out.write("\n]\n" if not self.first else "]\n")
        self.out.flush()


def skipped_report(console: Console, skipped) -> None:
    """The files ingest left alone (an editor's lock file, a system file), one line each."""
    for path in skipped:
        console.print(plain(f"跳过 {path}（不是报表：临时文件或系统文件）", "dim"))


def status_table(console: Console, campaign: Campaign, rows: list[Standing], title: str, quiet: bool = False) -> None:
    """``c315 status``: a row per unit × attachment, then how many stand where."""
    if not quiet:
        _status_rows(console, campaign, rows, title)
    counts = {k: sum(s.status == k for s in rows) for k in STATUS_ZH}
    console.print("、".join(f"{STATUS_ZH[k]} {v}" for k, v in counts.items()))


def _status_rows(console: Console, campaign: Campaign, rows: list[Standing], title: str) -> None:
    table = Table(title=title)
    for column in ("部门", "表格", "状态", "接收时间", "问题数", "联系人"):
        table.add_column(column, overflow="fold")
    for s in rows:
        shown = s.shown
        when = campaign.localize(shown.received_at).strftime("%m-%d %H:%M") if shown else "—"
        style = STATUS_STYLE[s.status]
        said = f" · {REVIEW_ZH[shown.review.state]}" if shown and shown.review else ""
        table.add_row(plain(s.unit.name), _attachment(s.attachment), f"[{style}]{STATUS_ZH[s.status]}[/]{said}", when,
                      str(s.problem_count) if shown else "—", plain(s.contact))
    console.print(table)


def history_table(console: Console, campaign: Campaign, received: list[Received], quiet: bool = False) -> None:
    """``c315 history``: a row per file received, the counting ones ticked, then the counts."""
    if not quiet:
        table = Table(title="收表历史")
        for column in ("#", "接收时间", "部门", "表格", "结果", SEVERITY_ZH["error"], SEVERITY_ZH["warning"], "审核", "计入汇总", "文件"):
            table.add_column(column, overflow="fold")
        several = _several([entry.stored.sha256 for entry in received])
        for entry in received:
            r = entry.stored
            name = f"{r.filename} · {r.place}" if r.place and r.sha256 in several else r.filename
            table.add_row(str(r.id), campaign.localize(r.received_at).strftime("%Y-%m-%d %H:%M"), plain(r.unit or "—"),
                          _attachment(r.attachment), _outcome(r.outcome), _count(r.errors, "red"),
                          _count(r.warnings, "yellow"), _review(campaign, r), "[green]✓[/]" if entry.counts else "", plain(name))
        console.print(table)
    outcomes = "，".join(f"{OUTCOME_ZH[k]} {sum(e.stored.outcome == k for e in received)}" for k in OUTCOME_ZH)
    reviewed = [e.stored.review for e in received if e.stored.review]
    said = "；审核：" + "，".join(f"{zh} {sum(r.state == k for r in reviewed)}" for k, zh in REVIEW_ZH.items()) if reviewed else ""
    console.print(f"共 {len(received)} 个文件（{outcomes}），其中 {sum(e.counts for e in received)} 份计入汇总{said}。")


def _review(campaign: Campaign, r) -> Text | str:
    """The collector's latest word on a return, with who, when and the note (a history cell)."""
    review = r.review
    if review is None:
        return ""
    when = campaign.localize(review.reviewed_at).strftime("%m-%d %H:%M")
    said = f"（{review.reviewer} {when}）" + (f"：{review.note}" if review.note else "")
    return Text(REVIEW_ZH[review.state], style=REVIEW_STYLE[review.state]) + plain(said)


def campaigns_table(console: Console, rows: list[dict]) -> None:
    """``c315 campaigns``: every campaign one can work on, and how many returns the store holds of each."""
    table = Table(title="活动")
    for column in ("活动 ID", "汇总单位", "级别", "报送单位数", "上级活动", "来源", "库中报表", "当前"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(plain(row["id"]), plain(row["name"] or NONE_SHOWN), row["level"] or NONE_SHOWN,
                      str(row["units"]) if row["units"] is not None else NONE_SHOWN, plain(row["parent"] or NONE_SHOWN),
                      row["source"], str(row["stored"]), "✓" if row["current"] else "")
    console.print(table)
    console.print("用 --campaign ID 按某一次活动工作；c315 init --campaign ID 目录 复制一份可编辑的活动配置。")


def _several(files: list[str]) -> set[str]:
    """The files (by name or SHA-256) that gave more than one return: each is shown with its place."""
    seen: dict[str, int] = {}
    for file in files:
        seen[file] = seen.get(file, 0) + 1
    return {file for file, count in seen.items() if count > 1}


def _count(n: int, style: str) -> str:
    return f"[{style}]{n}[/]" if n else "0"


def summary_report(console: Console, summary, written, quiet: bool = False) -> None:
    """``c315 summary``: the totals, 其他, each unit's standing, staffing gaps, then every file written;
    ``quiet``: one line saying what was written where."""
    if quiet:
        cutoff = summary.campaign.localize(summary.cutoff).strftime("%Y-%m-%d %H:%M")
        folders = "、".join(dict.fromkeys(f"{path.parent}/" for path in written))
        console.print(plain(f"已汇总截至 {cutoff} 的报表：写入 {len(written)} 个文件，保存在 {folders}。"))
        return
    campaign = summary.campaign
    cutoff = campaign.localize(summary.cutoff).strftime("%Y-%m-%d %H:%M")
    table = Table(title=f"{campaign.district.name} {campaign.attachments.stats.title}（截至 {cutoff}）")
    for column in ("类别", "项目", "单位", "数量", "已报部门", "未报部门"):
        table.add_column(column, overflow="fold")
    for t in summary.totals:
        quantity = "列示" if t.item.free else ("未报告" if t.quantity is None else str(t.quantity))
        table.add_row(plain(t.item.category), plain(t.item.label or "—"), plain(t.item.unit or "—"), quantity, str(len(t.reported_by)), str(len(t.not_reported_by)))
    console.print(table)
    if summary.other:
        other = Table(title="「其他」事项（不合计，按部门列示）")
        for column in ("部门", "类别", "数量", "备注"):
            other.add_column(column, overflow="fold")
        for o in summary.other:
            other.add_row(plain(o.unit), plain(o.item.category), "" if o.quantity is None else str(o.quantity), plain(f"{o.label} {o.remark}".strip()))
        console.print(other)
    status_table(console, campaign, summary.standings, "各部门报送情况")
    gaps = [r for r in summary.rosters if r.shortfall]
    if gaps:
        staffing = Table(title="值守人数不足")
        staffing.add_column("部门")
        staffing.add_column("情况", overflow="fold")
        staffing.add_column("联系人")
        for r in gaps:
            staffing.add_row(plain(r.unit.name), plain(r.shortfall), plain(summary.contact(r.unit)))
        console.print(staffing)
    people = sum(len(r.lines) for r in summary.rosters)
    console.print(f"值班表汇总：{len(summary.rosters)} 个部门、{people} 人；汇总数字背后共有 {summary.warnings_behind_figures} 条提醒（见明细表「问题清单」）。")
    console.print("已写入：")
    for path in written:
        console.print(plain(f"  {path}"))


def verify_report(console: Console, found) -> None:
    """``c315 verify``: each problem between the store and its archive, then the verdict."""
    for p in found:
        console.print(plain(f"{SEVERITY_ZH[p.severity]} {p.code} {p.location}：{p.message}", SEVERITY_STYLE[p.severity]))
    console.print(f"核对完毕：{len(found)} 个问题。" if found else "核对完毕：数据库与存档一致。", markup=False)
