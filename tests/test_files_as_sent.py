"""Files as departments really send them (issue 15): both attachments in one file, zipped returns,
columns and text added around the form, figures typed into the wrong cell, every workbook format
Excel or calamine opens, and forms that are not electronic at all.

Every file here is built from the generated forms (openpyxl, python-docx, zipfile, or the binary
record writers in zipkit), ingested through the real command line or ``ingest_file``, and judged
by outcome, code and location."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import CADRE, FORMATS, GOOD_QUANTITIES, GOOD_REMARKS, LEADER
from docx import Document
from fill import combine, copy_sheet, roster_cell, stats_cell, strip_identity
from zipkit import read_parts, rezip, xlsb_sheet, xlsb_workbook, zip_of

from campaign315.spec.campaign import load_campaign
from campaign315.spec.forms import SHEET_NAMES, RosterLayout, StatsLayout
from campaign315.spec.location import Location
from campaign315.spec.problems import Code
from campaign315.store import open_store

T = "2020-03-13T09:00:00+08:00"


def returns_of(results: list[dict], file: Path | str) -> dict[str, dict]:
    """The JSON results of one file, by attachment."""
    return {r["attachment"]: r for r in results if r["file"] == str(file)}


# --- one file, several returns --------------------------------------------------------------------


@pytest.fixture
def both(forms, tmp_path):
    """A station's filled roster and 办公室-style filled stats of the same unit, combined in one file."""

    def make(fmt: str, roster_entries=None, stats_values=None, name: str = "劝业场所报表") -> Path:
        unit = "劝业场市场监管所"
        roster = forms.roster(fmt, roster_entries, unit=unit)
        stats = forms.stats(fmt, stats_values, unit=unit)
        return combine(roster, stats, tmp_path / "sent" / f"{name}.{fmt}")

    return make


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_file_holding_both_forms_is_two_returns_with_the_same_file_and_sha256(both, ingest_json, kept, fmt):
    path = both(fmt, stats_values={"1.1": 7})
    status, results = ingest_json("--received-at", T, path)
    assert status == 0, results
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    assert [(r["file"], r["sha256"], r["attachment"], r["outcome"], r["unit"]) for r in results] == [
        (str(path), sha256, "roster", "accepted", "劝业场市场监管所"),
        (str(path), sha256, "stats", "accepted", "劝业场市场监管所"),
    ]
    places = [r["place"] for r in results]
    assert places == (["值班表", "统计表"] if fmt == "xlsx" else ["表1", "表2"])
    assert all(r["problems"] == [] for r in results), results
    # one file archived once; two returns recorded, each with what it holds
    stored = kept.returns()
    assert [(r.attachment, r.sha256, r.place) for r in stored] == [("roster", sha256, places[0]), ("stats", sha256, places[1])]
    assert len({r.archive_key for r in stored}) == 1
    assert kept.store.archive.read(stored[0].archive_key) == path.read_bytes()
    assert kept.stats(sha256)["1.1"].quantity == 7
    assert [e.name for e in kept.roster(sha256)] == ["王建国", "李明", "赵丽"]
    # the same file again is one duplicate, nothing recorded twice
    status, again = ingest_json("--received-at", T, path)
    assert [r["outcome"] for r in again] == ["duplicate"] and len(kept.returns()) == 2


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_blank_roster_beside_filled_statistics_rejects_only_the_roster(both, ingest_json, fmt):
    path = both(fmt, roster_entries=[])
    status, results = ingest_json("--received-at", T, path)
    by = returns_of(results, path)
    assert status == 1
    assert by["roster"]["outcome"] == "rejected" and "roster-empty" in [p["code"] for p in by["roster"]["problems"]]
    assert (by["stats"]["outcome"], by["stats"]["problems"]) == ("accepted", [])


def test_status_summary_and_history_treat_each_return_of_a_combined_file_as_its_own(both, c315, ingest_json, tmp_path):
    path = both("xlsx", stats_values={"1.1": 7, "1.2": 4})
    ingest_json("--received-at", T, path)
    status = json.loads(c315("status", "--json").stdout)
    mine = {s["attachment"]: s["status"] for s in status if s["unit"] == "劝业场市场监管所"}
    assert mine == {"roster": "on_time", "stats": "on_time"}
    summary = json.loads(c315("summary", "--json", "--out", tmp_path / "summary").stdout)
    totals = {t["item"]: t for t in summary["totals"]}
    assert (totals["组织普法活动"]["quantity"], totals["开展大型咨询活动"]["quantity"]) == (7, 4)  # counted once
    assert totals["组织普法活动"]["reported_by"] == ["劝业场市场监管所"]
    history = c315("history", "劝业场所").stdout
    assert history.count(path.name) == 2 and "· 值班表" in history and "· 统计表" in history


def test_a_later_file_supersedes_one_attachment_of_a_combined_file(both, forms, ingest_json, c315, tmp_path):
    combined = both("xlsx", stats_values={"1.1": 7})
    ingest_json("--received-at", T, combined)
    later = forms.stats("xlsx", {"1.1": 9}, unit="劝业场市场监管所")
    ingest_json("--received-at", "2020-03-18T09:00:00+08:00", later)
    summary = json.loads(c315("summary", "--json", "--out", tmp_path / "s").stdout)
    assert {t["item"]: t["quantity"] for t in summary["totals"]}["组织普法活动"] == 9
    unit = next(u for u in summary["units"] if u["unit"] == "劝业场市场监管所")
    assert (unit["roster"], unit["received_at"]["roster"]) == ("on_time", "2020-03-13T09:00:00+08:00")


def test_a_sheet_that_is_no_form_is_ignored_with_one_line(forms, c315, tmp_path):
    path = forms.stats("xlsx")
    wb = openpyxl.load_workbook(path)
    wb.create_sheet("说明", 0)["A1"] = "本表由办公室填写"
    wb.create_sheet("Sheet3")  # empty: not worth a word
    wb.save(path)
    result = c315("ingest", "--received-at", T, path)
    assert result.exit_code == 0, result.output
    assert "「说明」 不是报表，已略过" in result.stdout and "Sheet3" not in result.stdout


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_same_form_twice_with_different_figures_is_rejected_naming_both_places(forms, check, tmp_path, fmt):
    first = forms.stats(fmt, {"1.1": 3})
    second = forms.stats(fmt, {"1.1": 5})
    if fmt == "xlsx":
        wb, other = openpyxl.load_workbook(first), openpyxl.load_workbook(second)
        copy_sheet(other["统计表"], wb.create_sheet("统计表 (2)"))
        path = tmp_path / "两张统计表.xlsx"
        wb.save(path)
        places = ("统计表", "统计表 (2)")
    else:
        path = combine(first, second, tmp_path / "两张统计表.docx")
        places = ("表1", "表2")
    results = check.all(path)
    assert [(r.attachment, r.outcome) for r in results] == [("stats", "rejected"), ("stats", "rejected")]
    for result in results:
        (repeated,) = [p for p in result.problems if p.code == Code.ATTACHMENT_REPEATED]
        assert all(f"「{place}」" in repeated.message for place in places)
        assert repeated.location == result.place


def test_an_identical_copy_of_a_sheet_is_read_once_and_said(forms, check, tmp_path):
    path = forms.stats("xlsx", {"1.1": 3})
    wb = openpyxl.load_workbook(path)
    wb.copy_worksheet(wb["统计表"])
    wb.save(path)
    (result,) = check.all(path)
    assert result.outcome == "accepted"
    assert [(p.code, p.location) for p in result.problems] == [(Code.ATTACHMENT_COPY, Location.sheet("统计表 Copy"))]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", FORMATS)
def test_a_combined_file_resaved_by_libreoffice_is_still_two_returns(both, check, soffice, tmp_path, fmt):
    path = both(fmt, stats_values={"1.1": 7})
    (resaved,) = soffice([path], fmt, tmp_path / "lo")
    results = check.all(resaved)
    assert [(r.attachment, r.outcome, r.unit) for r in results] == [
        ("roster", "accepted", "劝业场市场监管所"), ("stats", "accepted", "劝业场市场监管所")]
    assert [p.code for r in results for p in r.problems] == []


@pytest.fixture(scope="module")
def soffice(tmp_path_factory):
    import shutil
    import subprocess

    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    profile = tmp_path_factory.mktemp("lo-profile")
    filters = {"xlsx": "xlsx", "docx": "docx:MS Word 2007 XML"}

    def convert(paths: list[Path], target: str, outdir: Path) -> list[Path]:
        outdir.mkdir(parents=True, exist_ok=True)
        subprocess.run([found, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
                        "--convert-to", filters[target], "--outdir", str(outdir), *map(str, paths)],
                       capture_output=True, timeout=300, check=False)
        outputs = [outdir / f"{path.stem}.{target}" for path in paths]
        assert all(p.exists() for p in outputs), outputs
        return outputs

    return convert


# --- zipped returns ---------------------------------------------------------------------------------


def test_a_zip_of_two_files_is_two_returns_named_inside_it(forms, ingest_json, kept, tmp_path):
    roster = forms.roster("xlsx", unit="劝业场市场监管所")
    stats = forms.stats("docx", {"1.1": 6}, unit="劝业场市场监管所")
    path = tmp_path / "劝业场所报表.zip"
    path.write_bytes(zip_of([("值班表.xlsx".encode("gbk"), roster.read_bytes()),  # a Chinese Windows zip tool
                             ("统计/附件2.docx", stats.read_bytes()),             # UTF-8, flagged
                             ("__MACOSX/._附件2.docx", b"\0\5\26\7"), ("统计/", b"")]))
    status, results = ingest_json("--received-at", T, path)
    assert status == 0, results
    assert [(r["file"], r["attachment"], r["outcome"]) for r in results] == [
        (f"{path}!值班表.xlsx", "roster", "accepted"), (f"{path}!统计/附件2.docx", "stats", "accepted")]
    assert results[0]["sha256"] == hashlib.sha256(roster.read_bytes()).hexdigest()
    stored = kept.returns()
    assert [r.filename for r in stored] == ["劝业场所报表.zip!值班表.xlsx", "劝业场所报表.zip!统计/附件2.docx"]
    assert kept.store.archive.read(stored[1].archive_key) == stats.read_bytes()
    assert kept.stats(results[1]["sha256"])["1.1"].quantity == 6
    # a member sent again on its own is the same file: a duplicate
    status, again = ingest_json("--received-at", T, roster)
    assert [r["outcome"] for r in again] == ["duplicate"]


def test_a_zip_in_a_zip_is_opened_once_and_no_deeper(forms, ingest_json, tmp_path):
    stats = forms.stats("xlsx")
    inner = zip_of([("附件2.xlsx", stats.read_bytes())])
    innermost = zip_of([("更深.zip", zip_of([("x.xlsx", stats.read_bytes())]))])
    path = tmp_path / "新OA下载.zip"
    path.write_bytes(zip_of([("办公室.zip", inner), ("再一层.zip", innermost)]))
    status, results = ingest_json("--received-at", T, path)
    assert [(r["file"], r["outcome"]) for r in results] == [
        (f"{path}!办公室.zip!附件2.xlsx", "accepted"), (f"{path}!再一层.zip!更深.zip", "rejected")]
    assert [p["code"] for p in results[1]["problems"]] == ["zip-too-deep"]


def bomb_zip() -> bytes:
    return zip_of([("附件2.xlsx", b"PK" + b"\0" * (30 << 20))])


def traversal_zip(name: str) -> bytes:
    return zip_of([("附件2.xlsx", b"PK\3\4"), (name, b"<x/>")])


@pytest.mark.parametrize(("name", "data", "code"), [
    ("炸弹.zip", bomb_zip(), Code.FILE_UNSAFE),
    ("上级目录.zip", traversal_zip("../../x.xlsx"), Code.FILE_UNSAFE),
    ("绝对路径.zip", traversal_zip("/etc/x.xlsx"), Code.FILE_UNSAFE),
    ("盘符.zip", traversal_zip("C:\\Windows\\x.xlsx"), Code.FILE_UNSAFE),
    ("反斜杠上级.zip", traversal_zip("..\\x.xlsx"), Code.FILE_UNSAFE),
    ("空.zip", zip_of([("目录/", b"")]), Code.ZIP_EMPTY),
    ("压缩包.rar", b"Rar!\x1a\x07\x01\x00" + b"\0" * 100, Code.FORMAT_OTHER_ARCHIVE),
    ("压缩包.7z", b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\0" * 100, Code.FORMAT_OTHER_ARCHIVE),
])
def test_a_zip_that_cannot_be_opened_safely_is_refused_whole_and_kept(name, data, code, ingest_json, kept, tmp_path):
    path = tmp_path / name
    path.write_bytes(data)
    status, (result,) = ingest_json("--received-at", T, path)
    assert (status, result["file"], result["outcome"]) == (1, str(path), "rejected")
    assert [(p["code"], p["location"]) for p in result["problems"]] == [(code, name)]
    assert not (tmp_path / "x.xlsx").exists() and not (tmp_path.parent / "x.xlsx").exists()
    (stored,) = kept.returns()
    assert kept.store.archive.read(stored.archive_key) == data  # refused, never lost


def test_a_zip_with_a_password_is_said_to_be_encrypted(forms, check, tmp_path):
    data = bytearray(zip_of([("附件2.xlsx", forms.stats("xlsx").read_bytes())]))
    for marker in (b"PK\x03\x04", b"PK\x01\x02"):  # set the "encrypted" flag in both headers
        at = data.find(marker)
        offset = 6 if marker == b"PK\x03\x04" else 8
        data[at + offset] |= 1
    path = tmp_path / "加密.zip"
    path.write_bytes(bytes(data))
    assert [p.code for p in check(path).problems] == [Code.FORMAT_ENCRYPTED]


# --- content outside the form ----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_column_added_to_the_roster_is_said_with_its_header(forms, check, fmt):
    path = forms.roster(fmt)
    if fmt == "xlsx":
        wb = openpyxl.load_workbook(path)
        ws = wb[SHEET_NAMES["roster"]]
        ws["F4"], ws["F5"] = "备注", "带班领导"
        wb.save(path)
        header = Location.cell("值班表", 4, 6)
    else:
        document = Document(path)
        table = document.tables[0]
        column = table.add_column(table.columns[0].width)
        column.cells[0].text, column.cells[1].text = "备注", "带班领导"
        document.save(path)
        header = Location.table_cell(1, 1, 6)
    result = check(path)
    assert result.outcome == "accepted"
    (added,) = [p for p in result.problems if p.code == Code.COLUMN_ADDED]
    assert (added.location, added.value) == (header, "备注") and "带班领导" in added.message


def test_text_outside_the_table_is_said_and_a_headerless_cell_beside_it_too(forms, check):
    path = forms.stats("xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["统计表"]
    ws["G2"] = "已经领导审核"
    ws["F5"] = "另有2场"
    ws["A30"] = "（盖章）"
    wb.save(path)
    result = check(path)
    assert result.outcome == "accepted"
    assert {(p.code, p.location, p.value) for p in result.problems} == {
        (Code.CONTENT_OUTSIDE_FORM, Location.cell("统计表", 2, 7), "已经领导审核"),
        (Code.CONTENT_OUTSIDE_FORM, Location.cell("统计表", 5, 6), "另有2场"),
        (Code.CONTENT_OUTSIDE_FORM, Location.cell("统计表", 30, 1), "（盖章）"),
    }


def test_a_paragraph_added_to_a_document_is_said(forms, check):
    path = forms.stats("docx")
    document = Document(path)
    document.add_paragraph("以上数据已经分管领导审核。")
    document.save(path)
    result = check(path)
    assert [(p.code, p.value) for p in result.problems] == [(Code.CONTENT_OUTSIDE_FORM, "以上数据已经分管领导审核。")]
    assert result.problems[0].location.kind == "paragraph"


def test_the_forms_own_lines_are_never_content_outside_it(forms, check):
    for fmt in FORMATS:
        for path in (forms.stats(fmt), forms.roster(fmt), strip_identity(forms.stats(fmt))):
            assert check(path).problems == [], path


# --- figures in the wrong cell -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_figure_in_the_remark_with_the_quantity_empty_is_pointed_at(forms, check, fmt):
    result = check(forms.stats(fmt, {"1.1": None}, remarks={"1.1": "2"}))
    assert result.outcome == "accepted"
    assert {(p.code, p.location) for p in result.problems} == {
        (Code.QUANTITY_EMPTY, stats_cell(fmt, "1.1")), (Code.FIGURE_IN_REMARK, stats_cell(fmt, "1.1", "remark"))}


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_remark_in_words_or_beside_a_quantity_is_no_figure(forms, check, fmt):
    assert check(forms.stats(fmt, {"1.1": None}, remarks={"1.1": "进社区宣传"})).problems[0].code == Code.QUANTITY_EMPTY
    assert check(forms.stats(fmt, {"1.1": 3}, remarks={"1.1": "2"})).problems == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_quantity_typed_into_the_unit_column_is_pointed_at(forms, check, fmt):
    result = check(forms.stats(fmt, {"1.1": None}, units={"1.1": "3"}))
    assert {(p.code, p.location) for p in result.problems} == {
        (Code.QUANTITY_EMPTY, stats_cell(fmt, "1.1")), (Code.FIGURE_IN_UNIT, stats_cell(fmt, "1.1", "unit"))}


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_phone_in_the_position_column_is_pointed_at(forms, check, fmt):
    result = check(forms.roster(fmt, [dict(LEADER), {"name": "李明", "position": "13612345678", "landline": "23456789"},
                                      dict(CADRE, name="赵丽")]))
    assert (Code.PHONE_IN_POSITION, roster_cell(fmt, 1, "position")) in {(p.code, p.location) for p in result.problems}
    assert Code.POSITION_UNKNOWN not in [p.code for p in result.problems]


# --- every workbook Excel or calamine opens ------------------------------------------------------------


def _as_xlsb(source: Path) -> bytes:
    """The filled 附件2 workbook's sheet, cell for cell, as an Excel binary workbook; the 组织普法活动
    quantity a formula with its cached value."""
    ws = openpyxl.load_workbook(source)["统计表"]
    layout = StatsLayout(load_campaign(Path("data/campaign.toml")).attachments.stats)
    quantity = layout.rows["1.1"], 4
    cells = [(c.row - 1, c.column - 1, c.value) for row in ws.iter_rows() for c in row
             if c.value not in (None, "") and (c.row, c.column) != quantity]
    return xlsb_workbook({"统计表": xlsb_sheet(cells, formulas=[(quantity[0] - 1, quantity[1] - 1, 3.0)])})


def test_an_xlsb_workbook_is_read_like_any_workbook(forms, check, tmp_path):
    path = tmp_path / "办公室统计表.xlsb"
    path.write_bytes(_as_xlsb(forms.stats("xlsx", {"1.1": 3})))
    result = check(path)
    assert (result.outcome, result.unit, result.attachment) == ("accepted", "办公室", "stats")
    assert [(p.code, p.location) for p in result.problems] == [(Code.QUANTITY_FORMULA, stats_cell("xlsx", "1.1"))]


def test_an_xlsb_whose_cells_span_a_continent_is_refused_before_calamine(tmp_path, check):
    path = tmp_path / "大.xlsb"
    path.write_bytes(xlsb_workbook({"统计表": xlsb_sheet([(0, 0, "附件2"), (1_000_000, 16_000, "x")])}))
    assert [p.code for p in check(path).problems] == [Code.FILE_UNSAFE]


def test_zip_entries_with_backslashes_are_read(forms, check, tmp_path):
    """A Chinese reporting system's export names its parts ``xl\\worksheets\\sheet1.xml``."""
    parts = read_parts(forms.stats("xlsx", {"1.1": 4}))
    path = tmp_path / "出勤分类组织汇总表.xlsx"
    path.write_bytes(rezip({name.replace("/", "\\"): data for name, data in parts.items()}))
    result = check(path)
    assert (result.outcome, result.unit, result.problems) == ("accepted", "办公室", [])


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_minimal_package_with_its_parts_at_the_root_is_read(forms, check, tmp_path, fmt):
    source = forms.stats(fmt, {"1.1": 4})
    home = "xl/" if fmt == "xlsx" else "word/"
    main = "workbook.xml" if fmt == "xlsx" else "document.xml"
    parts = {name: data for name, data in read_parts(source).items() if not name.startswith("docProps/")}
    moved = {(name[len(home):] if name.startswith(home) else name): data for name, data in parts.items()}
    moved["_rels/.rels"] = moved["_rels/.rels"].replace(f"{home}{main}".encode(), main.encode())
    moved["[Content_Types].xml"] = moved["[Content_Types].xml"].replace(f"/{home}".encode(), b"/")
    path = tmp_path / f"极简.{fmt}"
    path.write_bytes(rezip(moved))
    result = check(path)
    assert (result.outcome, result.unit, result.attachment, result.problems) == ("accepted", "办公室", "stats", [])


def test_a_password_protected_ods_is_said_to_be_encrypted(tmp_path, check):
    manifest = (b'<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:names:tc:'
                b'opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" '
                b'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
                b'manifest:full-path="content.xml" manifest:media-type="text/xml" manifest:size="4096"><manifest:'
                b'encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="x"><manifest:algorithm manifest:'
                b'algorithm-name="Blowfish CFB" manifest:initialisation-vector="x"/></manifest:encryption-data>'
                b"</manifest:file-entry></manifest:manifest>")
    path = tmp_path / "加密.ods"
    path.write_bytes(rezip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                            "content.xml": bytes(range(256)) * 16, "META-INF/manifest.xml": manifest}, zipfile.ZIP_STORED))
    assert [p.code for p in check(path).problems] == [Code.FORMAT_ENCRYPTED]


# --- forms that are not electronic -------------------------------------------------------------------


@pytest.mark.parametrize(("name", "head"), [
    ("扫描件.pdf", b"%PDF-1.7\n"),
    ("拍照.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF"),
    ("截图.png", b"\x89PNG\r\n\x1a\n"),
    ("IMG_0315.HEIC", b"\x00\x00\x00\x18ftypheic"),
    ("扫描.tif", b"II*\x00"),
])
def test_a_pdf_or_photo_of_the_form_asks_for_the_excel_or_word_file(name, head, ingest_json, tmp_path):
    path = tmp_path / name
    path.write_bytes(head + bytes(range(256)) * 4)
    status, (result,) = ingest_json("--received-at", T, path)
    (found,) = result["problems"]
    assert (status, result["outcome"], found["code"]) == (1, "rejected", "format-not-electronic")
    assert "Excel" in found["message"] and "Word" in found["message"]


# --- the store: several returns per file, and the stores before -------------------------------------------


def test_a_store_of_the_previous_schema_takes_a_combined_file_after_its_upgrade(tmp_path, forms, campaign):
    """The store the release before this one wrote (one return per file, SHA-256 unique; made by that
    release, ``tests/data/store-schema-2``) is upgraded in place; its returns keep their ids, and a
    combined file is then recorded beside them as two returns. (What an upgrade keeps is checked in
    ``test_store_upgrade``.)"""
    from campaign315.intake.ingest import ingest_file

    folder = tmp_path / ".c315"
    shutil.copytree(Path(__file__).parent / "data" / "store-schema-2", folder, ignore=shutil.ignore_patterns("README.md"))
    with open_store(folder) as store:
        before = {r.id: (r.sha256, r.place) for r in store.returns(campaign.id)}
        assert len(before) == 6 and {place for _, place in before.values()} == {""}
        roster = forms.roster("xlsx", unit="劝业场市场监管所")
        stats = forms.stats("xlsx", unit="劝业场市场监管所")
        results = ingest_file(combine(roster, stats, tmp_path / "合.xlsx"), campaign, store)
        assert [r.outcome for r in results] == ["accepted", "accepted"]
        after = store.returns(campaign.id)
        assert {r.id: (r.sha256, r.place) for r in after if r.id in before} == before
        assert len(after) == 8
        assert store.integrity_check() == []


def test_a_file_recorded_whole_or_not_at_all(forms, campaign, tmp_path, monkeypatch):
    """A full disk inside the transaction of a combined file: neither return is recorded, the
    run stops with a message; the rerun records both."""
    from collections import Counter

    from campaign315.common import faults
    from campaign315.common.errors import StoreProblem
    from campaign315.intake.ingest import ingest_file

    path = combine(forms.roster("xlsx", unit="劝业场市场监管所"), forms.stats("xlsx", unit="劝业场市场监管所"),
                   tmp_path / "合.xlsx")
    with open_store(tmp_path / "s") as store:
        monkeypatch.setattr(faults, "_PLAN", {"in-transaction": (1, "no-space")})
        monkeypatch.setattr(faults, "_reached", Counter())
        with pytest.raises(StoreProblem):
            ingest_file(path, campaign, store)
        assert store.returns(campaign.id) == []
        monkeypatch.setattr(faults, "_PLAN", {})
        assert [r.outcome for r in ingest_file(path, campaign, store)] == ["accepted", "accepted"]


def test_an_empty_roster_row_of_the_layout_is_not_content(forms, check):
    """The generated roster's rows below the people are part of the table, whatever is left in them."""
    layout = RosterLayout(load_campaign(Path("data/campaign.toml")).attachments.roster)
    assert len(layout.body_rows) > 3
    assert check(forms.roster("xlsx")).problems == []


def test_received_time_of_a_combined_file_is_each_returns(both, kept):
    when = dt.datetime(2020, 3, 12, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    results = kept.ingest_all(both("docx"), when)
    assert {r.received_at for r in results} == {when}
    assert GOOD_QUANTITIES and GOOD_REMARKS  # the forms were filled with the clean values


