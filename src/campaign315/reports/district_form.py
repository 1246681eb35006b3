"""The district's own 附件2 as it goes to the city and to leaders: the notice's form with the
district's totals, on one A4 page whatever the units wrote under 其他.

The two 其他 rows have no figure of their own; they carry each unit's entry in the narrow 备注
cell. When a row's entries fit that cell (:func:`remark_fits`, two lines of the Word form's
备注 column) they are printed there in full. When they do not, the row says how many there are
and where to find them (``共 3 项，见附表``) and the entries go on a 附表 — the form's
continuation, on its own page: a second sheet of the workbook, a second table of the document.
The figures and layout of the form stay the notice's; the file stays a return one level up.

>>> remark_fits("区消协：进社区宣传 2"), remark_fits("市场和网络交易监管科：网购维权直播1场（与电商平台合办） 1")
(True, False)
>>> see_annex(3)
'共 3 项，见附表'
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from campaign315.reports import printing
from campaign315.reports.summary import OtherEntry, Summary
from campaign315.spec.forms import SHEET_NAMES, SHEET_PASSWORD, UNIT_FIELD_LABEL, ActivityStats, StatsLayout

REMARK_LINE_EMS = 7.5
"""Chinese characters on one line of the Word form's 备注 cell (3.8 cm at 小四, less the cell's
margins: 8), kept half a character short for the line-breaking rules of punctuation."""
REMARK_LINES = 2
"""Lines a 其他 row may take and the form still print on one page (measured through LibreOffice,
whose CJK fonts are taller than Word's 宋体: three lines in both rows push the footer over)."""
XLSX_REMARK_EMS = 12.5
"""Characters on one line of the workbook form's 备注 cell (column E, 30 wide)."""

ANNEX_LABEL = "附表"
ANNEX_SHEET = "附表"
ANNEX_HEADER_ROW = 4
ANNEX_COLUMNS = ("序号", "项目", "部门", "数量", "备注")
"""The 附表's header. It must not hold all four of the form's column labels (项目 单位 数量 备注):
the reader finds the form by them."""


def remark_fits(text: str) -> bool:
    """Does a 其他 row's remark fit its cell on the printed form?"""
    return printing.wrapped_lines(text, REMARK_LINE_EMS) <= REMARK_LINES


def see_annex(count: int) -> str:
    """What a 其他 row says when its entries are on the 附表."""
    return f"共 {count} 项，见{ANNEX_LABEL}"


@dataclass
class DistrictForm:
    """The district's 附件2 as printed: the form's values, and the 其他 entries on its 附表."""

    stats: ActivityStats
    annex: list[OtherEntry]
    """Empty when every 其他 row's entries fit its 备注 cell (then there is no 附表)."""


def district_form(summary: Summary) -> DistrictForm:
    """The summary's 附件2 with each 其他 row either in full or pointing at the 附表."""
    stats = summary.district_stats()
    free = {item.key for item in summary.campaign.attachments.stats.items if item.free}
    lines, annex = [], []
    for line in stats.lines:
        if line.key in free and line.remark and not remark_fits(line.remark):
            listed = summary.listed_other(line.key)
            annex.extend(listed)
            line = line.model_copy(update={"remark": see_annex(len(listed))})
        lines.append(line)
    return DistrictForm(stats.model_copy(update={"lines": lines}), annex)


def annex_title(summary: Summary) -> str:
    """2020年3•15活动工作情况统计表“其他”项明细."""
    return f"{summary.campaign.attachments.stats.title}“其他”项明细"


def annex_note(summary: Summary) -> str:
    spec = summary.campaign.attachments.stats
    return f"注：本表为{spec.label}《{spec.title}》的附表。「其他」行各部门所报事项不同，不合计，逐项列于此表。"


def annex_rows(annex: list[OtherEntry]) -> list[tuple]:
    """(序号, 项目, 部门, 数量, 备注) per entry; 备注 holds what the unit wrote it counts."""
    return [
        (n, entry.item.title, entry.unit, entry.quantity,
         "：".join(part for part in (entry.label, entry.remark) if part) or "（未说明）")
        for n, entry in enumerate(annex, start=1)
    ]


# --- the workbook ------------------------------------------------------------------------------


def stats_workbook(summary: Summary, form: DistrictForm, rendered: bytes, frame: printing.PageFrame) -> bytes:
    """The form as ``generate`` rendered it, plus: 其他 rows tall enough for their text, a footer
    (cut-off, page numbers) and, when there is one, the 附表 sheet after the form."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(rendered))
    ws = wb[SHEET_NAMES["stats"]]
    layout = StatsLayout(summary.campaign.attachments.stats)
    for line in form.stats.lines:
        if line.remark:
            lines = printing.wrapped_lines(line.remark, XLSX_REMARK_EMS)
            row = layout.rows[line.key]
            ws.row_dimensions[row].height = max(ws.row_dimensions[row].height or 0, lines * 15 + 4)
    printing.put_header_footer(ws, frame)
    if form.annex:
        _annex_sheet(wb, summary, form, frame)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _annex_sheet(wb, summary: Summary, form: DistrictForm, frame: printing.PageFrame) -> None:
    from openpyxl.styles import Alignment

    from campaign315.common.safety import set_cell
    from campaign315.generate.xlsx import BODY_FONT, BOLD_FONT, BORDER, CENTER, LEFT, TITLE_FONT

    ws = wb.create_sheet(ANNEX_SHEET, index=wb.sheetnames.index(SHEET_NAMES["stats"]) + 1)
    last = "E"
    ws["A1"] = ANNEX_LABEL
    ws["A1"].font = BOLD_FONT
    ws.merge_cells(f"A2:{last}2")
    ws["A2"] = annex_title(summary)
    ws["A2"].font, ws["A2"].alignment = TITLE_FONT, CENTER
    ws.row_dimensions[2].height = 36
    ws["A3"] = f"{UNIT_FIELD_LABEL}：{summary.campaign.district.name}"
    ws["A3"].font = BOLD_FONT
    header_row = ANNEX_HEADER_ROW
    for col, text in enumerate(ANNEX_COLUMNS, start=1):
        cell = ws.cell(row=header_row, column=col, value=text)
        cell.font, cell.alignment, cell.border = BOLD_FONT, CENTER, BORDER
    rows = annex_rows(form.annex)
    for r, values in enumerate(rows, start=header_row + 1):
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=col)
            set_cell(cell, value)
            cell.font, cell.border = BODY_FONT, BORDER
            cell.alignment = LEFT if col in (3, 5) else CENTER
    last_row = header_row + len(rows)
    printing.fit_columns(ws, header_row, last_row, max_width=44, stretch_last_to=printing.PORTRAIT_UNITS)  # 备注 takes the rest
    note = last_row + 2
    ws.merge_cells(f"A{note}:{last}{note}")
    ws[f"A{note}"] = annex_note(summary)
    ws[f"A{note}"].font = BODY_FONT
    ws[f"A{note}"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[note].height = printing.wrapped_lines(annex_note(summary), 40) * 15 + 4
    printing.print_setup(ws, frame, title_rows=(header_row, header_row), landscape=False)
    ws.print_area = f"A1:{last}{note}"
    ws.protection.sheet = True
    ws.protection.password = SHEET_PASSWORD


# --- the document ------------------------------------------------------------------------------

ANNEX_WIDTHS_CM = (1.4, 3.4, 4.7, 1.5, 4.8)
"""序号 项目 部门 数量 备注 — the form's 15.8 cm of text width; 宣传教育／其他 and a unit's full
name on one line."""


def stats_document(summary: Summary, form: DistrictForm, rendered: bytes, cutoff: str) -> bytes:
    """The form as ``generate`` rendered it, plus a footer (cut-off, page numbers) and, when there
    is one, the 附表 on a page of its own, in the form's own styles."""
    from docx import Document


    document = Document(io.BytesIO(rendered))
    if document.tables:  # the template has these; an office's restyled copy may have lost them
        printing.repeat_header_and_keep_rows(document.tables[0])
    if form.annex:
        _annex_table(document, summary, form)
    for section in document.sections:
        printing.page_number_footer(section, cutoff)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _annex_table(document, summary: Summary, form: DistrictForm) -> None:
    from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm


    def paragraph(text: str, style: str):
        p = document.add_paragraph(style=printing.template_style(document, style))
        p.add_run(text)
        return p

    paragraph(ANNEX_LABEL, "Form Attachment").paragraph_format.page_break_before = True
    paragraph(annex_title(summary), "Form Title")
    paragraph(f"{UNIT_FIELD_LABEL}：{summary.campaign.district.name}", "Form Unit")
    rows = annex_rows(form.annex)
    table = document.add_table(rows=1 + len(rows), cols=len(ANNEX_COLUMNS))
    table.style = printing.template_style(document, "Table Grid")
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    printing.single_borders(table)
    widths = [Cm(w) for w in ANNEX_WIDTHS_CM]
    grid = [row.cells for row in table.rows]
    for r, values in enumerate([ANNEX_COLUMNS, *rows]):
        for col, value in enumerate(values):
            cell = grid[r][col]
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            p = cell.paragraphs[0]
            p.style = printing.template_style(document, "Form Head" if r == 0 else "Form Cell")
            if r and col in (2, 4):
                p.alignment = WD_ALIGN_PARAGRAPH.LEFT
            p.add_run("" if value is None else str(value))
    printing.fixed_widths(table, widths)
    printing.repeat_header_and_keep_rows(table)
    paragraph(annex_note(summary), "Form Note")

