"""One typed cell → a clean value and the problems found reading it.

Each reader takes a :class:`~campaign315.intake.read.cells.Cell` as the file holds it and returns what
the person meant, plus :class:`~campaign315.spec.problems.Problem` records that say what was read and
what could not be. Nothing is guessed: a value that could mean two things is rejected, with the
cell named. These run on every cell of every return, so they are plain functions over
precompiled patterns.

>>> read_quantity(Cell("３场", Location.cell("统计表", 7, 4)), "场次")[0]
3
>>> read_phone(Cell("136 1234 5678", Location.cell("值班表", 5, 5)), "mobile")[0]
Phone(number='13612345678', kind='mobile')
>>> read_duty_date(Cell("14日", Location.cell("值班表", 5, 1)), dt.date(2020, 3, 14))
(datetime.date(2020, 3, 14), [])
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from campaign315.common.text import fold, squash, visible
from campaign315.intake.read.cells import Cell
from campaign315.spec.location import Location
from campaign315.spec.problems import Code, Problem, problem

__all__ = [
    "Phone",
    "PhoneKind",
    "is_same_as_above",
    "read_duty_date",
    "read_name",
    "read_phone",
    "read_quantity",
    "read_text",
]

# Characters NFKC would turn into digits that a person never meant as a plain number:
# superscripts (5² → "52"), circled and parenthesised numbers, vulgar fractions, "1," forms.
_LOOKALIKE_DIGITS = re.compile(
    "[\u00b2\u00b3\u00b9\u00bc-\u00be\u2070-\u209f\u2150-\u218f\u2460-\u24ff"
    "\u2776-\u2793\u3220-\u325f\u3280-\u32bf\U0001f100-\U0001f10a]"
)


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- 附件2 quantities ----------------------------------------------------------------------------

# After fold(): an optional minus, a number (1,200 only with whole groups of three), optional
# decimals, then whatever follows — which must be a counting unit to be read at all.
_QUANTITY = re.compile(
    r"(?P<minus>[-\u2212])?\s*"
    r"(?P<number>[1-9][0-9]{0,2}(?:,[0-9]{3})+|[0-9]+)"
    r"(?:\.(?P<decimals>[0-9]+))?"
    r"\s*(?P<unit>.*)",
    re.DOTALL,
)
# Counting words a quantity may carry besides its own row's unit. Approximations (余, 多, 左右)
# and anything else are not units: such a value is rejected.
_COUNTING_UNITS = frozenset(
    ("场", "场次", "次", "人", "人次", "名", "户", "户次", "家", "家次", "条", "份", "册", "册(份)",
     "本", "张", "篇", "个", "期", "件", "幅", "项")
)
_UNIT_PARTS = re.compile(r"[()]")


@lru_cache(maxsize=64)
def _units_accepted(unit_label: str) -> frozenset[str]:
    """The built-in counting words plus the row's own unit: 册（份） also allows 册 and 份."""
    label = squash(unit_label)
    parts = {part for part in _UNIT_PARTS.split(label) if part}
    return _COUNTING_UNITS | parts | ({label} if label else set())


def read_quantity(cell: Cell, unit_label: str) -> tuple[int | None, list[Problem]]:
    """A 附件2 quantity: a whole number ≥ 0, or None when it cannot be read (or was left empty).

    ``unit_label`` is the row's unit (场次, 册（份）…); a number typed with it, or with another
    counting word, is read with a ``quantity-with-unit`` warning. Anything that needs a guess —
    五, 约10, 10左右, 1,2, 2.5 — is rejected with an error.

    >>> read_quantity(Cell(" 1，200 ", Location.cell("统计表", 7, 4)), "人次")[0]
    1200
    >>> [p.code for p in read_quantity(Cell("10左右", Location.cell("统计表", 7, 4)), "人次")[1]]
    ['quantity-not-number']
    """
    if cell.formula:
        formula = cell.formula if cell.formula.startswith("=") else f"={cell.formula}"
        if _is_blank(cell.value):
            return None, [problem(Code.QUANTITY_FORMULA_UNCACHED, cell.location, formula)]
        quantity, found = _quantity_of(cell.value, cell, unit_label)
        if quantity is None:
            return None, found
        # One warning says it all: the formula, and the number its cached result was read as.
        return _plausible(quantity, [problem(Code.QUANTITY_FORMULA, cell.location, formula, quantity)], cell)
    if _is_blank(cell.value):
        return None, [problem(Code.QUANTITY_EMPTY, cell.location, cell.value)]
    return _plausible(*_quantity_of(cell.value, cell, unit_label), cell)


LARGEST_QUANTITY = 10**9
"""No district prints a billion leaflets: a figure past this is a typo or an attack, not a count."""


def _plausible(quantity: int | None, found: list[Problem], cell: Cell) -> tuple[int | None, list[Problem]]:
    if quantity is None or quantity <= LARGEST_QUANTITY:
        return quantity, found
    digits = str(quantity)
    shown = digits if len(digits) <= 15 else f"{digits[:12]}…（{len(digits)} 位数）"
    return None, [problem(Code.QUANTITY_TOO_LARGE, cell.location, shown, f"{LARGEST_QUANTITY:,}")]


def _quantity_of(value: object, cell: Cell, unit_label: str) -> tuple[int | None, list[Problem]]:
    if isinstance(value, str):
        return _quantity_from_text(value, cell.location, unit_label)
    if isinstance(value, (bool, dt.date, dt.time)):
        return None, [problem(Code.QUANTITY_NOT_NUMBER, cell.location, cell.text)]
    if isinstance(value, int):
        if value < 0:
            return None, [problem(Code.QUANTITY_NEGATIVE, cell.location, value)]
        return value, []
    if isinstance(value, float):
        return _quantity_from_float(value, cell)
    return _quantity_from_text(cell.text, cell.location, unit_label)


def _quantity_from_float(value: float, cell: Cell) -> tuple[int | None, list[Problem]]:
    if not math.isfinite(value):
        return None, [problem(Code.QUANTITY_NOT_NUMBER, cell.location, cell.text)]
    nearest = round(value)
    # A formula such as =0.1*30 caches 3.0000000000000004: arithmetic noise, not a fraction.
    if math.isclose(value, nearest, rel_tol=1e-12, abs_tol=1e-9):
        if nearest < 0:
            return None, [problem(Code.QUANTITY_NEGATIVE, cell.location, cell.text)]
        if value == nearest:
            return int(nearest), []
        return int(nearest), [problem(Code.QUANTITY_NORMALISED, cell.location, cell.text, int(nearest))]
    code = Code.QUANTITY_NEGATIVE if value < 0 else Code.QUANTITY_FRACTION
    return None, [problem(code, cell.location, cell.text)]


def _quantity_from_text(raw: str, location: Location, unit_label: str) -> tuple[int | None, list[Problem]]:
    if raw.isascii() and raw.isdigit():
        return int(raw), []
    if _LOOKALIKE_DIGITS.search(raw):
        return None, [problem(Code.QUANTITY_NOT_NUMBER, location, raw)]
    text = fold(raw)
    if not text:
        return None, [problem(Code.QUANTITY_EMPTY, location, raw)]
    match = _QUANTITY.fullmatch(text)
    unit = squash(match["unit"]) if match else ""
    if match is None or (unit and unit not in _units_accepted(unit_label)):
        return None, [problem(Code.QUANTITY_NOT_NUMBER, location, raw)]
    whole = int(match["number"].replace(",", ""))
    fraction = bool(match["decimals"]) and match["decimals"].strip("0") != ""
    if match["minus"] and (whole or fraction):
        return None, [problem(Code.QUANTITY_NEGATIVE, location, raw)]
    if fraction:
        return None, [problem(Code.QUANTITY_FRACTION, location, raw)]
    code = Code.QUANTITY_WITH_UNIT if unit else Code.QUANTITY_NORMALISED
    return whole, [problem(code, location, raw, whole)]


# --- 附件1 phones --------------------------------------------------------------------------------

PhoneKind = Literal["mobile", "landline"]


@dataclass(frozen=True)
class Phone:
    """A phone number as read: ``13612345678`` (mobile), ``23456789`` or ``022-23456789``
    (landline). ``kind`` is what the number really is, whichever column it was typed in; both
    fields are "" when the cell was empty or the number could not be read."""

    number: str
    kind: Literal["mobile", "landline", ""]


_NO_PHONE = Phone("", "")
_PHONE_NAMES: dict[str, str] = {"mobile": "手机号", "landline": "固定电话"}
_INVALID_CODES: dict[str, Code] = {"mobile": Code.MOBILE_INVALID, "landline": Code.LANDLINE_INVALID}
# Spaces and every dash a Chinese input method or Word produces between digit groups.
_PHONE_SEPARATORS = re.compile("[\\s\\-\u2010-\u2015\u2212]+")
_MOBILE = re.compile(r"(?:\(\+?86\)|\+?86|0086)?(?P<number>1[3-9][0-9]{9})")
# Tianjin numbers are 8 digits and never start with 0 or 1; the area code is 022 or (022).
_LANDLINE = re.compile(r"(?:(?P<area>022)|\((?P<area_in_brackets>022)\))?(?P<number>[2-9][0-9]{7})")
# A numeric cell drops the leading 0 of 02223456789.
_AREA_CODE_WITHOUT_ZERO = re.compile(r"22[2-9][0-9]{7}")

_SAME_AS_ABOVE = frozenset({"同上", "仝上", "〃", "\u2032\u2032", '"', "\u201c", "\u201d", "\u201c\u201d"})
_TRAILING_STOPS = "。.，,、！!"


def is_same_as_above(cell: Cell) -> bool:
    """True when the cell says "same as the row above": 同上, 同上。, 同 上, 〃.

    Callers check this before :func:`read_phone` (and the other readers) and copy the value from
    the row above, with the ``same-as-above`` warning.

    >>> is_same_as_above(Cell("同 上。", Location.cell("值班表", 6, 4))), is_same_as_above(Cell("上同", Location.cell("值班表", 6, 4)))
    (True, False)
    """
    if not isinstance(cell.value, str):
        return False
    return squash(cell.value).rstrip(_TRAILING_STOPS) in _SAME_AS_ABOVE


def read_phone(cell: Cell, kind: PhoneKind) -> tuple[Phone, list[Problem]]:
    """The phone in a 固定电话 (``landline``) or 移动电话 (``mobile``) cell.

    Spaces, dashes, full-width digits, brackets around 022 and a +86 before a mobile are removed,
    with a ``phone-normalised`` warning saying what was read. A valid number of the other kind is
    kept as what it is (``Phone.kind`` says which) with ``phone-in-wrong-column``. An empty cell
    gives ``Phone("", "")`` and no problem: whether a phone is required is the caller's rule.
    "同上" is the caller's too — check :func:`is_same_as_above` first; if it reaches this
    function anyway it is treated like an empty cell.

    >>> read_phone(Cell("（022）2345 6789", Location.cell("值班表", 5, 4)), "landline")[0]
    Phone(number='022-23456789', kind='landline')
    >>> phone, found = read_phone(Cell("13612345678", Location.cell("值班表", 5, 4)), "landline")
    >>> phone.kind, [p.code for p in found]
    ('mobile', ['phone-in-wrong-column'])
    """
    if kind not in _PHONE_NAMES:
        raise ValueError(f"kind must be 'mobile' or 'landline', not {kind!r}")
    value = cell.value
    if _is_blank(value) or is_same_as_above(cell):
        return _NO_PHONE, []
    raw = cell.text
    if isinstance(value, str):
        text = "" if _LOOKALIKE_DIGITS.search(value) else fold(value)
    elif isinstance(value, int) and not isinstance(value, bool) and value > 0:
        text = str(value)
    elif isinstance(value, float) and value > 0 and value.is_integer():
        text = str(int(value))
    else:
        text = ""
    if _AREA_CODE_WITHOUT_ZERO.fullmatch(text) and not isinstance(value, str):
        text = f"0{text}"
    phone = _phone_of(_PHONE_SEPARATORS.sub("", text))
    if phone is _NO_PHONE:
        return phone, [problem(_INVALID_CODES[kind], cell.location, raw)]
    found: list[Problem] = []
    if raw.strip() not in _spellings(phone):
        found.append(problem(Code.PHONE_NORMALISED, cell.location, raw, phone.number))
    if phone.kind != kind:
        found.append(problem(Code.PHONE_IN_WRONG_COLUMN, cell.location, raw, _PHONE_NAMES[phone.kind]))
    return phone, found


def _phone_of(compact: str) -> Phone:
    if match := _MOBILE.fullmatch(compact):
        return Phone(match["number"], "mobile")
    if match := _LANDLINE.fullmatch(compact):
        area = match["area"] or match["area_in_brackets"]
        return Phone(f"{area}-{match['number']}" if area else match["number"], "landline")
    return _NO_PHONE


def _spellings(phone: Phone) -> tuple[str, ...]:
    """How a number may be typed without anything being removed: 022-23456789 or 02223456789."""
    return (phone.number, phone.number.replace("-", ""))


# --- 附件1 dates ---------------------------------------------------------------------------------

# After squash(): the date, then an optional weekday (（周六）, 星期六) and an optional 晚/晚上.
_DATE_SUFFIX = re.compile(
    r"(?P<date>.*?)"
    r"(?:\((?:周|星期|礼拜)(?P<weekday_in_brackets>[一二三四五六日天])\)|(?:周|星期|礼拜)(?P<weekday>[一二三四五六日天]))?"
    r"(?:晚上?|夜间?)?"
)
_DATE_PATTERNS = (
    re.compile(r"(?P<year>[0-9]{4})[-./年](?P<month>[0-9]{1,2})[-./月](?P<day>[0-9]{1,2})[日号]?"),
    re.compile(r"(?P<year>[0-9]{4})(?P<month>[0-9]{2})(?P<day>[0-9]{2})"),
    re.compile(r"(?P<month>[0-9]{1,2})[-./月](?P<day>[0-9]{1,2})[日号]?"),
    re.compile(r"(?P<day>[0-9]{1,2})[日号]?"),
)
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}


def read_duty_date(cell: Cell, duty_date: dt.date) -> tuple[dt.date | None, list[Problem]]:
    """The 日期 of a roster row. Empty gives (None, []): the caller fills in the duty date.

    14日, 14号, 3月14日, 3.14, 3/14, 2020-03-14, 2020年3月14日 and date cells are read; a missing
    year or month is the duty date's. A date other than the duty date is kept with a ``date-other``
    warning; anything else is ``date-unreadable``.

    >>> read_duty_date(Cell("3月13日", Location.cell("值班表", 5, 1)), dt.date(2020, 3, 14))[0]
    datetime.date(2020, 3, 13)
    """
    value = cell.value
    if cell.formula and value is None:
        return None, [problem(Code.DATE_UNREADABLE, cell.location, cell.formula)]
    if _is_blank(value):
        return None, []
    if isinstance(value, dt.datetime):
        date: dt.date | None = value.date()
    elif isinstance(value, dt.date):
        date = value
    elif isinstance(value, str):
        date = _date_from_text(value, duty_date)
    elif isinstance(value, bool):
        date = None
    elif isinstance(value, int):
        date = _date_from_parts(duty_date, day=str(value))
    elif isinstance(value, float):
        date = _date_from_float(value, duty_date)
    else:
        date = None
    if date is None:
        return None, [problem(Code.DATE_UNREADABLE, cell.location, cell.text)]
    if date != duty_date:
        return date, [problem(Code.DATE_OTHER, cell.location, duty_date.isoformat(), date.isoformat())]
    return date, []


def _date_from_text(raw: str, duty_date: dt.date) -> dt.date | None:
    parts = _DATE_SUFFIX.fullmatch(squash(raw))
    if parts is None:
        return None
    for pattern in _DATE_PATTERNS:
        if match := pattern.fullmatch(parts["date"]):
            date = _date_from_parts(duty_date, **match.groupdict())
            weekday = parts["weekday"] or parts["weekday_in_brackets"]
            if date is not None and weekday and date.weekday() != _WEEKDAYS[weekday]:
                return None  # 3月14日（周五）: the date and the weekday disagree
            return date
    return None


def _date_from_float(value: float, duty_date: dt.date) -> dt.date | None:
    """A numeric cell where 3.14 was typed holds 3.14. But 3.10 is stored as 3.1: a single decimal
    digit 1–3 could be the 1st or the 10th, so it is not read."""
    if not math.isfinite(value) or value <= 0:
        return None
    if value.is_integer():
        return _date_from_parts(duty_date, day=str(int(value)))
    month, _, day = repr(value).partition(".")
    if len(day) == 1 and day in "123":
        return None
    return _date_from_parts(duty_date, month=month, day=day)


def _date_from_parts(duty_date: dt.date, day: str, month: str | None = None, year: str | None = None) -> dt.date | None:
    if not (day.isdigit() and len(day) <= 2):
        return None
    try:
        return dt.date(
            int(year) if year else duty_date.year,
            int(month) if month else duty_date.month,
            int(day),
        )
    except ValueError:
        return None


# --- names and free text -------------------------------------------------------------------------


def read_name(cell: Cell) -> str:
    """A person's name with the alignment spaces taken out: 张  涛 → 张涛; "" when empty.

    >>> read_name(Cell(" 张\u3000涛 ", Location.cell("值班表", 5, 2)))
    '张涛'
    """
    return squash(cell.text)


def read_text(cell: Cell) -> str:
    """Free text (职务, 备注) as typed — only invisible marks removed and the ends trimmed; ""
    when empty. Folding is for comparing, never for what is stored and shown back."""
    return visible(cell.text)
