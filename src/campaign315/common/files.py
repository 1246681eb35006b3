"""Files: where the folders shipped with c315 are, writing so that no reader ever sees half a file,
and names from data made safe as one path component."""

from __future__ import annotations

import itertools
import os
import re
import tempfile
from pathlib import Path

from campaign315.common.errors import refused_reason

CAMPAIGN_FILE = "campaign.toml"
"""A workspace's own campaign, beside its ``templates/`` (else the shipped one is used)."""
STORE_DIR = ".c315"
"""Where a workspace keeps its store (the database and the archive)."""


def shipped(name: str) -> Path:
    """A folder shipped with c315 (``data`` or ``templates``): inside the wheel, or the checkout."""
    package = Path(__file__).resolve().parents[1]
    inside_wheel = package / "_shipped" / name
    return inside_wheel if inside_wheel.is_dir() else package.parents[1] / name


_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def write_atomically(path: Path, data: bytes, durable: bool = False, folder_exists: bool = False) -> None:
    """Write to a temporary file beside ``path``, then rename: no reader ever sees half a file,
    whenever the process is killed. A ``PermissionError`` names ``path``, not the temporary file,
    and says in Chinese that it may be open in another program (Excel, WPS). ``durable`` also
    flushes to disk before the rename (power loss); it costs a few milliseconds a file.
    ``folder_exists`` skips making ``path``'s folder."""
    if not folder_exists:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _temporary_beside(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        try:
            os.replace(tmp, path)
        except PermissionError as exc:  # Windows: the old file is open in Excel or WPS
            raise PermissionError(exc.errno, refused_reason(exc, writing=True), str(path)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_written = itertools.count()


def _temporary_beside(path: Path) -> tuple[int, str]:
    """A new file beside ``path`` named ``.c315-….part``, created exclusively and readable by its
    owner only (as ``tempfile.mkstemp`` makes it): this process's id and a counter make the name
    (mkstemp's random names cost more than the write of a small file); a name taken already — a
    leftover of a process with the same id — falls back to mkstemp."""
    tmp = os.path.join(os.path.dirname(path), f".c315-{os.getpid()}-{next(_written)}.part")
    try:
        return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600), tmp
    except FileExistsError:
        return tempfile.mkstemp(dir=os.path.dirname(path), prefix=".c315-", suffix=".part")


def safe_filename(text: str) -> str:
    """A name from data made safe as one path component: no separators, no ``..``.

    >>> safe_filename("../../x"), safe_filename("A/B科")
    ('___x', 'A_B科')
    """
    cleaned = _UNSAFE.sub("_", text).strip(" .")
    cleaned = cleaned.replace("..", "_")
    return cleaned or "_"
