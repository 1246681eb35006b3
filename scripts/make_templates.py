"""Build the Word forms ``templates/附件1.docx`` and ``templates/附件2.docx`` as docxtpl templates.

The templates hold layout and styling only — A4 portrait, fonts, a bordered table, column widths,
row heights. Every word printed on a form comes from the render context that
:func:`campaign315.generate.docx.render_docx` builds from the campaign data, so the office can
restyle a template in Word (fonts, widths, spacing — through the named ``Form …`` styles) without
touching a label, and a label fixed in ``campaign.toml`` reaches the Word forms unchanged.

Context keys the templates use:

    attachment_label  附件1 / 附件2                title        the form's title
    unit_field        填报部门：                    unit         the reporting unit (one run)
    columns           the header labels            filler_text  填报人：…
    phone_text        联系电话：…                   instruction  请于…报送…。
    rows              附件1: [{date, name, position, landline, mobile}]
    groups            附件2: [{category, rows: [{label, unit, quantity, remark}]}]
    note              附件2: 注：统计日期为…

Run from the checkout (rewrites both files)::

    PYTHONPATH=src python scripts/make_templates.py
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from docx import Document
from docx.document import Document as WordDocument
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.styles.style import BaseStyle
from docx.table import Table, _Cell

from campaign315.common.files import shipped
from campaign315.spec.campaign import Campaign, load_campaign

# --- the look of the forms: what the office may want to change ---------------------------------

BODY_FONT = "宋体"                 # 宋体: body text and table cells
LABEL_FONT = "黑体"                # 黑体: the 附件N mark, as GB/T 9704 prints it
TITLE_FONT = "方正小标宋简体"       # the usual title face of government documents
LATIN_FONT = "Times New Roman"     # digits and Latin letters
BODY_SIZE = Pt(12)                 # 小四
LABEL_SIZE = Pt(16)                # 三号
TITLE_SIZE = Pt(18)                # 小二
NOTE_SIZE = Pt(12)

PAGE_WIDTH, PAGE_HEIGHT = Cm(21.0), Cm(29.7)    # A4 portrait
MARGIN_TOP, MARGIN_BOTTOM = Cm(2.5), Cm(2.3)
MARGIN_LEFT, MARGIN_RIGHT = Cm(2.6), Cm(2.6)     # 15.8 cm of text width

ROSTER_WIDTHS = (Cm(2.2), Cm(2.8), Cm(3.2), Cm(3.6), Cm(4.0))    # 日期 姓名 职务 固定电话 移动电话
ROSTER_ROW_HEIGHT = Cm(1.3)
STATS_WIDTHS = (Cm(2.4), Cm(5.0), Cm(2.2), Cm(2.4), Cm(3.8))     # 类别 项目 单位 数量 备注
STATS_ROW_HEIGHT = Cm(0.95)
HEADER_ROW_HEIGHT = Cm(1.1)
NO_SPACE = Pt(0)
BORDER_EIGHTHS_PT = 6              # 0.75 pt single lines

STYLE_LABEL = "Form Attachment"
STYLE_TITLE = "Form Title"
STYLE_UNIT = "Form Unit"
STYLE_CELL = "Form Cell"
STYLE_HEAD = "Form Head"
STYLE_FOOTER = "Form Footer"
STYLE_NOTE = "Form Note"


# --- fonts and styles ---------------------------------------------------------------------------


def _set_fonts(rpr, east_asia: str, latin: str = LATIN_FONT) -> None:
    """Name both faces explicitly; python-docx's ``font.name`` never sets ``w:eastAsia``, and a
    theme attribute left behind would win over it."""
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:cs"), latin)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:hint"), "eastAsia")     # 3•15: ambiguous marks take the Chinese face


def _doc_defaults(doc: WordDocument) -> None:
    rpr = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_fonts(rpr, BODY_FONT)
    rpr.find(qn("w:lang")).set(qn("w:eastAsia"), "zh-CN")
    ppr = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:pPrDefault")).find(qn("w:pPr"))
    spacing = ppr.find(qn("w:spacing"))
    for attr in ("w:after", "w:line", "w:lineRule"):
        spacing.attrib.pop(qn(attr), None)


def _paragraph_style(doc: WordDocument, name: str, *, font: str, size, bold: bool = False,
                     align=WD_ALIGN_PARAGRAPH.LEFT, before=NO_SPACE, after=NO_SPACE) -> BaseStyle:
    style = doc.styles["Normal"] if name == "Normal" else doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    if name != "Normal":
        style.base_style = doc.styles["Normal"]
        style.quick_style = True
    style.font.size = size
    style.font.bold = bold
    _set_fonts(style.element.get_or_add_rPr(), font)
    fmt = style.paragraph_format
    fmt.alignment = align
    fmt.space_before, fmt.space_after = before, after
    fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    fmt.first_line_indent = NO_SPACE
    fmt.widow_control = False
    return style


def _styles(doc: WordDocument) -> None:
    _doc_defaults(doc)
    _paragraph_style(doc, "Normal", font=BODY_FONT, size=BODY_SIZE)
    _paragraph_style(doc, STYLE_LABEL, font=LABEL_FONT, size=LABEL_SIZE)
    _paragraph_style(doc, STYLE_TITLE, font=TITLE_FONT, size=TITLE_SIZE, bold=True,
                     align=WD_ALIGN_PARAGRAPH.CENTER, before=Pt(6), after=Pt(12))
    _paragraph_style(doc, STYLE_UNIT, font=BODY_FONT, size=BODY_SIZE, after=Pt(6))
    _paragraph_style(doc, STYLE_HEAD, font=BODY_FONT, size=BODY_SIZE, bold=True,
                     align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph_style(doc, STYLE_CELL, font=BODY_FONT, size=BODY_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER)
    footer = _paragraph_style(doc, STYLE_FOOTER, font=BODY_FONT, size=BODY_SIZE, before=Pt(10), after=Pt(4))
    footer.paragraph_format.tab_stops.add_tab_stop(Cm(8.5))
    _paragraph_style(doc, STYLE_NOTE, font=BODY_FONT, size=NOTE_SIZE, before=Pt(4))


# --- page and table -----------------------------------------------------------------------------


def _page(doc: WordDocument) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.top_margin, section.bottom_margin = MARGIN_TOP, MARGIN_BOTTOM
    section.left_margin, section.right_margin = MARGIN_LEFT, MARGIN_RIGHT
    section.header_distance = section.footer_distance = Cm(1.5)


def _borders(table: Table) -> None:
    """All borders single, whatever table style the office picks later."""
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        line = OxmlElement(f"w:{edge}")
        line.set(qn("w:val"), "single")
        line.set(qn("w:sz"), str(BORDER_EIGHTHS_PT))
        line.set(qn("w:space"), "0")
        line.set(qn("w:color"), "000000")
        borders.append(line)
    # tblBorders sits after tblStyle/tblpPr/…/tblW/jc/tblCellSpacing/tblInd in CT_TblPr
    anchor = next((tbl_pr.find(qn(tag)) for tag in ("w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook")
                   if tbl_pr.find(qn(tag)) is not None), None)
    if anchor is None:
        tbl_pr.append(borders)
    else:
        anchor.addprevious(borders)


def _fixed_layout(table: Table, widths: Sequence) -> None:
    table.autofit = False
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    tbl_w = table._tbl.tblPr.find(qn("w:tblW"))
    tbl_w.set(qn("w:type"), "dxa")
    tbl_w.set(qn("w:w"), str(sum(int(w.twips) for w in widths)))


def _row(table: Table, index: int, height, *, header: bool = False) -> None:
    row = table.rows[index]
    row.height, row.height_rule = height, WD_ROW_HEIGHT_RULE.AT_LEAST
    tr_pr = row._tr.get_or_add_trPr()
    tr_pr.append(OxmlElement("w:cantSplit"))
    if header:
        tr_pr.append(OxmlElement("w:tblHeader"))


def _write(cell: _Cell, text: str, style: str = STYLE_CELL) -> None:
    """One Jinja tag, one run: docxtpl only sees tags that Word has not split."""
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    paragraph = cell.paragraphs[0]
    paragraph.style = style
    if text:
        paragraph.add_run(text)


def _table(doc: WordDocument, rows: int, widths: Sequence) -> Table:
    table = doc.add_table(rows=rows, cols=len(widths))
    table.style = doc.styles["Table Grid"]
    _fixed_layout(table, widths)
    _borders(table)
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width
    return table


def _paragraph(doc: WordDocument, style: str, *runs: str) -> None:
    paragraph = doc.add_paragraph(style=style)
    for text in runs:
        paragraph.add_run(text)


def _tab_separated(doc: WordDocument, style: str, left: str, right: str) -> None:
    paragraph = doc.add_paragraph(style=style)
    paragraph.add_run(left)
    paragraph.add_run().add_tab()
    paragraph.add_run(right)


# --- the two forms ------------------------------------------------------------------------------


def _top(doc: WordDocument) -> None:
    _paragraph(doc, STYLE_LABEL, "{{ attachment_label }}")
    _paragraph(doc, STYLE_TITLE, "{{ title }}")
    _paragraph(doc, STYLE_UNIT, "{{ unit_field }}", "{{ unit }}")


def _bottom(doc: WordDocument, *, note: bool) -> None:
    _tab_separated(doc, STYLE_FOOTER, "{{ filler_text }}", "{{ phone_text }}")
    if note:
        _paragraph(doc, STYLE_NOTE, "{{ note }}")
    _paragraph(doc, STYLE_NOTE, "{{ instruction }}")


def _new_document() -> WordDocument:
    doc = Document()
    _page(doc)
    _styles(doc)
    props = doc.core_properties
    props.author = props.last_modified_by = "c315"
    props.comments = props.title = props.subject = props.keywords = ""
    return doc


def roster_template() -> WordDocument:
    """附件1: header row, then one row per person (``rows``)."""
    doc = _new_document()
    _top(doc)
    table = _table(doc, 4, ROSTER_WIDTHS)
    _row(table, 0, HEADER_ROW_HEIGHT, header=True)
    for i, cell in enumerate(table.rows[0].cells):
        _write(cell, f"{{{{ columns[{i}] }}}}", STYLE_HEAD)
    _write(table.cell(1, 0), "{%tr for row in rows %}")
    _row(table, 2, ROSTER_ROW_HEIGHT)
    for cell, field in zip(table.rows[2].cells, ("date", "name", "position", "landline", "mobile"), strict=True):
        _write(cell, f"{{{{ row.{field} }}}}")
    _write(table.cell(3, 0), "{%tr endfor %}")
    _bottom(doc, note=False)
    return doc


def stats_template() -> WordDocument:
    """附件2: 项目 spans the category and item columns; one row per item, grouped by category
    (``groups``), the category cell merged down its group with docxtpl's ``{% vm %}``."""
    doc = _new_document()
    _top(doc)
    table = _table(doc, 6, STATS_WIDTHS)
    _row(table, 0, HEADER_ROW_HEIGHT, header=True)
    header = table.rows[0].cells
    item_header = header[0].merge(header[1])
    for i, cell in enumerate((item_header, header[2], header[3], header[4])):
        _write(cell, f"{{{{ columns[{i}] }}}}", STYLE_HEAD)
    _write(table.cell(1, 0), "{%tr for group in groups %}")
    _write(table.cell(2, 0), "{%tr for line in group.rows %}")
    _row(table, 3, STATS_ROW_HEIGHT)
    body = table.rows[3].cells
    _write(body[0], "{% vm %}{{ group.category }}")
    for cell, field in zip(body[1:], ("label", "unit", "quantity", "remark"), strict=True):
        _write(cell, f"{{{{ line.{field} }}}}")
    _write(table.cell(4, 0), "{%tr endfor %}")
    _write(table.cell(5, 0), "{%tr endfor %}")
    _bottom(doc, note=True)
    return doc


def _check_against(campaign: Campaign) -> None:
    """The layouts are drawn for the notice's columns; a campaign with other columns needs a new
    drawing, not a silently wrong one."""
    if len(campaign.attachments.roster.columns) != len(ROSTER_WIDTHS):
        raise SystemExit("附件1 的列数与模板不符，请调整 ROSTER_WIDTHS")
    if len(campaign.attachments.stats.columns) + 1 != len(STATS_WIDTHS):
        raise SystemExit("附件2 的列数与模板不符，请调整 STATS_WIDTHS")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=shipped("templates"), help="folder to write into")
    parser.add_argument("--campaign", type=Path, default=shipped("data") / "campaign.toml",
                        help="campaign file naming the attachments")
    args = parser.parse_args(argv)
    campaign = load_campaign(args.campaign)
    _check_against(campaign)
    args.out.mkdir(parents=True, exist_ok=True)
    for spec, build in ((campaign.attachments.roster, roster_template),
                        (campaign.attachments.stats, stats_template)):
        path = args.out / f"{spec.label}.docx"
        build().save(path)
        print(path)


if __name__ == "__main__":
    main()
