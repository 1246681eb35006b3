"""The Word side of the forms: ``templates/附件N.docx`` (docxtpl) rendered with the campaign's words.

The templates hold layout and styling only (``scripts/make_templates.py`` builds them; the office
may restyle them in Word). Every label comes from the context built here out of the campaign data
and :mod:`campaign315.spec.forms`, so the .docx and the .xlsx print the same words.

>>> from campaign315.common.files import shipped
>>> from campaign315.spec.campaign import load_campaign
>>> campaign = load_campaign(shipped("data") / "campaign.toml")
>>> blank = render_docx(campaign, "stats", "办公室", None, shipped("templates"))
>>> blank[:2]
b'PK'
"""

from __future__ import annotations

import io
from itertools import groupby
from pathlib import Path
from typing import Any, Literal

from docxtpl import DocxTemplate
from lxml import etree

from campaign315.common.templates import template_path as common_template_path
from campaign315.spec.campaign import Campaign, RosterSpec, StatsSpec
from campaign315.spec.forms import (
    UNIT_FIELD_LABEL,
    ActivityStats,
    DutyRoster,
    RosterEntry,
    footer_text,
    instruction,
)

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def template_path(campaign: Campaign, attachment: Literal["roster", "stats"], templates_dir: Path | None) -> Path:
    """``templates/附件1.docx`` for the roster, ``附件2.docx`` for the statistics — the office's copy
    first, c315's own when the office has none."""
    return common_template_path(templates_dir, f"{campaign.spec(attachment).label}.docx")


def render_docx(
    campaign: Campaign,
    attachment: Literal["roster", "stats"],
    unit: str,
    form: DutyRoster | ActivityStats | None,
    templates_dir: Path,
) -> bytes:
    """The attachment as .docx bytes: blank when ``form`` is None, else filled with its values.

    ``unit`` is printed once, as one text node after 填报部门：, so a caller may render with a
    placeholder and stamp each unit's name into copies.
    """
    spec = campaign.spec(attachment)
    context = _common_context(campaign, attachment, spec, unit, form)
    if isinstance(spec, RosterSpec):
        if form is not None and not isinstance(form, DutyRoster):
            raise TypeError(f"附件1 needs a DutyRoster, got {type(form).__name__}")
        context["rows"] = _roster_rows(spec, form.entries if form else [])
    else:
        if form is not None and not isinstance(form, ActivityStats):
            raise TypeError(f"附件2 needs an ActivityStats, got {type(form).__name__}")
        context["groups"] = _stats_groups(spec, form)
        context["note"] = spec.note
    document = DocxTemplate(template_path(campaign, attachment, templates_dir))
    document.render(context, autoescape=True)
    _cell_properties_in_schema_order(document.docx.element.body)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _common_context(
    campaign: Campaign,
    attachment: Literal["roster", "stats"],
    spec: RosterSpec | StatsSpec,
    unit: str,
    form: DutyRoster | ActivityStats | None,
) -> dict[str, Any]:
    filler_text, phone_text = footer_text(spec, form.filler, form.filler_phone) if form else footer_text(spec)
    return {
        "attachment_label": spec.label,
        "title": spec.title,
        "unit_field": f"{UNIT_FIELD_LABEL}：",
        "unit": unit,
        "columns": list(spec.columns),
        "filler_text": filler_text,
        "phone_text": phone_text,
        "instruction": instruction(campaign, attachment) if form is None else "",
    }


def _roster_rows(spec: RosterSpec, entries: list[RosterEntry]) -> list[dict[str, str]]:
    """One row per person, at least ``spec.rows``; the first date cell reads 14日 as on the notice."""
    rows = [
        {
            "date": _date_label(spec, entry) if entry.date or i == 0 else "",
            "name": entry.name,
            "position": entry.position,
            "landline": entry.landline,
            "mobile": entry.mobile,
        }
        for i, entry in enumerate(entries)
    ]
    blank = {"date": "", "name": "", "position": "", "landline": "", "mobile": ""}
    rows += [dict(blank) for _ in range(spec.rows - len(rows))]
    rows[0]["date"] = rows[0]["date"] or spec.first_date_label
    return rows


def _date_label(spec: RosterSpec, entry: RosterEntry) -> str:
    if entry.date is None or entry.date == spec.duty_date:
        return spec.first_date_label
    return f"{entry.date.day}日"


def _stats_groups(spec: StatsSpec, form: ActivityStats | None) -> list[dict[str, Any]]:
    """The items in order, grouped by consecutive category: one merged category cell per group."""
    groups = []
    for category, items in groupby(spec.items, key=lambda item: item.category):
        rows = []
        for item in items:
            line = form.line(item.key) if form else None
            rows.append({
                "label": line.label if line and item.free and line.label else item.label,
                "unit": item.unit,
                "quantity": "" if line is None or line.quantity is None else str(line.quantity),
                "remark": line.remark if line else "",
            })
        groups.append({"category": category, "rows": rows})
    return groups


# docxtpl's {% vm %} appends w:vMerge at the end of w:tcPr, after w:vAlign; Word wants the
# schema's order (tcW, gridSpan, hMerge, vMerge, …, vAlign), so move it up where it belongs.
_BEFORE_VMERGE = {f"{_W}{tag}" for tag in ("cnfStyle", "tcW", "gridSpan", "hMerge")}


def _cell_properties_in_schema_order(body: etree._Element) -> None:
    for v_merge in body.iter(f"{_W}vMerge"):
        tc_pr = v_merge.getparent()
        tc_pr.remove(v_merge)
        position = sum(1 for child in tc_pr if child.tag in _BEFORE_VMERGE)
        tc_pr.insert(position, v_merge)
