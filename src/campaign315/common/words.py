"""Every Chinese word c315 shows for one of its own codes — attachments, severities, outcomes,
statuses, roles — in one place, so a console table, a workbook, a letter and the HTML report say
the same thing. Words of the notice itself (titles, column labels, items) are campaign data, not
here.

>>> ATTACHMENT_ZH["stats"], SEVERITY_ZH["warning"], STATUS_ZH["after_cutoff"]
('附件2 统计表', '提醒', '截止后才报')
"""

from __future__ import annotations

ATTACHMENT_ZH: dict[str, str] = {"roster": "附件1 值班表", "stats": "附件2 统计表"}
"""An attachment as a person names it (the notice's number and the form's short name)."""

SEVERITY_ZH: dict[str, str] = {"error": "错误", "warning": "提醒"}
"""An error rejects a return; a warning (提醒) keeps it and says what was read."""

OUTCOME_ZH: dict[str, str] = {"accepted": "已接收", "rejected": "退回", "duplicate": "重复"}
"""What ingest did with one file."""

STATUS_ZH: dict[str, str] = {
    "on_time": "按时", "late": "逾期", "after_cutoff": "截止后才报", "rejected": "被退回", "missing": "未报",
}
"""Where a unit stands on one attachment; in the order a board lists them."""

REVIEW_ZH: dict[str, str] = {"approved": "已审核", "has_issues": "有问题", "rejected": "退回"}
"""The collector's word on a received return (``c315 review``); 退回 by hand counts as a rejection."""

ROLE_ZH: dict[str, str] = {"leader": "领导", "cadre": "干部", "unknown": "无法判断"}
"""What a 职务 makes a person on the duty roster (工作要求（三）)."""

WHOLE_FORM = "整张表"
"""Where a problem of the whole form (not of one cell) is said to be."""

NONE_SHOWN = "—"
"""An empty table cell: nothing to show."""
