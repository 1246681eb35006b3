"""The wheel carries the campaign data and the Word templates, and an installed ``c315`` works in a
fresh virtual environment from a folder far from the checkout."""

from __future__ import annotations

import importlib.util
import os
import site
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.slow

CHECKOUT = Path(__file__).resolve().parents[1]
SHIPPED_FILES = [
    "campaign315/_shipped/data/campaign.toml",
    "campaign315/_shipped/templates/附件1.docx",
    "campaign315/_shipped/templates/附件2.docx",
]
SAMPLES = CHECKOUT / "data" / "samples"


def run(args: list, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("timeout", 300)
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{args}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return done


def outside_env() -> dict[str, str]:
    """The environment minus anything that would point back at the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "C315_WORKSPACE", "VIRTUAL_ENV", "PYTHONHOME"}}
    env["COLUMNS"] = "200"
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # The build backend is fetched into an isolated env unless it is already here (offline CI).
    isolation = ["--no-isolation"] if importlib.util.find_spec("hatchling") else []
    run([sys.executable, "-m", "build", "--wheel", *isolation, "--outdir", out, CHECKOUT], cwd=CHECKOUT)
    (built,) = out.glob("campaign315-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv holding only the wheel; its dependencies are borrowed from this interpreter's
    site-packages through a .pth file (nothing is downloaded, and the checkout's editable
    ``campaign315`` is not on its path: a .pth line adds a folder, it does not run that folder's
    own .pth files)."""
    venv = tmp_path_factory.mktemp("venv") / "fresh"
    run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    purelib = Path(run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    borrowed = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (purelib / "borrowed_dependencies.pth").write_text("\n".join(borrowed) + "\n", encoding="utf-8")
    run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "--quiet", wheel],
        env=outside_env())
    return venv


def test_wheel_carries_the_campaign_data_and_the_templates(wheel):
    with zipfile.ZipFile(wheel) as package:
        names = set(package.namelist())
        assert set(SHIPPED_FILES) <= names
        shipped_campaign = tomllib.loads(package.read("campaign315/_shipped/data/campaign.toml").decode("utf-8"))
        for template in SHIPPED_FILES[1:]:
            with zipfile.ZipFile(package.open(template)) as docx:
                assert "word/document.xml" in docx.namelist()
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "c315 = campaign315.cli:main" in package.read(entry_points).decode()
    assert shipped_campaign == tomllib.loads((CHECKOUT / "data" / "campaign.toml").read_text(encoding="utf-8"))
    assert "campaign315/__main__.py" in names and "campaign315/cli.py" in names
    # the sample returns c315 demo ingests, byte for byte
    samples = sorted(p.relative_to(SAMPLES).as_posix() for p in SAMPLES.rglob("*") if p.is_file())
    assert len(samples) == 34  # received.toml and the 33 files returned
    with zipfile.ZipFile(wheel) as package:
        for name in samples:
            assert package.read(f"campaign315/_shipped/data/samples/{name}") == (SAMPLES / name).read_bytes()


def test_installed_c315_generates_forms_outside_the_checkout(installed, tmp_path):
    elsewhere = tmp_path / "somewhere-else"
    elsewhere.mkdir()
    env = outside_env()
    where = run([installed / "bin" / "python", "-c",
                 "import campaign315.spec.campaign as c; from campaign315.common.files import shipped; "
                 "print(c.__file__); print(shipped('data')); print(shipped('templates'))"],
                cwd=elsewhere, env=env).stdout.split()
    assert all(Path(line).is_relative_to(installed) for line in where), where
    assert not any(Path(line).is_relative_to(CHECKOUT) for line in where), where

    done = run([installed / "bin" / "c315", "generate-forms", "--out", "X", "--department", "办公室"], cwd=elsewhere, env=env)
    assert "4 个文件" in done.stdout
    written = sorted(p.relative_to(elsewhere / "X") for p in (elsewhere / "X").rglob("*") if p.is_file())
    assert len(written) == 4
    assert {p.parent.name for p in written} == {"办公室"}
    assert sorted(p.suffix for p in written) == [".docx", ".docx", ".xlsx", ".xlsx"]
    stats = next(elsewhere / "X" / p for p in written if p.name.startswith("附件2") and p.suffix == ".xlsx")
    ws = load_workbook(stats)["统计表"]
    assert [c.value for c in ws[3] if c.value] == ["填报部门：", "办公室"]
    assert ws["B5"].value == "组织普法活动"


def test_installed_python_m_campaign315_help_works(installed, tmp_path):
    done = run([installed / "bin" / "python", "-m", "campaign315", "--help"], cwd=tmp_path, env=outside_env())
    assert "generate-forms" in done.stdout and "init" in done.stdout


def test_installed_init_copies_the_shipped_campaign(installed, tmp_path):
    run([installed / "bin" / "c315", "init", "ws"], cwd=tmp_path, env=outside_env())
    assert (tmp_path / "ws" / "campaign.toml").read_text(encoding="utf-8") == (CHECKOUT / "data" / "campaign.toml").read_text(encoding="utf-8")
    assert sorted(p.name for p in (tmp_path / "ws" / "templates").iterdir()) == [
        "feedback_letter.txt.j2", "reminder.txt.j2", "report.html.j2", "附件1.docx", "附件2.docx"]


def test_installed_c315_demo_runs_the_whole_journey_from_the_wheel(installed, tmp_path):
    """No checkout: the sample returns come out of the wheel. In a folder named with Chinese and a
    space, and through a GBK console (a Chinese Windows PC's, or its output sent to a file)."""
    env = {**outside_env(), "PYTHONIOENCODING": "gbk"}
    env.pop("PYTHONUTF8", None)
    done = subprocess.run([installed / "bin" / "c315", "demo", "演示 目录"], cwd=tmp_path, env=env,
                          capture_output=True, timeout=600)
    stdout, stderr = done.stdout.decode("gbk"), done.stderr.decode("gbk")
    assert done.returncode == 0, stdout[-3000:] + stderr
    assert "Traceback" not in stdout + stderr and "UnicodeEncodeError" not in stdout + stderr
    demo = tmp_path / "演示 目录"
    files = {name: sorted(p for p in (demo / name).rglob("*") if p.is_file()) for name in ("forms", "returned", "summary", "feedback")}
    assert len(files["forms"]) == 72
    assert sorted(p.name for p in files["returned"]) == sorted(p.name for p in (SAMPLES / "returned").iterdir())
    assert {p.suffix for p in files["summary"]} == {".xlsx", ".docx", ".html"}
    assert any(p.name == "催报清单.txt" for p in files["feedback"])
    assert "共 3 个文件：接收 3，退回 0，重复 0。" in stdout            # the first batch, as README shows it
    assert "2020年3·15活动工作情况统计表" in stdout                      # 3•15 as GBK can show it
    assert "演示完成。" in stdout.strip().splitlines()[-1]
