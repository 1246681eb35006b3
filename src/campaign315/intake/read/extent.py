"""How big a workbook's grid of cells will be, worked out from the bytes before calamine runs.

calamine lays each sheet out as one dense block of rows × columns, and sizes some buffers from
counts the file declares. One cell at A1 and one at XFD1048576 ask it for 500 GB; a
``uniqueCount`` of four billion asks for 96 GB. It does not raise then: the process aborts, and
the whole ingest with it. So the positions and counts are read here first, and a sheet that
would not fit in :data:`MAX_CELLS` is refused with ``file-unsafe``.

Each check is a scan of the raw part, not a parse: cheap on a real form (a few kilobytes) and
bounded on a hostile one by the part-size limits already checked in :mod:`.package`. The parts are
the ones the reader inflates anyway (:class:`~.zipparts.ZipPackage` inflates each once).
"""

from __future__ import annotations

import re
import struct
import zipfile

from campaign315.intake.read.zipparts import Unreadable, ZipPackage, read_part
from campaign315.spec.problems import Code

MAX_CELLS = 5000 * 64
"""The largest rows × columns block a sheet may span (a form spans about 30 × 6)."""


def _refuse(where: str, rows: int, columns: int) -> Unreadable:
    return Unreadable(Code.FILE_UNSAFE, f"{where}的单元格跨 {rows} 行 × {columns} 列，远超报表大小")


class _Extent:
    """The smallest block holding every cell seen."""

    def __init__(self) -> None:
        self.top = self.left = None
        self.bottom = self.right = 0

    def add(self, first_row: int, first_col: int, last_row: int | None = None, last_col: int | None = None) -> None:
        last_row = first_row if last_row is None else last_row
        last_col = first_col if last_col is None else last_col
        self.top = first_row if self.top is None else min(self.top, first_row)
        self.left = first_col if self.left is None else min(self.left, first_col)
        self.bottom, self.right = max(self.bottom, last_row), max(self.right, last_col)

    def check(self, where: str) -> None:
        if self.top is None:
            return
        rows, columns = self.bottom - self.top + 1, self.right - self.left + 1
        if rows * columns > MAX_CELLS:
            raise _refuse(where, rows, columns)


# --- .xlsx ----------------------------------------------------------------------------------

_XLSX_TAG = re.compile(rb"<(?:[\w.-]+:)?(row|c)(?=[\s/>])([^>]*)>")
_XLSX_REF = re.compile(rb"""(?:^|\s)r\s*=\s*["']\$?([A-Za-z]*)\$?([0-9]*)["']""")
_SST = re.compile(rb"<(?:[\w.-]+:)?sst\b[^>]*>")
_UNIQUE_COUNT = re.compile(rb"""uniqueCount\s*=\s*["']\s*([0-9]+)""")


def check_xlsx(package: ZipPackage) -> None:
    """Every part that holds sheet data (whatever it is named: calamine follows the workbook's
    relationships) and the shared-strings count calamine reserves room for."""
    for name in package.namelist():
        data = package.part(name)
        if not data:
            continue
        if b"sheetData" in data and not _xlsx_fits_at_a_glance(data):
            _xlsx_sheet_extent(data).check(f"部件 {name} ")
        sst = _SST.search(data) if b"sst" in data else None
        if sst:
            count = _UNIQUE_COUNT.search(sst[0])
            if count and _number(count[1]) > MAX_CELLS:
                raise Unreadable(Code.FILE_UNSAFE, f"部件 {name} 声明了 {_number(count[1])} 个字符串，远超报表大小")


# A cell tag written as every office suite writes it: ``<c r="D7" …`` (no prefix, r first).
_PLAIN_CELL_REF = re.compile(rb'<c r="\$?([A-Z]{1,3})\$?([0-9]{1,7})"')
# The same, in column A–Z and a row of at most _NEAR_DIGITS digits: a block of such cells always fits.
_NEAR_DIGITS = max(d for d in range(1, 8) if (10**d - 1) * 26 <= MAX_CELLS)
_NEAR_CELL_REF = re.compile(rb'<c r="\$?[A-Z]\$?[0-9]{1,%d}"' % _NEAR_DIGITS)
# Any other way _XLSX_TAG could see a cell tag: a prefix (``<x:c``), or not a space after ``<c``.
# (Two searches with a literal start each: one alternation of both scans many times slower.)
_PREFIXED_CELL_TAG = re.compile(rb":c[\s/>]")
_ODD_CELL_TAG = re.compile(rb"<c[\t\n\r\f\v/>]")


def _xlsx_fits_at_a_glance(xml: bytes) -> bool:
    """True when every cell tag is written ``<c r="D7" …`` and the block around all of them —
    empty cells included, so never smaller than what :func:`_xlsx_sheet_extent` finds — fits in
    :data:`MAX_CELLS`: a few scans in C instead of a loop over the cells in Python. Anything else
    (False) is left to the exact scan."""
    if _PREFIXED_CELL_TAG.search(xml) or _ODD_CELL_TAG.search(xml):
        return False
    tags = xml.count(b"<c ")
    if len(_NEAR_CELL_REF.findall(xml)) == tags:
        return True  # all within A1:Z9999, whatever their order
    references = _PLAIN_CELL_REF.findall(xml)
    if len(references) != tags:
        return False  # a cell placed by its neighbours, or written otherwise: only the exact scan knows where
    if not references:
        return True
    letters, digits = zip(*references, strict=True)
    rows = list(map(int, digits))
    columns = [_column_number(column) for column in set(letters)]
    return (max(rows) - min(rows) + 1) * (max(columns) - min(columns) + 1) <= MAX_CELLS


def _xlsx_sheet_extent(xml: bytes) -> _Extent:
    """Positions as calamine assigns them: a cell's ``r``, else the next column of the row
    (whose ``r``, else the next row). A cell closed at once (``<c .../>``, ``<c ...></c>``)
    holds nothing and is left out, as calamine leaves it out."""
    extent = _Extent()
    row = column = 0
    for match in _XLSX_TAG.finditer(xml):
        tag, attributes = match[1], match[2]
        ref = _XLSX_REF.search(attributes)
        if tag == b"row":
            row = _number(ref[2]) if ref and ref[2] else row + 1
            column = 0
            continue
        cell_row = row
        if ref and ref[2]:
            cell_row = _number(ref[2])
            column = _column_number(ref[1]) if ref[1] else column + 1
        else:
            column += 1
        if attributes.endswith(b"/") or xml.startswith(b"</", match.end()):
            continue
        extent.add(cell_row, column)
    return extent


def _column_number(letters: bytes) -> int:
    if len(letters) > 7:  # past any real column (XFD is 3 letters): huge, and cheap to say so
        return 26**7
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
    return number


def _number(digits: bytes) -> int:
    """A row number or count as written; one of more than 12 digits is simply huge (reading a
    million digits would take long, and past 4,300 Python refuses)."""
    return int(digits) if len(digits) <= 12 else 10**12


# --- .ods -----------------------------------------------------------------------------------

_ODS_TAG = re.compile(rb"<(/?)(?:[\w.-]+:)?(table|table-row|table-cell|covered-table-cell)(?=[\s/>])([^>]*)>")
_ODS_REPEAT = re.compile(rb"""number-(rows|columns)-repeated\s*=\s*["']\s*([0-9]+)""")


def check_ods(package: ZipPackage) -> None:
    """``content.xml``, where one cell may be repeated over a million rows and columns."""
    data = package.part("content.xml")
    if not data:
        return
    extent, row, column, rows_repeated = _Extent(), 0, 0, 1
    for match in _ODS_TAG.finditer(data):
        closing, tag, attributes = match[1] == b"/", match[2], match[3]
        repeats = dict(_ODS_REPEAT.findall(attributes))
        if tag == b"table":
            if closing:
                extent.check("表格")
            extent, row = _Extent(), 0
        elif tag == b"table-row":
            if closing:
                row += rows_repeated
                continue
            rows_repeated, column = _number(repeats.get(b"rows", b"1")), 0
            if attributes.endswith(b"/"):
                row += rows_repeated
        elif not closing:
            columns = _number(repeats.get(b"columns", b"1"))
            empty = b"value-type" not in attributes and (attributes.endswith(b"/") or data.startswith(b"</", match.end()))
            if not empty:
                extent.add(row, column, row + rows_repeated - 1, column + columns - 1)
            column += columns
    extent.check("表格")


# --- .xls (BIFF inside an OLE2 compound file) -------------------------------------------------

_END_OF_CHAIN, _FREE = 0xFFFFFFFE, 0xFFFFFFFF
_BOF = (0x0809, 0x0409, 0x0209, 0x0009)
_FILEPASS = 0x002F
_DIMENSIONS = 0x0200
_MULRK = 0x00BD
# NUMBER, LABEL, LABELSST, RK, FORMULA, BOOLERR, RSTRING: each starts with row, column (u16).
_CELL_RECORDS = frozenset((0x0203, 0x0204, 0x00FD, 0x027E, 0x0006, 0x0406, 0x0205, 0x00D6))


def check_xls(data: bytes) -> None:
    """Cell positions and the DIMENSIONS record of every sheet in the Workbook stream; a
    FILEPASS record means the workbook has an opening password."""
    stream = _workbook_stream(data)
    if stream is None:
        return
    extent, sheet, position = _Extent(), -1, 0  # the first substream is the workbook's globals
    while position + 4 <= len(stream):
        kind, size = struct.unpack_from("<HH", stream, position)
        body = stream[position + 4 : position + 4 + size]
        position += 4 + size
        if kind in _BOF:
            extent.check(f"第 {sheet} 个工作表")
            extent, sheet = _Extent(), sheet + 1
        elif kind == _FILEPASS:
            raise Unreadable(Code.FORMAT_ENCRYPTED)
        elif kind == _DIMENSIONS and len(body) >= 10:
            first_row, last_row, first_col, last_col = (
                struct.unpack_from("<IIHH", body) if len(body) >= 14 else struct.unpack_from("<HHHH", body))
            rows, columns = max(0, last_row - first_row), max(0, last_col - first_col)
            if rows * columns > MAX_CELLS:
                raise _refuse(f"第 {sheet} 个工作表", rows, columns)
        elif kind in _CELL_RECORDS and len(body) >= 4:
            extent.add(*struct.unpack_from("<HH", body))
        elif kind == _MULRK and len(body) >= 6:
            row, first_col = struct.unpack_from("<HH", body)
            extent.add(row, first_col, row, struct.unpack_from("<H", body, len(body) - 2)[0])
    extent.check(f"第 {sheet} 个工作表")


def _workbook_stream(data: bytes) -> bytes | None:
    """The ``Workbook`` (BIFF8) or ``Book`` (BIFF5) stream of a compound file, or None when it
    has neither. Chains are followed with a step limit, so a loop in them cannot hang this. A
    broken container is what calamine would refuse too: legacy, and unreadable."""
    corrupt = Unreadable(Code.FORMAT_LEGACY, "Excel 97-2003（.xls）")
    if len(data) < 512:
        raise corrupt
    shift, mini_shift = struct.unpack_from("<HH", data, 30)
    if shift not in (9, 12) or mini_shift != 6:
        raise corrupt
    size = 1 << shift
    (fat_count, directory_start, _, cutoff, minifat_start, _, difat_start, _) = struct.unpack_from("<8I", data, 44)
    sectors = max(0, len(data) // size - 1)

    def sector(index: int) -> bytes:
        if index >= sectors:
            raise corrupt
        return data[(index + 1) * size : (index + 2) * size]

    def words(block: bytes) -> tuple[int, ...]:
        return struct.unpack(f"<{len(block) // 4}I", block)

    difat, following = list(words(data[76:512])), difat_start
    for _ in range(sectors):
        if following in (_END_OF_CHAIN, _FREE):
            break
        *entries, following = words(sector(following))
        difat.extend(entries)
    fat: list[int] = []
    for index in difat[:fat_count]:
        if index not in (_END_OF_CHAIN, _FREE):
            fat.extend(words(sector(index)))

    def chain(start: int, table: list[int], limit: int) -> list[int]:
        found = []
        while start not in (_END_OF_CHAIN, _FREE):
            if start >= len(table) or len(found) > limit:
                raise corrupt
            found.append(start)
            start = table[start]
        return found

    directory = b"".join(sector(i) for i in chain(directory_start, fat, sectors))
    entries: dict[str, tuple[int, int]] = {}
    root = (_END_OF_CHAIN, 0)
    for offset in range(0, len(directory) - 127, 128):
        length = min(struct.unpack_from("<H", directory, offset + 64)[0], 64)
        name = directory[offset : offset + length].decode("utf-16-le", "replace").rstrip("\0")
        start, length = struct.unpack_from("<II", directory, offset + 116)
        if offset == 0:
            root = (start, length)  # the root entry: where the mini stream lives
        entries.setdefault(name, (start, length))
    wanted = entries.get("Workbook") or entries.get("Book")
    if wanted is None:
        return None
    start, length = wanted
    if length >= cutoff:
        return b"".join(sector(i) for i in chain(start, fat, sectors))[:length]
    mini_stream = b"".join(sector(i) for i in chain(root[0], fat, sectors))
    minifat = list(words(b"".join(sector(i) for i in chain(minifat_start, fat, sectors))))
    blocks = chain(start, minifat, len(mini_stream) // 64)
    return b"".join(mini_stream[i * 64 : (i + 1) * 64] for i in blocks)[:length]


# --- .xlsb (BIFF12 records inside the zip) ----------------------------------------------------

_BRT_ROW, _BRT_BEGIN_SHEET, _BRT_BEGIN_SST, _BRT_END_SHEET_DATA = 0x0000, 0x0081, 0x009F, 0x0092
_BRT_VALUE_CELLS = frozenset(range(0x0002, 0x000C))  # a blank cell (0x0001) calamine leaves out
_BRT_FORMULA_CELLS = frozenset(range(0x0008, 0x000C))
_MAX_RECORDS = 1_000_000


def xlsb_records(data: bytes, where: str):
    """(type, body) of each BIFF12 record: a type of one or two 7-bit bytes, a size of up to
    four. A part of more records than any form has is refused before they are all walked."""
    position, end, count = 0, len(data), 0
    while position < end:
        count += 1
        if count > _MAX_RECORDS:
            raise Unreadable(Code.FILE_UNSAFE, f"{where}的记录数远超报表大小")
        kind = data[position]
        position += 1
        if kind & 0x80 and position < end:
            kind = (kind & 0x7F) | (data[position] & 0x7F) << 7
            position += 1
        size = shift = 0
        for _ in range(4):
            if position >= end:
                return
            byte = data[position]
            position += 1
            size |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                break
        yield kind, data[position : position + size]
        position += size


def check_xlsb(zf: zipfile.ZipFile) -> dict[str, set[tuple[int, int]]]:
    """Every worksheet part (a part whose first record begins a sheet, whatever it is named)
    laid out as calamine will lay it, and the shared-strings count; returns, per worksheet part,
    the (row, column) — from 1 — of each cell holding a formula (calamine shows only its value)."""
    formulas: dict[str, set[tuple[int, int]]] = {}
    for name in zf.namelist():
        data = read_part(zf, name, check_doctype=False)
        if not data or name.endswith((".xml", ".rels")):
            continue
        records = xlsb_records(data, f"部件 {name} ")
        first = next(records, None)
        if first is None:
            continue
        if first[0] == _BRT_BEGIN_SST and len(first[1]) >= 8:
            (unique,) = struct.unpack_from("<I", first[1], 4)
            if unique > MAX_CELLS:
                raise Unreadable(Code.FILE_UNSAFE, f"部件 {name} 声明了 {unique} 个字符串，远超报表大小")
        if first[0] != _BRT_BEGIN_SHEET:
            continue
        extent, row, found = _Extent(), 0, set()
        for kind, body in records:
            if kind == _BRT_ROW and len(body) >= 4:
                (row,) = struct.unpack_from("<I", body)
                if row > 0x100000:  # calamine stops reading the sheet there
                    break
            elif kind in _BRT_VALUE_CELLS and len(body) >= 4:
                (column,) = struct.unpack_from("<I", body)
                extent.add(row, column)
                if kind in _BRT_FORMULA_CELLS:
                    found.add((row + 1, column + 1))
            elif kind == _BRT_END_SHEET_DATA:
                break
        extent.check(f"部件 {name} ")
        formulas[name] = found
    return formulas
