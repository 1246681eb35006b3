"""`c315 generate-forms` end to end: the real command writes every unit's forms into a folder,
and reading them back with openpyxl / python-docx finds the notice's forms — labels in order, the
pre-filled unit, merged cells, the identity, protection, validation rules and print setup.

Each form is rendered once and every unit's copy differs only in what is stamped into it (the
unit's name and identity): every unit's files are checked for exactly that, and the layout is
checked on two representative units — a 科室 and a 市场监管所.

The Word layout itself is covered in depth by test_docx_forms.py; here the .docx is only checked
for what generation stamps into each copy (the unit and the identity).
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from functools import cache
from itertools import groupby
from pathlib import Path
from xml.etree import ElementTree

import pytest
from conftest import cli_runner
from docx import Document
from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet.cell_range import CellRange

from campaign315.cli import app
from campaign315.common.files import safe_filename, shipped
from campaign315.common.text import squash
from campaign315.generate.stamp import PLACEHOLDER
from campaign315.spec.campaign import Campaign, load_campaign
from campaign315.spec.forms import IDENTITY_SHEET, SHEET_NAMES, UNIT_FIELD_LABEL, form_filename

ATTACHMENTS = ("roster", "stats")
FORMATS = ("xlsx", "docx")
CHINESE = re.compile(r"[\u4e00-\u9fff]")

CAMPAIGN: Campaign = load_campaign(shipped("data") / "campaign.toml")
UNITS = [unit.name for unit in CAMPAIGN.units]
# Forms differ between units only in the stamped name: the layout is checked on one of each kind.
REPRESENTATIVE = ["办公室", "劝业场市场监管所"]
COLLECTOR_PHONE = CAMPAIGN.collector_contact.phone

# The notice's 附件2 table, typed here once as an independent oracle for the shipped campaign
# (the code takes its labels from data/campaign.toml; this checks that file against the notice).
NOTICE_STATS_COLUMNS = ["项目", "单位", "数量", "备注"]
NOTICE_STATS_ROWS = [
    ("宣传教育", "组织普法活动", "场次"),
    ("宣传教育", "开展大型咨询活动", "场次"),
    ("宣传教育", "组织重要新闻发布", "次"),
    ("宣传教育", "播放公益广告", "条"),
    ("宣传教育", "刊发新闻稿件", "份"),
    ("宣传教育", "组织开放活动", "场次"),
    ("宣传教育", "印发各类宣传资料", "册（份）"),
    ("宣传教育", "消费者参与活动数量", "人次"),
    ("宣传教育", "经营者参与活动数量", "户次"),
    ("宣传教育", "其他", ""),
    ("维权会议", "举办座谈会", "场次"),
    ("维权会议", "举办通报会", "场次"),
    ("维权会议", "举办交流会", "场次"),
    ("维权会议", "举办培训会", "场次"),
    ("维权会议", "举办其他会议", "场次"),
    ("维权会议", "消费者参会数量", "人次"),
    ("维权会议", "经营者参会数量", "户次"),
    ("其他", "", ""),
]
NOTICE_ROSTER_COLUMNS = ["日期", "姓名", "职务", "固定电话", "移动电话"]
NOTICE_DUE = {"roster": "3月13日中午前", "stats": "3月19日下班前"}


def despace(text: str) -> str:
    """The notice's 数 量 and 数量 are the same label; every other character must match."""
    return re.sub(r"\s", "", text)


def generate(*args: str):
    """Run ``c315 generate-forms`` in-process; exit code first, the caller checks the rest."""
    return cli_runner().invoke(app, ["generate-forms", *args])


def files_under(folder: Path) -> set[Path]:
    return {path.relative_to(folder) for path in folder.rglob("*") if path.is_file()}


def expected_files(units, formats=FORMATS) -> set[Path]:
    return {
        form_path(unit, attachment, fmt)
        for unit in units
        for attachment in ATTACHMENTS
        for fmt in formats
    }


def form_path(unit: str, attachment: str, fmt: str) -> Path:
    """Where a unit's form is written, relative to --out: one folder per unit."""
    return Path(safe_filename(unit)) / safe_filename(form_filename(CAMPAIGN.spec(attachment), unit, fmt))


def fingerprint(folder: Path) -> dict[Path, tuple[int, str]]:
    """Each file's mtime and content hash — to prove a refused run touched nothing."""
    return {
        path: (path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest())
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(autouse=True)
def _in_a_folder_of_its_own(monkeypatch, tmp_path):
    """The checkout's own folder must not leak into a run (``cli_runner`` unsets C315_WORKSPACE)."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def forms_dir(tmp_path_factory) -> Path:
    """Every default unit's forms, generated once by the real command (shipped campaign)."""
    empty_workspace = tmp_path_factory.mktemp("empty-workspace")
    out = tmp_path_factory.mktemp("generated") / "forms"
    result = generate("--out", str(out), "--workspace", str(empty_workspace))
    assert result.exit_code == 0, result.output
    assert "18 个部门" in result.output and "72 个文件" in result.output, result.output
    return out


@cache
def _workbook(path: Path):
    return load_workbook(path)


def workbook(forms_dir: Path, unit: str, attachment: str):
    path = forms_dir / form_path(unit, attachment, "xlsx")
    return _workbook(path)


def sheet(forms_dir: Path, unit: str, attachment: str):
    wb = workbook(forms_dir, unit, attachment)
    return wb[SHEET_NAMES[attachment]]


# --- reading a sheet the way a person sees it -------------------------------------------------


def row_texts(ws, row: int) -> list[str]:
    """The non-empty texts of a row, left to right."""
    return [str(cell.value) for cell in ws[row] if cell.value not in (None, "")]


def find_row(ws, predicate) -> int:
    for row in ws.iter_rows():
        if any(isinstance(c.value, str) and predicate(c.value) for c in row):
            return row[0].row
    raise AssertionError("no such row")


def shown_value(ws, coordinate: str):
    """What the cell shows: a merged cell shows its top-left cell's value."""
    for merged in ws.merged_cells.ranges:
        if coordinate in merged:
            return ws.cell(row=merged.min_row, column=merged.min_col).value
    return ws[coordinate].value


def cells_of(sqref) -> set[str]:
    cells: set[str] = set()
    for rng in str(sqref).split():
        min_col, min_row, max_col, max_row = range_boundaries(rng)
        cells |= {
            CellRange(min_col=c, min_row=r, max_col=c, max_row=r).coord
            for r in range(min_row, max_row + 1)
            for c in range(min_col, max_col + 1)
        }
    return cells


def unlocked_cells(ws) -> set[str]:
    return {cell.coordinate for row in ws.iter_rows() for cell in row if not cell.protection.locked}


def header_row(ws) -> int:
    return find_row(ws, lambda v: squash(v) in {"日期", "项目"})


def footer_row(ws) -> int:
    return find_row(ws, lambda v: v.startswith("填报人"))


def body_rows(ws) -> range:
    return range(header_row(ws) + 1, footer_row(ws))


def stats_item_rows(ws) -> dict[str, int]:
    """Item key → row, the i-th body row holding the campaign's i-th item."""
    return dict(zip((item.key for item in CAMPAIGN.attachments.stats.items), body_rows(ws), strict=True))


def read_stats_table(ws) -> list[tuple[str, str, str]]:
    """(category, item, unit) per body row, as printed."""
    return [
        tuple(str(shown_value(ws, f"{col}{row}") or "") for col in "ABC")
        for row in body_rows(ws)
    ]


def identity_of(unit: str, attachment: str) -> dict[str, str]:
    return {"c315.campaign": CAMPAIGN.id, "c315.attachment": attachment, "c315.unit": unit, "c315.schema": "1"}


def docx_custom_properties(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as package:
        root = ElementTree.fromstring(package.read("docProps/custom.xml"))
    return {prop.get("name"): "".join(prop.itertext()) for prop in root}


# --- the run as a whole ----------------------------------------------------------------------


def test_every_default_unit_gets_its_folder_with_both_attachments_in_both_formats(forms_dir):
    assert len(UNITS) == 18
    assert {path.name for path in forms_dir.iterdir()} == set(UNITS)
    assert files_under(forms_dir) == expected_files(UNITS)
    assert len(files_under(forms_dir)) == 72


def test_no_temporary_files_are_left_behind(forms_dir):
    assert [p for p in forms_dir.rglob("*") if p.name.startswith(".") or p.suffix == ".part"] == []


def test_every_unit_s_copies_are_stamped_with_its_name_and_identity(forms_dir):
    assert {CAMPAIGN.find_unit(unit).kind for unit in REPRESENTATIVE} == {"科室", "市场监管所"}
    for unit in UNITS:
        for attachment in ATTACHMENTS:
            wb = workbook(forms_dir, unit, attachment)
            ws = wb[SHEET_NAMES[attachment]]
            assert row_texts(ws, find_row(ws, lambda v: v.startswith(UNIT_FIELD_LABEL))) == [f"{UNIT_FIELD_LABEL}：", unit]
            assert {prop.name: prop.value for prop in wb.custom_doc_props} == identity_of(unit, attachment)
            assert {row[0]: str(row[1]) for row in wb[IDENTITY_SHEET].iter_rows(values_only=True)} == identity_of(unit, attachment)

            path = forms_dir / form_path(unit, attachment, "docx")
            unit_lines = [p.text for p in Document(path).paragraphs if p.text.startswith(UNIT_FIELD_LABEL)]
            assert unit_lines == [f"{UNIT_FIELD_LABEL}：{unit}"]
            assert docx_custom_properties(path) == identity_of(unit, attachment)

            for fmt in FORMATS:  # nothing of the placeholder is left anywhere in the package
                with zipfile.ZipFile(forms_dir / form_path(unit, attachment, fmt)) as package:
                    assert not [n for n in package.namelist() if PLACEHOLDER.encode() in package.read(n)]


def test_filenames_say_attachment_title_and_unit(forms_dir):
    for path in files_under(forms_dir):
        unit = path.parent.name
        attachment_label, title, named_unit = path.stem.split("-", 2)
        assert attachment_label in {"附件1", "附件2"}
        assert title == CAMPAIGN.spec("roster" if attachment_label == "附件1" else "stats").title
        assert named_unit == unit


# --- .xlsx: the notice's table ---------------------------------------------------------------


@pytest.mark.parametrize("attachment", ATTACHMENTS)
@pytest.mark.parametrize("unit", REPRESENTATIVE)
def test_xlsx_top_of_form_has_title_and_the_unit_prefilled(forms_dir, unit, attachment):
    spec = CAMPAIGN.spec(attachment)
    ws = sheet(forms_dir, unit, attachment)
    assert ws.sheet_state == "visible"
    assert row_texts(ws, 1) == [spec.label]
    assert row_texts(ws, 2) == [spec.title]
    unit_row = find_row(ws, lambda v: v.startswith(UNIT_FIELD_LABEL))
    assert unit_row < header_row(ws)
    assert row_texts(ws, unit_row) == [f"{UNIT_FIELD_LABEL}：", unit]


@pytest.mark.parametrize("unit", REPRESENTATIVE)
def test_xlsx_roster_headers_rows_and_first_date(forms_dir, unit):
    spec = CAMPAIGN.attachments.roster
    ws = sheet(forms_dir, unit, "roster")
    assert row_texts(ws, header_row(ws)) == list(spec.columns)
    rows = body_rows(ws)
    assert len(rows) >= 10
    assert ws[f"A{rows[0]}"].value == "14日"
    # The body is blank apart from the first date, and every body cell is a bordered input cell.
    assert [c.value for r in rows for c in ws[r][:5] if c.value] == ["14日"]
    assert all(c.border.left.style and c.border.bottom.style for r in rows for c in ws[r][:5])


@pytest.mark.parametrize("unit", REPRESENTATIVE)
def test_xlsx_stats_headers_items_and_units_follow_the_campaign(forms_dir, unit):
    spec = CAMPAIGN.attachments.stats
    ws = sheet(forms_dir, unit, "stats")
    assert row_texts(ws, header_row(ws)) == list(spec.columns)
    assert len(spec.items) == 18
    assert read_stats_table(ws) == [(item.category, item.label, item.unit) for item in spec.items]


@pytest.mark.parametrize("unit", REPRESENTATIVE)
def test_xlsx_stats_category_cells_are_merged_vertically(forms_dir, unit):
    ws = sheet(forms_dir, unit, "stats")
    rows = list(body_rows(ws))
    expected, start = set(), 0
    for _, items in groupby(CAMPAIGN.attachments.stats.items, key=lambda item: item.category):
        size = len(list(items))
        if size > 1:
            expected.add(f"A{rows[start]}:A{rows[start + size - 1]}")
        start += size
    merged_in_body = {
        str(rng) for rng in ws.merged_cells.ranges if rng.min_row >= rows[0] and rng.max_row <= rows[-1]
    }
    assert expected == {"A5:A14", "A15:A21"}  # the shipped campaign: 宣传教育 ×10, 维权会议 ×7
    assert merged_in_body == expected


@pytest.mark.parametrize("attachment", ATTACHMENTS)
@pytest.mark.parametrize("unit", REPRESENTATIVE)
def test_xlsx_footer_note_and_instruction(forms_dir, unit, attachment):
    spec = CAMPAIGN.spec(attachment)
    ws = sheet(forms_dir, unit, attachment)
    footer = footer_row(ws)
    assert row_texts(ws, footer) == [f"{label}：" for label in spec.filler_labels]
    after = [text for row in range(footer + 1, ws.max_row + 1) for text in row_texts(ws, row)]
    if attachment == "stats":
        assert after[0] == spec.note
        assert after[0].startswith("注：") and "3月19日" in after[0]
        after = after[1:]
    (instruction_line,) = after
    assert spec.due_text in instruction_line
    assert NOTICE_DUE[attachment] in instruction_line
    assert COLLECTOR_PHONE in instruction_line and "13682055679" in instruction_line
    assert CAMPAIGN.collector.name in instruction_line and CAMPAIGN.channel in instruction_line


def test_shipped_campaign_reproduces_the_notices_statistics_table(forms_dir):
    """Against the notice itself, not the campaign file: spacing inside labels may differ."""
    ws = sheet(forms_dir, "办公室", "stats")
    assert [despace(t) for t in row_texts(ws, header_row(ws))] == NOTICE_STATS_COLUMNS
    assert [tuple(despace(v) for v in row) for row in read_stats_table(ws)] == NOTICE_STATS_ROWS
    roster = sheet(forms_dir, "办公室", "roster")
    assert [despace(t) for t in row_texts(roster, header_row(roster))] == NOTICE_ROSTER_COLUMNS
    assert roster.cell(row=2, column=1).value == "2020年天津卫视3•14晚间值班表"
    assert ws.cell(row=2, column=1).value == "2020年3•15活动工作情况统计表"


# --- .xlsx: identity ------------------------------------------------------------------------


@pytest.mark.parametrize("attachment", ATTACHMENTS)
@pytest.mark.parametrize("unit", REPRESENTATIVE)
def test_xlsx_identity_in_custom_properties_and_hidden_sheet(forms_dir, unit, attachment):
    wb = workbook(forms_dir, unit, attachment)
    expected = identity_of(unit, attachment)
    assert {prop.name: prop.value for prop in wb.custom_doc_props} == expected
    hidden = wb[IDENTITY_SHEET]
    assert hidden.sheet_state in {"hidden", "veryHidden"}
    assert {row[0]: str(row[1]) for row in hidden.iter_rows(values_only=True)} == expected
    assert wb.sheetnames == [SHEET_NAMES[attachment], IDENTITY_SHEET]


# --- .xlsx: protection, validation, formats -------------------------------------------------


def stats_input_cells(ws) -> set[str]:
    rows = stats_item_rows(ws)
    cells = {f"{col}{row}" for row in rows.values() for col in "DE"}
    # A free row without a printed label (the last 其他) lets the filler say what it counts.
    cells |= {f"B{rows[item.key]}" for item in CAMPAIGN.attachments.stats.items if item.free and not item.label}
    return cells


def stats_quantity_cells(ws) -> set[str]:
    return {f"D{row}" for row in stats_item_rows(ws).values()}


def filler_cells(ws) -> tuple[str, str]:
    """(填报人 input, 联系电话 input): the cell right of each footer label."""
    row = footer_row(ws)
    labels = [c for c in ws[row] if isinstance(c.value, str) and c.value]
    assert [c.value for c in labels] == ["填报人：", "联系电话："]
    return tuple(ws.cell(row=row, column=c.column + 1).coordinate for c in labels)


def roster_body_cells(ws) -> set[str]:
    return {f"{col}{row}" for row in body_rows(ws) for col in "ABCDE"}


def roster_phone_cells(ws) -> set[str]:
    return {f"{col}{row}" for row in body_rows(ws) for col in "DE"}


@pytest.mark.parametrize("attachment", ATTACHMENTS)
@pytest.mark.parametrize("unit", REPRESENTATIVE)
def test_xlsx_sheet_is_protected_with_exactly_the_input_cells_open(forms_dir, unit, attachment):
    ws = sheet(forms_dir, unit, attachment)
    assert ws.protection.sheet is True
    filler, filler_phone = filler_cells(ws)
    body = roster_body_cells(ws) if attachment == "roster" else stats_input_cells(ws)
    assert unlocked_cells(ws) == body | {filler, filler_phone}
    # Every printed label (anything with text outside the input cells) is locked.
    labels = [c for row in ws.iter_rows() for c in row if c.value not in (None, "") and c.coordinate not in body]
    assert labels and all(c.protection.locked for c in labels)
    assert ws[f"B{find_row(ws, lambda v: v.startswith(UNIT_FIELD_LABEL))}"].protection.locked


@pytest.mark.parametrize("unit", REPRESENTATIVE)
def test_xlsx_stats_quantities_must_be_whole_numbers_not_below_zero(forms_dir, unit):
    ws = sheet(forms_dir, unit, "stats")
    whole = [dv for dv in ws.data_validations.dataValidation if dv.type == "whole"]
    assert len(whole) == 1
    (rule,) = whole
    assert (rule.operator, rule.formula1) == ("greaterThanOrEqual", "0")
    assert cells_of(rule.sqref) == stats_quantity_cells(ws)
    assert rule.showErrorMessage is True
    assert rule.errorStyle in (None, "stop")  # stop is Excel's default: the entry is refused
    assert CHINESE.search(rule.error) and CHINESE.search(rule.errorTitle)
    assert rule.showInputMessage is True and CHINESE.search(rule.prompt)


@pytest.mark.parametrize("attachment", ATTACHMENTS)
@pytest.mark.parametrize("unit", REPRESENTATIVE)
def test_xlsx_phone_cells_are_text_with_a_length_rule(forms_dir, unit, attachment):
    ws = sheet(forms_dir, unit, attachment)
    _, filler_phone = filler_cells(ws)
    phones = {filler_phone} | (roster_phone_cells(ws) if attachment == "roster" else set())
    length_rules = [dv for dv in ws.data_validations.dataValidation if dv.type == "textLength"]
    assert length_rules
    assert set().union(*(cells_of(dv.sqref) for dv in length_rules)) == phones
    for rule in length_rules:
        assert rule.operator == "between"
        # 8-digit landline … 022-23456789 (12) and 11-digit mobile all pass; 1 or 2 digits do not.
        assert 2 < int(rule.formula1) <= 8 and 12 <= int(rule.formula2) <= 20
        assert rule.showErrorMessage is True and rule.errorStyle in (None, "stop")
        assert CHINESE.search(rule.error) and CHINESE.search(rule.errorTitle)
    assert all(ws[cell].number_format == "@" for cell in phones)


@pytest.mark.parametrize("attachment", ATTACHMENTS)
def test_xlsx_validations_only_cover_input_cells(forms_dir, attachment):
    ws = sheet(forms_dir, "办公室", attachment)
    validated = set().union(*(cells_of(dv.sqref) for dv in ws.data_validations.dataValidation))
    assert validated and validated <= unlocked_cells(ws)


@pytest.mark.parametrize("attachment", ATTACHMENTS)
@pytest.mark.parametrize("unit", REPRESENTATIVE)
def test_xlsx_prints_on_a4_portrait_one_page_wide(forms_dir, unit, attachment):
    ws = sheet(forms_dir, unit, attachment)
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert ws.page_setup.orientation == "portrait"
    assert int(ws.page_setup.fitToWidth) == 1
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert int(ws.page_setup.fitToHeight or 0) in (0, 1)


# --- unit names that need XML escaping -------------------------------------------------------


def workspace_with_extra_unit(tmp_path: Path, name: str) -> Path:
    workspace = tmp_path / "ws"
    result = cli_runner().invoke(app, ["init", str(workspace)])
    assert result.exit_code == 0, result.output
    toml = workspace / "campaign.toml"
    text = toml.read_text(encoding="utf-8")
    first_unit = '[[units]]\nname = "办公室"'
    assert text.count(first_unit) == 1
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    extra = f'[[units]]\nname = "{quoted}"\nkind = "科室"\nreturns = ["roster", "stats"]\n\n'
    toml.write_text(text.replace(first_unit, extra + first_unit), encoding="utf-8")
    return workspace


@pytest.mark.parametrize("name", ["A&B<科>", "\"引号\"&'撇号'>科"], ids=["amp-angle", "quotes"])
def test_unit_names_needing_xml_escaping_survive(tmp_path, name):
    workspace = workspace_with_extra_unit(tmp_path, name)
    out = tmp_path / "out"
    result = generate("--out", str(out), "--workspace", str(workspace), "--department", name)
    assert result.exit_code == 0, result.output
    assert files_under(out) == expected_files([name])
    assert not set('<>"') & {c for path in files_under(out) for c in str(path)}
    for attachment in ATTACHMENTS:
        for fmt in FORMATS:
            path = out / form_path(name, attachment, fmt)
            with zipfile.ZipFile(path) as package:  # every XML part still parses
                for part in package.namelist():
                    if part.endswith((".xml", ".rels")):
                        ElementTree.fromstring(package.read(part))
        wb = load_workbook(out / form_path(name, attachment, "xlsx"))
        ws = wb[SHEET_NAMES[attachment]]
        assert row_texts(ws, find_row(ws, lambda v: v.startswith(UNIT_FIELD_LABEL))) == [f"{UNIT_FIELD_LABEL}：", name]
        assert {p.name: p.value for p in wb.custom_doc_props} == identity_of(name, attachment)
        assert {r[0]: str(r[1]) for r in wb[IDENTITY_SHEET].iter_rows(values_only=True)} == identity_of(name, attachment)
        docx_path = out / form_path(name, attachment, "docx")
        assert [p.text for p in Document(docx_path).paragraphs if p.text.startswith(UNIT_FIELD_LABEL)] == [
            f"{UNIT_FIELD_LABEL}：{name}"
        ]
        assert docx_custom_properties(docx_path) == identity_of(name, attachment)


# --- choosing units and formats --------------------------------------------------------------


def test_department_alias_generates_only_that_unit(tmp_path):
    out = tmp_path / "out"
    result = generate("--out", str(out), "--department", "市场网监科")
    assert result.exit_code == 0, result.output
    assert "1 个部门" in result.output and "4 个文件" in result.output
    assert files_under(out) == expected_files(["市场和网络交易监管科"])
    ws = load_workbook(out / form_path("市场和网络交易监管科", "stats", "xlsx"))["统计表"]
    assert row_texts(ws, 3) == [f"{UNIT_FIELD_LABEL}：", "市场和网络交易监管科"]


def test_repeated_department_option_generates_each_named_unit_once(tmp_path):
    out = tmp_path / "out"
    result = generate("--out", str(out), "-d", "广告科", "-d", "广告监管科", "-d", "稽查大队")
    assert result.exit_code == 0, result.output
    assert files_under(out) == expected_files(["广告监管科", "稽查大队"])


def test_unknown_department_is_a_usage_error_listing_the_valid_units(tmp_path):
    out = tmp_path / "out"
    result = generate("--out", str(out), "--department", "不存在")
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "不认识的部门" in result.output and "不存在" in result.output
    for unit in UNITS:
        assert unit in result.output
    assert not out.exists()


def test_format_xlsx_writes_only_workbooks(tmp_path):
    out = tmp_path / "out"
    result = generate("--out", str(out), "--format", "xlsx", *(a for unit in REPRESENTATIVE for a in ("-d", unit)))
    assert result.exit_code == 0, result.output
    assert files_under(out) == expected_files(REPRESENTATIVE, formats=("xlsx",))
    assert len(files_under(out)) == 4


def test_format_docx_writes_only_word_files(tmp_path):
    out = tmp_path / "out"
    result = generate("--out", str(out), "--format", "docx", "-d", "办公室")
    assert result.exit_code == 0, result.output
    assert files_under(out) == expected_files(["办公室"], formats=("docx",))


def test_unknown_format_is_a_usage_error(tmp_path):
    out = tmp_path / "out"
    result = generate("--out", str(out), "--format", "pdf")
    assert result.exit_code == 2, result.output
    assert "--format" in result.output and "pdf" in result.output
    assert not out.exists()


def test_default_out_is_forms_in_the_current_directory(tmp_path):
    result = generate("-d", "办公室")
    assert result.exit_code == 0, result.output
    assert files_under(tmp_path / "forms") == expected_files(["办公室"])


# --- never over someone's file ---------------------------------------------------------------


def test_second_run_refuses_to_overwrite_and_force_overwrites(tmp_path):
    out = tmp_path / "out"
    units = ["办公室", "区消协"]
    first = generate("--out", str(out), "-d", *units[:1], "-d", units[1])
    assert first.exit_code == 0, first.output
    # A department has already filled one of its forms in place.
    filled = out / form_path("区消协", "stats", "xlsx")
    filled.write_bytes(b"filled in by the department")
    before = fingerprint(out)

    again = generate("--out", str(out), "-d", units[0], "-d", units[1])
    assert again.exit_code == 1, again.output
    assert isinstance(again.exception, SystemExit)
    assert "已存在" in again.output and "--force" in again.output
    assert fingerprint(out) == before

    forced = generate("--out", str(out), "-d", units[0], "-d", units[1], "--force")
    assert forced.exit_code == 0, forced.output
    assert files_under(out) == expected_files(units)
    ws = load_workbook(filled)["统计表"]
    assert row_texts(ws, 3) == [f"{UNIT_FIELD_LABEL}：", "区消协"]


def test_refusal_writes_nothing_even_where_files_are_missing(tmp_path):
    out = tmp_path / "out"
    assert generate("--out", str(out), "-d", "办公室").exit_code == 0
    missing = out / form_path("办公室", "roster", "docx")
    missing.unlink()
    before = fingerprint(out)
    result = generate("--out", str(out), "-d", "办公室")
    assert result.exit_code == 1, result.output
    assert not missing.exists()
    assert fingerprint(out) == before


def test_forms_written_by_the_process_pool_are_the_same_as_by_one_process(tmp_path, monkeypatch):
    """Many forms are stamped and written on every core; the result must not depend on it."""
    import campaign315.generate.forms as generation

    campaign = load_campaign(shipped("data") / "campaign.toml")
    units = list(campaign.units[:4])
    results = {}
    for label, threshold in (("serial", 10_000), ("pool", 1)):
        monkeypatch.setattr(generation, "PARALLEL_FROM", threshold)
        planned = generation.plan_forms(campaign, units, ("xlsx", "docx"), tmp_path / label)
        written = generation.generate_forms(campaign, planned, shipped("templates"))
        results[label] = {
            path.relative_to(tmp_path / label): zipfile.ZipFile(path).read("docProps/custom.xml") for path in written
        }
    assert len(results["pool"]) == 16
    assert results["pool"] == results["serial"]
    for path, custom in results["pool"].items():
        assert f">{path.parts[0]}</vt:lpwstr>".encode() in custom
