"""The command line's small conventions, checked on every command the app has — including commands
added after this file was written (the walk is over the app itself, see ``commands.py``):

- ``--help`` ends with an example, ``示例：c315 …``, and that example runs;
- ``--json`` prints only JSON on stdout, with exactly the keys README documents for the command;
- ``-q/--quiet`` leaves only the closing line;
- exit status 0 done, 1 refused or found wrong, 2 the command line is wrong;
- ``--version``, shell completion of unit names (bash, zsh, fish, PowerShell), and plain text
  without escape codes under ``NO_COLOR`` or when stdout is not a terminal.
"""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import subprocess
import sys
from importlib.metadata import version as installed_version
from pathlib import Path

import pytest
from commands import documented_json, every_command, example_args, param_names
from conftest import CADRE, GOOD_QUANTITIES, GOOD_REMARKS, cli_runner
from fill import blank, fill_roster, fill_stats
from guards import deadline

import campaign315
from campaign315.cli import app
from campaign315.common.files import CAMPAIGN_FILE, shipped
from campaign315.spec.workspace import Workspace
from campaign315.store import open_store

COMMANDS = every_command()
IDS = [" ".join(path) for path, _ in COMMANDS]
NOT_REPORTING: dict[str, str] = {
    "demo": "a walkthrough for a person to read (the commands it runs each have --json)",
    "serve": "a server that runs until stopped; its API answers in JSON, and serve links / serve token have --json",
}
"""Commands that print no result a script would read, so have no ``--json`` — and why."""
JSON_COMMANDS = [(path, command) for path, command in COMMANDS if "json" in param_names(command)]
QUIET_COMMANDS = [(path, command) for path, command in COMMANDS if "quiet" in param_names(command)]
UNIT_COMMANDS = [(path, command) for path, command in COMMANDS if param_names(command) & {"unit", "units"}]
WORKSPACE_COMMANDS = [(path, command) for path, command in COMMANDS if "workspace" in param_names(command)]
TABLE = re.compile("[┏┃━│┡└]")
ESCAPE = b"\x1b["
HEAVY = {"openpyxl", "docx", "docxtpl", "python_calamine", "sqlite3", "_sqlite3", "lxml"}


def ids(commands) -> list[str]:
    return [" ".join(path) for path, _ in commands]


def run(*args: object, **env: str | None):
    """``c315 ARGS`` in-process, in the current folder (the test's copy of the prepared one)."""
    return cli_runner(**env).invoke(app, [str(a) for a in args])


def example(path: tuple[str, ...]) -> list[str]:
    shown = run(*path, "--help")
    assert shown.exit_code == 0, shown.output
    return example_args(shown.stdout, path)


# --- a folder where every example runs: a workspace with returns in it, and returns to ingest ----


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    """A folder holding ``ws/`` — the shipped campaign, with 市场网监科's clean 附件1 and 附件2 and
    药化科's rejected 附件2 (若干 in a quantity cell) ingested, and one archived file without a
    record (an ingest cut short), so ``verify`` has a warning to report — and ``returned/`` with
    办公室's clean forms in both formats, which the ingest example takes."""
    root = tmp_path_factory.mktemp("prepared")
    forms = root / "filled"
    stats = fill_stats(blank(forms / "1", "市场和网络交易监管科", "stats", "xlsx"), GOOD_QUANTITIES, remarks=GOOD_REMARKS,
                       filler="徐大凯", phone="13682137895")
    roster = fill_roster(blank(forms / "2", "市场和网络交易监管科", "roster", "xlsx"), [CADRE], filler="徐大凯", phone="13682137895")
    rejected = fill_stats(blank(forms / "3", "药化监管科", "stats", "docx"), {**GOOD_QUANTITIES, "1.1": "若干"},
                          remarks=GOOD_REMARKS, filler="郑伟", phone="13116051290")
    workspace = root / "ws"
    workspace.mkdir()
    runner = cli_runner(C315_WORKSPACE=str(workspace))
    for path, code in ((stats, 0), (roster, 0), (rejected, 1)):
        done = runner.invoke(app, ["ingest", str(path), "--received-at", "2020-03-18T10:00"])
        assert done.exit_code == code, done.output
    with open_store(Workspace(workspace).store_dir) as store:
        data = b"an ingest cut short after archiving"
        import hashlib

        store.archive.put(data, hashlib.sha256(data).hexdigest(), ".xlsx")
    returned = root / "returned"
    returned.mkdir()
    office = (fill_stats(blank(forms / "4", "办公室", "stats", "xlsx"), GOOD_QUANTITIES, remarks=GOOD_REMARKS, filler="王丽", phone="23301102"),
              fill_roster(blank(forms / "5", "办公室", "roster", "docx"), [CADRE], filler="王丽", phone="23301102"))
    for path in office:
        shutil.move(path, returned / path.name)
    shutil.rmtree(forms)
    return root


@pytest.fixture
def here(prepared, tmp_path, monkeypatch) -> Path:
    """A fresh copy of the prepared folder, as the current folder, its ``ws/`` the workspace."""
    folder = tmp_path / "here"
    shutil.copytree(prepared, folder)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("C315_WORKSPACE", str(folder / "ws"))
    return folder


def run_here(*args: object):
    return run(*args, C315_WORKSPACE=os.environ["C315_WORKSPACE"])


# --- the walk itself -----------------------------------------------------------------------


def test_the_walk_finds_every_command_the_app_registers():
    registered = {command.name or command.callback.__name__ for command in app.registered_commands}
    assert {path[0] for path, _ in COMMANDS} >= registered
    assert {"init", "generate-forms", "ingest", "status", "history", "summary", "feedback", "verify"} <= set(IDS)


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=IDS)
def test_every_command_that_reports_has_json(path):
    name = " ".join(path)
    command = dict(COMMANDS)[path]
    assert ("json" in param_names(command)) != (name in NOT_REPORTING), (
        f"c315 {name}: give it --json (documented in README) or say in NOT_REPORTING why it reports nothing")


# --- --help ends with an example --------------------------------------------------------------


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=IDS)
def test_help_is_chinese_and_ends_with_an_example_of_the_command(path):
    result = run(*path, "--help")
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    assert re.search(r"[\u4e00-\u9fff]", lines[1]), "the description under Usage is Chinese"
    assert lines[-1].startswith(f"示例：c315 {' '.join(path)}"), lines[-1]


def test_the_root_help_ends_with_an_example_and_offers_version_and_completion():
    result = run("--help")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1].strip().startswith("示例：c315 ")
    for option in ("--version", "-V", "--install-completion", "--show-completion"):
        assert option in result.stdout


# --- --json: only JSON, the documented keys ---------------------------------------------------


def same_keys(documented: object, actual: object, where: str) -> None:
    """``actual`` has exactly the keys of README's example, at every level the example shows."""
    if isinstance(documented, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        assert set(actual) == set(documented), f"{where}: keys {sorted(actual)} ≠ documented {sorted(documented)}"
        for key, value in documented.items():
            if value is not None and actual[key] is not None:
                same_keys(value, actual[key], f"{where}.{key}")
    elif isinstance(documented, list) and documented and isinstance(documented[0], dict | list):
        assert isinstance(actual, list), f"{where}: expected a list, got {actual!r}"
        for item in actual:
            same_keys(documented[0], item, f"{where}[]")


def test_same_keys_would_see_a_missing_or_an_extra_key():
    documented = [{"unit": "办公室", "files": [{"path": "a"}]}]
    same_keys(documented, [{"unit": "x", "files": [{"path": "b"}]}], "ok")
    for wrong in ([{"unit": "x"}], [{"unit": "x", "files": [], "extra": 1}], [{"unit": "x", "files": [{"where": "b"}]}]):
        with pytest.raises(AssertionError):
            same_keys(documented, wrong, "wrong")


@pytest.mark.parametrize("path", [p for p, _ in JSON_COMMANDS], ids=ids(JSON_COMMANDS))
def test_json_output_is_only_json_with_the_documented_keys(here, path):
    documented = documented_json(path)
    result = run_here(*path, *example(path), "--json")
    assert result.exit_code == 0, result.output
    value = json.loads(result.stdout)  # stdout holds the JSON and nothing else
    assert value, "the example's output is empty: nothing to compare with README"
    same_keys(documented, value, f"c315 {' '.join(path)} --json")


def test_history_json_says_which_return_counts(here):
    result = run_here("history", "--json")
    assert result.exit_code == 0, result.output
    rows = {(r["unit"], r["attachment"], r["outcome"]): r for r in json.loads(result.stdout)}
    assert rows[("市场和网络交易监管科", "stats", "accepted")]["counts"] is True
    assert rows[("药化监管科", "stats", "rejected")]["counts"] is False
    assert rows[("药化监管科", "stats", "rejected")]["errors"] == 1
    only = json.loads(run_here("history", "药化科", "--json").stdout)
    assert [r["unit"] for r in only] == ["药化监管科"]


def test_generate_forms_json_lists_every_file_written(here):
    result = run_here("generate-forms", "--out", "out", "-d", "药化科", "-u", "办公室", "--json")
    assert result.exit_code == 0, result.output
    files = json.loads(result.stdout)
    assert {(f["unit"], f["attachment"], f["format"]) for f in files} == {
        (unit, attachment, fmt) for unit in ("药化监管科", "办公室") for attachment in ("roster", "stats") for fmt in ("xlsx", "docx")}
    written = {str(path) for path in Path("out").rglob("*") if path.is_file()}
    assert {f["path"] for f in files} == written


def test_feedback_json_gives_letters_copies_and_the_reminder_texts(here):
    result = run_here("feedback", "--out", "fb", "--json")
    assert result.exit_code == 0, result.output
    feedback = json.loads(result.stdout)
    units = {entry["unit"]: entry for entry in feedback["units"]}
    rejected = units["药化监管科"]
    assert Path(rejected["letter"]).is_file() and len(rejected["marked"]) == 1
    assert {r["attachment"] for r in rejected["reminders"]} == {"roster", "stats"}  # 附件2 rejected, 附件1 missing
    for reminder in rejected["reminders"]:
        assert reminder["text"].startswith("【催报】药化监管科")
        assert reminder["text"] == Path(reminder["path"]).read_text(encoding="utf-8-sig").strip().replace("\r\n", "\n")
    assert units["南市市场监管所"]["letter"] is None
    assert {r["attachment"] for r in units["南市市场监管所"]["reminders"]} == {"roster", "stats"}
    assert "市场和网络交易监管科" not in units  # nothing to fix, nothing owed
    assert Path(feedback["chase_list"]).is_file()
    assert Path(feedback["chase_list"]).parent == Path(feedback["folder"])


def test_init_json_lists_the_files_written(here):
    result = run_here("init", "next", "--json")
    assert result.exit_code == 0, result.output
    done = json.loads(result.stdout)
    assert done["workspace"] == "next"
    assert sorted(done["written"]) == sorted(str(p) for p in Path("next").rglob("*") if p.is_file())


# --- exit status ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=IDS)
def test_an_unknown_option_is_a_usage_error(path):
    result = run(*path, "--no-such-option")
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output


@pytest.mark.parametrize("path", [p for p, _ in UNIT_COMMANDS], ids=ids(UNIT_COMMANDS))
def test_an_unknown_unit_is_a_usage_error_that_lists_the_units(here, path):
    command = dict(COMMANDS)[path]
    (param,) = [p for p in command.params if p.name in ("unit", "units")]
    # the example, its unit replaced (an argument: the first one) or added (an option)
    bad = [*example(path), "--unit", "不存在科"] if param.param_type_name == "option" else ["不存在科", *example(path)[1:]]
    result = run_here(*path, *bad, *(["--json"] if "json" in param_names(command) else []))
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith("错误：不认识的部门：不存在科") and "市场和网络交易监管科" in result.stderr


@pytest.mark.parametrize("path", [p for p, _ in WORKSPACE_COMMANDS], ids=ids(WORKSPACE_COMMANDS))
def test_a_workspace_that_cannot_be_used_is_one_message_and_exit_1(here, path):
    """Its campaign file is malformed and its store is not a folder: whichever a command reads first,
    it says so in one line on stderr and exits 1."""
    (here / "ws" / CAMPAIGN_FILE).write_text("schema_version = 1\nid = [\n", encoding="utf-8")
    shutil.rmtree(here / "ws" / ".c315")
    (here / "ws" / ".c315").write_text("not a folder", encoding="utf-8")
    command = dict(COMMANDS)[path]
    result = run_here(*path, *example(path), *(["--json"] if "json" in param_names(command) else []))
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.stdout == ""
    assert result.stderr.startswith("错误：") and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.output


# --- -q/--quiet -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [p for p, _ in QUIET_COMMANDS], ids=ids(QUIET_COMMANDS))
def test_quiet_leaves_only_the_closing_line(here, path):
    args = example(path)
    quiet = run_here(*path, *args, "-q")
    assert quiet.exit_code == 0, quiet.output
    assert len(quiet.stdout.strip().splitlines()) == 1, quiet.stdout
    assert not TABLE.search(quiet.stdout)
    loud = run_here(*path, *args)
    assert loud.exit_code == 0, loud.output
    assert TABLE.search(loud.stdout), "without -q the command prints its tables"


# --- c315 --version ---------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_names_c315_python_campaign_and_store(tmp_path, monkeypatch, flag):
    monkeypatch.chdir(tmp_path)
    result = run(flag)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"c315 {campaign315.__version__}" == f"c315 {installed_version('campaign315')}"
    assert lines[1].startswith(f"Python {sys.version.split()[0]}")
    assert str(tmp_path.resolve()) in lines[2]
    assert str((shipped("data") / CAMPAIGN_FILE).resolve()) in lines[3] and "自带" in lines[3]
    assert str((tmp_path / ".c315").resolve()) in lines[4] and "尚未建立" in lines[4]


def test_version_follows_the_workspace_in_c315_workspace(here):
    assert run_here("init", "next").exit_code == 0
    result = run("--version", C315_WORKSPACE=str(here / "next"))
    assert result.exit_code == 0, result.output
    assert str((here / "next" / CAMPAIGN_FILE).resolve()) in result.stdout and "工作目录自己的" in result.stdout
    ingested = run("--version", C315_WORKSPACE=str(here / "ws"))
    assert str((here / "ws" / ".c315").resolve()) in ingested.stdout and "已建立" in ingested.stdout


# --- shell completion -------------------------------------------------------------------------


def offered(shell: str, line: str, **env: str | None) -> list[str]:
    """The candidates in :func:`complete`'s answer, without the words each shell shows beside them."""
    answer = complete(shell, line, **env)
    if shell == "zsh":
        return re.findall(r'^(?:_arguments \'\*: :\(\()?"([^"]*)"', answer, re.MULTILINE)
    separator = {"bash": None, "fish": "\t", "powershell": ":::"}[shell]
    return [entry.split(separator)[0] if separator else entry for entry in answer.splitlines() if entry]


def complete(shell: str, line: str, **env: str | None) -> str:
    """What c315 answers the shell's completion script for the command ``line`` (the word being
    typed is its last one; a line ending in a space completes a new word)."""
    words = line.split(" ")
    protocol = {
        "bash": {"COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)},
        "zsh": {"_TYPER_COMPLETE_ARGS": line},
        "fish": {"_TYPER_COMPLETE_ARGS": line, "_TYPER_COMPLETE_FISH_ACTION": "get-args"},
        "powershell": {"_TYPER_COMPLETE_ARGS": line, "_TYPER_COMPLETE_WORD_TO_COMPLETE": words[-1]},
    }[shell]
    result = run(*(), _C315_COMPLETE=f"complete_{shell}", **protocol, **env)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.stdout


SHELLS = ["bash", "zsh", "fish", "powershell"]


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize(("line", "expected"), [
    ("c315 generate-forms -d 药化", ["药化监管科", "药化科"]),
    ("c315 feedback --unit 市场网", ["市场网监科"]),
    ("c315 history 五大道", ["五大道市场监管所", "五大道所", "五大道市场监督管理所"]),
    ("c315 generate-forms --format x", ["xlsx"]),
], ids=["option", "alias", "argument", "format"])
def test_completion_offers_unit_names_and_aliases_in_every_shell(tmp_path, monkeypatch, shell, line, expected):
    monkeypatch.chdir(tmp_path)
    assert offered(shell, line) == expected


def test_completion_says_what_an_alias_stands_for(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert "药化科:::即 药化监管科" in complete("powershell", "c315 history 药化")
    assert "药化科\t即 药化监管科" in complete("fish", "c315 history 药化")


@pytest.fixture
def renamed(tmp_path) -> Path:
    """A workspace whose campaign calls 办公室 综合办公室."""
    workspace = tmp_path / "renamed"
    assert run("init", workspace).exit_code == 0
    toml = workspace / CAMPAIGN_FILE
    toml.write_text(toml.read_text(encoding="utf-8").replace('name = "办公室"', 'name = "综合办公室"'), encoding="utf-8")
    return workspace


def test_completion_reads_the_workspace_named_on_the_line_or_in_the_environment(tmp_path, monkeypatch, renamed):
    monkeypatch.chdir(tmp_path)
    assert offered("bash", "c315 history 综合") == []
    assert offered("bash", f"c315 history -w {renamed} 综合") == ["综合办公室"]
    assert offered("bash", "c315 generate-forms -d 综合", C315_WORKSPACE=str(renamed)) == ["综合办公室"]


def test_completion_offers_nothing_rather_than_an_error_when_the_campaign_is_malformed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / CAMPAIGN_FILE).write_text("id = [\n", encoding="utf-8")
    assert offered("bash", "c315 history 药") == []
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert "药化科" in offered("bash", "c315 history 药", C315_WORKSPACE=str(elsewhere))


@pytest.mark.parametrize("shell", SHELLS)
def test_show_completion_gives_typers_script_for_each_shell(monkeypatch, shell):
    # typer reads this when it builds the command (before the runner's environment applies): the
    # option then takes the shell's name instead of detecting the shell it runs in.
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    result = run("--show-completion", shell)
    assert result.exit_code == 0, result.output
    assert "_C315_COMPLETE" in result.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash here")
def test_bash_completes_a_unit_through_the_installed_script(tmp_path):
    """The whole path: bash sources the script c315 prints, and its completion function runs the
    real ``c315`` to fill COMPREPLY."""
    script = Path(sys.executable).parent / "c315"
    if not script.exists():
        pytest.skip("c315 is not installed beside this Python")
    bash = f"""
        source <({script} --show-completion bash)
        COMP_WORDS=(c315 generate-forms -d 药化); COMP_CWORD=3
        _c315_completion c315
        printf '%s\\n' "${{COMPREPLY[@]}}"
    """
    env = {**_clean_env(), "PATH": f"{script.parent}{os.pathsep}{os.environ['PATH']}",
           "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    done = subprocess.run(["bash", "--norc", "-c", bash], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["药化监管科", "药化科"]


# --- light start: --version and completion import no office library -------------------------

_PROBE = """
import json, sys
sys.argv = ["c315", *json.loads(sys.argv[1])]
from campaign315.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("C315_WORKSPACE", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE")}
    env["COLUMNS"] = "200"
    return env


def loaded_by(args: list[str], cwd: Path, **env: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(args)], capture_output=True, text=True, cwd=cwd,
                          timeout=60, env={**_clean_env(), **env})
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_version_loads_no_office_library_no_database_and_no_pydantic(tmp_path):
    loaded = loaded_by(["--version"], tmp_path)
    assert "campaign315" in loaded
    assert loaded & (HEAVY | {"pydantic", "rich"}) == set()


def test_completion_reads_the_campaign_but_loads_no_office_library_nor_the_database(tmp_path):
    loaded = loaded_by([], tmp_path, _C315_COMPLETE="complete_bash", COMP_WORDS="c315 history 药", COMP_CWORD="2")
    assert "pydantic" in loaded  # the campaign was read: the probe sees what a completion loads
    assert loaded & HEAVY == set()


# --- colour: only on a terminal, never under NO_COLOR ------------------------------------------


def on_a_terminal(args: list[str], cwd: Path, **env: str) -> bytes:
    """Run ``python -m campaign315 ARGS`` with stdout and stderr on a pseudo-terminal; all it wrote."""
    primary, secondary = pty.openpty()
    environment = {**_clean_env(), "TERM": "xterm-256color", **env}
    with deadline(60):
        child = subprocess.Popen([sys.executable, "-m", "campaign315", *args], stdin=subprocess.DEVNULL,
                                 stdout=secondary, stderr=secondary, cwd=cwd, env=environment)
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # EIO: every end of the terminal on the child's side is closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        child.wait()
    os.close(primary)
    return b"".join(chunks)


@pytest.mark.parametrize("args", [["status"], ["history", "不存在科"]], ids=["table", "error"])
def test_no_color_gives_plain_text_on_a_terminal(tmp_path, args):
    coloured = on_a_terminal(args, tmp_path)
    assert ESCAPE in coloured, "on a terminal without NO_COLOR c315 colours its output (the check below can fail)"
    plain = on_a_terminal(args, tmp_path, NO_COLOR="1")
    assert ESCAPE not in plain
    assert ("未报" if args == ["status"] else "错误：").encode() in plain


def test_output_to_a_pipe_has_no_escape_codes(tmp_path):
    for args in (["status"], ["history", "不存在科"]):
        done = subprocess.run([sys.executable, "-m", "campaign315", *args], capture_output=True, cwd=tmp_path,
                              timeout=60, env={**_clean_env(), "TERM": "xterm-256color"})
        assert ESCAPE not in done.stdout + done.stderr
        assert done.stdout or done.stderr
