"""附件1 / 附件2 as an Excel workbook: the notice's table, labels locked, input cells open and
validated, the identity in document properties and a hidden sheet, A4 one page wide."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Border, Font, Protection, Side
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from campaign315.common.safety import set_cell
from campaign315.spec.campaign import AttachmentKey, Campaign
from campaign315.spec.forms import (
    HEADER_ROW,
    IDENTITY_SHEET,
    SHEET_NAMES,
    SHEET_PASSWORD,
    TITLE_ROW,
    UNIT_FIELD_LABEL,
    UNIT_ROW,
    ActivityStats,
    DutyRoster,
    FilledForm,
    Identity,
    RosterLayout,
    StatsLayout,
    footer_text,
    instruction,
)

BODY_FONT = Font(name="宋体", size=11)
BOLD_FONT = Font(name="宋体", size=11, bold=True)
TITLE_FONT = Font(name="宋体", size=16, bold=True)
_THIN = Side(style="thin")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
OPEN = Protection(locked=False)
TEXT = "@"

PHONE_RULE = dict(
    type="textLength", operator="between", formula1="7", formula2="16", allow_blank=True,
    showErrorMessage=True, errorStyle="stop", errorTitle="电话号码位数不对",
    error="请填写11位手机号（如13612345678）或8位固定电话（可加区号022-）。",
    showInputMessage=True, promptTitle="电话", prompt="手机11位；固定电话8位，可加区号022-。",
)


def render_xlsx(
    campaign: Campaign, attachment: AttachmentKey, unit: str, form: FilledForm | None = None, identity: Identity | None = None
) -> bytes:
    """The workbook for one unit, blank or (for the district summary) filled with ``form``.
    ``identity`` defaults to this campaign's; the district summary carries the parent campaign's."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_NAMES[attachment]
    spec = campaign.spec(attachment)
    if attachment == "stats":
        layout = StatsLayout(spec)
        _stats_body(ws, layout, form if isinstance(form, ActivityStats) else None)
    else:
        entries = form.entries if isinstance(form, DutyRoster) else []
        layout = RosterLayout(spec, rows=len(entries))
        _roster_body(ws, layout, form if isinstance(form, DutyRoster) else None)
    _frame(ws, campaign, attachment, unit, layout, form)
    _protect(wb, ws)
    _embed_identity(wb, identity or Identity(campaign=campaign.id, attachment=attachment, unit=unit))
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _frame(ws: Worksheet, campaign: Campaign, attachment: AttachmentKey, unit: str, layout, form) -> None:
    """Everything around the table: 附件N, title, 填报部门, footer, note, instruction, print setup."""
    spec = layout.spec
    last = layout.last_col
    ws["A1"] = spec.label
    ws["A1"].font = BOLD_FONT
    ws.merge_cells(f"A{TITLE_ROW}:{last}{TITLE_ROW}")
    _put(ws, f"A{TITLE_ROW}", spec.title, TITLE_FONT, CENTER)
    ws.row_dimensions[TITLE_ROW].height = 36
    _put(ws, f"A{UNIT_ROW}", f"{UNIT_FIELD_LABEL}：", BOLD_FONT, LEFT)
    ws.merge_cells(f"B{UNIT_ROW}:{last}{UNIT_ROW}")
    _put(ws, f"B{UNIT_ROW}", unit, BOLD_FONT, LEFT)

    filler_label, phone_label = footer_text(spec)
    row = layout.footer_row
    phone_label_cell = chr(ord(layout.filler_phone_cell[0]) - 1) + str(row)
    _put(ws, f"A{row}", filler_label, BOLD_FONT, LEFT)
    _put(ws, phone_label_cell, phone_label, BOLD_FONT, LEFT)
    for cell, value in ((layout.filler_cell, form.filler if form else ""),
                        (layout.filler_phone_cell, form.filler_phone if form else "")):
        _put(ws, cell, (value), BODY_FONT, LEFT, number_format=TEXT, unlocked=True)
    phone_rule = DataValidation(**PHONE_RULE, sqref=layout.filler_phone_cell)
    ws.add_data_validation(phone_rule)
    ws.row_dimensions[row].height = 24

    if attachment == "stats":
        ws.merge_cells(f"A{layout.note_row}:{last}{layout.note_row}")
        _put(ws, f"A{layout.note_row}", spec.note, BODY_FONT, LEFT)
    if form is None:  # a blank form tells its filler when and to whom; a filled summary does not
        ws.merge_cells(f"A{layout.instruction_row}:{last}{layout.instruction_row}")
        _put(ws, f"A{layout.instruction_row}", instruction(campaign, attachment), BODY_FONT, LEFT)

    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.print_area = f"A1:{last}{layout.instruction_row}"
    ws.sheet_view.zoomScale = 100


def _stats_body(ws: Worksheet, layout: StatsLayout, form: ActivityStats | None) -> None:
    spec = layout.spec
    for col, width in zip("ABCDE", (12, 24, 11, 11, 30), strict=True):
        ws.column_dimensions[col].width = width
    item_header, unit_header, quantity_header, remark_header = spec.columns
    ws.merge_cells(f"A{HEADER_ROW}:B{HEADER_ROW}")
    for col, text in zip("ABCDE", (item_header, "", unit_header, quantity_header, remark_header), strict=True):
        _put(ws, f"{col}{HEADER_ROW}", text, BOLD_FONT, CENTER, border=True)
    ws.row_dimensions[HEADER_ROW].height = 24

    quantity_rule = DataValidation(
        type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True,
        showErrorMessage=True, errorStyle="stop", errorTitle="数量须为整数",
        error="请填写不小于0的整数（如 3），不要带单位、小数或文字；没有开展请填 0。",
        showInputMessage=True, promptTitle="数量", prompt="填写不小于0的整数，单位见左列。",
    )
    for category, first, last in layout.category_runs():
        if last > first:
            ws.merge_cells(f"A{first}:A{last}")
        _put(ws, f"A{first}", category, BODY_FONT, CENTER, border=True)
        for row in range(first + 1, last + 1):
            ws[f"A{row}"].border = BORDER
    for item in spec.items:
        row = layout.rows[item.key]
        line = form.line(item.key) if form else None
        label = (line.label if line and line.label else item.label) if item.free else item.label
        _put(ws, f"B{row}", (label), BODY_FONT, LEFT, border=True, unlocked=item.free and not item.label)
        _put(ws, f"C{row}", item.unit, BODY_FONT, CENTER, border=True)
        quantity = line.quantity if line else None
        _put(ws, layout.quantity_cell(item.key), quantity, BODY_FONT, CENTER, border=True, unlocked=True)
        _put(ws, layout.remark_cell(item.key), (line.remark if line else ""), BODY_FONT, LEFT,
             border=True, unlocked=True)
        ws.row_dimensions[row].height = 22
    quantity_rule.add(f"{layout.quantity_col}{layout.rows[spec.items[0].key]}:"
                      f"{layout.quantity_col}{layout.rows[spec.items[-1].key]}")
    ws.add_data_validation(quantity_rule)


def _roster_body(ws: Worksheet, layout: RosterLayout, form: DutyRoster | None) -> None:
    spec = layout.spec
    for col, width in zip("ABCDE", (12, 14, 18, 18, 18), strict=True):
        ws.column_dimensions[col].width = width
    for col, text in zip("ABCDE", spec.columns, strict=True):
        _put(ws, f"{col}{HEADER_ROW}", text, BOLD_FONT, CENTER, border=True)
    ws.row_dimensions[HEADER_ROW].height = 24
    entries = form.entries if form else []
    for index, row in enumerate(layout.body_rows):
        entry = entries[index] if index < len(entries) else None
        if entry:
            date = f"{entry.date.day}日" if entry.date else ""
            values = (date, entry.name, entry.position, entry.landline, entry.mobile)
        else:
            values = (spec.first_date_label if index == 0 and not entries else "", "", "", "", "")
        for col, value in zip("ABCDE", values, strict=True):
            _put(ws, f"{col}{row}", (value), BODY_FONT, CENTER, border=True, unlocked=True, number_format=TEXT)
        ws.row_dimensions[row].height = 22
    first, last = layout.body_rows[0], layout.body_rows[-1]
    ws.add_data_validation(DataValidation(**PHONE_RULE, sqref=f"D{first}:E{last}"))


def _put(ws, ref, value, font, alignment, *, border=False, unlocked=False, number_format=None) -> None:
    cell = ws[ref]
    if value not in ("", None):
        set_cell(cell, value)
    cell.font = font
    cell.alignment = alignment
    if border:
        cell.border = BORDER
    if unlocked:
        cell.protection = OPEN
    if number_format:
        cell.number_format = number_format


def _protect(wb: Workbook, ws: Worksheet) -> None:
    """Labels locked, input cells open; columns and rows may still be resized and rows inserted."""
    protection = ws.protection
    protection.sheet = True
    protection.password = SHEET_PASSWORD
    protection.formatColumns = False
    protection.formatRows = False
    protection.insertRows = False
    protection.deleteRows = False
    wb.security = WorkbookProtection(workbookPassword=SHEET_PASSWORD, lockStructure=True)


def _embed_identity(wb: Workbook, identity: Identity) -> None:
    """Twice, so one survives what a re-save strips: custom properties and a hidden sheet."""
    hidden = wb.create_sheet(IDENTITY_SHEET)
    for row, (key, value) in enumerate(identity.properties().items(), start=1):
        hidden.cell(row=row, column=1, value=key)
        hidden.cell(row=row, column=2, value=value).number_format = TEXT
        wb.custom_doc_props.append(StringProperty(name=key, value=value))
    hidden.sheet_state = "hidden"
    hidden.protection.sheet = True
    hidden.protection.password = SHEET_PASSWORD
