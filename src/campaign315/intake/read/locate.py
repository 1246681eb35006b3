"""Find a form's parts by their labels — title, 填报部门, header row, body, 填报人 / 联系电话 —
so a return is read right after rows were inserted or deleted, columns widened, or the table
re-saved by WPS or LibreOffice. Labels come from the campaign data, never from here.

Most returns are the workbook c315 generated, filled in and nothing moved: :func:`locate_generated`
finds those by position — every locked cell checked where the form definition says it is — and
gives exactly what the label search would; the search runs only when something moved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter

from campaign315.common.text import fold, squash
from campaign315.intake.read.cells import Cell, Package, Row, Sheet, sheet_value, text_of
from campaign315.spec.campaign import AttachmentKey, Campaign, RosterSpec, StatsSpec
from campaign315.spec.forms import (
    HEADER_ROW,
    TITLE_ROW,
    UNIT_FIELD_LABEL,
    UNIT_ROW,
    RosterLayout,
    StatsLayout,
    footer_text,
)
from campaign315.spec.location import NOWHERE, Location

_COLON = re.compile(r"^[:：\s]+")


@dataclass
class Located:
    """Where the parts of one form are in a file."""

    attachment: AttachmentKey
    sheet: Sheet
    title: Cell | None
    unit: Cell | None
    columns: dict[str, int]
    body: list[Row]
    footer: dict[str, Cell | None] = field(default_factory=dict)
    header_row: Row | None = None
    as_generated: bool = False
    """Found by position: every locked cell where the generated form has it, so each body row is
    the item (附件2) the form definition puts there."""
    place: Location = NOWHERE
    """The form as a whole: its sheet in a workbook, its table (``表2``) in a document."""
    span: range = range(0)
    """The rows of ``sheet.rows`` that belong to this form: from its first line (the top of the
    sheet, for the first form) to where the next form starts."""


def locate_all(package: Package, campaign: Campaign) -> tuple[list[Located], list[Location]]:
    """Every form in the file, in reading order — every sheet of a workbook and every table of a
    document is looked at — and the sheets or tables that hold something but are no form."""
    forms: list[Located] = []
    ignored: list[Location] = []
    specs = (campaign.spec("roster"), campaign.spec("stats"))
    for sheet in package.sheets:
        found = _forms_in(sheet, specs)
        forms.extend(found)
        ignored.extend(_not_forms(sheet, found, specs))
    return forms, ignored


def _forms_in(sheet: Sheet, specs: tuple[RosterSpec, StatsSpec]) -> list[Located]:
    """The forms of one sheet (or one document's body), each bounded by the next one's start."""
    wanted = [(spec, [squash(label) for label in spec.columns]) for spec in specs]
    headers: list[tuple[int, RosterSpec | StatsSpec]] = []
    for index, row in enumerate(sheet.rows):
        squashed = row.squashed
        for spec, labels in wanted:
            if labels[0] in squashed and all(label in [row.squashed_at(i) for i in range(len(row))] for label in labels):
                headers.append((index, spec))
                break
    unit_key = squash(UNIT_FIELD_LABEL)
    starts = []
    for k, (index, spec) in enumerate(headers):
        lower = headers[k - 1][0] + 1 if k else 0
        title_key, label_key = squash(spec.title), squash(spec.label)
        marks = [i for i in range(lower, index)
                 if (title_key and title_key in sheet.rows[i].squashed) or unit_key in sheet.rows[i].squashed
                 or sheet.rows[i].squashed.rstrip(":：") == label_key]
        starts.append(min(marks) if marks else index)
    forms = []
    previous_end = 0
    for k, (index, spec) in enumerate(headers):
        following = starts[k + 1] if k + 1 < len(headers) else len(sheet.rows)
        located, previous_end = _form_at(sheet, spec, index, previous_end, following)
        located.span = range(starts[k] if k else 0, following)
        forms.append(located)
    return forms


def _form_at(sheet: Sheet, spec: RosterSpec | StatsSpec, header_index: int, lower: int, following: int) -> tuple[Located, int]:
    """The form whose header row is ``header_index``: its title and 填报部门 between ``lower`` and
    the header, its body, and its footer before ``following`` (the next form's first line)."""
    title_key = squash(spec.title)
    header = sheet.rows[header_index]
    texts = [header.squashed_at(i) for i in range(len(header))]
    columns = {label: texts.index(label) for label in (squash(label) for label in spec.columns)}
    filler_key = squash(spec.filler_labels[0])
    body, end = [], following
    for index in range(header_index + 1, following):
        row = sheet.rows[index]
        if (header.table is not None and row.table != header.table) or filler_key in row.squashed:
            end = index
            break
        body.append(row)
    before = sheet.rows[lower:header_index]
    title = None
    for row in reversed(before):
        if title_key and title_key in row.squashed:
            title = next((c for c in row.cells if title_key in c.squashed), row.cells[0])
            break
    unit = labelled_cell(before[::-1], UNIT_FIELD_LABEL)
    tail = sheet.rows[end:following]
    footer = {
        "filler": labelled_cell(tail, spec.filler_labels[0], stop=spec.filler_labels[1]),
        "filler_phone": labelled_cell(tail, spec.filler_labels[1]),
    }
    place = Location.whole_table(header.table) if header.table is not None else Location.sheet(sheet.name)
    return Located(spec.key, sheet, title, unit, columns, body, footer, header, place=place), end


def _not_forms(sheet: Sheet, forms: list[Located], specs: tuple[RosterSpec, StatsSpec]) -> list[Location]:
    """A sheet with no form that holds something; in a document, each table that holds something
    and neither a form nor any of a form's labels (a layout table for the footer is the form's)."""
    if sheet.rows and sheet.rows[0].start.kind == "cell":  # a workbook's sheet
        if forms or all(cell.is_empty for row in sheet.rows for cell in row.cells):
            return []
        return [Location.sheet(sheet.name)]
    used = {form.header_row.table for form in forms if form.header_row is not None}
    labels = [squash(text) for spec in specs for text in (spec.title, *spec.filler_labels)] + [squash(UNIT_FIELD_LABEL)]
    tables: dict[int, list[Row]] = {}
    for row in sheet.rows:
        if row.table is not None:
            tables.setdefault(row.table, []).append(row)
    ignored = []
    for number, rows in tables.items():
        if number in used or all(cell.is_empty for row in rows for cell in row.cells):
            continue
        if any(label and label in row.squashed for row in rows for label in labels):
            continue
        ignored.append(Location.whole_table(number))
    return ignored


# --- by position ----------------------------------------------------------------------------------


class _Frame:
    """A generated workbook form, as the reader checks it: each locked cell's text, the open cells,
    and everything else empty, from A1 to the footer. None of it is read from a file: it is the
    form definition's (:meth:`~campaign315.spec.forms.StatsLayout.fixed_cells`)."""

    def __init__(self, spec: RosterSpec | StatsSpec):
        layout = StatsLayout(spec) if spec.key == "stats" else RosterLayout(spec)
        self.spec, self.footer_row, self.width = spec, layout.footer_row, 5
        self.fixed = layout.fixed_cells()
        inputs = layout.input_cells()
        # Per row: the locked cells (their text, or "" when the form leaves them empty), and the
        # open ones, as tuples a row's values are compared with in one step.
        self.locked: list[tuple[int, itemgetter, tuple]] = []
        self.typed: list[tuple[int, itemgetter]] = []
        for r in range(1, self.footer_row + 1):
            locked = [c for c in range(self.width) if (r, c + 1) not in inputs]
            typed = [c for c in range(self.width) if (r, c + 1) in inputs]
            if locked:
                self.locked.append((r - 1, itemgetter(*locked, locked[0]), tuple(self.fixed.get((r, c + 1), "") for c in (*locked, locked[0]))))
            if typed and HEADER_ROW < r < self.footer_row:
                self.typed.append((r - 1, itemgetter(*typed, typed[0])))
        self.body = range(HEADER_ROW + 1, self.footer_row)
        self.labels = [squash(label) for label in spec.columns]
        header = [squash(self.fixed.get((HEADER_ROW, c), "")) for c in range(1, self.width + 1)]
        self.columns = {label: header.index(label) for label in self.labels if label in header}
        self.title_key = squash(spec.title)
        self.filler_key = squash(spec.filler_labels[0])
        self.filler_chars = frozenset(self.filler_key)
        self.usable = self._usable(header)
        self.title_row = 1 if self.title_key in squash(self.fixed.get((1, 1), "")) else TITLE_ROW
        # 填报部门 and the footer: a label in a locked cell, what was typed in the open cell after it.
        self.filler_col = ord(layout.filler_cell[0]) - 64
        self.phone_col = ord(layout.filler_phone_cell[0]) - 64
        self.phone_label_col = self.phone_col - 1
        self.phone_key = squash(spec.filler_labels[1])
        self.phone_chars = frozenset(self.phone_key)
        self.by_position = self.usable and self._labels_then_values(inputs)

    def _labels_then_values(self, inputs: set[tuple[int, int]]) -> bool:
        """Whether :func:`labelled_cell` finds 填报部门, 填报人 and 联系电话 in their locked cells with
        nothing after the label there, so what they name is the open cell beside them (or, left
        empty, nothing): then the reader takes those cells by position."""
        spec, footer = self.spec, self.footer_row
        unit_key = squash(UNIT_FIELD_LABEL)

        def bare(where: tuple[int, int], label: str) -> bool:  # the label alone in its cell
            text = self.fixed.get(where, "")
            return squash(label) in squash(text) and not _after_label(fold(text), label).strip()

        between = [(footer, c) for c in range(self.filler_col + 1, self.phone_label_col)]
        return (
            all(unit_key not in squash(self.fixed.get((r, 1), "")) for r in range(1, UNIT_ROW))
            and bare((UNIT_ROW, 1), UNIT_FIELD_LABEL) and (UNIT_ROW, 2) in inputs
            and all((UNIT_ROW, c) not in inputs and (UNIT_ROW, c) not in self.fixed for c in range(3, self.width + 1))
            and bare((footer, 1), spec.filler_labels[0]) and self.phone_key not in squash(self.fixed.get((footer, 1), ""))
            and self.filler_col == 2 and (footer, 2) in inputs
            and all(where not in inputs and where not in self.fixed for where in between)
            and bare((footer, self.phone_label_col), spec.filler_labels[1]) and (footer, self.phone_col) in inputs
            and all((footer, c) not in inputs and (footer, c) not in self.fixed for c in range(self.phone_col + 1, self.width + 1))
        )

    def _usable(self, header: list[str]) -> bool:
        """Whether finding this form by position gives what the label search gives, whatever was
        typed into its open cells: checked once per form definition, so a campaign file with odd
        labels simply always takes the search."""
        above = [squash(self.fixed.get((r, 1), "")) for r in range(1, UNIT_ROW + 1)]
        fixed_rows = {r: "".join(squash(self.fixed.get((r, c), "")) for c in range(1, self.width + 1)) for r in self.body}
        return (
            len(set(self.labels)) == len(self.labels) >= 2 and all(self.labels)
            and all(label in header for label in self.labels)
            and not set(above) & set(self.labels)  # no row above the header can be taken for it
            and bool(self.title_key) and self.title_key in above[TITLE_ROW - 1]
            and bool(self.filler_key) and all(ord(ch) > 127 for ch in self.filler_key)  # numbers cannot spell it
            and self.filler_key in squash(footer_text(self.spec)[0])
            and not any(self.filler_key in text for text in fixed_rows.values())  # the body never ends early
        )


_FRAMES: dict[int, tuple[object, _Frame]] = {}


def _frame(spec: RosterSpec | StatsSpec) -> _Frame:
    known = _FRAMES.get(id(spec))
    if known is None or known[0] is not spec:
        known = _FRAMES[id(spec)] = (spec, _Frame(spec))
    return known[1]


def locate_generated(package: Package, campaign: Campaign, attachment: AttachmentKey) -> Located | None:
    """The form where c315 generated it, found by position — exactly what :func:`locate` finds for
    this attachment — or None when anything is not where the generated form has it (a row
    inserted or deleted, a label edited, a column added, a formula, another sheet first)."""
    ordered = sorted(package.sheets, key=lambda s: s.hidden)
    if not ordered:
        return None
    sheet, frame = ordered[0], _frame(campaign.spec(attachment))
    values = sheet.values
    if not frame.usable or values is None or sheet.formulas or len(values) < frame.footer_row:
        return None
    if len(values[0]) != frame.width:
        return None
    for index, locked, expected in frame.locked:
        if locked(values[index]) != expected:
            return None
    # The body ends at the first row that holds 填报人: only text typed into a body row could put
    # it there (the locked cells never do, and numbers cannot spell it).
    for index, typed in frame.typed:
        for value in typed(values[index]):
            if value.__class__ is str and value and not frame.filler_chars.isdisjoint(squash(value)):
                row = values[index]
                if frame.filler_key in "".join(squash(text_of(sheet_value(v))) for v in row if v != ""):
                    return None
    rows = sheet.rows
    footer_index = frame.footer_row - 1
    footer = values[footer_index]
    filler = footer[frame.filler_col - 1]
    name = sheet.name
    typed_filler = "" if filler == "" else squash(text_of(sheet_value(filler)))
    if frame.by_position and frame.phone_chars.isdisjoint(typed_filler):  # no 联系电话 typed before its label
        unit = _typed(values, name, UNIT_ROW, 1, 2)
        footer_cells = {"filler": _typed(values, name, frame.footer_row, 1, frame.filler_col),
                        "filler_phone": _typed(values, name, frame.footer_row, frame.phone_label_col, frame.phone_col)}
    else:
        tail = rows[footer_index:]
        spec = frame.spec
        unit = labelled_cell(rows[:HEADER_ROW - 1], UNIT_FIELD_LABEL)
        footer_cells = {"filler": labelled_cell(tail, spec.filler_labels[0], stop=spec.filler_labels[1]),
                        "filler_phone": labelled_cell(tail, spec.filler_labels[1])}
    title = Cell(sheet_value(values[frame.title_row - 1][0]), Location.cell(name, frame.title_row, 1))
    return Located(attachment, sheet, title, unit, dict(frame.columns), rows[HEADER_ROW:footer_index], footer_cells,
                   rows[HEADER_ROW - 1], as_generated=True, place=Location.sheet(name), span=range(len(rows)))


def _typed(values: list[list[object]], sheet: str, row: int, label_column: int, column: int) -> Cell:
    """What :func:`labelled_cell` gives for a label alone in its cell with an open cell after it:
    the open cell, or — left empty — a cell with nothing, where the label is."""
    value = sheet_value(values[row - 1][column - 1])
    if value is None or (value.__class__ is str and not value.strip()) or not text_of(value).strip():
        return Cell(None, Location.cell(sheet, row, label_column))
    return Cell(value, Location.cell(sheet, row, column))


# --- by label ----------------------------------------------------------------------------------------


def labelled_cell(rows: list[Row], label: str, stop: str | None = None) -> Cell | None:
    """The value written after ``label``: in the same cell (``填报人：张涛``, cut before ``stop``)
    or in the next non-empty cell of the row (``填报人：`` | ``张涛``). None when the label is not
    there; a cell with value None when the label is there but nothing was written."""
    key = squash(label)
    stop_key = squash(stop) if stop else ""
    for row in rows:
        if key not in row.squashed:
            continue
        for i in range(len(row)):
            if key not in row.squashed_at(i):
                continue
            cell = row.cell(i)
            text = fold(cell.text)
            after = _after_label(text, label)
            if stop and stop_key in squash(after):
                after = _before_label(after, stop)
            after = after.strip()
            if after:
                return Cell(after, cell.location)
            for j in range(i + 1, len(row)):
                if row.is_empty_at(j):
                    continue
                if stop and stop_key in squash(row.text_at(j)):
                    break
                return row.cell(j)
            return Cell(None, cell.location)
    return None


@lru_cache(maxsize=64)
def _label_pattern(label: str) -> re.Pattern:
    return re.compile(r"\s*".join(map(re.escape, squash(label))))


def _after_label(text: str, label: str) -> str:
    match = _label_pattern(label).search(text)
    return _COLON.sub("", text[match.end():]) if match else ""


def _before_label(text: str, label: str) -> str:
    match = _label_pattern(label).search(text)
    return text[: match.start()] if match else text
