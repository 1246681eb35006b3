"""The store keeps everything: every file's exact bytes, every return and what was read from it,
which one counts, and where each unit stands against the due times (``status``, ``history``).
Every test here runs twice: on the workspace's SQLite store and on a real PostgreSQL database."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import FORMATS

from campaign315.reports.standing import standings
from campaign315.spec.workspace import Workspace
from campaign315.store import NewReturn, open_store

TZ = ZoneInfo("Asia/Shanghai")
ROSTER_DUE = dt.datetime(2020, 3, 13, 12, 0, tzinfo=TZ)
STATS_DUE = dt.datetime(2020, 3, 19, 17, 30, tzinfo=TZ)
STATUS_KEYS = {"unit", "attachment", "status", "received_at", "problems", "contact", "review"}


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.fixture
def store_url(backend_url):
    """Both backends (conftest's ``backend_url``) for every test of this module."""
    return backend_url


def copy_as(path: Path, folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy2(path, folder / name))


# --- the archive --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_archive_holds_the_exact_bytes_keyed_by_sha256_and_the_original_is_untouched(forms, kept, fmt):
    path = forms.stats(fmt, {"1.1": "３场"})
    before, stat = path.read_bytes(), path.stat()
    result = kept.ingest(path)
    sha256 = hashlib.sha256(before).hexdigest()
    assert result.sha256 == sha256
    stored = kept.by_sha(sha256)
    archive = kept.store.archive
    assert archive.is_key_of(stored.archive_key, sha256)
    assert archive.read(stored.archive_key) == before
    assert archive.digest(stored.archive_key) == sha256
    assert path.read_bytes() == before
    assert path.stat().st_mtime_ns == stat.st_mtime_ns
    assert (stored.filename, stored.source_path) == (path.name, str(path.absolute()))


def test_a_rejected_file_is_archived_and_recorded_but_never_counts(forms, kept, campaign):
    path = forms.stats("xlsx", {"1.1": "五"})
    result = kept.ingest(path, at("2020-03-18T10:00"))
    stored = kept.by_sha(result.sha256)
    assert (stored.outcome, stored.unit, stored.attachment, stored.errors) == ("rejected", "办公室", "stats", 1)
    assert [p.code for p in stored.problems] == ["quantity-not-number"]
    assert kept.store.archive.read(stored.archive_key) == path.read_bytes()
    (standing,) = [s for s in standings(campaign, kept.returns()) if (s.unit.name, s.attachment) == ("办公室", "stats")]
    assert (standing.status, standing.counting) == ("rejected", None)


def test_problems_are_kept_with_their_cells(forms, kept):
    result = kept.ingest(forms.stats("docx", {"1.3": None, "1.2": "3场"}))
    stored = kept.by_sha(result.sha256)
    assert [(p.code, p.location, p.value) for p in stored.problems] == [
        (p.code, p.location, p.value) for p in result.problems]
    assert (stored.errors, stored.warnings) == (0, 2)


def test_the_documents_own_modified_time_is_recorded(forms, kept):
    stored = kept.by_sha(kept.ingest(forms.stats("xlsx")).sha256)
    assert stored.document_modified is not None
    dt.datetime.fromisoformat(stored.document_modified)


# --- duplicates and supersession -----------------------------------------------------------------


def test_the_identical_file_again_is_a_duplicate_and_adds_no_record(forms, tmp_path, kept, ingest_json):
    path = forms.stats("xlsx")
    first = kept.ingest(path)
    assert first.outcome == "accepted"
    renamed = copy_as(path, tmp_path / "OA", "附件2（再次报送）.xlsx")
    status, results = ingest_json(path, renamed)
    assert status == 0
    assert [r["outcome"] for r in results] == ["duplicate", "duplicate"]
    assert {r["sha256"] for r in results} == {first.sha256}
    assert len(kept.returns()) == 1


def test_the_same_bytes_twice_in_one_run_are_recorded_once(forms, tmp_path, kept, ingest_json):
    path = forms.roster("docx")
    copy_as(path, tmp_path / "in", "a.docx")
    copy_as(path, tmp_path / "in", "b.docx")
    status, results = ingest_json(tmp_path / "in")
    assert sorted(r["outcome"] for r in results) == ["accepted", "duplicate"]
    assert len(kept.returns()) == 1


def test_a_later_return_supersedes_and_the_earlier_stays_in_history(forms, tmp_path, kept, campaign, c315):
    earlier = copy_as(forms.stats("xlsx", {"1.1": 3}), tmp_path / "OA", "办公室-统计表.xlsx")
    later = copy_as(forms.stats("docx", {"1.1": 7}), tmp_path / "OA", "办公室-统计表-更正.docx")
    # ingested in the opposite order: "later" means received later, not ingested later
    new = kept.ingest(later, at("2020-03-18T09:00"))
    old = kept.ingest(earlier, at("2020-03-17T09:00"))

    (standing,) = [s for s in standings(campaign, kept.returns()) if (s.unit.name, s.attachment) == ("办公室", "stats")]
    assert standing.counting.sha256 == new.sha256
    assert [r.sha256 for r in standing.received] == [old.sha256, new.sha256]
    assert kept.stats(standing.counting.sha256)["1.1"].quantity == 7
    assert kept.stats(old.sha256)["1.1"].quantity == 3  # the earlier figures are kept

    history = c315("history")
    assert history.exit_code == 0, history.output
    assert earlier.name in history.stdout and later.name in history.stdout
    one_unit = c315("history", "办公室")
    assert one_unit.exit_code == 0
    assert earlier.name in one_unit.stdout
    assert "广告" not in one_unit.stdout


def test_a_rejected_correction_does_not_supersede_the_accepted_return(forms, kept, campaign):
    good = kept.ingest(forms.stats("xlsx", {"1.1": 3}), at("2020-03-17T09:00"))
    kept.ingest(forms.stats("xlsx", {"1.1": "若干"}), at("2020-03-18T09:00"))
    (standing,) = [s for s in standings(campaign, kept.returns()) if (s.unit.name, s.attachment) == ("办公室", "stats")]
    assert standing.counting.sha256 == good.sha256
    assert standing.status == "on_time"
    assert len(standing.received) == 2


def test_history_lists_every_return_received(forms, kept, c315):
    kept.ingest(forms.stats("xlsx", unit="办公室"))
    kept.ingest(forms.stats("xlsx", {"1.1": "五"}, unit="广告科"))
    kept.ingest(forms.roster("docx", unit="南市所"))
    result = c315("history")
    assert result.exit_code == 0
    for unit in ("办公室", "广告监管科", "南市市场监管所"):
        assert unit in result.stdout
    assert c315("history", "没有这个科").exit_code == 2


# --- received_at -----------------------------------------------------------------------------------


def test_received_at_is_the_files_modification_time_by_default(forms, kept, ingest_json):
    path = forms.roster("xlsx")
    when = at("2020-03-13T11:42:05")
    os.utime(path, (when.timestamp(), when.timestamp()))
    status, (result,) = ingest_json(path)
    assert dt.datetime.fromisoformat(result["received_at"]) == when
    assert result["received_at"].endswith("+08:00")
    assert kept.by_sha(result["sha256"]).received_at == when


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("2020-03-13T11:30", at("2020-03-13T11:30")),
     ("2020-03-13 11:30", at("2020-03-13T11:30")),
     ("2020-03-13", at("2020-03-13T00:00")),
     ("2020-03-13T04:30:00+00:00", at("2020-03-13T12:30"))],
)
def test_received_at_given_on_the_command_line_wins(forms, kept, ingest_json, typed, meant):
    path = forms.roster("xlsx")
    os.utime(path, (0, 0))
    status, (result,) = ingest_json("--received-at", typed, path)
    assert dt.datetime.fromisoformat(result["received_at"]) == meant
    assert kept.by_sha(result["sha256"]).received_at == meant


# --- status ------------------------------------------------------------------------------------------


def test_status_says_who_is_missing_on_time_late_or_rejected(forms, kept, campaign, c315):
    def send(path, when):
        kept.ingest(path, at(when))

    send(forms.roster("xlsx", unit="办公室", entries=[{"name": "李明", "position": "科员", "mobile": "13612345678"}]),
         "2020-03-13T11:59")
    send(forms.roster("docx", unit="广告科", entries=[{"name": "王芳", "position": "科员", "mobile": "13712345678"}]),
         "2020-03-13T12:00")  # exactly at the due time: on time
    send(forms.roster("xlsx", unit="南市所"), "2020-03-13T12:01")
    send(forms.roster("xlsx", unit="稽查大队", entries=[{"name": "赵强", "position": "大队长"}]), "2020-03-12T09:00")
    send(forms.stats("xlsx", unit="办公室"), "2020-03-19T17:30")
    send(forms.stats("docx", unit="市场网监科"), "2020-03-19T17:31")
    send(forms.stats("xlsx", {"1.1": "-1"}, unit="区消协"), "2020-03-18T10:00")

    result = c315("status", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 2 * len(campaign.units)
    assert {frozenset(row) for row in rows} == {frozenset(STATUS_KEYS)}
    by_key = {(row["unit"], row["attachment"]): row for row in rows}
    expected = {
        ("办公室", "roster"): "on_time",
        ("广告监管科", "roster"): "on_time",
        ("南市市场监管所", "roster"): "late",
        ("稽查大队", "roster"): "rejected",
        ("办公室", "stats"): "on_time",
        ("市场和网络交易监管科", "stats"): "late",
        ("区消协", "stats"): "rejected",
    }
    assert {key: row["status"] for key, row in by_key.items() if row["status"] != "missing"} == expected
    missing = by_key[("食品安全监管科", "roster")]
    assert (missing["status"], missing["received_at"], missing["problems"]) == ("missing", None, 0)
    assert dt.datetime.fromisoformat(by_key[("南市市场监管所", "roster")]["received_at"]) == at("2020-03-13T12:01")
    assert by_key[("稽查大队", "roster")]["problems"] >= 1
    assert by_key[("市场和网络交易监管科", "stats")]["contact"] == "徐大凯 13682137895"

    table = c315("status")
    assert table.exit_code == 0
    assert "南市市场监管所" in table.stdout


def test_status_follows_the_latest_accepted_return(forms, kept, c315):
    kept.ingest(forms.stats("xlsx", unit="办公室", filler=""), at("2020-03-20T09:00"))  # late, one warning
    kept.ingest(forms.stats("xlsx", {"1.1": 5}, unit="办公室"), at("2020-03-19T16:00"))  # on time, clean
    rows = {(r["unit"], r["attachment"]): r for r in json.loads(c315("status", "--json").stdout)}
    row = rows[("办公室", "stats")]
    assert row["status"] == "late"
    assert dt.datetime.fromisoformat(row["received_at"]) == at("2020-03-20T09:00")
    assert row["problems"] == 1


def test_status_with_an_empty_store_lists_every_unit_as_missing(c315, campaign):
    rows = json.loads(c315("status", "--json").stdout)
    assert {row["status"] for row in rows} == {"missing"}
    assert len(rows) == sum(len(unit.returns) for unit in campaign.units)


def test_due_times_come_from_the_campaign(campaign):
    assert campaign.due_at("roster") == ROSTER_DUE
    assert campaign.due_at("stats") == STATS_DUE


# --- transactions ---------------------------------------------------------------------------------


def _new_return(campaign, sha256: str, unit: str = "办公室") -> NewReturn:
    return NewReturn(campaign=campaign.id, sha256=sha256, filename=f"{sha256[:6]}.xlsx", source_path="", archive_key="",
                     unit=unit, attachment="stats", outcome="rejected", received_at=at("2020-03-18T10:00"),
                     document_modified=None, problems=[], form=None)


def test_record_many_is_one_transaction_and_says_which_were_there_already(kept, campaign):
    first = kept.store.record(_new_return(campaign, "a" * 64))
    ids = kept.store.record_many([_new_return(campaign, "b" * 64), _new_return(campaign, "a" * 64),
                                  _new_return(campaign, "c" * 64)])
    assert first is not None and ids[1] is None and None not in (ids[0], ids[2])
    assert sorted(r.sha256 for r in kept.returns()) == ["a" * 64, "b" * 64, "c" * 64]


def test_a_snapshot_does_not_see_what_is_recorded_meanwhile(kept, campaign, workspace, store_url):
    kept.store.record(_new_return(campaign, "a" * 64))
    with open_store(store_url or Workspace(workspace).store_dir) as other:
        with kept.store.snapshot():
            before = [r.sha256 for r in kept.store.latest_returns(campaign.id, None)]
            other.record(_new_return(campaign, "b" * 64, unit="广告监管科"))
            assert [r.sha256 for r in kept.store.latest_returns(campaign.id, None)] == before
            assert kept.store.knows("b" * 64) is False
        assert kept.store.knows("b" * 64) is True
    assert len(kept.store.latest_returns(campaign.id, None)) == 2


def test_the_same_file_is_recorded_once_per_campaign(kept, campaign):
    assert kept.store.record(_new_return(campaign, "a" * 64)) is not None
    other = campaign.model_copy(update={"id": "hexi-2020-315"})
    assert kept.store.record(_new_return(other, "a" * 64)) is not None
    assert kept.store.record(_new_return(other, "a" * 64)) is None
    assert kept.store.knows("a" * 64, "hexi-2020-315") and not kept.store.knows("b" * 64, "hexi-2020-315")
    assert kept.store.campaigns() == {campaign.id: 1, "hexi-2020-315": 1}


def test_a_file_gives_several_returns_recorded_all_or_nothing(kept, campaign):
    """One file holding both forms is two returns (told apart by their place in it), recorded in
    one transaction; the same file again records nothing — not even a return it did not hold
    before — and another campaign keeps its own copy."""
    roster = _new_return(campaign, "d" * 64)
    roster.attachment, roster.place = "roster", "值班表"
    stats = _new_return(campaign, "d" * 64)
    stats.place = "统计表"
    ids = kept.store.record_returns([roster, stats])
    assert ids is not None and len(set(ids)) == 2
    assert sorted((r.place, r.attachment) for r in kept.returns()) == [("值班表", "roster"), ("统计表", "stats")]
    extra = _new_return(campaign, "d" * 64)
    extra.place = "Sheet3"
    assert kept.store.record_returns([extra, stats]) is None  # stats is there: nothing of the file is written
    assert sorted(r.place for r in kept.returns()) == ["值班表", "统计表"]
    other = campaign.model_copy(update={"id": "hexi-2020-315"})
    copied = _new_return(other, "d" * 64)
    copied.place = "统计表"
    assert kept.store.record_returns([copied]) is not None
    assert kept.store.campaigns() == {campaign.id: 2, "hexi-2020-315": 1}
