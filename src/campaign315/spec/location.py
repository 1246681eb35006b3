"""Where in a returned file something is: a workbook cell, a Word table cell, a paragraph of a
document's body, a whole sheet (form), a whole Word table (form), or the whole file — a member of a
zip is a file too, named ``archive.zip!member.xlsx``.

A location is data, made by the reader that found the cell and carried by every cell and problem;
the store keeps its fields as columns. Its Chinese text (``统计表!D7``, ``表1 第3行第4列``) is made only
when it is shown, and nothing ever parses that text back.

>>> str(Location.cell("统计表", 7, 4)), str(Location.table_cell(1, 3, 4)), str(Location.paragraph(2)), str(Location.whole_table(2))
('统计表!D7', '表1 第3行第4列', '正文第2段', '表2')
>>> Location.cell("统计表", 7, 4).ref, Location.cell("统计表", 7, 4).at_column(5)
('D7', Location(kind='cell', name='统计表', table=0, row=7, column=5))
"""

from __future__ import annotations

from typing import Literal, NamedTuple

LocationKind = Literal["file", "sheet", "table", "cell", "table-cell", "paragraph"]
IN_FILE: frozenset[str] = frozenset({"cell", "table-cell", "paragraph"})
"""The kinds that point at one place inside the file — a marked copy can highlight them."""


class Location(NamedTuple):
    """One place in a returned file. ``name`` is the sheet's name (``sheet``, ``cell``) or the
    file's (``file``); ``table``, ``row`` and ``column`` count from 1 as a person does (``row`` is
    the paragraph's number for ``paragraph``); fields a kind does not use are 0 or "".

    Immutable and hashable; a named tuple rather than a dataclass because a reader makes one for
    every cell of every return (a quarter of the cost)."""

    kind: LocationKind
    name: str = ""
    table: int = 0
    row: int = 0
    column: int = 0

    @classmethod
    def file(cls, name: str) -> Location:
        """The whole file (it could not be read, or it is not a form)."""
        return cls("file", name=name)

    @classmethod
    def sheet(cls, name: str) -> Location:
        """A whole sheet, or the body of a document (``正文``): a problem of the form as a whole."""
        return cls("sheet", name=name)

    @classmethod
    def whole_table(cls, number: int) -> Location:
        """A whole Word table — a form in a document, which may hold several (``表2``)."""
        return cls("table", table=number)

    @classmethod
    def cell(cls, sheet: str, row: int, column: int) -> Location:
        """A workbook cell, by its sheet and 1-based row and column."""
        return cls("cell", name=sheet, row=row, column=column)

    @classmethod
    def table_cell(cls, table: int, row: int, column: int) -> Location:
        """A Word table cell: the body's n-th table, its row, its grid column (all 1-based)."""
        return cls("table-cell", table=table, row=row, column=column)

    @classmethod
    def paragraph(cls, number: int) -> Location:
        """The n-th paragraph of a document's body outside any table."""
        return cls("paragraph", row=number)

    @property
    def in_file(self) -> bool:
        """True when this names one place inside the file (not the whole form or file)."""
        return self.kind in IN_FILE

    @property
    def ref(self) -> str:
        """A workbook cell's A1 reference (``D7``); "" for any other kind."""
        return f"{column_letter(self.column)}{self.row}" if self.kind == "cell" else ""

    def at_column(self, column: int) -> Location:
        """The cell in the same row at another column (a cell the row does not reach)."""
        if self.kind in ("cell", "table-cell"):  # tuple.__new__: a third of _replace's cost, once per cell read
            return tuple.__new__(Location, (self.kind, self.name, self.table, self.row, column))
        return self

    def __str__(self) -> str:
        if self.kind == "cell":
            return f"{self.name}!{self.ref}"
        if self.kind == "table-cell":
            return f"表{self.table} 第{self.row}行第{self.column}列"
        if self.kind == "paragraph":
            return f"正文第{self.row}段"
        if self.kind == "table":
            return f"表{self.table}"
        return self.name

    def columns(self) -> tuple[str, str, int, int, int]:
        """The fields as the store keeps them (one column each)."""
        return tuple(self)


NOWHERE = Location.file("")
"""A problem that belongs to no place in particular."""


def column_letter(index: int) -> str:
    """1 → A, 27 → AA (openpyxl's helper would cost a 200 ms import on the reading path).

    >>> column_letter(1), column_letter(5), column_letter(27)
    ('A', 'E', 'AA')
    """
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
