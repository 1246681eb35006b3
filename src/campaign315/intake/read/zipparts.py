"""The reading toolkit every format's reader shares: the limits a returned file must keep, the one
exception for a file that cannot be read as a return, a zip part read with a hard cap, and XML
parsed with DTDs, entities and the network off. No reader of a format lives here, so the readers
(``xlsx``, ``docx``, ``extent``) and the dispatcher (``package``) all stand on it without a circle.
"""

from __future__ import annotations

import datetime as dt
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
    if len(data) > MAX_XML_PART_BYTES:
        raise Unreadable(Code.FILE_UNSAFE, f"部件 {name} 解压后超过上限")
    if check_doctype and (b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data[:65536]):
        raise Unreadable(Code.FILE_UNSAFE, f"部件 {name} 含有 DOCTYPE/实体声明")
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


def modified_time(zf: zipfile.ZipFile) -> dt.datetime | None:
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
