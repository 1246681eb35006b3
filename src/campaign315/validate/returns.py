"""A located form → who sent it, which attachment, the typed filled form, and every problem.

Identity first (embedded properties, else the title, header and 填报部门), then each row of the
body against the campaign's definition of the form. Problems are data: nothing here raises on bad
input. An error rejects the return; a warning keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from campaign315.campaign import AttachmentKey, Campaign, RosterSpec, Staffing, StatsSpec, Unit
from campaign315.forms import (
    FORM_SCHEMA_VERSION,
    ActivityStats,
    DutyRoster,
    FilledForm,
    Identity,
    RosterEntry,
    StatsLine,
)
from campaign315.problems import Problem, problem
from campaign315.read.cells import Cell, Package, Row
from campaign315.read.locate import Located, locate
from campaign315.text import squash
from campaign315.validate.values import (
    is_same_as_above,
    read_duty_date,
    read_name,
    read_phone,
    read_quantity,
    read_text,
)


@dataclass
class Examination:
    """What one file turned out to be."""

    attachment: AttachmentKey | None = None
    unit: Unit | None = None
    form: FilledForm | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.form is not None and not any(p.severity == "error" for p in self.problems)


def examine(package: Package, campaign: Campaign) -> Examination:
    """Identify and validate one read file."""
    result = Examination()
    identity = Identity.from_properties(package.properties)
    where = package.sheets[0].name if package.sheets else ""
    trusted = identity if identity and identity.campaign == campaign.id else None
    if identity and not trusted:
        result.problems.append(problem("wrong-campaign", where, identity.campaign, identity.campaign))
    if trusted and trusted.schema_version > FORM_SCHEMA_VERSION:
        result.problems.append(problem("schema-newer", where, trusted.schema_version, f"第 {trusted.schema_version} 版"))
    elif trusted and trusted.schema_version < FORM_SCHEMA_VERSION:
        result.problems.append(problem("schema-older", where, trusted.schema_version, f"第 {trusted.schema_version} 版"))

    located = locate(package, campaign, trusted.attachment if trusted else None)
    if located is None and trusted:
        other = locate(package, campaign)
        if other is not None:
            label = campaign.spec(trusted.attachment).label
            result.problems.append(problem("attachment-mismatch", where, "", f"{label}（{campaign.spec(trusted.attachment).title}）"))
        located = other
    if located is None:
        result.problems.append(problem("not-a-form", where))
        return result
    result.attachment = located.attachment
    result.unit = _identify_unit(located, trusted, campaign, result.problems)
    unit_name = result.unit.name if result.unit else (trusted.unit if trusted else "")
    if result.unit and not result.unit.owes(located.attachment):
        spec = campaign.spec(located.attachment)
        result.problems.append(problem("attachment-not-owed", _where(located), "", f"{spec.label}（{spec.title}）"))

    spec = campaign.spec(located.attachment)
    if located.attachment == "stats":
        result.form = read_stats(located, spec, unit_name, result.problems)
    else:
        result.form = read_roster(located, spec, campaign.staffing, result.unit, unit_name, result.problems)
    return result


def _where(located: Located) -> str:
    return located.unit.location if located.unit else located.sheet.name


def _identify_unit(located: Located, identity: Identity | None, campaign: Campaign, problems: list[Problem]) -> Unit | None:
    typed = located.unit.text.strip() if located.unit and not located.unit.is_empty else ""
    typed_unit = campaign.find_unit(typed) if typed else None
    example = campaign.units[0].name
    if typed and typed_unit is None:
        problems.append(problem("unit-unknown", located.unit.location, typed, example))
    if identity is None:
        if not typed:
            problems.append(problem("unit-missing", _where(located)))
        return typed_unit
    embedded = campaign.find_unit(identity.unit)
    if embedded is None:
        problems.append(problem("unit-unknown", _where(located), identity.unit, example))
        return typed_unit
    if typed_unit is not None and typed_unit != embedded:
        problems.append(problem("unit-mismatch", located.unit.location, typed, embedded.name))
    return embedded


# --- 附件2 ---------------------------------------------------------------------------------


def read_stats(located: Located, spec: StatsSpec, unit_name: str, problems: list[Problem]) -> ActivityStats:
    item_header, unit_header, quantity_header, remark_header = (squash(c) for c in spec.columns)
    category_col = located.columns[item_header]
    label_col, unit_col = category_col + 1, located.columns[unit_header]
    quantity_col, remark_col = located.columns[quantity_header], located.columns[remark_header]

    by_label = {(squash(i.category), squash(i.label)): i for i in spec.items}
    # A label found in one item only still names it when its category cell is gone (deleting the
    # first row of a merged category cell takes the category's text with it).
    labels = [squash(i.label) for i in spec.items]
    by_label_alone = {squash(i.label): i for i in spec.items if i.label and labels.count(squash(i.label)) == 1}

    def lookup(category: str, label: str):
        return by_label.get((category, label)) or _free_item(spec, category, label) or by_label_alone.get(label)

    order = {item.key: n for n, item in enumerate(spec.items)}
    pending = {item.key for item in spec.items}
    lines: dict[str, StatsLine] = {}
    item_locations: dict[str, str] = {}
    body = [row for row in located.body if not all(c.is_empty for c in row.cells)]
    # Items whose label is somewhere in the body: a row in an expected item's place is that item
    # relabelled only when the item's own label is nowhere else (else a row was inserted).
    present, category = set(), ""
    for row in body:
        category = squash(_cell(row, category_col).text) or category
        label = squash(_cell(row, label_col).text)
        item = lookup(category, label)
        if item is not None:
            present.add(item.key)
    category, last_index = "", -1
    for position, row in enumerate(body):
        category = squash(_cell(row, category_col).text) or category
        label_cell = _cell(row, label_col)
        label = squash(label_cell.text)
        item = lookup(category, label)
        quantity_cell, remark_cell = _cell(row, quantity_col), _cell(row, remark_col)
        if item is None or item.key not in pending:
            shown = label_cell.text.strip() or category
            expected = spec.items[position] if position < len(spec.items) else None
            if expected is not None and expected.key in pending and expected.key not in present and label:
                pending.discard(expected.key)
                problems.append(problem("item-label-changed", label_cell.location, shown, row.number))
            elif quantity_cell.is_empty and remark_cell.is_empty:
                problems.append(problem("item-added-empty", label_cell.location, shown))
            else:
                problems.append(problem("item-added", label_cell.location, shown))
            continue
        pending.discard(item.key)
        if order[item.key] < last_index:
            problems.append(problem("item-reordered", label_cell.location, item.title))
        last_index = max(last_index, order[item.key])
        typed_unit = _cell(row, unit_col).text.strip()
        if squash(typed_unit) != squash(item.unit):
            problems.append(problem("unit-label-changed", _cell(row, unit_col).location, typed_unit, item.title))
        quantity, found = read_quantity(quantity_cell, item.unit)
        if item.free and quantity_cell.is_empty and remark_cell.is_empty and (item.label or label_cell.is_empty):
            found = []  # a 其他 row left blank is the normal case, not an unreported figure
        problems.extend(found)
        lines[item.key] = StatsLine(
            key=item.key,
            quantity=quantity,
            remark=read_text(remark_cell),
            label=read_text(label_cell) if item.free and not item.label else "",
            cell=quantity_cell.location,
        )
        if item.free and quantity and not lines[item.key].remark and not lines[item.key].label:
            problems.append(problem("other-without-remark", remark_cell.location, quantity))
        item_locations[item.key] = quantity_cell.location
    if lines and all(line.quantity is None for line in lines.values()):
        problems.append(problem("stats-empty", located.sheet.name))
    for key in sorted(pending, key=order.get):
        problems.append(problem("item-missing", located.sheet.name, spec.item(key).title))
    for item in spec.items:
        line = lines.get(item.key)
        if item.participants_of and line and line.quantity:
            activities = [lines[k].quantity for k in item.participants_of if k in lines]
            if not any(activities):
                problems.append(problem("participants-without-activity", item_locations[item.key], line.quantity))
    filler, filler_phone = _footer(located, problems)
    return ActivityStats(unit=unit_name, lines=[lines[i.key] for i in spec.items if i.key in lines], filler=filler, filler_phone=filler_phone)


def _free_item(spec: StatsSpec, category: str, label: str):
    """A free (其他) row whose item cell the filler used to say what it counts."""
    return next((i for i in spec.items if i.free and not i.label and squash(i.category) == category), None)


def _cell(row: Row, index: int) -> Cell:
    return row.cell(index) or Cell(None, f"{row.cells[-1].location.rsplit('!', 1)[0]}" if row.cells else "")


# --- 附件1 ---------------------------------------------------------------------------------


def read_roster(located: Located, spec: RosterSpec, staffing: Staffing, unit: Unit | None, unit_name: str, problems: list[Problem]) -> DutyRoster:
    columns = [located.columns[squash(label)] for label in spec.columns]
    entries: list[RosterEntry] = []
    seen: dict[str, str] = {}
    roles = {"leader": 0, "cadre": 0, "unknown": 0}
    for row in located.body:
        date_cell, name_cell, position_cell, landline_cell, mobile_cell = (_cell(row, c) for c in columns)
        if all(c.is_empty for c in (name_cell, position_cell, landline_cell, mobile_cell)):
            continue
        name = read_name(name_cell)
        if not name:
            problems.append(problem("name-missing", name_cell.location))
            continue
        date, found = read_duty_date(date_cell, spec.duty_date)
        problems.extend(found)
        phones = {"landline": "", "mobile": ""}
        for kind, cell in (("landline", landline_cell), ("mobile", mobile_cell)):
            if is_same_as_above(cell):
                if not entries:
                    problems.append(problem("same-as-above-first", cell.location, cell.text))
                    continue
                copied = getattr(entries[-1], kind)
                problems.append(problem("same-as-above", cell.location, cell.text, copied or "（空）"))
                phones[kind] = phones[kind] or copied
                continue
            phone, found = read_phone(cell, kind)
            problems.extend(found)
            if phone.kind and not phones[phone.kind]:
                phones[phone.kind] = phone.number
        if not phones["landline"] and not phones["mobile"] and not any(
            p.code in ("mobile-invalid", "landline-invalid") and p.location in (landline_cell.location, mobile_cell.location) for p in problems
        ):
            problems.append(problem("phone-missing", mobile_cell.location))
        position = read_text(position_cell)
        role = staffing.classify(position) if position else "unknown"
        roles[role] += 1
        if not position:
            problems.append(problem("position-missing", position_cell.location))
        elif role == "unknown":
            problems.append(problem("position-unknown", position_cell.location, position))
        if name in seen:
            problems.append(problem("person-repeated", name_cell.location, name))
        seen[name] = name_cell.location
        entries.append(RosterEntry(date=date or spec.duty_date, name=name, position=position, **phones))
    if not entries:
        problems.append(problem("roster-empty", located.sheet.name))
    elif unit is not None:
        shortfall = staffing_shortfall(staffing, unit, roles)
        if shortfall:
            problems.append(problem("staffing-short", located.sheet.name, "", shortfall))
    filler, filler_phone = _footer(located, problems)
    return DutyRoster(unit=unit_name, entries=entries, filler=filler, filler_phone=filler_phone)


def staffing_shortfall(staffing: Staffing, unit: Unit, roles: dict[str, int]) -> str:
    """"" when the unit keeps enough people on duty, else what is short, in words."""
    rule = staffing.rule_for(unit)
    people = sum(roles.values())
    if people >= rule.min_on_duty and roles["leader"] >= rule.min_leaders:
        return ""
    wanted = f"须至少 {rule.min_on_duty} 人" + (f"（其中领导 {rule.min_leaders} 人）" if rule.min_leaders else "")
    actual = f"实有 {people} 人（领导 {roles['leader']} 人" + (f"，职务无法判断 {roles['unknown']} 人" if roles["unknown"] else "") + "）"
    return f"{unit.kind}{wanted}，{actual}"


# --- both -----------------------------------------------------------------------------------


def _footer(located: Located, problems: list[Problem]) -> tuple[str, str]:
    filler_cell, phone_cell = located.footer.get("filler"), located.footer.get("filler_phone")
    filler = read_name(filler_cell) if filler_cell else ""
    if not filler:
        problems.append(problem("filler-missing", filler_cell.location if filler_cell else located.sheet.name))
    if phone_cell is None or phone_cell.is_empty:
        problems.append(problem("filler-phone-missing", phone_cell.location if phone_cell else located.sheet.name))
        return filler, ""
    phone, found = read_phone(phone_cell, "mobile")
    if not phone.kind:
        problems.append(problem("filler-phone-invalid", phone_cell.location, phone_cell.text))
        return filler, ""
    # Either kind of number will do for the filler: only say what was cleaned up.
    problems.extend(p for p in found if p.code == "phone-normalised")
    return filler, phone.number
