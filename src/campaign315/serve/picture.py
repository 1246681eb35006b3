"""A picture of each return found in an uploaded file, for the department page's 检查: the form's
own cells as the department filled them, each problem's cell marked with the problem's number.

A picture is plain JSON-able data, read again from the uploaded bytes through the readers'
public functions (:func:`~campaign315.intake.read.package.read_package`, and
:func:`~campaign315.intake.read.zipped.members` for a zip of files), so it shows exactly what
ingest read — no second way of reading a file:

- a workbook's form (``统计表``, any .xlsx/.xls/.ods/.xlsb sheet): the sheet's used range, rows ×
  columns with the values as read (a merged title is its first cell, the rest empty);
- a document's form (``表1``): the table's rows × grid cells, with the paragraphs just before and
  after it (the title, 填报部门, 填报人) as rows of one cell across.

Each picture is capped (:data:`MAX_ROWS` × :data:`MAX_COLUMNS`, :data:`MAX_TEXT` characters a
cell, :data:`MAX_PICTURES` an upload), so a hostile file cannot blow up the page. A problem that
points at no cell of the picture — the whole file or form, or a cell outside the cap — is listed
in ``outside``, for the page to show above the picture.

>>> from campaign315.intake.read.cells import Package, Sheet
>>> from campaign315.spec.problems import Code, problem
>>> sheet = Sheet("统计表", values=[["2020年3•15活动工作情况统计表", "", ""], ["组织普法活动", "场次", -3.0]])
>>> negative = problem(Code.QUANTITY_NEGATIVE, Location.cell("统计表", 2, 3), "-3")
>>> shown = picture(Package("xlsx", [sheet]), Location.sheet("统计表"), [negative])
>>> shown["columns"], [row["label"] for row in shown["rows"]], shown["outside"]
(['A', 'B', 'C'], ['1', '2'], [])
>>> shown["rows"][0]["cells"][0], shown["rows"][1]["cells"]
({'text': '2020年3•15活动工作情况统计表', 'span': 3}, [{'text': '组织普法活动'}, {'text': '场次'}, {'text': '-3', 'marks': [0]}])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from campaign315.spec.location import Location, column_letter

if TYPE_CHECKING:
    from campaign315.intake.ingest import FileResult
    from campaign315.intake.read.cells import Package, Row, Sheet
    from campaign315.spec.problems import Problem

MAX_ROWS = 60
"""Rows of cells a picture shows at most (a form has about 25)."""
MAX_COLUMNS = 12
"""Columns a picture shows at most (a form has 5)."""
MAX_TEXT = 40
"""Characters of one cell shown; a longer value ends in …"""
MAX_PICTURES = 8
"""Pictures of one upload at most (a zip of many files shows its first forms)."""
SPREAD_FROM = 8
"""A lone text of this many characters in a row runs over the empty cells after it (a title)."""
PARAGRAPHS_AROUND = 3
"""A document's paragraphs shown just above and just below its form's table (title, 填报部门, 填报人)."""

_UNREADABLE = (RecursionError, MemoryError, ValueError, KeyError, IndexError, TypeError, AttributeError,
               OverflowError)
"""What a reader may raise on a file shaped in a way nobody foresaw: ingest rejects the file on these
(``file-corrupt``), and its picture is simply not drawn."""


def pictures(data: bytes, results: Sequence[FileResult], unit: str | None = None) -> list[dict | None]:
    """The picture of each result's form, in the results' order (None where there is none: a file
    that could not be read, a return of another unit than ``unit``, past :data:`MAX_PICTURES`).

    ``data`` is the uploaded file and ``results`` what :func:`~campaign315.intake.ingest.ingest_upload`
    said of it (one per return; a zip's members in the zip's order). Each picture is
    ``{"place", "columns", "rows": [{"label", "cells": [{"text", "marks"?, "span"?, "covered"?}]}],
    "outside", "cut": {"rows", "columns"}}``; ``marks`` and ``outside`` hold indexes into that
    result's ``problems``."""
    shown: list[dict | None] = [None] * len(results)
    made = 0
    for indexes, source in _files(data, results):
        wanted = [i for i in indexes if _pictured(results[i], unit)]
        if source is None or not wanted or made >= MAX_PICTURES:
            continue
        package = _read(source, results[indexes[0]].file)
        if package is None:
            continue
        for i in wanted[:MAX_PICTURES - made]:
            shown[i] = picture(package, results[i].place, results[i].problems)
            made += shown[i] is not None
    return shown


def picture(package: Package, place: Location, problems: Sequence[Problem]) -> dict | None:
    """The picture of the form at ``place`` (a sheet, or a document's ``表N``) in a file read by
    :func:`~campaign315.intake.read.package.read_package`, with ``problems`` marked; None when the
    file holds no such place."""
    if place.kind == "table":
        body = next((s for s in package.sheets if s.values is None), None)
        return _of_table(body, place, problems) if body is not None else None
    if place.kind != "sheet":
        return None
    sheet = next((s for s in package.sheets if s.name == place.name), None)
    if sheet is None:
        return None
    if sheet.values is not None:
        return _of_sheet(sheet, place, problems)
    return _of_body(sheet, place, problems)


# --- which bytes hold which results ---------------------------------------------------------------


def _files(data: bytes, results: Sequence[FileResult]) -> list[tuple[list[int], bytes | None]]:
    """The results grouped by the file they came from (the upload, or each member of a zip), each
    group with that file's bytes (None when they cannot be told)."""
    from campaign315.intake.read.zipparts import Unreadable
    from campaign315.intake.read.zipped import is_archive, members

    groups: list[list[int]] = []
    for i, result in enumerate(results):
        if groups and results[groups[-1][0]].file == result.file:
            groups[-1].append(i)
        else:
            groups.append([i])
    if not is_archive(data):
        return [(group, data if len(groups) == 1 else None) for group in groups]
    try:
        inside = iter(members(data, ""))  # named "!member.xlsx": each result's file ends so
    except Unreadable:
        return [(group, None) for group in groups]
    found: list[tuple[list[int], bytes | None]] = []
    for group in groups:
        file = results[group[0]].file
        member = next((m for m in inside if file.endswith(m.name)), None)
        found.append((group, member.data if member is not None and not member.too_deep else None))
    return found


def _pictured(result: FileResult, unit: str | None) -> bool:
    """A form was found, and it is not another unit's (the page shows only its own unit's returns)."""
    return result.place is not None and result.place.kind in ("sheet", "table") and \
        (unit is None or result.unit in (None, unit))


def _read(data: bytes, name: str) -> Package | None:
    from campaign315.intake.read.package import read_package
    from campaign315.intake.read.zipparts import Unreadable

    try:
        return read_package(data, name)
    except (Unreadable, *_UNREADABLE):
        return None


# --- the grids ------------------------------------------------------------------------------------


class _Marks:
    """Which problems point at which place, and which of them a picture has shown."""

    def __init__(self, problems: Sequence[Problem]):
        self.at: dict[Location, list[int]] = {}
        for index, found in enumerate(problems):
            if found.location.in_file:
                self.at.setdefault(found.location, []).append(index)
        self.count = len(problems)
        self.shown: set[int] = set()

    def cell(self, text: str, where: Location) -> dict:
        cell: dict = {"text": _cut(text)}
        marks = self.at.get(where)
        if marks:
            cell["marks"] = marks
            self.shown.update(marks)
        return cell

    def outside(self) -> list[int]:
        return [i for i in range(self.count) if i not in self.shown]


def _of_sheet(sheet: Sheet, place: Location, problems: Sequence[Problem]) -> dict:
    """A workbook sheet's used range (and every problem cell of it), from its top left, capped."""
    marks = _Marks(problems)
    rows, columns = set(), set()
    for r, values in enumerate(sheet.values or (), start=1):
        for c, value in enumerate(values, start=1):
            if value is not None and value != "" and not (value.__class__ is str and not value.strip()):
                rows.add(r)
                columns.add(c)
    rows.update(r for r, _ in sheet.formulas)
    columns.update(c for _, c in sheet.formulas)
    for where in marks.at:
        if where.kind == "cell" and where.name == sheet.name:
            rows.add(where.row)
            columns.add(where.column)
    if not rows:
        return _picture(place, [], [], marks, 0, 0)
    top, left = min(rows), min(columns)
    bottom, right = min(max(rows), top + MAX_ROWS - 1), min(max(columns), left + MAX_COLUMNS - 1)
    shown_columns = range(left, right + 1)
    grid = []
    for r in range(top, bottom + 1):
        row = sheet.rows[r - 1] if r <= len(sheet.rows) else None
        cells = []
        for c in shown_columns:
            text = row.text_at(c - 1) if row is not None else ""
            if not text and (r, c) in sheet.formulas:
                text = sheet.formulas[(r, c)]
            cells.append(marks.cell(text, Location.cell(sheet.name, r, c)))
        grid.append({"label": str(r), "cells": _spanned(cells)})
    return _picture(place, [column_letter(c) for c in shown_columns], grid, marks,
                    max(rows) - bottom, max(columns) - right)


def _of_table(body: Sheet, place: Location, problems: Sequence[Problem]) -> dict:
    """A document's table ``表N``: its rows × grid cells, with the paragraphs just around it."""
    marks = _Marks(problems)
    rows = body.rows
    inside = [k for k, row in enumerate(rows) if row.table == place.table]
    if not inside:
        return _picture(place, [], [], marks, 0, 0)
    first, last = inside[0], inside[-1]
    marked = [w.column for w in marks.at if w.kind == "table-cell" and w.table == place.table]
    width = max([len(rows[k]) for k in inside] + marked)
    shown_width = min(width, MAX_COLUMNS)
    shown = inside[:MAX_ROWS]
    grid = [_paragraph(rows[k], shown_width, marks) for k in _around(rows, first, -1, marks)]
    for k in shown:
        row = rows[k]
        cells = [marks.cell(row.text_at(c), row.location_at(c)) for c in range(shown_width)]
        grid.append({"label": str(row.number), "cells": _spanned(cells)})
    grid += [_paragraph(rows[k], shown_width, marks) for k in _around(rows, last, 1, marks)]
    return _picture(place, [str(c) for c in range(1, shown_width + 1)], grid, marks,
                    len(inside) - len(shown), width - shown_width)


def _of_body(body: Sheet, place: Location, problems: Sequence[Problem]) -> dict:
    """A document whose form is not in one table (``正文``): its rows as they come, capped."""
    marks = _Marks(problems)
    rows = body.rows
    width = min(max([len(row) for row in rows] or [1]), MAX_COLUMNS)
    grid = []
    for row in list(rows)[:MAX_ROWS]:
        if row.table is None:
            grid.append(_paragraph(row, width, marks))
            continue
        cells = [marks.cell(row.text_at(c), row.location_at(c)) for c in range(width)]
        grid.append({"label": f"表{row.table}·{row.number}", "cells": _spanned(cells)})
    return _picture(place, [str(c) for c in range(1, width + 1)], grid, marks, max(0, len(rows) - MAX_ROWS), 0)


def _around(rows: Sequence[Row], edge: int, step: int, marks: _Marks) -> list[int]:
    """The paragraphs (no table between) just before (``step`` -1) or after (+1) row ``edge``,
    in reading order: those with text, and any a problem points at."""
    found: list[int] = []
    k = edge + step
    while 0 <= k < len(rows) and rows[k].table is None and len(found) < PARAGRAPHS_AROUND:
        if not rows[k].is_empty or rows[k].location_at(0) in marks.at:
            found.append(k)
        k += step
    return sorted(found)


def _paragraph(row: Row, width: int, marks: _Marks) -> dict:
    """A paragraph as one cell across the picture."""
    cell = marks.cell(row.text_at(0), row.location_at(0))
    cell["span"] = width
    return {"label": f"段{row.start.row}", "cells": [cell] + [{"text": "", "covered": True}] * (width - 1)}


def _spanned(cells: list[dict]) -> list[dict]:
    """A row with a long text in one cell only, and nothing marked after it (a title, a note): that
    cell spans to the end of the row, as the text runs over the empty cells on the screen and the
    printed form. A short one (``填报部门：``) keeps its empty neighbour in sight."""
    filled = [i for i, cell in enumerate(cells) if cell["text"]]
    if len(filled) != 1 or filled[0] == len(cells) - 1 or len(cells[filled[0]]["text"]) < SPREAD_FROM or \
            any("marks" in c for c in cells[filled[0] + 1:]):
        return cells
    start = filled[0]
    cells[start]["span"] = len(cells) - start
    return cells[:start + 1] + [{"text": "", "covered": True} for _ in cells[start + 1:]]


def _picture(place: Location, columns: list[str], rows: list[dict], marks: _Marks, more_rows: int,
             more_columns: int) -> dict:
    return {"place": str(place), "columns": columns, "rows": rows, "outside": marks.outside(),
            "cut": {"rows": max(0, more_rows), "columns": max(0, more_columns)}}


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1] + "…"
