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


def locate(package: Package, campaign: Campaign, attachment: AttachmentKey | None = None) -> Located | None:
    """The best-matching form in the file (the given attachment, if the identity says which),
    or None when no sheet holds a recognisable title and header."""
    wanted = (attachment,) if attachment else ("roster", "stats")
    best: tuple[int, Located] | None = None
    for sheet in sorted(package.sheets, key=lambda s: s.hidden):
        for key in wanted:
            found = _locate_in(sheet, campaign.spec(key))
            if found and (best is None or found[0] > best[0]):
                best = found
    return best[1] if best else None


def _locate_in(sheet: Sheet, spec: RosterSpec | StatsSpec) -> tuple[int, Located] | None:
    title_key = squash(spec.title)
    labels = [squash(label) for label in spec.columns]
    title = header_index = None
    for index, row in enumerate(sheet.rows):
        if title is None and title_key and title_key in row.squashed:
            title = next((c for c in row.cells if title_key in c.squashed), row.cells[0])
        if labels[0] not in row.squashed:
            continue
        texts = [c.squashed for c in row.cells]
        if all(label in texts for label in labels):
            header_index = index
            break
    if header_index is None:
        return None
    header = sheet.rows[header_index]
    texts = [c.squashed for c in header.cells]
    columns = {label: texts.index(label) for label in labels}
    filler_key = squash(spec.filler_labels[0])
    body, end = [], len(sheet.rows)
    for index in range(header_index + 1, len(sheet.rows)):
        row = sheet.rows[index]
        if (header.table is not None and row.table != header.table) or filler_key in row.squashed:
            end = index
            break
        body.append(row)
    unit = labelled_cell(sheet.rows[:header_index], UNIT_FIELD_LABEL)
    tail = sheet.rows[end:]
    footer = {
        "filler": labelled_cell(tail, spec.filler_labels[0], stop=spec.filler_labels[1]),
        "filler_phone": labelled_cell(tail, spec.filler_labels[1]),
    }
    score = 2 + (title is not None)
    return score, Located(spec.key, sheet, title, unit, columns, body, footer, header)


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
