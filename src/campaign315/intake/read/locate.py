"""Find a form's parts by their labels — title, 填报部门, header row, body, 填报人 / 联系电话 —
so a return is read right after rows were inserted or deleted, columns widened, or the table
re-saved by WPS or LibreOffice. Labels come from the campaign data, never from here."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from campaign315.common.text import fold, squash
from campaign315.intake.read.cells import Cell, Package, Row, Sheet
from campaign315.spec.campaign import AttachmentKey, Campaign, RosterSpec, StatsSpec
from campaign315.spec.forms import UNIT_FIELD_LABEL
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
            if labels[0] in squashed and all(label in [c.squashed for c in row.cells] for label in labels):
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
    texts = [c.squashed for c in header.cells]
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
    return Located(spec.key, sheet, title, unit, columns, body, footer, header, place), end


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


def labelled_cell(rows: list[Row], label: str, stop: str | None = None) -> Cell | None:
    """The value written after ``label``: in the same cell (``填报人：张涛``, cut before ``stop``)
    or in the next non-empty cell of the row (``填报人：`` | ``张涛``). None when the label is not
    there; a cell with value None when the label is there but nothing was written."""
    key = squash(label)
    for row in rows:
        if key not in row.squashed:
            continue
        for i, cell in enumerate(row.cells):
            if key not in cell.squashed:
                continue
            text = fold(cell.text)
            after = _after_label(text, label)
            if stop and squash(stop) in squash(after):
                after = _before_label(after, stop)
            after = after.strip()
            if after:
                return Cell(after, cell.location)
            for following in row.cells[i + 1:]:
                if following.is_empty:
                    continue
                if stop and squash(stop) in squash(following.text):
                    break
                return following
            return Cell(None, cell.location)
    return None


def _label_pattern(label: str) -> re.Pattern:
    return re.compile(r"\s*".join(map(re.escape, squash(label))))


def _after_label(text: str, label: str) -> str:
    match = _label_pattern(label).search(text)
    return _COLON.sub("", text[match.end():]) if match else ""


def _before_label(text: str, label: str) -> str:
    match = _label_pattern(label).search(text)
    return text[: match.start()] if match else text
