"""The campaign as data: who reports, which forms, what each form holds and when it is due.

Everything the notice says that a form, a message or a summary needs is read from a TOML file
(``data/campaign.toml`` ships the 2020 Heping campaign). Nothing here types a label of the notice.

>>> from campaign315.common.files import shipped
>>> campaign = load_campaign(shipped("data") / CAMPAIGN_FILE)
>>> campaign.attachments.stats.title
'2020年3•15活动工作情况统计表'
>>> campaign.find_unit("市场网监科").name
'市场和网络交易监管科'
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from campaign315.common.errors import CampaignFileError, UsageError
from campaign315.common.files import CAMPAIGN_FILE, STORE_DIR  # noqa: F401  (named here too, beside the campaign)
from campaign315.common.text import squash

AttachmentKey = Literal["roster", "stats"]
ATTACHMENT_KEYS: tuple[AttachmentKey, ...] = ("roster", "stats")
UnitKind = Literal["科室", "市场监管所", "稽查大队", "中心", "协会", "区"]
Role = Literal["leader", "cadre", "unknown"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contact(_Model):
    name: str
    phone: str = ""
    unit: str = ""


class Unit(_Model):
    """A reporting unit (成员单位) and the attachments it owes."""

    name: str = Field(min_length=1)
    kind: UnitKind
    aliases: tuple[str, ...] = ()
    returns: tuple[AttachmentKey, ...] = ATTACHMENT_KEYS
    contact: Contact | None = None

    def owes(self, attachment: AttachmentKey) -> bool:
        return attachment in self.returns


class StaffingRule(_Model):
    min_on_duty: int = Field(ge=0)
    min_leaders: int = Field(ge=0)


class Staffing(_Model):
    """工作要求（三）: how many people, and how many leaders, each kind of unit keeps on duty."""

    default: StaffingRule
    by_kind: dict[UnitKind, StaffingRule] = {}
    leader_titles: tuple[str, ...]
    cadre_titles: tuple[str, ...]

    def rule_for(self, unit: Unit) -> StaffingRule:
        return self.by_kind.get(unit.kind, self.default)

    @cached_property
    def _titles_longest_first(self) -> list[tuple[str, Role]]:
        terms = [(squash(t), "leader") for t in self.leader_titles]
        terms += [(squash(t), "cadre") for t in self.cadre_titles]
        return sorted(terms, key=lambda term: -len(term[0]))

    def classify(self, position: str) -> Role:
        """Leader or cadre, by the longest vocabulary term the title ends with.

        >>> s = Staffing(default=StaffingRule(min_on_duty=1, min_leaders=0),
        ...              leader_titles=("主任", "所长"), cadre_titles=("主任科员",))
        >>> s.classify("一级主任科员"), s.classify("办公室主任"), s.classify("司机")
        ('cadre', 'leader', 'unknown')
        """
        known = self._roles.get(position)
        if known is not None:
            return known
        title = _TRAILING_NOTE.sub("", squash(position))  # 副所长（主持工作） → 副所长
        role: Role = next((role for term, role in self._titles_longest_first if term and title.endswith(term)), "unknown")
        if len(self._roles) < 4096:  # the same few titles come back in every roster
            self._roles[position] = role
        return role

    @cached_property
    def _roles(self) -> dict[str, Role]:
        return {}

    def count_roles(self, positions: list[str]) -> dict[Role, int]:
        """How many leaders, cadres and unclassifiable titles among these 职务 ("" is unknown)."""
        roles: dict[Role, int] = {"leader": 0, "cadre": 0, "unknown": 0}
        for position in positions:
            roles[self.classify(position) if position else "unknown"] += 1
        return roles

    def shortfall(self, unit: Unit, positions: list[str]) -> str:
        """"" when the unit keeps enough people on duty (工作要求（三）), else what is short, in words.

        >>> s = Staffing(default=StaffingRule(min_on_duty=3, min_leaders=1),
        ...              leader_titles=("所长",), cadre_titles=("科员",))
        >>> s.shortfall(Unit(name="五大道所", kind="市场监管所"), ["科员", "司机"])
        '市场监管所须至少 3 人（其中领导 1 人），实有 2 人（领导 0 人，职务无法判断 1 人）'
        """
        rule, roles = self.rule_for(unit), self.count_roles(positions)
        if len(positions) >= rule.min_on_duty and roles["leader"] >= rule.min_leaders:
            return ""
        wanted = f"须至少 {rule.min_on_duty} 人" + (f"（其中领导 {rule.min_leaders} 人）" if rule.min_leaders else "")
        actual = (f"实有 {len(positions)} 人（领导 {roles['leader']} 人"
                  + (f"，职务无法判断 {roles['unknown']} 人" if roles["unknown"] else "") + "）")
        return f"{unit.kind}{wanted}，{actual}"

    @model_validator(mode="after")
    def _vocabularies_do_not_overlap(self) -> Staffing:
        both = {squash(t) for t in self.leader_titles} & {squash(t) for t in self.cadre_titles}
        if both:
            raise ValueError(f"职务同时列为领导和干部：{'、'.join(sorted(both))}")
        return self


_TRAILING_NOTE = re.compile(r"[(（\[【][^()（）]*[)）\]】]$")


class Period(_Model):
    start: dt.date
    end: dt.date


class StatsItem(_Model):
    """One row of 附件2. ``free`` rows (其他) say in 备注 what they count: listed, never summed."""

    key: str = Field(min_length=1)
    category: str = Field(min_length=1)
    label: str
    unit: str = ""
    free: bool = False
    participants_of: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        """How a person names the row: 宣传教育／组织普法活动."""
        return f"{self.category}／{self.label}" if self.label else self.category


class _AttachmentSpec(_Model):
    number: int = Field(ge=1)
    title: str = Field(min_length=1)
    due: dt.datetime
    due_text: str
    columns: tuple[str, ...]
    filler_labels: tuple[str, str]

    @property
    def label(self) -> str:
        return f"附件{self.number}"


class RosterSpec(_AttachmentSpec):
    key: Literal["roster"] = "roster"
    duty_date: dt.date
    first_date_label: str
    rows: int = Field(ge=1, le=200)

    @field_validator("columns")
    @classmethod
    def _five_columns(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(v) != 5:
            raise ValueError("附件1 须有 5 列：日期、姓名、职务、固定电话、移动电话")
        return v


class StatsSpec(_AttachmentSpec):
    key: Literal["stats"] = "stats"
    period: Period
    note: str
    items: tuple[StatsItem, ...] = Field(min_length=1)

    @field_validator("columns")
    @classmethod
    def _four_columns(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if len(v) != 4:
            raise ValueError("附件2 须有 4 列：项目、单位、数量、备注")
        return v

    @field_validator("items")
    @classmethod
    def _keys_unique_and_known(cls, items: tuple[StatsItem, ...]) -> tuple[StatsItem, ...]:
        # A field validator, so the error names attachments.stats.items, not the whole table.
        keys = [item.key for item in items]
        repeated = {k for k in keys if keys.count(k) > 1}
        if repeated:
            raise ValueError(f"统计项 key 重复：{'、'.join(sorted(repeated))}")
        for item in items:
            unknown = set(item.participants_of) - set(keys)
            if unknown:
                raise ValueError(f"统计项 {item.key} 的 participants_of 引用了不存在的 key：{'、'.join(sorted(unknown))}")
        return items

    def item(self, key: str) -> StatsItem:
        return next(item for item in self.items if item.key == key)


class Attachments(_Model):
    roster: RosterSpec
    stats: StatsSpec


class District(_Model):
    """Who the district's own return is from, and the campaign one level up that collects it."""

    name: str
    aliases: tuple[str, ...] = ()
    parent_campaign: str = ""


class Collector(_Model):
    name: str
    contacts: tuple[Contact, ...] = ()


class Campaign(_Model):
    schema_version: int = Field(ge=1)
    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._-]+$")
    name: str
    document_number: str = ""
    issuers: tuple[str, ...] = ()
    issued_on: dt.date
    timezone: str
    channel: str = "新OA"
    district: District
    collector: Collector
    units: tuple[Unit, ...] = Field(min_length=1)
    staffing: Staffing
    attachments: Attachments

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"未知时区 {v!r}") from exc
        return v

    @field_validator("units")
    @classmethod
    def _names_unambiguous(cls, units: tuple[Unit, ...]) -> tuple[Unit, ...]:
        # A field validator, so the error names the units field, not "the whole file".
        seen: dict[str, str] = {}
        for unit in units:
            for name in (unit.name, *unit.aliases):
                key = squash(name)
                if key in seen and seen[key] != unit.name:
                    raise ValueError(f"单位名称或别名 {name!r} 同时指向 {seen[key]} 和 {unit.name}")
                seen[key] = unit.name
        return units

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def spec(self, attachment: AttachmentKey) -> RosterSpec | StatsSpec:
        return getattr(self.attachments, attachment)

    def localize(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` in the campaign's zone; a naive one is taken to be in that zone already."""
        return moment.replace(tzinfo=self.tz) if moment.tzinfo is None else moment.astimezone(self.tz)

    def due_at(self, attachment: AttachmentKey) -> dt.datetime:
        """The attachment's due time as an aware datetime in the campaign's zone."""
        return self.localize(self.spec(attachment).due)

    @cached_property
    def _unit_index(self) -> dict[str, Unit]:
        return {squash(name): unit for unit in self.units for name in (unit.name, *unit.aliases)}

    def find_unit(self, name: str) -> Unit | None:
        """The unit a typed name means — canonical name or alias, spaces and full width ignored.
        A name that carries the district's prefix (和平区办公室) is found too."""
        key = squash(name)
        if key in self._unit_index:
            return self._unit_index[key]
        for prefix in sorted({squash(n) for n in (self.district.name, *self.district.aliases)}, key=len, reverse=True):
            if prefix and key.startswith(prefix) and key[len(prefix):] in self._unit_index:
                return self._unit_index[key[len(prefix):]]
        return None

    def units_named(self, names: list[str]) -> list[Unit]:
        """The units a person named (names or aliases, each once, in the order given). An unknown
        name is a :class:`UsageError` that lists the valid ones.

        >>> from campaign315.common.files import shipped
        >>> campaign = load_campaign(shipped("data") / CAMPAIGN_FILE)
        >>> [unit.name for unit in campaign.units_named(["药化科", "办公室", "药化监管科"])]
        ['药化监管科', '办公室']
        """
        units: list[Unit] = []
        unknown = []
        for name in names:
            unit = self.find_unit(name)
            if unit is None:
                unknown.append(name)
            elif unit not in units:
                units.append(unit)
        if unknown:
            valid = "、".join(unit.name for unit in self.units)
            raise UsageError(f"不认识的部门：{'、'.join(unknown)}。可用的部门有：{valid}。")
        return units

    def names_starting(self, typed: str) -> list[tuple[str, str]]:
        """Every unit name and alias that begins with what was typed (spaces and full width
        ignored), each with a word on what it is — what shell completion offers.

        >>> from campaign315.common.files import shipped
        >>> campaign = load_campaign(shipped("data") / CAMPAIGN_FILE)
        >>> campaign.names_starting("药化")
        [('药化监管科', '科室'), ('药化科', '即 药化监管科')]
        """
        start = squash(typed)
        return [
            (name, unit.kind if name == unit.name else f"即 {unit.name}")
            for unit in self.units
            for name in (unit.name, *unit.aliases)
            if squash(name).startswith(start)
        ]

    def is_district(self, name: str) -> bool:
        return squash(name) in {squash(n) for n in (self.district.name, *self.district.aliases)}

    def units_owing(self, attachment: AttachmentKey) -> list[Unit]:
        return [unit for unit in self.units if unit.owes(attachment)]

    def contact_for(self, unit: Unit) -> str:
        """Whom to phone about a unit's forms: its own contact, else "—"."""
        return f"{unit.contact.name} {unit.contact.phone}".strip() if unit.contact else "—"

    @property
    def collector_contact(self) -> Contact | None:
        return self.collector.contacts[0] if self.collector.contacts else None


def load_campaign(path: Path) -> Campaign:
    """Read and validate a campaign file. Any defect is one :class:`CampaignFileError` naming the
    file, the field and what is wrong."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CampaignFileError(f"找不到活动配置文件：{path}") from None
    except UnicodeDecodeError:
        raise CampaignFileError(f"活动配置文件 {path} 不是 UTF-8 编码的文本，请另存为 UTF-8。") from None
    except tomllib.TOMLDecodeError as exc:
        raise CampaignFileError(f"活动配置文件 {path} 格式有误：{exc}") from None
    try:
        return Campaign.model_validate(raw)
    except ValidationError as exc:
        lines = [f"活动配置文件 {path} 有 {exc.error_count()} 处错误："]
        for error in exc.errors():
            field = _field_path(raw, error["loc"])
            lines.append(f"  · {field or '（文件整体）'}：{_explain(error)}")
        raise CampaignFileError("\n".join(lines)) from None


def _field_path(raw: dict, loc: tuple) -> str:
    """``units[3].kind (稽查大队)`` — the TOML path, with the unit's name where it helps."""
    parts: list[str] = []
    node = raw
    for step in loc:
        if isinstance(step, int):
            parts[-1] += f"[{step}]"
            if isinstance(node, list) and step < len(node):
                node = node[step]
                if isinstance(node, dict) and "name" in node and len(parts) == 1:
                    parts[-1] += f"（{node['name']}）"
        else:
            parts.append(str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return ".".join(parts)


_PYDANTIC_ZH = {
    "missing": "缺少此项",
    "extra_forbidden": "不认识的字段（拼写错误？）",
    "literal_error": "取值不在允许范围内",
    "int_parsing": "应为整数",
    "date_from_datetime_parsing": "应为日期，如 2020-03-11",
    "datetime_from_date_parsing": "应为日期时间，如 2020-03-13T12:00:00",
    "string_type": "应为文字",
    "too_short": "不能为空",
    "greater_than_equal": "不能为负数",
}


def _explain(error: dict) -> str:
    zh = _PYDANTIC_ZH.get(error["type"])
    detail = error["msg"].removeprefix("Value error, ")
    if error["type"] == "literal_error":
        allowed = re.findall(r"'([^']*)'", error.get("ctx", {}).get("expected", ""))
        return f"{zh}：{error['input']!r}，可选：{'、'.join(allowed)}" if allowed else f"{zh}：{detail}"
    return zh or detail
