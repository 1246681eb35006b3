"""``c315 serve``: the API through Starlette's test client — every endpoint, role and error — and
the security checks (tokens, CSRF, escaping, headers, the upload cap, the hostile corpus)."""

from __future__ import annotations

import io
import json
import logging
import re
import stat
import zipfile

import pytest
from conftest import cli_runner

pytest.importorskip("starlette")
from starlette.testclient import TestClient  # noqa: E402

from campaign315.cli import app as cli_app  # noqa: E402
from campaign315.serve.app import build_app  # noqa: E402
from campaign315.serve.sessions import new_login  # noqa: E402
from campaign315.serve.tokens import TOKENS_FILE, Tokens, digest  # noqa: E402
from campaign315.spec.workspace import Workspace  # noqa: E402

OFFICE = "办公室"


@pytest.fixture
def server(workspace):
    """The app for the test's workspace, a test client, the unit links, a collector token and the
    one-time login secret (made as ``c315 serve`` makes it before it starts)."""
    ws = Workspace(workspace)
    application = build_app(ws)
    tokens = Tokens(ws.store_dir, ws.campaign.id)
    links = tokens.unit_tokens([u.name for u in ws.campaign.units])
    collector = tokens.new_collector_token()
    with TestClient(application, raise_server_exceptions=False) as client:
        yield Server(client, application.state.console, links, collector, ws, new_login(ws.store_dir))


class Server:
    def __init__(self, client, console, links, collector, ws, once):
        self.client, self.console, self.links, self.collector, self.ws = client, console, links, collector, ws
        self.once = once

    def bearer(self, token):
        return {"Authorization": f"Bearer {token}"}

    def upload(self, path, token, check=False, name=None):
        return self.client.post("/api/returns" + ("?check=1" if check else ""), headers=self.bearer(token),
                                files={"file": (name or path.name, path.read_bytes())})

    def login(self):
        answer = self.client.get(f"/login?once={self.once}", follow_redirects=False)
        assert answer.status_code == 303
        board = self.client.get("/")
        assert board.status_code == 200
        return re.search(r'data-csrf="([^"]+)"', board.text).group(1)


def stored_count(server) -> int:
    from campaign315.store import open_store

    with open_store(server.ws.store_dir) as store:
        return len(store.returns(server.ws.campaign.id))


# --- the API: what it answers, for whom ----------------------------------------------------------


def test_a_unit_checks_then_hands_in_its_own_form_and_gets_ingest_json(server, forms, ingest_json, tmp_path):
    bad = forms.stats("xlsx", {"1.1": "-3", "1.2": "abc"}, unit=OFFICE)
    checked = server.upload(bad, server.links[OFFICE], check=True)
    assert checked.status_code == 200
    (result,) = checked.json()
    assert (result["unit"], result["attachment"], result["outcome"]) == (OFFICE, "stats", "rejected")
    assert len([p for p in result["problems"] if p["severity"] == "error"]) == 2
    assert stored_count(server) == 0  # a check stores nothing

    good = forms.stats("xlsx", unit=OFFICE)
    sent = server.upload(good, server.links[OFFICE])
    (result,) = sent.json()
    assert (result["outcome"], result["problems"], result["file"]) == ("accepted", [], good.name)
    assert stored_count(server) == 1
    # the same shape and content as c315 ingest --json of that file (received_at aside: upload time)
    _, (cli,) = ingest_json("--dry-run", good)
    assert {k: v for k, v in result.items() if k not in ("received_at", "file")} == \
           {k: v for k, v in cli.items() if k not in ("received_at", "file")}


def test_another_units_form_is_rejected_unit_mismatch_and_stored_nowhere(server, forms):
    other = forms.stats("xlsx", unit="药化科")
    answer = server.upload(other, server.links[OFFICE])
    assert answer.status_code == 200
    (result,) = answer.json()
    assert result["outcome"] == "rejected"
    assert "unit-mismatch" in {p["code"] for p in result["problems"]}
    assert stored_count(server) == 0
    assert not any(server.ws.store_dir.joinpath("archive").rglob("*.xlsx"))


def test_the_collector_hands_in_any_units_file(server, forms):
    answer = server.upload(forms.stats("xlsx", unit="药化科"), server.collector)
    assert [r["outcome"] for r in answer.json()] == ["accepted"]


def test_collector_endpoints_give_the_cli_json(server, forms, c315):
    server.upload(forms.stats("xlsx", unit=OFFICE), server.links[OFFICE])
    for path, args in (("/api/status", ["status"]), ("/api/history", ["history"]),
                       ("/api/summary?deadline=2020-03-19", ["summary", "--deadline", "2020-03-19", "--out", server.ws.root / "s"])):
        answer = server.client.get(path, headers=server.bearer(server.collector))
        assert answer.status_code == 200, answer.text
        cli = json.loads(c315(*args, "--json").stdout)
        if path == "/api/history":  # history adds each return's problems to the CLI's fields
            assert [{k: v for k, v in e.items() if k != "problems"} for e in answer.json()] == cli
        else:
            assert answer.json() == cli


def test_a_bad_deadline_is_a_400_with_a_chinese_message(server):
    answer = server.client.get("/api/summary?deadline=明天", headers=server.bearer(server.collector))
    assert answer.status_code == 400 and answer.json()["message"]


def test_the_summary_zip_holds_the_district_stats(server, forms):
    server.upload(forms.stats("xlsx", unit=OFFICE), server.links[OFFICE])
    answer = server.client.get("/api/summary.zip?deadline=2020-03-19", headers=server.bearer(server.collector))
    assert answer.status_code == 200
    with zipfile.ZipFile(io.BytesIO(answer.content)) as bundle:
        names = bundle.namelist()
        summary = json.loads(bundle.read("summary.json"))
    assert any(name.endswith(".xlsx") for name in names)
    assert summary == server.client.get("/api/summary?deadline=2020-03-19", headers=server.bearer(server.collector)).json()


@pytest.mark.parametrize("path", ["/api/status", "/api/history", "/api/summary", "/api/summary.zip"])
def test_roles_on_collector_endpoints(server, path):
    assert server.client.get(path).status_code == 401
    assert server.client.get(path, headers=server.bearer("not-a-token")).status_code == 401
    assert server.client.get(path, headers=server.bearer(server.links[OFFICE])).status_code == 403
    assert server.client.get(path, headers=server.bearer(server.collector)).status_code == 200


def test_uploading_needs_a_token(server, forms):
    path = forms.stats("xlsx", unit=OFFICE)
    assert server.client.post("/api/returns", files={"file": ("a.xlsx", path.read_bytes())}).status_code == 401
    assert server.upload(path, "forged").status_code == 401


def test_a_revoked_token_is_refused_and_the_unit_gets_a_new_link(server, runner):
    old = server.links[OFFICE]
    result = runner.invoke(cli_app, ["serve", "token", "--revoke", old])
    assert result.exit_code == 0, result.output
    assert server.client.get(f"/u/{old}").status_code == 401
    links = json.loads(runner.invoke(cli_app, ["serve", "links", "--json"]).stdout)
    (office,) = [link for link in links if link["unit"] == OFFICE]
    assert office["token"] != old and office["url"].endswith(f"/u/{office['token']}")
    assert server.client.get(f"/u/{office['token']}").status_code == 200
    collector = server.collector
    assert runner.invoke(cli_app, ["serve", "token", "--revoke", collector]).exit_code == 0
    assert server.client.get("/api/status", headers=server.bearer(collector)).status_code == 401


def test_serve_token_collector_prints_the_token_alone_and_it_works(server, runner):
    result = runner.invoke(cli_app, ["serve", "token", "--collector"])
    token = result.stdout.strip()
    assert result.exit_code == 0 and "\n" not in token and len(token) >= 40
    assert server.client.get("/api/status", headers=server.bearer(token)).status_code == 200


def test_links_are_stable_and_tokens_are_stored_hashed(server, runner):
    first = json.loads(runner.invoke(cli_app, ["serve", "links", "--json"]).stdout)
    second = json.loads(runner.invoke(cli_app, ["serve", "links", "--json"]).stdout)
    assert first == second and {link["unit"] for link in first} == {u.name for u in server.ws.campaign.units}
    kept = server.ws.store_dir / TOKENS_FILE
    text = kept.read_text()
    assert all(link["token"] not in text for link in first) and server.collector not in text
    assert digest(server.collector) in text
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600


def test_workers_above_one_are_refused_with_sqlite(workspace):
    result = cli_runner(C315_WORKSPACE=str(workspace)).invoke(cli_app, ["serve", "--workers", "2"])
    assert result.exit_code == 2 and "SQLite" in result.output and "Traceback" not in result.output


# --- the pages and the collector's session -----------------------------------------------------------


def test_the_login_link_works_once_and_sets_an_httponly_strict_cookie(server):
    once = server.once
    answer = server.client.get(f"/login?once={once}", follow_redirects=False)
    cookie = answer.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
    server.client.cookies.clear()
    assert server.client.get(f"/login?once={once}", follow_redirects=False).status_code == 401
    assert server.client.get("/").status_code == 401


def test_cookie_posts_need_the_csrf_token(server, forms):
    csrf = server.login()
    path = forms.stats("xlsx", unit=OFFICE)
    files = {"file": (path.name, path.read_bytes())}
    assert server.client.post("/api/returns?check=1", files=files).status_code == 403
    assert server.client.post("/api/returns?check=1", files=files, headers={"X-CSRF-Token": "wrong"}).status_code == 403
    answer = server.client.post("/api/returns?check=1", files=files, headers={"X-CSRF-Token": csrf})
    assert answer.status_code == 200 and answer.json()[0]["outcome"] == "accepted"
    assert server.client.get("/api/status").status_code == 200  # reading by cookie needs no CSRF token


def test_the_department_page_shows_its_own_returns_only(server, forms):
    server.upload(forms.stats("xlsx", unit=OFFICE, filler="王办公"), server.links[OFFICE])
    other = server.ws.campaign.find_unit("药化科").name
    server.upload(forms.stats("xlsx", unit=other), server.links[other])
    page = server.client.get(f"/u/{server.links[OFFICE]}")
    assert page.status_code == 200 and OFFICE in page.text
    assert page.text.count("已接收") == 1
    blank = server.client.get(f"/u/{server.links[OFFICE]}/forms/stats.xlsx")
    assert blank.status_code == 200 and blank.content[:2] == b"PK"
    assert server.client.get(f"/u/{server.links[OFFICE]}/forms/../../etc/passwd").status_code == 404


def test_text_from_returns_and_file_names_is_escaped_in_pages(server, forms):
    evil = '<img src=x onerror="alert(1)">'
    path = forms.stats("xlsx", unit=OFFICE)
    server.upload(path, server.links[OFFICE], name=f"{evil}.xlsx")
    page = server.client.get(f"/u/{server.links[OFFICE]}").text
    assert "<img" not in page and "&lt;img src=x onerror=" in page


def test_security_headers_on_every_response(server):
    for answer in (server.client.get("/"), server.client.get(f"/u/{server.links[OFFICE]}"),
                   server.client.get("/api/status"), server.client.get("/static/c315.css")):
        csp = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "http" not in csp and "*" not in csp
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_pages_fetch_nothing_from_outside(server):
    page = server.client.get(f"/u/{server.links[OFFICE]}").text
    assert not re.search(r'(src|href)="(https?:)?//', page)


def test_uploads_are_capped_with_a_json_answer(server):
    from campaign315.intake.read.zipparts import MAX_FILE_BYTES

    answer = server.client.post("/api/returns", headers=server.bearer(server.collector),
                                files={"file": ("big.xlsx", b"\0" * (MAX_FILE_BYTES + 100 * 1024))})
    assert answer.status_code == 413 and answer.json()["error"] == "too-large"
    assert stored_count(server) == 0


def test_malformed_uploads_are_json_400s(server):
    headers = server.bearer(server.collector)
    assert server.client.post("/api/returns", headers=headers, content=b"junk").status_code == 400
    answer = server.client.post("/api/returns", headers={**headers, "Content-Type": "multipart/form-data; boundary=x"},
                                content=b"--x\r\nbroken")
    assert answer.status_code == 400 and answer.json()["message"]
    assert server.client.post("/api/returns", headers=headers, data={"other": "1"}).status_code == 400


def test_an_uploaded_file_name_is_never_a_path(server, forms, tmp_path):
    path = forms.stats("xlsx", unit=OFFICE)
    answer = server.upload(path, server.collector, name="../../../../tmp/evil.xlsx")
    (result,) = answer.json()
    assert result["file"] == "evil.xlsx" and result["outcome"] == "accepted"
    assert not (tmp_path / "evil.xlsx").exists()


def test_requests_are_logged_with_the_unit_never_the_token(server, forms, caplog):
    with caplog.at_level(logging.INFO, logger="campaign315.serve"):
        server.upload(forms.stats("xlsx", unit=OFFICE), server.links[OFFICE], check=True)
        server.client.get(f"/u/{server.links[OFFICE]}")
        server.client.get("/api/status", headers=server.bearer(server.collector))
    text = caplog.text
    assert OFFICE in text and "汇总人" in text
    assert server.links[OFFICE] not in text and server.collector not in text


# --- the hostile corpus through the API ------------------------------------------------------------

from test_hostile import CASES, bases, kit, listener  # noqa: E402, F401 — the corpus and its fixtures

SAMPLE = CASES[::4]
"""Every fourth case of the hostile corpus (the whole corpus runs through ingest in test_hostile)."""


@pytest.mark.parametrize("hostile", SAMPLE, ids=[c.name for c in SAMPLE])
def test_hostile_uploads_get_json_rejections_never_a_500(hostile, kit, server):  # noqa: F811 — kit is the fixture
    bad = hostile.build(kit)
    if not bad.is_file():
        pytest.skip("not a regular file: nothing a browser could upload")
    answer = server.upload(bad, server.collector, check=True)
    assert answer.status_code in (200, 413), answer.text[:500]
    assert "Traceback" not in answer.text
    found = answer.json()
    if answer.status_code == 413:
        assert found["error"] == "too-large"
        return
    assert found and all(p["message"] for r in found for p in r["problems"])
    if hostile.accepts is None:
        assert all(r["outcome"] in ("rejected", "duplicate") for r in found), found


def test_c315_help_does_not_load_the_web_stack():
    import subprocess
    import sys

    code = ("import sys\nfrom campaign315.cli import main\nsys.argv = ['c315', '--help']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write(repr(sorted(m for m in ('starlette', 'uvicorn', 'multipart', 'python_multipart') if m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stderr.strip().endswith("[]"), done.stderr[-500:]
