"""Where an ingest's time goes, file by file: a profile of one process doing what a reading worker
does (read, hash, archive, read the package, identify, validate) and what the recording process
does (write the batch), over a workload built as ``make bench`` builds it.

    python scripts/profile_ingest.py                      # 200 units' .xlsx returns, top 30 by own time
    python scripts/profile_ingest.py --format docx --top 40 --sort cumulative
    python scripts/profile_ingest.py --stages             # µs per file of each stage, measured alone

``--stages`` times each step of a file's way through ingest on its own, over the same files (the
best of several rounds, wall time): reading the bytes, SHA-256, the archive write (and what an
fsync per file, or one per batch of the archive's folders, would add), the zip guards, the
extent guard, calamine, the formula scan, the properties, identity + locate + validate, building
the rows handed between processes, pickling them, and the store's batched record — beside the
bound ``make bench`` divides by (python-calamine opening the file and reading its visible sheet).

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
    parser.add_argument("--stages", action="store_true", help="µs per file of each stage, each measured alone")
    parser.add_argument("--rounds", type=int, default=5, help="with --stages: rounds of each stage (the best is shown)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="c315-profile-"))
    try:
        workspace = bench.make_workspace(work, args.units)
        campaign = workspace.campaign
        files = sorted(bench.make_returns(campaign, workspace.templates_dir, work / "returned",
                                          formats=(args.format,)).glob(f"*.{args.format}"))
        when = dt.datetime(2020, 3, 12, 10, tzinfo=campaign.tz)
        if args.stages:
            stages(files, campaign, work, when, args.rounds)
            return
        with open_store(work / "warm-up") as store:  # imports and caches, outside the profile
            _record([e for path in files[:20] for e in _examine(path, campaign, store.archive, when)], store)
        with open_store(work / "store") as store:
            profile = cProfile.Profile(time.process_time)
            started = time.process_time()
            profile.enable()
            for first in range(0, len(files), BATCH_FILES):
                _record([e for path in files[first:first + BATCH_FILES] for e in _examine(path, campaign, store.archive, when)],
                        store)
            profile.disable()
            spent = time.process_time() - started
        print(f"{len(files)} .{args.format} files, {spent / len(files) * 1000:.3f} ms of CPU each under the profiler\n")
        pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def stages(files: list[Path], campaign, work: Path, when: dt.datetime, rounds: int) -> None:
    """Each stage over every file, alone: the best of ``rounds`` rounds, in µs per file."""
    import hashlib
    import os
    import pickle

    from campaign315.common.files import write_atomically
    from campaign315.intake import ingest as ingesting
    from campaign315.intake.read import package as reading
    from campaign315.intake.read.extent import check_xlsx
    from campaign315.intake.read.xlsx import _formulas_by_sheet, read_with_calamine
    from campaign315.intake.read.zipparts import ZipPackage, modified_time, read_custom_properties
    from campaign315.intake.read.zipped import is_archive
    from campaign315.intake.validate import returns as validating
    from campaign315.spec.forms import Identity
    from campaign315.store.archive import FolderArchive

    fmt = files[0].suffix[1:]
    data = [ingesting._read_return(path)[0] for path in files]
    digests = [hashlib.sha256(d).hexdigest() for d in data]
    zips = [reading.open_zip(d) for d in data]
    packages = [ZipPackage(d, zf) for d, zf in zip(data, zips, strict=True)]
    read = [reading.read_package(d, path.name) for d, path in zip(data, files, strict=True)]
    examined = [e for path in files for e in ingesting._examine(path, campaign, None, when)]
    rounds_done = [0]

    def archive_put(fsync: str):
        folder = work / f"archive-{fsync}-{rounds_done[0]}"
        rounds_done[0] += 1
        archive = FolderArchive(folder)
        if fsync == "none":
            for d, sha in zip(data, digests, strict=True):
                archive.put(d, sha, ".xlsx")
            return
        for first in range(0, len(data), ingesting.BATCH_FILES):
            touched = set()
            for d, sha in zip(data[first:first + ingesting.BATCH_FILES], digests[first:first + ingesting.BATCH_FILES], strict=True):
                target = folder / sha[:2] / f"{sha}.xlsx"
                target.parent.mkdir(parents=True, exist_ok=True)
                write_atomically(target, d, durable=fsync == "file", folder_exists=True)
                touched.add(target.parent)
            if fsync == "batch":  # each written file's data and its folder's entry, once per batch
                for d_sha in digests[first:first + ingesting.BATCH_FILES]:
                    fd = os.open(folder / d_sha[:2] / f"{d_sha}.xlsx", os.O_RDONLY)
                    os.fsync(fd)
                    os.close(fd)
                for parent in touched:
                    fd = os.open(parent, os.O_RDONLY)
                    os.fsync(fd)
                    os.close(fd)

    def guards():
        for d in data:
            zf = reading.open_zip(d)
            reading._check_limits(zf)
            parts = reading._canonical(ZipPackage(d, zf))
            reading._check_package(set(parts.zip.namelist()))

    def inflate_all():
        for d, zf in zip(data, zips, strict=True):
            package = ZipPackage(d, zf)
            for name in package.namelist():
                package.part(name)

    def record():
        from campaign315.store import open_store as opened

        rounds_done[0] += 1
        with opened(work / f"record-{rounds_done[0]}") as store:
            for first in range(0, len(examined), ingesting.BATCH_FILES):
                store.record_rows([rows for e in examined[first:first + ingesting.BATCH_FILES] for rows in e.returns])

    steps = [
        ("read the file's bytes", lambda: [ingesting._read_return(path) for path in files]),
        ("SHA-256", lambda: [hashlib.sha256(d).hexdigest() for d in data]),
        ("archive write (no fsync: as c315 does)", lambda: archive_put("none")),
        ("  … with an fsync per file", lambda: archive_put("file")),
        ("  … with fsyncs once per batch", lambda: archive_put("batch")),
        ("is it a zip of files? (is_archive)", lambda: [is_archive(d) for d in data]),
        ("zip guards (directory, limits, layout)", guards),
        ("inflate every part (once)", inflate_all),
    ]
    if fmt == "xlsx":
        steps += [
            ("extent guard (parts already inflated)", lambda: [check_xlsx(p) for p in packages]),
            ("calamine: every sheet to Python", lambda: [read_with_calamine(d, "xlsx") for d in data]),
            ("formula scan", lambda: [_formulas_by_sheet(p) for p in packages]),
        ]
    steps += [
        ("custom + core properties (lxml)", lambda: [(read_custom_properties(p), modified_time(p)) for p in packages]),
        ("read_package, all of the above in one", lambda: [reading.read_package(d, path.name) for d, path in zip(data, files, strict=True)]),
        ("identity (pydantic)", lambda: [Identity.from_properties(p.properties) for p in read]),
        ("identity + locate + validate (examine)", lambda: [validating.examine(p, campaign) for p in read]),
        ("whole worker step (_examine, no archive)", lambda: [ingesting._examine(path, campaign, None, when) for path in files]),
        ("pickle + unpickle the rows", lambda: pickle.loads(pickle.dumps(examined, pickle.HIGHEST_PROTOCOL))),
        ("record in batches of 64 (SQLite)", record),
        ("bound: calamine open + visible sheet" if fmt == "xlsx" else "bound: zip + lxml of document.xml",
         lambda: [(bench.calamine_read if fmt == "xlsx" else bench.lxml_parse)(path) for path in files]),
    ]
    print(f"{len(files)} .{fmt} files; best of {rounds} rounds, wall time, µs per file\n")
    for name, step in steps:
        best = min(_timed(step) for _ in range(rounds))
        print(f"{name:45} {best / len(files) * 1e6:9.1f}")


def _timed(step) -> float:
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
