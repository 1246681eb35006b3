"""Named points where a test makes c315 fail the way the world does — killed outright, stopped by
Ctrl-C, out of disk, a reader crashing on one file — at a known moment instead of a moment
guessed by sleeping.

Nothing happens unless the environment names a plan, which only tests do::

    C315_FAULT="return-recorded:3:kill"        # SIGKILL the whole ingest after the 3rd recorded return
    C315_FAULT="in-transaction:120:kill"       # … inside the transaction holding the 120th return
    C315_FAULT="return-recorded:2:pause"       # say so on stderr, then wait: Ctrl-C stops, SIGUSR1 goes on
    C315_FAULT="archive-written:1:no-space"    # the 1st archive write fails as on a full disk
    C315_FAULT="reading:炸弹.xlsx:abort"        # the reader aborts (SIGABRT) on the file named 炸弹.xlsx
    C315_FAULT="reading:巨型.xlsx:exhaust"      # the reader takes memory until refused, then aborts
    C315_FAULT="request:/api/status:raise"     # c315 serve fails inside every request for /api/status

A plan is ``point:when:action``, several joined by commas. ``when`` is a count (the n-th time the
point is reached, counted per process: each pool worker counts its own files and archive writes)
or a name (every time the point is reached for that file, or that request path; the name holds
no ``:`` or ``,``).

The points:

- ``file-read`` — a returned file's bytes were read (in a worker);
- ``archive-written`` — a file's bytes were put in the archive (in a worker);
- ``reading`` — a file's bytes are about to be parsed: where python-calamine and lxml run (in a
  worker), so ``abort`` and ``exhaust`` here are a reader crashing on that file;
- ``in-transaction`` — a return's rows are written, the transaction holding it (its batch) not yet
  committed: a kill here loses the whole batch, which the next run records;
- ``return-recorded`` — the transaction holding a return committed (reached for each return of
  the batch, after the commit);
- ``request`` — ``c315 serve`` is handling an API request (in its handler, named by its path): a
  fault here is a bug or a failure inside the request's handling, which the server must answer
  with its plain 500.

The actions: ``kill`` (SIGKILL the whole ingest, as a power cut or the task manager would),
``pause`` (wait for a signal), ``no-space`` (raise ENOSPC), ``raise`` (raise a RuntimeError, as
a bug in c315 would), ``abort`` (``os.abort()`` in the
process that reached the point, as a native library does on a fatal error), ``exhaust``
(map memory until the system refuses — a worker's ``RLIMIT_AS`` — then abort, as Rust does when
an allocation fails; it gives up without aborting past 64 GiB of untouched maps, so a missing
limit shows as a file that was *not* rejected, never as a machine out of memory).

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

POINTS = frozenset({"file-read", "archive-written", "reading", "in-transaction", "return-recorded", "request"})
ACTIONS = frozenset({"kill", "pause", "no-space", "raise", "abort", "exhaust"})
FAILED = "c315-fault: raised at"
"""The start of the message of the error ``raise`` raises (a test looks for it in a log, and
makes sure no answer shows it)."""


def _plan(text: str) -> dict[str, tuple[int | str, str]]:
    plan = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        point, when, action = part.split(":")
        if point not in POINTS or action not in ACTIONS:
            raise ValueError(f"{ENVIRONMENT}: unknown point or action in {part!r}")
        plan[point] = (int(when) if when.isdigit() else when, action)
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


def reached(point: str, name: str | None = None) -> None:
    """Mark that the code passed ``point`` (for the file called ``name``, where there is one);
    carry out the plan's fault when its moment comes."""
    if not _PLAN or point not in _PLAN:
        return
    when, action = _PLAN[point]
    if isinstance(when, str):
        if name != when:
            return
    else:
        _reached[point] += 1
        if _reached[point] != when:
            return
    if action == "kill":  # the whole ingest, as a power cut or the task manager would end it
        os.kill(int(os.environ.get(ROOT, os.getpid())), _KILL)
        os.kill(os.getpid(), _KILL)
    elif action == "pause":
        resumed = []
        go_on = getattr(signal, "SIGUSR1", None)  # none on Windows: only a stop ends the wait there
        previous = signal.signal(go_on, lambda *_: resumed.append(True)) if go_on else None
        sys.stderr.write(f"{PAUSED} {point} {when}\n")
        sys.stderr.flush()
        try:
            while not resumed:  # Ctrl-C (KeyboardInterrupt) ends the wait as a stop; SIGUSR1 as "go on"
                _wait_for_a_signal()
        finally:
            if go_on:
                signal.signal(go_on, previous)
    elif action == "no-space":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    elif action == "raise":
        raise RuntimeError(f"{FAILED} {point} {when}")
    elif action == "abort":
        os.abort()
    elif action == "exhaust":
        _exhaust()


def _exhaust() -> None:
    import mmap

    hoard = []
    try:  # 64 GiB in 64 MiB maps, never touched: address space (what RLIMIT_AS counts), not memory
        for _ in range(64 * 16):
            hoard.append(mmap.mmap(-1, 64 << 20))
    except (MemoryError, OSError):
        os.abort()
    finally:
        for piece in hoard:
            piece.close()
