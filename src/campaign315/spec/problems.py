"""Every problem c315 can find — in a return, or between the store and its archive: one catalogue
of stable codes (:class:`Code`), each with its severity and its Chinese message template, and one
:class:`Problem` type. Code refers to problems by ``Code`` member, so a mistyped code is an
``AttributeError`` where it is written, not a silent miss; tests assert codes and locations.

>>> from campaign315.spec.location import Location
>>> p = problem(Code.QUANTITY_NEGATIVE, Location.cell("统计表", 7, 4), "-3")
>>> p.code, p.is_error, str(p.location), p.message
('quantity-negative', True, '统计表!D7', '数量不能为负数：填的是「-3」。请填写不小于0的整数。')
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from campaign315.spec.location import NOWHERE, Location

Severity = Literal["error", "warning"]


class Code(StrEnum):
    """A problem's stable code (``quantity-negative``), its severity and its message template.
    Templates take ``{value}`` (what was typed), ``{detail}``, ``{location}`` and named details."""

    severity: Severity
    template: str

    def __new__(cls, value: str, severity: Severity, template: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.severity = severity
        member.template = template
        return member

    def __repr__(self) -> str:  # shown as the code itself in reports, doctests and test failures
        return repr(self.value)

    # --- the file itself ---
    FILE_EMPTY = ("file-empty", "error", "文件是空的（0 字节），请重新导出后再报送。")
    FILE_UNREADABLE = ("file-unreadable", "error", "文件无法读取（{detail}）。")
    FILE_TOO_LARGE = ("file-too-large", "error", "文件过大（{detail}），不像是填好的报表，请检查是否选错了文件。")
    FORMAT_LEGACY = ("format-legacy", "error", "这是旧版 {detail} 格式，c315 只读 .xlsx 和 .docx。请在 Excel/WPS/Word 中「另存为」.xlsx 或 .docx 后重新报送。")
    FORMAT_ENCRYPTED = ("format-encrypted", "error", "文件设置了打开密码，无法读取。请去掉密码后重新报送。")
    FORMAT_UNKNOWN = ("format-unknown", "error", "不是 Excel 或 Word 文件（{detail}）。请用下发的 .xlsx 或 .docx 表格填写后报送。")
    FILE_CORRUPT = ("file-corrupt", "error", "文件已损坏，无法打开（{detail}）。请重新保存后报送。")
    FILE_UNSAFE = ("file-unsafe", "error", "文件内容不安全，已拒收（{detail}）。请用下发的表格重新填写。")
    READER_CRASHED = ("reader-crashed", "error", "读取这个文件时读取程序异常退出（{detail}），无法读取，已拒收；原件已存档，其他文件照常收取。请在 Excel/WPS/Word 中打开后另存为 .xlsx 或 .docx 再报送。")
    FORMAT_NOT_ELECTRONIC = ("format-not-electronic", "error", "这是{detail}，c315 无法从中读取填写的内容。请报送填好的 Excel（.xlsx）或 Word（.docx）原文件，不要打印后扫描、拍照或转成 PDF。")
    FORMAT_OTHER_ARCHIVE = ("format-other-archive", "error", "这是 {detail} 压缩包，c315 只能打开 .zip 压缩包。请直接报送其中的 Excel/Word 文件，或改用 .zip 格式压缩后报送。")
    ZIP_EMPTY = ("zip-empty", "error", "压缩包里没有任何文件。请把填好的 Excel/Word 文件放进压缩包，或直接报送这些文件。")
    ZIP_TOO_DEEP = ("zip-too-deep", "error", "压缩包「{value}」套在两层压缩包里，c315 只打开一层嵌套。请直接报送其中的 Excel/Word 文件。")
    NOT_A_FORM = ("not-a-form", "error", "文件里找不到附件1（值班表）或附件2（统计表）的标题和表头，不是本次活动的报表。")
    # --- identity ---
    WRONG_CAMPAIGN = ("wrong-campaign", "error", "这是另一次活动（{detail}）的报表，不属于本次活动。")
    SCHEMA_NEWER = ("schema-newer", "error", "表格版本（{detail}）比本程序新，请升级 c315 后再收。")
    SCHEMA_OLDER = ("schema-older", "warning", "表格版本（{detail}）比本程序旧，已按表头和项目名称读取。")
    UNIT_UNKNOWN = ("unit-unknown", "error", "填报部门「{value}」不在本次活动的部门名单中。请填写部门全称，如「{detail}」。")
    UNIT_MISSING = ("unit-missing", "error", "没有填写填报部门，也没有表格标识，无法确定是哪个部门的报表。")
    UNIT_MISMATCH = ("unit-mismatch", "error", "表格是发给「{detail}」的，但填报部门写的是「{value}」。请确认是哪个部门的报表。")
    ATTACHMENT_MISMATCH = ("attachment-mismatch", "error", "表格标识是{detail}，但表内标题和表头是另一张表。")
    ATTACHMENT_REPEATED = ("attachment-repeated", "error", "文件里有两张{detail}：「{value}」和「{other}」，填写的内容不同，无法确定以哪张为准。请只保留一张后重新报送。")
    ATTACHMENT_COPY = ("attachment-copy", "warning", "「{value}」和「{other}」是同一张{detail}，内容完全相同，只计一次。")
    ATTACHMENT_NOT_OWED = ("attachment-not-owed", "warning", "本次活动不要求该部门报送{detail}，已收存但不计入汇总。")
    ATTACHMENT_NOT_COLLECTED = ("attachment-not-collected", "error", "本次活动只收{detail}。这份文件已存档，不计入汇总，无需重报。")
    # --- content the form has no place for ---
    COLUMN_ADDED = ("column-added", "warning", "表格多了一列「{value}」，其中填写的内容（如「{detail}」）没有计入。如需说明，请写在备注栏。")
    CONTENT_OUTSIDE_FORM = ("content-outside-form", "warning", "表格以外填写了「{value}」，这些内容没有计入。如需说明，请写在表内的备注栏。")
    # --- 附件2 ---
    STATS_EMPTY = ("stats-empty", "error", "统计表一个数量也没有填写。没有开展的项目请填 0。")
    QUANTITY_EMPTY = ("quantity-empty", "warning", "数量未填写，按「未报告」处理（不计为 0）。没有开展请填 0。")
    QUANTITY_NORMALISED = ("quantity-normalised", "warning", "数量填的是「{value}」，已读作 {detail}。")
    QUANTITY_WITH_UNIT = ("quantity-with-unit", "warning", "数量里带了单位：「{value}」，已读作 {detail}。请只填数字。")
    QUANTITY_FORMULA = ("quantity-formula", "warning", "数量是公式「{value}」，已按计算结果 {detail} 读取。请直接填数字。")
    QUANTITY_FORMULA_UNCACHED = ("quantity-formula-uncached", "error", "数量是公式「{value}」，但文件里没有计算结果，无法读取。请直接填数字。")
    QUANTITY_NEGATIVE = ("quantity-negative", "error", "数量不能为负数：填的是「{value}」。请填写不小于0的整数。")
    QUANTITY_FRACTION = ("quantity-fraction", "error", "数量须为整数：填的是「{value}」。")
    QUANTITY_TOO_LARGE = ("quantity-too-large", "error", "数量「{value}」大得不合常理（超过 {detail}），无法计入。请核对后填写实际数量。")
    QUANTITY_NOT_NUMBER = ("quantity-not-number", "error", "数量须为阿拉伯数字：填的是「{value}」。请改为整数，如 5。")
    OTHER_WITHOUT_REMARK = ("other-without-remark", "warning", "「其他」填了数量但备注没写是什么，汇总时无法说明。请在备注中写明。")
    PARTICIPANTS_WITHOUT_ACTIVITY = ("participants-without-activity", "warning", "填了参与数量 {value}，但对应的活动/会议场次都是 0 或未填。请核对。")
    ITEM_LABEL_CHANGED = ("item-label-changed", "error", "第{detail}行的项目名称被改成了「{value}」，与下发表格不符，无法确定数量属于哪一项。请用下发的表格填写。")
    ITEM_ADDED = ("item-added", "error", "多出一行项目「{value}」，下发表格中没有。请删除该行，或写在「其他」行并在备注说明。")
    ITEM_ADDED_EMPTY = ("item-added-empty", "warning", "多出一个空行「{value}」，已忽略。")
    ITEM_MISSING = ("item-missing", "error", "缺少项目「{value}」这一行（被删除了？）。请用下发的表格填写。")
    ITEM_REORDERED = ("item-reordered", "warning", "项目「{value}」的位置被移动了，已按项目名称读取。")
    FIGURE_IN_REMARK = ("figure-in-remark", "warning", "备注里填了数字「{value}」，而这一行的数量是空的：这个数字是否应填在数量栏？未计入，请核对。")
    FIGURE_IN_UNIT = ("figure-in-unit", "warning", "单位栏填了数字「{value}」，而这一行的数量是空的：这个数字是否应填在数量栏？未计入，请核对。")
    UNIT_LABEL_CHANGED = ("unit-label-changed", "warning", "「{detail}」的单位被改成了「{value}」，按下发表格的单位汇总。")
    # --- 附件1 ---
    ROSTER_EMPTY = ("roster-empty", "error", "值班表没有填写任何值班人员。")
    DATE_UNREADABLE = ("date-unreadable", "error", "日期「{value}」无法识别。请填写 14日。")
    DATE_OTHER = ("date-other", "warning", "日期填的是 {detail}，不是值班当天（{value}）。请核对。")
    NAME_MISSING = ("name-missing", "error", "这一行填了电话或职务，但没有姓名。")
    POSITION_MISSING = ("position-missing", "warning", "没有填写职务，无法判断是领导还是干部。")
    POSITION_UNKNOWN = ("position-unknown", "warning", "职务「{value}」无法判断是领导还是干部，未计入领导人数。请核对。")
    MOBILE_INVALID = ("mobile-invalid", "error", "移动电话「{value}」不是有效的11位手机号。")
    LANDLINE_INVALID = ("landline-invalid", "error", "固定电话「{value}」不是有效的8位号码（可加区号022）。")
    PHONE_NORMALISED = ("phone-normalised", "warning", "电话「{value}」已读作 {detail}。")
    PHONE_MISSING = ("phone-missing", "error", "没有填写任何电话，值守人员须保持联系畅通。")
    PHONE_IN_WRONG_COLUMN = ("phone-in-wrong-column", "warning", "「{value}」是{detail}，填在了另一列，已按{detail}读取。")
    PHONE_IN_POSITION = ("phone-in-position", "warning", "职务栏填的是电话号码「{value}」：是否应填在电话栏？未当作电话读取，请核对。")
    SAME_AS_ABOVE = ("same-as-above", "warning", "「同上」已按上一行读作 {detail}。")
    SAME_AS_ABOVE_FIRST = ("same-as-above-first", "error", "第一行不能填「同上」。")
    PERSON_REPEATED = ("person-repeated", "warning", "「{value}」在值班表中出现了两次。")
    STAFFING_SHORT = ("staffing-short", "warning", "值守人数不足：{detail}。")
    # --- both ---
    FILLER_MISSING = ("filler-missing", "warning", "没有填写填报人。")
    FILLER_PHONE_MISSING = ("filler-phone-missing", "warning", "没有填写填报人联系电话。")
    FILLER_PHONE_INVALID = ("filler-phone-invalid", "warning", "填报人联系电话「{value}」不是有效号码。")

    # --- the store and its archive (c315 verify) ---
    DATABASE_DAMAGED = ("database-damaged", "error", "数据库文件已损坏：{detail}。请用备份恢复。")
    ARCHIVE_MISSING = ("archive-missing", "error", "收表记录 #{record}（{filename}）的存档文件 {location} 不见了。")
    ARCHIVE_ALTERED = ("archive-altered", "error", "存档文件 {location} 的内容已被改动或损坏，与收表时记下的 SHA-256 不符。")
    ARCHIVE_MISPLACED = ("archive-misplaced", "error", "收表记录 #{record}（{filename}）指向的存档位置 {location} 与它的 SHA-256 不符。")
    ARCHIVE_UNRECORDED = ("archive-unrecorded", "warning", "存档文件 {location} 没有对应的收表记录（收表可能中途被打断）。重新运行 c315 ingest 收同一批文件即可补上。")
    ARCHIVE_STRAY = ("archive-stray", "error", "存档目录里的 {location} 不是 c315 存的文件（文件名不是其内容的 SHA-256）。")
    ARCHIVE_TEMPORARY = ("archive-temporary", "warning", "{location} 是一次被打断的写入留下的临时文件，不属于存档，可以删除。")


@dataclass(frozen=True)
class Problem:
    """One thing wrong, located as precisely as the file allows. ``value`` is what was typed."""

    severity: Severity
    code: Code
    location: Location
    value: str
    message: str

    @property
    def is_error(self) -> bool:
        """An error rejects the return (or fails ``c315 verify``); a warning only tells."""
        return self.severity == "error"

    def as_dict(self) -> dict[str, str]:
        """The ``--json`` shape: the location as the text a person reads."""
        return {"severity": self.severity, "code": str(self.code), "location": str(self.location),
                "value": self.value, "message": self.message}


def problem(code: Code, location: Location = NOWHERE, value: object = "", detail: object = "", **details: object) -> Problem:
    """Build a problem from the catalogue; ``value`` (what was typed) is shown to the filler."""
    shown = "" if value is None else str(value)
    message = code.template.format(value=shown, detail=detail, location=location, **details)
    return Problem(code.severity, code, location, shown, message)


def has_errors(problems: list[Problem]) -> bool:
    """Does any of these reject the return?"""
    return any(p.is_error for p in problems)
