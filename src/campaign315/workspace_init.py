"""``c315 init``: an editable copy of the campaign (and the Word templates) in a workspace."""

from __future__ import annotations

import shutil
from pathlib import Path

from campaign315.campaign import CAMPAIGN_FILE, shipped
from campaign315.errors import WouldOverwrite


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
