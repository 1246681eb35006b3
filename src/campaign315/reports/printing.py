"""How the summary's files print: what a person would set before printing a report.

Workbooks (openpyxl): A4, landscape when the table is wider than a portrait page, fitted to one
page wide (as many pages tall as it takes), the header row — and the 部门 column — repeated on
every page, a page header naming the sheet, a footer with the cut-off and 第 N 页，共 M 页,
columns wide enough for a unit's full name and row heights that show wrapped text.
Word documents (python-docx): header rows repeated on every page, no row split across pages,
and the forms' own fonts (the table styles come from the forms' templates).

Widths are estimated from the text, counting a Chinese character as one em and anything else as
0.6 (:func:`text_width`); no font is measured, so every width keeps a margin.

>>> text_width("市场和网络交易监管科"), text_width("13682055679")
(10.0, 6.6)
>>> wrapped_lines("市场和网络交易监管科", 4), wrapped_lines("甲\\n乙", 4)
(3, 2)
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

from openpyxl.styles import Alignment, Border, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

# --- measuring text ----------------------------------------------------------------------------


def text_width(text: str) -> float:
    """The width of one line of ``text`` in ems: Chinese (and ambiguous-width marks such as ·
    and “”, which a Chinese font draws full width) one em, anything else 0.6 — half an em in
    宋体, more in the Latin faces that stand in for it where it is not installed (DejaVu)."""
    return round(sum(1.0 if unicodedata.east_asian_width(ch) in "WFA" else 0.6 for ch in text), 3)


def wrapped_lines(text: str, per_line: float) -> int:
    """How many lines ``text`` takes in a cell ``per_line`` ems wide (at least 1)."""
    return sum(max(1, math.ceil(text_width(part) / per_line - 1e-9)) for part in str(text).split("\n"))


# --- workbooks ---------------------------------------------------------------------------------

UNITS_PER_EM = 2.2
"""Column width units (the width of a digit of the default font) taken by one Chinese
character of an 11 pt 宋体 cell."""
LINE_POINTS = 15.0
"""Height of one line of 11 pt text in a row, in points."""
MAX_ROW_POINTS = 409
"""The tallest row a workbook may have (Excel's limit)."""
PORTRAIT_UNITS = 95
"""About what fits across a portrait A4 page at 100 %; a wider table prints landscape."""

_THIN = Side(style="thin")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
WRAP = Alignment(wrap_text=True, vertical="center")


@dataclass(frozen=True)
class PageFrame:
    """What every printed page of one file says above and below the table."""

    cutoff: str
    """Printed in the footer: ``截至 2020-03-19 23:59``."""
    heading: str | None = None
    """Printed above each page with the sheet's name: ``和平区市场监管局 3•15报表汇总明细 — 来源``;
    None prints no header (the district's 附件2 looks like the notice's form)."""


def fit_columns(ws: Worksheet, header_row: int, last_row: int, *, min_width: float = 6, max_width: float = 40,
                header_sets_width: bool = True, stretch_last_to: float | None = None) -> None:
    """Column widths from the longest line of text in each column of the table (a
    unit's full name is never cut), between ``min_width`` and ``max_width``; longer text wraps
    and its row grows to show every line. With ``header_sets_width`` False a long header wraps
    over the width its column's body needs instead of widening it. ``stretch_last_to`` widens the
    last column until the table is that wide (a page's width), so its text takes fewer lines."""
    widths: dict[int, float] = {}
    for row in ws.iter_rows(min_row=header_row if header_sets_width else header_row + 1, max_row=last_row):
        for cell in row:
            if cell.value is not None:
                widths[cell.column] = max(widths.get(cell.column, 0), _units(_longest_line(cell.value)))
    for column in range(1, ws.max_column + 1):
        width = min(max(widths.get(column, 0), min_width), max_width)
        ws.column_dimensions[get_column_letter(column)].width = math.ceil(width * 10) / 10
    if stretch_last_to:
        last = ws.column_dimensions[get_column_letter(ws.max_column)]
        last.width = math.floor(max(last.width, last.width + stretch_last_to - sheet_width(ws)) * 10) / 10
    for row in ws.iter_rows(min_row=header_row, max_row=last_row):
        lines = max((wrapped_lines(str(cell.value), _ems(ws.column_dimensions[get_column_letter(cell.column)].width))
                     for cell in row if cell.value is not None), default=1)
        if lines > 1:
            ws.row_dimensions[row[0].row].height = min(MAX_ROW_POINTS, lines * LINE_POINTS + 3)


def frame_table(ws: Worksheet, first_row: int, last_row: int, last_column: int) -> None:
    """Thin borders round every cell of the table and text wrapped inside its cell."""
    for row in ws.iter_rows(min_row=first_row, max_row=last_row, max_col=last_column):
        for cell in row:
            cell.border = BORDER
            cell.alignment = Alignment(wrap_text=True, vertical="center",
                                       horizontal=cell.alignment.horizontal)


def print_setup(ws: Worksheet, frame: PageFrame, *, title_rows: tuple[int, int] | None,
                repeat_first_column: bool = False, landscape: bool | None = None) -> None:
    """A4, one page wide; landscape when the columns are wider than a portrait page (unless
    ``landscape`` says); ``title_rows`` (first, last) and the first column repeated on every page;
    the header and footer of ``frame``."""
    if landscape is None:
        landscape = sheet_width(ws) > PORTRAIT_UNITS
    setup = ws.page_setup
    setup.paperSize = ws.PAPERSIZE_A4
    setup.orientation = "landscape" if landscape else "portrait"
    setup.fitToWidth = 1
    setup.fitToHeight = 0           # as many pages tall as the rows take
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    margins = ws.page_margins
    margins.left = margins.right = 0.5
    margins.top = margins.bottom = 0.75
    margins.header = margins.footer = 0.3
    if title_rows:
        ws.print_title_rows = f"{title_rows[0]}:{title_rows[1]}"
    if repeat_first_column:
        ws.print_title_cols = "A:A"
    put_header_footer(ws, frame)


def put_header_footer(ws: Worksheet, frame: PageFrame) -> None:
    """Header: the frame's heading and the sheet's name; footer: the cut-off and 第 N 页，共 M 页
    (numbered through the whole workbook when it is printed at once)."""
    if frame.heading is not None:
        ws.oddHeader.center.text = f"{_literal(frame.heading)} — &A"
        ws.oddHeader.center.size = 9
    ws.oddFooter.left.text = _literal(frame.cutoff)
    ws.oddFooter.right.text = "第 &P 页，共 &N 页"
    ws.oddFooter.left.size = ws.oddFooter.right.size = 9


def sheet_width(ws: Worksheet) -> float:
    """The sum of the used columns' widths, in column width units."""
    return sum(ws.column_dimensions[get_column_letter(c)].width or 8.43 for c in range(1, ws.max_column + 1))


def _literal(text: str) -> str:
    """Text shown as written in a header or footer (``&`` starts a code there)."""
    return text.replace("&", "&&")


def _longest_line(value) -> str:
    return max(str(value).split("\n"), key=text_width)


def _units(text: str) -> float:
    return text_width(text) * UNITS_PER_EM + 2


def _ems(width: float) -> float:
    return max(1.0, (width - 2) / UNITS_PER_EM)


# --- Word documents ----------------------------------------------------------------------------


def repeat_header_and_keep_rows(table, header_rows: int = 1) -> None:
    """The first ``header_rows`` rows print at the top of every page; no row splits across pages."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for index, row in enumerate(table.rows):
        tr_pr = row._tr.get_or_add_trPr()
        if tr_pr.find(qn("w:cantSplit")) is None:
            tr_pr.append(OxmlElement("w:cantSplit"))
        if index < header_rows and tr_pr.find(qn("w:tblHeader")) is None:
            tr_pr.append(OxmlElement("w:tblHeader"))


def template_style(document, name: str):
    """The template's style of that name (``Form Cell``, ``Table Grid``…), or None — the
    document's default — when the office removed it from its copy of the template."""
    try:
        return document.styles[name]
    except KeyError:
        return None


def single_borders(table) -> None:
    """Single 0.75 pt lines round and inside every cell, whatever table style the template has."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tbl_pr = table._tbl.tblPr
    old = tbl_pr.find(qn("w:tblBorders"))
    if old is not None:
        tbl_pr.remove(old)
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        line = OxmlElement(f"w:{edge}")
        for key, value in (("val", "single"), ("sz", "6"), ("space", "0"), ("color", "000000")):
            line.set(qn(f"w:{key}"), value)
        borders.append(line)
    # CT_TblPr order: …, tblW, jc, tblCellSpacing, tblInd, tblBorders, shd, tblLayout, tblCellMar, tblLook
    anchor = next((tbl_pr.find(qn(tag)) for tag in ("w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption")
                   if tbl_pr.find(qn(tag)) is not None), None)
    if anchor is None:
        tbl_pr.append(borders)
    else:
        anchor.addprevious(borders)


def fixed_widths(table, widths) -> None:
    """Columns exactly ``widths`` wide (grid, cells and table), whatever the text: word processors
    lay a table out by its grid, and an auto-fitted table grows past the page."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width
    tbl_pr = table._tbl.tblPr
    tbl_w = tbl_pr.find(qn("w:tblW"))
    if tbl_w is None:
        tbl_w = OxmlElement("w:tblW")
        tbl_pr.append(tbl_w)
    tbl_w.set(qn("w:type"), "dxa")
    tbl_w.set(qn("w:w"), str(sum(int(w.twips) for w in widths)))


def page_number_footer(section, left: str) -> None:
    """The section's footer, centred: ``left`` (who and the cut-off), then 第 N 页，共 M 页 (PAGE
    and NUMPAGES fields, which the word processor fills in)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    footer = section.footer
    footer.is_linked_to_previous = False
    paragraph = footer.paragraphs[0]
    paragraph.clear()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    runs = [paragraph.add_run(f"{left}　　第 ")]
    for code, after in (("PAGE", " 页，共 "), ("NUMPAGES", " 页")):
        shown = paragraph.add_run("1")   # what shows until the fields are updated
        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), f" {code} ")
        shown._r.addprevious(field)
        field.append(shown._r)
        runs += [shown, paragraph.add_run(after)]
    for run in runs:
        run.font.size = Pt(9)
