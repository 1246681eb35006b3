"""Open a returned file by what it is, not what it is called, within safe limits.

The bytes decide the format (a zip holding ``xl/workbook.xml`` is a workbook whatever its name);
sizes and part counts are checked before anything is inflated; XML with a DOCTYPE is refused
outright (no Office part has one; entity bombs and external entities need one).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
import zlib

from lxml import etree

from campaign315.read.cells import Package

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_PARTS = 2000
MAX_XML_PART_BYTES = 16 * 1024 * 1024
MAX_TOTAL_XML_BYTES = 48 * 1024 * 1024
MAX_RATIO = 200  # inflated / compressed, per part larger than 1 MiB

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
NS = {
    "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
    "dcterms": "http://purl.org/dc/terms/",
    "custom": "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
}


class Unreadable(Exception):
    """The file cannot be read as a return; ``code`` is a problem code from the catalogue."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(code, detail)
        self.code, self.detail = code, detail


def read_package(data: bytes, name: str = "") -> Package:
    """Read any supported return into rows of cells. Raises :class:`Unreadable` with a code."""
    if not data:
        raise Unreadable("file-empty")
    if len(data) > MAX_FILE_BYTES:
        raise Unreadable("file-too-large", f"{len(data) / 1024 / 1024:.0f} MB")
    if data.startswith(_OLE_MAGIC):
        return _read_ole(data, name)
    if not data.startswith(b"PK"):
        raise Unreadable("format-unknown", _describe_non_office(data, name))
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:  # "zip file version 8.4"
        raise Unreadable("file-corrupt", f"不是完整的压缩包：{exc}") from None
    _check_limits(zf)
    _check_package(names)
    if "xl/workbook.xml" in names:
        from campaign315.read.xlsx import read_xlsx

        package = read_xlsx(data, zf)
    elif "word/document.xml" in names:
        from campaign315.read.docx import read_docx

        package = read_docx(zf)
    elif "mimetype" in names:
        mimetype = zf.read("mimetype")
        if b"spreadsheet" in mimetype:
            from campaign315.read.extent import check_ods
            from campaign315.read.xlsx import read_with_calamine

            check_ods(zf)
            return read_with_calamine(data, "ods")
        raise Unreadable("format-legacy", "OpenDocument 文本（.odt）")
    elif "EncryptionInfo" in names:
        raise Unreadable("format-encrypted")
    else:
        raise Unreadable("format-unknown", "压缩包里不是 Excel 或 Word 文档")
    package.properties = read_custom_properties(zf) | package.properties
    package.modified = _modified(zf)
    return package


def _read_ole(data: bytes, name: str) -> Package:
    """An OLE2 compound file: legacy .xls (read through calamine), .doc/.et/.wps, or an Office
    file with an opening password (OOXML encrypted inside an OLE container)."""
    # The directory naming the streams may sit anywhere, after a large encrypted package too.
    if b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00i\x00o\x00n\x00I\x00n\x00f\x00o" in data or b"EncryptionInfo" in data:
        raise Unreadable("format-encrypted")
    if b"W\x00o\x00r\x00k\x00b\x00o\x00o\x00k" in data or b"B\x00o\x00o\x00k\x00" in data:
        from campaign315.read.extent import check_xls
        from campaign315.read.xlsx import read_with_calamine

        check_xls(data)
        return read_with_calamine(data, "xls")
    kind = "Word 97-2003（.doc）" if b"W\x00o\x00r\x00d\x00D\x00o\x00c\x00u\x00m\x00e\x00n\x00t" in data else "Office 97-2003 / WPS（.doc/.et/.wps）"
    raise Unreadable("format-legacy", kind)


def _describe_non_office(data: bytes, name: str) -> str:
    head = data[:8]
    if head.startswith(b"%PDF"):
        return "PDF 文件"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return "图片"
    if head.startswith((b"{\\rtf",)):
        return "RTF 文档"
    if head.lstrip().startswith((b"<html", b"<!DOCTYPE", b"<?xml", b"<HTML")):
        return "网页或 XML 文件"
    try:
        data[:4096].decode("utf-8")
        return "纯文本文件"
    except UnicodeDecodeError:
        return "无法识别的文件类型"


def _check_limits(zf: zipfile.ZipFile) -> None:
    """Sizes as the zip declares them, for every part: calamine follows the workbook's
    relationships to whatever part they name, ``.xml`` or not (``read_part`` caps what is
    actually inflated, in case the declared sizes lie)."""
    infos = zf.infolist()
    if len(infos) > MAX_PARTS:
        raise Unreadable("file-unsafe", f"压缩包内有 {len(infos)} 个部件，超过上限 {MAX_PARTS}")
    total = 0
    for info in infos:
        if info.file_size > MAX_XML_PART_BYTES:
            raise Unreadable("file-unsafe", f"部件 {info.filename} 解压后 {info.file_size // 1024 // 1024} MB，超过上限")
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise Unreadable("file-unsafe", f"部件 {info.filename} 压缩比异常（疑似压缩炸弹）")
        total += info.file_size
    if total > MAX_TOTAL_XML_BYTES:
        raise Unreadable("file-unsafe", f"解压后共 {total // 1024 // 1024} MB，超过上限")


_OTHER_READERS = ("xl/workbook.xml", "xl/workbook.bin", "content.xml")


def _check_package(names: set[str]) -> None:
    """What no filled form holds: no ``[Content_Types].xml`` (Excel and Word will not open it),
    macros, or the parts of two spreadsheet formats at once (calamine, failing one, would read
    the other, unchecked)."""
    if {"xl/workbook.xml", "word/document.xml"} & names and "[Content_Types].xml" not in names:
        raise Unreadable("file-corrupt", "缺少 [Content_Types].xml")
    if any(name.lower().rsplit("/", 1)[-1] == "vbaproject.bin" for name in names):
        raise Unreadable("file-unsafe", "含有宏（VBA 代码）")
    if len(names.intersection(_OTHER_READERS)) > 1:
        raise Unreadable("file-unsafe", "同时含有几种表格格式的部件")


def read_part(zf: zipfile.ZipFile, name: str) -> bytes | None:
    """A part's bytes, read with a hard cap (the central directory may lie about sizes); None if
    absent. A part carrying a DOCTYPE is refused."""
    try:
        with zf.open(name) as handle:
            data = handle.read(MAX_XML_PART_BYTES + 1)
    except KeyError:
        return None
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError, zlib.error) as exc:
        raise Unreadable("file-corrupt", f"部件 {name} 无法解压：{exc}") from None
    if len(data) > MAX_XML_PART_BYTES:
        raise Unreadable("file-unsafe", f"部件 {name} 解压后超过上限")
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data[:65536]:
        raise Unreadable("file-unsafe", f"部件 {name} 含有 DOCTYPE/实体声明")
    return data


def _safe_parser() -> etree.XMLParser:
    """No DTD loaded, no entity resolved, no network, no huge trees: what defusedxml does for
    the standard library, set directly on lxml (defusedxml.lxml is deprecated). ``read_part``
    has already refused any part that declares a DOCTYPE."""
    return etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False, dtd_validation=False)


_PARSER = _safe_parser()


def parse_xml(data: bytes, name: str):
    try:
        root = etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise Unreadable("file-corrupt", f"部件 {name} 不是有效的 XML：{str(exc)[:120]}") from None
    if root.getroottree().docinfo.doctype:
        raise Unreadable("file-unsafe", f"部件 {name} 含有 DOCTYPE")
    return root


def read_custom_properties(zf: zipfile.ZipFile) -> dict[str, str]:
    data = read_part(zf, "docProps/custom.xml")
    if not data:
        return {}
    try:
        root = parse_xml(data, "docProps/custom.xml")
    except Unreadable:
        return {}  # a mangled property part only costs the identity; the labels still identify
    props = {}
    for prop in root.findall("custom:property", NS):
        name = prop.get("name")
        if name and name.startswith("c315."):
            props[name] = "".join(prop.itertext()).strip()
    return props


def _modified(zf: zipfile.ZipFile) -> dt.datetime | None:
    data = read_part(zf, "docProps/core.xml")
    if not data:
        return None
    try:
        node = parse_xml(data, "docProps/core.xml").find("dcterms:modified", NS)
        if node is None or not node.text:
            return None
        return dt.datetime.fromisoformat(node.text.strip().replace("Z", "+00:00"))
    except (Unreadable, ValueError):
        return None
