"""``c315 feedback``: closing the loop with each department. For every form whose return has
problems (found by ingest, or written by the collector on review: 有问题, 退回), the department's own file comes back with each problem cell highlighted and commented,
with a short letter saying what to fix and by when; for every form still missing or rejected, a
催报 message short enough for SMS or chat, and one list for the collector to work through.

Nothing is written for a unit with nothing to fix. The archived originals are only ever read: the
marked file is a copy under ``out/<unit>/``. Letters and reminders come from Jinja templates in
``templates/`` that the office may edit. This module chooses who gets what; :mod:`.letters` says
it and :mod:`.marking` edits the copies.

    result = write_feedback(campaign, store, Path("feedback"), workspace.templates_dir)
    print(result.describe())
"""

from __future__ import annotations

import datetime as dt
import zipfile
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

from campaign315.common.errors import C315Error
from campaign315.common.files import safe_filename, write_atomically
from campaign315.common.templates import render_template
from campaign315.reports.feedback.letters import (
    FormNotice,
    chase_list,
    form_notice,
    template_context,
    write_text,
)
from campaign315.reports.feedback.marking import mark_document, mark_workbook
from campaign315.reports.standing import Standing, Status, standings
from campaign315.spec.campaign import AttachmentKey, Campaign, Unit
from campaign315.spec.location import Location
from campaign315.spec.problems import Problem
from campaign315.store import Store, StoredReturn

LETTER_TEMPLATE = "feedback_letter.txt.j2"
REMINDER_TEMPLATE = "reminder.txt.j2"
CHASE_LIST = "催报清单.txt"
LETTER_NAME = "修改意见-{unit}.txt"
REMINDER_NAME = "催报-{label}-{unit}.txt"
MARKED_TAG = "（已标注）"
CHASED: tuple[Status, ...] = ("missing", "rejected")
"""Who is chased: nothing usable has come back from them for this form."""


@dataclass
class FeedbackResult:
    """What :func:`write_feedback` wrote, for whom."""

    folder: Path | None = None
    """Where it was written."""
    units: list[Unit] = field(default_factory=list)
    """Every unit something was written for, in the campaign's order."""
    marked: list[tuple[Unit, Path]] = field(default_factory=list)
    letters: list[tuple[Unit, Path]] = field(default_factory=list)
    reminders: list[tuple[Unit, AttachmentKey, Path]] = field(default_factory=list)
    reminder_texts: dict[Path, str] = field(default_factory=dict)
    """What each reminder says (short enough for SMS), by its file."""
    combined: Path | None = None
    unmarked: list[tuple[Unit, AttachmentKey, str]] = field(default_factory=list)
    """Returns with problems in cells whose file could not be marked, and why; the letter still
    lists every problem."""

    @property
    def written(self) -> list[Path]:
        paths = [p for _, p in self.marked] + [p for _, p in self.letters] + [p for *_, p in self.reminders]
        return paths + ([self.combined] if self.combined else [])

    def as_json(self) -> dict:
        """``c315 feedback --json``: per unit, its letter, marked copies, reminders (with their text)
        and the copies that could not be marked; then the combined 催报 list. Shape in README."""

        def of(unit: Unit, pairs) -> list:
            return [rest for who, *rest in pairs if who == unit]

        return {
            "folder": None if self.folder is None else str(self.folder),
            "units": [
                {
                    "unit": unit.name,
                    "letter": next((str(path) for (path,) in of(unit, self.letters)), None),
                    "marked": [str(path) for (path,) in of(unit, self.marked)],
                    "reminders": [{"attachment": attachment, "path": str(path), "text": self.reminder_texts.get(path, "")}
                                  for attachment, path in of(unit, self.reminders)],
                    "unmarked": [{"attachment": attachment, "reason": why} for attachment, why in of(unit, self.unmarked)],
                }
                for unit in self.units
            ],
            "chase_list": None if self.combined is None else str(self.combined),
        }

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
    now = campaign.localize(now or dt.datetime.now(campaign.tz))
    out = Path(out)
    wanted = None if units is None else {unit.name for unit in units}
    rows = [s for s in standings(campaign, store.returns(campaign.id)) if wanted is None or s.unit.name in wanted]
    result = FeedbackResult(folder=out)
    chased: list[tuple[Standing, FormNotice]] = []
    for unit, unit_rows in groupby(rows, key=lambda s: s.unit):
        notices = []
        used_names: set[str] = set()
        for standing in unit_rows:
            shown = spoken_of(standing)
            if shown is not None and (shown.problems or _has_word(shown)):
                copy_name = _mark_copy(campaign, store, standing, shown, out, used_names, result)
                notices.append(form_notice(campaign, standing, now, shown, copy_name))
            if standing.status in CHASED:
                notice = form_notice(campaign, standing, now, shown)
                text = render_template(templates_dir, REMINDER_TEMPLATE, **template_context(campaign, unit, now), form=notice)
                path = _path_in(out, unit.name, REMINDER_NAME.format(label=notice.label, unit=unit.name))
                result.reminder_texts[path] = write_text(path, text)
                result.reminders.append((unit, standing.attachment, path))
                chased.append((standing, notice))
        if notices:
            text = render_template(templates_dir, LETTER_TEMPLATE, **template_context(campaign, unit, now), forms=notices)
            path = _path_in(out, unit.name, LETTER_NAME.format(unit=unit.name))
            write_text(path, text)
            result.letters.append((unit, path))
        if notices or any(who == unit for who, *_ in result.reminders):
            result.units.append(unit)
    if chased:
        result.combined = _path_in(out, CHASE_LIST)
        write_text(result.combined, chase_list(chased, now))
    return result


def spoken_of(standing: Standing) -> StoredReturn | None:
    """The return a letter speaks of: the latest received when it did not count (rejected by
    ingest or sent back by the collector) though an earlier one does — the department must hear
    why its newer file was not taken — else the one shown (the counting one, else the latest)."""
    latest = standing.latest
    if latest is not None and standing.counting is not None and not latest.usable and latest.received_at > standing.counting.received_at:
        return latest
    return standing.shown


def _has_word(shown: StoredReturn) -> bool:
    """Did the collector write the department something on this return (有问题 or 退回)?"""
    return shown.review is not None and shown.review.state != "approved"


def _mark_copy(campaign: Campaign, store: Store, standing: Standing, shown: StoredReturn, out: Path,
               used_names: set[str], result: FeedbackResult) -> str:
    """Write the marked copy of ``shown`` beside the letter; its file name, or "" when there is
    none (no problem sits in a cell, or the file cannot be marked: then ``result.unmarked`` says why)."""
    from campaign315.intake.read.package import check_xml_parts, office_format
    from campaign315.intake.read.zipparts import Unreadable

    marks: dict[Location, list[Problem]] = {}
    for p in shown.problems:
        if p.location.in_file:
            marks.setdefault(p.location, []).append(p)
    if not marks:
        return ""
    unit = standing.unit
    try:
        data = store.archive.read(shown.archive_key)
        fmt = office_format(data)
        if fmt is None:
            raise ValueError("不是 .xlsx 或 .docx 文件")
        in_file = {where: ps for where, ps in marks.items() if (where.kind == "cell") == (fmt == "xlsx")}
        if not in_file:
            return ""
        check_xml_parts(data)  # parts the reader skipped get the same checks before openpyxl or python-docx
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
    stem = Path(shown.filename.rsplit("!", 1)[-1]).stem or campaign.spec(standing.attachment).label  # a zip's member by its own name
    name = safe_filename(f"{stem}{MARKED_TAG}.{fmt}")
    if name in used_names:
        name = safe_filename(f"{campaign.spec(standing.attachment).label}-{name}")
    used_names.add(name)
    path = _path_in(out, unit.name, name)
    write_atomically(path, marked)
    result.marked.append((unit, path))
    return path.name


def _path_in(out: Path, *names: str) -> Path:
    """``out/name/...`` with every name made safe; refuses a path that still resolves outside
    ``out`` (a folder in it that is a link elsewhere)."""
    path = out.joinpath(*(safe_filename(name) for name in names))
    if not path.resolve().is_relative_to(out.resolve()):
        raise C315Error(f"{path} 指向输出目录 {out} 之外，未写入。请换一个输出目录。")
    return path
