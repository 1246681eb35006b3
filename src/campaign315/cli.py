"""The ``c315`` command line. Each command builds one library object, makes one call and prints
the result; library errors (:class:`C315Error`) become one clean message and an exit status.

Conventions every command keeps (``tests/test_cli_conventions.py`` walks them all):

- it is registered with :func:`command`: its docstring is its ``--help``, whose last line is an
  example (``示例：c315 …``), printed after the options;
- options that mean the same thing everywhere are the ``Annotated`` types below (``WorkspaceOpt``,
  ``JsonOpt``, ``QuietOpt``, ``UnitsOpt``, ``UnitArg``) — a new command reuses them;
- ``--json`` prints only JSON on stdout, in the shape README documents for that command, built by
  the result's own ``as_json`` (or ``summary_json``); diagnostics and errors go to stderr. A command
  with nothing to report (a server, say) is named, with the reason, in that test's ``NOT_REPORTING``;
- ``-q/--quiet`` leaves only errors and the closing line of a command that prints tables;
- exit status 0 done, 1 something was refused or found wrong, 2 the command line itself is wrong.

Imports of office libraries, pydantic models and the store happen inside the commands (and the
completion callbacks), so ``c315 --help`` stays as fast as typer itself.
"""

# No ``from __future__ import annotations``: typer reads every parameter's annotation when it builds
# the command line, and annotations kept as strings would be parsed again on every run (~10 ms).
import functools
import inspect
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="c315",
    help="3·15 消费维权活动报表工具：生成各部门空白表（附件1 值班表、附件2 统计表），收表校验入库，汇总全区报表。",
    epilog="\b\n示例：c315 generate-forms --out forms",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain help: typer's rich help imports rich.markdown and markdown_it (~100 ms)
    add_completion=True,  # typer's --install-completion / --show-completion: bash, zsh, fish, PowerShell
    context_settings={"help_option_names": ["-h", "--help"]},
)


# --- shell completion: read the workspace's campaign only when the shell asks ----------------


def complete_unit(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Unit names and aliases from the campaign of the workspace the command line names (or
    ``C315_WORKSPACE``, or the current folder) that begin with what was typed. A campaign that
    cannot be read offers nothing: completion never prints an error into the shell."""
    from campaign315.common.errors import C315Error

    try:
        return _workspace(ctx.params.get("workspace"), ctx.params.get("campaign_id")).campaign.names_starting(incomplete)
    except (C315Error, OSError):
        return []


def complete_format(incomplete: str) -> list[str]:
    return [name for name in ("xlsx", "docx", "all") if name.startswith(incomplete)]


# --- options shared by the commands: defined once, reused ------------------------------------

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", envvar="C315_WORKSPACE", help="工作目录：其中的 campaign.toml、templates/ 和 .c315/ 数据库。默认当前目录。", show_default=False),
]
StoreOpt = Annotated[
    str | None,
    typer.Option("--store", envvar="C315_STORE", show_default=False, show_envvar=True,
                 help="数据库地址：sqlite:///路径/c315.sqlite，或 postgresql://用户@主机:端口/数据库名"
                      "（与市局、各区共用）。默认：工作目录的 .c315/。密码请用 PGPASSWORD 或 ~/.pgpass 提供。"),
]
CampaignOpt = Annotated[
    str | None,
    typer.Option("--campaign", envvar="C315_CAMPAIGN", show_default=False,
                 help="按哪一次活动工作（活动 ID，如 tianjin-2020-315）；默认为工作目录的活动。c315 campaigns 可列出。"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="只输出 JSON（给程序读，格式见 README），不输出表格；提示和错误写到标准错误。")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="不打印表格，只打印错误和最后一行小结。")]
UnitsOpt = Annotated[
    list[str] | None,
    typer.Option("--unit", "-u", "--department", "-d", metavar="部门", help="只处理这些部门（全称或简称，如 市场网监科）；可重复。",
                 autocompletion=complete_unit, show_default=False),
]
UnitArg = Annotated[
    str | None,
    typer.Argument(metavar="部门", help="只看这个部门（全称或简称）。", autocompletion=complete_unit, show_default=False),
]


# --- how a command is registered and how its errors are said ---------------------------------


def command(name: str, group: typer.Typer | None = None):
    """Register a c315 command (on ``group``, a sub-app such as ``c315 store``; default the app):
    its docstring is the help, and the docstring's last line — the example, ``示例：c315 …`` — is
    printed after the options, so every ``--help`` ends with it. Library errors become one message
    and an exit status (:func:`reports_errors`)."""

    def register(function):
        body, _, example = inspect.getdoc(function).rpartition("\n")
        # "\b" keeps click from re-wrapping the example: it must stay one line to copy.
        return (group or app).command(name, help=body.strip(), epilog=f"\b\n{example.strip()}")(reports_errors(function))

    return register


def reports_errors(function):
    """Turn a library error into one red message on stderr and its exit status — no traceback."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        from campaign315.common.errors import C315Error

        try:
            return function(*args, **kwargs)
        except C315Error as exc:
            _say_error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:  # a file or folder the system refused, not named by a library error above
            where = f"：{exc.filename}" if exc.filename else ""
            _say_error(f"读写文件失败{where}（{exc.strerror or type(exc).__name__}）。")
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            _console(stderr=True).print("[yellow]已中断。已完成的部分已保存，重新运行同一命令即可继续。[/]")
            raise typer.Exit(130) from None

    return wrapper


def _say_error(message: str) -> None:
    from rich.text import Text

    _console(stderr=True).print(Text("错误：", style="bold red") + Text(message))


# --- c315 --version ----------------------------------------------------------------------------


def _show_version(value: bool) -> None:
    """What is running on what: c315's and Python's versions, the workspace, the campaign file and
    the store it would use. Reads no file and imports no library (``C315_WORKSPACE`` or the
    current folder decides the workspace)."""
    if not value:
        return
    from campaign315 import __version__
    from campaign315.spec.workspace import Workspace

    ws = Workspace()
    chosen = "由 C315_WORKSPACE 指定" if os.environ.get("C315_WORKSPACE") else "当前目录"
    campaign = "工作目录自己的" if ws.has_own_campaign else "c315 自带的；c315 init 可复制一份来修改"
    if ws.campaign_id:
        campaign += f"；C315_CAMPAIGN 选了活动 {ws.campaign_id}，按它工作"
    store_url = os.environ.get("C315_STORE")
    if store_url:
        store = f"数据库：{_store_named(store_url)}（由 C315_STORE 指定）"
    else:
        made = "已建立" if ws.store_dir.is_dir() else "尚未建立，第一次收表时建立"
        store = f"数据库：{ws.store_dir.resolve()}（SQLite 数据库与原件存档，{made}）"
    typer.echo("\n".join([
        f"c315 {__version__}",
        f"Python {sys.version.split()[0]}（{sys.executable}）",
        f"工作目录：{ws.root.resolve()}（{chosen}）",
        f"活动配置：{ws.campaign_file.resolve()}（{campaign}）",
        store,
    ]))
    raise typer.Exit()


def _store_named(url: str) -> str:
    """A ``--store`` address as ``--version`` shows it: its backend and where, never a password.
    Parsed here with the standard library alone (``--version`` loads no database driver).

    >>> _store_named("postgresql://c315:secret@db.example:5433/c315")
    'PostgreSQL（主机 db.example，端口 5433，数据库 c315，用户 c315）'
    >>> _store_named("sqlite:///srv/c315/c315.sqlite")
    'SQLite /srv/c315/c315.sqlite'
    """
    from urllib.parse import unquote, urlsplit

    text = url.strip()
    scheme = text.split("://", 1)[0].lower() if "://" in text else ""
    if scheme in ("postgresql", "postgres"):
        try:
            parts = urlsplit(text)
            host, port = parts.hostname or "默认", parts.port or 5432
            user = unquote(parts.username) if parts.username else "默认"
        except ValueError:
            return "PostgreSQL（地址无法识别）"
        dbname = unquote(parts.path.lstrip("/")) or "默认"
        return f"PostgreSQL（主机 {host}，端口 {port}，数据库 {dbname}，用户 {user}）"
    if scheme == "sqlite":
        return f"SQLite {unquote(urlsplit(text).path)}"
    if scheme:
        return "无法识别的地址（只认 sqlite:/// 和 postgresql://）"
    return f"SQLite {Path(text).expanduser().resolve()}"


@app.callback()
def root(
    version: Annotated[bool, typer.Option("--version", "-V", is_eager=True, callback=_show_version,
                                          help="显示版本、Python 版本，以及当前工作目录使用的活动配置和数据库。")] = False,
) -> None:
    pass


# --- the commands ----------------------------------------------------------------------------


@command("init")
def init_cmd(
    directory: Annotated[Path, typer.Argument(help="要创建的工作目录。")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="覆盖已有的 campaign.toml 和模板。")] = False,
    campaign: Annotated[str | None, typer.Option("--campaign", help="复制哪一个自带的活动（c315 campaigns 可列出）；默认为区级活动。")] = None,
    json: JsonOpt = False,
) -> None:
    """写一份可编辑的活动配置（campaign.toml）和 Word 模板到工作目录，供明年或其他区使用。

    示例：c315 init --campaign tianjin-2020-315 市消协2020
    """
    from campaign315.spec.workspace import init_workspace

    written = init_workspace(directory, force=force, campaign=campaign)
    if json:
        _print_json({"workspace": str(directory), "written": [str(path) for path in written]})
        return
    console = _console()
    for path in written:
        console.print(f"  已写入 {path}", markup=False)
    console.print(f"工作目录 {directory} 已就绪：编辑 campaign.toml 后，在该目录运行 c315 generate-forms。", markup=False)


@command("generate-forms")
def generate_forms_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help="输出目录，每个部门一个子目录。")] = Path("forms"),
    units: UnitsOpt = None,
    format: Annotated[str, typer.Option("--format", "-f", help="xlsx、docx 或 all。", autocompletion=complete_format)] = "all",
    force: Annotated[bool, typer.Option("--force", help="覆盖已存在的文件（可能已有人填写）。")] = False,
    json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
    campaign_id: CampaignOpt = None,
) -> None:
    """生成各部门的空白表：附件1 值班表、附件2 统计表，Excel 和 Word 两种格式，已预填填报部门。

    示例：c315 generate-forms --out forms --department 市场网监科 --format xlsx
    """
    from campaign315.common.errors import UsageError
    from campaign315.generate.forms import FORMATS, generate_forms, plan_forms

    ws = _workspace(workspace, campaign_id)
    campaign = ws.campaign
    if format not in (*FORMATS, "all"):
        raise UsageError(f"--format 只能是 xlsx、docx 或 all，而不是 {format!r}。")
    formats = FORMATS if format == "all" else (format,)
    chosen = campaign.units_named(units) if units else list(campaign.units)
    planned = plan_forms(campaign, chosen, formats, out)
    with _progress(len(planned), "生成表格") as advance:
        generate_forms(campaign, planned, ws.templates_dir, force=force, advance=lambda _: advance())
    if json:
        _print_json([form.as_json() for form in planned])
        return
    _console().print(f"已为 {len(chosen)} 个部门生成 {len(planned)} 个文件，保存在 {out}/（每个部门一个子目录）。", markup=False)


@command("ingest")
def ingest_cmd(
    paths: Annotated[list[str], typer.Argument(help="收到的文件、文件夹或通配符（如 returned/*.xlsx）。", show_default=False)],
    received_at: Annotated[str | None, typer.Option("--received-at", help="收到时间（如 2020-03-13T11:30）；默认取文件的修改时间。")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只读取和校验，不入库。")] = False,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    workspace: WorkspaceOpt = None,
    store_url: StoreOpt = None,
    campaign_id: CampaignOpt = None,
) -> None:
    """收表：读取各部门报回的 Excel/Word 表格，逐格校验，存档入库（原文件不动，每个版本都保留）。

    有文件被退回时退出码为 1。

    示例：c315 ingest returned/*.xlsx returned/*.docx
    """
    from campaign315.intake.ingest import each_ingested, expand_paths, parse_received_at

    ws = _workspace(workspace, campaign_id)
    campaign = ws.campaign
    files, skipped = expand_paths(paths)
    when = parse_received_at(received_at, campaign) if received_at else None
    store = None if dry_run else _open_store(ws, store_url)
    from campaign315.console import IngestJson, IngestReport, skipped_report

    # Each result is printed as soon as it is recorded (a file's returns together), and not kept.
    report = IngestJson(sys.stdout) if json else IngestReport(_console(), dry_run, quiet)
    try:
        with _progress(len(files), "收表") as advance:
            for result in each_ingested(files, campaign, store, when, committed=getattr(report, "flush", lambda: None)):
                report.add(result)
                advance()
    finally:
        if store is not None:
            store.close()
        if json:
            report.close()
    if json:
        skipped_report(_console(stderr=True), skipped)  # a note, not a result: stderr
    else:
        report.finish(skipped)
    if report.rejected:
        raise typer.Exit(1)


@command("status")
def status_cmd(json: JsonOpt = False, quiet: QuietOpt = False, workspace: WorkspaceOpt = None, store_url: StoreOpt = None,
               campaign_id: CampaignOpt = None) -> None:
    """各部门各表的报送情况：未报、按时、逾期、被退回，附问题数和联系人，便于催报。

    示例：c315 status
    """
    from campaign315.reports.standing import standings

    ws = _workspace(workspace, campaign_id)
    campaign = ws.campaign
    with _open_store(ws, store_url) as store:
        rows = standings(campaign, store.latest_returns(campaign.id, None))
    if json:
        _print_json([s.as_json() for s in rows])
        return
    from campaign315.console import status_table

    status_table(_console(), campaign, rows, "报送情况", quiet)


@command("history")
def history_cmd(unit: UnitArg = None, json: JsonOpt = False, quiet: QuietOpt = False, workspace: WorkspaceOpt = None,
                store_url: StoreOpt = None, campaign_id: CampaignOpt = None) -> None:
    """收表历史：收到的每一个文件、结果，以及哪一份计入汇总。

    示例：c315 history 市场网监科
    """
    from campaign315.reports.standing import history

    ws = _workspace(workspace, campaign_id)
    campaign = ws.campaign
    (chosen,) = campaign.units_named([unit]) if unit else (None,)
    with _open_store(ws, store_url) as store, store.snapshot():
        received = history(campaign, store, chosen)
    if json:
        _print_json([entry.as_json() for entry in received])
        return
    from campaign315.console import history_table

    history_table(_console(), campaign, received, quiet)


@command("review")
def review_cmd(
    unit: Annotated[str, typer.Argument(metavar="部门", help="报送的部门（全称或简称）。", autocompletion=complete_unit,
                                        show_default=False)],
    attachment: Annotated[str, typer.Argument(metavar="表格", help="附件1（值班表）或 附件2（统计表）；也可写 roster / stats。",
                                              show_default=False)],
    approve: Annotated[bool, typer.Option("--approve", help="已审核：核对无误。")] = False,
    has_issues: Annotated[bool, typer.Option("--has-issues", help="有问题：仍计入汇总，意见（--note）会出现在部门页面和修改意见里。")] = False,
    reject: Annotated[bool, typer.Option("--reject", help="退回：不计入汇总（如同收表时被退回），须用 --note 写明原因。")] = False,
    note: Annotated[str, typer.Option("--note", "-n", metavar="意见", help="意见或退回原因（部门会看到）。")] = "",
    by: Annotated[str | None, typer.Option("--by", metavar="审核人", envvar="C315_REVIEWER", show_default=False,
                                           help="审核人姓名；默认为本机登录名。")] = None,
    return_id: Annotated[int | None, typer.Option("--return", metavar="编号", show_default=False,
                                                  help="审核这一份（编号见 c315 history）；默认为该表当前显示的一份（计入汇总的，或最新收到的）。")] = None,
    json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
    store_url: StoreOpt = None,
    campaign_id: CampaignOpt = None,
) -> None:
    """审核收到的报表：已审核、有问题（附意见）或退回（附原因，不计入汇总）；记下审核人和时间，c315 history 可查。

    示例：c315 review 市场网监科 附件2 --has-issues --note "第3项场次与活动照片不符，请核实"
    """
    from campaign315.common.errors import UsageError
    from campaign315.review import attachment_named, review_return

    chosen = [state for state, on in (("approved", approve), ("has_issues", has_issues), ("rejected", reject)) if on]
    if len(chosen) != 1:
        raise UsageError("请选一种审核结果：--approve（已审核）、--has-issues（有问题）或 --reject（退回）。")
    ws = _workspace(workspace, campaign_id)
    campaign = ws.campaign
    (chosen_unit,) = campaign.units_named([unit])
    key = attachment_named(attachment)
    with _open_store(ws, store_url) as store:
        done = review_return(campaign, store, chosen_unit, key, chosen[0], note, by or _login_name(), return_id)
    if json:
        _print_json(done.as_json())
        return
    _console().print(done.describe(), markup=False, highlight=False, soft_wrap=True)


def _login_name() -> str:
    """Who is at this computer, as the system names them (the default reviewer)."""
    import getpass

    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):
        return ""


@command("summary")
def summary_cmd(
    deadline: Annotated[str | None, typer.Option("--deadline", help="截止时间：日期（当天24时前）或日期时间；默认为附件2的报送时限。")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="汇总文件输出目录。")] = Path("summary"),
    include_late: Annotated[bool, typer.Option("--include-late", help="截止后才收到的报表也计入汇总。")] = False,
    json: JsonOpt = False,
    quiet: QuietOpt = False,
    workspace: WorkspaceOpt = None,
    store_url: StoreOpt = None,
    campaign_id: CampaignOpt = None,
) -> None:
    """汇总：全区附件2（通知原格式，可报市里）、合并的3·14值班表、分部门明细，以及未报、逾期、被退回的部门。

    示例：c315 summary --deadline 2020-03-19 --out summary
    """
    from campaign315.reports.summary import parse_deadline, summarise, summary_json

    ws = _workspace(workspace, campaign_id)
    campaign = ws.campaign
    cutoff = parse_deadline(deadline, campaign)
    with _open_store(ws, store_url) as store, store.snapshot():
        result = summarise(campaign, store, cutoff, include_late)
    from campaign315.reports.summary_files import write_summary_files

    written = write_summary_files(result, out, ws.templates_dir)
    if json:
        _print_json(summary_json(result))
        return
    from campaign315.console import summary_report

    summary_report(_console(), result, written, quiet)


@command("feedback")
def feedback_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help="输出目录；每次运行写入其中一个以当前时间命名的子目录。")] = Path("feedback"),
    units: UnitsOpt = None,
    json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
    store_url: StoreOpt = None,
    campaign_id: CampaignOpt = None,
) -> None:
    """反馈与催报：给有问题的部门一份标注了问题单元格的原表副本和修改意见，给未报或被退回的部门一条催报短信，另附催报清单。

    示例：c315 feedback --out feedback --unit 药化科
    """
    import datetime as dt

    from campaign315.reports.feedback import write_feedback

    ws = _workspace(workspace, campaign_id)
    campaign = ws.campaign
    chosen = campaign.units_named(units) if units else None
    now = dt.datetime.now(campaign.tz)
    folder = out / now.strftime("%Y-%m-%d-%H%M%S")
    with _open_store(ws, store_url) as store, store.snapshot():
        result = write_feedback(campaign, store, folder, ws.templates_dir, units=chosen, now=now)
    if json:
        _print_json(result.as_json())
        return
    console = _console()
    console.print(result.describe(), markup=False)
    if result.written:
        console.print(f"已写入 {folder}/", markup=False)


@command("verify")
def verify_cmd(json: JsonOpt = False, workspace: WorkspaceOpt = None, store_url: StoreOpt = None) -> None:
    """核对数据库与原件存档：每条收表记录都有存档文件、每个存档文件都有记录、文件内容与 SHA-256 一致。

    发现错误时退出码为 1。

    示例：c315 verify
    """
    from campaign315.spec.problems import has_errors
    from campaign315.store.verify import verify_store

    ws = _workspace(workspace)
    with _open_store(ws, store_url) as store:
        found = verify_store(store)
    if json:
        _print_json([{"severity": p.severity, "code": p.code, "path": str(p.location), "message": p.message} for p in found])
    else:
        from campaign315.console import verify_report

        verify_report(_console(), found)
    if has_errors(found):
        raise typer.Exit(1)


@command("demo")
def demo_cmd(
    directory: Annotated[Path, typer.Argument(help="演示用的文件夹：新的、空的，或上次演示建立的（会清空重建）。")] = Path("demo"),
) -> None:
    """演示：在一个新文件夹里走一遍完整流程——生成空白表，分批收下随 c315 附带的样例报表，查看报送情况、汇总、写修改意见和催报。

    示例：c315 demo 演示
    """
    from campaign315.demo import run_demo

    status = run_demo(directory)
    if status:
        raise typer.Exit(status)


serve_app = typer.Typer(
    name="serve", help="网页控制台：各部门用自己的链接检查和报送报表，汇总人在网页上看报送情况、收表、下载汇总。",
    invoke_without_command=True, rich_markup_mode=None, context_settings={"help_option_names": ["-h", "--help"]},
    epilog="\b\n示例：c315 serve --host 0.0.0.0 --port 8315",
)
app.add_typer(serve_app)


@serve_app.callback()
@reports_errors
def serve_cmd(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="监听地址。默认 127.0.0.1 只有本机能访问；0.0.0.0 让局域网内所有电脑都能访问。")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="端口。")] = 8315,
    workers: Annotated[int, typer.Option("--workers", help="服务进程数。SQLite 数据库只能用 1 个。")] = 1,
    workspace: WorkspaceOpt = None,
) -> None:
    """网页控制台：各部门用自己的链接检查和报送报表，汇总人在网页上看报送情况、收表、下载汇总。

    示例：c315 serve --host 0.0.0.0 --port 8315
    """
    if ctx.invoked_subcommand is not None:
        return
    from campaign315.common.errors import UsageError

    if workers != 1:
        raise UsageError("使用 SQLite 数据库时只能用 1 个服务进程（--workers 1）：多个进程同时写同一个 SQLite 文件不安全。"
                         "需要多个进程时请改用 PostgreSQL 数据库。")
    import logging

    import uvicorn

    from campaign315.serve.app import build_app

    ws = _workspace(workspace)
    application = build_app(ws)
    console = application.state.console
    shown_host = "本机" if host in ("127.0.0.1", "localhost", "::1") else host
    who = ("只有本机能访问（要让局域网内其他电脑访问，请加 --host 0.0.0.0）" if shown_host == "本机"
           else "局域网内所有能连到这台电脑的人都能访问（各部门仍需各自的链接）")
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    typer.echo(f"c315 网页控制台在 {host}:{port} 启动：{who}。")
    typer.echo(f"汇总人登录链接（只能用一次）：{base}/login?once={console.login_once}")
    typer.echo("各部门的链接：c315 serve links")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    uvicorn.run(application, host=host, port=port, access_log=False, log_level="warning")


@serve_app.command("links", epilog="\b\n示例：c315 serve links --url http://10.0.0.5:8315 --json")
@reports_errors
def serve_links_cmd(
    url: Annotated[str, typer.Option("--url", help="各部门访问本机时用的地址（局域网 IP 和端口）。")] = "http://127.0.0.1:8315",
    json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """每个部门的报送链接（每个部门一个，链接里的令牌只对这个部门有效）。

    示例：c315 serve links --url http://10.0.0.5:8315 --json
    """
    from campaign315.serve.tokens import Tokens

    ws = _workspace(workspace)
    campaign = ws.campaign
    found = Tokens(ws.store_dir, campaign.id).unit_tokens([u.name for u in campaign.units])
    links = [{"unit": unit, "url": f"{url.rstrip('/')}/u/{token}", "token": token} for unit, token in found.items()]
    if json:
        _print_json(links)
        return
    for link in links:
        typer.echo(f"{link['unit']}\t{link['url']}")


@serve_app.command("token", epilog="\b\n示例：c315 serve token --collector")
@reports_errors
def serve_token_cmd(
    collector: Annotated[bool, typer.Option("--collector", help="生成一个新的汇总人令牌，只打印令牌本身。")] = False,
    revoke: Annotated[str | None, typer.Option("--revoke", metavar="令牌", help="吊销这个令牌（部门令牌吊销后，c315 serve links 会给出新链接）。")] = None,
    json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """汇总人令牌：--collector 生成新令牌（供脚本用 Authorization: Bearer 调用 API），--revoke 吊销令牌。

    示例：c315 serve token --collector
    """
    from campaign315.common.errors import UsageError
    from campaign315.serve.tokens import Tokens

    if collector == (revoke is not None):
        raise UsageError("请指定 --collector 或 --revoke 令牌 之一。")
    ws = _workspace(workspace)
    tokens = Tokens(ws.store_dir, ws.campaign.id)
    if collector:
        token = tokens.new_collector_token()
        if json:
            _print_json({"role": "collector", "token": token})
        else:
            typer.echo(token)
        return
    holder = tokens.revoke(revoke)
    if json:
        _print_json({"revoked": True, "role": holder.role, "unit": holder.unit})
    else:
        typer.echo(f"已吊销{holder.logged_as}的令牌。")


# --- helpers -----------------------------------------------------------------------------------


def _workspace(root: Path | None, campaign: str | None = None):
    from campaign315.spec.workspace import Workspace

    return Workspace(root, campaign)


def _open_store(ws, store_url: str | None = None, migrating: bool = False):
    """The store ``--store`` names (a SQLite file or a PostgreSQL database), else the workspace's."""
    from campaign315.store import open_store, password_in

    location = store_url or ws.store_dir
    if password_in(location):
        _console(stderr=True).print("提醒：--store 地址里写了密码，它会留在命令历史和进程列表里。请改用 PGPASSWORD 环境变量"
                                    "或 ~/.pgpass 文件提供密码（c315 不会显示它）。", markup=False)
    return open_store(location, migrating=migrating)


@command("campaigns")
def campaigns_cmd(json: JsonOpt = False, workspace: WorkspaceOpt = None, store_url: StoreOpt = None) -> None:
    """列出可用的活动：c315 自带的（区级、市级）和工作目录里的，以及数据库里各活动已收的报表数。

    共用数据库时加 --store postgresql://用户@主机:端口/数据库名。

    示例：c315 campaigns
    """
    from campaign315.spec.campaign import load_campaign
    from campaign315.spec.workspace import shipped_campaigns

    ws = _workspace(workspace)
    current = ws.campaign
    listed = {cid: (load_campaign(path), "c315 自带") for cid, path in shipped_campaigns().items()}
    if ws.campaign_file.parent == ws.root:
        listed[current.id] = (current, "工作目录")
    counts: dict[str, int] = {}
    if store_url or (ws.store_dir / "c315.sqlite").exists():
        with _open_store(ws, store_url) as store:
            counts = store.campaigns()
    rows = []
    for cid, (campaign, source) in listed.items():
        kinds = {unit.kind for unit in campaign.units}
        level = "市级（下辖各区）" if kinds == {"区"} else "区级"
        rows.append({"id": cid, "name": campaign.district.name, "level": level, "units": len(campaign.units),
                     "parent": campaign.district.parent_campaign or None, "source": source,
                     "current": cid == current.id, "stored": counts.get(cid, 0)})
    rows += [{"id": cid, "name": None, "level": None, "units": None, "parent": None, "source": "仅在数据库中",
              "current": False, "stored": n} for cid, n in counts.items() if cid not in listed]
    if json:
        _print_json(rows)
        return
    from campaign315.console import campaigns_table

    campaigns_table(_console(), rows)


store_app = typer.Typer(help="数据库：建表或升级（migrate），整库复制到另一个数据库（copy）。", no_args_is_help=True,
                        rich_markup_mode=None, epilog="\b\n示例：c315 store migrate")
app.add_typer(store_app, name="store")


@command("migrate", store_app)
def store_migrate_cmd(json: JsonOpt = False, workspace: WorkspaceOpt = None, store_url: StoreOpt = None) -> None:
    """在数据库里建立 c315 的数据表，或把旧版的表升级到本版（可重复运行；升级前请先备份）。

    共用数据库由管理员升级：C315_STORE=postgresql://c315@db.example:5432/c315 c315 store migrate

    示例：c315 store migrate
    """
    from campaign315.store import describe_location

    ws = _workspace(workspace)
    where = describe_location(store_url or ws.store_dir)
    with _open_store(ws, store_url, migrating=True) as store:
        before, after = store.migrate()
    if json:
        _print_json({"store": where, "before": before, "after": after, "upgraded": before != after})
        return
    console = _console()
    if before == after:
        console.print(f"{where} 的数据表已是最新（{after}），无需升级。", markup=False)
    elif before is None:
        console.print(f"已在 {where} 建好 c315 的数据表（{after}）。", markup=False)
    else:
        console.print(f"已把 {where} 的数据表从 {before} 升级到 {after}。", markup=False)


@command("copy", store_app)
def store_copy_cmd(
    to: Annotated[str, typer.Option("--to", help="复制到哪个数据库（地址写法同 --store）。", show_default=False)],
    json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
    store_url: StoreOpt = None,
) -> None:
    """把整个数据库（所有活动的收表记录、历史和原件存档）复制到另一个数据库；已有的不重复复制，可反复运行。

    复制到共用数据库：c315 store copy --to postgresql://c315@db.example:5432/c315

    示例：c315 store copy --to 备份
    """
    from campaign315.store import describe_location, open_store
    from campaign315.store.copy import copy_store

    ws = _workspace(workspace)
    with _open_store(ws, store_url) as source, open_store(to) as target, \
            _progress(sum(source.campaigns().values()), "复制") as advance:
        result = copy_store(source, target, advance=lambda _: advance())
    if json:
        _print_json(result.as_json(describe_location(to)))
    else:
        _console().print(f"已复制到 {describe_location(to)}：{result.describe()}", markup=False)
    if result.missing:
        raise typer.Exit(1)


def _console(stderr: bool = False):
    from campaign315.console import make_console

    return make_console(stderr)


def _print_json(value) -> None:
    """The one thing a ``--json`` run writes to stdout."""
    import json as json_module

    sys.stdout.write(json_module.dumps(value, ensure_ascii=False, indent=2) + "\n")


class _progress:
    """A rich progress bar on stderr when there is enough work to watch; silent otherwise."""

    def __init__(self, total: int, label: str, threshold: int = 20):
        self.total, self.label, self.show = total, label, total >= threshold and sys.stderr.isatty()

    def __enter__(self):
        if not self.show:
            return lambda: None
        from rich.progress import Progress

        # No refresh thread: ingest forks worker processes, which must not inherit a running thread.
        self._bar = Progress(console=_console(stderr=True), transient=True, auto_refresh=False)
        self._bar.start()
        task = self._bar.add_task(self.label, total=self.total)
        def advance():
            self._bar.advance(task)
            self._bar.refresh()

        return advance

    def __exit__(self, *exc):
        if self.show:
            self._bar.stop()
        return False


def main() -> None:
    from campaign315.common.terminal import tolerate_narrow_streams

    tolerate_narrow_streams()  # a GBK console shows 3·15 for 3•15 rather than failing
    app()


if __name__ == "__main__":
    main()
