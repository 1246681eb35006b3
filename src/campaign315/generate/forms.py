"""``c315 generate-forms``: every unit's blank forms, rendered once per attachment and format,
stamped per unit, written atomically, never over someone's file without ``--force``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from campaign315.common.errors import WouldOverwrite
from campaign315.common.files import safe_filename, write_atomically
from campaign315.common.pool import Crashed, Pool, cores, pool_context
from campaign315.generate.stamp import PLACEHOLDER, stamp, with_custom_properties
from campaign315.spec.campaign import AttachmentKey, Campaign, Unit
from campaign315.spec.forms import Identity, form_filename

Format = Literal["xlsx", "docx"]
FORMATS: tuple[Format, ...] = ("xlsx", "docx")


@dataclass(frozen=True)
class PlannedForm:
    """One blank form to write: whose, which attachment, which format, where."""

    unit: Unit
    attachment: AttachmentKey
    format: Format
    path: Path

    def as_json(self) -> dict:
        """``c315 generate-forms --json``: one file written (the shape documented in README)."""
        return {"unit": self.unit.name, "attachment": self.attachment, "format": self.format, "path": str(self.path)}


def plan_forms(campaign: Campaign, units: Iterable[Unit], formats: Iterable[Format], out_dir: Path) -> list[PlannedForm]:
    """One folder per unit; in it the attachments the unit returns, in each format."""
    return [
        PlannedForm(unit, attachment, fmt, out_dir / safe_filename(unit.name) / safe_filename(form_filename(campaign.spec(attachment), unit.name, fmt)))
        for unit in units
        for attachment in unit.returns
        for fmt in formats
    ]


def blank_template(campaign: Campaign, attachment: AttachmentKey, fmt: Format, templates_dir: Path) -> bytes:
    """The blank form with :data:`PLACEHOLDER` where the unit goes, identity included."""
    if fmt == "xlsx":
        from campaign315.generate.xlsx import render_xlsx

        return render_xlsx(campaign, attachment, PLACEHOLDER)
    from campaign315.generate.docx import render_docx

    document = render_docx(campaign, attachment, PLACEHOLDER, None, templates_dir)
    identity = Identity(campaign=campaign.id, attachment=attachment, unit=PLACEHOLDER)
    return with_custom_properties(document, identity.properties())


def generate_forms(
    campaign: Campaign,
    planned: list[PlannedForm],
    templates_dir: Path,
    *,
    force: bool = False,
    advance: Callable[[PlannedForm], None] = lambda _: None,
) -> list[Path]:
    """Write every planned form. Refuses before writing anything if a target exists (unless
    ``force``): a department may already have filled it."""
    existing = [form.path for form in planned if form.path.exists()]
    if existing and not force:
        shown = "\n".join(f"  {path}" for path in existing[:5])
        more = f"\n  ……等共 {len(existing)} 个文件" if len(existing) > 5 else ""
        raise WouldOverwrite(f"以下文件已存在，可能已有人填写，未覆盖：\n{shown}{more}\n确认要重新生成请加 --force，或用 --out 指定别的目录。")
    # Each attachment × format is rendered once; every copy is that render with the unit stamped in.
    templates = {
        key: blank_template(campaign, *key, templates_dir)
        for key in dict.fromkeys((form.attachment, form.format) for form in planned)
    }
    _use_templates(templates)
    if len(planned) < PARALLEL_FROM:
        for form in planned:
            _write_copy(form)
            advance(form)
        return [form.path for form in planned]
    # Many forms: stamping and writing run on every core (c315's one pool). The renders go to each
    # worker as its setup's argument, so a spawned worker (Windows) has them as a forked one does.
    with Pool(_write_copy, cores(), setup=_use_templates, setup_args=(templates,), context=pool_context()) as pool:
        for form, done in pool.map(planned):
            if isinstance(done, Crashed):
                raise OSError(f"写入 {form.path} 时工作进程异常退出（{done.cause}）")
            advance(form)
    return [form.path for form in planned]


PARALLEL_FROM = 200
_templates: dict[tuple[AttachmentKey, Format], bytes] = {}


def _use_templates(templates: dict[tuple[AttachmentKey, Format], bytes]) -> None:
    global _templates
    _templates = templates  # a spawned worker (not Linux) starts without the renders


def _write_copy(form: PlannedForm) -> None:
    write_atomically(form.path, stamp(_templates[(form.attachment, form.format)], form.unit.name))
