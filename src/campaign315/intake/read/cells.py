"""What every reader produces: rows of cells, each with the value the file holds and where it is.

A .xlsx sheet and a .docx body (paragraphs and table rows) both become a list of :class:`Row`, so
one locator finds the title, 填报部门, the header, the body and the footer in either.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from campaign315.common.text import squash
from campaign315.spec.location import Location


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


@dataclass(frozen=True)
class Cell:
    """One cell as the file holds it.

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
        value = self.value
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, dt.datetime) and value.time() == dt.time(0):
            return value.date().isoformat()
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        return str(value)

    @once
    def squashed(self) -> str:
        """The text as labels are compared: full width folded, every space gone."""
        return squash(self.text) if self.value is not None else ""

    @property
    def is_empty(self) -> bool:
        return self.formula is None and (self.value is None or self.text.strip() == "")


@dataclass
class Row:
    """A table row, or a paragraph outside any table (one cell). ``table`` is None for paragraphs.
    ``start`` is where the row's first cell is, whether or not the file holds it."""

    cells: list[Cell]
    start: Location
    table: int | None = None
    number: int = 0

    @once
    def text(self) -> str:
        return "".join(cell.text for cell in self.cells)

    @once
    def squashed(self) -> str:
        return "".join(cell.squashed for cell in self.cells)

    def cell(self, index: int) -> Cell:
        """The cell at 0-based ``index``; an empty one, located in this row, past its end."""
        if 0 <= index < len(self.cells):
            return self.cells[index]
        return Cell(None, self.start.at_column(index + 1))


@dataclass
class Sheet:
    """One sheet of a workbook, or the body of a document."""

    name: str
    rows: list[Row]
    hidden: bool = False


@dataclass
class Package:
    """Everything read from one returned file."""

    format: str  # "xlsx", "docx", "xls", "ods"
    sheets: list[Sheet]
    properties: dict[str, str] = field(default_factory=dict)
    modified: dt.datetime | None = None
