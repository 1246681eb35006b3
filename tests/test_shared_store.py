"""The store chosen by URL, its schema and migrations, ``c315 store copy``, and one PostgreSQL
store shared by several processes and several campaigns — against a real throw-away cluster
(conftest's ``pg_cluster``; skipped with its reason where none can start). Concurrency and
faults run real ``c315`` processes; a fault is injected at a named point (``C315_FAULT``), and
the connection is cut by the server itself (``pg_terminate_backend``), never mocked."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from conftest import GOOD_QUANTITIES, GOOD_REMARKS, cli_runner
from fill import blank, fill_stats
from zipkit import read_parts, rezip

from campaign315.cli import app
from campaign315.common.faults import PAUSED
from campaign315.common.files import shipped
from campaign315.spec.campaign import CAMPAIGN_FILE, load_campaign
from campaign315.store import Store, open_store
from campaign315.store.schema import SCHEMA_REVISION
from campaign315.store.verify import verify_store

FILLER = {"filler": "张涛", "phone": "13682055679"}
STORES = Path(__file__).parent / "data" / "stores"
SAMPLES = shipped("data") / "samples" / "returned"
CITY = "tianjin-2020-315"


def c315(*args: object, **env: str | None):
    return cli_runner(**env).invoke(app, [str(a) for a in args])


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def distinct_returns(folder: Path, count: int, unit: str = "办公室", fmt: str = "xlsx") -> list[Path]:
    """``count`` clean 附件2 returns of ``unit``, each with different bytes (a property changed)."""
    folder.mkdir(parents=True, exist_ok=True)
    filled = fill_stats(blank(folder / "blank", unit, "stats", fmt), GOOD_QUANTITIES, remarks=GOOD_REMARKS, **FILLER)
    parts = read_parts(filled)
    app_xml = parts["docProps/app.xml"]
    paths = []
    for n in range(count):
        parts["docProps/app.xml"] = app_xml.replace(b"</Properties>", f"<Company>{n}</Company></Properties>".encode())
        path = folder / f"{n:03d}-{unit}.{fmt}"
        path.write_bytes(rezip(parts))
        paths.append(path)
    return paths


def recorded(url: str) -> dict[tuple[str, str], int]:
    """{(campaign, sha256): rows} straight from the database."""
    with psycopg.connect(url) as conn:
        return {(c, s): n for c, s, n in conn.execute(
            "SELECT campaign, sha256, count(*) FROM returns GROUP BY campaign, sha256").fetchall()}


def start(*args: object, env: dict | None = None) -> subprocess.Popen:
    command = [sys.executable, "-m", "campaign315", *map(str, args)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "COLUMNS": "200", **(env or {})})


def wait_for_line(process: subprocess.Popen, marker: str, within: float = 120) -> None:
    """Read the process's stderr until ``marker`` (a paused fault point says so)."""
    ends = time.monotonic() + within
    line = b""
    while marker.encode() not in line:
        assert time.monotonic() < ends and process.poll() is None, process.stderr.read().decode()
        line = process.stderr.readline()


def poll_until(condition, within: float = 60) -> None:
    """Wait for an observable state (not a moment): ``condition()`` true, checked every 50 ms."""
    ends = time.monotonic() + within
    while not condition():
        assert time.monotonic() < ends, "the awaited state never came"
        time.sleep(0.05)


# --- choosing the store ---------------------------------------------------------------------------


def test_a_sqlite_url_names_the_database_file_and_its_archive_beside_it(tmp_path, forms):
    url = f"sqlite:///{tmp_path}/shared/c315.sqlite"
    path = forms.stats("xlsx")
    result = c315("ingest", "--json", "--store", url, "--received-at", "2020-03-18T10:00", path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "shared" / "c315.sqlite").is_file()
    assert (tmp_path / "shared" / "archive" / sha256(path)[:2] / f"{sha256(path)}.xlsx").read_bytes() == path.read_bytes()
    assert c315("verify", "--store", url).exit_code == 0
    status = json.loads(c315("status", "--json", C315_STORE=url).stdout)
    assert {(r["unit"], r["status"]) for r in status if r["attachment"] == "stats" and r["status"] != "missing"} == {
        ("办公室", "on_time")}


def test_an_unknown_scheme_is_a_usage_error_that_does_not_echo_the_url():
    result = c315("status", "--store", "mysql://root:hunter2@db/c315")
    assert result.exit_code == 2
    assert "hunter2" not in result.output and "postgresql://" in result.output


@pytest.mark.parametrize("url", [
    "postgresql://c315:s3cret-pw@127.0.0.1:{port}/c315",
    "postgresql://c315@localhost:{port}/c315?password=s3cret-pw",
])
def test_an_unreachable_server_is_named_by_host_and_port_never_by_its_password(url, tmp_path):
    with contextlib.closing(__import__("socket").socket()) as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = url.format(port=port)
    for command in (["status"], ["ingest", str(SAMPLES / "区消协值班表.xlsx")], ["store", "migrate"], ["verify"]):
        result = c315(*command, "--store", url, "--workspace", tmp_path)
        assert result.exit_code == 1, (command, result.output)
        assert "无法连接 PostgreSQL 服务器" in result.stderr
        assert str(port) in result.stderr and ("127.0.0.1" in result.stderr or "localhost" in result.stderr)
        assert "s3cret-pw" not in result.output and "Traceback" not in result.output
        assert "PGPASSWORD" in result.stderr  # and told where a password belongs


def test_a_missing_socket_folder_is_named_too(tmp_path):
    result = c315("status", "--store", f"postgresql:///c315?host={tmp_path}/no-server&port=5499")
    assert result.exit_code == 1
    assert f"{tmp_path}/no-server" in result.stderr and "5499" in result.stderr


# --- schema and migrations ------------------------------------------------------------------------


def test_a_new_postgresql_database_needs_store_migrate_and_migrate_is_idempotent(pg_cluster):
    url = pg_cluster.create_database()
    refused = c315("status", "--store", url)
    assert refused.exit_code == 1 and "c315 store migrate" in refused.stderr
    made = c315("store", "migrate", "--store", url)
    assert made.exit_code == 0 and "建好" in made.stdout and f"第 {Store.SCHEMA_VERSION} 版" in made.stdout
    again = c315("store", "migrate", "--store", url)
    assert again.exit_code == 0 and "已是最新" in again.stdout
    assert c315("status", "--json", "--store", url).exit_code == 0


def test_a_store_from_a_newer_c315_is_refused(pg_url, tmp_path):
    with psycopg.connect(pg_url) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099'")
    for command in (["status"], ["store", "migrate"]):
        result = c315(*command, "--store", pg_url)
        assert result.exit_code == 1 and "更新版本" in result.stderr, result.output
    open_store(tmp_path / "s").close()
    with contextlib.closing(sqlite3.connect(tmp_path / "s" / "c315.sqlite")) as db:
        db.execute(f"PRAGMA user_version = {Store.SCHEMA_VERSION + 1}")
    result = c315("status", "--store", f"sqlite:///{tmp_path}/s/c315.sqlite")
    assert result.exit_code == 1 and "更新版本" in result.stderr


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_the_schema_module_is_what_the_migrations_build(backend, request, tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from campaign315.store.schema import metadata

    url = request.getfixturevalue("pg_url") if backend == "postgresql" else tmp_path
    with open_store(url) as store:
        differences = compare_metadata(MigrationContext.configure(store.conn), metadata)
    assert differences == []


@pytest.mark.parametrize(("keeper", "expected"), [({}, "off"), ({"synchronous_commit": "on"}, "on")])
def test_commits_are_as_durable_as_the_embedded_stores_unless_the_keeper_says_otherwise(pg_cluster, keeper, expected):
    url = pg_cluster.create_database(**keeper)
    with open_store(url, migrating=True) as store:
        assert store.conn.exec_driver_sql("SHOW synchronous_commit").scalar() == expected


def _store_of_release(release: int, root: Path) -> Path:
    """A workspace whose store was written by that release (tests/data/stores), its archive rebuilt
    from the same sample files."""
    folder = root / ".c315"
    folder.mkdir(parents=True)
    shutil.copyfile(STORES / f"release-{release}.sqlite", folder / "c315.sqlite")
    for name in ("附件1 值班表(办公室).docx", "市场网监科-附件1值班表.xlsx", "附件2 统计表(办公室).xlsx", "药化科-附件2.docx",
                 "投诉举报中心统计表.docx"):
        digest = sha256(SAMPLES / name)
        target = folder / "archive" / digest[:2] / f"{digest}{Path(name).suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SAMPLES / name, target)
    return root


@pytest.mark.parametrize("release", [1, 2, 3])
def test_a_store_of_an_earlier_release_upgrades_in_place_and_reads_the_same(release, tmp_path, forms):
    workspace = _store_of_release(release, tmp_path / "ws")
    status = c315("status", "--json", "--workspace", workspace)
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout) == json.loads((STORES / "release-2-status.json").read_text(encoding="utf-8"))
    summary = c315("summary", "--json", "--workspace", workspace, "--out", tmp_path / "summary")
    assert json.loads(summary.stdout) == json.loads((STORES / "release-2-summary.json").read_text(encoding="utf-8"))
    with contextlib.closing(sqlite3.connect(workspace / ".c315" / "c315.sqlite")) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (Store.SCHEMA_VERSION,)
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(SCHEMA_REVISION,)]
        assert db.execute("SELECT count(*) FROM returns").fetchone() == (5,)
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert c315("verify", "--workspace", workspace).exit_code == 0
    added = c315("ingest", "--json", "--workspace", workspace, "--received-at", "2020-03-19T09:00",
                 forms.stats("xlsx", unit="广告科"))
    assert [r["outcome"] for r in json.loads(added.stdout)] == ["accepted"]
    reviewed = c315("review", "办公室", "附件2", "--reject", "--note", "升级后审核", "--json", "--workspace", workspace)
    assert reviewed.exit_code == 0, reviewed.output
    assert json.loads(reviewed.stdout)["status"] == "rejected"  # the upgraded store keeps reviews like a new one


# --- c315 store copy ------------------------------------------------------------------------------


def test_store_copy_to_postgresql_and_back_is_idempotent_and_verifies_clean(tmp_path, pg_url):
    workspace = _store_of_release(2, tmp_path / "ws")
    first = c315("store", "copy", "--to", pg_url, "--workspace", workspace)
    assert first.exit_code == 0, first.output
    assert "新复制 5 份" in first.stdout and "s3cret" not in first.stdout
    second = c315("store", "copy", "--to", pg_url, "--workspace", workspace)
    assert "新复制 0 份" in second.stdout and "已有（跳过）5 份" in second.stdout
    assert c315("verify", "--store", pg_url).exit_code == 0
    assert c315("verify", "--workspace", workspace).exit_code == 0
    expected = json.loads((STORES / "release-2-summary.json").read_text(encoding="utf-8"))
    on_pg = c315("summary", "--json", "--store", pg_url, "--workspace", workspace, "--out", tmp_path / "s1")
    assert json.loads(on_pg.stdout) == expected
    back = f"sqlite:///{tmp_path}/back/c315.sqlite"
    assert "新复制 5 份" in c315("store", "copy", "--store", pg_url, "--to", back).stdout
    assert c315("verify", "--store", back).exit_code == 0
    on_back = c315("summary", "--json", "--store", back, "--out", tmp_path / "s2")
    assert json.loads(on_back.stdout) == expected


# --- several processes, one store -----------------------------------------------------------------

PROCESSES = 4
FILES = 40


def test_several_processes_ingesting_the_same_files_record_each_exactly_once(tmp_path, pg_url):
    paths = distinct_returns(tmp_path / "returned", FILES)
    running = [start("ingest", "--json", "--store", pg_url, "--received-at", "2020-03-18T10:00", *paths)
               for _ in range(PROCESSES)]
    outputs = [process.communicate(timeout=600) for process in running]
    assert [process.returncode for process in running] == [0] * PROCESSES, [err[-2000:] for _, err in outputs]
    outcomes = [r["outcome"] for out, _ in outputs for r in json.loads(out)]
    assert len(outcomes) == PROCESSES * FILES
    assert outcomes.count("accepted") == FILES and outcomes.count("duplicate") == (PROCESSES - 1) * FILES
    assert recorded(pg_url) == {("heping-2020-315", sha256(path)): 1 for path in paths}
    assert c315("verify", "--store", pg_url).exit_code == 0


def test_a_large_batch_archives_from_the_pool_workers_each_with_its_own_connection(tmp_path, pg_url):
    from campaign315.intake.ingest import PARALLEL_FROM

    paths = distinct_returns(tmp_path / "returned", PARALLEL_FROM + 20, fmt="docx")
    done = start("ingest", "--json", "--store", pg_url, "--received-at", "2020-03-18T10:00", *paths)
    out, err = done.communicate(timeout=600)
    assert done.returncode == 0, err.decode()[-2000:]
    assert {r["outcome"] for r in json.loads(out)} == {"accepted"}
    assert recorded(pg_url) == {("heping-2020-315", sha256(path)): 1 for path in paths}
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*), sum(size) FROM archive_files").fetchone() == (
            len(paths), sum(path.stat().st_size for path in paths))
    assert c315("verify", "--store", pg_url).exit_code == 0


def test_a_transaction_the_server_cannot_serialise_is_tried_again(tmp_path, pg_cluster):
    """The database's default isolation is SERIALIZABLE (a keeper may set it so): one process holds
    a file's row uncommitted (paused at a fault point), a second records the same file and waits
    on it; when the first commits, the second's transaction fails to serialise (SQLSTATE 40001)
    and is tried again, finding the file recorded — a duplicate, not an error."""
    url = pg_cluster.create_database(default_transaction_isolation="serializable")
    assert c315("store", "migrate", "--store", url).exit_code == 0
    (path,) = distinct_returns(tmp_path / "returned", 1)
    first = start("ingest", "--json", "--store", url, path, env={"C315_FAULT": "in-transaction:1:pause"})
    wait_for_line(first, PAUSED)
    second = start("ingest", "--json", "--store", url, path)

    def second_waits_on_the_first() -> bool:
        with psycopg.connect(url) as conn:
            return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'c315'"
                                " AND wait_event_type = 'Lock'").fetchone()[0] == 1

    poll_until(second_waits_on_the_first)
    first.send_signal(signal.SIGUSR1)
    out_first, _ = first.communicate(timeout=120)
    out_second, err_second = second.communicate(timeout=120)
    assert (first.returncode, second.returncode) == (0, 0), err_second
    assert [r["outcome"] for r in json.loads(out_first)] == ["accepted"]
    assert [r["outcome"] for r in json.loads(out_second)] == ["duplicate"]
    assert recorded(url) == {("heping-2020-315", sha256(path)): 1}


def test_a_connection_lost_mid_ingest_leaves_whole_returns_names_the_rest_and_a_rerun_completes(tmp_path, pg_url):
    paths = distinct_returns(tmp_path / "returned", 6)
    process = start("ingest", "--store", pg_url, "--received-at", "2020-03-18T10:00", *paths,
                    env={"C315_FAULT": "in-transaction:3:pause"})
    wait_for_line(process, PAUSED)
    with psycopg.connect(pg_url) as conn:  # the server drops every c315 session, as a restart would
        ended = conn.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                             " WHERE application_name = 'c315'").fetchone()[0]
    assert ended >= 1
    process.send_signal(signal.SIGUSR1)
    _, err = process.communicate(timeout=120)
    said = err.decode()
    assert process.returncode == 1 and "Traceback" not in said
    assert "连接中断" in said and "整份入库" in said
    # Returns are recorded in batches, one transaction each: the batch holding the third return
    # went with the connection, the batches committed before it (the first files, whichever
    # they were) are whole, and the message names every file after them.
    kept = recorded(pg_url)
    done = len(kept)
    assert done <= 2
    assert kept == {("heping-2020-315", sha256(path)): 1 for path in paths[:done]}
    not_recorded = said[said.index("没有入库："):]
    assert all(path.name in not_recorded for path in paths[done:])
    assert not any(path.name in not_recorded for path in paths[:done])
    with psycopg.connect(pg_url) as conn:  # the lost batch's rows went with its transaction
        assert conn.execute("SELECT count(*) FROM stats_lines").fetchone()[0] == done * len(GOOD_QUANTITIES)

    rerun = c315("ingest", "--json", "--store", pg_url, "--received-at", "2020-03-18T10:00", *paths)
    assert rerun.exit_code == 0, rerun.output
    assert [r["outcome"] for r in json.loads(rerun.stdout)] == ["duplicate"] * done + ["accepted"] * (6 - done)
    assert recorded(pg_url) == {("heping-2020-315", sha256(path)): 1 for path in paths}
    with open_store(pg_url) as store:
        assert verify_store(store) == []


# --- campaigns side by side; the city -------------------------------------------------------------


def district_workspace(root: Path, campaign_id: str, district: str, short: str) -> Path:
    """``c315 init`` and the district's name and id changed, as another district's office would."""
    assert c315("init", root).exit_code == 0
    toml = root / CAMPAIGN_FILE
    text = toml.read_text(encoding="utf-8").replace('id = "heping-2020-315"', f'id = "{campaign_id}"')
    text = text.replace('name = "和平区市场监管局"\naliases = ["和平区", "和平区市场监督管理局", "天津市和平区市场监督管理局"]',
                        f'name = "{district}"\naliases = ["{short}"]')
    toml.write_text(text, encoding="utf-8")
    assert load_campaign(toml).district.name == district
    return root


def test_districts_and_the_city_share_one_store_and_never_see_each_others_returns(tmp_path, pg_url):
    heping = tmp_path / "heping"
    heping.mkdir()
    hexi = district_workspace(tmp_path / "hexi", "hexi-2020-315", "河西区市场监管局", "河西区")
    sent = {heping: {"1.1": 3, "2.1": 1}, hexi: {"1.1": 40, "2.1": 7}}
    shared = {}
    for workspace, quantities in sent.items():
        campaign = load_campaign(workspace / CAMPAIGN_FILE) if (workspace / CAMPAIGN_FILE).exists() else None
        path = fill_stats(blank(tmp_path / "filled" / workspace.name, "办公室", "stats", "xlsx", campaign=campaign),
                          quantities, **FILLER)
        shared[workspace] = path
        done = c315("ingest", "--json", "--received-at", "2020-03-18T10:00", path, C315_STORE=pg_url,
                    C315_WORKSPACE=str(workspace))
        assert [r["outcome"] for r in json.loads(done.stdout)] == ["accepted"], done.output
    # the same bytes sent to the other district are that district's return to judge: recorded there too
    crossed = c315("ingest", "--json", "--received-at", "2020-03-18T11:00", shared[heping], C315_STORE=pg_url,
                   C315_WORKSPACE=str(hexi))
    (result,) = json.loads(crossed.stdout)
    assert result["outcome"] == "rejected" and "wrong-campaign" in [p["code"] for p in result["problems"]]

    summaries = {}
    for workspace in sent:
        out = c315("summary", "--json", "--out", tmp_path / "summary" / workspace.name, C315_STORE=pg_url,
                   C315_WORKSPACE=str(workspace))
        assert out.exit_code == 0, out.output
        summaries[workspace] = {t["item"]: t["quantity"] for t in json.loads(out.stdout)["totals"]}
    assert (summaries[heping]["组织普法活动"], summaries[heping]["举办座谈会"]) == (3, 1)
    assert (summaries[hexi]["组织普法活动"], summaries[hexi]["举办座谈会"]) == (40, 7)
    listed = json.loads(c315("campaigns", "--json", "--store", pg_url, "--workspace", hexi).stdout)
    assert {r["id"]: r["stored"] for r in listed} == {"heping-2020-315": 1, "hexi-2020-315": 2, CITY: 0}

    # the city ingests both district summaries into the same store, by --campaign, from any workspace
    district_files = [next(p for p in (tmp_path / "summary" / w.name).iterdir() if "附件2" in p.name and p.suffix == ".xlsx")
                      for w in sent]
    roster = next(p for p in (tmp_path / "summary" / "heping").iterdir() if "附件1" in p.name and p.suffix == ".xlsx")
    city = c315("ingest", "--json", "--campaign", CITY, "--received-at", "2020-03-20T09:00", *district_files, roster,
                C315_STORE=pg_url, C315_WORKSPACE=str(heping))
    results = json.loads(city.stdout)
    assert [(r["outcome"], r["unit"]) for r in results] == [("accepted", "和平区"), ("accepted", "河西区"), ("rejected", None)]
    assert [p["code"] for p in results[2]["problems"]] == ["attachment-not-collected"]
    assert "只收附件2" in results[2]["problems"][0]["message"]
    rollup = json.loads(c315("summary", "--json", "--campaign", CITY, "--out", tmp_path / "city", C315_STORE=pg_url,
                             C315_WORKSPACE=str(hexi)).stdout)
    totals = {t["item"]: t for t in rollup["totals"]}
    assert (totals["组织普法活动"]["quantity"], totals["举办座谈会"]["quantity"]) == (43, 8)
    assert totals["组织普法活动"]["reported_by"] == ["和平区", "河西区"]
    assert len(totals["组织普法活动"]["not_reported_by"]) == 14
    assert rollup["roster"] == [] and {u["roster"] for u in rollup["units"]} <= {None, "missing", "not_owed"} | {
        u["roster"] for u in rollup["units"]}
    status = json.loads(c315("status", "--json", "--campaign", CITY, C315_STORE=pg_url).stdout)
    assert {r["attachment"] for r in status} == {"stats"} and len(status) == 16


def test_the_city_campaign_is_shipped_with_its_sixteen_districts_collecting_only_attachment_2(tmp_path):
    listed = json.loads(c315("campaigns", "--json", "--workspace", tmp_path).stdout)
    assert [(r["id"], r["units"], r["parent"], r["current"]) for r in listed] == [
        ("heping-2020-315", 18, CITY, True), (CITY, 16, None, False)]
    made = c315("init", "--campaign", CITY, tmp_path / "city")
    assert made.exit_code == 0, made.output
    city = load_campaign(tmp_path / "city" / CAMPAIGN_FILE)
    assert [u.name for u in city.units] == ["和平区", "河东区", "河西区", "南开区", "河北区", "红桥区", "东丽区", "西青区", "津南区",
                                            "北辰区", "武清区", "宝坻区", "宁河区", "静海区", "蓟州区", "滨海新区"]
    assert {u.returns for u in city.units} == {("stats",)} and city.find_unit("和平区市场监管局").name == "和平区"
    generated = c315("generate-forms", "--out", tmp_path / "forms", "--workspace", tmp_path / "city")
    assert generated.exit_code == 0, generated.output
    files = sorted(p.name for p in (tmp_path / "forms").rglob("*.*"))
    assert len(files) == 32 and all(name.startswith("附件2") for name in files)
    assert c315("init", "--campaign", "no-such-campaign", tmp_path / "x").exit_code == 2
    assert c315("status", "--campaign", "no-such-campaign", "--workspace", tmp_path).exit_code == 2


def test_a_store_of_schema_3_before_alembic_keeps_its_places(tmp_path):
    """A store written between the second release and the shared store (schema 3 without Alembic:
    a return's ``place``, unique per SHA-256 and place) goes through the same migrations and keeps
    every place — a file recorded as two returns stays two."""
    workspace = _store_of_release(2, tmp_path / "ws")
    database = workspace / ".c315" / "c315.sqlite"
    with contextlib.closing(sqlite3.connect(database)) as db, db:
        db.execute("PRAGMA foreign_keys=OFF")
        columns = [row[1] for row in db.execute("PRAGMA table_info(returns)")]
        db.execute("CREATE TABLE returns_v3 (id INTEGER PRIMARY KEY, campaign TEXT NOT NULL, sha256 TEXT NOT NULL,"
                   " place TEXT NOT NULL DEFAULT '', filename TEXT NOT NULL, source_path TEXT NOT NULL,"
                   " archive_key TEXT NOT NULL, unit TEXT, attachment TEXT, outcome TEXT NOT NULL,"
                   " received_at TEXT NOT NULL, received_ts REAL NOT NULL, document_modified TEXT,"
                   " filler TEXT NOT NULL DEFAULT '', filler_phone TEXT NOT NULL DEFAULT '', errors INTEGER NOT NULL,"
                   " warnings INTEGER NOT NULL, ingested_at TEXT NOT NULL, UNIQUE (sha256, place))")
        db.execute(f"INSERT INTO returns_v3 ({', '.join(columns)}) SELECT {', '.join(columns)} FROM returns")
        db.execute("DROP TABLE returns")
        db.execute("ALTER TABLE returns_v3 RENAME TO returns")
        (first, sha), *_ = db.execute("SELECT id, sha256 FROM returns ORDER BY id").fetchall()
        db.execute("UPDATE returns SET place = '值班表' WHERE id = ?", (first,))
        db.execute("INSERT INTO returns (campaign, sha256, place, filename, source_path, archive_key, unit, attachment,"
                   " outcome, received_at, received_ts, errors, warnings, ingested_at)"
                   " SELECT campaign, sha256, '统计表', filename, source_path, archive_key, unit, NULL, 'rejected',"
                   " received_at, received_ts, 0, 0, ingested_at FROM returns WHERE id = ?", (first,))
        db.execute("PRAGMA user_version = 3")
    with open_store(workspace / ".c315") as store:
        campaign = load_campaign(shipped("data") / CAMPAIGN_FILE)
        places = sorted(r.place for r in store.returns(campaign.id) if r.sha256 == sha)
        assert verify_store(store) == []
    assert places == ["值班表", "统计表"]
    with contextlib.closing(sqlite3.connect(database)) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (Store.SCHEMA_VERSION,)
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(SCHEMA_REVISION,)]
