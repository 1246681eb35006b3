"""The reading toolkit every format's reader shares: the limits a returned file must keep, the one
exception for a file that cannot be read as a return, a zip package whose parts are each inflated
once and with a hard cap, and XML parsed with DTDs, entities and the network off. No reader of a
format lives here, so the readers (``xlsx``, ``docx``, ``extent``) and the dispatcher
(``package``) all stand on it without a circle.
"""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile
import zlib

from lxml import etree

from campaign315.spec.problems import Code

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_PARTS = 2000
MAX_XML_PART_BYTES = 16 * 1024 * 1024
MAX_TOTAL_XML_BYTES = 48 * 1024 * 1024
MAX_RATIO = 200  # inflated / compressed, per part larger than 1 MiB

NS = {
    "cp": "http://schemas.openxmlformats.org/package/2006/metadata/core-properties",
    "dcterms": "http://purl.org/dc/terms/",
    "custom": "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties",
}


class Unreadable(Exception):
    """The file cannot be read as a return; ``code`` is a problem code from the catalogue."""

    def __init__(self, code: Code, detail: str = ""):
        super().__init__(code, detail)
        self.code, self.detail = code, detail


def read_part(zf: zipfile.ZipFile, name: str, check_doctype: bool = True) -> bytes | None:
    """A part's bytes, read with a hard cap (the central directory may lie about sizes); None if
    absent. A part carrying a DOCTYPE is refused (unless ``check_doctype`` is False: a part only
    copied, whose reader checks it later)."""
    try:
        with zf.open(name) as handle:
            data = handle.read(MAX_XML_PART_BYTES + 1)
    except KeyError:
        return None
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError, zlib.error) as exc:
        raise Unreadable(Code.FILE_CORRUPT, f"部件 {name} 无法解压：{exc}") from None
    return _checked(name, data, check_doctype)


def _checked(name: str, data: bytes, check_doctype: bool = True) -> bytes:
    if len(data) > MAX_XML_PART_BYTES:
        raise Unreadable(Code.FILE_UNSAFE, f"部件 {name} 解压后超过上限")
    if check_doctype and (data.find(b"<!DOCTYPE", 0, 4096) >= 0 or data.find(b"<!ENTITY", 0, 65536) >= 0):
        raise Unreadable(Code.FILE_UNSAFE, f"部件 {name} 含有 DOCTYPE/实体声明")
    return data


_LOCAL_HEADER = struct.Struct(zipfile.structFileHeader)
_PLAIN = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_UNUSUAL_FLAGS = 0x1 | 0x20 | 0x40  # encrypted, patched data, strong encryption: zipfile says what is wrong


class ZipPackage:
    """A returned zip package: its directory read once, each part inflated at most once — by every
    check and reader that needs it — with :func:`read_part`'s cap and DOCTYPE refusal.

    A plain part (stored or deflated, as every office suite writes them) is inflated straight from
    the bytes with zlib, its CRC checked; anything else goes through :mod:`zipfile`, which says
    what is wrong with it. (``zipfile.ZipFile.open`` costs more than inflating a small part.)"""

    def __init__(self, data: bytes, zf: zipfile.ZipFile | None = None):
        self.data = data
        self.zip = zf if zf is not None else zipfile.ZipFile(io.BytesIO(data))
        self._parts: dict[str, bytes | None] = {}

    def namelist(self) -> list[str]:
        return self.zip.namelist()

    def infolist(self) -> list[zipfile.ZipInfo]:
        return self.zip.infolist()

    def part(self, name: str) -> bytes | None:
        """The part's bytes (None if absent); :class:`Unreadable` as :func:`read_part` raises it."""
        try:
            return self._parts[name]
        except KeyError:
            pass
        try:
            info = self.zip.getinfo(name)
        except KeyError:
            self._parts[name] = None
            return None
        data = self._inflate(info)
        found = self._parts[name] = read_part(self.zip, name) if data is None else _checked(name, data)
        return found

    def _inflate(self, info: zipfile.ZipInfo) -> bytes | None:
        """The part inflated from the package's bytes; None when it is not plain (zipfile reads it)."""
        if info.compress_type not in _PLAIN or info.flag_bits & _UNUSUAL_FLAGS:
            return None
        start = info.header_offset
        header = self.data[start:start + _LOCAL_HEADER.size]
        if len(header) != _LOCAL_HEADER.size:
            return None
        fields = _LOCAL_HEADER.unpack(header)
        if fields[zipfile._FH_SIGNATURE] != zipfile.stringFileHeader:
            return None
        name_length, extra_length = fields[zipfile._FH_FILENAME_LENGTH], fields[zipfile._FH_EXTRA_FIELD_LENGTH]
        name_start = start + _LOCAL_HEADER.size
        raw_name = self.data[name_start:name_start + name_length]
        try:  # decoded as zipfile decodes it, by the local header's own flag (ASCII reads alike either way)
            local_name = raw_name.decode("ascii" if raw_name.isascii() else
                                         "utf-8" if fields[zipfile._FH_GENERAL_PURPOSE_FLAG_BITS] & 0x800 else "cp437")
        except UnicodeDecodeError:
            return None
        if local_name != info.orig_filename:
            return None  # zipfile says the names differ
        body = name_start + name_length + extra_length
        raw = self.data[body:body + info.compress_size]
        if info.compress_type == zipfile.ZIP_STORED:
            if info.compress_size != info.file_size:
                return None
            data = raw[:MAX_XML_PART_BYTES + 1]
        else:
            try:
                data = zlib.decompressobj(-15).decompress(raw, MAX_XML_PART_BYTES + 1)
            except zlib.error:
                return None
        if len(data) <= MAX_XML_PART_BYTES and zlib.crc32(data) != info.CRC:
            return None
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
        raise Unreadable(Code.FILE_CORRUPT, f"部件 {name} 不是有效的 XML：{str(exc)[:120]}") from None
    if root.getroottree().docinfo.doctype:
        raise Unreadable(Code.FILE_UNSAFE, f"部件 {name} 含有 DOCTYPE")
    return root


def _part(source: ZipPackage | zipfile.ZipFile, name: str) -> bytes | None:
    return source.part(name) if isinstance(source, ZipPackage) else read_part(source, name)


def read_custom_properties(source: ZipPackage | zipfile.ZipFile) -> dict[str, str]:
    """The ``c315.*`` custom document properties (the identity c315 embeds)."""
    data = _part(source, "docProps/custom.xml")
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


def modified_time(source: ZipPackage | zipfile.ZipFile) -> dt.datetime | None:
    """When the saving suite says the document was last modified."""
    data = _part(source, "docProps/core.xml")
    if not data:
        return None
    try:
        node = parse_xml(data, "docProps/core.xml").find("dcterms:modified", NS)
        if node is None or not node.text:
            return None
        return dt.datetime.fromisoformat(node.text.strip().replace("Z", "+00:00"))
    except (Unreadable, ValueError):
        return None
