"""Writing files so that no reader ever sees half of one, and never outside the folder asked for."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')


def write_atomically(path: Path, data: bytes, durable: bool = False) -> None:
    """Write to a temporary file beside ``path``, then rename: no reader ever sees half a file,
    whenever the process is killed. ``durable`` also flushes to disk before the rename (power
    loss); it costs a few milliseconds a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".c315-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def safe_filename(text: str) -> str:
    """A name from data made safe as one path component: no separators, no ``..``.

    >>> safe_filename("../../x"), safe_filename("A/B科")
    ('___x', 'A_B科')
    """
    cleaned = _UNSAFE.sub("_", text).strip(" .")
    cleaned = cleaned.replace("..", "_")
    return cleaned or "_"
