"""``c315 review``: the collector marks a received return 已审核, 有问题 (with a comment) or 退回 (with
a reason), recorded with who and when; a 退回 takes the return out of the summary as an ingest
rejection does. Run on both stores: real files generated, filled, ingested, reviewed, summarised."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

OFFICE = "办公室"
STATS_KEYS = ("1.1", "1.2")


@pytest.fixture
def store_url(backend_url):
    return backend_url


def ingest(c315, when: str, *paths: Path) -> list[dict]:
    result = c315("ingest", "--json", "--received-at", when, *paths)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def review(c315, *args: object, code: int = 0) -> dict | str:
    result = c315("review", *args, *(["--json"] if code == 0 else []), "--by", "李明")
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if code == 0 else result.output


def totals(c315, tmp_path: Path) -> dict[str, int | None]:
    result = c315("summary", "--json", "--deadline", "2020-03-19", "--out", tmp_path / "summary")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    return report, {t["item"]: t["quantity"] for t in report["totals"][:2]}


def status_of(c315, unit: str, attachment: str) -> dict:
    result = c315("status", "--json")
    assert result.exit_code == 0, result.output
    (row,) = [r for r in json.loads(result.stdout) if r["unit"] == unit and r["attachment"] == attachment]
    return row


def test_a_hand_rejection_takes_the_return_out_of_the_summary_and_the_earlier_one_counts_again(c315, forms, tmp_path):
    first = forms.stats("xlsx", {"1.1": 2, "1.2": 3})
    second = forms.stats("xlsx", {"1.1": 20, "1.2": 30})
    (older,) = ingest(c315, "2020-03-17T10:00", first)
    (newer,) = ingest(c315, "2020-03-18T10:00", second)
    _, before = totals(c315, tmp_path)
    assert list(before.values()) == [20, 30]

    done = review(c315, OFFICE, "附件2", "--reject", "--note", "场次与台账不符")
    assert (done["file"], done["review"]["state"], done["review"]["note"], done["review"]["by"]) == (
        second.name, "rejected", "场次与台账不符", "李明")
    assert done["status"] == "on_time"  # the earlier return counts again

    report, after = totals(c315, tmp_path)
    assert list(after.values()) == [2, 3]
    (office,) = [u for u in report["units"] if u["unit"] == OFFICE]
    assert office["review"]["stats"] is None  # the return shown now (the earlier one) is not reviewed

    history = json.loads(c315("history", OFFICE, "--json").stdout)
    by_file = {h["sha256"]: h for h in history}
    assert by_file[newer["sha256"]]["counts"] is False and by_file[older["sha256"]]["counts"] is True
    assert by_file[newer["sha256"]]["review"]["state"] == "rejected"
    assert by_file[newer["sha256"]]["outcome"] == "accepted"  # what ingest decided stays as it was

    # taken back: approving the rejected return by its number makes it count again
    again = review(c315, OFFICE, "stats", "--approve", "--return", by_file[newer["sha256"]]["id"])
    assert again["review"]["state"] == "approved"
    _, restored = totals(c315, tmp_path)
    assert list(restored.values()) == [20, 30]
    history = json.loads(c315("history", OFFICE, "--json").stdout)
    (entry,) = [h for h in history if h["sha256"] == newer["sha256"]]
    assert [r["state"] for r in entry["reviews"]] == ["rejected", "approved"]  # nothing overwritten


def test_the_only_return_sent_back_leaves_the_form_rejected_and_chased(c315, forms, tmp_path):
    ingest(c315, "2020-03-18T10:00", forms.stats("xlsx", {"1.1": 5}))
    review(c315, OFFICE, "统计表", "--reject", "--note", "请附活动照片")
    row = status_of(c315, OFFICE, "stats")
    assert (row["status"], row["review"]["state"], row["review"]["note"]) == ("rejected", "rejected", "请附活动照片")
    _, figures = totals(c315, tmp_path)
    assert figures[next(iter(figures))] is None  # nobody else reported 1.1: blank, not 5

    feedback = c315("feedback", "--json", "--out", tmp_path / "fb", "--unit", OFFICE)
    assert feedback.exit_code == 0, feedback.output
    (unit,) = json.loads(feedback.stdout)["units"]
    letter = Path(unit["letter"]).read_text(encoding="utf-8-sig")
    assert "审核退回" in letter and "请附活动照片" in letter and "不计入汇总" in letter
    (reminder,) = [r for r in unit["reminders"] if r["attachment"] == "stats"]
    assert "经审核退回（请附活动照片）" in reminder["text"]


def test_has_issues_keeps_the_figures_and_puts_the_comment_in_the_letter_and_the_summary(c315, forms, tmp_path):
    ingest(c315, "2020-03-18T10:00", forms.stats("xlsx", {"1.1": 7}))
    done = review(c315, OFFICE, "2", "--has-issues", "--note", "第1项请核对")
    assert (done["status"], done["review"]["state"]) == ("on_time", "has_issues")
    report, figures = totals(c315, tmp_path)
    assert next(iter(figures.values())) == 7
    (office,) = [u for u in report["units"] if u["unit"] == OFFICE]
    assert office["review"]["stats"]["note"] == "第1项请核对"

    (breakdown,) = (tmp_path / "summary").glob("*明细*.xlsx")
    rows = list(openpyxl.load_workbook(breakdown)["报送情况"].iter_rows(values_only=True))
    column = rows[0].index("审核")
    (said,) = [row[column] for row in rows[1:] if row[0] == OFFICE and row[1].startswith("附件2")]
    assert said.startswith("有问题：第1项请核对（李明 ")

    feedback = c315("feedback", "--json", "--out", tmp_path / "fb", "--unit", OFFICE)
    (unit,) = json.loads(feedback.stdout)["units"]
    letter = Path(unit["letter"]).read_text(encoding="utf-8-sig")  # a clean return: written for the comment alone
    assert "审核意见（有问题，" in letter and "第1项请核对" in letter and "已接收，计入汇总" in letter
    assert [r["attachment"] for r in unit["reminders"]] == ["roster"]  # the roster is still missing; nothing chases the stats

    table = c315("history", OFFICE)
    assert "有问题（李明" in table.stdout and "审核：已审核 0，有问题 1，退回 0" in table.stdout


@pytest.mark.parametrize(("args", "code", "said"), [
    (("--reject",), 1, "退回的原因"),
    (("--has-issues", "--note", "  "), 1, "有什么问题"),
    ((), 2, "请选一种审核结果"),
    (("--approve", "--reject", "--note", "x"), 2, "请选一种审核结果"),
])
def test_a_review_asked_wrongly_is_refused_with_a_message_and_records_nothing(c315, forms, args, code, said):
    ingest(c315, "2020-03-18T10:00", forms.stats("xlsx"))
    output = review(c315, OFFICE, "附件2", *args, code=code)
    assert said in output and "Traceback" not in output
    (entry,) = json.loads(c315("history", OFFICE, "--json").stdout)
    assert entry["reviews"] == []


def test_nothing_to_review_an_unknown_form_and_a_return_rejected_on_ingest(c315, forms):
    assert "还没有收到" in review(c315, OFFICE, "附件2", "--approve", code=1)
    assert "没有「附件9」这张表" in review(c315, OFFICE, "附件9", "--approve", code=2)
    unknown = c315("review", "不存在的科", "附件2", "--approve")
    assert unknown.exit_code == 2 and "不存在的科" in unknown.output

    (bad,) = ingest(c315, "2020-03-18T10:00", forms.stats("xlsx", {"1.1": "-3"}))
    assert bad["outcome"] == "rejected"
    assert "收表时已被退回" in review(c315, OFFICE, "附件2", "--approve", code=1)
    assert "收表时已被退回" in review(c315, OFFICE, "附件2", "--reject", "--note", "x", code=1)
    commented = review(c315, OFFICE, "附件2", "--has-issues", "--note", "表格版本不对，请用新表")  # a comment may still go with it
    assert commented["status"] == "rejected"
    assert "没有编号为 99999 的报表" in review(c315, OFFICE, "附件2", "--approve", "--return", 99999, code=1)


def test_a_review_is_kept_by_store_copy_and_a_later_review_follows_on_the_next_copy(c315, forms, workspace, tmp_path):
    ingest(c315, "2020-03-18T10:00", forms.stats("xlsx"))
    review(c315, OFFICE, "附件2", "--has-issues", "--note", "第一次意见")
    target = f"sqlite:///{tmp_path / 'copy' / 'c315.sqlite'}"
    copied = c315("store", "copy", "--to", target, "--json")
    assert copied.exit_code == 0, copied.output
    assert json.loads(copied.stdout)["reviews"] == 1
    review(c315, OFFICE, "附件2", "--approve")
    again = json.loads(c315("store", "copy", "--to", target, "--json").stdout)
    assert (again["copied"], again["reviews"]) == (0, 1)
    assert json.loads(c315("store", "copy", "--to", target, "--json").stdout)["reviews"] == 0  # idempotent

    from campaign315.store import open_store

    with open_store(target) as store:
        (kept,) = store.returns("heping-2020-315")
    assert [(r.state, r.note, r.reviewer) for r in kept.reviews] == [
        ("has_issues", "第一次意见", "李明"), ("approved", "", "李明")]
