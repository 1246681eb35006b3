"""Guards the hostile-input and fuzz tests share."""

import contextlib
import signal


@contextlib.contextmanager
def deadline(seconds: float):
    """Turn a hang into a TimeoutError (the run is in this process, so a hang would stall CI)."""
    def expire(*_):
        raise TimeoutError(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
