"""Workbooks: values through python-calamine (fast, and the cached results of formulas), plus the
two things calamine does not show — which cells hold formulas, and the custom properties — read
from the parts the size checks already inflated, and parsed only when a sheet holds a formula."""

from __future__ import annotations

import io
import re
import zipfile

from campaign315.intake.read.cells import Package, Sheet
from campaign315.intake.read.zipparts import Unreadable, ZipPackage, parse_xml, read_part
from campaign315.spec.forms import IDENTITY_SHEET
from campaign315.spec.problems import Code

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
MAX_ROWS = 5000
MAX_COLS = 64
_FORMULA = re.compile(rb"<(?:\w+:)?f[ >/]")


def read_xlsx(package: ZipPackage) -> Package:
    from campaign315.intake.read.extent import check_xlsx

    check_xlsx(package)  # before calamine lays the sheets out
    read = read_with_calamine(package.data, "xlsx")
    formulas = _formulas_by_sheet(package)
    for sheet in read.sheets:
        found = formulas.get(sheet.name)
        if found:
            sheet.with_formulas(found)
    return read


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
            sheet.with_formulas(found)
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
        sheets.append(Sheet(meta.name, hidden="Visible" not in str(meta.visible), values=values))
    return Package(fmt, sheets, properties=properties)


def _from_calamine(exc: BaseException) -> bool:
    """An error of calamine's own, or a Rust panic in it (``PanicException`` derives from
    BaseException, so ``except Exception`` lets it through and takes the whole ingest down)."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def _text(v) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v).strip()


def _formulas_by_sheet(package: ZipPackage) -> dict[str, dict[tuple[int, int], str]]:
    """{sheet name: {(row, column): "=formula"}} — only sheets whose XML holds an ``<f>`` element."""
    with_formulas = {}
    for name in package.namelist():
        if name.startswith("xl/worksheets/") and name.endswith(".xml"):
            data = package.part(name)
            if data and _holds_formula(data):
                with_formulas[name] = data
    if not with_formulas:
        return {}
    names = _sheet_names_by_part(package)
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


_PLAIN_F = re.compile(rb"<f[ >/]")
_PREFIXED_F = re.compile(rb":f[ >/]")


def _holds_formula(xml: bytes) -> bool:
    """``_FORMULA.search(xml)``, in scans that start from a literal (many times faster)."""
    if _PLAIN_F.search(xml):
        return True
    for found in _PREFIXED_F.finditer(xml):  # a prefixed <x:f>: the tag starts at the last < before it
        start = xml.rfind(b"<", 0, found.start())
        if start >= 0 and _FORMULA.match(xml, start):
            return True
    return False


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


def _sheet_names_by_part(package: ZipPackage) -> dict[str, str]:
    workbook = parse_xml(package.part("xl/workbook.xml") or b"<x/>", "xl/workbook.xml")
    rels_data = package.part("xl/_rels/workbook.xml.rels")
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
