"""Where an ingest's time goes, file by file: a profile of one process doing what a reading worker
does (read, hash, archive, read the package, identify, validate) and what the recording process
does (write the batch), over a workload built as ``make bench`` builds it.

    python scripts/profile_ingest.py                      # 200 units' .xlsx returns, top 30 by own time
    python scripts/profile_ingest.py --format docx --top 40 --sort cumulative

The timer is the process's CPU time (``time.process_time``), so a busy machine shifts the
figures less; cProfile adds its own cost to every Python call, so read the shares, not the
absolute times. ``make bench`` gives the times.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402 — the same workload as make bench

from campaign315.intake.ingest import BATCH_FILES, _examine, _record  # noqa: E402
from campaign315.store import open_store  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--format", choices=("xlsx", "docx"), default="xlsx")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="tottime", help="pstats sort key: tottime, cumulative, …")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="c315-profile-"))
    try:
        workspace = bench.make_workspace(work, args.units)
        campaign = workspace.campaign
        files = sorted(bench.make_returns(campaign, workspace.templates_dir, work / "returned",
                                          formats=(args.format,)).glob(f"*.{args.format}"))
        when = dt.datetime(2020, 3, 12, 10, tzinfo=campaign.tz)
        with open_store(work / "warm-up") as store:  # imports and caches, outside the profile
            _record([_examine(path, campaign, store.archive, when) for path in files[:20]], store)
        with open_store(work / "store") as store:
            profile = cProfile.Profile(time.process_time)
            started = time.process_time()
            profile.enable()
            for first in range(0, len(files), BATCH_FILES):
                _record([_examine(path, campaign, store.archive, when) for path in files[first:first + BATCH_FILES]], store)
            profile.disable()
            spent = time.process_time() - started
        print(f"{len(files)} .{args.format} files, {spent / len(files) * 1000:.3f} ms of CPU each under the profiler\n")
        pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
