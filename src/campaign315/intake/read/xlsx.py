"""Workbooks: values through python-calamine (fast, and the cached results of formulas), plus the
two things calamine does not show — which cells hold formulas, and the custom properties — read
from the zip directly, and only when the sheet has any formula."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

from campaign315.intake.read.cells import Cell, Package, Row, Sheet
from campaign315.intake.read.zipparts import Unreadable, parse_xml, read_part
from campaign315.spec.forms import IDENTITY_SHEET
from campaign315.spec.location import Location
from campaign315.spec.problems import Code

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
MAX_ROWS = 5000
MAX_COLS = 64
_FORMULA = re.compile(rb"<(?:\w+:)?f[ >/]")


def read_xlsx(data: bytes, zf: zipfile.ZipFile) -> Package:
    from campaign315.intake.read.extent import check_xlsx

    check_xlsx(zf)  # before calamine lays the sheets out
    package = read_with_calamine(data, "xlsx")
    formulas = _formulas_by_sheet(zf)
    if formulas:
        for sheet in package.sheets:
            found = formulas.get(sheet.name)
            if found:
                sheet.rows = [Row([_with_formula(cell, found) for cell in row.cells], row.start, number=row.number)
                              for row in sheet.rows]
    return package


def read_xlsb(data: bytes, zf: zipfile.ZipFile) -> Package:
    """An Excel binary workbook (.xlsb, a format Excel saves): its grid checked record by record
    first, then its values through calamine; cells holding a formula are marked as such (their
    formula text is not kept in a form c315 reads, so it is shown as ``=(公式)``)."""
    import struct

    from campaign315.intake.read.extent import check_xlsb, xlsb_records

    formulas = check_xlsb(zf)
    package = read_with_calamine(data, "xlsb")
    if not any(formulas.values()):
        return package
    targets = {}
    rels = read_part(zf, "xl/_rels/workbook.bin.rels")
    if rels:
        for rel in parse_xml(rels, "xl/_rels/workbook.bin.rels").iter(f"{_PKG_REL}Relationship"):
            target = rel.get("Target", "")
            targets[rel.get("Id")] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    by_sheet: dict[str, dict[tuple[int, int], str]] = {}
    for kind, body in xlsb_records(read_part(zf, "xl/workbook.bin", check_doctype=False) or b"", "xl/workbook.bin "):
        if kind != 0x009C or len(body) < 12:  # BrtBundleSh: state, tab id, relationship id, name
            continue
        (length,) = struct.unpack_from("<I", body, 8)
        if length == 0xFFFFFFFF or 12 + 2 * length + 4 > len(body):
            continue
        relationship = body[12 : 12 + 2 * length].decode("utf-16-le", "replace")
        (name_length,) = struct.unpack_from("<I", body, 12 + 2 * length)
        start = 16 + 2 * length
        name = body[start : start + 2 * name_length].decode("utf-16-le", "replace")
        found = formulas.get(targets.get(relationship, ""), set())
        by_sheet[name] = dict.fromkeys(found, "=(公式)")
    for sheet in package.sheets:
        found = by_sheet.get(sheet.name)
        if found:
            sheet.rows = [Row([_with_formula(cell, found) for cell in row.cells], row.start, number=row.number)
                          for row in sheet.rows]
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
            raise Unreadable(Code.FORMAT_LEGACY, "Excel 97-2003（.xls）") from None
        raise Unreadable(Code.FILE_CORRUPT, f"{type(exc).__name__}: {str(exc)[:120]}") from None
    sheets, properties, cells = [], {}, 0
    for meta in workbook.sheets_metadata:
        try:
            sheet = workbook.get_sheet_by_name(meta.name)
            height, width = sheet.height, sheet.width
            if height > MAX_ROWS or width > MAX_COLS:
                if meta.name == IDENTITY_SHEET:
                    continue
                raise Unreadable(Code.FILE_UNSAFE, f"工作表「{meta.name}」有 {height} 行 × {width} 列，远超报表大小")
            cells += height * width  # many sheets (or one part named by many) add up
            if cells > MAX_ROWS * MAX_COLS:
                raise Unreadable(Code.FILE_UNSAFE, f"各工作表共超过 {MAX_ROWS * MAX_COLS} 个单元格，远超报表大小")
            values = sheet.to_python(skip_empty_area=False)
        except Unreadable:
            raise
        except BaseException as exc:
            if not _from_calamine(exc):
                raise
            raise Unreadable(Code.FILE_CORRUPT, f"工作表「{meta.name}」无法读取：{str(exc)[:120]}") from None
        if meta.name == IDENTITY_SHEET:
            properties = {str(r[0]).strip(): _text(r[1]) for r in values if len(r) >= 2 and str(r[0]).startswith("c315.")}
            continue
        hidden = "Visible" not in str(meta.visible)
        name = meta.name
        rows = [
            Row([Cell(_value(v), Location("cell", name, 0, r, c)) for c, v in enumerate(row, start=1)],
                Location.cell(name, r, 1), number=r)
            for r, row in enumerate(values, start=1)
        ]
        sheets.append(Sheet(meta.name, rows, hidden=hidden))
    return Package(fmt, sheets, properties=properties)


def _from_calamine(exc: BaseException) -> bool:
    """An error of calamine's own, or a Rust panic in it (``PanicException`` derives from
    BaseException, so ``except Exception`` lets it through and takes the whole ingest down)."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def _value(v):
    if v == "" or v is None:
        return None
    if isinstance(v, dt.datetime) and v.time() == dt.time(0):
        return v.date()
    return v


def _text(v) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v).strip()


def _with_formula(cell: Cell, formulas: dict[tuple[int, int], str]) -> Cell:
    formula = formulas.get((cell.location.row, cell.location.column))
    return cell if formula is None else Cell(cell.value, cell.location, formula)


def _formulas_by_sheet(zf: zipfile.ZipFile) -> dict[str, dict[tuple[int, int], str]]:
    """{sheet name: {(row, column): "=formula"}} — only sheets whose XML holds an ``<f>`` element."""
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
            position = _position(c.get("r", ""))
            if f is not None and position is not None:
                found[position] = "=" + (f.text or "(共享公式)")
        result[names.get(part, part)] = found
    return result


_A1 = re.compile(r"\$?([A-Za-z]{1,3})\$?([1-9][0-9]{0,6})")


def _position(reference: str) -> tuple[int, int] | None:
    """(row, column) of an A1 reference as the workbook's XML writes it (``D7`` → (7, 4)).

    >>> _position("D7"), _position("AA10"), _position("")
    ((7, 4), (10, 27), None)
    """
    match = _A1.fullmatch(reference)
    if match is None:
        return None
    column = 0
    for letter in match[1].upper():
        column = column * 26 + ord(letter) - 64
    return int(match[2]), column


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
