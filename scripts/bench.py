"""``make bench``: c315 at city and national scale, every figure a ratio to its lower bound
measured in the same run on the same files, on the same cores.

    python scripts/bench.py                 # 1,000 units (≈ 4,000 files)
    python scripts/bench.py --units 10000   # the large run
    python scripts/bench.py --json bench.json

What each lower bound does (the bench prints it beside each figure):

- ingest .xlsx: python-calamine opens each file (``from_path``) and reads its visible sheet
  (``to_python``) — what c315 must read of a return — nothing else: no hash, archive, checks,
  validation or record;
- ingest .docx: zipfile opens each file and lxml parses ``word/document.xml`` — nothing else;
- generate-forms: zipfile writes the same parts again (compression level 1);
- ``c315 --help``: a bare typer app with c315's Typer settings, ``--help`` (runs interleaved).

Ingest is measured twice: on one core (this process and every child pinned to one CPU: c315's one
reading worker and the process that records share it, and the bound reads in one process) and on
every core this process may use (c315's default pool; the bound reads in as many processes). A
file's cost is the difference between a run over all the files and a run over a tenth of them,
divided by the difference in files, so start-up (the pool, the store) cancels out.

The shared store is measured against the embedded one in a throw-away PostgreSQL cluster started
here with the server's durable defaults (``--no-postgresql`` skips it): ingest into PostgreSQL
against ingest into SQLite on the same files, 4 concurrent ``c315 ingest`` processes into one
PostgreSQL store against one process ingesting the same files, and the summary over the stored
returns on PostgreSQL. Nothing here asserts a time: it reports.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import io
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from campaign315.common.files import shipped
from campaign315.common.pool import cores
from campaign315.generate.forms import blank_template, generate_forms, plan_forms
from campaign315.generate.stamp import stamp
from campaign315.intake.ingest import each_ingested
from campaign315.reports.summary import summarise
from campaign315.spec.forms import ActivityStats, RosterLayout, StatsLayout, StatsLine
from campaign315.spec.location import Location
from campaign315.spec.problems import Code, problem
from campaign315.spec.workspace import Workspace
from campaign315.store import NewReturn, open_store, rows_of

REPEATS = 3
BATCH = 50
"""Files per ``c315 ingest`` in the concurrency figure (below the pool's threshold)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--stored", type=int, default=100_000, help="returns inserted for the summary benchmark")
    parser.add_argument("--rss-files", type=int, nargs="*", default=[1000, 10_000],
                        help="ingest this many .xlsx returns in a fresh process each and report its peak memory")
    parser.add_argument("--json", type=Path, default=Path("bench/out/bench.json"))
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--no-postgresql", action="store_true", help="skip the shared-store figures")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="c315-bench-"))
    try:
        rows = run(work, args.units, args.stored, args.rss_files, not args.no_postgresql)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print_table(rows, args.units)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"units": args.units, "at": dt.datetime.now(dt.UTC).isoformat(), "rows": rows},
                                    ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nJSON: {args.json}")


def run(work: Path, units: int, stored: int, rss_files: list[int], postgresql: bool = True) -> list[dict]:
    workspace = make_workspace(work, units)
    campaign = workspace.campaign
    rows = []

    # generate-forms: every unit's both attachments, both formats, vs raw-zip writes of the same parts.
    planned = plan_forms(campaign, campaign.units, ("xlsx", "docx"), work / "forms")
    per_file = median_of(lambda: timed_generate(campaign, planned, workspace.templates_dir, work / "forms"))
    files = [p.path for p in planned]
    bound = median_of(lambda: raw_zip_write(files, work / "rawzip"))
    rows.append(row("generate-forms, per file", per_file, "raw zip write", bound, target=4.0, n=len(files)))

    # The workload: filled returns, stamped per unit from a filled copy of each form.
    returned = make_returns(campaign, workspace.templates_dir, work / "returned")
    xlsx = sorted(returned.glob("*.xlsx"))
    docx = sorted(returned.glob("*.docx"))

    everywhere = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    for fmt, group, bound_name, bound_fn, target in (
        ("xlsx", xlsx, "calamine: open + visible sheet", calamine_read, 3.0),
        ("docx", docx, "zip + lxml: document.xml", lxml_parse, 5.0),
    ):
        settings = [("1 core", 1, everywhere[:1] if everywhere else None)]
        if everywhere and len(everywhere) > 1:
            settings.append((f"{len(everywhere)} cores", len(everywhere), everywhere))
        for where, workers, cpus in settings:
            with pinned(cpus):
                per, low = interleaved(
                    lambda w=workers, g=group: cost_per_file(lambda files: timed_ingest(campaign, files, work / "store", w), g),
                    lambda w=workers, g=group, f=bound_fn: cost_per_file(lambda files: timed_bound(files, f, w), g))
            rows.append(row(f"ingest .{fmt}, per file, {where}", per, bound_name, low, target=target, n=len(group)))

    # summary over many stored returns (recorded directly, without files).
    store_dir = work / "big-store"
    fill_store(campaign, store_dir, stored)
    rows.append(timed_summary(campaign, store_dir, f"summary over {stored:,} stored returns"))

    if postgresql:
        rows += shared_store(work, workspace, xlsx + docx, stored)

    # start-up: what c315 adds on top of typer itself, runs interleaved so drift hits both alike.
    help_s, bare_s = startup_medians([sys.executable, "-m", "campaign315", "--help"],
                                     [sys.executable, "-c", BARE_TYPER_APP, "--help"])
    rows.append(row("c315 --help", help_s, "bare typer app --help", bare_s, target=1.2, n=1))

    # peak memory of ingest at each size: the command line over a folder, a fresh process each;
    # VmHWM of that process, and the largest of its workers.
    if rss_files:
        needed = max(rss_files)
        big = make_workspace(work / "rss", (needed + 1) // 2) if needed > len(xlsx) else workspace
        pool = sorted(make_returns(big.campaign, big.templates_dir, work / "rss" / "returned", formats=("xlsx",)).glob("*.xlsx")) \
            if needed > len(xlsx) else xlsx
        for count in sorted(rss_files):
            rows.append(peak_rss(work, big, pool[:count]))
        if len(rss_files) > 1:
            low, high = rows[-len(rss_files)], rows[-1]
            growth = round(high["main_mib"] - low["main_mib"], 1)
            rows.append({"figure": f"ingest main-process growth, {low['files']:,} → {high['files']:,} files",
                         "growth_mib": growth, "target_mib": 5.0, "met": growth <= 5.0})
    return rows


# --- the workload ---------------------------------------------------------------------------


def make_workspace(work: Path, units: int) -> Workspace:
    """The shipped campaign with ``units`` synthetic units (stations every fifth)."""
    text = (shipped("data") / "campaign.toml").read_text(encoding="utf-8")
    head, _, rest = text.partition("[[units]]")
    tail = rest[rest.index("# ---------------------------------------------------------------------------------------------\n# 工作要求"):]
    unit_blocks = "".join(
        f'[[units]]\nname = "单位{n:05d}{"市场监管所" if n % 5 == 0 else "科"}"\nkind = "{"市场监管所" if n % 5 == 0 else "科室"}"\n\n'
        for n in range(units)
    )
    root = work / "workspace"
    root.mkdir(parents=True)
    (root / "campaign.toml").write_text(head + unit_blocks + tail, encoding="utf-8")
    return Workspace(root)


def make_returns(campaign, templates_dir: Path, out: Path, formats=("xlsx", "docx")) -> Path:
    """Both attachments of every unit, as .xlsx and .docx, with realistic values."""
    import openpyxl
    from docx import Document

    out.mkdir(parents=True)
    stats, roster = StatsLayout(campaign.attachments.stats), RosterLayout(campaign.attachments.roster)
    filled = {}
    for attachment in ("stats", "roster"):
        wb = openpyxl.load_workbook(io.BytesIO(blank_template(campaign, attachment, "xlsx", templates_dir)))
        ws = wb.worksheets[0]
        if attachment == "stats":
            for n, item in enumerate(campaign.attachments.stats.items):
                ws[stats.quantity_cell(item.key)] = ("３场" if n == 1 else n * 7 % 13) if not item.free else 2
                if item.free:
                    ws[stats.remark_cell(item.key)] = "社区宣传"
            ws[stats.filler_cell], ws[stats.filler_phone_cell] = "张  涛", "13682055679"
        else:
            people = [("李明", "所长", "23301234", "13612345678"), ("王芳", "一级主任科员", "同上", "13712345678"), ("赵强", "科员", "", "139 1234 5678")]
            for i, person in enumerate(people):
                for field, value in zip(("name", "position", "landline", "mobile"), person, strict=True):
                    ws[roster.cell(i, field)] = value
            ws[roster.filler_cell], ws[roster.filler_phone_cell] = "李明", "13612345678"
        buffer = io.BytesIO()
        wb.save(buffer)
        filled[(attachment, "xlsx")] = buffer.getvalue()
        document = Document(io.BytesIO(blank_template(campaign, attachment, "docx", templates_dir)))
        table = document.tables[0]
        grid = [r.cells for r in table.rows]
        if attachment == "stats":
            for n, cells in enumerate(grid[1:]):
                cells[3].text = str(n * 7 % 13)
                cells[4].text = "社区宣传" if n in (9, 17) else ""
        else:
            for i, person in enumerate([("李明", "所长", "23301234", "13612345678"), ("王芳", "科员", "", "13712345678"), ("赵强", "科员", "", "13912345678")]):
                for c, value in enumerate(person, start=1):
                    grid[1 + i][c].text = value
        buffer = io.BytesIO()
        document.save(buffer)
        filled[(attachment, "docx")] = buffer.getvalue()
    for unit in campaign.units:
        for (attachment, fmt), data in filled.items():
            if fmt in formats:
                (out / f"{unit.name}-{attachment}.{fmt}").write_bytes(stamp(data, unit.name))
    return out


def stored_rows(campaign, count: int):
    """``count`` accepted stats returns spread over the campaign's units, with their 18 lines and
    one warning each, as rows of the store's tables (returns, stats_lines, problems)."""
    units = [u.name for u in campaign.units]
    received = campaign.due_at("stats") - dt.timedelta(days=1)
    keys = [item.key for item in campaign.attachments.stats.items]
    returns = [(i + 1, campaign.id, f"{i:064x}", f"f{i}.xlsx", "", "", units[i % len(units)], "stats", "accepted",
                (received + dt.timedelta(seconds=i)).isoformat(), (received + dt.timedelta(seconds=i)).timestamp(),
                None, "", "", 0, 1, "") for i in range(count)]
    lines = [(i + 1, key, i % 7, "", "", "cell", "统计表", 0, 5 + n, 4) for i in range(count) for n, key in enumerate(keys)]
    problems = [(i + 1, 0, "warning", "quantity-empty", "cell", "统计表", 0, 6, 4, "", "x") for i in range(count)]
    return returns, lines, problems


RETURN_COLUMNS = ("id, campaign, sha256, filename, source_path, archive_key, unit, attachment, outcome, received_at,"
                  " received_ts, document_modified, filler, filler_phone, errors, warnings, ingested_at")


def fill_store(campaign, location, count: int) -> None:
    """Insert ``count`` returns directly (not through ingest): into a SQLite folder through the
    store's interface (a thousand a transaction), into a PostgreSQL URL with ``COPY``."""
    if isinstance(location, Path):
        fill_folder_store(campaign, location, count)
        return
    returns, lines, problems = stored_rows(campaign, count)
    import psycopg

    with psycopg.connect(location) as conn, conn.cursor() as cursor:
        for table, columns, rows in (("returns", RETURN_COLUMNS, returns), ("stats_lines", "", lines), ("problems", "", problems)):
            with cursor.copy(f"COPY {table} {'(' + columns + ')' if columns else ''} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        cursor.execute("SELECT setval('returns_id_seq', (SELECT max(id) FROM returns))")
        cursor.execute("ANALYZE")


def timed_summary(campaign, location, figure: str) -> dict:
    with open_store(location) as store:
        cutoff = campaign.due_at("stats")

        def summary():
            with store.snapshot():
                summarise(campaign, store, cutoff)

        seconds = median_of(lambda: timed(summary))
    return {"figure": figure, "seconds": seconds, "target_seconds": 2.0, "met": seconds <= 2.0}


# --- the shared store ---------------------------------------------------------------------------


def shared_store(work: Path, workspace: Workspace, files: list[Path], stored: int) -> list[dict]:
    """PostgreSQL against SQLite on the same files; 4 processes against 1; the summary on PostgreSQL."""
    from campaign315.store.pgtemp import ThrowawayCluster, Unavailable

    campaign = workspace.campaign
    try:
        cluster = ThrowawayCluster.start(durable=True)
    except Unavailable as exc:
        print(f"PostgreSQL figures skipped: {exc}", file=sys.stderr)
        return []
    rows = []
    try:
        def fresh() -> str:
            url = cluster.create_database()
            with open_store(url, migrating=True) as store:
                store.migrate()
            return url

        # In-process, on the same files, alternating so both see the same machine.
        sqlite_runs, pg_runs = [], []
        for n in range(REPEATS):
            sqlite_runs.append(timed_ingest(campaign, files, work / f"cmp-sqlite-{n}"))
            pg_runs.append(timed_ingest(campaign, files, fresh()))
        rows.append(row("ingest into PostgreSQL, per file", statistics.median(pg_runs), "into SQLite",
                        statistics.median(sqlite_runs), target=1.5, n=len(files)))

        # Whole c315 processes, as people in an office ingest: batches of BATCH files (a pool of
        # workers starts only from PARALLEL_FROM files, so each process uses one core). One lane
        # runs every batch in turn; four lanes run a quarter of the batches each, at once.
        def lanes(count: int) -> float:
            url = fresh()
            batches = [files[k:k + BATCH] for k in range(0, len(files), BATCH)]
            env = dict(os.environ, C315_WORKSPACE=str(workspace.root), C315_STORE=url)
            command = [sys.executable, "-m", "campaign315", "ingest", "--received-at", "2020-03-12T10:00"]
            lane_script = "import subprocess, sys, json\nfor batch in json.loads(sys.argv[1]):\n" \
                          "    subprocess.run(json.loads(sys.argv[2]) + batch, stdout=subprocess.DEVNULL)\n"
            start = time.perf_counter()
            running = [subprocess.Popen([sys.executable, "-c", lane_script, json.dumps([list(map(str, b)) for b in batches[k::count]]),
                                         json.dumps(command)], env=env) for k in range(count)]
            for process in running:
                process.wait()
            return time.perf_counter() - start

        timings = [(lanes(1), lanes(4)) for _ in range(REPEATS)]  # interleaved: both see the same machine
        one, four = statistics.median(t[0] for t in timings), statistics.median(t[1] for t in timings)
        rows.append({"figure": "4 concurrent ingests into PostgreSQL", "throughput_ratio": round(one / four, 2),
                     "one_s": round(one, 2), "four_s": round(four, 2), "files": len(files), "target_ratio": 1.5,
                     "met": one / four >= 1.5})

        url = fresh()
        fill_store(campaign, url, stored)
        rows.append(timed_summary(campaign, url, f"summary over {stored:,} stored returns, PostgreSQL"))
    finally:
        cluster.stop()
    return rows


def fill_folder_store(campaign, directory: Path, count: int) -> None:
    """``count`` accepted stats returns spread over the campaign's units, each with one warning,
    recorded through the store's interface (no archive files: only the summary reads them)."""
    units = [u.name for u in campaign.units]
    received = campaign.due_at("stats") - dt.timedelta(days=1)
    keys = [item.key for item in campaign.attachments.stats.items]
    cell = Location.cell("统计表", 5, 4)
    warning = problem(Code.QUANTITY_EMPTY, Location.cell("统计表", 6, 4))
    forms = [ActivityStats(unit="", lines=[StatsLine(key=key, quantity=n, cell=cell) for key in keys]) for n in range(7)]
    new = [NewReturn(
        campaign=campaign.id, sha256=f"{i:064x}", filename=f"f{i}.xlsx", source_path="", archive_key="",
        unit=units[i % len(units)], attachment="stats", outcome="accepted",
        received_at=received + dt.timedelta(seconds=i), document_modified=None, problems=[warning],
        form=forms[i % 7]) for i in range(count)]
    with open_store(directory) as store:
        for start in range(0, count, 1000):
            store.record_rows([rows_of(one) for one in new[start:start + 1000]])


# --- measurements -----------------------------------------------------------------------------


BARE_TYPER_APP = """
import typer

app = typer.Typer(name="c315", help="3·15", epilog="\\b\\n示例：c315 a", no_args_is_help=True, rich_markup_mode=None,
                  add_completion=True, context_settings={"help_option_names": ["-h", "--help"]})


@app.command()
def a(x: int = 1):
    \"\"\"a\"\"\"


@app.command()
def b(x: int = 1):
    \"\"\"b\"\"\"


app()
"""
"""The start-up yardstick: a typer app with c315's Typer settings (keep in step with
``campaign315.cli.app``) and two trivial commands."""


def startup_medians(command: list[str], yardstick: list[str], pairs: int = 11) -> tuple[float, float]:
    """Median wall time of each command, run in turn (one warm-up each, which also lets Python
    cache c315's bytecode as an installed copy has it)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    run = lambda args: timed(lambda: subprocess.run(args, capture_output=True, check=True, env=env))  # noqa: E731
    run(command), run(yardstick)
    times = [(run(command), run(yardstick)) for _ in range(pairs)]
    return statistics.median(a for a, _ in times), statistics.median(b for _, b in times)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_of(fn, repeats: int = REPEATS) -> float:
    return statistics.median(fn() for _ in range(repeats))


def timed_generate(campaign, planned, templates_dir, out: Path) -> float:
    shutil.rmtree(out, ignore_errors=True)
    return timed(lambda: generate_forms(campaign, planned, templates_dir, force=True)) / len(planned)


def raw_zip_write(files: list[Path], out: Path) -> float:
    """Write each generated file's parts again with zipfile: the cost of producing the bytes."""
    parts = []
    for path in files:
        with zipfile.ZipFile(path) as zf:
            parts.append([(info.filename, zf.read(info)) for info in zf.infolist()])
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)

    def write_all():
        for n, members in enumerate(parts):
            with zipfile.ZipFile(out / f"{n}.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
                for name, data in members:
                    zf.writestr(name, data)

    return timed(write_all) / len(files)


def interleaved(first, second, repeats: int = REPEATS) -> tuple[float, float]:
    """Medians of two measurements taken in alternation (the machine's load falls on both)."""
    a, b = [], []
    for _ in range(repeats):
        a.append(first())
        b.append(second())
    return statistics.median(a), statistics.median(b)


def cost_per_file(run, files: list[Path]) -> float:
    """A file's cost: the time over all ``files`` less the time over a tenth of them, per file."""
    few = files[: max(1, len(files) // 10)]
    return (run(files) - run(few)) / (len(files) - len(few))


@contextlib.contextmanager
def pinned(cpus):
    """This process, and every process it starts, on ``cpus`` only (None: left as it is)."""
    if cpus is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def timed_ingest(campaign, files: list[Path], store_dir: Path | str, workers: int | None = None) -> float:
    """Everything ``c315 ingest`` does to the files — read, hash, archive, check, identify,
    validate, record — with ``workers`` reading processes (None: c315's default); the results are
    counted, not kept. ``store_dir`` a folder (emptied first) or a store's URL."""
    if isinstance(store_dir, Path):
        shutil.rmtree(store_dir, ignore_errors=True)
    when = dt.datetime(2020, 3, 12, 10, tzinfo=campaign.tz)
    with open_store(store_dir) as store:
        start = time.perf_counter()
        done = sum(1 for _ in each_ingested(files, campaign, store, when, workers=workers))
        seconds = time.perf_counter() - start
    assert done == len(files)
    return seconds


def timed_bound(files: list[Path], fn, processes: int) -> float:
    """The bare read of every file, in ``processes`` processes (each a share of the files)."""
    if processes <= 1:
        return timed(lambda: [fn(path) for path in files])
    context = multiprocessing.get_context("fork")
    shares = [files[n::processes] for n in range(processes)]
    with context.Pool(processes) as bare:
        bare.map(abs, range(processes))  # started before the clock
        return timed(lambda: bare.map(functools.partial(_read_each, fn), shares))


def _read_each(fn, files: list[Path]) -> None:
    for path in files:
        fn(path)


def calamine_read(path: Path) -> None:
    """What c315 must read of a workbook: its visible sheet's values."""
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    for meta in workbook.sheets_metadata:
        if "Visible" in str(meta.visible):
            workbook.get_sheet_by_name(meta.name).to_python()


def lxml_parse(path: Path) -> None:
    from lxml import etree

    with zipfile.ZipFile(path) as zf:
        etree.fromstring(zf.read("word/document.xml"))


_PEAK = """
import atexit, resource, sys
def peak():
    own = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    sys.stderr.write(f"PEAK-KB {own} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}\\n")
atexit.register(peak)
from campaign315.cli import main
sys.argv = ["c315", *sys.argv[1:]]
main()
"""


def peak_rss(work: Path, workspace: Workspace, files: list[Path]) -> dict:
    """``c315 ingest FOLDER`` over ``files`` (hard links in a folder of their own), its output
    thrown away: the peak resident memory of its process and of its largest worker."""
    folder = work / f"rss-{len(files)}"
    folder.mkdir()
    for path in files:
        os.link(path, folder / path.name)
    own_workspace = work / f"rss-workspace-{len(files)}"  # the campaign, and a store of its own
    own_workspace.mkdir()
    shutil.copyfile(workspace.root / "campaign.toml", own_workspace / "campaign.toml")
    done = subprocess.run([sys.executable, "-c", _PEAK, "ingest", "--workspace", str(own_workspace),
                           "--received-at", "2020-03-12T10:00", str(folder)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    own, kids = map(int, done.stderr.rsplit("PEAK-KB", 1)[1].split()[:2])
    return {"figure": f"ingest peak RSS, {len(files):,} .xlsx files", "files": len(files),
            "main_mib": round(own / 1024, 1), "worker_mib": round(kids / 1024, 1)}


def row(figure: str, value: float, bound_name: str, bound: float, target: float, n: int) -> dict:
    ratio = value / bound if bound else float("inf")
    return {"figure": figure, "ms": round(value * 1000, 3), "bound": bound_name, "bound_ms": round(bound * 1000, 3),
            "ratio": round(ratio, 2), "target_ratio": target, "met": ratio <= target, "files": n}


def print_table(rows: list[dict], units: int) -> None:
    print(f"c315 benchmark — {units:,} units, {cores()} cores, Python {sys.version.split()[0]}\n")
    print(f"{'figure':40} {'c315':>10} {'lower bound':>44} {'ratio':>7} {'target':>7}  met")
    for r in rows:
        if "ratio" in r:
            print(f"{r['figure']:40} {r['ms']:>8.3f}ms {r['bound'] + ' ' + format(r['bound_ms'], '.3f') + 'ms':>44} "
                  f"{r['ratio']:>6.2f}× {r['target_ratio']:>6.1f}×  {'yes' if r['met'] else 'NO'}")
        elif "throughput_ratio" in r:
            print(f"{r['figure']:38} {r['four_s']:>9.2f}s {'one process ' + format(r['one_s'], '.2f') + 's':>30} "
                  f"{r['throughput_ratio']:>6.2f}× {'≥' + format(r['target_ratio'], '.1f'):>6}×  {'yes' if r['met'] else 'NO'}")
        elif "seconds" in r:
            print(f"{r['figure']:40} {r['seconds']:>9.3f}s {'(absolute target)':>44} {'':>7} {r['target_seconds']:>6.1f}s  {'yes' if r['met'] else 'NO'}")
        elif "growth_mib" in r:
            print(f"{r['figure']:40} {r['growth_mib']:>+7.1f}MiB {'(absolute target)':>44} {'':>7} {'+' + format(r['target_mib'], '.0f') + 'MiB':>7}  {'yes' if r['met'] else 'NO'}")
        else:
            print(f"{r['figure']:40} main {r['main_mib']:.1f} MiB, largest worker {r['worker_mib']:.1f} MiB")


if __name__ == "__main__":
    main()
