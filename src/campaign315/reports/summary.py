"""The district summary as data: totals per item (with who reported and who did not), the 其他
rows listed not summed, the merged duty roster with each unit's staffing check, every unit's
standing, and the problems behind the figures. Rendering is elsewhere (``render.summary_files``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from campaign315.common.errors import UsageError
from campaign315.reports.standing import Standing, standings
from campaign315.spec.campaign import Campaign, Role, StatsItem, Unit
from campaign315.spec.forms import ActivityStats, DutyRoster, RosterEntry, StatsLine
from campaign315.spec.location import Location
from campaign315.spec.problems import Problem
from campaign315.store import Store, StoredReturn


@dataclass
class Source:
    """One unit's figure behind a total: which file, which cell."""

    unit: str
    quantity: int
    filename: str
    cell: Location | None
    received_at: dt.datetime
    remark: str = ""


@dataclass
class Total:
    item: StatsItem
    quantity: int | None
    """None when no unit reported this item at all — not the same as 0."""
    reported_by: list[str]
    not_reported_by: list[str]
    sources: list[Source]


@dataclass
class OtherEntry:
    """A 其他 row of one unit: listed with its remark, never summed with another unit's."""

    unit: str
    item: StatsItem
    quantity: int | None
    remark: str
    label: str


@dataclass
class RosterLine:
    unit: Unit
    entry: RosterEntry
    role: Role


@dataclass
class UnitRoster:
    unit: Unit
    lines: list[RosterLine]
    shortfall: str
    """"" when the unit keeps enough people on duty; else what is short."""


@dataclass
class ProblemLine:
    unit: str
    filename: str
    problem: Problem


@dataclass
class Summary:
    campaign: Campaign
    cutoff: dt.datetime
    include_late: bool
    standings: list[Standing]
    totals: list[Total]
    other: list[OtherEntry]
    rosters: list[UnitRoster]
    problems: list[ProblemLine] = field(default_factory=list)

    def contact(self, unit: Unit) -> str:
        """Whom to phone about the unit (see :attr:`Standing.contact`)."""
        return next((s.contact for s in self.standings if s.unit == unit), self.campaign.contact_for(unit))

    @property
    def warnings_behind_figures(self) -> int:
        return sum(s.counting.warnings for s in self.standings if s.counting)

    def listed_other(self, key: str) -> list[OtherEntry]:
        """The entries of one 其他 row that say something (a figure or a remark), unit by unit."""
        return [o for o in self.other if o.item.key == key and (o.quantity or o.remark)]

    def district_stats(self) -> ActivityStats:
        """The district's own 附件2: each item totalled; 其他 rows carry the units' remarks
        (:func:`other_remark`; the printed form may shorten them, see ``district_form``)."""
        lines = []
        for total in self.totals:
            if total.item.free:
                remark = other_remark(self.listed_other(total.item.key))
                lines.append(StatsLine(key=total.item.key, quantity=None, remark=remark))
            else:
                lines.append(StatsLine(key=total.item.key, quantity=total.quantity))
        contact = self.campaign.collector_contact
        return ActivityStats(unit=self.campaign.district.name, lines=lines,
                             filler=contact.name if contact else "", filler_phone=contact.phone if contact else "")

    def district_roster(self) -> DutyRoster:
        entries = [line.entry for roster in self.rosters for line in roster.lines]
        contact = self.campaign.collector_contact
        return DutyRoster(unit=self.campaign.district.name, entries=entries,
                          filler=contact.name if contact else "", filler_phone=contact.phone if contact else "")


def other_remark(listed: list[OtherEntry]) -> str:
    """One 其他 row's remark on the district's form: every unit's entry, 「；」 between them.

    >>> from campaign315.spec.campaign import StatsItem
    >>> item = StatsItem(key="3", category="其他", label="", free=True)
    >>> other_remark([OtherEntry("稽查大队", item, 4, "立案4件", "查处案件"), OtherEntry("区消协", item, None, "走访", "")])
    '稽查大队：查处案件 立案4件 4；区消协：走访'
    """
    return "；".join(
        f"{o.unit}：{o.label + ' ' if o.label else ''}{o.remark or '（未说明）'} {o.quantity if o.quantity is not None else ''}".strip()
        for o in listed
    )


def parse_deadline(text: str | None, campaign: Campaign) -> dt.datetime:
    """``--deadline``: a bare date is the end of that day in the campaign's zone; a datetime
    without offset is in the campaign's zone; none means 附件2's due time."""
    if not text:
        return campaign.due_at("stats")
    text = text.strip()
    try:
        if len(text) <= 10:
            day = dt.date.fromisoformat(text)
            return dt.datetime.combine(day, dt.time(23, 59, 59, 999999), tzinfo=campaign.tz)
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--deadline 无法识别：{text!r}。请写成 2020-03-19 或 2020-03-19T17:30。") from None
    return campaign.localize(value)


def summarise(campaign: Campaign, store: Store, cutoff: dt.datetime, include_late: bool = False) -> Summary:
    rows = standings(campaign, store.latest_returns(campaign.id, cutoff), cutoff, include_late)
    counting: dict[tuple[str, str], StoredReturn] = {(s.unit.name, s.attachment): s.counting for s in rows if s.counting}
    stats_returns = {unit: r for (unit, att), r in counting.items() if att == "stats"}
    roster_returns = {unit: r for (unit, att), r in counting.items() if att == "roster"}
    lines = store.stats_lines(r.id for r in stats_returns.values())
    entries = store.roster_entries(r.id for r in roster_returns.values())

    spec = campaign.attachments.stats
    owing = [u.name for u in campaign.units_owing("stats")]
    totals, other = [], []
    for item in spec.items:
        sources, not_reported = [], []
        for unit in owing:
            ret = stats_returns.get(unit)
            line = next((ln for ln in lines.get(ret.id, []) if ln.key == item.key), None) if ret else None
            if line is None or line.quantity is None:
                not_reported.append(unit)
                if item.free and line is not None and (line.remark or line.label):
                    other.append(OtherEntry(unit, item, None, line.remark, line.label))
                continue
            sources.append(Source(unit, line.quantity, ret.filename, line.cell, ret.received_at, line.remark))
            if item.free:
                other.append(OtherEntry(unit, item, line.quantity, line.remark, line.label))
        quantity = None if item.free or not sources else sum(s.quantity for s in sources)
        totals.append(Total(item, quantity, [s.unit for s in sources], not_reported, sources))

    rosters = []
    for unit in campaign.units_owing("roster"):
        ret = roster_returns.get(unit.name)
        if ret is None:
            continue
        unit_lines = [RosterLine(unit, e, campaign.staffing.classify(e.position) if e.position else "unknown") for e in entries.get(ret.id, [])]
        shortfall = campaign.staffing.shortfall(unit, [line.entry.position for line in unit_lines])
        rosters.append(UnitRoster(unit, unit_lines, shortfall))

    problems = [
        ProblemLine(s.unit.name, shown.filename, p)
        for s in rows
        for shown in [s.shown]
        if shown is not None
        for p in shown.problems
    ]
    return Summary(campaign, cutoff, include_late, rows, totals, other, rosters, problems)


def summary_json(summary: Summary) -> dict:
    """The ``--json`` shape documented in README."""
    campaign = summary.campaign
    units = {}
    for s in summary.standings:
        entry = units.setdefault(s.unit.name, {"unit": s.unit.name, "roster": None, "stats": None, "received_at": {},
                                               "problems": 0, "review": {}})
        entry[s.attachment] = s.status
        shown = s.shown
        entry["received_at"][s.attachment] = shown.received_at.isoformat() if shown else None
        entry["review"][s.attachment] = shown.review.as_json() if shown and shown.review else None
        entry["problems"] += s.problem_count
    return {
        "cutoff": summary.cutoff.isoformat(),
        "totals": [
            {"category": t.item.category, "item": t.item.label, "unit": t.item.unit, "quantity": t.quantity,
             "reported_by": t.reported_by, "not_reported_by": t.not_reported_by}
            for t in summary.totals
        ],
        "other": [{"unit": o.unit, "category": o.item.category, "item": o.label or o.item.label, "quantity": o.quantity, "remark": o.remark}
                  for o in summary.other],
        "units": list(units.values()),
        "roster": [
            {"unit": line.unit.name, "date": line.entry.date.isoformat() if line.entry.date else None, "name": line.entry.name,
             "position": line.entry.position, "role": line.role, "landline": line.entry.landline, "mobile": line.entry.mobile}
            for roster in summary.rosters for line in roster.lines
        ],
        "staffing": [{"unit": r.unit.name, "ok": not r.shortfall, "shortfall": r.shortfall} for r in summary.rosters],
        "warnings": summary.warnings_behind_figures,
        "campaign": campaign.id,
    }
