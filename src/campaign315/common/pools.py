"""How c315 starts the worker processes of its pools (ingest, generate-forms).

On Linux a worker is forked: it inherits the loaded modules and starts in milliseconds. Windows
has no fork, so there a worker is spawned — a fresh interpreter that imports c315 and receives
its arguments pickled. Everything a pool hands its workers is therefore passed explicitly (an
initializer's arguments), never left in a global for a fork to copy.

``C315_START_METHOD=spawn`` makes Linux start workers as Windows does; the tests use it to run
the Windows path here.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from multiprocessing.context import BaseContext

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
