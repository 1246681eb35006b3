"""A located form → who sent it, which attachment, the typed filled form, and every problem.

Identity first (embedded properties, else the title, header and 填报部门), then each row of the
body against the campaign's definition of the form. Problems are data: nothing here raises on bad
input. An error rejects the return; a warning keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from campaign315.common.text import squash, visible
from campaign315.intake.read.cells import Cell, Package
from campaign315.intake.read.locate import Located, locate_all, locate_generated
from campaign315.intake.validate.values import (
    LARGEST_QUANTITY,
    is_same_as_above,
    read_duty_date,
    read_name,
    read_phone,
    read_quantity,
    read_text,
)
from campaign315.spec.campaign import (
    ATTACHMENT_KEYS,
    AttachmentKey,
    Campaign,
    RosterSpec,
    Staffing,
    StatsItem,
    StatsSpec,
    Unit,
)
from campaign315.spec.forms import (
    FORM_SCHEMA_VERSION,
    UNIT_FIELD_LABEL,
    ActivityStats,
    DutyRoster,
    FilledForm,
    Identity,
    RosterEntry,
    StatsLine,
    instruction,
)
from campaign315.spec.location import Location
from campaign315.spec.problems import Code, Problem, has_errors, problem


@dataclass
class Examination:
    """What one form found in a file turned out to be (or, when the file holds none, the file)."""

    attachment: AttachmentKey | None = None
    unit: Unit | None = None
    form: FilledForm | None = None
    problems: list[Problem] = field(default_factory=list)
    place: Location | None = None
    """Where the form is in its file: its sheet, or its table (``表2``) in a document."""

    @property
    def accepted(self) -> bool:
        return self.form is not None and not has_errors(self.problems)


@dataclass
class FileExamination:
    """What one file turned out to hold: one :class:`Examination` per form found in it — each a
    return of its own — or a single rejected one when it holds none; and the sheets or tables
    that hold something but are no form (ignored, said in one line)."""

    returns: list[Examination]
    ignored: list[Location] = field(default_factory=list)


def examine(package: Package, campaign: Campaign) -> FileExamination:
    """Identify and validate every form of one read file."""
    identity = Identity.from_properties(package.properties)
    trusted = identity if identity and identity.campaign == campaign.id else None
    forms, ignored = _as_generated(package, campaign, trusted) or locate_all(package, campaign)
    if not forms:
        where = Location.sheet(package.sheets[0].name if package.sheets else "")
        failed = Examination(problems=[*_file_problems(identity, trusted, where), problem(Code.NOT_A_FORM, where)])
        return FileExamination([failed], ignored)
    # The identity is a file's, made for one attachment: it speaks for the form of that attachment.
    # A file holding only the other one was made for one form and filled with another.
    mismatch = trusted is not None and all(located.attachment != trusted.attachment for located in forms)
    exams = []
    for located in forms:
        problems = _file_problems(identity, trusted, located.place)
        own = trusted if trusted and (mismatch or located.attachment == trusted.attachment) else None
        if mismatch:
            spec = campaign.spec(trusted.attachment)
            problems.append(problem(Code.ATTACHMENT_MISMATCH, located.place, "", f"{spec.label}（{spec.title}）"))
        exams.append(_examine_form(located, own, campaign, problems))
    return FileExamination(_one_per_attachment(exams, campaign), ignored)


def _as_generated(package: Package, campaign: Campaign, trusted: Identity | None) -> tuple[list[Located], list[Location]] | None:
    """The fast path: a workbook of one sheet that c315 generated for the attachment its identity
    names, found by position (:func:`locate_generated`) — exactly what :func:`locate_all` finds
    there. None for anything else (several sheets or tables, a form moved or edited): the general
    search then looks at every sheet and table."""
    if trusted is None or len(package.sheets) != 1:
        return None
    located = locate_generated(package, campaign, trusted.attachment)
    return ([located], []) if located is not None else None


def _file_problems(identity: Identity | None, trusted: Identity | None, where: Location) -> list[Problem]:
    """What the file's identity says against every form in it."""
    found = []
    if identity and not trusted:
        found.append(problem(Code.WRONG_CAMPAIGN, where, identity.campaign, identity.campaign))
    if trusted and trusted.schema_version > FORM_SCHEMA_VERSION:
        found.append(problem(Code.SCHEMA_NEWER, where, trusted.schema_version, f"第 {trusted.schema_version} 版"))
    elif trusted and trusted.schema_version < FORM_SCHEMA_VERSION:
        found.append(problem(Code.SCHEMA_OLDER, where, trusted.schema_version, f"第 {trusted.schema_version} 版"))
    return found


def _examine_form(located: Located, trusted: Identity | None, campaign: Campaign, problems: list[Problem]) -> Examination:
    """One form: who sent it, its rows read against the campaign's definition, what lies outside it."""
    result = Examination(attachment=located.attachment, problems=problems, place=located.place)
    if not any(unit.owes(located.attachment) for unit in campaign.units):  # e.g. the city collects no duty roster
        collected = "、".join(f"{campaign.spec(k).label}（{campaign.spec(k).title}）"
                              for k in ATTACHMENT_KEYS if campaign.units_owing(k))
        spec = campaign.spec(located.attachment)
        result.problems.append(problem(Code.ATTACHMENT_NOT_COLLECTED, located.place, "",
                                       f"{collected}，不收{spec.label}（{spec.title}）"))
        return result
    result.unit = _identify_unit(located, trusted, campaign, result.problems)
    unit_name = result.unit.name if result.unit else (trusted.unit if trusted else "")
    spec = campaign.spec(located.attachment)
    if result.unit and not result.unit.owes(located.attachment):
        result.problems.append(problem(Code.ATTACHMENT_NOT_OWED, _where(located), "", f"{spec.label}（{spec.title}）"))
    if located.attachment == "stats":
        result.form = read_stats(located, spec, unit_name, result.problems)
    else:
        result.form = read_roster(located, spec, campaign.staffing, result.unit, unit_name, result.problems)
    result.problems.extend(outside_the_form(located, campaign))
    return result


def _one_per_attachment(exams: list[Examination], campaign: Campaign) -> list[Examination]:
    """The same attachment twice in one file: a copy identical to the first is read once (said);
    copies that differ are each rejected, naming both places — nobody can tell which one counts."""
    kept: list[Examination] = []
    for exam in exams:
        first = next((k for k in kept if k.attachment == exam.attachment), None)
        if first is None:
            kept.append(exam)
            continue
        spec = campaign.spec(exam.attachment)
        what = f"{spec.label}（{spec.title}）"
        here, there = str(first.place), str(exam.place)
        if _content(first.form) == _content(exam.form):
            first.problems.append(problem(Code.ATTACHMENT_COPY, exam.place, there, what, other=here))
            continue
        first.problems.append(problem(Code.ATTACHMENT_REPEATED, first.place, here, what, other=there))
        exam.problems.append(problem(Code.ATTACHMENT_REPEATED, exam.place, there, what, other=here))
        kept.append(exam)
    return kept


def _content(form: FilledForm | None) -> dict | None:
    """What a form says, wherever in the file it sits (without the cells it was read from)."""
    if form is None:
        return None
    data = form.model_dump()
    for line in data.get("lines", ()):
        line.pop("cell", None)
    return data


def _where(located: Located) -> Location:
    return located.unit.location if located.unit else located.place


def _identify_unit(located: Located, identity: Identity | None, campaign: Campaign, problems: list[Problem]) -> Unit | None:
    typed = located.unit.text.strip() if located.unit and not located.unit.is_empty else ""
    typed_unit = campaign.find_unit(typed) if typed else None
    example = campaign.units[0].name
    if typed and typed_unit is None:
        problems.append(problem(Code.UNIT_UNKNOWN, located.unit.location, typed, example))
    if identity is None:
        if not typed:
            problems.append(problem(Code.UNIT_MISSING, _where(located)))
        return typed_unit
    embedded = campaign.find_unit(identity.unit)
    if embedded is None:
        problems.append(problem(Code.UNIT_UNKNOWN, _where(located), identity.unit, example))
        return typed_unit
    if typed_unit is not None and typed_unit != embedded:
        problems.append(problem(Code.UNIT_MISMATCH, located.unit.location, typed, embedded.name))
    return embedded


# --- 附件2 ---------------------------------------------------------------------------------


class _StatsKeys:
    """What read_stats compares a return's rows with, folded once per form definition (not once
    per return): the header labels, each item by (category, label), and by its label alone."""

    def __init__(self, spec: StatsSpec):
        self.headers = tuple(squash(c) for c in spec.columns)
        self.by_label = {(squash(i.category), squash(i.label)): i for i in spec.items}
        labels = [squash(i.label) for i in spec.items]
        # A label found in one item only still names it when its category cell is gone (deleting the
        # first row of a merged category cell takes the category's text with it).
        self.by_label_alone = {squash(i.label): i for i in spec.items if i.label and labels.count(squash(i.label)) == 1}
        self.free_by_category = {}
        for item in spec.items:
            if item.free and not item.label:
                self.free_by_category.setdefault(squash(item.category), item)
        self.order = {item.key: n for n, item in enumerate(spec.items)}
        self.units = {item.key: squash(item.unit) for item in spec.items}
        # Each row of the generated form as the search would name it, when its locked cells decide
        # it: (category, label, item); label None where the filler types the item (其他). None
        # when a row could be left wholly empty (the search must skip it and count on).
        self.placed: list[tuple[str, str | None, StatsItem | None]] | None = []
        previous = None
        for item in spec.items:
            category, starts_run, previous = squash(item.category), item.category != previous, item.category
            if item.label:
                self.placed.append((category, squash(item.label), self.lookup(category, squash(item.label))))
            elif starts_run:
                self.placed.append((category, None, None))
            else:
                self.placed = None
                break

    def lookup(self, category: str, label: str):
        """The item a row names by its (squashed) category and label, or None."""
        return self.by_label.get((category, label)) or self.free_by_category.get(category) or self.by_label_alone.get(label)


_KEYS: dict[int, tuple[StatsSpec, _StatsKeys]] = {}


def _stats_keys(spec: StatsSpec) -> _StatsKeys:
    known = _KEYS.get(id(spec))
    if known is None or known[0] is not spec:
        known = _KEYS[id(spec)] = (spec, _StatsKeys(spec))
    return known[1]


def read_stats(located: Located, spec: StatsSpec, unit_name: str, problems: list[Problem]) -> ActivityStats:
    keys = _stats_keys(spec)
    item_header, unit_header, quantity_header, remark_header = keys.headers
    category_col = located.columns[item_header]
    label_col, unit_col = category_col + 1, located.columns[unit_header]
    quantity_col, remark_col = located.columns[quantity_header], located.columns[remark_header]

    order = keys.order
    pending = {item.key for item in spec.items}
    lines: dict[str, StatsLine] = {}
    item_locations: dict[str, Location] = {}
    # Each row named by its category (carried down a merged cell) and label. Where the form is as
    # generated, its locked cells already say which item each row is: only typed item cells are read.
    named, category = [], ""
    as_generated = located.as_generated and keys.placed is not None and len(located.body) == len(spec.items)
    if as_generated:
        for row, (category, label, item) in zip(located.body, keys.placed, strict=True):
            if label is None:
                label = row.squashed_at(label_col)
                item = keys.lookup(category, label)
            named.append((row, category, label, item))
    else:
        for row in located.body:
            if row.is_empty:
                continue
            category = row.squashed_at(category_col) or category
            label = row.squashed_at(label_col)
            named.append((row, category, label, keys.lookup(category, label)))
    # Items whose label is somewhere in the body: a row in an expected item's place is that item
    # relabelled only when the item's own label is nowhere else (else a row was inserted).
    present = {item.key for *_, item in named if item is not None}
    last_index = -1
    for position, (row, category, label, item) in enumerate(named):
        if item is None or item.key not in pending:
            label_cell = row.cell(label_col)
            shown = label_cell.text.strip() or category
            expected = spec.items[position] if position < len(spec.items) else None
            if expected is not None and expected.key in pending and expected.key not in present and label:
                pending.discard(expected.key)
                problems.append(problem(Code.ITEM_LABEL_CHANGED, label_cell.location, shown, row.number))
            elif row.is_empty_at(quantity_col) and row.is_empty_at(remark_col):
                problems.append(problem(Code.ITEM_ADDED_EMPTY, label_cell.location, shown))
            else:
                problems.append(problem(Code.ITEM_ADDED, label_cell.location, shown))
            continue
        pending.discard(item.key)
        if order[item.key] < last_index:
            problems.append(problem(Code.ITEM_REORDERED, row.cell(label_col).location, item.title))
        last_index = max(last_index, order[item.key])
        if as_generated:
            line = _line_as_generated(row, item, label_col, unit_col, quantity_col, remark_col, problems)
            if line is not None:
                lines[item.key], item_locations[item.key] = line, line.cell
                continue
        quantity_cell, remark_cell = row.cell(quantity_col), row.cell(remark_col)
        if row.value_at(unit_col) != item.unit and row.squashed_at(unit_col) != keys.units[item.key]:
            unit_cell = row.cell(unit_col)
            typed_unit = unit_cell.text.strip()
            if quantity_cell.is_empty and is_figure(unit_cell, item.unit):
                problems.append(problem(Code.FIGURE_IN_UNIT, unit_cell.location, typed_unit))
            else:
                problems.append(problem(Code.UNIT_LABEL_CHANGED, unit_cell.location, typed_unit, item.title))
        if quantity_cell.is_empty and is_figure(remark_cell, item.unit):
            problems.append(problem(Code.FIGURE_IN_REMARK, remark_cell.location, remark_cell.text.strip()))
        quantity, found = read_quantity(quantity_cell, item.unit)
        if item.free and quantity_cell.is_empty and remark_cell.is_empty and (item.label or row.is_empty_at(label_col)):
            found = []  # a 其他 row left blank is the normal case, not an unreported figure
        problems.extend(found)
        lines[item.key] = StatsLine(
            key=item.key,
            quantity=quantity,
            remark=read_text(remark_cell),
            label=read_text(row.cell(label_col)) if item.free and not item.label else "",
            cell=quantity_cell.location,
        )
        if item.free and quantity and not lines[item.key].remark and not lines[item.key].label:
            problems.append(problem(Code.OTHER_WITHOUT_REMARK, remark_cell.location, quantity))
        item_locations[item.key] = quantity_cell.location
    if lines and all(line.quantity is None for line in lines.values()):
        problems.append(problem(Code.STATS_EMPTY, located.place))
    for key in sorted(pending, key=order.get):
        problems.append(problem(Code.ITEM_MISSING, located.place, spec.item(key).title))
    for item in spec.items:
        line = lines.get(item.key)
        if item.participants_of and line and line.quantity:
            activities = [lines[k].quantity for k in item.participants_of if k in lines]
            if not any(activities):
                problems.append(problem(Code.PARTICIPANTS_WITHOUT_ACTIVITY, item_locations[item.key], line.quantity))
    filler, filler_phone = _footer(located, problems)
    return ActivityStats(unit=unit_name, lines=[lines[i.key] for i in spec.items if i.key in lines], filler=filler, filler_phone=filler_phone)


def _line_as_generated(row, item: StatsItem, label_col: int, unit_col: int, quantity_col: int, remark_col: int,
                       problems: list[Problem]) -> StatsLine | None:
    """A row of the generated form read from its raw values in the common case — its unit as
    generated, a whole number from 0 up, text or nothing as the remark — exactly as the general
    reading would read it; None for anything else (the general reading then does)."""
    quantity, remark = row.raw_at(quantity_col), row.raw_at(remark_col)
    if (row.raw_at(unit_col) != item.unit or quantity.__class__ is not float or not quantity.is_integer()
            or not 0 <= quantity <= LARGEST_QUANTITY or remark.__class__ is not str):
        return None
    label = ""
    if item.free and not item.label:
        typed = row.raw_at(label_col)
        if typed.__class__ is not str:
            return None
        label = visible(typed)
    line = StatsLine(key=item.key, quantity=int(quantity), remark=visible(remark), label=label, cell=row.location_at(quantity_col))
    if item.free and line.quantity and not line.remark and not line.label:
        problems.append(problem(Code.OTHER_WITHOUT_REMARK, row.location_at(remark_col), line.quantity))
    return line


# --- 附件1 ---------------------------------------------------------------------------------


def _roster_headers(spec: RosterSpec) -> tuple[str, ...]:
    return tuple(squash(label) for label in spec.columns)  # squash remembers: folded once per run


def read_roster(located: Located, spec: RosterSpec, staffing: Staffing, unit: Unit | None, unit_name: str, problems: list[Problem]) -> DutyRoster:
    columns = [located.columns[label] for label in _roster_headers(spec)]
    entries: list[RosterEntry] = []
    seen: dict[str, Location] = {}
    for row in located.body:
        if all(row.is_empty_at(c) for c in columns[1:]):  # no one on this line (a date alone is not a person)
            continue
        date_cell, name_cell, position_cell, landline_cell, mobile_cell = (row.cell(c) for c in columns)
        name = read_name(name_cell)
        if not name:
            problems.append(problem(Code.NAME_MISSING, name_cell.location))
            continue
        date, found = read_duty_date(date_cell, spec.duty_date)
        problems.extend(found)
        phones = {"landline": "", "mobile": ""}
        for kind, cell in (("landline", landline_cell), ("mobile", mobile_cell)):
            if is_same_as_above(cell):
                if not entries:
                    problems.append(problem(Code.SAME_AS_ABOVE_FIRST, cell.location, cell.text))
                    continue
                copied = getattr(entries[-1], kind)
                problems.append(problem(Code.SAME_AS_ABOVE, cell.location, cell.text, copied or "（空）"))
                phones[kind] = phones[kind] or copied
                continue
            phone, found = read_phone(cell, kind)
            problems.extend(found)
            if phone.kind and not phones[phone.kind]:
                phones[phone.kind] = phone.number
        if not phones["landline"] and not phones["mobile"] and not any(
            p.code in (Code.MOBILE_INVALID, Code.LANDLINE_INVALID) and p.location in (landline_cell.location, mobile_cell.location) for p in problems
        ):
            problems.append(problem(Code.PHONE_MISSING, mobile_cell.location))
        position = read_text(position_cell)
        if not position:
            problems.append(problem(Code.POSITION_MISSING, position_cell.location))
        elif read_phone(position_cell, "mobile")[0].kind:
            problems.append(problem(Code.PHONE_IN_POSITION, position_cell.location, position))
        elif staffing.classify(position) == "unknown":
            problems.append(problem(Code.POSITION_UNKNOWN, position_cell.location, position))
        if name in seen:
            problems.append(problem(Code.PERSON_REPEATED, name_cell.location, name))
        seen[name] = name_cell.location
        entries.append(RosterEntry(date=date or spec.duty_date, name=name, position=position, **phones))
    if not entries:
        problems.append(problem(Code.ROSTER_EMPTY, located.place))
    elif unit is not None:
        shortfall = staffing.shortfall(unit, [entry.position for entry in entries])
        if shortfall:
            problems.append(problem(Code.STAFFING_SHORT, located.place, "", shortfall))
    filler, filler_phone = _footer(located, problems)
    return DutyRoster(unit=unit_name, entries=entries, filler=filler, filler_phone=filler_phone)


# --- both -----------------------------------------------------------------------------------


def is_figure(cell: Cell, unit_label: str) -> bool:
    """Does the cell hold what reads as a count (``2``, ``３场``) — a figure that may have been
    meant for 数量?"""
    if cell.is_empty:
        return False
    quantity, found = read_quantity(cell, unit_label)
    return quantity is not None and not has_errors(found)


MAX_OUTSIDE = 20
"""Cells outside a form named one by one; past this many, one more warning counts the rest."""


def outside_the_form(located: Located, campaign: Campaign) -> list[Problem]:
    """What was written where the form has no place for it — never counted, so always said: a
    column added to the table (named by its header, with an example of what it holds), a cell of
    the table's rows outside its columns with no header, and text anywhere around the table that
    is not one of the form's own lines (title, 填报部门, footer, note, instruction)."""
    spec = campaign.spec(located.attachment)
    header = located.header_row
    if header is None:
        return []
    claimed = set(located.columns.values())
    if located.attachment == "stats":
        claimed.add(located.columns[squash(spec.columns[0])] + 1)  # 项目 spans the category and item columns
    found: list[Problem] = []
    # Cells are made only where something is written (a return's few hundred empty cells are not).
    width = max((len(row) for row in (header, *located.body)), default=0)
    for column in sorted(set(range(width)) - claimed):
        filled = [row.cell(column) for row in located.body if not row.is_empty_at(column)]
        if not filled:
            continue
        heading = header.cell(column)
        if not heading.is_empty:
            found.append(problem(Code.COLUMN_ADDED, heading.location, heading.text.strip(), _short(filled[0].text)))
        else:
            found.extend(problem(Code.CONTENT_OUTSIDE_FORM, cell.location, _short(cell.text)) for cell in filled)
    known = {squash(text) for text in (spec.label, spec.title, getattr(spec, "note", ""), instruction(campaign, spec.key))}
    labels = [squash(text) for text in (UNIT_FIELD_LABEL, *spec.filler_labels)]
    own = {cell.location for cell in (located.title, located.unit, *located.footer.values()) if cell is not None}
    table = {id(row) for row in (header, *located.body)}
    for index in located.span:
        row = located.sheet.rows[index]
        if id(row) in table or (row.table is not None and row.table != header.table):
            continue  # the table itself, or another table (a table that is no form is said once, apart)
        for column in range(len(row)):
            if row.is_empty_at(column):
                continue
            cell = row.cell(column)
            if cell.location in own or cell.squashed.rstrip(":：") in known or any(label in cell.squashed for label in labels):
                continue
            found.append(problem(Code.CONTENT_OUTSIDE_FORM, cell.location, _short(cell.text)))
    if len(found) > MAX_OUTSIDE:
        rest = len(found) - MAX_OUTSIDE
        found = found[:MAX_OUTSIDE] + [problem(Code.CONTENT_OUTSIDE_FORM, found[MAX_OUTSIDE].location, f"……另有 {rest} 处")]
    return found


def _short(text: str, limit: int = 40) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "…"



def _footer(located: Located, problems: list[Problem]) -> tuple[str, str]:
    filler_cell, phone_cell = located.footer.get("filler"), located.footer.get("filler_phone")
    filler = read_name(filler_cell) if filler_cell else ""
    if not filler:
        problems.append(problem(Code.FILLER_MISSING, filler_cell.location if filler_cell else located.place))
    if phone_cell is None or phone_cell.is_empty:
        problems.append(problem(Code.FILLER_PHONE_MISSING, phone_cell.location if phone_cell else located.place))
        return filler, ""
    phone, found = read_phone(phone_cell, "mobile")
    if not phone.kind:
        problems.append(problem(Code.FILLER_PHONE_INVALID, phone_cell.location, phone_cell.text))
        return filler, ""
    # Either kind of number will do for the filler: only say what was cleaned up.
    problems.extend(p for p in found if p.code == Code.PHONE_NORMALISED)
    return filler, phone.number
