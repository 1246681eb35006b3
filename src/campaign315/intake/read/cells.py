"""What every reader produces: rows of cells, each with the value the file holds and where it is.

A .xlsx sheet and a .docx body (paragraphs and table rows) both become a list of :class:`Row`, so
one locator finds the title, 填报部门, the header, the body and the footer in either.

A workbook's sheet keeps the grid of values its reader gave and makes a row's :class:`Cell`
objects only when they are asked for: finding the form and checking its labels reads the values
(each text folded once, :func:`~campaign315.common.text.squash` remembers), and only the cells
that are validated, or named by a problem, are made.

>>> sheet = Sheet("统计表", values=[["附件2", ""], ["", 3.0]])
>>> row = sheet.rows[1]
>>> row.text_at(1), row.is_empty_at(0), row.cell(1)
('3', True, Cell(value=3.0, location=Location(kind='cell', name='统计表', table=0, row=2, column=2), formula=None))
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from campaign315.common.text import squash
from campaign315.spec.location import Location

_MIDNIGHT = dt.time(0)


class once:
    """A computed attribute kept after its first use — functools.cached_property without the
    lock it takes on every first access in Python 3.11 (a return has a few hundred cells)."""

    def __init__(self, compute):
        self.compute, self.name = compute, compute.__name__
        self.__doc__ = compute.__doc__

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        value = obj.__dict__[self.name] = self.compute(obj)  # the instance attribute wins from now on
        return value


def text_of(value: object) -> str:
    """A value as a person would read it in the cell: ``3.0`` → ``3``, a date → ``2020-03-14``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == _MIDNIGHT:
        return value.date().isoformat()
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def sheet_value(value: object) -> object:
    """A value as a spreadsheet reader gives it, as a cell holds it: "" is None (empty), a date
    and time at midnight is a date."""
    if value == "" or value is None:
        return None
    if isinstance(value, dt.datetime) and value.time() == _MIDNIGHT:
        return value.date()
    return value


@dataclass(unsafe_hash=True)
class Cell:
    """One cell as the file holds it (treat it as immutable).

    ``value`` is what a reader shows: text, a number, a date, or None when empty. For a formula it
    is the cached result the saving suite stored (None if it stored none) and ``formula`` holds
    the formula text. ``location`` is where the reader found it (a sheet cell, a table cell, a
    paragraph).
    """

    value: object
    location: Location
    formula: str | None = None

    @once
    def text(self) -> str:
        """The value as a person would read it in the cell."""
        return text_of(self.value)

    @once
    def squashed(self) -> str:
        """The text as labels are compared: full width folded, every space gone."""
        return squash(self.text) if self.value is not None else ""

    @property
    def is_empty(self) -> bool:
        return self.formula is None and (self.value is None or self.text.strip() == "")


class Row:
    """A table row, or a paragraph outside any table (one cell). ``table`` is None for paragraphs
    and sheet rows. ``start`` is where the row's first cell is, whether or not the file holds it.

    A row of a workbook's sheet is made from its values as the reader gave them and makes each
    :class:`Cell` only when :meth:`cell` or :attr:`cells` asks for it; :meth:`text_at`,
    :meth:`squashed_at` and :meth:`is_empty_at` answer from the values without making one."""

    __slots__ = ("start", "table", "number", "_values", "_formulas", "_cells", "_given")

    def __init__(self, cells: list[Cell] | None, start: Location, table: int | None = None, number: int = 0, *,
                 values: Sequence[object] | None = None, formulas: dict[int, str] | None = None):
        self.start, self.table, self.number = start, table, number
        self._given = cells is not None  # a reader's own cells (documents); else a sheet's raw values
        self._values = [cell.value for cell in cells] if cells is not None else values
        self._formulas = formulas
        self._cells: dict[int, Cell] = dict(enumerate(cells)) if cells is not None else {}

    @classmethod
    def _of_sheet(cls, sheet: str, number: int, values: Sequence[object], formulas: dict[int, str] | None) -> Row:
        """A sheet's row from the reader's values (made for every row read: kept to the minimum)."""
        row = cls.__new__(cls)
        row.start, row.table, row.number = tuple.__new__(Location, ("cell", sheet, 0, number, 1)), None, number
        row._given, row._values, row._formulas, row._cells = False, values, formulas, {}
        return row

    def __repr__(self) -> str:
        return f"Row(number={self.number}, start={self.start!r}, values={[self.value_at(i) for i in range(len(self))]!r})"

    def __len__(self) -> int:
        return len(self._values)

    @property
    def cells(self) -> list[Cell]:
        return [self.cell(index) for index in range(len(self._values))]

    def cell(self, index: int) -> Cell:
        """The cell at 0-based ``index``; an empty one, located in this row, past its end."""
        made = self._cells.get(index)
        if made is None:
            if not 0 <= index < len(self._values):
                return Cell(None, self.start.at_column(index + 1))
            formula = self._formulas.get(index) if self._formulas else None
            made = self._cells[index] = Cell(self.value_at(index), self.start.at_column(index + 1), formula)
        return made

    def raw_at(self, index: int) -> object:
        """The value as the reader gave it ("" for an empty sheet cell), without making the cell."""
        if not 0 <= index < len(self._values):
            return None if self._given else ""
        return self._values[index]

    def location_at(self, index: int) -> Location:
        """``cell(index).location``, without making the cell."""
        return self.start.at_column(index + 1)

    def value_at(self, index: int) -> object:
        """``cell(index).value``, without making the cell."""
        if not 0 <= index < len(self._values):
            return None
        value = self._values[index]
        return value if self._given else sheet_value(value)

    def text_at(self, index: int) -> str:
        """``cell(index).text``, without making the cell."""
        return text_of(self.value_at(index))

    def squashed_at(self, index: int) -> str:
        """``cell(index).squashed``, without making the cell."""
        value = self.value_at(index)
        return "" if value is None else squash(text_of(value))

    def is_empty_at(self, index: int) -> bool:
        """``cell(index).is_empty``, without making the cell."""
        if self._formulas and index in self._formulas:
            return False
        value = self.value_at(index)
        return value is None or (value.__class__ is str and not value.strip()) or not text_of(value).strip()

    @property
    def is_empty(self) -> bool:
        """Every cell of the row is empty."""
        return all(self.is_empty_at(index) for index in range(len(self._values)))

    @property
    def text(self) -> str:
        return "".join(self.text_at(index) for index in range(len(self._values)))

    @property
    def squashed(self) -> str:
        return "".join(self.squashed_at(index) for index in range(len(self._values)))


class _GridRows(Sequence):
    """A sheet's rows, each made from the grid of values the first time it is read."""

    def __init__(self, name: str, values: list[list[object]], formulas: dict[tuple[int, int], str]):
        self.name, self.values, self.formulas = name, values, formulas
        self._made: list[Row | None] = [None] * len(values)

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self.values)))]
        if index < 0:
            index += len(self.values)
        if not 0 <= index < len(self.values):
            raise IndexError(index)
        row = self._made[index]
        if row is None:
            number = index + 1
            formulas = {column - 1: formula for (r, column), formula in self.formulas.items() if r == number} \
                if self.formulas else None
            row = self._made[index] = Row._of_sheet(self.name, number, self.values[index], formulas)
        return row

    def __iter__(self) -> Iterator[Row]:
        return (self[i] for i in range(len(self.values)))


class Sheet:
    """One sheet of a workbook, or the body of a document. A workbook's sheet is made from the grid
    of values its reader gave (``values``, first row and column at A1) and the formulas found in
    it (``{(row, column): "=…"}``, 1-based); its :attr:`rows` are made as they are read."""

    def __init__(self, name: str, rows: list[Row] | None = None, hidden: bool = False, *,
                 values: list[list[object]] | None = None, formulas: dict[tuple[int, int], str] | None = None):
        self.name, self.hidden = name, hidden
        self.formulas = formulas or {}
        self.values = values
        self._rows: Sequence[Row] | None = rows

    @property
    def rows(self) -> Sequence[Row]:
        if self._rows is None:
            self._rows = _GridRows(self.name, self.values or [], self.formulas)
        return self._rows

    def with_formulas(self, formulas: dict[tuple[int, int], str]) -> None:
        """Say which cells hold formulas (before the rows are read)."""
        self.formulas = formulas
        self._rows = None


@dataclass
class Package:
    """Everything read from one returned file."""

    format: str  # "xlsx", "docx", "xls", "ods"
    sheets: list[Sheet]
    properties: dict[str, str] = field(default_factory=dict)
    modified: dt.datetime | None = None
