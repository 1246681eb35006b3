"""The summary as one self-contained HTML page a leader opens from a file: where every unit
stands, the district totals, each unit's share of every item as an inline SVG chart, the
staffing check of the duty roster and the problems behind the figures.

The page loads nothing: CSS is inline, charts are SVG drawn here, fonts are the machine's own.
Layout (positions, widths, colours) is computed here as plain numbers; every word — above all
what came from a return — reaches the page through the template, whose environment escapes
everything. Nothing is marked safe.

>>> _text_colour("#0067a5"), _text_colour("#f3c300")
('#ffffff', '#1f1f1f')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from campaign315.common.templates import render_template
from campaign315.common.words import ATTACHMENT_ZH, ROLE_ZH, SEVERITY_ZH, STATUS_ZH
from campaign315.reports.standing import Standing
from campaign315.reports.summary import Summary, Total
from campaign315.spec.campaign import Campaign, Unit

TEMPLATE = "report.html.j2"

# One colour per unit, by its place in the campaign's list: the same unit has the same colour on
# every bar. Kelly's colours of maximum contrast, in his order, so neighbours stay apart; a
# longer list of units cycles.
PALETTE = (
    "#f3c300", "#875692", "#f38400", "#a1caf1", "#be0032", "#c2b280", "#848482", "#008856",
    "#e68fac", "#0067a5", "#f99379", "#604e97", "#f6a600", "#b3446c", "#dcd300", "#882d17",
    "#8db600", "#654522", "#e25822", "#2b3d26",
)

# The chart's geometry, in SVG user units (the SVG scales to the page's width).
CHART_WIDTH = 960
LABEL_WIDTH = 250
BAR_WIDTH = 600
ROW_HEIGHT = 30
BAR_HEIGHT = 20
CHART_PAD = 8
DIGIT_WIDTH = 7.5
"""Roughly how wide one digit of the segment labels is: a number is written inside its segment
only when it fits."""


def render_report(summary: Summary, templates_dir: Path) -> str:
    """The report page for ``summary`` as HTML text, from ``report.html.j2`` in ``templates_dir``
    (the office's copy) or, when the office has none, the one shipped with c315."""
    return render_template(templates_dir, TEMPLATE, html=True, report=report_view(summary))


# --- what the page shows, as plain values ----------------------------------------------------


@dataclass
class StatusCell:
    status: str
    label: str
    received_at: str
    problems: int
    filename: str


@dataclass
class UnitStatusRow:
    unit: str
    contact: str
    cells: dict[str, StatusCell | None]
    """attachment key → its standing; None where the unit does not owe that attachment."""


@dataclass
class AttachmentColumn:
    key: str
    name: str
    due_text: str
    counts: list[tuple[str, str, int]]
    """(status, 中文, how many units) for every status, in STATUS_ZH's order."""


@dataclass
class TotalRow:
    key: str
    category: str
    category_rows: int
    """How many rows the category cell spans (on its first row); 0 on the rows it covers."""
    item: str
    unit: str
    quantity: str
    free: bool
    missing: bool
    reported: int
    counted: int
    """How many units' returns count: ``reported`` of them gave a figure for this item."""
    left_empty: str
    """The units whose counted return left this item empty (units with no return are not named)."""


@dataclass
class Segment:
    unit: str
    quantity: int
    x: float
    width: float
    colour: str
    text_colour: str
    shows_number: bool
    tooltip: str


@dataclass
class ChartRow:
    key: str
    label: str
    total: int | None
    total_text: str
    y: float
    segments: list[Segment]


@dataclass
class Chart:
    width: int
    height: int
    label_width: int
    bar_width: int
    row_height: int
    bar_height: int
    rows: list[ChartRow]
    legend: list[tuple[str, str]]
    """(unit, colour) for every unit with a segment, in the campaign's order."""


@dataclass
class StaffingRow:
    unit: str
    contact: str
    people: int | None
    leaders: int | None
    unknown: int | None
    requirement: str
    result: str
    ok: bool | None
    """True: enough people on duty; False: short; None: no roster counted."""
    names: str


@dataclass
class ProblemGroup:
    """The problems of one returned file, listed under its unit and name."""

    unit: str
    filename: str
    errors: int = 0
    warnings: int = 0
    problems: list[dict[str, str]] = field(default_factory=list)


@dataclass
class ReportView:
    title: str
    campaign_name: str
    document_number: str
    district: str
    collector: str
    cutoff: str
    include_late: bool
    period: str
    attachments: list[AttachmentColumn]
    statuses: list[tuple[str, str]]
    units: list[UnitStatusRow]
    headline: list[tuple[str, str, str]]
    totals: list[TotalRow]
    other: list[dict[str, str]]
    chart: Chart
    staffing: list[StaffingRow]
    problem_count: int
    problem_groups: list[ProblemGroup]
    notes: list[str] = field(default_factory=list)


def report_view(summary: Summary) -> ReportView:
    """Everything the template prints, worked out from the summary."""
    campaign = summary.campaign
    stats = campaign.attachments.stats
    attachments = [key for key in ("roster", "stats") if campaign.units_owing(key)]
    by_unit: dict[str, dict[str, Standing]] = {}
    for standing in summary.standings:
        by_unit.setdefault(standing.unit.name, {})[standing.attachment] = standing

    columns = []
    for key in attachments:
        rows = [s for s in summary.standings if s.attachment == key]
        counts = [(status, zh, sum(s.status == status for s in rows)) for status, zh in STATUS_ZH.items()]
        columns.append(AttachmentColumn(key, ATTACHMENT_ZH[key], campaign.spec(key).due_text, counts))

    units = [
        UnitStatusRow(unit.name, summary.contact(unit),
                      {key: _status_cell(by_unit.get(unit.name, {}).get(key), campaign) for key in attachments})
        for unit in campaign.units
    ]

    collector = campaign.collector_contact
    errors = sum(p.problem.severity == "error" for p in summary.problems)
    warnings = len(summary.problems) - errors
    short = sum(1 for r in summary.rosters if r.shortfall)
    headline = []
    for column in columns:
        owed = [s for s in summary.standings if s.attachment == column.key]
        counted = sum(1 for s in owed if s.counting)  # with --include-late, returns after the cut-off too
        headline.append((column.name, f"{counted} / {len(owed)}", "个部门计入汇总"))
    headline.append(("问题", f"{errors} / {warnings}", "错误 / 提醒"))
    headline.append(("值守人数", str(short), "个部门不足"))

    notes = ["数量为空表示「未报告」，不等于 0。", "「其他」各行说明的事项不同，只列示、不合计。"]
    if summary.include_late:
        notes.append("截止时间之后收到的报表也已计入汇总。")

    return ReportView(
        title=f"{campaign.district.name} 3•15活动报表汇总",
        campaign_name=campaign.name,
        document_number=campaign.document_number,
        district=campaign.district.name,
        collector=f"{campaign.collector.name} {collector.name} {collector.phone}".strip() if collector else campaign.collector.name,
        cutoff=campaign.localize(summary.cutoff).strftime("%Y-%m-%d %H:%M"),
        include_late=summary.include_late,
        period=f"{stats.period.start:%Y-%m-%d} 至 {stats.period.end:%Y-%m-%d}",
        attachments=columns,
        statuses=list(STATUS_ZH.items()),
        units=units,
        headline=headline,
        totals=_total_rows(summary),
        other=[{"unit": o.unit, "category": o.item.category, "item": o.label or o.item.label or o.item.category,
                "quantity": "" if o.quantity is None else str(o.quantity), "remark": o.remark} for o in summary.other],
        chart=contribution_chart(summary),
        staffing=_staffing_rows(summary, by_unit),
        problem_count=len(summary.problems),
        problem_groups=_problem_groups(summary),
        notes=notes,
    )


def _status_cell(standing: Standing | None, campaign: Campaign) -> StatusCell | None:
    if standing is None:
        return None
    shown = standing.shown
    return StatusCell(
        status=standing.status,
        label=STATUS_ZH[standing.status],
        received_at=campaign.localize(shown.received_at).strftime("%m-%d %H:%M") if shown else "",
        problems=standing.problem_count,
        filename=shown.filename if shown else "",
    )


def _total_rows(summary: Summary) -> list[TotalRow]:
    counted = {s.unit.name for s in summary.standings if s.attachment == "stats" and s.counting}
    rows = []
    totals = summary.totals
    for index, total in enumerate(totals):
        item = total.item
        # the category cell is merged down over its run of rows, as in the notice's table
        span = 0
        if index == 0 or totals[index - 1].item.category != item.category:
            span = next((n for n, t in enumerate(totals[index:]) if t.item.category != item.category), len(totals) - index)
        rows.append(TotalRow(
            key=item.key,
            category=item.category,
            category_rows=span,
            item=item.label or item.category,
            unit=item.unit,
            quantity=_quantity_text(total),
            free=item.free,
            missing=not item.free and total.quantity is None,
            reported=len(total.reported_by),
            counted=len(counted),
            left_empty="、".join(unit for unit in total.not_reported_by if unit in counted),
        ))
    return rows


def _quantity_text(total: Total) -> str:
    if total.item.free:
        return "列示，不合计"
    return "未报告" if total.quantity is None else str(total.quantity)


def contribution_chart(summary: Summary) -> Chart:
    """One horizontal bar per item that is summed: full length is the item's district total,
    one segment per unit that reported more than 0, in the campaign's order of units."""
    owing = [u.name for u in summary.campaign.units_owing("stats")]
    colours = {name: PALETTE[n % len(PALETTE)] for n, name in enumerate(owing)}
    used: set[str] = set()
    rows = []
    summed = [t for t in summary.totals if not t.item.free]
    for n, total in enumerate(summed):
        item = total.item
        y = CHART_PAD + n * ROW_HEIGHT
        segments, x = [], 0.0
        for source in total.sources:
            if not total.quantity or source.quantity <= 0:
                continue
            width = BAR_WIDTH * source.quantity / total.quantity
            colour = colours.get(source.unit, PALETTE[-1])
            share = round(100 * source.quantity / total.quantity)
            segments.append(Segment(
                unit=source.unit,
                quantity=source.quantity,
                x=round(x, 2),
                width=round(width, 2),
                colour=colour,
                text_colour=_text_colour(colour),
                shows_number=width >= 8 + DIGIT_WIDTH * len(str(source.quantity)),
                tooltip=f"{source.unit} · {item.label}：{source.quantity} {item.unit}（占 {share}%）",
            ))
            used.add(source.unit)
            x += width
        label = f"{item.label}（{item.unit}）" if item.unit else item.label
        total_text = "未报告" if total.quantity is None else f"{total.quantity}"
        rows.append(ChartRow(item.key, label, total.quantity, total_text, y, segments))
    legend = [(name, colours[name]) for name in owing if name in used]
    return Chart(
        width=CHART_WIDTH,
        height=2 * CHART_PAD + len(rows) * ROW_HEIGHT,
        label_width=LABEL_WIDTH,
        bar_width=BAR_WIDTH,
        row_height=ROW_HEIGHT,
        bar_height=BAR_HEIGHT,
        rows=rows,
        legend=legend,
    )


def _text_colour(background: str) -> str:
    """White on a dark segment, near-black on a light one (relative luminance, sRGB)."""
    red, green, blue = (int(background[i:i + 2], 16) / 255 for i in (1, 3, 5))

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)
    return "#ffffff" if luminance < 0.33 else "#1f1f1f"


def _problem_groups(summary: Summary) -> list[ProblemGroup]:
    groups: dict[tuple[str, str], ProblemGroup] = {}
    for line in summary.problems:
        group = groups.setdefault((line.unit, line.filename), ProblemGroup(line.unit, line.filename))
        p = line.problem
        group.errors += p.severity == "error"
        group.warnings += p.severity != "error"
        group.problems.append({"location": str(p.location), "severity": p.severity, "severity_zh": SEVERITY_ZH.get(p.severity, p.severity),
                               "code": p.code, "value": p.value, "message": p.message})
    return list(groups.values())


def _staffing_rows(summary: Summary, by_unit: dict[str, dict[str, Standing]]) -> list[StaffingRow]:
    campaign = summary.campaign
    counted = {r.unit.name: r for r in summary.rosters}
    rows = []
    for unit in campaign.units_owing("roster"):
        requirement = _requirement(summary, unit)
        roster = counted.get(unit.name)
        if roster is None:
            standing = by_unit.get(unit.name, {}).get("roster")
            status = STATUS_ZH[standing.status] if standing else STATUS_ZH["missing"]
            rows.append(StaffingRow(unit.name, summary.contact(unit), None, None, None, requirement,
                                    f"未计入（{status}）", None, ""))
            continue
        roles = [line.role for line in roster.lines]
        names = "、".join(
            f"{line.entry.name}（{line.entry.position or '职务未填'}{'' if line.role == 'cadre' else '·' + ROLE_ZH[line.role]}）"
            for line in roster.lines
        )
        rows.append(StaffingRow(
            unit=unit.name,
            contact=summary.contact(unit),
            people=len(roles),
            leaders=roles.count("leader"),
            unknown=roles.count("unknown"),
            requirement=requirement,
            result=roster.shortfall or "符合要求",
            ok=not roster.shortfall,
            names=names,
        ))
    return rows


def _requirement(summary: Summary, unit: Unit) -> str:
    rule = summary.campaign.staffing.rule_for(unit)
    return f"≥{rule.min_on_duty} 人" + (f"，领导 ≥{rule.min_leaders}" if rule.min_leaders else "")
