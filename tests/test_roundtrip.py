"""The round trip as a property: generate a form, fill it with any valid values, ingest it — the
store holds exactly those values, in both formats."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from conftest import FORMATS
from fill import blank, fill_roster, fill_stats, stats_cell
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign315.common.files import shipped
from campaign315.intake.ingest import ingest_file
from campaign315.spec.campaign import load_campaign
from campaign315.spec.forms import RosterEntry
from campaign315.spec.problems import Code
from campaign315.store import Store, open_store

CAMPAIGN = load_campaign(shipped("data") / "campaign.toml")
STATS = CAMPAIGN.attachments.stats
ROSTER = CAMPAIGN.attachments.roster
STAFFING = CAMPAIGN.staffing
SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

# Text as people type it in 备注: Chinese, digits, a little punctuation; no padding at the ends
# (the reader trims it, as it should) and nothing that full-width folding would change.
WORDS = st.text(alphabet="消费维权咨询宣传普法进社区发放资料份场次人 0123456789ab-、（）", min_size=1, max_size=20)
REMARKS = WORDS.map(lambda text: " ".join(text.split())).filter(bool).map(
    lambda text: text.replace("（", "(").replace("）", ")"))
QUANTITIES = st.one_of(st.none(), st.integers(0, 100_000))

SURNAMES, GIVEN = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗", "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚"
NAMES = st.builds(lambda s, g: s + g, st.sampled_from(SURNAMES), st.text(alphabet=GIVEN, min_size=1, max_size=2))
TITLES = st.sampled_from(STAFFING.leader_titles + STAFFING.cadre_titles)
MOBILES = st.builds(lambda second, rest: f"1{second}{rest:09d}", st.integers(3, 9), st.integers(0, 10**9 - 1))
LANDLINES = st.builds(lambda first, rest, area: f"{area}{first}{rest:07d}",
                      st.integers(2, 9), st.integers(0, 10**7 - 1), st.sampled_from(["", "022-"]))


@st.composite
def activity_stats(draw):
    """Quantities (None = left empty) for every item, at least one reported, and remarks."""
    quantities = {item.key: draw(QUANTITIES) for item in STATS.items}
    if all(q is None for q in quantities.values()):
        quantities[draw(st.sampled_from([item.key for item in STATS.items]))] = draw(st.integers(0, 100_000))
    remarks = {item.key: draw(st.one_of(st.just(""), REMARKS)) for item in STATS.items}
    label = draw(st.one_of(st.just(""), REMARKS))  # what the free 其他 row counts, in its item cell
    return quantities, remarks, label


@st.composite
def people(draw):
    count = draw(st.integers(1, ROSTER.rows))
    names = draw(st.lists(NAMES, min_size=count, max_size=count, unique=True))
    entries = []
    for name in names:
        landline, mobile = draw(st.sampled_from([(True, False), (False, True), (True, True)]))
        entries.append({
            "name": name,
            "position": draw(TITLES),
            "landline": draw(LANDLINES) if landline else "",
            "mobile": draw(MOBILES) if mobile else "",
        })
    return entries


@pytest.fixture
def place(tmp_path):
    """A fresh folder and store for each example hypothesis tries."""
    counter = itertools.count()
    stores: list[Store] = []

    def make():
        folder = tmp_path / str(next(counter))
        stores.append(open_store(folder / ".c315"))
        return folder, stores[-1]

    yield make
    for store in stores:
        store.close()


@pytest.mark.parametrize("fmt", FORMATS)
@SETTINGS
@given(stats=activity_stats())
def test_stats_values_survive_the_round_trip(place, fmt, stats):
    quantities, remarks, label = stats
    folder, store = place()
    path = fill_stats(blank(folder, "南市所", "stats", fmt), quantities, remarks=remarks, labels={"3": label},
                      filler="张涛", phone="13682055679")
    (result,) = ingest_file(path, CAMPAIGN, store)
    assert result.outcome == "accepted", result.problems
    (stored,) = store.returns(CAMPAIGN.id)
    lines = {line.key: line for line in store.stats_lines([stored.id])[stored.id]}
    assert {key: line.quantity for key, line in lines.items()} == quantities
    assert {key: line.remark for key, line in lines.items()} == remarks
    assert lines["3"].label == label
    empty = {p.location for p in result.problems if p.code == Code.QUANTITY_EMPTY}
    # A 其他 row left wholly blank is normal and not warned about; every other empty cell is.
    blank_free_rows = {key for key, item in ((i.key, i) for i in CAMPAIGN.attachments.stats.items)
                       if item.free and quantities[key] is None and not remarks.get(key) and not (key == "3" and label)}
    assert empty == {stats_cell(fmt, k) for k, q in quantities.items() if q is None and k not in blank_free_rows}


@pytest.mark.parametrize("fmt", FORMATS)
@SETTINGS
@given(entries=people())
def test_roster_entries_survive_the_round_trip(place, fmt, entries):
    folder, store = place()
    path = fill_roster(blank(folder, "办公室", "roster", fmt), entries, filler="张涛", phone="13682055679")
    (result,) = ingest_file(path, CAMPAIGN, store)
    assert result.outcome == "accepted", result.problems
    assert [p.code for p in result.problems if p.is_error] == []
    (stored,) = store.returns(CAMPAIGN.id)
    expected = [RosterEntry(date=dt.date(2020, 3, 14), **entry) for entry in entries]
    assert store.roster_entries([stored.id])[stored.id] == expected
