"""``c315 feedback`` through the command line: a rejected return gets a letter and a marked copy,
a missing unit a reminder, and an unknown --unit is a usage error."""

from pathlib import Path

from fill import blank, fill_stats
from typer.testing import CliRunner

from campaign315.cli import app

RUNNER = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1"})


def test_feedback_writes_a_letter_for_the_rejected_unit_and_reminds_the_missing(tmp_path: Path):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    bad = fill_stats(blank(tmp_path / "forms", "药化监管科", "stats", "xlsx"), {"1.1": "若干"}, filler="郑伟", phone="13116051290")
    ingested = RUNNER.invoke(app, ["ingest", str(bad), "--workspace", str(workspace), "--received-at", "2020-03-19T10:00"])
    assert ingested.exit_code == 1, ingested.output

    result = RUNNER.invoke(app, ["feedback", "--workspace", str(workspace), "--out", str(tmp_path / "fb")])
    assert result.exit_code == 0, result.output
    (run,) = (tmp_path / "fb").iterdir()
    letter = (run / "药化监管科" / "修改意见-药化监管科.txt").read_text(encoding="utf-8-sig")
    assert "统计表!D5" in letter and "若干" in letter
    assert list((run / "药化监管科").glob("*（已标注）.xlsx"))
    assert (run / "南市市场监管所" / "催报-附件2-南市市场监管所.txt").is_file()


def test_feedback_for_an_unknown_unit_is_a_usage_error(tmp_path: Path):
    result = RUNNER.invoke(app, ["feedback", "--workspace", str(tmp_path), "--unit", "不存在科", "--out", str(tmp_path / "fb")])
    assert result.exit_code == 2
    assert "不认识的部门" in result.output
    assert not (tmp_path / "fb").exists()
