"""The folder the office works in, and ``c315 init``, which puts an editable copy of the campaign
(and the templates) there.

Which files a workspace uses is known without reading them: the campaign (and pydantic) is loaded
only when asked for, so ``c315 --version`` and shell completion's start stay light."""

from __future__ import annotations

import os
import shutil
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from campaign315.common.errors import WouldOverwrite
from campaign315.common.files import CAMPAIGN_FILE, STORE_DIR, shipped

if TYPE_CHECKING:
    from campaign315.spec.campaign import Campaign


class Workspace:
    """A folder the office works in: its own ``campaign.toml`` and ``templates/`` if it has them
    (``c315 init``), the store under ``.c315/``. Defaults to the shipped campaign."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root or os.environ.get("C315_WORKSPACE") or ".").expanduser()

    @property
    def has_own_campaign(self) -> bool:
        """Did ``c315 init`` (or the office) put a ``campaign.toml`` here?"""
        return (self.root / CAMPAIGN_FILE).is_file()

    @property
    def campaign_file(self) -> Path:
        return self.root / CAMPAIGN_FILE if self.has_own_campaign else shipped("data") / CAMPAIGN_FILE

    @property
    def templates_dir(self) -> Path:
        """The office's templates; any template missing there is taken from c315's own."""
        return self.root / "templates"

    @property
    def store_dir(self) -> Path:
        return self.root / STORE_DIR

    @cached_property
    def campaign(self) -> Campaign:
        from campaign315.spec.campaign import load_campaign

        return load_campaign(self.campaign_file)


def init_workspace(directory: Path, *, force: bool = False) -> list[Path]:
    """Copy the shipped ``campaign.toml`` and ``templates/`` into ``directory``; never over an
    edited copy unless ``force``."""
    sources = [(shipped("data") / CAMPAIGN_FILE, directory / CAMPAIGN_FILE)]
    sources += [(path, directory / "templates" / path.name) for path in sorted(shipped("templates").iterdir())
                if path.suffix in (".docx", ".j2")]
    existing = [target for _, target in sources if target.exists()]
    if existing and not force:
        raise WouldOverwrite(f"{existing[0]} 已存在（可能已修改过），未覆盖。确认要恢复默认请加 --force。")
    for source, target in sources:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return [target for _, target in sources]
