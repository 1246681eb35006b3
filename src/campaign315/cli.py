"""The ``c315`` command line. Each command builds one library object, makes one call and prints
the result; library errors (:class:`C315Error`) become one clean message and an exit status.

Imports of office libraries, pydantic models and the store happen inside the commands, so
``c315 --help`` stays as fast as typer itself.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    name="c315",
    help="3·15 消费维权活动报表工具：生成各部门空白表（附件1 值班表、附件2 统计表），收表校验入库，汇总全区报表。",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain help: typer's rich help imports rich.markdown and markdown_it (~100 ms)
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", envvar="C315_WORKSPACE", help="工作目录：其中的 campaign.toml、templates/ 和 .c315/ 数据库。默认当前目录。", show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="输出 JSON（给程序读），不输出表格。")]
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


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=stderr)


def reports_errors(command):
    """Turn a library error into one red message on stderr and its exit status — no traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        from campaign315.common.errors import C315Error

        try:
            return command(*args, **kwargs)
        except C315Error as exc:
            from rich.text import Text

            _console(stderr=True).print(Text("错误：", style="bold red") + Text(str(exc)), highlight=False)
            raise typer.Exit(exc.exit_code) from None
        except OSError as exc:  # a file or folder the system refused, not named by a library error above
            where = f"：{exc.filename}" if exc.filename else ""
            from rich.text import Text

            message = Text(f"读写文件失败{where}（{exc.strerror or type(exc).__name__}）。")
            _console(stderr=True).print(Text("错误：", style="bold red") + message, highlight=False)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            _console(stderr=True).print("[yellow]已中断。已完成的部分已保存，重新运行同一命令即可继续。[/]")
            raise typer.Exit(130) from None

    return wrapper


def _workspace(root: Path | None, campaign: str | None = None):
    from campaign315.spec.workspace import Workspace

    return Workspace(root, campaign)


@app.command("init")
@reports_errors
def init_cmd(
    directory: Annotated[Path, typer.Argument(help="要创建的工作目录。")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="覆盖已有的 campaign.toml 和模板。")] = False,
    campaign: Annotated[str | None, typer.Option("--campaign", help="复制哪一个自带的活动（c315 campaigns 可列出）；默认为区级活动。")] = None,
) -> None:
    """写一份可编辑的活动配置（campaign.toml）和 Word 模板到工作目录，供明年或其他区使用。

    示例：c315 init --campaign tianjin-2020-315 市消协2020
    """
    from campaign315.spec.workspace import init_workspace

    written = init_workspace(directory, force=force, campaign=campaign)
    console = _console()
    for path in written:
        console.print(f"  已写入 {path}", markup=False)
    console.print(f"工作目录 {directory} 已就绪：编辑 campaign.toml 后，在该目录运行 c315 generate-forms。", markup=False)


@app.command("generate-forms")
@reports_errors
def generate_forms_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help="输出目录，每个部门一个子目录。")] = Path("forms"),
    department: Annotated[list[str] | None, typer.Option("--department", "-d", help="只生成这些部门（可用简称，如 市场网监科）；可重复。")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="xlsx、docx 或 all。")] = "all",
    force: Annotated[bool, typer.Option("--force", help="覆盖已存在的文件（可能已有人填写）。")] = False,
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
    units = _resolve_units(campaign, department)
    planned = plan_forms(campaign, units, formats, out)
    with _progress(len(planned), "生成表格") as advance:
        written = generate_forms(campaign, planned, ws.templates_dir, force=force, advance=lambda _: advance())
    _console().print(f"已为 {len(units)} 个部门生成 {len(written)} 个文件，保存在 {out}/（每个部门一个子目录）。", markup=False)


@app.command("ingest")
@reports_errors
def ingest_cmd(
    paths: Annotated[list[str], typer.Argument(help="收到的文件、文件夹或通配符（如 returned/*.xlsx）。", show_default=False)],
    received_at: Annotated[str | None, typer.Option("--received-at", help="收到时间（如 2020-03-13T11:30）；默认取文件的修改时间。")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="只读取和校验，不入库。")] = False,
    json: JsonOpt = False,
    workspace: WorkspaceOpt = None,
    store_url: StoreOpt = None,
    campaign_id: CampaignOpt = None,
) -> None:
    """收表：读取各部门报回的 Excel/Word 表格，逐格校验，存档入库（原文件不动，每个版本都保留）。

    有文件被退回时退出码为 1。

    示例：c315 ingest returned/*.xlsx returned/*.docx
    """
    from campaign315.intake.ingest import expand_paths, ingest, parse_received_at

    ws = _workspace(workspace, campaign_id)
    campaign = ws.campaign
    files, skipped = expand_paths(paths)
    when = parse_received_at(received_at, campaign) if received_at else None
    store = None if dry_run else _open_store(ws, store_url)
    try:
        with _progress(len(files), "收表") as advance:
            results = ingest(files, campaign, store, when, advance=lambda _: advance())
    finally:
        if store is not None:
            store.close()
    if json:
        _print_json([r.as_json() for r in results])
    else:
        from campaign315.console import ingest_report

        ingest_report(_console(), results, skipped, dry_run)
    if any(r.outcome == "rejected" for r in results):
        raise typer.Exit(1)


@app.command("status")
@reports_errors
def status_cmd(json: JsonOpt = False, workspace: WorkspaceOpt = None, store_url: StoreOpt = None,
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
        _print_json([
            {"unit": s.unit.name, "attachment": s.attachment, "status": s.status,
             "received_at": s.shown.received_at.isoformat() if s.shown else None,
             "problems": s.problem_count, "contact": s.contact}
            for s in rows
        ])
        return
    from campaign315.console import status_table

    status_table(_console(), campaign, rows, "报送情况")


@app.command("history")
@reports_errors
def history_cmd(
    unit: Annotated[str | None, typer.Argument(help="只看这个部门（可用简称）。")] = None,
    workspace: WorkspaceOpt = None,
    store_url: StoreOpt = None,
    campaign_id: CampaignOpt = None,
) -> None:
    """收表历史：收到的每一个文件、结果，以及哪一份计入汇总。

    示例：c315 history 市场网监科
    """
    from campaign315.reports.standing import standings

    ws = _workspace(workspace, campaign_id)
    campaign = ws.campaign
    name = _resolve_units(campaign, [unit])[0].name if unit else None
    with _open_store(ws, store_url) as store:
        returns = store.returns(campaign.id)
    counting = {s.counting.id for s in standings(campaign, returns) if s.counting}
    shown = [r for r in returns if name is None or r.unit == name]
    from campaign315.console import history_table

    history_table(_console(), campaign, shown, counting)


@app.command("summary")
@reports_errors
def summary_cmd(
    deadline: Annotated[str | None, typer.Option("--deadline", help="截止时间：日期（当天24时前）或日期时间；默认为附件2的报送时限。")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="汇总文件输出目录。")] = Path("summary"),
    include_late: Annotated[bool, typer.Option("--include-late", help="截止后才收到的报表也计入汇总。")] = False,
    json: JsonOpt = False,
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

    summary_report(_console(), result, written)


@app.command("feedback")
@reports_errors
def feedback_cmd(
    out: Annotated[Path, typer.Option("--out", "-o", help="输出目录；每次运行写入其中一个以当前时间命名的子目录。")] = Path("feedback"),
    unit: Annotated[list[str] | None, typer.Option("--unit", "-u", help="只处理这些部门（可用简称）；可重复。")] = None,
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
    units = _resolve_units(campaign, unit) if unit else None
    now = dt.datetime.now(campaign.tz)
    folder = out / now.strftime("%Y-%m-%d-%H%M%S")
    with _open_store(ws, store_url) as store, store.snapshot():
        result = write_feedback(campaign, store, folder, ws.templates_dir, units=units, now=now)
    console = _console()
    console.print(result.describe(), markup=False)
    if result.written:
        console.print(f"已写入 {folder}/", markup=False)


@app.command("verify")
@reports_errors
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


def _open_store(ws, store_url: str | None = None, migrating: bool = False):
    """The store ``--store`` names (a SQLite file or a PostgreSQL database), else the workspace's."""
    from campaign315.store import open_store, password_in

    location = store_url or ws.store_dir
    if password_in(location):
        _console(stderr=True).print("提醒：--store 地址里写了密码，它会留在命令历史和进程列表里。请改用 PGPASSWORD 环境变量"
                                    "或 ~/.pgpass 文件提供密码（c315 不会显示它）。", markup=False)
    return open_store(location, migrating=migrating)


@app.command("campaigns")
@reports_errors
def campaigns_cmd(json: JsonOpt = False, workspace: WorkspaceOpt = None, store_url: StoreOpt = None) -> None:
    """列出可用的活动：c315 自带的（区级、市级）和工作目录里的，以及数据库里各活动已收的报表数。

    示例：c315 campaigns --store postgresql://c315@db.example:5432/c315
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
                        rich_markup_mode=None)
app.add_typer(store_app, name="store")


@store_app.command("migrate")
@reports_errors
def store_migrate_cmd(workspace: WorkspaceOpt = None, store_url: StoreOpt = None) -> None:
    """在数据库里建立 c315 的数据表，或把旧版的表升级到本版（可重复运行；升级前请先备份）。

    示例：C315_STORE=postgresql://c315@db.example:5432/c315 c315 store migrate
    """
    from campaign315.store import describe_location

    ws = _workspace(workspace)
    where = describe_location(store_url or ws.store_dir)
    with _open_store(ws, store_url, migrating=True) as store:
        before, after = store.migrate()
    console = _console()
    if before == after:
        console.print(f"{where} 的数据表已是最新（{after}），无需升级。", markup=False)
    elif before is None:
        console.print(f"已在 {where} 建好 c315 的数据表（{after}）。", markup=False)
    else:
        console.print(f"已把 {where} 的数据表从 {before} 升级到 {after}。", markup=False)


@store_app.command("copy")
@reports_errors
def store_copy_cmd(
    to: Annotated[str, typer.Option("--to", help="复制到哪个数据库（地址写法同 --store）。", show_default=False)],
    workspace: WorkspaceOpt = None,
    store_url: StoreOpt = None,
) -> None:
    """把整个数据库（所有活动的收表记录、历史和原件存档）复制到另一个数据库；已有的不重复复制，可反复运行。

    示例：c315 store copy --to postgresql://c315@db.example:5432/c315
    """
    from campaign315.store import describe_location, open_store
    from campaign315.store.copy import copy_store

    ws = _workspace(workspace)
    with _open_store(ws, store_url) as source, open_store(to) as target, \
            _progress(sum(source.campaigns().values()), "复制") as advance:
        result = copy_store(source, target, advance=lambda _: advance())
    _console().print(f"已复制到 {describe_location(to)}：{result.describe()}", markup=False)
    if result.missing:
        raise typer.Exit(1)


def _print_json(value) -> None:
    import json as json_module

    sys.stdout.write(json_module.dumps(value, ensure_ascii=False, indent=2) + "\n")


def _resolve_units(campaign, names: list[str] | None):
    """The units named on the command line (aliases allowed), or all; an unknown name is a usage
    error that lists the valid ones."""
    from campaign315.common.errors import UsageError

    if not names:
        return list(campaign.units)
    units, unknown = [], []
    for name in names:
        unit = campaign.find_unit(name)
        if unit is None:
            unknown.append(name)
        elif unit not in units:
            units.append(unit)
    if unknown:
        valid = "、".join(unit.name for unit in campaign.units)
        raise UsageError(f"不认识的部门：{'、'.join(unknown)}。可用的部门有：{valid}。")
    return units


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
    app()


if __name__ == "__main__":
    main()
