"""Every validation rule of 附件1 and 附件2, end to end: a generated form filled the way people
fill it, read back through ``ingest_file``, judged by problem code and cell — never by message.

Value parsing in depth is test_values.py's job; here each rule is shown to reach a real file's
cell in both formats, and what was read is what the store keeps.
"""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import CADRE, CADRE_2, FORMATS, GOOD_QUANTITIES, GOOD_ROSTER, LEADER
from fill import (
    codes,
    delete_row,
    insert_row,
    located,
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

DUTY_DATE = dt.date(2020, 3, 14)
ITEMS = ("1.1", "1.7", "2.6")  # a 场次 row, the 册（份） row, a participants row


def whole(fmt: str, attachment: str) -> Location:
    return Location.sheet(SHEET_NAMES[attachment] if fmt == "xlsx" else "正文")


def at(result, location: Location) -> list[str]:
    """The codes of the problems found at one cell."""
    return [p.code for p in result.problems if p.location == location]


def test_clean_returns_have_no_problems(forms, check):
    for fmt in FORMATS:
        for path in (forms.stats(fmt), forms.roster(fmt)):
            result = check(path)
            assert result.outcome == "accepted", path
            assert result.problems == []


# --- 附件2: quantities ---------------------------------------------------------------------

READ_SAFELY = [  # typed → read, the warning that says so (None: read silently)
    ("12", 12, None),
    ("0", 0, None),
    ("３", 3, "quantity-normalised"),
    ("１２０", 120, "quantity-normalised"),
    ("1,200", 1200, "quantity-normalised"),
    ("1，200", 1200, "quantity-normalised"),
    ("3场", 3, "quantity-with-unit"),
    ("３场", 3, "quantity-with-unit"),
    ("5 次", 5, "quantity-with-unit"),
]
READ_SAFELY_XLSX = [  # what only a spreadsheet cell can hold
    (" 5 ", 5, "quantity-normalised"),
    (7, 7, None),
    (7.0, 7, None),
]


@pytest.mark.parametrize("key", ITEMS)
@pytest.mark.parametrize(
    ("fmt", "typed", "read", "code"),
    [(fmt, *case) for fmt in FORMATS for case in READ_SAFELY] + [("xlsx", *case) for case in READ_SAFELY_XLSX],
)
def test_quantity_read_safely_and_said(forms, kept, fmt, key, typed, read, code):
    result = kept.ingest(forms.stats(fmt, {key: typed}))
    assert result.outcome == "accepted"
    assert at(result, stats_cell(fmt, key)) == ([code] if code else [])
    assert kept.stats(result.sha256)[key].quantity == read


REJECTED = [  # typed → the error naming the cell
    ("-3", "quantity-negative"),
    ("－3", "quantity-negative"),
    ("2.5", "quantity-fraction"),
    ("0.5场", "quantity-fraction"),
    ("五", "quantity-not-number"),
    ("若干", "quantity-not-number"),
    ("约10", "quantity-not-number"),
    ("10余", "quantity-not-number"),
    ("三十", "quantity-not-number"),
]
REJECTED_XLSX = [(-3, "quantity-negative"), (2.5, "quantity-fraction")]


@pytest.mark.parametrize("key", ITEMS)
@pytest.mark.parametrize(
    ("fmt", "typed", "code"),
    [(fmt, *case) for fmt in FORMATS for case in REJECTED] + [("xlsx", *case) for case in REJECTED_XLSX],
)
def test_quantity_that_needs_a_guess_rejects_the_return(forms, check, fmt, key, typed, code):
    result = check(forms.stats(fmt, {key: typed}))
    assert result.outcome == "rejected"
    (found,) = [p for p in result.problems if p.location == stats_cell(fmt, key)]
    assert (found.severity, found.code, found.value) == ("error", code, str(typed))


@pytest.mark.parametrize(
    ("formula", "cached", "severity", "code", "read"),
    [
        ("2+3", 5, "warning", "quantity-formula", 5),
        ("SUM(1,2)", 3, "warning", "quantity-formula", 3),
        ("0.1*30", "3.0000000000000004", "warning", "quantity-formula", 3),
        ("2+3", None, "error", "quantity-formula-uncached", None),
        ("1/3", "0.33333333333333331", "error", "quantity-fraction", None),
        ("2-5", -3, "error", "quantity-negative", None),
    ],
)
def test_formula_is_read_from_its_cached_result(forms, kept, formula, cached, severity, code, read):
    path = forms.stats("xlsx")
    cell = stats_cell("xlsx", "1.2")
    write_formula(path, cell.ref, formula, cached)
    result = kept.ingest(path)
    (found,) = [p for p in result.problems if p.location == cell]
    assert (found.severity, found.code) == (severity, code)
    if code.startswith("quantity-formula"):
        assert found.value == f"={formula}"
    assert result.outcome == ("accepted" if severity == "warning" else "rejected")
    assert kept.stats(result.sha256)["1.2"].quantity == read


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_quantity_is_not_reported_and_not_zero(forms, kept, fmt):
    result = kept.ingest(forms.stats(fmt, {"1.3": None, "1.4": "0", "2.2": 0}))
    assert result.outcome == "accepted"
    assert located(result.problems) == {("quantity-empty", stats_cell(fmt, "1.3"))}
    lines = kept.stats(result.sha256)
    assert lines["1.3"].quantity is None
    assert lines["1.4"].quantity == 0
    assert lines["2.2"].quantity == 0


@pytest.mark.parametrize("fmt", FORMATS)
def test_stats_left_entirely_blank_is_rejected(forms, check, fmt):
    result = check(forms.stats(fmt, clean=False))
    assert result.outcome == "rejected"
    assert ("stats-empty", whole(fmt, "stats")) in located(result.problems)
    assert [p.severity for p in result.problems if p.code == "stats-empty"] == ["error"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("key", ["1.10", "3"])
def test_other_row_with_a_quantity_needs_a_remark(forms, kept, fmt, key):
    result = kept.ingest(forms.stats(fmt, {key: 2}, remarks={key: None}))
    assert result.outcome == "accepted"
    assert located(result.problems) == {("other-without-remark", stats_cell(fmt, key, "remark"))}


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
    assert "other-without-remark" not in codes(result.problems)


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
    assert ("participants-without-activity", stats_cell(fmt, participants)) in located(result.problems)

    one_held = check(forms.stats(fmt, {participants: 200} | dict.fromkeys(activities, none_held) | {activities[-1]: 1}))
    assert "participants-without-activity" not in codes(one_held.problems)


# --- 附件2: the item rows as issued -----------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("key", "label"), [("1.1", "组织普法宣传活动"), ("2.4", "举办业务培训会"), ("1.10", "其它")])
def test_item_label_changed_rejects_naming_the_row(forms, check, fmt, key, label):
    result = check(forms.stats(fmt, labels={key: label}))
    assert result.outcome == "rejected"
    assert ("item-label-changed", stats_cell(fmt, key, "label")) in located(result.problems)


@pytest.mark.parametrize("fmt", FORMATS)
def test_item_added_with_a_quantity_rejects_naming_the_row(forms, kept, fmt):
    path = forms.stats(fmt, {"1.5": 8, "2.1": 9})
    insert_row(path, "stats", 4, {"label": "举办发布会", "unit": "场次", "quantity": 2})
    result = kept.ingest(path)
    assert result.outcome == "rejected"
    new_row = stats_cell(fmt, "1.5", "label")  # the inserted row sits where 1.5 was
    assert located(result.problems) == {("item-added", new_row)}
    lines = kept.stats(result.sha256)  # everything else still read by its label
    assert (lines["1.5"].quantity, lines["2.1"].quantity) == (8, 9)
    assert set(lines) == set(GOOD_QUANTITIES)


@pytest.mark.parametrize("fmt", FORMATS)
def test_item_added_but_left_empty_is_ignored_with_a_warning(forms, check, fmt):
    path = forms.stats(fmt)
    insert_row(path, "stats", 12, {"label": "备用"})
    result = check(path)
    assert result.outcome == "accepted"
    assert located(result.problems) == {("item-added-empty", stats_cell(fmt, "2.3", "label"))}


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
    assert (missing.code, missing.location) == ("item-missing", whole(fmt, "stats"))
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
    assert located(result.problems) == {("item-reordered", stats_cell(fmt, "1.3", "label"))}
    lines = kept.stats(result.sha256)
    assert (lines["1.2"].quantity, lines["1.2"].remark) == (5, "咨询台")
    assert (lines["1.3"].quantity, lines["1.3"].remark) == (7, "发布会")


@pytest.mark.parametrize("fmt", FORMATS)
def test_unit_of_measure_changed_warns(forms, check, fmt):
    result = check(forms.stats(fmt, units={"1.4": "次"}))
    assert result.outcome == "accepted"
    assert located(result.problems) == {("unit-label-changed", stats_cell(fmt, "1.4", "unit"))}


# --- 附件1: dates, names, phones ---------------------------------------------------------------

DUTY_DATES = ["14日", "14号", "3月14日", "3.14", "3/14", "2020-03-14", "2020年3月14日", "3月14日晚"]
DUTY_DATES_XLSX = [dt.datetime(2020, 3, 14), dt.date(2020, 3, 14), 3.14, 14]


@pytest.mark.parametrize(
    ("fmt", "typed"), [(fmt, d) for fmt in FORMATS for d in DUTY_DATES] + [("xlsx", d) for d in DUTY_DATES_XLSX]
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
    [(fmt, typed, read) for fmt in FORMATS for typed, read in
     [("13日", dt.date(2020, 3, 13)), ("3月15日", dt.date(2020, 3, 15)), ("2020-03-13", dt.date(2020, 3, 13))]]
    + [("xlsx", dt.datetime(2020, 3, 13), dt.date(2020, 3, 13))],
)
def test_another_date_is_kept_with_a_warning(forms, kept, fmt, typed, read):
    result = kept.ingest(forms.roster(fmt, [LEADER, dict(CADRE, date=typed), CADRE_2]))
    assert result.outcome == "accepted"
    assert located(result.problems) == {("date-other", roster_cell(fmt, 1, "date"))}
    assert kept.roster(result.sha256)[1].date == read


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("typed", ["明天", "3月32日", "三月十四日", "3月14日（周五）"])
def test_unreadable_date_rejects(forms, check, fmt, typed):
    result = check(forms.roster(fmt, [dict(LEADER, date=typed), CADRE, CADRE_2]))
    assert result.outcome == "rejected"
    assert located(result.problems) == {("date-unreadable", roster_cell(fmt, 0, "date"))}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("typed", ["张  涛", "张\u3000涛", " 张涛 ", "张 涛"])
def test_name_padding_is_removed(forms, kept, fmt, typed):
    result = kept.ingest(forms.roster(fmt, [dict(LEADER, name=typed), CADRE, CADRE_2]))
    assert result.problems == []
    assert kept.roster(result.sha256)[0].name == "张涛"


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_person_padded_differently_is_one_person_twice(forms, check, fmt):
    result = check(forms.roster(fmt, [dict(LEADER, name="张  涛"), CADRE, CADRE_2, dict(CADRE, name="张涛")]))
    assert result.outcome == "accepted"
    assert located(result.problems) == {("person-repeated", roster_cell(fmt, 3, "name"))}


PHONES = [  # field typed in, what was typed → (landline, mobile) kept, the codes at that cell
    ("mobile", "13612345678", ("", "13612345678"), []),
    ("mobile", "136 1234 5678", ("", "13612345678"), ["phone-normalised"]),
    ("mobile", "136-1234-5678", ("", "13612345678"), ["phone-normalised"]),
    ("mobile", "１３６１２３４５６７８", ("", "13612345678"), ["phone-normalised"]),
    ("mobile", "+86 13612345678", ("", "13612345678"), ["phone-normalised"]),
    ("landline", "23456789", ("23456789", ""), []),
    ("landline", "022-23456789", ("022-23456789", ""), []),
    ("landline", "02223456789", ("022-23456789", ""), []),
    ("landline", "2345 6789", ("23456789", ""), ["phone-normalised"]),
    ("landline", "（022）2345-6789", ("022-23456789", ""), ["phone-normalised"]),
    ("landline", "２３４５６７８９", ("23456789", ""), ["phone-normalised"]),
    ("landline", "13612345678", ("", "13612345678"), ["phone-in-wrong-column"]),
    ("mobile", "23456789", ("23456789", ""), ["phone-in-wrong-column"]),
]
PHONES_XLSX = [  # numbers typed into a cell that became numeric
    ("mobile", 13612345678, ("", "13612345678"), []),
    ("landline", 23456789, ("23456789", ""), []),
]


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
    [("mobile", "1361234567", "mobile-invalid"), ("mobile", "12345678901", "mobile-invalid"),
     ("mobile", "136123456789", "mobile-invalid"), ("mobile", "手机", "mobile-invalid"),
     ("landline", "1234567", "landline-invalid"), ("landline", "12345678", "landline-invalid"),
     ("landline", "010-23456789", "landline-invalid")],
)
def test_invalid_phone_rejects_naming_the_cell(forms, check, fmt, field, typed, code):
    result = check(forms.roster(fmt, [LEADER, CADRE, {"name": "孙强", "position": "科员", field: typed}]))
    assert result.outcome == "rejected"
    assert located(result.problems) == {(code, roster_cell(fmt, 2, field))}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("field", ["landline", "mobile"])
@pytest.mark.parametrize("typed", ["同上", "同 上", "〃"])
def test_same_as_above_copies_the_row_above(forms, kept, fmt, field, typed):
    above = {"name": "王建国", "position": "所长", "landline": "23456789", "mobile": "13612345678"}
    below = {"name": "李明", "position": "科员", field: typed}
    result = kept.ingest(forms.roster(fmt, [above, below, CADRE_2]))
    assert result.outcome == "accepted"
    assert located(result.problems) == {("same-as-above", roster_cell(fmt, 1, field))}
    assert getattr(kept.roster(result.sha256)[1], field) == above[field]


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_as_above_in_the_first_row_rejects(forms, check, fmt):
    result = check(forms.roster(fmt, [dict(LEADER, landline="同上"), CADRE, CADRE_2]))
    assert result.outcome == "rejected"
    assert located(result.problems) == {("same-as-above-first", roster_cell(fmt, 0, "landline"))}


@pytest.mark.parametrize("fmt", FORMATS)
def test_person_without_any_phone_rejects(forms, check, fmt):
    result = check(forms.roster(fmt, [LEADER, CADRE, {"name": "孙强", "position": "科员"}]))
    assert result.outcome == "rejected"
    assert located(result.problems) == {("phone-missing", roster_cell(fmt, 2, "mobile"))}


@pytest.mark.parametrize("fmt", FORMATS)
def test_phone_without_a_name_rejects(forms, check, fmt):
    result = check(forms.roster(fmt, [LEADER, CADRE, CADRE_2, {"position": "科员", "mobile": "13712345678"}]))
    assert result.outcome == "rejected"
    assert located(result.problems) == {("name-missing", roster_cell(fmt, 3, "name"))}


@pytest.mark.parametrize("fmt", FORMATS)
def test_roster_with_nobody_on_it_rejects(forms, check, fmt):
    result = check(forms.roster(fmt, []))
    assert result.outcome == "rejected"
    assert located(result.problems) == {("roster-empty", whole(fmt, "roster"))}


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
]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("unit", "titles", "short"), STAFFING)
def test_staffing_rule_tells_leaders_by_title(forms, check, fmt, unit, titles, short):
    people = [{"name": f"值班员{'甲乙丙丁'[i]}", "position": title, "mobile": f"1391234567{i}"}
              for i, title in enumerate(titles)]
    result = check(forms.roster(fmt, people, unit=unit))
    assert result.outcome == "accepted"
    expected = {("staffing-short", whole(fmt, "roster"))} if short else set()
    assert located(result.problems) == expected


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("title", ["司机", "联络员", "值班"])
def test_unknown_title_warns_and_is_not_counted_as_leader(forms, check, fmt, title):
    result = check(forms.roster(fmt, [dict(LEADER, position=title), CADRE, CADRE_2]))
    assert result.outcome == "accepted"
    assert located(result.problems) == {
        ("position-unknown", roster_cell(fmt, 0, "position")),
        ("staffing-short", whole(fmt, "roster")),  # never guessed to be the leader
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_missing_title_warns(forms, check, fmt):
    result = check(forms.roster(fmt, [LEADER, dict(CADRE, position=None), CADRE_2]))
    assert "position-missing" in codes(result.problems)
    assert ("position-missing", roster_cell(fmt, 1, "position")) in located(result.problems)


# --- both: footer and who sent it --------------------------------------------------------------


def footer_row(campaign, attachment: str) -> int:
    spec = campaign.spec(attachment)
    return (StatsLayout(spec) if attachment == "stats" else RosterLayout(spec)).footer_row


def footer_location(campaign, fmt: str, attachment: str) -> Location:
    """The row of 填报人 / 联系电话 (xlsx: any column of it) or its paragraph (docx)."""
    if fmt == "xlsx":
        return Location.cell(SHEET_NAMES[attachment], footer_row(campaign, attachment), 0)
    return Location.paragraph(4)


def in_footer(location: Location, where: Location) -> bool:
    if where.kind == "cell":
        return (location.kind, location.name, location.row) == (where.kind, where.name, where.row)
    return location == where


def make(forms, fmt, attachment, **kwargs):
    return forms.stats(fmt, **kwargs) if attachment == "stats" else forms.roster(fmt, **kwargs)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("attachment", ["stats", "roster"])
@pytest.mark.parametrize(
    ("filler", "phone", "expected"),
    [
        ("", "13682055679", {"filler-missing"}),
        ("张涛", "", {"filler-phone-missing"}),
        ("", "", {"filler-missing", "filler-phone-missing"}),
        ("张涛", "12345", {"filler-phone-invalid"}),
        ("张涛", "区消协", {"filler-phone-invalid"}),
    ],
)
def test_filler_and_phone_are_asked_for(forms, check, campaign, fmt, attachment, filler, phone, expected):
    result = check(make(forms, fmt, attachment, filler=filler, phone=phone))
    assert result.outcome == "accepted"  # a warning: the figures still count
    assert set(codes(result.problems)) == expected
    where = footer_location(campaign, fmt, attachment)
    assert all(in_footer(p.location, where) for p in result.problems), result.problems


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("attachment", ["stats", "roster"])
@pytest.mark.parametrize("phone", ["022-23456789", "136 8205 5679", "１３６８２０５５６７９"])
def test_filler_phone_may_be_any_phone(forms, kept, fmt, attachment, phone):
    result = kept.ingest(make(forms, fmt, attachment, filler="张  涛", phone=phone))
    assert "filler-phone-invalid" not in codes(result.problems)
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
    assert ("unit-unknown", unit_cell(fmt, attachment)) in located(result.problems)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("attachment", ["stats", "roster"])
@pytest.mark.parametrize("typed", ["广告科", "劝业场市场监管所"])
def test_form_sent_to_one_unit_but_filled_by_another_rejects(forms, check, fmt, attachment, typed):
    result = check(typed_over(forms, fmt, attachment, typed, sent_to="办公室"))
    assert result.outcome == "rejected"
    assert result.unit == "办公室"  # the identity says whose form it is; the mismatch is said
    mismatch = [p for p in result.problems if p.code == "unit-mismatch"]
    assert [(p.severity, p.location, p.value) for p in mismatch] == [("error", unit_cell(fmt, attachment), typed)]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("typed", ["市场网监科", "市场和网络交易监管科 ", " 市场  网监科", "市场网监科\u3000"])
def test_alias_and_padding_in_the_unit_field_agree_with_the_identity(forms, check, fmt, typed):
    result = check(typed_over(forms, fmt, "stats", typed, sent_to="市场和网络交易监管科"))
    assert result.problems == []
    assert result.unit == "市场和网络交易监管科"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("attachment", ["stats", "roster"])
@pytest.mark.parametrize(
    ("typed", "unit"),
    [("市场网监科", "市场和网络交易监管科"), (" 市场  网监科 ", "市场和网络交易监管科"),
     ("\u3000药化科\u3000", "药化监管科"), ("和平区广告科", "广告监管科"), ("劝 业 场 所", "劝业场市场监管所"),
     ("稽查大队", "稽查大队")],
)
def test_without_identity_the_unit_field_identifies_the_return(forms, kept, fmt, attachment, typed, unit):
    path = typed_over(forms, fmt, attachment, typed, sent_to="办公室")
    strip_identity(path)
    result = kept.ingest(path)
    assert (result.outcome, result.unit, result.attachment) == ("accepted", unit, attachment)
    assert "unit-mismatch" not in codes(result.problems)
    assert kept.by_sha(result.sha256).unit == unit


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("typed", "code"), [("", "unit-missing"), ("宣传科", "unit-unknown")])
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
    (found,) = [p for p in result.problems if p.code == "wrong-campaign"]
    assert (found.severity, found.location, found.value) == ("error", whole(fmt, attachment), "tianjin-2019-315")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(("version", "severity", "code"), [(99, "error", "schema-newer"), (0, "warning", "schema-older")])
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
    assert "attachment-mismatch" in codes(result.problems)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_blank_other_row_is_normal_but_an_empty_counted_item_is_not(forms, check, fmt):
    result = check(forms.stats(fmt, {"1.10": None, "3": None, "1.3": None}, remarks={"1.10": "", "3": ""}))
    assert result.outcome == "accepted"
    empty = {p.location for p in result.problems if p.code == "quantity-empty"}
    assert empty == {stats_cell(fmt, "1.3")}


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_other_row_with_a_remark_but_no_quantity_is_not_reported(forms, check, fmt):
    result = check(forms.stats(fmt, {"1.10": None}, remarks={"1.10": "社区宣传"}))
    assert ("quantity-empty", stats_cell(fmt, "1.10")) in located(result.problems)
