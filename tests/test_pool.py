"""The one pool of worker processes (generate-forms and ingest): results in the order given, a
worker that dies costs only the task it was doing, a task's exception reaches the caller, workers
run under a memory limit, and the caller hears when nothing has come for a while.

Workers die here by their own hand (``os.abort``, SIGKILL to themselves) on a named task, never
by a timer; nothing sleeps to a moment.
"""

from __future__ import annotations

import os
import resource
import signal
import sys

import pytest

from campaign315.common.pool import IDLE, Crashed, Pool

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the pool forks its workers on Linux")

ABORT, KILLED, RAISE = 7, 13, 21


def square_or_die(n: int) -> int:
    if n == ABORT:
        os.abort()
    if n == KILLED:
        os.kill(os.getpid(), signal.SIGKILL)
    if n == RAISE:
        raise ValueError(f"task {n}")
    return n * n


def address_space_limit(_task) -> int:
    return resource.getrlimit(resource.RLIMIT_AS)[0]


def own_pid(_task) -> int:
    return os.getpid()


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_results_come_in_the_order_given(workers):
    tasks = [n for n in range(60) if n not in (ABORT, KILLED, RAISE)]
    with Pool(square_or_die, workers) as pool:
        assert list(pool.map(tasks)) == [(n, n * n) for n in tasks]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_worker_that_dies_costs_only_its_task(workers):
    """An abort (a native reader's fatal error) and a SIGKILL, each on one task: those two come back
    as Crashed with the signal named, every other task is done, in order, by replacement workers."""
    tasks = [n for n in range(40) if n != RAISE]
    with Pool(square_or_die, workers) as pool:
        results = dict(pool.map(tasks))
    assert list(results) == tasks
    crashed = {n: r for n, r in results.items() if isinstance(r, Crashed)}
    assert {n: r.cause for n, r in crashed.items()} == {ABORT: "SIGABRT", KILLED: "SIGKILL"}
    assert all(results[n] == n * n for n in tasks if n not in crashed)


def test_an_exception_in_a_task_is_raised_at_its_turn():
    seen = []
    with Pool(square_or_die, 2) as pool, pytest.raises(ValueError, match=f"task {RAISE}"):
        for n, _ in pool.map(range(RAISE + 10)):
            seen.append(n)
    assert seen == [n for n in range(RAISE)]


def test_workers_run_under_the_memory_limit_asked_for():
    limit = 512 << 20
    with Pool(address_space_limit, 2, memory_limit=limit) as pool:
        (_, found), = pool.map([None])
    here = resource.getrlimit(resource.RLIMIT_AS)[0]
    assert found != resource.RLIM_INFINITY and found != here
    with open("/proc/self/status") as status:  # a forked worker starts as big as this process
        size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    assert size < found <= size + limit + (256 << 20)


def test_a_caller_waiting_is_told_when_nothing_came():
    """A task that cannot finish until the caller acts: the caller must hear IDLE meanwhile."""
    read, write = os.pipe()

    def wait_for_the_caller(_task):
        return os.read(read, 1)

    with Pool(wait_for_the_caller, 1) as pool:
        results = pool.map([1], idle=0.01)
        assert next(results) is IDLE
        os.write(write, b"x")
        assert [r for r in results if r is not IDLE] == [(1, b"x")]
    os.close(read)
    os.close(write)


def test_workers_are_gone_when_the_pool_is_left_early():
    with Pool(own_pid, 2) as pool:
        pids = {pid for _, pid in pool.map(range(20))}
        processes = [worker.process for worker in pool._workers]
    assert pids and all(not process.is_alive() for process in processes)
    with Pool(own_pid, 2) as pool:
        results = pool.map(range(1000))
        next(results)
        processes = [worker.process for worker in pool._workers]
    assert all(not process.is_alive() for process in processes)
