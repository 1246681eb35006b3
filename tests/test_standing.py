"""Which return counts at a cut-off, and the status it gives — on plain stored returns."""

import datetime as dt

import pytest

from campaign315.common.files import shipped
from campaign315.reports.standing import standings
from campaign315.spec.campaign import load_campaign
from campaign315.store import StoredReturn

CAMPAIGN = load_campaign(shipped("data") / "campaign.toml")
TZ = CAMPAIGN.tz
CUTOFF = dt.datetime(2020, 3, 19, 23, 59, tzinfo=TZ)


def stored(n: int, when: dt.datetime, outcome: str = "accepted", unit: str = "办公室") -> StoredReturn:
    return StoredReturn(id=n, campaign=CAMPAIGN.id, sha256=f"{n:064x}", filename=f"{n}.xlsx", source_path="",
                        archive_key="", unit=unit, attachment="stats", outcome=outcome, received_at=when,
                        document_modified=None, filler="", filler_phone="", errors=0, warnings=0)


ON_TIME = dt.datetime(2020, 3, 18, 10, tzinfo=TZ)
LATE = dt.datetime(2020, 3, 19, 19, tzinfo=TZ)
AFTER = dt.datetime(2020, 3, 20, 9, tzinfo=TZ)


@pytest.mark.parametrize(
    ("returns", "include_late", "status", "counting"),
    [
        ([], False, "missing", None),
        ([stored(1, ON_TIME, "rejected")], False, "rejected", None),
        ([stored(1, ON_TIME)], False, "on_time", 1),
        ([stored(1, LATE)], False, "late", 1),
        ([stored(1, AFTER)], False, "after_cutoff", None),
        ([stored(1, AFTER)], True, "after_cutoff", 1),
        ([stored(1, ON_TIME), stored(2, LATE)], False, "late", 2),
        ([stored(1, ON_TIME), stored(2, AFTER)], False, "on_time", 1),
        ([stored(1, ON_TIME), stored(2, AFTER)], True, "after_cutoff", 2),
        ([stored(1, ON_TIME), stored(2, LATE, "rejected")], False, "on_time", 1),
        ([stored(1, ON_TIME, "rejected"), stored(2, AFTER)], False, "after_cutoff", None),
    ],
)
def test_the_latest_accepted_return_by_the_cutoff_counts(returns, include_late, status, counting):
    (office,) = [s for s in standings(CAMPAIGN, returns, CUTOFF, include_late) if s.unit.name == "办公室" and s.attachment == "stats"]
    assert office.status == status
    assert (office.counting.id if office.counting else None) == counting


def test_a_rejected_unit_does_not_inherit_the_previous_units_return():
    returns = [stored(1, ON_TIME, unit="办公室"), stored(2, ON_TIME, "rejected", unit="市场和网络交易监管科")]
    by_unit = {s.unit.name: s for s in standings(CAMPAIGN, returns, CUTOFF) if s.attachment == "stats"}
    assert by_unit["市场和网络交易监管科"].status == "rejected"
    assert by_unit["市场和网络交易监管科"].counting is None


@pytest.mark.parametrize(
    ("returns", "include_late", "shown"),
    [
        ([], False, None),
        ([stored(1, ON_TIME, "rejected")], False, 1),  # nothing counts: the latest is shown
        ([stored(1, ON_TIME), stored(2, LATE, "rejected")], False, 1),  # the counting one, not the later rejected one
        ([stored(1, ON_TIME), stored(2, AFTER)], False, 1),
        ([stored(1, ON_TIME), stored(2, AFTER)], True, 2),
        ([stored(1, AFTER)], False, 1),  # after the cut-off and not counted: still the one to show
    ],
)
def test_the_return_shown_is_the_counting_one_else_the_latest(returns, include_late, shown):
    (office,) = [s for s in standings(CAMPAIGN, returns, CUTOFF, include_late) if s.unit.name == "办公室" and s.attachment == "stats"]
    assert (office.shown.id if office.shown else None) == shown
