"""The Word forms: rendered from templates/附件N.docx with the campaign's words, read back with
python-docx and compared with the campaign data — labels, merges, page and fonts."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from itertools import groupby

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm

from campaign315.common.files import shipped
from campaign315.generate.docx import render_docx, template_path
from campaign315.spec.forms import (
    UNIT_FIELD_LABEL,
    ActivityStats,
    DutyRoster,
    RosterEntry,
    StatsLine,
    footer_text,
    instruction,
)

UNIT = "劝业场市场监管所"
ATTACHMENTS = ("roster", "stats")


def render(campaign, attachment, form=None, unit=UNIT) -> bytes:
    return render_docx(campaign, attachment, unit, form, shipped("templates"))


def read(package: bytes):
    return Document(io.BytesIO(package))


def text_of(tc) -> str:
    return "".join(t.text or "" for t in tc.iter(qn("w:t")))


def grid(document) -> list[list]:
    """The form's one table as rows of w:tc elements (merged cells as Word stores them)."""
    (table,) = document.tables
    return [tr.tc_lst for tr in table._tbl.tr_lst]


def body_paragraphs(document) -> list[str]:
    return [p.text for p in document.paragraphs]


# --- around the table ---------------------------------------------------------------------------


@pytest.mark.parametrize("attachment", ATTACHMENTS)
def test_top_of_form_names_attachment_title_and_unit(campaign, attachment):
    spec = campaign.spec(attachment)
    paragraphs = read(render(campaign, attachment)).paragraphs
    assert [p.text for p in paragraphs[:3]] == [spec.label, spec.title, f"{UNIT_FIELD_LABEL}：{UNIT}"]
    title = paragraphs[1]
    assert title.style.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert title.style.font.bold is True
    assert title.style.font.size.pt >= 16


@pytest.mark.parametrize("attachment", ATTACHMENTS)
def test_unit_is_one_text_node_and_nowhere_else(campaign, attachment):
    """The caller renders once with a placeholder and stamps each unit's name into the XML."""
    placeholder = "C315-UNIT-TEST-PLACEHOLDER"
    package = render(campaign, attachment, unit=placeholder)
    with zipfile.ZipFile(io.BytesIO(package)) as z:
        found = {name: z.read(name).count(placeholder.encode()) for name in z.namelist()}
        document_xml = z.read("word/document.xml").decode()
    assert {name: n for name, n in found.items() if n} == {"word/document.xml": 1}
    assert f">{placeholder}</w:t>" in document_xml


@pytest.mark.parametrize("attachment", ATTACHMENTS)
def test_footer_note_and_instruction_follow_the_table(campaign, attachment):
    spec = campaign.spec(attachment)
    after_table = body_paragraphs(read(render(campaign, attachment)))[3:]
    expected = ["\t".join(footer_text(spec))]
    if attachment == "stats":
        expected.append(spec.note)
    expected.append(instruction(campaign, attachment))
    assert after_table == expected
    assert after_table[0].startswith(f"{spec.filler_labels[0]}：")


def test_stats_note_is_the_notices(campaign):
    paragraphs = body_paragraphs(read(render(campaign, "stats")))
    assert "注：统计日期为方案下发之日起至3月19日。" in paragraphs


# --- 附件1 ---------------------------------------------------------------------------------------


def test_roster_header_and_blank_rows(campaign):
    spec = campaign.attachments.roster
    header, *body = grid(read(render(campaign, "roster")))
    assert [text_of(tc) for tc in header] == list(spec.columns)
    assert len(body) >= spec.rows
    assert text_of(body[0][0]) == spec.first_date_label == "14日"
    assert all(len(row) == len(spec.columns) for row in body)
    assert [text_of(tc) for row in body for tc in row] == [spec.first_date_label] + [""] * (len(body) * 5 - 1)


@pytest.mark.parametrize("people", [3, 14])
def test_filled_roster_has_a_row_per_person_and_at_least_the_blank_rows(campaign, people):
    spec = campaign.attachments.roster
    entries = [RosterEntry(name=f"王{i}", position="科员", landline="23456789", mobile=f"136{i:08d}") for i in range(people)]
    entries[1] = entries[1].model_copy(update={"date": dt.date(2020, 3, 15)})
    roster = DutyRoster(unit=UNIT, entries=entries, filler="张涛", filler_phone="13682055679")
    document = read(render(campaign, "roster", roster))
    _, *body = grid(document)
    assert len(body) == max(people, spec.rows)
    cells = [[text_of(tc) for tc in row] for row in body]
    assert cells[0] == [spec.first_date_label, "王0", "科员", "23456789", "13600000000"]
    assert cells[1][0] == "15日"
    assert cells[2][0] == ""
    assert cells[people - 1][1] == f"王{people - 1}"
    assert all(row == [""] * 5 for row in cells[people:])
    assert body_paragraphs(document)[3] == "\t".join(footer_text(spec, "张涛", "13682055679"))


# --- 附件2 ---------------------------------------------------------------------------------------


def test_stats_header_item_spans_category_and_item_columns(campaign):
    spec = campaign.attachments.stats
    header = grid(read(render(campaign, "stats")))[0]
    assert [text_of(tc) for tc in header] == list(spec.columns)
    assert [tc.grid_span for tc in header] == [2, 1, 1, 1]


def _stats_rows(document) -> list[tuple[str, str, str, str, str]]:
    """(category, item, unit, quantity, remark) per body row, the merged category carried down."""
    rows, category = [], ""
    for row in grid(document)[1:]:
        first = row[0]
        if first.vMerge != "continue":
            category = text_of(first)
        rows.append((category, *(text_of(tc) for tc in row[1:])))
    return rows


def test_stats_rows_are_the_campaign_items_in_order(campaign):
    items = campaign.attachments.stats.items
    rows = _stats_rows(read(render(campaign, "stats")))
    assert len(rows) == len(items) == 18
    assert [row[:3] for row in rows] == [(item.category, item.label, item.unit) for item in items]
    assert all(row[3:] == ("", "") for row in rows)


def test_category_cell_is_merged_down_each_run(campaign):
    items = campaign.attachments.stats.items
    runs = [len(list(run)) for _, run in groupby(items, key=lambda item: item.category)]
    assert runs == [10, 7, 1]
    expected = [value for length in runs for value in ["restart"] + ["continue"] * (length - 1)]
    body = grid(read(render(campaign, "stats")))[1:]
    assert [row[0].vMerge for row in body] == expected
    assert [text_of(row[0]) for row in body if row[0].vMerge == "continue"] == [""] * (len(items) - len(runs))


def test_filled_stats_puts_each_quantity_in_its_row(campaign):
    spec = campaign.attachments.stats
    stats = ActivityStats(
        unit="和平区市场监管局",
        lines=[
            StatsLine(key="1.2", quantity=3),
            StatsLine(key="1.8", quantity=1200, remark="含线上"),
            StatsLine(key="2.4", quantity=0),
            StatsLine(key="2.5", quantity=None, remark="未填"),
            StatsLine(key="3", quantity=2, label="发放口罩", remark="劝业场所 2 <次> & 南市所"),
        ],
    )
    rows = _stats_rows(read(render(campaign, "stats", stats)))
    by_key = {item.key: row for item, row in zip(spec.items, rows, strict=True)}
    assert by_key["1.2"][3:] == ("3", "")
    assert by_key["1.8"][3:] == ("1200", "含线上")
    assert by_key["2.4"][3] == "0"
    assert by_key["2.5"][3:] == ("", "未填")
    assert by_key["3"][1:] == ("发放口罩", "", "2", "劝业场所 2 <次> & 南市所")
    assert by_key["1.1"][1:] == ("组织普法活动", "场次", "", "")
    assert [row[:3] for row in rows if row[0] != "其他"] == [
        (item.category, item.label, item.unit) for item in spec.items if item.category != "其他"
    ]


def test_a_form_of_the_other_attachment_is_refused(campaign):
    with pytest.raises(TypeError):
        render(campaign, "stats", DutyRoster(unit=UNIT))


# --- page, fonts, borders -------------------------------------------------------------------------


@pytest.mark.parametrize("attachment", ATTACHMENTS)
def test_page_is_a4_portrait(campaign, attachment):
    section = read(render(campaign, attachment)).sections[0]
    assert abs(section.page_width - Cm(21)) < Cm(0.05)
    assert abs(section.page_height - Cm(29.7)) < Cm(0.05)
    assert section.left_margin + section.right_margin <= Cm(6)


@pytest.mark.parametrize("attachment", ATTACHMENTS)
def test_east_asian_fonts_are_named(campaign, attachment):
    document = read(render(campaign, attachment))
    normal = document.styles["Normal"].element.rPr.rFonts
    assert normal.get(qn("w:eastAsia")) == "宋体"
    assert normal.get(qn("w:eastAsiaTheme")) is None
    title_fonts = document.paragraphs[1].style.element.rPr.rFonts
    assert title_fonts.get(qn("w:eastAsia")) in {"黑体", "方正小标宋简体"}


@pytest.mark.parametrize("attachment", ATTACHMENTS)
def test_table_has_single_borders_all_round(campaign, attachment):
    (table,) = read(render(campaign, attachment)).tables
    borders = table._tbl.tblPr.find(qn("w:tblBorders"))
    assert borders is not None
    edges = {child.tag.split("}")[1]: child.get(qn("w:val")) for child in borders}
    assert edges == dict.fromkeys(("top", "left", "bottom", "right", "insideH", "insideV"), "single")


TC_PR_ORDER = ["cnfStyle", "tcW", "gridSpan", "hMerge", "vMerge", "tcBorders", "shd", "noWrap", "tcMar",
               "textDirection", "tcFitText", "vAlign", "hideMark"]


@pytest.mark.parametrize("attachment", ATTACHMENTS)
def test_cell_properties_are_in_schema_order(campaign, attachment):
    """Word rejects a w:tcPr whose children are out of order (docxtpl's vMerge lands last)."""
    for row in grid(read(render(campaign, attachment))):
        for tc in row:
            tags = [child.tag.split("}")[1] for child in tc.tcPr]
            assert tags == sorted(tags, key=TC_PR_ORDER.index)


# --- the templates themselves --------------------------------------------------------------------


def _template_texts(campaign, attachment) -> list[str]:
    with zipfile.ZipFile(template_path(campaign, attachment, shipped("templates"))) as z:
        xml = z.read("word/document.xml").decode()
    return re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", xml)


@pytest.mark.parametrize("attachment", ATTACHMENTS)
def test_templates_print_no_label_of_their_own(campaign, attachment):
    """Every word on the form comes from the campaign data, so a relabel needs no Word editing."""
    spec = campaign.spec(attachment)
    words = {spec.label, spec.title, UNIT_FIELD_LABEL, *spec.columns, *spec.filler_labels, campaign.collector.name}
    words |= {spec.first_date_label} if attachment == "roster" else {spec.note, *(i.category for i in spec.items)}
    template = "".join(_template_texts(campaign, attachment))
    assert [word for word in words if word and word in template] == []


@pytest.mark.parametrize("attachment", ATTACHMENTS)
def test_every_jinja_tag_sits_in_one_run(campaign, attachment):
    texts = _template_texts(campaign, attachment)
    tag = re.compile(r"\{\{.*?\}\}|\{%.*?%\}")
    assert sum(len(tag.findall(t)) for t in texts) == len(tag.findall("".join(texts))) > 5
    for text in texts:
        assert tag.sub("", text).strip() == "", text
