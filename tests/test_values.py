"""Reading one typed cell: what a real office worker types, what c315 reads, and what it says."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from campaign315.intake.read.cells import Cell
from campaign315.intake.validate.values import (
    Phone,
    is_same_as_above,
    read_duty_date,
    read_name,
    read_phone,
    read_quantity,
    read_text,
)
from campaign315.spec.location import Location
from campaign315.spec.problems import Code, Problem

WHERE = Location.cell("统计表", 7, 4)
DUTY_DATE = dt.date(2020, 3, 14)
CHINESE = re.compile("[\u4e00-\u9fff]")

EMPTY = Code.QUANTITY_EMPTY
NORMALISED = Code.QUANTITY_NORMALISED
WITH_UNIT = Code.QUANTITY_WITH_UNIT
FORMULA = Code.QUANTITY_FORMULA
UNCACHED = Code.QUANTITY_FORMULA_UNCACHED
NEGATIVE = Code.QUANTITY_NEGATIVE
FRACTION = Code.QUANTITY_FRACTION
NOT_NUMBER = Code.QUANTITY_NOT_NUMBER


def assert_located(found: list[Problem], location: Location) -> None:
    """Every problem names the cell and speaks Chinese to the person who filled the form."""
    for p in found:
        assert isinstance(p.code, Code)
        assert p.severity == p.code.severity
        assert p.location == location
        assert p.message.strip() and CHINESE.search(p.message), p.message
        assert "{" not in p.message, p.message  # every template field was filled


def codes(found: list[Problem]) -> list[str]:
    return [p.code for p in found]


# --- quantities ----------------------------------------------------------------------------------

QUANTITIES = [
    # numbers as the cell holds them
    (3, 3, []),
    (0, 0, []),
    (1200, 1200, []),
    (3.0, 3, []),
    (0.0, 0, []),
    (2.5, None, [FRACTION]),
    (0.5, None, [FRACTION]),
    (-3, None, [NEGATIVE]),
    (-2.0, None, [NEGATIVE]),
    (-2.5, None, [NEGATIVE]),
    (3.0000000000000004, 3, [NORMALISED]),
    (float("nan"), None, [NOT_NUMBER]),
    (float("inf"), None, [NOT_NUMBER]),
    (True, None, [NOT_NUMBER]),
    (False, None, [NOT_NUMBER]),
    (dt.date(2020, 3, 14), None, [NOT_NUMBER]),
    (dt.datetime(2020, 3, 14, 0, 0), None, [NOT_NUMBER]),
    (dt.time(3, 0), None, [NOT_NUMBER]),
    # empty is not 0
    (None, None, [EMPTY]),
    ("", None, [EMPTY]),
    ("   ", None, [EMPTY]),
    ("\u3000", None, [EMPTY]),
    ("\u200b", None, [EMPTY]),
    # plain digits
    ("3", 3, []),
    ("0", 0, []),
    ("120", 120, []),
    # read, saying what was read
    (" 5 ", 5, [NORMALISED]),
    ("5 ", 5, [NORMALISED]),
    ("\u30005", 5, [NORMALISED]),
    ("３", 3, [NORMALISED]),
    ("１２", 12, [NORMALISED]),
    ("3\u200b", 3, [NORMALISED]),
    ("1,200", 1200, [NORMALISED]),
    ("1，200", 1200, [NORMALISED]),
    ("１，２００", 1200, [NORMALISED]),
    ("12,345,678", 12345678, [NORMALISED]),
    ("3.0", 3, [NORMALISED]),
    ("３．００", 3, [NORMALISED]),
    ("-0", 0, [NORMALISED]),
    # a number with a unit
    ("3场", 3, [WITH_UNIT]),
    ("3 场次", 3, [WITH_UNIT]),
    ("３人次", 3, [WITH_UNIT]),
    ("5次", 5, [WITH_UNIT]),
    ("2条", 2, [WITH_UNIT]),
    ("4份", 4, [WITH_UNIT]),
    ("10册", 10, [WITH_UNIT]),
    ("10册（份）", 10, [WITH_UNIT]),
    ("10 册 (份)", 10, [WITH_UNIT]),
    ("100人", 100, [WITH_UNIT]),
    ("20户", 20, [WITH_UNIT]),
    ("20户次", 20, [WITH_UNIT]),
    ("3.0场", 3, [WITH_UNIT]),
    ("1,200人次", 1200, [WITH_UNIT]),
    (" 3场 ", 3, [WITH_UNIT]),
    # negative and fractions
    ("-3", None, [NEGATIVE]),
    ("－3", None, [NEGATIVE]),
    ("\u22123", None, [NEGATIVE]),
    ("-3场", None, [NEGATIVE]),
    ("-0.5", None, [NEGATIVE]),
    ("2.5", None, [FRACTION]),
    ("0.5场", None, [FRACTION]),
    ("1,200.5", None, [FRACTION]),
    # cannot be read without a guess
    ("1,2", None, [NOT_NUMBER]),
    ("12,00", None, [NOT_NUMBER]),
    ("1,2000", None, [NOT_NUMBER]),
    ("0,500", None, [NOT_NUMBER]),
    ("1 200", None, [NOT_NUMBER]),
    ("五", None, [NOT_NUMBER]),
    ("三场", None, [NOT_NUMBER]),
    ("〇", None, [NOT_NUMBER]),
    ("若干", None, [NOT_NUMBER]),
    ("无", None, [NOT_NUMBER]),
    ("约10", None, [NOT_NUMBER]),
    ("10左右", None, [NOT_NUMBER]),
    ("10+", None, [NOT_NUMBER]),
    ("+10", None, [NOT_NUMBER]),
    ("10余人", None, [NOT_NUMBER]),
    ("100多人", None, [NOT_NUMBER]),
    ("n/a", None, [NOT_NUMBER]),
    ("—", None, [NOT_NUMBER]),
    ("-", None, [NOT_NUMBER]),
    ("/", None, [NOT_NUMBER]),
    ("3-5", None, [NOT_NUMBER]),
    ("3~5", None, [NOT_NUMBER]),
    ("3场、2次", None, [NOT_NUMBER]),
    ("=2+3", None, [NOT_NUMBER]),
    ("5²", None, [NOT_NUMBER]),
    ("①", None, [NOT_NUMBER]),
    ("1e3", None, [NOT_NUMBER]),
    ("3.", None, [NOT_NUMBER]),
    ("3。", None, [NOT_NUMBER]),
    ("10%", None, [NOT_NUMBER]),
    ("共3场", None, [NOT_NUMBER]),
    ("3公里", None, [NOT_NUMBER]),
]


@pytest.mark.parametrize(("typed", "expected", "expected_codes"), QUANTITIES, ids=repr)
def test_quantity_typed(typed, expected, expected_codes):
    quantity, found = read_quantity(Cell(value=typed, location=WHERE), "场次")
    assert quantity == expected
    assert type(quantity) is (int if expected is not None else type(None))
    assert codes(found) == expected_codes
    assert_located(found, WHERE)


FORMULAS = [
    (5, "=2+3", 5, [FORMULA]),
    (5.0, "=2+3", 5, [FORMULA]),
    (3.0000000000000004, "=0.1*30", 3, [FORMULA]),
    ("3场", '=A1&"场"', 3, [FORMULA]),
    (0, "=SUM(D3:D5)", 0, [FORMULA]),
    (None, "=2+3", None, [UNCACHED]),
    ("", "=A1", None, [UNCACHED]),
    (-1, "=2-3", None, [NEGATIVE]),
    (2.5, "=5/2", None, [FRACTION]),
    ("#DIV/0!", "=1/0", None, [NOT_NUMBER]),
    (True, "=A1>0", None, [NOT_NUMBER]),
]


@pytest.mark.parametrize(("cached", "formula", "expected", "expected_codes"), FORMULAS, ids=repr)
def test_quantity_formula(cached, formula, expected, expected_codes):
    quantity, found = read_quantity(Cell(value=cached, location=WHERE, formula=formula), "场次")
    assert quantity == expected
    assert codes(found) == expected_codes
    assert_located(found, WHERE)


def test_formula_warning_shows_the_formula_and_the_number_read():
    _, (warning,) = read_quantity(Cell(value=5, location=WHERE, formula="=2+3"), "场次")
    assert warning.severity == "warning"
    assert warning.value == "=2+3"
    assert "=2+3" in warning.message and "5" in warning.message


def test_formula_text_without_equals_sign_is_shown_with_one():
    _, (found,) = read_quantity(Cell(value=None, location=WHERE, formula="2+3"), "场次")
    assert found.severity == "error"
    assert found.value == "=2+3"


@pytest.mark.parametrize(
    ("typed", "read"),
    [(" 5 ", "5"), ("３", "3"), ("1，200", "1200"), ("3.0", "3"), ("３人次", "3")],
)
def test_normalised_quantity_says_what_was_typed_and_what_was_read(typed, read):
    _, (warning,) = read_quantity(Cell(value=typed, location=WHERE), "人次")
    assert warning.severity == "warning"
    assert warning.value == typed
    assert f"已读作 {read}" in warning.message


@pytest.mark.parametrize(
    ("typed", "severity"),
    [(None, "warning"), ("五", "error"), ("-3", "error"), ("2.5", "error"), ("3场", "warning")],
)
def test_quantity_severity(typed, severity):
    _, (found,) = read_quantity(Cell(value=typed, location=WHERE), "场次")
    assert found.severity == severity
    assert found.value == ("" if typed is None else typed)


@pytest.mark.parametrize(
    ("typed", "unit_label", "expected", "expected_codes"),
    [
        ("3所", "所", 3, [WITH_UNIT]),  # the row's own unit, whatever the office configured
        ("3所", "场次", None, [NOT_NUMBER]),
        ("3份", "册（份）", 3, [WITH_UNIT]),
        ("3场", "", 3, [WITH_UNIT]),  # 其他 rows have no unit of their own
    ],
)
def test_quantity_unit_comes_from_the_row(typed, unit_label, expected, expected_codes):
    quantity, found = read_quantity(Cell(value=typed, location=WHERE), unit_label)
    assert (quantity, codes(found)) == (expected, expected_codes)


# --- phones --------------------------------------------------------------------------------------

PHONE_WHERE = Location.cell("值班表", 5, 5)
M, L = "mobile", "landline"
PHONE_NORMALISED = Code.PHONE_NORMALISED
WRONG_COLUMN = Code.PHONE_IN_WRONG_COLUMN
MOBILE_INVALID = Code.MOBILE_INVALID
LANDLINE_INVALID = Code.LANDLINE_INVALID

PHONES = [
    # empty: no problem here, the caller decides whether a phone is required
    (None, M, "", "", []),
    ("", L, "", "", []),
    ("  ", M, "", "", []),
    # mobiles
    ("13612345678", M, "13612345678", M, []),
    (" 13612345678 ", M, "13612345678", M, []),
    (13612345678, M, "13612345678", M, []),
    (13612345678.0, M, "13612345678", M, []),
    ("19912345678", M, "19912345678", M, []),
    ("136 1234 5678", M, "13612345678", M, [PHONE_NORMALISED]),
    ("136-1234-5678", M, "13612345678", M, [PHONE_NORMALISED]),
    ("１３６１２３４５６７８", M, "13612345678", M, [PHONE_NORMALISED]),
    ("+86 136 1234 5678", M, "13612345678", M, [PHONE_NORMALISED]),
    ("+8613612345678", M, "13612345678", M, [PHONE_NORMALISED]),
    ("8613612345678", M, "13612345678", M, [PHONE_NORMALISED]),
    ("（+86）13612345678", M, "13612345678", M, [PHONE_NORMALISED]),
    (8613612345678, M, "13612345678", M, [PHONE_NORMALISED]),
    ("1361234567", M, "", "", [MOBILE_INVALID]),
    ("136123456789", M, "", "", [MOBILE_INVALID]),
    ("12612345678", M, "", "", [MOBILE_INVALID]),
    ("13612345678、13698765432", M, "", "", [MOBILE_INVALID]),
    ("136 1234 567８", M, "13612345678", M, [PHONE_NORMALISED]),
    ("无", M, "", "", [MOBILE_INVALID]),
    (True, M, "", "", [MOBILE_INVALID]),
    (1.5, M, "", "", [MOBILE_INVALID]),
    (-13612345678, M, "", "", [MOBILE_INVALID]),
    ("①3612345678", M, "", "", [MOBILE_INVALID]),
    # landlines
    ("23456789", L, "23456789", L, []),
    (23456789, L, "23456789", L, []),
    ("022-23456789", L, "022-23456789", L, []),
    ("02223456789", L, "022-23456789", L, []),
    ("022 23456789", L, "022-23456789", L, [PHONE_NORMALISED]),
    ("(022)23456789", L, "022-23456789", L, [PHONE_NORMALISED]),
    ("（022）2345-6789", L, "022-23456789", L, [PHONE_NORMALISED]),
    ("022—23456789", L, "022-23456789", L, [PHONE_NORMALISED]),
    ("２３４５６７８９", L, "23456789", L, [PHONE_NORMALISED]),
    (2223456789, L, "022-23456789", L, [PHONE_NORMALISED]),  # a numeric cell dropped the 0
    ("2345678", L, "", "", [LANDLINE_INVALID]),
    ("12345678", L, "", "", [LANDLINE_INVALID]),
    ("22-23456789", L, "", "", [LANDLINE_INVALID]),
    ("010-23456789", L, "", "", [LANDLINE_INVALID]),
    ("23456789转123", L, "", "", [LANDLINE_INVALID]),
    ("13612345678/23456789", L, "", "", [LANDLINE_INVALID]),
    ("022-2345678", L, "", "", [LANDLINE_INVALID]),
    ("2223456789", L, "", "", [LANDLINE_INVALID]),  # typed as text: nothing was dropped
    # the other kind of number in the column
    ("23456789", M, "23456789", L, [WRONG_COLUMN]),
    ("022-23456789", M, "022-23456789", L, [WRONG_COLUMN]),
    ("13612345678", L, "13612345678", M, [WRONG_COLUMN]),
    (13612345678, L, "13612345678", M, [WRONG_COLUMN]),
    ("136 1234 5678", L, "13612345678", M, [PHONE_NORMALISED, WRONG_COLUMN]),
    # 同上 is the caller's: if it slips through it reads as empty
    ("同上", M, "", "", []),
]


@pytest.mark.parametrize(("typed", "column", "number", "kind", "expected_codes"), PHONES, ids=repr)
def test_phone(typed, column, number, kind, expected_codes):
    phone, found = read_phone(Cell(value=typed, location=PHONE_WHERE), column)
    assert phone == Phone(number, kind)
    assert codes(found) == expected_codes
    assert_located(found, PHONE_WHERE)


def test_phone_normalised_says_what_was_read():
    _, (warning,) = read_phone(Cell(value="（022）2345-6789", location=PHONE_WHERE), "landline")
    assert warning.value == "（022）2345-6789"
    assert "022-23456789" in warning.message


@pytest.mark.parametrize(("typed", "column", "named"), [("23456789", M, "固定电话"), ("13612345678", L, "手机号")])
def test_phone_in_wrong_column_names_what_it_is(typed, column, named):
    _, (warning,) = read_phone(Cell(value=typed, location=PHONE_WHERE), column)
    assert warning.severity == "warning"
    assert named in warning.message


def test_phone_kind_is_checked():
    with pytest.raises(ValueError):
        read_phone(Cell(value="13612345678", location=PHONE_WHERE), "fax")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("同上", True),
        ("同上。", True),
        ("同 上", True),
        (" 同上 ", True),
        ("〃", True),
        ("″", True),
        ('"', True),
        ("上同", False),
        ("同上级", False),
        ("同", False),
        ("", False),
        (None, False),
        (13612345678, False),
    ],
)
def test_is_same_as_above(typed, expected):
    assert is_same_as_above(Cell(value=typed, location=PHONE_WHERE)) is expected


# --- duty dates ----------------------------------------------------------------------------------

DATE_WHERE = Location.cell("值班表", 5, 1)
OTHER = Code.DATE_OTHER
UNREADABLE = Code.DATE_UNREADABLE

DATES = [
    (None, None, []),
    ("", None, []),
    ("  ", None, []),
    # the duty date, however it is typed
    ("14日", DUTY_DATE, []),
    ("14号", DUTY_DATE, []),
    ("14", DUTY_DATE, []),
    (" 14 日 ", DUTY_DATE, []),
    (14, DUTY_DATE, []),
    (14.0, DUTY_DATE, []),
    ("3月14日", DUTY_DATE, []),
    ("3月14号", DUTY_DATE, []),
    ("3月14", DUTY_DATE, []),
    ("３月１４日", DUTY_DATE, []),
    ("3.14", DUTY_DATE, []),
    (3.14, DUTY_DATE, []),
    ("3-14", DUTY_DATE, []),
    ("3/14", DUTY_DATE, []),
    ("03-14", DUTY_DATE, []),
    ("2020-03-14", DUTY_DATE, []),
    ("2020.3.14", DUTY_DATE, []),
    ("2020/3/14", DUTY_DATE, []),
    ("2020年3月14日", DUTY_DATE, []),
    ("20200314", DUTY_DATE, []),
    ("14日晚", DUTY_DATE, []),
    ("3月14日晚上", DUTY_DATE, []),
    ("3月14日（周六）", DUTY_DATE, []),
    ("2020年3月14日 星期六 晚上", DUTY_DATE, []),
    (dt.date(2020, 3, 14), DUTY_DATE, []),
    (dt.datetime(2020, 3, 14, 19, 30), DUTY_DATE, []),
    # readable, but not the duty date
    ("13日", dt.date(2020, 3, 13), [OTHER]),
    ("3月15日", dt.date(2020, 3, 15), [OTHER]),
    ("2019-03-14", dt.date(2019, 3, 14), [OTHER]),
    ("4.14", dt.date(2020, 4, 14), [OTHER]),
    (3.15, dt.date(2020, 3, 15), [OTHER]),
    (3.4, dt.date(2020, 3, 4), [OTHER]),
    (dt.date(2020, 3, 13), dt.date(2020, 3, 13), [OTHER]),
    # unreadable
    ("晚上", None, [UNREADABLE]),
    ("3月32日", None, [UNREADABLE]),
    ("32日", None, [UNREADABLE]),
    ("2020-02-30", None, [UNREADABLE]),
    ("14/3", None, [UNREADABLE]),
    ("三月十四日", None, [UNREADABLE]),
    ("3月14日（周五）", None, [UNREADABLE]),  # 2020-03-14 is a Saturday
    ("314", None, [UNREADABLE]),
    ("3.1", dt.date(2020, 3, 1), [OTHER]),  # typed as text: 3.1 is the 1st
    (3.1, None, [UNREADABLE]),  # a numeric cell: 3.1 or 3.10?
    (3.2, None, [UNREADABLE]),
    (0, None, [UNREADABLE]),
    (True, None, [UNREADABLE]),
    (dt.time(19, 0), None, [UNREADABLE]),
]


@pytest.mark.parametrize(("typed", "expected", "expected_codes"), DATES, ids=repr)
def test_duty_date(typed, expected, expected_codes):
    date, found = read_duty_date(Cell(value=typed, location=DATE_WHERE), DUTY_DATE)
    assert date == expected
    assert codes(found) == expected_codes
    assert_located(found, DATE_WHERE)


def test_duty_date_month_and_year_come_from_the_duty_date():
    date, found = read_duty_date(Cell(value="1日", location=DATE_WHERE), dt.date(2021, 2, 28))
    assert date == dt.date(2021, 2, 1)
    assert codes(found) == [OTHER]
    date, found = read_duty_date(Cell(value="30日", location=DATE_WHERE), dt.date(2021, 2, 28))
    assert (date, codes(found)) == (None, [UNREADABLE])


def test_date_other_names_both_dates():
    _, (warning,) = read_duty_date(Cell(value="13日", location=DATE_WHERE), DUTY_DATE)
    assert warning.severity == "warning"
    assert warning.value == "2020-03-14"
    assert "2020-03-13" in warning.message and "2020-03-14" in warning.message


def test_date_unreadable_shows_what_was_typed():
    _, (found,) = read_duty_date(Cell(value="3月32日", location=DATE_WHERE), DUTY_DATE)
    assert found.severity == "error"
    assert found.value == "3月32日"


def test_date_formula_without_result_is_unreadable():
    date, found = read_duty_date(Cell(value=None, location=DATE_WHERE, formula="=A4"), DUTY_DATE)
    assert (date, codes(found)) == (None, [UNREADABLE])


# --- names and free text -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("张  涛", "张涛"),
        ("张涛", "张涛"),
        (" 张\u3000涛 ", "张涛"),
        ("李\u200b明", "李明"),
        ("欧阳 小 明", "欧阳小明"),
        ("ＬＩ Ｍｉｎｇ", "LIMing"),
        ("", ""),
        (None, ""),
    ],
)
def test_name(typed, expected):
    assert read_name(Cell(value=typed, location=Location.cell("值班表", 5, 2))) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (" 副所长 ", "副所长"),
        ("主任科员（一级）", "主任科员（一级）"),
        ("宣传资料 ２００ 册", "宣传资料 ２００ 册"),
        ("\u200b社区\u200d宣传 ", "社区宣传"),
        ("", ""),
        (None, ""),
        (3.0, "3"),
    ],
)
def test_text(typed, expected):
    assert read_text(Cell(value=typed, location=Location.cell("值班表", 5, 3))) == expected


@pytest.mark.parametrize("typed", [1_000_000_001, "1000000001", 1e300, "９９９９９９９９９９９９"])
def test_an_implausibly_large_quantity_is_rejected(typed):
    quantity, found = read_quantity(Cell(value=typed, location=WHERE), "份")
    assert quantity is None
    assert [(p.code, p.location) for p in found] == [(Code.QUANTITY_TOO_LARGE, WHERE)]


def test_a_billion_is_still_a_count():
    assert read_quantity(Cell(value=1_000_000_000, location=WHERE), "份") == (1_000_000_000, [])
