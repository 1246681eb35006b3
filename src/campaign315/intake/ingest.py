"""``c315 ingest``: returned files → archive → read → identify → validate → store.

Each file is handled on its own: a broken file is a rejected return with a located problem,
never a reason to stop the run — not even one that crashes the reader: reading and validating run
in worker processes (:mod:`campaign315.common.pool`), under a memory limit, and a worker that dies
costs only the file it was reading (``reader-crashed``). The exact bytes are archived before
anything parses them. This process alone writes the store, in batches (one transaction per
:data:`BATCH_FILES` returns or :data:`BATCH_SECONDS`, each return in it whole or not at all), and
hands each result on as soon as its batch is committed, keeping none of them.

What does stop a run — a full disk, a store another program holds, Ctrl-C — stops it between two
batches: every return recorded is whole, the rest are recorded by running the same command again.
"""

from __future__ import annotations

import datetime as dt
import errno
import glob
import hashlib
import os
import re
import stat
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NamedTuple

from campaign315.common import faults
from campaign315.common.errors import StoreProblem, UsageError, refused_reason
from campaign315.common.pool import IDLE, Crashed, Pool, cores
from campaign315.intake.validate.returns import Examination, FileExamination
from campaign315.spec.campaign import Campaign
from campaign315.spec.location import Location
from campaign315.spec.problems import Code, Problem, problem
from campaign315.store import Archive, NewReturn, ReturnRows, Store, rows_of

Outcome = Literal["accepted", "rejected", "duplicate"]

BATCH_FILES = 64
"""Returns recorded in one transaction, at most."""
BATCH_SECONDS = 0.25
"""How long a result may wait to be recorded (and shown) while its batch fills."""
PARALLEL_FROM = 32
"""From this many files on, one worker per core reads them; below, one worker does."""
WORKER_MEMORY = 1 << 30
"""Address space a reading worker may take beyond what it starts with: a file that makes a reader
allocate more is a crashed reader (``reader-crashed``), not a machine out of memory."""

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


def is_litter(path: Path | str) -> bool:
    name = os.path.basename(path).lower()
    return name in _LITTER_NAMES or name.startswith(_LITTER_PREFIXES)


def expand_paths(arguments: Iterable[str]) -> tuple[list[str], list[str]]:
    """Files to ingest and litter skipped, from files, folders (walked) and glob patterns —
    expanded here too, since Windows shells do not. A name that matches nothing is a usage error.

    Paths are kept as text, not :class:`~pathlib.Path` objects: a folder of ten thousand returns
    is a list of ten thousand strings (a third of the memory), made into a Path by the worker
    that reads each."""
    arguments = list(arguments)
    files: list[str] = []
    skipped: list[str] = []
    missing: list[str] = []
    for argument in arguments:
        if os.path.isdir(argument):
            candidates = sorted(_walk(argument))
        elif os.path.lexists(argument):
            candidates = [argument]
        elif glob.has_magic(argument):
            candidates = sorted(p for p in glob.glob(argument, recursive=True) if os.path.isfile(p))
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
    if len(arguments) == 1 and not glob.has_magic(arguments[0]):  # one file, or one folder walked without
        return files, skipped                                           # following links: no file twice
    seen: set[str] = set()
    unique = []
    for file in files:
        key = str(Path(file).absolute()) if os.path.islink(file) else os.path.realpath(file)
        if key not in seen:
            seen.add(key)
            unique.append(file)
    return unique, skipped


def _walk(folder: str):
    """Every file below ``folder``; symbolic links to folders are not followed (no loops)."""
    for root, _dirs, names in os.walk(folder, followlinks=False):
        for name in names:
            yield os.path.join(root, name)


def parse_received_at(text: str, campaign: Campaign) -> dt.datetime:
    """``--received-at``: ISO date or datetime; without an offset, the campaign's time zone."""
    try:
        value = dt.datetime.fromisoformat(text.strip().replace(" ", "T", 1) if "T" not in text else text.strip())
    except ValueError:
        raise UsageError(f"--received-at 无法识别：{text!r}。请写成 2020-03-13T11:30 或 2020-03-13。") from None
    return campaign.localize(value)


# --- one file ----------------------------------------------------------------------------------


class Examined(NamedTuple):
    """One file — or one member of a zip — read and validated, before anything is written to the
    store: the file as shown (``a.zip!m.xlsx`` for a member), the rows the store will keep for each
    of its returns (one per form found in it), where each form is, and the sheets or tables that
    hold no form — all plain data, cheap to hand from a worker process. A file that could not be
    read at all gives one return with an empty ``sha256`` (nothing is kept); a file the store knew
    gives one with outcome ``duplicate`` (it was not read again)."""

    file: str
    returns: tuple[ReturnRows, ...]
    places: tuple[Location | None, ...]
    ignored: tuple[Location, ...] = ()


def ingest_file(path: Path | str, campaign: Campaign, store: Store | None, received_at: dt.datetime | None = None) -> list[FileResult]:
    """Archive, read, identify, validate and (unless ``store`` is None: a dry run) record one file,
    in this process: one result per return found in it (a zip: per return in each of its members),
    all recorded in one transaction. (:func:`ingest` reads in worker processes, so a reader crash
    costs one file.)"""
    archive = store.archive if store is not None else None
    known = (lambda sha256: store.knows(sha256, campaign.id)) if store is not None else None
    examined = _examine(path, campaign, archive, received_at, known=known)
    return _record(examined, store)


def _examine(path: Path | str, campaign: Campaign, archive: Archive | None, received_at: dt.datetime | None,
             known: Callable[[str], bool] | None = None, crashed: Crashed | None = None) -> list[Examined]:
    """Read the bytes once, then examine them — or, for a zip of files, each member as if it were
    a file beside the zip. ``known`` says whether the identical file was recorded before (it is
    not parsed again); ``crashed`` says a reader already died on this file (it is archived and
    rejected, not parsed again)."""
    from campaign315.intake.read.zipparts import Unreadable
    from campaign315.intake.read.zipped import SEPARATOR, is_archive, members, open_if_zip

    path = Path(path)
    name = shown(path.name)
    try:
        data, mtime = _read_return(path)
        if crashed is None:
            faults.reached("file-read", path.name)
        received = received_at or _from_mtime(mtime, campaign)
    except _TooLarge as exc:
        when = received_at or dt.datetime.now(tz=campaign.tz)
        return [_unread(path, campaign, when, _failed(Code.FILE_TOO_LARGE, Location.file(name), f"{exc.size / 1024 / 1024:.0f} MB"))]
    except OSError as exc:
        when = received_at or dt.datetime.now(tz=campaign.tz)
        return [_unread(path, campaign, when, _failed(Code.FILE_UNREADABLE, Location.file(shown(str(path))), _os_reason(exc)))]
    if crashed is not None:  # the whole file (a zip with all its members) is what the reader died on
        found = _failed(Code.READER_CRASHED, Location.file(name), crashed.cause)
        return [_examine_bytes(path, data, name, "", received, campaign, archive, known, found=found)]
    faults.reached("reading", path.name)
    opened = open_if_zip(data)  # its directory read once, for both questions: a zip of files? which package?
    if is_archive(data, opened):
        try:
            inside = members(data, name)
        except Unreadable as exc:
            return [_examine_bytes(path, data, name, "", received, campaign, archive, known, refused=exc)]
        return [_examine_bytes(path, member.data, member.name, member.name[len(name) + len(SEPARATOR):], received,
                               campaign, archive, known, too_deep=member.too_deep) for member in inside]
    return [_examine_bytes(path, data, name, "", received, campaign, archive, known, opened=opened)]


def _examine_bytes(path: Path, data: bytes, name: str, inside: str, received: dt.datetime, campaign: Campaign,
                   archive: Archive | None, known: Callable[[str], bool] | None, refused: Exception | None = None,
                   too_deep: bool = False, found: FileExamination | None = None, opened=None) -> Examined:
    """Archive the bytes (unless a dry run), then read and validate them — unless ``known`` says
    the identical file was recorded before: then it is not parsed again. ``found``: what the file
    is already known to hold (a crashed reader's rejection); ``opened``: the zip already opened
    on ``data``, if it is one."""
    from campaign315.intake.read.package import read_package
    from campaign315.intake.read.zipparts import Unreadable
    from campaign315.intake.validate.returns import examine

    whole = Location.file(name)
    sha256 = hashlib.sha256(data).hexdigest()
    if known is not None and known(sha256):
        return _unkept(path, inside, campaign, received, sha256=sha256, outcome="duplicate")
    archive_key = archive.put(data, sha256, Path(inside or name).suffix) if archive is not None else ""
    modified = None
    if found is None:
        try:
            if refused is not None:
                raise refused
            if too_deep:
                found = _failed(Code.ZIP_TOO_DEEP, whole, value=inside)
            else:
                package = read_package(data, name, opened)
                found, modified = examine(package, campaign), package.modified
        except Unreadable as exc:
            found = _failed(exc.code, whole, exc.detail)
        except (RecursionError, MemoryError, ValueError, KeyError, IndexError, TypeError, AttributeError, OverflowError) as exc:
            # A file shaped in a way no reader anticipated: reject it, say so, keep the run going.
            found = _failed(Code.FILE_CORRUPT, whole, type(exc).__name__)
    return _examined(path, inside, campaign, sha256, archive_key, received, modified, found)


def _examined(path: Path, inside: str, campaign: Campaign, sha256: str, archive_key: str, received: dt.datetime,
              modified: dt.datetime | None, found: FileExamination) -> Examined:
    """The rows of each return a file (or zip member) holds, as the store will keep them."""
    from campaign315.intake.read.zipped import SEPARATOR

    within = f"{SEPARATOR}{inside}" if inside else ""
    rows = tuple(rows_of(NewReturn(
        campaign=campaign.id, sha256=sha256, filename=shown(path.name) + within,
        source_path=shown(str(path.absolute())) + within, archive_key=archive_key,
        unit=exam.unit.name if exam.unit else None, attachment=exam.attachment,
        outcome="accepted" if exam.accepted else "rejected", received_at=received, document_modified=modified,
        problems=exam.problems, form=exam.form, place=str(exam.place) if exam.place else ""))
        for exam in found.returns)
    return Examined(shown(str(path)) + within, rows, tuple(exam.place for exam in found.returns), tuple(found.ignored))


def _unread(path: Path, campaign: Campaign, when: dt.datetime, found: FileExamination) -> Examined:
    """A file whose bytes could not be read: nothing is kept (no SHA-256)."""
    return _examined(path, "", campaign, "", "", when, None, found)


def _unkept(path: Path, inside: str, campaign: Campaign, when: dt.datetime, sha256: str, outcome: str) -> Examined:
    """A file known to the store already: not read, not recorded again."""
    from campaign315.intake.read.zipped import SEPARATOR

    within = f"{SEPARATOR}{inside}" if inside else ""
    rows = ReturnRows(campaign.id, sha256, shown(path.name) + within, shown(str(path.absolute())) + within, "", None,
                      None, outcome, when, None, "", "", (), None, None)
    return Examined(shown(str(path)) + within, (rows,), (None,))


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


class _Uploaded:
    """A file handed in through ``c315 serve``, where the examination expects a path: only its
    name is ever used — shown, and recorded as where it came from — never opened."""

    def __init__(self, name: str):
        self.name = name

    def __str__(self) -> str:
        return self.name

    def absolute(self) -> str:
        return f"（网页上传）{self.name}"


def ingest_upload(data: bytes, name: str, campaign: Campaign, store: Store | None, received_at: dt.datetime,
                  unit: str | None = None) -> list[FileResult]:
    """One file handed in through ``c315 serve`` (its bytes and the name the browser gave), as
    :func:`ingest_file` would take it: one result per return. The name is only shown, never used
    as a path (only its last part is kept). With ``unit`` (a department's own link), a file holding
    any other unit's return — or one whose unit cannot be told — is rejected whole with
    ``unit-mismatch`` and stored nowhere, not even in the archive. ``store`` None: a check only."""
    from campaign315.intake.read.zipparts import MAX_FILE_BYTES, Unreadable
    from campaign315.intake.read.zipped import SEPARATOR, is_archive, members

    name = shown(re.split(r"[/\\]", name or "")[-1].strip()) or "上传的文件"
    upload = _Uploaded(name)
    if len(data) > MAX_FILE_BYTES:
        found = _failed(Code.FILE_TOO_LARGE, Location.file(name), f"{len(data) / 1024 / 1024:.0f} MB")
        return _record([_unread(upload, campaign, received_at, found)], None)

    def examined(archive: Archive | None, known: Callable[[str], bool] | None) -> list[Examined]:
        if is_archive(data):
            try:
                inside = members(data, name)
            except Unreadable as exc:
                return [_examine_bytes(upload, data, name, "", received_at, campaign, archive, known, refused=exc)]
            return [_examine_bytes(upload, member.data, member.name, member.name[len(name) + len(SEPARATOR):],
                                   received_at, campaign, archive, known, too_deep=member.too_deep) for member in inside]
        return [_examine_bytes(upload, data, name, "", received_at, campaign, archive, known)]

    if unit is not None:
        looked = _record(examined(None, None), None)
        if any(r.unit != unit for r in looked if r.outcome != "duplicate"):
            for r in looked:
                if r.unit is not None and r.unit != unit:
                    r.problems = [*r.problems, problem(Code.UNIT_MISMATCH, r.place or Location.file(name), r.unit,
                                                       detail=unit)]
                r.outcome = "rejected"
            return looked
        if store is None:
            return looked
    if store is None:
        return _record(examined(None, None), None)
    return _record(examined(store.archive, lambda sha256: store.knows(sha256, campaign.id)), store)


def _record(batch: list[Examined], store: Store | None) -> list[FileResult]:
    """Write a batch of examined files to the store (one transaction; each file — all its
    returns — whole or not at all); say what happened to each return. A file already recorded —
    before, or earlier in this batch — is a duplicate (one result for it)."""
    kept = [rows for e in batch for rows in e.returns if rows.sha256 and rows.outcome != "duplicate"]
    ids = iter(store.record_rows(kept) if store is not None and kept else [0] * len(kept))
    results = []
    for examined in batch:
        first = examined.returns[0]
        duplicate = first.outcome == "duplicate"
        if first.sha256 and not duplicate:
            duplicate = any([next(ids) is None for _ in examined.returns])  # a file is recorded whole or not at all
        if duplicate:
            results.append(FileResult(examined.file, first.sha256, "duplicate", None, None, first.received_at))
            continue
        ignored = list(examined.ignored)
        for rows, place in zip(examined.returns, examined.places, strict=True):
            results.append(FileResult(examined.file, rows.sha256, rows.outcome, rows.unit, rows.attachment,
                                      rows.received_at, rows.problem_records(), place, ignored))
    return results


# --- many files --------------------------------------------------------------------------------


def ingest(
    files: Sequence[Path | str],
    campaign: Campaign,
    store: Store | None,
    received_at: dt.datetime | None = None,
    advance: Callable[[FileResult], None] = lambda _: None,
    workers: int | None = None,
) -> list[FileResult]:
    """Ingest files in order and return every result, one per return found (``advance`` is told
    each); see :func:`each_ingested`, which keeps none: the command line uses that."""
    results = []
    for result in each_ingested(files, campaign, store, received_at, workers):
        results.append(result)
        advance(result)
    return results


def each_ingested(
    files: Sequence[Path | str],
    campaign: Campaign,
    store: Store | None,
    received_at: dt.datetime | None = None,
    workers: int | None = None,
    committed: Callable[[], None] = lambda: None,
) -> Iterator[FileResult]:
    """Ingest files, yielding each one's result, in the order given, as soon as it is recorded.

    Reading and validating run in ``workers`` processes (default: one per core, fewer for a few
    files); this process alone writes the store, a batch at a time. A fault of the store
    (:class:`StoreProblem`) ends the run between two batches, its message saying how many files
    were recorded; Ctrl-C does the same (``KeyboardInterrupt``), the workers stopped first.
    ``committed`` is called after the results of each batch are yielded (the console shows them
    then, a batch at a time)."""
    done = [0]  # files whose batch was committed (or, in a dry run, examined)
    try:
        yield from _each_in_pool(files, campaign, store, received_at, workers, committed, done)
    except StoreProblem as exc:
        recorded = f"本次收表在出错前已处理 {done[0]} 个文件（共 {len(files)} 个）。" if done[0] else ""
        raise StoreProblem(f"{exc}{recorded}{not_recorded(files[done[0]:])}") from None


def not_recorded(files: Sequence[Path | str], shown_at_most: int = 20) -> str:
    """The files a stopped run did not record, named (the first ``shown_at_most``)."""
    if not files:
        return ""
    names = "、".join(shown(str(path)) for path in files[:shown_at_most])
    more = f" 等（共 {len(files)} 个）" if len(files) > shown_at_most else ""
    return f"以下 {len(files)} 个文件没有入库：{names}{more}。"


def _each_in_pool(files, campaign, store, received_at, workers, committed, done) -> Iterator[FileResult]:
    import campaign315.intake.read.docx  # noqa: F401  — loaded once here, inherited by forked workers
    import campaign315.intake.read.xlsx  # noqa: F401
    import campaign315.intake.validate.returns  # noqa: F401

    workers = workers or (cores() if len(files) >= PARALLEL_FROM else 1)
    archive = store.archive if store is not None else None
    batch: list[Examined] = []
    size, started, paths = 0, 0.0, 0
    # Workers are forked on Linux (they inherit the loaded modules) and spawned on Windows (each
    # gets the campaign, the archive and the time as its setup's arguments, pickled).
    with Pool(_examine_in_worker, workers, setup=_worker_start, setup_args=(campaign, archive, received_at),
              memory_limit=WORKER_MEMORY) as pool:
        for item in pool.map(files, idle=BATCH_SECONDS):
            if item is not IDLE:
                path, examined = item
                if isinstance(examined, Crashed):  # the reader died on this file: keep it, reject it, go on
                    examined = _examine(path, campaign, archive, received_at, crashed=examined)
                if not batch:
                    started = time.monotonic()
                batch.extend(examined)  # a file's returns all go in one batch: recorded together
                paths += 1
                size += sum(len(e.returns) for e in examined)
                if size < BATCH_FILES and time.monotonic() - started < BATCH_SECONDS:
                    continue
            if batch:
                yield from _record(batch, store)
                done[0] += paths
                committed()
                batch, size, paths = [], 0, 0
        yield from _record(batch, store)
        done[0] += paths
        committed()


_worker_args: tuple = ()


def _worker_start(campaign: Campaign, archive: Archive | None, received_at: dt.datetime | None) -> None:
    global _worker_args
    _worker_args = (campaign, archive, received_at)


def _examine_in_worker(path: Path | str) -> list[Examined]:
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
