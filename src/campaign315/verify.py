"""``c315 verify``: the store checked against its archive. Every record has its file, every file
its record, and every file still holds the bytes its name — their SHA-256 — promises.

>>> import tempfile
>>> from campaign315.store import Store
>>> with Store(Path(tempfile.mkdtemp())) as store:
...     verify_store(store)
[]
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from campaign315.store import Store

# code: (severity, template). Templates take {path} (relative to the store) and named details.
CATALOGUE: dict[str, tuple[Literal["error", "warning"], str]] = {
    "database-damaged": ("error", "数据库文件已损坏：{detail}。请用备份恢复。"),
    "archive-missing": ("error", "收表记录 #{record}（{filename}）的存档文件 {path} 不见了。"),
    "archive-altered": ("error", "存档文件 {path} 的内容已被改动或损坏，与收表时记下的 SHA-256 不符。"),
    "archive-misplaced": ("error", "收表记录 #{record}（{filename}）指向的存档位置 {path} 与它的 SHA-256 不符。"),
    "archive-unrecorded": ("warning", "存档文件 {path} 没有对应的收表记录（收表可能中途被打断）。重新运行 c315 ingest 收同一批文件即可补上。"),
    "archive-stray": ("error", "存档目录里的 {path} 不是 c315 存的文件（文件名不是其内容的 SHA-256）。"),
    "archive-temporary": ("warning", "{path} 是一次被打断的写入留下的临时文件，不属于存档，可以删除。"),
}

_TEMPORARY = re.compile(r"\.c315-.*\.part")  # what files.write_atomically leaves if killed mid-write
_ARCHIVED = re.compile(r"(?P<sha256>[0-9a-f]{64})(?P<suffix>\.[a-z0-9]{1,15})?")


@dataclass(frozen=True)
class VerifyProblem:
    """One thing wrong between the store and its archive; ``path`` is relative to the store."""

    severity: Literal["error", "warning"]
    code: str
    path: str
    message: str


def _problem(code: str, path: str, **details: object) -> VerifyProblem:
    severity, template = CATALOGUE[code]
    return VerifyProblem(severity, code, path, template.format(path=path, **details))


def verify_store(store: Store) -> list[VerifyProblem]:
    """Everything wrong between ``store``'s records and the files under its ``archive/``, in
    the order of the paths; empty when they agree."""
    problems: list[VerifyProblem] = []
    damage = store.integrity_check()
    if damage:
        problems.append(_problem("database-damaged", "c315.sqlite", detail="；".join(damage[:5])))
    files = _archived_files(store.archive_dir)
    recorded: set[str] = set()
    digests: dict[str, str] = {}
    for record, sha256, filename, archive_path in store.archive_records():
        path = archive_path or f"archive/{sha256[:2]}/{sha256}"
        recorded.add(path)
        name = _ARCHIVED.fullmatch(Path(path).name)
        if not (name and name["sha256"] == sha256 and path == f"archive/{sha256[:2]}/{Path(path).name}"):
            problems.append(_problem("archive-misplaced", path, record=record, filename=filename))
        if path not in files:
            problems.append(_problem("archive-missing", path, record=record, filename=filename))
            continue
        digests[path] = digests.get(path) or _sha256(store.directory / path)
        if digests[path] != sha256:
            problems.append(_problem("archive-altered", path))
    for path in sorted(set(files) - recorded):
        name = _ARCHIVED.fullmatch(Path(path).name)
        if _TEMPORARY.fullmatch(Path(path).name):
            problems.append(_problem("archive-temporary", path))
        elif not name or Path(path).parent.name != name["sha256"][:2] or _sha256(store.directory / path) != name["sha256"]:
            problems.append(_problem("archive-stray", path))
        else:
            problems.append(_problem("archive-unrecorded", path))
    return sorted(problems, key=lambda p: (p.path, p.code))


def _archived_files(archive_dir: Path) -> set[str]:
    """Every file below ``archive/``, as ``archive/ab/abcd….xlsx`` (relative to the store)."""
    found = set()
    for root, _dirs, names in os.walk(archive_dir):  # links to folders are not followed
        for name in names:
            found.add(f"archive/{(Path(root) / name).relative_to(archive_dir).as_posix()}")
    return found


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return ""
    return digest.hexdigest()
