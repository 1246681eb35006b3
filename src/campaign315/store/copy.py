"""``c315 store copy``: one store's whole content — every campaign's returns with their problems,
lines and entries, and the archived bytes of each — copied into another store, of either kind.

Idempotent: a return the target has already (same campaign, same SHA-256) is left alone, so a
second run copies nothing, and an interrupted run is finished by running it again. Each return
is archived in the target before it is recorded there, as ingest does; ids are the target's own,
the archive keys are the same in both (every archive names content alike).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath

from campaign315.store.base import Store
from campaign315.store.records import StoredReturn

CHUNK = 500
"""Returns read from the source at a time (with their lines and entries)."""


@dataclass
class CopyResult:
    """What a copy did: returns copied, found already there, and whose archived file is missing."""

    copied: int = 0
    present: int = 0
    reviews: int = 0
    """The collector's reviews written to the target (with new returns, or added to ones it had)."""
    missing: list[StoredReturn] = field(default_factory=list)

    def as_json(self, target: str) -> dict:
        """``c315 store copy --json`` (README documents the keys)."""
        return {"to": target, "copied": self.copied, "present": self.present, "reviews": self.reviews,
                "missing": [{"campaign": r.campaign, "filename": r.filename, "sha256": r.sha256} for r in self.missing]}

    def describe(self) -> str:
        text = f"新复制 {self.copied} 份报表，已有（跳过）{self.present} 份"
        if self.reviews:
            text += f"，带过去审核记录 {self.reviews} 条"
        if self.missing:
            names = "、".join(f"{r.filename}（{r.campaign}）" for r in self.missing[:10])
            text += f"；{len(self.missing)} 份的原件在源数据库的存档里找不到，没有复制：{names}。请先运行 c315 verify 检查源数据库"
        return text + "。"


def copy_store(source: Store, target: Store, advance: Callable[[StoredReturn], None] = lambda _: None) -> CopyResult:
    """Copy every return of every campaign in ``source`` that ``target`` lacks (see the module)."""
    result = CopyResult()
    for campaign in source.campaigns():
        kept = source.returns(campaign)
        # asked once per file before any is copied: a file's several returns may fall in two chunks
        known = {sha256 for sha256 in {r.sha256 for r in kept} if target.knows(sha256, campaign)}
        for start in range(0, len(kept), CHUNK):
            chunk = kept[start:start + CHUNK]
            wanted = [r for r in chunk if r.sha256 not in known]
            for stored in chunk:
                if stored.sha256 in known:
                    result.reviews += target.merge_reviews(stored)
            result.present += len(chunk) - len(wanted)
            ids = [r.id for r in wanted]
            lines, entries = source.stats_lines(ids), source.roster_entries(ids)
            for stored in wanted:
                try:
                    data = source.archive.read(stored.archive_key)
                except OSError:
                    result.missing.append(stored)
                    continue
                key = target.archive.put(data, stored.sha256, PurePosixPath(stored.archive_key).suffix)
                if target.copy_in(replace(stored, archive_key=key), lines[stored.id], entries[stored.id]) is None:
                    result.present += 1
                    result.reviews += target.merge_reviews(stored)
                else:
                    result.copied += 1
                    result.reviews += len(stored.reviews)
            for stored in chunk:
                advance(stored)
    return result
