"""One level up: a district's summary 附件2 is a return of the city's campaign. Two district
workspaces (Heping, the shipped campaign; Hexi, an edited copy) each summarise a few filled
returns; a city workspace whose units are the districts ingests both district files with
``c315 ingest`` and its ``c315 summary`` totals are the districts' totals added up."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from conftest import cli_runner
from fill import blank, fill_stats

from campaign315.cli import app
from campaign315.common.files import shipped
from campaign315.intake.read.package import read_custom_properties
from campaign315.reports.district_form import see_annex
from campaign315.spec.campaign import CAMPAIGN_FILE, Campaign, load_campaign
from campaign315.spec.problems import Code

FILLER = {"filler": "张涛", "phone": "13682055679"}
SHIPPED = load_campaign(shipped("data") / CAMPAIGN_FILE)
KEYS = [item.key for item in SHIPPED.attachments.stats.items]
FREE = [item.key for item in SHIPPED.attachments.stats.items if item.free]
CITY_ID = "tianjin-2020-315"
HEPING, HEXI = "和平区市场监管局", "河西区市场监管局"

# (unit, quantities, remarks) per district; every return on time.
RETURNS = {
    HEPING: [
        ("办公室", {"1.1": 3, "1.2": 0, "1.7": 500, "2.1": 1, "1.10": 2}, {"1.10": "进社区宣传"}),
        ("稽查大队", {"1.1": 1, "2.1": 5, "2.6": 40, "3": 4}, {"3": "暗访"}),
    ],
    HEXI: [
        ("办公室", {"1.1": 7, "1.4": 2, "2.1": 1}, {}),
        ("劝业场市场监管所", {"1.1": 2, "1.2": 3, "3": 1}, {"3": "直播带货"}),
    ],
}


def c315(*args: object):
    return cli_runner().invoke(app, [str(a) for a in args])


def edited(path: Path, pattern: str, replacement: str) -> None:
    """Replace exactly one match of ``pattern`` in a campaign file (fails loudly if the file changed)."""
    text = path.read_text(encoding="utf-8")
    new, count = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    assert count == 1, (pattern, count)
    path.write_text(new, encoding="utf-8")


def init_workspace(root: Path, campaign_id: str, district: str, aliases: list[str], parent: str) -> Campaign:
    """``c315 init`` then edit the copy's TOML text, as an office would for another level."""
    result = c315("init", root)
    assert result.exit_code == 0, result.output
    toml = root / CAMPAIGN_FILE
    edited(toml, r'^id = ".*"$', f'id = "{campaign_id}"')
    quoted = ", ".join(f'"{a}"' for a in aliases)
    edited(toml, r"^\[district\]\n(?:[^\[\n].*\n)+",
           f'[district]\nname = "{district}"\naliases = [{quoted}]\nparent_campaign = "{parent}"\n')
    return load_campaign(toml)


def district_units(root: Path) -> None:
    """Replace the [[units]] list with the city's two districts."""
    toml = root / CAMPAIGN_FILE
    text = toml.read_text(encoding="utf-8")
    start, end = text.index("[[units]]"), text.index("\n[staffing]")
    units = "".join(f'[[units]]\nname = "{name}"\nkind = "区"\naliases = ["{short}"]\n\n'
                    for name, short in ((HEPING, "和平区"), (HEXI, "河西区")))
    toml.write_text(text[:start] + units + text[end:], encoding="utf-8")


def summarise_district(root: Path, workspace: Path, campaign: Campaign, district: str) -> tuple[dict, Path]:
    for unit, quantities, remarks in RETURNS[district]:
        path = fill_stats(blank(root / "returned" / district, unit, "stats", "xlsx", campaign=campaign),
                          quantities, remarks=remarks, **FILLER)
        result = c315("ingest", "--json", "--received-at", "2020-03-18T10:00", "--workspace", workspace, path)
        assert result.exit_code == 0, result.output
        assert [r["outcome"] for r in json.loads(result.stdout)] == ["accepted"]
    out = root / "summary" / district
    result = c315("summary", "--json", "--out", out, "--workspace", workspace)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), out


class Tianjin:
    def __init__(self, root: Path):
        self.root = root
        heping = root / "heping"  # no campaign.toml of its own: the shipped Heping campaign
        heping.mkdir()
        hexi = init_workspace(root / "hexi", "hexi-2020-315", HEXI, ["河西区"], CITY_ID)
        self.heping_workspace = heping
        self.districts = {
            HEPING: summarise_district(root, heping, SHIPPED, HEPING),
            HEXI: summarise_district(root, root / "hexi", hexi, HEXI),
        }
        init_workspace(root / "city", CITY_ID, "天津市市场监管委", [], "")
        district_units(root / "city")
        self.city = load_campaign(root / "city" / CAMPAIGN_FILE)

    def district_file(self, district: str, suffix: str) -> Path:
        (path,) = [p for p in self.districts[district][1].iterdir()
                   if SHIPPED.attachments.stats.label in p.name and p.suffix == suffix]
        return path


@pytest.fixture(scope="module")
def tianjin(tmp_path_factory) -> Tianjin:
    return Tianjin(tmp_path_factory.mktemp("tianjin"))


@pytest.fixture(scope="module", params=[".xlsx", ".docx"])
def city(request, tianjin, tmp_path_factory):
    """A fresh city workspace (a copy of the edited campaign) that has ingested both districts'
    附件2 in one format; yields (ingest results, city summary)."""
    workspace = tmp_path_factory.mktemp("city")
    (workspace / CAMPAIGN_FILE).write_text((tianjin.root / "city" / CAMPAIGN_FILE).read_text(encoding="utf-8"), encoding="utf-8")
    files = [tianjin.district_file(d, request.param) for d in (HEPING, HEXI)]
    result = c315("ingest", "--json", "--received-at", "2020-03-19T12:00", "--workspace", workspace, *files)
    assert result.exit_code == 0, result.output
    ingested = json.loads(result.stdout)
    result = c315("summary", "--json", "--out", workspace / "summary", "--workspace", workspace)
    assert result.exit_code == 0, result.output
    return ingested, json.loads(result.stdout)


def test_the_edited_campaigns_are_what_the_test_means(tianjin):
    city = tianjin.city
    assert city.id == CITY_ID and city.district.name == "天津市市场监管委" and city.district.parent_campaign == ""
    assert [(u.name, u.kind) for u in city.units] == [(HEPING, "区"), (HEXI, "区")]
    assert SHIPPED.district.name == HEPING and SHIPPED.district.parent_campaign == CITY_ID


@pytest.mark.parametrize("district", [HEPING, HEXI])
def test_a_district_summary_says_it_is_a_return_to_the_city(tianjin, district):
    for suffix in (".xlsx", ".docx"):
        with zipfile.ZipFile(tianjin.district_file(district, suffix)) as zf:
            properties = read_custom_properties(zf)
        assert {k: properties[k] for k in ("c315.campaign", "c315.attachment", "c315.unit")} == {
            "c315.campaign": CITY_ID, "c315.attachment": "stats", "c315.unit": district}


def test_both_district_files_are_accepted_by_the_city(city):
    ingested, _ = city
    assert [(r["outcome"], r["unit"], r["attachment"]) for r in ingested] == [
        ("accepted", HEPING, "stats"), ("accepted", HEXI, "stats")]
    for result in ingested:
        assert [p for p in result["problems"] if p["severity"] == "error"] == []


def test_city_totals_are_the_sum_of_the_district_totals(tianjin, city):
    _, report = city
    heping, hexi = (dict(zip(KEYS, tianjin.districts[d][0]["totals"], strict=True)) for d in (HEPING, HEXI))
    totals = dict(zip(KEYS, report["totals"], strict=True))
    for key in KEYS:
        parts = [t[key]["quantity"] for t in (heping, hexi) if t[key]["quantity"] is not None]
        expected = sum(parts) if parts else None
        assert totals[key]["quantity"] == (None if key in FREE else expected), key
        assert totals[key]["reported_by"] == [d for d, t in ((HEPING, heping), (HEXI, hexi))
                                              if t[key]["quantity"] is not None and key not in FREE], key
    # and those are the fixture values, added over every unit of both districts
    for key in ("1.1", "1.2", "2.1"):
        assert totals[key]["quantity"] == sum(q.get(key, 0) for rs in RETURNS.values() for _, q, _ in rs)
    assert totals["2.5"]["quantity"] is None and totals["2.5"]["not_reported_by"] == [HEPING, HEXI]
    assert {u["unit"]: u["stats"] for u in report["units"]} == {HEPING: "on_time", HEXI: "on_time"}


def test_city_lists_the_districts_other_rows(city):
    _, report = city
    listed = {(o["unit"], o["category"]): o for o in report["other"]}
    assert set(listed) == {(HEPING, "宣传教育"), (HEPING, "其他"), (HEXI, "其他")}
    assert "进社区宣传" in listed[HEPING, "宣传教育"]["remark"] and "暗访" in listed[HEPING, "其他"]["remark"]
    assert "直播带货" in listed[HEXI, "其他"]["remark"]


def test_a_district_summary_is_not_a_return_of_the_district_itself(tianjin):
    path = tianjin.district_file(HEPING, ".xlsx")
    result = c315("ingest", "--json", "--dry-run", "--workspace", tianjin.heping_workspace, path)
    assert result.exit_code == 1, result.output
    (rejected,) = json.loads(result.stdout)
    assert rejected["outcome"] == "rejected"
    assert Code.WRONG_CAMPAIGN in [p["code"] for p in rejected["problems"]]


@pytest.mark.parametrize("suffix", [".xlsx", ".docx"])
def test_a_district_form_with_its_annex_is_still_a_return_to_the_city(tianjin, tmp_path, suffix):
    """Long 其他 entries go on the district form's 附表 (a second sheet, a second table); the city
    still reads the form itself: accepted without error, the same figures, the 其他 row read as the
    short line the form prints."""
    entry = "网购维权直播1场（与电商平台合办），线上观看3200人次，现场受理咨询45件"
    units = ("办公室", "稽查大队", "区消协")
    workspace = tmp_path / "heping"
    for unit in units:
        path = fill_stats(blank(tmp_path / "returned", unit, "stats", "xlsx"), {"1.1": 2, "1.10": 1, "3": 1},
                          remarks={"1.10": entry, "3": entry}, **FILLER)
        result = c315("ingest", "--received-at", "2020-03-18T10:00", "--workspace", workspace, path)
        assert result.exit_code == 0, result.output
    out = tmp_path / "summary"
    result = c315("summary", "--out", out, "--workspace", workspace)
    assert result.exit_code == 0, result.output
    (district_file,) = [p for p in out.iterdir() if SHIPPED.attachments.stats.label in p.name and p.suffix == suffix]

    city = tmp_path / "city"
    city.mkdir()
    (city / CAMPAIGN_FILE).write_text((tianjin.root / "city" / CAMPAIGN_FILE).read_text(encoding="utf-8"), encoding="utf-8")
    result = c315("ingest", "--json", "--received-at", "2020-03-19T12:00", "--workspace", city, district_file)
    assert result.exit_code == 0, result.output
    (ingested,) = json.loads(result.stdout)
    assert (ingested["outcome"], ingested["unit"]) == ("accepted", HEPING)
    assert [p for p in ingested["problems"] if p["severity"] == "error"] == []
    result = c315("summary", "--json", "--out", city / "summary", "--workspace", city)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert dict(zip(KEYS, report["totals"], strict=True))["1.1"]["quantity"] == 2 * len(units)
    assert {(o["unit"], o["remark"]) for o in report["other"]} == {(HEPING, see_annex(len(units)))}
