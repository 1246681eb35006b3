"""Named points where a test makes c315 fail the way the world does — killed outright, stopped by
Ctrl-C, out of disk — at a known moment instead of a moment guessed by sleeping.

Nothing happens unless the environment names a plan, which only tests do::

    C315_FAULT="return-recorded:3:kill"        # SIGKILL the whole ingest after the 3rd recorded return
    C315_FAULT="in-transaction:120:kill"       # … inside the 120th return's transaction
    C315_FAULT="return-recorded:2:pause"       # say so on stderr, then wait: Ctrl-C stops, SIGUSR1 goes on
    C315_FAULT="archive-written:1:no-space"    # the 1st archive write fails as on a full disk

Counts are per process (each pool worker counts its own archive writes). The points:

- ``file-read`` — a returned file's bytes were read;
- ``archive-written`` — a file's bytes were put in the archive;
- ``in-transaction`` — a return's rows are written, its transaction not yet committed;
- ``return-recorded`` — a return's transaction committed.

The kill and the pause are for tests on Linux; the module imports and its points cost nothing on
Windows too, where a kill ends the process through ``TerminateProcess`` (``SIGTERM`` there) and a
pause waits in short sleeps, which Ctrl-C interrupts, since Windows has no ``signal.pause``.
"""

from __future__ import annotations

import errno
import os
import signal
import sys
import time
from collections import Counter

ENVIRONMENT = "C315_FAULT"
ROOT = "C315_FAULT_ROOT"
PAUSED = "c315-fault: paused at"
"""The line a paused process writes to stderr before it waits (a test waits for it)."""

POINTS = frozenset({"file-read", "archive-written", "in-transaction", "return-recorded"})
ACTIONS = frozenset({"kill", "pause", "no-space"})


def _plan(text: str) -> dict[str, tuple[int, str]]:
    plan = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        point, count, action = part.split(":")
        if point not in POINTS or action not in ACTIONS:
            raise ValueError(f"{ENVIRONMENT}: unknown point or action in {part!r}")
        plan[point] = (int(count), action)
    return plan


_KILL = getattr(signal, "SIGKILL", signal.SIGTERM)  # Windows: os.kill with SIGTERM is TerminateProcess


def _wait_for_a_signal() -> None:
    if hasattr(signal, "pause"):
        signal.pause()
    else:  # Windows
        time.sleep(1)


_PLAN = _plan(os.environ.get(ENVIRONMENT, ""))
_reached: Counter[str] = Counter()
if _PLAN and ROOT not in os.environ:  # the process that started: pool workers inherit this
    os.environ[ROOT] = str(os.getpid())


def reached(point: str) -> None:
    """Mark that the code passed ``point``; carry out the plan's fault when its count comes."""
    if not _PLAN or point not in _PLAN:
        return
    _reached[point] += 1
    count, action = _PLAN[point]
    if _reached[point] != count:
        return
    if action == "kill":  # the whole ingest, as a power cut or the task manager would end it
        os.kill(int(os.environ.get(ROOT, os.getpid())), _KILL)
        os.kill(os.getpid(), _KILL)
    elif action == "pause":
        resumed = []
        go_on = getattr(signal, "SIGUSR1", None)  # none on Windows: only a stop ends the wait there
        previous = signal.signal(go_on, lambda *_: resumed.append(True)) if go_on else None
        sys.stderr.write(f"{PAUSED} {point} {count}\n")
        sys.stderr.flush()
        try:
            while not resumed:  # Ctrl-C (KeyboardInterrupt) ends the wait as a stop; SIGUSR1 as "go on"
                _wait_for_a_signal()
        finally:
            if go_on:
                signal.signal(go_on, previous)
    elif action == "no-space":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
