"""Workbooks: values through python-calamine (fast, and the cached results of formulas), plus the
two things calamine does not show — which cells hold formulas, and the custom properties — read
from the zip directly, and only when the sheet has any formula."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

from campaign315.forms import IDENTITY_SHEET
from campaign315.read.cells import Cell, Package, Row, Sheet
from campaign315.read.package import Unreadable, parse_xml, read_part

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
MAX_ROWS = 5000
MAX_COLS = 64
_FORMULA = re.compile(rb"<(?:\w+:)?f[ >/]")


def read_xlsx(data: bytes, zf: zipfile.ZipFile) -> Package:
    from campaign315.read.extent import check_xlsx

    check_xlsx(zf)  # before calamine lays the sheets out
    package = read_with_calamine(data, "xlsx")
    formulas = _formulas_by_sheet(zf)
    if formulas:
        for sheet in package.sheets:
            found = formulas.get(sheet.name)
            if found:
                sheet.rows = [Row([_with_formula(cell, found) for cell in row.cells], number=row.number) for row in sheet.rows]
    return package


def read_with_calamine(data: bytes, fmt: str) -> Package:
    """Every sheet's values as rows of located cells; the hidden identity sheet as properties."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except BaseException as exc:  # calamine raises its own error types for every kind of damage
        if not _from_calamine(exc):
            raise
        if fmt == "xls":
            raise Unreadable("format-legacy", "Excel 97-2003（.xls）") from None
        raise Unreadable("file-corrupt", f"{type(exc).__name__}: {str(exc)[:120]}") from None
    sheets, properties, cells = [], {}, 0
    for meta in workbook.sheets_metadata:
        try:
            sheet = workbook.get_sheet_by_name(meta.name)
            height, width = sheet.height, sheet.width
            if height > MAX_ROWS or width > MAX_COLS:
                if meta.name == IDENTITY_SHEET:
                    continue
                raise Unreadable("file-unsafe", f"工作表「{meta.name}」有 {height} 行 × {width} 列，远超报表大小")
            cells += height * width  # many sheets (or one part named by many) add up
            if cells > MAX_ROWS * MAX_COLS:
                raise Unreadable("file-unsafe", f"各工作表共超过 {MAX_ROWS * MAX_COLS} 个单元格，远超报表大小")
            values = sheet.to_python(skip_empty_area=False)
        except Unreadable:
            raise
        except BaseException as exc:
            if not _from_calamine(exc):
                raise
            raise Unreadable("file-corrupt", f"工作表「{meta.name}」无法读取：{str(exc)[:120]}") from None
        if meta.name == IDENTITY_SHEET:
            properties = {str(r[0]).strip(): _text(r[1]) for r in values if len(r) >= 2 and str(r[0]).startswith("c315.")}
            continue
        hidden = "Visible" not in str(meta.visible)
        rows = [
            Row([Cell(_value(v), f"{meta.name}!{column_letter(c + 1)}{r + 1}") for c, v in enumerate(row)], number=r + 1)
            for r, row in enumerate(values)
        ]
        sheets.append(Sheet(meta.name, rows, hidden=hidden))
    return Package(fmt, sheets, properties=properties)


def _from_calamine(exc: BaseException) -> bool:
    """An error of calamine's own, or a Rust panic in it (``PanicException`` derives from
    BaseException, so ``except Exception`` lets it through and takes the whole ingest down)."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def column_letter(index: int) -> str:
    """1 → A, 27 → AA (openpyxl's helper would cost a 200 ms import here).

    >>> column_letter(1), column_letter(5), column_letter(27)
    ('A', 'E', 'AA')
    """
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _value(v):
    if v == "" or v is None:
        return None
    if isinstance(v, dt.datetime) and v.time() == dt.time(0):
        return v.date()
    return v


def _text(v) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v).strip()


def _with_formula(cell: Cell, formulas: dict[str, str]) -> Cell:
    ref = cell.location.rsplit("!", 1)[1]
    return Cell(cell.value, cell.location, formulas[ref]) if ref in formulas else cell


def _formulas_by_sheet(zf: zipfile.ZipFile) -> dict[str, dict[str, str]]:
    """{sheet name: {cell ref: "=formula"}} — only sheets whose XML holds an ``<f>`` element."""
    parts = {name: read_part(zf, name) for name in zf.namelist() if name.startswith("xl/worksheets/") and name.endswith(".xml")}
    with_formulas = {name: data for name, data in parts.items() if data and _FORMULA.search(data)}
    if not with_formulas:
        return {}
    names = _sheet_names_by_part(zf)
    result = {}
    for part, data in with_formulas.items():
        found = {}
        for c in parse_xml(data, part).iter(f"{_MAIN}c"):
            f = c.find(f"{_MAIN}f")
            if f is not None:
                found[c.get("r", "")] = "=" + (f.text or "(共享公式)")
        result[names.get(part, part)] = found
    return result


def _sheet_names_by_part(zf: zipfile.ZipFile) -> dict[str, str]:
    workbook = parse_xml(read_part(zf, "xl/workbook.xml") or b"<x/>", "xl/workbook.xml")
    rels_data = read_part(zf, "xl/_rels/workbook.xml.rels")
    targets = {}
    if rels_data:
        for rel in parse_xml(rels_data, "xl/_rels/workbook.xml.rels").iter(f"{_PKG_REL}Relationship"):
            target = rel.get("Target", "")
            target = target.lstrip("/") if target.startswith("/") else "xl/" + target
            targets[rel.get("Id")] = target
    names = {}
    for sheet in workbook.iter(f"{_MAIN}sheet"):
        part = targets.get(sheet.get(f"{_REL}id"))
        if part:
            names[part] = sheet.get("name", "")
    return names
