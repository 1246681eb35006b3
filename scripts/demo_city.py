"""``make demo-city``: three districts and the city in one shared PostgreSQL store, printed as a
transcript.

1. A throw-away PostgreSQL cluster is started (``c315.store.pgtemp``: initdb + pg_ctl on a Unix
   socket in a temporary folder) and one database ``c315`` made in it; ``c315 store migrate``
   creates the tables.
2. Three district workspaces under ``demo-city/``: 和平区 (the shipped campaign), 河西区 and 南开区
   (``c315 init`` and the district's id and name changed in ``campaign.toml``). Each gets the
   shipped sample returns with the district's campaign id and name in them, and runs its own
   journey into the shared store: ``c315 ingest`` batch by batch as the samples came off 新OA,
   then ``c315 summary``.
3. The city (``--campaign tianjin-2020-315``, shipped) ingests the three districts' 附件2 and
   prints its roll-up; ``c315 campaigns`` shows the four campaigns side by side, ``c315 verify``
   checks the shared archive.
4. The cluster is stopped and removed.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from campaign315.demo import WIDTH, batches, echo, samples
from campaign315.store.pgtemp import ThrowawayCluster, Unavailable

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = samples()

DEMO = ROOT / "demo-city"
CITY = "tianjin-2020-315"
DISTRICTS = [  # (folder, campaign id, district, short name)
    ("heping", "heping-2020-315", "和平区市场监管局", "和平区"),
    ("hexi", "hexi-2020-315", "河西区市场监管局", "河西区"),
    ("nankai", "nankai-2020-315", "南开区市场监管局", "南开区"),
]


def c315(args: list[str], store: str, *, allowed=(0,), cwd: Path = DEMO, last_lines: int | None = None) -> None:
    """Run and echo ``c315 args`` against the shared store (``C315_STORE``, never shown with a
    password: this one has none)."""
    echo(args)
    env = dict(os.environ, COLUMNS=str(WIDTH), PYTHONIOENCODING="utf-8", PYTHONUTF8="1", C315_STORE=store)
    env.pop("C315_WORKSPACE", None)
    env.pop("C315_CAMPAIGN", None)
    done = subprocess.run([sys.executable, "-m", "campaign315", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, encoding="utf-8", errors="replace")
    out = done.stdout.rstrip("\n")
    if last_lines is not None and done.returncode in allowed:
        out = "\n".join(out.splitlines()[-last_lines:])
    if out:
        print(out)
    if done.stderr.strip():
        print(done.stderr.rstrip("\n"))
    if done.returncode not in allowed:
        print(f"\n演示中止：c315 {args[0]} 退出码 {done.returncode}。", flush=True)
        raise SystemExit(done.returncode or 1)
    print(flush=True)


def as_district(data: bytes, campaign_id: str, short: str) -> bytes:
    """A sample return as the same unit of another district would send it: the campaign id in
    its identity and the district's name wherever it is written (in a zip's files too)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            part = source.read(info)
            if info.filename.endswith(".xml"):
                part = part.replace(b"heping-2020-315", campaign_id.encode()).replace("和平区".encode(), short.encode())
            elif info.filename.lower().endswith((".xlsx", ".docx", ".zip")):
                part = as_district(part, campaign_id, short)
            target.writestr(info, part)
    return out.getvalue()


def district_workspace(folder: str, campaign_id: str, district: str, short: str, store: str) -> Path:
    root = DEMO / folder
    if campaign_id == "heping-2020-315":
        root.mkdir()
    else:
        c315(["init", folder], store, last_lines=1)
        toml = root / "campaign.toml"
        text = toml.read_text(encoding="utf-8").replace('id = "heping-2020-315"', f'id = "{campaign_id}"')
        text = text.replace('name = "和平区市场监管局"\naliases = ["和平区", "和平区市场监督管理局", "天津市和平区市场监督管理局"]',
                            f'name = "{district}"\naliases = ["{short}", "{short}市场监督管理局"]')
        toml.write_text(text.replace("和平区消费者协会", f"{short}消费者协会"), encoding="utf-8")
        print(f"# {folder}/campaign.toml：活动 ID 改为 {campaign_id}，区名改为 {district}。\n")
    returned = root / "returned"
    returned.mkdir()
    for name in (SAMPLES / "returned").iterdir():
        data = name.read_bytes()
        (returned / name.name).write_bytes(data if campaign_id == "heping-2020-315" else as_district(data, campaign_id, short))
    return root


def main() -> None:
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8", errors="replace")
    shutil.rmtree(DEMO, ignore_errors=True)
    DEMO.mkdir()
    try:
        cluster = ThrowawayCluster.start()
    except Unavailable as exc:
        print(f"无法启动临时 PostgreSQL（{exc}）。请先安装：apt-get install postgresql")
        raise SystemExit(1) from None
    try:
        store = cluster.create_database("c315")
        print(f"# 临时 PostgreSQL 已启动（只监听 {cluster.folder} 里的 Unix 套接字），数据库 c315 已建好。")
        print(f"# 以下每条命令都带 C315_STORE={store}\n")
        c315(["store", "migrate"], store)

        for folder, campaign_id, district, short in DISTRICTS:
            print(f"# ===== {district}（{campaign_id}）：收表、汇总 =====\n")
            root = district_workspace(folder, campaign_id, district, short, store)
            for when, files in batches():
                c315(["ingest", "--workspace", folder, "--received-at", when, *(f"{folder}/returned/{f}" for f in files)],
                     store, allowed=(0, 1), last_lines=1)
            c315(["summary", "--workspace", folder, "--deadline", "2020-03-19", "--out", f"{folder}/summary"], store,
                 last_lines=9)
            assert (root / "summary").is_dir()

        print("# ===== 市消协：收各区的附件2，汇总全市 =====\n")
        district_files = [f"{folder}/summary/{path.name}" for folder, *_ in DISTRICTS
                          for path in sorted((DEMO / folder / "summary").glob("*附件2*.xlsx"))]
        c315(["ingest", "--campaign", CITY, "--received-at", "2020-03-20T09:00", *district_files], store, last_lines=1)
        c315(["summary", "--campaign", CITY, "--deadline", "2020-03-20", "--out", "city/summary"], store)
        c315(["campaigns"], store)
        c315(["verify"], store)
    finally:
        cluster.stop()
    print("演示完成：三个区和市里共用一个数据库，各区的汇总只含本区的报表；临时 PostgreSQL 已停止并删除。"
          "各区和市里的汇总文件在 demo-city/*/summary/。")


if __name__ == "__main__":
    main()
