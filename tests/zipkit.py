"""Taking a filled return apart and putting it back wrong: the parts of an .xlsx/.docx as a dict,
zipped again in any order or with lying sizes; and the OLE2 compound files behind legacy .xls/.doc
and password-protected Office files, built from nothing (no library here writes them).

    parts = read_parts(path)
    parts["xl/worksheets/sheet1.xml"] = parts["xl/worksheets/sheet1.xml"].replace(b"<v>1</v>", b"<v>2</v>")
    path.write_bytes(rezip(parts))
"""

from __future__ import annotations

import io
import struct
import warnings
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path

# --- .xlsx / .docx ----------------------------------------------------------------------------


def read_parts(path: Path | bytes) -> dict[str, bytes]:
    """Every part of a zip package, in the order stored."""
    source = io.BytesIO(path) if isinstance(path, bytes) else path
    with zipfile.ZipFile(source) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def rezip(parts: dict[str, bytes] | Iterable[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip of ``parts`` (name → bytes, or pairs, which may repeat a name) in the order given."""
    out = io.BytesIO()
    items = parts.items() if isinstance(parts, dict) else parts
    with zipfile.ZipFile(out, "w", compression) as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Duplicate name": wanted, when a name repeats
        for name, data in items:
            info = zipfile.ZipInfo(name, date_time=(2020, 3, 13, 11, 30, 0))
            info.compress_type = compression
            zf.writestr(info, data)
    return out.getvalue()


def with_parts(path: Path, target: Path, replace: dict[str, bytes | None], add: dict[str, bytes] | None = None) -> Path:
    """``path``'s package with some parts replaced (bytes) or removed (None), and others added,
    written to ``target``."""
    parts = {name: data for name, data in read_parts(path).items() if replace.get(name, b"") is not None}
    parts.update({name: data for name, data in replace.items() if data is not None})
    parts.update(add or {})
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(rezip(parts))
    return target


def with_streamed_part(path: Path, target: Path, name: str, chunks: Iterable[bytes]) -> Path:
    """``path``'s package with part ``name`` written from ``chunks`` (deflated as it goes, so a
    part of gigabytes never sits in memory)."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != name:
                dst.writestr(info.filename, src.read(info))
        entry = zipfile.ZipInfo(name, date_time=(2020, 3, 13, 11, 30, 0))
        entry.compress_type = zipfile.ZIP_DEFLATED
        with dst.open(entry, "w", force_zip64=True) as handle:
            for chunk in chunks:
                handle.write(chunk)
    return target


def patch_entry(data: bytes, name: str, *, flags: int | None = None, method: int | None = None,
                size: int | None = None, needs_version: int | None = None) -> bytes:
    """The zip ``data`` with one entry's general-purpose flags, compression method, declared
    uncompressed size or version needed to extract changed in both its local header and the
    central directory."""
    raw = bytearray(data)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        local = zf.getinfo(name).header_offset
    end = raw.rfind(b"PK\x05\x06")
    (central,) = struct.unpack_from("<I", raw, end + 16)
    offsets = [(local, 6)]
    position = central
    while raw[position:position + 4] == b"PK\x01\x02":
        length, extra, comment = struct.unpack_from("<HHH", raw, position + 28)
        if raw[position + 46:position + 46 + length] == name.encode():
            offsets.append((position, 8))
        position += 46 + length + extra + comment
    for offset, flags_at in offsets:
        if flags is not None:
            struct.pack_into("<H", raw, offset + flags_at, struct.unpack_from("<H", raw, offset + flags_at)[0] | flags)
        if method is not None:
            struct.pack_into("<H", raw, offset + flags_at + 2, method)
        if size is not None:
            struct.pack_into("<I", raw, offset + flags_at + 16, size)
        if needs_version is not None:
            struct.pack_into("<H", raw, offset + flags_at - 2, needs_version)
    return bytes(raw)


def damage_stream(data: bytes, name: str) -> bytes:
    """The zip ``data`` with one byte of entry ``name``'s deflate stream flipped (its headers
    intact) — the first byte, from the middle on, whose flip makes inflating fail outright
    (``zlib.error``), not merely yield bytes whose CRC is wrong."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(name)
    length, extra = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + length + extra
    for at in range(start + info.compress_size // 2, start + info.compress_size):
        raw = bytearray(data)
        raw[at] ^= 0x04
        try:
            zlib.decompressobj(-15).decompress(bytes(raw[start:start + info.compress_size]))
        except zlib.error:
            return bytes(raw)
    raise AssertionError(f"no single flip breaks {name}'s stream")


def sheet_part(parts: dict[str, bytes], sheet: str) -> str:
    """The worksheet part holding the sheet named ``sheet`` (through workbook.xml and its rels)."""
    import re

    workbook, rels = parts["xl/workbook.xml"].decode(), parts["xl/_rels/workbook.xml.rels"].decode()
    rid = re.search(rf'<sheet[^>]*name="{re.escape(sheet)}"[^>]*r:id="([^"]+)"', workbook)[1]
    target = re.search(rf'<Relationship[^>]*Target="([^"]+)"[^>]*Id="{rid}"', rels) or \
        re.search(rf'<Relationship[^>]*Id="{rid}"[^>]*Target="([^"]+)"', rels)
    return target[1].lstrip("/") if target[1].startswith("/") else f"xl/{target[1]}"


# --- OLE2 compound files ----------------------------------------------------------------------

_FREE, _END, _FAT_SECTOR, _NO_STREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def ole_file(streams: dict[str, bytes], *, directory_last: bool = False, declared_sizes: bool = False) -> bytes:
    """A compound file (version 3, 512-byte sectors) holding ``streams``. Each is padded to 4096
    bytes and declared so, to live in ordinary sectors; ``declared_sizes`` declares the true
    (smaller) sizes instead, which points readers at a mini stream that is not there.
    ``directory_last`` puts the directory after the streams, as a large encrypted file has it."""
    names = sorted(streams, key=lambda n: (len(n), n.upper()))
    bodies = [streams[n].ljust(4096, b"\0") for n in names]
    bodies = [b + b"\0" * (-len(b) % 512) for b in bodies]
    directory_sectors = -(-(len(names) + 1) // 4)
    used = sum(len(b) // 512 for b in bodies) + directory_sectors
    fat_sectors = 1
    while fat_sectors * 128 < used + fat_sectors:
        fat_sectors += 1
    fat = [_FAT_SECTOR] * fat_sectors

    def chain(count: int) -> int:
        start = len(fat)
        fat.extend([*range(start + 1, start + count), _END])
        return start

    directory_start = -1 if directory_last else chain(directory_sectors)
    starts = [chain(len(b) // 512) for b in bodies]
    if directory_last:
        directory_start = chain(directory_sectors)
    fat.extend([_FREE] * (fat_sectors * 128 - len(fat)))

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        raw = name.encode("utf-16-le") + b"\0\0" if name else b""
        return (raw.ljust(64, b"\0") + struct.pack("<HBB3I", len(raw), kind, 1, _NO_STREAM, right, child)
                + b"\0" * 36 + struct.pack("<IQ", start, size))

    entries = [entry("Root Entry", 5, 1 if names else _NO_STREAM, _NO_STREAM, _END, 0)]
    for i, (name, start) in enumerate(zip(names, starts, strict=True)):
        size = len(streams[name]) if declared_sizes else max(4096, len(streams[name]))
        entries.append(entry(name, 2, _NO_STREAM, i + 2 if i + 1 < len(names) else _NO_STREAM, start, size))
    while len(entries) % 4:
        entries.append(entry("", 0, _NO_STREAM, _NO_STREAM, 0, 0))
    directory = b"".join(entries)
    difat = [*range(fat_sectors), *[_FREE] * (109 - fat_sectors)]
    header = (OLE_MAGIC + b"\0" * 16 + struct.pack("<5H", 0x3E, 3, 0xFFFE, 9, 6) + b"\0" * 6
              + struct.pack("<9I", 0, fat_sectors, directory_start, 0, 4096, _END, 0, _END, 0)
              + struct.pack("<109I", *difat))
    sectors = {i: struct.pack("<128I", *fat[i * 128:(i + 1) * 128]) for i in range(fat_sectors)}
    for i in range(directory_sectors):
        sectors[directory_start + i] = directory[i * 512:(i + 1) * 512]
    for start, body in zip(starts, bodies, strict=True):
        for i in range(len(body) // 512):
            sectors[start + i] = body[i * 512:(i + 1) * 512]
    return header + b"".join(sectors[i] for i in range(len(sectors)))


def biff_workbook(cells: Iterable[tuple[int, int, float]], *, sheet: str = "统计表", dimensions: tuple[int, int] | None = None) -> bytes:
    """A BIFF8 Workbook stream: one sheet with NUMBER records at (row, column) — what calamine
    reads from a legacy .xls — and optionally a DIMENSIONS record claiming (rows, columns)."""

    def record(kind: int, body: bytes = b"") -> bytes:
        return struct.pack("<HH", kind, len(body)) + body

    bof = struct.pack("<HHHHII", 0x0600, 0x0005, 0, 0, 0, 0)
    name = sheet.encode("utf-16-le")

    def boundsheet(offset: int) -> bytes:
        return record(0x0085, struct.pack("<IBBBB", offset, 0, 0, len(sheet), 1) + name)

    globals_length = len(record(0x0809, bof)) + len(boundsheet(0)) + len(record(0x000A))
    body = record(0x0809, struct.pack("<HHHHII", 0x0600, 0x0010, 0, 0, 0, 0))
    if dimensions:
        body += record(0x0200, struct.pack("<IIHHH", 0, dimensions[0], 0, dimensions[1], 0))
    for row, column, value in cells:
        body += record(0x0203, struct.pack("<HHHd", row, column, 0, value))
    return record(0x0809, bof) + boundsheet(globals_length) + record(0x000A) + body + record(0x000A)


# --- Excel binary workbooks (.xlsb) --------------------------------------------------------------


def _xlsb_record(kind: int, body: bytes = b"") -> bytes:
    """One BIFF12 record: its type and size as 7-bit varints, then its body."""
    head = bytes([kind]) if kind < 0x80 else bytes([(kind & 0x7F) | 0x80, kind >> 7])
    size, length = b"", len(body)
    while True:
        byte = length & 0x7F
        length >>= 7
        size += bytes([byte | (0x80 if length else 0)])
        if not length:
            break
    return head + size + body


def _wide(text: str) -> bytes:
    return struct.pack("<I", len(text)) + text.encode("utf-16-le")


XlsbCell = tuple[int, int, object]  # (row, column) from 0, and a str, float or int


def xlsb_sheet(cells: Iterable[XlsbCell], *, dimension: tuple[int, int, int, int] | None = None,
               formulas: Iterable[tuple[int, int, float]] = ()) -> bytes:
    """A worksheet part of an .xlsb: ``cells`` as BrtCellSt (text) and BrtCellReal (numbers),
    ``formulas`` as BrtFmlaNum with a cached value, and a BrtWsDim claiming ``dimension``
    (first row, last row, first column, last column) — by default the cells' own extent."""
    cells, formulas = list(cells), list(formulas)
    every = [(r, c) for r, c, _ in cells + formulas] or [(0, 0)]
    dimension = dimension or (min(r for r, _ in every), max(r for r, _ in every),
                              min(c for _, c in every), max(c for _, c in every))
    out = _xlsb_record(0x0081) + _xlsb_record(0x0094, struct.pack("<4I", *dimension)) + _xlsb_record(0x0091)
    by_row: dict[int, list[bytes]] = {}
    for row, column, value in cells:
        if isinstance(value, str):
            record = _xlsb_record(0x0006, struct.pack("<II", column, 0) + _wide(value))
        else:
            record = _xlsb_record(0x0005, struct.pack("<IId", column, 0, float(value)))
        by_row.setdefault(row, []).append(record)
    for row, column, value in formulas:
        formula = struct.pack("<IId", column, 0, value) + struct.pack("<H", 0) + struct.pack("<I", 0) + struct.pack("<I", 0)
        by_row.setdefault(row, []).append(_xlsb_record(0x0009, formula))
    for row in sorted(by_row):
        out += _xlsb_record(0x0000, struct.pack("<IIHHBB", row, 0, 300, 0, 0, 0) + b"\0" * 8) + b"".join(by_row[row])
    return out + _xlsb_record(0x0092) + _xlsb_record(0x0082)


def xlsb_workbook(sheets: dict[str, bytes], *, hidden: Iterable[str] = ()) -> bytes:
    """An .xlsb package holding ``sheets`` (name → a part from :func:`xlsb_sheet`), in order —
    the parts and records Excel itself writes for a binary workbook, without styles or strings."""
    hidden = set(hidden)
    book = _xlsb_record(0x0083) + _xlsb_record(0x0099, b"\0" * 12) + _xlsb_record(0x008F)
    rels = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">']
    types = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Override PartName="/xl/workbook.bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>']
    parts: dict[str, bytes] = {}
    for number, (name, part) in enumerate(sheets.items(), start=1):
        book += _xlsb_record(0x009C, struct.pack("<II", 1 if name in hidden else 0, number) + _wide(f"rId{number}") + _wide(name))
        rels.append(f'<Relationship Id="rId{number}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                    f'relationships/worksheet" Target="worksheets/sheet{number}.bin"/>')
        types.append(f'<Override PartName="/xl/worksheets/sheet{number}.bin" '
                     f'ContentType="application/vnd.ms-excel.worksheet"/>')
        parts[f"xl/worksheets/sheet{number}.bin"] = part
    book += _xlsb_record(0x0090) + _xlsb_record(0x0084)
    package = {
        "[Content_Types].xml": ("".join(types) + "</Types>").encode(),
        "_rels/.rels": (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.'
                        b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
                        b'openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.bin"/>'
                        b"</Relationships>"),
        "xl/workbook.bin": book,
        "xl/_rels/workbook.bin.rels": ("".join(rels) + "</Relationships>").encode(),
        **parts,
    }
    return rezip(package)


# --- zips of returns ----------------------------------------------------------------------------


def zip_of(members: Iterable[tuple[str | bytes, bytes]]) -> bytes:
    """A zip of files as a zip tool writes it. A ``str`` name is stored as UTF-8 with the zip's
    UTF-8 flag (as 7-Zip and macOS do); a ``bytes`` name is stored as those very bytes without it
    (GBK, as the zip tool of a Chinese Windows writes it)."""
    members = list(members)
    placeholders = {}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for number, (name, data) in enumerate(members):
            if isinstance(name, bytes):  # written under an ASCII stand-in of the same length, swapped after
                stand_in = ("~" * len(name))[:-len(str(number))] + str(number)
                placeholders[stand_in.encode()] = name
                name = stand_in
            info = zipfile.ZipInfo(name, date_time=(2020, 3, 13, 11, 30, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    raw = out.getvalue()
    for stand_in, name in placeholders.items():
        assert raw.count(stand_in) == 2, stand_in  # the local header and the central directory
        raw = raw.replace(stand_in, name)
    return raw
