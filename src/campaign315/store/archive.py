"""The archive: the exact bytes of every received file, kept once per content and named by their
SHA-256 — written before anything parses them, never changed after. The store owns it; nothing
outside this package knows how it is laid out. A key is an opaque string the store records.

:class:`FolderArchive` keeps them as files under a folder (``archive/ab/abcd….xlsx``); the shared
PostgreSQL store keeps them in its database under the same keys (:class:`ContentKeys`), behind the
same methods.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
from pathlib import Path

from campaign315.common import faults
from campaign315.common.errors import NOTHING_LOST, RERUN, StoreProblem
from campaign315.common.files import write_atomically

_SUFFIX = re.compile(r"\.[a-z0-9]{1,15}")
_TEMPORARY = re.compile(r"\.c315-.*\.part")  # what write_atomically leaves if killed mid-write
_ENTRY = re.compile(r"(?P<sha256>[0-9a-f]{64})(?P<suffix>\.[a-z0-9]{1,15})?")
FULL = (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC))
READ_ONLY = (errno.EACCES, errno.EPERM, errno.EROFS)


def os_failure(exc: OSError, where: str) -> StoreProblem | None:
    """A disk that is full or a folder that cannot be written, said plainly; None for others."""
    if exc.errno in FULL:
        return StoreProblem(f"磁盘已满，无法写入 {where}。{NOTHING_LOST}。请腾出磁盘空间后{RERUN}。")
    if isinstance(exc, PermissionError) or exc.errno in READ_ONLY:
        return StoreProblem(f"没有权限写入 {where}（文件夹只读或属于其他用户）。{NOTHING_LOST}。"
                            f"请换一个可写的工作目录（--workspace），或请管理员开放写权限后{RERUN}。")
    return None


class ContentKeys:
    """How an archive names what it keeps: ``archive/ab/abcd….xlsx`` — the SHA-256 of the content,
    under its first two hex digits, with the file's suffix. Every archive keys alike, so a store
    copied to another backend keeps its keys."""

    @staticmethod
    def key_for(sha256: str, suffix: str = "") -> str:
        """The key of the content with this SHA-256, sent with a file ending in ``suffix``."""
        suffix = suffix.lower() if _SUFFIX.fullmatch(suffix.lower()) else ""
        return f"archive/{sha256[:2]}/{sha256}{suffix}"

    def is_key_of(self, key: str, sha256: str) -> bool:
        """Is ``key`` where the content with this SHA-256 belongs?"""
        named = self.named_sha256(key)
        return named == sha256 and key.startswith(f"archive/{sha256[:2]}/")

    def named_sha256(self, key: str) -> str | None:
        """The SHA-256 a key's name promises, or None when it is not named like an entry."""
        parts = key.split("/")
        match = _ENTRY.fullmatch(parts[-1]) if len(parts) == 3 and parts[0] == "archive" else None
        return match["sha256"] if match and parts[1] == match["sha256"][:2] else None


class FolderArchive(ContentKeys):
    """Files under ``folder``, one per content, in subfolders by the first two hex digits.
    Picklable (it is only its folder), so pool workers archive without the database."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._made: set[str] = set()  # subfolders this process made or found (not pickled: see __getstate__)

    def __getstate__(self) -> dict:
        return {"folder": self.folder}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["folder"])

    def put(self, data: bytes, sha256: str, suffix: str = "") -> str:
        """Keep ``data`` (whose SHA-256 is ``sha256``) and return its key. Written atomically and
        safe from several processes at once: the same content always lands at the same name."""
        key = self.key_for(sha256, suffix)
        target = self.folder / sha256[:2] / key.rsplit("/", 1)[1]
        try:
            if not os.path.exists(target):
                self._write(target, data, sha256[:2])
            faults.reached("archive-written")
        except OSError as exc:
            raise os_failure(exc, f"存档文件夹 {self.folder}") or exc from None
        return key

    def _write(self, target: Path, data: bytes, subfolder: str) -> None:
        """``write_atomically``, with the subfolder made once per process, not looked up per file."""
        if subfolder not in self._made:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(subfolder)
        try:
            write_atomically(target, data, folder_exists=True)
        except FileNotFoundError:  # the subfolder went away meanwhile
            write_atomically(target, data)

    def read(self, key: str) -> bytes:
        """The bytes kept under ``key``; ``OSError`` when they are gone."""
        return self._path(key).read_bytes()

    def keys(self) -> set[str]:
        """Every file in the archive's folder, c315's or not (links to folders not followed)."""
        found = set()
        for root, _dirs, names in os.walk(self.folder):
            for name in names:
                found.add(f"archive/{(Path(root) / name).relative_to(self.folder).as_posix()}")
        return found

    def digest(self, key: str) -> str:
        """The SHA-256 of what ``key`` holds now; "" when it cannot be read."""
        sha = hashlib.sha256()
        try:
            with open(self._path(key), "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    sha.update(block)
        except OSError:
            return ""
        return sha.hexdigest()

    def is_temporary(self, key: str) -> bool:
        """A half-written file that a killed write left behind (never an entry)."""
        return _TEMPORARY.fullmatch(key.rsplit("/", 1)[-1]) is not None

    def _path(self, key: str) -> Path:
        path = self.folder.parent / key
        if not key.startswith("archive/") or ".." in key.split("/"):
            raise FileNotFoundError(errno.ENOENT, "not an archive key", key)
        return path
