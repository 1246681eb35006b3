"""Word documents: the body of ``word/document.xml`` walked directly (python-docx costs ~30× more
per file). Paragraphs become one-cell rows; table rows keep grid columns, with horizontally merged
cells (gridSpan) spread over their columns and vertically merged continuations left empty."""

from __future__ import annotations

from campaign315.intake.read.cells import Cell, Package, Row, Sheet
from campaign315.intake.read.zipparts import Unreadable, ZipPackage, parse_xml
from campaign315.spec.location import Location
from campaign315.spec.problems import Code

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MAX_ROWS = 5000
MAX_COLS = 64  # grid columns in one table row; a form has 5


def read_docx(package: ZipPackage) -> Package:
    data = package.part("word/document.xml")
    if data is None:
        raise Unreadable(Code.FILE_CORRUPT, "缺少 word/document.xml")
    body = parse_xml(data, "word/document.xml").find(f"{W}body")
    if body is None:
        raise Unreadable(Code.FILE_CORRUPT, "word/document.xml 没有正文")
    rows: list[Row] = []
    counters = {"paragraph": 0, "table": 0}
    for block in body_blocks(body):
        if block.tag == f"{W}p":
            counters["paragraph"] += 1
            where = Location.paragraph(counters["paragraph"])
            rows.append(Row([Cell(_text(block) or None, where)], where))
        else:
            counters["table"] += 1
            rows.extend(_table_rows(block, counters["table"], MAX_ROWS - len(rows)))
        if len(rows) > MAX_ROWS:
            raise Unreadable(Code.FILE_UNSAFE, f"文档超过 {MAX_ROWS} 行，远超报表大小")
    return Package("docx", [Sheet("正文", rows)])


def body_blocks(parent):
    """Paragraphs and tables in reading order, looking inside content controls (w:sdt) — the
    order in which the reader numbers them (``正文第N段``, ``表N``)."""
    for child in parent:
        if child.tag in (f"{W}p", f"{W}tbl"):
            yield child
        elif child.tag in (f"{W}sdt", f"{W}sdtContent", f"{W}customXml"):
            yield from body_blocks(child.find(f"{W}sdtContent") if child.tag == f"{W}sdt" else child)


def _table_rows(table, number: int, room: int) -> list[Row]:
    """The table's rows; more than ``room`` of them is refused before they are all built."""
    rows = []
    for r, tr in enumerate(children(table, "tr"), start=1):
        if r > room:
            raise Unreadable(Code.FILE_UNSAFE, f"文档超过 {MAX_ROWS} 行，远超报表大小")
        cells: list[Cell] = []
        for tc in children(tr, "tc"):
            props = tc.find(_TC_PR)
            span, continued = 1, False
            if props is not None:
                span = _span_of(props.find(_GRID_SPAN))
                v_merge = props.find(_V_MERGE)
                continued = v_merge is not None and v_merge.get(_VAL, "continue") == "continue"
            text = "" if continued else "\n".join(t for t in map(_text, tc.iter(_P)) if t)
            column = len(cells) + 1
            if column + span - 1 > MAX_COLS:  # checked before the cells exist: spans multiply them
                raise Unreadable(Code.FILE_UNSAFE, f"表{number} 第{r}行超过 {MAX_COLS} 列，远超报表大小")
            cells.append(Cell(text or None, _table_cell(number, r, column)))
            cells.extend(Cell(None, _table_cell(number, r, column + k)) for k in range(1, span))
        rows.append(Row(cells, _table_cell(number, r, 1), table=number, number=r))
    return rows


def _table_cell(table: int, row: int, column: int) -> Location:
    return tuple.__new__(Location, ("table-cell", "", table, row, column))  # Location.table_cell, made per cell


_P, _T, _TAB, _BR = f"{W}p", f"{W}t", f"{W}tab", f"{W}br"
_TC_PR, _GRID_SPAN, _V_MERGE, _VAL = f"{W}tcPr", f"{W}gridSpan", f"{W}vMerge", f"{W}val"


def grid_span(tc) -> int:
    """How many grid columns a w:tc covers (its gridSpan, read as Word reads it: 1 to 64)."""
    return _span_of(tc.find(f"{W}tcPr/{W}gridSpan"))


def _span_of(span) -> int:
    if span is None:
        return 1
    try:
        return max(1, min(int(span.get(_VAL, "1")), 64))
    except ValueError:
        return 1


def children(parent, name: str):
    """Direct w:tr / w:tc children, including those wrapped in content controls."""
    for child in parent:
        if child.tag == f"{W}{name}":
            yield child
        elif child.tag in (f"{W}sdt", f"{W}customXml"):
            content = child.find(f"{W}sdtContent") if child.tag == f"{W}sdt" else child
            if content is not None:
                yield from children(content, name)


def _text(paragraph) -> str:
    parts = []
    for node in paragraph.iter(_T, _TAB, _BR):
        tag = node.tag
        if tag == _T:
            parts.append(node.text or "")
        elif tag == _TAB:
            parts.append("\t")
        else:
            parts.append("\n")
    return "".join(parts).strip()
