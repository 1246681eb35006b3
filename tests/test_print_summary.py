"""Printed, the summary is what goes round on paper: the district's 附件2 on one A4 page in each
format (its 附表 after it when the 其他 entries do not fit the form), the merged duty roster with
its header on every page, and the breakdown workbook one page wide, sheet by sheet.

Three districts, run the real way (forms generated, filled, ``c315 ingest``, ``c315 summary``):
the demo's sample returns, a crowded one where every unit writes long 其他 entries, and a quiet one
whose entries fit the form. Print settings are read back with openpyxl and python-docx; pages are
counted through LibreOffice where it is installed (skipped cleanly elsewhere).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tomllib
from pathlib import Path

import openpyxl
import pytest
from conftest import cli_runner
from docx import Document
from docx.oxml.ns import qn
from fill import blank, fill_stats
from printed import needs_soffice, page_count, page_texts, to_pdf

from campaign315.cli import app
from campaign315.common.files import shipped
from campaign315.common.text import squash
from campaign315.reports.district_form import ANNEX_COLUMNS, ANNEX_LABEL, ANNEX_SHEET, see_annex
from campaign315.spec.campaign import load_campaign
from campaign315.spec.forms import SHEET_NAMES, StatsLayout

CAMPAIGN = load_campaign(shipped("data") / "campaign.toml")
STATS = CAMPAIGN.attachments.stats
ROSTER = CAMPAIGN.attachments.roster
LAYOUT = StatsLayout(STATS)
FREE = [item.key for item in STATS.items if item.free]
DISTRICT = CAMPAIGN.district.name
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "samples"
FILLER = {"filler": "张涛", "phone": "13682055679"}
PAGE_NUMBERS = "第 &P 页，共 &N 页"
LONGEST_UNIT = max((u.name for u in CAMPAIGN.units), key=len)

# The demo's breakdown, printed through LibreOffice: pages per sheet, every one a page wide.
DEMO_BREAKDOWN_PAGES = {"分部门明细": 1, "报送情况": 1, "问题清单": 1, "值班表": 1, "其他事项": 1, "来源": 6}
DEMO_ROSTER_PAGES = {"xlsx": 1, "docx": 2}
LANDSCAPE = {"分部门明细", "报送情况", "问题清单", "值班表", "其他事项", "来源", "值班表汇总"}
PORTRAIT = {SHEET_NAMES["stats"], ANNEX_SHEET}


# --- the districts -----------------------------------------------------------------------------


def run(workspace: Path, *args: object) -> object:
    return cli_runner().invoke(app, [*map(str, args), "--workspace", str(workspace)])


def summarise(workspace: Path, out: Path, deadline: str = "2020-03-19") -> dict[str, Path]:
    result = run(workspace, "summary", "--deadline", deadline, "--out", out, "--json")
    assert result.exit_code == 0, result.output
    files = {}
    for path in out.iterdir():
        kind = ("stats" if STATS.label in path.name else "roster" if ROSTER.label in path.name
                else "report" if path.suffix == ".html" else "breakdown")
        files[f"{kind}{path.suffix}"] = path
    files["json"] = json.loads(result.stdout)
    return files


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict:
    """``make demo``'s district: the sample returns ingested batch by batch as they came off OA."""
    root = tmp_path_factory.mktemp("demo")
    entries = tomllib.loads((SAMPLES / "received.toml").read_text(encoding="utf-8"))["received"]
    batches: dict[str, list[Path]] = {}
    for entry in entries:
        target = root / "returned" / entry["file"]
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(SAMPLES / "returned" / entry["file"], target)
        batches.setdefault(str(entry["received_at"]), []).append(target)
    for when, paths in sorted(batches.items(), key=lambda item: dt.datetime.fromisoformat(item[0])):
        result = run(root / "workspace", "ingest", "--received-at", when, *paths)
        assert result.exit_code in (0, 1), result.output  # 1: the sample that is rejected
    return summarise(root / "workspace", root / "summary")


# Every unit writes long entries in both 其他 rows; one writes a page of text.
LONG = "开展3·15主题宣传进社区、进校园、进企业活动，发放宣传资料，现场受理消费者咨询和投诉"
ESSAY = "；".join(f"第{n}场：{LONG}" for n in range(1, 13))


@pytest.fixture(scope="module")
def crowded(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("crowded")
    units = [u.name for u in CAMPAIGN.units_owing("stats")]
    for n, unit in enumerate(units):
        remark = ESSAY if n == 0 else f"{unit}{LONG}"
        fill_stats(blank(root / "returned", unit, "stats", "xlsx"), {"1.1": n, "1.10": 2, "3": 1},
                   remarks={"1.10": remark, "3": remark}, labels={"3": "其他活动"}, **FILLER)
    result = run(root / "workspace", "ingest", "--received-at", "2020-03-18T10:00", root / "returned")
    assert result.exit_code == 0, result.output
    return summarise(root / "workspace", root / "summary")


@pytest.fixture(scope="module")
def quiet(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("quiet")
    fill_stats(blank(root / "returned", "办公室", "stats", "docx"), {"1.1": 2, "1.10": 1},
               remarks={"1.10": "进社区宣传"}, **FILLER)
    result = run(root / "workspace", "ingest", "--received-at", "2020-03-18T10:00", root / "returned")
    assert result.exit_code == 0, result.output
    return summarise(root / "workspace", root / "summary")


DISTRICTS = ["demo", "crowded", "quiet"]


@pytest.fixture(params=DISTRICTS)
def district(request) -> dict:
    return request.getfixturevalue(request.param)


def annex_expected(files: dict) -> list[dict]:
    """The 其他 entries that cannot fit their row of the form (those rows say 见附表)."""
    ws = openpyxl.load_workbook(files["stats.xlsx"])[SHEET_NAMES["stats"]]
    moved = [key for key in FREE if "见附表" in (ws[LAYOUT.remark_cell(key)].value or "")]
    category = {key: next(i.category for i in STATS.items if i.key == key) for key in moved}
    return [o for o in files["json"]["other"] if o["category"] in category.values()
            and (o["quantity"] or o["remark"])]


# --- the district's 附件2: what goes on the form, what goes on the 附表 -----------------------------


def test_other_rows_keep_to_their_cell_or_point_at_the_annex(demo, crowded, quiet):
    for files, moved in ((demo, FREE), (crowded, FREE), (quiet, [])):
        wb = openpyxl.load_workbook(files["stats.xlsx"])
        ws = wb[SHEET_NAMES["stats"]]
        for key in FREE:
            remark = ws[LAYOUT.remark_cell(key)].value or ""
            listed = [o for o in files["json"]["other"]
                      if o["category"] == next(i.category for i in STATS.items if i.key == key)]
            if key in moved:
                assert remark == see_annex(len(listed)), (key, remark)
            else:
                assert all(o["remark"] in remark for o in listed), (key, remark)
        assert (ANNEX_SHEET in wb.sheetnames) == bool(moved)
        document = Document(files["stats.docx"])
        assert len(document.tables) == (2 if moved else 1)
    # the crowded annex lists every unit's entry of both rows, the page of text whole
    crowded_annex = Document(crowded["stats.docx"]).tables[1]
    texts = [row.cells[4].text for row in crowded_annex.rows[1:]]
    assert len(texts) == 2 * len(CAMPAIGN.units_owing("stats"))
    assert sum(ESSAY in text for text in texts) == 2


# --- print settings, read back -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["stats.xlsx", "roster.xlsx", "breakdown.xlsx"])
def test_every_sheet_prints_a4_one_page_wide_with_titles_and_page_numbers(demo, kind):
    cutoff = "截至 2020-03-19 23:59"
    wb = openpyxl.load_workbook(demo[kind])
    sheets = [ws for ws in wb.worksheets if ws.sheet_state == "visible"]
    assert sheets
    for ws in sheets:
        setup = ws.page_setup
        assert (setup.paperSize, setup.fitToWidth, setup.fitToHeight) == (9, 1, 0), ws.title  # A4, 1 wide, N tall
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert setup.orientation == ("landscape" if ws.title in LANDSCAPE else "portrait"), ws.title
        assert ws.title in LANDSCAPE | PORTRAIT
        footer = ws.oddFooter
        assert cutoff in footer.left.text and DISTRICT in footer.left.text, ws.title
        assert footer.right.text == PAGE_NUMBERS, ws.title
        if kind != "stats.xlsx":  # the district's 附件2 keeps the notice's bare top
            assert "&A" in ws.oddHeader.center.text, ws.title  # the sheet's name
        if ws.title == SHEET_NAMES["stats"]:
            continue  # the form's own print area and layout, from generate
        header_row = next(r for r in range(1, 6) if ws.cell(row=r, column=1).value in ("部门", "项目", "序号"))
        assert ws.print_title_rows.replace("$", "") == f"{header_row}:{header_row}", ws.title
        if ws.cell(row=header_row, column=1).value == "部门":
            assert ws.print_title_cols.replace("$", "") == "A:A", ws.title


@pytest.mark.parametrize("kind", ["roster.xlsx", "breakdown.xlsx"])
def test_unit_names_are_never_cut(demo, kind):
    """A Chinese character takes about two width units; every 部门 column holds the longest name."""
    wb = openpyxl.load_workbook(demo[kind])
    for ws in wb.worksheets:
        for column in ws.iter_cols(max_row=ws.max_row):
            names = [c.value for c in column if isinstance(c.value, str) and CAMPAIGN.find_unit(c.value)]
            if not names:
                continue
            longest = max(names, key=len)
            width = ws.column_dimensions[column[0].column_letter].width
            assert width >= 2 * len(longest) + 1, (ws.title, column[0].column_letter, width, longest)
        # and text that wraps has a row tall enough for its lines
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and "\n" in cell.value and cell.alignment.wrap_text:
                    assert (ws.row_dimensions[cell.row].height or 15) >= 15 * (cell.value.count("\n") + 1)
    assert any(c.value == LONGEST_UNIT for ws in wb.worksheets for row in ws.iter_rows() for c in row)


def east_asian_font(document, paragraph) -> str | None:
    """The East Asian face a paragraph's text is set in: its runs, else its style chain, else the
    document defaults."""
    for run in paragraph.runs:
        fonts = run._r.rPr.rFonts if run._r.rPr is not None else None
        if fonts is not None and fonts.get(qn("w:eastAsia")):
            return fonts.get(qn("w:eastAsia"))
    style = paragraph.style
    while style is not None:
        rpr = style.element.rPr
        fonts = rpr.rFonts if rpr is not None else None
        if fonts is not None and fonts.get(qn("w:eastAsia")):
            return fonts.get(qn("w:eastAsia"))
        style = style.base_style
    defaults = document.styles.element.find(qn("w:docDefaults"))
    fonts = defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:rFonts')}") if defaults is not None else None
    return None if fonts is None else fonts.get(qn("w:eastAsia"))


@pytest.mark.parametrize("kind", ["stats.docx", "roster.docx"])
def test_word_tables_repeat_their_header_keep_rows_whole_in_the_forms_fonts(crowded, kind):
    document = Document(crowded[kind])
    assert document.tables
    for table in document.tables:
        rows = table.rows
        assert rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
        assert all(row._tr.trPr is not None and row._tr.trPr.find(qn("w:cantSplit")) is not None for row in rows)
        for row in rows:
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    assert east_asian_font(document, paragraph) == "宋体", paragraph.text
    for paragraph in document.paragraphs:
        if paragraph.text:
            assert east_asian_font(document, paragraph) in ("宋体", "黑体", "方正小标宋简体"), paragraph.text
    footer = document.sections[0].footer
    instructions = [f.get(qn("w:instr")).strip() for f in footer._element.iter(qn("w:fldSimple"))]
    assert instructions == ["PAGE", "NUMPAGES"]
    assert "截至 2020-03-19 23:59" in footer.paragraphs[0].text


# --- printed through LibreOffice -------------------------------------------------------------------


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    """``printed(path)``: the file printed to PDF by LibreOffice, once per file in this module."""
    needs_soffice()
    done: dict[Path, Path] = {}

    def print_file(path: Path) -> Path:
        if path not in done:
            done[path] = to_pdf(path, tmp_path_factory.mktemp("printed"))
        return done[path]

    return print_file


def printed_pages(pdf: Path) -> list[str] | None:
    """Each page's text folded as labels are compared (:func:`squash`), or None without pdftotext."""
    pages = page_texts(pdf)
    return None if pages is None else [squash(page) for page in pages]


def form_texts(files: dict) -> list[str]:
    """What must be on the form's one page: title, 填报部门, every item, the footer and the note."""
    labels = [STATS.title, DISTRICT, *(i.label for i in STATS.items if i.label), STATS.filler_labels[0],
              STATS.note[:12]]
    return [squash(text) for text in labels]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["xlsx", "docx"])
def test_district_form_prints_on_one_page(district, fmt, printed):
    pdf = printed(district[f"stats.{fmt}"])
    pages = printed_pages(pdf)
    annex = annex_expected(district)
    if not annex:
        assert page_count(pdf) == 1
    if pages is None:
        return
    first, rest = pages[0], pages[1:]
    assert all(text in first for text in form_texts(district)), first
    if not annex:
        assert rest == []
        return
    # the form is page 1 alone; the 附表 starts on a page of its own and holds every entry moved there
    assert rest and rest[0].startswith(squash(ANNEX_LABEL)), rest[0][:40]
    assert not any(squash(STATS.filler_labels[0]) in page for page in rest)
    annex_text = "".join(rest)
    for entry in annex:
        assert squash(entry["remark"])[:30] in annex_text, entry
        assert squash(entry["remark"])[:30] not in first
    for page in rest:  # the header row repeats on every page of the 附表
        assert all(squash(column) in page for column in ANNEX_COLUMNS), page[:80]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["xlsx", "docx"])
def test_crowded_annex_runs_over_pages_and_the_form_stays_one(crowded, fmt, printed):
    pdf = printed(crowded[f"stats.{fmt}"])
    assert page_count(pdf) >= 3  # the form, then a 附表 of more than one page
    pages = printed_pages(pdf)
    if pages is not None:
        assert squash(STATS.filler_labels[0]) in pages[0]
        assert all(page.startswith(squash(ANNEX_LABEL)) == (n == 1) for n, page in enumerate(pages))


def sheet_of(page: str, names: list[str]) -> str:
    """The sheet a printed page belongs to, from its header: ``… — 来源``."""
    (name,) = [n for n in names if f"—{n}" in page[:80]]
    return name


@pytest.mark.slow
def test_breakdown_prints_each_sheet_one_page_wide(demo, printed):
    wb = openpyxl.load_workbook(demo["breakdown.xlsx"])
    pdf = printed(demo["breakdown.xlsx"])
    assert page_count(pdf) == sum(DEMO_BREAKDOWN_PAGES.values())
    pages = printed_pages(pdf)
    if pages is None:
        return
    counted: dict[str, int] = {}
    for number, page in enumerate(pages, start=1):
        name = sheet_of(page, wb.sheetnames)
        counted[name] = counted.get(name, 0) + 1
        # a page one page wide has the first and the last columns' headers (a sheet cut across
        # pages would print the last columns on pages of their own, without the first ones)
        header = [c.value for c in wb[name][1]]
        for text in (header[1], header[-1]):
            assert squash(text.split("\n")[0]) in page, (name, text)
        assert f"第{number}页,共{len(pages)}页" in page  # numbered through the workbook
    assert counted == DEMO_BREAKDOWN_PAGES


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["xlsx", "docx"])
def test_merged_roster_prints_with_its_header_on_every_page(demo, fmt, printed):
    pdf = printed(demo[f"roster.{fmt}"])
    assert page_count(pdf) == DEMO_ROSTER_PAGES[fmt]
    pages = printed_pages(pdf)
    if pages is None:
        return
    for number, page in enumerate(pages, start=1):
        assert all(squash(column) in page for column in ("部门", *ROSTER.columns, "值守检查")), page[:80]
        assert f"第{number}页,共{len(pages)}页" in page
    people = [r["name"] for r in demo["json"]["roster"]]
    assert all(squash(name) in "".join(pages) for name in people)
