"""``c315 ingest``: returned files → archive → read → identify → validate → store.

Each file is handled on its own: a broken file is a rejected return with a located problem,
never a reason to stop the run. The exact bytes are archived before anything parses them.
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from campaign315.campaign import Campaign
from campaign315.errors import UsageError
from campaign315.problems import Problem, problem
from campaign315.store import NewReturn, Store

Outcome = Literal["accepted", "rejected", "duplicate"]

# Files an office PC leaves beside documents that are plainly not returns.
_LITTER_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
_LITTER_PREFIXES = ("~$", ".~lock.", "._", "~wrl")


@dataclass
class FileResult:
    """What happened to one file — the row of the ingest report and of ``--json``."""

    file: str
    sha256: str
    outcome: Outcome
    unit: str | None
    attachment: str | None
    received_at: dt.datetime
    problems: list[Problem] = field(default_factory=list)

    def as_json(self) -> dict:
        return {
            "file": self.file,
            "sha256": self.sha256,
            "outcome": self.outcome,
            "unit": self.unit,
            "attachment": self.attachment,
            "received_at": self.received_at.isoformat(),
            "problems": [p.as_dict() for p in self.problems],
        }

    @property
    def errors(self) -> int:
        return sum(p.severity == "error" for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(p.severity == "warning" for p in self.problems)


def is_litter(path: Path) -> bool:
    name = path.name.lower()
    return name in _LITTER_NAMES or name.startswith(_LITTER_PREFIXES)


def expand_paths(arguments: Iterable[str]) -> tuple[list[Path], list[Path]]:
    """Files to ingest and litter skipped, from files, folders (walked) and glob patterns —
    expanded here too, since Windows shells do not. A name that matches nothing is a usage error."""
    files: list[Path] = []
    skipped: list[Path] = []
    missing: list[str] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            candidates = sorted(_walk(path))
        elif path.exists() or path.is_symlink():
            candidates = [path]
        elif glob.has_magic(argument):
            candidates = sorted(Path(p) for p in glob.glob(argument, recursive=True) if Path(p).is_file())
            if not candidates:
                missing.append(argument)
        else:
            missing.append(argument)
            candidates = []
        for candidate in candidates:
            (skipped if is_litter(candidate) else files).append(candidate)
    if missing:
        raise UsageError(f"找不到文件：{'、'.join(missing)}")
    seen: set[Path] = set()
    unique = []
    for file in files:
        key = file.resolve() if not file.is_symlink() else file.absolute()
        if key not in seen:
            seen.add(key)
            unique.append(file)
    return unique, skipped


def _walk(folder: Path):
    """Every file below ``folder``; symbolic links to folders are not followed (no loops)."""
    for root, _dirs, names in os.walk(folder, followlinks=False):
        for name in names:
            yield Path(root) / name


def parse_received_at(text: str, campaign: Campaign) -> dt.datetime:
    """``--received-at``: ISO date or datetime; without an offset, the campaign's time zone."""
    try:
        value = dt.datetime.fromisoformat(text.strip().replace(" ", "T", 1) if "T" not in text else text.strip())
    except ValueError:
        raise UsageError(f"--received-at 无法识别：{text!r}。请写成 2020-03-13T11:30 或 2020-03-13。") from None
    return value if value.tzinfo else value.replace(tzinfo=campaign.tz)


def ingest_file(path: Path, campaign: Campaign, store: Store | None, received_at: dt.datetime | None = None) -> FileResult:
    """Archive, read, identify, validate and (unless ``store`` is None: a dry run) record one file."""
    name = str(path)
    try:
        stat = path.stat()
        received = received_at or dt.datetime.fromtimestamp(stat.st_mtime, tz=campaign.tz)
        data = path.read_bytes()
    except OSError as exc:
        when = received_at or dt.datetime.now(tz=campaign.tz)
        return FileResult(name, "", "rejected", None, None, when, [problem("file-unreadable", name, detail=_os_reason(exc))])
    sha256 = hashlib.sha256(data).hexdigest()
    if store is not None and store.knows(sha256):
        return FileResult(name, sha256, "duplicate", None, None, received)
    archive_path = store.archive(data, sha256, path.suffix[:16]) if store is not None else ""

    from campaign315.read.package import Unreadable, read_package
    from campaign315.validate.returns import Examination, examine

    try:
        package = read_package(data, path.name)
        exam = examine(package, campaign)
        modified = package.modified
    except Unreadable as exc:
        exam, modified = Examination(problems=[problem(exc.code, path.name, detail=exc.detail)]), None
    except (RecursionError, MemoryError, ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        # A file shaped in a way no reader anticipated: reject it, say so, keep the run going.
        exam, modified = Examination(problems=[problem("file-corrupt", path.name, detail=f"{type(exc).__name__}")]), None
    outcome: Outcome = "accepted" if exam.accepted else "rejected"
    unit = exam.unit.name if exam.unit else None
    result = FileResult(name, sha256, outcome, unit, exam.attachment, received, exam.problems)
    if store is not None:
        recorded = store.record(NewReturn(
            campaign=campaign.id, sha256=sha256, filename=path.name, source_path=str(path.absolute()),
            archive_path=archive_path, unit=unit, attachment=exam.attachment, outcome=outcome,
            received_at=received, document_modified=modified, problems=exam.problems,
            form=exam.form if outcome == "accepted" else exam.form,
        ))
        if recorded is None:
            result.outcome = "duplicate"
    return result


def ingest(
    files: list[Path],
    campaign: Campaign,
    store: Store | None,
    received_at: dt.datetime | None = None,
    advance: Callable[[FileResult], None] = lambda _: None,
) -> list[FileResult]:
    results = []
    for path in files:
        result = ingest_file(path, campaign, store, received_at)
        results.append(result)
        advance(result)
    return results


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "没有读取权限"
    if isinstance(exc, IsADirectoryError):
        return "这是一个文件夹"
    if isinstance(exc, FileNotFoundError):
        return "文件不存在（可能是失效的快捷方式）"
    return exc.strerror or type(exc).__name__
