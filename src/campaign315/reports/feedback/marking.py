"""A department's own file, marked: a copy of an archived return with each problem cell filled
(yellow: warning, red: error) and commented (Excel comments in a workbook, Word comments in a
document). Cells are addressed by their :class:`~campaign315.spec.location.Location` — the very
value the reader made — and tables, rows, grid columns and paragraphs are counted by the reader's
own public helpers, so a marked cell is the cell the problem was found in."""

from __future__ import annotations

import io
import warnings

from campaign315.common.words import SEVERITY_ZH
from campaign315.spec.location import Location
from campaign315.spec.problems import Problem, Severity

MARK_COLOURS: dict[Severity, str] = {"warning": "FFFF00", "error": "FF8080"}
_TCPR_AFTER_SHD = ("w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark",
                   "w:headers", "w:cellIns", "w:cellDel", "w:cellMerge", "w:tcPrChange")


def comment_text(problems: list[Problem]) -> str:
    """What a marked cell's comment says: one line per problem."""
    return "\n".join(f"【{SEVERITY_ZH[p.severity]}】{p.message}" for p in problems)


def _worst(problems: list[Problem]) -> Severity:
    return "error" if any(p.is_error for p in problems) else "warning"


def mark_workbook(data: bytes, marks: dict[Location, list[Problem]], author: str) -> bytes:
    """A copy of a workbook with each marked cell filled and given an Excel comment saying what is
    wrong. A cell inside a merged range is marked on the range's first cell; a sheet or cell that
    is not there (or a location that is not a sheet cell) is left out."""
    from openpyxl import load_workbook
    from openpyxl.cell.cell import MergedCell
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # notes about features openpyxl drops are not the filler's concern
        workbook = load_workbook(io.BytesIO(data))
    on_cell: dict[tuple[str, int, int], list[Problem]] = {}
    for where, problems in marks.items():
        if where.kind != "cell" or where.name not in workbook.sheetnames or where.row < 1 or where.column < 1:
            continue
        sheet = workbook[where.name]
        if where.row > 1_048_576 or where.column > 16_384:
            continue
        cell = sheet.cell(where.row, where.column)
        if isinstance(cell, MergedCell):
            merged = next(r for r in sheet.merged_cells.ranges if cell.coordinate in r)
            cell = sheet.cell(merged.min_row, merged.min_col)
        on_cell.setdefault((where.name, cell.row, cell.column), []).extend(problems)
    for (sheet_name, row, column), problems in on_cell.items():
        cell = workbook[sheet_name].cell(row, column)
        cell.fill = PatternFill("solid", fgColor=MARK_COLOURS[_worst(problems)])
        text = comment_text(problems)
        if cell.comment is not None and cell.comment.text.strip():
            text += f"\n（原批注）{cell.comment.text.strip()}"
        rows = sum(len(line) // 18 + 1 for line in text.splitlines())
        cell.comment = Comment(text, author, height=min(40 + 15 * rows, 400), width=260)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def mark_document(data: bytes, marks: dict[Location, list[Problem]], author: str) -> bytes:
    """A copy of a Word document with each marked table cell shaded and a Word comment on it (on
    a marked paragraph: the comment alone). Without comment support in python-docx, a red
    bracketed note is added to the cell instead."""
    from docx import Document
    from docx.shared import RGBColor
    from docx.table import Table, _Cell
    from docx.text.paragraph import Paragraph

    from campaign315.intake.read.docx import W, body_blocks

    document = Document(io.BytesIO(data))
    tables, paragraphs = [], []
    for block in body_blocks(document.element.body):
        (tables if block.tag == f"{W}tbl" else paragraphs).append(block)
    for where, problems in marks.items():
        if where.kind == "table-cell":
            tc = _grid_cell(tables, where)
            if tc is None:
                continue
            _shade(tc, MARK_COLOURS[_worst(problems)])
            cell = _Cell(tc, Table(tables[where.table - 1], document))
            holders = cell.paragraphs or [cell.add_paragraph()]
        elif where.kind == "paragraph" and 1 <= where.row <= len(paragraphs):
            holders = [Paragraph(paragraphs[where.row - 1], document)]
        else:
            continue
        text = comment_text(problems)
        if hasattr(document, "add_comment"):
            runs = [run for paragraph in holders for run in paragraph.runs] or [holders[0].add_run()]
            document.add_comment(runs, text=text, author=author, initials=author[:2])
        else:
            note = holders[-1].add_run(f"【{text.replace(chr(10), '；')}】")
            note.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _grid_cell(tables: list, where: Location):
    """The w:tc covering the location's grid column (gridSpan counted as the reader counts it)."""
    from campaign315.intake.read.docx import children, grid_span

    if not 1 <= where.table <= len(tables):
        return None
    rows = list(children(tables[where.table - 1], "tr"))
    if not 1 <= where.row <= len(rows):
        return None
    start = 1
    for tc in children(rows[where.row - 1], "tc"):
        span = grid_span(tc)
        if start <= where.column < start + span:
            return tc
        start += span
    return None


def _shade(tc, fill: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = tc.get_or_add_tcPr()
    shading = properties.find(qn("w:shd"))
    if shading is None:
        shading = OxmlElement("w:shd")
        properties.insert_element_before(shading, *_TCPR_AFTER_SHD)
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
