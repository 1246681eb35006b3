"""``c315 verify`` through the command line: a clean store, then a tampered archive file."""

from pathlib import Path

from fill import blank, fill_stats
from typer.testing import CliRunner

from campaign315.cli import app

RUNNER = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1"})


def test_verify_says_the_store_is_whole_then_names_the_altered_file(tmp_path: Path):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    path = fill_stats(blank(tmp_path / "forms", "办公室", "stats", "xlsx"), {"1.1": 3}, filler="张涛", phone="13682055679")
    ingested = RUNNER.invoke(app, ["ingest", str(path), "--workspace", str(workspace), "--received-at", "2020-03-12T10:00"])
    assert ingested.exit_code == 0, ingested.output

    clean = RUNNER.invoke(app, ["verify", "--workspace", str(workspace)])
    assert clean.exit_code == 0, clean.output
    assert "一致" in clean.stdout

    (archived,) = (workspace / ".c315" / "archive").rglob("*.xlsx")
    archived.write_bytes(archived.read_bytes() + b"x")
    tampered = RUNNER.invoke(app, ["verify", "--workspace", str(workspace), "--json"])
    assert tampered.exit_code == 1
    assert '"archive-altered"' in tampered.stdout
