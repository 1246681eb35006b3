"""Returns are recorded in batches and handed on as each batch commits.

One transaction holds many returns, each still whole or absent: a file recorded before (or twice
in one batch) is a duplicate, a return the schema refuses is left out alone. ``each_ingested``
yields a result only once its batch is committed, and keeps nothing: a caller that stops after
the first result leaves the rest unrecorded, ready for the next run.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pytest
from test_crash import make_returns

from campaign315.common.files import shipped
from campaign315.intake.ingest import BATCH_FILES, _examine, each_ingested
from campaign315.spec.campaign import load_campaign
from campaign315.store import open_store

CAMPAIGN = load_campaign(shipped("data") / "campaign.toml")
WHEN = dt.datetime(2020, 3, 12, 10, tzinfo=CAMPAIGN.tz)


@pytest.fixture(scope="module")
def returns(tmp_path_factory) -> list[Path]:
    return make_returns(tmp_path_factory.mktemp("batches"), 3 * BATCH_FILES + 10)


def test_a_batch_records_each_return_whole_and_each_file_once(returns, tmp_path):
    store = open_store(tmp_path / "store")
    rows = [_examine(path, CAMPAIGN, store.archive, WHEN)[0].returns[0] for path in returns[:6]]
    refused = rows[4]._replace(lines=((rows[4].lines[0][0], -1, *rows[4].lines[0][2:]), *rows[4].lines[1:]))
    batch = [rows[0], rows[1], rows[0], rows[2], refused, rows[5]]  # the first file twice; one the schema refuses
    ids = store.record_rows(batch)
    assert [i is not None for i in ids] == [True, True, False, True, False, True]
    stored = {r.sha256: r for r in store.returns(CAMPAIGN.id)}
    assert set(stored) == {rows[n].sha256 for n in (0, 1, 2, 5)}  # the refused return left out, whole
    lines = store.stats_lines([r.id for r in stored.values()])
    assert all(len(found) == len(CAMPAIGN.attachments.stats.items) for found in lines.values())
    assert store.record_rows([rows[1]]) == [None]  # recorded by an earlier batch: a duplicate
    store.close()


@pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux")
def test_results_come_as_their_batch_commits_and_are_not_kept(returns, tmp_path):
    store = open_store(tmp_path / "store")
    results = each_ingested(returns, CAMPAIGN, store, WHEN)
    first = next(results)
    assert first.outcome == "accepted"
    assert 1 <= len(store.returns(CAMPAIGN.id)) <= BATCH_FILES  # one batch at most: the rest still to come
    results.close()  # the caller stops: the workers are stopped, nothing more is recorded
    recorded = len(store.returns(CAMPAIGN.id))
    assert recorded < len(returns)
    again = list(each_ingested(returns, CAMPAIGN, store, WHEN))
    assert [r.outcome for r in again].count("accepted") == len(returns) - recorded
    assert {r.sha256 for r in store.returns(CAMPAIGN.id)} == {r.sha256 for r in again}
    store.close()
