"""The one way c315 finds a template: the office's own copy in the workspace's ``templates/``
first, the one shipped with c315 after — for the Word forms (docxtpl), the HTML report and the
letters and reminders (Jinja). A workspace made by an older ``c315 init`` that lacks a template
still works; an edited template that cannot be rendered is one Chinese message, not a traceback.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from campaign315.common.errors import C315Error
from campaign315.common.files import shipped


class TemplateProblem(C315Error):
    """A template the office edited is missing or cannot be rendered."""


def template_folders(templates_dir: Path | None) -> list[Path]:
    """Where templates are looked for, in order."""
    folders = [Path(templates_dir)] if templates_dir is not None else []
    return [*folders, shipped("templates")]


def template_path(templates_dir: Path | None, name: str) -> Path:
    """The file of template ``name`` (``附件1.docx``), the office's copy first."""
    for folder in template_folders(templates_dir):
        if (folder / name).is_file():
            return folder / name
    raise TemplateProblem(f"找不到模板 {name}。请用 c315 init --force 恢复默认模板。")


@lru_cache(maxsize=8)
def _environment(folders: tuple[Path, ...], html: bool):
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(
        loader=FileSystemLoader([str(folder) for folder in folders]),
        autoescape=html,  # an HTML page escapes every value; a plain-text letter has nothing to escape
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_template(templates_dir: Path | None, name: str, *, html: bool = False, **context) -> str:
    """Template ``name`` rendered with ``context``. ``html`` escapes every value (the report)."""
    from jinja2 import TemplateError, TemplateNotFound, TemplateSyntaxError

    environment = _environment(tuple(template_folders(templates_dir)), html)
    try:
        return environment.get_template(name).render(**context)
    except TemplateNotFound:
        raise TemplateProblem(f"找不到模板 {name}。请用 c315 init --force 恢复默认模板。") from None
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"模板 {exc.filename or name} 第 {exc.lineno} 行写法有误：{exc.message}") from None
    except TemplateError as exc:
        raise TemplateProblem(f"模板 {name} 无法生成文字：{exc.message}（字段名写错了？）") from None
