"""The hostile corpus: every broken, odd or malicious file an office may receive, made here from
real generated-and-filled forms, each ingested through the real command line beside one good
return. Each must come back as a located problem with a code — or, where that is the right
answer, accepted with the warnings stated — with no traceback, without hanging, in bounded
memory, and without costing the good return its place.

The cases are data: ``CASES`` lists them with what each must get. Findings of ``make fuzz``
land here as regression cases.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pytest
from conftest import GOOD_QUANTITIES, GOOD_REMARKS, GOOD_ROSTER
from fill import blank, fill_roster, fill_stats, set_identity, stats_cell, strip_identity, write_formula
from guards import deadline
from zipkit import (
    OLE_MAGIC,
    biff_workbook,
    damage_stream,
    ole_file,
    patch_entry,
    read_parts,
    rezip,
    sheet_part,
    with_parts,
    with_streamed_part,
)

from campaign315.common.files import shipped
from campaign315.spec.campaign import load_campaign
from campaign315.spec.problems import Code
from campaign315.store import open_store

CAMPAIGN = load_campaign(shipped("data") / "campaign.toml")
CODES = frozenset(str(code) for code in Code)
HANG_SECONDS = 120
"""After this long one hostile file and one good one did not just take long: ingest hung."""
MEMORY_GROWTH_MB = 300
"""How much more a bomb may make ingest's peak memory grow than a good file alone does."""

FILLER = {"filler": "张涛", "phone": "13682055679"}
MARKER = "c315-secret-marker-7f3a"


def noise(size: int, seed: int = 315) -> bytes:
    """Bytes that look random, the same in every run."""
    return random.Random(seed).randbytes(size)


# --- the forms every case starts from ------------------------------------------------------


@dataclass(frozen=True)
class Bases:
    """Clean returns for 办公室 (附件2) and a station (附件1), as generated and filled."""

    stats_xlsx: Path
    stats_docx: Path
    roster_xlsx: Path
    roster_docx: Path


@pytest.fixture(scope="module")
def bases(tmp_path_factory) -> Bases:
    root = tmp_path_factory.mktemp("bases")
    made = {}
    for fmt in ("xlsx", "docx"):
        made[f"stats_{fmt}"] = fill_stats(blank(root / f"s-{fmt}", "办公室", "stats", fmt), GOOD_QUANTITIES,
                                          remarks=GOOD_REMARKS, **FILLER)
        made[f"roster_{fmt}"] = fill_roster(blank(root / f"r-{fmt}", "劝业场市场监管所", "roster", fmt), GOOD_ROSTER, **FILLER)
    return Bases(**made)


@pytest.fixture(scope="module")
def listener() -> Iterator[socket.socket]:
    """A local port an external entity or DTD might point at: any connection to it is a leak."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


def connections(server: socket.socket) -> int:
    count = 0
    with contextlib.suppress(BlockingIOError):
        while True:
            connection, _ = server.accept()
            connection.close()
            count += 1
    return count


@dataclass
class Kit:
    """What a case builds with: the clean forms, a folder, a secret file, a port to call home to."""

    bases: Bases
    folder: Path
    secret: Path
    port: int
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def copy(self, source: Path, name: str) -> Path:
        target = self.folder / name
        shutil.copyfile(source, target)
        return target

    def write(self, name: str, data: bytes) -> Path:
        target = self.folder / name
        target.write_bytes(data)
        return target

    def parts(self, source: Path) -> dict[str, bytes]:
        return read_parts(source)

    def stats_sheet(self) -> tuple[dict[str, bytes], str, str]:
        """The 附件2 workbook's parts, its sheet part's name and that part as text."""
        parts = read_parts(self.bases.stats_xlsx)
        name = sheet_part(parts, "统计表")
        return parts, name, parts[name].decode()

    def document(self, source: Path | None = None) -> tuple[dict[str, bytes], str]:
        parts = read_parts(source or self.bases.stats_docx)
        return parts, parts["word/document.xml"].decode()

    def tmpfs(self) -> Path:
        """A folder on a file system that keeps any timestamp (tmpfs), removed afterwards."""
        if not Path("/dev/shm").is_dir():
            pytest.skip("no tmpfs at /dev/shm")
        folder = Path(tempfile.mkdtemp(dir="/dev/shm", prefix="c315-test-"))
        self.cleanups.append(lambda: shutil.rmtree(folder, ignore_errors=True))
        return folder


# --- the cases -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One hostile input and what it must get. ``rejects``: the error codes, any one of which
    rejects it rightly. ``accepts``: instead, accepted with exactly these warnings. ``bomb``: also
    measured for peak memory in a child process. ``check``: more to assert on its results."""

    name: str
    build: Callable[[Kit], Path]
    rejects: tuple[str, ...] = ()
    accepts: frozenset[str] | None = None
    bomb: bool = False
    check: Callable[[list[dict], Kit, str], None] | None = None


CASES: list[Case] = []


def case(name: str, *, rejects: tuple[str, ...] | str = (), accepts: set[str] | None = None, bomb: bool = False,
         check: Callable | None = None):
    def register(build: Callable[[Kit], Path]) -> Callable[[Kit], Path]:
        codes = (rejects,) if isinstance(rejects, str) else rejects
        CASES.append(Case(name, build, codes, frozenset(accepts) if accepts is not None else None, bomb, check))
        return build

    return register


def set_cell(xml: str, ref: str, inner: str, kind: str | None = None) -> str:
    """Sheet XML with cell ``ref`` replaced by one holding ``inner`` (``<v>…</v>``, ``<is>…``)."""
    pattern = re.compile(rf'<c r="{ref}"(?P<attrs>[^>]*?)(?:/>|>.*?</c>)', re.DOTALL)
    match = pattern.search(xml)
    assert match, ref
    attrs = re.sub(r'\s+t="[^"]*"', "", match["attrs"]) + (f' t="{kind}"' if kind else "")
    return xml[:match.start()] + f'<c r="{ref}"{attrs}>{inner}</c>' + xml[match.end():]


def text_cell(text: str) -> str:
    return f"<is><t>{text}</t></is>"


REMARK = stats_cell("xlsx", "1.1", "remark").ref
QUANTITY = stats_cell("xlsx", "1.1").ref


def no_marker(results: list[dict], kit: Kit, stored: str) -> None:
    """Nothing from the secret file or the network reached the report or the store."""
    assert MARKER not in json.dumps(results, ensure_ascii=False)
    assert MARKER not in stored
    assert "root:x:0:0" not in stored


# 1. Not a workbook at all, or not a whole one.

@case("zero-byte", rejects="file-empty")
def _(kit):
    return kit.write("办公室.xlsx", b"")


@case("text-renamed-xlsx", rejects="format-unknown")
def _(kit):
    return kit.write("办公室.xlsx", "填报部门：办公室\n组织普法活动 3 场\n".encode())


@case("truncated-xlsx", rejects="file-corrupt")
def _(kit):
    data = kit.bases.stats_xlsx.read_bytes()
    return kit.write("截断.xlsx", data[: len(data) // 2])


@case("truncated-docx", rejects="file-corrupt")
def _(kit):
    data = kit.bases.stats_docx.read_bytes()
    return kit.write("截断.docx", data[: len(data) * 3 // 5])


@case("no-content-types-xlsx", rejects="file-corrupt")
def _(kit):
    return with_parts(kit.bases.stats_xlsx, kit.folder / "无类型.xlsx", {"[Content_Types].xml": None})


@case("no-content-types-docx", rejects="file-corrupt")
def _(kit):
    return with_parts(kit.bases.stats_docx, kit.folder / "无类型.docx", {"[Content_Types].xml": None})


@case("missing-sheet-part", rejects="file-corrupt")
def _(kit):
    parts, name, _ = kit.stats_sheet()
    return with_parts(kit.bases.stats_xlsx, kit.folder / "缺表.xlsx", {name: None})


@case("missing-document-part", rejects="format-unknown")
def _(kit):
    return with_parts(kit.bases.stats_docx, kit.folder / "缺正文.docx", {"word/document.xml": None})


@case("zip-entry-encrypted", rejects="file-corrupt")
def _(kit):
    parts, name, _ = kit.stats_sheet()
    return kit.write("加密条目.xlsx", patch_entry(kit.bases.stats_xlsx.read_bytes(), name, flags=1))


@case("zip-unknown-compression", rejects="file-corrupt")
def _(kit):
    parts, name, _ = kit.stats_sheet()
    return kit.write("压缩方式.xlsx", patch_entry(kit.bases.stats_xlsx.read_bytes(), name, method=99))


@case("zip-needs-version-8.4", rejects="file-corrupt")
def _(kit):
    """Found by make fuzz: zipfile raises NotImplementedError, which no reader expected."""
    parts, name, _ = kit.stats_sheet()
    return kit.write("新版压缩.xlsx", patch_entry(kit.bases.stats_xlsx.read_bytes(), name, needs_version=84))


@case("deflate-stream-damaged-xlsx", rejects="file-corrupt")
def _(kit):
    """Found by make fuzz: a damaged deflate stream raises zlib.error, which no reader expected."""
    parts, name, _ = kit.stats_sheet()
    return kit.write("坏压缩.xlsx", damage_stream(kit.bases.stats_xlsx.read_bytes(), name))


@case("deflate-stream-damaged-docx", rejects="file-corrupt")
def _(kit):
    return kit.write("坏压缩.docx", damage_stream(kit.bases.stats_docx.read_bytes(), "word/document.xml"))


@case("too-many-parts", rejects="file-unsafe")
def _(kit):
    return with_parts(kit.bases.stats_xlsx, kit.folder / "部件多.xlsx", {},
                      add={f"xl/media/p{n}.bin": b"x" for n in range(2500)})


@case("both-xlsx-and-ods-parts", rejects="file-unsafe")
def _(kit):
    content = (b'<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"/>')
    return with_parts(kit.bases.stats_xlsx, kit.folder / "混合.xlsx", {},
                      add={"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": content})


# 2. Bombs: parts that inflate past every limit, checked before anything parses them.

def _spaces(head: str, tail: str, megabytes: int) -> Iterator[bytes]:
    yield head.encode()
    block = b" " * (1 << 20)
    for _ in range(megabytes):
        yield block
    yield tail.encode()


@case("zip-bomb-sheet", rejects="file-unsafe", bomb=True)
def _(kit):
    parts, name, xml = kit.stats_sheet()
    at = xml.index("<sheetData>") + len("<sheetData>")
    return with_streamed_part(kit.bases.stats_xlsx, kit.folder / "炸弹.xlsx", name, _spaces(xml[:at], xml[at:], 100))


@case("zip-bomb-document", rejects="file-unsafe", bomb=True)
def _(kit):
    parts, xml = kit.document()
    at = xml.index("<w:body>") + len("<w:body>")
    return with_streamed_part(kit.bases.stats_docx, kit.folder / "炸弹.docx", "word/document.xml", _spaces(xml[:at], xml[at:], 100))


@case("zip-bomb-image-part", rejects="file-unsafe", bomb=True)
def _(kit):
    target = kit.copy(kit.bases.stats_xlsx, "图片炸弹.xlsx")
    with zipfile.ZipFile(target, "a", zipfile.ZIP_DEFLATED) as zf, zf.open("xl/media/image1.png", "w", force_zip64=True) as part:
        block = b"\0" * (1 << 20)
        for _ in range(200):
            part.write(block)
    return target


@case("zip-bomb-sheet-behind-image-name", rejects="file-unsafe", bomb=True)
def _(kit):
    """The workbook's relationship names a part that is not .xml: it is limited all the same."""
    parts, name, xml = kit.stats_sheet()
    rels = parts["xl/_rels/workbook.xml.rels"].replace(name.removeprefix("xl/").encode(), b"media/image1.png")
    staged = with_parts(kit.bases.stats_xlsx, kit.folder / "stage.zip", {name: None, "xl/_rels/workbook.xml.rels": rels})
    at = xml.index("<sheetData>") + len("<sheetData>")
    target = with_streamed_part(staged, kit.folder / "伪图片.xlsx", "xl/media/image1.png", _spaces(xml[:at], xml[at:], 100))
    staged.unlink()
    return target


@case("zip-sizes-lie", rejects=("file-corrupt", "file-unsafe"), bomb=True)
def _(kit):
    """The central directory says 4 KB; the sheet inflates to 50 MB."""
    parts, name, xml = kit.stats_sheet()
    at = xml.index("<sheetData>") + len("<sheetData>")
    honest = with_streamed_part(kit.bases.stats_xlsx, kit.folder / "stage.zip", name, _spaces(xml[:at], xml[at:], 50))
    data = patch_entry(honest.read_bytes(), name, size=4096)
    honest.unlink()
    return kit.write("大小不实.xlsx", data)


@case("million-rows", rejects="file-unsafe", bomb=True)
def _(kit):
    """1,000,000 rows written straight into the sheet XML (streamed, compressed)."""
    parts, name, xml = kit.stats_sheet()
    head, tail = xml.split("</sheetData>")

    def rows() -> Iterator[bytes]:
        yield head.encode()
        for start in range(30, 1_000_030, 10_000):
            yield "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(start, start + 10_000)).encode()
        yield ("</sheetData>" + tail).encode()

    return with_streamed_part(kit.bases.stats_xlsx, kit.folder / "百万行.xlsx", name, rows())


@case("16384-columns", rejects="file-unsafe", bomb=True)
def _(kit):
    from campaign315.spec.location import column_letter

    parts, name, xml = kit.stats_sheet()
    row = '<row r="30">' + "".join(f'<c r="{column_letter(c)}30"><v>{c}</v></c>' for c in range(1, 16385)) + "</row>"
    return with_parts(kit.bases.stats_xlsx, kit.folder / "万列.xlsx", {name: xml.replace("</sheetData>", row + "</sheetData>").encode()})


@case("cells-at-A1-and-XFD1048576", rejects="file-unsafe", bomb=True)
def _(kit):
    """Two cells, which calamine would lay out as one 17-billion-cell block (it aborts)."""
    parts, name, xml = kit.stats_sheet()
    far = '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
    return with_parts(kit.bases.stats_xlsx, kit.folder / "两角.xlsx", {name: xml.replace("</sheetData>", far + "</sheetData>").encode()})


@case("cell-reference-of-a-million-letters", rejects="file-unsafe")
def _(kit):
    parts, name, xml = kit.stats_sheet()
    far = '<row r="30"><c r="' + "X" * 1_000_000 + '30" t="inlineStr"><is><t>x</t></is></c></row>'
    return with_parts(kit.bases.stats_xlsx, kit.folder / "长引用.xlsx", {name: xml.replace("</sheetData>", far + "</sheetData>").encode()})


@case("row-number-of-5000-digits", rejects=("file-unsafe", "file-corrupt"))
def _(kit):
    parts, name, xml = kit.stats_sheet()
    far = f'<row r="{"9" * 5000}"><c t="inlineStr"><is><t>x</t></is></c></row>'
    return with_parts(kit.bases.stats_xlsx, kit.folder / "长行号.xlsx", {name: xml.replace("</sheetData>", far + "</sheetData>").encode()})


@case("shared-strings-claims-4-billion", rejects="file-unsafe", bomb=True)
def _(kit):
    """``uniqueCount`` calamine reserves room for before reading a string (96 GB: it aborts)."""
    parts, name, xml = kit.stats_sheet()
    sst = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="4000000000">'
           b"<si><t>\xe5\x90\x8c</t></si></sst>")
    types = parts["[Content_Types].xml"].replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType='
                                                  b'"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    rels = parts["xl/_rels/workbook.xml.rels"].replace(b"</Relationships>", b'<Relationship Id="rId90" Type="http://schemas.'
                                                       b'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    cell = set_cell(xml, REMARK, "<v>0</v>", "s")
    return with_parts(kit.bases.stats_xlsx, kit.folder / "四十亿.xlsx",
                      {name: cell.encode(), "[Content_Types].xml": types, "xl/_rels/workbook.xml.rels": rels},
                      add={"xl/sharedStrings.xml": sst})


@case("50-MB-cell", rejects="file-unsafe", bomb=True)
def _(kit):
    parts, name, xml = kit.stats_sheet()
    head, tail = set_cell(xml, REMARK, text_cell("@@"), "inlineStr").split("@@")

    def chunks() -> Iterator[bytes]:
        yield head.encode()
        for _ in range(50):
            yield b"A" * (1 << 20)
        yield tail.encode()

    return with_streamed_part(kit.bases.stats_xlsx, kit.folder / "大单元格.xlsx", name, chunks())


@case("docx-cells-spanning-64-columns-each", rejects="file-unsafe", bomb=True)
def _(kit):
    """150,000 table cells of 64 grid columns each: 10 million cells from a 1 MB file."""
    parts, xml = kit.document()
    rng = random.Random(6)
    cell = '<w:tc><w:tcPr><w:gridSpan w:val="64"/></w:tcPr><w:p><w:r><w:t>{}</w:t></w:r></w:p></w:tc>'
    table = "<w:tbl><w:tr>" + "".join(cell.format(f"{rng.getrandbits(40):x}") for _ in range(150_000)) + "</w:tr></w:tbl>"
    at = xml.index("<w:body>") + len("<w:body>")
    return with_parts(kit.bases.stats_docx, kit.folder / "合并列.docx", {"word/document.xml": (xml[:at] + table + xml[at:]).encode()})


@case("docx-220000-table-rows", rejects="file-unsafe", bomb=True)
def _(kit):
    parts, xml = kit.document()
    rng = random.Random(7)
    table = "<w:tbl>" + "".join(f"<w:tr><w:tc><w:p><w:r><w:t>{rng.getrandbits(40):x}</w:t></w:r></w:p></w:tc></w:tr>"
                                for _ in range(220_000)) + "</w:tbl>"
    at = xml.index("<w:body>") + len("<w:body>")
    return with_parts(kit.bases.stats_docx, kit.folder / "行多.docx", {"word/document.xml": (xml[:at] + table + xml[at:]).encode()})


@case("ods-cell-repeated-over-a-million-rows", rejects="file-unsafe", bomb=True)
def _(kit):
    content = ('<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
               'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
               'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>'
               '<table:table table:name="统计表"><table:table-row table:number-rows-repeated="1048576">'
               '<table:table-cell table:number-columns-repeated="64" office:value-type="float" office:value="1">'
               "<text:p>1</text:p></table:table-cell></table:table-row></table:table>"
               "</office:spreadsheet></office:body></office:document-content>")
    return kit.write("重复.ods", rezip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                                        "content.xml": content.encode()}, zipfile.ZIP_STORED))


@case("xls-cells-at-A1-and-IV65536", rejects="file-unsafe", bomb=True)
def _(kit):
    return kit.write("两角.xls", ole_file({"Workbook": biff_workbook([(0, 0, 1.0), (65535, 255, 2.0)])}))


@case("xls-dimensions-claim-4-billion-rows", rejects="file-unsafe", bomb=True)
def _(kit):
    """A DIMENSIONS record calamine sizes its grid from (11 PB: it aborts)."""
    return kit.write("尺寸.xls", ole_file({"Workbook": biff_workbook([(0, 0, 1.0)], dimensions=(0xFFFFFFFF, 0xFFFF))}))


@case("3-GB-sparse-file", rejects="file-too-large", bomb=True)
def _(kit):
    target = kit.folder / "巨大.xlsx"
    with open(target, "wb") as handle:
        handle.truncate(3 << 30)
    return target


@case("symlink-to-dev-zero", rejects="file-unreadable", bomb=True)
def _(kit):
    target = kit.folder / "无尽.xlsx"
    target.symlink_to("/dev/zero")
    return target


@case("fifo-named-xlsx", rejects="file-unreadable")
def _(kit):
    target = kit.folder / "管道.xlsx"
    os.mkfifo(target)
    return target


# 3. XML: entity bombs and external entities, in each part that is parsed.

# A billion laughs: &lol9; would expand to 10⁹ copies of "lol".
LAUGHS = '<!DOCTYPE lolz [<!ENTITY lol0 "lol">' + "".join(
    f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)) + "]>"


def _prolog(kind: str, kit: Kit) -> tuple[str, str]:
    """A DOCTYPE declaring ``&x;`` and the reference to use."""
    if kind == "bomb":
        return LAUGHS, "&lol9;"
    target = f"file://{kit.secret}" if kind == "file" else f"http://127.0.0.1:{kit.port}/c315"
    return f'<!DOCTYPE x [<!ENTITY x SYSTEM "{target}">]>', "&x;"


def _in_sheet(kind: str) -> Callable[[Kit], Path]:
    def build(kit: Kit) -> Path:
        parts, name, xml = kit.stats_sheet()
        doctype, ref = _prolog(kind, kit)
        return with_parts(kit.bases.stats_xlsx, kit.folder / f"实体-{kind}.xlsx",
                          {name: (doctype + set_cell(xml, REMARK, text_cell(ref), "inlineStr")).encode()})
    return build


def _in_shared_strings(kind: str) -> Callable[[Kit], Path]:
    def build(kit: Kit) -> Path:
        parts, name, xml = kit.stats_sheet()
        doctype, ref = _prolog(kind, kit)
        sst = (f'{doctype}<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
               f'uniqueCount="1"><si><t>{ref}</t></si></sst>')
        types = parts["[Content_Types].xml"].replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType='
                                                      b'"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
        rels = parts["xl/_rels/workbook.xml.rels"].replace(b"</Relationships>", b'<Relationship Id="rId90" Type="http://schemas.'
                                                           b'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
        return with_parts(kit.bases.stats_xlsx, kit.folder / f"共享-{kind}.xlsx",
                          {name: set_cell(xml, REMARK, "<v>0</v>", "s").encode(), "[Content_Types].xml": types,
                           "xl/_rels/workbook.xml.rels": rels}, add={"xl/sharedStrings.xml": sst.encode()})
    return build


def _in_custom_properties(kind: str, fmt: str) -> Callable[[Kit], Path]:
    def build(kit: Kit) -> Path:
        source = kit.bases.stats_xlsx if fmt == "xlsx" else kit.bases.stats_docx
        custom = read_parts(source)["docProps/custom.xml"].decode()
        custom = re.sub(r"^<\?xml[^>]*\?>", "", custom)
        doctype, ref = _prolog(kind, kit)
        return with_parts(source, kit.folder / f"属性-{kind}.{fmt}",
                          {"docProps/custom.xml": (doctype + custom.replace(">办公室<", f">{ref}<")).encode()})
    return build


def _in_document(kind: str) -> Callable[[Kit], Path]:
    def build(kit: Kit) -> Path:
        parts, xml = kit.document()
        doctype, ref = _prolog(kind, kit)
        at = xml.index("?>") + 2 if xml.startswith("<?xml") else 0
        body = xml[at:].replace("填报部门：", f"填报部门：{ref}", 1)
        return with_parts(kit.bases.stats_docx, kit.folder / f"正文-{kind}.docx", {"word/document.xml": (xml[:at] + doctype + body).encode()})
    return build


for _kind in ("bomb", "file", "http"):
    _check = no_marker if _kind != "bomb" else None
    case(f"entity-{_kind}-in-sheet", rejects="file-unsafe", bomb=_kind == "bomb", check=_check)(_in_sheet(_kind))
    case(f"entity-{_kind}-in-sharedStrings", rejects="file-unsafe", bomb=_kind == "bomb", check=_check)(_in_shared_strings(_kind))
    case(f"entity-{_kind}-in-custom-xml", rejects="file-unsafe", bomb=_kind == "bomb", check=_check)(
        _in_custom_properties(_kind, "xlsx" if _kind != "file" else "docx"))
    case(f"entity-{_kind}-in-document-xml", rejects="file-unsafe", bomb=_kind == "bomb", check=_check)(_in_document(_kind))


@case("entity-etc-passwd-in-document-xml", rejects="file-unsafe", check=no_marker)
def _(kit):
    parts, xml = kit.document()
    at = xml.index("?>") + 2
    doctype = '<!DOCTYPE x [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    return with_parts(kit.bases.stats_docx, kit.folder / "passwd.docx",
                      {"word/document.xml": (xml[:at] + doctype + xml[at:].replace("填报部门：", "填报部门：&x;", 1)).encode()})


@case("external-dtd-in-document-xml", rejects="file-unsafe", check=no_marker)
def _(kit):
    parts, xml = kit.document()
    at = xml.index("?>") + 2
    doctype = f'<!DOCTYPE w:document SYSTEM "http://127.0.0.1:{kit.port}/c315.dtd">'
    return with_parts(kit.bases.stats_docx, kit.folder / "外部DTD.docx", {"word/document.xml": (xml[:at] + doctype + xml[at:]).encode()})


@case("doctype-after-70-KB-of-comment-in-document", rejects="file-unsafe", check=no_marker)
def _(kit):
    parts, xml = kit.document()
    at = xml.index("?>") + 2
    padding = "<!--" + "填" * 24_000 + "-->"
    doctype = f'<!DOCTYPE x [<!ENTITY x SYSTEM "file://{kit.secret}">]>'
    body = xml[at:].replace("填报部门：", "填报部门：&x;", 1)
    return with_parts(kit.bases.stats_docx, kit.folder / "藏起的实体.docx", {"word/document.xml": (xml[:at] + padding + doctype + body).encode()})


@case("doctype-after-70-KB-of-comment-in-sheet", rejects=("file-unsafe", "file-corrupt"), check=no_marker)
def _(kit):
    parts, name, xml = kit.stats_sheet()
    padding = "<!--" + "填" * 24_000 + "-->"
    doctype = f'<!DOCTYPE x [<!ENTITY x SYSTEM "file://{kit.secret}">]>'
    return with_parts(kit.bases.stats_xlsx, kit.folder / "藏起的实体.xlsx",
                      {name: (padding + doctype + set_cell(xml, REMARK, text_cell("&x;"), "inlineStr")).encode()})


@case("xinclude-in-document-xml", accepts=set(), check=no_marker)
def _(kit):
    """XInclude is never processed: the element is ignored, the form read as it is."""
    parts, xml = kit.document()
    include = f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://{kit.secret}" parse="text"/>'
    at = xml.index("<w:body>") + len("<w:body>")
    return with_parts(kit.bases.stats_docx, kit.folder / "包含.docx", {"word/document.xml": (xml[:at] + include + xml[at:]).encode()})


@case("document-nested-300-deep", rejects="file-corrupt")
def _(kit):
    parts, xml = kit.document()
    at = xml.index("<w:body>") + len("<w:body>")
    deep = "<w:customXml>" * 300 + "</w:customXml>" * 300
    return with_parts(kit.bases.stats_docx, kit.folder / "嵌套.docx", {"word/document.xml": (xml[:at] + deep + xml[at:]).encode()})


# 4. Encrypted, legacy, and dressed as the other format.

ENCRYPTION_INFO = b"\x04\x00\x04\x00\x40\x00\x00\x00" + b'<?xml version="1.0"?><encryption xmlns="http://schemas.microsoft.com/office/2006/encryption"/>'


@case("encrypted-xlsx", rejects="format-encrypted")
def _(kit):
    return kit.write("加密.xlsx", ole_file({"EncryptionInfo": ENCRYPTION_INFO, "EncryptedPackage": noise(8192)}))


@case("encrypted-docx-directory-after-the-package", rejects="format-encrypted")
def _(kit):
    """The stream names sit after 100 KB of encrypted package (they were looked for only in the first 64 KB)."""
    return kit.write("加密.docx", ole_file({"EncryptionInfo": ENCRYPTION_INFO, "EncryptedPackage": noise(100_000)},
                                          directory_last=True))


@case("legacy-doc", rejects="format-legacy")
def _(kit):
    return kit.write("办公室.doc", ole_file({"WordDocument": b"\xec\xa5\xc1\x00" + noise(2000), "1Table": b"\0" * 600}))


@case("legacy-xls-signature-only", rejects="format-legacy")
def _(kit):
    return kit.write("办公室.xls", OLE_MAGIC + b"\0" * 504 + "Workbook".encode("utf-16-le") + noise(1024))


@case("legacy-xls-not-a-form", rejects="not-a-form")
def _(kit):
    return kit.write("别的表.xls", ole_file({"Workbook": biff_workbook([(0, 0, 1.0), (3, 2, 5.0)])}))


@case("legacy-xls-stream-in-a-missing-mini-stream", rejects="format-legacy")
def _(kit):
    """Declared small, so looked for in a mini stream the file does not have (calamine panics)."""
    return kit.write("坏.xls", ole_file({"Workbook": biff_workbook([(0, 0, 1.0)])}, declared_sizes=True))


@case("docx-renamed-xlsx", accepts=set())
def _(kit):
    return kit.copy(kit.bases.stats_docx, "统计表.xlsx")


@case("xlsx-renamed-docx", accepts=set())
def _(kit):
    return kit.copy(kit.bases.stats_xlsx, "统计表.docx")


# 5. Sheets, rows, labels, merges and formulas, edited the way people do.

def _edited(kit: Kit, name: str, edit: Callable[[openpyxl.Workbook], None]) -> Path:
    target = kit.copy(kit.bases.stats_xlsx, name)
    workbook = openpyxl.load_workbook(target)
    edit(workbook)
    workbook.save(target)
    return target


@case("sheet-renamed", accepts=set())
def _(kit):
    return _edited(kit, "改名.xlsx", lambda wb: setattr(wb["统计表"], "title", "Sheet1"))


@case("sheet-deleted", rejects="not-a-form")
def _(kit):
    def edit(wb):
        del wb["统计表"]
        wb["c315"].sheet_state = "visible"
    return _edited(kit, "删表.xlsx", edit)


@case("sheet-duplicated", accepts={"attachment-copy"})
def _(kit):
    return _edited(kit, "复制表.xlsx", lambda wb: wb.copy_worksheet(wb["统计表"]))


@case("sheet-hidden", accepts=set())
def _(kit):
    """The form's sheet hidden behind a blank one: its values are still what was returned."""
    def edit(wb):
        wb.create_sheet("说明", 0)
        wb.active = 0
        wb["统计表"].sheet_state = "hidden"
    return _edited(kit, "隐藏表.xlsx", edit)


@case("rows-hidden", accepts=set())
def _(kit):
    def edit(wb):
        for row in range(5, 12):
            wb["统计表"].row_dimensions[row].hidden = True
    return _edited(kit, "隐藏行.xlsx", edit)


@case("item-label-edited", rejects="item-label-changed")
def _(kit):
    return fill_stats(kit.copy(kit.bases.stats_xlsx, "改项目.xlsx"), labels={"1.2": "开展小型咨询活动"})


@case("merged-cells-broken", accepts=set())
def _(kit):
    def edit(wb):
        sheet = wb["统计表"]
        for merged in list(sheet.merged_cells.ranges):
            sheet.unmerge_cells(str(merged))
    return _edited(kit, "拆合并.xlsx", edit)


@case("merge-over-the-whole-sheet", accepts=set())
def _(kit):
    parts, name, xml = kit.stats_sheet()
    xml = xml.replace("</mergeCells>", '<mergeCell ref="A1:XFD1048576"/></mergeCells>')
    return with_parts(kit.bases.stats_xlsx, kit.folder / "大合并.xlsx", {name: xml.encode()})


@case("every-input-cell-a-formula", accepts={"quantity-formula"})
def _(kit):
    target = kit.copy(kit.bases.stats_xlsx, "全是公式.xlsx")
    for key in GOOD_QUANTITIES:
        write_formula(target, stats_cell("xlsx", key).ref, "2-1", cached=1)
    return target


@case("formulas-without-cached-values", rejects="quantity-formula-uncached")
def _(kit):
    target = kit.copy(kit.bases.stats_xlsx, "无缓存.xlsx")
    for key in ("1.1", "2.3"):
        write_formula(target, stats_cell("xlsx", key).ref, "SUM(1,2)")
    return target


@case("external-link", accepts={"quantity-formula"})
def _(kit):
    """A quantity linked to another workbook: its cached value is read, with the formula warning;
    nothing is fetched."""
    parts, name, xml = kit.stats_sheet()
    link = ('<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships"><externalBook r:id="rId1"><sheetNames><sheetName val="S"/>'
            "</sheetNames></externalBook></externalLink>")
    link_rels = (f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
                 f'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath" '
                 f'Target="http://127.0.0.1:{kit.port}/book.xlsx" TargetMode="External"/></Relationships>')
    types = parts["[Content_Types].xml"].replace(b"</Types>", b'<Override PartName="/xl/externalLinks/externalLink1.xml" '
                                                  b'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/></Types>')
    rels = parts["xl/_rels/workbook.xml.rels"].replace(b"</Relationships>", b'<Relationship Id="rId91" Type="http://schemas.'
                                                       b'openxmlformats.org/officeDocument/2006/relationships/externalLink" Target="externalLinks/externalLink1.xml"/></Relationships>')
    workbook = parts["xl/workbook.xml"].replace(b"</sheets>", b'</sheets><externalReferences><externalReference '
                                                b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" r:id="rId91"/></externalReferences>')
    sheet = set_cell(xml, QUANTITY, "<f>[1]S!A1</f><v>1</v>")
    return with_parts(kit.bases.stats_xlsx, kit.folder / "外部链接.xlsx",
                      {name: sheet.encode(), "[Content_Types].xml": types, "xl/_rels/workbook.xml.rels": rels, "xl/workbook.xml": workbook},
                      add={"xl/externalLinks/externalLink1.xml": link.encode(), "xl/externalLinks/_rels/externalLink1.xml.rels": link_rels.encode()})


@case("macros-xlsm", rejects="file-unsafe")
def _(kit):
    parts = read_parts(kit.bases.stats_xlsx)
    types = parts["[Content_Types].xml"].replace(b"spreadsheetml.sheet.main+xml", b"sheet.macroEnabled.main+xml").replace(
        b"</Types>", b'<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/></Types>')
    rels = parts["xl/_rels/workbook.xml.rels"].replace(b"</Relationships>", b'<Relationship Id="rId92" Type="http://schemas.'
                                                       b'microsoft.com/office/2006/relationships/vbaProject" Target="vbaProject.bin"/></Relationships>')
    return with_parts(kit.bases.stats_xlsx, kit.folder / "宏.xlsm", {"[Content_Types].xml": types, "xl/_rels/workbook.xml.rels": rels},
                      add={"xl/vbaProject.bin": ole_file({"dir": b"\x01" + noise(500)})})


@case("macros-in-docx", rejects="file-unsafe")
def _(kit):
    return with_parts(kit.bases.stats_docx, kit.folder / "宏.docx", {}, add={"word/vbaProject.bin": ole_file({"dir": b"\x01"})})


# 6. Text: control characters, surrogates, direction marks, bytes that are not UTF-8.

@case("control-characters-in-remark", accepts=set())
def _(kit):
    """Bell and escape bytes straight in the XML (not well-formed, but calamine reads it): kept as typed."""
    parts, name, xml = kit.stats_sheet()
    return with_parts(kit.bases.stats_xlsx, kit.folder / "控制字符.xlsx",
                      {name: set_cell(xml, REMARK, text_cell("备注\x07\x1b[31m尾"), "inlineStr").encode()})


@case("escaped-control-and-lone-surrogate", accepts=set())
def _(kit):
    """OOXML escapes ``_x0007_`` and a lone surrogate ``_xD800_`` in the filler's name and a remark."""
    parts, name, xml = kit.stats_sheet()
    return with_parts(kit.bases.stats_xlsx, kit.folder / "转义.xlsx",
                      {name: set_cell(xml, REMARK, text_cell("备注_x0007__xD800_尾"), "inlineStr").encode()})


@case("lone-surrogate-character-reference-in-sheet", rejects="file-corrupt")
def _(kit):
    parts, name, xml = kit.stats_sheet()
    return with_parts(kit.bases.stats_xlsx, kit.folder / "代理项.xlsx",
                      {name: set_cell(xml, REMARK, text_cell("&#xD800;"), "inlineStr").encode()})


@case("invalid-utf8-in-sheet", rejects="file-corrupt")
def _(kit):
    parts, name, xml = kit.stats_sheet()
    data = set_cell(xml, REMARK, text_cell("@@"), "inlineStr").encode().replace(b"@@", b"\xed\xa0\x80\xff\xfe")
    return with_parts(kit.bases.stats_xlsx, kit.folder / "坏编码.xlsx", {name: data})


@case("control-character-in-document-xml", rejects="file-corrupt")
def _(kit):
    parts, xml = kit.document()
    return with_parts(kit.bases.stats_docx, kit.folder / "控制字符.docx",
                      {"word/document.xml": xml.replace("填报部门：", "填报部门：\x01\x1b", 1).encode()})


def unit_is(unit: str):
    def check(results: list[dict], kit: Kit, stored: str) -> None:
        assert {r["unit"] for r in results} == {unit}
    return check


@case("rtl-and-zero-width-in-unit-xlsx", accepts=set(), check=unit_is("办公室"))
def _(kit):
    """Stripped of its identity, so 填报部门 alone says who sent it: the marks are ignored."""
    target = fill_stats(kit.copy(kit.bases.stats_xlsx, "方向.xlsx"), unit="\u202e\u200b办\u200d公\u2066室\ufeff\u200f")
    return strip_identity(target)


@case("rtl-and-zero-width-in-unit-docx", accepts=set(), check=unit_is("办公室"))
def _(kit):
    target = fill_stats(kit.copy(kit.bases.stats_docx, "方向.docx"), unit="\u202b办公室\u200b\u2060")
    return strip_identity(target)


@case("file-name-not-utf8", accepts=set())
def _(kit):
    """A GBK file name (from a zip made on Chinese Windows): stored and shown, decoded."""
    target = kit.folder / os.fsdecode("办公室".encode("gbk") + b"-\xff.xlsx")
    shutil.copyfile(kit.bases.stats_xlsx, target)
    return target


@case("file-name-with-terminal-escape", accepts=set(),
      check=lambda results, kit, stored: assert_no_escape(results, stored))
def _(kit):
    return kit.copy(kit.bases.stats_xlsx, "办公室\x1b[2J\x1b[31m.xlsx")


def assert_no_escape(results: list[dict], stored: str) -> None:
    assert not any("\x1b" in p["location"] for r in results for p in r["problems"])
    assert [r["file"].rsplit("/", 1)[-1] for r in results] == ["办公室\ufffd[2J\ufffd[31m.xlsx"]
    assert "\x1b" not in stored


@case("modified-in-the-year-31690708", accepts=set())
def _(kit):
    target = kit.tmpfs() / "远期.xlsx"
    shutil.copyfile(kit.bases.stats_xlsx, target)
    os.utime(target, (0, 1e15))
    if os.stat(target).st_mtime != 1e15:
        pytest.skip("this file system clamps timestamps")
    return target


# 7. Names and paths that reach for somewhere else.

@case("unit-property-is-a-path", rejects="unit-unknown")
def _(kit):
    return set_identity(kit.copy(kit.bases.stats_xlsx, "路径.xlsx"), unit="../../x")


@case("campaign-property-is-a-path", rejects="wrong-campaign")
def _(kit):
    return set_identity(kit.copy(kit.bases.stats_docx, "路径.docx"), campaign="../../x")


@case("file-name-with-backslashed-dot-dots", accepts=set(), check=lambda results, kit, stored: assert_nothing_outside(kit))
def _(kit):
    return kit.copy(kit.bases.stats_xlsx, "..\\..\\x.xlsx")


@case("zip-entry-named-dot-dot", accepts=set(), check=lambda results, kit, stored: assert_nothing_outside(kit))
def _(kit):
    return with_parts(kit.bases.stats_xlsx, kit.folder / "zipslip.xlsx", {}, add={"../../x.xml": b"<x/>", "/x.xml": b"<x/>"})


def assert_nothing_outside(kit: Kit) -> None:
    for folder in (kit.folder, kit.folder.parent, kit.folder.parent.parent):
        assert not (folder / "x.xml").exists() and not (folder / "x").exists()


@case("sheet-relationship-points-outside", rejects="file-corrupt")
def _(kit):
    parts, name, _ = kit.stats_sheet()
    rels = parts["xl/_rels/workbook.xml.rels"].replace(name.removeprefix("xl/").encode(), b"../../../../etc/passwd")
    return with_parts(kit.bases.stats_xlsx, kit.folder / "指向外面.xlsx", {"xl/_rels/workbook.xml.rels": rels})


@case("unreadable", rejects="file-unreadable")
def _(kit):
    """No read permission — or, as root (whom permissions do not stop), a shortcut to nothing."""
    target = kit.copy(kit.bases.stats_xlsx, "无权限.xlsx")
    target.chmod(0)
    kit.cleanups.append(lambda: target.is_symlink() or target.chmod(0o600))
    if os.access(target, os.R_OK):
        target.unlink()
        target.symlink_to(kit.folder / "gone" / "无权限.xlsx")
    return target


@case("locked-by-another-process", accepts=set())
def _(kit):
    """An exclusive lock held elsewhere: on Linux locks are advisory, so it is read and accepted."""
    target = kit.copy(kit.bases.stats_xlsx, "锁定.xlsx")
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl,sys,time; f=open(sys.argv[1],'rb');"
                               "fcntl.flock(f, fcntl.LOCK_EX); print(1, flush=True); time.sleep(60)", str(target)],
                              stdout=subprocess.PIPE)
    assert holder.stdout.readline().strip() == b"1"
    kit.cleanups.append(lambda: (holder.kill(), holder.wait(), holder.stdout.close()))
    with open(target, "rb") as handle, pytest.raises(BlockingIOError):
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return target


@case("symlink-loops-in-a-folder", rejects="file-unreadable")
def _(kit):
    folder = kit.folder / "循环"
    folder.mkdir()
    (folder / "自己").symlink_to(folder, target_is_directory=True)
    (folder / "上一级").symlink_to(kit.folder, target_is_directory=True)
    (folder / "a.xlsx").symlink_to(folder / "b.xlsx")
    (folder / "b.xlsx").symlink_to(folder / "a.xlsx")
    return folder


# 7b. Zips of returns that reach for more than they hold.

def _zip_with_streamed_member(target: Path, name: str, megabytes: int, first: tuple[str, Path] | None = None) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        if first:
            zf.write(first[1], first[0])
        entry = zipfile.ZipInfo(name, date_time=(2020, 3, 13, 11, 30, 0))
        entry.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(entry, "w", force_zip64=True) as member:
            block = b"\0" * (1 << 20)
            for _ in range(megabytes):
                member.write(block)
    return target


@case("zip-holding-a-zip-bomb", rejects="file-unsafe", bomb=True)
def _(kit):
    return _zip_with_streamed_member(kit.folder / "报表.zip", "附件2.xlsx", 300, ("附件1.xlsx", kit.bases.roster_xlsx))


@case("zip-member-sizes-lie", rejects=("file-unsafe", "file-corrupt"), bomb=True)
def _(kit):
    honest = _zip_with_streamed_member(kit.folder / "stage.zip", "附件2.xlsx", 60)
    data = patch_entry(honest.read_bytes(), "附件2.xlsx", size=4096)
    honest.unlink()
    return kit.write("大小不实.zip", data)


@case("zip-member-named-dot-dot", rejects="file-unsafe", check=lambda results, kit, stored: assert_nothing_outside(kit))
def _(kit):
    return kit.write("zipslip.zip", rezip({"附件2.xlsx": kit.bases.stats_xlsx.read_bytes(), "../../x": b"x"}))


@case("zip-in-zip-in-zip", rejects="zip-too-deep")
def _(kit):
    innermost = rezip({"附件2.xlsx": kit.bases.stats_xlsx.read_bytes()})
    return kit.write("套娃.zip", rezip({"a.zip": rezip({"b.zip": innermost})}))


# 8. Somebody else's form.

@case("another-campaign", rejects="wrong-campaign")
def _(kit):
    return set_identity(kit.copy(kit.bases.stats_xlsx, "西城区.xlsx"), campaign="xicheng-2020-315")


@case("another-unit", rejects="unit-mismatch")
def _(kit):
    return set_identity(kit.copy(kit.bases.stats_xlsx, "广告科.xlsx"), unit="广告监管科")


@case("unit-nobody-has", rejects="unit-unknown")
def _(kit):
    return set_identity(kit.copy(kit.bases.stats_docx, "无此部门.docx"), unit="不存在的科")


@case("schema-from-the-far-future", rejects="schema-newer")
def _(kit):
    return set_identity(kit.copy(kit.bases.stats_xlsx, "新版.xlsx"), schema_version=10**20)


# 9. Numbers no quantity can be.

@case("quantity-1e300", rejects="quantity-too-large")
def _(kit):
    parts, name, xml = kit.stats_sheet()
    return with_parts(kit.bases.stats_xlsx, kit.folder / "巨数.xlsx", {name: set_cell(xml, QUANTITY, "<v>1e300</v>").encode()})


@case("quantity-typed-with-30-digits", rejects="quantity-too-large")
def _(kit):
    return fill_stats(kit.copy(kit.bases.stats_docx, "长数字.docx"), {"1.1": "9" * 30})


@case("quantity-nan-and-infinity", rejects="quantity-not-number")
def _(kit):
    parts, name, xml = kit.stats_sheet()
    xml = set_cell(set_cell(xml, QUANTITY, "<v>NaN</v>"), stats_cell("xlsx", "1.2").ref, "<v>-1e309</v>")
    return with_parts(kit.bases.stats_xlsx, kit.folder / "非数.xlsx", {name: xml.encode()})


# --- running a case ------------------------------------------------------------------------


def everything_stored(workspace: Path) -> str:
    """Every value the workspace's store holds — returns, their problems, figures and people —
    as text (the values themselves, not their repr)."""
    if not (workspace / ".c315").exists():
        return ""
    with open_store(workspace / ".c315") as store:
        returns = store.returns(CAMPAIGN.id)
        ids = [r.id for r in returns]
        lines, entries = store.stats_lines(ids), store.roster_entries(ids)
    rows = []
    for r in returns:
        rows.append([value for name, value in vars(r).items() if name != "problems"])
        rows += [[p.severity, p.code, *p.location, p.value, p.message] for p in r.problems]
        rows += [[*line.model_dump(exclude={"cell"}).values(), *(line.cell or ())] for line in lines[r.id]]
        rows += [list(entry.model_dump().values()) for entry in entries[r.id]]
    return "\n".join("\t".join(map(str, row)) for row in rows)


@pytest.fixture
def kit(bases, tmp_path, listener) -> Iterator[Kit]:
    folder = tmp_path / "returned"
    folder.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text(f"{MARKER}\nroot:x:0:0\n")
    made = Kit(bases, folder, secret, listener.getsockname()[1])
    yield made
    for cleanup in made.cleanups:
        cleanup()


def test_the_corpus_has_at_least_fifty_distinct_cases():
    assert len(CASES) >= 50
    assert len({c.name for c in CASES}) == len(CASES)
    assert all(c.rejects or c.accepts is not None for c in CASES)
    assert all(code in CODES for c in CASES for code in (*c.rejects, *(c.accepts or ())))


@pytest.mark.parametrize("hostile", CASES, ids=[c.name for c in CASES])
def test_hostile_input_gets_a_code_and_the_good_return_is_kept(hostile: Case, kit, c315, workspace, listener):
    bad = hostile.build(kit)
    good = kit.copy(kit.bases.roster_xlsx, "0-值班表.xlsx")
    with deadline(HANG_SECONDS):
        result = c315("ingest", "--json", bad, good)

    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.stdout + result.stderr
    results = json.loads(result.stdout)
    (kept,) = [r for r in results if r["file"] == str(good)]
    assert (kept["outcome"], kept["unit"], kept["problems"]) == ("accepted", "劝业场市场监管所", [])
    hostile_results = [r for r in results if r is not kept]
    assert hostile_results, "the hostile input produced no result at all"
    for found in hostile_results:
        problems = found["problems"]
        assert all(p["code"] in CODES and p["message"] for p in problems)
        errors = {p["code"] for p in problems if p["severity"] == "error"}
        warnings = {p["code"] for p in problems if p["severity"] == "warning"}
        if hostile.accepts is not None:
            assert (found["outcome"], errors, warnings) == ("accepted", set(), set(hostile.accepts)), problems
        else:
            assert found["outcome"] == "rejected", problems
            assert errors & set(hostile.rejects), problems
    assert result.exit_code == (0 if hostile.accepts is not None else 1)
    assert connections(listener) == 0, "something was fetched from the network"
    if hostile.check:
        hostile.check(hostile_results, kit, everything_stored(workspace))


def test_a_rust_panic_in_calamine_is_a_code_not_a_crash():
    """calamine panics on a compound file whose stream sits in a missing mini stream; the panic
    (a BaseException, not an Exception) is caught where calamine is called."""
    from campaign315.intake.read.package import Unreadable
    from campaign315.intake.read.xlsx import read_with_calamine

    broken = ole_file({"Workbook": biff_workbook([(0, 0, 1.0)])}, declared_sizes=True)
    with pytest.raises(Unreadable) as raised:
        read_with_calamine(broken, "xls")
    assert raised.value.code == "format-legacy"


# --- memory ---------------------------------------------------------------------------------

BOMBS = [c for c in CASES if c.bomb]
_PEAK = """
import atexit, sys
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            sys.stderr.write("PEAK-KB " + line.split()[1] + "\\n")
atexit.register(peak)
from campaign315.cli import main
sys.argv = ["c315", *sys.argv[1:]]
main()
"""


def peak_memory_mb(workspace: Path, *paths: Path) -> tuple[float, subprocess.CompletedProcess]:
    """Run ``c315 ingest --json PATHS`` in a child; its peak resident memory (VmHWM) in MB."""
    done = subprocess.run([sys.executable, "-c", _PEAK, "ingest", "--json", "--workspace", str(workspace), *map(str, paths)],
                          capture_output=True, text=True, timeout=HANG_SECONDS, env={**os.environ, "COLUMNS": "200"})
    found = re.search(r"PEAK-KB (\d+)", done.stderr)
    assert found, done.stderr[-2000:]
    return int(found[1]) / 1024, done


@pytest.fixture(scope="module")
def baseline_mb(bases, tmp_path_factory) -> float:
    root = tmp_path_factory.mktemp("baseline")
    good = shutil.copyfile(bases.stats_xlsx, root / "good.xlsx")
    return max(peak_memory_mb(root / f"ws{n}", good)[0] for n in range(2))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
@pytest.mark.parametrize("hostile", BOMBS, ids=[c.name for c in BOMBS])
def test_a_bomb_keeps_memory_bounded(hostile: Case, kit, tmp_path, baseline_mb):
    bad = hostile.build(kit)
    good = kit.copy(kit.bases.roster_xlsx, "0-值班表.xlsx")
    peak, done = peak_memory_mb(tmp_path / "ws", bad, good)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    outcomes = {r["file"]: r["outcome"] for r in json.loads(done.stdout)}
    assert outcomes.pop(str(good)) == "accepted"
    assert set(outcomes.values()) == {"rejected"}
    assert peak - baseline_mb < MEMORY_GROWTH_MB, f"peak {peak:.0f} MB, a good file alone {baseline_mb:.0f} MB"


# --- what the operator's terminal is shown ------------------------------------------------------


def test_text_from_a_return_never_reaches_the_terminal_as_control_codes(kit, c315):
    """A cell holding ``ESC[2J`` (clear screen) is shown in the report, but as text."""
    parts, name, xml = kit.stats_sheet()
    typed = with_parts(kit.bases.stats_xlsx, kit.folder / "转义.xlsx",
                       {name: set_cell(xml, QUANTITY, text_cell("\x1b[2J\x1b]0;c315\x07五"), "inlineStr").encode()})
    result = c315("ingest", typed)
    assert result.exit_code == 1 and "quantity-not-number" in result.stdout
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout


def test_a_path_that_reads_as_markup_is_printed_not_interpreted(kit, c315):
    """A folder ``a[`` holding ``]x.xlsx``: the path contains ``[/]``, rich's closing tag."""
    folder = kit.folder / "a["
    folder.mkdir()
    path = kit.copy(kit.bases.stats_xlsx, "a[/]x.xlsx")
    result = c315("ingest", path)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 0 and "a[/]x.xlsx" in result.stdout
