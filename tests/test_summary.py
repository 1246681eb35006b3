"""``c315 summary``: the district roll-up, run the real way — blank forms generated, filled as a
person would, ``c315 ingest --received-at``, ``c315 summary --json`` — and checked against the
fixture values: in the JSON, and in the files written, read back with openpyxl and python-docx
(cells, totals, types; never bytes)."""

from __future__ import annotations

import datetime as dt
import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
import pytest
from conftest import cli_runner
from docx import Document
from docx.oxml.ns import qn
from fill import blank, fill_roster, fill_stats, stats_cell

import campaign315.common.files
from campaign315.cli import app
from campaign315.common.files import shipped
from campaign315.common.safety import looks_active
from campaign315.common.text import fold, squash
from campaign315.common.words import STATUS_ZH
from campaign315.intake.read.package import read_custom_properties
from campaign315.reports.district_form import ANNEX_COLUMNS, ANNEX_HEADER_ROW, ANNEX_SHEET, see_annex
from campaign315.spec.campaign import load_campaign
from campaign315.spec.forms import IDENTITY_SHEET, SHEET_NAMES, UNIT_FIELD_LABEL, UNIT_ROW, StatsLayout
from campaign315.spec.location import Location
from campaign315.spec.problems import Code

CAMPAIGN = load_campaign(shipped("data") / "campaign.toml")
STATS = CAMPAIGN.attachments.stats
ROSTER = CAMPAIGN.attachments.roster
ITEMS = {item.key: item for item in STATS.items}
KEYS = list(ITEMS)
FREE = [key for key, item in ITEMS.items() if item.free]
LAYOUT = StatsLayout(STATS)
STATS_UNITS = [unit.name for unit in CAMPAIGN.units_owing("stats")]
ROSTER_UNITS = [unit.name for unit in CAMPAIGN.units_owing("roster")]
DISTRICT = CAMPAIGN.district.name
FILLER = {"filler": "张涛", "phone": "13682055679"}

C315 = Callable[..., object]
"""``c315 ARGS...`` against one workspace: conftest's ``c315`` in a test, :func:`c315_in` in a
module-scoped fixture (which conftest's function-scoped one cannot serve)."""


def c315_in(workspace: Path) -> C315:
    """``c315 ARGS... --workspace <workspace>``, as conftest's ``c315`` runs it, for the districts
    built once per module."""
    runner = cli_runner()

    def invoke(*args: object):
        return runner.invoke(app, [*map(str, args), "--workspace", str(workspace)])

    return invoke


def local(*parts: int) -> dt.datetime:
    """A date and time of day in the campaign's zone (Tianjin)."""
    return CAMPAIGN.localize(dt.datetime(*parts))


def ingest(c315: C315, received_at: str, *paths: Path, rejected: bool = False) -> list[dict]:
    result = c315("ingest", "--json", "--received-at", received_at, *paths)
    assert result.exit_code == (1 if rejected else 0), result.output
    return json.loads(result.stdout)


def summary(c315: C315, out: Path, *args: object) -> dict:
    result = c315("summary", "--json", "--out", out, *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def totals_by_key(report: dict) -> dict[str, dict]:
    """The JSON totals by item key: one per item, in the notice's order, with its labels."""
    totals = report["totals"]
    assert [(t["category"], t["item"], t["unit"]) for t in totals] == [(i.category, i.label, i.unit) for i in STATS.items]
    return dict(zip(KEYS, totals, strict=True))


def written(out: Path, ignore: set[str] = frozenset()) -> dict[str, Path]:
    """The six summary files by what they are: stats.xlsx, stats.docx, roster.xlsx, roster.docx,
    breakdown.xlsx, report.html — and nothing else in ``out`` (no temporary file left behind)."""
    found: dict[str, Path] = {}
    for path in sorted(p for p in out.iterdir() if p.name not in ignore):
        kind = ("report" if path.suffix == ".html" else "stats" if STATS.label in path.name
                else "roster" if ROSTER.label in path.name else "breakdown")
        key = f"{kind}{path.suffix}"
        assert key not in found, f"two {key} files: {found[key].name}, {path.name}"
        found[key] = path
    assert set(found) == {"stats.xlsx", "stats.docx", "roster.xlsx", "roster.docx", "breakdown.xlsx", "report.html"}, sorted(found)
    return found


def table(ws, first: str = "部门") -> tuple[list, list[tuple]]:
    """(header, rows) of a sheet's table: from the row whose first cell is ``first`` to the first
    empty row (a note may follow)."""
    rows = [tuple(c.value for c in row) for row in ws.iter_rows()]
    start = next(n for n, row in enumerate(rows) if row and row[0] == first)
    body = []
    for row in rows[start + 1:]:
        if all(v is None for v in row):
            break
        body.append(row)
    return list(rows[start]), body


def annex_rows(ws) -> list[tuple]:
    """The district 附件2's 附表 sheet: its rows under the header (序号, 项目, 部门, 数量, 备注)."""
    rows = [tuple(c.value for c in row[:len(ANNEX_COLUMNS)]) for row in ws.iter_rows(min_row=ANNEX_HEADER_ROW)]
    assert rows[0] == ANNEX_COLUMNS
    return [row for row in rows[1:] if isinstance(row[0], int)]


def docx_texts(path: Path) -> list[str]:
    document = Document(path)
    return [p.text for p in document.paragraphs] + [c.text for t in document.tables for r in t.rows for c in r.cells]


def properties_of(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as zf:
        return read_custom_properties(zf)


# --- the district's returns ------------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # one return is one file: compared by identity
class StatsReturn:
    unit: str
    received_at: str
    quantities: dict
    remarks: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    accepted: bool = True
    name: str | None = None
    """The file's name as it came off OA, when not the generated one."""


OFFICE = StatsReturn("办公室", "2020-03-18T10:00", {"1.1": 3, "1.2": 0, "1.7": 500, "1.8": 120, "2.1": 1, "2.6": 30, "1.10": 2, "3": 1},
                     remarks={"1.10": "进社区宣传", "3": "发放问卷"}, labels={"3": "问卷调查"})
NETWORK = StatsReturn("市场和网络交易监管科", "2020-03-19T09:00", {"1.1": 2, "1.4": 6, "1.8": 40, "2.1": 2})  # 1.7 left empty
INSPECTION = StatsReturn("稽查大队", "2020-03-19T17:30", {"1.1": 1, "1.3": 1, "3": 4}, remarks={"3": "暗访"})  # exactly at the due time
ADS_FIRST = StatsReturn("广告监管科", "2020-03-15T09:00", {"1.1": 10, "1.4": 10})
ADS_SECOND = StatsReturn("广告监管科", "2020-03-17T16:00", {"1.1": 4, "1.4": 2, "1.5": 1}, name="附件2-广告监管科-更正.xlsx")
DEVICES_BAD = StatsReturn("医疗器械监管科", "2020-03-16T09:00", {"1.1": "若干"}, accepted=False)
DEVICES_GOOD = StatsReturn("医疗器械监管科", "2020-03-17T09:00", {"1.1": 1, "1.6": 1})
FOOD_BAD = StatsReturn("食品安全监管科", "2020-03-18T09:00", {"1.1": "若干", "1.2": 2}, accepted=False)
PRICES = StatsReturn("价监所", "2020-03-19T20:00", {"1.1": 5, "1.6": 1})  # after 17:30, before the day ends
QUALITY = StatsReturn("产品质量科", "2020-03-19T15:59:00+00:00", {"1.1": 7})  # 23:59 in Tianjin
FOOD_COORD = StatsReturn("食品安全协调科", "2020-03-19T16:01:00+00:00", {"1.1": 11})  # 00:01 on the 20th in Tianjin
ASSOCIATION = StatsReturn("区消协", "2020-03-21T09:00", {"1.1": 6})  # after every cut-off used here
STATS_RETURNS = [OFFICE, NETWORK, INSPECTION, ADS_FIRST, ADS_SECOND, DEVICES_BAD, DEVICES_GOOD, FOOD_BAD,
                 PRICES, QUALITY, FOOD_COORD, ASSOCIATION]
NOBODY = "2.5"  # no unit fills 举办其他会议

LEADER = {"name": "王建国", "position": "所长", "mobile": "13612345678"}
CADRE = {"name": "赵丽", "position": "一级主任科员", "mobile": "13912345678"}
CADRE_2 = {"name": "李明", "position": "科员", "landline": "23456789"}
ROSTER_RETURNS = [  # (unit, received_at, people): ingested out of the campaign's unit order
    ("劝业场市场监管所", "2020-03-13T11:00", [LEADER, CADRE, CADRE_2]),
    ("办公室", "2020-03-13T11:30", [{"name": "张  涛", "position": "一级主任科员", "mobile": "13682055679"}]),
    ("稽查大队", "2020-03-13T15:00", [{"name": "孙强", "position": "司机", "mobile": "13812345678"}]),  # late; short
]
ROSTER_STATUS = {"劝业场市场监管所": "on_time", "办公室": "on_time", "稽查大队": "late"}
EXPECTED_ROSTER = [  # (unit, name, position, role), grouped in the campaign's unit order
    ("办公室", "张涛", "一级主任科员", "cadre"),
    ("稽查大队", "孙强", "司机", "unknown"),
    ("劝业场市场监管所", "王建国", "所长", "leader"),
    ("劝业场市场监管所", "赵丽", "一级主任科员", "cadre"),
    ("劝业场市场监管所", "李明", "科员", "cadre"),
]


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    counted: frozenset[str]
    statuses: dict[str, str]
    """附件2 status of each unit that sent something; every other unit is missing."""


ON_TIME = {"办公室": "on_time", "市场和网络交易监管科": "on_time", "稽查大队": "on_time", "广告监管科": "on_time",
           "医疗器械监管科": "on_time", "食品安全监管科": "rejected"}
LATE_ONES = ("价监所", "产品质量科", "食品安全协调科", "区消协")
COUNTED_ON_TIME = frozenset(unit for unit, status in ON_TIME.items() if status == "on_time")
RUNS = {
    "default": Run((), COUNTED_ON_TIME, ON_TIME | dict.fromkeys(LATE_ONES, "after_cutoff")),
    "include-late": Run(("--include-late",), COUNTED_ON_TIME | set(LATE_ONES), ON_TIME | dict.fromkeys(LATE_ONES, "after_cutoff")),
    "deadline-date": Run(("--deadline", "2020-03-19"), COUNTED_ON_TIME | {"价监所", "产品质量科"},
                         ON_TIME | {"价监所": "late", "产品质量科": "late", "食品安全协调科": "after_cutoff", "区消协": "after_cutoff"}),
    "deadline-later": Run(("--deadline", "2020-03-20"), COUNTED_ON_TIME | {"价监所", "产品质量科", "食品安全协调科"},
                          ON_TIME | {"价监所": "late", "产品质量科": "late", "食品安全协调科": "late", "区消协": "after_cutoff"}),
}


def counting_return(unit: str) -> StatsReturn:
    """The unit's latest accepted return: the one whose figures count."""
    return [r for r in STATS_RETURNS if r.unit == unit and r.accepted][-1]


def expected_totals(counted) -> dict[str, tuple[int | None, list[str]]]:
    """item key → (sum over the counted units that filled it, or None; those units in campaign order)."""
    result = {}
    for key in KEYS:
        by = [u for u in STATS_UNITS if u in counted and key in counting_return(u).quantities]
        result[key] = (sum(counting_return(u).quantities[key] for u in by) if by else None, by)
    return result


class District:
    """The shipped (Heping) campaign's workspace with every return above ingested; summaries
    are run once per set of arguments and kept."""

    def __init__(self, root: Path):
        self.root = root
        self.workspace = root / "workspace"
        self.workspace.mkdir()
        self.c315 = c315_in(self.workspace)
        self.files: dict[StatsReturn, Path] = {}
        for n, ret in enumerate(STATS_RETURNS):
            path = fill_stats(blank(root / "returned" / str(n), ret.unit, "stats", "xlsx"), ret.quantities,
                              remarks=ret.remarks, labels=ret.labels, **FILLER)
            if ret.name:
                path = path.rename(path.with_name(ret.name))
            self.files[ret] = path
            (result,) = ingest(self.c315, ret.received_at, path, rejected=not ret.accepted)
            assert (result["outcome"], result["unit"]) == ("accepted" if ret.accepted else "rejected", ret.unit), result
        for n, (unit, received_at, people) in enumerate(ROSTER_RETURNS):
            path = fill_roster(blank(root / "rosters" / str(n), unit, "roster", "xlsx"), people, **FILLER)
            (result,) = ingest(self.c315, received_at, path)
            assert (result["outcome"], result["unit"]) == ("accepted", unit), result
        self._runs: dict[tuple, tuple[dict, dict[str, Path]]] = {}

    def run(self, *args: str) -> tuple[dict, dict[str, Path]]:
        if args not in self._runs:
            out = self.root / "summaries" / str(len(self._runs))
            self._runs[args] = summary(self.c315, out, *args), written(out)
        return self._runs[args]


@pytest.fixture(scope="module")
def district(tmp_path_factory) -> District:
    return District(tmp_path_factory.mktemp("district"))


# --- totals ------------------------------------------------------------------------------------


@pytest.mark.parametrize("run", RUNS.values(), ids=RUNS)
def test_totals_are_the_sums_of_the_counted_returns(district, run):
    report, _ = district.run(*run.args)
    totals = totals_by_key(report)
    for key, (quantity, by) in expected_totals(run.counted).items():
        if key in FREE:
            continue
        assert totals[key]["quantity"] == quantity, key
        assert totals[key]["reported_by"] == by, key
        assert totals[key]["not_reported_by"] == [u for u in STATS_UNITS if u not in by], key


def test_not_reported_is_not_zero(district):
    totals = totals_by_key(district.run()[0])
    nobody = totals[NOBODY]
    assert nobody["quantity"] is None
    assert nobody["reported_by"] == []
    assert nobody["not_reported_by"] == STATS_UNITS
    # 办公室 typed 0 for 1.2: reported, and the total is 0, not "not reported".
    assert totals["1.2"]["quantity"] == 0
    assert totals["1.2"]["reported_by"] == ["办公室"]
    # 市场网监科 left 1.7 empty: not a 0 in the sum, a unit that did not report the item.
    assert totals["1.7"]["quantity"] == 500
    assert "市场和网络交易监管科" in totals["1.7"]["not_reported_by"]
    assert "市场和网络交易监管科" in totals["1.1"]["reported_by"]


def test_the_later_of_two_accepted_returns_counts(district):
    report, files = district.run()
    totals = totals_by_key(report)
    assert totals["1.4"]["quantity"] == NETWORK.quantities["1.4"] + ADS_SECOND.quantities["1.4"]
    assert totals["1.5"] == {**totals["1.5"], "quantity": 1, "reported_by": ["广告监管科"]}
    (ads,) = [u for u in report["units"] if u["unit"] == "广告监管科"]
    assert dt.datetime.fromisoformat(ads["received_at"]["stats"]) == local(2020, 3, 17, 16, 0)
    _, sources = table(openpyxl.load_workbook(files["breakdown.xlsx"])["来源"], "项目")
    ads_sources = {(row[0], row[2], row[3]) for row in sources if row[1] == "广告监管科"}
    assert ads_sources == {(ITEMS[k].title, q, ADS_SECOND.name) for k, q in ADS_SECOND.quantities.items()}


# --- statuses ----------------------------------------------------------------------------------


@pytest.mark.parametrize("run", RUNS.values(), ids=RUNS)
def test_every_unit_has_its_status(district, run):
    report, _ = district.run(*run.args)
    stats = {u["unit"]: u["stats"] for u in report["units"]}
    roster = {u["unit"]: u["roster"] for u in report["units"]}
    assert stats == {unit: run.statuses.get(unit, "missing") for unit in STATS_UNITS}
    assert roster == {unit: ROSTER_STATUS.get(unit, "missing") for unit in ROSTER_UNITS}


def test_default_cutoff_is_the_stats_due_time(district):
    report, files = district.run()
    assert dt.datetime.fromisoformat(report["cutoff"]) == local(2020, 3, 19, 17, 30) == CAMPAIGN.due_at("stats")
    assert all("截至2020-03-19" in path.name and DISTRICT in path.name for path in files.values())


def test_a_bare_date_deadline_is_the_end_of_that_day_in_the_campaign_zone(district):
    report, files = district.run("--deadline", "2020-03-19")
    cutoff = dt.datetime.fromisoformat(report["cutoff"])
    assert cutoff.utcoffset() == dt.timedelta(hours=8)
    assert local(2020, 3, 19, 23, 59, 59) <= cutoff < local(2020, 3, 20)
    # 23:59 in Tianjin counts (15:59 UTC); 00:01 on the 20th in Tianjin (16:01 UTC, still the 19th in UTC) does not.
    stats = {u["unit"]: u["stats"] for u in report["units"]}
    assert (stats["产品质量科"], stats["食品安全协调科"]) == ("late", "after_cutoff")
    assert all("截至2020-03-19" in path.name for path in files.values())


def test_after_cutoff_returns_are_listed_and_counted_only_with_include_late(district):
    without, _ = district.run()
    with_late, _ = district.run("--include-late")
    for report in (without, with_late):
        (association,) = [u for u in report["units"] if u["unit"] == "区消协"]
        assert association["stats"] == "after_cutoff"
        assert dt.datetime.fromisoformat(association["received_at"]["stats"]) == local(2020, 3, 21, 9, 0)
    assert "区消协" not in totals_by_key(without)["1.1"]["reported_by"]
    assert "区消协" in totals_by_key(with_late)["1.1"]["reported_by"]


def test_status_sheet_and_problems_sheet(district):
    report, files = district.run()
    wb = openpyxl.load_workbook(files["breakdown.xlsx"])
    header, rows = table(wb["报送情况"])
    assert header[:3] == ["部门", "表格", "状态"]
    status = {(row[0], STATS.label if STATS.label in row[1] else ROSTER.label): row[2] for row in rows}
    expected = {(u, STATS.label): STATUS_ZH[RUNS["default"].statuses.get(u, "missing")] for u in STATS_UNITS}
    expected |= {(u, ROSTER.label): STATUS_ZH[ROSTER_STATUS.get(u, "missing")] for u in ROSTER_UNITS}
    assert status == expected
    contacts = {row[0]: row[-1] for row in rows}
    assert "徐大凯" in contacts["市场和网络交易监管科"] and "13682137895" in contacts["市场和网络交易监管科"]

    header, rows = table(wb["问题清单"])
    assert header[:7] == ["部门", "文件", "位置", "级别", "代码", "填写内容", "说明"]
    food = [row for row in rows if row[0] == "食品安全监管科"]
    assert ("食品安全监管科", district.files[FOOD_BAD].name, str(stats_cell("xlsx", "1.1")),
            Code.QUANTITY_NOT_NUMBER, "若干") in {(r[0], r[1], r[2], r[4], r[5]) for r in food}
    (food_status,) = [u for u in report["units"] if u["unit"] == "食品安全监管科"]
    assert food_status["stats"] == "rejected" and food_status["problems"] >= 1


# --- 其他 rows ---------------------------------------------------------------------------------


def test_other_rows_are_listed_with_their_remarks_never_summed(district):
    report, files = district.run()
    totals = totals_by_key(report)
    assert [totals[key]["quantity"] for key in FREE] == [None, None]
    other = {(o["unit"], o["category"], o["quantity"], o["remark"]) for o in report["other"]}
    assert other == {
        ("办公室", ITEMS["1.10"].category, 2, "进社区宣传"),
        ("办公室", ITEMS["3"].category, 1, "发放问卷"),
        ("稽查大队", ITEMS["3"].category, 4, "暗访"),
    }
    labelled = [o for o in report["other"] if o["unit"] == "办公室" and o["category"] == ITEMS["3"].category]
    assert labelled[0]["item"] == "问卷调查"

    # On the district's form a 其他 row's entries are in its 备注 cell when they fit it (1.10: one
    # short entry); else the row says how many there are and the 附表 sheet lists them (3: two).
    wb = openpyxl.load_workbook(files["stats.xlsx"])
    ws = wb[SHEET_NAMES["stats"]]
    assert [ws[LAYOUT.quantity_cell(key)].value for key in FREE] == [None, None]
    remark = ws[LAYOUT.remark_cell("1.10")].value
    assert "办公室" in remark and "进社区宣传" in remark
    assert ws[LAYOUT.remark_cell("3")].value == see_annex(2)
    assert annex_rows(wb[ANNEX_SHEET]) == [
        (1, ITEMS["3"].title, "办公室", 1, "问卷调查：发放问卷"), (2, ITEMS["3"].title, "稽查大队", 4, "暗访")]

    breakdown = openpyxl.load_workbook(files["breakdown.xlsx"])
    header, rows = table(breakdown["其他事项"])
    assert {(r[0], r[1], r[3], r[4]) for r in rows} == other
    header, rows = table(breakdown["分部门明细"])
    (total_row,) = [r for r in rows if r[0] == "合计"]
    for key in FREE:
        assert total_row[1 + KEYS.index(key)] is None


# --- the district's 附件2 ------------------------------------------------------------------------


def test_district_stats_xlsx_is_the_notice_form_filled_with_the_totals(district):
    report, files = district.run("--deadline", "2020-03-20")
    totals = totals_by_key(report)
    wb = openpyxl.load_workbook(files["stats.xlsx"])
    ws = wb[SHEET_NAMES["stats"]]
    assert ws[f"A{UNIT_ROW}"].value.startswith(UNIT_FIELD_LABEL)
    assert ws[f"B{UNIT_ROW}"].value == DISTRICT == "和平区市场监管局"
    for key, item in ITEMS.items():
        assert ws[LAYOUT.label_cell(key)].value == (item.label or None), key
        cell = ws[LAYOUT.quantity_cell(key)]
        assert cell.value == totals[key]["quantity"], key
        if cell.value is not None:
            assert cell.data_type == "n", key
    assert ws[LAYOUT.quantity_cell("1.1")].value == sum(counting_return(u).quantities["1.1"] for u in RUNS["deadline-later"].counted)
    assert ws[LAYOUT.quantity_cell(NOBODY)].value is None

    identity = {"c315.campaign": "tianjin-2020-315", "c315.attachment": "stats", "c315.unit": "和平区市场监管局"}
    assert CAMPAIGN.district.parent_campaign == "tianjin-2020-315" != CAMPAIGN.id
    assert properties_of(files["stats.xlsx"]).items() >= identity.items()
    hidden = wb[IDENTITY_SHEET]
    assert hidden.sheet_state == "hidden"
    assert {row[0]: row[1] for row in hidden.iter_rows(values_only=True)}.items() >= identity.items()


def test_district_stats_docx_carries_the_totals_and_the_parent_identity(district):
    report, files = district.run("--deadline", "2020-03-20")
    totals = totals_by_key(report)
    assert properties_of(files["stats.docx"]).items() >= {
        "c315.campaign": "tianjin-2020-315", "c315.attachment": "stats", "c315.unit": DISTRICT}.items()
    document = Document(files["stats.docx"])
    assert any(p.text.startswith(UNIT_FIELD_LABEL) and DISTRICT in p.text for p in document.paragraphs)
    rows = document.tables[0].rows
    for n, key in enumerate(KEYS, start=1):  # row 0 is the header; columns: category, item, unit, quantity, remark
        quantity = totals[key]["quantity"]
        assert rows[n].cells[3].text.strip() == ("" if quantity is None else str(quantity)), key
    assert rows[1 + KEYS.index("3")].cells[4].text == see_annex(2)
    assert "进社区宣传" in rows[1 + KEYS.index("1.10")].cells[4].text
    annex = [[cell.text for cell in row.cells] for row in document.tables[1].rows]
    assert annex[0] == list(ANNEX_COLUMNS)
    assert [(r[2], r[3], r[4]) for r in annex[1:]] == [("办公室", "1", "问卷调查：发放问卷"), ("稽查大队", "4", "暗访")]


# --- the merged duty roster --------------------------------------------------------------------


def test_merged_roster_json_in_unit_order_with_roles(district):
    report, _ = district.run()
    assert [(r["unit"], r["name"], r["position"], r["role"]) for r in report["roster"]] == EXPECTED_ROSTER
    assert {r["date"] for r in report["roster"]} == {ROSTER.duty_date.isoformat()}
    assert [r["mobile"] for r in report["roster"] if r["name"] == "王建国"] == ["13612345678"]
    staffing = {s["unit"]: s["ok"] for s in report["staffing"]}
    assert staffing == {"办公室": True, "稽查大队": False, "劝业场市场监管所": True}


def test_merged_roster_files_group_people_by_unit_with_the_staffing_check(district):
    report, files = district.run()
    ws = openpyxl.load_workbook(files["roster.xlsx"]).active
    header, rows = table(ws)
    assert header[0] == "部门" and header[1:6] == list(ROSTER.columns) and len(header) >= 7
    people = [r for r in rows if r[2]]
    assert [(r[0], r[2], r[3]) for r in people] == [(u, n, p) for u, n, p, _ in EXPECTED_ROSTER]
    check = {r[0]: r[-1] for r in people}
    assert len({r[-1] for r in people if r[0] == "劝业场市场监管所"}) == 1
    assert check["办公室"] == check["劝业场市场监管所"]  # both keep enough people
    shortfall = next(s["shortfall"] for s in report["staffing"] if s["unit"] == "稽查大队")
    assert shortfall and check["稽查大队"] == shortfall != check["办公室"]
    assert "领导" in shortfall
    # a unit whose roster is not counted is listed, with nobody and not as "enough"
    (missing,) = [r for r in rows if r[0] == "小白楼市场监管所"]
    assert missing[2] is None and missing[-1] and missing[-1] != check["办公室"]

    breakdown = openpyxl.load_workbook(files["breakdown.xlsx"])["值班表"]
    assert table(breakdown) == (header, rows)

    texts = docx_texts(files["roster.docx"])
    document = Document(files["roster.docx"])
    grid = [[c.text for c in row.cells] for row in document.tables[0].rows]
    assert [(r[0], r[2], r[3]) for r in grid[1:] if r[2]] == [(u, n, p) for u, n, p, _ in EXPECTED_ROSTER]
    assert any(shortfall in text for text in texts)


# --- the breakdown workbook --------------------------------------------------------------------


def test_breakdown_units_by_items_with_a_totals_row(district):
    run = RUNS["deadline-later"]
    report, files = district.run(*run.args)
    totals = totals_by_key(report)
    wb = openpyxl.load_workbook(files["breakdown.xlsx"])
    assert {"分部门明细", "报送情况", "问题清单", "值班表", "其他事项", "来源"} <= set(wb.sheetnames)
    header, rows = table(wb["分部门明细"])
    assert len(header) == 1 + len(KEYS)
    for column, item in zip(header[1:], STATS.items, strict=True):
        assert item.category in column and (item.label or item.category) in column
    assert [r[0] for r in rows] == [*STATS_UNITS, "合计"]
    for row in rows[:-1]:
        values = counting_return(row[0]).quantities if row[0] in run.counted else {}
        assert list(row[1:]) == [values.get(key) for key in KEYS], row[0]
    total_row = rows[-1]
    for key in KEYS:
        if key not in FREE:
            assert total_row[1 + KEYS.index(key)] == totals[key]["quantity"], key
    numbers = [c for c in wb["分部门明细"].iter_rows() for c in c if isinstance(c.value, int)]
    assert numbers and all(c.data_type == "n" for c in numbers)


def test_breakdown_sources_name_the_file_and_cell_of_every_figure(district):
    run = RUNS["deadline-later"]
    report, files = district.run(*run.args)
    totals = totals_by_key(report)
    header, rows = table(openpyxl.load_workbook(files["breakdown.xlsx"])["来源"], "项目")
    assert header[:5] == ["项目", "部门", "数量", "文件", "单元格"]
    expected = {
        (ITEMS[key].title, unit, quantity, district.files[counting_return(unit)].name, str(stats_cell("xlsx", key)))
        for unit in run.counted for key, quantity in counting_return(unit).quantities.items()
    }
    assert {r[:5] for r in rows} == expected
    first_quantity = Location.cell(SHEET_NAMES["stats"], 5, 4)  # 统计表!D5: the first item's 数量
    assert ("宣传教育／组织普法活动", "办公室", 3, district.files[OFFICE].name, str(first_quantity)) in expected
    for key in KEYS:
        if key not in FREE and totals[key]["quantity"] is not None:
            assert sum(r[2] for r in rows if r[0] == ITEMS[key].title) == totals[key]["quantity"], key


def test_console_summary_points_at_whom_to_chase(district):
    result = district.c315("summary", "--out", district.root / "console")
    assert result.exit_code == 0, result.output
    assert "市场和网络交易监管科" in result.stdout and "徐大凯 13682137895" in result.stdout
    assert STATUS_ZH["missing"] in result.stdout and STATUS_ZH["rejected"] in result.stdout
    assert "稽查大队" in result.stdout


# --- text from returns stays text ------------------------------------------------------------

INJECTIONS = ["=1+2", "+SUM(A1)", "-2+3", "@cmd", '＝HYPERLINK("http://x")', "\t=1", "=cmd|' /C calc'!A0"]
INJECTION_UNITS = ["办公室", "市场和网络交易监管科", "食品安全监管科", "食品安全协调科", "广告监管科", "药化监管科", "医疗器械监管科"]


@pytest.fixture(scope="module")
def injected(tmp_path_factory):
    """A district where every text a department could type holds a formula, hyperlink or DDE call."""
    root = tmp_path_factory.mktemp("injected")
    workspace, returned = root / "workspace", root / "returned"
    for n, (unit, text) in enumerate(zip(INJECTION_UNITS, INJECTIONS, strict=True)):
        fill_stats(blank(returned, unit, "stats", "xlsx"), {"1.1": n + 1, "1.10": 1, "3": 2},
                   remarks={"1.10": text, "3": text}, labels={"3": text}, **FILLER)
    people = [{"name": text, "position": text, "mobile": f"1361234567{n}"} for n, text in enumerate(INJECTIONS)]
    fill_roster(blank(returned, "劝业场市场监管所", "roster", "xlsx"), people, **FILLER)
    c315 = c315_in(workspace)
    results = ingest(c315, "2020-03-12T10:00", returned)
    assert [r["outcome"] for r in results] == ["accepted"] * (len(INJECTION_UNITS) + 1)
    report = summary(c315, root / "out")
    return report, written(root / "out")


def test_injected_text_is_read_as_typed(injected):
    """The fixture is what the rest checks: every injection came through reading still active.
    (How far a reading rule normalises — full width, tab — is compared folded, not pinned here.)"""
    report, _ = injected
    read = [r["position"] for r in report["roster"]] + [o["remark"] for o in report["other"]] + \
        [o["item"] for o in report["other"] if o["category"] == ITEMS["3"].category]
    assert sorted(fold(v) for v in read) == sorted(fold(t) for t in INJECTIONS * 4)
    assert sorted(squash(r["name"]) for r in report["roster"]) == sorted(squash(t) for t in INJECTIONS)
    assert all(looks_active(v) for v in read + [r["name"] for r in report["roster"]])


@pytest.mark.parametrize("kind", ["stats.xlsx", "roster.xlsx", "breakdown.xlsx"])
def test_no_cell_of_a_written_workbook_is_a_formula_or_link(injected, kind):
    _, files = injected
    wb = openpyxl.load_workbook(files[kind])
    strings = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                assert cell.hyperlink is None, (ws.title, cell.coordinate)
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", (ws.title, cell.coordinate)
                    if looks_active(cell.value):
                        strings += 1
                        assert cell.quotePrefix, (ws.title, cell.coordinate, cell.value)
    with zipfile.ZipFile(files[kind]) as zf:
        assert not [name for name in zf.namelist() if "externalLink" in name]
    if kind != "stats.xlsx":  # the district 附件2 prefixes every remark with its unit
        assert strings >= len(INJECTIONS)


def cells_holding(path: Path) -> dict[str, list]:
    """Every text cell of a workbook by its value."""
    found: dict[str, list] = {}
    for ws in openpyxl.load_workbook(path).worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    found.setdefault(cell.value, []).append(cell)
    return found


def test_injected_texts_are_written_as_strings_and_quantities_as_numbers(injected):
    report, files = injected
    roster = cells_holding(files["roster.xlsx"])
    breakdown = cells_holding(files["breakdown.xlsx"])
    for entry in report["roster"]:
        for text in (entry["name"], entry["position"]):
            assert roster[text] and all(c.data_type == "s" for c in roster[text]), text
            assert breakdown[text] and all(c.data_type == "s" for c in breakdown[text]), text
    for other in report["other"]:
        assert breakdown[other["remark"]] and all(c.data_type == "s" for c in breakdown[other["remark"]])
    labels = {o["item"] for o in report["other"] if o["category"] == ITEMS["3"].category}
    assert len(labels) == len(INJECTIONS)
    assert all(breakdown[label] and all(c.data_type == "s" for c in breakdown[label]) for label in labels)

    wb = openpyxl.load_workbook(files["stats.xlsx"])
    ws = wb[SHEET_NAMES["stats"]]
    annex = wb[ANNEX_SHEET]  # seven entries a row: on the 附表, each its own cell
    listed = {(row[2], row[4]) for row in annex_rows(annex)}
    for key in FREE:
        remark = ws[LAYOUT.remark_cell(key)]
        assert (remark.value, remark.data_type) == (see_annex(len(INJECTIONS)), "s")
        entries = [o for o in report["other"] if o["category"] == ITEMS[key].category]
        assert len(entries) == len(INJECTIONS)
        for o in entries:
            text = f"{o['item']}：{o['remark']}" if key == "3" else o["remark"]
            assert (o["unit"], text) in listed, (key, o)
    for row in annex.iter_rows(min_row=ANNEX_HEADER_ROW + 1):
        assert all(cell.data_type == "s" for cell in row if isinstance(cell.value, str))
    quantity = ws[LAYOUT.quantity_cell("1.1")]
    assert (quantity.value, quantity.data_type) == (sum(range(1, len(INJECTIONS) + 1)), "n")
    office = next(c for c in cells_holding(files["breakdown.xlsx"])["办公室"] if c.parent.title == "分部门明细")
    number = office.parent.cell(row=office.row, column=2)
    assert (number.value, number.data_type) == (1, "n")


@pytest.mark.parametrize("kind", ["stats.docx", "roster.docx"])
def test_docx_holds_the_literal_text_and_no_field_or_link(injected, kind):
    report, files = injected
    text = "\n".join(docx_texts(files[kind]))
    expected = [o["remark"] for o in report["other"]] if kind == "stats.docx" else \
        [v for r in report["roster"] for v in (r["name"], r["position"])]
    for value in expected:
        assert value in text, value
    body = Document(files[kind]).element.body
    for tag in ("w:instrText", "w:fldSimple", "w:hyperlink", "w:fldChar"):
        assert next(body.iter(qn(tag)), None) is None, tag


# --- atomic writing --------------------------------------------------------------------------


def snapshot(path: Path):
    """What a reader sees in a summary file: every sheet's cell values, or every paragraph and cell."""
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path)
        return {ws.title: [tuple(c.value for c in row) for row in ws.iter_rows()] for ws in wb.worksheets}
    if path.suffix == ".html":
        text = path.read_text(encoding="utf-8")
        assert text.rstrip().endswith("</html>"), f"half-written report {path.name}"
        return text
    return docx_texts(path)


def _failing_replace(monkeypatch, out: Path, exc: BaseException, when: int) -> None:
    """os.replace in campaign315.common.files fails on the ``when``-th summary file moved into ``out``."""
    real = os.replace
    moved: list[Path] = []

    def replace(src, dst):
        if Path(dst).parent == out:
            if len(moved) + 1 == when:
                raise exc
            moved.append(Path(dst))
        return real(src, dst)

    monkeypatch.setattr(campaign315.common.files.os, "replace", replace)


def _failing_write(monkeypatch, out: Path, exc: BaseException, when: int) -> None:
    """The ``when``-th file write stops half-way (disk full), after half the bytes are on disk."""
    real = os.fdopen
    calls = []

    class HalfWritten:
        def __init__(self, handle):
            self.handle = handle

        def write(self, data):
            self.handle.write(data[: len(data) // 2])
            self.handle.flush()
            raise exc

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.handle.close()
            return False

        def __getattr__(self, name):
            return getattr(self.handle, name)

    def fdopen(fd, *args, **kwargs):
        handle = real(fd, *args, **kwargs)
        calls.append(fd)
        return HalfWritten(handle) if len(calls) == when else handle

    monkeypatch.setattr(campaign315.common.files.os, "fdopen", fdopen)


FAILURES = {
    "replace-oserror": (_failing_replace, OSError(28, "No space left on device"), 1),
    "replace-interrupt": (_failing_replace, KeyboardInterrupt(), 130),
    "write-oserror": (_failing_write, OSError(28, "No space left on device"), 1),
}


@pytest.fixture
def small_district(c315, tmp_path) -> list[Path]:
    """Conftest's workspace with two returns in; the two more it will be sent next."""
    first = fill_stats(blank(tmp_path / "a", "办公室", "stats", "xlsx"), {"1.1": 3}, **FILLER)
    roster = fill_roster(blank(tmp_path / "a", "劝业场市场监管所", "roster", "xlsx"), [LEADER, CADRE, CADRE_2], **FILLER)
    ingest(c315, "2020-03-12T10:00", first, roster)
    return [fill_stats(blank(tmp_path / "b", "价监所", "stats", "xlsx"), {"1.1": 5}, **FILLER),
            fill_roster(blank(tmp_path / "b", "价监所", "roster", "xlsx"), [{"name": "钱新", "position": "科员", "mobile": "13700000000"}], **FILLER)]


@pytest.mark.parametrize("existing", [True, False], ids=["over-old-files", "fresh-folder"])
@pytest.mark.parametrize("failure", FAILURES.values(), ids=FAILURES)
def test_interrupted_writing_leaves_whole_files_only(c315, small_district, tmp_path, monkeypatch, failure, existing):
    more = small_district
    patch, exc, exit_code = failure
    out = tmp_path / "out"
    old = {}
    if existing:
        summary(c315, out, "--deadline", "2020-03-19")
        old = {path.name: snapshot(path) for path in written(out).values()}
    ingest(c315, "2020-03-13T10:00", *more)

    with monkeypatch.context() as patched:
        patch(patched, out, exc, 3)
        result = c315("summary", "--json", "--out", out, "--deadline", "2020-03-19")
    assert result.exit_code == exit_code, result.output
    after = {path.name: snapshot(path) for path in out.iterdir()}  # raises on a half-written file

    summary(c315, out, "--deadline", "2020-03-19")
    new = {path.name: snapshot(path) for path in written(out).values()}
    assert len(new) == 6 and all(new[name] != old[name] for name in old), "the second summary differs in every file"

    # nothing but summary files — no .part left behind — and each one whole: old or new, never half
    assert set(after) <= set(new)
    replaced = {name for name, seen in after.items() if seen == new[name]}
    untouched = {name for name, seen in after.items() if name in old and seen == old[name]}
    assert replaced | untouched == set(after)
    assert len(replaced) == 2, sorted(replaced)  # the two files written before the failure
    assert set(after) == (set(old) if existing else replaced)
    roster = written(out)["roster.xlsx"]
    assert "钱新" in [row[2] for row in table(openpyxl.load_workbook(roster).active)[1]]


def test_a_second_summary_replaces_its_files_and_leaves_others_alone(district, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "备忘.txt").write_text("区消协的笔记", encoding="utf-8")
    summary(district.c315, out)
    first = written(out, ignore={"备忘.txt"})
    report = summary(district.c315, out, "--include-late")
    second = written(out, ignore={"备忘.txt"})
    assert {p.name for p in first.values()} == {p.name for p in second.values()}
    assert (out / "备忘.txt").read_text(encoding="utf-8") == "区消协的笔记"
    ws = openpyxl.load_workbook(second["stats.xlsx"])[SHEET_NAMES["stats"]]
    assert ws[LAYOUT.quantity_cell("1.1")].value == totals_by_key(report)["1.1"]["quantity"] != totals_by_key(district.run()[0])["1.1"]["quantity"]
