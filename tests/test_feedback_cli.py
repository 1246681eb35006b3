"""``c315 feedback`` through the command line: a rejected return gets a letter and a marked copy,
a missing unit a reminder, and an unknown --unit is a usage error."""

from pathlib import Path

from fill import blank, fill_stats, stats_cell


def test_feedback_writes_a_letter_for_the_rejected_unit_and_reminds_the_missing(c315, tmp_path: Path):
    bad = fill_stats(blank(tmp_path / "forms", "药化监管科", "stats", "xlsx"), {"1.1": "若干"}, filler="郑伟", phone="13116051290")
    ingested = c315("ingest", bad, "--received-at", "2020-03-19T10:00")
    assert ingested.exit_code == 1, ingested.output

    result = c315("feedback", "--out", tmp_path / "fb")
    assert result.exit_code == 0, result.output
    (run,) = (tmp_path / "fb").iterdir()
    letter = (run / "药化监管科" / "修改意见-药化监管科.txt").read_text(encoding="utf-8-sig")
    assert str(stats_cell("xlsx", "1.1")) in letter and "若干" in letter
    assert list((run / "药化监管科").glob("*（已标注）.xlsx"))
    assert (run / "南市市场监管所" / "催报-附件2-南市市场监管所.txt").is_file()


def test_feedback_for_an_unknown_unit_is_a_usage_error(c315, tmp_path: Path):
    result = c315("feedback", "--unit", "不存在科", "--out", tmp_path / "fb")
    assert result.exit_code == 2
    assert "不认识的部门" in result.output
    assert not (tmp_path / "fb").exists()
