"""The HTML report: a real summary — blank forms generated, filled as a person would (one remark,
one name, one quantity and one unit name hostile), ingested into a store, summarised — rendered,
then read back with the stdlib HTML parser for its figures and its safety; and, where Chromium is
installed, opened from ``file://`` in a headless browser with no network, screenshotted, and its
rendered DOM checked for the totals."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fill import blank, fill_roster, fill_stats, shipped_campaign, stats_cell
from markupsafe import escape

from campaign315.common.files import shipped
from campaign315.common.text import squash
from campaign315.common.words import SEVERITY_ZH, STATUS_ZH
from campaign315.intake.ingest import ingest
from campaign315.reports.report_html import BAR_WIDTH, render_report
from campaign315.reports.summary import Summary, parse_deadline, summarise
from campaign315.spec.campaign import Campaign, load_campaign
from campaign315.spec.problems import Code
from campaign315.spec.workspace import Workspace
from campaign315.store import Store, open_store

HOSTILE_REMARK = "<script>alert(1)</script>"
HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_QUANTITY = '"><svg onload=alert(1)>'
HOSTILE_UNIT = "南市市场监管所<svg onload=alert(1)>"
"""A unit name as an office might mistype it into campaign.toml: drawn in the chart's SVG."""
FILLER = {"filler": "张涛", "phone": "13682055679"}
CUTOFF = "2020-03-19"  # end of the day: a return at 20:00 that day is late but counted


@dataclass(frozen=True)
class StatsReturn:
    unit: str
    received_at: str
    quantities: dict
    remarks: dict = field(default_factory=dict)
    status: str = "on_time"
    """The unit's 附件2 status at the cut-off; on_time and late returns are counted."""


def filled(values: dict) -> dict:
    """A return where every summed item not named is 0, as a careful office fills it — except
    举办其他会议, which nobody fills (the district total must say 未报告, not 0)."""
    zeros = {item.key: 0 for item in shipped_campaign().attachments.stats.items if not item.free and item.key != "2.5"}
    return {**zeros, **values}


STATS_RETURNS = [
    StatsReturn("办公室", "2020-03-18T10:00", filled({"1.1": 3, "1.7": 500, "1.8": 120, "2.1": 1, "3": 2}),
                remarks={"3": HOSTILE_REMARK}),
    StatsReturn("稽查大队", "2020-03-19T09:00", filled({"1.1": 2, "1.7": 300, "1.8": 45, "2.1": 2})),
    StatsReturn("广告监管科", "2020-03-19T20:00", filled({"1.1": 1, "1.4": 12, "1.8": 30}), status="late"),
    StatsReturn("劝业场市场监管所", "2020-03-17T15:00", filled({"1.1": 5, "1.7": 1200, "1.8": 260, "2.1": 1, "2.6": 40})),
    StatsReturn(HOSTILE_UNIT, "2020-03-16T09:00", filled({"1.1": 4, "1.7": 200, "1.8": 80})),
    StatsReturn("医疗器械监管科", "2020-03-17T09:00", {"1.1": HOSTILE_QUANTITY}, status="rejected"),
]
ROSTER_RETURNS = [  # (unit, received_at, people)
    ("劝业场市场监管所", "2020-03-13T11:00", [{"name": HOSTILE_NAME, "position": "所长", "mobile": "13612345678"},
                                            {"name": "李明", "position": "科员", "landline": "23456789"}]),
    ("办公室", "2020-03-13T11:30", [{"name": "张  涛", "position": "一级主任科员", "mobile": "13682055679"}]),
]
COUNTED = [r for r in STATS_RETURNS if r.status in ("on_time", "late")]
CHECKED_ITEMS = ("1.1", "1.4", "1.7", "1.8", "2.1", "2.6")


def expected_total(key: str) -> int | None:
    figures = [r.quantities[key] for r in COUNTED if key in r.quantities]
    return sum(figures) if figures else None


# --- the summary, built the real way ---------------------------------------------------------


@pytest.fixture(scope="module")
def summary(tmp_path_factory) -> Summary:
    root = tmp_path_factory.mktemp("report")
    text = (shipped("data") / "campaign.toml").read_text(encoding="utf-8")
    assert 'name = "南市市场监管所"' in text
    (root / "campaign.toml").write_text(text.replace('name = "南市市场监管所"', f'name = "{HOSTILE_UNIT}"'), encoding="utf-8")
    campaign = load_campaign(root / "campaign.toml")
    with open_store(Workspace(root).store_dir) as store:
        for n, r in enumerate(STATS_RETURNS):
            path = fill_stats(blank(root / "forms" / f"s{n}", r.unit, "stats", "xlsx", campaign), r.quantities,
                              remarks=r.remarks, **FILLER)
            _ingest(path, campaign, store, r.received_at)
        for n, (unit, received_at, people) in enumerate(ROSTER_RETURNS):
            path = fill_roster(blank(root / "forms" / f"r{n}", unit, "roster", "xlsx", campaign), people, **FILLER)
            _ingest(path, campaign, store, received_at)
        return summarise(campaign, store, parse_deadline(CUTOFF, campaign))


def _ingest(path: Path, campaign: Campaign, store: Store, received_at: str) -> None:
    when = campaign.localize(dt.datetime.fromisoformat(received_at))
    (result,) = ingest([path], campaign, store, when)
    assert result.outcome in ("accepted", "rejected"), result


@pytest.fixture(scope="module")
def html(summary) -> str:
    return render_report(summary, shipped("templates"))


@pytest.fixture(scope="module")
def page(html) -> Document:
    return parse(html)


# --- a small DOM from the stdlib parser ------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list, repr=False)

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)

    def all(self, tag: str | None = None, **attrs: str) -> list[Node]:
        """Every element below this one with that tag (any, if None) and those attributes
        (``class_`` matches one class of several)."""
        found = []
        for child in self.children:
            if isinstance(child, str):
                continue
            if (tag is None or child.tag == tag) and all(_matches(child, name, value) for name, value in attrs.items()):
                found.append(child)
            found.extend(child.all(tag, **attrs))
        return found

    def one(self, tag: str | None = None, **attrs: str) -> Node:
        (found,) = self.all(tag, **attrs)
        return found


def _matches(node: Node, name: str, value: str) -> bool:
    if name == "class_":
        return value in node.attrs.get("class", "").split()
    return node.attrs.get(name.replace("_", "-")) == value


@dataclass
class Document(Node):
    tags: list[tuple[str, dict[str, str]]] = field(default_factory=list, repr=False)
    """Every start tag with its attributes, in order."""


class TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Document("#document", {})
        self.stack: list[Node] = [self.root]
        self.tags = self.root.tags

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.tags.append((tag, node.attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.tags.append((tag, node.attrs))
        self.stack[-1].children.append(node)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return
        raise AssertionError(f"</{tag}> closes nothing")

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(html: str) -> Document:
    builder = TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def totals_in(page: Node) -> dict[str, str]:
    """item key → the 数量 cell of the district totals table, as shown."""
    table = page.one("table", id="totals")
    return {row.attrs["data-key"]: row.one("td", class_="quantity").text.strip() for row in table.all("tr") if "data-key" in row.attrs}


# --- the figures -----------------------------------------------------------------------------


def test_totals_are_the_sums_of_the_counted_returns(page):
    shown = totals_in(page)
    for key in CHECKED_ITEMS:
        assert shown[key] == str(expected_total(key)), key
    assert shown["2.5"] == "未报告"  # nobody filled it: not 0
    assert all(shown[item.key] != "0" or expected_total(item.key) == 0 for item in shipped_campaign().attachments.stats.items)


def test_free_rows_are_listed_with_their_remarks_not_summed(page, summary):
    free = [item.key for item in summary.campaign.attachments.stats.items if item.free]
    shown = totals_in(page)
    assert all(not re.fullmatch(r"\d+", shown[key]) for key in free)
    rows = [[cell.text.strip() for cell in row.all("td")] for row in page.one("table", id="other").all("tr")[1:]]
    assert ["办公室", "其他", "其他", "2", HOSTILE_REMARK] in rows


def test_every_unit_appears_with_its_status_and_contact(page, summary):
    text = page.text
    for unit in summary.campaign.units:
        assert unit.name in text
    statuses = {}
    for row in page.one("section", id="status").all("tr"):
        for cell in row.all("td", data_attachment="stats"):
            statuses[row.attrs["data-unit"]] = cell.attrs["data-status"]
    assert set(statuses) == {unit.name for unit in summary.campaign.units_owing("stats")}
    assert {unit: status for unit, status in statuses.items() if status != "missing"} == {r.unit: r.status for r in STATS_RETURNS}
    network = page.one("section", id="status").one("tr", data_unit="市场和网络交易监管科")
    assert "徐大凯 13682137895" in network.text


def test_status_counts_add_up(page, summary):
    chips = page.one("section", id="status").one("div", class_="counts").all("span", class_="chip")
    by_status = {}
    for chip in chips[len(chips) // 2:]:  # the second attachment's chips: 附件2
        label, count = chip.text.rsplit(" ", 1)
        by_status[label] = int(count)
    owing = len(summary.campaign.units_owing("stats"))
    assert sum(by_status.values()) == owing
    assert by_status[STATUS_ZH["on_time"]] == sum(r.status == "on_time" for r in STATS_RETURNS)
    assert by_status[STATUS_ZH["missing"]] == owing - len(STATS_RETURNS)
    cards = [card.text for card in page.one("section", id="glance").all("div", class_="card")]
    assert any(card.startswith("附件2") and f"{len(COUNTED)} / {owing}" in card for card in cards)


def test_the_chart_draws_each_units_share_of_each_item(page):
    svg = page.one("svg")
    for key in CHECKED_ITEMS:
        (row,) = [g for g in svg.all("g", class_="row") if g.attrs["data-key"] == key]
        segments = [rect for rect in row.all("rect") if "data-unit" in rect.attrs]
        by_unit = {r.attrs["data-unit"]: int(r.attrs["data-quantity"]) for r in segments}
        assert by_unit == {r.unit: r.quantities[key] for r in COUNTED if r.quantities.get(key)}, key
        assert sum(float(r.attrs["width"]) for r in segments) == pytest.approx(BAR_WIDTH, abs=0.1)  # the whole bar
        for rect in segments:
            assert rect.attrs["data-unit"] in rect.one("title").text
    legend = [item.text.strip() for item in page.one("ul", class_="legend").all("li")]
    assert HOSTILE_UNIT in legend and "办公室" in legend
    assert not any(g.attrs["data-key"] in ("1.10", "3") for g in svg.all("g", class_="row"))  # 其他 is not charted


def test_staffing_check_names_the_short_unit(page):
    station = page.one("section", id="staffing").one("tr", data_unit="劝业场市场监管所")
    cells = [cell.text.strip() for cell in station.all("td")]
    assert cells[:3] == ["2", "1", "0"]
    assert "实有 2 人" in station.one("td", class_="short").text
    office = page.one("section", id="staffing").one("tr", data_unit="办公室")
    assert office.one("td", class_="ok").text.strip() == "符合要求"
    missing = page.one("section", id="staffing").one("tr", data_unit="稽查大队")
    assert STATUS_ZH["missing"] in missing.one("td", class_="uncounted").text


def test_problems_are_listed_under_their_file_with_their_cells(page, summary):
    groups = page.one("section", id="problems").all("tbody", class_="problem-group")
    listed = []  # (unit, the group's heading, its rows)
    for group in groups:
        problems = [row for row in group.all("tr") if "data-unit" in row.attrs]
        (unit,) = {row.attrs["data-unit"] for row in problems}
        listed.append((unit, group.one("tr", class_="group").text, [[c.text.strip() for c in row.all("td")] for row in problems]))
    assert sum(len(rows) for _, _, rows in listed) == len(summary.problems)
    files = {(line.unit, line.filename) for line in summary.problems}
    assert len(listed) == len(files)
    assert all(heading.startswith(unit) and any(f in heading for u, f in files if u == unit) for unit, heading, _ in listed)
    (rejected,) = [rows for unit, _, rows in listed if unit == "医疗器械监管科"]
    assert rejected[0][:4] == [str(stats_cell("xlsx", "1.1")), SEVERITY_ZH["error"], Code.QUANTITY_NOT_NUMBER, HOSTILE_QUANTITY]
    (station,) = [rows for unit, heading, rows in listed if unit == "劝业场市场监管所" and "附件1" in heading]
    assert [row[2] for row in station] == [Code.STAFFING_SHORT]


# --- self-contained and inert ----------------------------------------------------------------


def test_the_page_loads_nothing_from_outside(html, page):
    lowered = html.lower()
    for needle in ("<link", 'src="http', "src='http", "@import", "url(http", "url(", "@font-face", "<iframe", "<object"):
        assert needle not in lowered, needle
    assert '<meta charset="utf-8">' in lowered
    assert page.one("html").attrs["lang"] == "zh-CN"


def test_text_from_returns_stays_text(html, page):
    tags = page.tags
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert not [t for t, _ in tags if t in ("script", "img", "iframe", "object", "embed", "link")]
    assert not [(t, a) for t, a in tags for name in a if name.startswith("on")]
    assert not [(t, a) for t, a in tags for value in a.values() if "javascript:" in value.lower()]
    assert [t for t, _ in tags].count("svg") == 1  # the chart; the hostile unit's <svg onload> is text
    for hostile in (HOSTILE_REMARK, squash(HOSTILE_NAME), HOSTILE_QUANTITY, HOSTILE_UNIT):
        assert str(escape(hostile)) in html, hostile
        assert hostile in page.text, hostile
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_chart_tooltips_escape_unit_names(page):
    titles = [t.text for t in page.one("svg").all("title")]
    assert any(t.startswith(HOSTILE_UNIT) for t in titles)


def test_prints_on_a4(page):
    css = page.one("style").text
    assert "@media print" in css
    assert re.search(r"@page\s*{[^}]*size:\s*A4", css)


# --- the template: the office's copy first, the shipped one otherwise ------------------------


def test_office_template_is_used_and_escaped_too(summary, tmp_path):
    (tmp_path / "report.html.j2").write_text("<p>{{ report.title }}</p><p>{{ report.other[0].remark }}</p>", encoding="utf-8")
    html = render_report(summary, tmp_path)
    assert html == f"<p>{escape(summary.campaign.district.name)} 3•15活动报表汇总</p><p>{escape(HOSTILE_REMARK)}</p>"


def test_shipped_template_when_the_office_has_none(summary, tmp_path, html):
    assert render_report(summary, tmp_path) == html


# --- in a real browser -----------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(page_file: Path, profile: Path, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium on a file:// page with its network machinery off and a private profile.
    It runs in its own process group, so a hung browser is ended with all its helpers."""
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--disable-sync", "--hide-scrollbars",
               f"--user-data-dir={profile}", *args, page_file.as_uri()]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True) as browser:
        try:
            stdout, stderr = browser.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            if hasattr(os, "killpg"):
                os.killpg(browser.pid, signal.SIGKILL)
            else:
                browser.kill()
            browser.communicate()
            pytest.fail("Chromium did not finish within 60 s (an injected script's alert() would wait forever)")
    return subprocess.CompletedProcess(command, browser.returncode, stdout, stderr)


@pytest.fixture
def page_file(html, tmp_path) -> Path:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium): report not checked in a browser")
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")
    return path


@pytest.mark.slow
def test_renders_in_chromium(page_file, tmp_path):
    shot = tmp_path / "shot.png"
    done = chromium(page_file, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,2000")
    assert shot.is_file(), done.stderr.decode(errors="replace")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000


@pytest.mark.slow
def test_rendered_dom_shows_the_totals(page_file, tmp_path):
    done = chromium(page_file, tmp_path / "profile", "--dump-dom")
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    rendered = parse(done.stdout.decode("utf-8"))
    shown = totals_in(rendered)
    for key in CHECKED_ITEMS:
        assert shown[key] == str(expected_total(key)), key
    assert HOSTILE_REMARK in rendered.text
    assert not [t for t, _ in rendered.tags if t in ("script", "img")]
