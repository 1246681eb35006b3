"""``c315 feedback``: closing the loop with each department. For every form whose return has
problems, the department's own file comes back with each problem cell highlighted and commented,
with a short letter saying what to fix and by when; for every form still missing or rejected, a
催报 message short enough for SMS or chat, and one list for the collector to work through.

Nothing is written for a unit with nothing to fix. The archived originals are only ever read: the
marked file is a copy under ``out/<unit>/``. Letters and reminders come from Jinja templates in
``templates/`` that the office may edit.

    result = write_feedback(campaign, store, Path("feedback"), workspace.templates_dir)
    print(result.describe())
"""

from __future__ import annotations

import datetime as dt
import io
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

from campaign315.campaign import AttachmentKey, Campaign, Unit, shipped
from campaign315.errors import C315Error
from campaign315.files import safe_filename, write_atomically
from campaign315.problems import Problem, Severity
from campaign315.standing import STATUS_ZH, Standing, Status, standings
from campaign315.store import Store, StoredReturn

LETTER_TEMPLATE = "feedback_letter.txt.j2"
REMINDER_TEMPLATE = "reminder.txt.j2"
CHASE_LIST = "催报清单.txt"
LETTER_NAME = "修改意见-{unit}.txt"
REMINDER_NAME = "催报-{label}-{unit}.txt"
MARKED_TAG = "（已标注）"
CHASED: tuple[Status, ...] = ("missing", "rejected")
"""Who is chased: nothing usable has come back from them for this form."""

MARK_COLOURS: dict[Severity, str] = {"warning": "FFFF00", "error": "FF8080"}
SEVERITY_ZH: dict[Severity, str] = {"error": "错误", "warning": "提示"}
CHASE_COLUMNS = ("序号", "部门", "报表", "情况", "报送时限", "联系人")

# Text files are for Notepad and WPS on office PCs: a BOM so none of them guesses GBK, and CRLF
# so Notepad before Windows 10 does not show one long line.
TEXT_ENCODING = "utf-8-sig"
NEWLINE = "\r\n"
TIME_FORMAT = "%Y-%m-%d %H:%M"


class FeedbackTemplateError(C315Error):
    """A letter or reminder template the office edited cannot be rendered."""


# --- where a problem sits in its file ---------------------------------------------------------


@dataclass(frozen=True)
class SheetCell:
    """A workbook cell: ``统计表!D6``."""

    sheet: str
    ref: str


@dataclass(frozen=True)
class TableCell:
    """A Word table cell: table, row and grid column, 1-based, as the reader counts them."""

    table: int
    row: int
    column: int


@dataclass(frozen=True)
class BodyParagraph:
    """A Word paragraph outside any table: ``正文第4段``."""

    number: int


Spot = SheetCell | TableCell | BodyParagraph

# The location formats written by read/xlsx.py and read/docx.py.
_SHEET_CELL = re.compile(r"^(?P<sheet>.+)!(?P<ref>[A-Z]{1,3}[1-9][0-9]{0,6})$")
_TABLE_CELL = re.compile(r"^表(?P<table>[1-9][0-9]*) 第(?P<row>[1-9][0-9]*)行第(?P<column>[1-9][0-9]*)列$")
_BODY_PARAGRAPH = re.compile(r"^正文第(?P<number>[1-9][0-9]*)段$")


def spot_of(location: str) -> Spot | None:
    """Where a problem's location points inside its file; None for a problem of the whole file.

    >>> spot_of("统计表!D6"), spot_of("表1 第3行第4列"), spot_of("正文第4段"), spot_of("统计表")
    (SheetCell(sheet='统计表', ref='D6'), TableCell(table=1, row=3, column=4), BodyParagraph(number=4), None)
    """
    if match := _TABLE_CELL.match(location):
        return TableCell(int(match["table"]), int(match["row"]), int(match["column"]))
    if match := _BODY_PARAGRAPH.match(location):
        return BodyParagraph(int(match["number"]))
    if match := _SHEET_CELL.match(location):
        return SheetCell(match["sheet"], match["ref"])
    return None


# --- what the templates see -------------------------------------------------------------------


@dataclass(frozen=True)
class ProblemLine:
    """One line of a letter: one problem, or the same problem in several cells."""

    severity: Severity
    severity_zh: str
    code: str
    locations: tuple[str, ...]
    where: str
    """The cells for a person (``统计表!D6、统计表!D7``), or 整张表 for the whole form."""
    typed: str
    """What was typed, when the message does not already quote it."""
    message: str


@dataclass(frozen=True)
class FormNotice:
    """One attachment of one unit, as a letter or a reminder speaks of it."""

    attachment: AttachmentKey
    label: str
    title: str
    status: Status
    status_zh: str
    due_text: str
    due_at: str
    overdue: bool
    filename: str = ""
    received: str = ""
    accepted: bool = False
    errors: int = 0
    warnings: int = 0
    lines: tuple[ProblemLine, ...] = ()
    marked_copy: str = ""
    """The name of the marked copy beside the letter, or "" when none could be made."""


@dataclass
class FeedbackResult:
    """What :func:`write_feedback` wrote, for whom."""

    marked: list[tuple[Unit, Path]] = field(default_factory=list)
    letters: list[tuple[Unit, Path]] = field(default_factory=list)
    reminders: list[tuple[Unit, AttachmentKey, Path]] = field(default_factory=list)
    combined: Path | None = None
    unmarked: list[tuple[Unit, AttachmentKey, str]] = field(default_factory=list)
    """Returns with problems in cells whose file could not be marked, and why; the letter still
    lists every problem."""

    @property
    def written(self) -> list[Path]:
        paths = [p for _, p in self.marked] + [p for _, p in self.letters] + [p for *_, p in self.reminders]
        return paths + ([self.combined] if self.combined else [])

    def describe(self) -> str:
        """The closing line: who got what."""
        if not self.written:
            return "各部门的报表都无需修改，也无需催报，未写出任何文件。"
        parts = []
        if self.letters:
            parts.append(f"为 {len(self.letters)} 个部门写了修改意见（附标注文件 {len(self.marked)} 份）")
        if self.reminders:
            chased = len({unit.name for unit, *_ in self.reminders})
            parts.append(f"向 {chased} 个部门催报 {len(self.reminders)} 张表，清单见 {self.combined}")
        if self.unmarked:
            parts.append(f"{len(self.unmarked)} 份文件无法标注（问题已全部写入修改意见）")
        return "；".join(parts) + "。"


# --- the step ---------------------------------------------------------------------------------


def write_feedback(
    campaign: Campaign,
    store: Store,
    out: Path,
    templates_dir: Path,
    units: list[Unit] | None = None,
    now: dt.datetime | None = None,
) -> FeedbackResult:
    """Write the feedback of every unit (or of ``units``) under ``out``, as the store stands now:

    - ``out/<unit>/<file>（已标注）.xlsx|.docx`` — a copy of the unit's latest return (the counting
      one, else the latest) with every problem cell highlighted and commented;
    - ``out/<unit>/修改意见-<unit>.txt`` — the letter, from ``feedback_letter.txt.j2``;
    - ``out/<unit>/催报-附件N-<unit>.txt`` — for each form missing or rejected, from ``reminder.txt.j2``;
    - ``out/催报清单.txt`` — every reminder in one list, with whom to phone.

    ``now`` (default: the current time) dates the letters and says whether a due time has passed.
    Templates in ``templates_dir`` win; the shipped ones fill in for any it lacks.
    """
    now = _in_zone(now or dt.datetime.now(campaign.tz), campaign)
    out = Path(out)
    wanted = None if units is None else {unit.name for unit in units}
    rows = [s for s in standings(campaign, store.returns(campaign.id)) if wanted is None or s.unit.name in wanted]
    templates = _Templates(templates_dir)
    result = FeedbackResult()
    chased: list[tuple[Standing, FormNotice]] = []
    for unit, unit_rows in groupby(rows, key=lambda s: s.unit):
        notices = []
        used_names: set[str] = set()
        for standing in unit_rows:
            shown = standing.counting or standing.latest
            if shown is not None and shown.problems:
                copy_name = _mark_copy(campaign, store, standing, shown, out, used_names, result)
                notices.append(_notice(campaign, standing, now, shown, copy_name))
            if standing.status in CHASED:
                notice = _notice(campaign, standing, now, shown)
                text = templates.render(REMINDER_TEMPLATE, **_context(campaign, unit, now), form=notice)
                path = _path_in(out, unit.name, REMINDER_NAME.format(label=notice.label, unit=unit.name))
                _write_text(path, text)
                result.reminders.append((unit, standing.attachment, path))
                chased.append((standing, notice))
        if notices:
            text = templates.render(LETTER_TEMPLATE, **_context(campaign, unit, now), forms=notices)
            path = _path_in(out, unit.name, LETTER_NAME.format(unit=unit.name))
            _write_text(path, text)
            result.letters.append((unit, path))
    if chased:
        result.combined = _path_in(out, CHASE_LIST)
        _write_text(result.combined, chase_list(campaign, chased, now))
    return result


def chase_list(campaign: Campaign, chased: list[tuple[Standing, FormNotice]], now: dt.datetime) -> str:
    """The collector's list: one tab-separated row per form to chase (pastes into Excel)."""
    lines = [
        f"催报清单（{now:{TIME_FORMAT}} 生成，共 {len(chased)} 项；各部门的催报短信在其文件夹中）",
        "",
        "\t".join(CHASE_COLUMNS),
    ]
    for number, (standing, notice) in enumerate(chased, start=1):
        cells = (str(number), standing.unit.name, f"{notice.label} {notice.title}", notice.status_zh,
                 notice.due_text, standing.contact)
        lines.append("\t".join(cells))
    return "\n".join(lines)


# --- letters and reminders ----------------------------------------------------------------------


def _context(campaign: Campaign, unit: Unit, now: dt.datetime) -> dict:
    return {
        "campaign": campaign,
        "unit": unit,
        "collector": campaign.collector,
        "contact": campaign.collector_contact,
        "channel": campaign.channel,
        "now": now.strftime(TIME_FORMAT),
        "today": f"{now.year}年{now.month}月{now.day}日",
    }


def _notice(campaign: Campaign, standing: Standing, now: dt.datetime, shown: StoredReturn | None,
            marked_copy: str = "") -> FormNotice:
    spec = campaign.spec(standing.attachment)
    due = campaign.due_at(standing.attachment)
    facts = {}
    if shown is not None:
        facts = {
            "filename": shown.filename,
            "received": _in_zone(shown.received_at, campaign).strftime(TIME_FORMAT),
            "accepted": shown.outcome == "accepted",
            "errors": sum(p.severity == "error" for p in shown.problems),
            "warnings": sum(p.severity == "warning" for p in shown.problems),
            "lines": problem_lines(shown.problems),
        }
    return FormNotice(
        attachment=standing.attachment, label=spec.label, title=spec.title, status=standing.status,
        status_zh=STATUS_ZH[standing.status], due_text=spec.due_text,
        due_at=_in_zone(due, campaign).strftime(TIME_FORMAT), overdue=now > due, marked_copy=marked_copy, **facts,
    )


def problem_lines(problems: list[Problem]) -> tuple[ProblemLine, ...]:
    """Errors first, then warnings, in the file's order; one line for the same problem in many cells.

    >>> from campaign315.problems import problem
    >>> lines = problem_lines([problem("quantity-empty", "统计表!D7"), problem("quantity-negative", "统计表!D6", "-3"),
    ...                        problem("quantity-empty", "统计表!D8"), problem("staffing-short", "值班表", "", "…")])
    >>> [(line.severity_zh, line.where) for line in lines]
    [('错误', '统计表!D6'), ('提示', '统计表!D7、统计表!D8'), ('提示', '整张表')]
    """
    groups: dict[tuple[str, str, str, bool], list[Problem]] = {}
    for p in problems:
        groups.setdefault((p.severity, p.message, p.value, spot_of(p.location) is None), []).append(p)
    lines = []
    for (severity, message, value, whole_form), members in groups.items():
        locations = tuple(dict.fromkeys(p.location for p in members))
        lines.append(ProblemLine(
            severity=severity, severity_zh=SEVERITY_ZH[severity], code=members[0].code, locations=locations,
            where="整张表" if whole_form else "、".join(locations),
            typed=value if value and value not in message else "", message=message,
        ))
    return tuple(sorted(lines, key=lambda line: line.severity != "error"))


class _Templates:
    def __init__(self, templates_dir: Path):
        from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

        # A workspace made by an older `c315 init` may lack these templates: the shipped ones fill in.
        loader = ChoiceLoader([FileSystemLoader(Path(templates_dir)), FileSystemLoader(shipped("templates"))])
        self.environment = Environment(loader=loader, undefined=StrictUndefined, autoescape=False,
                                       trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)

    def render(self, name: str, **context) -> str:
        from jinja2 import TemplateError, TemplateNotFound, TemplateSyntaxError

        try:
            return self.environment.get_template(name).render(**context)
        except TemplateNotFound:
            raise FeedbackTemplateError(f"找不到模板 {name}。请用 c315 init --force 恢复默认模板。") from None
        except TemplateSyntaxError as exc:
            raise FeedbackTemplateError(f"模板 {exc.filename or name} 第 {exc.lineno} 行写法有误：{exc.message}") from None
        except TemplateError as exc:
            raise FeedbackTemplateError(f"模板 {name} 无法生成文字：{exc.message}（字段名写错了？）") from None


def _write_text(path: Path, text: str) -> None:
    body = "\n".join(line.rstrip() for line in text.strip().splitlines()) + "\n"
    write_atomically(path, body.replace("\n", NEWLINE).encode(TEXT_ENCODING))


# --- the marked copy ----------------------------------------------------------------------------


def _mark_copy(campaign: Campaign, store: Store, standing: Standing, shown: StoredReturn, out: Path,
               used_names: set[str], result: FeedbackResult) -> str:
    """Write the marked copy of ``shown`` beside the letter; its file name, or "" when there is
    none (no problem sits in a cell, or the file cannot be marked: then ``result.unmarked`` says why)."""
    from campaign315.read.package import Unreadable, read_part

    spots: dict[Spot, list[Problem]] = {}
    for p in shown.problems:
        spot = spot_of(p.location)
        if spot is not None:
            spots.setdefault(spot, []).append(p)
    if not spots:
        return ""
    unit = standing.unit
    try:
        data = (store.directory / shown.archive_path).read_bytes()
        fmt = _format_of(data)
        if fmt is None:
            raise ValueError("不是 .xlsx 或 .docx 文件")
        in_file = {s: ps for s, ps in spots.items() if isinstance(s, SheetCell) == (fmt == "xlsx")}
        if not in_file:
            return ""
        with zipfile.ZipFile(io.BytesIO(data)) as zf:  # parts the reader skipped get the same DOCTYPE check
            for name in zf.namelist():
                if name.endswith((".xml", ".rels")):
                    read_part(zf, name)
        mark = mark_workbook if fmt == "xlsx" else mark_document
        marked = mark(data, in_file, campaign.collector.name)
    except OSError as exc:
        result.unmarked.append((unit, standing.attachment, f"存档文件无法读取：{exc.strerror or type(exc).__name__}"))
        return ""
    except Unreadable as exc:
        result.unmarked.append((unit, standing.attachment, f"文件不安全或已损坏：{exc.detail or exc.code}"))
        return ""
    except (zipfile.BadZipFile, ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        # A file shaped in a way openpyxl or python-docx cannot take: the letter alone will do.
        result.unmarked.append((unit, standing.attachment, f"无法在文件中标注：{exc or type(exc).__name__}"))
        return ""
    stem = Path(shown.filename).stem or campaign.spec(standing.attachment).label
    name = safe_filename(f"{stem}{MARKED_TAG}.{fmt}")
    if name in used_names:
        name = safe_filename(f"{campaign.spec(standing.attachment).label}-{name}")
    used_names.add(name)
    path = _path_in(out, unit.name, name)
    write_atomically(path, marked)
    result.marked.append((unit, path))
    return path.name


def _format_of(data: bytes) -> str | None:
    """xlsx or docx by what the zip holds (the reader's rule), whatever the file was called."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    return "xlsx" if "xl/workbook.xml" in names else "docx" if "word/document.xml" in names else None


def _comment_text(problems: list[Problem]) -> str:
    return "\n".join(f"【{SEVERITY_ZH[p.severity]}】{p.message}" for p in problems)


def _worst(problems: list[Problem]) -> Severity:
    return "error" if any(p.severity == "error" for p in problems) else "warning"


def mark_workbook(data: bytes, marks: dict[SheetCell, list[Problem]], author: str) -> bytes:
    """A copy of a workbook with each marked cell filled (yellow: warning, red: error) and an
    Excel comment saying what is wrong. A cell inside a merged range is marked on the range's
    first cell; a sheet or cell that is not there is left out."""
    from openpyxl import load_workbook
    from openpyxl.cell.cell import MergedCell
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill
    from openpyxl.utils.exceptions import CellCoordinatesException

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # notes about features openpyxl drops are not the filler's concern
        workbook = load_workbook(io.BytesIO(data))
    on_cell: dict[tuple[str, str], list[Problem]] = {}
    for spot, problems in marks.items():
        if spot.sheet not in workbook.sheetnames:
            continue
        sheet = workbook[spot.sheet]
        try:
            cell = sheet[spot.ref]
        except (CellCoordinatesException, ValueError):
            continue
        if isinstance(cell, MergedCell):
            merged = next(r for r in sheet.merged_cells.ranges if cell.coordinate in r)
            cell = sheet.cell(merged.min_row, merged.min_col)
        on_cell.setdefault((spot.sheet, cell.coordinate), []).extend(problems)
    for (sheet_name, ref), problems in on_cell.items():
        cell = workbook[sheet_name][ref]
        cell.fill = PatternFill("solid", fgColor=MARK_COLOURS[_worst(problems)])
        text = _comment_text(problems)
        if cell.comment is not None and cell.comment.text.strip():
            text += f"\n（原批注）{cell.comment.text.strip()}"
        rows = sum(len(line) // 18 + 1 for line in text.splitlines())
        cell.comment = Comment(text, author, height=min(40 + 15 * rows, 400), width=260)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


_TCPR_AFTER_SHD = ("w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign", "w:hideMark",
                   "w:headers", "w:cellIns", "w:cellDel", "w:cellMerge", "w:tcPrChange")


def mark_document(data: bytes, marks: dict[TableCell | BodyParagraph, list[Problem]], author: str) -> bytes:
    """A copy of a Word document with each marked table cell shaded (yellow: warning, red: error)
    and a Word comment on it (on a marked paragraph: the comment alone). Without comment support
    in python-docx, a red bracketed note is added to the cell instead. Tables, rows, grid columns
    and paragraphs are counted as the reader counts them."""
    from docx import Document
    from docx.shared import RGBColor
    from docx.table import Table, _Cell
    from docx.text.paragraph import Paragraph

    document = Document(io.BytesIO(data))
    tables, paragraphs = _body_blocks(document.element.body)
    for spot, problems in marks.items():
        if isinstance(spot, TableCell):
            tc = _grid_cell(tables, spot)
            if tc is None:
                continue
            _shade(tc, MARK_COLOURS[_worst(problems)])
            cell = _Cell(tc, Table(tables[spot.table - 1], document))
            holders = cell.paragraphs or [cell.add_paragraph()]
        else:
            if not 1 <= spot.number <= len(paragraphs):
                continue
            holders = [Paragraph(paragraphs[spot.number - 1], document)]
        text = _comment_text(problems)
        if hasattr(document, "add_comment"):
            runs = [run for paragraph in holders for run in paragraph.runs] or [holders[0].add_run()]
            document.add_comment(runs, text=text, author=author, initials=author[:2])
        else:
            note = holders[-1].add_run(f"【{text.replace(chr(10), '；')}】")
            note.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _body_blocks(body) -> tuple[list, list]:
    """The body's tables and paragraphs, numbered in the reader's order."""
    from campaign315.read.docx import W, _blocks

    tables, paragraphs = [], []
    for block in _blocks(body):
        (tables if block.tag == f"{W}tbl" else paragraphs).append(block)
    return tables, paragraphs


def _grid_cell(tables: list, spot: TableCell):
    """The w:tc covering the spot's grid column (gridSpan counted as the reader counts it)."""
    from campaign315.read.docx import W, _children

    if not 1 <= spot.table <= len(tables):
        return None
    rows = list(_children(tables[spot.table - 1], "tr"))
    if not 1 <= spot.row <= len(rows):
        return None
    start = 1
    for tc in _children(rows[spot.row - 1], "tc"):
        span_element = tc.find(f"{W}tcPr/{W}gridSpan")
        try:
            span = 1 if span_element is None else max(1, min(int(span_element.get(f"{W}val", "1")), 64))
        except ValueError:
            span = 1
        if start <= spot.column < start + span:
            return tc
        start += span
    return None


def _shade(tc, fill: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    properties = tc.get_or_add_tcPr()
    shading = properties.find(qn("w:shd"))
    if shading is None:
        shading = OxmlElement("w:shd")
        properties.insert_element_before(shading, *_TCPR_AFTER_SHD)
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)


# --- paths and times ----------------------------------------------------------------------------


def _path_in(out: Path, *names: str) -> Path:
    """``out/name/...`` with every name made safe; refuses a path that still resolves outside
    ``out`` (a folder in it that is a link elsewhere)."""
    path = out.joinpath(*(safe_filename(name) for name in names))
    if not path.resolve().is_relative_to(out.resolve()):
        raise C315Error(f"{path} 指向输出目录 {out} 之外，未写入。请换一个输出目录。")
    return path


def _in_zone(moment: dt.datetime, campaign: Campaign) -> dt.datetime:
    return moment.replace(tzinfo=campaign.tz) if moment.tzinfo is None else moment.astimezone(campaign.tz)
