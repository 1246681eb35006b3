"""Open a returned file by what it is, not what it is called, within safe limits.

The bytes decide the format (a zip holding ``xl/workbook.xml`` is a workbook whatever its name);
sizes and part counts are checked before anything is inflated; XML with a DOCTYPE is refused
outright (no Office part has one; entity bombs and external entities need one).
"""

from __future__ import annotations

import io
import re
import zipfile

from campaign315.intake.read.cells import Package
from campaign315.intake.read.zipparts import (
    MAX_FILE_BYTES,
    MAX_PARTS,
    MAX_RATIO,
    MAX_TOTAL_XML_BYTES,
    MAX_XML_PART_BYTES,
    Unreadable,
    ZipPackage,
    modified_time,
    read_custom_properties,
    read_part,
)
from campaign315.spec.problems import Code

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def read_package(data: bytes, name: str = "", zf: zipfile.ZipFile | None = None) -> Package:
    """Read any supported return into rows of cells. Raises :class:`Unreadable` with a code.
    ``zf``: the zip already opened on ``data``, when it is one (its directory is not read again)."""
    if not data:
        raise Unreadable(Code.FILE_EMPTY)
    if len(data) > MAX_FILE_BYTES:
        raise Unreadable(Code.FILE_TOO_LARGE, f"{len(data) / 1024 / 1024:.0f} MB")
    if data.startswith(_OLE_MAGIC):
        return _read_ole(data, name)
    if not data.startswith(b"PK"):
        raise Unreadable(*not_office(data))
    zf = zf if zf is not None else open_zip(data)
    _check_limits(zf)
    parts = ZipPackage(data, zf)  # each part inflated once, by whichever check or reader needs it first
    parts = _canonical(parts)
    zf, data = parts.zip, parts.data
    names = set(zf.namelist())
    _check_package(names)
    if "xl/workbook.xml" in names:
        from campaign315.intake.read.xlsx import read_xlsx

        package = read_xlsx(parts)
    elif "xl/workbook.bin" in names:
        from campaign315.intake.read.xlsx import read_xlsb

        package = read_xlsb(data, zf)
    elif "word/document.xml" in names:
        from campaign315.intake.read.docx import read_docx

        package = read_docx(parts)
    elif "mimetype" in names:
        mimetype = zf.read("mimetype")
        if b"encryption-data" in (read_part(zf, "META-INF/manifest.xml") or b""):
            raise Unreadable(Code.FORMAT_ENCRYPTED)  # an OpenDocument file saved with a password
        if b"spreadsheet" in mimetype:
            from campaign315.intake.read.extent import check_ods
            from campaign315.intake.read.xlsx import read_with_calamine

            check_ods(parts)
            return read_with_calamine(data, "ods")
        raise Unreadable(Code.FORMAT_LEGACY, "OpenDocument 文本（.odt）")
    elif "EncryptionInfo" in names:
        raise Unreadable(Code.FORMAT_ENCRYPTED)
    else:
        raise Unreadable(Code.FORMAT_UNKNOWN, "压缩包里不是 Excel 或 Word 文档")
    package.properties = read_custom_properties(parts) | package.properties
    package.modified = modified_time(parts)
    return package


def open_zip(data: bytes) -> zipfile.ZipFile:
    """The zip in ``data``; :class:`Unreadable` (``file-corrupt``) when it is not a whole one."""
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:  # "zip file version 8.4"
        raise Unreadable(Code.FILE_CORRUPT, f"不是完整的压缩包：{exc}") from None


_MAIN_PARTS = {"xl/workbook.xml": "xl/", "xl/workbook.bin": "xl/", "word/document.xml": "word/"}
_PACKAGE_LEVEL = ("[Content_Types].xml", "_rels/.rels", "docProps/", "customXml/", "mimetype", "META-INF/")
_OFFICE_DOCUMENT = re.compile(
    rb"""<(?:\w+:)?Relationship\b(?=[^>]*Type\s*=\s*["'][^"']*/officeDocument["'])[^>]*\bTarget\s*=\s*["']([^"']+)["']""")


def _canonical(parts: ZipPackage) -> ZipPackage:
    """The package laid out where every reader looks (calamine included): entry names with ``/``
    (a Chinese reporting system writes ``xl\\worksheets\\sheet1.xml``) and the main part —
    named by ``_rels/.rels``, or found by its name — under ``xl/`` or ``word/`` (a minimal
    exporter puts it at the zip's root). A package already laid out so is returned as it is;
    another is rebuilt in memory, its sizes already checked."""
    zf = parts.zip
    infos = zf.infolist()
    renamed = {info.filename: info.filename.replace("\\", "/") for info in infos}
    names = set(renamed.values())
    main = _main_part(parts, renamed)
    folder, home = "", ""
    if main and main not in _MAIN_PARTS and main.rsplit("/", 1)[-1] in ("workbook.xml", "workbook.bin", "document.xml"):
        folder = main.rsplit("/", 1)[0] + "/" if "/" in main else ""
        home = "word/" if main.endswith("document.xml") else "xl/"
        if any(name.startswith(home) for name in names if not name.startswith(folder or home)):
            folder = home = ""  # parts of its own already there: not a layout to move
    if not home and all(old == new for old, new in renamed.items()):
        return parts

    def moved(name: str) -> str:
        if home and name.startswith(folder) and not name.startswith(_PACKAGE_LEVEL):
            return home + name[len(folder):]
        return name

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as rebuilt:
        for info in infos:
            name = renamed[info.filename]
            if name.endswith("/"):
                continue
            body = read_part(zf, info.filename, check_doctype=False) or b""
            if home and name == "_rels/.rels":
                body = body.replace(f'"{main}"'.encode(), f'"{moved(main)}"'.encode()).replace(
                    f'"/{main}"'.encode(), f'"/{moved(main)}"'.encode())
            elif home and name == "[Content_Types].xml":
                body = re.sub(rb'PartName="/([^"]+)"', lambda m: b'PartName="/' + moved(m[1].decode()).encode() + b'"', body)
            rebuilt.writestr(moved(name), body)
    data = out.getvalue()
    return ZipPackage(data, zipfile.ZipFile(io.BytesIO(data)))


def _main_part(parts: ZipPackage, renamed: dict[str, str]) -> str | None:
    """The part ``_rels/.rels`` names as the office document; else the one workbook or document
    part nearest the root."""
    by_new = {new: old for old, new in renamed.items()}
    if "_rels/.rels" in by_new:
        rels = parts.part(by_new["_rels/.rels"]) or b""
        found = _OFFICE_DOCUMENT.search(rels)
        if found:
            target = found[1].decode("utf-8", "replace").replace("\\", "/").lstrip("/")
            if target in by_new:
                return target
    candidates = sorted((name.count("/"), name) for name in by_new
                        if name.rsplit("/", 1)[-1] in ("workbook.xml", "workbook.bin", "document.xml"))
    return candidates[0][1] if candidates else None


def office_format(data: bytes) -> str | None:
    """``xlsx`` or ``docx`` by what the zip holds (the rule :func:`read_package` reads by),
    whatever the file is called; None for anything else."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return None
    return "xlsx" if "xl/workbook.xml" in names else "docx" if "word/document.xml" in names else None


def check_xml_parts(data: bytes) -> None:
    """Every XML part of a zip package passes the checks the reader applies (size, DOCTYPE), the
    ones the reader skipped included — before another library (openpyxl, python-docx) opens it."""
    with open_zip(data) as zf:
        _check_limits(zf)
        parts = ZipPackage(data, zf)
        for name in zf.namelist():
            if name.endswith((".xml", ".rels")):
                parts.part(name)


def _read_ole(data: bytes, name: str) -> Package:
    """An OLE2 compound file: legacy .xls (read through calamine), .doc/.et/.wps, or an Office
    file with an opening password (OOXML encrypted inside an OLE container)."""
    # The directory naming the streams may sit anywhere, after a large encrypted package too.
    if b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00i\x00o\x00n\x00I\x00n\x00f\x00o" in data or b"EncryptionInfo" in data:
        raise Unreadable(Code.FORMAT_ENCRYPTED)
    if b"W\x00o\x00r\x00k\x00b\x00o\x00o\x00k" in data or b"B\x00o\x00o\x00k\x00" in data:
        from campaign315.intake.read.extent import check_xls
        from campaign315.intake.read.xlsx import read_with_calamine

        check_xls(data)
        return read_with_calamine(data, "xls")
    kind = "Word 97-2003（.doc）" if b"W\x00o\x00r\x00d\x00D\x00o\x00c\x00u\x00m\x00e\x00n\x00t" in data else "Office 97-2003 / WPS（.doc/.et/.wps）"
    raise Unreadable(Code.FORMAT_LEGACY, kind)


_NOT_ELECTRONIC = (  # what a scanned or photographed form, or a PDF export, arrives as
    (b"%PDF", "PDF 文件"),
    (b"\xff\xd8\xff", "照片或扫描图片（JPEG）"),
    (b"\x89PNG", "图片（PNG）"),
    (b"GIF8", "图片（GIF）"),
    (b"II*\x00", "扫描图片（TIFF）"),
    (b"MM\x00*", "扫描图片（TIFF）"),
    (b"BM", "图片（BMP）"),
)
_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif")
_OTHER_ARCHIVES = ((b"Rar!\x1a\x07", "RAR"), (b"7z\xbc\xaf\x27\x1c", "7z"), (b"\x1f\x8b", "gzip"))


def not_office(data: bytes) -> tuple[Code, str]:
    """What a file that is neither a zip nor a compound file is, as the code and detail of its
    rejection: a PDF or photo of the form, another kind of archive, or something else."""
    head = data[:16]
    for magic, kind in _NOT_ELECTRONIC:
        if head.startswith(magic):
            return Code.FORMAT_NOT_ELECTRONIC, kind
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return Code.FORMAT_NOT_ELECTRONIC, "手机照片（HEIC）"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return Code.FORMAT_NOT_ELECTRONIC, "图片（WebP）"
    for magic, kind in _OTHER_ARCHIVES:
        if head.startswith(magic):
            return Code.FORMAT_OTHER_ARCHIVE, kind
    if head.startswith((b"{\\rtf",)):
        return Code.FORMAT_UNKNOWN, "RTF 文档"
    if head.lstrip().startswith((b"<html", b"<!DOCTYPE", b"<?xml", b"<HTML")):
        return Code.FORMAT_UNKNOWN, "网页或 XML 文件"
    try:
        data[:4096].decode("utf-8")
        return Code.FORMAT_UNKNOWN, "纯文本文件"
    except UnicodeDecodeError:
        return Code.FORMAT_UNKNOWN, "无法识别的文件类型"


def _check_limits(zf: zipfile.ZipFile) -> None:
    """Sizes as the zip declares them, for every part: calamine follows the workbook's
    relationships to whatever part they name, ``.xml`` or not (``read_part`` caps what is
    actually inflated, in case the declared sizes lie)."""
    infos = zf.infolist()
    if len(infos) > MAX_PARTS:
        raise Unreadable(Code.FILE_UNSAFE, f"压缩包内有 {len(infos)} 个部件，超过上限 {MAX_PARTS}")
    total = 0
    for info in infos:
        if info.file_size > MAX_XML_PART_BYTES:
            raise Unreadable(Code.FILE_UNSAFE, f"部件 {info.filename} 解压后 {info.file_size // 1024 // 1024} MB，超过上限")
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise Unreadable(Code.FILE_UNSAFE, f"部件 {info.filename} 压缩比异常（疑似压缩炸弹）")
        total += info.file_size
    if total > MAX_TOTAL_XML_BYTES:
        raise Unreadable(Code.FILE_UNSAFE, f"解压后共 {total // 1024 // 1024} MB，超过上限")


_OTHER_READERS = ("xl/workbook.xml", "xl/workbook.bin", "content.xml")


def _check_package(names: set[str]) -> None:
    """What no filled form holds: no ``[Content_Types].xml`` (Excel and Word will not open it),
    macros, or the parts of two spreadsheet formats at once (calamine, failing one, would read
    the other, unchecked)."""
    if {"xl/workbook.xml", "word/document.xml"} & names and "[Content_Types].xml" not in names:
        raise Unreadable(Code.FILE_CORRUPT, "缺少 [Content_Types].xml")
    if any(name.lower().rsplit("/", 1)[-1] == "vbaproject.bin" for name in names):
        raise Unreadable(Code.FILE_UNSAFE, "含有宏（VBA 代码）")
    if len(names.intersection(_OTHER_READERS)) > 1:
        raise Unreadable(Code.FILE_UNSAFE, "同时含有几种表格格式的部件")


