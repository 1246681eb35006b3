"""The summary as files a leader opens and the city ingests: the district's 附件2 (.xlsx/.docx,
the notice's layout, a valid return one level up), the merged duty roster (.xlsx/.docx), and
the breakdown workbook behind every figure. Every file is written atomically; every text that
came from a return is written inert."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from campaign315.common.files import safe_filename, write_atomically
from campaign315.common.safety import set_cell
from campaign315.common.words import ATTACHMENT_ZH, REVIEW_ZH, ROLE_ZH, SEVERITY_ZH, STATUS_ZH
from campaign315.generate.stamp import with_custom_properties
from campaign315.reports.district_form import district_form, stats_document, stats_workbook
from campaign315.reports.printing import (
    PageFrame,
    fit_columns,
    fixed_widths,
    frame_table,
    page_number_footer,
    print_setup,
    repeat_header_and_keep_rows,
    single_borders,
    template_style,
)
from campaign315.reports.summary import Summary
from campaign315.spec.forms import Identity

HEADER_FONT = Font(name="宋体", bold=True)
BODY_FONT = Font(name="宋体")
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
ALERT_FILL = PatternFill("solid", fgColor="FCE4D6")


def cutoff_label(summary: Summary) -> str:
    """The cut-off as file names carry it: 截至2020-03-19 (the whole day), 截至2020-03-19-1730."""
    local = summary.campaign.localize(summary.cutoff)
    if (local.hour, local.minute) == (23, 59):
        return f"截至{local:%Y-%m-%d}"
    return f"截至{local:%Y-%m-%d-%H%M}"


def cutoff_text(summary: Summary) -> str:
    """The cut-off as a printed page says it: 截至 2020-03-19 23:59."""
    return f"截至 {summary.campaign.localize(summary.cutoff):%Y-%m-%d %H:%M}"


def page_frame(summary: Summary, heading: str | None) -> PageFrame:
    return PageFrame(cutoff=f"{summary.campaign.district.name}　{cutoff_text(summary)}", heading=heading)


def write_summary_files(summary: Summary, out: Path, templates_dir: Path) -> list[Path]:
    """Write every summary file into ``out`` and return their paths."""
    from campaign315.generate.docx import render_docx
    from campaign315.generate.xlsx import render_xlsx

    campaign = summary.campaign
    district = campaign.district.name
    stats_spec, roster_spec = campaign.attachments.stats, campaign.attachments.roster
    when = cutoff_label(summary)
    identity = Identity(campaign=campaign.district.parent_campaign or campaign.id, attachment="stats", unit=district)
    form = district_form(summary)
    names = {
        "stats": f"{district}-{stats_spec.label}-{stats_spec.title}-{when}",
        "roster": f"{district}-{roster_spec.label}-{roster_spec.title}（汇总）-{when}",
        "breakdown": f"{district}-3•15报表汇总明细-{when}",
    }
    written = []

    def put(stem: str, suffix: str, data: bytes) -> None:
        path = out / safe_filename(f"{stem}.{suffix}")
        write_atomically(path, data)
        written.append(path)

    frame = page_frame(summary, None)
    put(names["stats"], "xlsx", stats_workbook(
        summary, form, render_xlsx(campaign, "stats", district, form.stats, identity=identity), frame))
    put(names["stats"], "docx", with_custom_properties(stats_document(
        summary, form, render_docx(campaign, "stats", district, form.stats, templates_dir), frame.cutoff), identity.properties()))
    put(names["roster"], "xlsx", _roster_workbook(summary, page_frame(summary, f"{district} {roster_spec.label} {roster_spec.title}（汇总）")))
    put(names["roster"], "docx", _roster_document(summary, templates_dir))
    put(names["breakdown"], "xlsx", _breakdown_workbook(summary, page_frame(summary, f"{district} 3•15报表汇总明细")))
    from campaign315.reports.report_html import render_report

    put(f"{district}-3•15活动情况报告-{when}", "html", render_report(summary, templates_dir).encode("utf-8"))
    return written


# --- the merged duty roster ------------------------------------------------------------------

def _review_said(campaign, shown) -> str:
    """The collector's latest word on a return, for the 报送情况 sheet: ``退回：原因（李明 03-19 15:00）``."""
    review = shown.review if shown else None
    if review is None:
        return ""
    when = campaign.localize(review.reviewed_at).strftime("%m-%d %H:%M")
    note = f"：{review.note}" if review.note else ""
    return f"{REVIEW_ZH[review.state]}{note}（{review.reviewer} {when}）"


def _roster_header(summary: Summary) -> list[str]:
    return ["部门", *summary.campaign.attachments.roster.columns, "职务类别", "值守检查"]




def _roster_rows(summary: Summary):
    """(unit, date, name, position, landline, mobile, role, check) per person, unit by unit."""
    for roster in summary.rosters:
        check = roster.shortfall or "符合要求"
        for line in roster.lines:
            e = line.entry
            yield (roster.unit.name, f"{e.date.month}月{e.date.day}日" if e.date else "", e.name, e.position,
                   e.landline, e.mobile, ROLE_ZH[line.role], check)
    reported = {r.unit.name for r in summary.rosters}
    for s in summary.standings:
        if s.attachment == "roster" and s.unit.name not in reported:
            yield (s.unit.name, "", "", "", "", "", "", f"未计入：{STATUS_ZH[s.status]}")


def _roster_workbook(summary: Summary, frame: PageFrame) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "值班表汇总"
    spec = summary.campaign.attachments.roster
    set_cell(ws.cell(row=1, column=1), f"{spec.title}（{summary.campaign.district.name}汇总，{cutoff_label(summary)}）")
    ws.cell(row=1, column=1).font = Font(name="宋体", bold=True, size=14)
    _table(ws, 2, _roster_header(summary), list(_roster_rows(summary)), frame,
           alert=lambda row: row[-1] != "符合要求")
    return _save(wb)


# The merged roster in Word: 附件1's own template (its fonts and styles), landscape, one row per person.
ROSTER_WIDTHS_CM = (4.4, 2.2, 2.0, 3.4, 3.3, 3.0, 2.0, 5.4)
"""部门 日期 姓名 职务 固定电话 移动电话 职务类别 值守检查 at 五号: a unit's full name and a phone number
on one line; 25.7 cm, the width of a landscape A4 page less 2 cm margins."""
ROSTER_CELL_POINTS = 10.5
"""五号, the usual size of a long table; the forms' 小四 would take a page more."""


def _roster_document(summary: Summary, templates_dir: Path) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    from campaign315.generate.docx import template_path

    campaign = summary.campaign
    document = Document(str(template_path(campaign, "roster", templates_dir)))
    body = document.element.body
    for child in list(body):  # the template's form goes; its styles, fonts and page stay
        if child.tag != qn("w:sectPr"):
            body.remove(child)
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    section.left_margin = section.right_margin = Cm(2.0)
    section.top_margin, section.bottom_margin = Cm(2.0), Cm(1.8)

    def paragraph(text: str, style: str):
        p = document.add_paragraph(style=template_style(document, style))
        p.add_run(text)
        return p

    spec = campaign.attachments.roster
    paragraph(spec.label, "Form Attachment")
    paragraph(f"{spec.title}（{campaign.district.name}汇总）", "Form Title")
    paragraph(f"{cutoff_label(summary)}。按部门排列，右列为该部门的值守人数检查。", "Form Unit")
    header = _roster_header(summary)
    rows = list(_roster_rows(summary))
    table = document.add_table(rows=1 + len(rows), cols=len(header))
    table.style = template_style(document, "Table Grid")
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    single_borders(table)
    widths = [Cm(w) for w in ROSTER_WIDTHS_CM]
    grid = [row.cells for row in table.rows]  # fetch the grid once: table.cell() rebuilds it per call
    for r, values in enumerate([header, *rows]):
        for col, value in enumerate(values):
            cell = grid[r][col]
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            p = cell.paragraphs[0]
            p.style = template_style(document, "Form Head" if r == 0 else "Form Cell")
            p.add_run(str(value)).font.size = Pt(ROSTER_CELL_POINTS)
    fixed_widths(table, widths)
    repeat_header_and_keep_rows(table)
    page_number_footer(section, f"{campaign.district.name}　{cutoff_text(summary)}")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()



# --- the breakdown workbook ------------------------------------------------------------------


def _breakdown_workbook(summary: Summary, frame: PageFrame) -> bytes:
    campaign = summary.campaign
    items = campaign.attachments.stats.items
    wb = Workbook()

    ws = wb.active
    ws.title = "分部门明细"
    units = [u.name for u in campaign.units_owing("stats")]
    by_unit = {u: {} for u in units}
    for total in summary.totals:
        for source in total.sources:
            by_unit[source.unit][total.item.key] = source.quantity
    # category, item and unit on lines of their own: 18 columns fit a landscape page across
    header = ["部门", *("\n".join(part for part in (i.category, i.label, f"（{i.unit}）" if i.unit else "") if part) for i in items)]
    rows = [[u, *(by_unit[u].get(i.key, "") for i in items)] for u in units]
    rows.append(["合计", *("" if t.quantity is None else t.quantity for t in summary.totals)])
    _table(ws, 1, header, rows, frame, header_sets_width=False, min_width=9)
    for cell in ws[1 + len(rows)]:  # the 合计 row
        cell.font = HEADER_FONT
    ws.cell(row=len(rows) + 3, column=1, value="空白表示未报告（不是 0）；「其他」各行不合计，见「其他事项」。每个数字的来源文件和单元格见「来源」。")

    status = wb.create_sheet("报送情况")
    status_rows = []
    for s in summary.standings:
        shown = s.shown
        status_rows.append((s.unit.name, ATTACHMENT_ZH[s.attachment], STATUS_ZH[s.status],
                            campaign.localize(shown.received_at).strftime("%Y-%m-%d %H:%M") if shown else "",
                            s.problem_count if shown else "", shown.filename if shown else "",
                            _review_said(campaign, shown), s.contact))
    _table(status, 1, ["部门", "表格", "状态", "接收时间", "问题数", "文件", "审核", "联系人"], status_rows, frame,
           alert=lambda row: row[2] in (STATUS_ZH["missing"], STATUS_ZH["rejected"], STATUS_ZH["late"], STATUS_ZH["after_cutoff"]))

    problems = wb.create_sheet("问题清单")
    _table(problems, 1, ["部门", "文件", "位置", "级别", "代码", "填写内容", "说明"],
           [(p.unit, p.filename, str(p.problem.location), SEVERITY_ZH[p.problem.severity], p.problem.code,
             p.problem.value, p.problem.message) for p in summary.problems], frame)

    roster = wb.create_sheet("值班表")
    _table(roster, 1, _roster_header(summary), list(_roster_rows(summary)), frame, alert=lambda row: row[-1] != "符合要求")

    other = wb.create_sheet("其他事项")
    _table(other, 1, ["部门", "类别", "事项", "数量", "备注"],
           [(o.unit, o.item.category, o.label or o.item.label, "" if o.quantity is None else o.quantity, o.remark) for o in summary.other],
           frame)

    sources = wb.create_sheet("来源")
    _table(sources, 1, ["项目", "部门", "数量", "文件", "单元格", "接收时间", "备注"],
           [(t.item.title, s.unit, s.quantity, s.filename, str(s.cell or ""), campaign.localize(s.received_at).strftime("%Y-%m-%d %H:%M"), s.remark)
            for t in summary.totals for s in t.sources], frame)
    return _save(wb)


def _table(ws, first_row: int, header: list[str], rows, frame: PageFrame, alert=None, *,
           header_sets_width: bool = True, min_width: float = 6) -> None:
    """The header at ``first_row``, the rows under it, framed and sized to print: see
    :mod:`campaign315.reports.printing`. The header (and a 部门 first column) repeat on every page."""
    for col, text in enumerate(header, start=1):
        cell = ws.cell(row=first_row, column=col)
        set_cell(cell, text)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for r, values in enumerate(rows, start=first_row + 1):
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=col)
            set_cell(cell, value if value != "" else None)
            cell.font = BODY_FONT
            if alert and alert(values):
                cell.fill = ALERT_FILL
    last_row = first_row + len(rows)
    frame_table(ws, first_row, last_row, len(header))
    fit_columns(ws, first_row, last_row, min_width=min_width, max_width=MAX_COLUMN_WIDTH, header_sets_width=header_sets_width)
    ws.freeze_panes = ws.cell(row=first_row + 1, column=2)
    print_setup(ws, frame, title_rows=(first_row, first_row), repeat_first_column=header[0] == "部门")


MAX_COLUMN_WIDTH = 36
"""Past this a text column wraps (file names, 说明, 备注) instead of widening the sheet."""


def _save(wb: Workbook) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
