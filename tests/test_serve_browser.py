"""``c315 serve`` in a real browser: Playwright driving Debian's Chromium (headless, no network)
against a real server on 127.0.0.1. A department uploads a form with two errors and sees both
highlighted, fixes it and hands it in; the collector's board turns that cell green without a
reload, and the summary zip holds the figures. The department's check shows the picture of its form
(the cells as filled, the two wrong ones highlighted with their messages beside them). Leaves the two screenshots README shows in the folder
``C315_SCREENSHOTS`` names (``C315_SCREENSHOTS=docs`` redraws README's), else in the test's own folder — a
test run never changes a file of the checkout.
Skipped where Chromium or the playwright package is absent (never ``playwright install``)."""

from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import cli_runner

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
playwright_api = pytest.importorskip("playwright.sync_api")

from campaign315.cli import app as cli_app  # noqa: E402

SCREENSHOTS = os.environ.get("C315_SCREENSHOTS")
OFFICE = "办公室"
EVIL_IMAGE, EVIL_SCRIPT = '<img src=x onerror="window.__pwned=1">', "<script>window.__pwned=2</script>"
WAIT_MS = 30_000
"""How long a page may take to show what it must (a bound on a hang, not a timing)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def served(workspace, tmp_path):
    """A real ``c315 serve`` on a free loopback port: (base URL, login link, unit links)."""
    links = {link["unit"]: link["url"] for link in json.loads(
        cli_runner(C315_WORKSPACE=str(workspace)).invoke(cli_app, ["serve", "links", "--json", "--url", "http://x"]).stdout)}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_file = (tmp_path / "serve.log").open("w")
    child = subprocess.Popen([sys.executable, "-m", "campaign315", "serve", "--port", str(port)],
                             stdout=subprocess.PIPE, stderr=log_file, text=True,
                             env={**os.environ, "C315_WORKSPACE": str(workspace), "PYTHONUNBUFFERED": "1"})
    try:
        first = child.stdout.readline()
        assert "127.0.0.1" in first and "只有本机能访问" in first, first
        login = child.stdout.readline().split("：", 1)[1].strip()
        yield base, login, {unit: url.replace("http://x", base) for unit, url in links.items()}
    finally:
        child.terminate()
        child.communicate(timeout=60)
        log_file.close()
        log = (tmp_path / "serve.log").read_text()
        assert "Traceback" not in log and all(url.rsplit("/", 1)[1] not in log for url in links.values())


def test_a_department_checks_fixes_and_hands_in_and_the_board_turns_green(served, forms, tmp_path):
    base, login, links = served
    shots = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    bad = forms.stats("xlsx", {"1.1": "-3", "1.2": "若干"}, unit=OFFICE)
    good = forms.stats("xlsx", unit=OFFICE)
    hostile = forms.stats("xlsx", {"1.1": EVIL_IMAGE}, remarks={"1.10": EVIL_SCRIPT}, unit=OFFICE)
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            collector = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
            board = collector.new_page()
            board.goto(login, timeout=WAIT_MS)  # the one-time link: sets the session, lands on the board
            office_row = board.locator(f'td.status[data-key="{OFFICE}|stats"]')
            assert "missing" in office_row.get_attribute("class")
            board.evaluate("window.__sameLoad = true")

            department = browser.new_context(viewport={"width": 1366, "height": 768}).new_page()
            department.goto(links[OFFICE], timeout=WAIT_MS)
            department.set_input_files("#file", str(bad))
            department.click("#do-check")
            department.wait_for_selector("table.picture", timeout=WAIT_MS)
            # the picture of the form: the two cells typed wrong highlighted where they are, numbered,
            # each message beside its row; every other cell as filled, unmarked
            highlighted = department.locator("table.picture td.marked.error")
            assert highlighted.count() == 2
            assert [highlighted.nth(i).locator("span.value").inner_text() for i in range(2)] == ["-3", "若干"]
            assert [highlighted.nth(i).locator("span.mark").inner_text() for i in range(2)] == ["1", "2"]
            rows = department.locator("table.picture tr.has-problem")
            assert [rows.nth(i).locator("th.row").inner_text() for i in range(2)] == ["5", "6"]
            assert all(rows.nth(i).locator("td.notes p.note-line").count() == 1 for i in range(2))
            assert all(rows.nth(i).locator("td.notes").inner_text().strip() for i in range(2))
            assert department.locator("table.picture td", has_text="组织普法活动").count() == 1
            assert department.locator("div.elsewhere").count() == 0  # both problems are in cells
            shots.mkdir(parents=True, exist_ok=True)
            department.screenshot(path=str(shots / "serve-department.png"), full_page=False)

            # text from a return is drawn as text, never as markup
            department.set_input_files("#file", str(hostile))
            department.click("#do-check")
            department.locator("table.picture td.marked", has_text="onerror").wait_for(timeout=WAIT_MS)
            assert department.locator("table.picture td.marked span.value").inner_text() == EVIL_IMAGE
            assert department.locator("table.picture td", has_text=EVIL_SCRIPT).count() == 1
            assert department.locator("#result img, #result script").count() == 0
            assert department.evaluate("window.__pwned") is None

            department.set_input_files("#file", str(good))
            department.click("#do-send")
            department.wait_for_selector("#result p.accepted", timeout=WAIT_MS)

            # received now, long after the 2020 campaign's due time: the cell turns from 未报 to 逾期
            board.wait_for_selector(f'td.status[data-key="{OFFICE}|stats"]:not(.missing)', timeout=WAIT_MS)
            assert office_row.get_attribute("class").split()[1] in ("on_time", "late", "after_cutoff")
            assert board.evaluate("window.__sameLoad") is True  # turned green without a reload

            # the collector opens the return from its cell and approves it: recorded, shown in the cell
            office_row.click()
            board.wait_for_selector("#review-panel:not([hidden]) #review-file:has-text('文件：')", timeout=WAIT_MS)
            board.fill("#review-by", "张涛")
            board.click("#review-form button[value=approved]")
            board.wait_for_selector("#review-result.accepted", timeout=WAIT_MS)
            board.wait_for_selector(f'td.status[data-key="{OFFICE}|stats"]:has-text("已审核")', timeout=WAIT_MS)
            assert board.evaluate("window.__sameLoad") is True
            board.screenshot(path=str(shots / "serve-board.png"), full_page=False)

            board.fill("input[name=deadline]", "2020-03-19")
            with board.expect_download(timeout=WAIT_MS) as download:
                board.click("#summary button")
            zipped = Path(download.value.path()).read_bytes()
        finally:
            browser.close()
    with zipfile.ZipFile(io.BytesIO(zipped)) as bundle:
        summary = json.loads(bundle.read("summary.json"))
        assert any("附件2" in name for name in bundle.namelist()), bundle.namelist()
    assert OFFICE in json.dumps(summary, ensure_ascii=False)
    (office,) = [u for u in summary["units"] if u["unit"] == OFFICE]
    assert (office["review"]["stats"]["state"], office["review"]["stats"]["by"]) == ("approved", "张涛")
