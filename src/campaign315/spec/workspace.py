"""The folder the office works in, the campaigns c315 ships (``c315 campaigns``), and ``c315 init``,
which puts an editable copy of one of them (and the templates) there.

c315 ships two campaigns: the Heping district's (``data/campaign.toml``, the default) and the
Tianjin city roll-up its district summaries go up to (``data/campaigns/tianjin-2020-315.toml``).
A workspace works on its own ``campaign.toml`` if it has one, else on the default; ``--campaign
ID`` (``C315_CAMPAIGN``) picks another — the workspace's own, one in its ``campaigns/`` folder, or a
shipped one — so one shared store can be worked campaign by campaign from any workspace.

Which files a workspace uses is known without reading them: the campaign (and pydantic) is loaded
only when asked for, so ``c315 --version`` and shell completion's start stay light.
"""

from __future__ import annotations

import os
import shutil
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from campaign315.common.errors import UsageError, WouldOverwrite
from campaign315.common.files import CAMPAIGN_FILE, STORE_DIR, shipped

if TYPE_CHECKING:
    from campaign315.spec.campaign import Campaign

CAMPAIGNS_DIR = "campaigns"
"""Where more campaign files are kept: beside the shipped default, and in a workspace."""


def shipped_campaigns() -> dict[str, Path]:
    """Every campaign c315 ships, by id, the default (the district's) first.

    >>> list(shipped_campaigns())
    ['heping-2020-315', 'tianjin-2020-315']
    """
    from campaign315.spec.campaign import load_campaign

    files = [shipped("data") / CAMPAIGN_FILE, *sorted((shipped("data") / CAMPAIGNS_DIR).glob("*.toml"))]
    return {load_campaign(path).id: path for path in files}


class Workspace:
    """A folder the office works in: its own ``campaign.toml`` and ``templates/`` if it has them
    (``c315 init``), the store under ``.c315/``. Defaults to the shipped campaign; ``campaign_id``
    (``--campaign``, ``C315_CAMPAIGN``) picks another."""

    def __init__(self, root: Path | str | None = None, campaign_id: str | None = None):
        self.root = Path(root or os.environ.get("C315_WORKSPACE") or ".").expanduser()
        self.campaign_id = campaign_id or os.environ.get("C315_CAMPAIGN") or None

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
        """The campaign this workspace works on (see the module's docstring for the choice)."""
        from campaign315.spec.campaign import load_campaign

        own = load_campaign(self.campaign_file)
        if self.campaign_id is None or own.id == self.campaign_id:
            return own
        for path in sorted((self.root / CAMPAIGNS_DIR).glob("*.toml")):
            kept = load_campaign(path)
            if kept.id == self.campaign_id:
                return kept
        ship = shipped_campaigns()
        if self.campaign_id in ship:
            return load_campaign(ship[self.campaign_id])
        known = sorted({own.id, *ship})
        raise UsageError(f"没有找到活动 {self.campaign_id}：工作目录 {self.root} 的 campaign.toml 是 {own.id}，"
                         f"{CAMPAIGNS_DIR}/ 里和 c315 自带的活动里都没有它。可用的活动：{'、'.join(known)}（c315 campaigns 可列出）。")


def init_workspace(directory: Path, *, force: bool = False, campaign: str | None = None) -> list[Path]:
    """Copy a shipped campaign (``campaign``: its id; default the district's) as ``campaign.toml``,
    and ``templates/``, into ``directory``; never over an edited copy unless ``force``."""
    ship = shipped_campaigns()
    if campaign is not None and campaign not in ship:
        raise UsageError(f"c315 没有自带活动 {campaign}。可选：{'、'.join(ship)}（c315 campaigns 可列出）。")
    source = ship[campaign] if campaign else shipped("data") / CAMPAIGN_FILE
    sources = [(source, directory / CAMPAIGN_FILE)]
    sources += [(path, directory / "templates" / path.name) for path in sorted(shipped("templates").iterdir())
                if path.suffix in (".docx", ".j2")]
    existing = [target for _, target in sources if target.exists()]
    if existing and not force:
        raise WouldOverwrite(f"{existing[0]} 已存在（可能已修改过），未覆盖。确认要恢复默认请加 --force。")
    for source, target in sources:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return [target for _, target in sources]
