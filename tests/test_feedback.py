"""``c315 feedback`` through the real path: blank forms generated, filled as a person would,
ingested into a store, then the feedback written — the department's own file marked on exactly
its problem cells, the archive untouched, a letter naming every problem, and 催报 reminders for
exactly the forms still missing or rejected."""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from conftest import CADRE, GOOD_ROSTER, LEADER
from docx import Document
from docx.oxml.ns import qn
from docx.table import _Cell
from fill import blank, fill_roster, fill_stats

from campaign315.common.files import shipped
from campaign315.common.templates import TemplateProblem
from campaign315.common.words import SEVERITY_ZH, STATUS_ZH
from campaign315.intake.ingest import ingest, ingest_file
from campaign315.intake.read.package import read_package
from campaign315.reports.feedback import CHASE_LIST, FeedbackResult, write_feedback
from campaign315.reports.feedback.letters import CHASE_COLUMNS, TEXT_ENCODING
from campaign315.reports.feedback.marking import MARK_COLOURS, mark_document
from campaign315.reports.standing import standings
from campaign315.spec.campaign import Campaign, Unit
from campaign315.spec.location import Location
from campaign315.spec.problems import Code, problem
from campaign315.store import Store, StoredReturn, open_store

REMINDER_LIMIT = 200  # characters: one SMS or chat message
FILLER = {"filler": "李明", "phone": "13612345678"}


def at(campaign: Campaign, day: int, hour: int) -> dt.datetime:
    return campaign.localize(dt.datetime(2020, 3, day, hour, 0))


@dataclass
class Scenario:
    """The store after a morning of returns, and the feedback written from it."""

    campaign: Campaign
    store: Store
    out: Path
    result: FeedbackResult
    archive_hashes: dict[str, str]
    """archive key → the SHA-256 of what the archive held before the feedback was written."""
    accepted: set[tuple[str, str]]
    """(unit, attachment) pairs with an accepted return: nobody chases these."""
    rejected: set[tuple[str, str]]
    """(unit, attachment) pairs whose every return was rejected."""

    def shown(self, unit: str, attachment: str) -> StoredReturn:
        """The return the feedback speaks of: the counting one, else the latest received."""
        (standing,) = [s for s in standings(self.campaign, self.store.returns(self.campaign.id))
                       if s.unit.name == unit and s.attachment == attachment]
        assert standing.shown is not None, (unit, attachment)
        return standing.shown

    def marked(self, unit: str) -> list[Path]:
        return [path for u, path in self.result.marked if u.name == unit]

    def letter(self, unit: str) -> str:
        (path,) = [path for u, path in self.result.letters if u.name == unit]
        return path.read_text(encoding=TEXT_ENCODING)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory, campaign) -> Scenario:
    root = tmp_path_factory.mktemp("feedback")
    filled = root / "filled"
    # 办公室: 附件2 in Excel, accepted with warnings (a unit typed, a cell left empty, a bad phone);
    # its 附件1 in Word, clean.
    office_stats = fill_stats(blank(filled / "1", "办公室", "stats", "xlsx"),
                              {**_all_ones(campaign), "1.2": "３场", "1.4": None}, remarks=_remarks(), filler="张涛", phone="123")
    office_roster = fill_roster(blank(filled / "2", "办公室", "roster", "docx"), GOOD_ROSTER, **FILLER)
    # 劝业场市场监管所: 附件1 in Excel, rejected for a 10-digit mobile, with a full-width landline
    # and one person short (a problem of the whole form, which belongs in the letter only); its
    # 附件2 never came.
    station_roster = fill_roster(blank(filled / "3", "劝业场市场监管所", "roster", "xlsx"),
                                 [{**LEADER, "mobile": "1361234567"}, {**CADRE, "landline": "２３４５６７８９"}], **FILLER)
    # 广告监管科: 附件2 in Word, rejected (五 is not a number), 填报人 and phone left empty.
    ads_stats = fill_stats(blank(filled / "4", "广告科", "stats", "docx"),
                           {**_all_ones(campaign), "1.1": "五", "1.2": "3场"}, remarks=_remarks(), filler="", phone="")
    # 食品安全协调科: both forms clean. 市场和网络交易监管科 (which has a contact): a clean 附件2 only.
    clean_stats = fill_stats(blank(filled / "5", "食品协调科", "stats", "xlsx"), _all_ones(campaign), remarks=_remarks(), **FILLER)
    clean_roster = fill_roster(blank(filled / "6", "食品协调科", "roster", "xlsx"), GOOD_ROSTER, **FILLER)
    market_stats = fill_stats(blank(filled / "9", "市场网监科", "stats", "docx"), _all_ones(campaign), remarks=_remarks(), **FILLER)
    # 食品安全监管科: a rejected 附件2, then a clean one that counts.
    food_bad = fill_stats(blank(filled / "7", "食品监管科", "stats", "xlsx"), {**_all_ones(campaign), "1.1": -3},
                          remarks=_remarks(), **FILLER)
    food_good = fill_stats(blank(filled / "8", "食品监管科", "stats", "xlsx"), _all_ones(campaign), remarks=_remarks(), **FILLER)

    store = open_store(root / "store")
    first = ingest([office_stats, office_roster, station_roster, ads_stats, clean_stats, clean_roster, market_stats, food_bad],
                   campaign, store, at(campaign, 12, 9))
    second = ingest([food_good], campaign, store, at(campaign, 12, 11))
    outcomes = {(r.unit, r.attachment, Path(r.file).name): r for r in first + second}
    assert [r.outcome for r in first + second] == ["accepted", "accepted", "rejected", "rejected", "accepted",
                                                   "accepted", "accepted", "rejected", "accepted"], outcomes
    clean = [office_roster, clean_stats, clean_roster, market_stats, food_good]
    assert all(not r.problems for r in first + second if Path(r.file) in clean), "the clean returns must be clean"
    accepted = {(r.unit, r.attachment) for r in first + second if r.outcome == "accepted"}
    rejected = {(r.unit, r.attachment) for r in first + second if r.outcome == "rejected"} - accepted
    hashes = {r.archive_key: _sha256(store.archive.read(r.archive_key)) for r in store.returns(campaign.id)}
    out = root / "out"
    result = write_feedback(campaign, store, out, shipped("templates"), now=at(campaign, 12, 10))
    yield Scenario(campaign, store, out, result, hashes, accepted, rejected)
    store.close()


def _all_ones(campaign: Campaign) -> dict[str, object]:
    return {item.key: 1 for item in campaign.attachments.stats.items}


def _remarks() -> dict[str, object]:
    return {"1.10": "消费维权进社区", "3": "发放宣传品"}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def xlsx_comments(path: Path) -> dict[Location, tuple[str, str]]:
    """{Location.cell("统计表", 6, 4): (comment text, fill colour)} for every commented cell of every sheet."""
    workbook = openpyxl.load_workbook(path)
    return {
        Location.cell(sheet.title, cell.row, cell.column): (cell.comment.text, cell.fill.fgColor.rgb)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.comment is not None
    }


def docx_marks(path: Path) -> tuple[dict[Location, str], dict[Location, str]]:
    """({location: comment text}, {location: cell shading}) in a .docx, locations counted as the
    reader counts them: body tables and paragraphs in order, rows from 1, grid columns with gridSpan."""
    document = Document(path)
    comments = {c.comment_id: c.text for c in document.comments}
    commented, shaded = {}, {}

    def comment_in(element) -> str | None:
        start = element.find(".//" + qn("w:commentRangeStart"))
        return comments[int(start.get(qn("w:id")))] if start is not None else None

    for t, table in enumerate(document.tables, start=1):
        for r, tr in enumerate(table._tbl.tr_lst, start=1):
            column = 1
            for tc in tr.tc_lst:
                location = Location.table_cell(t, r, column)
                if (text := comment_in(tc)) is not None:
                    commented[location] = text
                shading = tc.find(f"{qn('w:tcPr')}/{qn('w:shd')}")
                if shading is not None:
                    shaded[location] = shading.get(qn("w:fill"))
                column += tc.grid_span
    for n, paragraph in enumerate(document.paragraphs, start=1):
        if (text := comment_in(paragraph._p)) is not None:
            commented[Location.paragraph(n)] = text
    return commented, shaded


def worst_colour(problems) -> str:
    return MARK_COLOURS["error" if any(p.is_error for p in problems) else "warning"]


# --- the marked copies --------------------------------------------------------------------------


@pytest.mark.parametrize(("unit", "attachment"), [("办公室", "stats"), ("劝业场市场监管所", "roster")])
def test_marked_workbook_has_a_comment_on_exactly_the_problem_cells(scenario, unit, attachment):
    shown = scenario.shown(unit, attachment)
    in_cells = [p for p in shown.problems if p.location.in_file]
    assert in_cells, "the scenario must give this return problems in cells"
    (copy,) = scenario.marked(unit)
    assert copy.suffix == ".xlsx" and copy.parent == scenario.out / unit
    comments = xlsx_comments(copy)
    assert set(comments) == {p.location for p in in_cells}
    for location, (text, colour) in comments.items():
        here = [p for p in in_cells if p.location == location]
        assert all(f"【{SEVERITY_ZH[p.severity]}】{p.message}" in text for p in here)
        assert colour.endswith(worst_colour(here)), (location, colour)


def test_error_cells_are_marked_red_and_warning_cells_yellow(scenario):
    shown = scenario.shown("劝业场市场监管所", "roster")
    (copy,) = scenario.marked("劝业场市场监管所")
    colours = {location: colour[-6:] for location, (_, colour) in xlsx_comments(copy).items()}
    severities = {p.location: p.severity for p in shown.problems if p.location.in_file}
    assert set(severities.values()) == {"error", "warning"}
    assert colours == {location: MARK_COLOURS[severity] for location, severity in severities.items()}


def test_a_problem_of_the_whole_form_is_not_put_on_any_cell(scenario):
    shown = scenario.shown("劝业场市场监管所", "roster")
    whole = [p for p in shown.problems if not p.location.in_file]
    assert [p.code for p in whole] == [Code.STAFFING_SHORT]
    (copy,) = scenario.marked("劝业场市场监管所")
    assert not any(whole[0].message in text for text, _ in xlsx_comments(copy).values())
    assert whole[0].message in scenario.letter("劝业场市场监管所")


def test_marked_document_marks_the_right_table_cells_and_paragraphs(scenario):
    shown = scenario.shown("广告监管科", "stats")
    (copy,) = scenario.marked("广告监管科")
    assert copy.suffix == ".docx"
    commented, shaded = docx_marks(copy)
    in_tables = {p.location for p in shown.problems if p.location.kind == "table-cell"}
    in_paragraphs = {p.location for p in shown.problems if p.location.kind == "paragraph"}
    assert in_tables and in_paragraphs, "the scenario must give this return problems in cells and in paragraphs"
    assert set(commented) == in_tables | in_paragraphs
    assert set(shaded) == in_tables
    for location in in_tables | in_paragraphs:
        here = [p for p in shown.problems if p.location == location]
        assert all(p.message in commented[location] for p in here), location
        if location in in_tables:
            assert shaded[location] == worst_colour(here), location


def test_marking_counts_grid_columns_across_merged_cells_as_the_reader_does(tmp_path):
    document = Document()
    table = document.add_table(rows=2, cols=4)
    table.cell(0, 0).merge(table.cell(0, 1))  # first row: one cell over grid columns 1–2
    for row, texts in enumerate((["AB", "C", "D"], ["a", "b", "c", "d"])):
        for tc, text in zip(table.rows[row]._tr.tc_lst, texts, strict=True):
            _Cell(tc, table).text = text
    path = tmp_path / "merged.docx"
    document.save(path)
    located = {cell.text: cell.location for sheet in read_package(path.read_bytes()).sheets
               for row in sheet.rows if row.table for cell in row.cells if cell.value}
    third_column = Location.table_cell(1, 1, 3)
    assert located["C"] == third_column  # the reader counts the merged cell as two columns

    wrong = problem(Code.QUANTITY_NOT_NUMBER, located["C"], "C")
    marked = tmp_path / "marked.docx"
    marked.write_bytes(mark_document(path.read_bytes(), {wrong.location: [wrong]}, "区消协"))
    commented, shaded = docx_marks(marked)
    assert commented == {third_column: f"【错误】{wrong.message}"}
    assert shaded == {third_column: MARK_COLOURS["error"]}
    assert Document(marked).tables[0].rows[0].cells[2].text == "C"  # the text itself is untouched


def test_without_word_comments_the_note_goes_into_the_cell_in_red(scenario, monkeypatch):
    import docx.document

    monkeypatch.delattr(docx.document.Document, "add_comment")
    shown = scenario.shown("广告监管科", "stats")
    original = scenario.store.archive.read(shown.archive_key)
    error = next(p for p in shown.problems if p.is_error and p.location.kind == "table-cell")
    marked = mark_document(original, {error.location: [error]}, "区消协")
    before = _cells(original)
    after = _cells(marked)
    changed = {location for location in after if after[location] != before.get(location)}
    assert changed == {error.location}
    assert after[error.location].startswith(before[error.location])
    assert f"【错误】{error.message}" in after[error.location]


def _cells(data: bytes) -> dict[Location, str]:
    return {cell.location: cell.text for sheet in read_package(data).sheets for row in sheet.rows for cell in row.cells}


def test_the_archived_originals_are_never_touched(scenario):
    returns = scenario.store.returns(scenario.campaign.id)
    assert returns
    assert set(scenario.archive_hashes) == {ret.archive_key for ret in returns}
    for ret in returns:
        archived = scenario.store.archive.read(ret.archive_key)
        assert _sha256(archived) == ret.sha256 == scenario.archive_hashes[ret.archive_key]
    for _unit, copy in scenario.result.marked:
        assert scenario.out in copy.parents
        assert _sha256(copy.read_bytes()) not in {ret.sha256 for ret in returns}


@pytest.mark.parametrize("unit", ["办公室", "广告监管科"])
def test_a_marked_copy_sent_back_is_read_as_the_units_return_with_the_same_problems(scenario, campaign, unit):
    attachment = "stats"
    (copy,) = scenario.marked(unit)
    (again,) = ingest_file(copy, campaign, None)
    assert (again.unit, again.attachment) == (unit, attachment)
    assert {(p.code, p.location) for p in again.problems} == {(p.code, p.location) for p in scenario.shown(unit, attachment).problems}


# --- the letters -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("unit", "attachments"), [("办公室", ["stats"]), ("劝业场市场监管所", ["roster"]),
                                                    ("广告监管科", ["stats"])])
def test_the_letter_names_every_problem_where_it_is_and_by_when(scenario, campaign, unit, attachments):
    letter = scenario.letter(unit)
    contact = campaign.collector_contact
    assert unit in letter and contact.name in letter and contact.phone in letter
    for attachment in attachments:
        spec = campaign.spec(attachment)
        shown = scenario.shown(unit, attachment)
        assert spec.title in letter and shown.filename in letter
        assert spec.due_text in letter
        assert f"{campaign.due_at(attachment):%Y-%m-%d %H:%M}" in letter
        for p in shown.problems:
            assert p.message in letter
            assert f"[{SEVERITY_ZH[p.severity]}]" in letter
            if p.location.in_file:
                assert str(p.location) in letter
    for _unit, copy in [m for m in scenario.result.marked if m[0].name == unit]:
        assert copy.name in letter


def test_a_rejected_form_is_said_to_be_not_accepted_and_to_be_sent_again(scenario):
    rejected, accepted = scenario.letter("广告监管科"), scenario.letter("办公室")
    assert "未被接收" in rejected and "重新报送" in rejected
    assert "未被接收" not in accepted and "已接收" in accepted


# --- the reminders ----------------------------------------------------------------------------------


def test_reminders_go_to_exactly_the_missing_and_rejected_forms(scenario, campaign):
    owed = {(unit.name, attachment) for unit in campaign.units for attachment in unit.returns}
    expected = owed - scenario.accepted
    assert scenario.rejected == {("广告监管科", "stats"), ("劝业场市场监管所", "roster")}
    assert scenario.rejected < expected and ("劝业场市场监管所", "stats") in expected
    assert {(unit.name, attachment) for unit, attachment, _ in scenario.result.reminders} == expected
    assert len(scenario.result.reminders) == len(expected)


def test_each_reminder_fits_a_message_and_names_the_form_the_time_and_whom_to_send_it_to(scenario, campaign):
    contact = campaign.collector_contact
    for unit, attachment, path in scenario.result.reminders:
        text = path.read_text(encoding=TEXT_ENCODING).strip()
        spec = campaign.spec(attachment)
        assert len(text) <= REMINDER_LIMIT, (len(text), text)
        assert path.parent == scenario.out / unit.name
        for needed in (unit.name, spec.label, spec.title, spec.due_text, campaign.collector.name, contact.phone):
            assert needed in text, (needed, text)
    ads = next(path for unit, attachment, path in scenario.result.reminders if unit.name == "广告监管科" and attachment == "stats")
    assert "未被接收" in ads.read_text(encoding=TEXT_ENCODING)


def test_a_reminder_after_the_due_time_says_it_has_passed(scenario, campaign, tmp_path):
    late = write_feedback(campaign, scenario.store, tmp_path / "late", shipped("templates"),
                          units=[campaign.find_unit("劝业场市场监管所")], now=at(campaign, 20, 9))
    texts = {attachment: path.read_text(encoding=TEXT_ENCODING) for _, attachment, path in late.reminders}
    assert set(texts) == {"roster", "stats"}
    assert "已过" in texts["stats"] and campaign.attachments.stats.due_text in texts["stats"]
    on_time = next(p for u, a, p in scenario.result.reminders if u.name == "劝业场市场监管所" and a == "stats")
    assert "已过" not in on_time.read_text(encoding=TEXT_ENCODING)


def test_the_collectors_list_has_one_row_per_reminder_with_whom_to_phone(scenario, campaign):
    assert scenario.result.combined == scenario.out / CHASE_LIST
    lines = scenario.result.combined.read_text(encoding=TEXT_ENCODING).splitlines()
    header = lines.index("\t".join(CHASE_COLUMNS))
    rows = [dict(zip(CHASE_COLUMNS, line.split("\t"), strict=True)) for line in lines[header + 1:] if line]
    expected = {}
    # Whom to phone: the campaign's contact, else the 填报人 of the unit's latest return.
    contacts = {s.unit.name: s.contact for s in standings(campaign, scenario.store.returns(campaign.id))}
    for unit, attachment, _ in scenario.result.reminders:
        spec = campaign.spec(attachment)
        status = "rejected" if (unit.name, attachment) in scenario.rejected else "missing"
        expected[(unit.name, f"{spec.label} {spec.title}")] = (STATUS_ZH[status], contacts[unit.name])
    assert {(row["部门"], row["报表"]): (row["情况"], row["联系人"]) for row in rows} == expected
    assert [row["序号"] for row in rows] == [str(n) for n in range(1, len(rows) + 1)]
    (market,) = [row for row in rows if row["部门"] == "市场和网络交易监管科"]
    assert (market["报表"], market["联系人"]) == ("附件1 2020年天津卫视3•14晚间值班表", "徐大凯 13682137895")


# --- who gets nothing, and where things go ---------------------------------------------------------------


def test_units_with_nothing_to_fix_get_nothing_and_nothing_else_is_written(scenario):
    assert not (scenario.out / "食品安全协调科").exists()
    everyone = {u.name for u, _ in scenario.result.letters} | {u.name for u, _, _ in scenario.result.reminders}
    assert "食品安全协调科" not in everyone
    # 食品安全监管科: its counting 附件2 is clean (the rejected one before it does not matter),
    # so only its missing 附件1 is chased.
    assert "食品安全监管科" not in {u.name for u, _ in scenario.result.letters}
    assert {a for u, a, _ in scenario.result.reminders if u.name == "食品安全监管科"} == {"roster"}
    on_disk = {path for path in scenario.out.rglob("*") if path.is_file()}
    assert on_disk == set(scenario.result.written)


def test_only_the_units_asked_for_get_feedback(scenario, campaign, tmp_path):
    ads = campaign.find_unit("广告科")
    result = write_feedback(campaign, scenario.store, tmp_path / "one", shipped("templates"), units=[ads], now=at(campaign, 12, 10))
    assert {path.parent for path in result.written} == {tmp_path / "one" / "广告监管科", tmp_path / "one"}
    assert [u.name for u, _ in result.letters] == ["广告监管科"]
    assert {a for _, a, _ in result.reminders} == {"roster", "stats"}


def test_a_unit_with_only_clean_returns_produces_no_file_at_all(scenario, campaign, tmp_path):
    result = write_feedback(campaign, scenario.store, tmp_path / "none", shipped("templates"),
                            units=[campaign.find_unit("食品协调科")], now=at(campaign, 12, 10))
    assert result.written == [] and result.combined is None
    assert not (tmp_path / "none").exists() or not any((tmp_path / "none").rglob("*"))
    assert "未写出任何文件" in result.describe()


def test_names_from_the_data_cannot_lead_outside_the_output_folder(campaign, tmp_path):
    escaping = Unit(name="../../逃逸科", kind="科室")
    tricky = Campaign.model_validate({**campaign.model_dump(), "units": [escaping.model_dump()]})
    out = tmp_path / "a" / "b" / "out"
    with open_store(tmp_path / "store") as store:
        result = write_feedback(tricky, store, out, shipped("templates"), now=at(campaign, 12, 10))
    assert len(result.reminders) == 2
    for path in result.written:
        assert out.resolve() in path.resolve().parents
    assert sorted(p.name for p in (tmp_path / "a").rglob("*") if p.is_file() and out not in p.parents) == []


# --- the templates -------------------------------------------------------------------------------------------


def test_the_offices_own_letter_template_is_used_with_the_campaigns_data(scenario, campaign, tmp_path):
    own = tmp_path / "templates"
    own.mkdir()
    (own / "feedback_letter.txt.j2").write_text(
        "{{ campaign.document_number }}|{{ unit.name }}|{{ contact.phone }}|"
        "{% for form in forms %}{{ form.label }}:{% for line in form.lines %}{{ line.locations|join(',') }};{% endfor %}{% endfor %}",
        encoding="utf-8",
    )
    result = write_feedback(campaign, scenario.store, tmp_path / "own", own,
                            units=[campaign.find_unit("广告科")], now=at(campaign, 12, 10))
    ((_, path),) = result.letters
    shown = scenario.shown("广告监管科", "stats")
    head, _, tail = path.read_text(encoding=TEXT_ENCODING).strip().partition("附件2:")
    assert head == f"{campaign.document_number}|广告监管科|{campaign.collector_contact.phone}|"
    listed = {location for part in tail.split(";") if part for location in part.split(",")}
    assert listed == {str(p.location) for p in shown.problems}
    # The reminder template is not in the office's folder: the shipped one fills in.
    assert len(result.reminders) == 2
    for _, attachment, reminder in result.reminders:
        assert campaign.spec(attachment).due_text in reminder.read_text(encoding=TEXT_ENCODING)


def test_a_template_naming_a_field_that_does_not_exist_is_one_clear_error(scenario, campaign, tmp_path):
    own = tmp_path / "templates"
    own.mkdir()
    (own / "reminder.txt.j2").write_text("{{ form.deadline_text }}", encoding="utf-8")
    with pytest.raises(TemplateProblem, match="reminder.txt.j2"):
        write_feedback(campaign, scenario.store, tmp_path / "bad", own, now=at(campaign, 12, 10))


def test_a_file_that_cannot_be_marked_still_gets_its_letter(campaign, tmp_path, monkeypatch):
    path = fill_stats(blank(tmp_path / "filled", "价监所", "stats", "xlsx"), {**_all_ones(campaign), "1.1": -3},
                      remarks=_remarks(), **FILLER)
    with open_store(tmp_path / "store") as store:
        (result,) = ingest([path], campaign, store, at(campaign, 12, 9))
        (ret,) = store.returns(campaign.id)
        assert store.archive.read(ret.archive_key)

        def lost(key: str) -> bytes:  # the archived file gone, say by a careless clean-up
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", key)

        monkeypatch.setattr(store.archive, "read", lost)
        feedback = write_feedback(campaign, store, tmp_path / "out", shipped("templates"),
                                  units=[campaign.find_unit("价监所")], now=at(campaign, 12, 10))
    assert feedback.marked == []
    ((unit, attachment, why),) = feedback.unmarked
    assert (unit.name, attachment) == ("价监所", "stats") and "存档" in why
    ((_, letter),) = feedback.letters
    text = letter.read_text(encoding=TEXT_ENCODING)
    assert all(str(p.location) in text and p.message in text for p in result.problems if p.location.in_file)
    assert all(p.message in text for p in result.problems)
    assert "标注过的文件" not in text
    assert "无法标注" in feedback.describe()
