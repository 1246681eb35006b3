"""``c315 serve`` as it runs: real server processes on a free loopback port — on the store the rest
of the command line uses (a SQLite file ``--store`` or ``C315_STORE`` names, a database in a real
throw-away PostgreSQL cluster), with several worker processes sharing the one-time login link and
the collector's session, and with a failure inside a request answered by the plain 500 and its
security headers. Readiness and the spread over workers are polled (bounded loops on a condition);
no test sleeps to a moment or measures time."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import cli_runner
from guards import deadline
from test_crash import c315_environment

httpx = pytest.importorskip("httpx2")
pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from campaign315.cli import app as cli_app  # noqa: E402
from campaign315.common.faults import FAILED  # noqa: E402
from campaign315.serve.app import SESSION_COOKIE, build_app  # noqa: E402
from campaign315.serve.sessions import Sessions, new_login, use_login  # noqa: E402
from campaign315.spec.workspace import Workspace  # noqa: E402

OFFICE = "办公室"
START = 120
"""Seconds a server may take to print its start-up lines and answer (a bound on a hang, not a timing)."""
PASSWORD = "s3cret-pw"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Running:
    """A ``c315 serve`` process: its base URL, start-up line, login link and log (its stderr)."""

    base: str
    started: str
    login: str
    log_file: Path

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8")

    def served_by(self, line: str) -> set[str]:
        """The process ids that logged a request line starting with ``line`` (``GET /api/status 200``)."""
        return set(re.findall(rf"\[(\d+)\] {re.escape(line)}", self.log()))


@contextlib.contextmanager
def serving(workspace: Path, tmp_path: Path, *args: object, fault: str | None = None, **env: str):
    """Start ``c315 serve ARGS`` for ``workspace`` on a free port; yield it once it answers; stop it."""
    port = free_port()
    log_file = tmp_path / f"serve-{port}.log"
    with log_file.open("wb") as log:
        child = subprocess.Popen([sys.executable, "-m", "campaign315", "serve", "--port", str(port), *map(str, args)],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, text=True,
                                 env=c315_environment(fault, C315_WORKSPACE=str(workspace), PYTHONUNBUFFERED="1", **env),
                                 start_new_session=True)
    try:
        with deadline(START):
            started, login = child.stdout.readline(), child.stdout.readline()
        assert login.startswith("汇总人登录链接"), (started, login, log_file.read_text(encoding="utf-8")[-3000:])
        running = Running(f"http://127.0.0.1:{port}", started, login.split("：", 1)[1].strip(), log_file)
        ends = time.monotonic() + START
        while True:  # poll until it answers: a bounded loop on a condition
            try:
                if httpx.get(f"{running.base}/static/c315.css").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert child.poll() is None and time.monotonic() < ends, running.log()[-3000:]
            time.sleep(0.05)
        yield running
    finally:
        child.terminate()
        try:
            child.communicate(timeout=START)
        except subprocess.TimeoutExpired:  # a hang: ours to end
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate()


def links(workspace: Path, base: str) -> dict[str, str]:
    """Each unit's token (``c315 serve links --json``)."""
    found = json.loads(cli_runner(C315_WORKSPACE=str(workspace)).invoke(cli_app, ["serve", "links", "--json", "--url", base]).stdout)
    return {link["unit"]: link["token"] for link in found}


def hand_in(base: str, path: Path, token: str) -> list[dict]:
    answer = httpx.post(f"{base}/api/returns", headers={"Authorization": f"Bearer {token}"},
                        files={"file": (path.name, path.read_bytes())})
    assert answer.status_code == 200, answer.text
    return answer.json()


def history(workspace: Path, store: str | None) -> list[dict]:
    """``c315 history --json`` on the workspace and the store named (None: the workspace's own)."""
    result = cli_runner(C315_WORKSPACE=str(workspace), C315_STORE=store).invoke(cli_app, ["history", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --- the store the command line uses ----------------------------------------------------------------


@pytest.mark.parametrize("named_by", ["--store", "C315_STORE"])
def test_serve_works_on_the_sqlite_file_the_store_option_names(named_by, workspace, forms, tmp_path):
    database = tmp_path / "elsewhere" / "c315.sqlite"
    url = f"sqlite:///{database}"
    args, env = (["--store", url], {}) if named_by == "--store" else ([], {"C315_STORE": url})
    with serving(workspace, tmp_path, *args, **env) as running:
        assert "SQLite" in running.started and str(database) in running.started, running.started
        (result,) = hand_in(running.base, forms.stats("xlsx", unit=OFFICE), links(workspace, running.base)[OFFICE])
        assert result["outcome"] == "accepted"
    assert [(e["unit"], e["attachment"]) for e in history(workspace, url)] == [(OFFICE, "stats")]
    assert not (workspace / ".c315" / "c315.sqlite").exists()  # the workspace's own store was never opened


def test_serve_works_on_postgresql_and_never_shows_the_password(workspace, forms, pg_url, tmp_path):
    with_password = pg_url.replace("postgresql://postgres@", f"postgresql://postgres:{PASSWORD}@")
    assert with_password != pg_url
    with serving(workspace, tmp_path, "--store", with_password) as running:
        dbname = pg_url.split("/")[3].split("?")[0]
        assert "PostgreSQL" in running.started and dbname in running.started, running.started
        assert PASSWORD not in running.started and PASSWORD not in running.login
        (result,) = hand_in(running.base, forms.stats("xlsx", unit=OFFICE), links(workspace, running.base)[OFFICE])
        assert result["outcome"] == "accepted"
    assert [(e["unit"], e["outcome"]) for e in history(workspace, pg_url)] == [(OFFICE, "accepted")]
    assert not (workspace / ".c315" / "c315.sqlite").exists()
    log = running.log()
    assert PASSWORD not in log and "PGPASSWORD" in log  # the reminder to keep it out of the URL, not the password


@pytest.mark.parametrize("args", [["--workers", "2", "--store", "sqlite:///{tmp}/c315.sqlite"], ["--workers", "3"],
                                  ["--workers", "0"]])
def test_several_workers_need_postgresql(args, workspace, tmp_path):
    result = cli_runner(C315_WORKSPACE=str(workspace)).invoke(cli_app, ["serve", *(a.format(tmp=tmp_path) for a in args)])
    assert result.exit_code == 2, result.output
    assert "--workers" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "c315.sqlite").exists()


# --- several workers: one login link, one session --------------------------------------------------


def test_workers_share_the_login_link_and_the_session(workspace, forms, pg_url, tmp_path):
    with serving(workspace, tmp_path, "--workers", "2", "--store", pg_url) as running:
        assert "2 个服务进程" in running.started
        first = httpx.get(running.login, follow_redirects=False)
        assert first.status_code == 303, first.text
        cookie = first.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        session = {SESSION_COOKIE: first.cookies[SESSION_COOKIE]}
        csrf = re.search(r'data-csrf="([^"]+)"', httpx.get(f"{running.base}/", cookies=session).text).group(1)
        check = forms.stats("xlsx", unit=OFFICE)
        upload = {"file": (check.name, check.read_bytes())}

        # Many requests, each on a new connection, until both workers have answered both kinds (bounded).
        requests = 0
        while requests < 400 and (len(running.served_by("GET /api/status 200 汇总人")) < 2
                                  or len(running.served_by("POST /api/returns 200 汇总人")) < 2 or requests < 20):
            status = httpx.get(f"{running.base}/api/status", cookies=session)
            assert status.status_code == 200, status.text
            checked = httpx.post(f"{running.base}/api/returns?check=1", cookies=session, files=upload,
                                 headers={"X-CSRF-Token": csrf})
            assert checked.status_code == 200 and checked.json()[0]["outcome"] == "accepted", checked.text
            requests += 2
        workers = running.served_by("GET /api/status 200 汇总人")
        assert len(workers) == 2 and running.served_by("POST /api/returns 200 汇总人") == workers, running.log()[-3000:]

        # The session hands in too (stored once, in PostgreSQL); without its CSRF token it cannot.
        sent = httpx.post(f"{running.base}/api/returns", cookies=session, files=upload, headers={"X-CSRF-Token": csrf})
        assert [r["outcome"] for r in sent.json()] == ["accepted"]
        refused = httpx.post(f"{running.base}/api/returns", cookies=session, files=upload)
        assert refused.status_code == 403

        # The link again, until both workers have refused it (bounded): it opened one session only.
        tries = 0
        while tries < 200 and len(running.served_by("GET /login 401")) < 2:
            assert httpx.get(running.login, follow_redirects=False).status_code == 401
            tries += 1
        assert running.served_by("GET /login 401") == workers and len(running.served_by("GET /login 303")) == 1
        forged = {SESSION_COOKIE: session[SESSION_COOKIE][:-1] + ("0" if session[SESSION_COOKIE][-1] != "0" else "1")}
        assert httpx.get(f"{running.base}/api/status", cookies=forged).status_code == 401
    assert [(e["unit"], e["outcome"]) for e in history(workspace, pg_url)] == [(OFFICE, "accepted")]
    log = running.log()
    secret = running.login.rsplit("=", 1)[1]
    assert "Traceback" not in log and secret not in log and session[SESSION_COOKIE] not in log


def test_a_session_made_by_one_app_works_in_another_of_the_same_workspace(workspace, forms):
    """Two applications of one workspace, as two workers build them: the link used on one is spent
    on the other; the session and CSRF token made by one are good on the other."""
    ws = Workspace(workspace)
    once = new_login(ws.store_dir)
    with TestClient(build_app(ws), raise_server_exceptions=False) as one, \
            TestClient(build_app(Workspace(workspace)), raise_server_exceptions=False) as other:
        assert one.get(f"/login?once={once}", follow_redirects=False).status_code == 303
        assert other.get(f"/login?once={once}", follow_redirects=False).status_code == 401
        session = one.cookies[SESSION_COOKIE]
        csrf = re.search(r'data-csrf="([^"]+)"', one.get("/").text).group(1)
        other.cookies.set(SESSION_COOKIE, session)
        assert re.search(r'data-csrf="([^"]+)"', other.get("/").text).group(1) == csrf
        path = forms.stats("xlsx", unit=OFFICE)
        files = {"file": (path.name, path.read_bytes())}
        assert other.post("/api/returns?check=1", files=files, headers={"X-CSRF-Token": csrf}).status_code == 200
        assert other.post("/api/returns?check=1", files=files, headers={"X-CSRF-Token": "校验码".encode()}).status_code == 403
        other.cookies.set(SESSION_COOKIE, Sessions(b"another key" * 3).issue())
        assert other.get("/api/status").status_code == 401


def test_a_login_link_opens_one_session_when_many_use_it_at_once(workspace):
    store_dir = Workspace(workspace).store_dir
    once = new_login(store_dir)
    together = threading.Barrier(16)
    opened = []

    def use() -> None:
        together.wait()
        opened.append(use_login(store_dir, once))

    threads = [threading.Thread(target=use) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(opened) == [False] * 15 + [True]


def test_a_new_start_voids_the_link_printed_before_and_nothing_else_opens_a_session(workspace):
    store_dir = Workspace(workspace).store_dir
    earlier = new_login(store_dir)
    later = new_login(store_dir)
    assert not use_login(store_dir, earlier)
    for guess in ("", None, "../serve-tokens.json", "x" * 43, "链接" * 20, later.upper() if later != later.upper() else "y" * 43):
        assert not use_login(store_dir, guess)
    assert use_login(store_dir, later) and not use_login(store_dir, later)


def test_sessions_are_signed_and_expire():
    sessions = Sessions(b"k" * 32, lifetime=3600)
    cookie = sessions.issue(now=1_000)
    assert sessions.valid(cookie, now=1_000) and sessions.valid(cookie, now=4_599)
    assert not sessions.valid(cookie, now=4_600)  # expired
    expires, nonce, signature = cookie.split(".")
    assert not sessions.valid(f"{int(expires) + 10**6}.{nonce}.{signature}", now=1_000)  # expiry pushed back
    assert not Sessions(b"j" * 32).valid(cookie, now=1_000)  # another server's key
    for junk in ("", None, "a.b.c", cookie + ".x", f"{expires}.{nonce}.{'Ｆ' * 64}", f"٣٣.{nonce}.{signature}"):
        assert not sessions.valid(junk, now=1_000)
    assert sessions.csrf(cookie) == Sessions(b"k" * 32).csrf(cookie) != Sessions(b"j" * 32).csrf(cookie)
    assert not sessions.csrf_ok(cookie, "校验码") and not sessions.csrf_ok(cookie, None)


# --- a failure inside a request ----------------------------------------------------------------------


def test_a_failure_inside_a_request_is_a_plain_500_with_the_security_headers(workspace, tmp_path):
    collector = cli_runner(C315_WORKSPACE=str(workspace)).invoke(cli_app, ["serve", "token", "--collector"]).stdout.strip()
    bearer = {"Authorization": f"Bearer {collector}"}
    with serving(workspace, tmp_path, fault="request:/api/status:raise") as running:
        failed = httpx.get(f"{running.base}/api/status", headers=bearer)
        assert failed.status_code == 500
        assert failed.headers["content-type"].startswith("application/json")
        assert failed.json()["error"] == "internal" and "汇总人" in failed.json()["message"]
        csp = failed.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
        assert failed.headers["x-content-type-options"] == "nosniff"
        assert failed.headers["x-frame-options"] == "DENY"
        for inside in ("Traceback", "RuntimeError", FAILED, "File \"", ".py"):
            assert inside not in failed.text
        assert httpx.get(f"{running.base}/api/history", headers=bearer).status_code == 200  # it carries on
    log = running.log()
    assert FAILED in log and "Traceback" in log  # the fault did fire, and the details went to the log only
    assert collector not in log
