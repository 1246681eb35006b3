"""Work spread over the cores: the one pool of worker processes that ``generate-forms`` and
``ingest`` share.

Each worker holds only a few tasks at a time and does them in order, so when a worker dies — a
reader aborting on a hostile file, a memory limit reached, a signal — the pool knows which task
it was doing. That task comes back as :class:`Crashed`, the tasks queued behind it go to the other
workers, a new worker takes the dead one's place, and the run goes on. (``concurrent.futures``
cannot do this: one dead worker breaks its whole pool.)

Results come back in the order the tasks were given, with a bounded number in flight, so the
memory a run takes does not grow with the number of tasks. Workers ignore Ctrl-C (the process
that started them answers it and stops them), end when that process ends however it ends (Linux),
and may be given a memory limit (``RLIMIT_AS``) so that a blow-up kills only its worker.

How workers start: on Linux a worker is forked — it inherits the loaded modules and starts in
milliseconds. Windows has no fork, so there a worker is spawned — a fresh interpreter that imports
c315 and receives its arguments pickled. Everything a pool hands its workers is therefore passed
explicitly (``setup_args``), never left in a global for a fork to copy. ``C315_START_METHOD=spawn``
makes Linux start workers as Windows does; the tests use it to run the Windows path here.

>>> with Pool(abs, workers=2) as pool:
...     [result for _task, result in pool.map([-1, 2, -3])]
[1, 2, 3]
"""

from __future__ import annotations

import collections
import contextlib
import multiprocessing
import os
import selectors
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from typing import Any

from campaign315.common.errors import C315Error

ENVIRONMENT = "C315_START_METHOD"
METHODS = ("fork", "spawn", "forkserver")


def start_method() -> str:
    """``fork`` on Linux, ``spawn`` elsewhere (Windows, macOS), unless ``C315_START_METHOD`` names one."""
    chosen = os.environ.get(ENVIRONMENT, "").strip()
    if chosen in METHODS and chosen in multiprocessing.get_all_start_methods():
        return chosen
    return "fork" if sys.platform.startswith("linux") else "spawn"


def pool_context() -> BaseContext:
    """The multiprocessing context a c315 pool starts its workers with."""
    return multiprocessing.get_context(start_method())


IDLE = object()
"""What :meth:`Pool.map` yields, with ``idle=`` seconds, when no result arrived for that long."""


def cores() -> int:
    """The cores this process may run on (``taskset`` and container limits included)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Crashed:
    """A task whose worker died while doing it. ``exitcode`` is the worker's exit status, negative
    when a signal ended it (-6: an abort, -9: killed, -11: a crash in native code)."""

    exitcode: int | None

    @property
    def cause(self) -> str:
        """What ended the worker, as the signal's or exit status's name (``SIGABRT``, ``退出码 1``)."""
        if self.exitcode is not None and self.exitcode < 0:
            try:
                return signal.Signals(-self.exitcode).name
            except ValueError:
                return f"信号 {-self.exitcode}"
        return f"退出码 {self.exitcode}"


class WorkersFailed(C315Error):
    """A worker process could not even start (before it was given any task)."""


class _Failed:
    """An exception a task raised in its worker, carried back to be raised where results are read."""

    def __init__(self, error: BaseException):
        self.error = error


_READY = "ready"


class _Worker:
    def __init__(self, process, connection: Connection):
        self.process, self.connection = process, connection
        self.tasks: collections.deque[int] = collections.deque()  # given, not yet answered, in order
        self.ready = False


class Pool:
    """``workers`` processes running ``work(task)``. ``setup(*setup_args)`` runs once in each worker
    before its first task (on Linux the workers are forked, so they also inherit everything this
    process has loaded; where they are spawned, ``work``, ``setup`` and its arguments are pickled). ``memory_limit``: bytes of address space each worker may add to what it has
    when it starts; past it, allocations fail in the worker alone. ``context``: how workers start
    (default :func:`pool_context`). Use as a context manager."""

    def __init__(self, work: Callable[[Any], Any], workers: int, *, setup: Callable[..., None] | None = None,
                 setup_args: tuple = (), memory_limit: int | None = None, queue: int = 8,
                 context: BaseContext | None = None):
        self.work, self.setup, self.setup_args = work, setup, setup_args
        self.size, self.memory_limit, self.queue = max(1, workers), memory_limit, max(1, queue)
        # Linux forks: workers start in milliseconds with every module already loaded. c315 runs no
        # threads (its progress bar refreshes from the main loop), so forking is safe. Windows spawns.
        self._context = context or pool_context()
        self._workers: list[_Worker] = []
        self._selector = selectors.DefaultSelector()  # each worker's pipe and its end, registered once

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, kind, *_exc) -> None:
        self.close(finished=kind is None)

    # --- workers ---

    def _start(self) -> _Worker:
        mine, theirs = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_serve, daemon=True,
            args=(theirs, self.work, self.setup, self.setup_args, self.memory_limit, os.getpid()))
        process.start()
        theirs.close()
        worker = _Worker(process, mine)
        self._workers.append(worker)
        self._selector.register(mine, selectors.EVENT_READ, worker)
        self._selector.register(process.sentinel, selectors.EVENT_READ, worker)
        return worker

    def close(self, finished: bool = True) -> None:
        """Stop every worker: asked to finish when the run is done, ended at once otherwise."""
        for worker in self._workers:
            if finished:
                with contextlib.suppress(OSError):  # already gone
                    worker.connection.send(None)
            else:
                worker.process.kill()
        for worker in self._workers:
            worker.process.join(timeout=None if finished else 5)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
            self._forget(worker)
        self._workers = []
        self._selector.close()

    def _forget(self, worker: _Worker) -> None:
        for handle in (worker.connection, worker.process.sentinel):
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(handle)
        worker.connection.close()

    # --- tasks ---

    def map(self, tasks: Iterable[Any], idle: float | None = None) -> Iterator[Any]:
        """``(task, result)`` for each task, in the order given; ``result`` is what ``work``
        returned, or :class:`Crashed` when its worker died doing it. An exception ``work`` raised
        is raised here, at that task's turn. With ``idle``, :data:`IDLE` is yielded whenever no
        result has come for that many seconds, so the caller can do its own work meanwhile."""
        source = iter(tasks)
        self._waiting: collections.deque[int] = collections.deque()  # not yet given to a worker (again)
        self._given: dict[int, Any] = {}  # index → task, handed out and not yet yielded
        self._done: dict[int, Any] = {}  # index → result, waiting for its turn
        window = self.size * self.queue * 4
        counter = self._turn = 0
        exhausted = False
        while True:
            # Hand out tasks while there is room: a few per worker (in one message), and a bounded
            # number not yet yielded.
            while True:
                worker = self._least_busy()
                if worker is None:
                    break
                handed = []
                while len(worker.tasks) + len(handed) < self.queue:
                    if not self._waiting:
                        if exhausted or len(self._given) >= window:
                            break
                        try:
                            self._given[counter] = next(source)
                        except StopIteration:
                            exhausted = True
                            break
                        self._waiting.append(counter)
                        counter += 1
                    index = self._waiting.popleft()
                    handed.append((index, self._given[index]))
                if not handed:
                    break
                worker.tasks.extend(index for index, _ in handed)
                # If it died, that is found when results are collected, and these tasks handed out again.
                with contextlib.suppress(OSError):
                    worker.connection.send(handed)
            if self._turn in self._done:
                result = self._done.pop(self._turn)
                task = self._given.pop(self._turn)
                self._turn += 1
                if isinstance(result, _Failed):
                    raise result.error
                yield task, result
                continue
            if exhausted and not self._given:
                return
            if not self._collect(idle):
                yield IDLE

    def _least_busy(self) -> _Worker | None:
        while len(self._workers) < self.size:
            self._start()
        worker = min(self._workers, key=lambda w: len(w.tasks))
        return worker if len(worker.tasks) < self.queue else None

    def _collect(self, idle: float | None) -> bool:
        """Wait for results or a worker's death; False when ``idle`` seconds passed with neither."""
        ready = self._selector.select(idle)
        ended = {id(key.data) for key, _events in ready if key.fileobj is key.data.process.sentinel}
        for worker in {id(key.data): key.data for key, _events in ready}.values():
            if not self._receive(worker) or id(worker) in ended:
                self._bury(worker)
        return bool(ready)

    def _receive(self, worker: _Worker) -> bool:
        """Every message the worker has sent; False when its pipe closed (it is gone)."""
        connection = worker.connection
        try:
            while connection.poll():
                message = connection.recv()
                if message == _READY:
                    worker.ready = True
                    continue
                index, result = message
                worker.tasks.popleft()
                self._done[index] = result
        except (EOFError, OSError):
            return False
        return True

    def _bury(self, worker: _Worker) -> None:
        """A worker died: the task it was doing crashed; the ones queued behind it (never started)
        go back to be handed out again; a new worker takes its place when one is needed."""
        worker.process.join()
        self._workers.remove(worker)
        self._forget(worker)
        if not worker.ready:
            raise WorkersFailed(f"无法启动工作进程（{Crashed(worker.process.exitcode).cause}）。请检查内存是否充足后重试。")
        if worker.tasks:
            self._done[worker.tasks.popleft()] = Crashed(worker.process.exitcode)
        self._waiting.extendleft(reversed(worker.tasks))
        worker.tasks.clear()


# --- in a worker ---------------------------------------------------------------------------------


def _serve(connection: Connection, work, setup, setup_args, memory_limit: int | None, parent: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent answers it
    _end_with(parent)
    _die_quietly()
    if memory_limit:
        _limit_memory(memory_limit)
    if setup is not None:
        setup(*setup_args)
    connection.send(_READY)
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        for index, task in message:
            try:
                result = work(task)
            except BaseException as exc:  # carried back and raised where the results are read
                result = _Failed(exc)
            try:
                connection.send((index, result))
            except (TypeError, AttributeError, ValueError) as exc:  # a result or error pickle refuses
                connection.send((index, _Failed(RuntimeError(f"{type(exc).__name__}: {exc}"))))


def _end_with(parent: int) -> None:
    """End this worker when the process that started it ends, even when that is killed outright:
    SIGKILL runs no clean-up, and a worker would wait on its pipe for ever. Linux only
    (prctl PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it was gone before the signal was asked for
        os._exit(1)


def _die_quietly() -> None:
    """A worker that dies says nothing on the collector's terminal and leaves no core file (which
    would hold a returned file's contents): the pool reports the task as crashed instead."""
    import faulthandler

    faulthandler.disable()
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
    except (ImportError, OSError, ValueError):
        pass


def _limit_memory(extra: int) -> None:
    """Cap this process's address space at its present size plus ``extra`` bytes (Linux: the
    present size from /proc; elsewhere nothing is limited)."""
    try:
        import resource

        with open("/proc/self/status", encoding="ascii") as status:
            size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = size + extra
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, OSError, StopIteration, ValueError):
        return
