"""``make bench`` (after scripts/bench.py): ``c315 serve`` under load, on loopback.

    python scripts/bench_serve.py                       # 50 concurrent uploads, 20 check rounds
    python scripts/bench_serve.py --uploads 100 --rounds 40 --json out.json

A real ``c315 serve`` (one process, the default SQLite store) on 127.0.0.1, a free port, in a fresh
workspace whose campaign has one unit per upload. What it reports (it prints what each figure
measures; nothing here asserts a time):

- upload latency, p50 and p95: every unit's own filled 附件2 (.xlsx, distinct files) handed in with
  its own token (``c315 serve links --json``) to ``POST /api/returns``, all at once — one thread and
  one connection each, released together; a latency is from sending the request to having read the
  whole answer, as the client sees it;
- errors: uploads that got no answer, an answer other than 200, or a result other than one accepted
  return of that unit — must be 0 (the script says so loudly and exits 1 otherwise);
- stored once: ``c315 history --json`` afterwards must list exactly one return per upload, with as
  many distinct SHA-256s;
- a check-upload's time: ``POST /api/returns?check=1`` of one of the forms, round trip on loopback
  (HTTP, multipart parsing and the check), median of ``--rounds``, against an in-process
  ``c315 ingest --dry-run`` of the same file through the call the command line makes
  (``each_ingested`` without a store: it reads in a worker process, as every ingest does), median of
  as many, interleaved; the ratio's target is at most 2×. Beside it, the same file through
  ``ingest_file`` without a store — read and checked in this process, no worker, as the server's check
  does in its thread — so the cost of HTTP and the server alone shows too.

Results also go to ``bench/out/bench-serve.json``; the load average before and after is recorded,
since the machine is shared.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx2
from bench import make_returns, make_workspace

from campaign315.intake.ingest import each_ingested, ingest_file

CHECK_TARGET = 2.0
START = 120
"""Seconds the server may take to answer at all (a bound on a hang, not a figure)."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--uploads", type=int, default=50, help="distinct forms handed in at once")
    parser.add_argument("--rounds", type=int, default=20, help="check-uploads and dry runs timed, each")
    parser.add_argument("--json", type=Path, default=Path("bench/out/bench-serve.json"))
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="c315-bench-serve-"))
    try:
        result = run(work, args.uploads, args.rounds)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    report(result)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nJSON: {args.json}")
    if result["errors"] or not result["stored_once"]:
        sys.exit(1)


def run(work: Path, uploads: int, rounds: int) -> dict:
    load_before = os.getloadavg()
    workspace = make_workspace(work, uploads)
    campaign = workspace.campaign
    returned = make_returns(campaign, workspace.templates_dir, work / "returned", formats=("xlsx",))
    forms = {unit.name: returned / f"{unit.name}-stats.xlsx" for unit in campaign.units}
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("C315_")},
           "C315_WORKSPACE": str(workspace.root), "PYTHONUNBUFFERED": "1"}
    with serving(env, work / "serve.log") as base:
        tokens = {link["unit"]: link["token"] for link in json.loads(c315(env, "serve", "links", "--json", "--url", base))}
        latencies, failures = upload_all(base, forms, tokens)
        history = json.loads(c315(env, "history", "--json"))
        probe_unit = next(iter(forms))
        check_ms, dry_run_ms, in_process_ms = check_against_dry_run(base, forms[probe_unit], tokens[probe_unit],
                                                                    campaign, rounds)
    shas = {entry["sha256"] for entry in history}
    return {
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "uploads": uploads,
        "upload_p50_ms": round(percentile(latencies, 50), 1),
        "upload_p95_ms": round(percentile(latencies, 95), 1),
        "upload_max_ms": round(max(latencies), 1) if latencies else None,
        "errors": len(failures),
        "error_examples": failures[:5],
        "stored_returns": len(history),
        "stored_distinct_sha256": len(shas),
        "stored_once": len(history) == uploads == len(shas),
        "check_rounds": rounds,
        "check_upload_median_ms": round(check_ms, 1),
        "dry_run_median_ms": round(dry_run_ms, 1),
        "check_ratio": round(check_ms / dry_run_ms, 2),
        "in_process_check_median_ms": round(in_process_ms, 1),
        "check_ratio_to_in_process": round(check_ms / in_process_ms, 2),
        "check_target": CHECK_TARGET,
        "cores": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


# --- the server -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def c315(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "campaign315", *args], env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"c315 {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


@contextlib.contextmanager
def serving(env: dict, log_path: Path):
    """A real ``c315 serve`` on a free loopback port, stopped afterwards; yields its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        child = subprocess.Popen([sys.executable, "-m", "campaign315", "serve", "--port", str(port)], env=env,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
    try:
        ends = time.monotonic() + START
        while True:  # until it answers (bounded)
            try:
                if httpx2.get(f"{base}/static/c315.css").status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if child.poll() is not None or time.monotonic() > ends:
                sys.exit(f"c315 serve did not start:\n{log_path.read_text(encoding='utf-8')[-2000:]}")
            time.sleep(0.05)
        yield base
    finally:
        child.terminate()
        child.wait(timeout=START)


# --- the figures ------------------------------------------------------------------------------------


def upload_all(base: str, forms: dict[str, Path], tokens: dict[str, str]) -> tuple[list[float], list[str]]:
    """Every unit's form handed in at once, each on its own connection; (latencies in ms, failures)."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    together = threading.Barrier(len(forms))

    def hand_in(unit: str, path: Path) -> None:
        data = path.read_bytes()
        with httpx2.Client(timeout=600) as client:
            together.wait()
            began = time.perf_counter()
            try:
                answer = client.post(f"{base}/api/returns", headers={"Authorization": f"Bearer {tokens[unit]}"},
                                     files={"file": (path.name, data)})
                took = (time.perf_counter() - began) * 1000
                results = answer.json() if answer.status_code == 200 else None
                wrong = (f"{unit}: HTTP {answer.status_code} {answer.text[:200]}" if results is None
                         else None if [(r["unit"], r["outcome"]) for r in results] == [(unit, "accepted")]
                         else f"{unit}: {[(r['unit'], r['outcome'], [p['code'] for p in r['problems']]) for r in results]}")
            except httpx2.HTTPError as exc:
                took, wrong = (time.perf_counter() - began) * 1000, f"{unit}: {type(exc).__name__} {exc}"
        with lock:
            latencies.append(took)
            if wrong:
                failures.append(wrong)

    threads = [threading.Thread(target=hand_in, args=item) for item in forms.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, failures


def check_against_dry_run(base: str, path: Path, token: str, campaign, rounds: int) -> tuple[float, float, float]:
    """Median ms of a check-upload round trip, of an in-process dry-run ingest of the same file and
    of ``ingest_file`` without a store, interleaved (one warm-up of each first: the server's first
    check imports the readers)."""
    data = path.read_bytes()
    checks, dry_runs, in_process = [], [], []
    with httpx2.Client(timeout=120) as client:

        def check() -> float:
            began = time.perf_counter()
            answer = client.post(f"{base}/api/returns?check=1", headers={"Authorization": f"Bearer {token}"},
                                 files={"file": (path.name, data)})
            took = (time.perf_counter() - began) * 1000
            if answer.status_code != 200 or answer.json()[0]["outcome"] != "accepted":
                sys.exit(f"the check-upload failed: HTTP {answer.status_code} {answer.text[:500]}")
            return took

        def dry_run() -> float:
            began = time.perf_counter()
            (result,) = list(each_ingested([path], campaign, None, None))
            took = (time.perf_counter() - began) * 1000
            if result.outcome != "accepted":
                sys.exit(f"the dry run did not accept the form: {result.outcome}")
            return took

        def bare() -> float:
            began = time.perf_counter()
            (result,) = ingest_file(path, campaign, None)
            took = (time.perf_counter() - began) * 1000
            if result.outcome != "accepted":
                sys.exit(f"ingest_file did not accept the form: {result.outcome}")
            return took

        check(), dry_run(), bare()
        for _ in range(rounds):
            checks.append(check())
            dry_runs.append(dry_run())
            in_process.append(bare())
    return statistics.median(checks), statistics.median(dry_runs), statistics.median(in_process)


def percentile(values: list[float], p: int) -> float:
    """The p-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * p // 100) - 1)] if ordered else float("nan")


def report(r: dict) -> None:
    print(f"c315 serve under load — {r['uploads']} distinct filled 附件2 .xlsx forms, one c315 serve process "
          f"(SQLite store) on 127.0.0.1, {r['cores']} cores; load average before {r['load_average_before']}, "
          f"after {r['load_average_after']}")
    print(f"  upload latency p50 {r['upload_p50_ms']:.0f} ms, p95 {r['upload_p95_ms']:.0f} ms, max {r['upload_max_ms']:.0f} ms"
          f"  — all {r['uploads']} POST /api/returns (each unit's own form and token) released at once, one connection"
          " each; client-side time from sending to having read the whole answer")
    if r["errors"]:
        print(f"  !!! ERRORS: {r['errors']} of {r['uploads']} uploads failed (must be 0):")
        for example in r["error_examples"]:
            print(f"      {example}")
    else:
        print("  errors 0 — every upload answered 200 with one accepted return of its own unit")
    verdict = "each file once" if r["stored_once"] else "!!! NOT each file exactly once"
    print(f"  stored: {r['stored_returns']} returns, {r['stored_distinct_sha256']} distinct SHA-256 ({verdict})"
          f"  — c315 history --json after the run")
    within = "within" if r["check_ratio"] <= r["check_target"] else "ABOVE"
    print(f"  check-upload {r['check_upload_median_ms']:.1f} ms vs in-process ingest --dry-run {r['dry_run_median_ms']:.1f} ms"
          f" = {r['check_ratio']:.2f}× ({within} the {r['check_target']:.0f}× target)  — medians of {r['check_rounds']}"
          " interleaved rounds: POST /api/returns?check=1 round trip on loopback (HTTP, multipart, the check) against"
          " each_ingested([file], campaign, store=None), the call c315 ingest --dry-run makes (it reads in a worker"
          " process), on the same file")
    print(f"  check-upload {r['check_upload_median_ms']:.1f} ms vs ingest_file in this process {r['in_process_check_median_ms']:.1f} ms"
          f" = {r['check_ratio_to_in_process']:.2f}×  — the same rounds: read and checked in-process with no worker, as the"
          " server's check does in its thread, so this ratio is what HTTP, multipart and the server add")


if __name__ == "__main__":
    main()
