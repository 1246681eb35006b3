"""Every problem c315 can find in a return: one catalogue of stable codes, severities and Chinese
message templates. Code refers to problems by code; tests assert codes and locations.

>>> p = problem("quantity-negative", "统计表!D7", "-3")
>>> p.severity, p.message
('error', '数量不能为负数：填的是「-3」。请填写不小于0的整数。')
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]

# code: (severity, template). Templates take {value} (what was typed) and named details.
CATALOGUE: dict[str, tuple[Severity, str]] = {
    # --- the file itself ---
    "file-empty": ("error", "文件是空的（0 字节），请重新导出后再报送。"),
    "file-unreadable": ("error", "文件无法读取（{detail}）。"),
    "file-too-large": ("error", "文件过大（{detail}），不像是填好的报表，请检查是否选错了文件。"),
    "format-legacy": ("error", "这是旧版 {detail} 格式，c315 只读 .xlsx 和 .docx。请在 Excel/WPS/Word 中「另存为」.xlsx 或 .docx 后重新报送。"),
    "format-encrypted": ("error", "文件设置了打开密码，无法读取。请去掉密码后重新报送。"),
    "format-unknown": ("error", "不是 Excel 或 Word 文件（{detail}）。请用下发的 .xlsx 或 .docx 表格填写后报送。"),
    "file-corrupt": ("error", "文件已损坏，无法打开（{detail}）。请重新保存后报送。"),
    "file-unsafe": ("error", "文件内容不安全，已拒收（{detail}）。请用下发的表格重新填写。"),
    "not-a-form": ("error", "文件里找不到附件1（值班表）或附件2（统计表）的标题和表头，不是本次活动的报表。"),
    # --- identity ---
    "wrong-campaign": ("error", "这是另一次活动（{detail}）的报表，不属于本次活动。"),
    "schema-newer": ("error", "表格版本（{detail}）比本程序新，请升级 c315 后再收。"),
    "schema-older": ("warning", "表格版本（{detail}）比本程序旧，已按表头和项目名称读取。"),
    "unit-unknown": ("error", "填报部门「{value}」不在本次活动的部门名单中。请填写部门全称，如「{detail}」。"),
    "unit-missing": ("error", "没有填写填报部门，也没有表格标识，无法确定是哪个部门的报表。"),
    "unit-mismatch": ("error", "表格是发给「{detail}」的，但填报部门写的是「{value}」。请确认是哪个部门的报表。"),
    "attachment-mismatch": ("error", "表格标识是{detail}，但表内标题和表头是另一张表。"),
    "attachment-not-owed": ("warning", "本次活动不要求该部门报送{detail}，已收存但不计入汇总。"),
    # --- 附件2 ---
    "stats-empty": ("error", "统计表一个数量也没有填写。没有开展的项目请填 0。"),
    "quantity-empty": ("warning", "数量未填写，按「未报告」处理（不计为 0）。没有开展请填 0。"),
    "quantity-normalised": ("warning", "数量填的是「{value}」，已读作 {detail}。"),
    "quantity-with-unit": ("warning", "数量里带了单位：「{value}」，已读作 {detail}。请只填数字。"),
    "quantity-formula": ("warning", "数量是公式「{value}」，已按计算结果 {detail} 读取。请直接填数字。"),
    "quantity-formula-uncached": ("error", "数量是公式「{value}」，但文件里没有计算结果，无法读取。请直接填数字。"),
    "quantity-negative": ("error", "数量不能为负数：填的是「{value}」。请填写不小于0的整数。"),
    "quantity-fraction": ("error", "数量须为整数：填的是「{value}」。"),
    "quantity-too-large": ("error", "数量「{value}」大得不合常理（超过 {detail}），无法计入。请核对后填写实际数量。"),
    "quantity-not-number": ("error", "数量须为阿拉伯数字：填的是「{value}」。请改为整数，如 5。"),
    "other-without-remark": ("warning", "「其他」填了数量但备注没写是什么，汇总时无法说明。请在备注中写明。"),
    "participants-without-activity": ("warning", "填了参与数量 {value}，但对应的活动/会议场次都是 0 或未填。请核对。"),
    "item-label-changed": ("error", "第{detail}行的项目名称被改成了「{value}」，与下发表格不符，无法确定数量属于哪一项。请用下发的表格填写。"),
    "item-added": ("error", "多出一行项目「{value}」，下发表格中没有。请删除该行，或写在「其他」行并在备注说明。"),
    "item-added-empty": ("warning", "多出一个空行「{value}」，已忽略。"),
    "item-missing": ("error", "缺少项目「{value}」这一行（被删除了？）。请用下发的表格填写。"),
    "item-reordered": ("warning", "项目「{value}」的位置被移动了，已按项目名称读取。"),
    "unit-label-changed": ("warning", "「{detail}」的单位被改成了「{value}」，按下发表格的单位汇总。"),
    # --- 附件1 ---
    "roster-empty": ("error", "值班表没有填写任何值班人员。"),
    "date-unreadable": ("error", "日期「{value}」无法识别。请填写 14日。"),
    "date-other": ("warning", "日期填的是 {detail}，不是值班当天（{value}）。请核对。"),
    "name-missing": ("error", "这一行填了电话或职务，但没有姓名。"),
    "position-missing": ("warning", "没有填写职务，无法判断是领导还是干部。"),
    "position-unknown": ("warning", "职务「{value}」无法判断是领导还是干部，未计入领导人数。请核对。"),
    "mobile-invalid": ("error", "移动电话「{value}」不是有效的11位手机号。"),
    "landline-invalid": ("error", "固定电话「{value}」不是有效的8位号码（可加区号022）。"),
    "phone-normalised": ("warning", "电话「{value}」已读作 {detail}。"),
    "phone-missing": ("error", "没有填写任何电话，值守人员须保持联系畅通。"),
    "phone-in-wrong-column": ("warning", "「{value}」是{detail}，填在了另一列，已按{detail}读取。"),
    "same-as-above": ("warning", "「同上」已按上一行读作 {detail}。"),
    "same-as-above-first": ("error", "第一行不能填「同上」。"),
    "person-repeated": ("warning", "「{value}」在值班表中出现了两次。"),
    "staffing-short": ("warning", "值守人数不足：{detail}。"),
    # --- both ---
    "filler-missing": ("warning", "没有填写填报人。"),
    "filler-phone-missing": ("warning", "没有填写填报人联系电话。"),
    "filler-phone-invalid": ("warning", "填报人联系电话「{value}」不是有效号码。"),
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a return, located as precisely as the file allows."""

    severity: Severity
    code: str
    location: str
    value: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def problem(code: str, location: str = "", value: object = "", detail: object = "") -> Problem:
    """Build a problem from the catalogue. ``value`` is what was typed, shown to the filler."""
    severity, template = CATALOGUE[code]
    shown = "" if value is None else str(value)
    return Problem(severity, code, location, shown, template.format(value=shown, detail=detail))


def has_errors(problems: list[Problem]) -> bool:
    return any(p.severity == "error" for p in problems)
