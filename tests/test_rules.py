"""Every validation rule of 附件1 and 附件2, end to end: a generated form filled the way people
fill it, read back through ``ingest_file``, judged by problem code and cell — never by message.

Value parsing in depth is test_values.py's job; here each rule is shown to reach a real file's
cell in both formats (one case per rule and format), and what was read is what the store keeps.
Rules that are a function of the campaign alone (who counts as a leader, which names mean which
unit) are tested case by case on the campaign, then once through a file.
"""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import CADRE, CADRE_2, FORMATS, GOOD_QUANTITIES, GOOD_ROSTER, LEADER
from fill import (
    codes,
    delete_row,
    insert_row,
    roster_cell,
    set_identity,
    stats_cell,
    strip_identity,
    swap_stats_rows,
    unit_cell,
    write_formula,
)

from campaign315.spec.forms import SHEET_NAMES, RosterLayout, StatsLayout
from campaign315.spec.location import Location
from campaign315.spec.problems import Code

DUTY_DATE = dt.date(2020, 3, 14)


def whole(fmt: str, attachment: str) -> Location:
    """The whole form: its sheet (xlsx) or its table (docx)."""
    return Location.sheet(SHEET_NAMES[attachment]) if fmt == "xlsx" else Location.whole_table(1)


def at(result, location: Location) -> list[Code]:
    """The codes of the problems found at one cell."""
    return [p.code for p in result.problems if p.location == location]


def located(problems) -> set[tuple[Code, Location]]:
    """{(code, location)} of a list of problems, the location as the reader made it."""
    return {(p.code, p.location) for p in problems}


def test_clean_returns_have_no_problems(forms, check):
    for fmt in FORMATS:
        for path in (forms.stats(fmt), forms.roster(fmt)):
            result = check(path)
            assert result.outcome == "accepted", path
            assert result.problems == []


# --- 附件2: quantities ---------------------------------------------------------------------

# Items: a 场次 row, the 册（份） row, a participants row.
READ_SAFELY = [  # item, typed → read, the warning that says so (None: read silently)
    ("1.1", "12", 12, None),
    ("1.7", "10册（份）", 10, Code.QUANTITY_WITH_UNIT),  # the row's own unit, as printed
    ("2.6", "１，２００", 1200, Code.QUANTITY_NORMALISED),
]
READ_SAFELY_XLSX = [("1.7", 7, 7, None)]  # a number cell, as only a spreadsheet holds one


@pytest.mark.parametrize(
    ("fmt", "key", "typed", "read", "code"),
    [(fmt, *case) for fmt in FORMATS for case in READ_SAFELY] + [("xlsx", *case) for case in READ_SAFELY_XLSX],
)
def test_quantity_read_safely_and_said(forms, kept, fmt, key, typed, read, code):
    result = kept.ingest(forms.stats(fmt, {key: typed}))
    assert result.outcome == "accepted"
    assert at(result, stats_cell(fmt, key)) == ([code] if code else [])
    assert kept.stats(result.sha256)[key].quantity == read


REJECTED = [  # item, typed → the error naming the cell
    ("1.1", "－3", Code.QUANTITY_NEGATIVE),
    ("1.7", "0.5场", Code.QUANTITY_FRACTION),
    ("2.6", "若干", Code.QUANTITY_NOT_NUMBER),
]
REJECTED_XLSX = [("2.6", 2.5, Code.QUANTITY_FRACTION)]


@pytest.mark.parametrize(
    ("fmt", "key", "typed", "code"),
    [(fmt, *case) for fmt in FORMATS for case in REJECTED] + [("xlsx", *case) for case in REJECTED_XLSX],
)
def test_quantity_that_needs_a_guess_rejects_the_return(forms, check, fmt, key, typed, code):
    result = check(forms.stats(fmt, {key: typed}))
    assert result.outcome == "rejected"
    (found,) = [p for p in result.problems if p.location == stats_cell(fmt, key)]
    assert (found.is_error, found.code, found.value) == (True, code, str(typed))


@pytest.mark.parametrize(
    ("formula", "cached", "severity", "code", "read"),
    [
        ("2+3", 5, "warning", Code.QUANTITY_FORMULA, 5),
        ("0.1*30", "3.0000000000000004", "warning", Code.QUANTITY_FORMULA, 3),  # the stored text of a float
        ("2+3", None, "error", Code.QUANTITY_FORMULA_UNCACHED, None),
        ("2-5", -3, "error", Code.QUANTITY_NEGATIVE, None),  # the result is judged as if typed
    ],
)
def test_formula_is_read_from_its_cached_result(forms, kept, formula, cached, severity, code, read):
    path = forms.stats("xlsx")
    cell = stats_cell("xlsx", "1.2")
    write_formula(path, cell.ref, formula, cached)
    result = kept.ingest(path)
    (found,) = [p for p in result.problems if p.location == cell]
    assert (found.severity, found.code) == (severity, code)
    if code in (Code.QUANTITY_FORMULA, Code.QUANTITY_FORMULA_UNCACHED):
        assert found.value == f"={formula}"
    assert result.outcome == ("accepted" if severity == "warning" else "rejected")
    assert kept.stats(result.sha256)["1.2"].quantity == read


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_quantity_is_not_reported_and_not_zero(forms, kept, fmt):
    result = kept.ingest(forms.stats(fmt, {"1.3": None, "1.4": "0", "2.2": 0}))
    assert result.outcome == "accepted"
    assert located(result.problems) == {(Code.QUANTITY_EMPTY, stats_cell(fmt, "1.3"))}
    lines = kept.stats(result.sha256)
    assert lines["1.3"].quantity is None
    assert lines["1.4"].quantity == 0
    assert lines["2.2"].quantity == 0


@pytest.mark.parametrize("fmt", FORMATS)
def test_stats_left_entirely_blank_is_rejected(forms, check, fmt):
    result = check(forms.stats(fmt, clean=False))
    assert result.outcome == "rejected"
    assert (Code.STATS_EMPTY, whole(fmt, "stats")) in located(result.problems)
    assert [p.severity for p in result.problems if p.code == Code.STATS_EMPTY] == ["error"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("key", ["1.10", "3"])
def test_other_row_with_a_quantity_needs_a_remark(forms, kept, fmt, key):
    result = kept.ingest(forms.stats(fmt, {key: 2}, remarks={key: None}))
    assert result.outcome == "accepted"
    assert located(result.problems) == {(Code.OTHER_WITHOUT_REMARK, stats_cell(fmt, key, "remark"))}


@pytest.mark.parametrize("fmt", FORMATS)
def test_free_other_row_may_say_what_it_counts_in_its_item_cell(forms, kept, fmt):
    path = forms.stats(fmt, {"3": 40}, remarks={"3": None}, labels={"3": "发放消费提示"})
    result = kept.ingest(path)
    assert result.problems == []
    line = kept.stats(result.sha256)["3"]
    assert (line.quantity, line.label, line.remark) == (40, "发放消费提示", "")


@pytest.mark.parametrize("fmt", FORMATS)
def test_other_row_left_empty_is_not_a_problem_of_its_own(forms, check, fmt):
    result = check(forms.stats(fmt, {"1.10": None, "3": None}, remarks={"1.10": None, "3": None}))
    assert Code.OTHER_WITHOUT_REMARK not in codes(result.problems)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("participants", "activities"),
    [("1.8", ("1.1", "1.2", "1.6")), ("1.9", ("1.1", "1.2", "1.6")),
     ("2.6", ("2.1", "2.2", "2.3", "2.4", "2.5")), ("2.7", ("2.1", "2.2", "2.3", "2.4", "2.5"))],
)
@pytest.mark.parametrize("none_held", [0, None])
def test_participants_without_any_activity_warn(forms, check, fmt, participants, activities, none_held):
    result = check(forms.stats(fmt, {participants: 200} | dict.fromkeys(activities, none_held)))
    assert result.outcome == "accepted"
    assert (Code.PARTICIPANTS_WITHOUT_ACTIVITY, stats_cell(fmt, participants)) in located(result.problems)

    one_held = check(forms.stats(fmt, {participants: 200} | dict.fromkeys(activities, none_held) | {activities[-1]: 1}))
    assert Code.PARTICIPANTS_WITHOUT_ACTIVITY not in codes(one_held.problems)


# --- 附件2: the item rows as issued -----------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("key", "label"), [("1.1", "组织普法宣传活动"), ("2.4", "举办业务培训会"), ("1.10", "其它")])
def test_item_label_changed_rejects_naming_the_row(forms, check, fmt, key, label):
    result = check(forms.stats(fmt, labels={key: label}))
    assert result.outcome == "rejected"
    assert (Code.ITEM_LABEL_CHANGED, stats_cell(fmt, key, "label")) in located(result.problems)


@pytest.mark.parametrize("fmt", FORMATS)
def test_item_added_with_a_quantity_rejects_naming_the_row(forms, kept, fmt):
    path = forms.stats(fmt, {"1.5": 8, "2.1": 9})
    insert_row(path, "stats", 4, {"label": "举办发布会", "unit": "场次", "quantity": 2})
    result = kept.ingest(path)
    assert result.outcome == "rejected"
    new_row = stats_cell(fmt, "1.5", "label")  # the inserted row sits where 1.5 was
    assert located(result.problems) == {(Code.ITEM_ADDED, new_row)}
    lines = kept.stats(result.sha256)  # everything else still read by its label
    assert (lines["1.5"].quantity, lines["2.1"].quantity) == (8, 9)
    assert set(lines) == set(GOOD_QUANTITIES)


@pytest.mark.parametrize("fmt", FORMATS)
def test_item_added_but_left_empty_is_ignored_with_a_warning(forms, check, fmt):
    path = forms.stats(fmt)
    insert_row(path, "stats", 12, {"label": "备用"})
    result = check(path)
    assert result.outcome == "accepted"
    assert located(result.problems) == {(Code.ITEM_ADDED_EMPTY, stats_cell(fmt, "2.3", "label"))}


@pytest.mark.parametrize("fmt", FORMATS)
def test_blank_row_inserted_is_no_problem(forms, check, fmt):
    path = forms.stats(fmt)
    insert_row(path, "stats", 5)
    assert check(path).problems == []


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("index", "key"), [(3, "1.4"), (13, "2.4"), (0, "1.1"), (10, "2.1")])
def test_item_removed_rejects_naming_only_that_item(forms, kept, fmt, index, key, campaign):
    """Also the first row of a category, whose merged category cell goes with it."""
    path = forms.stats(fmt, {"1.2": 6, "2.2": 8})
    delete_row(path, "stats", index)
    result = kept.ingest(path)
    assert result.outcome == "rejected"
    (missing,) = result.problems
    assert (missing.code, missing.location) == (Code.ITEM_MISSING, whole(fmt, "stats"))
    assert missing.value == campaign.attachments.stats.item(key).title
    lines = kept.stats(result.sha256)
    assert set(lines) == set(GOOD_QUANTITIES) - {key}
    assert (lines["1.2"].quantity, lines["2.2"].quantity) == (6, 8)


@pytest.mark.parametrize("fmt", FORMATS)
def test_items_reordered_are_read_by_label_with_a_warning(forms, kept, fmt):
    path = forms.stats(fmt, {"1.2": 5, "1.3": 7}, remarks={"1.2": "咨询台", "1.3": "发布会"})
    swap_stats_rows(path, "1.2", "1.3")
    result = kept.ingest(path)
    assert result.outcome == "accepted"
    # 1.2 now sits in 1.3's row: it is the one out of order
    assert located(result.problems) == {(Code.ITEM_REORDERED, stats_cell(fmt, "1.3", "label"))}
    lines = kept.stats(result.sha256)
    assert (lines["1.2"].quantity, lines["1.2"].remark) == (5, "咨询台")
    assert (lines["1.3"].quantity, lines["1.3"].remark) == (7, "发布会")


@pytest.mark.parametrize("fmt", FORMATS)
def test_unit_of_measure_changed_warns(forms, check, fmt):
    result = check(forms.stats(fmt, units={"1.4": "次"}))
    assert result.outcome == "accepted"
    assert located(result.problems) == {(Code.UNIT_LABEL_CHANGED, stats_cell(fmt, "1.4", "unit"))}


# --- 附件1: dates, names, phones ---------------------------------------------------------------

DUTY_DATES_XLSX = [dt.datetime(2020, 3, 14), 3.14]  # a date cell; a number cell that is not a date serial


@pytest.mark.parametrize(
    ("fmt", "typed"), [(fmt, "3月14日") for fmt in FORMATS] + [("xlsx", d) for d in DUTY_DATES_XLSX]
)
def test_duty_date_read_as_14_march(forms, kept, fmt, typed):
    result = kept.ingest(forms.roster(fmt, [dict(LEADER, date=typed), dict(CADRE, date=typed), CADRE_2]))
    assert result.problems == []
    assert [e.date for e in kept.roster(result.sha256)] == [DUTY_DATE] * 3


@pytest.mark.parametrize("fmt", FORMATS)
def test_date_left_empty_is_the_duty_date(forms, kept, fmt):
    result = kept.ingest(forms.roster(fmt, [dict(LEADER, date=None), CADRE, CADRE_2]))
    assert result.problems == []
    assert {e.date for e in kept.roster(result.sha256)} == {DUTY_DATE}


@pytest.mark.parametrize(
    ("fmt", "typed", "read"),
    [(fmt, "13日", dt.date(2020, 3, 13)) for fmt in FORMATS] + [("xlsx", dt.datetime(2020, 3, 13), dt.date(2020, 3, 13))],
)
def test_another_date_is_kept_with_a_warning(forms, kept, fmt, typed, read):
    result = kept.ingest(forms.roster(fmt, [LEADER, dict(CADRE, date=typed), CADRE_2]))
    assert result.outcome == "accepted"
    assert located(result.problems) == {(Code.DATE_OTHER, roster_cell(fmt, 1, "date"))}
    assert kept.roster(result.sha256)[1].date == read


@pytest.mark.parametrize("fmt", FORMATS)
def test_unreadable_date_rejects(forms, check, fmt):
    result = check(forms.roster(fmt, [dict(LEADER, date="3月32日"), CADRE, CADRE_2]))
    assert result.outcome == "rejected"
    assert located(result.problems) == {(Code.DATE_UNREADABLE, roster_cell(fmt, 0, "date"))}


@pytest.mark.parametrize("fmt", FORMATS)
def test_name_padding_is_removed(forms, kept, fmt):
    result = kept.ingest(forms.roster(fmt, [dict(LEADER, name=" 张\u3000涛 "), CADRE, CADRE_2]))
    assert result.problems == []
    assert kept.roster(result.sha256)[0].name == "张涛"


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_person_padded_differently_is_one_person_twice(forms, check, fmt):
    result = check(forms.roster(fmt, [dict(LEADER, name="张  涛"), CADRE, CADRE_2, dict(CADRE, name="张涛")]))
    assert result.outcome == "accepted"
    assert located(result.problems) == {(Code.PERSON_REPEATED, roster_cell(fmt, 3, "name"))}


PHONES = [  # field typed in, what was typed → (landline, mobile) kept, the codes at that cell
    ("mobile", "13612345678", ("", "13612345678"), []),
    ("landline", "（022）2345-6789", ("022-23456789", ""), [Code.PHONE_NORMALISED]),
    ("landline", "13612345678", ("", "13612345678"), [Code.PHONE_IN_WRONG_COLUMN]),
    ("mobile", "23456789", ("23456789", ""), [Code.PHONE_IN_WRONG_COLUMN]),
]
PHONES_XLSX = [("mobile", 13612345678, ("", "13612345678"), [])]  # a cell that became numeric


@pytest.mark.parametrize(
    ("fmt", "field", "typed", "kept_as", "found"),
    [(fmt, *case) for fmt in FORMATS for case in PHONES] + [("xlsx", *case) for case in PHONES_XLSX],
)
def test_phone_forms_are_read(forms, kept, fmt, field, typed, kept_as, found):
    person = {"name": "孙强", "position": "科员", field: typed}
    result = kept.ingest(forms.roster(fmt, [LEADER, CADRE, person]))
    assert result.outcome == "accepted"
    assert at(result, roster_cell(fmt, 2, field)) == found
    entry = kept.roster(result.sha256)[2]
    assert (entry.landline, entry.mobile) == kept_as


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("field", "typed", "code"),
    [("mobile", "1361234567", Code.MOBILE_INVALID), ("landline", "010-23456789", Code.LANDLINE_INVALID)],
)
def test_invalid_phone_rejects_naming_the_cell(forms, check, fmt, field, typed, code):
    result = check(forms.roster(fmt, [LEADER, CADRE, {"name": "孙强", "position": "科员", field: typed}]))
    assert result.outcome == "rejected"
    assert located(result.problems) == {(code, roster_cell(fmt, 2, field))}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("field", ["landline", "mobile"])
def test_same_as_above_copies_the_row_above(forms, kept, fmt, field):
    above = {"name": "王建国", "position": "所长", "landline": "23456789", "mobile": "13612345678"}
    below = {"name": "李明", "position": "科员", field: "同 上"}
    result = kept.ingest(forms.roster(fmt, [above, below, CADRE_2]))
    assert result.outcome == "accepted"
    assert located(result.problems) == {(Code.SAME_AS_ABOVE, roster_cell(fmt, 1, field))}
    assert getattr(kept.roster(result.sha256)[1], field) == above[field]


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_as_above_in_the_first_row_rejects(forms, check, fmt):
    result = check(forms.roster(fmt, [dict(LEADER, landline="同上"), CADRE, CADRE_2]))
    assert result.outcome == "rejected"
    assert located(result.problems) == {(Code.SAME_AS_ABOVE_FIRST, roster_cell(fmt, 0, "landline"))}


@pytest.mark.parametrize("fmt", FORMATS)
def test_person_without_any_phone_rejects(forms, check, fmt):
    result = check(forms.roster(fmt, [LEADER, CADRE, {"name": "孙强", "position": "科员"}]))
    assert result.outcome == "rejected"
    assert located(result.problems) == {(Code.PHONE_MISSING, roster_cell(fmt, 2, "mobile"))}


@pytest.mark.parametrize("fmt", FORMATS)
def test_phone_without_a_name_rejects(forms, check, fmt):
    result = check(forms.roster(fmt, [LEADER, CADRE, CADRE_2, {"position": "科员", "mobile": "13712345678"}]))
    assert result.outcome == "rejected"
    assert located(result.problems) == {(Code.NAME_MISSING, roster_cell(fmt, 3, "name"))}


@pytest.mark.parametrize("fmt", FORMATS)
def test_roster_with_nobody_on_it_rejects(forms, check, fmt):
    result = check(forms.roster(fmt, []))
    assert result.outcome == "rejected"
    assert located(result.problems) == {(Code.ROSTER_EMPTY, whole(fmt, "roster"))}


@pytest.mark.parametrize("fmt", FORMATS)
def test_rows_inserted_in_the_roster_are_read(forms, kept, fmt):
    path = forms.roster(fmt, GOOD_ROSTER)
    insert_row(path, "roster", 1, {"name": "周平", "position": "副所长", "mobile": "13812345678"})
    delete_row(path, "roster", 6)
    result = kept.ingest(path)
    assert result.problems == []
    assert [e.name for e in kept.roster(result.sha256)] == ["王建国", "周平", "李明", "赵丽"]


# --- 附件1: staffing ----------------------------------------------------------------------------

STAFFING = [  # unit, the 职务 of everyone on duty, short of staff?
    ("劝业场市场监管所", ["所长", "科员", "科员"], False),
    ("劝业场市场监管所", ["副所长", "一级主任科员", "四级主任科员"], False),
    ("南市市场监管所", ["科员", "科员", "科员"], True),
    ("南市市场监管所", ["主任科员", "科员", "科员"], True),  # 主任科员 is a rank, not a leader
    ("南市市场监管所", ["一级主任科员", "副主任科员", "科员"], True),
    ("南市市场监管所", ["所长", "科员"], True),  # a leader but only two people
    ("稽查大队", ["大队长", "队员", "执法人员"], False),
    ("稽查大队", ["教导员", "副大队长", "科员"], False),
    ("稽查大队", ["科员", "科员", "科员", "科员"], True),
    ("办公室", ["科员"], False),  # other units: one cadre on duty is enough
    ("办公室", ["办公室主任"], False),
    ("投诉举报中心", ["主任"], False),
    ("劝业场市场监管所", ["司机", "科员", "科员"], True),  # a title neither list knows is never a leader
    ("劝业场市场监管所", ["联络员", "科员", "科员"], True),
    ("劝业场市场监管所", ["值班", "科员", "科员"], True),
]


@pytest.mark.parametrize(("unit", "titles", "short"), STAFFING)
def test_staffing_rule_tells_leaders_by_title(campaign, unit, titles, short):
    assert bool(campaign.staffing.shortfall(campaign.find_unit(unit), titles)) is short


def on_duty(titles: list[str]) -> list[dict]:
    return [{"name": f"值班员{'甲乙丙丁'[i]}", "position": title, "mobile": f"1391234567{i}"}
            for i, title in enumerate(titles)]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    ("unit", "titles", "short"),
    [("劝业场市场监管所", ["所长", "科员", "科员"], False), ("南市市场监管所", ["科员", "科员", "科员"], True)],
)
def test_staffing_rule_is_applied_to_the_sending_unit(forms, check, fmt, unit, titles, short):
    result = check(forms.roster(fmt, on_duty(titles), unit=unit))
    assert result.outcome == "accepted"
    expected = {(Code.STAFFING_SHORT, whole(fmt, "roster"))} if short else set()
    assert located(result.problems) == expected


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_title_warns_and_is_not_counted_as_leader(forms, check, fmt):
    result = check(forms.roster(fmt, [dict(LEADER, position="司机"), CADRE, CADRE_2]))
    assert result.outcome == "accepted"
    assert located(result.problems) == {
        (Code.POSITION_UNKNOWN, roster_cell(fmt, 0, "position")),
        (Code.STAFFING_SHORT, whole(fmt, "roster")),  # never guessed to be the leader
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_missing_title_warns(forms, check, fmt):
    result = check(forms.roster(fmt, [LEADER, dict(CADRE, position=None), CADRE_2]))
    assert (Code.POSITION_MISSING, roster_cell(fmt, 1, "position")) in located(result.problems)


# --- both: footer and who sent it --------------------------------------------------------------


def footer_row(campaign, attachment: str) -> int:
    spec = campaign.spec(attachment)
    return (StatsLayout(spec) if attachment == "stats" else RosterLayout(spec)).footer_row


def in_footer(location: Location, campaign, fmt: str, attachment: str) -> bool:
    """Is this a cell of the 填报人 / 联系电话 row (xlsx), or that paragraph (docx)?"""
    if fmt == "docx":
        return location == Location.paragraph(4)
    return (location.kind, location.name, location.row) == ("cell", SHEET_NAMES[attachment], footer_row(campaign, attachment))


def make(forms, fmt, attachment, **kwargs):
    return forms.stats(fmt, **kwargs) if attachment == "stats" else forms.roster(fmt, **kwargs)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("attachment", ["stats", "roster"])
@pytest.mark.parametrize(
    ("filler", "phone", "expected"),
    [
        ("", "13682055679", {Code.FILLER_MISSING}),  # the phone after it is not taken for the name
        ("张涛", "", {Code.FILLER_PHONE_MISSING}),
        ("张涛", "区消协", {Code.FILLER_PHONE_INVALID}),
    ],
)
def test_filler_and_phone_are_asked_for(forms, check, campaign, fmt, attachment, filler, phone, expected):
    result = check(make(forms, fmt, attachment, filler=filler, phone=phone))
    assert result.outcome == "accepted"  # a warning: the figures still count
    assert set(codes(result.problems)) == expected
    assert all(in_footer(p.location, campaign, fmt, attachment) for p in result.problems), result.problems


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("attachment", ["stats", "roster"])
@pytest.mark.parametrize("phone", ["022-23456789", "136 8205 5679"])
def test_filler_phone_may_be_any_phone(forms, kept, fmt, attachment, phone):
    result = kept.ingest(make(forms, fmt, attachment, filler="张  涛", phone=phone))
    assert Code.FILLER_PHONE_INVALID not in codes(result.problems)
    stored = kept.by_sha(result.sha256)
    assert stored.filler == "张涛"
    assert stored.filler_phone in ("022-23456789", "13682055679")


def typed_over(forms, fmt, attachment, typed, sent_to="办公室"):
    """The form generated for ``sent_to`` with ``typed`` written in 填报部门."""
    if attachment == "stats":
        return forms.stats(fmt, unit=sent_to, typed_unit=typed)
    return forms.roster(fmt, [CADRE], unit=sent_to, typed_unit=typed)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("attachment", ["stats", "roster"])
def test_unknown_unit_typed_in_the_form_rejects(forms, check, fmt, attachment):
    result = check(typed_over(forms, fmt, attachment, "宣传科"))
    assert result.outcome == "rejected"
    assert (Code.UNIT_UNKNOWN, unit_cell(fmt, attachment)) in located(result.problems)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("attachment", ["stats", "roster"])
def test_form_sent_to_one_unit_but_filled_by_another_rejects(forms, check, fmt, attachment):
    result = check(typed_over(forms, fmt, attachment, "广告科", sent_to="办公室"))
    assert result.outcome == "rejected"
    assert result.unit == "办公室"  # the identity says whose form it is; the mismatch is said
    mismatch = [p for p in result.problems if p.code == Code.UNIT_MISMATCH]
    assert [(p.severity, p.location, p.value) for p in mismatch] == [("error", unit_cell(fmt, attachment), "广告科")]


UNIT_NAMES = [  # what people type in 填报部门 → the unit it names
    ("市场网监科", "市场和网络交易监管科"), ("市场和网络交易监管科 ", "市场和网络交易监管科"),
    (" 市场  网监科 ", "市场和网络交易监管科"), ("市场网监科\u3000", "市场和网络交易监管科"),
    ("\u3000药化科\u3000", "药化监管科"), ("和平区广告科", "广告监管科"), ("劝 业 场 所", "劝业场市场监管所"),
    ("稽查大队", "稽查大队"),
]


@pytest.mark.parametrize(("typed", "unit"), UNIT_NAMES)
def test_typed_unit_names_are_found_by_alias_and_despite_padding(campaign, typed, unit):
    assert campaign.find_unit(typed).name == unit


@pytest.mark.parametrize("fmt", FORMATS)
def test_alias_and_padding_in_the_unit_field_agree_with_the_identity(forms, check, fmt):
    result = check(typed_over(forms, fmt, "stats", " 市场  网监科", sent_to="市场和网络交易监管科"))
    assert result.problems == []
    assert result.unit == "市场和网络交易监管科"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("attachment", "typed", "unit"), [("stats", "和平区广告科", "广告监管科"), ("roster", "劝 业 场 所", "劝业场市场监管所")])
def test_without_identity_the_unit_field_identifies_the_return(forms, kept, fmt, attachment, typed, unit):
    path = typed_over(forms, fmt, attachment, typed, sent_to="办公室")
    strip_identity(path)
    result = kept.ingest(path)
    assert (result.outcome, result.unit, result.attachment) == ("accepted", unit, attachment)
    assert Code.UNIT_MISMATCH not in codes(result.problems)
    assert kept.by_sha(result.sha256).unit == unit


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("typed", "code"), [("", Code.UNIT_MISSING), ("宣传科", Code.UNIT_UNKNOWN)])
def test_without_identity_an_unknown_or_blank_unit_rejects(forms, check, fmt, typed, code):
    path = typed_over(forms, fmt, "stats", typed)
    strip_identity(path)
    result = check(path)
    assert (result.outcome, result.unit, result.attachment) == ("rejected", None, "stats")
    assert code in codes(result.problems)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("attachment", ["stats", "roster"])
def test_another_campaigns_form_rejects(forms, check, fmt, attachment):
    path = make(forms, fmt, attachment)
    set_identity(path, campaign="tianjin-2019-315")
    result = check(path)
    assert result.outcome == "rejected"
    (found,) = [p for p in result.problems if p.code == Code.WRONG_CAMPAIGN]
    assert (found.severity, found.location, found.value) == ("error", whole(fmt, attachment), "tianjin-2019-315")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("version", "severity", "code"), [(99, "error", Code.SCHEMA_NEWER), (0, "warning", Code.SCHEMA_OLDER)])
def test_form_schema_version_is_checked(forms, check, fmt, version, severity, code):
    path = forms.stats(fmt)
    set_identity(path, schema_version=version)
    result = check(path)
    assert [(p.severity, p.code) for p in result.problems] == [(severity, code)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_identity_naming_the_other_attachment_rejects(forms, check, fmt):
    path = forms.stats(fmt)
    set_identity(path, attachment="roster")
    result = check(path)
    assert result.outcome == "rejected"
    assert result.attachment == "stats"  # what the file holds, said plainly
    assert Code.ATTACHMENT_MISMATCH in codes(result.problems)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_blank_other_row_is_normal_but_an_empty_counted_item_is_not(forms, check, fmt):
    result = check(forms.stats(fmt, {"1.10": None, "3": None, "1.3": None}, remarks={"1.10": "", "3": ""}))
    assert result.outcome == "accepted"
    empty = {p.location for p in result.problems if p.code == Code.QUANTITY_EMPTY}
    assert empty == {stats_cell(fmt, "1.3")}


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_other_row_with_a_remark_but_no_quantity_is_an_empty_quantity(forms, check, fmt):
    result = check(forms.stats(fmt, {"1.10": None}, remarks={"1.10": "社区宣传"}))
    assert (Code.QUANTITY_EMPTY, stats_cell(fmt, "1.10")) in located(result.problems)
