"""Zipped returns: a department zips its two files, and 新OA downloads several attachments as one
zip. Each member is taken out whole and handed back to be ingested as if it were a file beside
the zip (shown as ``archive.zip!member.xlsx``), within the limits the office readers keep.

A zip is refused whole — with the member named — when it is unsafe to open: a member that would
inflate past the limits (a zip bomb), more entries than any return has, a name reaching out of
the zip (``../``, ``/etc``, ``C:\\``), or a password. A zip inside the zip is opened too; one
inside that is not (``zip-too-deep``). Names are decoded as the tool that made them wrote them:
UTF-8 when the zip says so (or holds the Info-ZIP Unicode path), else UTF-8 if they are that,
else GB18030 (a Chinese Windows zip tool), else as the zip standard's code page 437.

>>> import io, zipfile
>>> buffer = io.BytesIO()
>>> with zipfile.ZipFile(buffer, "w") as zf:
...     zf.writestr("附件1.xlsx", b"PK...")
>>> [(m.name, m.data) for m in members(buffer.getvalue(), "办公室.zip")]
[('办公室.zip!附件1.xlsx', b'PK...')]
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass

from campaign315.intake.read.zipparts import (
    MAX_FILE_BYTES,
    MAX_PARTS,
    MAX_RATIO,
    MAX_TOTAL_XML_BYTES,
    Unreadable,
)
from campaign315.spec.problems import Code

MAX_DEPTH = 1
"""How deep a zip inside a zip is opened: one level (a zip of zips), no more."""
SEPARATOR = "!"
"""Between a zip's name and its member's: ``archive.zip!member.xlsx``."""

_PACKAGE_MARKS = frozenset({"[content_types].xml", "mimetype", "xl/workbook.xml", "xl/workbook.bin",
                            "word/document.xml", "content.xml", "encryptioninfo"})
_ROOT_MAIN_PARTS = frozenset({"workbook.xml", "workbook.bin", "document.xml"})
_LITTER = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$|Thumbs\.db$|desktop\.ini$|~\$|\.~lock\.|\._)", re.IGNORECASE)
_DRIVE = re.compile(r"^[A-Za-z]:")
_UNICODE_PATH_FIELD = 0x7075  # Info-ZIP: the name again, in UTF-8


@dataclass(frozen=True)
class Member:
    """One file taken out of a zip: its name as shown (``archive.zip!member.xlsx``) and its
    bytes. ``too_deep`` marks a zip nested past :data:`MAX_DEPTH`, handed back unopened."""

    name: str
    data: bytes
    too_deep: bool = False


def is_archive(data: bytes, zf: zipfile.ZipFile | None = None) -> bool:
    """A zip that is a folder of files, not an Office or OpenDocument package (which are zips too).
    ``zf``: the zip already opened on ``data`` (:func:`open_if_zip`), so its directory is read once."""
    if not data.startswith(b"PK"):
        return False
    if zf is None:
        zf = open_if_zip(data)
        if zf is None:
            return False  # a damaged package is the office reader's to name
    names = [name.replace("\\", "/").lower() for name in zf.namelist()]
    return not any(name in _PACKAGE_MARKS or name in _ROOT_MAIN_PARTS for name in names)


def open_if_zip(data: bytes) -> zipfile.ZipFile | None:
    """The zip in ``data``, its directory read; None when ``data`` is not a whole zip."""
    if not data.startswith(b"PK"):
        return None
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return None


def members(data: bytes, shown: str, depth: int = 0) -> list[Member]:
    """Every file in the zip ``data`` (called ``shown``), in the zip's order; a zip among them
    opened in turn while ``depth`` allows. Raises :class:`Unreadable` when the zip must be refused
    whole. Folders and what zip tools leave beside files (``__MACOSX/``, ``Thumbs.db``) are skipped."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise Unreadable(Code.FILE_CORRUPT, f"不是完整的压缩包：{exc}") from None
    with zf:
        named = [(info, member_name(info)) for info in infos]
        _check(named)
        found: list[Member] = []
        budget = MAX_TOTAL_XML_BYTES
        for info, name in named:
            if info.is_dir() or name.endswith("/") or _LITTER.search(name):
                continue
            body = _read(zf, info, name)
            budget -= len(body)
            if budget < 0:
                raise Unreadable(Code.FILE_UNSAFE, f"压缩包解压后超过 {MAX_TOTAL_XML_BYTES // 1024 // 1024} MB（疑似压缩炸弹）")
            where = f"{shown}{SEPARATOR}{name}"
            if is_archive(body):
                if depth < MAX_DEPTH:
                    found.extend(members(body, where, depth + 1))
                else:
                    found.append(Member(where, body, too_deep=True))
                continue
            found.append(Member(where, body))
    if not found and depth == 0:
        raise Unreadable(Code.ZIP_EMPTY)
    return found


def member_name(info: zipfile.ZipInfo) -> str:
    r"""A member's name as its zip tool meant it, with ``/`` between folders.

    >>> info = zipfile.ZipInfo("x")
    >>> info.filename = "附件1.xlsx".encode("gbk").decode("cp437")  # how zipfile shows a GBK name
    >>> member_name(info)
    '附件1.xlsx'
    """
    name = info.filename
    if not info.flag_bits & 0x800:
        name = _unicode_path(info) or _decoded(name.encode("cp437", "replace"))
    return name.replace("\\", "/")


def _decoded(raw: bytes) -> str:
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("cp437")


def _unicode_path(info: zipfile.ZipInfo) -> str | None:
    """The Info-ZIP Unicode Path extra field's name, when there is one."""
    extra, position = info.extra, 0
    while position + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, position)
        body = extra[position + 4 : position + 4 + size]
        position += 4 + size
        if kind == _UNICODE_PATH_FIELD and len(body) > 5 and body[0] == 1:
            try:
                return body[5:].decode("utf-8")
            except UnicodeDecodeError:
                return None
    return None


def _check(named: list[tuple[zipfile.ZipInfo, str]]) -> None:
    """What refuses a zip before anything in it is inflated: a password, too many entries, a name
    reaching outside the zip, a member too large or packed too tightly to be a filled form."""
    if len(named) > MAX_PARTS:
        raise Unreadable(Code.FILE_UNSAFE, f"压缩包内有 {len(named)} 个文件，超过上限 {MAX_PARTS}")
    total = 0
    for info, name in named:
        if info.flag_bits & 0x1:
            raise Unreadable(Code.FORMAT_ENCRYPTED)
        parts = name.split("/")
        if name.startswith("/") or _DRIVE.match(name) or ".." in parts:
            raise Unreadable(Code.FILE_UNSAFE, f"压缩包里的「{name}」指向压缩包以外的位置")
        if info.file_size > MAX_FILE_BYTES:
            raise Unreadable(Code.FILE_UNSAFE, f"压缩包里的「{name}」解压后 {info.file_size // 1024 // 1024} MB，超过上限")
        if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise Unreadable(Code.FILE_UNSAFE, f"压缩包里的「{name}」压缩比异常（疑似压缩炸弹）")
        total += info.file_size
    if total > MAX_TOTAL_XML_BYTES:
        raise Unreadable(Code.FILE_UNSAFE, f"压缩包解压后共 {total // 1024 // 1024} MB，超过上限")


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> bytes:
    """A member's bytes with a hard cap (the sizes a zip declares may lie)."""
    try:
        with zf.open(info) as handle:
            body = handle.read(MAX_FILE_BYTES + 1)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError, zlib.error, ValueError) as exc:
        raise Unreadable(Code.FILE_CORRUPT, f"压缩包里的「{name}」无法解压：{exc}") from None
    if len(body) > MAX_FILE_BYTES:
        raise Unreadable(Code.FILE_UNSAFE, f"压缩包里的「{name}」解压后超过上限（疑似压缩炸弹）")
    return body
