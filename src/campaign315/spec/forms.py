"""The one definition of the two forms: what a filled form means, and where each part sits.

Generation (``generate``), reading (``read``), validation (``validate``) and the summary all take
labels, rows and cell addresses from here and from the campaign data — never from a copy.

>>> from campaign315.common.files import shipped
>>> from campaign315.spec.campaign import load_campaign
>>> layout = StatsLayout(load_campaign(shipped("data") / "campaign.toml").attachments.stats)
>>> layout.quantity_cell("1.1"), layout.remark_cell("3")
('D5', 'E22')
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from campaign315.spec.campaign import AttachmentKey, Campaign, RosterSpec, StatsSpec
from campaign315.spec.location import Location

FORM_SCHEMA_VERSION = 1
"""Bumped when the layout of a generated form changes in a way the reader must know about."""

SHEET_NAMES: dict[AttachmentKey, str] = {"roster": "值班表", "stats": "统计表"}
"""The sheet of each generated workbook (and of the summary's own return)."""
IDENTITY_SHEET = "c315"
UNIT_FIELD_LABEL = "填报部门"
SHEET_PASSWORD = "315"
"""Sheet protection keeps labels in place; it is not a secret (README says it)."""


# --- what a filled form means ---------------------------------------------------------------


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RosterEntry(_Form):
    """One person on duty on the evening of 14 March."""

    date: dt.date | None = None
    name: str
    position: str = ""
    landline: str = ""
    mobile: str = ""


class DutyRoster(_Form):
    """附件1 as filled by one unit."""

    unit: str
    entries: list[RosterEntry] = []
    filler: str = ""
    filler_phone: str = ""


class StatsLine(_Form):
    """One row of 附件2. ``quantity`` None means the cell was left empty: not reported, not 0."""

    key: str
    quantity: int | None = Field(default=None, ge=0)
    remark: str = ""
    label: str = ""
    """What a free (其他) row says it counts, when the filler wrote it in the item cell."""
    cell: Location | None = None
    """Where the quantity was read, so every total can be traced to its cell."""


class ActivityStats(_Form):
    """附件2 as filled by one unit."""

    unit: str
    lines: list[StatsLine] = []
    filler: str = ""
    filler_phone: str = ""

    def line(self, key: str) -> StatsLine | None:
        return next((line for line in self.lines if line.key == key), None)


FilledForm = DutyRoster | ActivityStats


class Identity(_Form):
    """Who a generated form is for, embedded in it as document properties and a hidden sheet."""

    campaign: str
    attachment: Literal["roster", "stats"]
    unit: str
    schema_version: int = FORM_SCHEMA_VERSION

    def properties(self) -> dict[str, str]:
        return {
            "c315.campaign": self.campaign,
            "c315.attachment": self.attachment,
            "c315.unit": self.unit,
            "c315.schema": str(self.schema_version),
        }

    @classmethod
    def from_properties(cls, props: dict[str, str]) -> Identity | None:
        """The identity in a file's properties, or None when a re-save stripped or mangled it."""
        try:
            return cls(
                campaign=props["c315.campaign"],
                attachment=props["c315.attachment"],
                unit=props["c315.unit"],
                schema_version=int(props["c315.schema"]),
            )
        except (KeyError, ValueError):
            return None


# --- words printed around the table -------------------------------------------------------


def instruction(campaign: Campaign, attachment: AttachmentKey) -> str:
    """The one line telling the filler when and to whom: 请于3月13日中午前通过新OA报送区消协张涛（…）。"""
    spec = campaign.spec(attachment)
    contact = campaign.collector_contact
    whom = f"{campaign.collector.name}{contact.name}（{contact.phone}）" if contact else campaign.collector.name
    return f"请于{spec.due_text}通过{campaign.channel}报送{whom}。"


def footer_text(spec: RosterSpec | StatsSpec, filler: str = "", phone: str = "") -> tuple[str, str]:
    return f"{spec.filler_labels[0]}：{filler}", f"{spec.filler_labels[1]}：{phone}"


def form_filename(spec: RosterSpec | StatsSpec, unit: str, suffix: str) -> str:
    """附件1-2020年天津卫视3•14晚间值班表-办公室.xlsx — what a person expects to see in OA."""
    return f"{spec.label}-{spec.title}-{unit}.{suffix}"


# --- where things sit in the .xlsx --------------------------------------------------------
# Rows 1–3: 附件N, title, 填报部门. Row 4: column headers. Then the body, the footer
# (填报人 / 联系电话), the reporting-period note (附件2) and the instruction line.

TITLE_ROW = 2
UNIT_ROW = 3
HEADER_ROW = 4
FIRST_BODY_ROW = 5


class StatsLayout:
    """Cells of 附件2: A category (merged down), B item, C unit, D quantity, E remark."""

    category_col, item_col, unit_col, quantity_col, remark_col = "ABCDE"
    last_col = "E"

    def __init__(self, spec: StatsSpec):
        self.spec = spec
        self.rows = {item.key: FIRST_BODY_ROW + i for i, item in enumerate(spec.items)}
        self.footer_row = FIRST_BODY_ROW + len(spec.items)
        self.note_row = self.footer_row + 1
        self.instruction_row = self.note_row + 1

    def quantity_cell(self, key: str) -> str:
        return f"{self.quantity_col}{self.rows[key]}"

    def remark_cell(self, key: str) -> str:
        return f"{self.remark_col}{self.rows[key]}"

    def label_cell(self, key: str) -> str:
        return f"{self.item_col}{self.rows[key]}"

    def category_runs(self) -> list[tuple[str, int, int]]:
        """(category, first row, last row) for each vertically merged category cell."""
        runs: list[tuple[str, int, int]] = []
        for item in self.spec.items:
            row = self.rows[item.key]
            if runs and runs[-1][0] == item.category:
                runs[-1] = (item.category, runs[-1][1], row)
            else:
                runs.append((item.category, row, row))
        return runs

    filler_cell = property(lambda self: f"B{self.footer_row}")
    filler_phone_cell = property(lambda self: f"E{self.footer_row}")

    def fixed_cells(self) -> dict[tuple[int, int], str]:
        """What the blank form holds in each locked cell from A1 to its footer, by (row, column):
        the cells a return still holds as generated when nobody moved anything."""
        cells = _frame_cells(self.spec, self)
        item_header, unit_header, quantity_header, remark_header = self.spec.columns
        cells.update({(HEADER_ROW, 1): item_header, (HEADER_ROW, 3): unit_header, (HEADER_ROW, 4): quantity_header,
                      (HEADER_ROW, 5): remark_header})
        for category, first, _last in self.category_runs():
            cells[(first, 1)] = category
        for item in self.spec.items:
            row = self.rows[item.key]
            if item.label:
                cells[(row, 2)] = item.label
            if item.unit:
                cells[(row, 3)] = item.unit
        return {where: text for where, text in cells.items() if text}

    def input_cells(self) -> set[tuple[int, int]]:
        """The open cells from A1 to the footer, by (row, column): what a filler types into."""
        cells = {(UNIT_ROW, 2), (self.footer_row, 2), (self.footer_row, 5)}
        for item in self.spec.items:
            row = self.rows[item.key]
            cells |= {(row, 4), (row, 5)} | ({(row, 2)} if item.free and not item.label else set())
        return cells


class RosterLayout:
    """Cells of 附件1: A date, B name, C position, D landline, E mobile."""

    date_col, name_col, position_col, landline_col, mobile_col = "ABCDE"
    last_col = "E"

    def __init__(self, spec: RosterSpec, rows: int | None = None):
        self.spec = spec
        self.body_rows = range(FIRST_BODY_ROW, FIRST_BODY_ROW + max(rows or 0, spec.rows))
        self.footer_row = self.body_rows.stop
        self.instruction_row = self.footer_row + 1

    def cell(self, index: int, field: str) -> str:
        """The cell of the index-th person's field (date, name, position, landline, mobile)."""
        return f"{getattr(self, field + '_col')}{self.body_rows[index]}"

    filler_cell = property(lambda self: f"B{self.footer_row}")
    filler_phone_cell = property(lambda self: f"D{self.footer_row}")

    def fixed_cells(self) -> dict[tuple[int, int], str]:
        """What the blank form holds in each locked cell from A1 to its footer, by (row, column)."""
        cells = _frame_cells(self.spec, self)
        cells.update({(HEADER_ROW, column): label for column, label in enumerate(self.spec.columns, start=1)})
        return {where: text for where, text in cells.items() if text}

    def input_cells(self) -> set[tuple[int, int]]:
        """The open cells from A1 to the footer, by (row, column): what a filler types into (the
        first date cell too: it comes filled with 14日, and may be changed)."""
        body = {(row, column) for row in self.body_rows for column in range(1, 6)}
        return body | {(UNIT_ROW, 2), (self.footer_row, 2), (self.footer_row, 4)}


def _frame_cells(spec: RosterSpec | StatsSpec, layout: StatsLayout | RosterLayout) -> dict[tuple[int, int], str]:
    """附件N, the title, 填报部门 and the footer's two labels, as generate/xlsx.py writes them."""
    filler_label, phone_label = footer_text(spec)
    phone_label_column = ord(layout.filler_phone_cell[0]) - ord("A")  # just left of the phone cell
    return {(1, 1): spec.label, (TITLE_ROW, 1): spec.title, (UNIT_ROW, 1): f"{UNIT_FIELD_LABEL}：",
            (layout.footer_row, 1): filler_label, (layout.footer_row, phone_label_column): phone_label}


def layout_for(campaign: Campaign, attachment: AttachmentKey) -> StatsLayout | RosterLayout:
    spec = campaign.spec(attachment)
    return StatsLayout(spec) if attachment == "stats" else RosterLayout(spec)
