"""``c315 ingest``: returned files → archive → read → identify → validate → store.

Each file is handled on its own: a broken file is a rejected return with a located problem,
never a reason to stop the run. The exact bytes are archived before anything parses them. What
does stop a run — a full disk, a store another program holds, Ctrl-C — stops it between two
files: every return recorded is whole, the rest are recorded by running the same command again.
"""

from __future__ import annotations

import datetime as dt
import errno
import glob
import hashlib
import multiprocessing
import os
import re
import stat
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from campaign315.common import faults
from campaign315.common.errors import StoreProblem, UsageError, refused_reason
from campaign315.intake.validate.returns import Examination, FileExamination
from campaign315.spec.campaign import Campaign
from campaign315.spec.location import Location
from campaign315.spec.problems import Code, Problem, problem
from campaign315.store import Archive, NewReturn, Store

Outcome = Literal["accepted", "rejected", "duplicate"]

# Files an office PC leaves beside documents that are plainly not returns.
_LITTER_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
_LITTER_PREFIXES = ("~$", ".~lock.", "._", "~wrl")


@dataclass
class FileResult:
    """What happened to one return — the row of the ingest report and of ``--json``. A file holding
    several forms (a workbook with both sheets, a zip of files) gives one per form, each with the
    file's name and SHA-256; ``place`` says where in the file its form is."""

    file: str
    sha256: str
    outcome: Outcome
    unit: str | None
    attachment: str | None
    received_at: dt.datetime
    problems: list[Problem] = field(default_factory=list)
    place: Location | None = None
    ignored: list[Location] = field(default_factory=list)
    """The file's sheets or tables that hold something but no form (the same on each of its returns)."""

    def as_json(self) -> dict:
        """The ``--json`` shape documented in README."""
        return {
            "file": self.file,
            "sha256": self.sha256,
            "place": str(self.place) if self.place else None,
            "outcome": self.outcome,
            "unit": self.unit,
            "attachment": self.attachment,
            "received_at": self.received_at.isoformat(),
            "problems": [p.as_dict() for p in self.problems],
        }

    @property
    def errors(self) -> int:
        return sum(p.is_error for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(not p.is_error for p in self.problems)


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
    if not files:
        where = "、".join(str(argument) for argument in arguments)
        litter = f"（只有 {len(skipped)} 个临时文件或系统文件，已跳过）" if skipped else ""
        raise UsageError(f"在 {where} 里没有找到任何文件{litter}，没有收到任何报表。请检查文件夹是否选对了。")
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
    return campaign.localize(value)


@dataclass
class Examined:
    """One file — or one member of a zip — read and validated, before anything is written to the store."""

    sha256: str
    received_at: dt.datetime
    archive_key: str
    found: FileExamination
    modified: dt.datetime | None = None
    inside: str = ""
    """For a member of a zip, its name inside (``member.xlsx``, ``inner.zip!member.xlsx``)."""


def ingest_file(path: Path, campaign: Campaign, store: Store | None, received_at: dt.datetime | None = None) -> list[FileResult]:
    """Archive, read, identify, validate and (unless ``store`` is None: a dry run) record one file:
    one result per return found in it (a zip: per return in each of its members)."""
    archive = store.archive if store is not None else None
    known = (lambda sha256: store.knows(sha256, campaign.id)) if store is not None else None
    examined = _examine(path, campaign, archive, received_at, known=known)
    return _record(path, examined, campaign, store)


def _examine(path: Path, campaign: Campaign, archive: Archive | None, received_at: dt.datetime | None,
             known: Callable[[str], bool] | None = None) -> list[Examined]:
    """Read the bytes once, then examine them — or, for a zip of files, each member as if it were
    a file beside the zip."""
    from campaign315.intake.read.zipparts import Unreadable
    from campaign315.intake.read.zipped import SEPARATOR, is_archive, members

    name = shown(path.name)
    try:
        data, mtime = _read_return(path)
        faults.reached("file-read")
        received = received_at or _from_mtime(mtime, campaign)
    except _TooLarge as exc:
        when = received_at or dt.datetime.now(tz=campaign.tz)
        return [Examined("", when, "", _failed(Code.FILE_TOO_LARGE, Location.file(name), f"{exc.size / 1024 / 1024:.0f} MB"))]
    except OSError as exc:
        when = received_at or dt.datetime.now(tz=campaign.tz)
        return [Examined("", when, "", _failed(Code.FILE_UNREADABLE, Location.file(shown(str(path))), _os_reason(exc)))]
    if is_archive(data):
        try:
            found = members(data, name)
        except Unreadable as exc:
            return [_examine_bytes(data, name, "", received, campaign, archive, known, refused=exc)]
        return [_examine_bytes(member.data, member.name, member.name[len(name) + len(SEPARATOR):], received, campaign,
                               archive, known, too_deep=member.too_deep) for member in found]
    return [_examine_bytes(data, name, "", received, campaign, archive, known)]


def _examine_bytes(data: bytes, name: str, inside: str, received: dt.datetime, campaign: Campaign,
                   archive: Archive | None, known: Callable[[str], bool] | None, refused: Exception | None = None,
                   too_deep: bool = False) -> Examined:
    """Archive the bytes (unless a dry run), then read and validate them — unless ``known`` says
    the identical file was recorded before: then it is not parsed again."""
    from campaign315.intake.read.package import read_package
    from campaign315.intake.read.zipparts import Unreadable
    from campaign315.intake.validate.returns import examine

    whole = Location.file(name)
    sha256 = hashlib.sha256(data).hexdigest()
    if known is not None and known(sha256):
        return Examined(sha256, received, "", FileExamination([]), inside=inside)  # _record calls it a duplicate
    archive_key = archive.put(data, sha256, Path(inside or name).suffix) if archive is not None else ""
    try:
        if refused is not None:
            raise refused
        if too_deep:
            return Examined(sha256, received, archive_key, _failed(Code.ZIP_TOO_DEEP, whole, value=inside), inside=inside)
        package = read_package(data, name)
        return Examined(sha256, received, archive_key, examine(package, campaign), package.modified, inside)
    except Unreadable as exc:
        return Examined(sha256, received, archive_key, _failed(exc.code, whole, exc.detail), inside=inside)
    except (RecursionError, MemoryError, ValueError, KeyError, IndexError, TypeError, AttributeError, OverflowError) as exc:
        # A file shaped in a way no reader anticipated: reject it, say so, keep the run going.
        return Examined(sha256, received, archive_key, _failed(Code.FILE_CORRUPT, whole, type(exc).__name__), inside=inside)


def _failed(code: Code, where: Location, detail: str = "", value: str = "") -> FileExamination:
    """A file that could not be read as a return: one rejected examination saying why."""
    return FileExamination([Examination(problems=[problem(code, where, value, detail=detail)])])


class _TooLarge(Exception):
    def __init__(self, size: int):
        super().__init__(size)
        self.size = size


def _read_return(path: Path) -> tuple[bytes, float]:
    """A returned file's bytes and modification time — read only when it is a regular file of a
    sane size. A FIFO would block for ever, ``/dev/zero`` never end, and a 3 GB file fill memory
    before any limit on its content is checked. Opened without blocking, then checked on the
    open handle, so nothing can be swapped in between."""
    from campaign315.intake.read.zipparts import MAX_FILE_BYTES

    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    with os.fdopen(fd, "rb") as handle:
        status = os.fstat(handle.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise _NotARegularFile(path)
        if status.st_size > MAX_FILE_BYTES:
            raise _TooLarge(status.st_size)
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:  # grew while being read
        raise _TooLarge(len(data))
    return data, status.st_mtime


class _NotARegularFile(OSError):
    pass


def _from_mtime(mtime: float, campaign: Campaign) -> dt.datetime:
    """When a file was received, from its modification time; now, when that time is absurd (a
    file system may hold year 31,690,708, which no datetime can)."""
    try:
        return dt.datetime.fromtimestamp(mtime, tz=campaign.tz)
    except (ValueError, OverflowError, OSError):
        return dt.datetime.now(tz=campaign.tz)


def shown(text: str) -> str:
    r"""A file name as text that can be stored, printed and written into a workbook. A name that
    is not UTF-8 (bytes from another system, often GBK from a Chinese Windows zip) reaches Python
    as lone surrogates, which SQLite and the console refuse: it is read as GB18030 if it is that,
    else with � for each byte that is not UTF-8. Control characters (a terminal escape, a bell)
    become � too. Each part of a path is decoded on its own.

    >>> shown("办公室.xlsx"), shown("统计/\udcb0\udcec.xlsx"), shown("a\udcff.xlsx"), shown("a\x1b[31m.xlsx")
    ('办公室.xlsx', '统计/办.xlsx', 'a�.xlsx', 'a�[31m.xlsx')
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = "".join(_decoded(part) for part in re.split(r"([/\\])", text))
    return _CONTROL.sub("\ufffd", text)


def _decoded(part: str) -> str:
    try:
        part.encode("utf-8")
        return part
    except UnicodeEncodeError:
        raw = part.encode("utf-8", "surrogateescape" if _only_escapes(part) else "surrogatepass")
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _only_escapes(text: str) -> bool:
    return all(not "\ud800" <= c <= "\udfff" or "\udc80" <= c <= "\udcff" for c in text)


def _record(path: Path, examined: list[Examined], campaign: Campaign, store: Store | None) -> list[FileResult]:
    """Write what one file held to the store; say what happened to each of its returns."""
    results: list[FileResult] = []
    for one in examined:
        results.extend(_record_one(path, one, campaign, store))
    return results


def _record_one(path: Path, examined: Examined, campaign: Campaign, store: Store | None) -> list[FileResult]:
    """Write the returns of one file (or zip member) to the store, in one transaction."""
    from campaign315.intake.read.zipped import SEPARATOR

    inside = f"{SEPARATOR}{examined.inside}" if examined.inside else ""
    name = shown(str(path)) + inside
    found = examined.found
    if not examined.sha256:
        return [FileResult(name, "", "rejected", None, None, examined.received_at, exam.problems) for exam in found.returns]
    if store is not None and store.knows(examined.sha256, campaign.id) or not found.returns:
        return [FileResult(name, examined.sha256, "duplicate", None, None, examined.received_at)]
    results = [
        FileResult(name, examined.sha256, "accepted" if exam.accepted else "rejected", exam.unit.name if exam.unit else None,
                   exam.attachment, examined.received_at, exam.problems, exam.place, found.ignored)
        for exam in found.returns
    ]
    if store is not None:
        recorded = store.record_returns([
            NewReturn(
                campaign=campaign.id, sha256=examined.sha256, filename=shown(path.name) + inside,
                source_path=shown(str(path.absolute())) + inside, archive_key=examined.archive_key, unit=result.unit,
                attachment=exam.attachment, outcome=result.outcome, received_at=examined.received_at,
                document_modified=examined.modified, problems=exam.problems, form=exam.form,
                place=str(exam.place) if exam.place else "",
            )
            for exam, result in zip(found.returns, results, strict=True)
        ])
        if recorded is None:
            for result in results:
                result.outcome = "duplicate"
    return results


def ingest(
    files: list[Path],
    campaign: Campaign,
    store: Store | None,
    received_at: dt.datetime | None = None,
    advance: Callable[[list[FileResult]], None] = lambda _: None,
    workers: int | None = None,
) -> list[FileResult]:
    """Ingest files in order: one result per return found (``advance`` is told each file's). With
    many files, reading and validating run in a pool of worker processes (one per core); this
    process alone writes the store.

    A fault of the store (:class:`StoreProblem`) ends the run between two files, its message saying
    how many were recorded; Ctrl-C does the same (``KeyboardInterrupt``), the pool stopped first."""
    workers = workers if workers is not None else (os.cpu_count() or 1) if len(files) >= PARALLEL_FROM else 1
    results: list[FileResult] = []
    processed = 0

    def step(found: list[FileResult]) -> None:
        nonlocal processed
        processed += 1
        advance(found)

    try:
        if workers <= 1:
            for path in files:
                found = ingest_file(path, campaign, store, received_at)
                results.extend(found)
                step(found)
        else:
            _ingest_in_pool(files, campaign, store, received_at, step, workers, results)
    except StoreProblem as exc:
        done = f"本次收表在出错前已处理 {processed} 个文件（共 {len(files)} 个）。" if processed else ""
        raise StoreProblem(f"{exc}{done}{not_recorded(files[processed:])}") from None
    return results


def not_recorded(files: list[Path], shown_at_most: int = 20) -> str:
    """The files a stopped run did not record, named (the first ``shown_at_most``)."""
    if not files:
        return ""
    names = "、".join(shown(str(path)) for path in files[:shown_at_most])
    more = f" 等（共 {len(files)} 个）" if len(files) > shown_at_most else ""
    return f"以下 {len(files)} 个文件没有入库：{names}{more}。"


def _ingest_in_pool(files, campaign, store, received_at, advance, workers, results) -> None:
    from concurrent.futures import ProcessPoolExecutor

    import campaign315.intake.read.docx  # noqa: F401  — loaded once here, inherited by forked workers
    import campaign315.intake.read.xlsx  # noqa: F401
    from campaign315.common.pools import pool_context

    # Linux forks: workers inherit the loaded modules and start in milliseconds. c315 runs no
    # threads (the progress bar refreshes on each file, not from a thread), so forking is safe.
    # Windows spawns: each worker imports c315 and gets its arguments pickled (initargs).
    context = pool_context()
    archive = store.archive if store is not None else None
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_start,
                               initargs=(campaign, archive, received_at, os.getpid()))
    try:
        chunks = max(1, min(64, len(files) // (workers * 8)))
        for path, examined in zip(files, pool.map(_examine_in_worker, files, chunksize=chunks), strict=True):
            found = _record(path, examined, campaign, store)
            results.extend(found)
            advance(found)
    except BaseException:
        # Stopped (Ctrl-C, a full disk): the workers' pending files are dropped, not waited for.
        # Nothing is lost: a file is archived before it is recorded, and recorded whole or not at all.
        for worker in multiprocessing.active_children():
            worker.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


PARALLEL_FROM = 100
"""Below this many files a pool costs more to start than it saves."""

_worker_args: tuple = ()


def _worker_start(campaign: Campaign, archive: Archive | None, received_at: dt.datetime | None, parent: int) -> None:
    import signal

    global _worker_args
    _worker_args = (campaign, archive, received_at)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the main process answers it
    _end_with(parent)


def _end_with(parent: int) -> None:
    """Make this worker end when the ingest that started it does, even when that is killed
    outright: SIGKILL runs no clean-up, and the pool's workers would wait on their queue for
    ever. Linux only (prctl PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import signal

    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it was gone before the signal was asked for
        os._exit(1)


def _examine_in_worker(path: Path) -> list[Examined]:
    """In a worker: the file's bytes, archived, and its examination — everything but the record."""
    campaign, archive, received_at = _worker_args
    return _examine(path, campaign, archive, received_at)


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):  # on Windows: open in Excel or WPS (a sharing violation)
        return refused_reason(exc)
    if isinstance(exc, IsADirectoryError):
        return "这是一个文件夹"
    if isinstance(exc, FileNotFoundError):
        return "文件不存在（可能是失效的快捷方式）"
    if isinstance(exc, _NotARegularFile):
        return "不是普通文件"
    if exc.errno == errno.EIO:
        return "读取时出错，可能是磁盘、U 盘或网络共享出了故障"
    return exc.strerror or type(exc).__name__
