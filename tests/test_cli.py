"""The command line as an operator meets it: documented commands, a light ``--help``, ``c315 init``
and workspaces, and one clear Chinese message (no traceback) for a malformed campaign file.

In-process runs go through conftest's ``c315`` fixture, whose runner points C315_WORKSPACE at an
empty folder of the test's own (so a developer's workspace never leaks in); a test about where the
workspace comes from runs its own ``cli_runner`` with the variable it needs."""

from __future__ import annotations

import filecmp
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from commands import every_command
from conftest import cli_runner
from openpyxl import load_workbook

from campaign315.cli import app
from campaign315.common.files import safe_filename, shipped
from campaign315.spec.campaign import CAMPAIGN_FILE, load_campaign
from campaign315.spec.forms import form_filename

CHINESE = re.compile(r"[\u4e00-\u9fff]")
HEAVY_MODULES = {"openpyxl", "docx", "docxtpl", "python_calamine", "sqlite3", "_sqlite3", "lxml", "sqlalchemy", "alembic",
                 "psycopg"}
SHIPPED = load_campaign(shipped("data") / CAMPAIGN_FILE)
TEMPLATES = sorted(path.name for path in shipped("templates").iterdir() if path.suffix in (".docx", ".j2"))


@pytest.fixture(autouse=True)
def _in_a_folder_of_its_own(monkeypatch, tmp_path):
    """The checkout's folder must not be the current one (``c315 init`` and ``--out`` default to it)."""
    monkeypatch.chdir(tmp_path)


COMMANDS = every_command()


def unit_folders(out: Path) -> set[str]:
    return {path.name for path in out.iterdir() if path.is_dir()}


# --- the commands (their help, examples, --json and exit codes: test_cli_conventions.py) --------


def test_the_app_has_the_foundation_commands():
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"init", "generate-forms"} <= names


# --- c315 --help stays light -----------------------------------------------------------------

_PROBE = """
import json, sys
args, heavy = json.loads(sys.argv[1]), set(json.loads(sys.argv[2]))
sys.argv = ["c315", *args]
from campaign315.cli import main
try:
    main()
    code = 0
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "loaded": sorted(m for m in sys.modules if m.split(".")[0] in heavy)}))
"""


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "C315_WORKSPACE"}
    env["COLUMNS"] = "200"
    return env


def loaded_by(args: list[str], cwd: Path) -> dict:
    """Run c315 with ``args`` in a fresh interpreter; which heavy modules did it import?"""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args), json.dumps(sorted(HEAVY_MODULES))],
        capture_output=True, text=True, cwd=cwd, timeout=60, env=_clean_env(),
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "args",
    [["--help"], *[[*p, "--help"] for p, _ in COMMANDS]],
    ids=lambda args: " ".join(args),
)
def test_help_imports_no_office_library_nor_the_database(tmp_path, args):
    report = loaded_by(args, tmp_path)
    assert report["code"] == 0
    assert report["loaded"] == []


def test_the_probe_would_see_an_office_library(tmp_path):
    """The import check above can fail: a command that really runs loads openpyxl."""
    report = loaded_by(["generate-forms", "--out", str(tmp_path / "f"), "-d", "办公室", "-f", "xlsx"], tmp_path)
    assert report["code"] == 0
    assert "openpyxl" in report["loaded"]


def test_python_m_campaign315_help_runs_and_lists_the_commands(tmp_path):
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "campaign315", "--help"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60, env=_clean_env(),
    )
    assert done.returncode == 0, done.stderr
    for path, _ in COMMANDS:
        assert path[0] in done.stdout
    imported = {line.split("|")[-1].strip().split(".")[0] for line in done.stderr.splitlines() if "|" in line}
    assert "typer" in imported  # the importtime report is there to read
    assert imported & HEAVY_MODULES == set()


# --- c315 init -------------------------------------------------------------------------------


def test_init_writes_the_campaign_and_the_templates(c315, tmp_path):
    workspace = tmp_path / "2021年315"
    result = c315("init", str(workspace))
    assert result.exit_code == 0, result.output
    assert str(workspace) in result.output
    assert load_campaign(workspace / CAMPAIGN_FILE) == SHIPPED
    assert sorted(p.name for p in (workspace / "templates").iterdir()) == TEMPLATES == [
        "feedback_letter.txt.j2", "reminder.txt.j2", "report.html.j2", "附件1.docx", "附件2.docx"]
    for name in TEMPLATES:  # a copy: the office restyles its own
        assert filecmp.cmp(workspace / "templates" / name, shipped("templates") / name, shallow=False)


def test_init_without_a_directory_uses_the_current_one(c315, tmp_path):
    result = c315("init")
    assert result.exit_code == 0, result.output
    assert load_campaign(tmp_path / CAMPAIGN_FILE) == SHIPPED


def test_second_init_refuses_and_force_restores_the_default(c315, tmp_path):
    workspace = tmp_path / "ws"
    assert c315("init", str(workspace)).exit_code == 0
    toml = workspace / CAMPAIGN_FILE
    edited = toml.read_text(encoding="utf-8").replace('name = "办公室"', 'name = "综合办公室"')
    toml.write_text(edited, encoding="utf-8")

    again = c315("init", str(workspace))
    assert again.exit_code == 1, again.output
    assert isinstance(again.exception, SystemExit)
    assert "已存在" in again.output and "--force" in again.output
    assert toml.read_text(encoding="utf-8") == edited

    forced = c315("init", str(workspace), "--force")
    assert forced.exit_code == 0, forced.output
    assert load_campaign(toml) == SHIPPED


# --- a workspace's own campaign is the one used ----------------------------------------------


@pytest.fixture
def renamed_workspace(c315, tmp_path) -> Path:
    """A workspace whose campaign renames 办公室 to 综合办公室."""
    workspace = tmp_path / "ws"
    assert c315("init", str(workspace)).exit_code == 0
    toml = workspace / CAMPAIGN_FILE
    text = toml.read_text(encoding="utf-8")
    assert text.count('name = "办公室"') == 1
    toml.write_text(text.replace('name = "办公室"', 'name = "综合办公室"'), encoding="utf-8")
    return workspace


def assert_used_the_renamed_campaign(out: Path) -> None:
    expected = {unit.name for unit in SHIPPED.units} - {"办公室"} | {"综合办公室"}
    assert unit_folders(out) == expected
    spec = SHIPPED.attachments.stats
    path = out / "综合办公室" / safe_filename(form_filename(spec, "综合办公室", "xlsx"))
    ws = load_workbook(path)["统计表"]
    assert [c.value for c in ws[3] if c.value] == ["填报部门：", "综合办公室"]


def test_generate_uses_the_workspace_given_by_option(c315, tmp_path, renamed_workspace):
    out = tmp_path / "out"
    result = c315("generate-forms", "--out", str(out), "--format", "xlsx", "--workspace", str(renamed_workspace))
    assert result.exit_code == 0, result.output
    assert_used_the_renamed_campaign(out)


def test_generate_uses_the_workspace_given_by_environment(tmp_path, renamed_workspace):
    out = tmp_path / "out"
    runner = cli_runner(C315_WORKSPACE=str(renamed_workspace))
    result = runner.invoke(app, ["generate-forms", "--out", str(out), "--format", "xlsx"])
    assert result.exit_code == 0, result.output
    assert_used_the_renamed_campaign(out)


def test_generate_uses_the_current_directory_as_workspace(renamed_workspace, monkeypatch):
    monkeypatch.chdir(renamed_workspace)
    result = cli_runner().invoke(app, ["generate-forms", "--format", "xlsx"])  # no C315_WORKSPACE
    assert result.exit_code == 0, result.output
    assert_used_the_renamed_campaign(renamed_workspace / "forms")


def test_without_a_workspace_campaign_the_shipped_one_is_used(c315, tmp_path):
    out = tmp_path / "out"
    result = c315("generate-forms", "--out", str(out), "--format", "xlsx")
    assert result.exit_code == 0, result.output
    assert unit_folders(out) == {unit.name for unit in SHIPPED.units}


# --- a malformed campaign file: one clear message, no traceback ------------------------------


def _replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert text.count(old) == 1, f"the shipped campaign no longer holds {old!r}"
        return text.replace(old, new)

    return edit


MALFORMED = {
    # case: (edit to the shipped campaign.toml, what the message must name)
    "toml-syntax": (_replace("issued_on = 2020-03-11", "issued_on = = 2020-03-11"), ["格式有误", "line {line}"]),
    "unit-kind-invalid": (
        _replace('name = "办公室"\nkind = "科室"', 'name = "办公室"\nkind = "部门"'),
        ["units[0]", "kind", "部门", "科室", "市场监管所"],
    ),
    "stats-title-missing": (_replace('title = "2020年3•15活动工作情况统计表"\n', ""), ["attachments.stats.title", "缺少"]),
    "item-keys-duplicated": (_replace('{ key = "1.2", ', '{ key = "1.1", '), ["attachments.stats.items", "重复", "1.1"]),
    "timezone-unknown": (_replace('timezone = "Asia/Shanghai"', 'timezone = "Mars/Olympus"'), ["timezone", "时区", "Mars/Olympus"]),
    "alias-two-units": (
        _replace('aliases = ["食品监管科", "食品科"]', 'aliases = ["食品监管科", "食品科", "网监科"]'),
        ["units", "别名", "网监科", "市场和网络交易监管科", "食品安全监管科"],
    ),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_campaign_gives_one_clear_message_naming_file_and_field(c315, tmp_path, case):
    edit, must_name = MALFORMED[case]
    workspace = tmp_path / "ws"
    assert c315("init", str(workspace)).exit_code == 0
    toml = workspace / CAMPAIGN_FILE
    original = toml.read_text(encoding="utf-8")
    broken = edit(original)
    toml.write_text(broken, encoding="utf-8")
    changed_line = next(i for i, (a, b) in enumerate(zip(original.splitlines(), broken.splitlines(), strict=False), 1) if a != b)
    out = tmp_path / "out"

    result = c315("generate-forms", "--out", str(out), "--workspace", str(workspace))

    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a clean exit, not an uncaught error
    message = result.output
    assert "Traceback" not in message
    assert message.startswith("错误：")
    assert [line for line in message.splitlines() if line.startswith("错误")] == [message.splitlines()[0]]
    assert str(toml) in message
    for needle in must_name:
        assert needle.format(line=changed_line) in message
    if case != "toml-syntax":
        assert "有 1 处错误" in message  # one defect, one line — not a cascade
        assert "Input should" not in message and "Value error" not in message
    assert not out.exists()


def test_malformed_campaign_message_from_a_real_process(tmp_path):
    """Through the console script's entry point: exit status and stderr, still no traceback."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / CAMPAIGN_FILE).write_text("schema_version = 1\nid = [\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "campaign315", "generate-forms", "--out", str(tmp_path / "out"), "-w", str(workspace)],
        capture_output=True, text=True, cwd=tmp_path, timeout=60, env=_clean_env(),
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert str(workspace / CAMPAIGN_FILE) in done.stderr and "格式有误" in done.stderr
    assert done.stdout == ""
