"""Write the sample returns shipped in ``data/samples/``: what 区消协 downloads from 新OA in a
realistic 2020 campaign, for ``make demo``, the README transcript and manual testing.

Each file starts as the blank form c315 itself generates for that unit (the campaign's own
rendering and stamping: ``blank_template`` + ``stamp``), is filled the way a department fills it —
openpyxl for .xlsx, python-docx for .docx — and saved under the name the department gave it in OA.
``data/samples/received.toml`` says when each file came off the OA system.

The story the set tells (deadlines: 附件1 2020-03-13 12:00, 附件2 2020-03-19 17:30, +08:00):

* 17 of the 18 units return both forms on time, most in .xlsx, some in .docx, with the messy but
  readable values people type: ３场, " 5 ", 1,200, 2场, 80户, 张  涛, １３６… phones,
  022-2345 6789, 同上, 3.14, a title no vocabulary knows, 其他 rows with remarks, empty cells.
* 五大道市场监管所's roster has no leader on duty (three ranks, 主任科员 is not 主任): a warning.
* 市场和网络交易监管科 sends 附件2 twice on 19 March; the corrected afternoon version supersedes.
* 药化监管科's 附件2 (Word) says 若干 and -1: rejected, and never re-sent.
* 新兴市场监管所's 附件2 arrives at 19:40 on 19 March, after the 17:30 due time: late, but counted
  by a 3月19日 cut-off; 产品质量科's arrives on 20 March at 09:10: after that cut-off.
* 南营门市场监管所's 附件2 was copied into a new workbook: no embedded identity, identified by its
  title and 填报部门.
* 价监所 sends both forms in one workbook (值班表 and 统计表 sheets), with a 备注 column added to
  the roster: two returns from one file, and a warning that the added column was not counted.
* 劝业场市场监管所 zips its two files with a Chinese Windows zip tool (GBK names): each member is a
  return of its own.
* 食品安全协调科 leaves 播放公益广告's 数量 empty and writes 2 in its 备注: the figure is pointed at.
* 南市市场监管所 sends nothing.

Everything is fixed data: re-running writes byte-identical files (zip entry times are pinned).

    .venv/bin/python scripts/make_samples.py            # rewrites data/samples/
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl
from docx import Document
from openpyxl.packaging.custom import CustomPropertyList
from openpyxl.writer.excel import ExcelWriter

from campaign315.generate.forms import Format, blank_template
from campaign315.generate.stamp import stamp
from campaign315.spec.campaign import AttachmentKey, Campaign, load_campaign
from campaign315.spec.forms import (
    FIRST_BODY_ROW,
    HEADER_ROW,
    IDENTITY_SHEET,
    SHEET_NAMES,
    RosterLayout,
    StatsLayout,
)

ROOT = Path(__file__).resolve().parents[1]
TZ = dt.timezone(dt.timedelta(hours=8))

# When 区消协 downloaded each batch from 新OA.
T1 = "2020-03-12T16:40:00+08:00"   # 附件1, the day before it is due
T2 = "2020-03-13T09:20:00+08:00"   # 附件1, the morning it is due
T3 = "2020-03-13T11:50:00+08:00"   # 附件1, just before noon
T4 = "2020-03-18T16:30:00+08:00"   # 附件2, the day before it is due
T5 = "2020-03-19T10:05:00+08:00"   # 附件2, the morning it is due (网监科's first version)
T6 = "2020-03-19T16:45:00+08:00"   # 附件2, before the end of the day (网监科's correction)
T6L = "2020-03-19T19:40:00+08:00"  # 附件2, after 下班 (17:30) the day it is due: late, still before a 3月19日 cut-off
T7 = "2020-03-20T09:10:00+08:00"   # 附件2, the next morning: after a 3月19日 cut-off

# 附件2 item keys in the order of the form (campaign.toml).
KEYS = ("1.1", "1.2", "1.3", "1.4", "1.5", "1.6", "1.7", "1.8", "1.9", "1.10",
        "2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "3")


@dataclass
class Sample:
    """One returned file: whose, which form, in which format, named how, received when."""

    unit: str
    attachment: AttachmentKey
    fmt: Format
    file: str
    received_at: str
    filler: str
    filler_phone: str
    # 附件1: (日期, 姓名, 职务, 固定电话, 移动电话) as typed; None leaves the cell as the form has it.
    people: list[tuple[str | None, str, str, str, str]] = field(default_factory=list)
    # 附件2: the 数量 column as typed, in KEYS order (None: left empty; str: typed as text).
    quantities: tuple[int | str | None, ...] = ()
    remarks: dict[str, str] = field(default_factory=dict)
    other_label: str = ""           # what the free 其他 row counts, written in its 项目 cell
    strip_identity: bool = False    # copied into a new workbook: no c315 properties, no hidden sheet
    added_column: tuple[str, str] = ()  # 附件1 .xlsx: a column added beside the table (header, first person's value)
    note: str = ""                  # what this file demonstrates (written into received.toml)


@dataclass
class Bundle:
    """Several samples sent as one file: a workbook holding their sheets, or a zip of them."""

    file: str
    members: tuple[str, ...]
    note: str


BUNDLES = [
    Bundle("价监所-附件1附件2.xlsx", ("价监所-附件1.xlsx", "价监所-附件2.xlsx"),
           "两张表放在一个工作簿里（值班表、统计表两个工作表）；值班表多加了一列备注"),
    Bundle("劝业场所报表.zip", ("劝业场所 值班表.xlsx", "劝业场所 统计表.xlsx"),
           "两个文件打成一个 zip（中文 Windows 压缩工具：GBK 文件名）"),
]


def q(**values: int | str | None) -> tuple[int | str | None, ...]:
    """The 数量 column: every standard item 0 unless given, the two 其他 rows left empty.
    Keys are written with _ for the dot: q(_1_1=3, _1_7="1,200")."""
    filled = {key.lstrip("_").replace("_", "."): value for key, value in values.items()}
    return tuple(filled.get(key, None if key in ("1.10", "3") else 0) for key in KEYS)


def samples() -> list[Sample]:
    return [
        # --- 附件1 值班表 -----------------------------------------------------------------------
        Sample("办公室", "roster", "docx", "附件1 值班表(办公室).docx", T1, "陈静", "23301102", people=[
            ("14日", "刘  洋", "办公室主任", "23301102", "13602235561"),
            (None, "陈  静", "一级科员", "同上", "13920148873"),
        ], note="Word；办公室主任是领导；固定电话填「同上」"),
        Sample("市场和网络交易监管科", "roster", "xlsx", "市场网监科-附件1值班表.xlsx", T1, "徐大凯", "13682137895", people=[
            ("14日", "徐大凯", "副科长", "022-2330 1135", "13682137895"),
        ], note="固定电话带区号和空格 022-2330 1135"),
        Sample("区消协", "roster", "xlsx", "区消协值班表.xlsx", T1, "张  涛", "13682055679", people=[
            ("14日", "张  涛", "秘书长", "022-23301234", "13682055679"),
            ("14日", "宋  佳", "工作人员", "022-23301234", "15510927743"),
        ], note="姓名按通知的写法补空格（张  涛）"),
        Sample("价监所", "roster", "xlsx", "价监所-附件1.xlsx", T2, "林晓燕", "18920336471", people=[
            ("14日", "马  骏", "副所长（主持工作）", "23301208", "18622150937"),
            ("14日", "林晓燕", "科员", "23301208", "18920336471"),
        ], added_column=("备注", "带班领导"), note="职务「副所长（主持工作）」无法判断：提醒，不猜"),
        Sample("食品安全监管科", "roster", "xlsx", "食品监管科 3.14值班表.xlsx", T2, "赵雪", "15822316609", people=[
            ("3月14日", "王  磊", "科长", "23301146", "13752108864"),
            ("3月14日", "赵  雪", "四级主任科员", "23301146", "15822316609"),
        ], note="日期写作 3月14日"),
        Sample("食品安全协调科", "roster", "xlsx", "附件1-2020年天津卫视3•14晚间值班表-食品安全协调科.xlsx", T2,
               "孙鹏", "13512248037", people=[
            ("14日", "孙  鹏", "二级主任科员", "23301158", "13512248037"),
        ], note="原文件名未改；科室 1 名干部值守即可"),
        Sample("广告监管科", "roster", "xlsx", "广告科值班表.xlsx", T2, "吴昊", "13622014587", people=[
            ("14日", "周  敏", "科长", "", "13820477152"),
            (None, "吴  昊", "科员", "", "１３６２２０１４５８７"),
        ], note="全角数字的手机号"),
        Sample("药化监管科", "roster", "xlsx", "药化科-附件1.xlsx", T2, "郑伟", "13116051290", people=[
            ("14日", "郑  伟", "副科长", "23301173", "13116051290"),
        ]),
        Sample("医疗器械监管科", "roster", "xlsx", "附件1(器械科).xlsx", T2, "冯丽", "13011952604", people=[
            ("3.14", "冯  丽", "一级主任科员", "23301185", "13011952604"),
        ], note="日期写作 3.14"),
        Sample("产品质量科", "roster", "xlsx", "质量科值班表.xlsx", T2, "何军", "13662079215", people=[
            ("14日", "何  军", "科长", "23301190", "13662079215"),
        ]),
        Sample("投诉举报中心", "roster", "docx", "投诉举报中心值班表.docx", T2, "许诺", "17602291856", people=[
            ("14日", "韩  梅", "副主任", "23301225", "13821764408"),
            (None, "许  诺", "工作人员", "23301225", "17602291856"),
        ], note="Word"),
        Sample("劝业场市场监管所", "roster", "xlsx", "劝业场所 值班表.xlsx", T2, "邵峰", "13602204418", people=[
            ("14日", "唐  亮", "所长", "27110315", "13512055873"),
            ("14日", "许  静", "科员", "27110315", "13920587762"),
            ("14日", "邵  峰", "一级主任科员", "27110315", "136 0220 4418"),
        ], note="监管所 1 名领导 + 2 名干部；手机号带空格"),
        Sample("小白楼市场监管所", "roster", "xlsx", "小白楼所值班表(1).xlsx", T2, "潘婷", "15002271180", people=[
            ("14日", "梁  宇", "副所长", "23120315", "13752236614"),
            (None, "潘  婷", "三级主任科员", "同上", "15002271180"),
            (None, "罗  斌", "科员", "同上", "18649127705"),
        ], note="OA 重复下载的文件名 (1)；两处「同上」"),
        Sample("稽查大队", "roster", "docx", "稽查大队值班表.docx", T3, "曹阳", "13802146627", people=[
            ("14日", "高建国", "大队长", "23301216", "13920035518"),
            (None, "曹  阳", "一级主任科员", "23301216", "13802146627"),
            (None, "邓  超", "执法队员", "23301216", "15922083341"),
        ], note="Word；稽查大队 1 名领导 + 2 名干部"),
        Sample("五大道市场监管所", "roster", "xlsx", "五大道所-3.14值班.xlsx", T3, "谢楠", "13512769023", people=[
            ("14日", "谢  楠", "一级主任科员", "23310315", "13512769023"),
            ("14日", "杜  鹏", "四级主任科员", "23310315", "13821550946"),
            ("14日", "江  涛", "科员", "23310315", "15620337718"),
        ], note="值守没有领导（主任科员是职级不是领导）：人数不足提醒"),
        Sample("新兴市场监管所", "roster", "xlsx", "新兴所附件1.xlsx", T3, "任洁", "13752261948", people=[
            ("14日", "方  明", "所长", "23380315", "13902266075"),
            (None, "任  洁", "二级主任科员", "23380315", "13752261948"),
            (None, "钱  坤", "科员", "23380315", "18522604417"),
        ]),
        Sample("南营门市场监管所", "roster", "docx", "南营门所值班表.docx", T3, "沈琳", "15822073306", people=[
            ("14日", "蒋文华", "副所长", "022-27230315", "13622051337"),
            ("14日", "沈  琳", "科员", "022-27230315", "15822073306"),
            ("14日", "夏  雨", "科员", "022-27230315", "13820996654"),
        ], note="Word"),
        # --- 附件2 统计表 -----------------------------------------------------------------------
        Sample("办公室", "stats", "xlsx", "附件2 统计表(办公室).xlsx", T4, "陈静", "23301102",
               quantities=q(_1_3=1, _1_5=3), remarks={"1.3": "3·15活动启动新闻通气会"}),
        Sample("食品安全监管科", "stats", "xlsx", "食品监管科315统计.xlsx", T4, "赵雪", "15822316609",
               quantities=q(_1_1=3, _1_2=1, _1_7=500, _1_8=320, _1_9=60, _2_4=1, _2_7=35),
               remarks={"1.1": "进社区、进校园、进超市各1场", "2.4": "餐饮单位食品安全培训"}),
        Sample("广告监管科", "stats", "xlsx", "广告科 附件2.xlsx", T4, "吴昊", "13622014587",
               quantities=q(_1_4=" 5 ", _1_5=2), remarks={"1.4": "商圈电子屏滚动播放"},
               note="数量前后带空格「 5 」"),
        Sample("价监所", "stats", "xlsx", "价监所-附件2.xlsx", T2, "林晓燕", "18920336471",
               quantities=q(_1_1=2, _1_7=600, _1_8=210, _1_9=85, _2_1=1, _2_7=30),
               remarks={"2.1": "明码标价规范座谈会"}),
        Sample("投诉举报中心", "stats", "docx", "投诉举报中心统计表.docx", T4, "许诺", "17602291856",
               quantities=q(_1_2=1, _1_5=2, _1_7=1000, _1_8=500, _1_10=1),
               remarks={"1.10": "12315热线3·15专场接听（3月15日全天）"},
               note="Word；「其他」行写了备注"),
        Sample("区消协", "stats", "docx", "附件2 统计表(区消协).docx", T4, "张  涛", "13682055679",
               quantities=q(_1_1=3, _1_2=1, _1_3=1, _1_4=3, _1_5="５", _1_6=1, _1_7=2000, _1_8=1200,
                            _1_9=150, _1_10=2, _2_1=1, _2_2=1, _2_6=40, _2_7=60),
               remarks={"1.2": "3·15广场大型咨询活动", "1.10": "“3·15”主题直播2场（与天津广播电视台合办）",
                        "2.2": "2019年消费投诉情况通报会"},
               note="Word；全角数字 ５；「其他」行写了备注"),
        Sample("市场和网络交易监管科", "stats", "xlsx", "市场网监科-附件2统计表.xlsx", T5, "徐大凯", "13682137895",
               quantities=q(_1_1=2, _1_2=1, _1_7=800, _1_8=260, _1_9=45, _1_10=1, _2_1=1, _2_6=12, _2_7=20),
               note="第一版：「其他」填了 1 但没写备注（当天下午更正）"),
        Sample("食品安全协调科", "stats", "xlsx", "附件2-2020年3•15活动工作情况统计表-食品安全协调科.xlsx", T5,
               "孙鹏", "13512248037",
               quantities=q(_1_1=1, _1_3=None, _1_4=None, _1_5=1, _1_7=200, _1_8=80), remarks={"1.4": "2"},
               note="两格空着：按「未报告」处理，不当作 0；播放公益广告的 2 写进了备注：提醒"),
        Sample("药化监管科", "stats", "docx", "药化科-附件2.docx", T5, "郑伟", "13116051290",
               quantities=q(_1_1=2, _1_2=1, _1_7=300, _1_8="若干", _1_9=30, _2_4="-1"),
               remarks={"2.4": "药店从业人员培训延期"},
               note="退回：数量「若干」和「-1」；之后没有重报"),
        Sample("医疗器械监管科", "stats", "xlsx", "附件2(器械科).xlsx", T5, "冯丽", "13011952604",
               quantities=q(_1_1="2场", _1_2=1, _1_7=400, _1_8=150, _1_9=25),
               note="数量带单位「2场」"),
        Sample("劝业场市场监管所", "stats", "xlsx", "劝业场所 统计表.xlsx", T2, "邵峰", "13602204418",
               quantities=q(_1_1="３场", _1_2=1, _1_7="1,200", _1_8=450, _1_9="80户"),
               remarks={"1.2": "滨江道步行街咨询台"},
               note="３场、1,200、80户"),
        Sample("小白楼市场监管所", "stats", "xlsx", "小白楼所统计表.xlsx", T5, "潘婷", "15002271180",
               quantities=q(_1_1=2, _1_2=1, _1_7=800, _1_8=300, _1_9=70, _2_1=1, _2_6=20, _2_7=25)),
        Sample("市场和网络交易监管科", "stats", "xlsx", "市场网监科-附件2统计表（更正）.xlsx", T6, "徐大凯", "13682137895",
               quantities=q(_1_1=2, _1_2=1, _1_7="1,200", _1_8=360, _1_9=45, _1_10=1, _2_1=1, _2_6=12, _2_7=20),
               remarks={"1.10": "网购维权直播1场（与电商平台合办）"},
               note="更正版：取代上午的第一版"),
        Sample("稽查大队", "stats", "xlsx", "稽查大队统计表.xlsx", T6, "曹阳", "13802146627",
               quantities=q(_1_1=1, _1_2=1, _1_7=350, _1_8=140, _1_9=30, _3=4),
               other_label="查处侵害消费者权益案件", remarks={"3": "立案4件，均已进入法制审核"},
               note="最后一行「其他」写了项目和备注"),
        Sample("五大道市场监管所", "stats", "xlsx", "五大道所-315统计.xlsx", T6, "谢楠", "13512769023",
               quantities=q(_1_1=2, _1_2=1, _1_7=700, _1_8=260, _1_9=55)),
        Sample("新兴市场监管所", "stats", "xlsx", "新兴所附件2.xlsx", T6L, "任洁", "13752261948",
               quantities=q(_1_1=3, _1_2=1, _1_6=1, _1_7=900, _1_8=380, _1_9=90, _2_4=1, _2_7=40),
               remarks={"1.6": "快检实验室开放日"}),
        Sample("南营门市场监管所", "stats", "xlsx", "南营门所统计表.xlsx", T6, "沈琳", "15822073306",
               quantities=q(_1_1=2, _1_2=1, _1_7=650, _1_8=240, _1_9=60), strip_identity=True,
               note="复制到新工作簿：没有表格标识，按标题和填报部门识别"),
        Sample("产品质量科", "stats", "xlsx", "质量科3.15统计表（补报）.xlsx", T7, "何军", "13662079215",
               quantities=q(_1_1=1, _1_2=1, _1_7=300, _1_8=120, _1_9=40, _2_3=1, _2_6=15, _2_7=10),
               note="逾期：3月20日上午才报"),
        # 南市市场监管所: nothing.
    ]


# --- filling the forms -------------------------------------------------------------------------


def _moment(received_at: str) -> dt.datetime:
    return dt.datetime.fromisoformat(received_at)


def _saved_at(sample: Sample) -> dt.datetime:
    """When the department last saved the file: 25 minutes before it came off OA, in UTC."""
    return (_moment(sample.received_at) - dt.timedelta(minutes=25)).astimezone(dt.UTC).replace(tzinfo=None)


def fill_xlsx(blank: bytes, campaign: Campaign, sample: Sample) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(blank))
    ws = wb[SHEET_NAMES[sample.attachment]]
    if sample.attachment == "roster":
        layout = RosterLayout(campaign.attachments.roster)
        for index, person in enumerate(sample.people):
            for name, value in zip(("date", "name", "position", "landline", "mobile"), person, strict=True):
                if value is not None and value != "":
                    ws[layout.cell(index, name)] = value
    else:
        layout = StatsLayout(campaign.attachments.stats)
        for key, value in zip(KEYS, sample.quantities, strict=True):
            if value is not None:
                ws[layout.quantity_cell(key)] = value
        for key, remark in sample.remarks.items():
            ws[layout.remark_cell(key)] = remark
        if sample.other_label:
            ws[layout.label_cell("3")] = sample.other_label
    ws[layout.filler_cell] = sample.filler
    ws[layout.filler_phone_cell] = sample.filler_phone
    if sample.added_column:
        header, value = sample.added_column
        column = chr(ord(layout.last_col) + 1)
        ws[f"{column}{HEADER_ROW}"], ws[f"{column}{FIRST_BODY_ROW}"] = header, value
    if sample.strip_identity:
        del wb[IDENTITY_SHEET]
        wb.custom_doc_props = CustomPropertyList()
        wb.security = None
        ws.protection.sheet = False
    wb.properties.creator = wb.properties.lastModifiedBy = "Administrator"
    wb.properties.created = dt.datetime(2020, 3, 11, 8, 0)
    wb.properties.modified = _saved_at(sample)
    out = io.BytesIO()
    # ExcelWriter directly: Workbook.save() would stamp the current time as the modified time.
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    return out.getvalue()


def _set_text(cell, text: str) -> None:
    """Type into a Word table cell, keeping its paragraph (and so the form's cell style)."""
    paragraph = cell.paragraphs[0]
    runs = paragraph.runs
    if runs:
        runs[0].text = text
        for run in runs[1:]:
            run._r.getparent().remove(run._r)
    else:
        paragraph.add_run(text)


def fill_docx(blank: bytes, campaign: Campaign, sample: Sample) -> bytes:
    document = Document(io.BytesIO(blank))
    (table,) = document.tables
    if sample.attachment == "roster":
        for index, person in enumerate(sample.people):
            row = table.rows[1 + index]
            for cell, value in zip(row.cells, person, strict=True):
                if value is not None and value != "":
                    _set_text(cell, value)
    else:
        for index, (value, key) in enumerate(zip(sample.quantities, KEYS, strict=True)):
            cells = table.rows[1 + index].cells
            if value is not None:
                _set_text(cells[3], str(value))
            if key in sample.remarks:
                _set_text(cells[4], sample.remarks[key])
            if key == "3" and sample.other_label:
                _set_text(cells[1], sample.other_label)
    spec = campaign.spec(sample.attachment)
    footer = next(p for p in document.paragraphs if p.text.startswith(spec.filler_labels[0]))
    runs = footer.runs  # 填报人： | tab | 联系电话：
    runs[0].text = f"{spec.filler_labels[0]}：{sample.filler}"
    runs[-1].text = f"{spec.filler_labels[1]}：{sample.filler_phone}"
    props = document.core_properties
    props.author = props.last_modified_by = "Administrator"
    props.created = dt.datetime(2020, 3, 11, 8, 0)
    props.modified = _saved_at(sample)
    props.revision = 2
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def pinned(package: bytes, when: dt.datetime) -> bytes:
    """The same zip with every entry's time set to ``when``: re-runs write identical bytes."""
    stamp_time = when.timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=stamp_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            dst.writestr(entry, src.read(info))
    return out.getvalue()


# --- writing -----------------------------------------------------------------------------------


def one_workbook(first: bytes, second: bytes, when: dt.datetime) -> bytes:
    """The second workbook's form sheet copied into the first, as Excel's "move or copy sheet"
    brings it over: values, merged cells, column widths and cell styles."""
    from copy import copy

    wb = openpyxl.load_workbook(io.BytesIO(first))
    source = next(ws for ws in openpyxl.load_workbook(io.BytesIO(second)).worksheets if ws.title != IDENTITY_SHEET)
    target = wb.create_sheet(source.title, index=len(wb.sheetnames) - 1)
    for row in source.iter_rows():
        for cell in row:
            copied = target.cell(cell.row, cell.column)
            if cell.value is not None:
                copied.value = cell.value
            if cell.has_style:
                copied.font, copied.border, copied.alignment = copy(cell.font), copy(cell.border), copy(cell.alignment)
                copied.number_format = cell.number_format
    for merged in source.merged_cells.ranges:
        target.merge_cells(str(merged))
    for letter, dimension in source.column_dimensions.items():
        target.column_dimensions[letter].width = dimension.width
    wb.properties.modified = when.astimezone(dt.UTC).replace(tzinfo=None)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(wb, archive).save()
    return out.getvalue()


def gbk_zip(members: list[tuple[str, bytes]], when: dt.datetime) -> bytes:
    """A zip as the zip tool of a Chinese Windows writes it: names in GBK, no UTF-8 flag."""
    out = io.BytesIO()
    stand_ins = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, (name, data) in enumerate(members):
            raw = name.encode("gbk")
            stand_in = ("~" * len(raw))[: -len(str(number))] + str(number)  # ASCII, as long as the GBK name
            stand_ins.append((stand_in.encode(), raw))
            entry = zipfile.ZipInfo(stand_in, date_time=when.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            archive.writestr(entry, data)
    data = out.getvalue()
    for stand_in, raw in stand_ins:
        data = data.replace(stand_in, raw)
    return data


def received_toml(written: list[Sample]) -> str:
    lines = [
        "# When each sample return came off the 新OA system (what `c315 ingest --received-at` is told).",
        "# Written by scripts/make_samples.py — edit that script, not this file.",
        "# Due: 附件1 2020-03-13T12:00+08:00, 附件2 2020-03-19T17:30+08:00. 南市市场监管所 sends nothing.",
        "received = [",
    ]
    sent = {sample.file: sample for sample in written}
    for bundle in BUNDLES:
        first = sent[bundle.members[0]]
        for member in bundle.members:
            del sent[member]
        sent[bundle.file] = Sample(first.unit, first.attachment, first.fmt, bundle.file, first.received_at, "", "",
                                   note=bundle.note)
    for sample in sorted(sent.values(), key=lambda s: _moment(s.received_at)):
        note = f"  # {sample.unit}：{sample.note}" if sample.note else f"  # {sample.unit}"
        lines.append(f'  {{ file = "{sample.file}", received_at = "{sample.received_at}" }},{note}')
    lines.append("]")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "samples", help="folder to write into")
    parser.add_argument("--campaign", type=Path, default=ROOT / "data" / "campaign.toml")
    parser.add_argument("--templates", type=Path, default=ROOT / "templates")
    args = parser.parse_args(argv)
    campaign = load_campaign(args.campaign)
    returned = args.out / "returned"
    returned.mkdir(parents=True, exist_ok=True)
    for old in returned.iterdir():
        if old.is_file() and old.suffix in (".xlsx", ".docx", ".zip"):
            old.unlink()

    blanks: dict[tuple[AttachmentKey, Format], bytes] = {}
    written = samples()
    names = [s.file for s in written]
    if len(set(names)) != len(names):
        raise SystemExit("two samples share a file name")
    made: dict[str, bytes] = {}
    for sample in written:
        if campaign.find_unit(sample.unit) is None:
            raise SystemExit(f"unknown unit {sample.unit!r}")
        key = (sample.attachment, sample.fmt)
        if key not in blanks:
            blanks[key] = blank_template(campaign, sample.attachment, sample.fmt, args.templates)
        blank = stamp(blanks[key], sample.unit)
        fill = fill_xlsx if sample.fmt == "xlsx" else fill_docx
        made[sample.file] = pinned(fill(blank, campaign, sample), _moment(sample.received_at))
    by_name = {sample.file: sample for sample in written}
    for bundle in BUNDLES:
        members = [(name, made.pop(name)) for name in bundle.members]
        times = {by_name[name].received_at for name in bundle.members}
        if len(times) != 1:
            raise SystemExit(f"{bundle.file}: its members must come off OA together")
        when = _moment(times.pop())
        if bundle.file.endswith(".zip"):
            made[bundle.file] = gbk_zip(members, when)
        else:
            made[bundle.file] = pinned(one_workbook(members[0][1], members[1][1], when), when)
        by_name[bundle.file] = by_name[bundle.members[0]]
    for name, data in made.items():
        when = _moment(by_name[name].received_at)
        path = returned / name
        path.write_bytes(data)
        os.utime(path, (when.timestamp(), when.timestamp()))   # as it came off OA
        print(f"{by_name[name].received_at}  {path.relative_to(args.out)}")
    (args.out / "received.toml").write_text(received_toml(written), encoding="utf-8")
    total = sum(p.stat().st_size for p in returned.iterdir() if p.is_file())
    print(f"{len(made)} files, {total // 1024} KiB, in {returned}; received times in {args.out / 'received.toml'}")


if __name__ == "__main__":
    main()
