"""Filled returns for tests: a unit's blank form made by ``campaign315.generate``, then filled the
way a person would — openpyxl for .xlsx, python-docx for .docx — from a plain dict of values.

    path = blank(tmp_path, "办公室", "stats", "xlsx")
    fill_stats(path, {"1.1": 3, "1.2": "３场"}, filler="张涛", phone="13682055679")

Values are written as typed: an ``int`` becomes a number cell, a ``str`` a text cell (never a
formula — use :func:`write_formula`), a ``date``/``datetime`` a real date cell, ``None`` clears
the cell. A key left out of the dict leaves its cell as generated. In a .docx everything is text.

Besides filling, the messy edits people make: :func:`write_formula` (with or without the cached
result), :func:`strip_identity` (what a re-save may do), :func:`set_identity`, labels changed
(``fill_stats(labels=...)``), rows inserted, deleted or swapped.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import re
import zipfile
from functools import cache
from pathlib import Path

import openpyxl
from docx import Document
from openpyxl.packaging.custom import CustomPropertyList, StringProperty

from campaign315.common.files import shipped
from campaign315.generate.forms import generate_forms, plan_forms
from campaign315.generate.stamp import with_custom_properties
from campaign315.intake.read.package import read_custom_properties
from campaign315.spec.campaign import AttachmentKey, Campaign, load_campaign
from campaign315.spec.forms import (
    IDENTITY_SHEET,
    SHEET_NAMES,
    UNIT_ROW,
    Identity,
    RosterLayout,
    StatsLayout,
)
from campaign315.spec.location import Location

ROSTER_FIELDS = ("date", "name", "position", "landline", "mobile")
STATS_COLUMNS = {"label": 1, "unit": 2, "quantity": 3, "remark": 4}  # grid columns in the .docx (0-based)
_CUSTOM_PART = "docProps/custom.xml"


@cache
def shipped_campaign() -> Campaign:
    return load_campaign(shipped("data") / "campaign.toml")


def blank(folder: Path, unit: str, attachment: AttachmentKey, fmt: str, campaign: Campaign | None = None) -> Path:
    """Generate ``unit``'s blank form (as ``c315 generate-forms`` does) under ``folder``."""
    campaign = campaign or shipped_campaign()
    found = campaign.find_unit(unit)
    assert found is not None, unit
    (planned,) = [p for p in plan_forms(campaign, [found], [fmt], Path(folder)) if p.attachment == attachment]
    generate_forms(campaign, [planned], shipped("templates"), force=True)
    return planned.path


# --- locations, as the reader names them ----------------------------------------------------


def stats_cell(fmt: str, key: str, column: str = "quantity", campaign: Campaign | None = None) -> Location:
    """统计表!D5 (xlsx) or 表1 第2行第4列 (docx): an item's label/unit/quantity/remark cell."""
    spec = (campaign or shipped_campaign()).attachments.stats
    if fmt == "xlsx":
        return Location.cell(SHEET_NAMES["stats"], StatsLayout(spec).rows[key], STATS_COLUMNS[column] + 1)
    row = [item.key for item in spec.items].index(key) + 2
    return Location.table_cell(1, row, STATS_COLUMNS[column] + 1)


def roster_cell(fmt: str, index: int, field: str, campaign: Campaign | None = None) -> Location:
    """值班表!B6 (xlsx) or 表1 第3行第2列 (docx): the index-th person's field."""
    if fmt == "xlsx":
        layout = RosterLayout((campaign or shipped_campaign()).attachments.roster)
        return Location.cell(SHEET_NAMES["roster"], layout.body_rows[index], ROSTER_FIELDS.index(field) + 1)
    return Location.table_cell(1, index + 2, ROSTER_FIELDS.index(field) + 1)


def unit_cell(fmt: str, attachment: AttachmentKey) -> Location:
    """Where 填报部门 is: the cell after the label (xlsx) or the paragraph holding it (docx)."""
    return Location.cell(SHEET_NAMES[attachment], UNIT_ROW, 2) if fmt == "xlsx" else Location.paragraph(3)


# --- filling --------------------------------------------------------------------------------


def fill_stats(
    path: Path,
    quantities: dict[str, object] | None = None,
    *,
    remarks: dict[str, object] | None = None,
    labels: dict[str, object] | None = None,
    units: dict[str, object] | None = None,
    filler: str | None = None,
    phone: object = None,
    unit: str | None = None,
) -> Path:
    """Type quantities and remarks by item key; ``labels`` (the 其他 row's item cell, or a
    tampered label) and ``units`` (单位) overwrite what the form printed. ``unit`` is 填报部门."""
    path = Path(path)
    columns = {"quantity": quantities or {}, "remark": remarks or {}, "label": labels or {}, "unit": units or {}}
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path)
        ws = wb[SHEET_NAMES["stats"]]
        for column, values in columns.items():
            for key, value in values.items():
                _put(ws[stats_cell("xlsx", key, column).ref], value)
        layout = StatsLayout(shipped_campaign().attachments.stats)
        _footer_xlsx(ws, layout, filler, phone, unit)
        wb.save(path)
    else:
        document = Document(path)
        table = document.tables[0]
        keys = [item.key for item in shipped_campaign().attachments.stats.items]
        for column, values in columns.items():
            for key, value in values.items():
                _set_text(table.rows[keys.index(key) + 1].cells[STATS_COLUMNS[column]], value)
        _footer_docx(document, filler, phone, unit)
        document.save(path)
    return path


def fill_roster(
    path: Path,
    entries: list[dict[str, object]],
    *,
    filler: str | None = None,
    phone: object = None,
    unit: str | None = None,
) -> Path:
    """Type one person per row from the top: dicts with date/name/position/landline/mobile."""
    path = Path(path)
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path)
        ws = wb[SHEET_NAMES["roster"]]
        layout = RosterLayout(shipped_campaign().attachments.roster)
        assert len(entries) <= len(layout.body_rows), "more people than rows: insert rows first"
        for index, entry in enumerate(entries):
            for field, value in entry.items():
                _put(ws[layout.cell(index, field)], value)
        _footer_xlsx(ws, layout, filler, phone, unit)
        wb.save(path)
    else:
        document = Document(path)
        rows = document.tables[0].rows
        assert len(entries) < len(rows), "more people than rows: insert rows first"
        for index, entry in enumerate(entries):
            for field, value in entry.items():
                _set_text(rows[index + 1].cells[ROSTER_FIELDS.index(field)], value)
        _footer_docx(document, filler, phone, unit)
        document.save(path)
    return path


def _put(cell, value) -> None:
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # text as typed, even "=2+3": formulas go through write_formula


def _footer_xlsx(ws, layout, filler, phone, unit) -> None:
    if filler is not None:
        _put(ws[layout.filler_cell], filler)
    if phone is not None:
        _put(ws[layout.filler_phone_cell], phone)
    if unit is not None:
        _put(ws[f"B{UNIT_ROW}"], unit)


def _footer_docx(document, filler, phone, unit) -> None:
    """填报部门：<unit> and 填报人：<filler>\\t联系电话：<phone> are paragraphs in the .docx."""
    for paragraph in document.paragraphs:
        text = paragraph.text
        if unit is not None and text.startswith("填报部门"):
            _set_runs(paragraph, f"填报部门：{unit}")
        elif (filler is not None or phone is not None) and text.startswith("填报人"):
            old_filler, _, old_phone = text.partition("\t")
            who = f"填报人：{filler}" if filler is not None else old_filler
            number = f"联系电话：{phone}" if phone is not None else old_phone
            _set_runs(paragraph, f"{who}\t{number}")


def _set_runs(paragraph, text: str) -> None:
    """Replace a paragraph's text, keeping its first run's formatting; tabs stay tabs."""
    runs = paragraph.runs
    for run in runs[1:]:
        run._r.getparent().remove(run._r)
    if runs:
        runs[0].text = text
    else:
        paragraph.add_run(text)


def _set_text(cell, value) -> None:
    """Type into a Word table cell, keeping its paragraph style."""
    if isinstance(value, dt.datetime):
        value = value.date()
    text = "" if value is None else value.isoformat() if isinstance(value, dt.date) else str(value)
    paragraphs = cell.paragraphs
    for extra in paragraphs[1:]:
        extra._p.getparent().remove(extra._p)
    _set_runs(paragraphs[0], text)


# --- formulas (xlsx) --------------------------------------------------------------------------


def write_formula(path: Path, ref: str, formula: str, cached: object = None, sheet: str | None = None) -> Path:
    """Put ``=formula`` into cell ``ref`` by editing the sheet XML, with ``cached`` as the result
    the saving suite stored (None: no cached value, as openpyxl and some exports leave it)."""
    path = Path(path)
    sheet = sheet or SHEET_NAMES["stats"]
    body = formula.removeprefix("=").replace("&", "&amp;").replace("<", "&lt;")
    value = "" if cached is None else f"<v>{cached}</v>"
    with zipfile.ZipFile(path) as zf:
        part = _sheet_part(zf, sheet)
        xml = zf.read(part).decode()
    pattern = re.compile(rf'<c r="{ref}"(?P<attrs>[^>]*?)(?:/>|>.*?</c>)', re.DOTALL)
    match = pattern.search(xml)
    assert match, f"{ref} not in {part}"
    attrs = re.sub(r'\s+t="[^"]*"', "", match["attrs"])
    xml = xml[: match.start()] + f'<c r="{ref}"{attrs}><f>{body}</f>{value}</c>' + xml[match.end():]
    _rewrite(path, {part: xml.encode()})
    return path


def _sheet_part(zf: zipfile.ZipFile, sheet: str) -> str:
    workbook = zf.read("xl/workbook.xml").decode()
    rels = zf.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet[^>]*name="{re.escape(sheet)}"[^>]*r:id="([^"]+)"', workbook)[1]
    target = re.search(rf'<Relationship[^>]*Id="{rid}"[^>]*Target="([^"]+)"', rels)
    if target is None:
        target = re.search(rf'<Relationship[^>]*Target="([^"]+)"[^>]*Id="{rid}"', rels)
    target = target[1]
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def _rewrite(path: Path, replace: dict[str, bytes | None]) -> None:
    """Rewrite the zip at ``path`` with some parts replaced (bytes) or removed (None)."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename in replace:
                if replace[info.filename] is not None:
                    dst.writestr(info.filename, replace[info.filename])
            else:
                dst.writestr(info, src.read(info))
    path.write_bytes(out.getvalue())


# --- identity -------------------------------------------------------------------------------


def strip_identity(path: Path) -> Path:
    """Remove what a re-save may drop: ``docProps/custom.xml`` and the hidden ``c315`` sheet."""
    path = Path(path)
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path)
        del wb[IDENTITY_SHEET]
        wb.custom_doc_props = CustomPropertyList()
        wb.save(path)
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        types = zf.read("[Content_Types].xml").decode()
        rels = zf.read("_rels/.rels").decode()
    types = re.sub(r'<Override[^>]*PartName="/docProps/custom.xml"[^>]*/>', "", types)
    rels = re.sub(r'<Relationship[^>]*Target="/?docProps/custom.xml"[^>]*/>', "", rels)
    replace: dict[str, bytes | None] = {"[Content_Types].xml": types.encode(), "_rels/.rels": rels.encode()}
    if _CUSTOM_PART in names:
        replace[_CUSTOM_PART] = None
    _rewrite(path, replace)
    return path


def identity_of(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as zf:
        return read_custom_properties(zf)


def set_identity(path: Path, **fields: object) -> Path:
    """Change embedded identity fields (campaign, attachment, unit, schema_version) in both places."""
    path = Path(path)
    current = Identity.from_properties(identity_of(path))
    assert current is not None, "no identity to change"
    properties = current.model_copy(update=fields).properties()
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path)
        hidden = wb[IDENTITY_SHEET]
        for row in hidden.iter_rows(min_col=1, max_col=2):
            if row[0].value in properties:
                row[1].value = properties[row[0].value]
        wb.custom_doc_props = CustomPropertyList()
        for name, value in properties.items():
            wb.custom_doc_props.append(StringProperty(name=name, value=value))
        wb.save(path)
    else:
        path.write_bytes(with_custom_properties(path.read_bytes(), properties))
    return path


# --- rows inserted, deleted, moved --------------------------------------------------------------


def insert_row(path: Path, attachment: AttachmentKey, before: int, values: dict[str, object] | None = None) -> Path:
    """Insert a body row before body row ``before`` (0-based: the first item or person is 0) and
    type ``values`` into it (stats: label/unit/quantity/remark; roster: the five fields)."""
    path = Path(path)
    values = values or {}
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path)
        ws = wb[SHEET_NAMES[attachment]]
        row = 5 + before
        _shift_rows(ws, row, 1)
        letters = dict(zip(ROSTER_FIELDS, "ABCDE", strict=True)) if attachment == "roster" else \
            {"label": "B", "unit": "C", "quantity": "D", "remark": "E"}
        for field, value in values.items():
            _put(ws[f"{letters[field]}{row}"], value)
        wb.save(path)
    else:
        document = Document(path)
        table = document.tables[0]
        model = table.rows[before + 1]._tr if attachment == "roster" else _stats_model_row(table, before)
        tr = copy.deepcopy(model)
        table.rows[before + 1]._tr.addprevious(tr)
        new = table.rows[before + 1]
        columns = {f: i for i, f in enumerate(ROSTER_FIELDS)} if attachment == "roster" else STATS_COLUMNS
        for field, index in columns.items():
            _set_text(new.cells[index], values.get(field))
        document.save(path)
    return path


def _stats_model_row(table, before: int):
    """A row to copy for an inserted item: one continuing its category's merged cell."""
    tr = copy.deepcopy(table.rows[before + 1]._tr)
    for v_merge in tr.iter("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}vMerge"):
        v_merge.attrib.clear()  # continue the merge above
    return tr


def delete_row(path: Path, attachment: AttachmentKey, index: int) -> Path:
    """Delete body row ``index`` (0-based). Deleting the first row of a 附件2 category takes the
    merged category cell's text with it, as Word does."""
    path = Path(path)
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path)
        ws = wb[SHEET_NAMES[attachment]]
        _shift_rows(ws, 5 + index, -1)
        wb.save(path)
    else:
        document = Document(path)
        tr = document.tables[0].rows[index + 1]._tr
        tr.getparent().remove(tr)
        document.save(path)
    return path


def swap_stats_rows(path: Path, first: str, second: str) -> Path:
    """Swap two item rows (label, unit, quantity, remark) — within a category, as a person would
    by cut and paste."""
    path = Path(path)
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path)
        ws = wb[SHEET_NAMES["stats"]]
        for column in STATS_COLUMNS:
            a = ws[stats_cell("xlsx", first, column).ref]
            b = ws[stats_cell("xlsx", second, column).ref]
            a.value, b.value = b.value, a.value
        wb.save(path)
    else:
        document = Document(path)
        keys = [item.key for item in shipped_campaign().attachments.stats.items]
        rows = document.tables[0].rows
        a, b = rows[keys.index(first) + 1], rows[keys.index(second) + 1]
        for index in STATS_COLUMNS.values():
            text_a, text_b = a.cells[index].text, b.cells[index].text
            _set_text(a.cells[index], text_b)
            _set_text(b.cells[index], text_a)
        document.save(path)
    return path


def _shift_rows(ws, row: int, amount: int) -> None:
    """Insert (amount 1) or delete (-1) a sheet row as Excel does: merged ranges move or grow."""
    merged = [(r.min_col, r.min_row, r.max_col, r.max_row) for r in ws.merged_cells.ranges]
    for cell_range in list(ws.merged_cells.ranges):
        ws.unmerge_cells(str(cell_range))
    if amount > 0:
        ws.insert_rows(row, amount)
    else:
        ws.delete_rows(row, -amount)
    for min_col, min_row, max_col, max_row in merged:
        if amount < 0 and min_row == max_row == row:
            continue
        if min_row >= row + (amount < 0):
            min_row += amount
        if max_row >= row:
            max_row += amount
        if (min_row, min_col) != (max_row, max_col):
            ws.merge_cells(start_row=min_row, start_column=min_col, end_row=max_row, end_column=max_col)


# --- what came back -------------------------------------------------------------------------


def codes(problems) -> list[str]:
    """The codes of a list of problems (dicts from ``--json``, or Problem records)."""
    return [p["code"] if isinstance(p, dict) else p.code for p in problems]


def located(problems) -> set[tuple[str, str]]:
    """{(code, location as shown)} of a list of problems (dicts from ``--json``, or Problem records)."""
    return {(p["code"], p["location"]) if isinstance(p, dict) else (p.code, str(p.location)) for p in problems}


# --- several forms in one file ------------------------------------------------------------------


def combine(first: Path, second: Path, target: Path) -> Path:
    """One file holding both forms, made as office staff make it: the second workbook's form sheet
    copied into the first workbook (values, merged cells, column widths — as Excel's "move or copy
    sheet" brings them), or the second document's body pasted after the first's."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    if Path(first).suffix == ".xlsx":
        wb = openpyxl.load_workbook(first)
        other = openpyxl.load_workbook(second)
        source = next(ws for ws in other.worksheets if ws.title != IDENTITY_SHEET)
        copy_sheet(source, wb.create_sheet(source.title, index=len(wb.sheetnames) - 1))
        wb.save(target)
    else:
        document, other = Document(first), Document(second)
        body = document.element.body
        anchor = body[-1]  # the section properties stay last
        for element in list(other.element.body):
            if element.tag.endswith("}sectPr"):
                continue
            anchor.addprevious(copy.deepcopy(element))
        document.save(target)
    return target


def copy_sheet(source, target) -> None:
    """Values, merged ranges and column widths of one worksheet into another (any workbook)."""
    for row in source.iter_rows():
        for cell in row:
            if cell.value is not None and not isinstance(cell, openpyxl.cell.cell.MergedCell):
                _put(target.cell(cell.row, cell.column), cell.value)
    for merged in source.merged_cells.ranges:
        target.merge_cells(str(merged))
    for letter, dimension in source.column_dimensions.items():
        target.column_dimensions[letter].width = dimension.width
