"""What a letter or a reminder says: each form of a unit as a :class:`FormNotice`, its problems as
:class:`ProblemLine` (the same problem in many cells said once), and the collector's 催报 list.
The words are in the office's templates (``feedback_letter.txt.j2``, ``reminder.txt.j2``); this
module gives them plain values."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from campaign315.common.files import write_atomically
from campaign315.common.words import REVIEW_ZH, SEVERITY_ZH, STATUS_ZH, WHOLE_FORM
from campaign315.reports.standing import Standing, Status
from campaign315.spec.campaign import AttachmentKey, Campaign, Unit
from campaign315.spec.problems import Problem, Severity
from campaign315.store import StoredReturn

CHASE_COLUMNS = ("序号", "部门", "报表", "情况", "报送时限", "联系人")
# Text files are for Notepad and WPS on office PCs: a BOM so none of them guesses GBK, and CRLF
# so Notepad before Windows 10 does not show one long line.
TEXT_ENCODING = "utf-8-sig"
NEWLINE = "\r\n"
TIME_FORMAT = "%Y-%m-%d %H:%M"


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
    review: str = ""
    """The collector's latest word on the return: approved, has_issues, rejected, or ""."""
    review_zh: str = ""
    review_note: str = ""
    """The comment (有问题) or the reason (退回) the collector wrote for the department."""
    reviewed_by: str = ""
    reviewed_at: str = ""
    sent_back: bool = False
    """Sent back by the collector's hand (退回): it does not count, whatever ingest found."""
    still_counts: str = ""
    """When this return does not count but an earlier one does: that one, as ``03-19 10:05 收到的《file》``."""


def problem_lines(problems: list[Problem]) -> tuple[ProblemLine, ...]:
    """Errors first, then warnings, in the file's order; one line for the same problem in many cells.

    >>> from campaign315.spec.location import Location
    >>> from campaign315.spec.problems import Code, problem
    >>> cell = lambda row: Location.cell("统计表", row, 4)
    >>> lines = problem_lines([problem(Code.QUANTITY_EMPTY, cell(7)), problem(Code.QUANTITY_NEGATIVE, cell(6), "-3"),
    ...                        problem(Code.QUANTITY_EMPTY, cell(8)), problem(Code.STAFFING_SHORT, Location.sheet("值班表"), "", "…")])
    >>> [(line.severity_zh, line.where) for line in lines]
    [('错误', '统计表!D6'), ('提醒', '统计表!D7、统计表!D8'), ('提醒', '整张表')]
    """
    groups: dict[tuple[str, str, str, bool], list[Problem]] = {}
    for p in problems:
        groups.setdefault((p.severity, p.message, p.value, not p.location.in_file), []).append(p)
    lines = []
    for (severity, message, value, whole_form), members in groups.items():
        locations = tuple(dict.fromkeys(str(p.location) for p in members))
        lines.append(ProblemLine(
            severity=severity, severity_zh=SEVERITY_ZH[severity], code=str(members[0].code), locations=locations,
            where=WHOLE_FORM if whole_form else "、".join(locations),
            typed=value if value and value not in message else "", message=message,
        ))
    return tuple(sorted(lines, key=lambda line: line.severity != "error"))


def form_notice(campaign: Campaign, standing: Standing, now: dt.datetime, shown: StoredReturn | None,
                marked_copy: str = "") -> FormNotice:
    """One form of one unit as its letter or reminder speaks of it, as things stand ``now``."""
    spec = campaign.spec(standing.attachment)
    due = campaign.due_at(standing.attachment)
    facts: dict = {}
    counting = standing.counting
    if shown is not None and counting is not None and counting.id != shown.id:
        when = campaign.localize(counting.received_at).strftime(TIME_FORMAT)
        facts["still_counts"] = f" {when} 收到的《{counting.filename}》"
    if shown is not None:
        facts = {
            "filename": shown.filename,
            "received": campaign.localize(shown.received_at).strftime(TIME_FORMAT),
            "accepted": shown.usable,
            "errors": sum(p.is_error for p in shown.problems),
            "warnings": sum(not p.is_error for p in shown.problems),
            "lines": problem_lines(shown.problems),
            "sent_back": shown.sent_back,
            **facts,
        }
        if shown.review is not None:
            review = shown.review
            facts |= {"review": review.state, "review_zh": REVIEW_ZH[review.state], "review_note": review.note,
                      "reviewed_by": review.reviewer,
                      "reviewed_at": campaign.localize(review.reviewed_at).strftime(TIME_FORMAT)}
    return FormNotice(
        attachment=standing.attachment, label=spec.label, title=spec.title, status=standing.status,
        status_zh=STATUS_ZH[standing.status], due_text=spec.due_text,
        due_at=campaign.localize(due).strftime(TIME_FORMAT), overdue=now > due, marked_copy=marked_copy, **facts,
    )


def template_context(campaign: Campaign, unit: Unit, now: dt.datetime) -> dict:
    """What every letter and reminder template may use besides its forms."""
    return {
        "campaign": campaign,
        "unit": unit,
        "collector": campaign.collector,
        "contact": campaign.collector_contact,
        "channel": campaign.channel,
        "now": now.strftime(TIME_FORMAT),
        "today": f"{now.year}年{now.month}月{now.day}日",
    }


def chase_list(chased: list[tuple[Standing, FormNotice]], now: dt.datetime) -> str:
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


def write_text(path: Path, text: str) -> str:
    """A letter or list as Notepad and WPS on an office PC read it (BOM, CRLF), written atomically;
    returns the text as written (with plain newlines)."""
    body = "\n".join(line.rstrip() for line in text.strip().splitlines())
    write_atomically(path, (body + "\n").replace("\n", NEWLINE).encode(TEXT_ENCODING))
    return body
